// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* The table of kernel record types; see records.h. */
#include "event/records.h"

#include "accessmon.h"

/* The string `field` of struct `record`. */
#define STRING(record, field)                                                                      \
	{                                                                                          \
		.offset = offsetof(struct record, field),                                          \
		.size = sizeof(((struct record *)0)->field),                                       \
	}

/*
 * Connects and sends (the most frequent records) carry no stale byte: their only
 * string is the comm that bpf_get_current_comm fills, zero-padded. Repeat records
 * are made by user space from zeroed memory; exits, closes and states hold no
 * string. The trace keeps them as they are, without a copy.
 */
static const struct record_type record_types[AM_REC_TYPE_MAX] = {
	[AM_REC_CONNECT] = {
		.name = "connect",
		.size = sizeof(struct am_connect_record),
	},
	[AM_REC_SEND] = {
		.name = "send",
		.size = sizeof(struct am_connect_record),
	},
	[AM_REC_OPEN] = {
		.name = "open",
		.size = sizeof(struct am_open_record),
		.strings = {STRING(am_open_record, task.comm), STRING(am_open_record, path),
			    STRING(am_open_record, name)},
	},
	[AM_REC_CGROUP_MKDIR] = {
		.name = "cgroup-mkdir",
		.size = sizeof(struct am_cgroup_record),
		.strings = {STRING(am_cgroup_record, path)},
	},
	[AM_REC_CGROUP_RMDIR] = {
		.name = "cgroup-rmdir",
		.size = sizeof(struct am_cgroup_record),
		.strings = {STRING(am_cgroup_record, path)},
	},
	[AM_REC_EXEC] = {
		.name = "exec",
		.size = sizeof(struct am_exec_record),
		.strings = {STRING(am_exec_record, task.comm), STRING(am_exec_record, exe)},
		.extra = RECORD_EXTRA_ARGS,
	},
	[AM_REC_FORK] = {
		.name = "fork",
		.size = sizeof(struct am_fork_record),
		/* The child's comm, read as a string. */
		.strings = {STRING(am_fork_record, task.comm)},
	},
	[AM_REC_EXIT] = {
		.name = "exit",
		.size = sizeof(struct am_exit_record),
	},
	[AM_REC_PAYLOAD] = {
		.name = "payload",
		.size = sizeof(struct am_payload_record),
		.extra = RECORD_EXTRA_PAYLOAD,
	},
	[AM_REC_FLOW_CLOSE] = {
		.name = "flow-close",
		.size = sizeof(struct am_flow_close_record),
	},
	[AM_REC_CONNECT_REPEAT] = {
		.name = "connect-repeat",
		.size = sizeof(struct am_connect_repeat_record),
	},
	[AM_REC_FLOW_STATE] = {
		.name = "flow-state",
		.size = sizeof(struct am_flow_state_record),
	},
	[AM_REC_SOCKET] = {
		.name = "socket",
		.size = sizeof(struct am_socket_record),
		.strings = {STRING(am_socket_record, task.comm)},
	},
};

const struct record_type *record_type(uint16_t type)
{
	if (type >= AM_REC_TYPE_MAX || !record_types[type].name)
		return NULL;
	return &record_types[type];
}

const char *record_type_name(uint16_t type)
{
	const struct record_type *entry = record_type(type);

	return entry ? entry->name : "unknown";
}

bool record_type_needs_cleaning(const struct record_type *type)
{
	return type->strings[0].size || type->extra != RECORD_EXTRA_NONE;
}
