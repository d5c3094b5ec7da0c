// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* The intrusive chained hash table; see hashtab.h. */
#include "lib/hashtab.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/random.h>
#include <time.h>

int hashtab_init(struct hashtab *table, size_t entries)
{
	size_t n = HASHTAB_MIN_BUCKETS;

	while (n < entries && n <= SIZE_MAX / 2 / sizeof(*table->buckets))
		n *= 2;
	table->buckets = calloc(n, sizeof(*table->buckets));
	if (!table->buckets)
		return -ENOMEM;
	table->mask = n - 1;
	table->count = 0;
	return 0;
}

void hashtab_release(struct hashtab *table)
{
	free(table->buckets);
	table->buckets = NULL;
	table->mask = 0;
	table->count = 0;
}

static struct hashtab_node *first_from(const struct hashtab *table, size_t bucket)
{
	for (; bucket <= table->mask; bucket++)
		if (table->buckets[bucket])
			return table->buckets[bucket];
	return NULL;
}

struct hashtab_node *hashtab_first(const struct hashtab *table)
{
	return table->buckets ? first_from(table, 0) : NULL;
}

struct hashtab_node *hashtab_next(const struct hashtab *table, const struct hashtab_node *node)
{
	if (node->next)
		return node->next;
	return first_from(table, (node->hash & table->mask) + 1);
}

uint64_t hash_random_seed(void)
{
	struct timespec now;
	uint64_t seed;

	if (getrandom(&seed, sizeof(seed), GRND_NONBLOCK) == (ssize_t)sizeof(seed))
		return seed;
	/* No entropy yet (early boot): the clock, which is still not a constant. */
	clock_gettime(CLOCK_MONOTONIC, &now);
	return hash_mix(HASH_SEED, (uint64_t)now.tv_sec * 1000000000ull + (uint64_t)now.tv_nsec);
}
