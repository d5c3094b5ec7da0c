build-asan/obj/cgroups.o: user/cgroups.c user/cgroups.h \
 user/cgroup_path.h user/error.h
user/cgroups.h:
user/cgroup_path.h:
user/error.h:
