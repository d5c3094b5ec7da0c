// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* What a trace must not keep of a kernel record; see redact.h. */
#include "trace/redact.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "accessmon.h"
#include "event/records.h"
#include "name/flows.h"
#include "parse/http.h"

#define HIDDEN '*'
/* The longest header name the pipeline reads: transfer-encoding. */
#define NAME_MAX_KEPT 17

/* What becomes of one byte of a request segment. */
enum action {
	UNREAD = 0,	/* read by no one (a retransmission, a connection not followed): hidden */
	HIDE,		/* a value or body byte */
	HIDE_BUT_LINES, /* hidden, but '\r' and '\n' stay: the framing may look for them */
	KEEP,		/* the request line, a name, a value the pipeline reads, a chunk size */
};

struct redactor {
	/* The pipeline's own reading of each request stream: it says how each byte is read. */
	struct flow_table *flows;
	/* The segment being cleaned: its sequence numbers, the first one read anew. */
	uint32_t seq, first_new;
	size_t len;
	uint8_t actions[AM_PAYLOAD_LEN];
	uint8_t *buf;
	size_t buf_len;
};

/*
 * Reads a request head as http_parse_request does, line by line, and says for
 * each byte whether it stays: the request line, every header's name, the values
 * of the headers the pipeline reads (Host, Metadata, Content-Length,
 * Transfer-Encoding), line ends; nothing else.
 */
static void head_actions(const char *head, size_t len, uint8_t *out)
{
	enum { REQUEST_LINE, NAME, KEPT_VALUE, HIDDEN_VALUE } state = REQUEST_LINE;
	static const char *const kept[] = {"host", "metadata", "content-length", "transfer-encoding"};
	char name[NAME_MAX_KEPT + 1];
	size_t name_len = 0, i, k;
	bool started = false; /* the request line has begun: blank lines before it are skipped */

	for (i = 0; i < len; i++) {
		char c = head[i];

		switch (state) {
		case REQUEST_LINE:
			out[i] = KEEP;
			if (c != '\r' && c != '\n')
				started = true;
			else if (c == '\n' && started)
				state = NAME;
			break;
		case NAME:
			out[i] = KEEP;
			if (c == '\n') {
				name_len = 0;
			} else if (c == ':') {
				bool keep = false;

				for (k = 0; name_len <= NAME_MAX_KEPT && k < sizeof(kept) / sizeof(*kept); k++)
					keep |= strlen(kept[k]) == name_len &&
						strncmp(kept[k], name, name_len) == 0;
				state = keep ? KEPT_VALUE : HIDDEN_VALUE;
			} else if (isalnum((unsigned char)c) || (c && strchr("!#$%&'*+-.^_`|~", c))) {
				if (name_len < NAME_MAX_KEPT)
					name[name_len] = (char)tolower((unsigned char)c);
				name_len += name_len <= NAME_MAX_KEPT;
			} else if (c == '\r') {
				/* Part of the name to the parser: no name it reads. */
				name_len = NAME_MAX_KEPT + 1;
			} else {
				/* Not a header: the parser ignores the line, and none of it is kept. */
				out[i] = HIDE_BUT_LINES;
				state = HIDDEN_VALUE;
			}
			break;
		case KEPT_VALUE:
			out[i] = KEEP;
			if (c == '\n') {
				state = NAME;
				name_len = 0;
			}
			break;
		case HIDDEN_VALUE:
			out[i] = HIDE_BUT_LINES;
			if (c == '\n') {
				state = NAME;
				name_len = 0;
			}
			break;
		}
	}
}

/*
 * Bytes [seq, seq + len) of a stream are read as `action`s: those of the segment
 * are noted. A byte read twice (a head that did not parse, then passed over)
 * keeps the most it was kept for.
 */
static void mark(struct redactor *r, uint32_t seq, size_t len, const uint8_t *actions, uint8_t all)
{
	for (size_t j = 0; j < len; j++) {
		uint32_t offset = seq + (uint32_t)j - r->seq;
		uint8_t action = actions ? actions[j] : all;

		if (offset < r->len && (int32_t)(seq + (uint32_t)j - r->first_new) >= 0 &&
		    action > r->actions[offset])
			r->actions[offset] = action;
	}
}

/* Whether [seq, seq + len) meets the segment being cleaned. */
static bool meets_segment(const struct redactor *r, uint32_t seq, size_t len)
{
	return (int32_t)(seq + (uint32_t)len - r->seq) > 0 &&
	       (int32_t)(seq - (r->seq + (uint32_t)r->len)) < 0;
}

/* The span is still in flow->stream when it is told: a head is read from there. */
static void on_span(void *ctx, const struct flow *flow, uint32_t seq, size_t len,
		    enum flow_span kind)
{
	struct redactor *r = ctx;
	uint8_t *actions;

	if (!meets_segment(r, seq, len))
		return;
	switch (kind) {
	case SPAN_HEAD:
	case SPAN_MALFORMED:
		actions = malloc(len);
		if (!actions)
			return; /* unmarked: hidden whole */
		head_actions(flow->stream, len, actions);
		mark(r, seq, len, actions, 0);
		free(actions);
		break;
	case SPAN_CHUNK_SIZE:
		mark(r, seq, len, NULL, KEEP);
		break;
	case SPAN_CHUNK_OTHER:
	case SPAN_SKIPPED:
		mark(r, seq, len, NULL, HIDE_BUT_LINES);
		break;
	case SPAN_BODY:
	case SPAN_CHUNK_DATA:
		mark(r, seq, len, NULL, HIDE);
		break;
	}
}

/* What the stream holds unread after the segment: a head not yet whole, or bytes passed over. */
static void mark_unread_tail(struct redactor *r, const struct flow *flow)
{
	uint32_t seq = flow->next_seq - (uint32_t)flow->stream_len;
	uint8_t *actions;

	if (!flow->stream_len || !meets_segment(r, seq, flow->stream_len))
		return;
	if (flow->read != READ_HEAD) {
		mark(r, seq, flow->stream_len, NULL, HIDE_BUT_LINES);
		return;
	}
	actions = malloc(flow->stream_len);
	if (!actions)
		return;
	head_actions(flow->stream, flow->stream_len, actions);
	mark(r, seq, flow->stream_len, actions, 0);
	free(actions);
}

static void ignore_http(void *ctx, const struct flow *flow, const struct flow_request *request,
			uint64_t time_ns)
{
	(void)ctx, (void)flow, (void)request, (void)time_ns;
}

static void ignore_flow(void *ctx, struct flow *flow)
{
	(void)ctx, (void)flow;
}

static void ignore_dns(void *ctx, const struct flow *flow, const uint8_t *message, size_t len,
		       uint64_t time_ns)
{
	(void)ctx, (void)flow, (void)message, (void)len, (void)time_ns;
}

struct redactor *redactor_new(void)
{
	struct redactor *r = calloc(1, sizeof(*r));
	struct flow_callbacks callbacks = {ignore_http, ignore_flow, ignore_dns, NULL, on_span, NULL, r};

	if (!r)
		return NULL;
	r->flows = flow_table_new(REDACT_FLOWS_MAX, &callbacks);
	if (!r->flows) {
		free(r);
		return NULL;
	}
	return r;
}

void redactor_free(struct redactor *r)
{
	if (!r)
		return;
	flow_table_free(r->flows);
	free(r->buf);
	free(r);
}

size_t redactor_flows(const struct redactor *r)
{
	return flow_table_count(r->flows);
}

static void zero_after_nul(char *s, size_t n)
{
	size_t len = strnlen(s, n);

	if (len < n)
		memset(s + len, 0, n - len);
}

/*
 * A request segment: read by the same flow table the pipeline reads with, which
 * says how each byte is read; what is read as a value or a body is hidden.
 * `original` goes to the flow table as it came, `record` is the copy cleaned.
 */
static void clean_request(struct redactor *r, const struct am_payload_record *original,
			  struct am_payload_record *record, uint32_t captured)
{
	const struct flow *flow = flow_table_find(r->flows, original->cookie);
	uint32_t i;

	r->seq = original->seq;
	r->len = captured;
	r->first_new = original->seq;
	memset(r->actions, UNREAD, sizeof(r->actions));
	/* What the flow table already read of a retransmission it reads no more. */
	if (flow && flow->seq_known && (int32_t)(original->seq - flow->next_seq) < 0)
		r->first_new = flow->next_seq;
	flow_table_payload(r->flows, original);
	flow = flow_table_find(r->flows, original->cookie);
	if (flow)
		mark_unread_tail(r, flow);
	for (i = 0; i < captured; i++) {
		uint8_t *c = &record->data[i];

		switch (r->actions[i]) {
		case KEEP:
			break;
		case HIDE_BUT_LINES:
			if (*c != '\r' && *c != '\n')
				*c = HIDDEN;
			break;
		default:
			*c = HIDDEN;
		}
	}
}

static void clean_payload(struct redactor *r, const struct am_payload_record *original,
			  struct am_payload_record *record)
{
	uint32_t captured = record->captured < AM_PAYLOAD_LEN ? record->captured : AM_PAYLOAD_LEN;
	uint8_t *line_end;

	memset(record->data + captured, 0, AM_PAYLOAD_LEN - captured);
	switch (record->kind) {
	case AM_PAYLOAD_HTTP_REQUEST:
		clean_request(r, original, record, captured);
		break;
	case AM_PAYLOAD_HTTP_RESPONSE:
		/* The status line is all the pipeline reads of an answer. */
		line_end = memchr(record->data, '\n', captured);
		if (line_end)
			memset(line_end + 1, HIDDEN,
			       captured - (size_t)(line_end + 1 - record->data));
		break;
	default:
		/*
		 * TLS hellos and DNS answers hold names, which the records show anyway; a
		 * packet to IMDS or WireServer, its first bytes, which carry no secret.
		 */
		break;
	}
}

/*
 * Cleans what the record's type says may not be its own: its strings past their
 * NUL, the rest of its argv or payload bytes.
 */
static void clean_record(struct redactor *r, const struct record_type *type, const void *original,
			 void *data)
{
	const struct record_string *string;
	struct am_exec_record *exec;
	size_t used;

	for (string = type->strings; string < type->strings + RECORD_STRINGS_MAX && string->size;
	     string++)
		zero_after_nul((char *)data + string->offset, string->size);
	switch (type->extra) {
	case RECORD_EXTRA_ARGS:
		exec = data;
		used = exec->args_size < AM_ARGS_LEN ? exec->args_size : AM_ARGS_LEN;
		memset(exec->args + used, 0, AM_ARGS_LEN - used);
		break;
	case RECORD_EXTRA_PAYLOAD:
		clean_payload(r, original, data);
		break;
	case RECORD_EXTRA_NONE:
		break;
	}
}

/*
 * The connections the pipeline reads requests of are the ones the redactor
 * follows. The record is as long as its type.
 */
static void follow(struct redactor *r, const void *data)
{
	const struct am_record_header *header = data;
	static const struct naming none;

	switch (header->type) {
	case AM_REC_CONNECT:
	case AM_REC_SEND: {
		const struct am_connect_record *connect = data;

		if ((connect->capture & AM_CAPTURE_HTTP) && connect->cookie)
			flow_table_open(r->flows, connect, &none, false);
		break;
	}
	case AM_REC_FLOW_CLOSE:
		flow_table_close(r->flows, ((const struct am_flow_close_record *)data)->cookie,
				 header->time_ns);
		break;
	case AM_REC_FLOW_STATE:
		if (((const struct am_flow_state_record *)data)->state == AM_FLOW_CLOSED)
			flow_table_close(r->flows, ((const struct am_flow_state_record *)data)->cookie,
					 header->time_ns);
		break;
	default:
		break;
	}
}

const void *redactor_clean(struct redactor *r, const void *data, size_t size)
{
	const struct am_record_header *header = data;
	const struct record_type *type;

	if (size < sizeof(*header))
		return data;
	/* A record shorter than its type has none of its fields to follow or clean. */
	type = record_type(header->type);
	if (!type || size < type->size)
		return data;
	follow(r, data);
	if (!record_type_needs_cleaning(type))
		return data;
	if (size > r->buf_len) {
		uint8_t *buf = realloc(r->buf, size);

		if (!buf)
			return NULL;
		r->buf = buf;
		r->buf_len = size;
	}
	memcpy(r->buf, data, size);
	clean_record(r, type, data, r->buf);
	return r->buf;
}
