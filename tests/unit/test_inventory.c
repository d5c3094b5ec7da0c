// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * Unit tests: the inventory's sources on a fake node tree (containerd bundles and
 * azure.json under a host root), kept current and robust to bad input.
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

#include "inventory.h"

#define TASKS "/run/containerd/io.containerd.runtime.v2.task/k8s.io"

struct node_tree {
	char root[64];
	char reports[8][AM_ERROR_LEN];
	int n_reports;
};

static void on_report(void *ctx, const char *message)
{
	struct node_tree *tree = ctx;

	if (tree->n_reports < 8)
		snprintf(tree->reports[tree->n_reports], AM_ERROR_LEN, "%s", message);
	tree->n_reports++;
}

static void write_file(const char *root, const char *path, const char *text)
{
	char full[512], dir[512];
	char *slash;
	FILE *f;

	snprintf(full, sizeof(full), "%s%s", root, path);
	snprintf(dir, sizeof(dir), "%s", full);
	for (slash = strchr(dir + strlen(root) + 1, '/'); slash; slash = strchr(slash + 1, '/')) {
		*slash = '\0';
		mkdir(dir, 0755);
		*slash = '/';
	}
	f = fopen(full, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void write_bundle(const char *root, const char *id, const char *uid, const char *pod,
			 const char *container)
{
	char path[256], text[1024];

	snprintf(path, sizeof(path), TASKS "/%s/config.json", id);
	snprintf(text, sizeof(text),
		 "{\"process\":{\"env\":[\"HOME=/\"]},\"annotations\":{"
		 "\"io.kubernetes.cri.container-type\":\"container\","
		 "\"io.kubernetes.cri.container-name\":\"%s\","
		 "\"io.kubernetes.cri.sandbox-name\":\"%s\","
		 "\"io.kubernetes.cri.sandbox-namespace\":\"shop\","
		 "\"io.kubernetes.cri.sandbox-uid\":\"%s\"}}",
		 container, pod, uid);
	write_file(root, path, text);
}

/* The tree a test made; teardown removes it, also when an assertion failed. */
static char made_root[64];

static void make_tree(struct node_tree *tree)
{
	strcpy(tree->root, "/tmp/accessmon-node-XXXXXX");
	assert_non_null(mkdtemp(tree->root));
	strcpy(made_root, tree->root);
}

static int remove_tree(void **state)
{
	char command[128];

	(void)state;
	if (!made_root[0])
		return 0;
	snprintf(command, sizeof(command), "rm -rf '%s'", made_root);
	made_root[0] = '\0';
	return system(command) == 0 ? 0 : -1;
}

static void follows_containerd_bundles(void **state)
{
	struct node_tree tree = {0};
	struct inventory_config config = {0};
	struct pod_inventory *pods = pod_inventory_new();
	struct inventory *inventory;
	struct am_error err;
	char path[256];

	(void)state;
	make_tree(&tree);
	write_bundle(tree.root, "aaa", "uid-1", "web", "app");
	write_file(tree.root, "/etc/kubernetes/azure.json",
		   "{\"tenantId\":\"t\",\"aadClientId\":\"msi\",\"useManagedIdentityExtension\":true,"
		   "\"userAssignedIdentityID\":\"kubelet-client\"}");
	config.host_root = tree.root;
	inventory = inventory_new(&config, pods, on_report, &tree);
	assert_int_equal(inventory_load(inventory, 1000, 0, &err), 0);
	assert_int_equal(tree.n_reports, 0);
	assert_int_equal(pod_inventory_count(pods), 1);
	assert_string_equal(pod_inventory_find(pods, "uid-1")->name, "web");
	assert_string_equal(inventory_node(inventory)->identities[0].client_id, "kubelet-client");

	/* A new pod is found by the rescan a miss asks for. */
	write_bundle(tree.root, "bbb", "uid-2", "late", "job");
	inventory_pod_miss(inventory, 2000000000ull);
	assert_non_null(pod_inventory_find(pods, "uid-2"));
	assert_string_equal(pod_find_container(pod_inventory_find(pods, "uid-2"), "bbb")->name,
			    "job");

	/* A broken bundle is reported once and skipped; the rest stay known. */
	write_file(tree.root, TASKS "/ccc/config.json", "{\"annotations\": oops}");
	inventory_pod_miss(inventory, 3000000000ull);
	inventory_pod_miss(inventory, 4000000000ull);
	assert_int_equal(tree.n_reports, 1);
	assert_non_null(strstr(tree.reports[0], "ccc/config.json:1:17"));
	assert_non_null(strstr(tree.reports[0], "invalid JSON"));
	assert_int_equal(pod_inventory_count(pods), 2);

	/* A bundle cut short while being written is looked at again, not reported. */
	write_file(tree.root, TASKS "/ddd/config.json", "{\"annotations\": {");
	inventory_pod_miss(inventory, 5000000000ull);
	assert_int_equal(tree.n_reports, 1);
	write_bundle(tree.root, "ddd", "uid-4", "settled", "app");
	inventory_pod_miss(inventory, 6000000000ull);
	assert_non_null(pod_inventory_find(pods, "uid-4"));
	assert_int_equal(tree.n_reports, 1);

	/* A deleted pod attributes for the grace period, then goes. */
	snprintf(path, sizeof(path), "rm -rf '%s" TASKS "/aaa'", tree.root);
	assert_int_equal(system(path), 0);
	inventory_tick(inventory, 10000000000ull);
	assert_int_equal(pod_inventory_count(pods), 2);
	assert_non_null(pod_inventory_find(pods, "uid-1"));
	inventory_tick(inventory, 10000000000ull + INVENTORY_POD_GRACE_NS + 1);
	assert_null(pod_inventory_find(pods, "uid-1"));

	inventory_free(inventory);
	pod_inventory_free(pods);
}

static void missing_and_malformed_sources(void **state)
{
	struct node_tree tree = {0};
	struct inventory_config config = {0};
	struct pod_inventory *pods = pod_inventory_new();
	struct inventory *inventory;
	struct am_error err;
	char pods_path[128];

	(void)state;
	make_tree(&tree);
	write_file(tree.root, "/etc/kubernetes/azure.json", "{\"tenantId\": \"t\",\n  oops}");
	config.host_root = tree.root;
	inventory = inventory_new(&config, pods, on_report, &tree);
	assert_int_equal(inventory_load(inventory, 1, 0, &err), 0);
	/* Both problems said, naming the file and the position; the monitor goes on. */
	assert_int_equal(tree.n_reports, 2);
	assert_non_null(strstr(tree.reports[0], "etc/kubernetes/azure.json:2:4: invalid JSON"));
	assert_non_null(strstr(tree.reports[1], "no containerd task bundles"));
	assert_false(inventory_node(inventory)->has_cloud_config);
	inventory_free(inventory);

	/* A --pods or --cluster file given by the user must be right: that is an error. */
	write_file(tree.root, "/pods.json", "{\"items\": 3}");
	snprintf(pods_path, sizeof(pods_path), "%s/pods.json", tree.root);
	config.pods_file = pods_path;
	inventory = inventory_new(&config, pods, on_report, &tree);
	assert_int_equal(inventory_load(inventory, 1, 0, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "--pods"));
	assert_non_null(strstr(err.msg, "pods.json: items: missing or not an array"));
	inventory_free(inventory);
	pod_inventory_free(pods);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(follows_containerd_bundles, remove_tree),
		cmocka_unit_test_teardown(missing_and_malformed_sources, remove_tree),
	};

	return cmocka_run_group_tests_name("inventory", tests, NULL, NULL);
}
