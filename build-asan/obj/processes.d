build-asan/obj/processes.o: user/processes.c user/processes.h \
 include/accessmon.h
user/processes.h:
include/accessmon.h:
