// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* Credential files of a pod's volumes, from its spec; see pod_volumes.h. */
#include "attribute/pod_volumes.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lib/json_input.h"

#define CSI_SECRETS_STORE_DRIVER "secrets-store.csi.k8s.io"

struct parse {
	struct pod_volume *volume;
	struct pod_volumes *all;
	const char *source;
	size_t index;
	struct am_error *err;
};

/* A relative path as the kubelet writes it: "./a//b" is "a/b". */
static char *clean_path(const char *path)
{
	char *out = malloc(strlen(path) + 1), *w = out;
	const char *p = path;

	if (!out)
		return NULL;
	while (*p) {
		const char *end = strchr(p, '/');
		size_t len = end ? (size_t)(end - p) : strlen(p);

		if (len && !(len == 1 && p[0] == '.')) {
			if (w != out)
				*w++ = '/';
			memcpy(w, p, len);
			w += len;
		}
		p += len;
		if (*p == '/')
			p++;
	}
	*w = '\0';
	return out;
}

static int add_file(struct parse *parse, const char *path, enum volume_file_kind kind)
{
	struct pod_volume *volume = parse->volume;
	struct volume_file *grown;

	if (!path || !*path || strlen(path) >= POD_VOLUME_PATH_MAX_BYTES)
		return 0;
	if (volume->n_files >= POD_VOLUME_MAX_FILES) {
		parse->all->truncated = true;
		return 0;
	}
	grown = realloc(volume->files, (volume->n_files + 1) * sizeof(*grown));
	if (!grown)
		return -ENOMEM;
	volume->files = grown;
	grown[volume->n_files].path = clean_path(path);
	grown[volume->n_files].kind = kind;
	if (!grown[volume->n_files].path)
		return -ENOMEM;
	volume->n_files++;
	return 0;
}

/* items: [{key, path}]; without items every key is a file, which the spec cannot name. */
static int add_items(struct parse *parse, const cJSON *source, enum volume_file_kind kind)
{
	const cJSON *items = cJSON_GetObjectItemCaseSensitive(source, "items");
	const cJSON *item;
	int rc;

	if (!cJSON_IsArray(items) || !cJSON_GetArraySize(items)) {
		if (kind == VOLUME_FILE_SECRET)
			parse->volume->unnamed_secrets = true;
		return 0;
	}
	cJSON_ArrayForEach(item, items) {
		rc = add_file(parse, json_member_string(item, "path"), kind);
		if (rc)
			return rc;
	}
	return 0;
}

static int add_token(struct parse *parse, const cJSON *token)
{
	const char *audience = json_member_string(token, "audience");
	bool wi = audience && strcmp(audience, WORKLOAD_IDENTITY_AUDIENCE) == 0;

	return add_file(parse, json_member_string(token, "path"),
			wi ? VOLUME_FILE_WI_TOKEN : VOLUME_FILE_TOKEN);
}

static int parse_projected(struct parse *parse, const cJSON *projected)
{
	const cJSON *sources = cJSON_GetObjectItemCaseSensitive(projected, "sources");
	const cJSON *source;
	int rc = 0;

	cJSON_ArrayForEach(source, sources) {
		const cJSON *part;

		if ((part = cJSON_GetObjectItemCaseSensitive(source, "serviceAccountToken")))
			rc = add_token(parse, part);
		else if ((part = cJSON_GetObjectItemCaseSensitive(source, "secret")))
			rc = add_items(parse, part, VOLUME_FILE_SECRET);
		else if ((part = cJSON_GetObjectItemCaseSensitive(source, "configMap")))
			rc = add_items(parse, part, VOLUME_FILE_PUBLIC);
		else if ((part = cJSON_GetObjectItemCaseSensitive(source, "downwardAPI")))
			rc = add_items(parse, part, VOLUME_FILE_PUBLIC);
		else if (cJSON_IsObject(source))
			parse->volume->unnamed_secrets = true; /* clusterTrustBundle, or newer */
		if (rc)
			return rc;
	}
	return 0;
}

static int parse_volume(struct parse *parse, const cJSON *item)
{
	struct pod_volume *volume = parse->volume;
	const cJSON *part;

	if ((part = cJSON_GetObjectItemCaseSensitive(item, "secret"))) {
		volume->type = VOLUME_SECRET;
		return add_items(parse, part, VOLUME_FILE_SECRET);
	}
	if ((part = cJSON_GetObjectItemCaseSensitive(item, "projected"))) {
		volume->type = VOLUME_PROJECTED;
		return parse_projected(parse, part);
	}
	part = cJSON_GetObjectItemCaseSensitive(item, "csi");
	if (part && json_member_string(part, "driver") &&
	    strcmp(json_member_string(part, "driver"), CSI_SECRETS_STORE_DRIVER) == 0) {
		volume->type = VOLUME_CSI_SECRETS_STORE;
		volume->unnamed_secrets = true; /* the vault's objects, named by the provider */
	}
	return 0;
}

int pod_volumes_parse(struct pod_volumes *out, const cJSON *volumes, const char *source,
		      size_t index, struct am_error *err)
{
	const cJSON *item;
	size_t i = 0;
	int rc;

	memset(out, 0, sizeof(*out));
	if (!volumes || cJSON_IsNull(volumes))
		return 0;
	if (!cJSON_IsArray(volumes)) {
		am_error_set(err, "%s: items[%zu].spec.volumes: not an array", source, index);
		return -EINVAL;
	}
	out->items = calloc(POD_MAX_VOLUMES, sizeof(*out->items));
	if (!out->items)
		goto oom;
	cJSON_ArrayForEach(item, volumes) {
		struct parse parse = {&out->items[out->n], out, source, index, err};
		const char *name = json_member_string(item, "name");

		if (!name) {
			am_error_set(err, "%s: items[%zu].spec.volumes[%zu].name: missing or not a string",
				     source, index, i);
			return -EINVAL;
		}
		i++;
		if (out->n >= POD_MAX_VOLUMES || strlen(name) > POD_VOLUME_NAME_MAX_BYTES) {
			out->truncated = true;
			continue;
		}
		parse.volume->name = strdup(name);
		if (!parse.volume->name)
			goto oom;
		out->n++;
		rc = parse_volume(&parse, item);
		if (rc == -ENOMEM)
			goto oom;
	}
	return 0;
oom:
	am_error_set(err, "%s: out of memory", source);
	return -ENOMEM;
}

void pod_volumes_release(struct pod_volumes *volumes)
{
	size_t i, j;

	if (!volumes->items)
		return;
	for (i = 0; i < volumes->n; i++) {
		for (j = 0; j < volumes->items[i].n_files; j++)
			free(volumes->items[i].files[j].path);
		free(volumes->items[i].files);
		free(volumes->items[i].name);
	}
	free(volumes->items);
	memset(volumes, 0, sizeof(*volumes));
}

const struct pod_volume *pod_volumes_find(const struct pod_volumes *volumes, const char *name)
{
	size_t i;

	for (i = 0; i < volumes->n; i++)
		if (strcmp(volumes->items[i].name, name) == 0)
			return &volumes->items[i];
	return NULL;
}

bool pod_volume_file_kind(const struct pod_volume *volume, const char *path,
			  enum volume_file_kind *kind)
{
	size_t i;

	for (i = 0; i < volume->n_files; i++)
		if (strcmp(volume->files[i].path, path) == 0) {
			*kind = volume->files[i].kind;
			return true;
		}
	return false;
}
