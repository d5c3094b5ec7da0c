build-asan/obj/hostfs.o: user/hostfs.c user/hostfs.h
user/hostfs.h:
