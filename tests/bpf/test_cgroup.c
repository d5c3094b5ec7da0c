// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * bpf/cgroup.bpf.c, load only: the verifier accepts the cgroup hook set
 * (cgroup_mkdir and cgroup_rmdir, BTF tracepoints). Nothing is attached.
 *
 * Not reachable here: BTF tracepoints have no test run, so the records (v2
 * directories only, with their path) are tested end to end by
 * tests/e2e/test_foundation.sh (test_pods_created_after_start_and_both_drivers)
 * and tests/e2e/test_churn.sh.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "skeleton_fixture.h"

static void test_verifier_accepts_the_cgroup_hook_set(void **state)
{
	(void)state;
	assert_int_equal(fixture_load_hook_set("cgroup"), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_verifier_accepts_the_cgroup_hook_set),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
