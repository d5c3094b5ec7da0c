/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * The pod inventory: which pods and containers run on the node, by pod UID and
 * container id. Filled from a Kubernetes PodList (the shape of
 * `kubectl get pods -o json` and of the kubelet's /pods answer).
 */
#ifndef ACCESSMON_PODS_H
#define ACCESSMON_PODS_H

#include <stdbool.h>
#include <stddef.h>
#include <cjson/cJSON.h>

#include "error.h"

/* Bounds on what one pod may bring in: pods are controlled by whoever can create them. */
#define POD_MAX_LABELS 64
#define POD_MAX_CONTAINERS 64
#define POD_INVENTORY_MAX_PODS 65536

struct pod_label {
	char *key;
	char *value;
};

struct container_info {
	char *id; /* runtime id without the "containerd://" scheme; NULL until it runs */
	char *name;
};

struct pod_info {
	char *uid;
	char *namespace;
	char *name;
	char *service_account;
	bool host_network;
	struct pod_label *labels;
	size_t n_labels;
	struct container_info *containers;
	size_t n_containers;
};

struct pod_inventory;

struct pod_inventory *pod_inventory_new(void);
void pod_inventory_free(struct pod_inventory *inventory);

/*
 * Replaces the inventory's pods with those of a PodList document. `source` names
 * the input in errors. On error the inventory is unchanged.
 */
int pod_inventory_load_podlist(struct pod_inventory *inventory, const cJSON *root,
			       const char *source, struct am_error *err);

size_t pod_inventory_count(const struct pod_inventory *inventory);
/* Bumped by every change, so cached lookups know when to look again. */
unsigned long pod_inventory_generation(const struct pod_inventory *inventory);
const struct pod_info *pod_inventory_find(const struct pod_inventory *inventory, const char *uid);
const struct container_info *pod_find_container(const struct pod_info *pod,
						const char *container_id);

#endif /* ACCESSMON_PODS_H */
