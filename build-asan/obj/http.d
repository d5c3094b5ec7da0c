build-asan/obj/http.o: user/http.c user/http.h
user/http.h:
