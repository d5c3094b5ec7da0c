/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * Error context carried up to the one place that reports it. Modules fill a
 * struct am_error and return a negative errno; they never print.
 */
#ifndef ACCESSMON_ERROR_H
#define ACCESSMON_ERROR_H

#define AM_ERROR_LEN 512

struct am_error {
	char msg[AM_ERROR_LEN];
};

void am_error_set(struct am_error *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif /* ACCESSMON_ERROR_H */
