// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * The live source: the kernel's ring buffer into the pipeline, with its losses and
 * repeat counts; see live.h. The recording tap is in live_record.c.
 */
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
#include "attribute/processes.h"
#include "event/degraded.h"
#include "kernel/kernel_features.h"
#include "kernel/repeats.h"
#include "lib/clock.h"
#include "lib/jsonw.h"
#include "pipeline/pipeline.h"
#include "source/live_private.h"
#include "trace/recorder.h"
#include "trace/state.h"

/* A record from an unknown cgroup rescans the tree at most this often. */
#define CGROUP_RESCAN_MIN_INTERVAL_NS (100ull * 1000000ull)

void live_say(struct live_source *live, const char *fmt, ...)
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

static int on_record(void *ctx, const void *data, size_t size)
{
	struct live_source *live = ctx;
	const struct am_record_header *header = data;

	pipeline_record(live->config.pipeline, data, size);
	if (live->recorder && size >= sizeof(*header)) {
		live_record_changes(live, header->time_ns);
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
			live_say(live, "%s", reason);
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
	live_say(live,
		 "%" PRIu64 " events lost in the kernel (ring buffer full), %" PRIu64 " in all",
		 lost - live->lost_reported, lost);
	now_ns = clock_ns(CLOCK_BOOTTIME);
	pipeline_events_lost(live->config.pipeline, now_ns, lost - live->lost_reported, lost);
	if (live->recorder) {
		state_write_loss(&live->state, now_ns, lost - live->lost_reported, lost);
		live_record_state(live, now_ns);
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
