build-asan/obj/jsonw.o: user/jsonw.c user/jsonw.h
user/jsonw.h:
