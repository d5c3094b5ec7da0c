build-asan/obj/containerd.o: user/containerd.c user/containerd.h \
 user/error.h user/pods.h user/hostfs.h user/json_input.h
user/containerd.h:
user/error.h:
user/pods.h:
user/hostfs.h:
user/json_input.h:
