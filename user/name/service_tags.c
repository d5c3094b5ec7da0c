// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* Service tag prefixes and their longest-prefix lookup; see service_tags.h. */
#include "name/service_tags.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "lib/json_input.h"

#define SERVICE_TAGS_MAX_BYTES (256u << 20)

struct prefix_entry {
	uint8_t addr[16]; /* masked */
	uint8_t family;
	uint8_t length;
	bool used;
	uint32_t tag;
};

struct service_tags {
	struct service_tag *tags;
	size_t n_tags;
	struct prefix_entry *table; /* open addressing */
	size_t n_slots;
	size_t n_prefixes;
	/* Prefix lengths present, per family, longest first. */
	uint8_t lengths[2][129];
	size_t n_lengths[2];
};

static const struct {
	const char *system_service;
	enum destination_service service;
} services[] = {
	{"AzureKeyVault", SERVICE_KEYVAULT},
	{"AzureContainerRegistry", SERVICE_ACR},
	{"AzureAD", SERVICE_ENTRA_LOGIN},
	{"AzureActiveDirectory", SERVICE_ENTRA_LOGIN},
	{"AzureResourceManager", SERVICE_RESOURCE_MANAGER},
	{"AzureStorage", SERVICE_STORAGE_BLOB},
};

static uint64_t hash_prefix(const uint8_t addr[16], uint8_t family, uint8_t length)
{
	uint64_t h = 1469598103934665603ull ^ ((uint64_t)family << 8 | length);
	int i;

	for (i = 0; i < 16; i++)
		h = (h ^ addr[i]) * 1099511628211ull;
	return h;
}

static void mask(uint8_t addr[16], uint8_t length, uint8_t family)
{
	int bits = family == 4 ? 32 : 128, i;

	for (i = 0; i < bits; i++)
		if (i >= length)
			addr[i / 8] &= (uint8_t) ~(0x80 >> (i % 8));
	if (family == 4)
		memset(addr + 4, 0, 12);
}

static struct prefix_entry *slot_for(const struct service_tags *tags, const uint8_t addr[16],
				     uint8_t family, uint8_t length)
{
	size_t mask_slots = tags->n_slots - 1;
	size_t i = hash_prefix(addr, family, length) & mask_slots;

	while (tags->table[i].used) {
		struct prefix_entry *entry = &tags->table[i];

		if (entry->family == family && entry->length == length &&
		    memcmp(entry->addr, addr, 16) == 0)
			return entry;
		i = (i + 1) & mask_slots;
	}
	return &tags->table[i];
}

static int parse_cidr(const char *text, uint8_t addr[16], uint8_t *family, uint8_t *length)
{
	char ip[64];
	const char *slash = strchr(text, '/');
	char *end;
	long bits;

	if (!slash || (size_t)(slash - text) >= sizeof(ip))
		return -EINVAL;
	memcpy(ip, text, (size_t)(slash - text));
	ip[slash - text] = '\0';
	memset(addr, 0, 16);
	if (inet_pton(AF_INET, ip, addr) == 1)
		*family = 4;
	else if (inet_pton(AF_INET6, ip, addr) == 1)
		*family = 6;
	else
		return -EINVAL;
	bits = strtol(slash + 1, &end, 10);
	if (*end || end == slash + 1 || bits < 0 || bits > (*family == 4 ? 32 : 128))
		return -EINVAL;
	*length = (uint8_t)bits;
	mask(addr, *length, *family);
	return 0;
}

static void note_length(struct service_tags *tags, uint8_t family, uint8_t length)
{
	int f = family == 6;
	size_t i, j;

	for (i = 0; i < tags->n_lengths[f]; i++)
		if (tags->lengths[f][i] == length)
			return;
	/* Keep longest first. */
	for (i = 0; i < tags->n_lengths[f] && tags->lengths[f][i] > length; i++)
		;
	for (j = tags->n_lengths[f]; j > i; j--)
		tags->lengths[f][j] = tags->lengths[f][j - 1];
	tags->lengths[f][i] = length;
	tags->n_lengths[f]++;
}

static enum destination_service service_of(const char *system_service)
{
	size_t i;

	for (i = 0; system_service && i < sizeof(services) / sizeof(services[0]); i++)
		if (strcmp(system_service, services[i].system_service) == 0)
			return services[i].service;
	return SERVICE_NONE;
}

void service_tags_free(struct service_tags *tags)
{
	size_t i;

	if (!tags)
		return;
	for (i = 0; i < tags->n_tags; i++) {
		free(tags->tags[i].name);
		free(tags->tags[i].region);
	}
	free(tags->tags);
	free(tags->table);
	free(tags);
}

struct service_tags *service_tags_from_json(const cJSON *root, const char *source,
					    struct am_error *err)
{
	const cJSON *values = cJSON_GetObjectItemCaseSensitive(root, "values"), *value;
	struct service_tags *tags;
	size_t total = 0, index = 0, n = 64;

	if (!cJSON_IsArray(values)) {
		am_error_set(err, "%s: values: missing or not an array; expected Microsoft's "
				  "ServiceTags_Public JSON",
			     source);
		return NULL;
	}
	cJSON_ArrayForEach(value, values)
	{
		const cJSON *properties = cJSON_GetObjectItemCaseSensitive(value, "properties");

		total += (size_t)cJSON_GetArraySize(
			cJSON_GetObjectItemCaseSensitive(properties, "addressPrefixes"));
	}
	while (n < total * 2)
		n *= 2;
	tags = calloc(1, sizeof(*tags));
	if (!tags || !(tags->tags = calloc((size_t)cJSON_GetArraySize(values) + 1,
					   sizeof(*tags->tags))) ||
	    !(tags->table = calloc(n, sizeof(*tags->table)))) {
		service_tags_free(tags);
		am_error_set(err, "%s: out of memory", source);
		return NULL;
	}
	tags->n_slots = n;
	cJSON_ArrayForEach(value, values)
	{
		const cJSON *properties = cJSON_GetObjectItemCaseSensitive(value, "properties");
		const cJSON *prefixes = cJSON_GetObjectItemCaseSensitive(properties, "addressPrefixes");
		const char *name = json_member_string(value, "name");
		const char *region = json_member_string(properties, "region");
		enum destination_service service =
			service_of(json_member_string(properties, "systemService"));
		const cJSON *prefix;
		size_t p = 0;

		if (!name || !cJSON_IsObject(properties) || !cJSON_IsArray(prefixes)) {
			am_error_set(err, "%s: values[%zu]: needs name and properties.addressPrefixes",
				     source, index);
			service_tags_free(tags);
			return NULL;
		}
		index++;
		if (service == SERVICE_NONE)
			continue; /* AzureCloud and the rest: no service accessmon names */
		tags->tags[tags->n_tags].name = strdup(name);
		tags->tags[tags->n_tags].region = region && *region ? strdup(region) : NULL;
		tags->tags[tags->n_tags].service = service;
		cJSON_ArrayForEach(prefix, prefixes)
		{
			struct prefix_entry *entry;
			uint8_t addr[16], family, length;

			if (!cJSON_IsString(prefix) ||
			    parse_cidr(prefix->valuestring, addr, &family, &length)) {
				am_error_set(err, "%s: values[%zu].properties.addressPrefixes[%zu]: "
						  "not a CIDR prefix",
					     source, index - 1, p);
				tags->n_tags++;
				service_tags_free(tags);
				return NULL;
			}
			p++;
			entry = slot_for(tags, addr, family, length);
			/* The same prefix in a global and a regional tag: the regional one says more. */
			if (entry->used && !tags->tags[tags->n_tags].region)
				continue;
			if (!entry->used)
				tags->n_prefixes++;
			memcpy(entry->addr, addr, 16);
			entry->family = family;
			entry->length = length;
			entry->used = true;
			entry->tag = (uint32_t)tags->n_tags;
			note_length(tags, family, length);
		}
		tags->n_tags++;
	}
	return tags;
}

struct service_tags *service_tags_load(const char *path, struct am_error *err)
{
	size_t cap = 1 << 20, len = 0;
	struct service_tags *tags;
	char *text = malloc(cap);
	gzFile file;
	cJSON *root;
	int n;

	file = gzopen(path, "rb");
	if (!file || !text) {
		am_error_set(err, "%s: cannot open: %s", path, strerror(errno ? errno : ENOMEM));
		free(text);
		if (file)
			gzclose(file);
		return NULL;
	}
	while ((n = gzread(file, text + len, (unsigned int)(cap - len - 1))) > 0) {
		len += (size_t)n;
		if (len + 1 == cap) {
			char *grown;

			if (cap >= SERVICE_TAGS_MAX_BYTES) {
				am_error_set(err, "%s: larger than %u bytes", path, SERVICE_TAGS_MAX_BYTES);
				goto fail;
			}
			grown = realloc(text, cap * 2);
			if (!grown) {
				am_error_set(err, "%s: out of memory", path);
				goto fail;
			}
			text = grown;
			cap *= 2;
		}
	}
	if (n < 0) {
		int gz_error;

		am_error_set(err, "%s: cannot read at byte %zu: %s", path, len,
			     gzerror(file, &gz_error));
		goto fail;
	}
	gzclose(file);
	text[len] = '\0';
	root = json_input_parse(path, text, len, err);
	free(text);
	if (!root)
		return NULL;
	tags = service_tags_from_json(root, path, err);
	cJSON_Delete(root);
	return tags;
fail:
	gzclose(file);
	free(text);
	return NULL;
}

const struct service_tag *service_tags_lookup(const struct service_tags *tags, uint8_t family,
					      const uint8_t addr[16])
{
	int f = family == 6;
	size_t i;

	if (!tags)
		return NULL;
	for (i = 0; i < tags->n_lengths[f]; i++) {
		uint8_t masked[16];
		const struct prefix_entry *entry;

		memcpy(masked, addr, 16);
		mask(masked, tags->lengths[f][i], family);
		entry = slot_for(tags, masked, family, tags->lengths[f][i]);
		if (entry->used)
			return &tags->tags[entry->tag];
	}
	return NULL;
}

size_t service_tags_prefix_count(const struct service_tags *tags)
{
	return tags->n_prefixes;
}

size_t service_tags_tag_count(const struct service_tags *tags)
{
	return tags->n_tags;
}

/* Regroups the prefixes by tag into a document service_tags_from_json reads back. */
char *service_tags_json(const struct service_tags *tags)
{
	cJSON *root = cJSON_CreateObject(), *values = cJSON_AddArrayToObject(root, "values");
	cJSON **prefix_lists = calloc(tags->n_tags + 1, sizeof(*prefix_lists));
	char *text = NULL;
	size_t i;

	if (!root || !values || !prefix_lists)
		goto out;
	for (i = 0; i < tags->n_tags; i++) {
		static const char *const system_services[] = {
			[SERVICE_KEYVAULT] = "AzureKeyVault",
			[SERVICE_ACR] = "AzureContainerRegistry",
			[SERVICE_ENTRA_LOGIN] = "AzureAD",
			[SERVICE_RESOURCE_MANAGER] = "AzureResourceManager",
			[SERVICE_STORAGE_BLOB] = "AzureStorage",
		};
		cJSON *value = cJSON_CreateObject(), *properties;

		cJSON_AddStringToObject(value, "name", tags->tags[i].name);
		properties = cJSON_AddObjectToObject(value, "properties");
		cJSON_AddStringToObject(properties, "region",
					tags->tags[i].region ? tags->tags[i].region : "");
		cJSON_AddStringToObject(properties, "systemService",
					system_services[tags->tags[i].service]
						? system_services[tags->tags[i].service]
						: "");
		prefix_lists[i] = cJSON_AddArrayToObject(properties, "addressPrefixes");
		cJSON_AddItemToArray(values, value);
	}
	for (i = 0; i < tags->n_slots; i++) {
		const struct prefix_entry *entry = &tags->table[i];
		char ip[INET6_ADDRSTRLEN], cidr[INET6_ADDRSTRLEN + 8];

		if (!entry->used)
			continue;
		inet_ntop(entry->family == 4 ? AF_INET : AF_INET6, entry->addr, ip, sizeof(ip));
		snprintf(cidr, sizeof(cidr), "%s/%u", ip, entry->length);
		cJSON_AddItemToArray(prefix_lists[entry->tag], cJSON_CreateString(cidr));
	}
	text = cJSON_PrintUnformatted(root);
out:
	free(prefix_lists);
	cJSON_Delete(root);
	return text;
}
