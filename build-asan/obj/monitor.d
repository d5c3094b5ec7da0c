build-asan/obj/monitor.o: user/monitor.c user/monitor.h user/cgroups.h \
 user/cgroup_path.h user/error.h user/hostfs.h user/inventory.h \
 user/node_identity.h user/jsonw.h user/options.h user/pods.h \
 user/output.h include/accessmon.h user/pipeline.h user/probes.h \
 user/processes.h user/dns_cache.h user/dns.h user/identities.h \
 user/policy.h user/recorder.h user/rules.h user/state.h user/trace.h \
 user/secrets.h user/watch.h user/service_tags.h user/destinations.h
user/monitor.h:
user/cgroups.h:
user/cgroup_path.h:
user/error.h:
user/hostfs.h:
user/inventory.h:
user/node_identity.h:
user/jsonw.h:
user/options.h:
user/pods.h:
user/output.h:
include/accessmon.h:
user/pipeline.h:
user/probes.h:
user/processes.h:
user/dns_cache.h:
user/dns.h:
user/identities.h:
user/policy.h:
user/recorder.h:
user/rules.h:
user/state.h:
user/trace.h:
user/secrets.h:
user/watch.h:
user/service_tags.h:
user/destinations.h:
