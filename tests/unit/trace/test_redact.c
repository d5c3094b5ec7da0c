// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * Unit tests: what a trace keeps of a record. HTTP header values other than the
 * ones the pipeline reads, bodies and answers beyond their status line become
 * '*'s, stale ring buffer bytes become zeros, lengths never change, and the
 * cleaned request parses exactly as the original did.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "accessmon.h"
#include "parse/http.h"
#include "trace/redact.h"

#define SECRET "eyJ0eXAiOiJKV1Qi.SECRET"

static int setup(void **state)
{
	*state = redactor_new();
	return *state ? 0 : -1;
}

static int teardown(void **state)
{
	redactor_free(*state);
	return 0;
}

static struct am_payload_record payload(uint64_t cookie, uint8_t kind, uint32_t seq, const char *bytes)
{
	struct am_payload_record record;
	size_t len = strlen(bytes);

	memset(&record, 0, sizeof(record));
	record.header.type = AM_REC_PAYLOAD;
	record.header.size = sizeof(record);
	record.cookie = cookie;
	record.kind = kind;
	record.seq = seq;
	record.payload_len = (uint32_t)len;
	record.captured = (uint32_t)len;
	memcpy(record.data, bytes, len);
	/* What an older record left in the ring buffer. */
	memset(record.data + len, 'S', sizeof(record.data) - len);
	return record;
}

/* The connect that makes the pipeline, and so the redactor, follow a connection. */
static void follow(struct redactor *r, uint64_t cookie)
{
	struct am_connect_record connect = {0};

	connect.header.type = AM_REC_CONNECT;
	connect.header.size = sizeof(connect);
	connect.cookie = cookie;
	connect.capture = AM_CAPTURE_HTTP;
	connect.family = 4;
	connect.protocol = 6;
	connect.port = 80;
	/* A connect carries nothing to clean: it is recorded as it is. */
	assert_ptr_equal(redactor_clean(r, &connect, sizeof(connect)), &connect);
}

/* Cleans a request segment; returns its bytes as the trace keeps them. */
static const char *clean_segment(struct redactor *r, uint64_t cookie, uint32_t seq, const char *bytes,
				 char *out)
{
	struct am_payload_record record = payload(cookie, AM_PAYLOAD_HTTP_REQUEST, seq, bytes);
	const struct am_payload_record *clean = redactor_clean(r, &record, sizeof(record));

	assert_non_null(clean);
	assert_int_equal(clean->captured, strlen(bytes));
	for (size_t i = clean->captured; i < sizeof(clean->data); i++)
		assert_int_equal(clean->data[i], 0);
	memcpy(out, clean->data, clean->captured);
	out[clean->captured] = '\0';
	return out;
}

static void parse(const char *buf, struct http_request *req, size_t *consumed)
{
	struct http_framing framing;
	const char *error;

	assert_int_equal(http_parse_request(buf, strlen(buf), req, consumed, &framing, &error),
			 HTTP_COMPLETE);
}

static void assert_same_request(const char *original, const char *clean)
{
	struct http_request a, b;
	size_t a_consumed, b_consumed;

	parse(original, &a, &a_consumed);
	parse(clean, &b, &b_consumed);
	assert_int_equal(a_consumed, b_consumed);
	assert_string_equal(a.method, b.method);
	assert_string_equal(a.path, b.path);
	assert_string_equal(a.host, b.host);
	assert_string_equal(a.canonical_path, b.canonical_path);
	assert_int_equal(a.n_resources, b.n_resources);
	if (a.n_resources)
		assert_string_equal(http_resource(&a), http_resource(&b));
	assert_int_equal(a.n_selectors, b.n_selectors);
	for (size_t i = 0; i < a.n_selectors; i++)
		assert_string_equal(a.selectors[i].value, b.selectors[i].value);
	assert_int_equal(a.metadata_header, b.metadata_header);
}

static void only_the_headers_the_pipeline_reads_keep_their_values(void **state)
{
	const char *request = "POST /metadata/identity/oauth2/token?resource=https%3A%2F%2Fvault.azure.net"
			      "&client_id=abc HTTP/1.1\r\n"
			      "Host: 169.254.169.254\r\n"
			      "Authorization: Bearer " SECRET "\r\n"
			      "metadata: true\r\n"
			      "X-Api-Key:" SECRET "\r\n"
			      "Content-Length: 28\r\n"
			      "\r\n"
			      "body=" SECRET;
	char out[1024];

	follow(*state, 1);

	clean_segment(*state, 1, 1000, request, out);
	assert_null(strstr(out, "SECRET"));
	assert_non_null(strstr(out, "POST /metadata/identity/oauth2/token?resource=https%3A%2F%2F"
				    "vault.azure.net&client_id=abc HTTP/1.1\r\n"));
	assert_non_null(strstr(out, "Host: 169.254.169.254\r\n"));
	assert_non_null(strstr(out, "metadata: true\r\n"));
	assert_non_null(strstr(out, "Content-Length: 28\r\n\r\n"));
	/* Names stay, values go; the body is hidden to its Content-Length. */
	assert_non_null(strstr(out, "Authorization:******"));
	assert_non_null(strstr(out, "X-Api-Key:*****"));
	assert_non_null(strstr(out, "\r\n\r\n****************************"));
	assert_same_request(request, out);
}

static void a_header_split_across_segments_is_still_hidden(void **state)
{
	const char *first = "GET /metadata/instance HTTP/1.1\r\nHo";
	const char *second = "st: 169.254.169.254\r\nAuthori";
	const char *third = "zation: Bearer " SECRET "\r\nMetadata: true\r\n\r\n";
	char a[256], b[256], c[256], whole[768], original[768];

	follow(*state, 2);

	clean_segment(*state, 2, 7, first, a);
	clean_segment(*state, 2, 7 + (uint32_t)strlen(first), second, b);
	clean_segment(*state, 2, 7 + (uint32_t)(strlen(first) + strlen(second)), third, c);
	assert_string_equal(a, first);
	assert_string_equal(b, second);
	assert_null(strstr(c, "SECRET"));
	assert_non_null(strstr(c, "Metadata: true\r\n\r\n"));
	snprintf(whole, sizeof(whole), "%s%s%s", a, b, c);
	snprintf(original, sizeof(original), "%s%s%s", first, second, third);
	assert_same_request(original, whole);
}

static void pipelined_requests_are_each_followed(void **state)
{
	const char *stream = "GET /metadata/instance HTTP/1.1\r\nCookie: " SECRET "\r\n\r\n"
			     "\r\n"
			     "GET /metadata/identity/oauth2/token?resource=x HTTP/1.1\r\n"
			     "Metadata: true\r\nProxy-Authorization: " SECRET "\r\n\r\n";
	struct http_request req;
	size_t consumed;
	char out[1024];

	follow(*state, 3);

	clean_segment(*state, 3, 0, stream, out);
	assert_null(strstr(out, "SECRET"));
	assert_non_null(strstr(out, "GET /metadata/identity/oauth2/token?resource=x HTTP/1.1\r\n"
				    "Metadata: true\r\n"));
	parse(out, &req, &consumed);
	assert_same_request(stream + consumed, out + consumed);
}

static void a_line_that_is_not_a_header_is_hidden(void **state)
{
	char out[512];

	follow(*state, 4);

	clean_segment(*state, 4, 0,
		      "GET / HTTP/1.1\r\n folded " SECRET "\r\nno colon " SECRET "\r\n\r\n", out);
	assert_null(strstr(out, "SECRET"));
	assert_non_null(strstr(out, "GET / HTTP/1.1\r\n"));
}

static void segments_out_of_place_are_hidden_whole(void **state)
{
	char out[512];

	follow(*state, 5);
	clean_segment(*state, 5, 100, "GET / HTTP/1.1\r\n", out);
	/* A gap: passed over up to a blank line, as the flow table does; line ends stay. */
	clean_segment(*state, 5, 200, "Host: " SECRET "\r\n", out);
	assert_null(strstr(out, "SECRET"));
	assert_string_equal(out + strlen(out) - 2, "\r\n");
	for (size_t i = 0; i < strlen(out) - 2; i++)
		assert_int_equal(out[i], '*');
	/* A retransmission of what was read is hidden whole. */
	clean_segment(*state, 5, 100, "GET / HTTP/1.1\r\n", out);
	assert_string_equal(out, "****************");
	/* A connection the pipeline does not follow: nothing of it is read, nothing kept. */
	clean_segment(*state, 55, 1, "GET / HTTP/1.1\r\n", out);
	assert_string_equal(out, "****************");
}

/* Bodies of any length and chunked ones are hidden; the requests after them are kept. */
static void bodies_and_chunks_are_hidden_to_their_end(void **state)
{
	const char *head = "POST /x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n";
	const char *chunks = "6;name=" SECRET "\r\n" "SECRET\r\n" "0\r\nX-Trailer: " SECRET
			     "\r\n\r\n";
	const char *token = "GET /metadata/identity/oauth2/token?resource=r HTTP/1.1\r\n\r\n";
	static char body[3000];
	char out[4096];
	uint32_t seq = 1;
	size_t i;

	follow(*state, 9);
	clean_segment(*state, 9, seq, head, out);
	assert_string_equal(out, head);
	seq += (uint32_t)strlen(head);
	clean_segment(*state, 9, seq, chunks, out);
	seq += (uint32_t)strlen(chunks);
	assert_null(strstr(out, "SECRET"));
	/* The sizes and line ends stay: a replay frames the chunks as the live run did. */
	assert_int_equal(out[0], '6');
	assert_non_null(strstr(out, "\r\n0\r\n"));
	clean_segment(*state, 9, seq, token, out);
	seq += (uint32_t)strlen(token);
	assert_string_equal(out, token);

	/* A Content-Length body across segments, then a request in the same segment. */
	clean_segment(*state, 9, seq, "POST /y HTTP/1.1\r\nContent-Length: 2500\r\n\r\n", out);
	seq += (uint32_t)strlen(out);
	memset(body, 'B', 1000);
	for (i = 0; i < 2; i++) {
		body[1000] = '\0';
		clean_segment(*state, 9, seq, body, out);
		seq += 1000;
		for (size_t j = 0; j < 1000; j++)
			assert_int_equal(out[j], '*');
	}
	snprintf(body, sizeof(body), "%.*s%s", 500, "\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n"
		 "BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB"
		 "BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB"
		 "BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB"
		 "BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB"
		 "BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB"
		 "BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB",
		 token);
	clean_segment(*state, 9, seq, body, out);
	/* The body's line ends are body too: hidden. */
	for (i = 0; i < 500; i++)
		assert_int_equal(out[i], '*');
	assert_string_equal(out + 500, token);
}

static void after_bytes_not_captured_only_the_next_request_is_kept(void **state)
{
	struct am_payload_record record =
		payload(6, AM_PAYLOAD_HTTP_REQUEST, 0, "GET / HTTP/1.1\r\nHost: a\r\n");
	const char *next = "\r\n\r\nGET /x HTTP/1.1\r\nHost: h\r\n";
	const struct am_payload_record *clean;
	char out[512];

	follow(*state, 6);

	record.payload_len = 2000; /* the kernel kept only the first bytes */
	clean = redactor_clean(*state, &record, sizeof(record));
	assert_memory_equal(clean->data, "GET / HTTP/1.1\r\nHost: a\r\n", 25);
	/* Up to the next blank line, as the flow table resynchronises; then a request. */
	clean_segment(*state, 6, 2000, "Metadata: " SECRET "\r\n\r\nGET /x HTTP/1.1\r\nHost: h\r\n",
		      out);
	assert_null(strstr(out, "SECRET"));
	assert_string_equal(out + strlen(out) - strlen(next), next);
	for (size_t i = 0; i < strlen(out) - strlen(next); i++)
		assert_int_equal(out[i], '*');
}

static void an_answer_keeps_its_status_line(void **state)
{
	struct am_payload_record record = payload(
		7, AM_PAYLOAD_HTTP_RESPONSE, 0, "HTTP/1.1 200 OK\r\n\r\n{\"access_token\":\"" SECRET);
	const struct am_payload_record *clean = redactor_clean(*state, &record, sizeof(record));

	assert_memory_equal(clean->data, "HTTP/1.1 200 OK\r\n****", 21);
	assert_null(memmem(clean->data, sizeof(clean->data), "SECRET", 6));
	assert_int_equal(http_parse_status((const char *)clean->data, clean->captured), 200);
	assert_int_equal(clean->data[clean->captured], 0);
}

static void stale_ring_buffer_bytes_become_zeros(void **state)
{
	struct am_open_record open;
	struct am_exec_record exec;
	const struct am_open_record *clean_open;
	const struct am_exec_record *clean_exec;

	memset(&open, 'S', sizeof(open));
	open.header.type = AM_REC_OPEN;
	open.header.size = sizeof(open);
	memcpy(open.task.comm, "cat", 4);
	memcpy(open.path, "/etc/kubernetes/azure.json", 27);
	memcpy(open.name, "azure.json", 11);
	clean_open = redactor_clean(*state, &open, sizeof(open));
	assert_string_equal(clean_open->path, "/etc/kubernetes/azure.json");
	for (size_t i = 27; i < sizeof(open.path); i++)
		assert_int_equal(clean_open->path[i], 0);
	for (size_t i = 11; i < sizeof(open.name); i++)
		assert_int_equal(clean_open->name[i], 0);
	for (size_t i = 4; i < sizeof(open.task.comm); i++)
		assert_int_equal(clean_open->task.comm[i], 0);
	/* Everything else is the record's own. */
	assert_int_equal(clean_open->inode, open.inode);

	memset(&exec, 'S', sizeof(exec));
	exec.header.type = AM_REC_EXEC;
	exec.header.size = sizeof(exec);
	exec.args_size = 8;
	memcpy(exec.args, "cat\0/etc\0", 9);
	memcpy(exec.exe, "/bin/cat", 9);
	clean_exec = redactor_clean(*state, &exec, sizeof(exec));
	assert_memory_equal(clean_exec->args, "cat\0/etc", 8);
	for (size_t i = 8; i < sizeof(exec.args); i++)
		assert_int_equal(clean_exec->args[i], 0);
	for (size_t i = 9; i < sizeof(exec.exe); i++)
		assert_int_equal(clean_exec->exe[i], 0);
}

static void closed_and_old_connections_are_forgotten(void **state)
{
	struct am_flow_close_record close = {.header = {.type = AM_REC_FLOW_CLOSE,
							 .size = sizeof(close)},
					     .cookie = 8};
	char out[256];

	follow(*state, 8);
	clean_segment(*state, 8, 0, "GET / HTTP/1.1\r\n", out);
	assert_int_equal(redactor_flows(*state), 1);
	assert_ptr_equal(redactor_clean(*state, &close, sizeof(close)), &close);
	assert_int_equal(redactor_flows(*state), 0);
	for (uint64_t cookie = 100; cookie < 100 + REDACT_FLOWS_MAX + 10; cookie++) {
		follow(*state, cookie);
		clean_segment(*state, cookie, 0, "GET / HTTP/1.1\r\n", out);
	}
	assert_int_equal(redactor_flows(*state), REDACT_FLOWS_MAX);
	/* The most recent one is still followed: its next header is judged by name. */
	clean_segment(*state, 100 + REDACT_FLOWS_MAX + 9, 16, "Host: kept\r\n", out);
	assert_string_equal(out, "Host: kept\r\n");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(only_the_headers_the_pipeline_reads_keep_their_values,
						setup, teardown),
		cmocka_unit_test_setup_teardown(a_header_split_across_segments_is_still_hidden,
						setup, teardown),
		cmocka_unit_test_setup_teardown(pipelined_requests_are_each_followed, setup,
						teardown),
		cmocka_unit_test_setup_teardown(a_line_that_is_not_a_header_is_hidden, setup,
						teardown),
		cmocka_unit_test_setup_teardown(segments_out_of_place_are_hidden_whole, setup,
						teardown),
		cmocka_unit_test_setup_teardown(after_bytes_not_captured_only_the_next_request_is_kept, setup,
						teardown),
		cmocka_unit_test_setup_teardown(bodies_and_chunks_are_hidden_to_their_end, setup,
						teardown),
		cmocka_unit_test_setup_teardown(an_answer_keeps_its_status_line, setup, teardown),
		cmocka_unit_test_setup_teardown(stale_ring_buffer_bytes_become_zeros, setup,
						teardown),
		cmocka_unit_test_setup_teardown(closed_and_old_connections_are_forgotten, setup,
						teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
