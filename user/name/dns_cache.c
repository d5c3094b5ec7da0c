// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* Per-pod DNS cache with CNAME chains and LRU eviction; see dns_cache.h. */
#include "name/dns_cache.h"

#include <stdlib.h>
#include <string.h>

struct entry {
	char owner[DNS_CACHE_OWNER_MAX];
	uint8_t family;
	uint8_t addr[16];
	char *name;
	uint64_t expires_ns;
	struct entry *hash_next;
	struct entry *older, *newer; /* LRU list */
};

struct dns_cache {
	struct entry **buckets;
	size_t n_buckets;
	size_t count;
	size_t capacity;
	struct entry *oldest, *newest;
};

/* CNAME links followed back towards the question at most. */
#define CNAME_CHAIN_MAX 16

static uint64_t mix(uint64_t h, uint64_t word)
{
	h = (h ^ word) * 0x9e3779b97f4a7c15ull;
	return h ^ (h >> 29);
}

/* A word at a time: the lookup runs for every connect, and bytewise was half its cost. */
static uint64_t hash_key(const char *owner, uint8_t family, const uint8_t addr[16])
{
	size_t len = strlen(owner), i;
	uint64_t h = 1469598103934665603ull ^ family, word;

	memcpy(&word, addr, 8);
	h = mix(h, word);
	memcpy(&word, addr + 8, 8);
	h = mix(h, word);
	for (i = 0; i + 8 <= len; i += 8) {
		memcpy(&word, owner + i, 8);
		h = mix(h, word);
	}
	word = 0;
	memcpy(&word, owner + i, len - i);
	return mix(h, word ^ len);
}

struct dns_cache *dns_cache_new(size_t capacity)
{
	struct dns_cache *cache = calloc(1, sizeof(*cache));
	size_t n = 64;

	if (!cache)
		return NULL;
	while (n < capacity)
		n *= 2;
	cache->buckets = calloc(n, sizeof(*cache->buckets));
	if (!cache->buckets) {
		free(cache);
		return NULL;
	}
	cache->n_buckets = n;
	cache->capacity = capacity ? capacity : 1;
	return cache;
}

void dns_cache_free(struct dns_cache *cache)
{
	struct entry *entry, *next;

	if (!cache)
		return;
	for (entry = cache->oldest; entry; entry = next) {
		next = entry->newer;
		free(entry->name);
		free(entry);
	}
	free(cache->buckets);
	free(cache);
}

static struct entry **find(struct dns_cache *cache, const char *owner, uint8_t family,
			   const uint8_t addr[16])
{
	struct entry **link =
		&cache->buckets[hash_key(owner, family, addr) & (cache->n_buckets - 1)];

	for (; *link; link = &(*link)->hash_next)
		if ((*link)->family == family && memcmp((*link)->addr, addr, 16) == 0 &&
		    strcmp((*link)->owner, owner) == 0)
			return link;
	return link;
}

static void lru_unlink(struct dns_cache *cache, struct entry *entry)
{
	if (entry->older)
		entry->older->newer = entry->newer;
	else
		cache->oldest = entry->newer;
	if (entry->newer)
		entry->newer->older = entry->older;
	else
		cache->newest = entry->older;
	entry->older = entry->newer = NULL;
}

static void lru_push(struct dns_cache *cache, struct entry *entry)
{
	entry->older = cache->newest;
	entry->newer = NULL;
	if (cache->newest)
		cache->newest->newer = entry;
	else
		cache->oldest = entry;
	cache->newest = entry;
}

static void remove_entry(struct dns_cache *cache, struct entry *entry)
{
	struct entry **link = find(cache, entry->owner, entry->family, entry->addr);

	if (*link == entry)
		*link = entry->hash_next;
	lru_unlink(cache, entry);
	free(entry->name);
	free(entry);
	cache->count--;
}

void dns_cache_add(struct dns_cache *cache, const char *owner, uint8_t family,
		   const uint8_t addr[16], const char *name, uint64_t expires_ns)
{
	struct entry **link = find(cache, owner, family, addr), *entry = *link;
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
		lru_unlink(cache, entry);
		lru_push(cache, entry);
		return;
	}
	if (cache->count >= cache->capacity) {
		remove_entry(cache, cache->oldest);
		link = find(cache, owner, family, addr);
	}
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
	*link = entry;
	lru_push(cache, entry);
	cache->count++;
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
	struct entry *entry = *find(cache, owner, family, addr);

	if (!entry)
		return NULL;
	if (now_ns > entry->expires_ns && now_ns - entry->expires_ns > DNS_CACHE_STALE_GRACE_NS) {
		remove_entry(cache, entry);
		return NULL;
	}
	lru_unlink(cache, entry);
	lru_push(cache, entry);
	return entry->name;
}

void dns_cache_foreach(const struct dns_cache *cache,
		       void (*fn)(void *ctx, const char *owner, uint8_t family, const uint8_t addr[16],
				  const char *name, uint64_t expires_ns),
		       void *ctx)
{
	const struct entry *entry;

	for (entry = cache->oldest; entry; entry = entry->newer)
		fn(ctx, entry->owner, entry->family, entry->addr, entry->name, entry->expires_ns);
}

size_t dns_cache_count(const struct dns_cache *cache)
{
	return cache->count;
}
