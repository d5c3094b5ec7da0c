build-asan/obj/pipeline.o: user/pipeline.c user/pipeline.h \
 include/accessmon.h user/options.h user/error.h user/cgroups.h \
 user/cgroup_path.h user/jsonw.h user/output.h user/pods.h user/dns.h \
 user/dns_cache.h user/flows.h user/destinations.h user/http.h \
 user/processes.h user/rules.h user/policy.h user/service_tags.h \
 user/watch.h
user/pipeline.h:
include/accessmon.h:
user/options.h:
user/error.h:
user/cgroups.h:
user/cgroup_path.h:
user/jsonw.h:
user/output.h:
user/pods.h:
user/dns.h:
user/dns_cache.h:
user/flows.h:
user/destinations.h:
user/http.h:
user/processes.h:
user/rules.h:
user/policy.h:
user/service_tags.h:
user/watch.h:
