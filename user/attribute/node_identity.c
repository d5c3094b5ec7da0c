// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* The node's identities from azure.json and az aks show; see node_identity.h. */
#include "attribute/node_identity.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lib/json_input.h"

void node_identity_init(struct node_identity *node)
{
	memset(node, 0, sizeof(*node));
}

static void identity_release(struct managed_identity *identity)
{
	free(identity->kind);
	free(identity->name);
	free(identity->client_id);
	free(identity->object_id);
	free(identity->resource_id);
	memset(identity, 0, sizeof(*identity));
}

void node_identity_release(struct node_identity *node)
{
	size_t i;

	free(node->cloud);
	free(node->tenant_id);
	free(node->subscription_id);
	free(node->resource_group);
	free(node->location);
	free(node->vm_type);
	free(node->scale_set);
	free(node->service_principal_client_id);
	for (i = 0; i < node->n_identities; i++)
		identity_release(&node->identities[i]);
	free(node->cluster_identity_type);
	free(node->cluster_identity_principal_id);
	free(node->cluster_name);
	node_identity_init(node);
}

static void set_string(char **slot, const char *value)
{
	if (!value)
		return;
	free(*slot);
	*slot = strdup(value);
}

static struct managed_identity *identity_slot(struct node_identity *node, const char *kind,
					      const char *name, const char *client_id)
{
	struct managed_identity *identity;
	size_t i;

	for (i = 0; i < node->n_identities; i++) {
		identity = &node->identities[i];
		if (client_id && identity->client_id &&
		    strcasecmp(identity->client_id, client_id) == 0)
			return identity;
		if (!client_id && strcmp(identity->kind, kind) == 0 && identity->name && name &&
		    strcmp(identity->name, name) == 0)
			return identity;
	}
	if (node->n_identities >= NODE_MAX_IDENTITIES)
		return NULL;
	identity = &node->identities[node->n_identities++];
	identity->kind = strdup(kind);
	set_string(&identity->name, name);
	set_string(&identity->client_id, client_id);
	return identity;
}

/* The last segment of an ARM resource id: .../userAssignedIdentities/<name>. */
static const char *resource_name(const char *resource_id)
{
	const char *slash = resource_id ? strrchr(resource_id, '/') : NULL;

	return slash && slash[1] ? slash + 1 : NULL;
}

static bool json_truthy(const cJSON *item)
{
	return cJSON_IsTrue(item) ||
	       (cJSON_IsString(item) && strcasecmp(item->valuestring, "true") == 0);
}

int node_identity_load_azure_json(struct node_identity *node, const cJSON *root,
				  const char *source, struct am_error *err)
{
	const char *client_id, *kubelet;

	if (!cJSON_IsObject(root)) {
		am_error_set(err, "%s: expected a JSON object (the node's cloud config)", source);
		return -EINVAL;
	}
	client_id = json_member_string(root, "aadClientId");
	kubelet = json_member_string(root, "userAssignedIdentityID");
	if (!json_member_string(root, "tenantId") && !client_id && !kubelet) {
		am_error_set(err, "%s: none of tenantId, aadClientId, userAssignedIdentityID: "
				  "not an AKS cloud config",
			     source);
		return -EINVAL;
	}
	node->has_cloud_config = true;
	set_string(&node->cloud, json_member_string(root, "cloud"));
	set_string(&node->tenant_id, json_member_string(root, "tenantId"));
	set_string(&node->subscription_id, json_member_string(root, "subscriptionId"));
	set_string(&node->resource_group, json_member_string(root, "resourceGroup"));
	set_string(&node->location, json_member_string(root, "location"));
	set_string(&node->vm_type, json_member_string(root, "vmType"));
	set_string(&node->scale_set, json_member_string(root, "primaryScaleSetName"));
	node->use_managed_identity =
		json_truthy(cJSON_GetObjectItemCaseSensitive(root, "useManagedIdentityExtension"));
	/* On managed identity clusters aadClientId is the literal "msi". */
	node->uses_service_principal =
		client_id && *client_id && strcmp(client_id, "msi") != 0 && !node->use_managed_identity;
	if (node->uses_service_principal)
		set_string(&node->service_principal_client_id, client_id);
	if (kubelet && *kubelet) {
		struct managed_identity *identity = identity_slot(node, "kubelet", NULL, kubelet);

		if (identity && !identity->name)
			set_string(&identity->name, "kubelet");
	}
	return 0;
}

static void load_cluster_identity(struct node_identity *node, const cJSON *profile,
				  const char *kind, const char *name)
{
	const char *client_id = json_member_string(profile, "clientId");
	const char *resource_id = json_member_string(profile, "resourceId");
	struct managed_identity *identity;

	if (!client_id)
		return;
	identity = identity_slot(node, kind, name, client_id);
	if (!identity)
		return;
	if (strcmp(identity->kind, kind) != 0) {
		free(identity->kind);
		identity->kind = strdup(kind);
	}
	set_string(&identity->object_id, json_member_string(profile, "objectId"));
	set_string(&identity->resource_id, resource_id);
	if (name && (!identity->name || strcmp(kind, "addon") == 0))
		set_string(&identity->name, name);
	else if (!identity->name)
		set_string(&identity->name, resource_name(resource_id));
}

int node_identity_load_cluster(struct node_identity *node, const cJSON *root, const char *source,
			       struct am_error *err)
{
	const cJSON *profile, *addons, *addon, *identity;

	if (!cJSON_IsObject(root)) {
		am_error_set(err, "%s: expected the object `az aks show -o json` prints", source);
		return -EINVAL;
	}
	profile = cJSON_GetObjectItemCaseSensitive(
		cJSON_GetObjectItemCaseSensitive(root, "identityProfile"), "kubeletidentity");
	if (!profile && !cJSON_GetObjectItemCaseSensitive(root, "addonProfiles") &&
	    !cJSON_GetObjectItemCaseSensitive(root, "identity")) {
		am_error_set(err, "%s: no identityProfile, addonProfiles or identity: not the "
				  "output of `az aks show`",
			     source);
		return -EINVAL;
	}
	set_string(&node->cluster_name, json_member_string(root, "name"));
	if (cJSON_IsObject(profile))
		load_cluster_identity(node, profile, "kubelet", "kubelet");
	addons = cJSON_GetObjectItemCaseSensitive(root, "addonProfiles");
	if (!cJSON_IsObject(addons))
		addons = NULL;
	cJSON_ArrayForEach(addon, addons)
	{
		const cJSON *addon_identity = cJSON_GetObjectItemCaseSensitive(addon, "identity");

		if (cJSON_IsObject(addon_identity))
			load_cluster_identity(node, addon_identity, "addon", addon->string);
	}
	identity = cJSON_GetObjectItemCaseSensitive(root, "identity");
	if (cJSON_IsObject(identity)) {
		set_string(&node->cluster_identity_type, json_member_string(identity, "type"));
		set_string(&node->cluster_identity_principal_id,
			   json_member_string(identity, "principalId"));
	}
	return 0;
}

const struct managed_identity *node_identity_by_client_id(const struct node_identity *node,
							  const char *client_id)
{
	size_t i;

	if (!client_id)
		return NULL;
	for (i = 0; i < node->n_identities; i++)
		if (node->identities[i].client_id &&
		    strcasecmp(node->identities[i].client_id, client_id) == 0)
			return &node->identities[i];
	return NULL;
}

static void text_field(struct jsonw *w, const char *label, const char *value)
{
	if (!value)
		return;
	textw_printf(w, " %s=", label);
	textw_escaped(w, value, strlen(value));
}

void node_identity_write(struct jsonw *w, enum output_format format,
			 const struct node_identity *node)
{
	size_t i;

	if (format == OUTPUT_TEXT) {
		textw_raw(w, "node:");
		if (!node->has_cloud_config)
			textw_raw(w, " no cloud config");
		text_field(w, "tenant", node->tenant_id);
		text_field(w, "subscription", node->subscription_id);
		text_field(w, "resource-group", node->resource_group);
		text_field(w, "scale-set", node->scale_set);
		if (node->has_cloud_config)
			textw_raw(w, node->uses_service_principal ? " auth=service-principal"
								  : " auth=managed-identity");
		text_field(w, "service-principal", node->service_principal_client_id);
		textw_raw(w, "\n");
		for (i = 0; i < node->n_identities; i++) {
			const struct managed_identity *identity = &node->identities[i];

			textw_raw(w, "  identity");
			text_field(w, "kind", identity->kind);
			text_field(w, "name", identity->name);
			text_field(w, "client-id", identity->client_id);
			text_field(w, "object-id", identity->object_id);
			textw_raw(w, "\n");
		}
		return;
	}
	jsonw_object_begin(w);
	jsonw_key(w, "cloud_config");
	jsonw_bool(w, node->has_cloud_config);
	jsonw_member_string(w, "cloud", node->cloud);
	jsonw_member_string(w, "tenant_id", node->tenant_id);
	jsonw_member_string(w, "subscription_id", node->subscription_id);
	jsonw_member_string(w, "resource_group", node->resource_group);
	jsonw_member_string(w, "location", node->location);
	jsonw_member_string(w, "vm_type", node->vm_type);
	jsonw_member_string(w, "scale_set", node->scale_set);
	jsonw_member_string(w, "cluster", node->cluster_name);
	jsonw_key(w, "uses_service_principal");
	jsonw_bool(w, node->uses_service_principal);
	jsonw_member_string(w, "service_principal_client_id", node->service_principal_client_id);
	jsonw_key(w, "identities");
	jsonw_array_begin(w);
	for (i = 0; i < node->n_identities; i++) {
		const struct managed_identity *identity = &node->identities[i];

		jsonw_object_begin(w);
		jsonw_member_string(w, "kind", identity->kind);
		jsonw_member_string(w, "name", identity->name);
		jsonw_member_string(w, "client_id", identity->client_id);
		jsonw_member_string(w, "object_id", identity->object_id);
		jsonw_member_string(w, "resource_id", identity->resource_id);
		jsonw_object_end(w);
	}
	jsonw_array_end(w);
	jsonw_key(w, "cluster_identity");
	if (node->cluster_identity_type || node->cluster_identity_principal_id) {
		jsonw_object_begin(w);
		jsonw_member_string(w, "type", node->cluster_identity_type);
		jsonw_member_string(w, "principal_id", node->cluster_identity_principal_id);
		jsonw_object_end(w);
	} else {
		jsonw_null(w);
	}
	jsonw_object_end(w);
}
