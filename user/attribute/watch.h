/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * The watch set as user space keeps it: every secret on the node, by kind and
 * owner, and what the kernel must match for it:
 *   - a file's identity (device, inode): any open of that file, by any name;
 *   - a directory's identity: a file user space has not seen yet within it (the
 *     kubelet swapping in new files: token rotation); its own entries only, or
 *     with AM_WATCH_SUBTREE any file below it: by its device when it is its
 *     filesystem's root (AM_WATCH_DEVICE, found here), else up to
 *     AM_DIR_WALK_DEPTH parents;
 *   - an absolute path: failed opens naming it (probing, or a deleted file).
 * The set is declared afresh in rounds (begin, want..., end); end() works out
 * what changed and tells the kernel through a sink. Entries that leave the set
 * keep their id for a grace period, so records already in flight still resolve.
 */
#ifndef ACCESSMON_WATCH_H
#define ACCESSMON_WATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/error.h"
#include "lib/hashtab.h"

enum watch_kind {
	WATCH_NODE_CLOUD_CONFIG = 1,
	WATCH_KUBELET_CREDENTIALS,
	WATCH_NODE_TLS_KEY,
	WATCH_SERVICE_ACCOUNT_TOKEN,
	WATCH_WORKLOAD_IDENTITY_TOKEN,
	WATCH_PROJECTED_TOKENS, /* a projected volume: the kind follows the file's name */
	WATCH_SECRET_VOLUME,
	WATCH_CSI_SECRET,
	WATCH_CUSTOM, /* a --watch path */
	WATCH_MANAGED_IDENTITY_SETTINGS, /* the VM agent's /var/lib/waagent/ManagedIdentity-Settings */
};

enum watch_identity {
	WATCH_NO_IDENTITY = 0, /* by path only */
	WATCH_FILE_IDENTITY,
	WATCH_DIR_IDENTITY,
};

/* What a discovery round wants watched. */
struct watch_spec {
	enum watch_kind kind;
	const char *path; /* absolute, as processes on the node name it */
	const char *owner_uid; /* the pod whose volume it is; NULL for node files */
	enum watch_identity identity;
	bool by_path;	 /* also report failed opens naming the path */
	uint32_t flags;	 /* AM_WATCH_* for directories */
};

struct watch_entry {
	uint32_t id;
	enum watch_kind kind;
	char *path;
	char owner_uid[40];
	enum watch_identity identity;
	bool by_path;
	uint32_t flags;
	/* The identity stat() found this round (exists false: not there now). */
	bool exists;
	uint32_t kdev;
	uint64_t inode;
	/* What the kernel has now. */
	bool installed;
	uint32_t installed_kdev;
	uint64_t installed_inode;
	uint32_t installed_flags;
	bool path_installed;
	bool wanted;
	uint64_t removed_at_ns; /* 0 while in the set */
	struct hashtab_node node; /* the list's index by path */
};

/* How watch_list_end tells the kernel; each returns 0 or a negative errno. */
struct watch_sink {
	int (*file)(void *ctx, uint32_t kdev, uint64_t inode, uint32_t id, uint32_t flags, bool add);
	int (*dir)(void *ctx, uint32_t kdev, uint64_t inode, uint32_t id, uint32_t flags, bool add);
	int (*path)(void *ctx, const char *path, uint32_t id, bool add);
	void *ctx;
};

struct watch_list;

/* host_root: where the node's files are, for stat(); "/" on the node itself. */
struct watch_list *watch_list_new(const char *host_root, size_t capacity);
void watch_list_free(struct watch_list *list);

void watch_list_begin(struct watch_list *list);
/* Declares one entry of this round; stats it under the host root. */
int watch_list_want(struct watch_list *list, const struct watch_spec *spec, struct am_error *err);
/*
 * Applies the round: installs what is new or changed, removes what is no longer
 * wanted, frees entries removed more than grace_ns ago. Returns the number of
 * kernel updates that failed (each is retried next round).
 */
size_t watch_list_end(struct watch_list *list, const struct watch_sink *sink, uint64_t now_ns,
		      uint64_t grace_ns);

const struct watch_entry *watch_list_get(const struct watch_list *list, uint32_t id);
/* Ids in use are below this. */
size_t watch_list_slots(const struct watch_list *list);
/* Puts an entry back at its id, as a recording had it (replay; nothing is installed). */
int watch_list_restore(struct watch_list *list, uint32_t id, const struct watch_spec *spec,
		       uint64_t removed_at_ns);
/* Bumped by every change a round makes, so a recorder knows when to record the set. */
unsigned long watch_list_generation(const struct watch_list *list);
/* Entries in the set now. */
size_t watch_list_count(const struct watch_list *list);
/* Whether any directory / path entry is installed, for the kernel's shortcuts. */
bool watch_list_has_dirs(const struct watch_list *list);
bool watch_list_has_paths(const struct watch_list *list);

/*
 * The node path of the file an open record matched through `entry`: the entry's
 * own, or for a directory or device match (a volume) the file's name inside it.
 */
struct am_open_record;
void watch_host_path(const struct watch_entry *entry, const struct am_open_record *record,
		     char *out, size_t len);
/* The kind of a file matched through `entry`, named `name` (projected volumes). */
enum watch_kind watch_kind_of(const struct watch_entry *entry, const char *name);
const char *watch_kind_name(enum watch_kind kind);

#endif /* ACCESSMON_WATCH_H */
