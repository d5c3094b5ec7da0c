// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* Streaming JSON and escaped-text writer; see jsonw.h. */
#include "lib/jsonw.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void jsonw_init(struct jsonw *w)
{
	memset(w, 0, sizeof(*w));
	w->first[0] = true;
}

void jsonw_reset(struct jsonw *w)
{
	w->len = 0;
	w->failed = false;
	w->depth = 0;
	w->first[0] = true;
	w->after_key = false;
}

void jsonw_release(struct jsonw *w)
{
	free(w->buf);
	jsonw_init(w);
}

static bool reserve(struct jsonw *w, size_t extra)
{
	size_t need = w->len + extra + 1;
	char *grown;
	size_t cap;

	if (need <= w->cap)
		return true;
	cap = w->cap ? w->cap : 512;
	while (cap < need)
		cap *= 2;
	grown = realloc(w->buf, cap);
	if (!grown) {
		w->failed = true;
		return false;
	}
	w->buf = grown;
	w->cap = cap;
	return true;
}

static void put(struct jsonw *w, const char *s, size_t n)
{
	if (w->len + n + 1 > w->cap && !reserve(w, n))
		return;
	memcpy(w->buf + w->len, s, n);
	w->len += n;
	w->buf[w->len] = '\0';
}

static void put_char(struct jsonw *w, char c)
{
	if (w->len + 2 > w->cap && !reserve(w, 1))
		return;
	w->buf[w->len++] = c;
	w->buf[w->len] = '\0';
}

/* Decimal digits of v at the end of buf; returns where they start. Called per field. */
static char *decimal(uint64_t v, char *end)
{
	do {
		*--end = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	return end;
}

/* Writes the separator a new value needs at the current depth. */
static void value_prefix(struct jsonw *w)
{
	if (w->after_key) {
		w->after_key = false;
		return;
	}
	if (!w->first[w->depth])
		put_char(w, ',');
	w->first[w->depth] = false;
}

static void open_container(struct jsonw *w, char c)
{
	value_prefix(w);
	put_char(w, c);
	if (w->depth + 1 >= JSONW_MAX_DEPTH) {
		w->failed = true;
		return;
	}
	w->depth++;
	w->first[w->depth] = true;
}

static void close_container(struct jsonw *w, char c)
{
	put_char(w, c);
	if (w->depth > 0)
		w->depth--;
}

void jsonw_object_begin(struct jsonw *w)
{
	open_container(w, '{');
}

void jsonw_object_end(struct jsonw *w)
{
	close_container(w, '}');
}

void jsonw_array_begin(struct jsonw *w)
{
	open_container(w, '[');
}

void jsonw_array_end(struct jsonw *w)
{
	close_container(w, ']');
}

size_t utf8_sequence_length(const unsigned char *s, size_t n)
{
	unsigned char c = s[0];
	size_t len, i;
	uint32_t cp;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf) {
		len = 2;
		cp = c & 0x1f;
	} else if (c >= 0xe0 && c <= 0xef) {
		len = 3;
		cp = c & 0x0f;
	} else if (c >= 0xf0 && c <= 0xf4) {
		len = 4;
		cp = c & 0x07;
	} else {
		return 0;
	}
	if (n < len)
		return 0;
	for (i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	/* Overlong forms, UTF-16 surrogates and values past U+10FFFF are invalid. */
	if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return len;
}

/*
 * Valid characters that still deceive whoever reads the output: C1 controls
 * (U+0080..U+009F; some terminals take U+009B as CSI), the line and paragraph
 * separators (U+2028, U+2029: a line break to some viewers, and invalid in
 * JavaScript strings), and the bidirectional marks, embeddings, overrides and
 * isolates that reorder what is shown (U+061C, U+200E, U+200F, U+202A..U+202E,
 * U+2066..U+2069). s holds a valid sequence of seq bytes.
 */
static bool deceptive_sequence(const unsigned char *s, size_t seq)
{
	if (seq == 2)
		return (s[0] == 0xc2 && s[1] < 0xa0) || (s[0] == 0xd8 && s[1] == 0x9c);
	if (seq != 3 || s[0] != 0xe2)
		return false;
	if (s[1] == 0x80)
		return s[2] == 0x8e || s[2] == 0x8f || (s[2] >= 0xa8 && s[2] <= 0xae);
	return s[1] == 0x81 && s[2] >= 0xa6 && s[2] <= 0xa9;
}

size_t text_plain_length(const unsigned char *s, size_t n)
{
	size_t seq;

	if (s[0] >= 0x20 && s[0] < 0x7f)
		return 1;
	if (s[0] < 0x80)
		return 0;
	seq = utf8_sequence_length(s, n);
	return seq && !deceptive_sequence(s, seq) ? seq : 0;
}

/* The code point of a valid sequence of 2 or 3 bytes (the deceptive ones are). */
static uint32_t code_point(const unsigned char *s, size_t seq)
{
	if (seq == 2)
		return (uint32_t)(s[0] & 0x1f) << 6 | (s[1] & 0x3f);
	return (uint32_t)(s[0] & 0x0f) << 12 | (uint32_t)(s[1] & 0x3f) << 6 | (s[2] & 0x3f);
}

/* Bytes that go into a JSON string as they are: printable ASCII but '"' and '\\'. */
static const bool plain_byte[256] = {
	[0x20 ... 0x21] = true, /* '"' is 0x22 */
	[0x23 ... 0x5b] = true, /* '\\' is 0x5c */
	[0x5d ... 0x7e] = true,
};

static void put_escaped(struct jsonw *w, const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, start, seq;
	char esc[8];

	/* Room for the common case, no escapes, at once. */
	if (w->len + n + 3 > w->cap && !reserve(w, n + 2))
		return;
	w->buf[w->len++] = '"';
	while (i < n) {
		start = i;
		while (i < n && plain_byte[p[i]])
			i++;
		while (i < n && p[i] >= 0x80 && (seq = utf8_sequence_length(p + i, n - i)) &&
		       !deceptive_sequence(p + i, seq)) {
			i += seq;
			while (i < n && plain_byte[p[i]])
				i++;
		}
		put(w, s + start, i - start);
		if (i >= n)
			break;
		switch (p[i]) {
		case '"':
			put(w, "\\\"", 2);
			break;
		case '\\':
			put(w, "\\\\", 2);
			break;
		case '\n':
			put(w, "\\n", 2);
			break;
		case '\t':
			put(w, "\\t", 2);
			break;
		case '\r':
			put(w, "\\r", 2);
			break;
		default:
			seq = p[i] >= 0x80 ? utf8_sequence_length(p + i, n - i) : 0;
			if (seq) {
				/* Valid but deceptive: \u-escaped, it reads back the same. */
				snprintf(esc, sizeof(esc), "\\u%04x", code_point(p + i, seq));
				put(w, esc, 6);
				i += seq - 1;
			} else if (p[i] >= 0x80) {
				put(w, "\\ufffd", 6);
			} else {
				snprintf(esc, sizeof(esc), "\\u%04x", p[i]);
				put(w, esc, 6);
			}
		}
		i++;
	}
	put_char(w, '"');
}

void jsonw_key(struct jsonw *w, const char *key)
{
	size_t n = 0;

	while (plain_byte[(unsigned char)key[n]])
		n++;
	if (key[n]) {
		/* Not one of the program's own names (a pod's label, say): escaped. */
		value_prefix(w);
		put_escaped(w, key, strlen(key));
		put_char(w, ':');
		w->after_key = true;
		return;
	}
	/* Room for the separator too: the common key is written with one check. */
	if (w->len + n + 5 > w->cap && !reserve(w, n + 4))
		return;
	value_prefix(w);
	w->buf[w->len++] = '"';
	memcpy(w->buf + w->len, key, n);
	w->len += n;
	w->buf[w->len++] = '"';
	w->buf[w->len++] = ':';
	w->buf[w->len] = '\0';
	w->after_key = true;
}

void jsonw_string_n(struct jsonw *w, const char *s, size_t n)
{
	value_prefix(w);
	put_escaped(w, s, n);
}

void jsonw_string(struct jsonw *w, const char *s)
{
	if (!s) {
		jsonw_null(w);
		return;
	}
	jsonw_string_n(w, s, strlen(s));
}

void jsonw_uint(struct jsonw *w, uint64_t v)
{
	char num[24], *start = decimal(v, num + sizeof(num));

	value_prefix(w);
	put(w, start, (size_t)(num + sizeof(num) - start));
}

void jsonw_int(struct jsonw *w, int64_t v)
{
	char num[24], *start;

	/* The magnitude as unsigned: -INT64_MIN does not fit an int64_t. */
	start = decimal(v < 0 ? 0 - (uint64_t)v : (uint64_t)v, num + sizeof(num));
	if (v < 0)
		*--start = '-';
	value_prefix(w);
	put(w, start, (size_t)(num + sizeof(num) - start));
}

void jsonw_bool(struct jsonw *w, bool v)
{
	value_prefix(w);
	if (v)
		put(w, "true", 4);
	else
		put(w, "false", 5);
}

void jsonw_null(struct jsonw *w)
{
	value_prefix(w);
	put(w, "null", 4);
}

void jsonw_raw_value(struct jsonw *w, const char *json, size_t len)
{
	value_prefix(w);
	put(w, json, len);
}

void jsonw_raw_members(struct jsonw *w, const char *json, size_t len)
{
	value_prefix(w);
	put(w, json, len);
}

void jsonw_member_string(struct jsonw *w, const char *key, const char *s)
{
	jsonw_key(w, key);
	jsonw_string(w, s);
}

void jsonw_member_uint(struct jsonw *w, const char *key, uint64_t v)
{
	jsonw_key(w, key);
	jsonw_uint(w, v);
}

void jsonw_member_int(struct jsonw *w, const char *key, int64_t v)
{
	jsonw_key(w, key);
	jsonw_int(w, v);
}

void textw_escaped(struct jsonw *w, const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, seq;
	char esc[8];

	while (i < n) {
		unsigned char c = p[i];

		seq = c == '\\' ? 0 : text_plain_length(p + i, n - i);
		if (seq == 1) {
			put_char(w, (char)c);
			i++;
			continue;
		}
		if (seq) {
			put(w, s + i, seq);
			i += seq;
			continue;
		}
		snprintf(esc, sizeof(esc), "\\x%02x", c);
		put(w, esc, 4);
		i++;
	}
}

void textw_raw(struct jsonw *w, const char *s)
{
	put(w, s, strlen(s));
}

void textw_name(struct jsonw *w, const char *s)
{
	if (s)
		textw_escaped(w, s, strlen(s));
	else
		put(w, "?", 1);
}

void textw_printf(struct jsonw *w, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || !reserve(w, (size_t)n))
		return;
	va_start(ap, fmt);
	vsnprintf(w->buf + w->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	w->len += (size_t)n;
}
