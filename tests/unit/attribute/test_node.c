// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * Unit tests: node identities from azure.json and `az aks show`, containerd bundle
 * parsing, host systemd units from cgroup paths, and host paths.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "attribute/cgroup_path.h"
#include "attribute/containerd.h"
#include "lib/hostfs.h"
#include "lib/json_input.h"
#include "attribute/node_identity.h"

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

static const char bundle_config[] =
	"{\"ociVersion\":\"1.1.0\",\"process\":{\"env\":[\"PATH=/usr/bin\","
	"\"AZURE_CLIENT_ID=wi-client\",\"AZURE_TENANT_ID=wi-tenant\","
	"\"AZURE_FEDERATED_TOKEN_FILE=/var/run/secrets/azure/tokens/azure-identity-token\","
	"\"AZURE_AUTHORITY_HOST=https://login.microsoftonline.com/\"]},"
	"\"annotations\":{\"io.kubernetes.cri.container-type\":\"container\","
	"\"io.kubernetes.cri.container-name\":\"app\",\"io.kubernetes.cri.image-name\":"
	"\"myreg.azurecr.io/app:1\",\"io.kubernetes.cri.sandbox-name\":\"web-7d4\","
	"\"io.kubernetes.cri.sandbox-namespace\":\"shop\",\"io.kubernetes.cri.sandbox-uid\":"
	"\"0c7d2f4a-1b3e-4c5d-9e8f-a1b2c3d4e5f6\"}}";

static void containerd_bundle(void **state)
{
	struct bundle_container container;
	struct am_error err;
	cJSON *root = parse(bundle_config);

	(void)state;
	assert_int_equal(containerd_bundle_parse(root, "abc", "config.json", &container, &err), 0);
	cJSON_Delete(root);
	assert_string_equal(container.id, "abc");
	assert_string_equal(container.pod_uid, "0c7d2f4a-1b3e-4c5d-9e8f-a1b2c3d4e5f6");
	assert_string_equal(container.pod_name, "web-7d4");
	assert_string_equal(container.pod_namespace, "shop");
	assert_string_equal(container.container_name, "app");
	assert_string_equal(container.image, "myreg.azurecr.io/app:1");
	assert_false(container.sandbox);
	assert_string_equal(container.wi.client_id, "wi-client");
	assert_string_equal(container.wi.tenant_id, "wi-tenant");
	assert_string_equal(container.wi.token_file,
			    "/var/run/secrets/azure/tokens/azure-identity-token");
	assert_string_equal(container.wi.authority_host, "https://login.microsoftonline.com/");
	bundle_container_release(&container);
}

static void containerd_bundle_errors(void **state)
{
	static const struct {
		const char *text;
		int rc;
		const char *message;
	} cases[] = {
		{"[]", -EINVAL, "c.json: expected an OCI runtime spec object"},
		{"{}", -ENOENT, "c.json: annotations: missing, not a Kubernetes container"},
		{"{\"annotations\":{}}", -EINVAL,
		 "c.json: annotations.\"io.kubernetes.cri.sandbox-uid\": missing"},
		{"{\"annotations\":{\"io.kubernetes.cri.sandbox-uid\":\"u\"},\"process\":{\"env\":{}}}",
		 -EINVAL, "c.json: process.env: expected an array"},
		{"{\"annotations\":{\"io.kubernetes.cri.sandbox-uid\":\"u\"},\"process\":{\"env\":[1]}}",
		 -EINVAL, "c.json: process.env[0]: expected a string"},
	};
	struct bundle_container container;
	struct am_error err;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		cJSON *root = parse(cases[i].text);

		assert_int_equal(containerd_bundle_parse(root, "id", "c.json", &container, &err),
				 cases[i].rc);
		assert_string_equal(err.msg, cases[i].message);
		cJSON_Delete(root);
	}
}

static void host_units(void **state)
{
	char unit[128], slice[128];

	(void)state;
	cgroup_path_host_unit("/system.slice/kubelet.service", unit, sizeof(unit), slice,
			      sizeof(slice));
	assert_string_equal(unit, "kubelet.service");
	assert_string_equal(slice, "system.slice");
	cgroup_path_host_unit("/system.slice/containerd.service/sub", unit, sizeof(unit), slice,
			      sizeof(slice));
	assert_string_equal(unit, "containerd.service");
	cgroup_path_host_unit("/user.slice/user-0.slice/session-3.scope", unit, sizeof(unit),
			      slice, sizeof(slice));
	assert_string_equal(unit, "session-3.scope");
	assert_string_equal(slice, "user-0.slice");
	cgroup_path_host_unit("/", unit, sizeof(unit), slice, sizeof(slice));
	assert_string_equal(unit, "");
	assert_string_equal(slice, "");
}

static void host_paths(void **state)
{
	char *p;

	(void)state;
	p = host_path("/", "/etc/kubernetes/azure.json");
	assert_string_equal(p, "/etc/kubernetes/azure.json");
	free(p);
	p = host_path("/host/", "/proc");
	assert_string_equal(p, "/host/proc");
	free(p);
	p = host_path("/tmp/node", "run/containerd");
	assert_string_equal(p, "/tmp/node/run/containerd");
	free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(managed_identity_node),
		cmocka_unit_test(service_principal_node),
		cmocka_unit_test(bad_identity_documents),
		cmocka_unit_test(containerd_bundle),
		cmocka_unit_test(containerd_bundle_errors),
		cmocka_unit_test(host_units),
		cmocka_unit_test(host_paths),
	};

	return cmocka_run_group_tests_name("node", tests, NULL, NULL);
}
