build-asan/obj/watch.o: user/watch.c user/watch.h user/error.h \
 include/accessmon.h user/hostfs.h
user/watch.h:
user/error.h:
include/accessmon.h:
user/hostfs.h:
