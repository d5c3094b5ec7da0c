// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * libFuzzer target: the reassembly of a connection's bytes (flows.c) and the
 * trace's cleaning of them (redact.c). The input is a script: its first bytes say
 * how the stream is cut into the kernel's records, which are lost, repeated,
 * reordered or overlapped; the rest is what the pod sent. The same records are
 * read by one flow table as they came and by another after the redactor cleaned
 * them. Properties: the flow table gives back all it held; the spans it tells
 * go forward and never overlap; and both tables report the same requests,
 * errors and outcomes: a replay of the trace raises the alerts the live run did.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "accessmon.h"
#include "name/flows.h"
#include "trace/redact.h"

#define MAX_REPORTS 512

/* What a flow table reported, one line per request, error or empty connection. */
struct reports {
	char lines[MAX_REPORTS][160];
	size_t n;
	uint32_t span_next;
	int spans;
};

static void on_http(void *ctx, const struct flow *flow, const struct flow_request *what,
		    uint64_t time_ns)
{
	struct reports *r = ctx;
	const struct http_request *q = what->request;

	(void)flow, (void)time_ns;
	if (r->n == MAX_REPORTS)
		return;
	if (q)
		snprintf(r->lines[r->n++], sizeof(r->lines[0]), "%s %.40s %.30s %.30s %d %d %d %u",
			 q->method, q->canonical_path,
			 http_resource(q) ? http_resource(q) : "-",
			 http_selector_first(q, IMDS_CLIENT_ID) ? http_selector_first(q, IMDS_CLIENT_ID)
								 : "-",
			 q->truncated, q->ambiguous, what->status, q->n_selectors);
	else
		snprintf(r->lines[r->n++], sizeof(r->lines[0]), "! %.100s %d %d",
			 what->error ? what->error : "(none)", what->status, (int)what->outcome);
}

static void on_flow(void *ctx, struct flow *flow)
{
	(void)ctx, (void)flow;
}

static void on_dns(void *ctx, const struct flow *flow, const uint8_t *m, size_t len, uint64_t t)
{
	(void)ctx, (void)flow, (void)m, (void)len, (void)t;
}

static void on_span(void *ctx, const struct flow *flow, uint32_t seq, size_t len,
		    enum flow_span kind)
{
	struct reports *r = ctx;

	if (kind == SPAN_MALFORMED)
		return; /* told again as it is passed over */
	/* Spans go forward and never overlap (a gap in the capture may come between). */
	if (r->spans++ && (int32_t)(seq - r->span_next) < 0)
		abort();
	if (!len || len > flow->stream_len)
		abort(); /* a span is read from the stream */
	r->span_next = seq + (uint32_t)len;
}

static struct flow_table *table_for(struct reports *r)
{
	struct flow_callbacks callbacks = {on_http, on_flow, on_dns, NULL, on_span, NULL, r};

	return flow_table_new(4, &callbacks);
}

static void feed(struct flow_table *live, struct flow_table *replay, struct redactor *redactor,
		 const void *record, size_t size)
{
	const struct am_record_header *header = record;
	const void *clean = redactor_clean(redactor, record, size);

	if (!clean)
		abort();
	switch (header->type) {
	case AM_REC_CONNECT: {
		static const struct naming none;

		flow_table_open(live, record, &none, false);
		flow_table_open(replay, clean, &none, false);
		break;
	}
	case AM_REC_PAYLOAD:
		flow_table_payload(live, record);
		flow_table_payload(replay, clean);
		break;
	case AM_REC_FLOW_STATE:
		flow_table_state(live, record);
		flow_table_state(replay, clean);
		break;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct reports live_reports, replay_reports;
	static struct am_payload_record payload;
	struct am_connect_record connect = {0};
	struct am_flow_state_record state = {0};
	struct flow_table *live, *replay;
	struct redactor *redactor;
	size_t script, offset, cut, i;
	uint32_t seq = 1000;

	if (size < 4)
		return 0;
	/* data[0]: how many script bytes follow; each picks one record's cut and fate. */
	script = data[0] % 32;
	if (size < 1 + script)
		return 0;
	memset(&live_reports, 0, sizeof(live_reports));
	memset(&replay_reports, 0, sizeof(replay_reports));
	live = table_for(&live_reports);
	replay = table_for(&replay_reports);
	redactor = redactor_new();
	if (!live || !replay || !redactor)
		abort();
	connect.header.type = AM_REC_CONNECT;
	connect.header.size = sizeof(connect);
	connect.cookie = 42;
	connect.capture = AM_CAPTURE_HTTP;
	connect.family = 4;
	connect.protocol = 6;
	connect.port = 80;
	feed(live, replay, redactor, &connect, sizeof(connect));

	offset = 1 + script;
	for (i = 0; offset < size; i++) {
		uint8_t op = script ? data[1 + i % script] : 0;
		uint32_t at = seq;

		cut = (size_t)(op & 0x0f) * 64 + 1;
		if (cut > AM_PAYLOAD_LEN)
			cut = AM_PAYLOAD_LEN;
		if (cut > size - offset)
			cut = size - offset;
		memset(&payload, 0, sizeof(payload));
		payload.header.type = AM_REC_PAYLOAD;
		payload.header.size = sizeof(payload);
		payload.header.time_ns = 1000 + i;
		payload.cookie = 42;
		payload.kind = AM_PAYLOAD_HTTP_REQUEST;
		switch (op >> 4) {
		case 1: /* a gap: bytes never captured */
			at += 100;
			break;
		case 2: /* a retransmission overlapping what was sent */
			at -= (uint32_t)(cut / 2);
			break;
		case 3: /* the kernel stopped capturing */
			payload.flags = AM_PAYLOAD_LOST;
			payload.seq = at;
			payload.payload_len = (uint32_t)cut;
			feed(live, replay, redactor, &payload, sizeof(payload));
			seq += (uint32_t)cut;
			offset += cut;
			continue;
		case 4: /* a record that kept fewer bytes than its segment had */
			payload.flags = AM_PAYLOAD_TRUNCATED;
			break;
		default:
			break;
		}
		payload.seq = at;
		payload.payload_len = (uint32_t)cut + ((op >> 4) == 4 ? 7 : 0);
		payload.captured = (uint32_t)cut;
		memcpy(payload.data, data + offset, cut);
		feed(live, replay, redactor, &payload, sizeof(payload));
		seq = at + payload.payload_len;
		offset += cut;
		/* Now and then an answer, so that requests are reported as they go. */
		if (op & 0x80 && (op >> 4) != 3) {
			memset(&payload, 0, sizeof(payload));
			payload.header.type = AM_REC_PAYLOAD;
			payload.header.size = sizeof(payload);
			payload.cookie = 42;
			payload.kind = AM_PAYLOAD_HTTP_RESPONSE;
			payload.captured = payload.payload_len = 17;
			memcpy(payload.data, "HTTP/1.1 200 OK\r\n", 17);
			feed(live, replay, redactor, &payload, sizeof(payload));
		}
	}
	state.header.type = AM_REC_FLOW_STATE;
	state.header.size = sizeof(state);
	state.header.time_ns = 999999;
	state.cookie = 42;
	state.state = AM_FLOW_CLOSED;
	state.flags = AM_FLOW_WAS_ESTABLISHED;
	state.seq_end = seq;
	feed(live, replay, redactor, &state, sizeof(state));
	flow_table_finish(live);
	flow_table_finish(replay);

	for (i = 0; i < live_reports.n || i < replay_reports.n; i++) {
		if (i < live_reports.n && i < replay_reports.n &&
		    strcmp(live_reports.lines[i], replay_reports.lines[i]) == 0)
			continue;
		fprintf(stderr, "report %zu differs:\n  live:   %s\n  replay: %s\n", i,
			i < live_reports.n ? live_reports.lines[i] : "(none)",
			i < replay_reports.n ? replay_reports.lines[i] : "(none)");
		abort();
	}
	if (flow_table_stats(live)->stream_bytes != 0 || flow_table_stats(live)->pending != 0)
		abort(); /* everything held was given back */
	flow_table_free(live);
	flow_table_free(replay);
	redactor_free(redactor);
	return 0;
}
