/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * What each pod resolved: (pod, address) -> the name the pod asked for, learnt
 * from the DNS answers it received, CNAME chains followed back to the question
 * (myreg.azurecr.io -> myreg.privatelink.azurecr.io -> 10.1.2.3 names 10.1.2.3
 * "myreg.azurecr.io"). Bounded, least recently used out first. An entry past its
 * TTL still names a connection for a grace period: clients keep addresses longer
 * than they should, and a connection already named keeps its name regardless.
 */
#ifndef ACCESSMON_DNS_CACHE_H
#define ACCESSMON_DNS_CACHE_H

#include <stddef.h>
#include <stdint.h>

#include "parse/dns.h"

#define DNS_CACHE_STALE_GRACE_NS (300ull * 1000000000ull)
#define DNS_CACHE_OWNER_MAX 48

struct dns_cache;

struct dns_cache *dns_cache_new(size_t capacity);
void dns_cache_free(struct dns_cache *cache);

/* Learns the address answers of msg for owner (a pod uid, or "cgroup:<id>"). */
size_t dns_cache_learn(struct dns_cache *cache, const char *owner, const struct dns_message *msg,
		       uint64_t now_ns);
void dns_cache_add(struct dns_cache *cache, const char *owner, uint8_t family,
		   const uint8_t addr[16], const char *name, uint64_t expires_ns);
/* The name owner resolved addr to, or NULL. */
const char *dns_cache_lookup(struct dns_cache *cache, const char *owner, uint8_t family,
			     const uint8_t addr[16], uint64_t now_ns);
size_t dns_cache_count(const struct dns_cache *cache);
/* Oldest first, so that adding them back in this order keeps the LRU order. */
void dns_cache_foreach(const struct dns_cache *cache,
		       void (*fn)(void *ctx, const char *owner, uint8_t family, const uint8_t addr[16],
				  const char *name, uint64_t expires_ns),
		       void *ctx);

#endif /* ACCESSMON_DNS_CACHE_H */
