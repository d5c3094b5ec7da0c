/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * Error context carried up to the one place that reports it. Modules fill a
 * struct am_error and return a negative errno; they never print.
 */
#ifndef ACCESSMON_ERROR_H
#define ACCESSMON_ERROR_H

#include <stddef.h>

#define AM_ERROR_LEN 512

struct am_error {
	char msg[AM_ERROR_LEN];
};

/*
 * Messages name what went wrong, and often what a pod controls (a label, a file
 * name): the formatted text is made printable, every control character, escape
 * sequence and invalid UTF-8 byte shown as \xNN, so stderr cannot drive a terminal.
 */
void am_error_set(struct am_error *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/*
 * Copies `in` into out[size] made printable as am_error_set does, cut at a whole
 * character. Backslashes are kept: copying printable text again changes nothing.
 */
void am_error_printable(char *out, size_t size, const char *in);

#endif /* ACCESSMON_ERROR_H */
