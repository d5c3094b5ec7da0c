/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * Text kept in a bounded buffer, newest last: when a line does not fit, the
 * oldest half goes. For logs whose end matters, such as libbpf's output during a
 * load, where the verifier's reason comes last.
 */
#ifndef ACCESSMON_LIB_TAIL_LOG_H
#define ACCESSMON_LIB_TAIL_LOG_H

#include <stddef.h>

struct tail_log {
	char *buf; /* cap bytes, the caller's; NUL-terminated after the first reset */
	size_t cap;
	size_t len;
};

void tail_log_reset(struct tail_log *log);
/* Appends n bytes of text; a piece larger than the buffer is dropped whole. */
void tail_log_append(struct tail_log *log, const char *text, size_t n);

#endif /* ACCESSMON_LIB_TAIL_LOG_H */
