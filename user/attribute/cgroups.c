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
	struct hashtab table;
	size_t capacity;
	uint64_t refused;
};

/* Versions are unique across every cache: a freed entry's never comes back. */
static uint64_t next_version(void)
{
	static uint64_t last;

	return __atomic_add_fetch(&last, 1, __ATOMIC_RELAXED);
}

/* Buckets for a million cgroups at most: past that, chains grow instead. */
#define CGROUP_BUCKETS_MAX (1u << 20)

struct cgroup_cache *cgroup_cache_new(size_t capacity)
{
	struct cgroup_cache *cache = calloc(1, sizeof(*cache));

	if (!cache)
		return NULL;
	if (hashtab_init(&cache->table,
			 capacity < CGROUP_BUCKETS_MAX ? capacity : CGROUP_BUCKETS_MAX)) {
		free(cache);
		errno = ENOMEM;
		return NULL;
	}
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
	struct hashtab_node *node, *next;

	if (!cache)
		return;
	hashtab_for_each_safe(node, next, &cache->table)
		entry_free(hashtab_entry(node, struct cgroup_entry, node));
	hashtab_release(&cache->table);
	free(cache);
}

static bool id_matches(const struct hashtab_node *node, const void *key)
{
	return hashtab_entry(node, struct cgroup_entry, node)->id == *(const uint64_t *)key;
}

struct cgroup_entry *cgroup_cache_lookup(struct cgroup_cache *cache, uint64_t id)
{
	struct hashtab_node *node = hashtab_find(&cache->table, hash_u64(id), id_matches, &id);

	return node ? hashtab_entry(node, struct cgroup_entry, node) : NULL;
}

int cgroup_cache_add(struct cgroup_cache *cache, uint64_t id, const char *path)
{
	struct cgroup_entry *entry = cgroup_cache_lookup(cache, id);
	char *copy = strdup(path);

	if (!copy)
		return -ENOMEM;
	if (entry) {
		free(entry->path);
	} else {
		if (hashtab_count(&cache->table) >= cache->capacity) {
			cache->refused++;
			free(copy);
			return -ENOSPC;
		}
		entry = calloc(1, sizeof(*entry));
		if (!entry) {
			free(copy);
			return -ENOMEM;
		}
		entry->id = id;
		hashtab_add(&cache->table, &entry->node, hash_u64(id));
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
	struct hashtab_node *node, *next;
	size_t dropped = 0;

	hashtab_for_each_safe(node, next, &cache->table) {
		struct cgroup_entry *entry = hashtab_entry(node, struct cgroup_entry, node);

		if (entry->removed_at_ns && now_ns > entry->removed_at_ns &&
		    now_ns - entry->removed_at_ns > grace_ns) {
			hashtab_del(&cache->table, node);
			entry_free(entry);
			dropped++;
		}
	}
	return dropped;
}

void cgroup_cache_foreach(struct cgroup_cache *cache,
			  void (*fn)(void *ctx, const struct cgroup_entry *entry), void *ctx)
{
	struct hashtab_node *node;

	hashtab_for_each(node, &cache->table)
		fn(ctx, hashtab_entry(node, struct cgroup_entry, node));
}

size_t cgroup_cache_count(const struct cgroup_cache *cache)
{
	return hashtab_count(&cache->table);
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
