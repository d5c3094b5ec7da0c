/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * What the monitor cannot see, said until it can. Each detection the kernel or
 * the monitor's own state leaves blind (a probe the kernel refused at start, a
 * map the kernel stopped letting it write) is a condition with a reason. A new
 * condition is said at once, again every interval while it holds, and once more
 * when it ends: never only a line on standard error. Pure bookkeeping: the
 * monitor sets and clears conditions, the pipeline writes what is due (a
 * `monitor-degraded` record and alert), /metrics shows which detections are blind.
 */
#ifndef ACCESSMON_DEGRADED_H
#define ACCESSMON_DEGRADED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* What the monitor detects, as the records that say it is blind name it. */
enum detection {
	DETECTION_CONNECTIONS = 0, /* connect(2) and UDP sends: the cgroup sock_addr hooks */
	DETECTION_REQUESTS,	   /* captured bytes: IMDS requests, TLS server names, DNS */
	DETECTION_CONNECTION_CLOSE,
	DETECTION_SECRET_FILES,
	DETECTION_IO_URING,
	DETECTION_PROCESSES,
	DETECTION_CGROUPS,
	DETECTION_REPEAT_COUNTS,
	DETECTION_LOSS_COUNTS,
	DETECTION_RAW_SOCKETS,	      /* raw and packet sockets made: traffic below the hooks */
	DETECTION_EXISTING_CONNECTIONS, /* connections to IMDS and WireServer older than the monitor */
	DETECTION_IA32_OPENS,	      /* opens and sockets through the 32-bit (ia32) syscalls */
	DETECTION_COUNT,
};

/* Why a detection is blind: what the probes could not load, or a map the kernel refuses. */
enum degraded_cause {
	DEGRADED_PROBES = 0, /* at start: programs or hooks the kernel lacks; until a restart */
	DEGRADED_MAPS,	     /* while running: the kernel refuses a map read or write */
	DEGRADED_CAUSE_COUNT,
};

#define DEGRADED_REASON_LEN 512
/* How often a condition that holds is said again, unless the monitor is told otherwise. */
#define DEGRADED_DEFAULT_INTERVAL_S 60

/* One thing said: a condition that began, still holds, or ended. */
struct degraded_notice {
	enum detection detection;
	enum degraded_cause cause;
	bool restored;	  /* the condition ended: the detection sees again */
	const char *reason;
	uint64_t since_ns; /* when it began (the caller's clock) */
};

typedef void (*degraded_fn)(void *ctx, const struct degraded_notice *notice);

struct degraded;

struct degraded *degraded_new(uint64_t interval_ns);
void degraded_free(struct degraded *degraded);
/* A condition holds (again, or with a new reason): said at the next report if new. */
void degraded_set(struct degraded *degraded, enum detection detection, enum degraded_cause cause,
		  const char *reason, uint64_t now_ns);
/* The condition no longer holds: its end is said at the next report (if it was said). */
void degraded_clear(struct degraded *degraded, enum detection detection,
		    enum degraded_cause cause);
/* Says what is due at now_ns: new conditions, held ones every interval, ended ones once. */
void degraded_report(struct degraded *degraded, uint64_t now_ns, degraded_fn fn, void *ctx);
/* Whether any condition blinds the detection (metrics). */
bool degraded_blind(const struct degraded *degraded, enum detection detection);
/* The reason of a condition that holds, or NULL. */
const char *degraded_reason(const struct degraded *degraded, enum detection detection,
			    enum degraded_cause cause);

/* The detection's stable name ("secret-files"), or NULL. */
const char *detection_name(enum detection detection);
/* What it sees, in words ("opens of secret files"). */
const char *detection_sees(enum detection detection);
/* The detection named, or -1. */
int detection_parse(const char *name);
/* The cause's stable name ("probes", "maps"), and back (-1: none). */
const char *degraded_cause_name(enum degraded_cause cause);
int degraded_cause_parse(const char *name);
/* Whether being blind to it blinds security alerts (else only attribution or counts). */
bool detection_critical(enum detection detection);

#endif /* ACCESSMON_DEGRADED_H */
