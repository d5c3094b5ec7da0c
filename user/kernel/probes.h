/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * Loading, attaching and reading the kernel probes: the one module that talks to
 * libbpf. Everything attached is held by links owned here, so probes_close() (or
 * the process dying) detaches all of it; nothing is pinned.
 */
#ifndef ACCESSMON_PROBES_H
#define ACCESSMON_PROBES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "accessmon.h"
#include "event/degraded.h"
#include "lib/error.h"

struct kernel_features;

/* How opens are seen (--open-hook). */
enum open_hook {
	OPEN_HOOK_AUTO = 0,   /* syscall tracepoints if tracefs can be had, else raw */
	OPEN_HOOK_TRACEPOINT, /* syscalls/sys_exit_open* */
	OPEN_HOOK_RAW,	      /* tp_btf/sys_exit */
};

/* The longest a submitted record waits for the collector (bpf/common.bpf.h, record_submit). */
#define PROBES_WAKEUP_MS 10

struct probes_config {
	const char *cgroup_root;
	uint32_t ringbuf_bytes;
	uint64_t repeat_window_ns; /* 0: every connect and send reported on its own */
	enum open_hook open_hook;
	bool bpf_stats; /* turn on the kernel's run time statistics (they cost every program) */
	bool verbose;
};

typedef int (*probes_record_fn)(void *ctx, const void *data, size_t size);

/* Something this kernel could not give the probes at start, and the detection it blinds. */
struct probes_loss {
	enum detection detection;
	char what[64];	   /* the program, hook or piece left out */
	char reason[384]; /* why, in the kernel's words where it gave any */
};

#define PROBES_MAX_LOSSES 40

struct probes;

struct probes *probes_open(const struct probes_config *config, probes_record_fn on_record,
			   void *ctx, struct am_error *err);
void probes_close(struct probes *probes);

/* Adds (add) or removes a watched file, directory or path in the kernel's maps. */
int probes_watch_file(struct probes *probes, uint32_t kdev, uint64_t inode, uint32_t watch_id,
		      uint32_t flags, bool add);
/*
 * A discovery round that began listing at wall-clock second realtime_s is
 * wholly in the kernel's maps: a file of a flat watched directory changed
 * before then needs no parent lookup (am_dirs_listed_s in bpf/maps.bpf.h).
 */
void probes_dirs_listed(struct probes *probes, uint64_t realtime_s);
int probes_watch_dir(struct probes *probes, uint32_t kdev, uint64_t inode, uint32_t watch_id,
		     uint32_t flags, bool add);
int probes_watch_path(struct probes *probes, const char *path, uint32_t watch_id, bool add);
/* Tells the open probes whether any directory or path is watched. */
int probes_watch_state(struct probes *probes, bool dirs, bool paths);
/* What was left out at start: *losses points at n entries (none: 0). */
size_t probes_losses(const struct probes *probes, const struct probes_loss **losses);
/* Programs attached, out of those this kernel was found to need. */
void probes_counts(const struct probes *probes, size_t *attached, size_t *needed);
/* What the kernel was found to offer (kernel_features.h). */
const struct kernel_features *probes_features(const struct probes *probes);
/*
 * Reads one map and writes another (leaving it as it was), as the collector does
 * all along after start: 0, or -errno as the kernel answered. The capability
 * check runs it with the capabilities the monitor would keep.
 */
int probes_map_access(struct probes *probes);
/* Waits up to timeout_ms for records and hands each to on_record. */
int probes_poll(struct probes *probes, int timeout_ms);
/* Hands over every record already in the ring buffer, without waiting. */
int probes_drain(struct probes *probes);
/* One repeat entry taken out of the kernel, with its key. */
typedef void (*probes_repeat_fn)(void *ctx, const struct am_repeat_key *key,
				 const struct am_repeat_value *value);
/*
 * Moves the kernel's repeat counts out (call it about once a second): fn gets
 * every entry with a count of the map the probes used until the previous call,
 * and the probes move on to the other. `final`: also the counts since (at exit).
 * Nothing is counted twice or lost; see probes.c.
 */
int probes_repeats_flush(struct probes *probes, uint64_t now_ns, bool final, probes_repeat_fn fn,
			 void *ctx);
/* Sums the per-CPU counters. */
int probes_counters(struct probes *probes, uint64_t totals[AM_CNT_MAX]);
/* Bytes written to the ring buffer and not yet read; -1 when unknown. */
int64_t probes_ring_used(const struct probes *probes);
/* Whether the kernel counts program runs and time (kernel.bpf_stats_enabled). */
bool probes_stats_enabled(const struct probes *probes);
typedef void (*probes_program_fn)(void *ctx, const char *name, uint64_t run_count,
				  uint64_t run_time_ns);
/* Each loaded program's run count and time (zero while stats are off). */
int probes_program_stats(const struct probes *probes, probes_program_fn fn, void *ctx);
/* The open hook actually attached: OPEN_HOOK_TRACEPOINT or OPEN_HOOK_RAW. */
enum open_hook probes_open_hook(const struct probes *probes);

#endif /* ACCESSMON_PROBES_H */
