build-asan/obj/dns.o: user/dns.c user/dns.h user/error.h
user/dns.h:
user/error.h:
