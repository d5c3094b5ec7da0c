// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* Unit tests: the JSON writer and the escaped text writer. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include <cjson/cJSON.h>

#include "jsonw.h"
#include "output.h"

static void nesting_and_commas(void **state)
{
	struct jsonw w;

	(void)state;
	jsonw_init(&w);
	jsonw_object_begin(&w);
	jsonw_member_string(&w, "a", "x");
	jsonw_member_uint(&w, "b", 18446744073709551615ull);
	jsonw_member_int(&w, "c", -5);
	jsonw_key(&w, "d");
	jsonw_array_begin(&w);
	jsonw_bool(&w, true);
	jsonw_null(&w);
	jsonw_object_begin(&w);
	jsonw_object_end(&w);
	jsonw_array_end(&w);
	jsonw_member_string(&w, "e", NULL);
	jsonw_object_end(&w);
	assert_false(w.failed);
	assert_string_equal(w.buf, "{\"a\":\"x\",\"b\":18446744073709551615,\"c\":-5,"
				   "\"d\":[true,null,{}],\"e\":null}");
	jsonw_release(&w);
}

static void escapes_hostile_strings(void **state)
{
	const char hostile[] = "q\"b\\n\nt\tr\re\x1b[31m\x7f\x01";
	struct jsonw w;
	cJSON *parsed;

	(void)state;
	jsonw_init(&w);
	jsonw_string_n(&w, hostile, sizeof(hostile) - 1);
	assert_string_equal(w.buf, "\"q\\\"b\\\\n\\nt\\tr\\re\\u001b[31m\\u007f\\u0001\"");
	/* What we write, a JSON parser reads back as the same bytes. */
	parsed = cJSON_Parse(w.buf);
	assert_non_null(parsed);
	assert_string_equal(parsed->valuestring, hostile);
	cJSON_Delete(parsed);
	jsonw_release(&w);
}

static void embedded_nul_and_invalid_utf8(void **state)
{
	const char bytes[] = {'a', 0, 'b', (char)0xff, (char)0xc3, (char)0xa9, (char)0xe2,
			      (char)0x82, (char)0xc0, (char)0xaf, (char)0xed, (char)0xa0,
			      (char)0x80};
	struct jsonw w;

	(void)state;
	jsonw_init(&w);
	jsonw_string_n(&w, bytes, sizeof(bytes));
	/* NUL escaped; 0xff, truncated and overlong sequences and a surrogate replaced. */
	assert_string_equal(w.buf, "\"a\\u0000b\\ufffd\xc3\xa9\\ufffd\\ufffd\\ufffd\\ufffd"
				   "\\ufffd\\ufffd\\ufffd\"");
	jsonw_release(&w);
}

static void valid_utf8_passes(void **state)
{
	const char text[] = "k\xc3\xa9y \xe2\x82\xac \xf0\x9f\x94\x91";
	struct jsonw w;

	(void)state;
	jsonw_init(&w);
	jsonw_string(&w, text);
	assert_int_equal(w.len, strlen(text) + 2);
	assert_memory_equal(w.buf + 1, text, strlen(text));
	jsonw_release(&w);
}

static void text_escapes_terminal_controls(void **state)
{
	const char text[] = "ok \x1b]0;pwned\x07 \xc2\x9b 1m \xc3\xa9 \\ \xff";
	struct jsonw w;

	(void)state;
	jsonw_init(&w);
	textw_escaped(&w, text, sizeof(text) - 1);
	assert_string_equal(w.buf, "ok \\x1b]0;pwned\\x07 \\xc2\\x9b 1m \xc3\xa9 \\x5c \\xff");
	assert_null(strchr(w.buf, '\x1b'));
	jsonw_release(&w);
}

static void reset_reuses_buffer(void **state)
{
	struct jsonw w;

	(void)state;
	jsonw_init(&w);
	jsonw_object_begin(&w);
	jsonw_member_uint(&w, "n", 1);
	jsonw_object_end(&w);
	jsonw_reset(&w);
	jsonw_object_begin(&w);
	jsonw_member_uint(&w, "n", 2);
	jsonw_object_end(&w);
	assert_string_equal(w.buf, "{\"n\":2}");
	jsonw_release(&w);
}

static void numbers_at_their_limits(void **state)
{
	struct jsonw w;

	(void)state;
	jsonw_init(&w);
	jsonw_array_begin(&w);
	jsonw_uint(&w, 0);
	jsonw_uint(&w, 18446744073709551615ull);
	jsonw_int(&w, 0);
	jsonw_int(&w, -1);
	jsonw_int(&w, INT64_MIN);
	jsonw_int(&w, INT64_MAX);
	jsonw_array_end(&w);
	assert_string_equal(w.buf, "[0,18446744073709551615,0,-1,-9223372036854775808,"
				   "9223372036854775807]");
	jsonw_release(&w);
}

static void times_in_rfc3339(void **state)
{
	char out[RFC3339_LEN];

	(void)state;
	format_rfc3339(0, out);
	assert_string_equal(out, "1970-01-01T00:00:00.000000000Z");
	format_rfc3339(1795775130123456789ull, out);
	assert_string_equal(out, "2026-11-27T10:25:30.123456789Z");
	/* The same second again (the cached date), then the next one. */
	format_rfc3339(1795775130000000001ull, out);
	assert_string_equal(out, "2026-11-27T10:25:30.000000001Z");
	format_rfc3339(1795775131999999999ull, out);
	assert_string_equal(out, "2026-11-27T10:25:31.999999999Z");
	format_rfc3339(18446744073709551615ull, out);
	assert_string_equal(out, "2554-07-21T23:34:33.709551615Z");
	/* Seconds that alternate (a record's time, its process's start) and a fifth. */
	for (int i = 0; i < 3; i++) {
		format_rfc3339(1795775130000000007ull, out);
		assert_string_equal(out, "2026-11-27T10:25:30.000000007Z");
		format_rfc3339(1000000000ull, out);
		assert_string_equal(out, "1970-01-01T00:00:01.000000000Z");
		format_rfc3339(1795775190500000000ull, out);
		assert_string_equal(out, "2026-11-27T10:26:30.500000000Z");
	}
}

/* A key from outside (a pod's label) is escaped; the program's own go as they are. */
static void keys_from_outside_are_escaped(void **state)
{
	struct jsonw w;
	cJSON *root;

	(void)state;
	jsonw_init(&w);
	jsonw_object_begin(&w);
	jsonw_member_string(&w, "app", "x");
	jsonw_member_string(&w, "evil\",\"injected\":\"1\n", "y");
	jsonw_object_end(&w);
	assert_string_equal(w.buf, "{\"app\":\"x\",\"evil\\\",\\\"injected\\\":\\\"1\\n\":\"y\"}");
	root = cJSON_Parse(w.buf);
	assert_non_null(root);
	assert_int_equal(cJSON_GetArraySize(root), 2);
	assert_string_equal(cJSON_GetObjectItemCaseSensitive(root, "evil\",\"injected\":\"1\n")->valuestring,
			    "y");
	cJSON_Delete(root);
	jsonw_release(&w);
}

static void ipv4_and_ipv6_addresses(void **state)
{
	const uint8_t v4[16] = {169, 254, 169, 254}, zero[16] = {0}, v4b[16] = {10, 0, 99, 1};
	const uint8_t v6[16] = {0xfd, 0, [15] = 0x10};
	char out[48];

	(void)state;
	format_ip(4, v4, out);
	assert_string_equal(out, "169.254.169.254");
	format_ip(4, zero, out);
	assert_string_equal(out, "0.0.0.0");
	format_ip(4, v4b, out);
	assert_string_equal(out, "10.0.99.1");
	format_ip(6, v6, out);
	assert_string_equal(out, "fd00::10");
}

static void too_deep_fails(void **state)
{
	struct jsonw w;
	int i;

	(void)state;
	jsonw_init(&w);
	for (i = 0; i < JSONW_MAX_DEPTH + 2; i++)
		jsonw_array_begin(&w);
	assert_true(w.failed);
	jsonw_release(&w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(nesting_and_commas),
		cmocka_unit_test(escapes_hostile_strings),
		cmocka_unit_test(embedded_nul_and_invalid_utf8),
		cmocka_unit_test(valid_utf8_passes),
		cmocka_unit_test(text_escapes_terminal_controls),
		cmocka_unit_test(reset_reuses_buffer),
		cmocka_unit_test(too_deep_fails),
		cmocka_unit_test(numbers_at_their_limits),
		cmocka_unit_test(times_in_rfc3339),
		cmocka_unit_test(keys_from_outside_are_escaped),
		cmocka_unit_test(ipv4_and_ipv6_addresses),
	};

	return cmocka_run_group_tests_name("jsonw", tests, NULL, NULL);
}
