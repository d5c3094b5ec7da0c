build-asan/obj/main.o: user/main.c user/inventory_command.h \
 user/monitor.h user/replay_command.h
user/inventory_command.h:
user/monitor.h:
user/replay_command.h:
