// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* Unit tests: identity assignments from the Azure CLI's output, and the policy. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "tree.h"

#include "identities.h"
#include "policy.h"
#include "rules.h"

#define RG "/subscriptions/s1/resourceGroups/rg-apps"

static const char *dir;

static void write_file(const char *name, const char *text)
{
	char path[256];

	snprintf(path, sizeof(path), "/%s", name);
	tree_write(path, text);
}

static int setup(void **state)
{
	(void)state;
	dir = tree_make("ids");
	return 0;
}

static void loads_what_is_there_and_says_what_is_not(void **state)
{
	const char *const kv[] = {"Key Vault Secrets User", NULL};
	struct identity_data *data;
	struct am_error err;

	(void)state;
	write_file("role-assignments.json",
		   "[{\"principalId\":\"P1\",\"roleDefinitionName\":\"Key Vault Secrets User\","
		   "\"roleDefinitionId\":\"/x/roleDefinitions/4633458b-17de-408a-b874-0445c86b69e6\","
		   "\"scope\":\"" RG "\"},"
		   "{\"principalId\":\"p2\",\"roleDefinitionId\":\"/subscriptions/s1/providers/"
		   "Microsoft.Authorization/roleDefinitions/7F951DDA-4ED3-4680-A7CA-43FE172D538D\","
		   "\"scope\":\"" RG "/providers/Microsoft.ContainerRegistry/registries/myreg\"}]");
	write_file("identities.json",
		   "[{\"name\":\"checkout\",\"clientId\":\"C1\",\"principalId\":\"p1\",\"id\":\"/x/c\"}]");
	write_file("federated-credentials-checkout.json",
		   "[{\"id\":\"" RG "/providers/Microsoft.ManagedIdentity/userAssignedIdentities/"
		   "checkout/federatedIdentityCredentials/fc\",\"subject\":"
		   "\"system:serviceaccount:payments:checkout\"}]");
	data = identity_data_load(dir, &err);
	assert_non_null(data);
	assert_non_null(strstr(data->loaded, "role-assignments.json (2)"));
	assert_non_null(strstr(data->loaded, "federated-credentials*.json (1)"));
	assert_non_null(strstr(data->missing, "cluster.json"));
	assert_non_null(strstr(data->missing, "resources.json"));
	/* A role on a resource group covers what is below it, case-insensitively... */
	assert_true(identity_data_has_role(data, "p1",
					   "/SUBSCRIPTIONS/s1/resourcegroups/RG-APPS/providers/"
					   "Microsoft.KeyVault/vaults/kv",
					   kv));
	/* ...but not a sibling whose name merely starts the same. */
	assert_false(identity_data_has_role(data, "p1",
					    "/subscriptions/s1/resourceGroups/rg-apps2/providers/"
					    "Microsoft.KeyVault/vaults/kv",
					    kv));
	assert_false(identity_data_has_role(data, "p2", RG, kv));
	/* A role known only by its definition GUID. */
	assert_string_equal(data->assignments[1].role, "AcrPull");
	assert_true(identity_data_has_role(
		data, "p2", RG "/providers/Microsoft.ContainerRegistry/registries/myreg",
		ACR_PULL_ROLES));
	assert_string_equal(identity_data_resource_id(data, REGISTRY_TYPE, "MyReg"),
			    RG "/providers/Microsoft.ContainerRegistry/registries/myreg");
	assert_null(identity_data_resource_id(data, KEYVAULT_TYPE, "kv"));
	assert_string_equal(identity_data_by_client_id(data, "c1")->name, "checkout");
	assert_string_equal(identity_data_by_subject(data, "payments", "checkout")->client_id, "c1");
	assert_null(identity_data_by_subject(data, "payments", "other"));
	identity_data_free(data);
}

static void wrong_files_are_errors_with_a_position(void **state)
{
	struct identity_data *data;
	struct am_error err;

	(void)state;
	write_file("identities.json", "[{\"name\": \"x\",\n \"clientId\": }]");
	data = identity_data_load(dir, &err);
	assert_null(data);
	assert_non_null(strstr(err.msg, "identities.json:2:"));
	write_file("identities.json", "{\"not\": \"a list\"}");
	assert_null(identity_data_load(dir, &err));
	assert_non_null(strstr(err.msg, "expected a JSON array"));
	write_file("identities.json", "[]");
	write_file("role-assignments.json", "[{\"principalId\":\"p\"}]");
	assert_null(identity_data_load(dir, &err));
	assert_non_null(strstr(err.msg, "role-assignments.json: [0]: needs principalId, scope"));
	assert_null(identity_data_load("/nonexistent-ids", &err));
	assert_non_null(strstr(err.msg, "--identities /nonexistent-ids"));
}

static void default_policy_allows_what_aks_does_and_nothing_broader(void **state)
{
	struct policy *policy = policy_default();
	struct policy_subject s;

	(void)state;
	assert_non_null(policy);
	memset(&s, 0, sizeof(s));
	s.rule = "imds-token-request";
	s.host = true;
	s.host_unit = "kubelet.service";
	assert_non_null(policy_allows(policy, &s));
	s.host_unit = "sshd.service";
	assert_null(policy_allows(policy, &s));
	/* The CSI provider with its add-on identity, and only that. */
	memset(&s, 0, sizeof(s));
	s.rule = "imds-token-request";
	s.namespace = "kube-system";
	s.pod_name = "aks-secrets-store-provider-azure-x7k2p";
	s.identity_kind = "addon";
	assert_non_null(policy_allows(policy, &s));
	s.identity_kind = "kubelet";
	assert_null(policy_allows(policy, &s));
	s.identity_kind = "addon";
	s.namespace = "default";
	assert_null(policy_allows(policy, &s));
	/* No blanket namespace allowance. */
	memset(&s, 0, sizeof(s));
	s.rule = "node-credential-read";
	s.namespace = "kube-system";
	s.pod_name = "anything";
	assert_null(policy_allows(policy, &s));
	/* The proxy sidecar, with the pod's own identity only. */
	memset(&s, 0, sizeof(s));
	s.rule = "imds-token-request";
	s.proxy_sidecar = true;
	s.identity_kind = "workload";
	assert_non_null(policy_allows(policy, &s));
	s.identity_kind = "node-system";
	assert_null(policy_allows(policy, &s));
	policy_free(policy);
}

static struct policy *policy_from(const char *text, struct am_error *err)
{
	cJSON *root = cJSON_Parse(text);
	struct policy *policy = policy_parse(root, "p.json", err);

	cJSON_Delete(root);
	return policy;
}

static void policy_files(void **state)
{
	struct policy_subject s = {.rule = "imds-access", .namespace = "shop", .pod_name = "web-1",
				   .exe = "/usr/bin/curl"};
	struct am_error err;
	struct policy *policy;

	(void)state;
	policy = policy_from("{\"allow\":[{\"comment\":\"health\",\"rules\":[\"imds-access\"],"
			     "\"namespace\":\"shop\",\"exe\":[\"/usr/bin/curl\"]}],"
			     "\"severity\":{\"wireserver-access\":\"critical\"}}",
			     &err);
	assert_non_null(policy);
	assert_string_equal(policy_allows(policy, &s), "health");
	s.exe = "/usr/bin/wget";
	assert_null(policy_allows(policy, &s));
	assert_int_equal(policy_severity(policy, "wireserver-access", SEVERITY_HIGH),
			 SEVERITY_CRITICAL);
	assert_int_equal(policy_severity(policy, "imds-access", SEVERITY_MEDIUM), SEVERITY_MEDIUM);
	policy_free(policy);

	assert_null(policy_from("{\"allow\":[{\"rules\":[\"imds\"]}]}", &err));
	assert_string_equal(err.msg, "p.json: allow[0].rules[0]: unknown rule \"imds\"");
	assert_null(policy_from("{\"allow\":[{\"rules\":\"*\",\"namespaces\":\"x\"}]}", &err));
	assert_string_equal(err.msg, "p.json: allow[0]: unknown condition \"namespaces\"");
	assert_null(policy_from("{\"allow\":[{\"namespace\":\"x\"}]}", &err));
	assert_non_null(strstr(err.msg, "allow[0].rules: missing"));
	assert_null(policy_from("{\"severity\":{\"imds-access\":\"urgent\"}}", &err));
	assert_non_null(strstr(err.msg, "severity.imds-access"));
	assert_null(policy_from("{\"allow\":[{\"rules\":\"*\",\"proxy_sidecar\":\"yes\"}]}", &err));
	assert_non_null(strstr(err.msg, "proxy_sidecar: expected true or false"));
	assert_null(policy_load("/nonexistent/policy.json", &err));
	assert_non_null(strstr(err.msg, "/nonexistent/policy.json: cannot open"));
	assert_int_equal(severity_parse("high"), SEVERITY_HIGH);
	assert_int_equal(severity_parse("nope"), SEVERITY_NONE);
}

/* The alert lines a rules engine wrote, newline-separated. */
static char written[8192];

static void collect(void *ctx, struct jsonw *line, enum severity severity)
{
	(void)severity;
	(void)ctx;
	strncat(written, line->buf, sizeof(written) - strlen(written) - 2);
	strcat(written, "\n");
}

static int lines(void)
{
	int n = 0;

	for (const char *p = written; (p = strchr(p, '\n')); p++)
		n++;
	return n;
}

#define SEC 1000000000ull

static void repeats_fold_until_their_window_ends(void **state)
{
	struct policy *policy = policy_default();
	struct rules_context context = {.policy = policy};
	struct rules_sink sink = {.write = collect};
	struct rules *rules = rules_new(&context, OUTPUT_JSON, &sink);

	(void)state;
	assert_non_null(rules);
	written[0] = '\0';
	rules_on_loss(rules, 1 * SEC, 5, 5);
	rules_on_loss(rules, 2 * SEC, 1, 6);
	rules_on_loss(rules, 30 * SEC, 1, 7);
	/* The first at once; the repeats wait for the window. */
	assert_int_equal(lines(), 1);
	assert_non_null(strstr(written, "\"count\":1"));
	rules_advance(rules, 1 * SEC + RULES_FOLD_WINDOW_NS - 1);
	assert_int_equal(lines(), 1);
	/* The window ends: the repeats go out with their count, and the next is new. */
	rules_on_loss(rules, 61 * SEC + SEC / 2, 1, 8);
	assert_int_equal(lines(), 3);
	assert_non_null(strstr(written, "\"count\":3"));
	rules_on_loss(rules, 100 * SEC, 1, 9);
	rules_advance(rules, 121 * SEC);
	assert_int_equal(lines(), 3);
	rules_advance(rules, 121 * SEC + SEC / 2);
	assert_int_equal(lines(), 4);
	assert_non_null(strstr(strrchr(written, '{'), "\"count\":2"));
	assert_int_equal(rules_stats(rules)->folded, 3);
	/* Nothing is left to write at the end. */
	rules_finish(rules);
	assert_int_equal(lines(), 4);
	rules_free(rules);
	policy_free(policy);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(loads_what_is_there_and_says_what_is_not, setup,
						tree_remove),
		cmocka_unit_test_setup_teardown(wrong_files_are_errors_with_a_position, setup,
						tree_remove),
		cmocka_unit_test(default_policy_allows_what_aks_does_and_nothing_broader),
		cmocka_unit_test(policy_files),
		cmocka_unit_test(repeats_fold_until_their_window_ends),
	};

	return cmocka_run_group_tests_name("detection", tests, NULL, NULL);
}
