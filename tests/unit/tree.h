/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * Unit-test helper: a temporary directory tree standing in for a node's files.
 * Include after <cmocka.h>. tree_remove is a cmocka teardown, so the tree goes
 * also when an assertion failed.
 */
#ifndef ACCESSMON_TEST_TREE_H
#define ACCESSMON_TEST_TREE_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* The tree of the running test; "" when there is none. */
static char tree_root[64];

/* Makes /tmp/accessmon-NAME-XXXXXX and returns its path. */
static inline const char *tree_make(const char *name)
{
	snprintf(tree_root, sizeof(tree_root), "/tmp/accessmon-%s-XXXXXX", name);
	assert_non_null(mkdtemp(tree_root));
	return tree_root;
}

/* Writes text to tree_root + path ("/a/b/file"), making the directories between. */
static inline void tree_write(const char *path, const char *text)
{
	char full[sizeof(tree_root) + 512], dir[sizeof(full)], *slash;
	FILE *f;

	snprintf(full, sizeof(full), "%s%s", tree_root, path);
	memcpy(dir, full, sizeof(dir));
	for (slash = strchr(dir + strlen(tree_root) + 1, '/'); slash;
	     slash = strchr(slash + 1, '/')) {
		*slash = '\0';
		mkdir(dir, 0755);
		*slash = '/';
	}
	f = fopen(full, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static inline int tree_remove(void **state)
{
	char command[128];

	(void)state;
	if (!tree_root[0])
		return 0;
	snprintf(command, sizeof(command), "rm -rf '%s'", tree_root);
	tree_root[0] = '\0';
	return system(command) == 0 ? 0 : -1;
}

#endif /* ACCESSMON_TEST_TREE_H */
