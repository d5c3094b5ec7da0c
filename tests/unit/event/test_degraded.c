// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * Unit tests: what the monitor cannot see is said at once, again every interval
 * while it holds, and once more when it ends; never silently dropped, never said
 * twice in one interval.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "event/degraded.h"

#define SECOND 1000000000ull

struct heard {
	struct degraded_notice notices[16];
	char reasons[16][DEGRADED_REASON_LEN];
	int n;
};

static void hear(void *ctx, const struct degraded_notice *notice)
{
	struct heard *heard = ctx;

	assert_true(heard->n < 16);
	heard->notices[heard->n] = *notice;
	snprintf(heard->reasons[heard->n], DEGRADED_REASON_LEN, "%s", notice->reason);
	heard->notices[heard->n].reason = heard->reasons[heard->n];
	heard->n++;
}

static void a_condition_is_said_at_once_then_every_interval(void **state)
{
	struct degraded *degraded = degraded_new(60 * SECOND);
	struct heard heard = {0};

	(void)state;
	assert_non_null(degraded);
	degraded_report(degraded, 1 * SECOND, hear, &heard);
	assert_int_equal(heard.n, 0);
	degraded_set(degraded, DETECTION_SECRET_FILES, DEGRADED_MAPS, "refused: EPERM", 2 * SECOND);
	assert_true(degraded_blind(degraded, DETECTION_SECRET_FILES));
	assert_false(degraded_blind(degraded, DETECTION_CONNECTIONS));
	degraded_report(degraded, 2 * SECOND, hear, &heard);
	assert_int_equal(heard.n, 1);
	assert_int_equal(heard.notices[0].detection, DETECTION_SECRET_FILES);
	assert_int_equal(heard.notices[0].cause, DEGRADED_MAPS);
	assert_false(heard.notices[0].restored);
	assert_string_equal(heard.notices[0].reason, "refused: EPERM");
	assert_int_equal(heard.notices[0].since_ns, 2 * SECOND);
	/* Set again every round: the same condition, not said again before the interval. */
	degraded_set(degraded, DETECTION_SECRET_FILES, DEGRADED_MAPS, "refused: EPERM (2)",
		     30 * SECOND);
	degraded_report(degraded, 30 * SECOND, hear, &heard);
	degraded_report(degraded, 61 * SECOND, hear, &heard);
	assert_int_equal(heard.n, 1);
	degraded_report(degraded, 62 * SECOND, hear, &heard);
	assert_int_equal(heard.n, 2);
	assert_string_equal(heard.notices[1].reason, "refused: EPERM (2)");
	assert_int_equal(heard.notices[1].since_ns, 2 * SECOND);
	degraded_report(degraded, 122 * SECOND, hear, &heard);
	assert_int_equal(heard.n, 3);
	degraded_free(degraded);
}

static void an_end_is_said_once(void **state)
{
	struct degraded *degraded = degraded_new(60 * SECOND);
	struct heard heard = {0};

	(void)state;
	degraded_set(degraded, DETECTION_REPEAT_COUNTS, DEGRADED_MAPS, "batch failed", SECOND);
	degraded_report(degraded, SECOND, hear, &heard);
	degraded_clear(degraded, DETECTION_REPEAT_COUNTS, DEGRADED_MAPS);
	assert_false(degraded_blind(degraded, DETECTION_REPEAT_COUNTS));
	assert_null(degraded_reason(degraded, DETECTION_REPEAT_COUNTS, DEGRADED_MAPS));
	degraded_report(degraded, 2 * SECOND, hear, &heard);
	degraded_report(degraded, 200 * SECOND, hear, &heard);
	assert_int_equal(heard.n, 2);
	assert_true(heard.notices[1].restored);
	assert_string_equal(heard.notices[1].reason, "batch failed");
	/* Cleared again while not held: nothing more. */
	degraded_clear(degraded, DETECTION_REPEAT_COUNTS, DEGRADED_MAPS);
	degraded_report(degraded, 300 * SECOND, hear, &heard);
	assert_int_equal(heard.n, 2);
	degraded_free(degraded);
}

/* A condition that came and went between two reports is still said, then ended. */
static void a_condition_gone_before_a_report_is_said_all_the_same(void **state)
{
	struct degraded *degraded = degraded_new(60 * SECOND);
	struct heard heard = {0};

	(void)state;
	degraded_set(degraded, DETECTION_LOSS_COUNTS, DEGRADED_MAPS, "lookup failed", SECOND);
	degraded_clear(degraded, DETECTION_LOSS_COUNTS, DEGRADED_MAPS);
	degraded_report(degraded, 2 * SECOND, hear, &heard);
	assert_int_equal(heard.n, 2);
	assert_false(heard.notices[0].restored);
	assert_true(heard.notices[1].restored);
	degraded_free(degraded);
}

/* Back before its end was said: one condition from when it began, no end said. */
static void a_condition_back_before_its_end_was_said_continues(void **state)
{
	struct degraded *degraded = degraded_new(60 * SECOND);
	struct heard heard = {0};

	(void)state;
	degraded_set(degraded, DETECTION_SECRET_FILES, DEGRADED_MAPS, "refused", SECOND);
	degraded_report(degraded, SECOND, hear, &heard);
	degraded_clear(degraded, DETECTION_SECRET_FILES, DEGRADED_MAPS);
	degraded_set(degraded, DETECTION_SECRET_FILES, DEGRADED_MAPS, "refused", 5 * SECOND);
	degraded_report(degraded, 6 * SECOND, hear, &heard);
	assert_int_equal(heard.n, 1);
	degraded_report(degraded, 62 * SECOND, hear, &heard);
	assert_int_equal(heard.n, 2);
	assert_false(heard.notices[1].restored);
	assert_int_equal(heard.notices[1].since_ns, SECOND);
	degraded_free(degraded);
}

/* Two causes of one detection are two conditions; the detection is blind while either holds. */
static void causes_are_apart(void **state)
{
	struct degraded *degraded = degraded_new(60 * SECOND);
	struct heard heard = {0};

	(void)state;
	degraded_set(degraded, DETECTION_SECRET_FILES, DEGRADED_PROBES, "no open hook", SECOND);
	degraded_set(degraded, DETECTION_SECRET_FILES, DEGRADED_MAPS, "refused", SECOND);
	degraded_report(degraded, SECOND, hear, &heard);
	assert_int_equal(heard.n, 2);
	degraded_clear(degraded, DETECTION_SECRET_FILES, DEGRADED_MAPS);
	assert_true(degraded_blind(degraded, DETECTION_SECRET_FILES));
	assert_string_equal(degraded_reason(degraded, DETECTION_SECRET_FILES, DEGRADED_PROBES),
			    "no open hook");
	degraded_free(degraded);
}

static void a_long_reason_is_cut_not_overrun(void **state)
{
	struct degraded *degraded = degraded_new(SECOND);
	char reason[2 * DEGRADED_REASON_LEN];

	(void)state;
	memset(reason, 'x', sizeof(reason) - 1);
	reason[sizeof(reason) - 1] = '\0';
	degraded_set(degraded, DETECTION_CGROUPS, DEGRADED_PROBES, reason, SECOND);
	assert_int_equal(strlen(degraded_reason(degraded, DETECTION_CGROUPS, DEGRADED_PROBES)),
			 DEGRADED_REASON_LEN - 1);
	/* Out of range: ignored, not a crash. */
	degraded_set(degraded, DETECTION_COUNT, DEGRADED_PROBES, "x", SECOND);
	degraded_clear(degraded, (enum detection)-1, DEGRADED_PROBES);
	assert_false(degraded_blind(degraded, DETECTION_COUNT));
	degraded_free(degraded);
	degraded_free(NULL);
}

static void detections_have_names_both_ways(void **state)
{
	int i;

	(void)state;
	for (i = 0; i < DETECTION_COUNT; i++) {
		assert_non_null(detection_name((enum detection)i));
		assert_non_null(detection_sees((enum detection)i));
		assert_int_equal(detection_parse(detection_name((enum detection)i)), i);
	}
	assert_string_equal(detection_name(DETECTION_SECRET_FILES), "secret-files");
	assert_int_equal(detection_parse("no-such"), -1);
	assert_int_equal(detection_parse(NULL), -1);
	assert_null(detection_name(DETECTION_COUNT));
	assert_true(detection_critical(DETECTION_SECRET_FILES));
	assert_string_equal(degraded_cause_name(DEGRADED_PROBES), "probes");
	assert_int_equal(degraded_cause_parse("maps"), DEGRADED_MAPS);
	assert_int_equal(degraded_cause_parse("x"), -1);
	assert_null(degraded_cause_name(DEGRADED_CAUSE_COUNT));
	assert_false(detection_critical(DETECTION_CGROUPS));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(a_condition_is_said_at_once_then_every_interval),
		cmocka_unit_test(an_end_is_said_once),
		cmocka_unit_test(a_condition_gone_before_a_report_is_said_all_the_same),
		cmocka_unit_test(a_condition_back_before_its_end_was_said_continues),
		cmocka_unit_test(causes_are_apart),
		cmocka_unit_test(a_long_reason_is_cut_not_overrun),
		cmocka_unit_test(detections_have_names_both_ways),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
