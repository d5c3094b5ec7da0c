// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* Policy: allow entries and severity overrides; see policy.h. */
#include "policy.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json_input.h"

#define POLICY_MAX_VALUES 16

const char POLICY_DEFAULT_JSON[] =
	"{\n"
	"  \"version\": 1,\n"
	"  \"allow\": [\n"
	"    {\"comment\": \"the kubelet, containerd and the Azure VM agent on the host\",\n"
	"     \"rules\": [\"*\"], \"host_unit\": [\"kubelet.service\", \"containerd.service\",\n"
	"       \"walinuxagent.service\"]},\n"
	"    {\"comment\": \"workload identity proxy sidecar: the app asks for its own identity\",\n"
	"     \"rules\": [\"imds-token-request\"], \"proxy_sidecar\": true,\n"
	"     \"identity_kind\": [\"workload\"]},\n"
	"    {\"comment\": \"Key Vault CSI provider, with its add-on identity\",\n"
	"     \"rules\": [\"imds-token-request\"], \"namespace\": [\"kube-system\"],\n"
	"     \"pod_name_prefix\": [\"aks-secrets-store-provider-azure-\"],\n"
	"     \"identity_kind\": [\"addon\"]},\n"
	"    {\"comment\": \"Key Vault CSI provider reading the vaults it mounts\",\n"
	"     \"rules\": [\"keyvault-unexpected\", \"entra-login-unexpected\"],\n"
	"     \"namespace\": [\"kube-system\"],\n"
	"     \"pod_name_prefix\": [\"aks-secrets-store-provider-azure-\"]},\n"
	"    {\"comment\": \"Azure Monitor agents, with their add-on identity\",\n"
	"     \"rules\": [\"imds-token-request\"], \"namespace\": [\"kube-system\"],\n"
	"     \"pod_name_prefix\": [\"ama-logs-\", \"ama-metrics-\"], \"identity_kind\": [\"addon\"]},\n"
	"    {\"comment\": \"the cloud node manager reads the instance's own metadata\",\n"
	"     \"rules\": [\"imds-access\"], \"namespace\": [\"kube-system\"],\n"
	"     \"pod_name_prefix\": [\"cloud-node-manager-\"]},\n"
	"    {\"comment\": \"AKS network agents: Cilium (ICMP health probes), Retina (capture)\",\n"
	"     \"rules\": [\"raw-socket\"], \"namespace\": [\"kube-system\"],\n"
	"     \"pod_name_prefix\": [\"cilium-\", \"retina-agent-\"]}\n"
	"  ]\n"
	"}\n";

struct values {
	char *items[POLICY_MAX_VALUES];
	size_t n;
};

struct allow_entry {
	char *comment;
	struct values rules;
	struct values namespaces;
	struct values pod_name_prefixes;
	struct values service_accounts;
	struct values containers;
	struct values image_prefixes;
	struct values exes;
	struct values host_units;
	struct values identity_kinds;
	int proxy_sidecar; /* -1: any */
	int host;	   /* -1: any */
};

struct severity_override {
	char *rule;
	enum severity severity;
};

struct policy {
	char *json;
	struct allow_entry *allow;
	size_t n_allow;
	struct severity_override *overrides;
	size_t n_overrides;
};

static const char *const known_rules[] = {
	"imds-token-request", "imds-access",	  "wireserver-access",	  "keyvault-unexpected",
	"acr-unexpected",     "entra-login-unexpected", "node-credential-read", "foreign-token-read",
	"identity-theft-chain", "events-lost", "raw-socket", "tls-name-mismatch", NULL,
};

static bool known_rule(const char *name)
{
	const char *const *rule;

	for (rule = known_rules; *rule; rule++)
		if (strcmp(*rule, name) == 0)
			return true;
	return false;
}

const char *severity_name(enum severity severity)
{
	switch (severity) {
	case SEVERITY_LOW:
		return "low";
	case SEVERITY_MEDIUM:
		return "medium";
	case SEVERITY_HIGH:
		return "high";
	case SEVERITY_CRITICAL:
		return "critical";
	default:
		return "none";
	}
}

enum severity severity_parse(const char *name)
{
	enum severity s;

	for (s = SEVERITY_LOW; s <= SEVERITY_CRITICAL; s++)
		if (name && strcmp(name, severity_name(s)) == 0)
			return s;
	return SEVERITY_NONE;
}

static void values_release(struct values *values)
{
	size_t i;

	for (i = 0; i < values->n; i++)
		free(values->items[i]);
	values->n = 0;
}

static void entry_release(struct allow_entry *e)
{
	free(e->comment);
	values_release(&e->rules);
	values_release(&e->namespaces);
	values_release(&e->pod_name_prefixes);
	values_release(&e->service_accounts);
	values_release(&e->containers);
	values_release(&e->image_prefixes);
	values_release(&e->exes);
	values_release(&e->host_units);
	values_release(&e->identity_kinds);
}

void policy_free(struct policy *policy)
{
	size_t i;

	if (!policy)
		return;
	for (i = 0; i < policy->n_allow; i++)
		entry_release(&policy->allow[i]);
	free(policy->allow);
	for (i = 0; i < policy->n_overrides; i++)
		free(policy->overrides[i].rule);
	free(policy->overrides);
	free(policy->json);
	free(policy);
}

const char *policy_json(const struct policy *policy)
{
	return policy->json;
}

/* A condition: a string or an array of strings. */
static int values_parse(const cJSON *entry, const char *key, struct values *out, const char *where,
			struct am_error *err)
{
	const cJSON *item = cJSON_GetObjectItemCaseSensitive(entry, key), *value;

	if (!item)
		return 0;
	if (cJSON_IsString(item)) {
		out->items[out->n++] = strdup(item->valuestring);
		return 0;
	}
	if (!cJSON_IsArray(item)) {
		am_error_set(err, "%s.%s: expected a string or an array of strings", where, key);
		return -EINVAL;
	}
	cJSON_ArrayForEach(value, item)
	{
		if (!cJSON_IsString(value)) {
			am_error_set(err, "%s.%s: expected strings", where, key);
			return -EINVAL;
		}
		if (out->n >= POLICY_MAX_VALUES) {
			am_error_set(err, "%s.%s: at most %d values", where, key, POLICY_MAX_VALUES);
			return -EINVAL;
		}
		out->items[out->n++] = strdup(value->valuestring);
	}
	return 0;
}

static int flag_parse(const cJSON *entry, const char *key, int *out, const char *where,
		      struct am_error *err)
{
	const cJSON *item = cJSON_GetObjectItemCaseSensitive(entry, key);

	*out = -1;
	if (!item)
		return 0;
	if (!cJSON_IsBool(item)) {
		am_error_set(err, "%s.%s: expected true or false", where, key);
		return -EINVAL;
	}
	*out = cJSON_IsTrue(item);
	return 0;
}

static const char *const allow_keys[] = {
	"comment",	  "rules",	"namespace", "pod_name_prefix", "service_account",
	"container",	  "image_prefix", "exe",	     "host_unit",	     "identity_kind",
	"proxy_sidecar", "host",	NULL,
};

static int entry_parse(const cJSON *item, struct allow_entry *e, const char *where,
		       struct am_error *err)
{
	const cJSON *member;
	size_t i;

	if (!cJSON_IsObject(item)) {
		am_error_set(err, "%s: expected an object", where);
		return -EINVAL;
	}
	cJSON_ArrayForEach(member, item)
	{
		const char *const *key;

		for (key = allow_keys; *key && strcmp(*key, member->string) != 0; key++)
			;
		if (!*key) {
			am_error_set(err, "%s: unknown condition \"%s\"", where, member->string);
			return -EINVAL;
		}
	}
	e->comment = json_member_string(item, "comment") ? strdup(json_member_string(item, "comment"))
							  : strdup(where);
	if (values_parse(item, "rules", &e->rules, where, err) ||
	    values_parse(item, "namespace", &e->namespaces, where, err) ||
	    values_parse(item, "pod_name_prefix", &e->pod_name_prefixes, where, err) ||
	    values_parse(item, "service_account", &e->service_accounts, where, err) ||
	    values_parse(item, "container", &e->containers, where, err) ||
	    values_parse(item, "image_prefix", &e->image_prefixes, where, err) ||
	    values_parse(item, "exe", &e->exes, where, err) ||
	    values_parse(item, "host_unit", &e->host_units, where, err) ||
	    values_parse(item, "identity_kind", &e->identity_kinds, where, err) ||
	    flag_parse(item, "proxy_sidecar", &e->proxy_sidecar, where, err) ||
	    flag_parse(item, "host", &e->host, where, err))
		return -EINVAL;
	if (!e->rules.n) {
		am_error_set(err, "%s.rules: missing; name the rules it allows, or \"*\"", where);
		return -EINVAL;
	}
	for (i = 0; i < e->rules.n; i++) {
		if (strcmp(e->rules.items[i], "*") != 0 && !known_rule(e->rules.items[i])) {
			am_error_set(err, "%s.rules[%zu]: unknown rule \"%s\"", where, i,
				     e->rules.items[i]);
			return -EINVAL;
		}
	}
	return 0;
}

struct policy *policy_parse(const cJSON *root, const char *source, struct am_error *err)
{
	const cJSON *allow, *severity, *item;
	struct policy *policy;
	char where[128];

	if (!cJSON_IsObject(root)) {
		am_error_set(err, "%s: expected a policy object", source);
		return NULL;
	}
	allow = cJSON_GetObjectItemCaseSensitive(root, "allow");
	severity = cJSON_GetObjectItemCaseSensitive(root, "severity");
	if ((allow && !cJSON_IsArray(allow)) || (severity && !cJSON_IsObject(severity))) {
		am_error_set(err, "%s: allow must be an array and severity an object", source);
		return NULL;
	}
	policy = calloc(1, sizeof(*policy));
	if (!policy)
		return NULL;
	policy->json = cJSON_PrintUnformatted(root);
	policy->allow = calloc((size_t)cJSON_GetArraySize(allow) + 1, sizeof(*policy->allow));
	policy->overrides = calloc((size_t)cJSON_GetArraySize(severity) + 1,
				   sizeof(*policy->overrides));
	cJSON_ArrayForEach(item, allow)
	{
		snprintf(where, sizeof(where), "%s: allow[%zu]", source, policy->n_allow);
		if (entry_parse(item, &policy->allow[policy->n_allow++], where, err)) {
			policy_free(policy);
			return NULL;
		}
	}
	cJSON_ArrayForEach(item, severity)
	{
		enum severity s = severity_parse(cJSON_IsString(item) ? item->valuestring : NULL);

		if (!known_rule(item->string) || s == SEVERITY_NONE) {
			am_error_set(err, "%s: severity.%s: expected a rule name and low, medium, high "
					  "or critical",
				     source, item->string);
			policy_free(policy);
			return NULL;
		}
		policy->overrides[policy->n_overrides].rule = strdup(item->string);
		policy->overrides[policy->n_overrides++].severity = s;
	}
	return policy;
}

int policy_check(const cJSON *root, const char *source, policy_problem_fn problem, void *ctx)
{
	const cJSON *allow, *severity, *item;
	struct am_error err;
	char where[128];
	size_t index = 0;
	int problems = 0;

	if (!cJSON_IsObject(root)) {
		am_error_set(&err, "%s: expected a policy object", source);
		problem(ctx, err.msg);
		return 1;
	}
	allow = cJSON_GetObjectItemCaseSensitive(root, "allow");
	severity = cJSON_GetObjectItemCaseSensitive(root, "severity");
	if (allow && !cJSON_IsArray(allow)) {
		am_error_set(&err, "%s: allow must be an array", source);
		problem(ctx, err.msg);
		problems++;
		allow = NULL;
	}
	if (severity && !cJSON_IsObject(severity)) {
		am_error_set(&err, "%s: severity must be an object", source);
		problem(ctx, err.msg);
		problems++;
		severity = NULL;
	}
	cJSON_ArrayForEach(item, allow)
	{
		struct allow_entry entry = {0};

		snprintf(where, sizeof(where), "%s: allow[%zu]", source, index++);
		if (entry_parse(item, &entry, where, &err)) {
			problem(ctx, err.msg);
			problems++;
		}
		entry_release(&entry);
	}
	cJSON_ArrayForEach(item, severity)
	{
		if (!known_rule(item->string) ||
		    severity_parse(cJSON_IsString(item) ? item->valuestring : NULL) == SEVERITY_NONE) {
			am_error_set(&err, "%s: severity.%s: expected a rule name and low, medium, "
					   "high or critical",
				     source, item->string);
			problem(ctx, err.msg);
			problems++;
		}
	}
	return problems;
}

struct policy *policy_load(const char *path, struct am_error *err)
{
	cJSON *root = json_input_load_file(path, err);
	struct policy *policy;

	if (!root)
		return NULL;
	policy = policy_parse(root, path, err);
	cJSON_Delete(root);
	return policy;
}

struct policy *policy_default(void)
{
	struct am_error err;
	cJSON *root = cJSON_Parse(POLICY_DEFAULT_JSON);
	struct policy *policy = root ? policy_parse(root, "default policy", &err) : NULL;

	cJSON_Delete(root);
	if (!policy && root) {
		/* A built-in text that does not parse is the build's fault, never the user's. */
		fprintf(stderr, "accessmon: the built-in policy is wrong: %s\n", err.msg);
		abort();
	}
	return policy;
}

static bool in(const struct values *values, const char *value, bool prefix)
{
	size_t i;

	if (!values->n)
		return true; /* no condition */
	if (!value)
		return false;
	for (i = 0; i < values->n; i++) {
		size_t len = strlen(values->items[i]);

		if (prefix ? strncmp(value, values->items[i], len) == 0
			   : strcmp(value, values->items[i]) == 0)
			return true;
	}
	return false;
}

static bool rule_in(const struct values *rules, const char *rule)
{
	size_t i;

	for (i = 0; i < rules->n; i++)
		if (strcmp(rules->items[i], "*") == 0 || strcmp(rules->items[i], rule) == 0)
			return true;
	return false;
}

const char *policy_allows(const struct policy *policy, const struct policy_subject *s)
{
	size_t i;

	for (i = 0; policy && i < policy->n_allow; i++) {
		const struct allow_entry *e = &policy->allow[i];

		if (!rule_in(&e->rules, s->rule))
			continue;
		/* Pod conditions never match a host process, and host units never a pod's. */
		if (s->host && (e->namespaces.n || e->pod_name_prefixes.n || e->service_accounts.n ||
				e->containers.n || e->image_prefixes.n || e->proxy_sidecar == 1))
			continue;
		if (!s->host && e->host_units.n)
			continue;
		if (e->host != -1 && e->host != (int)s->host)
			continue;
		if (e->proxy_sidecar != -1 && e->proxy_sidecar != (int)s->proxy_sidecar)
			continue;
		if (in(&e->namespaces, s->namespace, false) &&
		    in(&e->pod_name_prefixes, s->pod_name, true) &&
		    in(&e->service_accounts, s->service_account, false) &&
		    in(&e->containers, s->container, false) &&
		    in(&e->image_prefixes, s->image, true) && in(&e->exes, s->exe, false) &&
		    in(&e->host_units, s->host_unit, false) &&
		    in(&e->identity_kinds, s->identity_kind, false))
			return e->comment;
	}
	return NULL;
}

enum severity policy_severity(const struct policy *policy, const char *rule, enum severity severity)
{
	size_t i;

	for (i = 0; policy && i < policy->n_overrides; i++)
		if (strcmp(policy->overrides[i].rule, rule) == 0)
			return policy->overrides[i].severity;
	return severity;
}
