/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * Keeps the pod inventory and the node's identities current from every source
 * configured: a PodList file, containerd's task bundles, the kubelet's /pods, the
 * node's azure.json and the cluster's `az aks show` output. A source that breaks
 * is reported and the rest keep working; nothing already known is lost.
 */
#ifndef ACCESSMON_INVENTORY_H
#define ACCESSMON_INVENTORY_H

#include <stdbool.h>
#include <stdint.h>

#include "lib/error.h"
#include "attribute/node_identity.h"
#include "attribute/pods.h"

/* How long a pod no source reports any more still attributes late events. */
#define INVENTORY_POD_GRACE_NS (60ull * 1000000000ull)

/* Where the pod inventory and the node's identities come from (--host-root, --pods, ...). */
struct inventory_sources {
	const char *host_root; /* prefix of every host path; "/" */
	const char *pods_file;
	const char *cluster_file;
	const char *kubelet_url;
	const char *kubelet_token_file;
	const char *kubelet_ca_file;
	bool kubelet_insecure;
	unsigned int kubelet_interval_ms;
	bool no_containerd;
};

struct inventory_config {
	struct inventory_sources sources;
	uint64_t pod_grace_ns; /* 0: INVENTORY_POD_GRACE_NS */
};

typedef void (*inventory_report_fn)(void *ctx, const char *message);

struct inventory;

struct inventory *inventory_new(const struct inventory_config *config, struct pod_inventory *pods,
				inventory_report_fn report, void *ctx);
void inventory_free(struct inventory *inventory);

/*
 * Reads every source once. A --pods or --cluster file that cannot be used is an
 * error (-EINVAL, err says where); anything else is reported and skipped. With
 * wait_kubelet_ms, waits that long for the kubelet's first answer.
 */
int inventory_load(struct inventory *inventory, uint64_t now_ns, unsigned int wait_kubelet_ms,
		   struct am_error *err);
/* Applies new kubelet answers, rescans containerd now and then, forgets deleted pods. */
void inventory_tick(struct inventory *inventory, uint64_t now_ns);
/* A cgroup names a pod or container not known: refresh, rate-limited. */
void inventory_pod_miss(struct inventory *inventory, uint64_t now_ns);

const struct node_identity *inventory_node(const struct inventory *inventory);

#endif /* ACCESSMON_INVENTORY_H */
