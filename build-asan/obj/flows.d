build-asan/obj/flows.o: user/flows.c user/flows.h include/accessmon.h \
 user/destinations.h user/http.h user/tls.h
user/flows.h:
include/accessmon.h:
user/destinations.h:
user/http.h:
user/tls.h:
