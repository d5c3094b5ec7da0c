build-asan/obj/destinations.o: user/destinations.c user/destinations.h
user/destinations.h:
