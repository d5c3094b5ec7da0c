// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * Unit tests: the per-pod DNS cache (name/dns_cache.h): CNAME chains followed
 * back to the question, the stale grace, the LRU bound, and the order a
 * recording restores.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "name/dns_cache.h"

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

struct seen {
	char names[8][32];
	uint64_t expires[8];
	int n;
};

static void note_entry(void *ctx, const char *owner, uint8_t family, const uint8_t addr[16],
		       const char *name, uint64_t expires_ns)
{
	struct seen *seen = ctx;

	(void)owner, (void)family, (void)addr;
	assert_true(seen->n < 8);
	strcpy(seen->names[seen->n], name);
	seen->expires[seen->n++] = expires_ns;
}

static void use_and_update_keep_the_lru_order(void **state)
{
	struct dns_cache *cache = dns_cache_new(3);
	uint8_t a[16] = {10, 0, 0, 1}, b[16] = {10, 0, 0, 2}, c[16] = {10, 0, 0, 3};
	uint8_t d[16] = {10, 0, 0, 4};
	struct seen seen = {0};

	(void)state;
	dns_cache_add(cache, "pod", 4, a, "a.example", 100);
	dns_cache_add(cache, "pod", 4, b, "b.example", 100);
	dns_cache_add(cache, "pod", 4, c, "c.example", 100);
	/* Answered again: a new name and expiry, and it is the newest now. */
	dns_cache_add(cache, "pod", 4, a, "a2.example", 500);
	assert_int_equal(dns_cache_count(cache), 3);
	dns_cache_foreach(cache, note_entry, &seen);
	assert_int_equal(seen.n, 3);
	assert_string_equal(seen.names[0], "b.example");
	assert_string_equal(seen.names[1], "c.example");
	assert_string_equal(seen.names[2], "a2.example");
	assert_int_equal(seen.expires[2], 500);
	/* So the next one pushes out b, the oldest. */
	dns_cache_add(cache, "pod", 4, d, "d.example", 100);
	assert_null(dns_cache_lookup(cache, "pod", 4, b, 1));
	assert_string_equal(dns_cache_lookup(cache, "pod", 4, a, 1), "a2.example");
	/* The same address bytes as another family are another entry. */
	assert_null(dns_cache_lookup(cache, "pod", 6, a, 1));
	dns_cache_free(cache);
	dns_cache_free(NULL);
}

/* The shortest TTL along the chain is how long the name holds. */
static void cname_chain_takes_the_shortest_ttl(void **state)
{
	struct dns_cache *cache = dns_cache_new(4);
	struct dns_message *msg = malloc(sizeof(*msg));
	uint8_t addr[16] = {10, 9, 8, 7};
	struct seen seen = {0};

	(void)state;
	*msg = answer("app.example");
	msg->n_records = 2;
	strcpy(msg->records[0].name, "app.example");
	msg->records[0].type = DNS_TYPE_CNAME;
	msg->records[0].ttl = 5;
	strcpy(msg->records[0].target, "lb.example");
	strcpy(msg->records[1].name, "lb.example");
	msg->records[1].type = DNS_TYPE_A;
	msg->records[1].ttl = 300;
	msg->records[1].family = 4;
	memcpy(msg->records[1].addr, addr, 16);
	assert_int_equal(dns_cache_learn(cache, "pod", msg, 1000), 1);
	dns_cache_foreach(cache, note_entry, &seen);
	assert_int_equal(seen.n, 1);
	assert_string_equal(seen.names[0], "app.example");
	assert_int_equal(seen.expires[0], 1000 + 5000000000ull);
	/* A query teaches nothing either. */
	msg->response = false;
	assert_int_equal(dns_cache_learn(cache, "other", msg, 1000), 0);
	free(msg);
	dns_cache_free(cache);
}

/*
 * An owner is a pod uid or "cgroup:<id>", but a trace's DNS state may name any:
 * one too long for an entry must not match another's, nor break the cache.
 */
static void owners_longer_than_an_entry_holds(void **state)
{
	char owner[DNS_CACHE_OWNER_MAX + 16], other[DNS_CACHE_OWNER_MAX + 16];
	struct dns_cache *cache = dns_cache_new(2);
	uint8_t a[16] = {10, 0, 0, 1}, b[16] = {10, 0, 0, 2}, c[16] = {10, 0, 0, 3};

	(void)state;
	memset(owner, 'o', sizeof(owner) - 1);
	owner[sizeof(owner) - 1] = '\0';
	strcpy(other, owner);
	other[sizeof(other) - 2] = 'x';
	dns_cache_add(cache, owner, 4, a, "long.example", UINT64_MAX);
	assert_null(dns_cache_lookup(cache, other, 4, a, 1));
	/* Pushed out by newer entries, it is gone for good: no trace of it is left. */
	dns_cache_add(cache, "pod", 4, b, "b.example", UINT64_MAX);
	dns_cache_add(cache, "pod", 4, c, "c.example", UINT64_MAX);
	assert_null(dns_cache_lookup(cache, owner, 4, a, 1));
	dns_cache_add(cache, owner, 4, a, "long.example", UINT64_MAX);
	assert_int_equal(dns_cache_count(cache), 2);
	assert_string_equal(dns_cache_lookup(cache, "pod", 4, c, 1), "c.example");
	dns_cache_free(cache);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(dns_cache_follows_cnames_per_pod),
		cmocka_unit_test(dns_cache_is_bounded),
		cmocka_unit_test(use_and_update_keep_the_lru_order),
		cmocka_unit_test(cname_chain_takes_the_shortest_ttl),
		cmocka_unit_test(owners_longer_than_an_entry_holds),
	};

	return cmocka_run_group_tests_name("dns_cache", tests, NULL, NULL);
}
