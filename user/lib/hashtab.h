/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * An intrusive chained hash table: the node lives in the caller's struct, the
 * caller hashes its key and says when a node matches it; the table keeps a
 * power-of-two array of chains and takes a hash's low bits for its bucket. A node
 * knows the link that points to it, so removing one never walks its chain.
 *
 * The table neither allocates entries nor bounds them: a cache keeps its own
 * capacity and chooses what goes when full. One that drops the least recently
 * used puts a struct list_head (lib/list.h) beside the node, list_move_tail()s it
 * on every use and evicts list_first_entry_or_null(). Buckets are sized once, at
 * init, from the capacity: the table does not grow, and iterates in the same
 * order for the same inserts (state snapshots are written in that order).
 */
#ifndef ACCESSMON_LIB_HASHTAB_H
#define ACCESSMON_LIB_HASHTAB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "lib/list.h"

#define HASHTAB_MIN_BUCKETS 64

struct hashtab_node {
	struct hashtab_node *next;
	struct hashtab_node **pprev; /* the link that points here; NULL: in no table */
	uint64_t hash;
};

struct hashtab {
	struct hashtab_node **buckets;
	size_t mask; /* buckets - 1 */
	size_t count;
};

/*
 * Buckets for `entries`: the power of two at or above it, HASHTAB_MIN_BUCKETS at
 * least. Returns 0 or -ENOMEM.
 */
int hashtab_init(struct hashtab *table, size_t entries);
/* Frees the buckets; the entries are the caller's. A zeroed table is fine. */
void hashtab_release(struct hashtab *table);

#define hashtab_entry(node, type, member) container_of(node, type, member)

static inline size_t hashtab_count(const struct hashtab *table)
{
	return table->count;
}

/* Whether node is in a table (nodes start zeroed: in none). */
static inline bool hashtab_linked(const struct hashtab_node *node)
{
	return node->pprev != NULL;
}

/* Puts node at the head of its chain; the caller knows its key is not there yet. */
static inline void hashtab_add(struct hashtab *table, struct hashtab_node *node, uint64_t hash)
{
	struct hashtab_node **bucket = &table->buckets[hash & table->mask];

	node->hash = hash;
	node->next = *bucket;
	if (node->next)
		node->next->pprev = &node->next;
	node->pprev = bucket;
	*bucket = node;
	table->count++;
}

static inline void hashtab_del(struct hashtab *table, struct hashtab_node *node)
{
	*node->pprev = node->next;
	if (node->next)
		node->next->pprev = node->pprev;
	node->next = NULL;
	node->pprev = NULL;
	table->count--;
}

/* Whether the entry holding node has key: only asked of nodes with the key's hash. */
typedef bool hashtab_match_fn(const struct hashtab_node *node, const void *key);

/* The node with key (whose hash is `hash`), or NULL. Inline: match is inlined too. */
static inline struct hashtab_node *hashtab_find(const struct hashtab *table, uint64_t hash,
						hashtab_match_fn *match, const void *key)
{
	struct hashtab_node *node = table->buckets[hash & table->mask];

	for (; node; node = node->next)
		if (node->hash == hash && match(node, key))
			return node;
	return NULL;
}

/* Bucket by bucket, each chain head first; NULL after the last. */
struct hashtab_node *hashtab_first(const struct hashtab *table);
struct hashtab_node *hashtab_next(const struct hashtab *table, const struct hashtab_node *node);

/* Every node. The body must not remove node; hashtab_for_each_safe's may. */
#define hashtab_for_each(node, table)                                                              \
	for (node = hashtab_first(table); node; node = hashtab_next(table, node))

/* Every node; the body may remove node (the next is found before it runs), no other. */
#define hashtab_for_each_safe(node, next_node, table)                                              \
	for (node = hashtab_first(table); node && ((next_node = hashtab_next(table, node)), 1);    \
	     node = next_node)

/* --- hash functions ---------------------------------------------------------------- */

/*
 * Fibonacci hashing of a 64-bit integer: sequential keys (inode numbers, socket
 * cookies) spread evenly. 32 bits come out, from the product's well-mixed middle.
 */
static inline uint64_t hash_u64(uint64_t key)
{
	return (key * 0x9e3779b97f4a7c15ull) >> 32;
}

/* Its 32-bit counterpart (Knuth's multiplier), for pids: 24 bits come out. */
static inline uint32_t hash_u32(uint32_t key)
{
	return (key * 2654435761u) >> 8;
}

#define HASH_SEED 1469598103934665603ull

/*
 * A seed of this run's own, for tables whose keys a pod chooses (DNS names and
 * answers, alert fold keys): without knowing it, nobody can aim keys at one chain
 * and make every lookup walk it. Only for tables whose order nothing records
 * (state snapshots list cgroups and processes in bucket order, and keep HASH_SEED).
 */
uint64_t hash_random_seed(void);

/* Folds one 64-bit word into h: multiply to spread it up, shift to bring it back down. */
static inline uint64_t hash_mix(uint64_t h, uint64_t word)
{
	h = (h ^ word) * 0x9e3779b97f4a7c15ull;
	return h ^ (h >> 29);
}

/*
 * len bytes, a word at a time (bytewise was half the cost of a DNS cache lookup);
 * the length goes in last, so "a" and "a\0" differ. Start with HASH_SEED, or a
 * hash of the key's other fields. Inline: a constant len unrolls.
 */
static inline uint64_t hash_bytes(uint64_t h, const void *data, size_t len)
{
	const unsigned char *bytes = data;
	uint64_t word;
	size_t i;

	for (i = 0; i + 8 <= len; i += 8) {
		memcpy(&word, bytes + i, 8);
		h = hash_mix(h, word);
	}
	word = 0;
	if (len > i)
		memcpy(&word, bytes + i, len - i);
	return hash_mix(h, word ^ len);
}

static inline uint64_t hash_string(uint64_t h, const char *s)
{
	return hash_bytes(h, s, strlen(s));
}

#endif /* ACCESSMON_LIB_HASHTAB_H */
