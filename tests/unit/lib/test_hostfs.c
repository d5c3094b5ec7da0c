// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* Unit tests: host paths under --host-root (lib/hostfs.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "lib/hostfs.h"

static void host_paths(void **state)
{
	char *p;

	(void)state;
	p = host_path("/", "/etc/kubernetes/azure.json");
	assert_string_equal(p, "/etc/kubernetes/azure.json");
	free(p);
	p = host_path("/host/", "/proc");
	assert_string_equal(p, "/host/proc");
	free(p);
	p = host_path("/tmp/node", "run/containerd");
	assert_string_equal(p, "/tmp/node/run/containerd");
	free(p);
}

/* Slashes on either side of the join are one, however many there were. */
static void slashes_and_roots(void **state)
{
	static const struct {
		const char *root, *path, *joined;
	} cases[] = {
		{"/", "/", "/"},
		{"", "etc/kubernetes", "/etc/kubernetes"},
		{"", "", "/"},
		{"/host///", "///proc/1/cgroup", "/host/proc/1/cgroup"},
		{"/host", "", "/host/"},
		/* Only the join is touched: what is inside either part stays. */
		{"/a//b", "c//d/", "/a//b/c//d/"},
		{"relative", "x", "relative/x"},
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *p = host_path(cases[i].root, cases[i].path);

		assert_non_null(p);
		if (strcmp(p, cases[i].joined) != 0)
			fail_msg("'%s' + '%s': '%s', not '%s'", cases[i].root, cases[i].path, p,
				 cases[i].joined);
		free(p);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(host_paths),
		cmocka_unit_test(slashes_and_roots),
	};

	return cmocka_run_group_tests_name("hostfs", tests, NULL, NULL);
}
