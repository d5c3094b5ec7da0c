/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * `accessmon monitor` inside: the state its pieces share, and what each piece
 * (cmd/monitor_*.c) offers the others. Only cmd/monitor*.c include it.
 */
#ifndef ACCESSMON_CMD_MONITOR_PRIVATE_H
#define ACCESSMON_CMD_MONITOR_PRIVATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cmd/options.h"
#include "detect/rules.h"
#include "lib/error.h"
#include "lib/jsonw.h"
#include "sinks/sink_spec.h"

/* At exit, sinks get this long to deliver what is queued; a sink a reload removed, less. */
#define SINK_DRAIN_EXIT_MS 5000
#define SINK_DRAIN_RELOAD_MS 1000
/* A sink, or the recorder, that keeps dropping is reported at most this often. */
#define SINK_LOSS_INTERVAL_NS (5000ull * 1000000ull)

struct degraded_notice;

struct monitor {
	struct monitor_options options;
	int argc;
	char **argv; /* parsed again at every reload */
	struct monitor_options **retired;
	size_t n_retired;
	struct sinks *sinks;
	struct sink_spec stdout_spec; /* the sink when none is given */
	struct httpd *httpd;
	struct jsonw metrics_text;
	uint64_t last_metrics_ns;
	uint64_t reloads_ok, reloads_failed;
	uint64_t start_time_s;
	bool ready;
	char cgroup_root[4096];
	/*
	 * What /proc/PID/cgroup paths are relative to: the cgroup root, or in a
	 * container with its own cgroup namespace, that namespace's root under it.
	 */
	char proc_cgroup_base[8192];
	char *proc_dir;
	struct pod_inventory *pods;
	struct inventory *inventory;
	struct cgroup_cache *cgroups;
	struct process_cache *processes;
	struct watch_list *watches;
	struct dns_cache *dns;
	struct service_tags *service_tags;
	struct identity_data *identities;
	struct policy *policy;
	struct rules_context rules;
	struct pipeline *pipeline;
	struct source *source;
	struct probes *probes; /* the live source's */
	uint64_t last_discovery_ns;
	char last_discovery_message[AM_ERROR_LEN];
	/* What the monitor cannot see; said in the stream until it can (degraded.h). */
	struct degraded *degraded;
	/* Watch set updates the kernel refused in the last round, and the last error. */
	size_t watch_refused;
	int watch_error;
	uint64_t kept_capabilities;
};

/* --- where the cgroup tree is (monitor_cgroup_root.c) --- */

int monitor_find_cgroup_root(struct monitor *monitor);
/* After the first cgroup scan: it looks this namespace's root up in the cache. */
void monitor_find_proc_cgroup_base(struct monitor *monitor);

/* --- the watch set (monitor_watch.c) --- */

int monitor_check_watch_paths(struct monitor *monitor);
void monitor_refresh_watch_set(struct monitor *monitor, uint64_t now_ns);

/* --- capabilities and what the kernel could not give (monitor_degraded.c) --- */

uint64_t monitor_capabilities_to_keep(struct monitor *monitor, char *why, size_t len);
void monitor_degraded_from_probes(struct monitor *monitor, uint64_t now_ns);
void monitor_say_kernel(struct monitor *monitor);
/* A degraded_fn (event/degraded.h); ctx is the monitor. */
void monitor_on_degraded(void *ctx, const struct degraded_notice *notice);

/* --- sinks (monitor_sinks.c) --- */

const struct sink_spec *monitor_sink_specs(struct monitor *monitor, size_t *n);
int monitor_start_sinks(struct monitor *monitor);
void monitor_report_sink_drops(struct monitor *monitor, uint64_t now_ns, uint64_t min_interval_ns);

/* --- metrics (monitor_metrics.c) --- */

void monitor_publish_metrics(struct monitor *monitor);

/* --- detection data and reload (monitor_reload.c) --- */

int monitor_load_detection(struct monitor *monitor, bool reload);
void monitor_reload(struct monitor *monitor, uint64_t now_ns);

#endif /* ACCESSMON_CMD_MONITOR_PRIVATE_H */
