/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * The watch set as user space knows it: each watched file's path on the node and
 * its identity (kernel device number and inode), which is what the kernel matches.
 */
#ifndef ACCESSMON_WATCH_H
#define ACCESSMON_WATCH_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"

struct watch_entry {
	uint32_t id;
	char *path;    /* the path it was added by, on the node */
	uint32_t kdev; /* kernel encoding: major << 20 | minor */
	uint64_t inode;
};

struct watch_list;

struct watch_list *watch_list_new(size_t capacity);
void watch_list_free(struct watch_list *list);

/*
 * Adds the file `path` names (symlinks followed). A second path to a file already
 * watched (a hard link, a bind mount) returns the existing entry. NULL on error.
 */
const struct watch_entry *watch_list_add_path(struct watch_list *list, const char *path,
					      struct am_error *err);
const struct watch_entry *watch_list_get(const struct watch_list *list, uint32_t id);
size_t watch_list_count(const struct watch_list *list);

#endif /* ACCESSMON_WATCH_H */
