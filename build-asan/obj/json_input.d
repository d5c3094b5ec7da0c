build-asan/obj/json_input.o: user/json_input.c user/json_input.h \
 user/error.h
user/json_input.h:
user/error.h:
