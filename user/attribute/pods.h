/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * The pod inventory: which pods and containers run on the node, by pod UID and
 * container id, merged from every source that knows about them:
 *   - a Kubernetes PodList (a --pods file, or the kubelet's /pods answer): names,
 *     labels, service account, hostNetwork, container ids and spec env;
 *   - containerd's task bundles: pod and container names from the CRI
 *     annotations, and each container's environment.
 * A pod no source reports any more is kept for a grace period, so late events
 * are still attributed, then dropped.
 */
#ifndef ACCESSMON_PODS_H
#define ACCESSMON_PODS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <cjson/cJSON.h>

#include "lib/error.h"
#include "attribute/pod_volumes.h"

/*
 * Bounds on what one pod may bring in: pods are controlled by whoever can create
 * them. A label whose key is longer than POD_LABEL_MAX_BYTES, or past the first
 * POD_MAX_LABELS, is left out; a longer value is cut; either marks the pod's
 * labels_truncated. Names (pod, namespace, container, service account) are cut at
 * POD_NAME_MAX_BYTES, the longest Kubernetes allows; images and workload identity
 * variables at POD_VALUE_MAX_BYTES. Cuts fall between UTF-8 characters.
 */
#define POD_MAX_LABELS 64
#define POD_MAX_CONTAINERS 64
#define POD_INVENTORY_MAX_PODS 65536
#define POD_LABEL_MAX_BYTES 1024
#define POD_NAME_MAX_BYTES 253
#define POD_VALUE_MAX_BYTES 1024

enum pod_source {
	POD_SOURCE_PODLIST = 1 << 0,
	POD_SOURCE_KUBELET = 1 << 1,
	POD_SOURCE_CONTAINERD = 1 << 2,
};

/* The workload identity variables the webhook injects into a container. */
struct workload_identity_env {
	char *client_id;
	char *tenant_id;
	char *token_file;
	char *authority_host;
};

struct pod_label {
	char *key;
	char *value;
};

struct container_info {
	char *id; /* runtime id without the "containerd://" scheme; NULL until it runs */
	char *name;
	char *image;
	bool sandbox; /* the pod's pause container */
	bool has_workload_identity; /* AZURE_CLIENT_ID or AZURE_FEDERATED_TOKEN_FILE set */
	struct workload_identity_env wi;
};

struct pod_info {
	char *uid;
	char *namespace;
	char *name;
	char *service_account;
	bool host_network;
	bool workload_identity_label; /* azure.workload.identity/use: "true" */
	bool proxy_sidecar;	       /* azure.workload.identity/inject-proxy-sidecar: "true" */
	struct pod_label *labels;
	size_t n_labels;
	bool labels_truncated; /* a label was left out or its value cut */
	struct container_info *containers;
	size_t n_containers;
	bool has_spec;		    /* a PodList (kubelet or file) gave its spec */
	struct pod_volumes volumes; /* the spec's, for which files are credentials */
	unsigned int sources;	/* enum pod_source bits that report it now */
	uint64_t deleted_at_ns; /* when the last source stopped reporting it; 0 while live */
};

/* One container as containerd's task bundle describes it. */
struct bundle_container {
	char *id;
	char *pod_uid;
	char *pod_name;
	char *pod_namespace;
	char *container_name;
	char *image;
	bool sandbox;
	struct workload_identity_env wi;
};

struct pod_inventory;

struct pod_inventory *pod_inventory_new(void);
void pod_inventory_free(struct pod_inventory *inventory);

/*
 * Applies a PodList document from `kind` (POD_SOURCE_PODLIST or _KUBELET), named
 * `source` in errors. On error the inventory is unchanged.
 */
int pod_inventory_apply_podlist(struct pod_inventory *inventory, const cJSON *root,
				const char *source, enum pod_source kind, uint64_t now_ns,
				struct am_error *err);
/* Applies the complete list of containers containerd runs now. */
int pod_inventory_apply_containers(struct pod_inventory *inventory,
				   const struct bundle_container *containers, size_t n,
				   uint64_t now_ns);
/* Drops pods deleted more than grace_ns before now_ns. Returns how many. */
/* Forgets every pod (a restore replaces the inventory whole). */
void pod_inventory_clear(struct pod_inventory *inventory);
size_t pod_inventory_expire(struct pod_inventory *inventory, uint64_t now_ns, uint64_t grace_ns);

/* Pods some source reports now (deleted ones in their grace period not counted). */
size_t pod_inventory_count(const struct pod_inventory *inventory);
/* Bumped by every change, so cached lookups know when to look again. */
unsigned long pod_inventory_generation(const struct pod_inventory *inventory);
const struct pod_info *pod_inventory_find(const struct pod_inventory *inventory, const char *uid);
/* The i-th pod (0 <= i < pod_inventory_size), deleted ones included. */
const struct pod_info *pod_inventory_at(const struct pod_inventory *inventory, size_t i);
size_t pod_inventory_size(const struct pod_inventory *inventory);

const struct container_info *pod_find_container(const struct pod_info *pod,
						const char *container_id);
/*
 * The workload identity a pod's process uses: the container's injected variables,
 * else any container's, else NULL (a pod may carry the label with no variables yet).
 */
const struct workload_identity_env *pod_workload_identity(const struct pod_info *pod,
							  const struct container_info *container);
bool pod_uses_workload_identity(const struct pod_info *pod);

/* Reads the workload identity variables out of "NAME=value" strings. */
void workload_identity_env_set(struct workload_identity_env *wi, const char *name,
			       const char *value);
void workload_identity_env_release(struct workload_identity_env *wi);
void bundle_container_release(struct bundle_container *container);

#endif /* ACCESSMON_PODS_H */
