// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * Unit tests: the watch set's rounds and what they tell the kernel, on a fake
 * kubelet tree, token rotation included. Discovering the secrets is
 * test_secrets.c's.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "tree.h"
#include "watch_fixture.h"

static void rotation_keeps_the_directory_and_follows_the_file(void **state)
{
	struct watch_list *list = watch_list_new(tree_root, 1024);
	struct fake_kernel kernel = {0};
	const struct watch_entry *dir, *token;
	uint64_t inode, token_inode;
	int adds, removes;

	(void)state;
	projected_volume("azure-identity-token", "..2026_11_28_10_00_00.1", "t1");
	assert_int_equal(round_trip(list, &kernel, 1), 0);
	dir = find(list, VOLUMES "/kubernetes.io~projected/azure-identity-token");
	inode = dir->inode;
	adds = kernel.adds;
	/* A second round with nothing changed tells the kernel nothing. */
	assert_int_equal(round_trip(list, &kernel, 2), 0);
	assert_int_equal(kernel.adds, adds);
	/* Rotation: a new timestamped directory; the volume directory stays. */
	projected_volume("azure-identity-token", "..2026_11_28_11_00_00.2", "t2");
	run("rm -rf '%s" VOLUMES "/kubernetes.io~projected/azure-identity-token/..2026_11_28_10_00_00.1'",
	    tree_root);
	token = find(list, VOLUMES "/kubernetes.io~projected/azure-identity-token/token");
	token_inode = token->installed_inode;
	removes = kernel.removes;
	assert_int_equal(round_trip(list, &kernel, 3), 0);
	assert_int_equal(find(list, VOLUMES "/kubernetes.io~projected/azure-identity-token")->inode,
			 inode);
	/* The directory stays as it was; the token's and ca.crt's entries follow their new inodes. */
	assert_int_equal(kernel.adds, adds + 2);
	assert_int_equal(kernel.removes, removes + 2);
	assert_true(token->installed);
	assert_int_not_equal(token->installed_inode, token_inode);
	watch_list_free(list);
}

static void pods_leave_after_grace(void **state)
{
	struct watch_list *list = watch_list_new(tree_root, 1024);
	struct fake_kernel kernel = {0};
	size_t before;
	uint32_t id;

	(void)state;
	projected_volume("kube-api-access-x", "..2026_11_28_10_00_00.1", "t1");
	assert_int_equal(round_trip(list, &kernel, 100), 0);
	before = watch_list_count(list);
	id = find(list, VOLUMES "/kubernetes.io~projected/kube-api-access-x")->id;
	run("rm -rf '%s/var/lib/kubelet/pods/" POD "'", tree_root);
	assert_int_equal(round_trip(list, &kernel, 105), 0);
	/* The volume, its token and its public ca.crt. */
	assert_int_equal(watch_list_count(list), before - 3);
	assert_int_equal(kernel.dirs, 0); /* and the node's TLS directories do not exist here */
	/* Records in flight still resolve during the grace period... */
	assert_non_null(watch_list_get(list, id));
	/* ...and the id is free after it. */
	assert_int_equal(round_trip(list, &kernel, 200), 0);
	assert_null(watch_list_get(list, id));
	watch_list_free(list);
}

static void kernel_failures_are_retried(void **state)
{
	struct watch_list *list = watch_list_new(tree_root, 1024);
	struct fake_kernel kernel = {.fail = true};

	(void)state;
	tree_write("/etc/kubernetes/azure.json", "{}");
	assert_true(round_trip(list, &kernel, 1) > 0);
	assert_false(find(list, "/etc/kubernetes/azure.json")->installed);
	kernel.fail = false;
	assert_int_equal(round_trip(list, &kernel, 2), 0);
	assert_true(find(list, "/etc/kubernetes/azure.json")->installed);
	watch_list_free(list);
}

static void bad_specs_and_full_set(void **state)
{
	struct watch_list *list = watch_list_new("/", 2);
	struct watch_spec spec = {.kind = WATCH_CUSTOM, .identity = WATCH_FILE_IDENTITY};
	char long_path[AM_WATCH_PATH_LEN + 8];
	struct am_error err;

	(void)state;
	watch_list_begin(list);
	spec.path = "relative/path";
	assert_int_equal(watch_list_want(list, &spec, &err), -EINVAL);
	memset(long_path, 'a', sizeof(long_path) - 1);
	long_path[0] = '/';
	long_path[sizeof(long_path) - 1] = '\0';
	spec.path = long_path;
	assert_int_equal(watch_list_want(list, &spec, &err), -ENAMETOOLONG);
	spec.path = "/a";
	assert_int_equal(watch_list_want(list, &spec, &err), 0);
	spec.path = "/b";
	assert_int_equal(watch_list_want(list, &spec, &err), 0);
	spec.path = "/c";
	assert_int_equal(watch_list_want(list, &spec, &err), -ENOSPC);
	assert_non_null(strstr(err.msg, "the watch set is full"));
	/* The same path twice is one entry. */
	spec.path = "/a";
	assert_int_equal(watch_list_want(list, &spec, &err), 0);
	assert_int_equal(watch_list_count(list), 2);
	watch_list_free(list);
}

static void kinds_have_names(void **state)
{
	struct watch_entry entry = {.kind = WATCH_PROJECTED_TOKENS, .path = "/v/kube-api-access-x"};

	(void)state;
	assert_string_equal(watch_kind_name(WATCH_NODE_CLOUD_CONFIG), "node-cloud-config");
	assert_string_equal(watch_kind_name(WATCH_CSI_SECRET), "csi-secret");
	assert_int_equal(watch_kind_of(&entry, "azure-identity-token"),
			 WATCH_WORKLOAD_IDENTITY_TOKEN);
	assert_int_equal(watch_kind_of(&entry, ""), WATCH_SERVICE_ACCOUNT_TOKEN);
	entry.path = "/v/azure-identity-token/azure-identity-token";
	assert_int_equal(watch_kind_of(&entry, NULL), WATCH_WORKLOAD_IDENTITY_TOKEN);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(rotation_keeps_the_directory_and_follows_the_file,
						setup, tree_remove),
		cmocka_unit_test_setup_teardown(pods_leave_after_grace, setup, tree_remove),
		cmocka_unit_test_setup_teardown(kernel_failures_are_retried, setup, tree_remove),
		cmocka_unit_test(bad_specs_and_full_set),
		cmocka_unit_test(kinds_have_names),
	};

	return cmocka_run_group_tests_name("watch", tests, NULL, NULL);
}

