build-asan/obj/probes.o: user/probes.c user/probes.h include/accessmon.h \
 user/error.h user/options.h build-asan/accessmon.skel.h
user/probes.h:
include/accessmon.h:
user/error.h:
user/options.h:
build-asan/accessmon.skel.h:
