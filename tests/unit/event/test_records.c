// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * Unit tests: the table of record types. Every type of enum am_record_type has
 * its name (as metrics and trace info print it) and its struct's size; unknown
 * types have no entry; and each entry names the strings and bytes a trace must
 * clean, inside the record. What the cleaning does to a record is
 * trace/test_redact.c's.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "accessmon.h"
#include "event/records.h"

#define STRING(record, field)                                                                      \
	{                                                                                          \
		.offset = offsetof(struct record, field),                                          \
		.size = sizeof(((struct record *)0)->field),                                       \
	}

/* What each type is, written out again: the table must say the same. */
static const struct record_type expected[AM_REC_TYPE_MAX] = {
	[AM_REC_CONNECT] = {"connect", sizeof(struct am_connect_record), {{0}}, RECORD_EXTRA_NONE},
	[AM_REC_SEND] = {"send", sizeof(struct am_connect_record), {{0}}, RECORD_EXTRA_NONE},
	[AM_REC_OPEN] = {"open",
			 sizeof(struct am_open_record),
			 {STRING(am_open_record, task.comm), STRING(am_open_record, path),
			  STRING(am_open_record, name)},
			 RECORD_EXTRA_NONE},
	[AM_REC_CGROUP_MKDIR] = {"cgroup-mkdir",
				 sizeof(struct am_cgroup_record),
				 {STRING(am_cgroup_record, path)},
				 RECORD_EXTRA_NONE},
	[AM_REC_CGROUP_RMDIR] = {"cgroup-rmdir",
				 sizeof(struct am_cgroup_record),
				 {STRING(am_cgroup_record, path)},
				 RECORD_EXTRA_NONE},
	[AM_REC_EXEC] = {"exec",
			 sizeof(struct am_exec_record),
			 {STRING(am_exec_record, task.comm), STRING(am_exec_record, exe)},
			 RECORD_EXTRA_ARGS},
	[AM_REC_FORK] = {"fork",
			 sizeof(struct am_fork_record),
			 {STRING(am_fork_record, task.comm)},
			 RECORD_EXTRA_NONE},
	[AM_REC_EXIT] = {"exit", sizeof(struct am_exit_record), {{0}}, RECORD_EXTRA_NONE},
	[AM_REC_PAYLOAD] = {"payload", sizeof(struct am_payload_record), {{0}},
			    RECORD_EXTRA_PAYLOAD},
	[AM_REC_FLOW_CLOSE] = {"flow-close", sizeof(struct am_flow_close_record), {{0}},
			       RECORD_EXTRA_NONE},
	[AM_REC_CONNECT_REPEAT] = {"connect-repeat", sizeof(struct am_connect_repeat_record),
				   {{0}}, RECORD_EXTRA_NONE},
	[AM_REC_FLOW_STATE] = {"flow-state", sizeof(struct am_flow_state_record), {{0}},
			       RECORD_EXTRA_NONE},
	[AM_REC_SOCKET] = {"socket",
			   sizeof(struct am_socket_record),
			   {STRING(am_socket_record, task.comm)},
			   RECORD_EXTRA_NONE},
};

static void every_type_has_its_name_and_size(void **state)
{
	uint16_t type;

	(void)state;
	for (type = 1; type < AM_REC_TYPE_MAX; type++) {
		const struct record_type *entry = record_type(type);

		assert_non_null(expected[type].name); /* a type added to the enum: add it above too */
		assert_non_null(entry);
		assert_non_null(entry->name);
		assert_string_equal(entry->name, expected[type].name);
		assert_string_equal(record_type_name(type), expected[type].name);
		assert_int_equal(entry->size, expected[type].size);
		/* The header's size field holds it. */
		assert_true(entry->size >= sizeof(struct am_record_header));
		assert_true(entry->size <= UINT16_MAX);
	}
}

static void names_are_unique(void **state)
{
	uint16_t a, b;

	(void)state;
	for (a = 1; a < AM_REC_TYPE_MAX; a++) {
		assert_true(strlen(record_type(a)->name) > 0);
		assert_string_not_equal(record_type(a)->name, "unknown");
		for (b = a + 1; b < AM_REC_TYPE_MAX; b++)
			assert_string_not_equal(record_type(a)->name, record_type(b)->name);
	}
}

static void unknown_types_have_no_entry(void **state)
{
	const uint16_t unknown[] = {0, AM_REC_TYPE_MAX, AM_REC_TYPE_MAX + 1, 0x100, UINT16_MAX};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(unknown) / sizeof(*unknown); i++) {
		assert_null(record_type(unknown[i]));
		assert_string_equal(record_type_name(unknown[i]), "unknown");
	}
}

/*
 * Which strings and bytes each type has cleaned: only the strings the kernel
 * writes with stale bytes after them, and the variable parts of exec and payload
 * records. Connects, sends, repeats, exits, closes and states are kept as they
 * are.
 */
static void each_type_says_what_a_trace_cleans(void **state)
{
	uint16_t type;
	size_t i;

	(void)state;
	for (type = 1; type < AM_REC_TYPE_MAX; type++) {
		const struct record_type *entry = record_type(type);
		bool cleans = expected[type].strings[0].size ||
			      expected[type].extra != RECORD_EXTRA_NONE;

		assert_int_equal(entry->extra, expected[type].extra);
		assert_int_equal(record_type_needs_cleaning(entry), cleans);
		for (i = 0; i < RECORD_STRINGS_MAX; i++) {
			assert_int_equal(entry->strings[i].offset, expected[type].strings[i].offset);
			assert_int_equal(entry->strings[i].size, expected[type].strings[i].size);
		}
	}
	assert_false(record_type_needs_cleaning(record_type(AM_REC_CONNECT)));
	assert_false(record_type_needs_cleaning(record_type(AM_REC_SEND)));
	assert_false(record_type_needs_cleaning(record_type(AM_REC_CONNECT_REPEAT)));
	assert_true(record_type_needs_cleaning(record_type(AM_REC_FORK)));
	assert_true(record_type_needs_cleaning(record_type(AM_REC_PAYLOAD)));
}

/* Every string lies inside its record, past the header, and none overlaps another. */
static void strings_lie_inside_their_record(void **state)
{
	uint16_t type;
	size_t i, j;

	(void)state;
	for (type = 1; type < AM_REC_TYPE_MAX; type++) {
		const struct record_type *entry = record_type(type);
		bool ended = false;

		for (i = 0; i < RECORD_STRINGS_MAX; i++) {
			const struct record_string *s = &entry->strings[i];

			if (!s->size) {
				ended = true;
				continue;
			}
			assert_false(ended); /* no string after the end of the list */
			assert_true(s->offset >= sizeof(struct am_record_header));
			assert_true((size_t)s->offset + s->size <= entry->size);
			for (j = 0; j < i; j++)
				assert_true(entry->strings[j].offset + entry->strings[j].size <=
						    s->offset ||
					    s->offset + s->size <= entry->strings[j].offset);
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(every_type_has_its_name_and_size),
		cmocka_unit_test(names_are_unique),
		cmocka_unit_test(unknown_types_have_no_entry),
		cmocka_unit_test(each_type_says_what_a_trace_cleans),
		cmocka_unit_test(strings_lie_inside_their_record),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
