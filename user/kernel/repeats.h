/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * Volume control, the user space half: what to do with the kernel's repeat
 * entries (include/accessmon.h, struct am_repeat_key and am_repeat_value) when
 * probes.c moves them out once a second. An entry with a count becomes an
 * AM_REC_CONNECT_REPEAT record, fed to the pipeline and the trace like any
 * record the kernel sent; an entry still in its window carries over, so the
 * pod's next contact with the destination is counted, not reported.
 */
#ifndef ACCESSMON_REPEATS_H
#define ACCESSMON_REPEATS_H

#include <stdbool.h>
#include <stdint.h>

#include "accessmon.h"

/* Default of --repeat-window: repeats within this long of a reported contact are counted. */
#define REPEATS_DEFAULT_WINDOW_S 60
#define REPEATS_MAX_WINDOW_S 3600
/* How often the counts leave the kernel. */
#define REPEATS_FLUSH_INTERVAL_NS (1000ull * 1000000ull)

/*
 * The record for an entry taken out of the kernel at now_ns (CLOCK_BOOTTIME):
 * 0, or -ENODATA when the entry counted nothing, and -EINVAL when it is not a
 * connect's or a send's.
 */
int repeats_record(const struct am_repeat_key *key, const struct am_repeat_value *value,
		   uint64_t now_ns, struct am_connect_repeat_record *record);

/*
 * Whether an entry of the map in use is copied into the next one: its window
 * (window_ns from its reported contact) is still open at now_ns, and its epoch
 * is still its cgroup's (epoch_now: the slot's counter). Otherwise its next
 * contact is a first one and is reported.
 */
bool repeats_carry(const struct am_repeat_key *key, const struct am_repeat_value *value,
		   uint64_t now_ns, uint64_t window_ns, uint64_t epoch_now);

#endif /* ACCESSMON_REPEATS_H */
