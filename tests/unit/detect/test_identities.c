// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * Unit tests: identity assignments (detect/identities.h) from the Azure CLI's
 * output in a directory: what is there and what is not, errors with a position,
 * every problem at once, and the lookups the rules make.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "detect/identities.h"
#include "tree.h"

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

/* Problems identity_data_check reports, joined by newlines. */
static char problems[2048];

static void note_problem(void *ctx, const char *message)
{
	(void)ctx;
	strncat(problems, message, sizeof(problems) - strlen(problems) - 2);
	strcat(problems, "\n");
}

static void check_reports_every_file(void **state)
{
	(void)state;
	write_file("identities.json", "[{\"name\": \"x\",\n \"clientId\": }]");
	write_file("role-assignments.json", "[{\"principalId\":\"p\",\"scope\":\"/s\"}]");
	write_file("federated-credentials-a.json", "{}");
	write_file("federated-credentials-b.json", "[{\"subject\":\"s\",\"id\":\"/no/identity\"}]");
	/* Not a .json file: not read. */
	write_file("federated-credentials-c.txt", "oops");
	problems[0] = '\0';
	assert_int_equal(identity_data_check(dir, note_problem, NULL), 4);
	assert_non_null(strstr(problems, "identities.json:2:"));
	assert_non_null(strstr(problems, "role-assignments.json: [0]: needs principalId, scope and "
					 "roleDefinitionName or roleDefinitionId"));
	assert_non_null(strstr(problems, "federated-credentials-a.json: expected a JSON array"));
	assert_non_null(strstr(problems, "federated-credentials-b.json: [0]: needs subject and an "
					 "id under userAssignedIdentities/<name>"));
	assert_null(strstr(problems, "federated-credentials-c"));
	/* A directory that is not there is one problem. */
	problems[0] = '\0';
	assert_int_equal(identity_data_check("/nonexistent-ids", note_problem, NULL), 1);
	assert_non_null(strstr(problems, "--identities /nonexistent-ids"));
	/* A clean directory has none. */
	write_file("identities.json", "[]");
	write_file("role-assignments.json", "[]");
	write_file("federated-credentials-a.json", "[]");
	write_file("federated-credentials-b.json", "[]");
	problems[0] = '\0';
	assert_int_equal(identity_data_check(dir, note_problem, NULL), 0);
	assert_string_equal(problems, "");
}

static cJSON *parse(const char *text)
{
	cJSON *root = cJSON_Parse(text);

	assert_non_null(root);
	return root;
}

/* Documents one at a time, as a recording carries them back. */
static void documents_and_lookups(void **state)
{
	struct identity_data *data = identity_data_new();
	struct am_error err;
	cJSON *root;

	(void)state;
	root = parse("[{\"name\":\"checkout\",\"clientId\":\"C1\",\"principalId\":\"P1\","
		     "\"id\":\"" RG "/providers/Microsoft.ManagedIdentity/userAssignedIdentities/"
		     "checkout\"},{\"name\":\"principal-only\",\"principalId\":\"p2\"}]");
	assert_int_equal(identity_data_add_document(data, "d", "identities.json", root, &err), 0);
	cJSON_Delete(root);
	/* Ids compare without case, as Azure's do. */
	assert_string_equal(identity_data_by_principal(data, "p1")->name, "checkout");
	assert_string_equal(identity_data_by_resource_id(
				    data, RG "/providers/microsoft.managedidentity/"
					     "userassignedidentities/CHECKOUT")->name,
			    "checkout");
	assert_null(identity_data_by_client_id(data, "p2"));
	assert_null(identity_data_by_principal(data, NULL));
	assert_null(identity_data_by_client_id(NULL, "c1"));

	/* Resources without an id, name or type are passed over. */
	root = parse("[{\"id\":\"" RG "/providers/Microsoft.KeyVault/vaults/KV-Pay\",\"name\":"
		     "\"KV-Pay\",\"type\":\"Microsoft.KeyVault/vaults\"},{\"name\":\"x\"}]");
	assert_int_equal(identity_data_add_document(data, "d", "resources.json", root, &err), 0);
	cJSON_Delete(root);
	assert_int_equal(data->n_resources, 1);
	assert_string_equal(identity_data_resource_id(data, KEYVAULT_TYPE, "kv-pay"),
			    RG "/providers/Microsoft.KeyVault/vaults/KV-Pay");
	assert_null(identity_data_resource_id(data, REGISTRY_TYPE, "kv-pay"));

	root = parse("{\"identityProfile\":{\"kubeletidentity\":{\"clientId\":\"k\"}}}");
	assert_int_equal(identity_data_add_document(data, "d", "cluster.json", root, &err), 0);
	assert_true(data->has_cluster);
	assert_int_equal(data->cluster.n_identities, 1);
	/* A file of another name is not read; a second of the same kind neither. */
	assert_int_equal(identity_data_add_document(data, "d", "notes.json", root, &err), -ENOENT);
	assert_string_equal(err.msg, "d/notes.json: not a file accessmon reads");
	cJSON_Delete(root);
	root = parse("[]");
	assert_int_equal(identity_data_add_document(data, "d", "identities.json", root, &err),
			 -EEXIST);
	cJSON_Delete(root);
	/* Each file is kept as compact JSON, for a recording. */
	assert_string_equal(data->files[0].name, "identities.json");
	assert_non_null(strstr(data->files[0].json, "\"clientId\":\"C1\""));
	identity_data_free(data);
	identity_data_free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(loads_what_is_there_and_says_what_is_not, setup,
						tree_remove),
		cmocka_unit_test_setup_teardown(wrong_files_are_errors_with_a_position, setup,
						tree_remove),
		cmocka_unit_test_setup_teardown(check_reports_every_file, setup, tree_remove),
		cmocka_unit_test(documents_and_lookups),
	};

	return cmocka_run_group_tests_name("identities", tests, NULL, NULL);
}
