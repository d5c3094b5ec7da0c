// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* Repeat entries to records, and which of them carry over; see repeats.h. */
#include "kernel/repeats.h"

#include <errno.h>
#include <string.h>

int repeats_record(const struct am_repeat_key *key, const struct am_repeat_value *value,
		   uint64_t now_ns, struct am_connect_repeat_record *record)
{
	if (!value->count)
		return -ENODATA;
	if (key->type != AM_REC_CONNECT && key->type != AM_REC_SEND)
		return -EINVAL;
	memset(record, 0, sizeof(*record));
	record->header.type = AM_REC_CONNECT_REPEAT;
	record->header.size = sizeof(*record);
	/* Never before what it counts, whatever the clocks did between. */
	record->header.time_ns = now_ns > value->last_ns ? now_ns : value->last_ns;
	record->task.cgroup_id = key->cgroup_id;
	record->task.pid = (uint32_t)(value->last_pid_tgid >> 32);
	record->task.tid = (uint32_t)value->last_pid_tgid;
	record->family = key->family;
	record->protocol = key->protocol;
	record->port = key->port;
	record->repeat_of = key->type;
	memcpy(record->addr, key->addr, sizeof(record->addr));
	record->count = value->count;
	record->window_start_ns = value->window_start_ns;
	/* first_ns is set by the first repeat; a racing CPU may only have set last_ns yet. */
	record->first_ns = value->first_ns ? value->first_ns : value->last_ns;
	record->last_ns = value->last_ns > record->first_ns ? value->last_ns : record->first_ns;
	return 0;
}

bool repeats_carry(const struct am_repeat_key *key, const struct am_repeat_value *value,
		   uint64_t now_ns, uint64_t window_ns, uint64_t epoch_now)
{
	if (key->epoch != (uint32_t)epoch_now)
		return false;
	/* The probes compare the same way: a window reopened a moment ago is open. */
	return (int64_t)(now_ns - value->window_start_ns) < (int64_t)window_ns;
}
