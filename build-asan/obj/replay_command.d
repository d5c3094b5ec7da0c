build-asan/obj/replay_command.o: user/replay_command.c \
 user/replay_command.h include/accessmon.h user/cgroups.h \
 user/cgroup_path.h user/error.h user/dns_cache.h user/dns.h \
 user/identities.h user/node_identity.h user/jsonw.h user/options.h \
 user/json_input.h user/output.h user/pipeline.h user/pods.h \
 user/policy.h user/processes.h user/rules.h user/service_tags.h \
 user/destinations.h user/state.h user/trace.h user/watch.h
user/replay_command.h:
include/accessmon.h:
user/cgroups.h:
user/cgroup_path.h:
user/error.h:
user/dns_cache.h:
user/dns.h:
user/identities.h:
user/node_identity.h:
user/jsonw.h:
user/options.h:
user/json_input.h:
user/output.h:
user/pipeline.h:
user/pods.h:
user/policy.h:
user/processes.h:
user/rules.h:
user/service_tags.h:
user/destinations.h:
user/state.h:
user/trace.h:
user/watch.h:
