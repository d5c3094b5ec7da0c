// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* Unit tests: sizes as options and --sink specs take them (lib/size.c). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "lib/size.h"

static void bytes_and_suffixes(void **state)
{
	static const struct {
		const char *text;
		uint64_t bytes;
	} sizes[] = {
		{"0", 0},
		{"65536", 65536},
		{"64K", 65536},
		{"64k", 65536},
		{"4M", 4ull << 20},
		{"4m", 4ull << 20},
		{"2G", 2ull << 30},
		{"2g", 2ull << 30},
		{"18446744073709551615", UINT64_MAX},
		{"17179869183G", 17179869183ull << 30},
	};
	uint64_t out;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		out = 1;
		assert_int_equal(parse_size(sizes[i].text, &out), 0);
		assert_int_equal(out, sizes[i].bytes);
	}
}

static void not_sizes(void **state)
{
	static const char *const bad[] = {
		"", "K", "-1", "-1K", "4T", "4KB", "4 K", "4K ", "0x10", "1e6", "18446744073709551616",
		"17179869184G", "17592186044416M", "18014398509481984K", " 4", " -1", "+4",
	};
	uint64_t out = 7;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(parse_size(bad[i], &out), -EINVAL);
		/* Nothing written on an error. */
		assert_int_equal(out, 7);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(bytes_and_suffixes),
		cmocka_unit_test(not_sizes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
