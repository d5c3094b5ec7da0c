// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * Unit tests: HTTP requests to IMDS (http.c). The canonical form of a path, row
 * by row as docs/HOW-IT-WORKS.md's table gives it; parameters read as liberally as IMDS
 * reads them, ambiguity kept; framing of what follows a head; hostile heads.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "parse/http.h"

static const char curl_request[] =
	"GET /metadata/identity/oauth2/token?api-version=2018-02-01&resource=https%3A%2F%2Fvault."
	"azure.net&client_id=5a1c2b3d-1111-2222-3333-444455556666 HTTP/1.1\r\n"
	"Host: 169.254.169.254\r\nUser-Agent: curl/7.88.1\r\nAccept: */*\r\nMetadata: true\r\n\r\n";

static struct http_request *parse_ok(const char *head, struct http_framing *framing)
{
	static struct http_request req;
	struct http_framing ignored;
	size_t consumed;
	const char *error;

	assert_int_equal(http_parse_request(head, strlen(head), &req, &consumed,
					    framing ? framing : &ignored, &error),
			 HTTP_COMPLETE);
	assert_int_equal(consumed, strlen(head));
	return &req;
}

/* One request line's target, parsed. */
static struct http_request *target(const char *t)
{
	char head[2048];

	snprintf(head, sizeof(head), "GET %s HTTP/1.1\r\n\r\n", t);
	return parse_ok(head, NULL);
}

static void curl_token_request(void **state)
{
	struct http_request *req = parse_ok(curl_request, NULL);

	(void)state;
	assert_string_equal(req->method, "GET");
	assert_string_equal(req->path, "/metadata/identity/oauth2/token");
	assert_string_equal(req->canonical_path, "/metadata/identity/oauth2/token");
	assert_int_equal(req->oddities, 0);
	assert_string_equal(req->version, "HTTP/1.1");
	assert_string_equal(req->host, "169.254.169.254");
	assert_true(req->metadata_header);
	assert_string_equal(http_resource(req), "https://vault.azure.net");
	assert_string_equal(req->api_version, "2018-02-01");
	assert_string_equal(http_selector_first(req, IMDS_CLIENT_ID),
			    "5a1c2b3d-1111-2222-3333-444455556666");
	assert_null(http_selector_first(req, IMDS_OBJECT_ID));
	assert_false(req->ambiguous);
	assert_true(imds_is_token_request(req));
}

/* docs/HOW-IT-WORKS.md's table of canonical forms ("What is read of IMDS"): one row each. */
static void canonical_form_table(void **state)
{
	static const struct {
		const char *target, *canonical;
		uint32_t oddities;
	} rows[] = {
		{"/metadata/identity/oauth2/token", "/metadata/identity/oauth2/token", 0},
		{"//metadata/identity/oauth2/token", "/metadata/identity/oauth2/token",
		 HTTP_PATH_EMPTY_SEGMENT},
		{"/metadata//identity///oauth2/token", "/metadata/identity/oauth2/token",
		 HTTP_PATH_EMPTY_SEGMENT},
		{"/metadata/./identity/oauth2/token", "/metadata/identity/oauth2/token",
		 HTTP_PATH_DOT_SEGMENT},
		{"/metadata/x/../identity/oauth2/token", "/metadata/identity/oauth2/token",
		 HTTP_PATH_DOT_SEGMENT},
		{"/../../metadata/identity/oauth2/token", "/metadata/identity/oauth2/token",
		 HTTP_PATH_DOT_SEGMENT},
		{"/metadata/identity/oauth2/token/", "/metadata/identity/oauth2/token",
		 HTTP_PATH_TRAILING_SLASH},
		{"/METADATA/Identity/OAuth2/Token", "/metadata/identity/oauth2/token",
		 HTTP_PATH_CASE},
		{"/metadata%2Fidentity%2foauth2/token", "/metadata/identity/oauth2/token",
		 HTTP_PATH_ENCODED_SLASH},
		{"/metadata%252Fidentity/oauth2/token", "/metadata/identity/oauth2/token",
		 HTTP_PATH_ENCODED_SLASH},
		{"/metadata%5Cidentity/oauth2/token", "/metadata/identity/oauth2/token",
		 HTTP_PATH_ENCODED_SLASH | HTTP_PATH_BACKSLASH},
		{"/metadata\\identity\\oauth2\\token", "/metadata/identity/oauth2/token",
		 HTTP_PATH_BACKSLASH},
		{"/%6detadata/identity/oauth2/%74oken", "/metadata/identity/oauth2/token", 0},
		{"/metadata;x=1/identity/oauth2/token;y", "/metadata/identity/oauth2/token",
		 HTTP_PATH_PARAMETER},
		{"http://169.254.169.254/metadata/identity/oauth2/token",
		 "/metadata/identity/oauth2/token", HTTP_PATH_ABSOLUTE_FORM},
		{"HTTP://evil.example/metadata/identity/oauth2/token",
		 "/metadata/identity/oauth2/token", HTTP_PATH_ABSOLUTE_FORM},
		{"/metadata/instance/compute/", "/metadata/instance/compute",
		 HTTP_PATH_TRAILING_SLASH},
		{"/", "/", 0},
		{"", "/", 0},
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		char out[HTTP_VALUE_MAX];
		uint32_t odd = 0;

		http_canonical_path(rows[i].target, strlen(rows[i].target), out, sizeof(out), &odd);
		if (strcmp(out, rows[i].canonical) != 0 || odd != rows[i].oddities)
			fail_msg("%s: %s (oddities %#x), not %s (%#x)", rows[i].target, out, odd,
				 rows[i].canonical, rows[i].oddities);
	}
}

/* Categories of canonical paths; anything unnamed is judged a token request. */
static void categories(void **state)
{
	static const struct {
		const char *target;
		enum imds_category category;
		bool token;
	} rows[] = {
		{"/metadata/identity/oauth2/token", IMDS_IDENTITY_TOKEN, true},
		{"/metadata/identity/info", IMDS_IDENTITY_INFO, false},
		{"/metadata/instance", IMDS_INSTANCE, false},
		{"/metadata/instance/compute/name", IMDS_INSTANCE, false},
		{"/metadata/attested/document", IMDS_ATTESTED, false},
		{"/metadata/loadbalancer", IMDS_LOADBALANCER, false},
		{"/metadata/scheduledevents", IMDS_SCHEDULED_EVENTS, false},
		{"/metadata/versions", IMDS_VERSIONS, false},
		/* Unnamed: IMDS may answer what the monitor cannot name. */
		{"/metadata/identity/oauth2/tokens", IMDS_UNCLASSIFIED, true},
		{"/metadata/instancex", IMDS_UNCLASSIFIED, true},
		{"/metadata/identity/oauth2", IMDS_UNCLASSIFIED, true},
		{"/", IMDS_UNCLASSIFIED, true},
		{"/METADATA/instance/../identity/oauth2/token/", IMDS_IDENTITY_TOKEN, true},
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct http_request *req = target(rows[i].target);

		if (imds_classify(req->canonical_path) != rows[i].category ||
		    imds_is_token_request(req) != rows[i].token)
			fail_msg("%s: category %s, token %d", rows[i].target,
				 imds_category_name(imds_classify(req->canonical_path)),
				 imds_is_token_request(req));
	}
	assert_string_equal(imds_category_name(IMDS_UNCLASSIFIED), "unclassified");
	assert_int_equal(http_parse_status("HTTP/1.1 200 OK\r\n", 17), 200);
	assert_int_equal(http_parse_status("HTTP/1.0 400 Bad", 16), 400);
	assert_int_equal(http_parse_status("HTTP/1.1 2x0 OK\r\n", 17), -1);
	assert_int_equal(http_parse_status("SSH-2.0-OpenSSH", 15), -1);
}

/* Parameter names in any case and encoding; values decoded once. */
static void parameters_read_as_imds_reads_them(void **state)
{
	static const char *const targets[] = {
		"/t?resource=R&client_id=C",
		"/t?Resource=R&Client_ID=C",
		"/t?RESOURCE=R&CLIENT_ID=C",
		"/t?%72esource=R&client%5Fid=C",
		"/t?resource=%52&client_id=%43",
		"/t?resource=R;client_id=C",
		"/t?client-id=C&resource=R",
		"/t?clientid=C&&resource=R&",
		"/t?x=1&resource=+R+&client_id=C&y",
		"/t?resource=R&client_id=C#fragment",
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(targets) / sizeof(targets[0]); i++) {
		struct http_request *req = target(targets[i]);
		const char *client = http_selector_first(req, IMDS_CLIENT_ID);

		if (!http_resource(req) || strcmp(http_resource(req), "R") != 0 || !client ||
		    strcmp(client, "C") != 0 || req->ambiguous)
			fail_msg("%s: resource %s, client_id %s, ambiguous %d", targets[i],
				 http_resource(req) ? http_resource(req) : "(none)",
				 client ? client : "(none)", req->ambiguous);
	}
}

/* A selector given twice, or two kinds of selector: every value is kept, flagged. */
static void ambiguity_keeps_every_value(void **state)
{
	struct http_request *req;
	char t[4096];
	int i;

	(void)state;
	req = target("/t?client_id=A&client_id=B");
	assert_true(req->ambiguous);
	assert_int_equal(req->n_selectors, 2);
	assert_string_equal(req->selectors[1].value, "B");

	req = target("/t?client_id=A&Client_Id=a");
	assert_false(req->ambiguous); /* the same value, in another case */
	assert_int_equal(req->n_selectors, 1);

	req = target("/t?client_id=A&mi_res_id=/subscriptions/s/x&object_id=O");
	assert_true(req->ambiguous);
	assert_int_equal(req->n_selectors, 3);
	assert_int_equal(req->selectors[1].kind, IMDS_MI_RES_ID);
	assert_int_equal(req->selectors[2].kind, IMDS_OBJECT_ID);

	req = target("/t?resource=A&resource=B");
	assert_true(req->ambiguous);
	assert_int_equal(req->n_resources, 2);

	/* More values than are kept: cut, and said. */
	snprintf(t, sizeof(t), "/t?x=0");
	for (i = 0; i < HTTP_SELECTORS_MAX + 3; i++)
		snprintf(t + strlen(t), sizeof(t) - strlen(t), "&client_id=v%d", i);
	req = target(t);
	assert_true(req->selectors_cut);
	assert_int_equal(req->n_selectors, HTTP_SELECTORS_MAX);

	/* An empty value selects nothing. */
	req = target("/t?client_id=&resource=R");
	assert_int_equal(req->n_selectors, 0);
}

/* What follows a head: nothing, Content-Length bytes, chunks, or what cannot be followed. */
static void framing_of_bodies(void **state)
{
	struct http_framing framing;
	struct http_chunks chunks;
	const char body[] = "4;ext\r\nabcd\r\n10\r\n0123456789abcdef\r\n0\r\nT: 1\r\n\r\nGET";
	size_t used;

	(void)state;
	parse_ok("GET / HTTP/1.1\r\n\r\n", &framing);
	assert_int_equal(framing.body, HTTP_BODY_NONE);
	parse_ok("POST / HTTP/1.1\r\nContent-Length: 40000\r\n\r\n", &framing);
	assert_int_equal(framing.body, HTTP_BODY_LENGTH);
	assert_int_equal(framing.length, 40000);
	parse_ok("POST / HTTP/1.1\r\ncontent-length:  7 \r\ncontent-length: 7\r\n\r\n", &framing);
	assert_int_equal(framing.body, HTTP_BODY_LENGTH);
	assert_int_equal(framing.length, 7);
	parse_ok("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n", &framing);
	assert_int_equal(framing.body, HTTP_BODY_CHUNKED);
	/* Two lengths that disagree, a length that is no number, both codings, another one. */
	parse_ok("POST / HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n", &framing);
	assert_int_equal(framing.body, HTTP_BODY_UNKNOWN);
	parse_ok("POST / HTTP/1.1\r\nContent-Length: 5x\r\n\r\n", &framing);
	assert_int_equal(framing.body, HTTP_BODY_UNKNOWN);
	parse_ok("POST / HTTP/1.1\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n",
		 &framing);
	assert_int_equal(framing.body, HTTP_BODY_UNKNOWN);
	parse_ok("POST / HTTP/1.1\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", &framing);
	assert_int_equal(framing.body, HTTP_BODY_UNKNOWN);

	/* A chunked body ends where HTTP ends it, fed whole or a byte at a time. */
	memset(&chunks, 0, sizeof(chunks));
	used = http_chunks_feed(&chunks, body, strlen(body));
	assert_int_equal(chunks.state, CHUNK_DONE);
	assert_int_equal(used, strlen(body) - 3);
	memset(&chunks, 0, sizeof(chunks));
	for (used = 0; chunks.state != CHUNK_DONE; used++)
		assert_int_equal(http_chunks_feed(&chunks, body + used, 1), 1);
	assert_int_equal(used, strlen(body) - 3);
	memset(&chunks, 0, sizeof(chunks));
	http_chunks_feed(&chunks, "zz\r\n", 4);
	assert_int_equal(chunks.state, CHUNK_BAD);
}

/* Pipelined heads, blank lines between them, every prefix waiting for more. */
static void heads_one_after_another(void **state)
{
	const char pipelined[] = "GET /metadata/instance HTTP/1.1\r\nMetadata: true\r\n\r\n"
				 "\r\nPOST /x HTTP/1.1\r\n\r\nGET /y HTTP/1.0\n\n";
	struct http_request req;
	struct http_framing framing;
	size_t consumed, offset = 0, i;
	const char *error;

	(void)state;
	for (i = 0; i < strlen(curl_request) - 1; i++)
		assert_int_equal(http_parse_request(curl_request, i, &req, &consumed, &framing, &error),
				 HTTP_NEED_MORE);
	assert_int_equal(http_parse_request(pipelined, strlen(pipelined), &req, &consumed, &framing,
					    &error),
			 HTTP_COMPLETE);
	assert_string_equal(req.path, "/metadata/instance");
	offset += consumed;
	assert_int_equal(http_parse_request(pipelined + offset, strlen(pipelined) - offset, &req,
					    &consumed, &framing, &error),
			 HTTP_COMPLETE);
	assert_string_equal(req.method, "POST");
	offset += consumed;
	assert_int_equal(http_parse_request(pipelined + offset, strlen(pipelined) - offset, &req,
					    &consumed, &framing, &error),
			 HTTP_COMPLETE);
	assert_string_equal(req.path, "/y");
	assert_int_equal(offset + consumed, strlen(pipelined));
}

static void hostile_heads(void **state)
{
	struct http_request req;
	struct http_framing framing;
	size_t consumed;
	const char *error;
	char out[64];
	static char long_line[HTTP_VALUE_MAX * 4];

	(void)state;
	assert_int_equal(http_parse_request("\x16\x03\x01\x02\x00", 5, &req, &consumed, &framing,
					    &error),
			 HTTP_MALFORMED);
	assert_non_null(error);
	assert_int_equal(http_parse_request("GET\r\n\r\n", 7, &req, &consumed, &framing, &error),
			 HTTP_MALFORMED);
	assert_int_equal(http_parse_request("GET / FTP/1\r\n\r\n", 15, &req, &consumed, &framing,
					    &error),
			 HTTP_MALFORMED);
	assert_int_equal(http_parse_request("ABCDEFGHIJKLMNOPQ / HTTP/1.1\r\n\r\n", 32, &req,
					    &consumed, &framing, &error),
			 HTTP_MALFORMED);
	assert_int_equal(http_parse_request("GET /%zz%4 HTTP/1.1\r\n\r\n", 23, &req, &consumed,
					    &framing, &error),
			 HTTP_COMPLETE);
	assert_string_equal(req.path, "/%zz%4");
	percent_decode("a%2Fb%2fc%", 10, out, sizeof(out));
	assert_string_equal(out, "a/b/c%");
	percent_decode("%41%42%43", 9, out, 3);
	assert_string_equal(out, "AB");

	/* A request line of several KiB: its selectors after the padding are still read. */
	memset(long_line, 0, sizeof(long_line));
	snprintf(long_line, sizeof(long_line), "GET /metadata/identity/oauth2/token?pad=%0*d"
		 "&resource=R&client_id=C HTTP/1.1\r\n\r\n", 1500, 0);
	assert_int_equal(http_parse_request(long_line, strlen(long_line), &req, &consumed, &framing,
					    &error),
			 HTTP_COMPLETE);
	assert_string_equal(http_resource(&req), "R");
	assert_string_equal(http_selector_first(&req, IMDS_CLIENT_ID), "C");
	assert_true(imds_is_token_request(&req));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(curl_token_request),
		cmocka_unit_test(canonical_form_table),
		cmocka_unit_test(categories),
		cmocka_unit_test(parameters_read_as_imds_reads_them),
		cmocka_unit_test(ambiguity_keeps_every_value),
		cmocka_unit_test(framing_of_bodies),
		cmocka_unit_test(heads_one_after_another),
		cmocka_unit_test(hostile_heads),
	};

	return cmocka_run_group_tests_name("http", tests, NULL, NULL);
}
