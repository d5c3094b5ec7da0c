// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* The user-space side of the watch set; see watch.h. */
#include "watch.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "accessmon.h"

struct watch_list {
	struct watch_entry *entries;
	size_t count;
	size_t capacity;
};

struct watch_list *watch_list_new(size_t capacity)
{
	struct watch_list *list = calloc(1, sizeof(*list));

	if (!list)
		return NULL;
	list->entries = calloc(capacity ? capacity : 1, sizeof(*list->entries));
	if (!list->entries) {
		free(list);
		errno = ENOMEM;
		return NULL;
	}
	list->capacity = capacity;
	return list;
}

void watch_list_free(struct watch_list *list)
{
	size_t i;

	if (!list)
		return;
	for (i = 0; i < list->count; i++)
		free(list->entries[i].path);
	free(list->entries);
	free(list);
}

const struct watch_entry *watch_list_add_path(struct watch_list *list, const char *path,
					      struct am_error *err)
{
	struct watch_entry *entry;
	struct stat st;
	uint32_t kdev;
	size_t i;

	if (stat(path, &st) < 0) {
		am_error_set(err, "%s: %s", path, strerror(errno));
		return NULL;
	}
	kdev = AM_KDEV(major(st.st_dev), minor(st.st_dev));
	for (i = 0; i < list->count; i++)
		if (list->entries[i].kdev == kdev && list->entries[i].inode == st.st_ino)
			return &list->entries[i];
	if (list->count >= list->capacity) {
		am_error_set(err, "%s: the watch set is full (%zu files)", path, list->capacity);
		return NULL;
	}
	entry = &list->entries[list->count];
	entry->path = strdup(path);
	if (!entry->path) {
		am_error_set(err, "%s: out of memory", path);
		return NULL;
	}
	entry->id = (uint32_t)list->count;
	entry->kdev = kdev;
	entry->inode = st.st_ino;
	list->count++;
	return entry;
}

const struct watch_entry *watch_list_get(const struct watch_list *list, uint32_t id)
{
	return id < list->count ? &list->entries[id] : NULL;
}

size_t watch_list_count(const struct watch_list *list)
{
	return list->count;
}
