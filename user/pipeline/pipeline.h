/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * The collector's pipeline: raw records in (from a source, source/source.h: the
 * live ring buffer or a trace file; it does not know which), decoded, attributed to cgroup, pod and
 * container, and written out. State records (cgroup creation and removal) update
 * the caches as they pass, so a recording replays exactly as it ran.
 */
#ifndef ACCESSMON_PIPELINE_H
#define ACCESSMON_PIPELINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "accessmon.h"
#include "event/line.h"

struct cgroup_cache;
struct pod_inventory;
struct process_cache;
struct watch_list;
struct dns_cache;
struct service_tags;

/* Captured connections followed at once at most; the least recent go first. */
#define PIPELINE_MAX_FLOWS 65536
/* How often, in record time, waiting requests and connects are looked at. */
#define FLOW_ADVANCE_INTERVAL_NS (100ull * 1000000ull)

/* How long an exited process stays in the cache. */
/* Connections older than the monitor remembered until their bytes come (pipeline.c). */
#define PIPELINE_EXISTING_MAX 256
#define PIPELINE_PROCESS_GRACE_NS (5ull * 1000000000ull)
/* Seconds a removed cgroup keeps attributing events that arrive late. */
#define PIPELINE_CGROUP_GRACE_NS (60ull * 1000000000ull)

struct rules_context;
struct rules_stats;
struct output_filter;

struct pipeline_config {
	bool events; /* write event records, not only alerts */
	/* Detection: NULL writes no alerts (an --events-only run). */
	const struct rules_context *rules;
	const struct output_filter *filter; /* NULL: write everything */
	enum output_format format;
	int64_t boot_to_wall_ns; /* add to CLOCK_BOOTTIME to get wall clock time */
	uint64_t cgroup_grace_ns; /* 0: PIPELINE_CGROUP_GRACE_NS */
};

/* The state the pipeline reads and keeps current as records pass. */
struct pipeline_state {
	struct cgroup_cache *cgroups;
	struct process_cache *processes;
	struct pod_inventory *pods;
	const struct watch_list *watches;
	struct dns_cache *dns;
	const struct service_tags *service_tags; /* NULL: none loaded */
};

/*
 * Asked when a record names something the caches do not know: a live source
 * rescans the cgroup tree, reads /proc or refreshes the pod inventory; a replayed
 * one has nothing to ask and sets none.
 */
struct pipeline_hooks {
	void (*cgroup_miss)(void *ctx, uint64_t cgroup_id, uint64_t now_ns);
	void (*process_miss)(void *ctx, uint32_t pid, uint64_t now_ns);
	/* A pod cgroup whose pod or container the inventory does not know. */
	void (*pod_miss)(void *ctx, const char *pod_uid, const char *container_id, uint64_t now_ns);
	void *ctx;
};

struct pipeline_stats {
	uint64_t records[AM_REC_TYPE_MAX];
	uint64_t malformed;
	uint64_t repeats; /* the counts of connect-repeat records, summed */
	uint64_t written;
	uint64_t write_errors;
	uint64_t unknown_cgroup;
	uint64_t dns_errors;
};

struct pipeline;
struct sinks;

/* Lines go to `out` until the pipeline is given sinks (pipeline_set_sinks). */
struct pipeline *pipeline_new(const struct pipeline_config *config,
			      const struct pipeline_state *state, FILE *out);
void pipeline_free(struct pipeline *pipeline);
void pipeline_set_hooks(struct pipeline *pipeline, const struct pipeline_hooks *hooks);
/*
 * Lines go to the sinks instead of the FILE (sinks/sinks.h): each line without
 * its newline, with what it is, handed to them all at every pipeline_flush().
 * The sinks stay the caller's; NULL goes back to the FILE.
 */
void pipeline_set_sinks(struct pipeline *pipeline, struct sinks *sinks);
/* Whether event records are written (a reload may turn --events on or off). */
void pipeline_set_events(struct pipeline *pipeline, bool events);

/* Feeds one raw record. -EINVAL when it is malformed (counted, nothing written). */
int pipeline_record(struct pipeline *pipeline, const void *data, size_t size);
/* Reports records the kernel could not deliver: `lost` new ones, `lost_total` in all. */
void pipeline_events_lost(struct pipeline *pipeline, uint64_t boot_ns, uint64_t lost,
			  uint64_t lost_total);
struct degraded_notice;
/*
 * The monitor is blind to a detection, still is, or sees again (degraded.h): a
 * monitor-degraded record, and an alert while blind. Times are CLOCK_BOOTTIME.
 */
void pipeline_monitor_degraded(struct pipeline *pipeline, uint64_t boot_ns,
			       const struct degraded_notice *notice);
/* The recorder could not write `lost` trace entries; said in the stream at once. */
void pipeline_trace_lost(struct pipeline *pipeline, uint64_t boot_ns, const char *reason,
			 uint64_t lost, uint64_t lost_total);
/* A sink dropped `lost` lines (its queue was full); said on every sink. */
void pipeline_sink_lost(struct pipeline *pipeline, uint64_t boot_ns, const char *sink,
			const char *reason, uint64_t lost, uint64_t lost_total);
/* Alerts written so far, by rule and severity (NULL: no detection). */
const struct rules_stats *pipeline_rules_stats(const struct pipeline *pipeline);
/* Service tags replaced (a replayed recording carries its own). */
void pipeline_set_service_tags(struct pipeline *pipeline, const struct service_tags *tags);
/* New identity data or policy (a reload). */
void pipeline_set_rules_context(struct pipeline *pipeline, const struct rules_context *context);
/* The end of the input: reports what was still waiting (requests, held connects). */
void pipeline_finish(struct pipeline *pipeline);
/*
 * Flushes written records to the FILE, or hands them to the sinks. -errno when
 * the FILE failed.
 */
int pipeline_flush(struct pipeline *pipeline);
const struct pipeline_stats *pipeline_stats(const struct pipeline *pipeline);

#endif /* ACCESSMON_PIPELINE_H */
