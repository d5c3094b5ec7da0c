/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * Unit-test helper: a fake kubelet tree for the watch set and the discovery of
 * secrets (test_watch.c, test_secrets.c), and a fake kernel that counts what it
 * is told. Include after <cmocka.h> and tree.h.
 */
#ifndef ACCESSMON_TEST_WATCH_FIXTURE_H
#define ACCESSMON_TEST_WATCH_FIXTURE_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "accessmon.h"
#include "attribute/secrets.h"
#include "attribute/watch.h"

#define POD "0c7d2f4a-1b3e-4c5d-9e8f-a1b2c3d4e5f6"
#define VOLUMES "/var/lib/kubelet/pods/" POD "/volumes"

/* A fake kernel: what is installed, by kind. */
struct fake_kernel {
	int files, dirs, paths;
	int adds, removes;
	char last_path[AM_WATCH_PATH_LEN];
	uint32_t last_dir_flags;
	bool fail;
};

static inline int fake_file(void *ctx, uint32_t kdev, uint64_t inode, uint32_t id, uint32_t flags,
		     bool add)
{
	struct fake_kernel *k = ctx;

	(void)kdev, (void)inode, (void)id, (void)flags;
	if (k->fail)
		return -ENOMEM;
	k->files += add ? 1 : -1;
	add ? k->adds++ : k->removes++;
	return 0;
}

static inline int fake_dir(void *ctx, uint32_t kdev, uint64_t inode, uint32_t id, uint32_t flags,
		    bool add)
{
	struct fake_kernel *k = ctx;

	(void)kdev, (void)inode, (void)id;
	if (k->fail)
		return -ENOMEM;
	k->dirs += add ? 1 : -1;
	k->last_dir_flags = flags;
	add ? k->adds++ : k->removes++;
	return 0;
}

static inline int fake_path(void *ctx, const char *path, uint32_t id, bool add)
{
	struct fake_kernel *k = ctx;

	(void)id;
	if (k->fail)
		return -ENOMEM;
	k->paths += add ? 1 : -1;
	snprintf(k->last_path, sizeof(k->last_path), "%s", path);
	add ? k->adds++ : k->removes++;
	return 0;
}

static inline void run(const char *fmt, ...)
{
	char command[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(command, sizeof(command), fmt, ap);
	va_end(ap);
	assert_int_equal(system(command), 0);
}

/* A projected volume as the kubelet writes it: ..data -> timestamped dir, names -> ..data. */
static inline void projected_volume(const char *volume, const char *stamp, const char *token)
{
	char path[512];

	snprintf(path, sizeof(path), VOLUMES "/kubernetes.io~projected/%s/%s/token", volume, stamp);
	tree_write(path, token);
	snprintf(path, sizeof(path), VOLUMES "/kubernetes.io~projected/%s/%s/ca.crt", volume, stamp);
	tree_write(path, "ca");
	run("cd '%s" VOLUMES "/kubernetes.io~projected/%s' && ln -sfn %s ..data_tmp && "
	    "mv -T ..data_tmp ..data && ln -sfn ..data/token token && ln -sfn ..data/ca.crt ca.crt",
	    tree_root, volume, stamp);
}

static inline int setup(void **state)
{
	(void)state;
	tree_make("watch");
	return 0;
}

static const struct watch_entry *find(struct watch_list *list, const char *path)
{
	uint32_t id;

	for (id = 0; id < 1024; id++) {
		const struct watch_entry *entry = watch_list_get(list, id);

		if (entry && strcmp(entry->path, path) == 0)
			return entry;
	}
	return NULL;
}

static inline size_t round_trip(struct watch_list *list, struct fake_kernel *kernel, uint64_t now)
{
	struct watch_sink sink = {fake_file, fake_dir, fake_path, kernel};

	watch_list_begin(list);
	secrets_discover(list, tree_root, NULL, NULL, 0, NULL, NULL);
	return watch_list_end(list, &sink, now, 10);
}

#endif /* ACCESSMON_TEST_WATCH_FIXTURE_H */
