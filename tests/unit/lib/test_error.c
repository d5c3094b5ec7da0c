// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * Unit tests: error context (lib/error.h). Messages carry what pods control, so
 * they come out printable, cut at a whole character or escape, never past the
 * buffer.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <cmocka.h>

#include "lib/error.h"
#include "text_checks.h"

/* Diagnostics echo what pods control too: stderr gets printable text only. */
static void error_messages_are_printable(void **state)
{
	struct am_error err;
	char again[AM_ERROR_LEN];
	char giant[4096];

	(void)state;
	am_error_set(&err, "pods.json: items[0].metadata.labels.%s: expected a string",
		     "a\x1b]0;t\x07\nb\xc2\x9b\xff\xe2\x80\xae\\");
	assert_string_equal(err.msg, "pods.json: items[0].metadata.labels.a\\x1b]0;t\\x07\\x0ab"
				     "\\xc2\\x9b\\xff\\xe2\\x80\\xae\\: expected a string");
	assert_harmless_text(err.msg, strlen(err.msg));
	/* Printable already: copying it again changes nothing (reports wrap messages). */
	am_error_printable(again, sizeof(again), err.msg);
	assert_string_equal(again, err.msg);
	/* Cut at the buffer, never inside an escape or a character. */
	memset(giant, '\x1b', sizeof(giant) - 1);
	giant[sizeof(giant) - 1] = '\0';
	am_error_set(&err, "%s", giant);
	assert_int_equal(strlen(err.msg) % 4, 0);
	assert_true(strlen(err.msg) > AM_ERROR_LEN - 8);
	for (size_t i = 0; i < sizeof(giant) - 4; i += 3)
		memcpy(giant + i, "\xc3\xa9z", 3);
	am_error_set(&err, "%s", giant);
	assert_true(valid_utf8(err.msg, strlen(err.msg)));
	/* Its own message as an argument. */
	am_error_set(&err, "x");
	am_error_set(&err, "%s: more", err.msg);
	assert_string_equal(err.msg, "x: more");
}

static void printable_copies_are_bounded(void **state)
{
	char out[16];

	(void)state;
	/* Nothing written at all into a buffer of no bytes. */
	memset(out, '#', sizeof(out));
	am_error_printable(out, 0, "abc");
	assert_int_equal(out[0], '#');
	am_error_printable(out, 1, "abc");
	assert_string_equal(out, "");
	/* Whole characters of valid UTF-8 pass; one that does not fit is left out whole. */
	am_error_printable(out, sizeof(out), "caf\xc3\xa9 \xe2\x82\xac");
	assert_string_equal(out, "caf\xc3\xa9 \xe2\x82\xac");
	am_error_printable(out, 5, "caf\xc3\xa9");
	assert_string_equal(out, "caf");
	/* An escape is four bytes: one that does not fit is left out whole too. */
	am_error_printable(out, 8, "ab\x01\x02");
	assert_string_equal(out, "ab\\x01");
	am_error_printable(out, 7, "ab\x01\x02");
	assert_string_equal(out, "ab\\x01");
	am_error_printable(out, 6, "ab\x01\x02");
	assert_string_equal(out, "ab");
	/* DEL, a lone continuation byte, a cut sequence, an overlong slash. */
	am_error_printable(out, sizeof(out), "\x7f\x80\xe2\x82");
	assert_string_equal(out, "\\x7f\\x80\\xe2");
	am_error_printable(out, sizeof(out), "\xc0\xaf");
	assert_string_equal(out, "\\xc0\\xaf");
}

static void null_context_is_allowed(void **state)
{
	(void)state;
	/* Callers that do not want the message pass NULL. */
	am_error_set(NULL, "%s", "ignored");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(error_messages_are_printable),
		cmocka_unit_test(printable_copies_are_bounded),
		cmocka_unit_test(null_context_is_allowed),
	};

	return cmocka_run_group_tests_name("error", tests, NULL, NULL);
}
