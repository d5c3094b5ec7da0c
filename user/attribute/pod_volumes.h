/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * Which files of a pod's volumes are credentials, as its spec says (PodList,
 * kubelet): a projected volume's serviceAccountToken.path, the items of its
 * Secret sources and of Secret volumes; the configMap and downwardAPI items
 * beside them are not. What the spec cannot name (a Secret projected without
 * items: its keys are the Secret's) is judged at its worst.
 */
#ifndef ACCESSMON_POD_VOLUMES_H
#define ACCESSMON_POD_VOLUMES_H

#include <stdbool.h>
#include <stddef.h>
#include <cjson/cJSON.h>

#include "lib/error.h"

#define POD_MAX_VOLUMES 64
#define POD_VOLUME_MAX_FILES 64
#define POD_VOLUME_NAME_MAX_BYTES 253
#define POD_VOLUME_PATH_MAX_BYTES 256

/* The Azure Workload Identity webhook's token audience. */
#define WORKLOAD_IDENTITY_AUDIENCE "api://AzureADTokenExchange"

enum volume_type {
	VOLUME_OTHER = 0,
	VOLUME_SECRET,
	VOLUME_PROJECTED,
	VOLUME_CSI_SECRETS_STORE,
};

enum volume_file_kind {
	VOLUME_FILE_PUBLIC = 0, /* a configMap or downwardAPI item */
	VOLUME_FILE_TOKEN,	/* a service account token */
	VOLUME_FILE_WI_TOKEN,	/* one for Azure Workload Identity's audience */
	VOLUME_FILE_SECRET,	/* a Secret's item */
};

struct volume_file {
	char *path; /* relative to the volume, as the spec names it */
	enum volume_file_kind kind;
};

struct pod_volume {
	char *name;
	enum volume_type type;
	struct volume_file *files;
	size_t n_files;
	/* Files the spec does not name may be secrets (a Secret without items). */
	bool unnamed_secrets;
};

struct pod_volumes {
	struct pod_volume *items;
	size_t n;
	bool truncated; /* volumes or items were left out: unnamed files count as secrets */
};

/* Parses spec.volumes; a malformed entry is an error naming it. */
int pod_volumes_parse(struct pod_volumes *out, const cJSON *volumes, const char *source,
		      size_t index, struct am_error *err);
void pod_volumes_release(struct pod_volumes *volumes);
const struct pod_volume *pod_volumes_find(const struct pod_volumes *volumes, const char *name);
/* What the spec says of the file at `path` in `volume`; false: the spec does not name it. */
bool pod_volume_file_kind(const struct pod_volume *volume, const char *path,
			  enum volume_file_kind *kind);

#endif /* ACCESSMON_POD_VOLUMES_H */
