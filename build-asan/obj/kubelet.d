build-asan/obj/kubelet.o: user/kubelet.c user/kubelet.h user/error.h \
 user/json_input.h
user/kubelet.h:
user/error.h:
user/json_input.h:
