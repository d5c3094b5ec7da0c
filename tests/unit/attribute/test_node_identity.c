// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * Unit tests: the node's identities (attribute/node_identity.h) from azure.json
 * and `az aks show`, merged, bounded, and written without secrets.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "attribute/node_identity.h"
#include "lib/json_input.h"

static cJSON *parse(const char *text)
{
	struct am_error err;
	cJSON *root = json_input_parse("test", text, strlen(text), &err);

	assert_non_null(root);
	return root;
}

/* As AgentBaker writes it on a managed identity cluster. */
static const char azure_json_msi[] =
	"{\"cloud\":\"AzurePublicCloud\",\"tenantId\":\"72f988bf-0000-0000-0000-000000000000\","
	"\"subscriptionId\":\"a1b2c3d4-0000-0000-0000-000000000000\",\"aadClientId\":\"msi\","
	"\"aadClientSecret\":\"msi\",\"resourceGroup\":\"MC_rg_aks_eastus\",\"location\":\"eastus\","
	"\"vmType\":\"vmss\",\"primaryScaleSetName\":\"aks-nodepool1-12345678-vmss\","
	"\"useManagedIdentityExtension\":true,"
	"\"userAssignedIdentityID\":\"5a1c2b3d-1111-2222-3333-444455556666\"}";

static const char aks_show[] =
	"{\"name\":\"aks\",\"identity\":{\"type\":\"SystemAssigned\",\"principalId\":\"cp-principal\"},"
	"\"identityProfile\":{\"kubeletidentity\":{\"clientId\":\"5A1C2B3D-1111-2222-3333-444455556666\","
	"\"objectId\":\"kubelet-object\",\"resourceId\":\"/subscriptions/s/resourcegroups/MC_rg/providers/"
	"Microsoft.ManagedIdentity/userAssignedIdentities/aks-agentpool\"}},"
	"\"addonProfiles\":{\"azureKeyvaultSecretsProvider\":{\"enabled\":true,\"identity\":{"
	"\"clientId\":\"csi-client\",\"objectId\":\"csi-object\",\"resourceId\":\"/subscriptions/s/"
	"resourcegroups/MC_rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/"
	"azurekeyvaultsecretsprovider-aks\"}},\"httpApplicationRouting\":{\"enabled\":false}}}";

static void managed_identity_node(void **state)
{
	struct node_identity node;
	struct am_error err;
	cJSON *root, *written;
	struct jsonw w;

	(void)state;
	node_identity_init(&node);
	root = parse(azure_json_msi);
	assert_int_equal(node_identity_load_azure_json(&node, root, "azure.json", &err), 0);
	cJSON_Delete(root);
	assert_true(node.has_cloud_config);
	assert_false(node.uses_service_principal);
	assert_string_equal(node.scale_set, "aks-nodepool1-12345678-vmss");
	assert_int_equal(node.n_identities, 1);
	assert_string_equal(node.identities[0].kind, "kubelet");
	assert_string_equal(node.identities[0].client_id, "5a1c2b3d-1111-2222-3333-444455556666");

	root = parse(aks_show);
	assert_int_equal(node_identity_load_cluster(&node, root, "aks.json", &err), 0);
	cJSON_Delete(root);
	/* The same kubelet identity (client ids compare case-insensitively), now complete. */
	assert_int_equal(node.n_identities, 2);
	assert_string_equal(node.identities[0].object_id, "kubelet-object");
	assert_string_equal(node.identities[1].kind, "addon");
	assert_string_equal(node.identities[1].name, "azureKeyvaultSecretsProvider");
	assert_string_equal(node_identity_by_client_id(&node, "CSI-CLIENT")->object_id,
			    "csi-object");
	assert_null(node_identity_by_client_id(&node, "other"));
	assert_string_equal(node.cluster_identity_principal_id, "cp-principal");

	/* The secret in azure.json is never kept or written. */
	jsonw_init(&w);
	node_identity_write(&w, OUTPUT_JSON, &node);
	assert_null(strstr(w.buf, "aadClientSecret"));
	written = cJSON_Parse(w.buf);
	assert_non_null(written);
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(written, "identities")), 2);
	cJSON_Delete(written);
	jsonw_release(&w);
	node_identity_release(&node);
}

static void service_principal_node(void **state)
{
	const char text[] = "{\"tenantId\":\"t\",\"aadClientId\":\"9c0e-sp\","
			    "\"aadClientSecret\":\"s3cr3t-value\",\"useManagedIdentityExtension\":false}";
	struct node_identity node;
	struct am_error err;
	struct jsonw w;
	cJSON *root = parse(text);

	(void)state;
	node_identity_init(&node);
	assert_int_equal(node_identity_load_azure_json(&node, root, "azure.json", &err), 0);
	cJSON_Delete(root);
	assert_true(node.uses_service_principal);
	assert_string_equal(node.service_principal_client_id, "9c0e-sp");
	assert_int_equal(node.n_identities, 0);
	jsonw_init(&w);
	node_identity_write(&w, OUTPUT_JSON, &node);
	node_identity_write(&w, OUTPUT_TEXT, &node);
	assert_null(strstr(w.buf, "s3cr3t"));
	jsonw_release(&w);
	node_identity_release(&node);
}

static void bad_identity_documents(void **state)
{
	struct node_identity node;
	struct am_error err;
	cJSON *root;

	(void)state;
	node_identity_init(&node);
	root = parse("[1]");
	assert_int_equal(node_identity_load_azure_json(&node, root, "azure.json", &err), -EINVAL);
	assert_string_equal(err.msg, "azure.json: expected a JSON object (the node's cloud config)");
	cJSON_Delete(root);
	root = parse("{\"foo\":1}");
	assert_int_equal(node_identity_load_azure_json(&node, root, "azure.json", &err), -EINVAL);
	assert_non_null(strstr(err.msg, "not an AKS cloud config"));
	assert_int_equal(node_identity_load_cluster(&node, root, "aks.json", &err), -EINVAL);
	assert_non_null(strstr(err.msg, "aks.json: no identityProfile"));
	cJSON_Delete(root);
	assert_false(node.has_cloud_config);
	node_identity_release(&node);
}

/* Older AgentBaker versions write the flag as a string. */
static void flags_as_strings_and_a_cluster_alone(void **state)
{
	struct node_identity node;
	struct am_error err;
	cJSON *root;

	(void)state;
	node_identity_init(&node);
	root = parse("{\"tenantId\":\"t\",\"aadClientId\":\"9c0e\","
		     "\"useManagedIdentityExtension\":\"True\"}");
	assert_int_equal(node_identity_load_azure_json(&node, root, "azure.json", &err), 0);
	cJSON_Delete(root);
	assert_true(node.use_managed_identity);
	/* A client id beside managed identity is no service principal in use. */
	assert_false(node.uses_service_principal);
	assert_null(node.service_principal_client_id);
	node_identity_release(&node);
	assert_false(node.has_cloud_config);
	assert_int_equal(node.n_identities, 0);

	/* The cluster's document without azure.json: its kubelet identity, named so. */
	root = parse("{\"name\":\"aks\",\"identityProfile\":{\"kubeletidentity\":{"
		     "\"clientId\":\"k\",\"objectId\":\"o\"}},\"addonProfiles\":{"
		     "\"omsagent\":{\"enabled\":true,\"identity\":{\"objectId\":\"no-client\"}}}}");
	assert_int_equal(node_identity_load_cluster(&node, root, "aks.json", &err), 0);
	cJSON_Delete(root);
	assert_false(node.has_cloud_config);
	assert_string_equal(node.cluster_name, "aks");
	/* An add-on identity without a client id cannot be asked for: left out. */
	assert_int_equal(node.n_identities, 1);
	assert_string_equal(node.identities[0].kind, "kubelet");
	assert_string_equal(node.identities[0].name, "kubelet");
	assert_string_equal(node_identity_by_client_id(&node, "K")->object_id, "o");
	root = parse("{\"identity\":[]}");
	assert_int_equal(node_identity_load_cluster(&node, root, "aks.json", &err), 0);
	cJSON_Delete(root);
	root = parse("\"aks\"");
	assert_int_equal(node_identity_load_cluster(&node, root, "aks.json", &err), -EINVAL);
	assert_string_equal(err.msg, "aks.json: expected the object `az aks show -o json` prints");
	cJSON_Delete(root);
	node_identity_release(&node);
}

static void identities_are_bounded(void **state)
{
	struct node_identity node;
	struct am_error err;
	char *text = malloc(64 * (NODE_MAX_IDENTITIES + 8) + 64);
	size_t len, i;
	char name[16];
	cJSON *root;

	(void)state;
	len = (size_t)sprintf(text, "{\"addonProfiles\":{");
	for (i = 0; i < NODE_MAX_IDENTITIES + 8; i++)
		len += (size_t)sprintf(text + len, "%s\"a%zu\":{\"identity\":{\"clientId\":\"c%zu\"}}",
				       i ? "," : "", i, i);
	strcpy(text + len, "}}");
	root = parse(text);
	free(text);
	node_identity_init(&node);
	assert_int_equal(node_identity_load_cluster(&node, root, "aks.json", &err), 0);
	cJSON_Delete(root);
	assert_int_equal(node.n_identities, NODE_MAX_IDENTITIES);
	snprintf(name, sizeof(name), "a%d", NODE_MAX_IDENTITIES - 1);
	assert_string_equal(node.identities[NODE_MAX_IDENTITIES - 1].name, name);
	snprintf(name, sizeof(name), "c%d", NODE_MAX_IDENTITIES);
	assert_null(node_identity_by_client_id(&node, name));
	node_identity_release(&node);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(managed_identity_node),
		cmocka_unit_test(service_principal_node),
		cmocka_unit_test(bad_identity_documents),
		cmocka_unit_test(flags_as_strings_and_a_cluster_alone),
		cmocka_unit_test(identities_are_bounded),
	};

	return cmocka_run_group_tests_name("node_identity", tests, NULL, NULL);
}
