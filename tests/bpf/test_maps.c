// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * bpf/maps.bpf.c: the linked object's maps and globals. The kernel creates every
 * map of the object (loaded with no program at all), and every program of the
 * object is in exactly one hook set, so that a program added to bpf/ without a
 * load-only test here fails this test.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <cmocka.h>

#include "skeleton_fixture.h"

/* The smallest ring buffer: only the maps' creation is asked for. */
#define PAGE ((uint32_t)sysconf(_SC_PAGESIZE))

static void test_the_kernel_creates_every_map(void **state)
{
	struct accessmon_bpf *skel = fixture_open(PAGE, (uint32_t)getpid());
	struct bpf_map *map;

	(void)state;
	assert_non_null(skel);
	assert_int_equal(fixture_load(skel, "the maps"), 0);
	bpf_object__for_each_map(map, skel->obj)
		assert_true(bpf_map__fd(map) >= 0);
	accessmon_bpf__destroy(skel);
}

static void test_every_program_has_one_hook_set(void **state)
{
	struct accessmon_bpf *skel = fixture_open(PAGE, (uint32_t)getpid());
	struct bpf_program *prog;
	size_t i, n = 0;

	(void)state;
	assert_non_null(skel);
	bpf_object__for_each_program(prog, skel->obj)
	{
		int sets = 0;

		for (i = 0; i < N_HOOK_SETS; i++)
			sets += hook_set_has(&hook_sets[i], bpf_program__name(prog));
		if (sets != 1)
			print_message("  %s is in %d hook sets\n", bpf_program__name(prog), sets);
		assert_int_equal(sets, 1);
		n++;
	}
	accessmon_bpf__destroy(skel);
	assert_true(n > 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_the_kernel_creates_every_map),
		cmocka_unit_test(test_every_program_has_one_hook_set),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
