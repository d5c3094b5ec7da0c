/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * Reading what a kernel says about itself, without asking it anything: the
 * arguments its BTF gives a tracepoint, and the reason in a verifier log.
 * Tracepoint arguments are no stable interface (io_uring_complete lost and gained
 * arguments over 5.x and 6.x); taking them from the kernel's own type information,
 * not guessing from its version, is what CO-RE does for structures. Pure: the
 * caller hands in the BTF (the running kernel's, or one a test builds).
 */
#ifndef ACCESSMON_KERNEL_INFO_H
#define ACCESSMON_KERNEL_INFO_H

#include <stdbool.h>
#include <stddef.h>

struct btf;

/* One tracepoint argument, as the program reads it from its 8-byte slot. */
enum tracepoint_arg {
	TP_ARG_OTHER = 0,
	TP_ARG_POINTER,
	TP_ARG_BOOL,
	TP_ARG_INT8,
	TP_ARG_INT16,
	TP_ARG_INT32,
	TP_ARG_INT64,
};

#define TRACEPOINT_MAX_ARGS 12

/*
 * The arguments of BTF tracepoint `name` (its btf_trace_<name> typedef), without
 * the hidden first one: their number, or -ENOENT when the kernel has no such
 * tracepoint, -EINVAL when its type is not the shape tracepoints have.
 */
int kernel_info_tracepoint_args(const struct btf *btf, const char *name,
				enum tracepoint_arg args[TRACEPOINT_MAX_ARGS]);
/* Whether BTF tracepoint `name` exists. */
bool kernel_info_has_tracepoint(const struct btf *btf, const char *name);

/* How the kernel's io_uring_complete tracepoint reports a completion. */
enum io_uring_form {
	IO_URING_FORM_NONE = 0,	 /* no io_uring_complete tracepoint */
	IO_URING_FORM_REQUEST,	 /* (ring, request, ...): Linux 5.18 and later */
	IO_URING_FORM_USER_DATA, /* (ring, user_data, result[, cflags]): before 5.18 */
	IO_URING_FORM_UNKNOWN,	 /* arguments of a shape the probes cannot read */
};

enum io_uring_form kernel_info_io_uring_form(const struct btf *btf);
/* Whether io_uring_create passes the ring second, as the creator probe reads it. */
bool kernel_info_io_uring_create_readable(const struct btf *btf);
const char *io_uring_form_name(enum io_uring_form form);

/*
 * The verifier's own reason in a program load log (the libbpf messages around
 * it included): the last line that is neither an instruction, a source line nor
 * a statistic, e.g. "unknown func bpf_sk_storage_get#107". Empty when none.
 */
void kernel_info_verifier_reason(const char *log, char *reason, size_t size);

#endif /* ACCESSMON_KERNEL_INFO_H */
