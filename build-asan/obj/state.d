build-asan/obj/state.o: user/state.c user/state.h user/error.h \
 user/jsonw.h user/cgroups.h user/cgroup_path.h user/dns_cache.h \
 user/dns.h user/identities.h user/node_identity.h user/options.h \
 user/json_input.h user/pods.h user/policy.h user/processes.h \
 include/accessmon.h user/service_tags.h user/destinations.h user/watch.h
user/state.h:
user/error.h:
user/jsonw.h:
user/cgroups.h:
user/cgroup_path.h:
user/dns_cache.h:
user/dns.h:
user/identities.h:
user/node_identity.h:
user/options.h:
user/json_input.h:
user/pods.h:
user/policy.h:
user/processes.h:
include/accessmon.h:
user/service_tags.h:
user/destinations.h:
user/watch.h:
