// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* What the monitor cannot see, and when to say it; see degraded.h. */
#include "event/degraded.h"

#include <stdlib.h>
#include <string.h>

static const struct {
	const char *name;
	const char *sees;
	bool critical;
} detections[DETECTION_COUNT] = {
	[DETECTION_CONNECTIONS] = {"connections",
				   "outbound connections and UDP sends (IMDS, WireServer, vaults, "
				   "registries)",
				   true},
	[DETECTION_REQUESTS] = {"requests",
				"what pods ask IMDS and WireServer, TLS server names and DNS answers",
				true},
	[DETECTION_CONNECTION_CLOSE] = {"connection-close",
					"when captured connections close (their requests are "
					"reported 2 s after the last byte instead)",
					false},
	[DETECTION_SECRET_FILES] = {"secret-files", "opens of secret files", true},
	[DETECTION_IO_URING] = {"io-uring-opens", "opens of secret files through io_uring", true},
	[DETECTION_PROCESSES] = {"processes",
				 "the executables and ancestry of processes started after the "
				 "monitor",
				 false},
	[DETECTION_CGROUPS] = {"cgroups",
			       "pods created after the monitor, until the next rescan of the "
			       "cgroup tree",
			       false},
	[DETECTION_REPEAT_COUNTS] = {"repeat-counts",
				     "the counts of repeated connections the kernel keeps", false},
	[DETECTION_LOSS_COUNTS] = {"loss-counts",
				   "the count of events the kernel could not deliver: a loss "
				   "would go unsaid",
				   true},
	[DETECTION_RAW_SOCKETS] = {"raw-sockets",
				   "raw and packet sockets, whose packets the connect hooks never see",
				   true},
	[DETECTION_EXISTING_CONNECTIONS] = {"existing-connections",
					    "connections to IMDS and WireServer made before the "
					    "monitor started",
					    false},
	[DETECTION_IA32_OPENS] = {"ia32-opens",
				  "opens of secret files and raw sockets made through the 32-bit "
				  "(ia32) syscalls, which any x86_64 process can make",
				  true},
};

struct condition {
	bool held;
	bool said;	   /* said at least once since it began */
	bool end_pending;  /* ended: the end is still to say */
	uint64_t since_ns;
	uint64_t said_ns;
	char reason[DEGRADED_REASON_LEN];
};

struct degraded {
	uint64_t interval_ns;
	struct condition conditions[DETECTION_COUNT][DEGRADED_CAUSE_COUNT];
};

struct degraded *degraded_new(uint64_t interval_ns)
{
	struct degraded *degraded = calloc(1, sizeof(*degraded));

	if (degraded)
		degraded->interval_ns = interval_ns;
	return degraded;
}

void degraded_free(struct degraded *degraded)
{
	free(degraded);
}

static struct condition *condition_of(struct degraded *degraded, enum detection detection,
				      enum degraded_cause cause)
{
	if ((unsigned int)detection >= DETECTION_COUNT || (unsigned int)cause >= DEGRADED_CAUSE_COUNT)
		return NULL;
	return &degraded->conditions[detection][cause];
}

void degraded_set(struct degraded *degraded, enum detection detection, enum degraded_cause cause,
		  const char *reason, uint64_t now_ns)
{
	struct condition *condition = condition_of(degraded, detection, cause);

	if (!condition)
		return;
	if (!condition->held) {
		/* Back before its end was said: one condition, from when it first began. */
		if (!condition->end_pending)
			condition->since_ns = now_ns;
		condition->held = true;
		condition->end_pending = false;
	}
	strncpy(condition->reason, reason, sizeof(condition->reason) - 1);
	condition->reason[sizeof(condition->reason) - 1] = '\0';
}

void degraded_clear(struct degraded *degraded, enum detection detection,
		    enum degraded_cause cause)
{
	struct condition *condition = condition_of(degraded, detection, cause);

	if (!condition || !condition->held)
		return;
	condition->held = false;
	condition->end_pending = true;
}

void degraded_report(struct degraded *degraded, uint64_t now_ns, degraded_fn fn, void *ctx)
{
	int detection, cause;

	for (detection = 0; detection < DETECTION_COUNT; detection++) {
		for (cause = 0; cause < DEGRADED_CAUSE_COUNT; cause++) {
			struct condition *condition = &degraded->conditions[detection][cause];
			struct degraded_notice notice = {
				.detection = (enum detection)detection,
				.cause = (enum degraded_cause)cause,
				.reason = condition->reason,
				.since_ns = condition->since_ns,
			};

			if (condition->end_pending) {
				/* Even a condition that ended before it was said is said, then ended. */
				if (!condition->said)
					fn(ctx, &notice);
				notice.restored = true;
				condition->end_pending = false;
				condition->said = false;
				fn(ctx, &notice);
				continue;
			}
			if (!condition->held)
				continue;
			if (condition->said && now_ns - condition->said_ns < degraded->interval_ns)
				continue;
			condition->said = true;
			condition->said_ns = now_ns;
			fn(ctx, &notice);
		}
	}
}

bool degraded_blind(const struct degraded *degraded, enum detection detection)
{
	int cause;

	if ((unsigned int)detection >= DETECTION_COUNT)
		return false;
	for (cause = 0; cause < DEGRADED_CAUSE_COUNT; cause++)
		if (degraded->conditions[detection][cause].held)
			return true;
	return false;
}

const char *degraded_reason(const struct degraded *degraded, enum detection detection,
			    enum degraded_cause cause)
{
	const struct condition *condition;

	if ((unsigned int)detection >= DETECTION_COUNT || (unsigned int)cause >= DEGRADED_CAUSE_COUNT)
		return NULL;
	condition = &degraded->conditions[detection][cause];
	return condition->held ? condition->reason : NULL;
}

const char *detection_name(enum detection detection)
{
	return (unsigned int)detection < DETECTION_COUNT ? detections[detection].name : NULL;
}

const char *detection_sees(enum detection detection)
{
	return (unsigned int)detection < DETECTION_COUNT ? detections[detection].sees : NULL;
}

int detection_parse(const char *name)
{
	int i;

	for (i = 0; name && i < DETECTION_COUNT; i++)
		if (strcmp(name, detections[i].name) == 0)
			return i;
	return -1;
}

static const char *const cause_names[DEGRADED_CAUSE_COUNT] = {
	[DEGRADED_PROBES] = "probes",
	[DEGRADED_MAPS] = "maps",
};

const char *degraded_cause_name(enum degraded_cause cause)
{
	return (unsigned int)cause < DEGRADED_CAUSE_COUNT ? cause_names[cause] : NULL;
}

int degraded_cause_parse(const char *name)
{
	int i;

	for (i = 0; name && i < DEGRADED_CAUSE_COUNT; i++)
		if (strcmp(name, cause_names[i]) == 0)
			return i;
	return -1;
}

bool detection_critical(enum detection detection)
{
	return (unsigned int)detection < DETECTION_COUNT && detections[detection].critical;
}
