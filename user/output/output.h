/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * Serialises records for people and machines: one JSON object per line (the
 * documented schema, docs/RECORDS.md "Event records"), or one escaped text line.
 */
#ifndef ACCESSMON_OUTPUT_H
#define ACCESSMON_OUTPUT_H

#include <stdbool.h>
#include <stdint.h>

#include "accessmon.h"
#include "lib/jsonw.h"
#include "event/line.h"
#include "event/view.h"

/*
 * The JSON of what records say about their subject, the "proc" member and the
 * "cgroup", "pod" and "host" members, kept per process and per cgroup: a busy
 * process's events repeat it for every record. A kept member is written again only
 * while the process, its ancestors, the cgroup and the pod inventory are as they
 * were (their versions and generation say so). Bounded: one entry per slot, a
 * process or cgroup hashed to a taken slot replaces what was there.
 */
struct output_cache *output_cache_new(void);
void output_cache_free(struct output_cache *cache);

/* Appends one record (without the newline) to w. */
void output_event(struct jsonw *w, enum output_format format, const struct event_view *view);
void output_events_lost(struct jsonw *w, enum output_format format, uint64_t time_ns,
			uint64_t lost, uint64_t lost_total);
/* A sink's queue was full: `lost` lines it never got. */
struct degraded_notice;
/* A detection the monitor is blind to, or sees again (times: wall clock). */
void output_monitor_degraded(struct jsonw *w, enum output_format format, uint64_t time_ns,
			     const struct degraded_notice *notice, uint64_t since_ns);
void output_sink_lost(struct jsonw *w, enum output_format format, uint64_t time_ns,
		      const char *sink, const char *reason, uint64_t lost, uint64_t lost_total);
/* The trace file (--record) could not take `lost` entries: a slow or full disk. */
void output_trace_lost(struct jsonw *w, enum output_format format, uint64_t time_ns,
		       const char *reason, uint64_t lost, uint64_t lost_total);

#define RFC3339_LEN 64

/* The "proc", "cgroup", "pod" and "host" members of a record, into the open object. */
void output_subject_json(struct jsonw *w, const struct event_view *view);
/* "pod=ns/name container=c pid=... comm=..." or "host ...", for text lines. */
void output_subject_text(struct jsonw *w, const struct event_view *view);

/* What a replay keeps: a pod, a rule, a time range (NULL/0: any). */
struct output_filter {
	const char *namespace;
	const char *pod_name;
	const char *rule;
	uint64_t since_ns; /* wall clock */
	uint64_t until_ns;
};

/* Whether a record (rule NULL: an event) passes the filter. */
bool output_filter_keep(const struct output_filter *filter, const struct event_view *view,
			const char *rule, uint64_t time_ns);

/* The pod object of records and of the inventory (container may be NULL). */
void output_pod_json(struct jsonw *w, const struct pod_info *pod,
		     const struct container_info *container);

/* RFC 3339, UTC, nanoseconds: 2026-11-28T10:04:05.123456789Z. */
void format_rfc3339(uint64_t time_ns, char out[RFC3339_LEN]);
/* Dotted IPv4 or RFC 5952 IPv6. */
void format_ip(uint8_t family, const uint8_t addr[16], char out[48]);
const char *protocol_name(uint8_t protocol);
/* A socket's family and type as records name them: inet, packet; stream, raw. */
const char *socket_family_name(uint16_t family);
const char *socket_type_name(uint16_t type);

#endif /* ACCESSMON_OUTPUT_H */
