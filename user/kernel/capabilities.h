/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * The monitor's own privileges: the capabilities it needs to start, checked
 * before anything is loaded (each missing one named with what it is for), and
 * what it keeps once the probes are attached: as little as the running kernel
 * allows, found by trying, never by its version.
 */
#ifndef ACCESSMON_CAPABILITIES_H
#define ACCESSMON_CAPABILITIES_H

#include <stddef.h>
#include <stdint.h>

#define CAPABILITY_BIT(cap) (1ull << (cap))

typedef void (*capabilities_report_fn)(void *ctx, const char *message);

/* 0, or -EPERM after reporting each missing capability and what to do. */
int capabilities_check(capabilities_report_fn report, void *ctx);

/*
 * Runs fn(ctx) on a thread of its own whose effective capabilities are only
 * `keep` (capabilities belong to threads: the caller's stay as they are), and
 * returns what fn returned, or -errno when the thread could not be made so.
 */
int capabilities_try_with(uint64_t keep, int (*fn)(void *ctx), void *ctx);

/*
 * Drops every capability not in `keep` from the effective, permitted and
 * inheritable sets and, where allowed, the bounding set, and sets no_new_privs,
 * so no exec wins them back. Call it before starting any thread: those started
 * after have only what is kept. `why` says why each kept one is kept; `said`
 * gets the line to print. 0, or -errno (nothing dropped, said says why).
 */
int capabilities_drop(uint64_t keep, const char *why, char *said, size_t said_len);

/* The capability's name ("CAP_BPF"), or NULL for one the monitor never names. */
const char *capability_name(int cap);

#endif /* ACCESSMON_CAPABILITIES_H */
