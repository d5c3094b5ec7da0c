/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * What each kernel record type (enum am_record_type, accessmon.h) is, in one
 * table: the name records, metrics and trace info give it, its size, and which of
 * its bytes a trace must not keep as they came (trace/redact.c acts on that).
 * A stage that needs to know something of every type asks here instead of
 * switching on the type itself.
 */
#ifndef ACCESSMON_EVENT_RECORDS_H
#define ACCESSMON_EVENT_RECORDS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * A NUL-terminated string the kernel writes into a record: the bytes after its
 * NUL are whatever an older record left in ring buffer memory.
 */
struct record_string {
	uint16_t offset;
	uint16_t size;
};

/* The most strings a record type has (open: the comm, the path, the name). */
#define RECORD_STRINGS_MAX 3

/* Bytes of a record, besides its strings, that a trace must not keep as they came. */
enum record_extra {
	RECORD_EXTRA_NONE = 0,
	/* exec: argv; past args_size, stale ring buffer memory */
	RECORD_EXTRA_ARGS,
	/* payload: past `captured`, stale; within, a request's values and bodies are secrets */
	RECORD_EXTRA_PAYLOAD,
};

struct record_type {
	const char *name; /* "connect", "cgroup-mkdir", ...: as metrics and trace info print it */
	/*
	 * sizeof the record's struct. No type is variable-length: the pipeline takes
	 * a record only when it and its header's size are exactly this.
	 */
	size_t size;
	/* In the order the kernel writes them; the first of size 0 ends the list. */
	struct record_string strings[RECORD_STRINGS_MAX];
	enum record_extra extra;
};

/* The type's entry; NULL for 0, AM_REC_TYPE_MAX and beyond. */
const struct record_type *record_type(uint16_t type);

/* The type's name; "unknown" for a type record_type() does not know. */
const char *record_type_name(uint16_t type);

/*
 * Whether a record of this type can carry bytes that are not its own (stale
 * memory, secrets), which the trace cleans; the others are recorded as they are.
 */
bool record_type_needs_cleaning(const struct record_type *type);

#endif /* ACCESSMON_EVENT_RECORDS_H */
