build-asan/obj/output.o: user/output.c user/output.h include/accessmon.h \
 user/jsonw.h user/options.h user/error.h user/cgroups.h \
 user/cgroup_path.h user/dns.h user/flows.h user/destinations.h \
 user/http.h user/pods.h user/service_tags.h user/processes.h \
 user/watch.h
user/output.h:
include/accessmon.h:
user/jsonw.h:
user/options.h:
user/error.h:
user/cgroups.h:
user/cgroup_path.h:
user/dns.h:
user/flows.h:
user/destinations.h:
user/http.h:
user/pods.h:
user/service_tags.h:
user/processes.h:
user/watch.h:
