build-asan/obj/identities.o: user/identities.c user/identities.h \
 user/error.h user/node_identity.h user/jsonw.h user/options.h \
 user/json_input.h
user/identities.h:
user/error.h:
user/node_identity.h:
user/jsonw.h:
user/options.h:
user/json_input.h:
