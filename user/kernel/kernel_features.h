/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * What the running kernel offers the probes, found by asking it, never by its
 * version number: libbpf's feature probes for map types, program types and the
 * helpers that decide how a program is built, and the kernel's BTF for every
 * BTF tracepoint and its arguments. What libbpf cannot probe (BTF tracing
 * programs) is found by trial loads in probes.c.
 */
#ifndef ACCESSMON_KERNEL_FEATURES_H
#define ACCESSMON_KERNEL_FEATURES_H

#include <stdbool.h>

#include "lib/error.h"
#include "kernel/kernel_info.h"

struct btf;

struct kernel_features {
	char release[65];
	struct btf *btf; /* the running kernel's, until kernel_features_release() */
	/* Map types. */
	bool ringbuf;
	bool sk_storage;
	bool lru_hash;
	/* Program types libbpf can load a trial program of. */
	bool tracepoint_programs;
	bool sock_addr_programs;
	bool skb_programs;
	/* Helpers that decide how a program is built or whether it can be. */
	bool tracepoint_task_pt_regs;	/* bpf_task_pt_regs (5.15): syscall arguments at exit */
	bool sock_addr_current_task;	/* bpf_get_current_task in cgroup sock_addr programs */
	bool sock_addr_sk_storage;	/* marking sockets for capture at connect */
	bool skb_sk_storage;		/* reading the marks in the packet hooks */
	/* io_uring: whether the kernel has it at all, and how its tracepoints read. */
	bool io_uring;
	const char *io_uring_absent_why; /* when !io_uring */
	enum io_uring_form io_uring_form;
	bool io_uring_create;
	/*
	 * BPF memory is charged to RLIMIT_MEMLOCK, not the memory cgroup (before 5.11;
	 * found as libbpf does, by a helper of the same release, bpf_ktime_get_coarse_ns).
	 */
	bool memlock_charged;
	/* kernel.unprivileged_bpf_disabled; -1 when the kernel has no such setting. */
	int unprivileged_bpf_disabled;
};

/*
 * Probes the kernel. Returns 0, or -ENOTSUP when it lacks what nothing works
 * without (BTF, the BPF ring buffer), with err naming the missing feature in one
 * line; -errno when the probing itself failed.
 */
int kernel_features_probe(struct kernel_features *features, struct am_error *err);
/* Frees the kernel's BTF (megabytes): the features stay; kernel_features_tracepoint() no longer answers. */
void kernel_features_release(struct kernel_features *features);
/* kernel.unprivileged_bpf_disabled now (it may change after start); -1 without it. */
int kernel_unprivileged_bpf_disabled(void);
/* Whether BTF tracepoint `name` exists in the running kernel. */
bool kernel_features_tracepoint(const struct kernel_features *features, const char *name);

/* The oldest kernel the monitor runs on: BTF and the BPF ring buffer (5.8). */
#define KERNEL_MINIMUM "5.8"

#endif /* ACCESSMON_KERNEL_FEATURES_H */
