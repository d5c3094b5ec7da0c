/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * The cgroup cache: cgroup v2 id -> path and the pod reference parsed from it.
 * Filled by a scan of the cgroup tree at start and by the kernel's cgroup_mkdir
 * records after; a removed cgroup stays for a grace period so late events are
 * still attributed. Bounded: past its capacity new cgroups are counted, not kept.
 */
#ifndef ACCESSMON_CGROUPS_H
#define ACCESSMON_CGROUPS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "attribute/cgroup_path.h"
#include "lib/error.h"
#include "lib/hashtab.h"

struct pod_info;
struct container_info;

struct cgroup_entry {
	uint64_t id;
	struct hashtab_node node; /* by id: beside it, a lookup reads one cache line */
	char *path; /* relative to the cgroup v2 root, starts with '/' */
	struct cgroup_pod_ref ref;
	char host_unit[128];  /* systemd unit of a host cgroup, "" if none */
	char host_slice[128]; /* its slice */
	uint64_t removed_at_ns; /* 0 while the cgroup exists */
	/* The pod and container this cgroup belonged to at inventory `generation`. */
	unsigned long generation;
	const struct pod_info *pod;
	const struct container_info *container;
	bool miss_reported; /* the pod source was asked about this cgroup */
	/* Changes when the entry is added or replaced; never the same for two entries. */
	uint64_t version;
};

struct cgroup_cache;

struct cgroup_cache *cgroup_cache_new(size_t capacity);
void cgroup_cache_free(struct cgroup_cache *cache);

/* Adds or replaces the entry for id. -ENOSPC when the cache is full. */
int cgroup_cache_add(struct cgroup_cache *cache, uint64_t id, const char *path);
struct cgroup_entry *cgroup_cache_lookup(struct cgroup_cache *cache, uint64_t id);
/* Marks id removed at now_ns; it is dropped by a later expire past the grace period. */
void cgroup_cache_mark_removed(struct cgroup_cache *cache, uint64_t id, uint64_t now_ns);
/* Drops entries removed more than grace_ns before now_ns. Returns how many. */
size_t cgroup_cache_expire(struct cgroup_cache *cache, uint64_t now_ns, uint64_t grace_ns);
size_t cgroup_cache_count(const struct cgroup_cache *cache);
/* Calls fn for every entry. */
void cgroup_cache_foreach(struct cgroup_cache *cache,
			  void (*fn)(void *ctx, const struct cgroup_entry *entry), void *ctx);
/* Entries refused because the cache was full. */
uint64_t cgroup_cache_refused(const struct cgroup_cache *cache);

/*
 * Walks the cgroup v2 tree mounted at `mount` and adds every directory. Returns the
 * number added or a negative errno.
 */
int cgroup_tree_scan(struct cgroup_cache *cache, const char *mount, struct am_error *err);

/* Finds the cgroup2 mount point in a /proc/mounts-format stream. */
int cgroup2_mount_find(FILE *mounts, char *out, size_t out_len);
/*
 * The cgroup2 mount whose root is this process's cgroup namespace root, from
 * /proc/self/mountinfo (a container's own /sys/fs/cgroup); -ENOENT when none.
 * /proc/PID/cgroup paths are relative to that root, not to the host's.
 */
int cgroup2_namespace_mount_find(FILE *mountinfo, char *out, size_t out_len);

#endif /* ACCESSMON_CGROUPS_H */
