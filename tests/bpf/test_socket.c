// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * bpf/socket.bpf.c, load only: the verifier accepts the socket hook set (the
 * sys_exit_socket tracepoint, chosen with the open syscall tracepoints). Loading
 * needs no tracefs; nothing is attached.
 *
 * Not reachable here: syscall tracepoints have no test run, so which sockets are
 * reported (packet sockets, raw IP sockets; not netlink's) is tested end to end
 * by tests/e2e/test_evasion.sh (test_packets_to_imds_and_raw_sockets) and
 * tests/e2e/test_ia32.sh (test_ia32_raw_sockets_through_socket_and_socketcall).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "skeleton_fixture.h"

static void test_verifier_accepts_the_socket_hook_set(void **state)
{
	(void)state;
	assert_int_equal(fixture_load_hook_set("socket"), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_verifier_accepts_the_socket_hook_set),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
