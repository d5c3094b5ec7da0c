/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * The live source inside: its state, shared by the ring buffer's side (live.c)
 * and the recording tap (live_record.c). Only source/live*.c include it.
 */
#ifndef ACCESSMON_SOURCE_LIVE_PRIVATE_H
#define ACCESSMON_SOURCE_LIVE_PRIVATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/jsonw.h"
#include "source/live.h"

struct recorder;

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

static inline struct live_source *live_of(struct source *source)
{
	return (struct live_source *)source;
}

/* One line through the config's report function. */
void live_say(struct live_source *live, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* The state document just written (live->state), into the recording at boot_ns. */
void live_record_state(struct live_source *live, uint64_t boot_ns);
/*
 * State the live side changed outside the record stream, into the recording
 * before the record that saw it (nothing without a recording).
 */
void live_record_changes(struct live_source *live, uint64_t boot_ns);

#endif /* ACCESSMON_SOURCE_LIVE_PRIVATE_H */
