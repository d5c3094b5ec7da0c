// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* cgroup id -> path cache and the cgroup tree scan; see cgroups.h. */
#include "attribute/cgroups.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define SCAN_MAX_DEPTH 32

struct cgroup_cache {
	struct cgroup_entry **buckets;
	size_t n_buckets;
	size_t count;
	size_t capacity;
	uint64_t refused;
};

/* Versions are unique across every cache: a freed entry's never comes back. */
static uint64_t next_version(void)
{
	static uint64_t last;

	return __atomic_add_fetch(&last, 1, __ATOMIC_RELAXED);
}

static size_t bucket_of(const struct cgroup_cache *cache, uint64_t id)
{
	/* Fibonacci hashing spreads sequential inode numbers. */
	return (size_t)((id * 0x9e3779b97f4a7c15ull) >> 32) & (cache->n_buckets - 1);
}

struct cgroup_cache *cgroup_cache_new(size_t capacity)
{
	struct cgroup_cache *cache = calloc(1, sizeof(*cache));
	size_t n = 64;

	if (!cache)
		return NULL;
	while (n < capacity && n < (1u << 20))
		n *= 2;
	cache->buckets = calloc(n, sizeof(*cache->buckets));
	if (!cache->buckets) {
		free(cache);
		errno = ENOMEM;
		return NULL;
	}
	cache->n_buckets = n;
	cache->capacity = capacity;
	return cache;
}

static void entry_free(struct cgroup_entry *entry)
{
	free(entry->path);
	free(entry);
}

void cgroup_cache_free(struct cgroup_cache *cache)
{
	size_t i;

	if (!cache)
		return;
	for (i = 0; i < cache->n_buckets; i++) {
		struct cgroup_entry *entry = cache->buckets[i], *next;

		for (; entry; entry = next) {
			next = entry->next;
			entry_free(entry);
		}
	}
	free(cache->buckets);
	free(cache);
}

struct cgroup_entry *cgroup_cache_lookup(struct cgroup_cache *cache, uint64_t id)
{
	struct cgroup_entry *entry = cache->buckets[bucket_of(cache, id)];

	for (; entry; entry = entry->next)
		if (entry->id == id)
			return entry;
	return NULL;
}

int cgroup_cache_add(struct cgroup_cache *cache, uint64_t id, const char *path)
{
	struct cgroup_entry *entry = cgroup_cache_lookup(cache, id);
	char *copy = strdup(path);
	size_t bucket;

	if (!copy)
		return -ENOMEM;
	if (entry) {
		free(entry->path);
	} else {
		if (cache->count >= cache->capacity) {
			cache->refused++;
			free(copy);
			return -ENOSPC;
		}
		entry = calloc(1, sizeof(*entry));
		if (!entry) {
			free(copy);
			return -ENOMEM;
		}
		bucket = bucket_of(cache, id);
		entry->id = id;
		entry->next = cache->buckets[bucket];
		cache->buckets[bucket] = entry;
		cache->count++;
	}
	entry->path = copy;
	entry->removed_at_ns = 0;
	entry->generation = 0;
	entry->pod = NULL;
	entry->container = NULL;
	entry->miss_reported = false;
	entry->version = next_version();
	if (cgroup_path_parse(path, &entry->ref)) {
		entry->host_unit[0] = '\0';
		entry->host_slice[0] = '\0';
	} else {
		cgroup_path_host_unit(path, entry->host_unit, sizeof(entry->host_unit),
				      entry->host_slice, sizeof(entry->host_slice));
	}
	return 0;
}

void cgroup_cache_mark_removed(struct cgroup_cache *cache, uint64_t id, uint64_t now_ns)
{
	struct cgroup_entry *entry = cgroup_cache_lookup(cache, id);

	if (entry)
		entry->removed_at_ns = now_ns ? now_ns : 1;
}

size_t cgroup_cache_expire(struct cgroup_cache *cache, uint64_t now_ns, uint64_t grace_ns)
{
	size_t i, dropped = 0;

	for (i = 0; i < cache->n_buckets; i++) {
		struct cgroup_entry **link = &cache->buckets[i];

		while (*link) {
			struct cgroup_entry *entry = *link;

			if (entry->removed_at_ns && now_ns > entry->removed_at_ns &&
			    now_ns - entry->removed_at_ns > grace_ns) {
				*link = entry->next;
				entry_free(entry);
				cache->count--;
				dropped++;
			} else {
				link = &entry->next;
			}
		}
	}
	return dropped;
}

void cgroup_cache_foreach(struct cgroup_cache *cache,
			  void (*fn)(void *ctx, const struct cgroup_entry *entry), void *ctx)
{
	size_t i;

	for (i = 0; i < cache->n_buckets; i++) {
		struct cgroup_entry *entry;

		for (entry = cache->buckets[i]; entry; entry = entry->next)
			fn(ctx, entry);
	}
}

size_t cgroup_cache_count(const struct cgroup_cache *cache)
{
	return cache->count;
}

uint64_t cgroup_cache_refused(const struct cgroup_cache *cache)
{
	return cache->refused;
}

static int scan_dir(struct cgroup_cache *cache, int dir_fd, char *path, size_t path_len,
		    size_t path_cap, int depth)
{
	struct dirent *dent;
	int added = 0;
	DIR *dir;

	if (depth > SCAN_MAX_DEPTH)
		return 0;
	dir = fdopendir(dir_fd);
	if (!dir) {
		close(dir_fd);
		return 0;
	}
	while ((dent = readdir(dir))) {
		struct stat st;
		size_t name_len;
		int child;

		if (dent->d_type != DT_DIR || dent->d_name[0] == '.')
			continue;
		name_len = strlen(dent->d_name);
		if (path_len + 1 + name_len >= path_cap)
			continue;
		child = openat(dirfd(dir), dent->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (child < 0)
			continue; /* removed while we looked */
		if (fstat(child, &st) < 0) {
			close(child);
			continue;
		}
		path[path_len] = '/';
		memcpy(path + path_len + 1, dent->d_name, name_len + 1);
		if (cgroup_cache_add(cache, (uint64_t)st.st_ino, path) == 0)
			added++;
		added += scan_dir(cache, child, path, path_len + 1 + name_len, path_cap,
				  depth + 1);
		path[path_len] = '\0';
	}
	closedir(dir);
	return added;
}

int cgroup_tree_scan(struct cgroup_cache *cache, const char *mount, struct am_error *err)
{
	char path[4096] = "";
	struct stat st;
	int fd;

	fd = open(mount, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		am_error_set(err, "cgroup root %s: %s", mount, strerror(errno));
		return -errno;
	}
	if (fstat(fd, &st) == 0)
		cgroup_cache_add(cache, (uint64_t)st.st_ino, "/");
	return 1 + scan_dir(cache, fd, path, 0, sizeof(path), 0);
}

int cgroup2_namespace_mount_find(FILE *mountinfo, char *out, size_t out_len)
{
	char line[8192];

	/* "ID PARENT MAJ:MIN ROOT MOUNT_POINT OPTIONS... - TYPE SOURCE SUPER_OPTIONS" */
	while (fgets(line, sizeof(line), mountinfo)) {
		char root[4096], mount_point[4096], fs_type[64];
		const char *dash = strstr(line, " - ");

		if (!dash || sscanf(dash + 3, "%63s", fs_type) != 1 || strcmp(fs_type, "cgroup2") != 0)
			continue;
		if (sscanf(line, "%*s %*s %*s %4095s %4095s", root, mount_point) != 2)
			continue;
		/* Mounted from inside our namespace: its root is the namespace's root. */
		if (strcmp(root, "/") != 0)
			continue;
		if (strlen(mount_point) >= out_len)
			return -ENAMETOOLONG;
		strcpy(out, mount_point);
		return 0;
	}
	return -ENOENT;
}

int cgroup2_mount_find(FILE *mounts, char *out, size_t out_len)
{
	char line[4096];

	while (fgets(line, sizeof(line), mounts)) {
		char device[256], mount_point[2048], fs_type[64];

		if (sscanf(line, "%255s %2047s %63s", device, mount_point, fs_type) != 3)
			continue;
		if (strcmp(fs_type, "cgroup2") != 0)
			continue;
		if (strlen(mount_point) >= out_len)
			return -ENAMETOOLONG;
		strcpy(out, mount_point);
		return 0;
	}
	return -ENOENT;
}
