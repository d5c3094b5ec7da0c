build-asan/obj/recorder.o: user/recorder.c user/recorder.h user/error.h \
 user/jsonw.h user/state.h user/trace.h
user/recorder.h:
user/error.h:
user/jsonw.h:
user/state.h:
user/trace.h:
