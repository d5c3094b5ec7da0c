// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * Unit tests: finding a node's secrets (attribute/secrets.h) on a fake kubelet
 * tree: the node's credential files, pods' volumes as their specs name them or,
 * without a spec, at worst, extra paths, and the bounds on what a pod fills.
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

#include "attribute/pods.h"

/* Declared so the kernel skips it by identity, and never reported, not even by path. */
static void assert_public(struct watch_list *list, const char *path)
{
	const struct watch_entry *entry = find(list, path);

	assert_non_null(entry);
	assert_int_equal(entry->flags, AM_WATCH_PUBLIC);
	assert_false(entry->by_path);
}

static void discovers_node_and_pod_secrets(void **state)
{
	struct watch_list *list = watch_list_new(tree_root, 1024);
	struct fake_kernel kernel = {0};
	const struct watch_entry *entry;

	(void)state;
	tree_write("/etc/kubernetes/azure.json", "{}");
	tree_write("/etc/kubernetes/certs/client.key", "key");
	tree_write("/var/lib/kubelet/pki/kubelet-client-current.pem", "pem");
	projected_volume("kube-api-access-abcde", "..2026_11_28_10_00_00.000000001", "t1");
	tree_write(VOLUMES "/kubernetes.io~secret/db-password/..2026_11_28_10_00_00.1/password",
		   "hunter2");
	run("cd '%s" VOLUMES "/kubernetes.io~secret/db-password' && "
	    "ln -s ..2026_11_28_10_00_00.1 ..data && ln -s ..data/password password",
	    tree_root);
	tree_write(VOLUMES "/kubernetes.io~csi/secrets-store-inline/vol_data.json",
		   "{\"driverName\":\"secrets-store.csi.k8s.io\",\"specVolID\":\"x\"}");
	tree_write(VOLUMES "/kubernetes.io~csi/secrets-store-inline/mount/db-secret", "s");
	tree_write(VOLUMES "/kubernetes.io~csi/azure-disk/vol_data.json",
		   "{\"driverName\":\"disk.csi.azure.com\"}");
	tree_write(VOLUMES "/kubernetes.io~csi/azure-disk/mount/data.bin", "d");

	assert_int_equal(round_trip(list, &kernel, 1), 0);
	entry = find(list, "/etc/kubernetes/azure.json");
	assert_non_null(entry);
	assert_int_equal(entry->kind, WATCH_NODE_CLOUD_CONFIG);
	assert_true(entry->installed);
	/* Absent, but watched by path: a probe for it is reported. */
	entry = find(list, "/var/lib/kubelet/kubeconfig");
	assert_non_null(entry);
	assert_false(entry->installed);
	assert_true(entry->path_installed);
	assert_int_equal(find(list, "/etc/kubernetes/certs")->identity, WATCH_DIR_IDENTITY);
	assert_int_equal(find(list, "/etc/kubernetes/certs/client.key")->kind, WATCH_NODE_TLS_KEY);
	assert_non_null(find(list, "/var/lib/kubelet/pki/kubelet-client-current.pem"));

	entry = find(list, VOLUMES "/kubernetes.io~projected/kube-api-access-abcde");
	assert_non_null(entry);
	assert_int_equal(entry->identity, WATCH_DIR_IDENTITY);
	/* A plain directory here, not its own tmpfs: matched by walking, not by device. */
	assert_int_equal(entry->flags, AM_WATCH_SUBTREE | AM_WATCH_SKIP_PUBLIC);
	assert_string_equal(entry->owner_uid, POD);
	assert_int_equal(watch_kind_of(entry, "token"), WATCH_SERVICE_ACCOUNT_TOKEN);
	entry = find(list, VOLUMES "/kubernetes.io~projected/kube-api-access-abcde/token");
	assert_non_null(entry);
	/* The token by its own identity: a hard link or a handle cannot hide it. */
	assert_int_equal(entry->identity, WATCH_FILE_IDENTITY);
	assert_int_equal(entry->kind, WATCH_SERVICE_ACCOUNT_TOKEN);
	assert_true(entry->installed);
	assert_public(list, VOLUMES "/kubernetes.io~projected/kube-api-access-abcde/ca.crt");
	assert_int_equal(find(list, VOLUMES "/kubernetes.io~secret/db-password")->kind,
			 WATCH_SECRET_VOLUME);
	assert_int_equal(find(list, VOLUMES "/kubernetes.io~secret/db-password/password")->identity,
			 WATCH_FILE_IDENTITY);
	/* The node's flat TLS directories match their own entries only. */
	assert_int_equal(find(list, "/etc/kubernetes/certs")->flags, 0);
	entry = find(list, VOLUMES "/kubernetes.io~csi/secrets-store-inline/mount");
	assert_non_null(entry);
	assert_int_equal(entry->kind, WATCH_CSI_SECRET);
	/* A CSI disk is not a secret. */
	assert_null(find(list, VOLUMES "/kubernetes.io~csi/azure-disk/mount"));
	assert_true(watch_list_has_dirs(list));
	assert_true(watch_list_has_paths(list));
	/* The kernel was told about everything installed, and paths under the host root too. */
	assert_int_equal(kernel.dirs, 5);
	assert_true(kernel.files >= 1);
	watch_list_free(list);
}

/* The pod's spec, as the kubelet's /pods answers it, for POD. */
static struct pod_inventory *inventory_with_volumes(const char *volumes_json)
{
	char text[4096];
	struct pod_inventory *pods = pod_inventory_new();
	struct am_error err;
	cJSON *root;

	snprintf(text, sizeof(text),
		 "{\"items\":[{\"metadata\":{\"uid\":\"" POD "\",\"name\":\"mesh\","
		 "\"namespace\":\"shop\"},\"spec\":{\"serviceAccountName\":\"app\","
		 "\"containers\":[{\"name\":\"app\"}],\"volumes\":%s}}]}",
		 volumes_json);
	root = cJSON_Parse(text);
	assert_non_null(root);
	assert_int_equal(pod_inventory_apply_podlist(pods, root, "pods.json", POD_SOURCE_KUBELET, 1,
						     &err),
			 0);
	cJSON_Delete(root);
	return pods;
}

static void discover_with(struct watch_list *list, const struct pod_inventory *pods)
{
	struct fake_kernel kernel = {0};
	struct watch_sink sink = {fake_file, fake_dir, fake_path, &kernel};

	watch_list_begin(list);
	secrets_discover(list, tree_root, pods, NULL, 0, NULL, NULL);
	assert_int_equal(watch_list_end(list, &sink, 1, 10), 0);
}

/* Kubelet-written volume files: DIR holds ..<stamp>/FILE..., the top names through ..data. */
static void volume_files(const char *dir, const char *const *files, size_t n)
{
	char path[512], top[128];
	size_t i;

	for (i = 0; i < n; i++) {
		snprintf(path, sizeof(path), "%s/..2026_12_03_10_00_00.1/%s", dir, files[i]);
		tree_write(path, "x");
	}
	run("cd '%s%s' && ln -sfn ..2026_12_03_10_00_00.1 ..data", tree_root, dir);
	for (i = 0; i < n; i++) {
		snprintf(top, sizeof(top), "%s", files[i]);
		*strchrnul(top, '/') = '\0';
		run("cd '%s%s' && ln -sfn ..data/%s %s", tree_root, dir, top, top);
	}
}

static void the_spec_names_the_credentials(void **state)
{
	static const char *const projected[] = {"istio-token", "root-cert.pem", "ca.crt",
						"namespace"};
	static const char *const secret[] = {"a/b/c/d/e/f/item", "unlisted"};
	struct pod_inventory *pods = inventory_with_volumes(
		"[{\"name\":\"istio-token\",\"projected\":{\"sources\":["
		" {\"serviceAccountToken\":{\"audience\":\"istio-ca\",\"path\":\"istio-token\"}},"
		" {\"configMap\":{\"name\":\"istio-ca-root-cert\",\"items\":[{\"key\":\"root-cert.pem\","
		"  \"path\":\"root-cert.pem\"}]}}]}},"
		" {\"name\":\"deep\",\"secret\":{\"secretName\":\"db\",\"items\":[{\"key\":\"k\","
		"  \"path\":\"a/b/c/d/e/f/item\"}]}},"
		" {\"name\":\"wi\",\"projected\":{\"sources\":[{\"serviceAccountToken\":{"
		"  \"audience\":\"api://AzureADTokenExchange\",\"path\":\"federated\"}}]}}]");
	struct watch_list *list = watch_list_new(tree_root, 1024);
	static const char *const wi[] = {"federated"};
	const struct watch_entry *entry;

	(void)state;
	volume_files(VOLUMES "/kubernetes.io~projected/istio-token", projected, 4);
	volume_files(VOLUMES "/kubernetes.io~secret/deep", secret, 2);
	volume_files(VOLUMES "/kubernetes.io~projected/wi", wi, 1);
	discover_with(list, pods);

	/* A token under any name the spec gives it. */
	entry = find(list, VOLUMES "/kubernetes.io~projected/istio-token/istio-token");
	assert_non_null(entry);
	assert_int_equal(entry->kind, WATCH_SERVICE_ACCOUNT_TOKEN);
	assert_int_equal(entry->identity, WATCH_FILE_IDENTITY);
	/* The configMap's item and the public parts are not credentials. */
	assert_public(list, VOLUMES "/kubernetes.io~projected/istio-token/root-cert.pem");
	assert_public(list, VOLUMES "/kubernetes.io~projected/istio-token/ca.crt");
	/* An item six directories deep; the Secret's other file is not an item. */
	entry = find(list, VOLUMES "/kubernetes.io~secret/deep/a/b/c/d/e/f/item");
	assert_non_null(entry);
	assert_int_equal(entry->kind, WATCH_SECRET_VOLUME);
	assert_true(entry->installed);
	assert_public(list, VOLUMES "/kubernetes.io~secret/deep/unlisted");
	/* The audience says workload identity, whatever the file's name. */
	assert_int_equal(find(list, VOLUMES "/kubernetes.io~projected/wi/federated")->kind,
			 WATCH_WORKLOAD_IDENTITY_TOKEN);
	watch_list_free(list);
	pod_inventory_free(pods);
}

/* Without a spec, every file of a projected volume but its public parts, at worst. */
static void without_a_spec_every_file_counts(void **state)
{
	static const char *const projected[] = {"istio-token", "ca.crt", "x/y/z/deep-token"};
	struct watch_list *list = watch_list_new(tree_root, 1024);

	(void)state;
	volume_files(VOLUMES "/kubernetes.io~projected/istio-token", projected, 3);
	discover_with(list, NULL);
	assert_int_equal(find(list, VOLUMES "/kubernetes.io~projected/istio-token/istio-token")->kind,
			 WATCH_SERVICE_ACCOUNT_TOKEN);
	assert_non_null(find(list, VOLUMES "/kubernetes.io~projected/istio-token/x/y/z/deep-token"));
	assert_public(list, VOLUMES "/kubernetes.io~projected/istio-token/ca.crt");
	watch_list_free(list);
}

struct reports {
	int n;
	char last[AM_ERROR_LEN];
};

static void on_report(void *ctx, const char *message)
{
	struct reports *reports = ctx;

	reports->n++;
	snprintf(reports->last, sizeof(reports->last), "%s", message);
}

static void extra_paths_are_custom(void **state)
{
	const char *const extra[] = {"/etc/app/credentials.json", "relative/path"};
	struct watch_list *list = watch_list_new(tree_root, 1024);
	struct reports reports = {0};
	const struct watch_entry *entry;
	int declared;

	(void)state;
	tree_write("/etc/app/credentials.json", "{}");
	watch_list_begin(list);
	declared = secrets_discover(list, tree_root, NULL, extra, 2, on_report, &reports);
	/* The one that is not absolute is said, and the round goes on. */
	assert_int_equal(reports.n, 1);
	assert_non_null(strstr(reports.last, "relative/path"));
	entry = find(list, "/etc/app/credentials.json");
	assert_non_null(entry);
	assert_int_equal(entry->kind, WATCH_CUSTOM);
	assert_true(declared >= 1);
	assert_int_equal((size_t)declared, watch_list_count(list));
	watch_list_free(list);
}

/* A volume is a pod's to fill: what is declared of it is bounded. */
static void a_volume_full_of_files(void **state)
{
	struct watch_list *list = watch_list_new(tree_root, 4096);
	const char *dir = VOLUMES "/kubernetes.io~secret/flood";
	size_t before, after;
	char path[512];
	int i;

	(void)state;
	for (i = 0; i < SECRETS_MAX_FILES_PER_VOLUME + 50; i++) {
		snprintf(path, sizeof(path), "%s/..2026_12_03_10_00_00.1/f%d", dir, i);
		tree_write(path, "x");
	}
	run("cd '%s%s' && ln -sfn ..2026_12_03_10_00_00.1 ..data", tree_root, dir);
	discover_with(list, NULL);
	/* The volume's own entry still matches what is past the bound. */
	assert_non_null(find(list, dir));
	after = watch_list_count(list);
	watch_list_free(list);
	list = watch_list_new(tree_root, 4096);
	run("rm -rf '%s%s'", tree_root, dir);
	discover_with(list, NULL);
	before = watch_list_count(list);
	assert_true(after > before && after - before <= SECRETS_MAX_FILES_PER_VOLUME + 1);
	watch_list_free(list);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(discovers_node_and_pod_secrets, setup, tree_remove),
		cmocka_unit_test_setup_teardown(the_spec_names_the_credentials, setup, tree_remove),
		cmocka_unit_test_setup_teardown(without_a_spec_every_file_counts, setup, tree_remove),
		cmocka_unit_test_setup_teardown(extra_paths_are_custom, setup, tree_remove),
		cmocka_unit_test_setup_teardown(a_volume_full_of_files, setup, tree_remove),
	};

	return cmocka_run_group_tests_name("secrets", tests, NULL, NULL);
}
