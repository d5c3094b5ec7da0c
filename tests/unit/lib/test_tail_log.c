// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* Unit tests: a bounded log that keeps its newest text (lib/tail_log.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <cmocka.h>

#include "lib/tail_log.h"

static void keeps_what_fits(void **state)
{
	char buf[16];
	struct tail_log log = {buf, sizeof(buf), 0};

	(void)state;
	tail_log_reset(&log);
	assert_string_equal(log.buf, "");
	tail_log_append(&log, "abc", 3);
	tail_log_append(&log, "def", 3);
	assert_string_equal(log.buf, "abcdef");
	assert_int_equal(log.len, 6);
}

static void the_oldest_half_goes_when_full(void **state)
{
	char buf[16];
	struct tail_log log = {buf, sizeof(buf), 0};

	(void)state;
	tail_log_reset(&log);
	tail_log_append(&log, "0123456789", 10);
	/* 10 + 6 does not fit in 15 characters: the last 5 of the 10 stay. */
	tail_log_append(&log, "reason", 6);
	assert_string_equal(log.buf, "56789reason");
	assert_int_equal(log.len, 11);
}

static void a_piece_larger_than_the_buffer_is_dropped(void **state)
{
	char buf[8];
	struct tail_log log = {buf, sizeof(buf), 0};

	(void)state;
	tail_log_reset(&log);
	tail_log_append(&log, "ab", 2);
	tail_log_append(&log, "0123456789", 10);
	/* The old half was let go trying; the text stays terminated and within bounds. */
	assert_true(log.len < sizeof(buf));
	assert_int_equal(strlen(log.buf), log.len);
	assert_null(strstr(log.buf, "0123"));
	tail_log_append(&log, "xyz", 3);
	assert_non_null(strstr(log.buf, "xyz"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(keeps_what_fits),
		cmocka_unit_test(the_oldest_half_goes_when_full),
		cmocka_unit_test(a_piece_larger_than_the_buffer_is_dropped),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
