build-asan/obj/trace.o: user/trace.c user/trace.h user/error.h
user/trace.h:
user/error.h:
