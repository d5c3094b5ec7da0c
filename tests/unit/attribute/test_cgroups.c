// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* Unit tests: the cgroup cache, the tree scan and finding the cgroup2 mount. */
#include <setjmp.h>
#include <stdarg.h>
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "attribute/cgroups.h"

#define POD_SLICE "/kubepods.slice/kubepods-pod11111111_2222_3333_4444_555555555555.slice"

static void add_lookup_replace(void **state)
{
	struct cgroup_cache *cache = cgroup_cache_new(16);
	struct cgroup_entry *entry;

	(void)state;
	assert_int_equal(cgroup_cache_add(cache, 42, POD_SLICE "/cri-containerd-abc.scope"), 0);
	entry = cgroup_cache_lookup(cache, 42);
	assert_non_null(entry);
	assert_true(entry->ref.is_pod);
	assert_string_equal(entry->ref.container_id, "abc");
	assert_null(cgroup_cache_lookup(cache, 43));
	/* An inode number reused for another cgroup replaces the old entry. */
	assert_int_equal(cgroup_cache_add(cache, 42, "/system.slice/kubelet.service"), 0);
	entry = cgroup_cache_lookup(cache, 42);
	assert_false(entry->ref.is_pod);
	assert_string_equal(entry->path, "/system.slice/kubelet.service");
	assert_int_equal(cgroup_cache_count(cache), 1);
	cgroup_cache_free(cache);
}

static void capacity_is_enforced(void **state)
{
	struct cgroup_cache *cache = cgroup_cache_new(3);
	uint64_t id;

	(void)state;
	for (id = 1; id <= 3; id++)
		assert_int_equal(cgroup_cache_add(cache, id, "/x"), 0);
	assert_int_equal(cgroup_cache_add(cache, 4, "/x"), -ENOSPC);
	assert_int_equal(cgroup_cache_refused(cache), 1);
	assert_int_equal(cgroup_cache_count(cache), 3);
	cgroup_cache_free(cache);
}

static void removed_entries_expire_after_grace(void **state)
{
	struct cgroup_cache *cache = cgroup_cache_new(1024);
	uint64_t id;

	(void)state;
	for (id = 1; id <= 1000; id++)
		assert_int_equal(cgroup_cache_add(cache, id * 7919, "/c"), 0);
	for (id = 1; id <= 500; id++)
		cgroup_cache_mark_removed(cache, id * 7919, 1000);
	/* Within the grace period they still attribute. */
	assert_int_equal(cgroup_cache_expire(cache, 1500, 1000), 0);
	assert_non_null(cgroup_cache_lookup(cache, 7919));
	assert_int_equal(cgroup_cache_expire(cache, 2001, 1000), 500);
	assert_null(cgroup_cache_lookup(cache, 7919));
	assert_non_null(cgroup_cache_lookup(cache, 501 * 7919));
	assert_int_equal(cgroup_cache_count(cache), 500);
	/* Re-created after removal: live again. */
	cgroup_cache_mark_removed(cache, 501 * 7919, 3000);
	assert_int_equal(cgroup_cache_add(cache, 501 * 7919, "/c"), 0);
	assert_int_equal(cgroup_cache_expire(cache, 100000, 1000), 0);
	cgroup_cache_free(cache);
}

/* The tree the scan test made; teardown removes it, also when an assertion failed. */
static char root[] = "/tmp/accessmon-cgroups-XXXXXX";

static int remove_root(void **state)
{
	char command[128];

	(void)state;
	snprintf(command, sizeof(command), "rm -rf '%s'", root);
	return system(command) == 0 ? 0 : -1;
}

static void tree_scan_finds_every_directory(void **state)
{
	char path[512];
	struct cgroup_cache *cache = cgroup_cache_new(64);
	struct cgroup_entry *entry;
	struct am_error err;
	struct stat st;

	(void)state;
	assert_non_null(mkdtemp(root));
	snprintf(path, sizeof(path), "%s/kubepods.slice", root);
	assert_int_equal(mkdir(path, 0755), 0);
	snprintf(path, sizeof(path), "%s" POD_SLICE, root);
	assert_int_equal(mkdir(path, 0755), 0);
	snprintf(path, sizeof(path), "%s" POD_SLICE "/cri-containerd-feed.scope", root);
	assert_int_equal(mkdir(path, 0755), 0);
	assert_int_equal(cgroup_tree_scan(cache, root, &err), 4);
	assert_int_equal(stat(path, &st), 0);
	entry = cgroup_cache_lookup(cache, st.st_ino);
	assert_non_null(entry);
	assert_string_equal(entry->path, POD_SLICE "/cri-containerd-feed.scope");
	assert_string_equal(entry->ref.container_id, "feed");
	assert_int_equal(stat(root, &st), 0);
	assert_string_equal(cgroup_cache_lookup(cache, st.st_ino)->path, "/");

	rmdir(path);
	snprintf(path, sizeof(path), "%s" POD_SLICE, root);
	rmdir(path);
	snprintf(path, sizeof(path), "%s/kubepods.slice", root);
	rmdir(path);
	rmdir(root);
	assert_true(cgroup_tree_scan(cache, "/nonexistent-cgroup-root", &err) < 0);
	assert_non_null(strstr(err.msg, "/nonexistent-cgroup-root"));
	cgroup_cache_free(cache);
}

static void finds_cgroup2_mount(void **state)
{
	const char hybrid[] = "sysfs /sys sysfs rw 0 0\n"
			      "cgroup /sys/fs/cgroup/memory cgroup rw,memory 0 0\n"
			      "cgroup2 /sys/fs/cgroup/unified cgroup2 rw,relatime 0 0\n";
	const char none[] = "cgroup /sys/fs/cgroup/memory cgroup rw,memory 0 0\n";
	char out[64];
	FILE *f;

	(void)state;
	f = fmemopen((void *)hybrid, sizeof(hybrid) - 1, "r");
	assert_int_equal(cgroup2_mount_find(f, out, sizeof(out)), 0);
	assert_string_equal(out, "/sys/fs/cgroup/unified");
	fclose(f);
	f = fmemopen((void *)none, sizeof(none) - 1, "r");
	assert_int_equal(cgroup2_mount_find(f, out, sizeof(out)), -ENOENT);
	fclose(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(add_lookup_replace),
		cmocka_unit_test(capacity_is_enforced),
		cmocka_unit_test(removed_entries_expire_after_grace),
		cmocka_unit_test_teardown(tree_scan_finds_every_directory, remove_root),
		cmocka_unit_test(finds_cgroup2_mount),
	};

	return cmocka_run_group_tests_name("cgroups", tests, NULL, NULL);
}
