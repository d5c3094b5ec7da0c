// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* Unit tests: PodList parsing, the inventory, and positioned JSON errors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <unistd.h>
#include <cmocka.h>

#include "lib/json_input.h"
#include "attribute/pods.h"

static const char podlist[] =
	"{\"apiVersion\":\"v1\",\"kind\":\"PodList\",\"items\":[\n"
	" {\"metadata\":{\"name\":\"web-7d4\",\"namespace\":\"shop\",\n"
	"   \"uid\":\"0c7d2f4a-1b3e-4c5d-9e8f-a1b2c3d4e5f6\",\n"
	"   \"labels\":{\"app\":\"web\",\"azure.workload.identity/use\":\"true\"}},\n"
	"  \"spec\":{\"serviceAccountName\":\"web-sa\",\"hostNetwork\":false,\n"
	"   \"initContainers\":[{\"name\":\"init\"}],\"containers\":[{\"name\":\"app\"},{\"name\":\"proxy\"}]},\n"
	"  \"status\":{\"containerStatuses\":[\n"
	"   {\"name\":\"app\",\"containerID\":\"containerd://aaaa1111\"},\n"
	"   {\"name\":\"proxy\",\"containerID\":\"containerd://bbbb2222\"}],\n"
	"   \"initContainerStatuses\":[{\"name\":\"init\",\"containerID\":\"containerd://cccc3333\"}]}},\n"
	" {\"metadata\":{\"name\":\"csi-node\",\"namespace\":\"kube-system\",\n"
	"   \"uid\":\"11111111-2222-3333-4444-555555555555\"},\n"
	"  \"spec\":{\"hostNetwork\":true,\"containers\":[{\"name\":\"driver\"}]},\n"
	"  \"status\":{\"containerStatuses\":[{\"name\":\"driver\"}]}}\n"
	"]}\n";

static int load(struct pod_inventory *inventory, const char *text, struct am_error *err)
{
	cJSON *root = json_input_parse("pods.json", text, strlen(text), err);
	int rc;

	if (!root)
		return -1;
	rc = pod_inventory_apply_podlist(inventory, root, "pods.json", POD_SOURCE_PODLIST, 1000, err);
	cJSON_Delete(root);
	return rc;
}

static void parses_pods_and_containers(void **state)
{
	struct pod_inventory *inventory = pod_inventory_new();
	const struct pod_info *pod;
	const struct container_info *container;
	struct am_error err;

	(void)state;
	assert_int_equal(load(inventory, podlist, &err), 0);
	assert_int_equal(pod_inventory_count(inventory), 2);

	pod = pod_inventory_find(inventory, "0c7d2f4a-1b3e-4c5d-9e8f-a1b2c3d4e5f6");
	assert_non_null(pod);
	assert_string_equal(pod->name, "web-7d4");
	assert_string_equal(pod->namespace, "shop");
	assert_string_equal(pod->service_account, "web-sa");
	assert_false(pod->host_network);
	assert_int_equal(pod->n_labels, 2);
	assert_string_equal(pod->labels[1].key, "azure.workload.identity/use");
	assert_int_equal(pod->n_containers, 3);
	container = pod_find_container(pod, "bbbb2222");
	assert_non_null(container);
	assert_string_equal(container->name, "proxy");
	container = pod_find_container(pod, "cccc3333");
	assert_non_null(container);
	assert_string_equal(container->name, "init");
	assert_null(pod_find_container(pod, "dddd"));
	assert_null(pod_find_container(pod, ""));

	pod = pod_inventory_find(inventory, "11111111-2222-3333-4444-555555555555");
	assert_non_null(pod);
	assert_true(pod->host_network);
	assert_null(pod->service_account);
	/* A container that has not started has no id yet, and matches nothing. */
	assert_null(pod_find_container(pod, "driver"));
	assert_null(pod_inventory_find(inventory, "99999999-2222-3333-4444-555555555555"));
	pod_inventory_free(inventory);
}

static void invalid_json_names_line_and_column(void **state)
{
	struct pod_inventory *inventory = pod_inventory_new();
	struct am_error err;

	(void)state;
	assert_int_not_equal(load(inventory, "{\"items\": [\n  {\"metadata\": }\n]}", &err), 0);
	assert_string_equal(err.msg, "pods.json:2:16: invalid JSON near byte 27");
	assert_int_not_equal(load(inventory, "{\"items\": [", &err), 0);
	assert_non_null(strstr(err.msg, "pods.json:1:"));
	assert_non_null(strstr(err.msg, "ends too early"));
	assert_int_not_equal(load(inventory, "", &err), 0);
	assert_non_null(strstr(err.msg, "pods.json: empty input"));
	pod_inventory_free(inventory);
}

static void semantic_errors_name_the_field(void **state)
{
	static const struct {
		const char *text;
		const char *message;
	} cases[] = {
		{"[]", "pods.json: expected a PodList object"},
		{"{\"kind\":\"Pod\",\"items\":[]}", "pods.json: kind is \"Pod\", expected \"PodList\""},
		{"{\"items\":{}}", "pods.json: items: missing or not an array"},
		{"{\"items\":[{\"metadata\":{\"name\":\"a\"}}]}",
		 "pods.json: items[0].metadata.uid: missing or not a string"},
		{"{\"items\":[{\"metadata\":{\"uid\":\"u\",\"name\":\"a\"}},{\"metadata\":5}]}",
		 "pods.json: items[1].metadata: missing or not an object"},
		{"{\"items\":[{\"metadata\":{\"uid\":\"u\",\"name\":\"a\",\"labels\":{\"k\":1}}}]}",
		 "pods.json: items[0].metadata.labels.k: expected a string"},
		{"{\"items\":[{\"metadata\":{\"uid\":\"u\",\"name\":\"a\"},\"spec\":{\"containers\":[{}]}}]}",
		 "pods.json: items[0].spec.containers[0].name: missing or not a string"},
		{"{\"items\":[{\"metadata\":{\"uid\":\"u\",\"name\":\"a\"},\"spec\":{\"volumes\":{}}}]}",
		 "pods.json: items[0].spec.volumes: not an array"},
		{"{\"items\":[{\"metadata\":{\"uid\":\"u\",\"name\":\"a\"},\"spec\":{\"volumes\":"
		 "[{\"name\":\"v\"},{\"secret\":{}}]}}]}",
		 "pods.json: items[0].spec.volumes[1].name: missing or not a string"},
	};
	struct pod_inventory *inventory = pod_inventory_new();
	struct am_error err;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_not_equal(load(inventory, cases[i].text, &err), 0);
		assert_string_equal(err.msg, cases[i].message);
	}
	pod_inventory_free(inventory);
}

/* Which files of a pod's volumes are credentials, as its spec says. */
static void volumes_name_their_credentials(void **state)
{
	static const char text[] =
		"{\"items\":[{\"metadata\":{\"uid\":\"u\",\"name\":\"a\"},\"spec\":{\"volumes\":["
		"{\"name\":\"mesh\",\"projected\":{\"sources\":["
		" {\"serviceAccountToken\":{\"audience\":\"istio-ca\",\"path\":\"./istio-token\"}},"
		" {\"configMap\":{\"items\":[{\"key\":\"k\",\"path\":\"certs//root.pem\"}]}}]}},"
		"{\"name\":\"wi\",\"projected\":{\"sources\":[{\"serviceAccountToken\":"
		" {\"audience\":\"api://AzureADTokenExchange\",\"path\":\"t\"}},{\"secret\":{\"name\":\"s\"}}]}},"
		"{\"name\":\"db\",\"secret\":{\"items\":[{\"key\":\"k\",\"path\":\"a/b/c/d/e/f/item\"}]}},"
		"{\"name\":\"kv\",\"csi\":{\"driver\":\"secrets-store.csi.k8s.io\"}},"
		"{\"name\":\"disk\",\"csi\":{\"driver\":\"disk.csi.azure.com\"}}]}}]}";
	struct pod_inventory *inventory = pod_inventory_new();
	const struct pod_volume *volume;
	enum volume_file_kind kind;
	const struct pod_info *pod;
	struct am_error err;

	(void)state;
	assert_int_equal(load(inventory, text, &err), 0);
	pod = pod_inventory_find(inventory, "u");
	assert_true(pod->has_spec);
	volume = pod_volumes_find(&pod->volumes, "mesh");
	assert_int_equal(volume->type, VOLUME_PROJECTED);
	assert_true(pod_volume_file_kind(volume, "istio-token", &kind)); /* "./" taken off */
	assert_int_equal(kind, VOLUME_FILE_TOKEN);
	assert_true(pod_volume_file_kind(volume, "certs/root.pem", &kind));
	assert_int_equal(kind, VOLUME_FILE_PUBLIC);
	assert_false(volume->unnamed_secrets);
	volume = pod_volumes_find(&pod->volumes, "wi");
	assert_true(pod_volume_file_kind(volume, "t", &kind));
	assert_int_equal(kind, VOLUME_FILE_WI_TOKEN);
	assert_true(volume->unnamed_secrets); /* a Secret projected without items */
	volume = pod_volumes_find(&pod->volumes, "db");
	assert_int_equal(volume->type, VOLUME_SECRET);
	assert_true(pod_volume_file_kind(volume, "a/b/c/d/e/f/item", &kind));
	assert_int_equal(kind, VOLUME_FILE_SECRET);
	assert_false(pod_volume_file_kind(volume, "other", &kind));
	assert_int_equal(pod_volumes_find(&pod->volumes, "kv")->type, VOLUME_CSI_SECRETS_STORE);
	assert_int_equal(pod_volumes_find(&pod->volumes, "disk")->type, VOLUME_OTHER);
	assert_null(pod_volumes_find(&pod->volumes, "none"));
	pod_inventory_free(inventory);
}

static void failed_load_keeps_previous_pods(void **state)
{
	struct pod_inventory *inventory = pod_inventory_new();
	unsigned long generation;
	struct am_error err;

	(void)state;
	assert_int_equal(load(inventory, podlist, &err), 0);
	generation = pod_inventory_generation(inventory);
	assert_int_not_equal(load(inventory, "{\"items\":[{}]}", &err), 0);
	assert_int_equal(pod_inventory_count(inventory), 2);
	assert_int_equal(pod_inventory_generation(inventory), generation);
	assert_int_equal(load(inventory, "{\"kind\":\"PodList\",\"items\":[]}", &err), 0);
	assert_int_equal(pod_inventory_count(inventory), 0);
	assert_true(pod_inventory_generation(inventory) > generation);
	pod_inventory_free(inventory);
}

static void bounds_labels_and_containers(void **state)
{
	struct pod_inventory *inventory = pod_inventory_new();
	const struct pod_info *pod;
	struct am_error err;
	char *text = malloc(64 * 1024);
	size_t len, i;

	(void)state;
	len = (size_t)sprintf(text, "{\"items\":[{\"metadata\":{\"uid\":\"u\",\"name\":\"n\",\"labels\":{");
	for (i = 0; i < 200; i++)
		len += (size_t)sprintf(text + len, "%s\"k%zu\":\"v\"", i ? "," : "", i);
	len += (size_t)sprintf(text + len, "}},\"spec\":{\"containers\":[");
	for (i = 0; i < 200; i++)
		len += (size_t)sprintf(text + len, "%s{\"name\":\"c%zu\"}", i ? "," : "", i);
	sprintf(text + len, "]}}]}");
	assert_int_equal(load(inventory, text, &err), 0);
	pod = pod_inventory_find(inventory, "u");
	assert_int_equal(pod->n_labels, POD_MAX_LABELS);
	assert_true(pod->labels_truncated);
	assert_int_equal(pod->n_containers, POD_MAX_CONTAINERS);
	assert_string_equal(pod->namespace, "default");
	free(text);
	pod_inventory_free(inventory);
}

/*
 * Giant values from a hostile PodList are cut at the documented bounds, between
 * characters, and a cut or left-out label marks the pod's labels_truncated.
 */
static void bounds_giant_values(void **state)
{
	struct pod_inventory *inventory = pod_inventory_new();
	size_t giant = 1 << 20, len = 0, i;
	char *text = malloc(5 * giant + 16384);
	const struct pod_info *pod;
	struct am_error err;

	(void)state;
	len += (size_t)sprintf(text + len, "{\"items\":[{\"metadata\":{\"uid\":\"u\",\"name\":\"");
	/* "é" repeated: 253 falls inside one, so the name is cut to 252 bytes. */
	for (i = 0; i < giant / 2; i++, len += 2)
		memcpy(text + len, "\xc3\xa9", 2);
	len += (size_t)sprintf(text + len, "\",\"namespace\":\"");
	memset(text + len, 'n', giant);
	len += giant;
	len += (size_t)sprintf(text + len, "\",\"labels\":{\"small\":\"v\",\"big\":\"");
	memset(text + len, 'v', giant);
	len += giant;
	len += (size_t)sprintf(text + len, "\",\"");
	memset(text + len, 'k', giant);
	len += giant;
	len += (size_t)sprintf(text + len, "\":\"dropped\"},\"annotations\":{\"a\":\"");
	memset(text + len, 'a', giant);
	len += giant;
	len += (size_t)sprintf(text + len, "\"}},\"spec\":{\"serviceAccountName\":\"");
	memset(text + len, 's', 300);
	len += 300;
	len += (size_t)sprintf(text + len, "\",\"containers\":[{\"name\":\"");
	memset(text + len, 'c', 300);
	len += 300;
	len += (size_t)sprintf(text + len, "\",\"image\":\"");
	memset(text + len, 'i', 5000);
	len += 5000;
	sprintf(text + len, "\"}]}}]}");
	assert_int_equal(load(inventory, text, &err), 0);
	pod = pod_inventory_find(inventory, "u");
	assert_non_null(pod);
	assert_int_equal(strlen(pod->name), POD_NAME_MAX_BYTES - 1);
	assert_memory_equal(pod->name, "\xc3\xa9\xc3\xa9", 4);
	assert_int_equal(strlen(pod->namespace), POD_NAME_MAX_BYTES);
	assert_int_equal(strlen(pod->service_account), POD_NAME_MAX_BYTES);
	assert_int_equal(pod->n_labels, 2);
	assert_string_equal(pod->labels[0].key, "small");
	assert_string_equal(pod->labels[1].key, "big");
	assert_int_equal(strlen(pod->labels[1].value), POD_LABEL_MAX_BYTES);
	assert_true(pod->labels_truncated);
	assert_int_equal(pod->n_containers, 1);
	assert_int_equal(strlen(pod->containers[0].name), POD_NAME_MAX_BYTES);
	assert_int_equal(strlen(pod->containers[0].image), POD_VALUE_MAX_BYTES);
	/* The same document again finds the cut container, and adds none. */
	assert_int_equal(load(inventory, text, &err), 0);
	pod = pod_inventory_find(inventory, "u");
	assert_int_equal(pod->n_containers, 1);
	assert_true(pod->labels_truncated);
	/* Labels that fit clear it. */
	assert_int_equal(load(inventory, "{\"items\":[{\"metadata\":{\"uid\":\"u\",\"name\":\"n\","
					 "\"labels\":{\"a\":\"b\"}}}]}",
			      &err),
			 0);
	assert_false(pod_inventory_find(inventory, "u")->labels_truncated);
	free(text);
	pod_inventory_free(inventory);
}

/* The file the load test made; teardown removes it, also when an assertion failed. */
static char path[] = "/tmp/accessmon-test-XXXXXX";

static int remove_file(void **state)
{
	(void)state;
	if (path[strlen(path) - 1] != 'X')
		unlink(path);
	return 0;
}

static void load_file_errors(void **state)
{
	struct am_error err;
	cJSON *root;
	int fd;

	(void)state;
	assert_null(json_input_load_file("/nonexistent/pods.json", &err));
	assert_string_equal(err.msg, "/nonexistent/pods.json: cannot open: No such file or directory");
	assert_null(json_input_load_file("/tmp", &err));
	assert_non_null(strstr(err.msg, "not a regular file"));

	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "{\"a\":\n[1,2", 10), 10);
	close(fd);
	assert_null(json_input_load_file(path, &err));
	assert_non_null(strstr(err.msg, ":2:4: invalid JSON: input ends too early"));
	fd = open(path, O_WRONLY | O_TRUNC);
	assert_int_equal(write(fd, "{\"a\":1}", 7), 7);
	close(fd);
	root = json_input_load_file(path, &err);
	assert_non_null(root);
	cJSON_Delete(root);
}

static struct bundle_container bundle(const char *id, const char *uid, const char *name,
				      const char *container, const char *client_id)
{
	struct bundle_container b = {0};

	b.id = strdup(id);
	b.pod_uid = strdup(uid);
	b.pod_name = strdup(name);
	b.pod_namespace = strdup("shop");
	b.container_name = container ? strdup(container) : NULL;
	b.sandbox = container == NULL;
	if (client_id)
		workload_identity_env_set(&b.wi, "AZURE_CLIENT_ID", client_id);
	return b;
}

static void merges_containerd_and_podlist(void **state)
{
	struct pod_inventory *inventory = pod_inventory_new();
	struct bundle_container bundles[3];
	const struct pod_info *pod;
	const struct container_info *container;
	const struct workload_identity_env *wi;
	struct am_error err;
	size_t i;

	(void)state;
	bundles[0] = bundle("aaaa1111", "0c7d2f4a-1b3e-4c5d-9e8f-a1b2c3d4e5f6", "web-7d4", "app",
			    "11111111-aaaa-bbbb-cccc-000000000001");
	bundles[1] = bundle("ffff0000", "0c7d2f4a-1b3e-4c5d-9e8f-a1b2c3d4e5f6", "web-7d4", NULL,
			    NULL);
	bundles[2] = bundle("eeee9999", "22222222-2222-3333-4444-555555555555", "batch-1", "job",
			    NULL);
	assert_int_equal(pod_inventory_apply_containers(inventory, bundles, 3, 10), 0);
	assert_int_equal(pod_inventory_count(inventory), 2);
	pod = pod_inventory_find(inventory, "0c7d2f4a-1b3e-4c5d-9e8f-a1b2c3d4e5f6");
	assert_string_equal(pod->name, "web-7d4");
	assert_int_equal(pod->sources, POD_SOURCE_CONTAINERD);
	container = pod_find_container(pod, "ffff0000");
	assert_true(container->sandbox);
	assert_string_equal(container->name, "POD");
	container = pod_find_container(pod, "aaaa1111");
	wi = pod_workload_identity(pod, container);
	assert_non_null(wi);
	assert_string_equal(wi->client_id, "11111111-aaaa-bbbb-cccc-000000000001");
	assert_true(pod_uses_workload_identity(pod));

	/* The PodList adds labels and the service account to the same pod. */
	assert_int_equal(load(inventory, podlist, &err), 0);
	pod = pod_inventory_find(inventory, "0c7d2f4a-1b3e-4c5d-9e8f-a1b2c3d4e5f6");
	assert_int_equal(pod->sources, POD_SOURCE_CONTAINERD | POD_SOURCE_PODLIST);
	assert_string_equal(pod->service_account, "web-sa");
	assert_true(pod->workload_identity_label);
	assert_non_null(pod_find_container(pod, "bbbb2222"));
	assert_non_null(pod_find_container(pod, "aaaa1111"));
	assert_int_equal(pod_inventory_count(inventory), 3);

	/* containerd stops reporting batch-1: it is deleted, kept for the grace period. */
	assert_int_equal(pod_inventory_apply_containers(inventory, bundles, 2, 20), 0);
	pod = pod_inventory_find(inventory, "22222222-2222-3333-4444-555555555555");
	assert_non_null(pod);
	assert_int_equal(pod->deleted_at_ns, 20);
	assert_int_equal(pod_inventory_count(inventory), 2);
	assert_int_equal(pod_inventory_expire(inventory, 25, 10), 0);
	assert_int_equal(pod_inventory_expire(inventory, 31, 10), 1);
	assert_null(pod_inventory_find(inventory, "22222222-2222-3333-4444-555555555555"));
	/* The web pod still has the PodList as a source when containerd forgets it. */
	assert_int_equal(pod_inventory_apply_containers(inventory, NULL, 0, 40), 0);
	pod = pod_inventory_find(inventory, "0c7d2f4a-1b3e-4c5d-9e8f-a1b2c3d4e5f6");
	assert_int_equal(pod->deleted_at_ns, 0);
	for (i = 0; i < 3; i++)
		bundle_container_release(&bundles[i]);
	pod_inventory_free(inventory);
}

static void restarted_container_keeps_both_ids(void **state)
{
	struct pod_inventory *inventory = pod_inventory_new();
	struct bundle_container bundles[2];
	const struct pod_info *pod;

	(void)state;
	bundles[0] = bundle("old1", "u", "p", "app", NULL);
	bundles[1] = bundle("new2", "u", "p", "app", NULL);
	assert_int_equal(pod_inventory_apply_containers(inventory, bundles, 1, 1), 0);
	assert_int_equal(pod_inventory_apply_containers(inventory, bundles + 1, 1, 2), 0);
	pod = pod_inventory_find(inventory, "u");
	assert_string_equal(pod_find_container(pod, "old1")->name, "app");
	assert_string_equal(pod_find_container(pod, "new2")->name, "app");
	bundle_container_release(&bundles[0]);
	bundle_container_release(&bundles[1]);
	pod_inventory_free(inventory);
}

static void workload_identity_from_spec_env(void **state)
{
	const char *text =
		"{\"items\":[{\"metadata\":{\"uid\":\"u\",\"name\":\"n\",\"namespace\":\"ns\","
		"\"annotations\":{\"azure.workload.identity/inject-proxy-sidecar\":\"true\"}},"
		"\"spec\":{\"containers\":[{\"name\":\"app\",\"env\":["
		"{\"name\":\"AZURE_CLIENT_ID\",\"value\":\"cid\"},"
		"{\"name\":\"AZURE_TENANT_ID\",\"value\":\"tid\"},"
		"{\"name\":\"AZURE_FEDERATED_TOKEN_FILE\",\"value\":\"/var/run/secrets/azure/tokens/azure-identity-token\"},"
		"{\"name\":\"OTHER\",\"valueFrom\":{}}]}]}}]}";
	struct pod_inventory *inventory = pod_inventory_new();
	const struct workload_identity_env *wi;
	const struct pod_info *pod;
	struct am_error err;

	(void)state;
	assert_int_equal(load(inventory, text, &err), 0);
	pod = pod_inventory_find(inventory, "u");
	assert_true(pod->proxy_sidecar);
	assert_false(pod->workload_identity_label);
	assert_true(pod_uses_workload_identity(pod));
	wi = pod_workload_identity(pod, NULL);
	assert_string_equal(wi->client_id, "cid");
	assert_string_equal(wi->tenant_id, "tid");
	assert_string_equal(wi->token_file, "/var/run/secrets/azure/tokens/azure-identity-token");
	pod_inventory_free(inventory);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(parses_pods_and_containers),
		cmocka_unit_test(invalid_json_names_line_and_column),
		cmocka_unit_test(semantic_errors_name_the_field),
		cmocka_unit_test(failed_load_keeps_previous_pods),
		cmocka_unit_test(volumes_name_their_credentials),
		cmocka_unit_test(bounds_labels_and_containers),
		cmocka_unit_test_teardown(load_file_errors, remove_file),
		cmocka_unit_test(merges_containerd_and_podlist),
		cmocka_unit_test(restarted_container_keeps_both_ids),
		cmocka_unit_test(workload_identity_from_spec_env),
		cmocka_unit_test(bounds_giant_values),
	};

	return cmocka_run_group_tests_name("pods", tests, NULL, NULL);
}
