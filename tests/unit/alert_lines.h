/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * Unit-test helper: a rules sink that keeps the alert lines written,
 * newline-separated, and finds them by rule. Include after <cmocka.h>.
 */
#ifndef ACCESSMON_TEST_ALERT_LINES_H
#define ACCESSMON_TEST_ALERT_LINES_H

#include <stdio.h>
#include <string.h>

#include "detect/rules.h"

/* Every line written since the test emptied it. */
static char written[65536];

/* A struct rules_sink's write. */
static inline void collect(void *ctx, struct jsonw *line, enum severity severity)
{
	(void)ctx;
	(void)severity;
	strncat(written, line->buf, sizeof(written) - strlen(written) - 2);
	strcat(written, "\n");
}

static inline int lines(void)
{
	int n = 0;

	for (const char *p = written; (p = strchr(p, '\n')); p++)
		n++;
	return n;
}

/* The first line the rule wrote, or "" when it wrote none. */
static inline const char *line_of(const char *rule)
{
	static char line[sizeof(written)];
	char want[64];
	const char *start, *end;

	snprintf(want, sizeof(want), "\"rule\":\"%s\"", rule);
	start = strstr(written, want);
	if (!start) {
		line[0] = '\0';
		return line;
	}
	while (start > written && start[-1] != '\n')
		start--;
	end = strchr(start, '\n');
	snprintf(line, sizeof(line), "%.*s", (int)(end - start), start);
	return line;
}

#endif /* ACCESSMON_TEST_ALERT_LINES_H */
