// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * bpf/open.bpf.c, load only: the verifier accepts the open hook set (the syscall
 * tracepoints for open, openat, openat2, creat and open_by_handle_at, and the raw
 * sys_exit hook that replaces them where tracefs or bpf_task_pt_regs is missing),
 * the io_uring program this kernel's io_uring_complete tracepoint calls for, and
 * the ia32 hook. Loading needs no tracefs; nothing is attached.
 *
 * The io_uring programs for the other form of io_uring_complete are fallbacks
 * for older kernels (before 5.18 the tracepoint passes user_data, after it the
 * request): the one that is not this kernel's is refused here by design, and the
 * test says so with the verifier's reason.
 *
 * Not reachable here: BTF and syscall tracepoints have no test run, so what the
 * programs report (watched files by identity, parent directory and path, io_uring
 * opens, ia32 syscalls) is tested end to end by tests/e2e/test_foundation.sh,
 * test_credentials.sh, test_secrets.sh and test_ia32.sh, and on older kernels by
 * tests/vm.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "skeleton_fixture.h"

static void test_verifier_accepts_the_open_hook_set(void **state)
{
	(void)state;
	assert_int_equal(fixture_load_hook_set("open"), 0);
}

static void test_verifier_accepts_this_kernels_io_uring_programs(void **state)
{
	const struct kernel_features *features = fixture_features();
	const char *chosen[2] = {NULL, NULL};
	const struct hook_set *set = hook_set_find("io_uring");
	char reason[256];
	size_t i;

	(void)state;
	assert_non_null(features);
	assert_non_null(set);
	if (!features->io_uring) {
		print_message("  no io_uring here (%s): no io_uring program is wanted\n",
			      features->io_uring_absent_why);
		skip();
	}
	/* As programs.c chooses them (choose_io_uring). */
	if (features->io_uring_form == IO_URING_FORM_REQUEST) {
		chosen[0] = "am_io_uring_complete";
	} else if (features->io_uring_form == IO_URING_FORM_USER_DATA) {
		chosen[0] = "am_io_uring_complete_old";
		if (features->io_uring_create && features->lru_hash)
			chosen[1] = "am_io_uring_create";
	} else {
		print_message("  io_uring_complete is of a form the probes cannot read (%s)\n",
			      io_uring_form_name(features->io_uring_form));
		skip();
	}
	assert_int_equal(fixture_load_only("this kernel's io_uring programs", chosen,
					   chosen[1] ? 2 : 1),
			 0);
	for (i = 0; i < 8 && set->programs[i]; i++) {
		const char *name = set->programs[i];

		if ((chosen[0] && strcmp(name, chosen[0]) == 0) ||
		    (chosen[1] && strcmp(name, chosen[1]) == 0))
			continue;
		if (fixture_try_load(name, reason, sizeof(reason)) == 0)
			print_message("  %s: not this kernel's (io_uring_complete is of the %s "
				      "form), loads all the same\n",
				      name, io_uring_form_name(features->io_uring_form));
		else
			print_message("  %s: a fallback for the other form of io_uring_complete, "
				      "refused here by design: %s\n",
				      name, reason);
	}
}

static void test_verifier_accepts_the_ia32_hook(void **state)
{
	(void)state;
	assert_int_equal(fixture_load_hook_set("ia32"), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_verifier_accepts_the_open_hook_set),
		cmocka_unit_test(test_verifier_accepts_this_kernels_io_uring_programs),
		cmocka_unit_test(test_verifier_accepts_the_ia32_hook),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
