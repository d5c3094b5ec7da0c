// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* Filling error context; see error.h. */
#include "lib/error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "lib/jsonw.h"

void am_error_printable(char *out, size_t size, const char *in)
{
	const unsigned char *p = (const unsigned char *)in;
	size_t n = strlen(in), i = 0, o = 0, seq;

	if (!size)
		return;
	while (i < n) {
		seq = text_plain_length(p + i, n - i);
		if (seq) {
			if (o + seq >= size)
				break;
			memcpy(out + o, in + i, seq);
			o += seq;
			i += seq;
			continue;
		}
		if (o + 4 >= size)
			break;
		snprintf(out + o, 5, "\\x%02x", p[i]);
		o += 4;
		i++;
	}
	out[o] = '\0';
}

void am_error_set(struct am_error *err, const char *fmt, ...)
{
	char message[AM_ERROR_LEN];
	va_list ap;

	if (!err)
		return;
	/* Formatted apart first: a caller may pass err->msg itself as an argument. */
	va_start(ap, fmt);
	vsnprintf(message, sizeof(message), fmt, ap);
	va_end(ap);
	am_error_printable(err->msg, sizeof(err->msg), message);
}
