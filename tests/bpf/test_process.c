// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * bpf/process.bpf.c, load only: the verifier accepts the process hook set (exec,
 * fork and exit, BTF tracepoints). Nothing is attached.
 *
 * Not reachable here: BTF tracepoints have no test run (their arguments are the
 * kernel's own task_struct and linux_binprm), so the records (a new process, not
 * a thread; the last thread's exit) are tested end to end by every e2e test that
 * names a process, first by tests/e2e/test_foundation.sh and test_attribution.sh.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "skeleton_fixture.h"

static void test_verifier_accepts_the_process_hook_set(void **state)
{
	(void)state;
	assert_int_equal(fixture_load_hook_set("process"), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_verifier_accepts_the_process_hook_set),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
