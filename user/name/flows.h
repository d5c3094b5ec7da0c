/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * Connections whose bytes the kernel captures, by socket cookie: how the
 * destination is named, every HTTP request sent to IMDS or WireServer, the TLS
 * server name, DNS over TCP. Each connection's bytes are put back in order by
 * sequence number and read as one stream, whatever the writes, segments and
 * records they came in; what could not be read (bytes the capture lost, framing
 * that cannot be followed, a bound reached) is said, and the rules judge it at its
 * worst. Time only moves with the records' own timestamps, so a replayed
 * recording reaches the same decisions as the live run.
 *
 * Bounds: a request head may take HTTP_MAX_REQUEST_HEAD bytes, a ClientHello
 * FLOW_HELLO_MAX, a DNS message 64 KiB + 2; all connections' buffers together
 * FLOW_STREAM_BUDGET, their waiting requests FLOW_PENDING_TOTAL; the table holds
 * its capacity of connections, the least recent going first.
 */
#ifndef ACCESSMON_FLOWS_H
#define ACCESSMON_FLOWS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "accessmon.h"
#include "event/naming.h"
#include "lib/hashtab.h"
#include "lib/list.h"
#include "name/destinations.h"
#include "parse/http.h"

/* A connect held back until the ClientHello names its destination, this long at most. */
#define FLOW_HOLD_NS (1000ull * 1000000ull)
/* A request without an answer is reported this long after it was sent. */
#define FLOW_ANSWER_WAIT_NS (2000ull * 1000000ull)
#define FLOW_PENDING_MAX 16
#define FLOW_PENDING_TOTAL 4096
#define FLOW_STREAM_BUDGET (32u << 20)
#define FLOW_HELLO_MAX (16384 + 1024)

/* What became of a connection to IMDS or WireServer, as far as the kernel told. */
enum flow_outcome {
	OUTCOME_UNKNOWN = 0,   /* the kernel said nothing of its state (no close hook) */
	OUTCOME_ANSWERED,      /* an answer came: its status is known */
	OUTCOME_CONNECTED,     /* the connection was established; no answer was seen */
	OUTCOME_NOT_CONNECTED, /* never established: refused, or its SYN dropped */
};

/* How far a connection's request stream has been read. */
enum flow_read {
	READ_HEAD = 0, /* a request head, in the stream buffer */
	READ_LENGTH,   /* a body of body_left bytes */
	READ_CHUNKS,   /* a chunked body */
	READ_RESYNC,   /* after something unread: up to the next blank line */
};

struct flow_pending;

struct flow {
	uint64_t cookie;
	struct hashtab_node node; /* by cookie: beside it, a lookup reads one cache line */
	struct am_connect_record connect; /* the record that opened it */
	struct naming naming;
	bool held; /* the connect record waits for the server name */
	uint64_t held_since_ns;
	uint64_t opened_ns;
	uint64_t last_ns;
	/* The reassembled stream: requests (HTTP), the ClientHello (TLS), answers (DNS/TCP). */
	char *stream;
	size_t stream_len, stream_cap;
	uint32_t next_seq; /* sequence number of the first byte not yet taken */
	bool seq_known;
	enum flow_read read;
	uint64_t body_left;
	struct http_chunks chunks;
	bool loss_said; /* what could not be read was said, and nothing read since */
	bool hello_done;
	/* What the connection came to, as the kernel's state records say. */
	bool connecting; /* its SYN went out, and the kernel reports what became of it */
	bool established, refused;
	uint32_t requests; /* requests read, or judged */
	struct flow_pending *pending; /* grown as requests wait, up to FLOW_PENDING_MAX */
	size_t n_pending;
	size_t pending_capacity;
	struct list_head lru; /* the table's, least recently used first */
};

/* One request, one that could not be read, or a connection that asked nothing. */
struct flow_request {
	const struct http_request *request; /* NULL: none read */
	const char *error; /* with request NULL: why it could not be read (judged at worst) */
	int status;	   /* the answer's status, or -1 */
	enum flow_outcome outcome;
};

/* How the bytes of a request stream were read (flow_callbacks.span). */
enum flow_span {
	SPAN_HEAD = 1,	  /* a request head (blank lines before it included) */
	SPAN_BODY,	  /* a body of Content-Length bytes */
	SPAN_CHUNK_SIZE,  /* a chunk's size, up to its extension or line end */
	SPAN_CHUNK_OTHER, /* a chunk extension, line ends, trailers: framing but no size */
	SPAN_CHUNK_DATA,  /* a chunk's bytes */
	SPAN_SKIPPED,	  /* after something unread: passed over up to a blank line */
	/*
	 * A head that does not parse: the stream from its start, told before it is
	 * passed over (SPAN_SKIPPED, the same bytes again). Its first line says why.
	 */
	SPAN_MALFORMED,
};

struct flow_callbacks {
	void (*http)(void *ctx, const struct flow *flow, const struct flow_request *request,
		     uint64_t time_ns);
	/* A held connect is ready: flow->naming says what is known. */
	void (*released)(void *ctx, struct flow *flow);
	/* A DNS message answered over TCP. */
	void (*dns)(void *ctx, const struct flow *flow, const uint8_t *message, size_t len,
		    uint64_t time_ns);
	/* A held connect got no name from its ClientHello: the last resort. */
	void (*fallback)(void *ctx, struct flow *flow);
	/*
	 * Optional: len bytes of the request stream from sequence number seq were read
	 * as kind. Bytes still in flow->stream are not read yet: a head that is not
	 * whole (flow->read READ_HEAD), or the last bytes passed over (READ_RESYNC).
	 */
	void (*span)(void *ctx, const struct flow *flow, uint32_t seq, size_t len,
		     enum flow_span kind);
	/*
	 * Optional: request bytes came for a connection never seen connecting (one
	 * older than the monitor, marked by the packet hook at its first packet). The
	 * table opens it from what the bytes say (connect: flagged
	 * AM_CONNECT_EXISTING, the pod's cgroup, no process); this may name its
	 * process and destination first.
	 */
	void (*late)(void *ctx, struct am_connect_record *connect, struct naming *naming);
	void *ctx;
};

struct flow_stats {
	uint64_t requests;
	uint64_t unparseable;
	uint64_t truncated;
	uint64_t evicted;
	uint64_t lost;	       /* times a connection could not be read on */
	uint64_t stream_bytes; /* held in buffers now */
	uint64_t pending;      /* requests waiting now */
};

struct flow_table;

struct flow_table *flow_table_new(size_t capacity, const struct flow_callbacks *callbacks);
void flow_table_free(struct flow_table *table);

/* A connection the kernel captures; hold: report its connect once it is named. */
struct flow *flow_table_open(struct flow_table *table, const struct am_connect_record *record,
			     const struct naming *naming, bool hold);
void flow_table_payload(struct flow_table *table, const struct am_payload_record *record);
/* The kernel's word on a connection's state (established, closed) and what it sent. */
void flow_table_state(struct flow_table *table, const struct am_flow_state_record *record);
void flow_table_close(struct flow_table *table, uint64_t cookie, uint64_t time_ns);
/* The connection with this cookie, or NULL. */
const struct flow *flow_table_find(const struct flow_table *table, uint64_t cookie);
/* Time moved on to now_ns: report what waited long enough. */
void flow_table_advance(struct flow_table *table, uint64_t now_ns);
/* The end of the input: report everything still waiting. */
void flow_table_finish(struct flow_table *table);
size_t flow_table_count(const struct flow_table *table);
const struct flow_stats *flow_table_stats(const struct flow_table *table);

const char *name_source_name(enum name_source source);
const char *flow_outcome_name(enum flow_outcome outcome);

#endif /* ACCESSMON_FLOWS_H */
