build-asan/obj/dns_cache.o: user/dns_cache.c user/dns_cache.h user/dns.h \
 user/error.h
user/dns_cache.h:
user/dns.h:
user/error.h:
