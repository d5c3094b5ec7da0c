// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* Unit tests: the intrusive list, the chained hash table and the hash functions. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "lib/hashtab.h"
#include "lib/list.h"

struct item {
	uint64_t key;
	struct hashtab_node node;
	struct list_head lru;
};

static struct item *item_of(struct list_head *node)
{
	return list_entry(node, struct item, lru);
}

/* The keys of a list, front to back, as a string of digits. */
static void list_keys(struct list_head *head, char *out)
{
	struct list_head *node;

	list_for_each(node, head)
		*out++ = (char)('0' + item_of(node)->key);
	*out = '\0';
}

static void list_adds_moves_and_deletes(void **state)
{
	struct list_head head = LIST_HEAD_INIT(head);
	struct item items[4] = {{.key = 0}, {.key = 1}, {.key = 2}, {.key = 3}};
	char keys[8];

	(void)state;
	assert_true(list_empty(&head));
	assert_null(list_first(&head));
	assert_null(list_last(&head));
	assert_null(list_first_entry_or_null(&head, struct item, lru));
	list_add_tail(&items[1].lru, &head);
	list_add_tail(&items[2].lru, &head);
	list_add(&items[0].lru, &head);
	list_add_tail(&items[3].lru, &head);
	list_keys(&head, keys);
	assert_string_equal(keys, "0123");
	assert_ptr_equal(list_first_entry_or_null(&head, struct item, lru), &items[0]);
	assert_ptr_equal(list_last_entry_or_null(&head, struct item, lru), &items[3]);

	list_move_tail(&items[0].lru, &head);
	list_keys(&head, keys);
	assert_string_equal(keys, "1230");
	list_move(&items[3].lru, &head);
	list_keys(&head, keys);
	assert_string_equal(keys, "3120");
	/* Moving the last to the back, the first to the front: nothing changes. */
	list_move_tail(&items[0].lru, &head);
	list_move(&items[3].lru, &head);
	list_keys(&head, keys);
	assert_string_equal(keys, "3120");

	list_del(&items[1].lru);
	list_keys(&head, keys);
	assert_string_equal(keys, "320");
	/* A deleted node is a list of its own: deleting it again changes nothing. */
	assert_true(list_empty(&items[1].lru));
	list_del(&items[1].lru);
	list_keys(&head, keys);
	assert_string_equal(keys, "320");
	assert_ptr_equal(list_first(&head), &items[3].lru);
	assert_ptr_equal(list_last(&head), &items[0].lru);
}

static void list_for_each_safe_removes_as_it_goes(void **state)
{
	struct list_head head = LIST_HEAD_INIT(head), *node, *next;
	struct item items[6];
	char keys[8];
	size_t i;

	(void)state;
	for (i = 0; i < 6; i++) {
		items[i].key = i;
		list_add_tail(&items[i].lru, &head);
	}
	list_for_each_safe(node, next, &head)
		if (item_of(node)->key % 2)
			list_del(node);
	list_keys(&head, keys);
	assert_string_equal(keys, "024");
	list_for_each_safe(node, next, &head)
		list_del(node);
	assert_true(list_empty(&head));
}

static bool key_matches(const struct hashtab_node *node, const void *key)
{
	return hashtab_entry(node, struct item, node)->key == *(const uint64_t *)key;
}

static struct item *find(const struct hashtab *table, uint64_t key, uint64_t hash)
{
	struct hashtab_node *node = hashtab_find(table, hash, key_matches, &key);

	return node ? hashtab_entry(node, struct item, node) : NULL;
}

static void hashtab_sizes_buckets_to_a_power_of_two(void **state)
{
	struct hashtab table;

	(void)state;
	assert_int_equal(hashtab_init(&table, 0), 0);
	assert_int_equal(table.mask + 1, HASHTAB_MIN_BUCKETS);
	assert_int_equal(hashtab_count(&table), 0);
	assert_null(hashtab_first(&table));
	hashtab_release(&table);
	assert_int_equal(hashtab_init(&table, 64), 0);
	assert_int_equal(table.mask + 1, 64);
	hashtab_release(&table);
	assert_int_equal(hashtab_init(&table, 65), 0);
	assert_int_equal(table.mask + 1, 128);
	hashtab_release(&table);
	assert_int_equal(hashtab_init(&table, 1000), 0);
	assert_int_equal(table.mask + 1, 1024);
	hashtab_release(&table);
	/* Released twice, or never initialised but zeroed: nothing to free. */
	hashtab_release(&table);
	assert_null(hashtab_first(&table));
}

static void hashtab_inserts_finds_and_removes(void **state)
{
	struct hashtab table;
	struct item *items = calloc(500, sizeof(*items));
	size_t i;

	(void)state;
	assert_non_null(items);
	assert_int_equal(hashtab_init(&table, 500), 0);
	for (i = 0; i < 500; i++) {
		items[i].key = i * 7919;
		assert_false(hashtab_linked(&items[i].node));
		hashtab_add(&table, &items[i].node, hash_u64(items[i].key));
		assert_true(hashtab_linked(&items[i].node));
	}
	assert_int_equal(hashtab_count(&table), 500);
	for (i = 0; i < 500; i++)
		assert_ptr_equal(find(&table, i * 7919, hash_u64(i * 7919)), &items[i]);
	assert_null(find(&table, 1, hash_u64(1)));

	for (i = 0; i < 500; i += 2)
		hashtab_del(&table, &items[i].node);
	assert_int_equal(hashtab_count(&table), 250);
	for (i = 0; i < 500; i++) {
		struct item *found = find(&table, i * 7919, hash_u64(i * 7919));

		if (i % 2)
			assert_ptr_equal(found, &items[i]);
		else
			assert_null(found);
		assert_int_equal(hashtab_linked(&items[i].node), i % 2);
	}
	/* Back in, removed again: a node is reusable. */
	hashtab_add(&table, &items[0].node, hash_u64(items[0].key));
	assert_ptr_equal(find(&table, 0, hash_u64(0)), &items[0]);
	hashtab_del(&table, &items[0].node);
	assert_null(find(&table, 0, hash_u64(0)));
	hashtab_release(&table);
	free(items);
}

static void hashtab_tells_colliding_keys_apart(void **state)
{
	struct hashtab table;
	struct item items[5] = {{.key = 10}, {.key = 11}, {.key = 12}, {.key = 13}, {.key = 14}};
	size_t i;

	(void)state;
	assert_int_equal(hashtab_init(&table, 0), 0);
	/* 10..12 share a hash; 13 and 14 share its bucket with hashes of their own. */
	for (i = 0; i < 3; i++)
		hashtab_add(&table, &items[i].node, 5);
	hashtab_add(&table, &items[3].node, 5 + (table.mask + 1));
	hashtab_add(&table, &items[4].node, 5 + 2 * (table.mask + 1));
	for (i = 0; i < 3; i++)
		assert_ptr_equal(find(&table, items[i].key, 5), &items[i]);
	assert_ptr_equal(find(&table, 13, 5 + (table.mask + 1)), &items[3]);
	/* The right key with the wrong hash is not found: match is asked of equal hashes only. */
	assert_null(find(&table, 13, 5));
	assert_null(find(&table, 10, 5 + (table.mask + 1)));

	/* Out of the middle, the head and the tail of one chain. */
	hashtab_del(&table, &items[1].node);
	assert_null(find(&table, 11, 5));
	assert_ptr_equal(find(&table, 10, 5), &items[0]);
	assert_ptr_equal(find(&table, 12, 5), &items[2]);
	hashtab_del(&table, &items[4].node);
	hashtab_del(&table, &items[0].node);
	assert_ptr_equal(find(&table, 12, 5), &items[2]);
	assert_ptr_equal(find(&table, 13, 5 + (table.mask + 1)), &items[3]);
	assert_int_equal(hashtab_count(&table), 2);
	hashtab_release(&table);
}

/* The keys in iteration order, as digits. */
static void table_keys(const struct hashtab *table, char *out)
{
	struct hashtab_node *node;

	hashtab_for_each(node, table)
		*out++ = (char)('0' + hashtab_entry(node, struct item, node)->key);
	*out = '\0';
}

static void hashtab_iterates_by_bucket_then_chain(void **state)
{
	struct hashtab table;
	struct item items[6];
	/* Bucket of each: 3, 0, 3, 63, 0, 3 (64 buckets). */
	const uint64_t hashes[6] = {3, 0, 64 + 3, 63, 64, 128 + 3};
	struct hashtab_node *node, *next;
	char keys[8];
	size_t i;

	(void)state;
	assert_int_equal(hashtab_init(&table, 0), 0);
	for (i = 0; i < 6; i++) {
		items[i].key = i;
		items[i].node = (struct hashtab_node){0};
		hashtab_add(&table, &items[i].node, hashes[i]);
	}
	/* Bucket 0: 4 then 1 (the newest heads its chain); bucket 3: 5 2 0; bucket 63: 3. */
	table_keys(&table, keys);
	assert_string_equal(keys, "415203");

	hashtab_for_each_safe(node, next, &table)
		if (hashtab_entry(node, struct item, node)->key % 2 == 0)
			hashtab_del(&table, node);
	table_keys(&table, keys);
	assert_string_equal(keys, "153");
	assert_int_equal(hashtab_count(&table), 3);
	hashtab_for_each_safe(node, next, &table)
		hashtab_del(&table, node);
	assert_int_equal(hashtab_count(&table), 0);
	assert_null(hashtab_first(&table));
	hashtab_release(&table);
}

/* A cache of three, least recently used out first: the pattern hashtab.h describes. */
struct lru_cache {
	struct hashtab table;
	struct list_head lru;
	size_t capacity;
	size_t evicted;
};

static struct item *cache_get(struct lru_cache *cache, uint64_t key)
{
	struct item *item = find(&cache->table, key, hash_u64(key));

	if (item)
		list_move_tail(&item->lru, &cache->lru);
	return item;
}

static void cache_put(struct lru_cache *cache, struct item *item)
{
	if (hashtab_count(&cache->table) >= cache->capacity) {
		struct item *oldest = list_first_entry_or_null(&cache->lru, struct item, lru);

		hashtab_del(&cache->table, &oldest->node);
		list_del(&oldest->lru);
		cache->evicted++;
	}
	hashtab_add(&cache->table, &item->node, hash_u64(item->key));
	list_add_tail(&item->lru, &cache->lru);
}

static void hashtab_with_a_list_evicts_the_least_recent(void **state)
{
	struct lru_cache cache = {.capacity = 3};
	struct item items[5];
	char keys[8];
	size_t i;

	(void)state;
	assert_int_equal(hashtab_init(&cache.table, cache.capacity), 0);
	list_init(&cache.lru);
	for (i = 0; i < 5; i++)
		items[i] = (struct item){.key = i};
	for (i = 0; i < 3; i++)
		cache_put(&cache, &items[i]);
	list_keys(&cache.lru, keys);
	assert_string_equal(keys, "012");
	assert_ptr_equal(cache_get(&cache, 0), &items[0]);
	list_keys(&cache.lru, keys);
	assert_string_equal(keys, "120");

	cache_put(&cache, &items[3]);
	assert_int_equal(cache.evicted, 1);
	assert_null(cache_get(&cache, 1));
	list_keys(&cache.lru, keys);
	assert_string_equal(keys, "203");
	/* 2 used again: 0 is now the least recent, and goes. */
	assert_non_null(cache_get(&cache, 2));
	cache_put(&cache, &items[4]);
	assert_null(cache_get(&cache, 0));
	list_keys(&cache.lru, keys);
	assert_string_equal(keys, "324");
	assert_int_equal(cache.evicted, 2);
	assert_int_equal(hashtab_count(&cache.table), 3);
	hashtab_release(&cache.table);
}

static void hash_functions_spread_and_separate(void **state)
{
	enum { BUCKETS = 1024, KEYS = 8 * BUCKETS };
	unsigned int *chains = calloc(BUCKETS, sizeof(*chains));
	unsigned int longest = 0;
	uint64_t i;

	(void)state;
	assert_non_null(chains);
	/* The copies these replace hashed so; the state snapshots' order depends on it. */
	assert_int_equal(hash_u64(1), 0x9e3779b9u);
	assert_int_equal(hash_u64(0x100000000ull), 0x7f4a7c15u);
	assert_int_equal(hash_u32(1), 2654435761u >> 8);
	assert_int_equal(hash_u32(2), (uint32_t)(2 * 2654435761u) >> 8);

	/* Sequential keys (inode numbers, cookies, pids) fill the buckets evenly. */
	for (i = 0; i < KEYS; i++)
		chains[hash_u64(4096 + i) & (BUCKETS - 1)]++;
	for (i = 0; i < BUCKETS; i++)
		longest = chains[i] > longest ? chains[i] : longest;
	assert_true(longest <= 2 * KEYS / BUCKETS);
	memset(chains, 0, BUCKETS * sizeof(*chains));
	longest = 0;
	for (i = 0; i < KEYS; i++)
		chains[hash_u32((uint32_t)(300 + i)) & (BUCKETS - 1)]++;
	for (i = 0; i < BUCKETS; i++)
		longest = chains[i] > longest ? chains[i] : longest;
	assert_true(longest <= 2 * KEYS / BUCKETS);
	/* Strings differing in one character, in a length, or in a trailing NUL. */
	memset(chains, 0, BUCKETS * sizeof(*chains));
	longest = 0;
	for (i = 0; i < KEYS; i++) {
		char name[32];

		snprintf(name, sizeof(name), "pod-%llu.default", (unsigned long long)i);
		chains[hash_string(HASH_SEED, name) & (BUCKETS - 1)]++;
	}
	for (i = 0; i < BUCKETS; i++)
		longest = chains[i] > longest ? chains[i] : longest;
	assert_true(longest <= 3 * KEYS / BUCKETS);
	free(chains);

	assert_int_equal(hash_string(HASH_SEED, "vault.azure.net"),
			 hash_bytes(HASH_SEED, "vault.azure.net", 15));
	assert_int_not_equal(hash_bytes(HASH_SEED, "a", 1), hash_bytes(HASH_SEED, "a\0", 2));
	assert_int_not_equal(hash_bytes(HASH_SEED, "", 0), hash_bytes(HASH_SEED, "\0", 1));
	assert_int_not_equal(hash_string(HASH_SEED, "abcdefgh"),
			     hash_string(HASH_SEED, "abcdefgi"));
	assert_int_not_equal(hash_string(HASH_SEED, "abcdefghi"),
			     hash_string(HASH_SEED, "abcdefghj"));
	assert_int_not_equal(hash_string(HASH_SEED, "x"), hash_string(HASH_SEED ^ 4, "x"));
	assert_int_equal(hash_bytes(HASH_SEED, NULL, 0), hash_bytes(HASH_SEED, "", 0));
}

/* Each table a pod can aim keys at gets a seed of its own: never the fixed one twice. */
static void random_seeds_differ(void **state)
{
	uint64_t seeds[8];
	size_t i, j;

	(void)state;
	for (i = 0; i < 8; i++) {
		seeds[i] = hash_random_seed();
		assert_true(seeds[i] != HASH_SEED);
		for (j = 0; j < i; j++)
			assert_true(seeds[i] != seeds[j]);
	}
	/* The same key lands apart under two seeds (a collision set for one is none for the other). */
	assert_true(hash_string(seeds[0], "vault.azure.net") != hash_string(seeds[1], "vault.azure.net"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(list_adds_moves_and_deletes),
		cmocka_unit_test(list_for_each_safe_removes_as_it_goes),
		cmocka_unit_test(hashtab_sizes_buckets_to_a_power_of_two),
		cmocka_unit_test(hashtab_inserts_finds_and_removes),
		cmocka_unit_test(hashtab_tells_colliding_keys_apart),
		cmocka_unit_test(hashtab_iterates_by_bucket_then_chain),
		cmocka_unit_test(hashtab_with_a_list_evicts_the_least_recent),
		cmocka_unit_test(hash_functions_spread_and_separate),
		cmocka_unit_test(random_seeds_differ),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
