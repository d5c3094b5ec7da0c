// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* The watch set, declared in rounds and synced to the kernel; see watch.h. */
#include "attribute/watch.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "accessmon.h"
#include "lib/hostfs.h"

struct watch_list {
	char *host_root;
	bool host_root_is_slash;
	struct watch_entry *entries; /* indexed by id */
	size_t n_slots;		     /* slots used so far */
	size_t capacity;
	uint32_t *free_ids;
	size_t n_free;
	struct hashtab by_path; /* one entry for each path */
	uint64_t hash_seed;	/* pod specs name volume paths: hash_random_seed() */
	size_t count;
	size_t dirs_installed;
	size_t paths_installed;
	unsigned long generation;
};

struct watch_list *watch_list_new(const char *host_root, size_t capacity)
{
	struct watch_list *list = calloc(1, sizeof(*list));

	if (!list)
		return NULL;
	list->host_root = strdup(host_root ? host_root : "/");
	list->hash_seed = hash_random_seed();
	list->entries = calloc(capacity ? capacity : 1, sizeof(*list->entries));
	list->free_ids = calloc(capacity ? capacity : 1, sizeof(*list->free_ids));
	if (!list->host_root || !list->entries || !list->free_ids ||
	    hashtab_init(&list->by_path, capacity)) {
		watch_list_free(list);
		errno = ENOMEM;
		return NULL;
	}
	list->host_root_is_slash = strspn(list->host_root, "/") == strlen(list->host_root);
	list->capacity = capacity;
	return list;
}

void watch_list_free(struct watch_list *list)
{
	size_t i;

	if (!list)
		return;
	for (i = 0; i < list->n_slots; i++)
		free(list->entries[i].path);
	free(list->entries);
	free(list->free_ids);
	hashtab_release(&list->by_path);
	free(list->host_root);
	free(list);
}

static bool path_matches(const struct hashtab_node *node, const void *path)
{
	const struct watch_entry *entry = hashtab_entry(node, struct watch_entry, node);

	return entry->path && strcmp(entry->path, path) == 0;
}

/* The entry indexed under path, or NULL. */
static struct watch_entry *find_path(const struct watch_list *list, const char *path)
{
	struct hashtab_node *node =
		hashtab_find(&list->by_path, hash_string(list->hash_seed, path), path_matches, path);

	return node ? hashtab_entry(node, struct watch_entry, node) : NULL;
}

static void index_path(struct watch_list *list, struct watch_entry *entry)
{
	hashtab_add(&list->by_path, &entry->node, hash_string(list->hash_seed, entry->path));
}

/*
 * Takes path out of the index: the entry indexed under it, which is this
 * entry whenever this entry is indexed at all, so it may be cleared after.
 */
static void unindex_path(struct watch_list *list, const char *path)
{
	struct watch_entry *indexed = find_path(list, path);

	if (indexed)
		hashtab_del(&list->by_path, &indexed->node);
}

void watch_list_begin(struct watch_list *list)
{
	size_t i;

	for (i = 0; i < list->n_slots; i++)
		list->entries[i].wanted = false;
}

/* Whether a directory is the root of a filesystem of its own (a volume's tmpfs). */
static bool is_mount_root(const char *full, const struct stat *st)
{
	char *parent = malloc(strlen(full) + 4);
	struct stat up;
	bool root;

	if (!parent)
		return false;
	sprintf(parent, "%s/..", full);
	root = stat(parent, &up) == 0 && up.st_dev != st->st_dev;
	free(parent);
	return root;
}

static void stat_identity(struct watch_list *list, struct watch_entry *entry)
{
	char *full = host_path(list->host_root, entry->path);
	struct stat st;

	entry->exists = false;
	if (!full)
		return;
	if (stat(full, &st) == 0 &&
	    (entry->identity != WATCH_DIR_IDENTITY || S_ISDIR(st.st_mode))) {
		entry->exists = true;
		entry->kdev = AM_KDEV(major(st.st_dev), minor(st.st_dev));
		entry->inode = st.st_ino;
		/* A volume on its own filesystem is matched by the device, at any depth. */
		if (entry->identity == WATCH_DIR_IDENTITY && (entry->flags & AM_WATCH_SUBTREE) &&
		    is_mount_root(full, &st))
			entry->flags |= AM_WATCH_DEVICE;
	}
	free(full);
}

int watch_list_want(struct watch_list *list, const struct watch_spec *spec, struct am_error *err)
{
	struct watch_entry *entry;
	uint32_t id;

	if (!spec->path || spec->path[0] != '/') {
		am_error_set(err, "watch %s: not an absolute path", spec->path ? spec->path : "(null)");
		return -EINVAL;
	}
	if (strlen(spec->path) >= AM_WATCH_PATH_LEN) {
		am_error_set(err, "watch %s: longer than %d bytes", spec->path, AM_WATCH_PATH_LEN - 1);
		return -ENAMETOOLONG;
	}
	entry = find_path(list, spec->path);
	if (!entry) {
		if (list->n_free) {
			id = list->free_ids[--list->n_free];
		} else if (list->n_slots < list->capacity) {
			id = (uint32_t)list->n_slots++;
		} else {
			am_error_set(err, "watch %s: the watch set is full (%zu entries)", spec->path,
				     list->capacity);
			return -ENOSPC;
		}
		entry = &list->entries[id];
		memset(entry, 0, sizeof(*entry));
		entry->id = id;
		entry->path = strdup(spec->path);
		if (!entry->path) {
			list->free_ids[list->n_free++] = id;
			am_error_set(err, "out of memory");
			return -ENOMEM;
		}
		index_path(list, entry);
	}
	/* Counted when it joins the set: new, or back within its grace period. */
	if (entry->removed_at_ns || !entry->kind) {
		list->count++;
		list->generation++;
	}
	entry->removed_at_ns = 0;
	entry->wanted = true;
	entry->kind = spec->kind;
	entry->identity = spec->identity;
	entry->by_path = spec->by_path;
	entry->flags = spec->flags;
	snprintf(entry->owner_uid, sizeof(entry->owner_uid), "%s",
		 spec->owner_uid ? spec->owner_uid : "");
	if (entry->identity != WATCH_NO_IDENTITY)
		stat_identity(list, entry);
	else
		entry->exists = false;
	return 0;
}

static int sink_identity(const struct watch_sink *sink, const struct watch_entry *entry,
			 uint32_t kdev, uint64_t inode, bool add)
{
	if (entry->identity == WATCH_DIR_IDENTITY)
		return sink->dir(sink->ctx, kdev, inode, entry->id,
				 add ? entry->flags : entry->installed_flags, add);
	return sink->file(sink->ctx, kdev, inode, entry->id, entry->flags, add);
}

/* The path, and the same path under the host root when that differs. */
static int sink_paths(const struct watch_list *list, const struct watch_sink *sink,
		      const struct watch_entry *entry, bool add)
{
	char *full;
	int rc = sink->path(sink->ctx, entry->path, entry->id, add);

	if (rc || list->host_root_is_slash)
		return rc;
	full = host_path(list->host_root, entry->path);
	if (!full)
		return -ENOMEM;
	if (strlen(full) < AM_WATCH_PATH_LEN)
		rc = sink->path(sink->ctx, full, entry->id, add);
	free(full);
	return rc;
}

static size_t uninstall(struct watch_list *list, const struct watch_sink *sink,
			struct watch_entry *entry)
{
	size_t failures = 0;

	if (entry->installed) {
		if (sink_identity(sink, entry, entry->installed_kdev, entry->installed_inode, false))
			failures++;
		else
			entry->installed = false;
		if (entry->identity == WATCH_DIR_IDENTITY && !entry->installed)
			list->dirs_installed--;
	}
	if (entry->path_installed) {
		if (sink_paths(list, sink, entry, false))
			failures++;
		else {
			entry->path_installed = false;
			list->paths_installed--;
		}
	}
	return failures;
}

size_t watch_list_end(struct watch_list *list, const struct watch_sink *sink, uint64_t now_ns,
		      uint64_t grace_ns)
{
	size_t i, failures = 0;

	for (i = 0; i < list->n_slots; i++) {
		struct watch_entry *entry = &list->entries[i];

		if (!entry->path)
			continue;
		if (!entry->wanted) {
			if (!entry->removed_at_ns && entry->kind) {
				failures += uninstall(list, sink, entry);
				entry->removed_at_ns = now_ns ? now_ns : 1;
				list->count--;
				list->generation++;
			} else if (entry->removed_at_ns &&
				   now_ns - entry->removed_at_ns > grace_ns && !entry->installed &&
				   !entry->path_installed) {
				unindex_path(list, entry->path);
				free(entry->path);
				memset(entry, 0, sizeof(*entry));
				list->free_ids[list->n_free++] = (uint32_t)i;
				list->generation++;
			}
			continue;
		}
		/* The identity changed (a file replaced) or is gone: update the kernel. */
		if (entry->installed && (!entry->exists || entry->kdev != entry->installed_kdev ||
					 entry->inode != entry->installed_inode ||
					 entry->flags != entry->installed_flags)) {
			if (sink_identity(sink, entry, entry->installed_kdev, entry->installed_inode,
					  false) == 0) {
				entry->installed = false;
				if (entry->identity == WATCH_DIR_IDENTITY)
					list->dirs_installed--;
			} else {
				failures++;
			}
		}
		if (!entry->installed && entry->exists) {
			if (sink_identity(sink, entry, entry->kdev, entry->inode, true) == 0) {
				entry->installed = true;
				entry->installed_kdev = entry->kdev;
				entry->installed_inode = entry->inode;
				entry->installed_flags = entry->flags;
				if (entry->identity == WATCH_DIR_IDENTITY)
					list->dirs_installed++;
			} else {
				failures++;
			}
		}
		if (entry->by_path && !entry->path_installed) {
			if (sink_paths(list, sink, entry, true) == 0) {
				entry->path_installed = true;
				list->paths_installed++;
			} else {
				failures++;
			}
		} else if (!entry->by_path && entry->path_installed) {
			if (sink_paths(list, sink, entry, false) == 0) {
				entry->path_installed = false;
				list->paths_installed--;
			} else {
				failures++;
			}
		}
	}
	return failures;
}

size_t watch_list_slots(const struct watch_list *list)
{
	return list->n_slots;
}

unsigned long watch_list_generation(const struct watch_list *list)
{
	return list->generation;
}

int watch_list_restore(struct watch_list *list, uint32_t id, const struct watch_spec *spec,
		       uint64_t removed_at_ns)
{
	struct watch_entry *entry;

	if (id >= list->capacity || !spec->path)
		return -EINVAL;
	while (list->n_slots <= id) {
		memset(&list->entries[list->n_slots], 0, sizeof(list->entries[0]));
		list->n_slots++;
	}
	entry = &list->entries[id];
	if (entry->path) {
		unindex_path(list, entry->path);
		if (!entry->removed_at_ns)
			list->count--;
		free(entry->path);
	}
	memset(entry, 0, sizeof(*entry));
	entry->id = id;
	entry->path = strdup(spec->path);
	if (!entry->path)
		return -ENOMEM;
	entry->kind = spec->kind;
	entry->identity = spec->identity;
	entry->by_path = spec->by_path;
	entry->flags = spec->flags;
	entry->removed_at_ns = removed_at_ns;
	entry->wanted = !removed_at_ns;
	snprintf(entry->owner_uid, sizeof(entry->owner_uid), "%s",
		 spec->owner_uid ? spec->owner_uid : "");
	/* A path restored twice stays indexed under its first id. */
	if (!find_path(list, entry->path))
		index_path(list, entry);
	if (!removed_at_ns)
		list->count++;
	return 0;
}

const struct watch_entry *watch_list_get(const struct watch_list *list, uint32_t id)
{
	return id < list->n_slots && list->entries[id].path ? &list->entries[id] : NULL;
}

size_t watch_list_count(const struct watch_list *list)
{
	return list->count;
}

bool watch_list_has_dirs(const struct watch_list *list)
{
	return list->dirs_installed > 0;
}

bool watch_list_has_paths(const struct watch_list *list)
{
	return list->paths_installed > 0;
}

void watch_host_path(const struct watch_entry *entry, const struct am_open_record *record,
		     char *out, size_t len)
{
	size_t name_len = strnlen(record->name, sizeof(record->name));

	if ((record->match == AM_MATCH_DIR || record->match == AM_MATCH_DEVICE) && name_len)
		snprintf(out, len, "%s/%.*s", entry->path, (int)name_len, record->name);
	else
		snprintf(out, len, "%s", entry->path);
}

enum watch_kind watch_kind_of(const struct watch_entry *entry, const char *name)
{
	const char *base;

	if (entry->kind != WATCH_PROJECTED_TOKENS)
		return entry->kind;
	base = name && *name ? name : strrchr(entry->path, '/');
	if (base && *base == '/')
		base++;
	if (base && strcmp(base, "azure-identity-token") == 0)
		return WATCH_WORKLOAD_IDENTITY_TOKEN;
	return WATCH_SERVICE_ACCOUNT_TOKEN;
}

const char *watch_kind_name(enum watch_kind kind)
{
	switch (kind) {
	case WATCH_NODE_CLOUD_CONFIG:
		return "node-cloud-config";
	case WATCH_KUBELET_CREDENTIALS:
		return "kubelet-credentials";
	case WATCH_NODE_TLS_KEY:
		return "node-tls-key";
	case WATCH_SERVICE_ACCOUNT_TOKEN:
	case WATCH_PROJECTED_TOKENS:
		return "service-account-token";
	case WATCH_WORKLOAD_IDENTITY_TOKEN:
		return "workload-identity-token";
	case WATCH_SECRET_VOLUME:
		return "secret-volume";
	case WATCH_CSI_SECRET:
		return "csi-secret";
	case WATCH_CUSTOM:
		return "custom";
	case WATCH_MANAGED_IDENTITY_SETTINGS:
		return "managed-identity-settings";
	}
	return "unknown";
}
