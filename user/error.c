// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* Filling error context; see error.h. */
#include "error.h"

#include <stdarg.h>
#include <stdio.h>

void am_error_set(struct am_error *err, const char *fmt, ...)
{
	va_list ap;

	if (!err)
		return;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
}
