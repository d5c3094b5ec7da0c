/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * The node's identities: what any pod able to reach IMDS could obtain a token for.
 * From the node's cloud config (<host-root>/etc/kubernetes/azure.json: the kubelet
 * identity's client id, or a service principal) and, optionally, the cluster's
 * `az aks show -o json` (the kubelet identity's object and resource ids, and the
 * add-on identities on the same scale set). Secrets in azure.json are never kept.
 */
#ifndef ACCESSMON_NODE_IDENTITY_H
#define ACCESSMON_NODE_IDENTITY_H

#include <stdbool.h>
#include <stddef.h>
#include <cjson/cJSON.h>

#include "lib/error.h"
#include "lib/jsonw.h"
#include "event/line.h"

#define NODE_AZURE_JSON "/etc/kubernetes/azure.json"
#define NODE_MAX_IDENTITIES 64

struct managed_identity {
	char *kind; /* "kubelet" or "addon" */
	char *name; /* add-on name, or the identity's resource name */
	char *client_id;
	char *object_id;
	char *resource_id;
};

struct node_identity {
	bool has_cloud_config;
	char *cloud;
	char *tenant_id;
	char *subscription_id;
	char *resource_group;
	char *location;
	char *vm_type;
	char *scale_set;
	bool use_managed_identity;
	bool uses_service_principal;
	char *service_principal_client_id; /* aadClientId when it is not "msi" */
	struct managed_identity identities[NODE_MAX_IDENTITIES];
	size_t n_identities;
	/* The control plane's identity: not reachable from the node, shown for context. */
	char *cluster_identity_type;
	char *cluster_identity_principal_id;
	char *cluster_name;
};

void node_identity_init(struct node_identity *node);
void node_identity_release(struct node_identity *node);

/* Reads an azure.json document. */
int node_identity_load_azure_json(struct node_identity *node, const cJSON *root,
				  const char *source, struct am_error *err);
/* Reads an `az aks show -o json` document. */
int node_identity_load_cluster(struct node_identity *node, const cJSON *root, const char *source,
			       struct am_error *err);

/* The identity with this client id (case-insensitive), or NULL. */
const struct managed_identity *node_identity_by_client_id(const struct node_identity *node,
							  const char *client_id);

void node_identity_write(struct jsonw *w, enum output_format format,
			 const struct node_identity *node);

#endif /* ACCESSMON_NODE_IDENTITY_H */
