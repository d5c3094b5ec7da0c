/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * A small streaming JSON writer for the hot output path. Every string is escaped
 * so that whatever a pod controls (names, paths, arguments) comes out as valid
 * JSON: control characters are \u-escaped, invalid UTF-8 becomes U+FFFD. C1
 * controls, U+2028/U+2029 and the bidirectional controls are valid but are
 * \u-escaped too, so a line shown in a terminal cannot drive or reorder it.
 */
#ifndef ACCESSMON_JSONW_H
#define ACCESSMON_JSONW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define JSONW_MAX_DEPTH 32

struct jsonw {
	char *buf;
	size_t len;
	size_t cap;
	bool failed; /* an allocation failed or nesting was too deep; output is invalid */
	int depth;
	bool first[JSONW_MAX_DEPTH]; /* no member written yet at this depth */
	bool after_key;
};

void jsonw_init(struct jsonw *w);
void jsonw_reset(struct jsonw *w);
void jsonw_release(struct jsonw *w);

void jsonw_object_begin(struct jsonw *w);
void jsonw_object_end(struct jsonw *w);
void jsonw_array_begin(struct jsonw *w);
void jsonw_array_end(struct jsonw *w);
void jsonw_key(struct jsonw *w, const char *key);
void jsonw_string(struct jsonw *w, const char *s);
void jsonw_string_n(struct jsonw *w, const char *s, size_t n);
void jsonw_uint(struct jsonw *w, uint64_t v);
void jsonw_int(struct jsonw *w, int64_t v);
void jsonw_bool(struct jsonw *w, bool v);
void jsonw_null(struct jsonw *w);
/* A value that is already JSON text (written by this writer), inserted as it is. */
void jsonw_raw_value(struct jsonw *w, const char *json, size_t len);
/* Members that are already JSON text ("a":1,"b":2), inserted into the open object. */
void jsonw_raw_members(struct jsonw *w, const char *json, size_t len);
/* A string member, or null when s is NULL. */
void jsonw_member_string(struct jsonw *w, const char *key, const char *s);
void jsonw_member_uint(struct jsonw *w, const char *key, uint64_t v);
void jsonw_member_int(struct jsonw *w, const char *key, int64_t v);

/*
 * Appends s to a plain text buffer with every control character (C0, DEL, C1),
 * bidirectional control, line or paragraph separator, backslash and invalid UTF-8
 * byte made visible as \xNN, byte by byte, so text output cannot drive a terminal.
 */
void textw_escaped(struct jsonw *w, const char *s, size_t n);
void textw_raw(struct jsonw *w, const char *s);
/* A name from outside, escaped as textw_escaped does; "?" when it is not known. */
void textw_name(struct jsonw *w, const char *s);
void textw_printf(struct jsonw *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Length of the valid UTF-8 sequence at s (at most n bytes), or 0 when invalid. */
size_t utf8_sequence_length(const unsigned char *s, size_t n);
/*
 * Length of the character at s (at most n bytes) that text may show as it is:
 * printable ASCII or valid UTF-8 that is not a control, separator or bidirectional
 * control; 0 when it must be escaped.
 */
size_t text_plain_length(const unsigned char *s, size_t n);

#endif /* ACCESSMON_JSONW_H */
