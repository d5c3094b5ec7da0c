build-asan/obj/error.o: user/error.c user/error.h
user/error.h:
