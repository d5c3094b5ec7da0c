// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* Captured connections: naming, HTTP requests, DNS over TCP; see flows.h. */
#include "flows.h"

#include <stdlib.h>
#include <string.h>

#include "tls.h"

/* Bytes of a stream kept while waiting for a request head to complete. */
#define FLOW_STREAM_MAX (HTTP_MAX_REQUEST_HEAD + AM_PAYLOAD_LEN)
#define DNS_TCP_MESSAGE_MAX 65535

struct flow_pending {
	struct http_request request;
	uint64_t time_ns;
};

struct flow_table {
	struct flow **buckets;
	size_t n_buckets;
	size_t count;
	size_t capacity;
	struct flow *oldest, *newest;
	struct flow_callbacks callbacks;
	struct flow_stats stats;
	struct http_request scratch;
};

struct flow_table *flow_table_new(size_t capacity, const struct flow_callbacks *callbacks)
{
	struct flow_table *table = calloc(1, sizeof(*table));
	size_t n = 64;

	if (!table)
		return NULL;
	while (n < capacity)
		n *= 2;
	table->buckets = calloc(n, sizeof(*table->buckets));
	if (!table->buckets) {
		free(table);
		return NULL;
	}
	table->n_buckets = n;
	table->capacity = capacity ? capacity : 1;
	table->callbacks = *callbacks;
	return table;
}

static struct flow **find(struct flow_table *table, uint64_t cookie)
{
	struct flow **link = &table->buckets[(cookie * 0x9e3779b97f4a7c15ull >> 20) &
					     (table->n_buckets - 1)];

	while (*link && (*link)->cookie != cookie)
		link = &(*link)->hash_next;
	return link;
}

static void lru_unlink(struct flow_table *table, struct flow *flow)
{
	if (flow->older)
		flow->older->newer = flow->newer;
	else
		table->oldest = flow->newer;
	if (flow->newer)
		flow->newer->older = flow->older;
	else
		table->newest = flow->older;
	flow->older = flow->newer = NULL;
}

static void lru_push(struct flow_table *table, struct flow *flow)
{
	flow->older = table->newest;
	if (table->newest)
		table->newest->newer = flow;
	else
		table->oldest = flow;
	table->newest = flow;
}

static void touch(struct flow_table *table, struct flow *flow, uint64_t time_ns)
{
	if (time_ns > flow->last_ns)
		flow->last_ns = time_ns;
	lru_unlink(table, flow);
	lru_push(table, flow);
}

static void report_pending(struct flow_table *table, struct flow *flow, size_t n, int status)
{
	size_t i;

	for (i = 0; i < n && i < flow->n_pending; i++)
		table->callbacks.http(table->callbacks.ctx, flow, &flow->pending[i].request,
				      i == 0 ? status : -1, NULL, flow->pending[i].time_ns);
	if (n > flow->n_pending)
		n = flow->n_pending;
	if (!n)
		return;
	memmove(flow->pending, flow->pending + n, (flow->n_pending - n) * sizeof(*flow->pending));
	flow->n_pending -= n;
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

/*
 * The request head still in the stream when no more is coming (the connection
 * closed, or the capture stopped): whatever of it can be read is reported.
 */
static void report_partial(struct flow_table *table, struct flow *flow, uint64_t time_ns)
{
	struct http_request *request = &table->scratch;
	enum http_parse_result result;
	size_t consumed, missing, ending_len;
	const char *error, *ending;
	char *copy;

	if (!(flow->connect.capture & AM_CAPTURE_HTTP) || flow->unparseable ||
	    flow->stream_len == 0 || flow->skipping)
		goto done;
	/*
	 * A blank line completes the head, so that what is there parses; a request
	 * line cut short (a long target) is first given a version to end it.
	 */
	ending = memchr(flow->stream, '\n', flow->stream_len) ? "\r\n\r\n" : " HTTP/1.1\r\n\r\n";
	ending_len = strlen(ending);
	copy = malloc(flow->stream_len + ending_len);
	if (!copy)
		goto done;
	memcpy(copy, flow->stream, flow->stream_len);
	memcpy(copy + flow->stream_len, ending, ending_len);
	result = http_parse_request(copy, flow->stream_len + ending_len, request, &consumed,
				    &missing, &error);
	free(copy);
	if (result == HTTP_COMPLETE) {
		request->truncated = true;
		table->stats.truncated++;
		table->callbacks.http(table->callbacks.ctx, flow, request, -1, NULL, time_ns);
	} else {
		table->stats.unparseable++;
		table->callbacks.http(table->callbacks.ctx, flow, NULL, -1,
				      error ? error : "request cut short before its first line ended",
				      time_ns);
	}
done:
	flow->stream_len = 0;
}

static void flow_free(struct flow_table *table, struct flow *flow)
{
	struct flow **link = find(table, flow->cookie);

	if (*link == flow)
		*link = flow->hash_next;
	lru_unlink(table, flow);
	free(flow->stream);
	free(flow->pending);
	free(flow);
	table->count--;
}

/* Everything the flow still holds is reported; then it is forgotten. */
static void flow_end(struct flow_table *table, struct flow *flow, uint64_t time_ns)
{
	release(table, flow);
	report_pending(table, flow, flow->n_pending, -1);
	report_partial(table, flow, time_ns);
	flow_free(table, flow);
}

struct flow *flow_table_open(struct flow_table *table, const struct am_connect_record *record,
			     const struct naming *naming, bool hold)
{
	struct flow **link = find(table, record->cookie), *flow = *link;

	if (flow) {
		/* A socket connected again (UDP): the old conversation is over. */
		flow_end(table, flow, record->header.time_ns);
		link = find(table, record->cookie);
	}
	if (table->count >= table->capacity) {
		table->stats.evicted++;
		flow_end(table, table->oldest, record->header.time_ns);
		link = find(table, record->cookie);
	}
	flow = calloc(1, sizeof(*flow));
	if (!flow)
		return NULL;
	flow->cookie = record->cookie;
	flow->connect = *record;
	flow->naming = *naming;
	flow->held = hold;
	flow->held_since_ns = record->header.time_ns;
	flow->last_ns = record->header.time_ns;
	*link = flow;
	lru_push(table, flow);
	table->count++;
	return flow;
}

static bool stream_append(struct flow *flow, const uint8_t *data, size_t len, size_t max)
{
	char *grown;

	if (flow->stream_len + len > max)
		len = max > flow->stream_len ? max - flow->stream_len : 0;
	if (!len)
		return false;
	grown = realloc(flow->stream, flow->stream_len + len);
	if (!grown)
		return false;
	flow->stream = grown;
	memcpy(flow->stream + flow->stream_len, data, len);
	flow->stream_len += len;
	return true;
}

static void stream_consume(struct flow *flow, size_t n)
{
	memmove(flow->stream, flow->stream + n, flow->stream_len - n);
	flow->stream_len -= n;
	flow->stream_seq += (uint32_t)n;
}

/* After a gap: drop bytes up to the start of something that looks like a request. */
static void resync(struct flow *flow)
{
	size_t i;

	for (i = 0; i + 3 < flow->stream_len; i++) {
		if (memcmp(flow->stream + i, "\r\n\r\n", 4) == 0) {
			stream_consume(flow, i + 4);
			flow->resync = false;
			return;
		}
	}
	stream_consume(flow, flow->stream_len > 3 ? flow->stream_len - 3 : 0);
}

/*
 * Room for one more waiting request. Most connections carry one request at a
 * time: a request is large, so room for all FLOW_PENDING_MAX is not taken at once.
 */
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

static void parse_requests(struct flow_table *table, struct flow *flow, uint64_t time_ns)
{
	for (;;) {
		struct http_request *request = &table->scratch;
		enum http_parse_result result;
		size_t consumed, missing;
		const char *error;

		if (flow->resync) {
			resync(flow);
			if (flow->resync)
				return;
		}
		if (!flow->stream_len || flow->unparseable)
			return;
		result = http_parse_request(flow->stream, flow->stream_len, request, &consumed,
					    &missing, &error);
		if (result == HTTP_NEED_MORE)
			return;
		if (result == HTTP_MALFORMED) {
			flow->unparseable = true;
			table->stats.unparseable++;
			table->callbacks.http(table->callbacks.ctx, flow, NULL, -1, error, time_ns);
			flow->stream_len = 0;
			return;
		}
		table->stats.requests++;
		if (flow->n_pending == FLOW_PENDING_MAX)
			report_pending(table, flow, 1, -1);
		if (flow->n_pending == flow->pending_capacity && !pending_grow(flow))
			return;
		flow->pending[flow->n_pending].request = *request;
		flow->pending[flow->n_pending].time_ns = time_ns;
		flow->n_pending++;
		stream_consume(flow, consumed);
		if (missing) {
			flow->skipping = true;
			flow->skip_to = flow->stream_seq + (uint32_t)missing;
			return;
		}
	}
}

/* Places a segment in the stream by its sequence number; false when bytes were lost. */
static bool stream_place(struct flow *flow, const struct am_payload_record *record, size_t max)
{
	uint32_t end = flow->stream_seq + (uint32_t)flow->stream_len;
	int32_t ahead;
	size_t skip;

	if (!flow->seq_known) {
		flow->seq_known = true;
		flow->stream_seq = record->seq;
		end = record->seq;
	}
	if (flow->skipping) {
		int32_t left = (int32_t)(flow->skip_to - record->seq);

		if (left >= (int32_t)record->payload_len)
			return true; /* all body */
		flow->skipping = false;
		flow->stream_len = 0;
		flow->stream_seq = record->seq + (uint32_t)(left > 0 ? left : 0);
		end = flow->stream_seq;
		if (left < 0) {
			flow->resync = true; /* the body ended inside a segment we did not see */
			end = record->seq;
			flow->stream_seq = record->seq;
		}
	}
	ahead = (int32_t)(record->seq - end);
	if (ahead > 0)
		return false; /* a gap: bytes the capture did not see */
	skip = (size_t)(-ahead);
	if (skip >= record->captured)
		return true; /* a retransmission of what we have */
	stream_append(flow, record->data + skip, record->captured - skip, max);
	return record->captured == record->payload_len;
}

static void http_payload(struct flow_table *table, struct flow *flow,
			 const struct am_payload_record *record)
{
	uint64_t time_ns = record->header.time_ns;
	bool complete;

	if (record->kind == AM_PAYLOAD_HTTP_RESPONSE) {
		report_pending(table, flow, 1,
			       http_parse_status((const char *)record->data, record->captured));
		return;
	}
	if (flow->unparseable)
		return;
	complete = stream_place(flow, record, FLOW_STREAM_MAX);
	parse_requests(table, flow, time_ns);
	if (!complete || (flow->stream_len >= FLOW_STREAM_MAX)) {
		/* What is there of the current request is all there will be. */
		report_partial(table, flow, time_ns);
		flow->seq_known = true;
		flow->stream_seq = record->seq + record->payload_len;
		flow->resync = true;
	}
}

static void dns_tcp_payload(struct flow_table *table, struct flow *flow,
			    const struct am_payload_record *record)
{
	if (!stream_place(flow, record, DNS_TCP_MESSAGE_MAX + 2)) {
		flow->stream_len = 0; /* a lost segment: the framing is gone */
		flow->seq_known = false;
		return;
	}
	while (flow->stream_len >= 2) {
		size_t len = (size_t)((uint8_t)flow->stream[0] << 8 | (uint8_t)flow->stream[1]);

		if (flow->stream_len < len + 2)
			return;
		table->callbacks.dns(table->callbacks.ctx, flow, (const uint8_t *)flow->stream + 2,
				     len, record->header.time_ns);
		stream_consume(flow, len + 2);
	}
}

static void hello_payload(struct flow_table *table, struct flow *flow,
			  const struct am_payload_record *record)
{
	char sni[TLS_SNI_MAX + 1];

	if (!flow->held)
		return;
	if (tls_client_hello_sni(record->data, record->captured, sni, sizeof(sni)) == 0) {
		strcpy(flow->naming.host, sni);
		flow->naming.source = NAME_SNI;
		destination_classify_host(sni, &flow->naming.cls);
	}
	release(table, flow);
}

void flow_table_payload(struct flow_table *table, const struct am_payload_record *record)
{
	struct flow *flow = *find(table, record->cookie);

	if (!flow)
		return;
	touch(table, flow, record->header.time_ns);
	switch (record->kind) {
	case AM_PAYLOAD_HTTP_REQUEST:
	case AM_PAYLOAD_HTTP_RESPONSE:
		if (flow->connect.capture & AM_CAPTURE_HTTP)
			http_payload(table, flow, record);
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

void flow_table_close(struct flow_table *table, uint64_t cookie, uint64_t time_ns)
{
	struct flow *flow = *find(table, cookie);

	if (flow)
		flow_end(table, flow, time_ns);
}

void flow_table_advance(struct flow_table *table, uint64_t now_ns)
{
	struct flow *flow, *newer;

	for (flow = table->oldest; flow; flow = newer) {
		newer = flow->newer;
		if (flow->held && now_ns - flow->held_since_ns > FLOW_HOLD_NS &&
		    now_ns > flow->held_since_ns)
			release(table, flow);
		while (flow->n_pending && now_ns > flow->pending[0].time_ns &&
		       now_ns - flow->pending[0].time_ns > FLOW_ANSWER_WAIT_NS)
			report_pending(table, flow, 1, -1);
	}
}

void flow_table_finish(struct flow_table *table)
{
	while (table->oldest)
		flow_end(table, table->oldest, table->oldest->last_ns);
}

void flow_table_free(struct flow_table *table)
{
	if (!table)
		return;
	while (table->oldest)
		flow_free(table, table->oldest);
	free(table->buckets);
	free(table);
}

size_t flow_table_count(const struct flow_table *table)
{
	return table->count;
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
