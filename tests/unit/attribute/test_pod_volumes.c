// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * Unit tests: which files of a pod's volumes are credentials, from its spec
 * (attribute/pod_volumes.h): paths as the kubelet writes them, what the spec
 * cannot name, errors naming the volume, and the bounds.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "attribute/pod_volumes.h"

static int parse(struct pod_volumes *volumes, const char *text, struct am_error *err)
{
	cJSON *root = cJSON_Parse(text);
	int rc;

	assert_non_null(root);
	rc = pod_volumes_parse(volumes, root, "pods.json", 2, err);
	cJSON_Delete(root);
	return rc;
}

static enum volume_file_kind kind_of(const struct pod_volumes *volumes, const char *volume,
				     const char *path)
{
	const struct pod_volume *v = pod_volumes_find(volumes, volume);
	enum volume_file_kind kind;

	assert_non_null(v);
	if (!pod_volume_file_kind(v, path, &kind))
		fail_msg("%s/%s: not named by the spec", volume, path);
	return kind;
}

static void kinds_and_paths(void **state)
{
	struct pod_volumes volumes;
	enum volume_file_kind kind;
	struct am_error err;

	(void)state;
	assert_int_equal(
		parse(&volumes,
		      "[{\"name\":\"api\",\"projected\":{\"sources\":["
		      " {\"serviceAccountToken\":{\"path\":\"token\"}},"
		      " {\"downwardAPI\":{\"items\":[{\"path\":\"./labels//all\"}]}},"
		      " {\"configMap\":{\"items\":[]}}]}},"
		      "{\"name\":\"bundle\",\"projected\":{\"sources\":[{\"clusterTrustBundle\":{}}]}},"
		      "{\"name\":\"creds\",\"secret\":{\"secretName\":\"db\"}},"
		      "{\"name\":\"empty\",\"emptyDir\":{}},"
		      "{\"name\":\"wi\",\"projected\":{\"sources\":[{\"serviceAccountToken\":{"
		      " \"audience\":\"api://AzureADTokenExchange\",\"path\":\"./a/../t\"}}]}}]",
		      &err),
		0);
	assert_int_equal(volumes.n, 5);
	assert_false(volumes.truncated);
	/* A token without an audience is the API server's. */
	assert_int_equal(kind_of(&volumes, "api", "token"), VOLUME_FILE_TOKEN);
	/* "./" and doubled slashes go, as the kubelet writes the file. */
	assert_int_equal(kind_of(&volumes, "api", "labels/all"), VOLUME_FILE_PUBLIC);
	/* Nothing a ConfigMap without items names is a secret. */
	assert_false(pod_volumes_find(&volumes, "api")->unnamed_secrets);
	/* What the spec cannot name: a newer kind of source, a Secret without items. */
	assert_true(pod_volumes_find(&volumes, "bundle")->unnamed_secrets);
	assert_int_equal(pod_volumes_find(&volumes, "creds")->type, VOLUME_SECRET);
	assert_true(pod_volumes_find(&volumes, "creds")->unnamed_secrets);
	assert_int_equal(pod_volumes_find(&volumes, "creds")->n_files, 0);
	assert_int_equal(pod_volumes_find(&volumes, "empty")->type, VOLUME_OTHER);
	assert_false(pod_volumes_find(&volumes, "empty")->unnamed_secrets);
	/* ".." is kept: it is no path a kubelet writes, and matches no file. */
	assert_int_equal(kind_of(&volumes, "wi", "a/../t"), VOLUME_FILE_WI_TOKEN);
	assert_false(pod_volume_file_kind(pod_volumes_find(&volumes, "wi"), "t", &kind));
	pod_volumes_release(&volumes);
	assert_int_equal(volumes.n, 0);
	pod_volumes_release(&volumes);
}

static void errors_name_the_volume(void **state)
{
	struct pod_volumes volumes;
	struct am_error err;

	(void)state;
	assert_int_equal(parse(&volumes, "{\"name\":\"x\"}", &err), -EINVAL);
	assert_string_equal(err.msg, "pods.json: items[2].spec.volumes: not an array");
	pod_volumes_release(&volumes);
	assert_int_equal(parse(&volumes, "[{\"name\":\"a\"},{\"secret\":{}}]", &err), -EINVAL);
	assert_string_equal(err.msg,
			    "pods.json: items[2].spec.volumes[1].name: missing or not a string");
	pod_volumes_release(&volumes);
	/* No volumes at all, or null, is a pod without any. */
	assert_int_equal(pod_volumes_parse(&volumes, NULL, "pods.json", 0, &err), 0);
	assert_int_equal(volumes.n, 0);
	assert_null(pod_volumes_find(&volumes, "a"));
	assert_int_equal(parse(&volumes, "null", &err), 0);
	assert_int_equal(volumes.n, 0);
	pod_volumes_release(&volumes);
}

static void volumes_and_files_are_bounded(void **state)
{
	size_t size = 64 * (POD_MAX_VOLUMES + POD_VOLUME_MAX_FILES + 16) + 2 * 1024;
	char *text = malloc(size), name[POD_VOLUME_NAME_MAX_BYTES + 2];
	struct pod_volumes volumes;
	struct am_error err;
	size_t len = 0;
	int i;

	(void)state;
	/* More items than are kept: the rest are unnamed, so counted as secrets. */
	len += (size_t)snprintf(text + len, size - len, "[{\"name\":\"many\",\"secret\":{\"items\":[");
	for (i = 0; i < POD_VOLUME_MAX_FILES + 4; i++)
		len += (size_t)snprintf(text + len, size - len, "%s{\"path\":\"f%d\"}", i ? "," : "", i);
	len += (size_t)snprintf(text + len, size - len, "]}}");
	/* A path longer than a kubelet writes is left out. */
	len += (size_t)snprintf(text + len, size - len,
				",{\"name\":\"long\",\"secret\":{\"items\":[{\"path\":\"%0*d\"}]}}",
				POD_VOLUME_PATH_MAX_BYTES, 0);
	for (i = 0; i < POD_MAX_VOLUMES; i++)
		len += (size_t)snprintf(text + len, size - len, ",{\"name\":\"v%d\"}", i);
	snprintf(text + len, size - len, "]");
	assert_int_equal(parse(&volumes, text, &err), 0);
	free(text);
	assert_true(volumes.truncated);
	assert_int_equal(volumes.n, POD_MAX_VOLUMES);
	assert_int_equal(pod_volumes_find(&volumes, "many")->n_files, POD_VOLUME_MAX_FILES);
	assert_int_equal(pod_volumes_find(&volumes, "long")->n_files, 0);
	/* "many", "long" and v0 ... : the last two left out. */
	snprintf(name, sizeof(name), "v%d", POD_MAX_VOLUMES - 3);
	assert_non_null(pod_volumes_find(&volumes, name));
	snprintf(name, sizeof(name), "v%d", POD_MAX_VOLUMES - 2);
	assert_null(pod_volumes_find(&volumes, name));
	pod_volumes_release(&volumes);

	/* A name longer than Kubernetes allows is left out too, and said to be. */
	memset(name, 'n', sizeof(name) - 1);
	name[sizeof(name) - 1] = '\0';
	text = malloc(sizeof(name) + 64);
	snprintf(text, sizeof(name) + 64, "[{\"name\":\"%s\"},{\"name\":\"ok\"}]", name);
	assert_int_equal(parse(&volumes, text, &err), 0);
	free(text);
	assert_int_equal(volumes.n, 1);
	assert_true(volumes.truncated);
	assert_non_null(pod_volumes_find(&volumes, "ok"));
	pod_volumes_release(&volumes);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(kinds_and_paths),
		cmocka_unit_test(errors_name_the_volume),
		cmocka_unit_test(volumes_and_files_are_bounded),
	};

	return cmocka_run_group_tests_name("pod_volumes", tests, NULL, NULL);
}
