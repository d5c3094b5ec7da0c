build-asan/obj/secrets.o: user/secrets.c user/secrets.h user/watch.h \
 user/error.h include/accessmon.h user/hostfs.h user/json_input.h
user/secrets.h:
user/watch.h:
user/error.h:
include/accessmon.h:
user/hostfs.h:
user/json_input.h:
