// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* The monitor's /metrics: a snapshot of every stage, rendered for the endpoint. */
#include <linux/capability.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attribute/cgroups.h"
#include "attribute/pods.h"
#include "attribute/processes.h"
#include "attribute/watch.h"
#include "cmd/monitor_private.h"
#include "event/degraded.h"
#include "kernel/capabilities.h"
#include "kernel/probes.h"
#include "metrics/httpd.h"
#include "metrics/metrics.h"
#include "pipeline/pipeline.h"
#include "sinks/sinks.h"
#include "source/live.h"

static void add_program(void *ctx, const char *name, uint64_t run_count, uint64_t run_time_ns)
{
	struct metrics_snapshot *snapshot = ctx;
	struct metrics_program *program;

	if (snapshot->n_programs >= METRICS_MAX_PROGRAMS)
		return;
	program = &snapshot->programs[snapshot->n_programs++];
	snprintf(program->name, sizeof(program->name), "%s", name);
	program->run_count = run_count;
	program->run_time_ns = run_time_ns;
}

/* What malloc has handed out and not had back: a leak grows it, while a page
 * kept by the allocator after a burst does not. */
static uint64_t heap_in_use(void)
{
	struct mallinfo2 info = mallinfo2();

	return (uint64_t)info.uordblks + (uint64_t)info.hblkhd;
}

void monitor_publish_metrics(struct monitor *monitor)
{
	const struct pipeline_stats *stats = pipeline_stats(monitor->pipeline);
	const struct rules_stats *alerts = pipeline_rules_stats(monitor->pipeline);
	struct metrics_snapshot *s = calloc(1, sizeof(*s));
	size_t i;

	if (!s)
		return;
	memcpy(s->records, stats->records, sizeof(s->records));
	s->malformed = stats->malformed;
	s->repeats = stats->repeats;
	s->lines_written = stats->written;
	probes_counters(monitor->probes, s->kernel_counters);
	s->ring_used_bytes = probes_ring_used(monitor->probes);
	s->ring_size_bytes = monitor->options.ringbuf_bytes;
	if (alerts) {
		s->alerts = *alerts;
		s->detection = true;
	}
	s->n_sinks = sinks_count(monitor->sinks);
	if (s->n_sinks > METRICS_MAX_SINKS)
		s->n_sinks = METRICS_MAX_SINKS;
	for (i = 0; i < s->n_sinks; i++)
		sinks_stats(monitor->sinks, i, &s->sinks[i]);
	s->pods = pod_inventory_count(monitor->pods);
	s->processes = process_cache_count(monitor->processes);
	s->cgroups = cgroup_cache_count(monitor->cgroups);
	s->watches = watch_list_count(monitor->watches);
	s->heap_bytes = heap_in_use();
	s->program_stats_enabled = probes_stats_enabled(monitor->probes);
	probes_program_stats(monitor->probes, add_program, s);
	if (live_source_recording(monitor->source)) {
		struct source_stats source;

		source_stats(monitor->source, &source);
		s->recording = true;
		s->trace_lost = source.trace_lost;
	}
	s->reloads_ok = monitor->reloads_ok;
	s->reloads_failed = monitor->reloads_failed;
	for (i = 0; i < DETECTION_COUNT; i++)
		s->blind[i] = degraded_blind(monitor->degraded, (enum detection)i);
	probes_counts(monitor->probes, &s->probes_attached, &s->probes_needed);
	for (i = 0; i <= CAP_LAST_CAP && s->n_kept < sizeof(s->kept) / sizeof(s->kept[0]); i++)
		if ((monitor->kept_capabilities & CAPABILITY_BIT(i)) && capability_name((int)i))
			s->kept[s->n_kept++] = capability_name((int)i);
	s->start_time_s = monitor->start_time_s;
	s->ready = monitor->ready;
	s->version = ACCESSMON_VERSION;
	jsonw_reset(&monitor->metrics_text);
	metrics_render(s, &monitor->metrics_text);
	if (!monitor->metrics_text.failed)
		httpd_publish_metrics(monitor->httpd, monitor->metrics_text.buf,
				      monitor->metrics_text.len);
	free(s);
}
