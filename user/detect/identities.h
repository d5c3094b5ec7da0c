/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * Identity assignments: which managed identities exist, which roles they hold on
 * which scopes, which service accounts federate to them, and which resources
 * (vaults, registries) those scopes contain. Read from the Azure CLI's raw JSON
 * output in one directory (--identities DIR), each file optional:
 *   role-assignments.json        az role assignment list --all -o json
 *   identities.json              az identity list -o json
 *   cluster.json                 az aks show -o json
 *   federated-credentials*.json  az identity federated-credential list ... -o json
 *   resources.json               az resource list -o json (vault and registry ids)
 */
#ifndef ACCESSMON_IDENTITIES_H
#define ACCESSMON_IDENTITIES_H

#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>

#include "lib/error.h"
#include "attribute/node_identity.h"

struct role_assignment {
	char *principal_id;
	char *role;	    /* roleDefinitionName, or the role's well-known name from its GUID */
	char *role_guid;    /* the last segment of roleDefinitionId, lower case */
	char *scope;
};

struct managed_identity_info {
	char *name;
	char *client_id;
	char *principal_id;
	char *resource_id;
	char *tenant_id;
};

struct federated_credential {
	char *identity_name; /* the user-assigned identity it belongs to */
	char *subject;	     /* system:serviceaccount:<ns>:<sa> */
	char *issuer;
};

struct azure_resource {
	char *name;
	char *type; /* "Microsoft.KeyVault/vaults", ... (lower case) */
	char *id;
};

struct identity_data {
	struct role_assignment *assignments;
	size_t n_assignments;
	struct managed_identity_info *identities;
	size_t n_identities;
	struct federated_credential *federated;
	size_t n_federated;
	struct azure_resource *resources;
	size_t n_resources;
	struct node_identity cluster; /* from cluster.json: kubelet and add-on identities */
	bool has_cluster;
	/* Each file read, as compact JSON, so a recording can carry the data it used. */
	struct {
		char *name;
		char *json;
	} files[64];
	size_t n_files;
	char loaded[256];  /* "role-assignments.json (12), identities.json (3)" */
	char missing[256]; /* "federated-credentials*.json, resources.json" */
};

/*
 * Reads dir into a new identity_data. A file that is there but wrong is an error
 * (err names it and where); a missing one is noted in ->missing.
 */
struct identity_data *identity_data_load(const char *dir, struct am_error *err);
typedef void (*identity_problem_fn)(void *ctx, const char *message);
/* Every file's problem, not only the first; returns how many. */
int identity_data_check(const char *dir, identity_problem_fn problem, void *ctx);
void identity_data_free(struct identity_data *data);
struct identity_data *identity_data_new(void);
/* Adds one parsed file, by its name in the directory (for tests and fuzzing). */
int identity_data_add_document(struct identity_data *data, const char *dir, const char *name,
			       const cJSON *root, struct am_error *err);

/* A role a principal holds at a scope that covers resource_id (case-insensitive prefix). */
bool identity_data_has_role(const struct identity_data *data, const char *principal_id,
			    const char *resource_id, const char *const *roles);
/* The resource id of a vault or registry by its name, or NULL. */
const char *identity_data_resource_id(const struct identity_data *data, const char *type,
				      const char *name);
const struct managed_identity_info *identity_data_by_client_id(const struct identity_data *data,
								const char *client_id);
const struct managed_identity_info *identity_data_by_principal(const struct identity_data *data,
								const char *principal_id);
const struct managed_identity_info *identity_data_by_resource_id(const struct identity_data *data,
								  const char *resource_id);
/* The identity a service account federates to (system:serviceaccount:<ns>:<sa>). */
const struct managed_identity_info *identity_data_by_subject(const struct identity_data *data,
							      const char *namespace,
							      const char *service_account);

extern const char *const KEYVAULT_DATA_ROLES[];
extern const char *const ACR_PULL_ROLES[];
#define KEYVAULT_TYPE "microsoft.keyvault/vaults"
#define MANAGED_HSM_TYPE "microsoft.keyvault/managedhsms"
#define REGISTRY_TYPE "microsoft.containerregistry/registries"

#endif /* ACCESSMON_IDENTITIES_H */
