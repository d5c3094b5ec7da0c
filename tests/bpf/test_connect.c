// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * bpf/connect.bpf.c, below the end-to-end tests: the verifier accepts the connect
 * hook set (connect4, connect6, sendmsg4, sendmsg6) as the monitor builds it on
 * this kernel, and as it builds it where the kernel lets the hooks neither read
 * the current task nor use socket storage (am_connect_parent and am_connect_marks
 * off: the other branch of each is then what the verifier sees).
 *
 * Not reachable here: the hooks' decisions (which socket is marked for capture,
 * what is reported and what only counted as a repeat) need a test run of a
 * cgroup sock_addr program, which the kernel may not offer; the test asks the
 * kernel and says which. Without it they are tested end to end by
 * tests/e2e/test_foundation.sh (connects and sends, IPv6 and IPv4-mapped),
 * tests/e2e/test_volume.sh (repeats counted, IMDS always reported) and
 * tests/e2e/test_destinations.sh (the marks: requests, TLS, DNS captured).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <linux/bpf.h>
#include <netinet/in.h>

#include "skeleton_fixture.h"

/* The kernel's "no such operation" for a program type without a test run. */
#define ENOTSUPP_KERNEL 524

static void load_connect_set(bool parent, bool marks)
{
	const struct hook_set *set = hook_set_find("connect");
	struct accessmon_bpf *skel = fixture_open(4096, (uint32_t)getpid());
	size_t i;

	assert_non_null(set);
	assert_non_null(skel);
	skel->rodata->am_connect_parent = parent;
	skel->rodata->am_connect_marks = marks;
	for (i = 0; i < 8 && set->programs[i]; i++)
		assert_int_equal(fixture_autoload(skel, set->programs[i]), 0);
	assert_int_equal(fixture_load(skel, "the connect hook set"), 0);
	for (i = 0; i < 8 && set->programs[i]; i++) {
		struct bpf_program *prog;

		prog = bpf_object__find_program_by_name(skel->obj, set->programs[i]);
		assert_true(bpf_program__fd(prog) >= 0);
	}
	accessmon_bpf__destroy(skel);
}

static void test_verifier_accepts_the_connect_hook_set(void **state)
{
	const struct kernel_features *features = fixture_features();

	(void)state;
	assert_non_null(features);
	load_connect_set(features->sock_addr_current_task, features->sock_addr_sk_storage);
}

/* The build for kernels whose sock_addr programs may not read the task or mark sockets. */
static void test_verifier_accepts_the_connect_hook_set_without_task_or_marks(void **state)
{
	(void)state;
	load_connect_set(false, false);
}

/*
 * Asks the kernel for a test run of connect4 (a TCP connect to IMDS's port 80).
 * Where it has one, the hook allows the connect; where not, the test says so.
 */
static void test_connect_decisions_by_test_run(void **state)
{
	struct accessmon_bpf *skel = fixture_open(4096, (uint32_t)getpid());
	struct bpf_sock_addr ctx = {
		.user_family = AF_INET,
		.user_ip4 = htonl(0xa9fea9feu), /* 169.254.169.254 */
		.user_port = htons(80),
		.family = AF_INET,
		.type = SOCK_STREAM,
		.protocol = IPPROTO_TCP,
	};
	LIBBPF_OPTS(bpf_test_run_opts, opts, .ctx_in = &ctx, .ctx_size_in = sizeof(ctx));
	int rc;

	(void)state;
	assert_non_null(skel);
	assert_int_equal(fixture_autoload(skel, "am_connect4"), 0);
	if (fixture_load(skel, "am_connect4")) {
		accessmon_bpf__destroy(skel);
		fail_msg("am_connect4 did not load");
	}
	rc = bpf_prog_test_run_opts(bpf_program__fd(skel->progs.am_connect4), &opts);
	accessmon_bpf__destroy(skel);
	if (rc == -ENOTSUPP_KERNEL || rc == -EOPNOTSUPP) {
		print_message("  not reachable by BPF_PROG_TEST_RUN: this kernel has no test run "
			      "for cgroup sock_addr programs (%d); the connect hooks' decisions "
			      "are covered end to end by tests/e2e/test_foundation.sh, "
			      "test_volume.sh and test_destinations.sh\n",
			      rc);
		skip();
	}
	assert_int_equal(rc, 0);
	/* The hook observes: it never refuses a connect. */
	assert_int_equal(opts.retval, 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_verifier_accepts_the_connect_hook_set),
		cmocka_unit_test(test_verifier_accepts_the_connect_hook_set_without_task_or_marks),
		cmocka_unit_test(test_connect_decisions_by_test_run),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
