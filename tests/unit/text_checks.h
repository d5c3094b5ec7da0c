/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * Unit-test helper: strict UTF-8 and "harmless to a terminal" checks for text the
 * monitor writes (JSON, text lines, error messages). Include after <cmocka.h>.
 */
#ifndef ACCESSMON_TEST_TEXT_CHECKS_H
#define ACCESSMON_TEST_TEXT_CHECKS_H

#include <stdbool.h>
#include <stddef.h>

/*
 * The code point of the strict UTF-8 sequence at s, its length in *len; -1 when
 * invalid. Written apart from jsonw.c so the tests do not trust what they test.
 */
static inline long strict_utf8(const unsigned char *s, size_t n, size_t *len)
{
	static const unsigned long min[5] = {0, 0, 0x80, 0x800, 0x10000};
	unsigned long cp;
	size_t i;

	if (s[0] < 0x80) {
		*len = 1;
		return s[0];
	}
	if ((s[0] & 0xe0) == 0xc0) {
		*len = 2;
		cp = s[0] & 0x1f;
	} else if ((s[0] & 0xf0) == 0xe0) {
		*len = 3;
		cp = s[0] & 0x0f;
	} else if ((s[0] & 0xf8) == 0xf0) {
		*len = 4;
		cp = s[0] & 0x07;
	} else {
		return -1;
	}
	if (*len > n)
		return -1;
	for (i = 1; i < *len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return -1;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if (cp < min[*len] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return -1;
	return (long)cp;
}

static inline bool valid_utf8(const char *s, size_t n)
{
	size_t i = 0, len;

	while (i < n) {
		if (strict_utf8((const unsigned char *)s + i, n - i, &len) < 0)
			return false;
		i += len;
	}
	return true;
}

/* Nothing a terminal acts on, nothing that reorders or breaks the line. */
static inline bool harmless_code_point(long cp)
{
	return cp >= 0x20 && cp != 0x7f && !(cp >= 0x80 && cp <= 0x9f) && cp != 0x61c &&
	       cp != 0x200e && cp != 0x200f && !(cp >= 0x2028 && cp <= 0x202e) &&
	       !(cp >= 0x2066 && cp <= 0x2069);
}

static inline void assert_harmless_text(const char *s, size_t n)
{
	size_t i = 0, len = 1;
	long cp;

	while (i < n) {
		cp = strict_utf8((const unsigned char *)s + i, n - i, &len);
		if (cp < 0 || !harmless_code_point(cp))
			fail_msg("byte %zu of the text (0x%02x) is not harmless", i,
				 (unsigned char)s[i]);
		i += len;
	}
}

#endif /* ACCESSMON_TEST_TEXT_CHECKS_H */
