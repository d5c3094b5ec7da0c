// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* Unit tests: the JSON writer and the escaped text writer. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <cjson/cJSON.h>

#include "lib/jsonw.h"
#include "output/output.h"
#include "text_checks.h"

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


/* --- hostile input: what a pod controls, byte by byte --------------------- */

/* JSON text is ASCII control free and harmless too, and parses. */
static cJSON *assert_json_string(const char *json, size_t n)
{
	cJSON *parsed;

	assert_harmless_text(json, n);
	parsed = cJSON_ParseWithLength(json, n);
	assert_non_null(parsed);
	assert_true(cJSON_IsString(parsed));
	return parsed;
}

/* Written as JSON and as text: JSON reads back as `expected`, text is exactly `text`. */
static void check_both(const char *in, size_t n, const char *json, const char *expected,
		       const char *text)
{
	struct jsonw w;
	cJSON *parsed;

	jsonw_init(&w);
	jsonw_string_n(&w, in, n);
	if (json)
		assert_string_equal(w.buf, json);
	parsed = assert_json_string(w.buf, w.len);
	if (expected)
		assert_string_equal(parsed->valuestring, expected);
	cJSON_Delete(parsed);
	jsonw_reset(&w);
	textw_escaped(&w, in, n);
	assert_string_equal(w.buf, text);
	assert_harmless_text(w.buf, w.len);
	jsonw_release(&w);
}

static void every_c0_control_and_del(void **state)
{
	char in[4], json[16], text[16];
	int c;

	(void)state;
	for (c = 1; c <= 0x7f; c++) {
		if (c >= 0x20 && c < 0x7f)
			continue;
		snprintf(in, sizeof(in), "a%cb", c);
		switch (c) {
		case '\n':
			snprintf(json, sizeof(json), "\"a\\nb\"");
			break;
		case '\t':
			snprintf(json, sizeof(json), "\"a\\tb\"");
			break;
		case '\r':
			snprintf(json, sizeof(json), "\"a\\rb\"");
			break;
		default:
			snprintf(json, sizeof(json), "\"a\\u%04xb\"", c);
		}
		snprintf(text, sizeof(text), "a\\x%02xb", c);
		check_both(in, 3, json, in, text);
	}
}

/* U+0080..U+009F are valid UTF-8 and still controls: \u-escaped, read back the same. */
static void every_c1_control_in_utf8(void **state)
{
	char in[3], json[16], text[16];
	int c;

	(void)state;
	for (c = 0x80; c <= 0x9f; c++) {
		in[0] = (char)0xc2;
		in[1] = (char)c;
		in[2] = '\0';
		snprintf(json, sizeof(json), "\"\\u%04x\"", c);
		snprintf(text, sizeof(text), "\\xc2\\x%02x", c);
		check_both(in, 2, json, in, text);
	}
	/* U+00A0 is the first one past them, and passes. */
	check_both("\xc2\xa0", 2, "\"\xc2\xa0\"", "\xc2\xa0", "\xc2\xa0");
}

/* A lone byte 0x80..0xff is never valid UTF-8: U+FFFD in JSON, \xNN in text. */
static void every_raw_high_byte(void **state)
{
	char in[2], text[8];
	int c;

	(void)state;
	for (c = 0x80; c <= 0xff; c++) {
		in[0] = (char)c;
		in[1] = '\0';
		snprintf(text, sizeof(text), "\\x%02x", c);
		check_both(in, 1, "\"\\ufffd\"", "\xef\xbf\xbd", text);
	}
}

static void invalid_sequences(void **state)
{
	(void)state;
	/* Cut short at the end of the value. */
	check_both("a\xe2\x82", 3, "\"a\\ufffd\\ufffd\"", NULL, "a\\xe2\\x82");
	check_both("\xf0\x9f\x94", 3, "\"\\ufffd\\ufffd\\ufffd\"", NULL,
		   "\\xf0\\x9f\\x94");
	check_both("\xc3", 1, "\"\\ufffd\"", NULL, "\\xc3");
	/* Overlong forms of '/' and of NUL. */
	check_both("\xc0\xaf", 2, "\"\\ufffd\\ufffd\"", NULL, "\\xc0\\xaf");
	check_both("\xe0\x80\xaf", 3, "\"\\ufffd\\ufffd\\ufffd\"", NULL,
		   "\\xe0\\x80\\xaf");
	check_both("\xf0\x80\x80\xaf", 4, "\"\\ufffd\\ufffd\\ufffd\\ufffd\"", NULL,
		   "\\xf0\\x80\\x80\\xaf");
	check_both("\xc0\x80", 2, "\"\\ufffd\\ufffd\"", NULL, "\\xc0\\x80");
	/* UTF-16 surrogates, encoded as if they were characters. */
	check_both("\xed\xa0\x80", 3, "\"\\ufffd\\ufffd\\ufffd\"", NULL,
		   "\\xed\\xa0\\x80");
	check_both("\xed\xbf\xbf", 3, "\"\\ufffd\\ufffd\\ufffd\"", NULL,
		   "\\xed\\xbf\\xbf");
	/* Past U+10FFFF. */
	check_both("\xf4\x90\x80\x80", 4, "\"\\ufffd\\ufffd\\ufffd\\ufffd\"", NULL,
		   "\\xf4\\x90\\x80\\x80");
	check_both("\xf5\x80\x80\x80", 4, "\"\\ufffd\\ufffd\\ufffd\\ufffd\"", NULL,
		   "\\xf5\\x80\\x80\\x80");
	/* The last ones that are valid pass whole. */
	check_both("\xf4\x8f\xbf\xbf", 4, "\"\xf4\x8f\xbf\xbf\"", "\xf4\x8f\xbf\xbf",
		   "\xf4\x8f\xbf\xbf");
	check_both("\xed\x9f\xbf\xee\x80\x80", 6, "\"\xed\x9f\xbf\xee\x80\x80\"",
		   "\xed\x9f\xbf\xee\x80\x80", "\xed\x9f\xbf\xee\x80\x80");
}

/* A NUL inside a counted value is written; a C string ends at its first NUL. */
static void embedded_nul(void **state)
{
	struct jsonw w;
	cJSON *parsed;

	(void)state;
	check_both("a\0b", 3, "\"a\\u0000b\"", NULL, "a\\x00b");
	jsonw_init(&w);
	jsonw_string(&w, "a\0b");
	assert_string_equal(w.buf, "\"a\"");
	parsed = cJSON_Parse("\"a\\u0000b\"");
	/* Whatever a parser makes of U+0000, the text before it is intact. */
	if (parsed)
		assert_memory_equal(parsed->valuestring, "a", 1);
	cJSON_Delete(parsed);
	jsonw_release(&w);
}

static void terminal_escape_sequences(void **state)
{
	static const char *const sequences[] = {
		"\x1b[2J\x1b[H",			 /* CSI: clear the screen */
		"\x1b]0;pwned\x07",		 /* OSC: the window title, ended by BEL */
		"\x1b]8;;http://x/\x1b\\link\x1b]8;;\x1b\\", /* OSC 8 hyperlink, ended by ST */
		"\x1bP+q544e\x1b\\",		 /* DCS */
		"\x9b""31m",			 /* a raw 8-bit CSI */
		"\xc2\x9b""31m",			 /* CSI as U+009B */
		"\xc2\x9d""0;t\xc2\x9c",		 /* OSC and ST as U+009D, U+009C */
		"\x1b[6n",			 /* a status report: the terminal answers */
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(sequences) / sizeof(sequences[0]); i++) {
		struct jsonw w;
		cJSON *parsed;

		jsonw_init(&w);
		jsonw_string(&w, sequences[i]);
		parsed = assert_json_string(w.buf, w.len);
		if (valid_utf8(sequences[i], strlen(sequences[i])))
			assert_string_equal(parsed->valuestring, sequences[i]);
		cJSON_Delete(parsed);
		jsonw_reset(&w);
		textw_escaped(&w, sequences[i], strlen(sequences[i]));
		assert_harmless_text(w.buf, w.len);
		assert_null(strchr(w.buf, '\x1b'));
		jsonw_release(&w);
	}
}

/* Bidirectional controls and separators: escaped in both, and JSON reads them back. */
static void bidi_controls_and_separators(void **state)
{
	(void)state;
	/* "exe" shown as "exe.txt" reversed: U+202E RIGHT-TO-LEFT OVERRIDE. */
	check_both("a\xe2\x80\xaetxt.exe", 11, "\"a\\u202etxt.exe\"", "a\xe2\x80\xaetxt.exe",
		   "a\\xe2\\x80\\xaetxt.exe");
	check_both("\xe2\x81\xa6x\xe2\x81\xa9", 7, "\"\\u2066x\\u2069\"",
		   "\xe2\x81\xa6x\xe2\x81\xa9", "\\xe2\\x81\\xa6x\\xe2\\x81\\xa9");
	check_both("1\xe2\x80\xa8" "2\xe2\x80\xa9", 8, "\"1\\u20282\\u2029\"",
		   "1\xe2\x80\xa8" "2\xe2\x80\xa9", "1\\xe2\\x80\\xa82\\xe2\\x80\\xa9");
	check_both("\xe2\x80\x8f\xd8\x9c", 5, "\"\\u200f\\u061c\"", "\xe2\x80\x8f\xd8\x9c",
		   "\\xe2\\x80\\x8f\\xd8\\x9c");
	/* Neighbours that are plain text pass: U+2027, U+202F, U+2065, U+206A. */
	check_both("\xe2\x80\xa7\xe2\x80\xaf", 6, "\"\xe2\x80\xa7\xe2\x80\xaf\"", NULL,
		   "\xe2\x80\xa7\xe2\x80\xaf");
	check_both("\xe2\x81\xa5\xe2\x81\xaa", 6, "\"\xe2\x81\xa5\xe2\x81\xaa\"", NULL,
		   "\xe2\x81\xa5\xe2\x81\xaa");
}

/* A small generator, the same sequence on every run. */
static uint32_t next_random(uint32_t *seed)
{
	*seed ^= *seed << 13;
	*seed ^= *seed >> 17;
	*seed ^= *seed << 5;
	return *seed;
}

/* Bytes a hostile value is made of: controls, lead and continuation bytes, text. */
static char random_hostile_byte(uint32_t *seed)
{
	static const unsigned char alphabet[] = {
		0x00, 0x07, 0x0a, 0x1b, 0x22, 0x5b, 0x5c, 0x5d, 0x7f, 0x80, 0x9b, 0x9f, 0xa0,
		0xa8, 0xae, 0xbf, 0xc0, 0xc2, 0xd8, 0xe0, 0xe2, 0xed, 0xef, 0xf0, 0xf4, 0xf5,
		0xff, 'a', 'z', '0', ';', '/', 0x80, 0x81, 0x9c, 0xa6};
	uint32_t r = next_random(seed);

	if (r % 4 == 0)
		return (char)(r >> 8);
	return (char)alphabet[(r >> 8) % sizeof(alphabet)];
}

/*
 * Many short hostile values: JSON always parses, and reads back the same whenever
 * the value was valid UTF-8 without NUL; text is always harmless.
 */
static void random_hostile_values(void **state)
{
	uint32_t seed = 0x2545f491;
	char in[16];
	struct jsonw w;
	int round;

	(void)state;
	jsonw_init(&w);
	for (round = 0; round < 20000; round++) {
		size_t n = next_random(&seed) % sizeof(in), i;
		cJSON *parsed;

		for (i = 0; i < n; i++)
			in[i] = random_hostile_byte(&seed);
		jsonw_reset(&w);
		jsonw_string_n(&w, in, n);
		parsed = assert_json_string(w.buf, w.len);
		if (valid_utf8(in, n) && !memchr(in, 0, n)) {
			assert_int_equal(strlen(parsed->valuestring), n);
			assert_memory_equal(parsed->valuestring, in, n);
		}
		cJSON_Delete(parsed);
		jsonw_reset(&w);
		textw_escaped(&w, in, n);
		assert_harmless_text(w.buf, w.len);
	}
	jsonw_release(&w);
}

/* 1 MiB of hostile bytes, and 1 MiB of valid text with controls in it. */
static void giant_values(void **state)
{
	size_t n = 1 << 20, i;
	uint32_t seed = 7;
	char *in = malloc(n);
	struct jsonw w;
	cJSON *parsed;

	(void)state;
	assert_non_null(in);
	for (i = 0; i < n; i++)
		in[i] = random_hostile_byte(&seed);
	jsonw_init(&w);
	jsonw_string_n(&w, in, n);
	assert_false(w.failed);
	cJSON_Delete(assert_json_string(w.buf, w.len));
	jsonw_reset(&w);
	textw_escaped(&w, in, n);
	assert_false(w.failed);
	assert_harmless_text(w.buf, w.len);

	for (i = 0; i + 3 <= n; i += 3)
		memcpy(in + i, i % 2 ? "\xe2\x80\xae" : "x\x1b\n", 3);
	for (; i < n; i++)
		in[i] = 'y';
	jsonw_reset(&w);
	jsonw_string_n(&w, in, n);
	parsed = assert_json_string(w.buf, w.len);
	assert_int_equal(strlen(parsed->valuestring), n);
	assert_memory_equal(parsed->valuestring, in, n);
	cJSON_Delete(parsed);
	free(in);
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
		cmocka_unit_test(every_c0_control_and_del),
		cmocka_unit_test(every_c1_control_in_utf8),
		cmocka_unit_test(every_raw_high_byte),
		cmocka_unit_test(invalid_sequences),
		cmocka_unit_test(embedded_nul),
		cmocka_unit_test(terminal_escape_sequences),
		cmocka_unit_test(bidi_controls_and_separators),
		cmocka_unit_test(random_hostile_values),
		cmocka_unit_test(giant_values),
	};

	return cmocka_run_group_tests_name("jsonw", tests, NULL, NULL);
}
