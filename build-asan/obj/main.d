build-asan/obj/main.o: user/main.c user/inventory_command.h \
 user/monitor.h
user/inventory_command.h:
user/monitor.h:
