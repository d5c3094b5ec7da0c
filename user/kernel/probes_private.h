/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * The probes' state, shared by the two halves of the probes module: probes.c
 * (the lifecycle, the ring buffer, the maps) and programs.c (which programs this
 * kernel can run, loading and attaching them). Nothing outside them includes it.
 */
#ifndef ACCESSMON_PROBES_PRIVATE_H
#define ACCESSMON_PROBES_PRIVATE_H

#include "accessmon.skel.h"
#include "kernel/kernel_features.h"
#include "kernel/probes.h"

#define PROBES_MAX_PROGRAMS 32

struct probes {
	struct accessmon_bpf *skel;
	struct kernel_features features;
	struct ring_buffer *ringbuf;
	/* Attached programs, by their index in programs.c's table. */
	struct bpf_link *links[PROBES_MAX_PROGRAMS];
	size_t n_needed, n_attached;
	int cgroup_fd;
	bool mounted_tracefs;
	enum open_hook open_hook;
	struct probes_loss losses[PROBES_MAX_LOSSES];
	size_t n_losses;
	int n_cpus;
	uint64_t *counter_values;
	/* The ring buffer's consumer and producer positions, mapped read-only. */
	const volatile unsigned long *ring_consumer, *ring_producer;
	size_t page_size;
	int stats_fd; /* BPF_ENABLE_STATS, held while we run; -1: not ours */
	probes_record_fn on_record;
	void *on_record_ctx;
	bool busy; /* the last poll read records: more may wait without a wakeup */
	/* Volume control: see probes_repeats_flush(). */
	uint64_t repeat_window_ns;
	bool repeat_retired; /* the map out of use still holds counts not read */
	bool membarrier;     /* MEMBARRIER_CMD_GLOBAL waits for every running probe */
	const volatile uint64_t *epochs; /* cgroup_epochs, mapped read-only */
	size_t epochs_len;
	struct am_repeat_key *batch_keys;
	struct am_repeat_value *batch_values;
	uint32_t batch_cap;
};

/* programs.c: chooses, loads (probes->skel) and attaches the programs; see there. */
int programs_load(struct probes *probes, const struct probes_config *config,
		  struct am_error *err);
int programs_attach(struct probes *probes, const char *cgroup_root, struct am_error *err);
void programs_detach(struct probes *probes);
/* libbpf's messages: printed with --verbose, and captured during trial loads. */
void programs_set_verbose(bool verbose);

#endif /* ACCESSMON_PROBES_PRIVATE_H */
