build-asan/obj/inventory_command.o: user/inventory_command.c \
 user/inventory_command.h user/inventory.h user/error.h \
 user/node_identity.h user/jsonw.h user/options.h user/pods.h \
 user/output.h include/accessmon.h
user/inventory_command.h:
user/inventory.h:
user/error.h:
user/node_identity.h:
user/jsonw.h:
user/options.h:
user/pods.h:
user/output.h:
include/accessmon.h:
