/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * Serialises records for people and machines: one JSON object per line (the
 * documented schema, README "Event records"), or one escaped text line.
 */
#ifndef ACCESSMON_OUTPUT_H
#define ACCESSMON_OUTPUT_H

#include <stdbool.h>
#include <stdint.h>

#include "accessmon.h"
#include "jsonw.h"
#include "options.h"

struct cgroup_entry;
struct pod_info;
struct container_info;
struct watch_entry;
struct process_info;
struct naming;
struct http_request;
struct dns_message;
struct output_cache;

#define EVENT_MAX_ANCESTORS 8

enum view_kind {
	VIEW_CONNECT = 1,
	VIEW_SEND,
	VIEW_OPEN,
	VIEW_HTTP, /* a request to IMDS or WireServer */
	VIEW_DNS,  /* an answer a process received */
	VIEW_REPEAT, /* connects or sends the kernel counted: connect-repeat, send-repeat */
	VIEW_PACKET, /* a packet to IMDS or WireServer outside the connect hooks' sockets */
	VIEW_SOCKET, /* a raw or packet socket was made */
};

/* A decoded record with everything the pipeline learnt about it. */
struct event_view {
	enum view_kind kind;
	const struct am_connect_record *dst; /* connect, send, http, repeat: where it went */
	const struct naming *naming;	     /* ... and what that is */
	const struct am_open_record *open;
	const struct http_request *http; /* NULL with http_error set: unreadable */
	int http_status;		 /* -1: no answer seen */
	const char *http_error;		 /* with http NULL: why none could be read */
	bool http_none;			 /* with http NULL: the connection asked nothing */
	int http_outcome;		 /* enum flow_outcome */
	const struct am_payload_record *packet;
	const struct am_socket_record *socket;
	const struct dns_message *dns; /* NULL with dns_error set: unreadable */
	const char *dns_error;
	const struct am_connect_repeat_record *repeat; /* count and times of a repeat */
	uint64_t time_ns; /* wall clock, ns since the epoch */
	const struct am_task *task;
	int64_t boot_to_wall_ns; /* for process start times */
	const struct cgroup_entry *cgroup; /* NULL: not known */
	const struct pod_info *pod;	   /* NULL: host process, or pod not in the inventory */
	const struct container_info *container;
	const struct watch_entry *watch; /* open records */
	const struct pod_info *owner_pod; /* the pod whose volume the opened file is in */
	const struct process_info *process; /* NULL: not in the process cache */
	const struct process_info *ancestors[EVENT_MAX_ANCESTORS]; /* nearest first */
	size_t n_ancestors;
	struct output_cache *cache; /* NULL: every record written from scratch */
};

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
