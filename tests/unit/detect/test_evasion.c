// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * Unit tests, by property: every encoding of one token request for the kubelet
 * identity, cut into segments every way, gives the same alert through the whole
 * pipeline (records in, alert lines out): imds-token-request, critical, the
 * kubelet identity, the vault resource. And what cannot be read is judged at its
 * worst, never in silence.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <cjson/cJSON.h>

#include "node_fixture.h"

#define KUBELET "5a1c2b3d-1111-2222-3333-444455556666"
#define OTHER_ID "0e1f2a3b-4c5d-6e7f-8091-a2b3c4d5e6f7"
#define CGROUP_ID 777
#define COOKIE 0x5eed
#define SEQ0 1000000u
#define VAULT "https%3A%2F%2Fvault.azure.net"

static const char azure_json[] = NODE_FIXTURE_AZURE_JSON(KUBELET);

static const char podlist[] =
	"{\"kind\":\"PodList\",\"items\":[{\"metadata\":{\"name\":\"evader\",\"namespace\":\"shop\","
	"\"uid\":\"" POD_UID "\"},\"spec\":{\"containers\":[{\"name\":\"app\"}]},"
	"\"status\":{\"containerStatuses\":[{\"name\":\"app\",\"containerID\":\"containerd://" CONTAINER
	"\"}]}}]}";

/* The evader's node: its records through the whole pipeline. */
static struct node_fixture *fixture_new(void)
{
	return node_fixture_new(azure_json, NULL, podlist, CGROUP_ID, 8);
}

static void payload_fill(struct am_payload_record *p, uint8_t kind)
{
	memset(p, 0, sizeof(*p));
	p->cookie = COOKIE;
	p->cgroup_id = CGROUP_ID;
	p->pid = 4242;
	p->kind = kind;
	p->family = 4;
	p->protocol = 6;
	p->sport = 40000;
	p->dport = 80;
	memcpy(p->saddr, (uint8_t[]){10, 0, 0, 2}, 4);
	memcpy(p->daddr, (uint8_t[]){169, 254, 169, 254}, 4);
}

/* One segment of `len` bytes at `offset` of the stream, as the kernel cuts it. */
static void send_segment(struct node_fixture *f, const char *bytes, size_t offset, size_t len)
{
	struct am_payload_record p;
	size_t done = 0;

	while (done < len) {
		size_t n = len - done < AM_PAYLOAD_LEN ? len - done : AM_PAYLOAD_LEN;

		payload_fill(&p, AM_PAYLOAD_HTTP_REQUEST);
		p.seq = SEQ0 + (uint32_t)(offset + done);
		p.payload_len = (uint32_t)(len - done);
		p.captured = (uint32_t)n;
		memcpy(p.data, bytes + offset + done, n);
		node_fixture_feed(f, &p, AM_REC_PAYLOAD, sizeof(p));
		done += n;
	}
}

/* The pod's connect to IMDS:80, as the connect hook reports it (cookie 0: found at start). */
static struct am_connect_record imds_connect(uint32_t pid, const char *comm, uint64_t cookie)
{
	struct am_connect_record c = {0};

	c.task.cgroup_id = CGROUP_ID;
	c.task.pid = pid;
	c.task.tid = pid;
	memcpy(c.task.comm, comm, strnlen(comm, sizeof(c.task.comm)));
	c.family = 4;
	c.protocol = 6;
	c.port = 80;
	c.capture = AM_CAPTURE_HTTP;
	c.cookie = cookie;
	memcpy(c.addr, (uint8_t[]){169, 254, 169, 254}, 4);
	return c;
}

/* The connection: its connect (unless existing), the stream in the segments given, the answers. */
static void conversation(struct node_fixture *f, const char *stream, const size_t *cuts,
			 size_t n_cuts, int answers, bool connect)
{
	size_t len = strlen(stream), start = 0, i;
	struct am_payload_record answer;
	struct am_flow_state_record close = {0};

	if (connect) {
		struct am_connect_record c = imds_connect(4242, "curl", COOKIE);

		node_fixture_feed(f, &c, AM_REC_CONNECT, sizeof(c));
	}
	for (i = 0; i <= n_cuts; i++) {
		size_t end = i < n_cuts ? cuts[i] : len;

		if (end > start)
			send_segment(f, stream, start, end - start);
		start = end;
	}
	for (i = 0; i < (size_t)answers; i++) {
		static const char ok[] = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}";

		payload_fill(&answer, AM_PAYLOAD_HTTP_RESPONSE);
		answer.captured = sizeof(ok) - 1;
		answer.payload_len = sizeof(ok) - 1;
		memcpy(answer.data, ok, sizeof(ok) - 1);
		node_fixture_feed(f, &answer, AM_REC_PAYLOAD, sizeof(answer));
	}
	close.cookie = COOKIE;
	close.state = AM_FLOW_CLOSED;
	close.flags = AM_FLOW_WAS_ESTABLISHED;
	close.seq_end = SEQ0 + (uint32_t)len;
	node_fixture_feed(f, &close, AM_REC_FLOW_STATE, sizeof(close));
	pipeline_finish(f->pipeline);
}

/* The token alerts written: how many, and the last one's fields. */
struct verdict {
	int alerts;
	char severity[16];
	char client_id[64];
	char kind[32];
	char resource[64];
	bool incomplete;
	bool ambiguous;
};

static void copy_string(char *out, size_t size, const cJSON *item)
{
	snprintf(out, size, "%s", cJSON_IsString(item) ? item->valuestring : "(none)");
}

static struct verdict verdict_of(struct node_fixture *f)
{
	struct verdict v = {0};
	char *line, *next;

	fflush(f->stream);
	for (line = f->out; line && *line; line = next) {
		cJSON *root, *identity, *target;

		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		root = cJSON_Parse(line);
		assert_non_null(root);
		if (strcmp(cJSON_GetStringValue(cJSON_GetObjectItem(root, "type")), "alert") == 0 &&
		    strcmp(cJSON_GetStringValue(cJSON_GetObjectItem(root, "rule")),
			   "imds-token-request") == 0) {
			v.alerts++;
			identity = cJSON_GetObjectItem(root, "identity");
			target = cJSON_GetObjectItem(root, "target");
			copy_string(v.severity, sizeof(v.severity), cJSON_GetObjectItem(root, "severity"));
			copy_string(v.client_id, sizeof(v.client_id),
				    cJSON_GetObjectItem(identity, "client_id"));
			copy_string(v.kind, sizeof(v.kind), cJSON_GetObjectItem(identity, "kind"));
			copy_string(v.resource, sizeof(v.resource),
				    cJSON_GetObjectItem(target, "resource"));
			v.incomplete = cJSON_IsTrue(cJSON_GetObjectItem(target, "incomplete"));
			v.ambiguous = cJSON_IsTrue(cJSON_GetObjectItem(target, "ambiguous"));
		}
		cJSON_Delete(root);
	}
	return v;
}

/* The request line's target, every way IMDS reads the same request. */
static const char *const targets[] = {
	"/metadata/identity/oauth2/token?api-version=2018-02-01&resource=" VAULT "&client_id=" KUBELET,
	"//metadata/./identity/x/..//oauth2/token/?api-version=2018-02-01&resource=" VAULT
	"&client_id=" KUBELET,
	"/METADATA/Identity%2Foauth2%2FTOKEN?resource=" VAULT "&client_id=" KUBELET,
	"/metadata/identity/oauth2/token?Resource=" VAULT "&CLIENT_ID=" KUBELET,
	"/metadata/identity/oauth2/token?%72esource=" VAULT "&client%5Fid=" KUBELET,
	"/metadata/identity/oauth2/token?resource=" VAULT "&client_id=" OTHER_ID "&client_id=" KUBELET,
	"/metadata/identity/oauth2/token?client_id=" KUBELET "&resource=" VAULT "&x=",
	"http://169.254.169.254/metadata/identity/oauth2/token?resource=" VAULT
	"&client_id=" KUBELET,
	"/metadata/identity/../identity/oauth2/./token?resource=" VAULT "&client_id=" KUBELET,
	"/metadata/identity/x/%2e%2e/oauth2/%2E/token?resource=" VAULT "&client_id=" KUBELET,
	"/metadata/identity/oauth2/token%2F?resource=" VAULT "&client_id=" KUBELET,
	"/metadata\\identity\\oauth2\\token?resource=" VAULT "&client_id=" KUBELET,
	"/metadata/identity/oauth2/token%252F?resource=" VAULT "&client_id=" KUBELET,
	"/metadata/identity/oauth2/token?resource=" VAULT "&&client_id=" KUBELET "&",
	"/metadata/identity/oauth2/token?resource=" VAULT ";client_id=" KUBELET,
	"/metadata/identity/oauth2/token?resource=" VAULT "&client_id=%35a1c2b3d-1111-2222-3333-444455556666",
	"/metadata/identity/oauth2/token?resource=" VAULT "&client_id=5A1C2B3D-1111-2222-3333-444455556666",
	"/metadata/identity/oauth2/token?resource=" VAULT "&client_id=+" KUBELET,
	"/metadata/identity/oauth2/token?resource=" VAULT "&client_id=" KUBELET "#x",
};

static void expect_kubelet(const struct verdict *v, const char *what)
{
	if (v->alerts != 1 || strcmp(v->severity, "critical") || strcmp(v->client_id, KUBELET) ||
	    strcmp(v->kind, "kubelet") || strcmp(v->resource, "https://vault.azure.net"))
		fail_msg("%s: %d alerts, severity %s, identity %s (%s), resource %s", what,
			 v->alerts, v->severity, v->client_id, v->kind, v->resource);
}

/* Every encoding, in one segment and a byte a segment, with padding before it. */
static void every_encoding_gives_the_same_alert(void **state)
{
	static char request[8192], padded[80000];
	size_t i, j, len, cuts[4096];

	(void)state;
	for (i = 0; i < sizeof(targets) / sizeof(targets[0]); i++) {
		struct node_fixture *f;
		struct verdict v;

		snprintf(request, sizeof(request),
			 "GET %s HTTP/1.1\r\nHost: 169.254.169.254\r\nMetadata: true\r\n\r\n",
			 targets[i]);
		len = strlen(request);
		/* Whole. */
		f = fixture_new();
		conversation(f, request, NULL, 0, 1, true);
		v = verdict_of(f);
		expect_kubelet(&v, targets[i]);
		assert_int_equal(v.ambiguous, strstr(targets[i], OTHER_ID) != NULL);
		node_fixture_free(f);
		/* A byte a segment. */
		for (j = 0; j + 1 < len; j++)
			cuts[j] = j + 1;
		f = fixture_new();
		conversation(f, request, cuts, len - 1, 1, true);
		v = verdict_of(f);
		expect_kubelet(&v, targets[i]);
		node_fixture_free(f);
		/* Behind 64 KiB of a harmless request on the same connection (keep-alive). */
		snprintf(padded, sizeof(padded),
			 "GET /metadata/instance?api-version=2021-02-01 HTTP/1.1\r\nMetadata: true\r\n"
			 "X-Pad: %060000d\r\n\r\n%s",
			 0, request);
		f = fixture_new();
		conversation(f, padded, NULL, 0, 2, true);
		v = verdict_of(f);
		expect_kubelet(&v, targets[i]);
		node_fixture_free(f);
	}
}

/* The plain request cut in two at every byte: the same alert each time. */
static void every_cut_gives_the_same_alert(void **state)
{
	static char request[1024];
	size_t cut, len;

	(void)state;
	snprintf(request, sizeof(request),
		 "GET %s HTTP/1.1\r\nHost: 169.254.169.254\r\nMetadata: true\r\n\r\n", targets[0]);
	len = strlen(request);
	for (cut = 1; cut < len; cut++) {
		struct node_fixture *f = fixture_new();
		struct verdict v;

		conversation(f, request, &cut, 1, 1, true);
		v = verdict_of(f);
		expect_kubelet(&v, "a request cut in two");
		node_fixture_free(f);
	}
}

/* Bytes that are no request, or whose start was never seen, are a token request at worst. */
static void what_cannot_be_read_is_judged_at_worst(void **state)
{
	static const char *const streams[] = {
		"\x16\x03\x01 not http\r\n\r\n",
		"GET /metadata/identity/oauth2/tokenz?resource=" VAULT " HTTP/1.1\r\n\r\n",
		"get /metadata/identity/oauth2/token?resource=" VAULT "\r\n\r\n",
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(streams) / sizeof(streams[0]); i++) {
		struct node_fixture *f = fixture_new();
		struct verdict v;

		conversation(f, streams[i], NULL, 0, 1, true);
		v = verdict_of(f);
		if (v.alerts < 1 || strcmp(v.severity, "critical"))
			fail_msg("stream %zu: %d token alerts, severity %s", i, v.alerts, v.severity);
		node_fixture_free(f);
	}
}

/* A connection older than the monitor, first seen by its bytes: judged as any other. */
static void a_connection_first_seen_by_its_bytes(void **state)
{
	static char request[1024];
	struct node_fixture *f = fixture_new();
	struct verdict v;

	(void)state;
	snprintf(request, sizeof(request),
		 "GET %s HTTP/1.1\r\nHost: 169.254.169.254\r\nMetadata: true\r\n\r\n", targets[3]);
	conversation(f, request, NULL, 0, 1, false);
	fflush(f->stream);
	/* Reported with its pod, as a connection older than the monitor. */
	assert_non_null(strstr(f->out, "\"existing\":true"));
	assert_non_null(strstr(f->out, "\"name\":\"evader\""));
	v = verdict_of(f);
	expect_kubelet(&v, "an existing connection");
	node_fixture_free(f);
}

/* Found at start by the iterator, then first seen sending: one connection, its holder's. */
static void an_existing_connection_keeps_its_holder(void **state)
{
	static char request[1024];
	struct node_fixture *f = fixture_new();
	struct am_connect_record held = imds_connect(5151, "agent", 0);
	const char *line;
	int connects = 0;

	(void)state;
	held.flags = AM_CONNECT_EXISTING;
	held.sport = 40000;
	node_fixture_feed(f, &held, AM_REC_CONNECT, sizeof(held));
	snprintf(request, sizeof(request),
		 "GET %s HTTP/1.1\r\nHost: 169.254.169.254\r\nMetadata: true\r\n\r\n", targets[0]);
	conversation(f, request, NULL, 0, 1, false);
	fflush(f->stream);
	for (line = f->out; (line = strstr(line, "{\"type\":\"connect\"")); line++)
		connects++;
	assert_int_equal(connects, 1);
	/* The request is the holder's. */
	line = strstr(f->out, "{\"type\":\"http\"");
	assert_non_null(line);
	assert_non_null(strstr(line, "\"pid\":5151"));
	node_fixture_free(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(every_encoding_gives_the_same_alert),
		cmocka_unit_test(every_cut_gives_the_same_alert),
		cmocka_unit_test(what_cannot_be_read_is_judged_at_worst),
		cmocka_unit_test(a_connection_first_seen_by_its_bytes),
		cmocka_unit_test(an_existing_connection_keeps_its_holder),
	};

	return cmocka_run_group_tests_name("evasion", tests, NULL, NULL);
}
