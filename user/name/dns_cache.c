// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* Per-pod DNS cache with CNAME chains and LRU eviction; see dns_cache.h. */
#include "name/dns_cache.h"

#include <stdlib.h>
#include <string.h>

#include "lib/hashtab.h"
#include "lib/list.h"

/* The node and the key first: a lookup reads one cache line, two for a long owner. */
struct entry {
	struct hashtab_node node;
	uint8_t family;
	uint8_t addr[16];
	char owner[DNS_CACHE_OWNER_MAX];
	char *name;
	uint64_t expires_ns;
	struct list_head lru; /* oldest first */
};

struct dns_cache {
	struct hashtab table;
	uint64_t seed; /* pods choose the names and answers: hash_random_seed() */
	size_t capacity;
	struct list_head lru;
};

/* CNAME links followed back towards the question at most. */
#define CNAME_CHAIN_MAX 16

struct key {
	const char *owner;
	uint8_t family;
	const uint8_t *addr;
};

static uint64_t hash_key(const struct dns_cache *cache, const struct key *key)
{
	uint64_t h = cache->seed ^ key->family, word;

	memcpy(&word, key->addr, 8);
	h = hash_mix(h, word);
	memcpy(&word, key->addr + 8, 8);
	h = hash_mix(h, word);
	return hash_string(h, key->owner);
}

static bool key_matches(const struct hashtab_node *node, const void *key_ptr)
{
	const struct entry *entry = hashtab_entry(node, struct entry, node);
	const struct key *key = key_ptr;

	return entry->family == key->family && memcmp(entry->addr, key->addr, 16) == 0 &&
	       strcmp(entry->owner, key->owner) == 0;
}

struct dns_cache *dns_cache_new(size_t capacity)
{
	struct dns_cache *cache = calloc(1, sizeof(*cache));

	if (!cache)
		return NULL;
	if (hashtab_init(&cache->table, capacity)) {
		free(cache);
		return NULL;
	}
	cache->seed = hash_random_seed();
	cache->capacity = capacity ? capacity : 1;
	list_init(&cache->lru);
	return cache;
}

static void remove_entry(struct dns_cache *cache, struct entry *entry)
{
	hashtab_del(&cache->table, &entry->node);
	list_del(&entry->lru);
	free(entry->name);
	free(entry);
}

void dns_cache_free(struct dns_cache *cache)
{
	struct list_head *node, *next;

	if (!cache)
		return;
	list_for_each_safe(node, next, &cache->lru)
		remove_entry(cache, list_entry(node, struct entry, lru));
	hashtab_release(&cache->table);
	free(cache);
}

static struct entry *find(struct dns_cache *cache, const struct key *key, uint64_t hash)
{
	struct hashtab_node *node = hashtab_find(&cache->table, hash, key_matches, key);

	return node ? hashtab_entry(node, struct entry, node) : NULL;
}

void dns_cache_add(struct dns_cache *cache, const char *owner, uint8_t family,
		   const uint8_t addr[16], const char *name, uint64_t expires_ns)
{
	struct key key = {owner, family, addr};
	uint64_t hash = hash_key(cache, &key);
	struct entry *entry = find(cache, &key, hash);
	char *copy = strdup(name);

	/* An owner cut to fit would hash apart from its entry: kept never (a trace may give any). */
	if (!copy || strlen(owner) >= sizeof(entry->owner)) {
		free(copy);
		return;
	}
	if (entry) {
		free(entry->name);
		entry->name = copy;
		entry->expires_ns = expires_ns;
		list_move_tail(&entry->lru, &cache->lru);
		return;
	}
	if (hashtab_count(&cache->table) >= cache->capacity)
		remove_entry(cache, list_first_entry_or_null(&cache->lru, struct entry, lru));
	entry = calloc(1, sizeof(*entry));
	if (!entry) {
		free(copy);
		return;
	}
	strncpy(entry->owner, owner, sizeof(entry->owner) - 1);
	entry->family = family;
	memcpy(entry->addr, addr, 16);
	entry->name = copy;
	entry->expires_ns = expires_ns;
	hashtab_add(&cache->table, &entry->node, hash);
	list_add_tail(&entry->lru, &cache->lru);
}

/* Follows CNAME records back from name to the name that was asked for. */
static const char *chain_origin(const struct dns_message *msg, const char *name, uint32_t *ttl)
{
	int hops;
	size_t i;

	for (hops = 0; hops < CNAME_CHAIN_MAX; hops++) {
		const struct dns_record *alias = NULL;

		for (i = 0; i < msg->n_records; i++)
			if (msg->records[i].type == DNS_TYPE_CNAME &&
			    strcmp(msg->records[i].target, name) == 0 &&
			    strcmp(msg->records[i].name, name) != 0) {
				alias = &msg->records[i];
				break;
			}
		if (!alias)
			break;
		if (alias->ttl < *ttl)
			*ttl = alias->ttl;
		name = alias->name;
	}
	return name;
}

size_t dns_cache_learn(struct dns_cache *cache, const char *owner, const struct dns_message *msg,
		       uint64_t now_ns)
{
	size_t i, learnt = 0;

	if (!msg->response || msg->rcode != 0)
		return 0;
	for (i = 0; i < msg->n_records; i++) {
		const struct dns_record *record = &msg->records[i];
		uint32_t ttl = record->ttl;
		const char *name;

		if (record->type != DNS_TYPE_A && record->type != DNS_TYPE_AAAA)
			continue;
		name = chain_origin(msg, record->name, &ttl);
		dns_cache_add(cache, owner, record->family, record->addr, name,
			      now_ns + (uint64_t)ttl * 1000000000ull);
		learnt++;
	}
	return learnt;
}

const char *dns_cache_lookup(struct dns_cache *cache, const char *owner, uint8_t family,
			     const uint8_t addr[16], uint64_t now_ns)
{
	struct key key = {owner, family, addr};
	struct entry *entry = find(cache, &key, hash_key(cache, &key));

	if (!entry)
		return NULL;
	if (now_ns > entry->expires_ns && now_ns - entry->expires_ns > DNS_CACHE_STALE_GRACE_NS) {
		remove_entry(cache, entry);
		return NULL;
	}
	list_move_tail(&entry->lru, &cache->lru);
	return entry->name;
}

void dns_cache_foreach(const struct dns_cache *cache,
		       void (*fn)(void *ctx, const char *owner, uint8_t family, const uint8_t addr[16],
				  const char *name, uint64_t expires_ns),
		       void *ctx)
{
	const struct list_head *node;

	list_for_each(node, &cache->lru) {
		const struct entry *entry = list_entry(node, struct entry, lru);

		fn(ctx, entry->owner, entry->family, entry->addr, entry->name, entry->expires_ns);
	}
}

size_t dns_cache_count(const struct dns_cache *cache)
{
	return hashtab_count(&cache->table);
}
