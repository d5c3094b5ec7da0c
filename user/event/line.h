/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/* An output line as the sinks see it: its format, and what it is. */
#ifndef ACCESSMON_EVENT_LINE_H
#define ACCESSMON_EVENT_LINE_H

#include <stdint.h>

/* --format: JSON lines, or one escaped text line per record. */
enum output_format {
	OUTPUT_JSON = 0,
	OUTPUT_TEXT,
};

/* What a line is, for syslog's severity and message id. */
enum line_class {
	LINE_EVENT = 0,
	LINE_ALERT,
	LINE_LOSS,
};

struct line_meta {
	uint8_t line_class; /* enum line_class */
	uint8_t severity;   /* enum severity (severity.h) for alerts, else 0 */
};

#endif /* ACCESSMON_EVENT_LINE_H */
