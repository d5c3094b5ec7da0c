/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/* How grave an alert is: what rules give, the policy overrides and sinks map. */
#ifndef ACCESSMON_EVENT_SEVERITY_H
#define ACCESSMON_EVENT_SEVERITY_H

enum severity {
	SEVERITY_NONE = 0,
	SEVERITY_LOW,
	SEVERITY_MEDIUM,
	SEVERITY_HIGH,
	SEVERITY_CRITICAL,
};

/* "low" ... "critical"; "none" for SEVERITY_NONE. */
const char *severity_name(enum severity severity);
/* The severity a name says; SEVERITY_NONE for NULL or any other name. */
enum severity severity_parse(const char *name);

#endif /* ACCESSMON_EVENT_SEVERITY_H */
