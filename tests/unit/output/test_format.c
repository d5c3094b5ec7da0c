// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * Unit tests: values as records write them (output/format.c): RFC 3339 times,
 * whose date is kept for a few recent seconds (a stale slot must never show),
 * addresses, protocol and socket names.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "output/output.h"

static void times_in_utc_with_nanoseconds(void **state)
{
	char out[RFC3339_LEN];

	(void)state;
	format_rfc3339(0, out);
	assert_string_equal(out, "1970-01-01T00:00:00.000000000Z");
	format_rfc3339(1795860245123456789ull, out);
	assert_string_equal(out, "2026-11-28T10:04:05.123456789Z");
	/* The last nanosecond of a second, then the first of the next: the date moves. */
	format_rfc3339(1795860245999999999ull, out);
	assert_string_equal(out, "2026-11-28T10:04:05.999999999Z");
	format_rfc3339(1795860246000000001ull, out);
	assert_string_equal(out, "2026-11-28T10:04:06.000000001Z");
	/* A leap day, and the year's last second. */
	format_rfc3339(1709164800000000000ull, out);
	assert_string_equal(out, "2024-02-29T00:00:00.000000000Z");
	format_rfc3339(1735689599000000007ull, out);
	assert_string_equal(out, "2024-12-31T23:59:59.000000007Z");
}

static void more_seconds_than_the_kept_slots(void **state)
{
	static const struct {
		uint64_t ns;
		const char *text;
	} times[] = {
		{1000000000ull, "1970-01-01T00:00:01.000000000Z"},
		{2000000005ull, "1970-01-01T00:00:02.000000005Z"},
		{3000000000ull, "1970-01-01T00:00:03.000000000Z"},
		{4000000000ull, "1970-01-01T00:00:04.000000000Z"},
		{5000000000ull, "1970-01-01T00:00:05.000000000Z"},
		{86400000000000ull, "1970-01-02T00:00:00.000000000Z"},
	};
	char out[RFC3339_LEN];
	size_t round, i;

	(void)state;
	/* Six seconds in turn through four kept dates, twice: each is right every time. */
	for (round = 0; round < 2; round++)
		for (i = 0; i < sizeof(times) / sizeof(times[0]); i++) {
			format_rfc3339(times[i].ns, out);
			assert_string_equal(out, times[i].text);
		}
}

static void addresses(void **state)
{
	static const uint8_t imds[16] = {169, 254, 169, 254};
	static const uint8_t zeros[16] = {0};
	static const uint8_t ten[16] = {10, 0, 100, 9};
	static const uint8_t v6[16] = {0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10};
	static const uint8_t mapped[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 1, 2, 3, 4};
	char out[48];

	(void)state;
	format_ip(4, imds, out);
	assert_string_equal(out, "169.254.169.254");
	format_ip(4, zeros, out);
	assert_string_equal(out, "0.0.0.0");
	format_ip(4, ten, out);
	assert_string_equal(out, "10.0.100.9");
	format_ip(6, v6, out);
	assert_string_equal(out, "fd00::10");
	format_ip(6, mapped, out);
	assert_string_equal(out, "::ffff:1.2.3.4");
}

static void protocol_and_socket_names(void **state)
{
	(void)state;
	assert_string_equal(protocol_name(6), "tcp");
	assert_string_equal(protocol_name(17), "udp");
	assert_string_equal(protocol_name(1), "icmp");
	assert_string_equal(protocol_name(58), "icmpv6");
	assert_string_equal(protocol_name(132), "sctp");
	assert_string_equal(protocol_name(255), "other");
	assert_string_equal(socket_family_name(2), "inet");
	assert_string_equal(socket_family_name(10), "inet6");
	assert_string_equal(socket_family_name(17), "packet");
	assert_string_equal(socket_family_name(1), "other");
	assert_string_equal(socket_type_name(1), "stream");
	assert_string_equal(socket_type_name(2), "dgram");
	assert_string_equal(socket_type_name(3), "raw");
	assert_string_equal(socket_type_name(10), "packet");
	assert_string_equal(socket_type_name(5), "other");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(times_in_utc_with_nanoseconds),
		cmocka_unit_test(more_seconds_than_the_kept_slots),
		cmocka_unit_test(addresses),
		cmocka_unit_test(protocol_and_socket_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
