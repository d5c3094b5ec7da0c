build-asan/obj/cgroup_path.o: user/cgroup_path.c user/cgroup_path.h
user/cgroup_path.h:
