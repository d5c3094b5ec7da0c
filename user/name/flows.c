// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* Captured connections: reassembly, HTTP requests, ClientHellos, DNS over TCP; see flows.h. */
#include "name/flows.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "parse/tls.h"

#define DNS_TCP_MESSAGE_MAX 65535

struct flow_pending {
	struct http_request request;
	uint64_t time_ns;
};

struct flow_table {
	struct hashtab table;
	size_t capacity;
	struct list_head lru; /* least recently used first */
	struct flow_callbacks callbacks;
	struct flow_stats stats;
	struct http_request scratch;
};

struct flow_table *flow_table_new(size_t capacity, const struct flow_callbacks *callbacks)
{
	struct flow_table *table = calloc(1, sizeof(*table));

	if (!table)
		return NULL;
	if (hashtab_init(&table->table, capacity)) {
		free(table);
		return NULL;
	}
	table->capacity = capacity ? capacity : 1;
	list_init(&table->lru);
	table->callbacks = *callbacks;
	return table;
}

static bool cookie_matches(const struct hashtab_node *node, const void *key)
{
	return hashtab_entry(node, struct flow, node)->cookie == *(const uint64_t *)key;
}

static struct flow *find(const struct flow_table *table, uint64_t cookie)
{
	struct hashtab_node *node =
		hashtab_find(&table->table, hash_u64(cookie), cookie_matches, &cookie);

	return node ? hashtab_entry(node, struct flow, node) : NULL;
}

static struct flow *least_recent(const struct flow_table *table)
{
	return list_first_entry_or_null(&table->lru, struct flow, lru);
}

static void touch(struct flow_table *table, struct flow *flow, uint64_t time_ns)
{
	if (time_ns > flow->last_ns)
		flow->last_ns = time_ns;
	list_move_tail(&flow->lru, &table->lru);
}

static enum flow_outcome outcome_of(const struct flow *flow, int status)
{
	if (status > 0)
		return OUTCOME_ANSWERED;
	if (flow->established)
		return OUTCOME_CONNECTED;
	if (flow->refused)
		return OUTCOME_NOT_CONNECTED;
	return OUTCOME_UNKNOWN;
}

static void say(struct flow_table *table, struct flow *flow, const struct http_request *request,
		const char *error, int status, uint64_t time_ns)
{
	struct flow_request what = {request, error, status, outcome_of(flow, status)};

	table->callbacks.http(table->callbacks.ctx, flow, &what, time_ns);
}

static void report_pending(struct flow_table *table, struct flow *flow, size_t n, int status)
{
	size_t i;

	if (n > flow->n_pending)
		n = flow->n_pending;
	for (i = 0; i < n; i++)
		say(table, flow, &flow->pending[i].request, NULL, i == 0 ? status : -1,
		    flow->pending[i].time_ns);
	if (!n)
		return;
	memmove(flow->pending, flow->pending + n, (flow->n_pending - n) * sizeof(*flow->pending));
	flow->n_pending -= n;
	table->stats.pending -= n;
}

static void release(struct flow_table *table, struct flow *flow)
{
	if (!flow->held)
		return;
	if (flow->naming.source == NAME_NONE && table->callbacks.fallback)
		table->callbacks.fallback(table->callbacks.ctx, flow);
	flow->held = false;
	table->callbacks.released(table->callbacks.ctx, flow);
}

/* --- the stream buffer ---------------------------------------------------------- */

static void stream_drop(struct flow_table *table, struct flow *flow)
{
	table->stats.stream_bytes -= flow->stream_cap;
	free(flow->stream);
	flow->stream = NULL;
	flow->stream_len = flow->stream_cap = 0;
}

/*
 * Appends to the stream, within the flow's own bound and the table's budget for
 * all streams; false (nothing appended) when either would be passed.
 */
static bool stream_append(struct flow_table *table, struct flow *flow, const uint8_t *data,
			  size_t len, size_t max)
{
	size_t cap = flow->stream_cap;
	char *grown;

	if (flow->stream_len + len > max)
		return false;
	if (flow->stream_len + len > cap) {
		while (cap < flow->stream_len + len)
			cap = cap ? cap * 2 : 2048;
		if (cap > max)
			cap = max;
		if (table->stats.stream_bytes - flow->stream_cap + cap > FLOW_STREAM_BUDGET)
			return false;
		grown = realloc(flow->stream, cap);
		if (!grown)
			return false;
		table->stats.stream_bytes += cap - flow->stream_cap;
		flow->stream = grown;
		flow->stream_cap = cap;
	}
	memcpy(flow->stream + flow->stream_len, data, len);
	flow->stream_len += len;
	return true;
}

static void stream_consume(struct flow *flow, size_t n)
{
	if (n > flow->stream_len)
		n = flow->stream_len;
	memmove(flow->stream, flow->stream + n, flow->stream_len - n);
	flow->stream_len -= n;
}

/* --- HTTP requests ---------------------------------------------------------------- */

/*
 * Bytes of the connection could not be read (lost before they were captured,
 * framing that cannot be followed, a bound reached): said once, judged at worst,
 * and read on from the next blank line, should more come that can be read.
 */
static void lost(struct flow_table *table, struct flow *flow, const char *why, uint64_t time_ns)
{
	flow->read = READ_RESYNC;
	flow->body_left = 0;
	if (flow->loss_said)
		return;
	flow->loss_said = true;
	flow->requests++;
	table->stats.lost++;
	report_pending(table, flow, flow->n_pending, -1);
	say(table, flow, NULL, why, -1, time_ns);
}

/*
 * A head cut short (the connection ended, or the head passed its bound): what can
 * be read of it is reported, truncated; a request line cut inside its target is
 * given a version to end it.
 */
static void report_cut_head(struct flow_table *table, struct flow *flow, uint64_t time_ns)
{
	struct http_request *request = &table->scratch;
	struct http_framing framing;
	size_t consumed, ending_len;
	const char *error, *ending;
	char *copy;

	/* Only a head holds bytes to read: a body or bytes passed over hold none. */
	if (!flow->stream_len || flow->read != READ_HEAD)
		return;
	ending = memchr(flow->stream, '\n', flow->stream_len) ? "\r\n\r\n" : " HTTP/1.1\r\n\r\n";
	ending_len = strlen(ending);
	copy = malloc(flow->stream_len + ending_len);
	if (!copy)
		return;
	memcpy(copy, flow->stream, flow->stream_len);
	memcpy(copy + flow->stream_len, ending, ending_len);
	if (http_parse_request(copy, flow->stream_len + ending_len, request, &consumed, &framing,
			       &error) == HTTP_COMPLETE) {
		request->truncated = true;
		table->stats.truncated++;
		flow->requests++;
		say(table, flow, request, NULL, -1, time_ns);
	} else {
		table->stats.unparseable++;
		flow->requests++;
		say(table, flow, NULL, error ? error : "a request cut short before its first line ended",
		    -1, time_ns);
	}
	free(copy);
}

static bool pending_grow(struct flow *flow)
{
	size_t capacity = flow->pending_capacity ? flow->pending_capacity * 2 : 1;
	struct flow_pending *grown;

	if (capacity > FLOW_PENDING_MAX)
		capacity = FLOW_PENDING_MAX;
	grown = realloc(flow->pending, capacity * sizeof(*flow->pending));
	if (!grown)
		return false;
	flow->pending = grown;
	flow->pending_capacity = capacity;
	return true;
}

/* A request read whole: it waits for its answer (within the per-flow and total bounds). */
static void request_read(struct flow_table *table, struct flow *flow,
			 const struct http_request *request, uint64_t time_ns)
{
	table->stats.requests++;
	flow->requests++;
	flow->loss_said = false;
	if (flow->n_pending && (flow->n_pending == FLOW_PENDING_MAX ||
				table->stats.pending >= FLOW_PENDING_TOTAL))
		report_pending(table, flow, 1, -1);
	if (flow->n_pending == flow->pending_capacity && !pending_grow(flow)) {
		say(table, flow, request, NULL, -1, time_ns);
		return;
	}
	flow->pending[flow->n_pending].request = *request;
	flow->pending[flow->n_pending].time_ns = time_ns;
	flow->n_pending++;
	table->stats.pending++;
}

/*
 * n bytes of the stream read as `kind`: taken from it, and told to whoever asked
 * to know how each byte was read (the trace's redaction).
 */
static void consume(struct flow_table *table, struct flow *flow, size_t n, enum flow_span kind)
{
	if (n > flow->stream_len)
		n = flow->stream_len;
	if (n && table->callbacks.span)
		table->callbacks.span(table->callbacks.ctx, flow,
				      flow->next_seq - (uint32_t)flow->stream_len, n, kind);
	stream_consume(flow, n);
}

/* A chunked body: its data apart from the sizes, extensions and trailers that frame it. */
static void chunks_read(struct flow_table *table, struct flow *flow)
{
	while (flow->stream_len && flow->chunks.state != CHUNK_DONE &&
	       flow->chunks.state != CHUNK_BAD) {
		bool data = flow->chunks.state == CHUNK_DATA;
		bool size = flow->chunks.state == CHUNK_SIZE;
		size_t want = data ? (flow->chunks.left < flow->stream_len ? (size_t)flow->chunks.left
									   : flow->stream_len)
				   : 1;
		size_t used = http_chunks_feed(&flow->chunks, flow->stream, want);

		if (flow->chunks.state == CHUNK_BAD)
			return;
		consume(table, flow, used,
			data ? SPAN_CHUNK_DATA : size ? SPAN_CHUNK_SIZE : SPAN_CHUNK_OTHER);
	}
}

/* Reads what the stream holds: heads, bodies, and after a loss up to a blank line. */
static void http_read(struct flow_table *table, struct flow *flow, uint64_t time_ns)
{
	while (flow->stream_len) {
		struct http_request *request = &table->scratch;
		struct http_framing framing;
		size_t consumed, used, i;
		const char *error;

		switch (flow->read) {
		case READ_LENGTH:
			used = flow->stream_len < flow->body_left ? flow->stream_len
								  : (size_t)flow->body_left;
			flow->body_left -= used;
			consume(table, flow, used, SPAN_BODY);
			if (!flow->body_left)
				flow->read = READ_HEAD;
			break;
		case READ_CHUNKS:
			chunks_read(table, flow);
			if (flow->chunks.state == CHUNK_BAD)
				lost(table, flow, "a chunked body framed as HTTP does not frame one",
				     time_ns);
			else if (flow->chunks.state == CHUNK_DONE)
				flow->read = READ_HEAD;
			break;
		case READ_RESYNC:
			for (i = 0; i + 3 < flow->stream_len; i++)
				if (memcmp(flow->stream + i, "\r\n\r\n", 4) == 0)
					break;
			if (i + 3 < flow->stream_len) {
				consume(table, flow, i + 4, SPAN_SKIPPED);
				flow->read = READ_HEAD;
			} else {
				consume(table, flow, flow->stream_len > 3 ? flow->stream_len - 3 : 0,
					SPAN_SKIPPED);
				return;
			}
			break;
		case READ_HEAD:
			switch (http_parse_request(flow->stream, flow->stream_len, request, &consumed,
						   &framing, &error)) {
			case HTTP_NEED_MORE:
				return;
			case HTTP_MALFORMED:
				table->stats.unparseable++;
				if (table->callbacks.span)
					table->callbacks.span(table->callbacks.ctx, flow,
							      flow->next_seq -
								      (uint32_t)flow->stream_len,
							      flow->stream_len, SPAN_MALFORMED);
				lost(table, flow, error, time_ns);
				break;
			case HTTP_COMPLETE:
				consume(table, flow, consumed, SPAN_HEAD);
				request_read(table, flow, request, time_ns);
				if (framing.body == HTTP_BODY_LENGTH) {
					flow->read = READ_LENGTH;
					flow->body_left = framing.length;
				} else if (framing.body == HTTP_BODY_CHUNKED) {
					flow->read = READ_CHUNKS;
					memset(&flow->chunks, 0, sizeof(flow->chunks));
				} else if (framing.body == HTTP_BODY_UNKNOWN) {
					lost(table, flow,
					     "a body framed in a way that cannot be followed (two "
					     "lengths, or a coding but chunked)",
					     time_ns);
				}
				break;
			}
			break;
		}
	}
}

/*
 * Takes the bytes of one record into the stream, in sequence order: a gap is a
 * loss, a retransmission adds nothing, an overlap adds what is new. Returns the
 * new bytes (data, len) to read, or len 0.
 */
static void place(struct flow *flow, const struct am_payload_record *record, const uint8_t **data,
		  size_t *len, bool *gap)
{
	int32_t ahead;
	size_t skip;

	*len = 0;
	*gap = false;
	if (!flow->seq_known) {
		flow->seq_known = true;
		flow->next_seq = record->seq;
	}
	ahead = (int32_t)(record->seq - flow->next_seq);
	if (ahead > 0) {
		*gap = true;
		flow->next_seq = record->seq;
		ahead = 0;
	}
	skip = (size_t)(-ahead);
	if (skip >= record->captured)
		return;
	*data = record->data + skip;
	*len = record->captured - skip;
	flow->next_seq += (uint32_t)*len;
}

static void http_request_payload(struct flow_table *table, struct flow *flow,
				 const struct am_payload_record *record)
{
	uint64_t time_ns = record->header.time_ns;
	const uint8_t *data;
	size_t len;
	bool gap;
	char why[160];

	if (record->flags & AM_PAYLOAD_LOST) {
		snprintf(why, sizeof(why),
			 "%u bytes and what followed were not captured (the pod's capture budget "
			 "was spent, or the ring buffer full)",
			 record->payload_len);
		report_cut_head(table, flow, time_ns);
		stream_drop(table, flow);
		lost(table, flow, why, time_ns);
		return;
	}
	place(flow, record, &data, &len, &gap);
	if (gap) {
		snprintf(why, sizeof(why), "bytes before sequence %u were never captured",
			 record->seq);
		report_cut_head(table, flow, time_ns);
		flow->stream_len = 0;
		lost(table, flow, why, time_ns);
	}
	if (!len)
		return;
	if (flow->read == READ_HEAD && !stream_append(table, flow, data, len, HTTP_MAX_REQUEST_HEAD)) {
		bool budget = flow->stream_len + len <= HTTP_MAX_REQUEST_HEAD;

		report_cut_head(table, flow, time_ns);
		flow->stream_len = 0;
		lost(table, flow,
		     budget ? "the monitor's memory for connections' streams was spent"
			    : "a request head longer than the monitor reads",
		     time_ns);
		stream_append(table, flow, data, len, HTTP_MAX_REQUEST_HEAD);
	} else if (flow->read != READ_HEAD &&
		   !stream_append(table, flow, data, len, HTTP_MAX_REQUEST_HEAD)) {
		/* Bodies and resynchronisation pass through a buffer of one record at most. */
		flow->stream_len = 0;
		lost(table, flow, "the monitor's memory for connections' streams was spent",
		     time_ns);
		return;
	}
	http_read(table, flow, time_ns);
}

/* --- TLS and DNS over TCP ----------------------------------------------------------- */

static void name_from_sni(struct flow *flow, const char *sni)
{
	/* The pod's own DNS answer named it, and the hello agrees: named by DNS. */
	if (flow->naming.source == NAME_DNS && strcasecmp(flow->naming.host, sni) == 0)
		return;
	if (flow->naming.source == NAME_DNS) {
		struct destination_class by_sni;

		flow->naming.mismatch = true;
		destination_classify_host(sni, &by_sni);
		if (destination_family(flow->naming.cls.service) &&
		    !destination_family(by_sni.service)) {
			/* A vault's address asked for some other site: still the vault. */
			snprintf(flow->naming.sni, sizeof(flow->naming.sni), "%s", sni);
			return;
		}
		/* The server name wins; what DNS said stays, as evidence. */
		snprintf(flow->naming.dns_host, sizeof(flow->naming.dns_host), "%s",
			 flow->naming.host);
	}
	snprintf(flow->naming.host, sizeof(flow->naming.host), "%s", sni);
	flow->naming.source = NAME_SNI;
	memset(&flow->naming.cls, 0, sizeof(flow->naming.cls));
	destination_classify_host(sni, &flow->naming.cls);
}

static void hello_payload(struct flow_table *table, struct flow *flow,
			  const struct am_payload_record *record)
{
	char sni[TLS_SNI_MAX + 1];
	const uint8_t *data;
	size_t len;
	bool gap;
	int rc;

	if (flow->hello_done)
		return;
	if (record->flags & AM_PAYLOAD_LOST) {
		flow->naming.hello_unread = true;
		goto done;
	}
	place(flow, record, &data, &len, &gap);
	if (gap || (len && !stream_append(table, flow, data, len, FLOW_HELLO_MAX))) {
		flow->naming.hello_unread = true;
		goto done;
	}
	rc = tls_client_hello_sni((const uint8_t *)flow->stream, flow->stream_len, sni, sizeof(sni));
	if (rc == -EAGAIN)
		return; /* more of the hello is coming */
	if (rc == 0)
		name_from_sni(flow, sni);
done:
	flow->hello_done = true;
	stream_drop(table, flow);
	release(table, flow);
}

static void dns_tcp_payload(struct flow_table *table, struct flow *flow,
			    const struct am_payload_record *record)
{
	const uint8_t *data;
	size_t len;
	bool gap;

	if (record->flags & AM_PAYLOAD_LOST) {
		flow->read = READ_RESYNC; /* the framing is gone: nothing more can be read */
		stream_drop(table, flow);
		return;
	}
	if (flow->read == READ_RESYNC)
		return;
	place(flow, record, &data, &len, &gap);
	if (gap || (len && !stream_append(table, flow, data, len, DNS_TCP_MESSAGE_MAX + 2))) {
		flow->read = READ_RESYNC;
		stream_drop(table, flow);
		return;
	}
	while (flow->stream_len >= 2) {
		size_t message = (size_t)((uint8_t)flow->stream[0] << 8 | (uint8_t)flow->stream[1]);

		if (flow->stream_len < message + 2)
			return;
		table->callbacks.dns(table->callbacks.ctx, flow, (const uint8_t *)flow->stream + 2,
				     message, record->header.time_ns);
		stream_consume(flow, message + 2);
	}
}

/* --- the table --------------------------------------------------------------------- */

static void flow_free(struct flow_table *table, struct flow *flow)
{
	hashtab_del(&table->table, &flow->node);
	list_del(&flow->lru);
	stream_drop(table, flow);
	table->stats.pending -= flow->n_pending;
	free(flow->pending);
	free(flow);
}

/*
 * Everything the flow still holds is reported; then it is forgotten. A connection
 * to IMDS or WireServer that asked nothing is said too, with what became of it.
 */
static void flow_end(struct flow_table *table, struct flow *flow, uint64_t time_ns)
{
	release(table, flow);
	report_pending(table, flow, flow->n_pending, -1);
	if (flow->connect.capture & AM_CAPTURE_HTTP) {
		report_cut_head(table, flow, time_ns);
		if (!flow->requests)
			say(table, flow, NULL, NULL, -1, time_ns);
	}
	flow_free(table, flow);
}

struct flow *flow_table_open(struct flow_table *table, const struct am_connect_record *record,
			     const struct naming *naming, bool hold)
{
	struct flow *flow = find(table, record->cookie);

	if (flow) {
		/* A socket connected again (UDP), or found twice at start: one conversation. */
		if (record->flags & AM_CONNECT_EXISTING)
			return flow;
		flow_end(table, flow, record->header.time_ns);
	}
	if (hashtab_count(&table->table) >= table->capacity) {
		table->stats.evicted++;
		flow_end(table, least_recent(table), record->header.time_ns);
	}
	flow = calloc(1, sizeof(*flow));
	if (!flow)
		return NULL;
	flow->cookie = record->cookie;
	flow->connect = *record;
	flow->naming = *naming;
	flow->held = hold;
	flow->held_since_ns = record->header.time_ns;
	flow->opened_ns = record->header.time_ns;
	flow->last_ns = record->header.time_ns;
	/*
	 * A connection older than the monitor: what it sends next is read as a new
	 * request. Sent in the middle of one, it does not parse, and is judged at worst.
	 */
	if (record->flags & AM_CONNECT_EXISTING) {
		flow->established = true;
		flow->read = READ_HEAD;
	}
	hashtab_add(&table->table, &flow->node, hash_u64(flow->cookie));
	list_add_tail(&flow->lru, &table->lru);
	return flow;
}

/* The connect of a connection first seen by its request bytes (see flow_callbacks.late). */
static struct flow *open_late(struct flow_table *table, const struct am_payload_record *record)
{
	struct am_connect_record connect = {0};
	struct naming naming = {0};

	if (record->kind != AM_PAYLOAD_HTTP_REQUEST || record->family != 4 || !record->cookie)
		return NULL;
	connect.header = record->header;
	connect.header.type = AM_REC_CONNECT;
	connect.header.size = sizeof(connect);
	connect.task.cgroup_id = record->cgroup_id;
	connect.task.pid = record->pid;
	connect.family = 4;
	connect.protocol = 6;
	connect.port = record->dport;
	connect.capture = AM_CAPTURE_HTTP;
	connect.flags = AM_CONNECT_EXISTING;
	connect.sport = record->sport;
	connect.cookie = record->cookie;
	memcpy(connect.addr, record->daddr, 4);
	if (table->callbacks.late)
		table->callbacks.late(table->callbacks.ctx, &connect, &naming);
	return flow_table_open(table, &connect, &naming, false);
}

void flow_table_payload(struct flow_table *table, const struct am_payload_record *record)
{
	struct flow *flow = find(table, record->cookie);

	if (!flow)
		flow = open_late(table, record);
	if (!flow)
		return;
	touch(table, flow, record->header.time_ns);
	switch (record->kind) {
	case AM_PAYLOAD_HTTP_REQUEST:
		if (flow->connect.capture & AM_CAPTURE_HTTP)
			http_request_payload(table, flow, record);
		break;
	case AM_PAYLOAD_HTTP_RESPONSE:
		if (flow->connect.capture & AM_CAPTURE_HTTP) {
			flow->established = true;
			report_pending(table, flow, 1,
				       http_parse_status((const char *)record->data,
							 record->captured));
		}
		break;
	case AM_PAYLOAD_TLS_HELLO:
		hello_payload(table, flow, record);
		break;
	case AM_PAYLOAD_DNS_TCP:
		if (flow->connect.capture & AM_CAPTURE_DNS_TCP)
			dns_tcp_payload(table, flow, record);
		break;
	}
}

void flow_table_state(struct flow_table *table, const struct am_flow_state_record *record)
{
	struct flow *flow = find(table, record->cookie);
	uint64_t time_ns = record->header.time_ns;

	if (!flow)
		return;
	touch(table, flow, time_ns);
	if (record->state == AM_FLOW_CONNECTING)
		flow->connecting = true;
	if (record->state == AM_FLOW_ESTABLISHED || (record->flags & AM_FLOW_WAS_ESTABLISHED))
		flow->established = true;
	if (record->state != AM_FLOW_CLOSED)
		return;
	if (!flow->established)
		flow->refused = true;
	/* Bytes the socket sent past the last one captured: lost at the very end. */
	if ((flow->connect.capture & AM_CAPTURE_HTTP) && flow->seq_known &&
	    (int32_t)(record->seq_end - flow->next_seq) > 0 && flow->read != READ_RESYNC) {
		report_cut_head(table, flow, time_ns);
		flow->stream_len = 0;
		lost(table, flow, "bytes the connection sent last were never captured", time_ns);
	} else if ((flow->connect.capture & AM_CAPTURE_HTTP) && (record->flags & AM_FLOW_LOST) &&
		   !flow->loss_said) {
		lost(table, flow, "bytes of the connection were not captured", time_ns);
	}
	flow_end(table, flow, time_ns);
}

void flow_table_close(struct flow_table *table, uint64_t cookie, uint64_t time_ns)
{
	struct flow *flow = find(table, cookie);

	if (flow)
		flow_end(table, flow, time_ns);
}

void flow_table_advance(struct flow_table *table, uint64_t now_ns)
{
	struct list_head *node, *next;

	list_for_each_safe(node, next, &table->lru) {
		struct flow *flow = list_entry(node, struct flow, lru);

		if (flow->held && now_ns - flow->held_since_ns > FLOW_HOLD_NS &&
		    now_ns > flow->held_since_ns)
			release(table, flow);
		while (flow->n_pending && now_ns > flow->pending[0].time_ns &&
		       now_ns - flow->pending[0].time_ns > FLOW_ANSWER_WAIT_NS)
			report_pending(table, flow, 1, -1);
		/*
		 * A connection to IMDS that asked nothing in its first seconds: said with
		 * what became of it (where the kernel reports connections' states, not
		 * established by now: its SYN was refused or dropped).
		 */
		if ((flow->connect.capture & AM_CAPTURE_HTTP) && !flow->requests &&
		    !flow->stream_len && now_ns > flow->opened_ns &&
		    now_ns - flow->opened_ns > FLOW_ANSWER_WAIT_NS) {
			if (flow->connecting && !flow->established)
				flow->refused = true;
			flow->requests++;
			say(table, flow, NULL, NULL, -1, now_ns);
		}
	}
}

void flow_table_finish(struct flow_table *table)
{
	struct flow *flow;

	while ((flow = least_recent(table)))
		flow_end(table, flow, flow->last_ns);
}

void flow_table_free(struct flow_table *table)
{
	struct flow *flow;

	if (!table)
		return;
	while ((flow = least_recent(table)))
		flow_free(table, flow);
	hashtab_release(&table->table);
	free(table);
}

size_t flow_table_count(const struct flow_table *table)
{
	return hashtab_count(&table->table);
}

const struct flow_stats *flow_table_stats(const struct flow_table *table)
{
	return &table->stats;
}

const char *name_source_name(enum name_source source)
{
	switch (source) {
	case NAME_DNS:
		return "dns";
	case NAME_SNI:
		return "sni";
	case NAME_FIXED:
		return "fixed";
	case NAME_SERVICE_TAG:
		return "service-tag";
	default:
		return "none";
	}
}

const struct flow *flow_table_find(const struct flow_table *table, uint64_t cookie)
{
	return find(table, cookie);
}

const char *flow_outcome_name(enum flow_outcome outcome)
{
	switch (outcome) {
	case OUTCOME_ANSWERED:
		return "answered";
	case OUTCOME_CONNECTED:
		return "connected";
	case OUTCOME_NOT_CONNECTED:
		return "not-connected";
	default:
		return "unknown";
	}
}
