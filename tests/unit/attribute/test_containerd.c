// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * Unit tests: containerd's task bundles (attribute/containerd.h): one config.json
 * read, and the task directory of a fake node scanned, kept current, and robust
 * to bundles that are broken or still being written.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <cmocka.h>

#include "attribute/containerd.h"
#include "lib/json_input.h"
#include "tree.h"

static cJSON *parse(const char *text)
{
	struct am_error err;
	cJSON *root = json_input_parse("test", text, strlen(text), &err);

	assert_non_null(root);
	return root;
}

static const char bundle_config[] =
	"{\"ociVersion\":\"1.1.0\",\"process\":{\"env\":[\"PATH=/usr/bin\","
	"\"AZURE_CLIENT_ID=wi-client\",\"AZURE_TENANT_ID=wi-tenant\","
	"\"AZURE_FEDERATED_TOKEN_FILE=/var/run/secrets/azure/tokens/azure-identity-token\","
	"\"AZURE_AUTHORITY_HOST=https://login.microsoftonline.com/\"]},"
	"\"annotations\":{\"io.kubernetes.cri.container-type\":\"container\","
	"\"io.kubernetes.cri.container-name\":\"app\",\"io.kubernetes.cri.image-name\":"
	"\"myreg.azurecr.io/app:1\",\"io.kubernetes.cri.sandbox-name\":\"web-7d4\","
	"\"io.kubernetes.cri.sandbox-namespace\":\"shop\",\"io.kubernetes.cri.sandbox-uid\":"
	"\"0c7d2f4a-1b3e-4c5d-9e8f-a1b2c3d4e5f6\"}}";

static void containerd_bundle(void **state)
{
	struct bundle_container container;
	struct am_error err;
	cJSON *root = parse(bundle_config);

	(void)state;
	assert_int_equal(containerd_bundle_parse(root, "abc", "config.json", &container, &err), 0);
	cJSON_Delete(root);
	assert_string_equal(container.id, "abc");
	assert_string_equal(container.pod_uid, "0c7d2f4a-1b3e-4c5d-9e8f-a1b2c3d4e5f6");
	assert_string_equal(container.pod_name, "web-7d4");
	assert_string_equal(container.pod_namespace, "shop");
	assert_string_equal(container.container_name, "app");
	assert_string_equal(container.image, "myreg.azurecr.io/app:1");
	assert_false(container.sandbox);
	assert_string_equal(container.wi.client_id, "wi-client");
	assert_string_equal(container.wi.tenant_id, "wi-tenant");
	assert_string_equal(container.wi.token_file,
			    "/var/run/secrets/azure/tokens/azure-identity-token");
	assert_string_equal(container.wi.authority_host, "https://login.microsoftonline.com/");
	bundle_container_release(&container);
}

static void containerd_bundle_errors(void **state)
{
	static const struct {
		const char *text;
		int rc;
		const char *message;
	} cases[] = {
		{"[]", -EINVAL, "c.json: expected an OCI runtime spec object"},
		{"{}", -ENOENT, "c.json: annotations: missing, not a Kubernetes container"},
		{"{\"annotations\":{}}", -EINVAL,
		 "c.json: annotations.\"io.kubernetes.cri.sandbox-uid\": missing"},
		{"{\"annotations\":{\"io.kubernetes.cri.sandbox-uid\":\"u\"},\"process\":{\"env\":{}}}",
		 -EINVAL, "c.json: process.env: expected an array"},
		{"{\"annotations\":{\"io.kubernetes.cri.sandbox-uid\":\"u\"},\"process\":{\"env\":[1]}}",
		 -EINVAL, "c.json: process.env[0]: expected a string"},
	};
	struct bundle_container container;
	struct am_error err;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		cJSON *root = parse(cases[i].text);

		assert_int_equal(containerd_bundle_parse(root, "id", "c.json", &container, &err),
				 cases[i].rc);
		assert_string_equal(err.msg, cases[i].message);
		cJSON_Delete(root);
	}
}

/* The annotations make it a pod's; the sandbox type says it is the pause container. */
static void sandbox_and_environment_edges(void **state)
{
	struct bundle_container container;
	struct am_error err;
	cJSON *root = parse("{\"annotations\":{\"io.kubernetes.cri.container-type\":\"sandbox\","
			    "\"io.kubernetes.cri.sandbox-uid\":\"u\"},\"process\":{\"env\":["
			    "\"AZURE_CLIENT_ID\",\"NOT_AZURE_CLIENT_ID=x\",\"=y\","
			    "\"AZURE_TENANT_ID=t=with=equals\"]}}");

	(void)state;
	assert_int_equal(containerd_bundle_parse(root, "p", "c.json", &container, &err), 0);
	cJSON_Delete(root);
	assert_true(container.sandbox);
	assert_string_equal(container.pod_uid, "u");
	assert_null(container.pod_name);
	assert_null(container.image);
	/* Only NAME=VALUE entries whose name is AZURE_*; the value is all after the first '='. */
	assert_null(container.wi.client_id);
	assert_string_equal(container.wi.tenant_id, "t=with=equals");
	bundle_container_release(&container);
}

#define TASKS CONTAINERD_TASK_DIR

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

static void write_bundle(const char *id, const char *uid)
{
	char path[256], text[512];

	snprintf(path, sizeof(path), TASKS "/%s/config.json", id);
	snprintf(text, sizeof(text),
		 "{\"annotations\":{\"io.kubernetes.cri.sandbox-uid\":\"%s\","
		 "\"io.kubernetes.cri.container-name\":\"c-%s\"}}",
		 uid, id);
	tree_write(path, text);
}

/* Sets a file's or directory's times to long ago: what a scan saw cannot be this second's. */
static void age(const char *path)
{
	static const struct timespec old[2] = {{946684800, 0}, {946684800, 0}};
	char full[512];

	snprintf(full, sizeof(full), "%s%s", tree_root, path);
	assert_int_equal(utimensat(AT_FDCWD, full, old, 0), 0);
}

static const struct bundle_container *find_id(struct containerd_scan *scan, const char *id)
{
	const struct bundle_container *containers;
	size_t n, i;

	containers = containerd_scan_containers(scan, &n);
	for (i = 0; i < n; i++)
		if (strcmp(containers[i].id, id) == 0)
			return &containers[i];
	return NULL;
}

static void scans_follow_the_task_directory(void **state)
{
	struct reports reports = {0};
	struct containerd_scan *scan;
	char command[256];

	(void)state;
	scan = containerd_scan_new(tree_make("containerd"));
	assert_non_null(scan);
	/* No containerd (yet): said, and a directory appearing later is a change. */
	assert_int_equal(containerd_scan_run(scan, on_report, &reports), -ENOENT);
	assert_false(containerd_scan_stale(scan));
	write_bundle("aaa", "uid-1");
	assert_true(containerd_scan_stale(scan));
	/* A bundle of another kind (no Kubernetes annotations) is skipped without a word. */
	tree_write(TASKS "/other/config.json", "{\"ociVersion\":\"1.1.0\"}");
	age(TASKS "/other/config.json");
	age(TASKS "/aaa/config.json");
	age(TASKS);
	assert_int_equal(containerd_scan_run(scan, on_report, &reports), 1);
	assert_int_equal(reports.n, 0);
	assert_string_equal(find_id(scan, "aaa")->pod_uid, "uid-1");
	assert_false(containerd_scan_stale(scan));

	/* One more; the first stays as it was read. */
	write_bundle("bbb", "uid-2");
	assert_true(containerd_scan_stale(scan));
	age(TASKS "/bbb/config.json");
	age(TASKS);
	assert_int_equal(containerd_scan_run(scan, on_report, &reports), 2);
	assert_string_equal(find_id(scan, "bbb")->container_name, "c-bbb");
	assert_string_equal(find_id(scan, "aaa")->container_name, "c-aaa");
	assert_false(containerd_scan_stale(scan));

	/* One gone. */
	snprintf(command, sizeof(command), "rm -rf '%s" TASKS "/aaa'", tree_root);
	assert_int_equal(system(command), 0);
	assert_true(containerd_scan_stale(scan));
	assert_int_equal(containerd_scan_run(scan, on_report, &reports), 1);
	assert_null(find_id(scan, "aaa"));
	assert_non_null(find_id(scan, "bbb"));
	containerd_scan_free(scan);
	containerd_scan_free(NULL);
}

static void broken_and_unfinished_bundles(void **state)
{
	struct reports reports = {0};
	struct containerd_scan *scan;

	(void)state;
	scan = containerd_scan_new(tree_make("containerd"));
	write_bundle("good", "uid-1");
	/* Cut short and just written: looked at again, not reported. */
	tree_write(TASKS "/young/config.json", "{\"annotations\": {");
	assert_int_equal(containerd_scan_run(scan, on_report, &reports), 1);
	assert_int_equal(reports.n, 0);
	assert_true(containerd_scan_stale(scan));
	/* Still cut short a while later: broken, said once with the file and position. */
	age(TASKS "/young/config.json");
	assert_int_equal(containerd_scan_run(scan, on_report, &reports), 1);
	assert_int_equal(reports.n, 1);
	assert_non_null(strstr(reports.last, "young/config.json:1:"));
	assert_non_null(strstr(reports.last, "input ends too early"));
	assert_int_equal(containerd_scan_run(scan, on_report, &reports), 1);
	assert_int_equal(reports.n, 1);
	/* Rewritten whole, it is read again. */
	write_bundle("young", "uid-2");
	assert_int_equal(containerd_scan_run(scan, on_report, &reports), 2);
	assert_int_equal(reports.n, 1);
	/* A directory without config.json is being created: no bundle, no report, stale. */
	tree_write(TASKS "/empty/.keep", "");
	assert_int_equal(containerd_scan_run(scan, on_report, &reports), 2);
	assert_true(containerd_scan_stale(scan));
	/* Wrong documents are reported at once, whatever their age, and once. */
	tree_write(TASKS "/wrong/config.json", "{\"annotations\":{}}");
	assert_int_equal(containerd_scan_run(scan, on_report, &reports), 2);
	assert_int_equal(reports.n, 2);
	assert_non_null(strstr(reports.last, "wrong/config.json: annotations."));
	assert_int_equal(containerd_scan_run(scan, on_report, &reports), 2);
	assert_int_equal(reports.n, 2);
	/* Without anyone to tell, a scan goes on all the same. */
	tree_write(TASKS "/wrong2/config.json", "[]");
	assert_int_equal(containerd_scan_run(scan, NULL, NULL), 2);
	containerd_scan_free(scan);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(containerd_bundle),
		cmocka_unit_test(containerd_bundle_errors),
		cmocka_unit_test(sandbox_and_environment_edges),
		cmocka_unit_test_teardown(scans_follow_the_task_directory, tree_remove),
		cmocka_unit_test_teardown(broken_and_unfinished_bundles, tree_remove),
	};

	return cmocka_run_group_tests_name("containerd", tests, NULL, NULL);
}
