// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* Unit tests: severity names (event/severity.h), both ways. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "event/severity.h"

static void names_read_back(void **state)
{
	enum severity s;

	(void)state;
	for (s = SEVERITY_LOW; s <= SEVERITY_CRITICAL; s++)
		assert_int_equal(severity_parse(severity_name(s)), s);
	assert_string_equal(severity_name(SEVERITY_LOW), "low");
	assert_string_equal(severity_name(SEVERITY_MEDIUM), "medium");
	assert_string_equal(severity_name(SEVERITY_HIGH), "high");
	assert_string_equal(severity_name(SEVERITY_CRITICAL), "critical");
	assert_string_equal(severity_name(SEVERITY_NONE), "none");
	/* Severities sort by gravity: sinks and overrides compare them. */
	assert_true(SEVERITY_NONE < SEVERITY_LOW && SEVERITY_HIGH < SEVERITY_CRITICAL);
}

static void other_names_are_none(void **state)
{
	(void)state;
	/* "none" is no severity to ask for; names are exact, in lower case. */
	assert_int_equal(severity_parse("none"), SEVERITY_NONE);
	assert_int_equal(severity_parse("High"), SEVERITY_NONE);
	assert_int_equal(severity_parse("high "), SEVERITY_NONE);
	assert_int_equal(severity_parse("crit"), SEVERITY_NONE);
	assert_int_equal(severity_parse(""), SEVERITY_NONE);
	assert_int_equal(severity_parse(NULL), SEVERITY_NONE);
	/* A value outside the enum is named as none, not read past a table. */
	assert_string_equal(severity_name((enum severity)42), "none");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(names_read_back),
		cmocka_unit_test(other_names_are_none),
	};

	return cmocka_run_group_tests_name("severity", tests, NULL, NULL);
}
