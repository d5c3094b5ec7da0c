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

#include "tree.h"

#include "attribute/inventory.h"

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

static void write_bundle(const char *id, const char *uid, const char *pod,
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
	tree_write(path, text);
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
	snprintf(tree.root, sizeof(tree.root), "%s", tree_make("node"));
	write_bundle("aaa", "uid-1", "web", "app");
	tree_write("/etc/kubernetes/azure.json",
		   "{\"tenantId\":\"t\",\"aadClientId\":\"msi\",\"useManagedIdentityExtension\":true,"
		   "\"userAssignedIdentityID\":\"kubelet-client\"}");
	config.sources.host_root = tree.root;
	inventory = inventory_new(&config, pods, on_report, &tree);
	assert_int_equal(inventory_load(inventory, 1000, 0, &err), 0);
	assert_int_equal(tree.n_reports, 0);
	assert_int_equal(pod_inventory_count(pods), 1);
	assert_string_equal(pod_inventory_find(pods, "uid-1")->name, "web");
	assert_string_equal(inventory_node(inventory)->identities[0].client_id, "kubelet-client");

	/* A new pod is found by the rescan a miss asks for. */
	write_bundle("bbb", "uid-2", "late", "job");
	inventory_pod_miss(inventory, 2000000000ull);
	assert_non_null(pod_inventory_find(pods, "uid-2"));
	assert_string_equal(pod_find_container(pod_inventory_find(pods, "uid-2"), "bbb")->name,
			    "job");

	/* A broken bundle is reported once and skipped; the rest stay known. */
	tree_write(TASKS "/ccc/config.json", "{\"annotations\": oops}");
	inventory_pod_miss(inventory, 3000000000ull);
	inventory_pod_miss(inventory, 4000000000ull);
	assert_int_equal(tree.n_reports, 1);
	assert_non_null(strstr(tree.reports[0], "ccc/config.json:1:17"));
	assert_non_null(strstr(tree.reports[0], "invalid JSON"));
	assert_int_equal(pod_inventory_count(pods), 2);

	/* A bundle cut short while being written is looked at again, not reported. */
	tree_write(TASKS "/ddd/config.json", "{\"annotations\": {");
	inventory_pod_miss(inventory, 5000000000ull);
	assert_int_equal(tree.n_reports, 1);
	write_bundle("ddd", "uid-4", "settled", "app");
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

static void containerd_state_emptied_then_removed(void **state)
{
	struct node_tree tree = {0};
	struct inventory_config config = {0};
	struct pod_inventory *pods = pod_inventory_new();
	struct inventory *inventory;
	struct am_error err;
	char command[256];

	(void)state;
	snprintf(tree.root, sizeof(tree.root), "%s", tree_make("node"));
	write_bundle("aaa", "uid-1", "web", "app");
	tree_write("/etc/kubernetes/azure.json", "{\"tenantId\":\"t\"}");
	config.sources.host_root = tree.root;
	inventory = inventory_new(&config, pods, on_report, &tree);
	assert_int_equal(inventory_load(inventory, 1000, 0, &err), 0);
	assert_int_equal(tree.n_reports, 0);

	/* rm -rf as a tick sees it: first the bundles go, a scan finds the directory empty... */
	snprintf(command, sizeof(command), "rm -rf '%s" TASKS "/aaa'", tree.root);
	assert_int_equal(system(command), 0);
	inventory_tick(inventory, 2000000000ull);
	assert_int_equal(tree.n_reports, 0);
	/* ...then the directory itself: its absence is a change, said at the next tick. */
	snprintf(command, sizeof(command), "rm -rf '%s" TASKS "'", tree.root);
	assert_int_equal(system(command), 0);
	inventory_tick(inventory, 3000000000ull);
	assert_int_equal(tree.n_reports, 1);
	assert_non_null(strstr(tree.reports[0], "no containerd task bundles"));
	inventory_tick(inventory, 4000000000ull);
	assert_int_equal(tree.n_reports, 1);

	/* It comes back with a pod: found at the next tick, not at the next full rescan. */
	write_bundle("bbb", "uid-2", "late", "job");
	inventory_tick(inventory, 5000000000ull);
	assert_non_null(pod_inventory_find(pods, "uid-2"));
	assert_int_equal(tree.n_reports, 1);

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
	snprintf(tree.root, sizeof(tree.root), "%s", tree_make("node"));
	tree_write("/etc/kubernetes/azure.json", "{\"tenantId\": \"t\",\n  oops}");
	config.sources.host_root = tree.root;
	inventory = inventory_new(&config, pods, on_report, &tree);
	assert_int_equal(inventory_load(inventory, 1, 0, &err), 0);
	/* Both problems said, naming the file and the position; the monitor goes on. */
	assert_int_equal(tree.n_reports, 2);
	assert_non_null(strstr(tree.reports[0], "etc/kubernetes/azure.json:2:4: invalid JSON"));
	assert_non_null(strstr(tree.reports[1], "no containerd task bundles"));
	assert_false(inventory_node(inventory)->has_cloud_config);
	inventory_free(inventory);

	/* A --pods or --cluster file given by the user must be right: that is an error. */
	tree_write("/pods.json", "{\"items\": 3}");
	snprintf(pods_path, sizeof(pods_path), "%s/pods.json", tree.root);
	config.sources.pods_file = pods_path;
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
		cmocka_unit_test_teardown(follows_containerd_bundles, tree_remove),
		cmocka_unit_test_teardown(containerd_state_emptied_then_removed, tree_remove),
		cmocka_unit_test_teardown(missing_and_malformed_sources, tree_remove),
	};

	return cmocka_run_group_tests_name("inventory", tests, NULL, NULL);
}
