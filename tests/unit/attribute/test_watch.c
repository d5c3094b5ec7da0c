// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * Unit tests: the watch set's rounds and what they tell the kernel, and the
 * discovery of a node's secrets on a fake kubelet tree, token rotation included.
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

#include "accessmon.h"
#include "attribute/pods.h"
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

static int fake_file(void *ctx, uint32_t kdev, uint64_t inode, uint32_t id, uint32_t flags,
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

static int fake_dir(void *ctx, uint32_t kdev, uint64_t inode, uint32_t id, uint32_t flags,
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

static int fake_path(void *ctx, const char *path, uint32_t id, bool add)
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

static void run(const char *fmt, ...)
{
	char command[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(command, sizeof(command), fmt, ap);
	va_end(ap);
	assert_int_equal(system(command), 0);
}

/* A projected volume as the kubelet writes it: ..data -> timestamped dir, names -> ..data. */
static void projected_volume(const char *volume, const char *stamp, const char *token)
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

static int setup(void **state)
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

/* Declared so the kernel skips it by identity, and never reported, not even by path. */
static void assert_public(struct watch_list *list, const char *path)
{
	const struct watch_entry *entry = find(list, path);

	assert_non_null(entry);
	assert_int_equal(entry->flags, AM_WATCH_PUBLIC);
	assert_false(entry->by_path);
}

static size_t round_trip(struct watch_list *list, struct fake_kernel *kernel, uint64_t now)
{
	struct watch_sink sink = {fake_file, fake_dir, fake_path, kernel};

	watch_list_begin(list);
	secrets_discover(list, tree_root, NULL, NULL, 0, NULL, NULL);
	return watch_list_end(list, &sink, now, 10);
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
		cmocka_unit_test_setup_teardown(discovers_node_and_pod_secrets, setup, tree_remove),
		cmocka_unit_test_setup_teardown(rotation_keeps_the_directory_and_follows_the_file,
						setup, tree_remove),
		cmocka_unit_test_setup_teardown(pods_leave_after_grace, setup, tree_remove),
		cmocka_unit_test_setup_teardown(kernel_failures_are_retried, setup, tree_remove),
		cmocka_unit_test_setup_teardown(the_spec_names_the_credentials, setup, tree_remove),
		cmocka_unit_test_setup_teardown(without_a_spec_every_file_counts, setup, tree_remove),
		cmocka_unit_test(bad_specs_and_full_set),
		cmocka_unit_test(kinds_have_names),
	};

	return cmocka_run_group_tests_name("watch", tests, NULL, NULL);
}
