/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * The live source: records off the kernel's ring buffer (kernel/probes.h), with
 * what a live run does around them: the kernel's loss counters and repeat counts
 * turned into the stream, the caches asked again when a record names what they do
 * not know, and the recording tap (--record) writing every record and the state
 * that explains it into a trace (trace/recorder.h).
 */
#ifndef ACCESSMON_SOURCE_LIVE_H
#define ACCESSMON_SOURCE_LIVE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kernel/probes.h"
#include "lib/error.h"
#include "source/source.h"

struct cgroup_cache;
struct degraded;
struct degraded_notice;
struct dns_cache;
struct identity_data;
struct inventory;
struct pipeline;
struct pod_inventory;
struct policy;
struct process_cache;
struct service_tags;
struct watch_list;

struct live_source_config {
	struct probes_config probes;
	struct pipeline *pipeline;
	/* Loss and repeat counts the kernel's maps refuse are said here (degraded.h). */
	struct degraded *degraded;
	/*
	 * The node as the monitor knows it: asked again when a record names what it
	 * does not know, and written into a recording. The pointed-to pointers
	 * follow a reload.
	 */
	struct cgroup_cache *cgroups;
	struct process_cache *processes;
	struct pod_inventory *pods;
	struct watch_list *watches;
	struct dns_cache *dns;
	struct inventory *inventory;
	struct identity_data *const *identities;
	struct policy *const *policy;
	struct service_tags *const *service_tags;
	const char *proc_dir;
	/* What /proc/PID/cgroup paths are relative to; read at each miss, so filled in later. */
	const char *proc_cgroup_base;
	/* What the source has to say, one line each. */
	void (*report)(void *ctx, const char *message);
	void *report_ctx;
};

/* Loads and attaches the probes; NULL with err set when they cannot be. */
struct source *live_source_open(const struct live_source_config *config, struct am_error *err);
/* The probes read: the watch set, the capability check and the metrics use them too. */
struct probes *live_source_probes(struct source *source);
/*
 * The monitor dropped CAP_BPF when this kernel let it use its maps without it:
 * a refusal after that means the kernel started to need it.
 */
void live_source_set_cap_bpf_dropped(struct source *source, bool dropped);
/* Why the kernel's maps refused `what` (rc: -errno), with what to do about it. */
void live_source_refusal_reason(const struct source *source, int rc, const char *what, char *out,
				size_t len);

/*
 * Starts recording into path, each file opening with a snapshot of the state. Until
 * then, and without it, the recording functions below do nothing.
 */
int live_source_record(struct source *source, const char *path, uint64_t max_size,
		       unsigned int keep, const char *header_json, struct am_error *err);
bool live_source_recording(const struct source *source);
/*
 * Once per pass of the loop: what changed outside the record stream is recorded,
 * a block older than a second written, and a write error said.
 */
void live_source_tick(struct source *source, uint64_t now_ns);
/*
 * Trace entries the recording could not write: a line in the stream, the first at
 * once, then at most every min_interval_ns while the losses go on (0 at exit:
 * everything still unsaid).
 */
void live_source_report_trace_loss(struct source *source, uint64_t now_ns,
				   uint64_t min_interval_ns);
/* The identity data and policy were replaced (a reload): into the recording. */
void live_source_detection_changed(struct source *source, uint64_t now_ns);
/* A notice of what the monitor cannot see: into the recording. */
void live_source_degraded(struct source *source, uint64_t now_ns,
			  const struct degraded_notice *notice);
/* The end of the run: what changed since the last record, and what the recording lost. */
void live_source_finish_recording(struct source *source, uint64_t now_ns);

#endif /* ACCESSMON_SOURCE_LIVE_H */
