// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * Unit tests: naming destinations. Host names to services in every cloud, the
 * published service tags, the per-pod DNS cache, and captured connections
 * (requests across segments, answers, held connects, DNS over TCP).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "dns_cache.h"
#include "destinations.h"
#include "flows.h"
#include "json_input.h"
#include "service_tags.h"

static void classify(const char *host, enum destination_service service,
		     enum destination_cloud cloud, const char *resource)
{
	struct destination_class out;

	destination_classify_host(host, &out);
	assert_int_equal(out.service, service);
	assert_int_equal(out.cloud, cloud);
	assert_string_equal(out.resource, resource);
}

static void host_names_in_every_cloud(void **state)
{
	(void)state;
	classify("kv-payments.vault.azure.net", SERVICE_KEYVAULT, CLOUD_PUBLIC, "kv-payments");
	classify("kv.vault.azure.cn", SERVICE_KEYVAULT, CLOUD_CHINA, "kv");
	classify("kv.vault.usgovcloudapi.net", SERVICE_KEYVAULT, CLOUD_USGOV, "kv");
	classify("kv.privatelink.vaultcore.azure.net", SERVICE_KEYVAULT, CLOUD_PUBLIC, "kv");
	classify("hsm1.managedhsm.azure.net", SERVICE_MANAGED_HSM, CLOUD_PUBLIC, "hsm1");
	classify("hsm1.managedhsm.usgovcloudapi.net", SERVICE_MANAGED_HSM, CLOUD_USGOV, "hsm1");
	classify("myreg.azurecr.io", SERVICE_ACR, CLOUD_PUBLIC, "myreg");
	classify("myreg.azurecr.cn", SERVICE_ACR, CLOUD_CHINA, "myreg");
	classify("myreg.azurecr.us", SERVICE_ACR, CLOUD_USGOV, "myreg");
	classify("myreg.eastus.data.azurecr.io", SERVICE_ACR_DATA, CLOUD_PUBLIC, "myreg");
	classify("myreg.westeurope.geo.azurecr.io", SERVICE_ACR, CLOUD_PUBLIC, "myreg");
	classify("myreg.privatelink.azurecr.io", SERVICE_ACR, CLOUD_PUBLIC, "myreg");
	classify("login.microsoftonline.com", SERVICE_ENTRA_LOGIN, CLOUD_PUBLIC, "");
	classify("login.chinacloudapi.cn", SERVICE_ENTRA_LOGIN, CLOUD_CHINA, "");
	classify("login.microsoftonline.us", SERVICE_ENTRA_LOGIN, CLOUD_USGOV, "");
	classify("management.azure.com", SERVICE_RESOURCE_MANAGER, CLOUD_PUBLIC, "");
	classify("management.chinacloudapi.cn", SERVICE_RESOURCE_MANAGER, CLOUD_CHINA, "");
	classify("management.usgovcloudapi.net", SERVICE_RESOURCE_MANAGER, CLOUD_USGOV, "");
	classify("acct1.blob.core.windows.net", SERVICE_STORAGE_BLOB, CLOUD_PUBLIC, "acct1");
	classify("example.com", SERVICE_OTHER, CLOUD_NONE, "");
	/* Look-alikes are not Azure. */
	classify("vault.azure.net.evil.example", SERVICE_OTHER, CLOUD_NONE, "");
	classify("notazurecr.io", SERVICE_OTHER, CLOUD_NONE, "");
	classify("azurecr.io", SERVICE_OTHER, CLOUD_NONE, "");
	classify("", SERVICE_NONE, CLOUD_NONE, "");
}

static void node_local_endpoints(void **state)
{
	uint8_t imds[16] = {169, 254, 169, 254}, wireserver[16] = {168, 63, 129, 16};
	uint8_t other[16] = {10, 0, 0, 1};

	(void)state;
	assert_int_equal(destination_fixed(4, imds, 80), SERVICE_IMDS);
	assert_int_equal(destination_fixed(4, imds, 443), SERVICE_NONE);
	assert_int_equal(destination_fixed(4, wireserver, 80), SERVICE_WIRESERVER);
	assert_int_equal(destination_fixed(4, wireserver, 32526), SERVICE_WIRESERVER);
	assert_int_equal(destination_fixed(4, other, 80), SERVICE_NONE);
	assert_int_equal(destination_fixed(6, imds, 80), SERVICE_NONE);
	assert_string_equal(destination_service_name(SERVICE_ACR_DATA), "acr-data");
	assert_string_equal(destination_cloud_name(CLOUD_USGOV), "usgov");
}

static const uint8_t *ip4(uint8_t a, uint8_t b, uint8_t c, uint8_t d)
{
	static uint8_t addr[16];

	memset(addr, 0, sizeof(addr));
	addr[0] = a, addr[1] = b, addr[2] = c, addr[3] = d;
	return addr;
}

static void published_service_tags(void **state)
{
	const char *path = "tests/data/ServiceTags_Public.subset.json";
	struct service_tags *tags;
	const struct service_tag *tag;
	struct am_error err;

	(void)state;
	tags = service_tags_load(path, &err);
	if (!tags) {
		fail_msg("%s", err.msg);
		return;
	}
	assert_true(service_tags_prefix_count(tags) > 2000);
	/* 20.42.79.112/28 is AzureActiveDirectory's in the published file. */
	tag = service_tags_lookup(tags, 4, ip4(20, 42, 79, 120));
	assert_non_null(tag);
	assert_string_equal(tag->name, "AzureActiveDirectory");
	assert_int_equal(tag->service, SERVICE_ENTRA_LOGIN);
	assert_null(service_tags_lookup(tags, 4, ip4(127, 0, 0, 1)));
	service_tags_free(tags);
}

static struct service_tags *tags_from(const char *text, struct am_error *err)
{
	cJSON *root = json_input_parse("tags.json", text, strlen(text), err);
	struct service_tags *tags;

	if (!root)
		return NULL;
	tags = service_tags_from_json(root, "tags.json", err);
	cJSON_Delete(root);
	return tags;
}

static void longest_prefix_and_regional_tags(void **state)
{
	const char *text =
		"{\"values\":[{\"name\":\"AzureKeyVault\",\"properties\":{\"systemService\":"
		"\"AzureKeyVault\",\"region\":\"\",\"addressPrefixes\":[\"20.0.0.0/8\",\"20.1.2.0/24\","
		"\"2603:1000::/24\"]}},{\"name\":\"AzureKeyVault.EastUS\",\"properties\":{"
		"\"systemService\":\"AzureKeyVault\",\"region\":\"eastus\",\"addressPrefixes\":["
		"\"20.1.2.0/24\"]}},{\"name\":\"AzureContainerRegistry\",\"properties\":{"
		"\"systemService\":\"AzureContainerRegistry\",\"addressPrefixes\":[\"20.1.2.128/25\"]}},"
		"{\"name\":\"AzureCloud\",\"properties\":{\"systemService\":\"\",\"addressPrefixes\":"
		"[\"0.0.0.0/0\"]}}]}";
	uint8_t v6[16] = {0x26, 0x03, 0x10, 0x00, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
	struct service_tags *tags;
	struct am_error err;

	(void)state;
	tags = tags_from(text, &err);
	assert_non_null(tags);
	assert_string_equal(service_tags_lookup(tags, 4, ip4(20, 9, 9, 9))->name, "AzureKeyVault");
	/* The same /24 in a global and a regional tag: the regional one. */
	assert_string_equal(service_tags_lookup(tags, 4, ip4(20, 1, 2, 3))->name,
			    "AzureKeyVault.EastUS");
	assert_string_equal(service_tags_lookup(tags, 4, ip4(20, 1, 2, 3))->region, "eastus");
	/* A longer prefix wins. */
	assert_string_equal(service_tags_lookup(tags, 4, ip4(20, 1, 2, 200))->name,
			    "AzureContainerRegistry");
	assert_string_equal(service_tags_lookup(tags, 6, v6)->name, "AzureKeyVault");
	/* AzureCloud names no service. */
	assert_null(service_tags_lookup(tags, 4, ip4(8, 8, 8, 8)));
	assert_int_equal(service_tags_tag_count(tags), 3);
	service_tags_free(tags);

	assert_null(tags_from("{\"values\":[{\"name\":\"A\",\"properties\":{\"systemService\":"
			      "\"AzureKeyVault\",\"addressPrefixes\":[\"1.2.3/24\"]}}]}",
			      &err));
	assert_string_equal(err.msg,
			    "tags.json: values[0].properties.addressPrefixes[0]: not a CIDR prefix");
	assert_null(tags_from("{\"changeNumber\":1}", &err));
	assert_non_null(strstr(err.msg, "values: missing or not an array"));
	assert_null(service_tags_load("/nonexistent/tags.json", &err));
	assert_non_null(strstr(err.msg, "/nonexistent/tags.json: cannot open"));
}

static struct dns_message answer(const char *question)
{
	struct dns_message msg;

	memset(&msg, 0, sizeof(msg));
	msg.response = true;
	strcpy(msg.question, question);
	return msg;
}

static void dns_cache_follows_cnames_per_pod(void **state)
{
	struct dns_cache *cache = dns_cache_new(4);
	struct dns_message *msg = malloc(sizeof(*msg));
	uint8_t addr[16] = {20, 62, 128, 5};

	(void)state;
	*msg = answer("myreg.azurecr.io");
	msg->n_records = 3;
	strcpy(msg->records[0].name, "myreg.azurecr.io");
	msg->records[0].type = DNS_TYPE_CNAME;
	msg->records[0].ttl = 3600;
	strcpy(msg->records[0].target, "myreg.privatelink.azurecr.io");
	strcpy(msg->records[1].name, "myreg.privatelink.azurecr.io");
	msg->records[1].type = DNS_TYPE_CNAME;
	msg->records[1].ttl = 60;
	strcpy(msg->records[1].target, "r1.cloudapp.azure.com");
	strcpy(msg->records[2].name, "r1.cloudapp.azure.com");
	msg->records[2].type = DNS_TYPE_A;
	msg->records[2].ttl = 10;
	msg->records[2].family = 4;
	memcpy(msg->records[2].addr, addr, 16);
	assert_int_equal(dns_cache_learn(cache, "pod-a", msg, 1000), 1);
	assert_string_equal(dns_cache_lookup(cache, "pod-a", 4, addr, 2000), "myreg.azurecr.io");
	/* Another pod did not resolve it. */
	assert_null(dns_cache_lookup(cache, "pod-b", 4, addr, 2000));
	/* Past the TTL but within the grace: still named; past the grace: gone. */
	assert_non_null(dns_cache_lookup(cache, "pod-a", 4, addr, 1000 + 20000000000ull));
	assert_null(dns_cache_lookup(cache, "pod-a", 4, addr,
				     1000 + 10000000000ull + DNS_CACHE_STALE_GRACE_NS + 1));
	/* A CNAME loop in the answer cannot hang the chain walk. */
	*msg = answer("a.example");
	msg->n_records = 3;
	strcpy(msg->records[0].name, "a.example");
	msg->records[0].type = DNS_TYPE_CNAME;
	strcpy(msg->records[0].target, "b.example");
	strcpy(msg->records[1].name, "b.example");
	msg->records[1].type = DNS_TYPE_CNAME;
	strcpy(msg->records[1].target, "a.example");
	strcpy(msg->records[2].name, "a.example");
	msg->records[2].type = DNS_TYPE_A;
	msg->records[2].family = 4;
	assert_int_equal(dns_cache_learn(cache, "pod-a", msg, 1), 1);
	/* Failed answers teach nothing. */
	*msg = answer("x.example");
	msg->rcode = 3;
	assert_int_equal(dns_cache_learn(cache, "pod-a", msg, 1), 0);
	free(msg);
	dns_cache_free(cache);
}

static void dns_cache_is_bounded(void **state)
{
	struct dns_cache *cache = dns_cache_new(100);
	uint8_t addr[16] = {0};
	uint32_t i;

	(void)state;
	for (i = 0; i < 10000; i++) {
		memcpy(addr, &i, sizeof(i));
		dns_cache_add(cache, "pod", 4, addr, "n.example", UINT64_MAX);
		assert_true(dns_cache_count(cache) <= 100);
	}
	/* The most recent survive. */
	assert_non_null(dns_cache_lookup(cache, "pod", 4, addr, 1));
	i = 0;
	memcpy(addr, &i, sizeof(i));
	assert_null(dns_cache_lookup(cache, "pod", 4, addr, 1));
	dns_cache_free(cache);
}

/* What the flow table told the pipeline. */
struct seen {
	int http;
	int released;
	int dns;
	char last_path[512];
	char last_client_id[512];
	int last_status;
	bool last_truncated;
	char last_error[64];
	char released_host[256];
};

static void on_http(void *ctx, const struct flow *flow, const struct http_request *request,
		    int status, const char *error, uint64_t time_ns)
{
	struct seen *seen = ctx;

	(void)flow, (void)time_ns;
	seen->http++;
	seen->last_status = status;
	snprintf(seen->last_error, sizeof(seen->last_error), "%s", error ? error : "");
	if (request) {
		snprintf(seen->last_path, sizeof(seen->last_path), "%s", request->path);
		snprintf(seen->last_client_id, sizeof(seen->last_client_id), "%s",
			 request->client_id);
		seen->last_truncated = request->truncated;
	}
}

static void on_released(void *ctx, struct flow *flow)
{
	struct seen *seen = ctx;

	seen->released++;
	snprintf(seen->released_host, sizeof(seen->released_host), "%s", flow->naming.host);
}

static void on_dns(void *ctx, const struct flow *flow, const uint8_t *message, size_t len,
		   uint64_t time_ns)
{
	struct seen *seen = ctx;

	(void)flow, (void)message, (void)time_ns;
	assert_int_equal(len, 5);
	seen->dns++;
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
	return record;
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

static void flows_follow_requests_and_answers(void **state)
{
	struct seen seen = {0};
	struct flow_callbacks callbacks = {on_http, on_released, on_dns, NULL, &seen};
	struct flow_table *table = flow_table_new(8, &callbacks);
	struct am_connect_record connect = connect_to(7, AM_CAPTURE_HTTP, 100);
	struct naming naming = {0};
	const char part1[] = "GET /metadata/identity/oauth2/token?client_id=split HTT";
	const char part2[] = "P/1.1\r\nMetadata: true\r\n\r\n";
	char line[2048];

	(void)state;
	assert_non_null(flow_table_open(table, &connect, &naming, false));
	flow_table_payload(table, payload(7, AM_PAYLOAD_HTTP_REQUEST, 1000, part1,
					  strlen(part1), 110));
	/* A retransmission of the first part changes nothing. */
	flow_table_payload(table, payload(7, AM_PAYLOAD_HTTP_REQUEST, 1000, part1,
					  strlen(part1), 111));
	flow_table_payload(table, payload(7, AM_PAYLOAD_HTTP_REQUEST, 1000 + strlen(part1), part2,
					  strlen(part2), 120));
	assert_int_equal(seen.http, 0); /* waiting for the answer */
	flow_table_payload(table, payload(7, AM_PAYLOAD_HTTP_RESPONSE, 5000, "HTTP/1.1 200 OK\r\n",
					  17, 130));
	assert_int_equal(seen.http, 1);
	assert_string_equal(seen.last_path, "/metadata/identity/oauth2/token");
	assert_string_equal(seen.last_client_id, "split");
	assert_int_equal(seen.last_status, 200);

	/* No answer: reported once the records' clock has moved on. */
	flow_table_payload(table, payload(7, AM_PAYLOAD_HTTP_REQUEST, 1000 + strlen(part1) +
									     strlen(part2),
					  "GET /metadata/instance HTTP/1.1\r\n\r\n", 35, 200));
	flow_table_advance(table, 200 + FLOW_ANSWER_WAIT_NS / 2);
	assert_int_equal(seen.http, 1);
	flow_table_advance(table, 201 + FLOW_ANSWER_WAIT_NS);
	assert_int_equal(seen.http, 2);
	assert_int_equal(seen.last_status, -1);

	/* A head cut short by a gap in the capture is reported truncated. */
	flow_table_payload(table, payload(7, AM_PAYLOAD_HTTP_REQUEST, 1000 + strlen(part1) +
									     strlen(part2) + 35,
					  "GET /metadata/identity/oauth2/token?client_id=big HTTP/1.1\r\nX: aaaa",
					  66, 300));
	flow_table_payload(table, payload(7, AM_PAYLOAD_HTTP_REQUEST, 90000, "bbbb", 4, 310));
	assert_int_equal(seen.http, 3);
	assert_true(seen.last_truncated);
	assert_string_equal(seen.last_client_id, "big");

	flow_table_close(table, 7, 400);
	assert_int_equal(flow_table_count(table), 0);

	/* A request line longer than the kernel keeps of a segment: its target, cut. */
	connect = connect_to(8, AM_CAPTURE_HTTP, 500);
	assert_non_null(flow_table_open(table, &connect, &naming, false));
	snprintf(line, sizeof(line), "GET /metadata/identity/oauth2/token?resource=r&x=%01900d HTTP/1.1\r\n\r\n", 0);
	flow_table_payload(table, payload(8, AM_PAYLOAD_HTTP_REQUEST, 1, line, strlen(line), 510));
	assert_int_equal(seen.http, 4);
	assert_string_equal(seen.last_error, "");
	assert_true(seen.last_truncated);
	assert_string_equal(seen.last_path, "/metadata/identity/oauth2/token");
	flow_table_close(table, 8, 600);
	flow_table_free(table);
}

static void flows_hold_connects_until_named(void **state)
{
	struct seen seen = {0};
	struct flow_callbacks callbacks = {on_http, on_released, on_dns, NULL, &seen};
	struct flow_table *table = flow_table_new(8, &callbacks);
	struct am_connect_record connect = connect_to(9, AM_CAPTURE_TLS, 100);
	/* Enough of a ClientHello: record, handshake, version, random, no session... */
	static const unsigned char hello[] = {
		0x16, 0x03, 0x01, 0x00, 0x3a, 0x01, 0x00, 0x00, 0x36, 0x03, 0x03, 1, 2, 3, 4, 5, 6,
		7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27,
		28, 29, 30, 31, 32, 0x00, 0x00, 0x02, 0x13, 0x01, 0x01, 0x00, 0x00, 0x0c, 0x00,
		0x00, 0x00, 0x08, 0x00, 0x06, 0x00, 0x00, 0x03, 'a', '.', 'b'};
	struct naming naming = {0};

	(void)state;
	assert_non_null(flow_table_open(table, &connect, &naming, true));
	assert_int_equal(seen.released, 0);
	flow_table_payload(table, payload(9, AM_PAYLOAD_TLS_HELLO, 1, hello, sizeof(hello), 150));
	assert_int_equal(seen.released, 1);
	assert_string_equal(seen.released_host, "a.b");

	/* No ClientHello at all: released unnamed after the hold. */
	connect = connect_to(10, AM_CAPTURE_TLS, 1000);
	assert_non_null(flow_table_open(table, &connect, &naming, true));
	flow_table_advance(table, 1000 + FLOW_HOLD_NS / 2);
	assert_int_equal(seen.released, 1);
	flow_table_advance(table, 1001 + FLOW_HOLD_NS);
	assert_int_equal(seen.released, 2);
	assert_string_equal(seen.released_host, "");
	/* And everything still held goes out at the end. */
	connect = connect_to(11, AM_CAPTURE_TLS, 5000);
	assert_non_null(flow_table_open(table, &connect, &naming, true));
	flow_table_finish(table);
	assert_int_equal(seen.released, 3);
	flow_table_free(table);
}

static void flows_dns_over_tcp_and_capacity(void **state)
{
	struct seen seen = {0};
	struct flow_callbacks callbacks = {on_http, on_released, on_dns, NULL, &seen};
	struct flow_table *table = flow_table_new(4, &callbacks);
	struct am_connect_record connect = connect_to(3, AM_CAPTURE_DNS_TCP, 1);
	struct naming naming = {0};
	uint64_t cookie;

	(void)state;
	assert_non_null(flow_table_open(table, &connect, &naming, false));
	/* Two framed messages of 5 bytes, split in the middle of the second. */
	flow_table_payload(table, payload(3, AM_PAYLOAD_DNS_TCP, 10, "\0\5abcde\0\5ab", 11, 2));
	assert_int_equal(seen.dns, 1);
	flow_table_payload(table, payload(3, AM_PAYLOAD_DNS_TCP, 21, "cde", 3, 3));
	assert_int_equal(seen.dns, 2);
	/* Past capacity the least recent go. */
	for (cookie = 100; cookie < 110; cookie++) {
		connect = connect_to(cookie, AM_CAPTURE_HTTP, cookie);
		assert_non_null(flow_table_open(table, &connect, &naming, false));
		assert_true(flow_table_count(table) <= 4);
	}
	assert_true(flow_table_stats(table)->evicted >= 6);
	flow_table_free(table);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(host_names_in_every_cloud),
		cmocka_unit_test(node_local_endpoints),
		cmocka_unit_test(published_service_tags),
		cmocka_unit_test(longest_prefix_and_regional_tags),
		cmocka_unit_test(dns_cache_follows_cnames_per_pod),
		cmocka_unit_test(dns_cache_is_bounded),
		cmocka_unit_test(flows_follow_requests_and_answers),
		cmocka_unit_test(flows_hold_connects_until_named),
		cmocka_unit_test(flows_dns_over_tcp_and_capacity),
	};

	return cmocka_run_group_tests_name("naming", tests, NULL, NULL);
}
