// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* A bounded log that keeps its newest text; see tail_log.h. */
#include "lib/tail_log.h"

#include <string.h>

void tail_log_reset(struct tail_log *log)
{
	log->len = 0;
	log->buf[0] = '\0';
}

void tail_log_append(struct tail_log *log, const char *text, size_t n)
{
	if (log->len + n >= log->cap) {
		/* Keep the newest: drop the oldest half. */
		size_t keep = log->len / 2;

		memmove(log->buf, log->buf + log->len - keep, keep);
		log->len = keep;
		/* Ended here too: the text may still not fit, and then nothing is added. */
		log->buf[log->len] = '\0';
	}
	if (log->len + n < log->cap) {
		memcpy(log->buf + log->len, text, n);
		log->len += n;
		log->buf[log->len] = '\0';
	}
}
