// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* Identity assignments from the Azure CLI's output; see identities.h. */
#include "detect/identities.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lib/json_input.h"

/* Roles by name, and their built-in definition GUIDs (a custom name may rename them). */
static const struct {
	const char *guid;
	const char *name;
} well_known_roles[] = {
	{"7f951dda-4ed3-4680-a7ca-43fe172d538d", "AcrPull"},
	{"8311e382-0749-4cb8-b61a-304f252e45ec", "AcrPush"},
	{"4633458b-17de-408a-b874-0445c86b69e6", "Key Vault Secrets User"},
	{"21090545-7ca7-4776-b22c-e363652d74d2", "Key Vault Reader"},
	{"b86a8fe4-44ce-4948-aee5-eccb2c155cd7", "Key Vault Secrets Officer"},
	{"12338af0-0e69-4776-bea7-57ae8d297424", "Key Vault Crypto User"},
	{"14b46e9e-c2b7-41b4-b07b-48a6ebf60603", "Key Vault Crypto Officer"},
	{"a4417e6f-fecd-4de8-b567-7b0420556985", "Key Vault Certificates Officer"},
	{"db79e9a7-68ee-4b58-9aeb-b90e7c24fcba", "Key Vault Certificate User"},
	{"00482a5a-887f-4fb3-b363-3b7fe8e74483", "Key Vault Administrator"},
	{"e147488a-f6f5-4113-8e2d-b22465e65bf6", "Key Vault Crypto Service Encryption User"},
	{"08bbd89e-9f13-488c-ac41-acfcb10c90ab", "Key Vault Crypto Service Release User"},
	{"4d97b98b-1d4f-4787-a291-c67834d212e7", "Network Contributor"},
	{"3913510d-42f4-4e42-8a64-420c390055eb", "Monitoring Metrics Publisher"},
	{"9980e02c-c2be-4d73-94e8-173b1dc7cf3c", "Virtual Machine Contributor"},
};

const char *const KEYVAULT_DATA_ROLES[] = {
	"Key Vault Secrets User",	  "Key Vault Reader",
	"Key Vault Secrets Officer",	  "Key Vault Crypto User",
	"Key Vault Crypto Officer",	  "Key Vault Certificates Officer",
	"Key Vault Certificate User",	  "Key Vault Administrator",
	"Key Vault Crypto Service Encryption User", "Key Vault Crypto Service Release User",
	"Managed HSM Crypto User",	  NULL,
};

const char *const ACR_PULL_ROLES[] = {"AcrPull", "AcrPush", NULL};

static char *dup_or_null(const char *s)
{
	return s ? strdup(s) : NULL;
}

static char *dup_lower(const char *s)
{
	char *copy = dup_or_null(s), *p;

	for (p = copy; p && *p; p++)
		*p = (char)tolower((unsigned char)*p);
	return copy;
}

static const char *role_name_of_guid(const char *guid)
{
	size_t i;

	for (i = 0; guid && i < sizeof(well_known_roles) / sizeof(well_known_roles[0]); i++)
		if (strcasecmp(guid, well_known_roles[i].guid) == 0)
			return well_known_roles[i].name;
	return NULL;
}

static void note(char *list, size_t len, const char *what)
{
	size_t used = strlen(list);

	snprintf(list + used, len - used, "%s%s", used ? ", " : "", what);
}

/* Loads dir/name when it exists: 0 and *out, 1 when absent, negative on error. */
static int load(const char *dir, const char *name, cJSON **out, struct am_error *err)
{
	char path[4096];
	FILE *probe;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	probe = fopen(path, "re");
	if (!probe)
		return 1;
	fclose(probe);
	*out = json_input_load_file(path, err);
	return *out ? 0 : -EINVAL;
}

static int expect_array(const cJSON *root, const char *dir, const char *name, struct am_error *err)
{
	if (cJSON_IsArray(root))
		return 0;
	am_error_set(err, "%s/%s: expected a JSON array, as `az ... list -o json` prints", dir, name);
	return -EINVAL;
}

static int load_assignments(struct identity_data *data, const cJSON *root, const char *dir,
			    struct am_error *err)
{
	const cJSON *item;
	size_t i = 0;

	if (expect_array(root, dir, "role-assignments.json", err))
		return -EINVAL;
	data->assignments = calloc((size_t)cJSON_GetArraySize(root) + 1, sizeof(*data->assignments));
	if (!data->assignments)
		return -ENOMEM;
	cJSON_ArrayForEach(item, root)
	{
		struct role_assignment *a = &data->assignments[data->n_assignments];
		const char *principal = json_member_string(item, "principalId");
		const char *scope = json_member_string(item, "scope");
		const char *definition = json_member_string(item, "roleDefinitionId");
		const char *name = json_member_string(item, "roleDefinitionName");
		const char *guid = definition ? strrchr(definition, '/') : NULL;

		if (!principal || !scope || (!definition && !name)) {
			am_error_set(err, "%s/role-assignments.json: [%zu]: needs principalId, scope "
					  "and roleDefinitionName or roleDefinitionId",
				     dir, i);
			return -EINVAL;
		}
		i++;
		a->principal_id = dup_lower(principal);
		a->scope = strdup(scope);
		a->role_guid = dup_lower(guid ? guid + 1 : definition);
		if (!name)
			name = role_name_of_guid(a->role_guid);
		a->role = strdup(name ? name : (a->role_guid ? a->role_guid : "unknown"));
		data->n_assignments++;
	}
	return 0;
}

static int load_identities(struct identity_data *data, const cJSON *root, const char *dir,
			   struct am_error *err)
{
	const cJSON *item;

	if (expect_array(root, dir, "identities.json", err))
		return -EINVAL;
	data->identities = calloc((size_t)cJSON_GetArraySize(root) + 1, sizeof(*data->identities));
	if (!data->identities)
		return -ENOMEM;
	cJSON_ArrayForEach(item, root)
	{
		struct managed_identity_info *identity = &data->identities[data->n_identities];

		identity->name = dup_or_null(json_member_string(item, "name"));
		identity->client_id = dup_lower(json_member_string(item, "clientId"));
		identity->principal_id = dup_lower(json_member_string(item, "principalId"));
		identity->resource_id = dup_or_null(json_member_string(item, "id"));
		identity->tenant_id = dup_or_null(json_member_string(item, "tenantId"));
		/* Counted first, so that a bad entry's strings are freed with the rest. */
		data->n_identities++;
		if (!identity->client_id && !identity->principal_id) {
			am_error_set(err, "%s/identities.json: [%zu]: needs clientId or principalId",
				     dir, data->n_identities - 1);
			return -EINVAL;
		}
	}
	return 0;
}

/* .../userAssignedIdentities/<identity>/federatedIdentityCredentials/<name> */
static char *identity_of_credential(const char *id)
{
	const char *marker = id ? strcasestr(id, "/userAssignedIdentities/") : NULL;
	const char *start, *end;
	char *name;

	if (!marker)
		return NULL;
	start = marker + strlen("/userAssignedIdentities/");
	end = strchr(start, '/');
	if (!end)
		end = start + strlen(start);
	name = strndup(start, (size_t)(end - start));
	return name;
}

static int load_federated(struct identity_data *data, const cJSON *root, const char *dir,
			  const char *file, struct am_error *err)
{
	struct federated_credential *grown;
	const cJSON *item;

	if (expect_array(root, dir, file, err))
		return -EINVAL;
	grown = realloc(data->federated,
			(data->n_federated + (size_t)cJSON_GetArraySize(root) + 1) * sizeof(*grown));
	if (!grown)
		return -ENOMEM;
	data->federated = grown;
	cJSON_ArrayForEach(item, root)
	{
		struct federated_credential *fc = &data->federated[data->n_federated];
		const char *subject = json_member_string(item, "subject");

		fc->identity_name = identity_of_credential(json_member_string(item, "id"));
		fc->subject = dup_or_null(subject);
		fc->issuer = dup_or_null(json_member_string(item, "issuer"));
		if (!fc->subject || !fc->identity_name) {
			am_error_set(err, "%s/%s: [%zu]: needs subject and an id under "
					  "userAssignedIdentities/<name>",
				     dir, file, data->n_federated);
			free(fc->identity_name);
			free(fc->subject);
			free(fc->issuer);
			return -EINVAL;
		}
		data->n_federated++;
	}
	return 0;
}

static int load_resources(struct identity_data *data, const cJSON *root, const char *dir,
			  struct am_error *err)
{
	const cJSON *item;

	if (expect_array(root, dir, "resources.json", err))
		return -EINVAL;
	data->resources = calloc((size_t)cJSON_GetArraySize(root) + 1, sizeof(*data->resources));
	if (!data->resources)
		return -ENOMEM;
	cJSON_ArrayForEach(item, root)
	{
		const char *id = json_member_string(item, "id");
		const char *name = json_member_string(item, "name");
		const char *type = json_member_string(item, "type");

		if (!id || !name || !type)
			continue;
		data->resources[data->n_resources].id = strdup(id);
		data->resources[data->n_resources].name = dup_lower(name);
		data->resources[data->n_resources].type = dup_lower(type);
		data->n_resources++;
	}
	return 0;
}

struct identity_data *identity_data_new(void)
{
	struct identity_data *data = calloc(1, sizeof(*data));

	if (data)
		node_identity_init(&data->cluster);
	return data;
}

int identity_data_add_document(struct identity_data *data, const char *dir, const char *name,
			       const cJSON *root, struct am_error *err)
{
	char source[4096];

	if (data->n_files < sizeof(data->files) / sizeof(data->files[0])) {
		data->files[data->n_files].name = strdup(name);
		data->files[data->n_files].json = cJSON_PrintUnformatted(root);
		data->n_files++;
	}
	if (strcmp(name, "role-assignments.json") == 0)
		return data->assignments ? -EEXIST : load_assignments(data, root, dir, err);
	if (strcmp(name, "identities.json") == 0)
		return data->identities ? -EEXIST : load_identities(data, root, dir, err);
	if (strcmp(name, "resources.json") == 0)
		return data->resources ? -EEXIST : load_resources(data, root, dir, err);
	if (strcmp(name, "cluster.json") == 0) {
		snprintf(source, sizeof(source), "%s/%s", dir, name);
		if (node_identity_load_cluster(&data->cluster, root, source, err))
			return -EINVAL;
		data->has_cluster = true;
		return 0;
	}
	if (strncmp(name, "federated-credentials", 21) == 0)
		return load_federated(data, root, dir, name, err);
	am_error_set(err, "%s/%s: not a file accessmon reads", dir, name);
	return -ENOENT;
}

void identity_data_free(struct identity_data *data)
{
	size_t i;

	if (!data)
		return;
	for (i = 0; i < data->n_assignments; i++) {
		free(data->assignments[i].principal_id);
		free(data->assignments[i].role);
		free(data->assignments[i].role_guid);
		free(data->assignments[i].scope);
	}
	free(data->assignments);
	for (i = 0; i < data->n_identities; i++) {
		free(data->identities[i].name);
		free(data->identities[i].client_id);
		free(data->identities[i].principal_id);
		free(data->identities[i].resource_id);
		free(data->identities[i].tenant_id);
	}
	free(data->identities);
	for (i = 0; i < data->n_federated; i++) {
		free(data->federated[i].identity_name);
		free(data->federated[i].subject);
		free(data->federated[i].issuer);
	}
	free(data->federated);
	for (i = 0; i < data->n_resources; i++) {
		free(data->resources[i].name);
		free(data->resources[i].type);
		free(data->resources[i].id);
	}
	free(data->resources);
	node_identity_release(&data->cluster);
	for (i = 0; i < data->n_files; i++) {
		free(data->files[i].name);
		free(data->files[i].json);
	}
	free(data);
}

/* How many entries a file gave, for the "loaded" line. */
static size_t entries_of(const struct identity_data *data, const char *name)
{
	if (strcmp(name, "role-assignments.json") == 0)
		return data->n_assignments;
	if (strcmp(name, "identities.json") == 0)
		return data->n_identities;
	if (strcmp(name, "resources.json") == 0)
		return data->n_resources;
	return 0;
}

/* Reads one file when it is there, and notes it loaded or missing. */
static int load_named(struct identity_data *data, const char *dir, const char *name,
		      struct am_error *err)
{
	char count[96];
	cJSON *root;
	int rc = load(dir, name, &root, err);

	if (rc == 1) {
		note(data->missing, sizeof(data->missing), name);
		return 0;
	}
	if (rc < 0)
		return rc;
	rc = identity_data_add_document(data, dir, name, root, err);
	cJSON_Delete(root);
	if (rc)
		return rc;
	if (strcmp(name, "cluster.json") == 0)
		snprintf(count, sizeof(count), "%s", name);
	else
		snprintf(count, sizeof(count), "%s (%zu)", name, entries_of(data, name));
	note(data->loaded, sizeof(data->loaded), count);
	return 0;
}

/* Reads the directory; with `problem`, every file's problem is said and counted. */
static struct identity_data *load_dir(const char *dir, struct am_error *err,
				      identity_problem_fn problem, void *ctx, int *problems)
{
	static const char *const files[] = {"role-assignments.json", "identities.json",
					    "cluster.json", "resources.json"};
	struct identity_data *data = identity_data_new();
	bool any_federated = false;
	struct dirent *dent;
	char count[64];
	cJSON *root;
	DIR *handle;
	size_t i;
	int rc;

	if (!data) {
		am_error_set(err, "out of memory");
		return NULL;
	}
	handle = opendir(dir);
	if (!handle) {
		am_error_set(err, "--identities %s: %s", dir, strerror(errno));
		goto fail;
	}
	closedir(handle);
	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		if (load_named(data, dir, files[i], err) == 0)
			continue;
		if (!problem)
			goto fail;
		problem(ctx, err->msg);
		(*problems)++;
	}
	handle = opendir(dir);
	while (handle && (dent = readdir(handle))) {
		size_t len = strlen(dent->d_name);

		if (strncmp(dent->d_name, "federated-credentials", 21) != 0 || len < 5 ||
		    strcmp(dent->d_name + len - 5, ".json") != 0)
			continue;
		rc = load(dir, dent->d_name, &root, err);
		if (rc == 0) {
			rc = identity_data_add_document(data, dir, dent->d_name, root, err);
			cJSON_Delete(root);
		}
		if (rc && problem) {
			problem(ctx, err->msg);
			(*problems)++;
		} else if (rc) {
			closedir(handle);
			goto fail;
		}
		any_federated = true;
	}
	if (handle)
		closedir(handle);
	if (any_federated) {
		snprintf(count, sizeof(count), "federated-credentials*.json (%zu)", data->n_federated);
		note(data->loaded, sizeof(data->loaded), count);
	} else {
		note(data->missing, sizeof(data->missing), "federated-credentials*.json");
	}
	return data;
fail:
	identity_data_free(data);
	return NULL;
}

struct identity_data *identity_data_load(const char *dir, struct am_error *err)
{
	return load_dir(dir, err, NULL, NULL, NULL);
}

int identity_data_check(const char *dir, identity_problem_fn problem, void *ctx)
{
	struct am_error err;
	int problems = 0;
	struct identity_data *data = load_dir(dir, &err, problem, ctx, &problems);

	if (!data) {
		problem(ctx, err.msg);
		return problems + 1;
	}
	identity_data_free(data);
	return problems;
}

/* Whether scope covers resource_id: a case-insensitive prefix ending at a path boundary. */
static bool scope_covers(const char *scope, const char *resource_id)
{
	size_t len = strlen(scope);

	while (len > 1 && scope[len - 1] == '/')
		len--;
	if (strncasecmp(scope, resource_id, len) != 0)
		return false;
	return resource_id[len] == '\0' || resource_id[len] == '/' || (len == 1 && scope[0] == '/');
}

static bool role_in(const struct role_assignment *a, const char *const *roles)
{
	const char *guid_name = role_name_of_guid(a->role_guid);

	for (; *roles; roles++)
		if (strcasecmp(a->role, *roles) == 0 || (guid_name && strcmp(guid_name, *roles) == 0))
			return true;
	return false;
}

bool identity_data_has_role(const struct identity_data *data, const char *principal_id,
			    const char *resource_id, const char *const *roles)
{
	size_t i;

	if (!data || !principal_id || !resource_id)
		return false;
	for (i = 0; i < data->n_assignments; i++) {
		const struct role_assignment *a = &data->assignments[i];

		if (strcasecmp(a->principal_id, principal_id) == 0 && role_in(a, roles) &&
		    scope_covers(a->scope, resource_id))
			return true;
	}
	return false;
}

const char *identity_data_resource_id(const struct identity_data *data, const char *type,
				      const char *name)
{
	char suffix[512];
	size_t i;

	if (!data || !name || !*name)
		return NULL;
	for (i = 0; i < data->n_resources; i++)
		if (strcasecmp(data->resources[i].type, type) == 0 &&
		    strcasecmp(data->resources[i].name, name) == 0)
			return data->resources[i].id;
	/* A role assignment at the resource's own scope names it too. */
	snprintf(suffix, sizeof(suffix), "/providers/%s/%s", type, name);
	for (i = 0; i < data->n_assignments; i++) {
		const char *scope = data->assignments[i].scope;
		size_t len = strlen(scope), slen = strlen(suffix);

		if (len >= slen && strcasecmp(scope + len - slen, suffix) == 0)
			return scope;
	}
	return NULL;
}

const struct managed_identity_info *identity_data_by_client_id(const struct identity_data *data,
								const char *client_id)
{
	size_t i;

	for (i = 0; data && client_id && i < data->n_identities; i++)
		if (data->identities[i].client_id &&
		    strcasecmp(data->identities[i].client_id, client_id) == 0)
			return &data->identities[i];
	return NULL;
}

const struct managed_identity_info *identity_data_by_principal(const struct identity_data *data,
								const char *principal_id)
{
	size_t i;

	for (i = 0; data && principal_id && i < data->n_identities; i++)
		if (data->identities[i].principal_id &&
		    strcasecmp(data->identities[i].principal_id, principal_id) == 0)
			return &data->identities[i];
	return NULL;
}

const struct managed_identity_info *identity_data_by_resource_id(const struct identity_data *data,
								  const char *resource_id)
{
	size_t i;

	for (i = 0; data && resource_id && i < data->n_identities; i++)
		if (data->identities[i].resource_id &&
		    strcasecmp(data->identities[i].resource_id, resource_id) == 0)
			return &data->identities[i];
	return NULL;
}

const struct managed_identity_info *identity_data_by_subject(const struct identity_data *data,
							      const char *namespace,
							      const char *service_account)
{
	char subject[512];
	size_t i, j;

	if (!data || !namespace || !service_account)
		return NULL;
	snprintf(subject, sizeof(subject), "system:serviceaccount:%s:%s", namespace,
		 service_account);
	for (i = 0; i < data->n_federated; i++) {
		if (strcmp(data->federated[i].subject, subject) != 0)
			continue;
		for (j = 0; j < data->n_identities; j++)
			if (data->identities[j].name &&
			    strcasecmp(data->identities[j].name, data->federated[i].identity_name) == 0)
				return &data->identities[j];
	}
	return NULL;
}
