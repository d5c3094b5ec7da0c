// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * Unit tests: the built-in default policy (detect/policy_default.c): what it
 * allows of AKS's own components, subject by subject, and that each entry says
 * why and matches nothing by namespace or name alone. test_benign.c drives the
 * same components through the whole pipeline.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "detect/policy.h"
#include "lib/json_input.h"

#define PROVIDER_SA "csi-secrets-store-provider-azure"
#define PROVIDER_IMAGE "mcr.microsoft.com/oss/v2/azure/secrets-store/provider-azure:v1.7.2"
#define DISK_SA "csi-azuredisk-node-sa"
#define DISK_IMAGE "mcr.microsoft.com/oss/v2/kubernetes-csi/azuredisk-csi:v1.33.11"
#define AZURE_JSON_PATH "/etc/kubernetes/azure.json"

/* What the default policy says of one subject. */
static const struct {
	const char *what;
	struct policy_subject s;
	bool allowed;
} default_cases[] = {
	{"the kubelet on the host",
	 {.rule = "imds-token-request", .host = true, .host_unit = "kubelet.service"}, true},
	{"another host unit", {.rule = "imds-token-request", .host = true, .host_unit = "sshd.service"},
	 false},
	/* The Key Vault provider with its add-on identity, and only that. */
	{"the Key Vault provider, add-on identity",
	 {.rule = "imds-token-request", .namespace = "kube-system", .service_account = PROVIDER_SA,
	  .image = PROVIDER_IMAGE, .identity_kind = "addon"},
	 true},
	{"the Key Vault provider, kubelet identity",
	 {.rule = "imds-token-request", .namespace = "kube-system", .service_account = PROVIDER_SA,
	  .image = PROVIDER_IMAGE, .identity_kind = "kubelet"},
	 false},
	{"the provider's look-alike in another namespace",
	 {.rule = "imds-token-request", .namespace = "default", .service_account = PROVIDER_SA,
	  .image = PROVIDER_IMAGE, .identity_kind = "addon"},
	 false},
	/* Never by a pod's name alone: its service account and image repository too. */
	{"a pod named as the provider's, another service account",
	 {.rule = "imds-token-request", .namespace = "kube-system",
	  .pod_name = "aks-secrets-store-provider-azure-x7k2p", .service_account = "default",
	  .image = PROVIDER_IMAGE, .identity_kind = "addon"},
	 false},
	{"the provider's service account, another registry's image",
	 {.rule = "imds-token-request", .namespace = "kube-system", .service_account = PROVIDER_SA,
	  .image = "myreg.azurecr.io/provider-azure:v1.7.2", .identity_kind = "addon"},
	 false},
	{"the provider's service account, a look-alike repository",
	 {.rule = "imds-token-request", .namespace = "kube-system", .service_account = PROVIDER_SA,
	  .image = "mcr.microsoft.com/oss/v2/azure/secrets-store/provider-azure-debug:v1",
	  .identity_kind = "addon"},
	 false},
	/* No blanket namespace allowance. */
	{"any kube-system pod reading azure.json",
	 {.rule = "node-credential-read", .namespace = "kube-system", .pod_name = "anything",
	  .secret_kind = "node-cloud-config", .secret_path = AZURE_JSON_PATH},
	 false},
	/* The disk CSI node plugin reads the files its manifest mounts, and no others. */
	{"the disk CSI node plugin reading azure.json",
	 {.rule = "node-credential-read", .namespace = "kube-system", .service_account = DISK_SA,
	  .image = DISK_IMAGE, .secret_kind = "node-cloud-config", .secret_path = AZURE_JSON_PATH},
	 true},
	{"the disk CSI node plugin reading ManagedIdentity-Settings",
	 {.rule = "node-credential-read", .namespace = "kube-system", .service_account = DISK_SA,
	  .image = DISK_IMAGE, .secret_kind = "managed-identity-settings",
	  .secret_path = "/var/lib/waagent/ManagedIdentity-Settings"},
	 true},
	{"the disk CSI node plugin opening azure.json for writing",
	 {.rule = "node-credential-read", .namespace = "kube-system", .service_account = DISK_SA,
	  .image = DISK_IMAGE, .secret_kind = "node-cloud-config", .secret_path = AZURE_JSON_PATH,
	  .secret_write = true},
	 false},
	{"the disk CSI node plugin reading the kubelet's kubeconfig",
	 {.rule = "node-credential-read", .namespace = "kube-system", .service_account = DISK_SA,
	  .image = DISK_IMAGE, .secret_kind = "kubelet-credentials",
	  .secret_path = "/var/lib/kubelet/kubeconfig"},
	 false},
	/* The proxy sidecar, with the pod's own identity only. */
	{"a proxied pod, its own identity",
	 {.rule = "imds-token-request", .proxy_sidecar = true, .identity_kind = "workload"}, true},
	{"a proxied pod, the node's default identity",
	 {.rule = "imds-token-request", .proxy_sidecar = true, .identity_kind = "node-system"},
	 false},
	/* Raw and packet sockets: AKS's network agents, and only raw-socket. */
	{"Retina's packet socket",
	 {.rule = "raw-socket", .namespace = "kube-system", .pod_name = "retina-agent-4kq2x",
	  .service_account = "retina-agent",
	  .image = "mcr.microsoft.com/containernetworking/retina-agent:v0.0.33"},
	 true},
	{"Cilium's raw socket",
	 {.rule = "raw-socket", .namespace = "kube-system", .service_account = "cilium",
	  .image = "mcr.microsoft.com/containernetworking/cilium/cilium-distroless:v1.18.11-260622"},
	 true},
	{"Cilium reading instance metadata",
	 {.rule = "imds-access", .namespace = "kube-system", .service_account = "cilium",
	  .image = "mcr.microsoft.com/containernetworking/cilium/cilium-distroless:v1.18.11-260622"},
	 false},
	{"a pod named as Cilium's",
	 {.rule = "raw-socket", .namespace = "kube-system", .pod_name = "cilium-9xw7d",
	  .service_account = "default", .image = "docker.io/library/busybox:1.36"},
	 false},
};

static void default_policy_allows_what_aks_does_and_nothing_broader(void **state)
{
	struct policy *policy = policy_default();
	size_t i;

	(void)state;
	assert_non_null(policy);
	for (i = 0; i < sizeof(default_cases) / sizeof(default_cases[0]); i++)
		if ((policy_allows(policy, &default_cases[i].s) != NULL) != default_cases[i].allowed)
			fail_msg("%s: %s", default_cases[i].what,
				 default_cases[i].allowed ? "not allowed" : "allowed");
	policy_free(policy);
}

static cJSON *default_document(void)
{
	cJSON *root = cJSON_Parse(POLICY_DEFAULT_JSON);

	assert_non_null(root);
	return root;
}

/* Each entry names what it is for and where that is shown. */
static void entries_say_why(void **state)
{
	cJSON *root = default_document();
	const cJSON *entry;
	size_t i = 0;

	(void)state;
	assert_true(cJSON_GetArraySize(cJSON_GetObjectItem(root, "allow")) > 0);
	cJSON_ArrayForEach(entry, cJSON_GetObjectItem(root, "allow"))
	{
		const char *comment = json_member_string(entry, "comment");
		const char *source = json_member_string(entry, "source");

		if (!comment || !*comment || !source || !*source)
			fail_msg("allow[%zu]: no comment or no source", i);
		i++;
	}
	cJSON_Delete(root);
}

/*
 * Whatever rule an entry allows, a subject with nothing but a namespace, or a
 * host unit of its own, is not allowed it: every entry states who, not only where.
 */
static void nothing_by_namespace_alone(void **state)
{
	static const char *const namespaces[] = {"kube-system", "gatekeeper-system",
						 "calico-system", "default"};
	struct policy *policy = policy_default();
	cJSON *root = default_document();
	const cJSON *entry, *rule;
	size_t i;

	(void)state;
	cJSON_ArrayForEach(entry, cJSON_GetObjectItem(root, "allow"))
	{
		cJSON_ArrayForEach(rule, cJSON_GetObjectItem(entry, "rules"))
		{
			const char *name = strcmp(rule->valuestring, "*") ? rule->valuestring
									    : "imds-token-request";

			for (i = 0; i < sizeof(namespaces) / sizeof(namespaces[0]); i++) {
				struct policy_subject s = {.rule = name, .namespace = namespaces[i],
							   .pod_name = "x"};

				if (policy_allows(policy, &s))
					fail_msg("%s in %s allowed by namespace alone", name,
						 namespaces[i]);
			}
			{
				struct policy_subject s = {.rule = name, .host = true,
							   .host_unit = "evil.service"};

				if (policy_allows(policy, &s))
					fail_msg("%s allowed to any host unit", name);
			}
		}
	}
	cJSON_Delete(root);
	policy_free(policy);
}

/* The policy a recording carries of it reads back as the same policy. */
static void default_reads_back(void **state)
{
	struct policy *policy = policy_default(), *again;
	struct am_error err;
	cJSON *root;
	size_t i;

	(void)state;
	root = cJSON_Parse(policy_json(policy));
	assert_non_null(root);
	again = policy_parse(root, "recorded", &err);
	cJSON_Delete(root);
	assert_non_null(again);
	assert_string_equal(policy_json(again), policy_json(policy));
	for (i = 0; i < sizeof(default_cases) / sizeof(default_cases[0]); i++)
		assert_true((policy_allows(again, &default_cases[i].s) != NULL) ==
			    default_cases[i].allowed);
	policy_free(again);
	policy_free(policy);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(default_policy_allows_what_aks_does_and_nothing_broader),
		cmocka_unit_test(entries_say_why),
		cmocka_unit_test(nothing_by_namespace_alone),
		cmocka_unit_test(default_reads_back),
	};

	return cmocka_run_group_tests_name("policy_default", tests, NULL, NULL);
}
