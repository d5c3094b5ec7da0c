build-asan/obj/pods.o: user/pods.c user/pods.h user/error.h \
 user/json_input.h
user/pods.h:
user/error.h:
user/json_input.h:
