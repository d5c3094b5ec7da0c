// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * Unit tests: captured connections (flows.c). Every request a connection carries
 * is read, whatever the writes and records it came in: pipelined, behind bodies
 * of any length or chunked, split anywhere; what cannot be read is said once and
 * judged at worst; outcomes follow the kernel's state records; ClientHellos and
 * DNS messages are put back together; the spans tell how every byte was read.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "name/flows.h"

#define MAX_SEEN 64

/* What the flow table told the pipeline. */
struct seen {
	int http;
	struct {
		bool read; /* a request; else error or none */
		char path[512];
		char client_id[HTTP_ID_MAX];
		char resource[HTTP_VALUE_MAX];
		char error[200];
		int status;
		enum flow_outcome outcome;
		bool truncated, incomplete;
	} requests[MAX_SEEN];
	int released;
	char released_host[256];
	struct naming released_naming;
	int dns;
	size_t dns_len[MAX_SEEN];
	/* Spans, merged: the next byte expected and how many bytes of each kind. */
	uint32_t span_next;
	bool span_started;
	size_t span_bytes[SPAN_MALFORMED + 1];
	int span_out_of_order;
};

static void on_http(void *ctx, const struct flow *flow, const struct flow_request *what,
		    uint64_t time_ns)
{
	struct seen *seen = ctx;
	int n = seen->http++;

	(void)flow, (void)time_ns;
	assert_true(n < MAX_SEEN);
	memset(&seen->requests[n], 0, sizeof(seen->requests[n]));
	seen->requests[n].status = what->status;
	seen->requests[n].outcome = what->outcome;
	snprintf(seen->requests[n].error, sizeof(seen->requests[n].error), "%s",
		 what->error ? what->error : "");
	if (what->request) {
		const char *client = http_selector_first(what->request, IMDS_CLIENT_ID);
		const char *resource = http_resource(what->request);

		seen->requests[n].read = true;
		snprintf(seen->requests[n].path, sizeof(seen->requests[n].path), "%s",
			 what->request->path);
		snprintf(seen->requests[n].client_id, sizeof(seen->requests[n].client_id), "%s",
			 client ? client : "");
		snprintf(seen->requests[n].resource, sizeof(seen->requests[n].resource), "%s",
			 resource ? resource : "");
		seen->requests[n].truncated = what->request->truncated;
		seen->requests[n].incomplete = what->request->incomplete;
	}
}

static void on_released(void *ctx, struct flow *flow)
{
	struct seen *seen = ctx;

	seen->released++;
	snprintf(seen->released_host, sizeof(seen->released_host), "%s", flow->naming.host);
	seen->released_naming = flow->naming;
}

static void on_dns(void *ctx, const struct flow *flow, const uint8_t *message, size_t len,
		   uint64_t time_ns)
{
	struct seen *seen = ctx;

	(void)flow, (void)message, (void)time_ns;
	assert_true(seen->dns < MAX_SEEN);
	seen->dns_len[seen->dns++] = len;
}

static void on_span(void *ctx, const struct flow *flow, uint32_t seq, size_t len,
		    enum flow_span kind)
{
	struct seen *seen = ctx;

	(void)flow;
	if (kind == SPAN_MALFORMED)
		return; /* told again as it is passed over */
	if (seen->span_started && seq != seen->span_next)
		seen->span_out_of_order++;
	seen->span_started = true;
	seen->span_next = seq + (uint32_t)len;
	seen->span_bytes[kind] += len;
}

static struct flow_table *table_for(struct seen *seen, size_t capacity)
{
	struct flow_callbacks callbacks = {on_http, on_released, on_dns, NULL, on_span, NULL, seen};

	memset(seen, 0, sizeof(*seen));
	return flow_table_new(capacity, &callbacks);
}

static struct am_connect_record connect_to(uint64_t cookie, uint8_t capture, uint64_t time_ns)
{
	struct am_connect_record record = {0};

	record.header.type = AM_REC_CONNECT;
	record.header.time_ns = time_ns;
	record.cookie = cookie;
	record.capture = capture;
	record.family = 4;
	record.protocol = 6;
	record.port = 80;
	return record;
}

static struct flow *open_flow(struct flow_table *table, uint64_t cookie, uint8_t capture,
			      const char *dns_host)
{
	struct am_connect_record connect = connect_to(cookie, capture, 100);
	struct naming naming = {0};
	struct flow *flow;

	if (dns_host) {
		snprintf(naming.host, sizeof(naming.host), "%s", dns_host);
		naming.source = NAME_DNS;
		destination_classify_host(dns_host, &naming.cls);
	}
	flow = flow_table_open(table, &connect, &naming, capture == AM_CAPTURE_TLS);
	assert_non_null(flow);
	return flow;
}

static struct am_payload_record *payload(uint64_t cookie, uint8_t kind, uint32_t seq,
					 const void *data, size_t len, uint64_t time_ns)
{
	static struct am_payload_record record;

	memset(&record, 0, sizeof(record));
	record.header.type = AM_REC_PAYLOAD;
	record.header.time_ns = time_ns;
	record.cookie = cookie;
	record.kind = kind;
	record.seq = seq;
	record.payload_len = (uint32_t)len;
	record.captured = (uint32_t)(len > AM_PAYLOAD_LEN ? AM_PAYLOAD_LEN : len);
	memcpy(record.data, data, record.captured);
	return &record;
}

/*
 * Sends a stream as the kernel captures one write: records of AM_PAYLOAD_LEN
 * bytes (cut: of at most `cut`), each with its sequence number. Returns the next.
 */
static uint32_t send_stream(struct flow_table *table, uint64_t cookie, uint8_t kind, uint32_t seq,
			    const char *data, size_t len, size_t cut)
{
	size_t offset = 0;

	if (!cut || cut > AM_PAYLOAD_LEN)
		cut = AM_PAYLOAD_LEN;
	while (offset < len) {
		size_t n = len - offset < cut ? len - offset : cut;

		flow_table_payload(table, payload(cookie, kind, seq + (uint32_t)offset,
						  data + offset, n, 1000));
		offset += n;
	}
	return seq + (uint32_t)len;
}

static void answer(struct flow_table *table, uint64_t cookie, int status)
{
	char line[64];

	snprintf(line, sizeof(line), "HTTP/1.1 %d X\r\n", status);
	flow_table_payload(table, payload(cookie, AM_PAYLOAD_HTTP_RESPONSE, 1, line, strlen(line),
					  1100));
}

static void state(struct flow_table *table, uint64_t cookie, uint8_t which, uint8_t flags,
		  uint32_t seq_end, uint64_t time_ns)
{
	struct am_flow_state_record record = {0};

	record.header.type = AM_REC_FLOW_STATE;
	record.header.time_ns = time_ns;
	record.cookie = cookie;
	record.state = which;
	record.flags = flags;
	record.seq_end = seq_end;
	flow_table_state(table, &record);
}

#define TOKEN "GET /metadata/identity/oauth2/token?api-version=2018-02-01&resource=https://vault.azure.net&client_id=kubelet HTTP/1.1\r\nMetadata: true\r\n\r\n"

static void flows_follow_requests_and_answers(void **unused)
{
	struct seen seen;
	struct flow_table *table = table_for(&seen, 8);
	const char part1[] = "GET /metadata/identity/oauth2/token?client_id=split HTT";
	const char part2[] = "P/1.1\r\nMetadata: true\r\n\r\n";
	uint32_t seq = 1000;

	(void)unused;
	open_flow(table, 7, AM_CAPTURE_HTTP, NULL);
	flow_table_payload(table, payload(7, AM_PAYLOAD_HTTP_REQUEST, seq, part1, strlen(part1), 110));
	/* A retransmission of the first part changes nothing. */
	flow_table_payload(table, payload(7, AM_PAYLOAD_HTTP_REQUEST, seq, part1, strlen(part1), 111));
	seq += strlen(part1);
	seq = send_stream(table, 7, AM_PAYLOAD_HTTP_REQUEST, seq, part2, strlen(part2), 0);
	assert_int_equal(seen.http, 0); /* waiting for the answer */
	answer(table, 7, 200);
	assert_int_equal(seen.http, 1);
	assert_string_equal(seen.requests[0].path, "/metadata/identity/oauth2/token");
	assert_string_equal(seen.requests[0].client_id, "split");
	assert_int_equal(seen.requests[0].status, 200);
	assert_int_equal(seen.requests[0].outcome, OUTCOME_ANSWERED);

	/* No answer: reported once the records' clock has moved on. */
	send_stream(table, 7, AM_PAYLOAD_HTTP_REQUEST, seq, "GET /metadata/instance HTTP/1.1\r\n\r\n",
		    35, 0);
	flow_table_advance(table, 1000 + FLOW_ANSWER_WAIT_NS / 2);
	assert_int_equal(seen.http, 1);
	flow_table_advance(table, 1001 + FLOW_ANSWER_WAIT_NS);
	assert_int_equal(seen.http, 2);
	assert_int_equal(seen.requests[1].status, -1);
	flow_table_close(table, 7, 5000);
	assert_int_equal(flow_table_count(table), 0);
	assert_int_equal(seen.span_out_of_order, 0);
	flow_table_free(table);
}

/*
 * The token request comes after padding: a first request padded past 1 KiB in
 * the same write, a body of many KiB, a chunked body; every record cut short
 * anywhere. Each time, the token request is read whole.
 */
static void padding_hides_no_request(void **unused)
{
	static const size_t cuts[] = {1, 7, 100, 512, AM_PAYLOAD_LEN};
	static char stream[80000], pad[70000];
	const char *shapes[4];
	size_t i, c;

	(void)unused;
	memset(pad, 'a', sizeof(pad) - 1);
	pad[40000] = '\0';
	for (i = 0; i < 4; i++) {
		switch (i) {
		case 0: /* pipelined: a long first request line in the same write */
			snprintf(stream, sizeof(stream), "GET /metadata/versions?x=%.3000s HTTP/1.1\r\n\r\n%s",
				 pad, TOKEN);
			break;
		case 1: /* keep-alive: a first request with a 40 KB body */
			snprintf(stream, sizeof(stream),
				 "POST /metadata/versions HTTP/1.1\r\nContent-Length: 40000\r\n\r\n%s%s",
				 pad, TOKEN);
			break;
		case 2: /* a chunked body, with an extension and a trailer */
			snprintf(stream, sizeof(stream),
				 "POST /x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
				 "5;ext=1\r\nhello\r\n9c40\r\n%s\r\n0\r\nTrailer: x\r\n\r\n%s",
				 pad, TOKEN);
			break;
		case 3: /* headers of 20 KB before the blank line */
			snprintf(stream, sizeof(stream),
				 "GET /metadata/versions HTTP/1.1\r\nX-Pad: %.20000s\r\n\r\n%s", pad,
				 TOKEN);
			break;
		}
		shapes[i] = stream;
		for (c = 0; c < sizeof(cuts) / sizeof(*cuts); c++) {
			struct seen seen;
			struct flow_table *table = table_for(&seen, 8);

			open_flow(table, 1, AM_CAPTURE_HTTP, NULL);
			send_stream(table, 1, AM_PAYLOAD_HTTP_REQUEST, 77, shapes[i], strlen(shapes[i]),
				    cuts[c]);
			flow_table_close(table, 1, 9000);
			assert_int_equal(seen.http, 2);
			assert_true(seen.requests[1].read);
			assert_string_equal(seen.requests[1].path, "/metadata/identity/oauth2/token");
			assert_string_equal(seen.requests[1].client_id, "kubelet");
			assert_string_equal(seen.requests[1].resource, "https://vault.azure.net");
			assert_false(seen.requests[1].incomplete);
			/* Every byte was read once, in order, as what it is. */
			assert_int_equal(seen.span_out_of_order, 0);
			assert_int_equal(seen.span_bytes[SPAN_HEAD] + seen.span_bytes[SPAN_BODY] +
						 seen.span_bytes[SPAN_CHUNK_SIZE] +
						 seen.span_bytes[SPAN_CHUNK_OTHER] +
						 seen.span_bytes[SPAN_CHUNK_DATA],
					 strlen(shapes[i]));
			if (i == 1)
				assert_int_equal(seen.span_bytes[SPAN_BODY], 40000);
			if (i == 2)
				assert_int_equal(seen.span_bytes[SPAN_CHUNK_DATA], 40005);
			flow_table_free(table);
		}
	}
}

/* Sixteen requests in one write, none answered yet: each is reported. */
static void pipelined_requests_are_each_reported(void **unused)
{
	struct seen seen;
	struct flow_table *table = table_for(&seen, 8);
	char stream[8192] = "";
	int i;

	(void)unused;
	for (i = 0; i < 16; i++) {
		char one[256];

		snprintf(one, sizeof(one),
			 "GET /metadata/identity/oauth2/token?resource=r%d&client_id=c%d HTTP/1.1\r\n\r\n",
			 i, i);
		strcat(stream, one);
	}
	open_flow(table, 2, AM_CAPTURE_HTTP, NULL);
	send_stream(table, 2, AM_PAYLOAD_HTTP_REQUEST, 1, stream, strlen(stream), 0);
	for (i = 0; i < 16; i++)
		answer(table, 2, 200);
	assert_int_equal(seen.http, 16);
	assert_string_equal(seen.requests[15].client_id, "c15");
	assert_string_equal(seen.requests[15].resource, "r15");
	flow_table_free(table);
}

/* What could not be read is said once, judged at worst, and reading goes on after it. */
static void losses_are_said_and_judged(void **unused)
{
	struct seen seen;
	struct flow_table *table = table_for(&seen, 8);
	struct am_payload_record *lost;
	const char first[] = "GET /metadata/instance HTTP/1.1\r\nX: 1";
	uint32_t seq;

	(void)unused;
	/* A gap: the head before it is reported cut, the loss is said; then the next request. */
	open_flow(table, 3, AM_CAPTURE_HTTP, NULL);
	seq = send_stream(table, 3, AM_PAYLOAD_HTTP_REQUEST, 10, first, strlen(first), 0);
	send_stream(table, 3, AM_PAYLOAD_HTTP_REQUEST, seq + 500, "xx\r\n\r\n" TOKEN,
		    6 + strlen(TOKEN), 0);
	flow_table_close(table, 3, 9000);
	assert_int_equal(seen.http, 3);
	assert_true(seen.requests[0].read && seen.requests[0].truncated);
	assert_false(seen.requests[1].read);
	assert_non_null(strstr(seen.requests[1].error, "never captured"));
	assert_true(seen.requests[2].read);
	assert_string_equal(seen.requests[2].client_id, "kubelet");
	flow_table_free(table);

	/* The kernel stopped capturing (the pod's budget): the rest is lost, said once. */
	table = table_for(&seen, 8);
	open_flow(table, 4, AM_CAPTURE_HTTP, NULL);
	seq = send_stream(table, 4, AM_PAYLOAD_HTTP_REQUEST, 10, TOKEN, strlen(TOKEN), 0);
	lost = payload(4, AM_PAYLOAD_HTTP_REQUEST, seq, "", 0, 1200);
	lost->flags = AM_PAYLOAD_LOST;
	lost->payload_len = 3000;
	flow_table_payload(table, lost);
	flow_table_payload(table, lost);
	flow_table_close(table, 4, 9000);
	assert_int_equal(seen.http, 2);
	assert_true(seen.requests[0].read);
	assert_false(seen.requests[1].read);
	assert_non_null(strstr(seen.requests[1].error, "not captured"));
	flow_table_free(table);

	/* Two lengths that disagree: where the next request starts is unknown. */
	table = table_for(&seen, 8);
	open_flow(table, 5, AM_CAPTURE_HTTP, NULL);
	send_stream(table, 5, AM_PAYLOAD_HTTP_REQUEST, 10,
		    "POST /x HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nabcde" TOKEN,
		    strlen("POST /x HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nabcde" TOKEN),
		    0);
	flow_table_close(table, 5, 9000);
	assert_true(seen.http >= 2);
	assert_false(seen.requests[1].read);
	assert_non_null(strstr(seen.requests[1].error, "cannot be followed"));
	flow_table_free(table);

	/* Bytes sent after the last one captured: known from the close, lost at the end. */
	table = table_for(&seen, 8);
	open_flow(table, 6, AM_CAPTURE_HTTP, NULL);
	seq = send_stream(table, 6, AM_PAYLOAD_HTTP_REQUEST, 10, TOKEN, strlen(TOKEN), 0);
	answer(table, 6, 200);
	state(table, 6, AM_FLOW_CLOSED, AM_FLOW_WAS_ESTABLISHED, seq + 90, 9000);
	assert_int_equal(seen.http, 2);
	assert_false(seen.requests[1].read);
	assert_non_null(strstr(seen.requests[1].error, "sent last"));
	flow_table_free(table);

	/* A head past its bound: what was read is reported, the rest judged. */
	table = table_for(&seen, 8);
	{
		static char huge[HTTP_MAX_REQUEST_HEAD + 4096];

		memset(huge, 'h', sizeof(huge) - 1);
		memcpy(huge, "GET /metadata/identity/oauth2/token?client_id=long HTTP/1.1\r\nX: ", 64);
		open_flow(table, 7, AM_CAPTURE_HTTP, NULL);
		send_stream(table, 7, AM_PAYLOAD_HTTP_REQUEST, 10, huge, strlen(huge), 0);
		flow_table_close(table, 7, 9000);
		assert_int_equal(seen.http, 2);
		assert_true(seen.requests[0].truncated);
		assert_string_equal(seen.requests[0].client_id, "long");
		assert_false(seen.requests[1].read);
		assert_non_null(strstr(seen.requests[1].error, "longer than the monitor reads"));
	}
	flow_table_free(table);

	/* Not HTTP at all: unreadable, said, judged. */
	table = table_for(&seen, 8);
	open_flow(table, 8, AM_CAPTURE_HTTP, NULL);
	send_stream(table, 8, AM_PAYLOAD_HTTP_REQUEST, 10, "\x16\x03\x01garbage\r\n", 12, 0);
	flow_table_close(table, 8, 9000);
	assert_int_equal(seen.http, 1);
	assert_false(seen.requests[0].read);
	assert_true(seen.requests[0].error[0] != '\0');
	flow_table_free(table);
}

/* The kernel's state records say what became of a connection that asked nothing. */
static void outcomes_follow_the_kernel(void **unused)
{
	struct seen seen;
	struct flow_table *table = table_for(&seen, 8);

	(void)unused;
	/* Its SYN went out and it closed without being established: refused or dropped. */
	open_flow(table, 1, AM_CAPTURE_HTTP, NULL);
	state(table, 1, AM_FLOW_CONNECTING, 0, 0, 150);
	state(table, 1, AM_FLOW_CLOSED, 0, 0, 200);
	assert_int_equal(seen.http, 1);
	assert_false(seen.requests[0].read);
	assert_string_equal(seen.requests[0].error, "");
	assert_int_equal(seen.requests[0].outcome, OUTCOME_NOT_CONNECTED);

	/* Established, then silent: connected. */
	open_flow(table, 2, AM_CAPTURE_HTTP, NULL);
	state(table, 2, AM_FLOW_CONNECTING, 0, 0, 150);
	state(table, 2, AM_FLOW_ESTABLISHED, 0, 0, 160);
	flow_table_advance(table, 200 + FLOW_ANSWER_WAIT_NS);
	assert_int_equal(seen.http, 2);
	assert_int_equal(seen.requests[1].outcome, OUTCOME_CONNECTED);

	/* A SYN dropped, still unanswered after the wait: not connected. */
	open_flow(table, 3, AM_CAPTURE_HTTP, NULL);
	state(table, 3, AM_FLOW_CONNECTING, 0, 0, 150);
	flow_table_advance(table, 300 + 2 * FLOW_ANSWER_WAIT_NS);
	assert_int_equal(seen.http, 3);
	assert_int_equal(seen.requests[2].outcome, OUTCOME_NOT_CONNECTED);

	/* A request without an answer on an established connection. */
	open_flow(table, 4, AM_CAPTURE_HTTP, NULL);
	state(table, 4, AM_FLOW_ESTABLISHED, 0, 0, 150);
	send_stream(table, 4, AM_PAYLOAD_HTTP_REQUEST, 1, TOKEN, strlen(TOKEN), 0);
	flow_table_close(table, 4, 9000);
	assert_int_equal(seen.http, 4);
	assert_int_equal(seen.requests[3].outcome, OUTCOME_CONNECTED);
	assert_int_equal(seen.requests[3].status, -1);
	flow_table_free(table);
}

/* A connection older than the monitor: what it sends next is read as a request. */
static void existing_connections_are_read(void **unused)
{
	struct seen seen;
	struct flow_table *table = table_for(&seen, 8);
	struct am_connect_record connect = connect_to(9, AM_CAPTURE_HTTP, 100);
	struct naming naming = {0};

	(void)unused;
	connect.flags = AM_CONNECT_EXISTING;
	assert_non_null(flow_table_open(table, &connect, &naming, false));
	/* Found twice (TCP and the socket's second listing): one connection. */
	assert_non_null(flow_table_open(table, &connect, &naming, false));
	assert_int_equal(flow_table_count(table), 1);
	send_stream(table, 9, AM_PAYLOAD_HTTP_REQUEST, 123456, TOKEN, strlen(TOKEN), 0);
	answer(table, 9, 200);
	assert_int_equal(seen.http, 1);
	assert_string_equal(seen.requests[0].client_id, "kubelet");
	assert_int_equal(seen.requests[0].outcome, OUTCOME_ANSWERED);
	flow_table_free(table);
}

/* A ClientHello with this server name, padded to `size` bytes, in TLS records of `record`. */
static size_t client_hello(const char *sni, size_t size, size_t record, uint8_t *out)
{
	static uint8_t body[20000];
	size_t name = strlen(sni), n = 0, ext_start, pad, i, o = 0;

	body[n++] = 0x01; /* ClientHello */
	n += 3;		  /* its length, below */
	body[n++] = 0x03, body[n++] = 0x03;
	for (i = 0; i < 32; i++)
		body[n++] = (uint8_t)i;
	body[n++] = 0; /* no session id */
	body[n++] = 0, body[n++] = 2, body[n++] = 0x13, body[n++] = 0x01;
	body[n++] = 1, body[n++] = 0;
	ext_start = n;
	n += 2;
	if (name) {
		body[n++] = 0, body[n++] = 0; /* server_name */
		body[n++] = (uint8_t)((name + 5) >> 8), body[n++] = (uint8_t)(name + 5);
		body[n++] = (uint8_t)((name + 3) >> 8), body[n++] = (uint8_t)(name + 3);
		body[n++] = 0;
		body[n++] = (uint8_t)(name >> 8), body[n++] = (uint8_t)name;
		memcpy(body + n, sni, name);
		n += name;
	}
	pad = size > n + 4 ? size - n - 4 : 0;
	body[n++] = 0, body[n++] = 21; /* padding */
	body[n++] = (uint8_t)(pad >> 8), body[n++] = (uint8_t)pad;
	memset(body + n, 0, pad);
	n += pad;
	body[ext_start] = (uint8_t)((n - ext_start - 2) >> 8);
	body[ext_start + 1] = (uint8_t)(n - ext_start - 2);
	body[1] = (uint8_t)((n - 4) >> 16), body[2] = (uint8_t)((n - 4) >> 8),
	body[3] = (uint8_t)(n - 4);
	/* Into TLS records of at most `record` bytes of handshake each. */
	for (i = 0; i < n; i += record) {
		size_t part = n - i < record ? n - i : record;

		out[o++] = 0x16, out[o++] = 0x03, out[o++] = 0x01;
		out[o++] = (uint8_t)(part >> 8), out[o++] = (uint8_t)part;
		memcpy(out + o, body + i, part);
		o += part;
	}
	return o;
}

static void client_hellos_are_put_back_together(void **unused)
{
	static uint8_t hello[24000];
	static const size_t records[] = {16384, 100, 7};
	static const size_t cuts[] = {AM_PAYLOAD_LEN, 300, 1};
	size_t r, c, len;

	(void)unused;
	for (r = 0; r < 3; r++) {
		for (c = 0; c < 3; c++) {
			struct seen seen;
			struct flow_table *table = table_for(&seen, 8);

			len = client_hello("kv-payments.vault.azure.net", 3000, records[r], hello);
			open_flow(table, 1, AM_CAPTURE_TLS, NULL);
			send_stream(table, 1, AM_PAYLOAD_TLS_HELLO, 5, (const char *)hello, len, cuts[c]);
			assert_int_equal(seen.released, 1);
			assert_string_equal(seen.released_host, "kv-payments.vault.azure.net");
			assert_int_equal(seen.released_naming.source, NAME_SNI);
			assert_int_equal(seen.released_naming.cls.service, SERVICE_KEYVAULT);
			assert_false(seen.released_naming.mismatch);
			flow_table_free(table);
		}
	}
}

/* The server name wins over DNS; their disagreement stays as evidence. */
static void server_name_wins_over_dns(void **unused)
{
	static uint8_t hello[4096];
	struct seen seen;
	struct flow_table *table = table_for(&seen, 8);
	size_t len;

	(void)unused;
	len = client_hello("secrets.vault.azure.net", 300, 16384, hello);
	open_flow(table, 1, AM_CAPTURE_TLS, "innocent.example.com");
	send_stream(table, 1, AM_PAYLOAD_TLS_HELLO, 5, (const char *)hello, len, 0);
	assert_int_equal(seen.released, 1);
	assert_string_equal(seen.released_host, "secrets.vault.azure.net");
	assert_int_equal(seen.released_naming.cls.service, SERVICE_KEYVAULT);
	assert_true(seen.released_naming.mismatch);
	assert_string_equal(seen.released_naming.dns_host, "innocent.example.com");

	/* No server name: the DNS name stays, and nothing disagrees. */
	len = client_hello("", 300, 16384, hello);
	open_flow(table, 2, AM_CAPTURE_TLS, "kv-payments.vault.azure.net");
	send_stream(table, 2, AM_PAYLOAD_TLS_HELLO, 5, (const char *)hello, len, 0);
	assert_int_equal(seen.released, 2);
	assert_int_equal(seen.released_naming.source, NAME_DNS);
	assert_int_equal(seen.released_naming.cls.service, SERVICE_KEYVAULT);
	assert_false(seen.released_naming.mismatch);

	/* A hello the capture lost part of: unread, and said so. */
	len = client_hello("kv.vault.azure.net", 3000, 16384, hello);
	open_flow(table, 3, AM_CAPTURE_TLS, NULL);
	flow_table_payload(table, payload(3, AM_PAYLOAD_TLS_HELLO, 5, hello, 1000, 1000));
	flow_table_payload(table, payload(3, AM_PAYLOAD_TLS_HELLO, 2005, hello + 2000, 1000, 1000));
	flow_table_advance(table, 1000 + 2 * FLOW_HOLD_NS);
	assert_int_equal(seen.released, 3);
	assert_true(seen.released_naming.hello_unread);
	flow_table_free(table);
}

/* DNS over TCP: messages of any size, in any records, framed by their length. */
static void dns_over_tcp_messages_of_any_size(void **unused)
{
	static char stream[70000];
	struct seen seen;
	struct flow_table *table = table_for(&seen, 8);
	size_t sizes[] = {5, 3000, 40000, 12}, i, len = 0;

	(void)unused;
	for (i = 0; i < 4; i++) {
		stream[len++] = (char)(sizes[i] >> 8);
		stream[len++] = (char)sizes[i];
		memset(stream + len, 'd', sizes[i]);
		len += sizes[i];
	}
	open_flow(table, 1, AM_CAPTURE_DNS_TCP, NULL);
	send_stream(table, 1, AM_PAYLOAD_DNS_TCP, 1, stream, len, 333);
	assert_int_equal(seen.dns, 4);
	for (i = 0; i < 4; i++)
		assert_int_equal(seen.dns_len[i], sizes[i]);
	flow_table_free(table);
}

static void the_table_is_bounded(void **unused)
{
	struct seen seen;
	struct flow_table *table = table_for(&seen, 4);
	uint64_t cookie;

	(void)unused;
	for (cookie = 100; cookie < 110; cookie++) {
		open_flow(table, cookie, AM_CAPTURE_HTTP, NULL);
		assert_true(flow_table_count(table) <= 4);
	}
	assert_true(flow_table_stats(table)->evicted >= 6);
	/* Evicted connections that asked nothing are said, not dropped. */
	assert_true(seen.http >= 6);
	flow_table_free(table);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(flows_follow_requests_and_answers),
		cmocka_unit_test(padding_hides_no_request),
		cmocka_unit_test(pipelined_requests_are_each_reported),
		cmocka_unit_test(losses_are_said_and_judged),
		cmocka_unit_test(outcomes_follow_the_kernel),
		cmocka_unit_test(existing_connections_are_read),
		cmocka_unit_test(client_hellos_are_put_back_together),
		cmocka_unit_test(server_name_wins_over_dns),
		cmocka_unit_test(dns_over_tcp_messages_of_any_size),
		cmocka_unit_test(the_table_is_bounded),
	};

	return cmocka_run_group_tests_name("flows", tests, NULL, NULL);
}
