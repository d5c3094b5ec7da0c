// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * Identity data and policy, loaded at start and again at SIGHUP with the config
 * file and command line; a reload changes nothing unless all of it loads.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attribute/inventory.h"
#include "cmd/monitor_private.h"
#include "detect/identities.h"
#include "detect/policy.h"
#include "pipeline/pipeline.h"
#include "sinks/sinks.h"
#include "source/live.h"

/*
 * Identity data and policy, from their files. On a monitor_reload, what fails to load
 * leaves the previous data in force, and says why.
 */
int monitor_load_detection(struct monitor *monitor, bool reload)
{
	struct identity_data *identities = NULL;
	struct policy *policy;
	struct am_error err;

	if (monitor->options.identities_dir) {
		identities = identity_data_load(monitor->options.identities_dir, &err);
		if (!identities) {
			fprintf(stderr, "accessmon: %s%s\n", err.msg,
				reload ? "; keeping the identity data loaded before" : "");
			return -EINVAL;
		}
		fprintf(stderr, "accessmon: identity data: loaded %s%s%s\n",
			identities->loaded[0] ? identities->loaded : "nothing",
			identities->missing[0] ? "; missing " : "", identities->missing);
	}
	if (monitor->options.policy_file) {
		policy = policy_load(monitor->options.policy_file, &err);
		if (!policy) {
			fprintf(stderr, "accessmon: --policy %s%s\n", err.msg,
				reload ? "; keeping the policy loaded before" : "");
			identity_data_free(identities);
			return -EINVAL;
		}
	} else {
		policy = policy_default();
	}
	if (identities) {
		identity_data_free(monitor->identities);
		monitor->identities = identities;
	}
	policy_free(monitor->policy);
	monitor->policy = policy;
	monitor->rules.node = inventory_node(monitor->inventory);
	monitor->rules.identities = monitor->identities;
	monitor->rules.policy = monitor->policy;
	if (reload && monitor->pipeline)
		pipeline_set_rules_context(monitor->pipeline, &monitor->rules);
	return 0;
}

/*
 * Settings a reload replaced stay allocated until exit: what only a restart
 * changes keeps pointing into the set it came from. A few KiB per reload.
 */
static int retire_options(struct monitor *monitor, struct monitor_options *old)
{
	struct monitor_options **grown =
		realloc(monitor->retired, (monitor->n_retired + 1) * sizeof(*grown));

	if (!grown)
		return -ENOMEM;
	monitor->retired = grown;
	monitor->retired[monitor->n_retired++] = old;
	return 0;
}

static bool same_text(const char *a, const char *b)
{
	return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

/* A setting a running monitor cannot change: said, and the running value kept. */
static void keep_restart_only(const struct monitor_options *now, struct monitor_options *next)
{
	const char *changed = NULL;

#define KEEP(field, name)                                                                      \
	do {                                                                                   \
		if (!same_text(now->field, next->field))                                       \
			changed = name;                                                        \
		next->field = now->field;                                                      \
	} while (0)
#define KEEP_VALUE(field, name)                                                                \
	do {                                                                                   \
		if (now->field != next->field)                                                 \
			changed = name;                                                        \
		next->field = now->field;                                                      \
	} while (0)
	KEEP(sources.host_root, "host-root");
	KEEP(sources.pods_file, "pods");
	KEEP(sources.cluster_file, "cluster");
	KEEP(sources.kubelet_url, "kubelet-url");
	KEEP(sources.kubelet_token_file, "kubelet-token-file");
	KEEP(sources.kubelet_ca_file, "kubelet-ca-file");
	KEEP_VALUE(sources.kubelet_insecure, "kubelet-insecure");
	KEEP_VALUE(sources.kubelet_interval_ms, "kubelet-interval");
	KEEP_VALUE(sources.no_containerd, "no-containerd");
	KEEP(cgroup_root, "cgroup-root");
	KEEP(ready_file, "ready-file");
	KEEP(service_tags_file, "service-tags");
	KEEP(record_file, "record");
	KEEP_VALUE(record_max_size, "record-max-size");
	KEEP_VALUE(record_keep, "record-keep");
	KEEP_VALUE(format, "format");
	KEEP_VALUE(open_hook, "open-hook");
	KEEP_VALUE(ringbuf_bytes, "ringbuf-size");
	KEEP_VALUE(repeat_window_s, "repeat-window");
	KEEP_VALUE(pod_grace_s, "pod-grace");
	KEEP_VALUE(degraded_interval_s, "degraded-interval");
	KEEP(listen_host, "listen");
	KEEP(listen_port, "listen");
	KEEP_VALUE(verbose, "verbose");
	KEEP_VALUE(bpf_stats, "bpf-stats");
#undef KEEP
#undef KEEP_VALUE
	if (changed)
		fprintf(stderr, "accessmon: reload: '%s' (and any other setting of the probes, the "
				"sources, the recorder or the endpoint) changes only at a restart; "
				"keeping the running value\n",
			changed);
}

/*
 * SIGHUP: the config file and command line again, then policy and identity data.
 * Nothing changes unless all of it loads; a failure keeps everything as it was.
 */
void monitor_reload(struct monitor *monitor, uint64_t now_ns)
{
	struct monitor_options *next = malloc(sizeof(*next)), *old = malloc(sizeof(*old));
	const struct sink_spec *specs;
	uint64_t undelivered;
	struct am_error err;
	size_t n;

	if (!next || !old) {
		free(next);
		free(old);
		monitor->reloads_failed++;
		return;
	}
	if (monitor_options_parse(monitor->argc, monitor->argv, next, &err)) {
		fprintf(stderr, "accessmon: reload: %s; keeping the settings loaded before\n", err.msg);
		goto fail;
	}
	keep_restart_only(&monitor->options, next);
	*old = monitor->options;
	monitor->options = *next;
	if (monitor_load_detection(monitor, true) != 0) {
		monitor->options = *old;
		goto fail;
	}
	specs = monitor_sink_specs(monitor, &n);
	if (sinks_reconfigure(monitor->sinks, specs, n, SINK_DRAIN_RELOAD_MS, &undelivered, &err)) {
		fprintf(stderr, "accessmon: reload: %s; keeping the sinks and settings loaded "
				"before\n",
			err.msg);
		monitor->options = *old;
		monitor_load_detection(monitor, true);
		goto fail;
	}
	if (undelivered) {
		fprintf(stderr, "accessmon: reload: the sinks taken out left %llu lines undelivered\n",
			(unsigned long long)undelivered);
		pipeline_sink_lost(monitor->pipeline, now_ns, "removed by reload",
				   "not delivered before the sink was taken out", undelivered,
				   undelivered);
	}
	pipeline_set_events(monitor->pipeline, monitor->options.events);
	if (retire_options(monitor, old))
		fprintf(stderr, "accessmon: reload: out of memory keeping the old settings\n");
	free(next);
	monitor->reloads_ok++;
	/* The watch list follows the new --watch paths at once. */
	monitor_refresh_watch_set(monitor, now_ns);
	fprintf(stderr, "accessmon: reloaded the configuration, identity data and policy\n");
	live_source_detection_changed(monitor->source, now_ns);
	return;
fail:
	monitor_options_release(next);
	free(next);
	free(old);
	monitor->reloads_failed++;
}
