// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* Policy: allow entries and severity overrides; see policy.h. */
#include "detect/policy.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/json_input.h"
#include "attribute/watch.h"

#define POLICY_MAX_VALUES 16

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
	struct values secret_kinds;
	struct values secret_path_prefixes;
	int access;	   /* -1: any, else enum secret_access */
	int proxy_sidecar; /* -1: any */
	int host;	   /* -1: any */
};

/* What an open of a secret file could do, as `access` names it. */
enum secret_access {
	SECRET_READ = 0, /* the open could not write */
	SECRET_WRITE,	 /* it could */
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
	"secret-tampering",
	"identity-theft-chain", "events-lost", "raw-socket", "tls-name-mismatch", NULL,
};

/* The rules whose alerts are about an open of a secret file: what secret_* and access judge. */
static const char *const secret_rules[] = {
	"node-credential-read",
	"foreign-token-read",
	"secret-tampering",
	NULL,
};

static bool listed(const char *const *list, const char *name)
{
	for (; *list; list++)
		if (strcmp(*list, name) == 0)
			return true;
	return false;
}

static bool known_rule(const char *name)
{
	return listed(known_rules, name);
}

/* The watch kinds' names are the secret kinds an entry can name. */
#define SECRET_KIND_MAX 64

static bool known_secret_kind(const char *name)
{
	int kind;

	for (kind = 1; kind < SECRET_KIND_MAX; kind++) {
		const char *known = watch_kind_name((enum watch_kind)kind);

		if (strcmp(known, "unknown") != 0 && strcmp(known, name) == 0)
			return true;
	}
	return false;
}

/* "node-cloud-config, kubelet-credentials, ...": every kind once, for errors. */
static void secret_kind_list(char *buf, size_t len)
{
	size_t used = 0;
	int kind, earlier;

	buf[0] = '\0';
	for (kind = 1; kind < SECRET_KIND_MAX; kind++) {
		const char *name = watch_kind_name((enum watch_kind)kind);

		for (earlier = 1; earlier < kind; earlier++)
			if (strcmp(watch_kind_name((enum watch_kind)earlier), name) == 0)
				break;
		if (earlier < kind || strcmp(name, "unknown") == 0 || used >= len)
			continue;
		used += (size_t)snprintf(buf + used, len - used, "%s%s", used ? ", " : "", name);
	}
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
	values_release(&e->secret_kinds);
	values_release(&e->secret_path_prefixes);
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

/* Free text: what the entry is for, and where the behaviour it allows is documented. */
static int text_parse(const cJSON *entry, const char *key, const char *where, struct am_error *err)
{
	const cJSON *item = cJSON_GetObjectItemCaseSensitive(entry, key);

	if (item && !cJSON_IsString(item)) {
		am_error_set(err, "%s.%s: expected a string", where, key);
		return -EINVAL;
	}
	return 0;
}

static int access_parse(const cJSON *entry, int *out, const char *where, struct am_error *err)
{
	const cJSON *item = cJSON_GetObjectItemCaseSensitive(entry, "access");

	*out = -1;
	if (!item)
		return 0;
	if (cJSON_IsString(item) && strcmp(item->valuestring, "read") == 0)
		*out = SECRET_READ;
	else if (cJSON_IsString(item) && strcmp(item->valuestring, "write") == 0)
		*out = SECRET_WRITE;
	else {
		am_error_set(err, "%s.access: expected \"read\" (opens that cannot write) or "
				  "\"write\" (opens that can)",
			     where);
		return -EINVAL;
	}
	return 0;
}

/*
 * Image prefixes name a repository; secret kinds are the watch's; path prefixes
 * are absolute, as the node names its files.
 */
static int conditions_check(const struct allow_entry *e, const char *where, struct am_error *err)
{
	char kinds[512];
	size_t i;

	for (i = 0; i < e->image_prefixes.n; i++) {
		if (!e->image_prefixes.items[i][0]) {
			am_error_set(err, "%s.image_prefix[%zu]: expected a repository "
					  "(\"mcr.microsoft.com/oss/x\") or a registry ending in '/'",
				     where, i);
			return -EINVAL;
		}
	}

	for (i = 0; i < e->secret_kinds.n; i++) {
		if (!known_secret_kind(e->secret_kinds.items[i])) {
			secret_kind_list(kinds, sizeof(kinds));
			am_error_set(err, "%s.secret_kind[%zu]: unknown secret kind \"%s\"; known: %s",
				     where, i, e->secret_kinds.items[i], kinds);
			return -EINVAL;
		}
	}
	for (i = 0; i < e->secret_path_prefixes.n; i++) {
		if (e->secret_path_prefixes.items[i][0] != '/') {
			am_error_set(err, "%s.secret_path_prefix[%zu]: expected an absolute path, "
					  "not \"%s\"",
				     where, i, e->secret_path_prefixes.items[i]);
			return -EINVAL;
		}
	}
	if (!e->secret_kinds.n && !e->secret_path_prefixes.n && e->access == -1)
		return 0;
	/* Other rules' alerts are about no file: such an entry would never match. */
	for (i = 0; i < e->rules.n; i++) {
		if (strcmp(e->rules.items[i], "*") != 0 &&
		    !listed(secret_rules, e->rules.items[i])) {
			am_error_set(err, "%s: secret_kind, secret_path_prefix and access match only "
					  "node-credential-read, foreign-token-read and "
					  "secret-tampering, not \"%s\"",
				     where, e->rules.items[i]);
			return -EINVAL;
		}
	}
	return 0;
}

static const char *const allow_keys[] = {
	"comment",	  "source",	"rules",	      "namespace",  "pod_name_prefix",
	"service_account", "container", "image_prefix",      "exe",	    "host_unit",
	"identity_kind",  "secret_kind", "secret_path_prefix", "access",	    "proxy_sidecar",
	"host",		  NULL,
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
	if (text_parse(item, "comment", where, err) || text_parse(item, "source", where, err))
		return -EINVAL;
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
	    values_parse(item, "secret_kind", &e->secret_kinds, where, err) ||
	    values_parse(item, "secret_path_prefix", &e->secret_path_prefixes, where, err) ||
	    access_parse(item, &e->access, where, err) ||
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
	return conditions_check(e, where, err);
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

typedef bool (*match_fn)(const char *pattern, const char *value);

static bool same(const char *pattern, const char *value)
{
	return strcmp(pattern, value) == 0;
}

static bool starts(const char *pattern, const char *value)
{
	return strncmp(value, pattern, strlen(pattern)) == 0;
}

/*
 * An image prefix names one repository, with any tag or digest:
 * "mcr.microsoft.com/oss/x" matches "mcr.microsoft.com/oss/x:v1" and
 * "mcr.microsoft.com/oss/x@sha256:...", never "...x-debug" or "...x/y". A prefix
 * ending in '/' (or ':', '@') matches everything below it: "myreg.azurecr.io/"
 * every repository of that registry, and never "myreg.azurecr.io.example.net".
 */
static bool image_starts(const char *pattern, const char *value)
{
	size_t len = strlen(pattern);

	return starts(pattern, value) && ((len && strchr("/:@", pattern[len - 1])) ||
					  value[len] == '\0' || value[len] == ':' ||
					  value[len] == '@');
}

/* A path prefix ends at a directory: "/etc/kubernetes/certs" never matches ".../certs2". */
static bool path_starts(const char *pattern, const char *value)
{
	size_t len = strlen(pattern);

	return starts(pattern, value) &&
	       (value[len] == '\0' || value[len] == '/' || (len && pattern[len - 1] == '/'));
}

static bool in(const struct values *values, const char *value, match_fn match)
{
	size_t i;

	if (!values->n)
		return true; /* no condition */
	if (!value)
		return false;
	for (i = 0; i < values->n; i++)
		if (match(values->items[i], value))
			return true;
	return false;
}

/* `access` judges opens of secret files only; any other alert is about none. */
static bool access_matches(int access, const struct policy_subject *s)
{
	if (access == -1)
		return true;
	if (!s->secret_kind && !s->secret_path)
		return false;
	return access == (s->secret_write ? SECRET_WRITE : SECRET_READ);
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
		if (in(&e->namespaces, s->namespace, same) &&
		    in(&e->pod_name_prefixes, s->pod_name, starts) &&
		    in(&e->service_accounts, s->service_account, same) &&
		    in(&e->containers, s->container, same) &&
		    in(&e->image_prefixes, s->image, image_starts) && in(&e->exes, s->exe, same) &&
		    in(&e->host_units, s->host_unit, same) &&
		    in(&e->identity_kinds, s->identity_kind, same) &&
		    in(&e->secret_kinds, s->secret_kind, same) &&
		    in(&e->secret_path_prefixes, s->secret_path, path_starts) &&
		    access_matches(e->access, s))
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
