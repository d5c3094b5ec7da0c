build-asan/obj/inventory.o: user/inventory.c user/inventory.h \
 user/error.h user/node_identity.h user/jsonw.h user/options.h \
 user/pods.h user/containerd.h user/hostfs.h user/json_input.h \
 user/kubelet.h
user/inventory.h:
user/error.h:
user/node_identity.h:
user/jsonw.h:
user/options.h:
user/pods.h:
user/containerd.h:
user/hostfs.h:
user/json_input.h:
user/kubelet.h:
