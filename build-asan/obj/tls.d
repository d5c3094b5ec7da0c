build-asan/obj/tls.o: user/tls.c user/tls.h
user/tls.h:
