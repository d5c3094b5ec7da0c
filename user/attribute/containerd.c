// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* containerd task bundles; see containerd.h. */
#include "attribute/containerd.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "lib/hostfs.h"
#include "lib/json_input.h"

#define ANNOTATION(name) "io.kubernetes.cri." name

struct bad_bundle {
	char *id;
	struct timespec mtime;
	off_t size;
};

/* A config.json younger than this that does not parse may still be being written. */
#define BUNDLE_SETTLE_NS 1000000000ll

struct containerd_scan {
	char *task_dir;
	struct bundle_container *containers;
	size_t n;
	size_t capacity;
	struct bad_bundle *bad; /* reported once, until their config.json changes */
	size_t n_bad;
	struct timespec scanned_mtime; /* the task directory's, at the last scan */
	bool incomplete;	       /* the last scan met a bundle without config.json */
	bool dir_missing;	       /* the last scan found no task directory */
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

static bool same_file_state(const struct bad_bundle *bad, const struct stat *st)
{
	return bad->mtime.tv_sec == st->st_mtim.tv_sec && bad->mtime.tv_nsec == st->st_mtim.tv_nsec &&
	       bad->size == st->st_size;
}

static bool reported_bad(const struct containerd_scan *scan, const char *id, const struct stat *st)
{
	size_t i;

	for (i = 0; i < scan->n_bad; i++)
		if (strcmp(scan->bad[i].id, id) == 0 && same_file_state(&scan->bad[i], st))
			return true;
	return false;
}

static bool recently_written(const struct stat *st)
{
	struct timespec now;
	long long age;

	clock_gettime(CLOCK_REALTIME, &now);
	age = (long long)(now.tv_sec - st->st_mtim.tv_sec) * 1000000000ll +
	      (now.tv_nsec - st->st_mtim.tv_nsec);
	return age < BUNDLE_SETTLE_NS;
}

static void remember_bad(struct containerd_scan *scan, const char *id, const struct stat *st)
{
	struct bad_bundle *grown;

	if (scan->n_bad >= CONTAINERD_MAX_BUNDLES)
		return;
	grown = realloc(scan->bad, (scan->n_bad + 1) * sizeof(*scan->bad));
	if (!grown)
		return;
	scan->bad = grown;
	scan->bad[scan->n_bad].id = strdup(id);
	scan->bad[scan->n_bad].mtime = st->st_mtim;
	scan->bad[scan->n_bad].size = st->st_size;
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
	if (stat(path, &st) < 0) {
		/* Being created right now: look again at the next chance. */
		scan->incomplete = true;
		return -errno;
	}
	if (reported_bad(scan, id, &st))
		return -EINVAL;
	config = json_input_load_file(path, &err);
	if (!config) {
		rc = errno == ENODATA ? -ENODATA : -EINVAL;
	} else {
		rc = containerd_bundle_parse(config, id, path, out, &err);
		cJSON_Delete(config);
	}
	/* A bundle of another kind (no Kubernetes annotations) is not an error to report. */
	if (rc && rc != -ENOENT) {
		if (rc == -ENODATA && recently_written(&st)) {
			/* Cut short and just written: look again at the next chance, say nothing yet. */
			scan->incomplete = true;
			return rc;
		}
		remember_bad(scan, id, &st);
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

	struct stat dir_st;

	dir = opendir(scan->task_dir);
	scan->dir_missing = !dir;
	if (!dir)
		return -errno;
	/* Taken before listing: a bundle added meanwhile changes it again. */
	if (fstat(dirfd(dir), &dir_st) == 0)
		scan->scanned_mtime = dir_st.st_mtim;
	scan->incomplete = false;
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

bool containerd_scan_stale(const struct containerd_scan *scan)
{
	struct stat st;

	if (scan->incomplete)
		return true;
	/*
	 * The directory's coming and going is a change in its own right: an rm -rf can
	 * empty it (a scan sees it empty) and only then remove it.
	 */
	if (stat(scan->task_dir, &st) < 0)
		return !scan->dir_missing;
	if (scan->dir_missing)
		return true;
	return st.st_mtim.tv_sec != scan->scanned_mtime.tv_sec ||
	       st.st_mtim.tv_nsec != scan->scanned_mtime.tv_nsec;
}

const struct bundle_container *containerd_scan_containers(const struct containerd_scan *scan,
							  size_t *n)
{
	*n = scan->n;
	return scan->containers;
}
