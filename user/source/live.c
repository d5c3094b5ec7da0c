// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* The live source: the kernel's ring buffer into the pipeline; see live.h. */
#include "source/live.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "attribute/cgroups.h"
#include "attribute/inventory.h"
#include "attribute/pods.h"
#include "attribute/processes.h"
#include "attribute/watch.h"
#include "detect/degraded.h"
#include "kernel/kernel_features.h"
#include "kernel/repeats.h"
#include "lib/clock.h"
#include "lib/jsonw.h"
#include "pipeline/pipeline.h"
#include "trace/recorder.h"
#include "trace/state.h"

/* A record from an unknown cgroup rescans the tree at most this often. */
#define CGROUP_RESCAN_MIN_INTERVAL_NS (100ull * 1000000ull)

struct live_source {
	struct source source;
	struct live_source_config config;
	struct probes *probes;
	uint64_t lost_reported;
	uint64_t last_repeat_flush_ns;
	int last_repeat_error; /* said once until it changes */
	uint64_t last_rescan_ns;
	bool dropped_cap_bpf; /* a refusal after the drop may be a sysctl raised since */
	/* Recording: what changed outside the record stream since it was last written. */
	struct recorder *recorder;
	uint64_t trace_lost_reported; /* recorder losses already said in the stream */
	uint64_t trace_lost_said_ns;  /* when they were last said */
	struct jsonw state;
	unsigned long recorded_pods, recorded_watches;
	bool cgroups_dirty;
	uint32_t missed_pids[64];
	size_t n_missed_pids;
};

static struct live_source *live_of(struct source *source)
{
	return (struct live_source *)source;
}

static void say(struct live_source *live, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void say(struct live_source *live, const char *fmt, ...)
{
	char message[2048];
	va_list args;

	va_start(args, fmt);
	vsnprintf(message, sizeof(message), fmt, args);
	va_end(args);
	live->config.report(live->config.report_ctx, message);
}

/*
 * The reason the kernel's maps refuse the monitor, with what to do: after the drop
 * of CAP_BPF a refusal means this kernel started to need it (the sysctl raised).
 */
void live_source_refusal_reason(const struct source *source, int rc, const char *what, char *out,
				size_t len)
{
	const struct live_source *live = (const struct live_source *)source;
	int sysctl = kernel_unprivileged_bpf_disabled();

	if ((rc == -EPERM || rc == -EACCES) && live->dropped_cap_bpf)
		snprintf(out, len,
			 "%s: %s; the monitor dropped CAP_BPF at start, when this kernel let it "
			 "use its maps without it; kernel.unprivileged_bpf_disabled is %d now: "
			 "restart the monitor",
			 what, strerror(-rc), sysctl);
	else if (rc == -E2BIG || rc == -ENOSPC)
		snprintf(out, len, "%s: %s (the kernel's map is full)", what, strerror(-rc));
	else
		snprintf(out, len, "%s: %s", what, strerror(-rc));
}

static void record_state_to(struct recorder *recorder, struct live_source *live, uint64_t boot_ns)
{
	recorder_state(recorder, live->state.buf, live->state.len, boot_ns);
}

static void record_state(struct live_source *live, uint64_t boot_ns)
{
	record_state_to(live->recorder, live, boot_ns);
}

/*
 * State the live side changed outside the record stream (a rescan, a /proc read,
 * the inventory, the watch set), written before the record that saw it.
 */
static void record_changes(struct live_source *live, uint64_t boot_ns)
{
	const struct live_source_config *config = &live->config;
	size_t i;

	if (!live->recorder)
		return;
	if (live->cgroups_dirty) {
		state_write_cgroups(&live->state, config->cgroups);
		record_state(live, boot_ns);
		live->cgroups_dirty = false;
	}
	for (i = 0; i < live->n_missed_pids; i++) {
		const struct process_info *process =
			process_cache_lookup(config->processes, live->missed_pids[i]);

		if (!process)
			continue;
		state_write_process(&live->state, process);
		record_state(live, boot_ns);
	}
	live->n_missed_pids = 0;
	if (pod_inventory_generation(config->pods) != live->recorded_pods) {
		state_write_pods(&live->state, config->pods);
		record_state(live, boot_ns);
		live->recorded_pods = pod_inventory_generation(config->pods);
	}
	if (watch_list_generation(config->watches) != live->recorded_watches) {
		state_write_watches(&live->state, config->watches);
		record_state(live, boot_ns);
		live->recorded_watches = watch_list_generation(config->watches);
	}
}

static int on_record(void *ctx, const void *data, size_t size)
{
	struct live_source *live = ctx;
	const struct am_record_header *header = data;

	pipeline_record(live->config.pipeline, data, size);
	if (live->recorder && size >= sizeof(*header)) {
		record_changes(live, header->time_ns);
		recorder_record(live->recorder, data, (uint32_t)size, header->time_ns);
	}
	return 0;
}

struct repeat_flush {
	struct live_source *live;
	uint64_t now_ns;
};

/* A repeat entry out of the kernel: a record like those of the ring buffer. */
static void on_repeat(void *ctx, const struct am_repeat_key *key,
		      const struct am_repeat_value *value)
{
	struct repeat_flush *flush = ctx;
	struct am_connect_repeat_record record;

	if (repeats_record(key, value, flush->now_ns, &record) == 0)
		on_record(flush->live, &record, sizeof(record));
}

/* The kernel's repeat counts, as connect-repeat records (final: at exit, all of them). */
static void flush_repeats(struct live_source *live, bool final)
{
	struct repeat_flush flush;
	int rc;

	/*
	 * What the ring buffer holds first: records wait there up to 10 ms without a
	 * wakeup, and a first contact must reach the pipeline (and raise its alert)
	 * before the repeats that follow it.
	 */
	probes_drain(live->probes);
	flush.live = live;
	flush.now_ns = clock_ns(CLOCK_BOOTTIME);
	rc = probes_repeats_flush(live->probes, flush.now_ns, final, on_repeat, &flush);

	live->last_repeat_flush_ns = flush.now_ns;
	if (rc) {
		char reason[DEGRADED_REASON_LEN];

		live_source_refusal_reason(&live->source, rc,
					   "reading the kernel's repeat counts failed (they stay "
					   "counted in the kernel; tried again every second)",
					   reason, sizeof(reason));
		degraded_set(live->config.degraded, DETECTION_REPEAT_COUNTS, DEGRADED_MAPS, reason,
			     flush.now_ns);
		if (final && rc != live->last_repeat_error)
			say(live, "%s", reason);
	} else {
		degraded_clear(live->config.degraded, DETECTION_REPEAT_COUNTS, DEGRADED_MAPS);
	}
	live->last_repeat_error = rc;
}

static void report_losses(struct live_source *live)
{
	uint64_t counters[AM_CNT_MAX];
	uint64_t lost, now_ns;

	int rc = probes_counters(live->probes, counters);

	if (rc) {
		char reason[DEGRADED_REASON_LEN];

		live_source_refusal_reason(&live->source, rc,
					   "reading the kernel's loss counters failed", reason,
					   sizeof(reason));
		degraded_set(live->config.degraded, DETECTION_LOSS_COUNTS, DEGRADED_MAPS, reason,
			     clock_ns(CLOCK_BOOTTIME));
		return;
	}
	degraded_clear(live->config.degraded, DETECTION_LOSS_COUNTS, DEGRADED_MAPS);
	lost = counters[AM_CNT_RINGBUF_FULL];
	if (lost <= live->lost_reported)
		return;
	say(live, "%" PRIu64 " events lost in the kernel (ring buffer full), %" PRIu64 " in all",
	    lost - live->lost_reported, lost);
	now_ns = clock_ns(CLOCK_BOOTTIME);
	pipeline_events_lost(live->config.pipeline, now_ns, lost - live->lost_reported, lost);
	if (live->recorder) {
		state_write_loss(&live->state, now_ns, lost - live->lost_reported, lost);
		record_state(live, now_ns);
	}
	live->lost_reported = lost;
}

/* A cgroup the kernel did not announce (created before the probes): rescan, rate-limited. */
static void on_cgroup_miss(void *ctx, uint64_t cgroup_id, uint64_t now_ns)
{
	struct live_source *live = ctx;
	struct am_error err;

	(void)cgroup_id;
	if (live->last_rescan_ns && now_ns - live->last_rescan_ns < CGROUP_RESCAN_MIN_INTERVAL_NS)
		return;
	live->last_rescan_ns = now_ns;
	cgroup_tree_scan(live->config.cgroups, live->config.probes.cgroup_root, &err);
	live->cgroups_dirty = true;
}

/* A process the kernel did not announce (started before the probes): read /proc once. */
static void on_process_miss(void *ctx, uint32_t pid, uint64_t now_ns)
{
	struct live_source *live = ctx;
	struct process_info placeholder = {.pid = pid, .exited_at_ns = now_ns};

	if (process_read_proc(live->config.processes, live->config.proc_dir,
			      live->config.proc_cgroup_base, pid))
		/* Gone already: remember that, so its next records do not ask again. */
		process_cache_put(live->config.processes, &placeholder);
	if (live->n_missed_pids < sizeof(live->missed_pids) / sizeof(live->missed_pids[0]))
		live->missed_pids[live->n_missed_pids++] = pid;
}

static void on_pod_miss(void *ctx, const char *pod_uid, const char *container_id,
			uint64_t now_ns)
{
	struct live_source *live = ctx;

	(void)pod_uid;
	(void)container_id;
	inventory_pod_miss(live->config.inventory, now_ns);
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
	record_changes(live, now_ns);
	recorder_tick(live->recorder, now_ns);
	if (*error)
		say(live, "%s", error);
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
	record_state(live, now_ns);
	state_write_policy(&live->state, *live->config.policy);
	record_state(live, now_ns);
}

void live_source_degraded(struct source *source, uint64_t now_ns,
			  const struct degraded_notice *notice)
{
	struct live_source *live = live_of(source);

	if (!live->recorder)
		return;
	state_write_degraded(&live->state, now_ns, notice);
	record_state(live, now_ns);
}

void live_source_finish_recording(struct source *source, uint64_t now_ns)
{
	struct live_source *live = live_of(source);
	uint64_t lost;

	if (!live->recorder)
		return;
	record_changes(live, now_ns);
	lost = recorder_lost(live->recorder, NULL, 0);
	if (lost)
		say(live, "%llu trace entries could not be written", (unsigned long long)lost);
}

struct probes *live_source_probes(struct source *source)
{
	return live_of(source)->probes;
}

void live_source_set_cap_bpf_dropped(struct source *source, bool dropped)
{
	live_of(source)->dropped_cap_bpf = dropped;
}

/* What the kernel handed over, what it could not, and its repeat counts once a second. */
static int live_poll(struct source *source, int timeout_ms)
{
	struct live_source *live = live_of(source);
	int rc = probes_poll(live->probes, timeout_ms);

	if (rc < 0)
		return rc;
	report_losses(live);
	if (clock_ns(CLOCK_BOOTTIME) - live->last_repeat_flush_ns >= REPEATS_FLUSH_INTERVAL_NS)
		flush_repeats(live, false);
	return 0;
}

/* What the kernel already handed over or counted is still reported before exit. */
static int live_drain(struct source *source)
{
	struct live_source *live = live_of(source);
	int rc = probes_drain(live->probes);

	report_losses(live);
	flush_repeats(live, true);
	return rc < 0 ? rc : 0;
}

static void live_stats(const struct source *source, struct source_stats *stats)
{
	const struct live_source *live = (const struct live_source *)source;

	*stats = (struct source_stats){
		.records_lost = live->lost_reported,
		.trace_lost = live->recorder ? recorder_lost(live->recorder, NULL, 0) : 0,
	};
}

static void live_close(struct source *source)
{
	struct live_source *live = live_of(source);

	recorder_close(live->recorder);
	jsonw_release(&live->state);
	probes_close(live->probes);
	free(live);
}

static const struct source_ops live_ops = {
	.poll = live_poll,
	.drain = live_drain,
	.stats = live_stats,
	.close = live_close,
};

struct source *live_source_open(const struct live_source_config *config, struct am_error *err)
{
	struct live_source *live = calloc(1, sizeof(*live));
	struct pipeline_hooks hooks = {0};

	if (!live) {
		am_error_set(err, "out of memory");
		return NULL;
	}
	live->source.ops = &live_ops;
	live->config = *config;
	jsonw_init(&live->state);
	hooks.cgroup_miss = on_cgroup_miss;
	hooks.process_miss = on_process_miss;
	hooks.pod_miss = on_pod_miss;
	hooks.ctx = live;
	pipeline_set_hooks(config->pipeline, &hooks);
	live->probes = probes_open(&config->probes, on_record, live, err);
	if (!live->probes) {
		pipeline_set_hooks(config->pipeline, &(struct pipeline_hooks){0});
		jsonw_release(&live->state);
		free(live);
		return NULL;
	}
	return &live->source;
}
