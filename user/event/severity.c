// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* Severity names; see severity.h. */
#include <string.h>

#include "event/severity.h"

const char *severity_name(enum severity severity)
{
	switch (severity) {
	case SEVERITY_LOW:
		return "low";
	case SEVERITY_MEDIUM:
		return "medium";
	case SEVERITY_HIGH:
		return "high";
	case SEVERITY_CRITICAL:
		return "critical";
	default:
		return "none";
	}
}

enum severity severity_parse(const char *name)
{
	enum severity s;

	for (s = SEVERITY_LOW; s <= SEVERITY_CRITICAL; s++)
		if (name && strcmp(name, severity_name(s)) == 0)
			return s;
	return SEVERITY_NONE;
}
