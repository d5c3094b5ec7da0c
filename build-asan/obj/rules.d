build-asan/obj/rules.o: user/rules.c user/rules.h user/jsonw.h \
 user/options.h user/error.h user/output.h include/accessmon.h \
 user/policy.h user/cgroups.h user/cgroup_path.h user/destinations.h \
 user/flows.h user/http.h user/identities.h user/node_identity.h \
 user/pods.h user/processes.h user/watch.h
user/rules.h:
user/jsonw.h:
user/options.h:
user/error.h:
user/output.h:
include/accessmon.h:
user/policy.h:
user/cgroups.h:
user/cgroup_path.h:
user/destinations.h:
user/flows.h:
user/http.h:
user/identities.h:
user/node_identity.h:
user/pods.h:
user/processes.h:
user/watch.h:
