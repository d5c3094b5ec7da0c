// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * Unit tests: Microsoft's published service tags (name/service_tags.h), the
 * longest-prefix lookup, gzipped files, and the compact document a recording
 * carries.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>
#include <cmocka.h>

#include "lib/json_input.h"
#include "name/service_tags.h"
#include "tree.h"

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

static const char two_services[] =
	"{\"values\":[{\"name\":\"AzureContainerRegistry.WestEurope\",\"properties\":{"
	"\"systemService\":\"AzureContainerRegistry\",\"region\":\"westeurope\","
	"\"addressPrefixes\":[\"51.12.0.0/16\",\"2603:1020:200::/46\"]}},"
	"{\"name\":\"AzureActiveDirectory\",\"properties\":{\"systemService\":"
	"\"AzureActiveDirectory\",\"addressPrefixes\":[\"20.190.128.0/18\",\"40.126.0.0/18\"]}},"
	"{\"name\":\"Storage\",\"properties\":{\"systemService\":\"AzureStorage\","
	"\"addressPrefixes\":[\"52.239.0.0/17\"]}}]}";

/* What a recording carries reads back into the same lookups. */
static void compact_document_reads_back(void **state)
{
	uint8_t v6[16] = {0x26, 0x03, 0x10, 0x20, 0x02, 0x03, 0, 0, 0, 0, 0, 0, 0, 0, 0, 9};
	struct service_tags *tags, *again;
	struct am_error err;
	char *json;

	(void)state;
	tags = tags_from(two_services, &err);
	assert_non_null(tags);
	assert_int_equal(service_tags_prefix_count(tags), 5);
	json = service_tags_json(tags);
	assert_non_null(json);
	again = tags_from(json, &err);
	free(json);
	assert_non_null(again);
	assert_int_equal(service_tags_prefix_count(again), 5);
	assert_int_equal(service_tags_tag_count(again), 3);
	assert_string_equal(service_tags_lookup(again, 4, ip4(51, 12, 200, 1))->region,
			    "westeurope");
	assert_int_equal(service_tags_lookup(again, 4, ip4(40, 126, 63, 255))->service,
			 SERVICE_ENTRA_LOGIN);
	assert_null(service_tags_lookup(again, 4, ip4(40, 126, 64, 0)));
	assert_int_equal(service_tags_lookup(again, 4, ip4(52, 239, 1, 1))->service,
			 SERVICE_STORAGE_BLOB);
	/* A /46 covers the bits up to its length and no further. */
	assert_int_equal(service_tags_lookup(again, 6, v6)->service, SERVICE_ACR);
	v6[5] = 0x04;
	assert_null(service_tags_lookup(again, 6, v6));
	/* Nothing for an IPv4 address in an IPv6 prefix's bytes, nor without tags. */
	assert_null(service_tags_lookup(again, 4, ip4(0x26, 0x03, 0x10, 0x20)));
	assert_null(service_tags_lookup(NULL, 4, ip4(51, 12, 0, 1)));
	service_tags_free(again);
	service_tags_free(tags);
}

static void bad_prefixes_name_their_place(void **state)
{
	static const char *const prefixes[] = {
		"\"1.2.3.4/33\"", "\"1.2.3.4\"", "\"1.2.3.4/\"", "\"1.2.3.4/8x\"",
		"\"::/129\"",	  "\"x/8\"",	 "\"1.2.3.4/-1\"", "7",
	};
	struct am_error err;
	char text[512];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++) {
		snprintf(text, sizeof(text),
			 "{\"values\":[{\"name\":\"A\",\"properties\":{\"systemService\":"
			 "\"AzureKeyVault\",\"addressPrefixes\":[\"10.0.0.0/8\",%s]}}]}",
			 prefixes[i]);
		if (tags_from(text, &err))
			fail_msg("%s: accepted", prefixes[i]);
		assert_string_equal(
			err.msg, "tags.json: values[0].properties.addressPrefixes[1]: not a CIDR prefix");
	}
	/* A tag without a name or prefixes, wherever it is. */
	assert_null(tags_from("{\"values\":[{\"name\":\"A\",\"properties\":{\"addressPrefixes\":[]}},"
			      "{\"properties\":{\"addressPrefixes\":[]}}]}",
			      &err));
	assert_string_equal(err.msg, "tags.json: values[1]: needs name and properties.addressPrefixes");
	assert_null(tags_from("{\"values\":[{\"name\":\"A\",\"properties\":[]}]}", &err));
	assert_string_equal(err.msg, "tags.json: values[0]: needs name and properties.addressPrefixes");
}

static void gzipped_and_broken_files(void **state)
{
	char path[128];
	struct service_tags *tags;
	struct am_error err;
	gzFile gz;

	(void)state;
	tree_make("tags");
	snprintf(path, sizeof(path), "%s/tags.json.gz", tree_root);
	gz = gzopen(path, "wb");
	assert_non_null(gz);
	assert_int_equal(gzputs(gz, two_services), (int)strlen(two_services));
	assert_int_equal(gzclose(gz), Z_OK);
	tags = service_tags_load(path, &err);
	if (!tags)
		fail_msg("%s", err.msg);
	assert_int_equal(service_tags_tag_count(tags), 3);
	service_tags_free(tags);
	/* Invalid JSON: the file, line and column. */
	tree_write("/bad.json", "{\"values\": [\n  {\"name\": }]}");
	snprintf(path, sizeof(path), "%s/bad.json", tree_root);
	assert_null(service_tags_load(path, &err));
	assert_non_null(strstr(err.msg, "bad.json:2:"));
	assert_non_null(strstr(err.msg, "invalid JSON"));
	/* An empty file is no document. */
	tree_write("/empty.json", "");
	snprintf(path, sizeof(path), "%s/empty.json", tree_root);
	assert_null(service_tags_load(path, &err));
	assert_non_null(strstr(err.msg, "empty input"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(published_service_tags),
		cmocka_unit_test(longest_prefix_and_regional_tags),
		cmocka_unit_test(compact_document_reads_back),
		cmocka_unit_test(bad_prefixes_name_their_place),
		cmocka_unit_test_teardown(gzipped_and_broken_files, tree_remove),
	};

	return cmocka_run_group_tests_name("service_tags", tests, NULL, NULL);
}
