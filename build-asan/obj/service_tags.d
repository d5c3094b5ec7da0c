build-asan/obj/service_tags.o: user/service_tags.c user/service_tags.h \
 user/destinations.h user/error.h user/json_input.h
user/service_tags.h:
user/destinations.h:
user/error.h:
user/json_input.h:
