// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * The live source's recording tap (--record): every record as it reaches the
 * pipeline, and the state that explains it, written into a trace; see live.h.
 */
#include <errno.h>
#include <stdio.h>
#include <time.h>

#include "attribute/inventory.h"
#include "attribute/pods.h"
#include "attribute/processes.h"
#include "attribute/watch.h"
#include "lib/clock.h"
#include "pipeline/pipeline.h"
#include "source/live_private.h"
#include "trace/recorder.h"
#include "trace/state.h"

static void record_state_to(struct recorder *recorder, struct live_source *live, uint64_t boot_ns)
{
	recorder_state(recorder, live->state.buf, live->state.len, boot_ns);
}

void live_record_state(struct live_source *live, uint64_t boot_ns)
{
	record_state_to(live->recorder, live, boot_ns);
}

/* A rescan, a /proc read, the inventory, the watch set: see live_private.h. */
void live_record_changes(struct live_source *live, uint64_t boot_ns)
{
	const struct live_source_config *config = &live->config;
	size_t i;

	if (!live->recorder)
		return;
	if (live->cgroups_dirty) {
		state_write_cgroups(&live->state, config->cgroups);
		live_record_state(live, boot_ns);
		live->cgroups_dirty = false;
	}
	for (i = 0; i < live->n_missed_pids; i++) {
		const struct process_info *process =
			process_cache_lookup(config->processes, live->missed_pids[i]);

		if (!process)
			continue;
		state_write_process(&live->state, process);
		live_record_state(live, boot_ns);
	}
	live->n_missed_pids = 0;
	if (pod_inventory_generation(config->pods) != live->recorded_pods) {
		state_write_pods(&live->state, config->pods);
		live_record_state(live, boot_ns);
		live->recorded_pods = pod_inventory_generation(config->pods);
	}
	if (watch_list_generation(config->watches) != live->recorded_watches) {
		state_write_watches(&live->state, config->watches);
		live_record_state(live, boot_ns);
		live->recorded_watches = watch_list_generation(config->watches);
	}
}

/* The whole state: each trace file starts with it. */
static void record_snapshot(void *ctx, struct recorder *recorder)
{
	struct live_source *live = ctx;
	const struct live_source_config *config = &live->config;
	uint64_t now_ns = clock_ns(CLOCK_BOOTTIME);

	state_write_node(&live->state, inventory_node(config->inventory));
	record_state_to(recorder, live, now_ns);
	state_write_identities(&live->state, *config->identities);
	record_state_to(recorder, live, now_ns);
	state_write_policy(&live->state, *config->policy);
	record_state_to(recorder, live, now_ns);
	state_write_service_tags(&live->state, *config->service_tags);
	record_state_to(recorder, live, now_ns);
	state_write_cgroups(&live->state, config->cgroups);
	record_state_to(recorder, live, now_ns);
	state_write_processes(&live->state, config->processes);
	record_state_to(recorder, live, now_ns);
	state_write_pods(&live->state, config->pods);
	record_state_to(recorder, live, now_ns);
	live->recorded_pods = pod_inventory_generation(config->pods);
	state_write_watches(&live->state, config->watches);
	record_state_to(recorder, live, now_ns);
	live->recorded_watches = watch_list_generation(config->watches);
	state_write_dns(&live->state, config->dns);
	record_state_to(recorder, live, now_ns);
	live->cgroups_dirty = false;
	live->n_missed_pids = 0;
}

int live_source_record(struct source *source, const char *path, uint64_t max_size,
		       unsigned int keep, const char *header_json, struct am_error *err)
{
	struct live_source *live = live_of(source);
	struct recorder_config config = {
		.path = path,
		.max_size = max_size,
		.keep = keep,
		.header_json = header_json,
		.snapshot = record_snapshot,
		.snapshot_ctx = live,
	};

	live->recorder = recorder_open(&config, err);
	return live->recorder ? 0 : -EINVAL;
}

bool live_source_recording(const struct source *source)
{
	return ((const struct live_source *)source)->recorder != NULL;
}

void live_source_tick(struct source *source, uint64_t now_ns)
{
	struct live_source *live = live_of(source);
	const char *error;

	if (!live->recorder)
		return;
	error = recorder_error(live->recorder);
	live_record_changes(live, now_ns);
	recorder_tick(live->recorder, now_ns);
	if (*error)
		live_say(live, "%s", error);
}

void live_source_report_trace_loss(struct source *source, uint64_t now_ns,
				   uint64_t min_interval_ns)
{
	struct live_source *live = live_of(source);
	char reason[128];
	uint64_t lost;

	if (!live->recorder)
		return;
	lost = recorder_lost(live->recorder, reason, sizeof(reason));
	if (lost <= live->trace_lost_reported)
		return;
	if (live->trace_lost_reported && now_ns - live->trace_lost_said_ns < min_interval_ns)
		return;
	pipeline_trace_lost(live->config.pipeline, now_ns, reason,
			    lost - live->trace_lost_reported, lost);
	live->trace_lost_reported = lost;
	live->trace_lost_said_ns = now_ns;
}

void live_source_detection_changed(struct source *source, uint64_t now_ns)
{
	struct live_source *live = live_of(source);

	if (!live->recorder)
		return;
	state_write_identities(&live->state, *live->config.identities);
	live_record_state(live, now_ns);
	state_write_policy(&live->state, *live->config.policy);
	live_record_state(live, now_ns);
}

void live_source_degraded(struct source *source, uint64_t now_ns,
			  const struct degraded_notice *notice)
{
	struct live_source *live = live_of(source);

	if (!live->recorder)
		return;
	state_write_degraded(&live->state, now_ns, notice);
	live_record_state(live, now_ns);
}

void live_source_finish_recording(struct source *source, uint64_t now_ns)
{
	struct live_source *live = live_of(source);
	uint64_t lost;

	if (!live->recorder)
		return;
	live_record_changes(live, now_ns);
	lost = recorder_lost(live->recorder, NULL, 0);
	if (lost)
		live_say(live, "%llu trace entries could not be written", (unsigned long long)lost);
}
