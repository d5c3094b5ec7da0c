// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * Unit tests: naming destinations. Host names to services in every cloud, the
 * published service tags, the per-pod DNS cache. Captured connections are
 * test_flows.c's.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "name/dns_cache.h"
#include "name/destinations.h"
#include "lib/json_input.h"
#include "name/service_tags.h"

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
	/* The address alone: NAT in the pod's namespace can turn any port into IMDS's. */
	assert_int_equal(destination_fixed(4, imds), SERVICE_IMDS);
	assert_int_equal(destination_fixed(4, wireserver), SERVICE_WIRESERVER);
	assert_int_equal(destination_fixed(4, other), SERVICE_NONE);
	/* An IPv6 address with IMDS's bytes first is no IMDS (mapped ones arrive as 4). */
	assert_int_equal(destination_fixed(6, imds), SERVICE_NONE);
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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(host_names_in_every_cloud),
		cmocka_unit_test(node_local_endpoints),
		cmocka_unit_test(published_service_tags),
		cmocka_unit_test(longest_prefix_and_regional_tags),
		cmocka_unit_test(dns_cache_follows_cnames_per_pod),
		cmocka_unit_test(dns_cache_is_bounded),
	};

	return cmocka_run_group_tests_name("naming", tests, NULL, NULL);
}
