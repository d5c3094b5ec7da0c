// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * Unit tests: the kernel's repeat entries turned into connect-repeat records, and
 * which entries carry over into the next map (open window, current epoch).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "kernel/repeats.h"

#define SECOND 1000000000ull

static struct am_repeat_key key_of(uint16_t type)
{
	struct am_repeat_key key = {.cgroup_id = 4097, .epoch = 3, .type = type, .port = 5432,
				    .family = 6, .protocol = 6};

	memcpy(key.addr, (uint8_t[]){0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 7}, 16);
	return key;
}

static void a_counted_entry_is_a_record(void **state)
{
	struct am_repeat_key key = key_of(AM_REC_CONNECT);
	struct am_repeat_value value = {.window_start_ns = 10 * SECOND,
					.first_ns = 11 * SECOND,
					.last_ns = 12 * SECOND,
					.count = 42,
					.last_pid_tgid = (4242ull << 32) | 4250};
	struct am_connect_repeat_record record;

	(void)state;
	memset(&record, 0xff, sizeof(record));
	assert_int_equal(repeats_record(&key, &value, 13 * SECOND, &record), 0);
	assert_int_equal(record.header.type, AM_REC_CONNECT_REPEAT);
	assert_int_equal(record.header.size, sizeof(record));
	assert_int_equal(record.header.cpu, 0);
	assert_int_equal(record.header.time_ns, 13 * SECOND);
	assert_int_equal(record.task.cgroup_id, 4097);
	assert_int_equal(record.task.pid, 4242);
	assert_int_equal(record.task.tid, 4250);
	assert_int_equal(record.task.ppid, 0);
	assert_int_equal(record.task.uid, 0);
	assert_int_equal(record.task.comm[0], '\0');
	assert_int_equal(record.family, 6);
	assert_int_equal(record.protocol, 6);
	assert_int_equal(record.port, 5432);
	assert_int_equal(record.repeat_of, AM_REC_CONNECT);
	assert_int_equal(record.reserved, 0);
	assert_memory_equal(record.addr, key.addr, 16);
	assert_int_equal(record.count, 42);
	assert_int_equal(record.window_start_ns, 10 * SECOND);
	assert_int_equal(record.first_ns, 11 * SECOND);
	assert_int_equal(record.last_ns, 12 * SECOND);

	/* Sends repeat as sends. */
	key = key_of(AM_REC_SEND);
	assert_int_equal(repeats_record(&key, &value, 13 * SECOND, &record), 0);
	assert_int_equal(record.repeat_of, AM_REC_SEND);
}

static void nothing_counted_is_no_record(void **state)
{
	struct am_repeat_key key = key_of(AM_REC_CONNECT);
	struct am_repeat_value value = {.window_start_ns = SECOND};
	struct am_connect_repeat_record record;

	(void)state;
	assert_int_equal(repeats_record(&key, &value, 2 * SECOND, &record), -ENODATA);
	value.count = 1;
	value.last_ns = SECOND;
	key.type = AM_REC_OPEN;
	assert_int_equal(repeats_record(&key, &value, 2 * SECOND, &record), -EINVAL);
}

static void times_are_never_out_of_order(void **state)
{
	struct am_repeat_key key = key_of(AM_REC_CONNECT);
	struct am_repeat_value value = {.window_start_ns = SECOND, .last_ns = 5 * SECOND, .count = 2};
	struct am_connect_repeat_record record;

	(void)state;
	/* A racing CPU set last_ns but not yet first_ns: first is last. */
	assert_int_equal(repeats_record(&key, &value, 4 * SECOND, &record), 0);
	assert_int_equal(record.first_ns, 5 * SECOND);
	assert_int_equal(record.last_ns, 5 * SECOND);
	/* The record is never older than what it counts. */
	assert_int_equal(record.header.time_ns, 5 * SECOND);
	/* A last_ns a racing CPU left older than first_ns. */
	value.first_ns = 6 * SECOND;
	assert_int_equal(repeats_record(&key, &value, 7 * SECOND, &record), 0);
	assert_int_equal(record.first_ns, 6 * SECOND);
	assert_int_equal(record.last_ns, 6 * SECOND);
}

static void open_windows_of_the_current_epoch_carry_over(void **state)
{
	struct am_repeat_key key = key_of(AM_REC_CONNECT);
	struct am_repeat_value value = {.window_start_ns = 100 * SECOND, .count = 9};
	const uint64_t window = 60 * SECOND;

	(void)state;
	assert_true(repeats_carry(&key, &value, 100 * SECOND, window, 3));
	assert_true(repeats_carry(&key, &value, 160 * SECOND - 1, window, 3));
	/* The window ended: the next contact is reported. */
	assert_false(repeats_carry(&key, &value, 160 * SECOND, window, 3));
	assert_false(repeats_carry(&key, &value, 1000 * SECOND, window, 3));
	/* A probe reopened the window after the map was read: still open. */
	assert_true(repeats_carry(&key, &value, 99 * SECOND, window, 3));
	/* The cgroup's epoch moved on (IMDS, a secret): the key can never match again. */
	assert_false(repeats_carry(&key, &value, 101 * SECOND, window, 4));
	/* Only the low 32 bits are in the key. */
	assert_true(repeats_carry(&key, &value, 101 * SECOND, window, (1ull << 32) | 3));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(a_counted_entry_is_a_record),
		cmocka_unit_test(nothing_counted_is_no_record),
		cmocka_unit_test(times_are_never_out_of_order),
		cmocka_unit_test(open_windows_of_the_current_epoch_carry_over),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
