/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * Microsoft's published service tags (ServiceTags_Public JSON, plain or gzipped)
 * as a longest-prefix lookup: an address to the service tag it belongs to, for
 * the services accessmon names (Key Vault, ACR, Entra ID, Resource Manager,
 * Storage). Used when no name for a destination is known.
 */
#ifndef ACCESSMON_SERVICE_TAGS_H
#define ACCESSMON_SERVICE_TAGS_H

#include <stddef.h>
#include <stdint.h>
#include <cjson/cJSON.h>

#include "name/destinations.h"
#include "lib/error.h"

struct service_tag {
	char *name;   /* "AzureKeyVault.EastUS" */
	char *region; /* "eastus", or NULL for a global tag */
	enum destination_service service;
};

struct service_tags;

/* Reads the file (gzip or plain JSON); NULL with err naming the file and where. */
struct service_tags *service_tags_load(const char *path, struct am_error *err);
/* Reads a parsed document; `source` names it in errors. */
struct service_tags *service_tags_from_json(const cJSON *root, const char *source,
					    struct am_error *err);
void service_tags_free(struct service_tags *tags);

/* The most specific tag containing the address, or NULL. */
const struct service_tag *service_tags_lookup(const struct service_tags *tags, uint8_t family,
					      const uint8_t addr[16]);
size_t service_tags_prefix_count(const struct service_tags *tags);
size_t service_tags_tag_count(const struct service_tags *tags);
/* The tags accessmon uses, as a compact ServiceTags document: what a recording carries. */
char *service_tags_json(const struct service_tags *tags);

#endif /* ACCESSMON_SERVICE_TAGS_H */
