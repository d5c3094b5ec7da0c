build-asan/obj/options.o: user/options.c user/options.h user/error.h
user/options.h:
user/error.h:
