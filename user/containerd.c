// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* containerd task bundles; see containerd.h. */
#include "containerd.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "hostfs.h"
#include "json_input.h"

#define ANNOTATION(name) "io.kubernetes.cri." name

struct bad_bundle {
	char *id;
	long long mtime;
};

struct containerd_scan {
	char *task_dir;
	struct bundle_container *containers;
	size_t n;
	size_t capacity;
	struct bad_bundle *bad; /* reported once, until their config.json changes */
	size_t n_bad;
};

static char *dup_or_null(const char *s)
{
	return s ? strdup(s) : NULL;
}

int containerd_bundle_parse(const cJSON *config, const char *id, const char *source,
			    struct bundle_container *out, struct am_error *err)
{
	const cJSON *annotations, *process, *env, *item;
	const char *type, *uid;
	size_t i = 0;

	memset(out, 0, sizeof(*out));
	if (!cJSON_IsObject(config)) {
		am_error_set(err, "%s: expected an OCI runtime spec object", source);
		return -EINVAL;
	}
	annotations = cJSON_GetObjectItemCaseSensitive(config, "annotations");
	if (!cJSON_IsObject(annotations)) {
		am_error_set(err, "%s: annotations: missing, not a Kubernetes container", source);
		return -ENOENT;
	}
	type = json_member_string(annotations, ANNOTATION("container-type"));
	uid = json_member_string(annotations, ANNOTATION("sandbox-uid"));
	if (!uid) {
		am_error_set(err, "%s: annotations.\"" ANNOTATION("sandbox-uid") "\": missing",
			     source);
		return -EINVAL;
	}
	out->id = strdup(id);
	out->pod_uid = strdup(uid);
	out->pod_name = dup_or_null(json_member_string(annotations, ANNOTATION("sandbox-name")));
	out->pod_namespace =
		dup_or_null(json_member_string(annotations, ANNOTATION("sandbox-namespace")));
	out->container_name =
		dup_or_null(json_member_string(annotations, ANNOTATION("container-name")));
	out->image = dup_or_null(json_member_string(annotations, ANNOTATION("image-name")));
	out->sandbox = type && strcmp(type, "sandbox") == 0;

	process = cJSON_GetObjectItemCaseSensitive(config, "process");
	env = cJSON_GetObjectItemCaseSensitive(process, "env");
	if (env && !cJSON_IsArray(env)) {
		am_error_set(err, "%s: process.env: expected an array", source);
		bundle_container_release(out);
		return -EINVAL;
	}
	cJSON_ArrayForEach(item, env)
	{
		const char *eq;
		char name[64];

		if (!cJSON_IsString(item)) {
			am_error_set(err, "%s: process.env[%zu]: expected a string", source, i);
			bundle_container_release(out);
			return -EINVAL;
		}
		i++;
		eq = strchr(item->valuestring, '=');
		if (!eq || (size_t)(eq - item->valuestring) >= sizeof(name) ||
		    strncmp(item->valuestring, "AZURE_", 6) != 0)
			continue;
		memcpy(name, item->valuestring, (size_t)(eq - item->valuestring));
		name[eq - item->valuestring] = '\0';
		workload_identity_env_set(&out->wi, name, eq + 1);
	}
	if (!out->id || !out->pod_uid) {
		am_error_set(err, "%s: out of memory", source);
		bundle_container_release(out);
		return -ENOMEM;
	}
	return 0;
}

struct containerd_scan *containerd_scan_new(const char *host_root)
{
	struct containerd_scan *scan = calloc(1, sizeof(*scan));

	if (!scan)
		return NULL;
	scan->task_dir = host_path(host_root, CONTAINERD_TASK_DIR);
	if (!scan->task_dir) {
		free(scan);
		return NULL;
	}
	return scan;
}

static void bad_release(struct containerd_scan *scan)
{
	size_t i;

	for (i = 0; i < scan->n_bad; i++)
		free(scan->bad[i].id);
	free(scan->bad);
	scan->bad = NULL;
	scan->n_bad = 0;
}

void containerd_scan_free(struct containerd_scan *scan)
{
	size_t i;

	if (!scan)
		return;
	for (i = 0; i < scan->n; i++)
		bundle_container_release(&scan->containers[i]);
	free(scan->containers);
	bad_release(scan);
	free(scan->task_dir);
	free(scan);
}

static struct bundle_container *known(struct containerd_scan *scan, const char *id)
{
	size_t i;

	for (i = 0; i < scan->n; i++)
		if (strcmp(scan->containers[i].id, id) == 0)
			return &scan->containers[i];
	return NULL;
}

static bool reported_bad(const struct containerd_scan *scan, const char *id, long long mtime)
{
	size_t i;

	for (i = 0; i < scan->n_bad; i++)
		if (strcmp(scan->bad[i].id, id) == 0 && scan->bad[i].mtime == mtime)
			return true;
	return false;
}

static void remember_bad(struct containerd_scan *scan, const char *id, long long mtime)
{
	struct bad_bundle *grown;

	if (scan->n_bad >= CONTAINERD_MAX_BUNDLES)
		return;
	grown = realloc(scan->bad, (scan->n_bad + 1) * sizeof(*scan->bad));
	if (!grown)
		return;
	scan->bad = grown;
	scan->bad[scan->n_bad].id = strdup(id);
	scan->bad[scan->n_bad].mtime = mtime;
	if (scan->bad[scan->n_bad].id)
		scan->n_bad++;
}

static int read_bundle(struct containerd_scan *scan, const char *id, struct bundle_container *out,
		       containerd_report_fn report, void *ctx)
{
	char path[4096];
	struct am_error err;
	struct stat st;
	cJSON *config;
	int rc;

	snprintf(path, sizeof(path), "%s/%s/config.json", scan->task_dir, id);
	if (stat(path, &st) < 0)
		return -errno; /* being created or removed right now */
	if (reported_bad(scan, id, (long long)st.st_mtime))
		return -EINVAL;
	config = json_input_load_file(path, &err);
	if (!config) {
		rc = -EINVAL;
	} else {
		rc = containerd_bundle_parse(config, id, path, out, &err);
		cJSON_Delete(config);
	}
	/* A bundle of another kind (no Kubernetes annotations) is not an error to report. */
	if (rc && rc != -ENOENT) {
		remember_bad(scan, id, (long long)st.st_mtime);
		if (report)
			report(ctx, err.msg);
	}
	return rc;
}

int containerd_scan_run(struct containerd_scan *scan, containerd_report_fn report, void *ctx)
{
	struct bundle_container *next = NULL;
	size_t n = 0, capacity = 0, i;
	struct dirent *dent;
	DIR *dir;

	dir = opendir(scan->task_dir);
	if (!dir)
		return -errno;
	while ((dent = readdir(dir))) {
		struct bundle_container *seen, parsed;

		if (dent->d_name[0] == '.' || n >= CONTAINERD_MAX_BUNDLES)
			continue;
		if (n == capacity) {
			struct bundle_container *grown;

			capacity = capacity ? capacity * 2 : 64;
			grown = realloc(next, capacity * sizeof(*next));
			if (!grown)
				break;
			next = grown;
		}
		seen = known(scan, dent->d_name);
		if (seen) {
			/* Move it over; the id identifies the container for its whole life. */
			next[n++] = *seen;
			memset(seen, 0, sizeof(*seen));
			seen->id = strdup(""); /* keeps known() working on what is left */
			continue;
		}
		if (read_bundle(scan, dent->d_name, &parsed, report, ctx) == 0)
			next[n++] = parsed;
	}
	closedir(dir);
	for (i = 0; i < scan->n; i++)
		bundle_container_release(&scan->containers[i]);
	free(scan->containers);
	scan->containers = next;
	scan->n = n;
	scan->capacity = capacity;
	return (int)n;
}

const struct bundle_container *containerd_scan_containers(const struct containerd_scan *scan,
							  size_t *n)
{
	*n = scan->n;
	return scan->containers;
}
