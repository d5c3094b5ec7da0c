/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * Connections whose bytes the kernel captures, by socket cookie: how the
 * destination is named, the HTTP requests sent to IMDS or WireServer (split
 * across segments, pipelined, or longer than the capture), the TLS server name,
 * DNS over TCP. Time only moves with the records' own timestamps, so a replayed
 * recording reaches the same decisions as the live run.
 */
#ifndef ACCESSMON_FLOWS_H
#define ACCESSMON_FLOWS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "accessmon.h"
#include "destinations.h"
#include "http.h"

struct service_tag;

enum name_source {
	NAME_NONE = 0,
	NAME_DNS,
	NAME_SNI,
	NAME_FIXED,
	NAME_SERVICE_TAG,
};

struct naming {
	char host[256];
	enum name_source source;
	struct destination_class cls;
	const struct service_tag *tag;
};

/* A connect held back until the ClientHello names its destination, this long at most. */
#define FLOW_HOLD_NS (1000ull * 1000000ull)
/* A request without an answer is reported this long after it was sent. */
#define FLOW_ANSWER_WAIT_NS (2000ull * 1000000ull)
#define FLOW_PENDING_MAX 16

struct flow_pending;

struct flow {
	uint64_t cookie;
	struct am_connect_record connect; /* the record that opened it */
	struct naming naming;
	bool held; /* the connect record waits for the server name */
	uint64_t held_since_ns;
	uint64_t last_ns;
	/* The request byte stream (AM_CAPTURE_HTTP) or answer stream (AM_CAPTURE_DNS_TCP). */
	char *stream;
	size_t stream_len;
	uint32_t stream_seq; /* sequence number of stream[0] */
	bool seq_known;
	bool resync;	    /* the stream may start inside a request: find the next one */
	uint32_t skip_to;   /* a body to skip: bytes before this sequence number */
	bool skipping;
	bool unparseable;   /* a request could not be parsed: the rest is counted only */
	struct flow_pending *pending; /* grown as requests wait, up to FLOW_PENDING_MAX */
	size_t n_pending;
	size_t pending_capacity;
	struct flow *hash_next;
	struct flow *older, *newer;
};

struct flow_callbacks {
	/* A request, with its answer's status (or -1), or a request that could not be read. */
	void (*http)(void *ctx, const struct flow *flow, const struct http_request *request,
		     int status, const char *error, uint64_t time_ns);
	/* A held connect is ready: flow->naming says what is known. */
	void (*released)(void *ctx, struct flow *flow);
	/* A DNS message answered over TCP. */
	void (*dns)(void *ctx, const struct flow *flow, const uint8_t *message, size_t len,
		    uint64_t time_ns);
	/* A held connect got no name from its ClientHello: the last resort. */
	void (*fallback)(void *ctx, struct flow *flow);
	void *ctx;
};

struct flow_stats {
	uint64_t requests;
	uint64_t unparseable;
	uint64_t truncated;
	uint64_t evicted;
};

struct flow_table;

struct flow_table *flow_table_new(size_t capacity, const struct flow_callbacks *callbacks);
void flow_table_free(struct flow_table *table);

/* A connection the kernel captures; hold: report its connect once it is named. */
struct flow *flow_table_open(struct flow_table *table, const struct am_connect_record *record,
			     const struct naming *naming, bool hold);
void flow_table_payload(struct flow_table *table, const struct am_payload_record *record);
void flow_table_close(struct flow_table *table, uint64_t cookie, uint64_t time_ns);
/* Time moved on to now_ns: report what waited long enough. */
void flow_table_advance(struct flow_table *table, uint64_t now_ns);
/* The end of the input: report everything still waiting. */
void flow_table_finish(struct flow_table *table);
size_t flow_table_count(const struct flow_table *table);
const struct flow_stats *flow_table_stats(const struct flow_table *table);

const char *name_source_name(enum name_source source);

#endif /* ACCESSMON_FLOWS_H */
