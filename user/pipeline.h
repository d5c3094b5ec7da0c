/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * The collector's pipeline: raw records in (from the live ring buffer or, later, a
 * trace file: it does not know which), decoded, attributed to cgroup, pod and
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
#include "options.h"

struct cgroup_cache;
struct pod_inventory;
struct watch_list;

/* Seconds a removed cgroup keeps attributing events that arrive late. */
#define PIPELINE_CGROUP_GRACE_NS (60ull * 1000000000ull)

struct pipeline_config {
	bool events; /* write event records (there are no alerts yet) */
	enum output_format format;
	int64_t boot_to_wall_ns; /* add to CLOCK_BOOTTIME to get wall clock time */
};

/*
 * Asked when a record names a cgroup the cache does not know; a live source
 * rescans the cgroup tree here, a replayed one has nothing to ask.
 */
typedef void (*pipeline_cgroup_miss_fn)(void *ctx, uint64_t cgroup_id, uint64_t now_ns);

struct pipeline_stats {
	uint64_t records[AM_REC_TYPE_MAX];
	uint64_t malformed;
	uint64_t written;
	uint64_t write_errors;
	uint64_t unknown_cgroup;
};

struct pipeline;

struct pipeline *pipeline_new(const struct pipeline_config *config, struct cgroup_cache *cgroups,
			      struct pod_inventory *pods, const struct watch_list *watches,
			      FILE *out);
void pipeline_free(struct pipeline *pipeline);
void pipeline_set_cgroup_miss(struct pipeline *pipeline, pipeline_cgroup_miss_fn fn, void *ctx);

/* Feeds one raw record. -EINVAL when it is malformed (counted, nothing written). */
int pipeline_record(struct pipeline *pipeline, const void *data, size_t size);
/* Reports records the kernel could not deliver: `lost` new ones, `lost_total` in all. */
void pipeline_events_lost(struct pipeline *pipeline, uint64_t boot_ns, uint64_t lost,
			  uint64_t lost_total);
/* Flushes written records to the output. -errno when the output failed. */
int pipeline_flush(struct pipeline *pipeline);
const struct pipeline_stats *pipeline_stats(const struct pipeline *pipeline);

#endif /* ACCESSMON_PIPELINE_H */
