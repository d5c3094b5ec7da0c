/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * An event as it passes the stages: the kernel record it came from, decoded, and
 * what each stage learnt about it (naming, the process, cgroup, pod and watched
 * file). Rules judge it and output writes it; nothing here owns what it points at.
 */
#ifndef ACCESSMON_EVENT_VIEW_H
#define ACCESSMON_EVENT_VIEW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "accessmon.h"

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

#endif /* ACCESSMON_EVENT_VIEW_H */
