/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * The monitor's numbers in the Prometheus text exposition format (version
 * 0.0.4). The event loop fills a snapshot and renders it about once a second;
 * the HTTP endpoint serves the last rendering, so a scrape never touches state
 * the event loop is changing.
 */
#ifndef ACCESSMON_METRICS_H
#define ACCESSMON_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "accessmon.h"
#include "event/degraded.h"
#include "lib/jsonw.h"
#include "detect/rules.h"
#include "sinks/sinks.h"

#define METRICS_MAX_PROGRAMS 32
#define METRICS_MAX_SINKS 16

struct metrics_program {
	char name[64];
	uint64_t run_count;
	uint64_t run_time_ns;
};

struct metrics_snapshot {
	uint64_t records[AM_REC_TYPE_MAX]; /* records read, by type */
	uint64_t malformed;
	uint64_t repeats; /* connects and sends counted in connect-repeat records */
	uint64_t lines_written;
	uint64_t kernel_counters[AM_CNT_MAX];
	int64_t ring_used_bytes; /* -1: unknown */
	uint64_t ring_size_bytes;
	struct rules_stats alerts;
	bool detection;
	struct sink_stats sinks[METRICS_MAX_SINKS];
	size_t n_sinks;
	size_t pods, processes, cgroups, watches;
	uint64_t heap_bytes; /* malloc's bytes in use */
	bool program_stats_enabled;
	struct metrics_program programs[METRICS_MAX_PROGRAMS];
	size_t n_programs;
	uint64_t trace_lost; /* trace entries not written; -1 recording off */
	bool recording;
	uint64_t reloads_ok, reloads_failed;
	bool blind[DETECTION_COUNT]; /* detections the monitor cannot see now */
	size_t probes_attached, probes_needed;
	const char *kept[4]; /* capabilities kept after attach */
	size_t n_kept;
	uint64_t start_time_s; /* wall clock */
	bool ready;
	const char *version;
};

/* Appends the exposition text to out. */
void metrics_render(const struct metrics_snapshot *snapshot, struct jsonw *out);

#endif /* ACCESSMON_METRICS_H */
