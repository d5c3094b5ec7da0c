build-asan/obj/policy.o: user/policy.c user/policy.h user/error.h \
 user/json_input.h
user/policy.h:
user/error.h:
user/json_input.h:
