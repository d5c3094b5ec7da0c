build-asan/obj/node_identity.o: user/node_identity.c user/node_identity.h \
 user/error.h user/jsonw.h user/options.h user/json_input.h
user/node_identity.h:
user/error.h:
user/jsonw.h:
user/options.h:
user/json_input.h:
