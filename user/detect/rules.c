// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* The detection rules; see rules.h and the README's "Rules". */
#include "detect/rules.h"

#include <stdio.h>
#include <stdlib.h>
#include <ctype.h>
#include <fcntl.h>
#include <string.h>
#include <strings.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "accessmon.h"
#include "attribute/cgroups.h"
#include "detect/degraded.h"
#include "name/destinations.h"
#include "name/flows.h"
#include "parse/http.h"
#include "detect/identities.h"
#include "attribute/node_identity.h"
#include "attribute/pods.h"
#include "attribute/processes.h"
#include "attribute/watch.h"

/* Summaries and keys are bounded on purpose: a pod's names cannot make them grow. */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wformat-truncation"
#endif

enum rule_id {
	RULE_IMDS_TOKEN = 0,
	RULE_IMDS_ACCESS,
	RULE_WIRESERVER,
	RULE_KEYVAULT,
	RULE_ACR,
	RULE_ENTRA_LOGIN,
	RULE_NODE_CREDENTIAL,
	RULE_FOREIGN_TOKEN,
	RULE_SECRET_TAMPERING,
	RULE_CHAIN,
	RULE_EVENTS_LOST,
	RULE_MONITOR_DEGRADED,
	RULE_RAW_SOCKET,
	RULE_TLS_MISMATCH,
	RULE_COUNT,
};

static const struct {
	const char *name;
	const char *techniques[3];
} rule_table[RULE_COUNT] = {
	[RULE_IMDS_TOKEN] = {"imds-token-request", {"MS-TA9028", "MS-TA9033"}},
	[RULE_IMDS_ACCESS] = {"imds-access", {"MS-TA9033"}},
	[RULE_WIRESERVER] = {"wireserver-access", {"MS-TA9033"}},
	[RULE_KEYVAULT] = {"keyvault-unexpected", {"MS-TA9020"}},
	[RULE_ACR] = {"acr-unexpected", {"MS-TA9037"}},
	[RULE_ENTRA_LOGIN] = {"entra-login-unexpected", {"MS-TA9016"}},
	[RULE_NODE_CREDENTIAL] = {"node-credential-read", {"MS-TA9026"}},
	[RULE_FOREIGN_TOKEN] = {"foreign-token-read", {"MS-TA9016"}},
	/* Writing the node's or another pod's files takes a writable hostPath mount. */
	[RULE_SECRET_TAMPERING] = {"secret-tampering", {"MS-TA9013"}},
	[RULE_CHAIN] = {"identity-theft-chain", {"MS-TA9028", "MS-TA9020", "MS-TA9037"}},
	[RULE_EVENTS_LOST] = {"events-lost", {NULL}},
	[RULE_MONITOR_DEGRADED] = {"monitor-degraded", {NULL}},
	[RULE_RAW_SOCKET] = {"raw-socket", {"MS-TA9033"}},
	[RULE_TLS_MISMATCH] = {"tls-name-mismatch", {"MS-TA9020", "MS-TA9037"}},
};

_Static_assert(RULE_COUNT <= sizeof(((struct rules_stats *)0)->alerts) / sizeof(uint64_t),
	       "rules_stats counts fewer rules than there are");

#define FOLD_MAX 4096
#define CHAIN_MAX 4096
#define MAX_ROLES 16
/* Hash buckets of the fold keys and of the thieves' pod uids: twice the entries. */
#define FOLD_BUCKETS (2 * FOLD_MAX)
#define CHAIN_BUCKETS (2 * CHAIN_MAX)

/* An alert once written: kept to fold repeats into it. */
struct fold {
	char key[512];
	uint64_t first_ns, last_ns;
	uint64_t count;
	/* The line up to its count: JSON without the closing brace, or the text line. */
	char *prefix;
	enum severity severity;
	enum rule_id rule;
	bool used;
	uint32_t hash; /* of key, for its bucket */
	struct fold *hash_next;
};

/* A pod that took a credential: the first half of a chain. */
struct theft {
	char pod_uid[48];
	uint64_t time_ns;
	char *evidence; /* the event's JSON */
	char summary[384];
	bool reported;
	bool used;
	uint32_t hash; /* of pod_uid, for its bucket */
	struct theft *hash_next;
};

struct rules {
	struct rules_context context;
	const struct output_filter *filter;
	enum output_format format;
	struct rules_sink sink;
	struct fold *folds;
	struct fold **fold_buckets; /* every fold in use, by key: each event looks its key up */
	uint64_t next_close_ns; /* no fold's window ends before this; UINT64_MAX: none open */
	struct theft *thefts;
	size_t n_thefts; /* thefts[0..n_thefts) are taken; the rest never were */
	struct theft **theft_buckets; /* every theft, by pod uid */
	struct rules_stats stats;
	struct jsonw line;
	struct jsonw scratch;
	struct jsonw evidence; /* the event's record, when the pipeline did not write it */
};

const char *rule_name(int rule)
{
	return rule >= 0 && rule < RULE_COUNT ? rule_table[rule].name : NULL;
}

int rule_count(void)
{
	return RULE_COUNT;
}

struct rules *rules_new(const struct rules_context *context, enum output_format format,
			const struct rules_sink *sink)
{
	struct rules *rules = calloc(1, sizeof(*rules));

	if (!rules)
		return NULL;
	rules->next_close_ns = UINT64_MAX;
	rules->folds = calloc(FOLD_MAX, sizeof(*rules->folds));
	rules->thefts = calloc(CHAIN_MAX, sizeof(*rules->thefts));
	rules->fold_buckets = calloc(FOLD_BUCKETS, sizeof(*rules->fold_buckets));
	rules->theft_buckets = calloc(CHAIN_BUCKETS, sizeof(*rules->theft_buckets));
	if (!rules->folds || !rules->thefts || !rules->fold_buckets || !rules->theft_buckets) {
		rules_free(rules);
		return NULL;
	}
	rules->context = *context;
	rules->format = format;
	rules->sink = *sink;
	jsonw_init(&rules->line);
	jsonw_init(&rules->scratch);
	jsonw_init(&rules->evidence);
	return rules;
}

/* FNV-1a: keys and uids are short, and this runs for every alert an event raises. */
static uint32_t string_hash(const char *s)
{
	uint32_t hash = 2166136261u;

	for (; *s; s++)
		hash = (hash ^ (unsigned char)*s) * 16777619u;
	return hash;
}

static void fold_release(struct rules *rules, struct fold *fold)
{
	struct fold **link = &rules->fold_buckets[fold->hash % FOLD_BUCKETS];

	if (fold->used) {
		while (*link != fold)
			link = &(*link)->hash_next;
		*link = fold->hash_next;
	}
	free(fold->prefix);
	memset(fold, 0, sizeof(*fold));
}

void rules_free(struct rules *rules)
{
	size_t i;

	if (!rules)
		return;
	for (i = 0; rules->folds && i < FOLD_MAX; i++)
		free(rules->folds[i].prefix);
	for (i = 0; rules->thefts && i < CHAIN_MAX; i++)
		free(rules->thefts[i].evidence);
	free(rules->folds);
	free(rules->thefts);
	free(rules->fold_buckets);
	free(rules->theft_buckets);
	jsonw_release(&rules->line);
	jsonw_release(&rules->scratch);
	jsonw_release(&rules->evidence);
	free(rules);
}

void rules_set_filter(struct rules *rules, const struct output_filter *filter)
{
	rules->filter = filter;
}

void rules_set_context(struct rules *rules, const struct rules_context *context)
{
	rules->context = *context;
}

const struct rules_stats *rules_stats(const struct rules *rules)
{
	return &rules->stats;
}

/* --- identities ------------------------------------------------------------ */

struct identity_view {
	const char *kind; /* kubelet | addon | workload | node-system | service-principal | unknown */
	const char *name;
	const char *client_id;
	const char *principal_id;
	bool node; /* reachable through IMDS on this node */
	bool own;  /* the pod's own workload identity */
	const char *selector; /* the request's value that named it */
};

static const struct managed_identity *node_entry(const struct node_identity *node,
						 const char *client_id, const char *object_id,
						 const char *resource_id)
{
	size_t i;

	for (i = 0; node && i < node->n_identities; i++) {
		const struct managed_identity *m = &node->identities[i];

		if ((client_id && m->client_id && strcasecmp(client_id, m->client_id) == 0) ||
		    (object_id && m->object_id && strcasecmp(object_id, m->object_id) == 0) ||
		    (resource_id && m->resource_id && strcasecmp(resource_id, m->resource_id) == 0))
			return m;
	}
	return NULL;
}

/* The node's identities come from azure.json/--cluster and from cluster.json. */
static const struct managed_identity *node_identity_match(const struct rules *rules,
							  const char *client_id,
							  const char *object_id,
							  const char *resource_id)
{
	const struct managed_identity *m =
		node_entry(rules->context.node, client_id, object_id, resource_id);

	if (!m && rules->context.identities && rules->context.identities->has_cluster)
		m = node_entry(&rules->context.identities->cluster, client_id, object_id,
			       resource_id);
	return m;
}

/* The pod's own identity: its workload identity, by client id or federated subject. */
static void own_identity(const struct rules *rules, const struct event_view *view,
			 struct identity_view *out)
{
	const struct identity_data *data = rules->context.identities;
	const struct workload_identity_env *wi;
	const struct managed_identity_info *info = NULL;

	memset(out, 0, sizeof(*out));
	if (!view->pod)
		return;
	wi = pod_workload_identity(view->pod, view->container);
	if (wi && wi->client_id)
		info = identity_data_by_client_id(data, wi->client_id);
	if (!info)
		info = identity_data_by_subject(data, view->pod->namespace,
						view->pod->service_account);
	if (!info && !(wi && wi->client_id))
		return;
	out->kind = "workload";
	out->own = true;
	out->client_id = info ? info->client_id : wi->client_id;
	out->name = info ? info->name : NULL;
	out->principal_id = info ? info->principal_id : NULL;
}

/*
 * A managed identity's id as IMDS may read it: a GUID in any case, with or without
 * its hyphens, braces or parentheses; a resource id in any case, without a
 * trailing slash. Anything else is kept as it is, in lower case.
 */
static void id_canonical(const char *id, char *out, size_t len)
{
	char hex[33];
	size_t n = 0, o = 0;
	const char *p;

	for (p = id; *p && n < 33; p++) {
		if (isxdigit((unsigned char)*p))
			hex[n++] = (char)tolower((unsigned char)*p);
		else if (!strchr("-{}() ", *p))
			break;
	}
	if (!*p && n == 32) {
		snprintf(out, len, "%.8s-%.4s-%.4s-%.4s-%.12s", hex, hex + 8, hex + 12, hex + 16,
			 hex + 20);
		return;
	}
	for (p = id; *p && o + 1 < len; p++)
		out[o++] = (char)tolower((unsigned char)*p);
	while (o > 1 && out[o - 1] == '/')
		o--;
	out[o] = '\0';
}

/* What one selector value names. */
static void identity_of_selector(const struct rules *rules, const struct event_view *view,
				 const struct http_selector *selector, struct identity_view *out)
{
	const struct identity_data *data = rules->context.identities;
	const struct managed_identity_info *info = NULL;
	const struct managed_identity *node;
	const char *client = NULL, *object = NULL, *resource = NULL;
	char id[HTTP_ID_MAX];
	struct identity_view own;

	id_canonical(selector->value, id, sizeof(id));
	switch (selector->kind) {
	case IMDS_CLIENT_ID:
		client = id;
		break;
	case IMDS_OBJECT_ID:
	case IMDS_PRINCIPAL_ID:
		object = id;
		break;
	default:
		resource = id;
	}
	memset(out, 0, sizeof(*out));
	node = node_identity_match(rules, client, object, resource);
	if (client)
		info = identity_data_by_client_id(data, client);
	if (!info && object)
		info = identity_data_by_principal(data, object);
	if (!info && resource)
		info = identity_data_by_resource_id(data, resource);
	out->client_id = info ? info->client_id : (node ? node->client_id : NULL);
	out->principal_id = info ? info->principal_id : (node ? node->object_id : NULL);
	out->name = info ? info->name : (node ? node->name : NULL);
	out->selector = selector->value;
	if (node) {
		out->kind = node->kind;
		out->node = true;
		return;
	}
	own_identity(rules, view, &own);
	if (own.kind && ((client && own.client_id && strcasecmp(client, own.client_id) == 0) ||
			 (out->principal_id && own.principal_id &&
			  strcasecmp(out->principal_id, own.principal_id) == 0))) {
		out->kind = "workload";
		out->own = true;
		return;
	}
	out->kind = "unknown";
}

/* How much an identity may do from a pod: the node's most, the pod's own least. */
static int privilege(const struct identity_view *identity)
{
	return identity->node ? 2 : identity->own ? 0 : 1;
}

/*
 * The identity an IMDS token request selects, at its worst: of every value of
 * every selector, the most privileged; none, or a request not read whole (or not
 * at all), may select the node's default identity.
 */
static void selected_identity(const struct rules *rules, const struct event_view *view,
			      const struct http_request *request, struct identity_view *out)
{
	struct identity_view candidate;
	size_t i;

	memset(out, 0, sizeof(*out));
	if (!request || !request->n_selectors || request->incomplete) {
		/* No selector: IMDS answers with the VM's own (system or sole) identity. */
		out->kind = "node-system";
		out->name = "the node's default identity";
		out->node = true;
		if (!request || !request->n_selectors)
			return;
	}
	for (i = 0; i < request->n_selectors; i++) {
		identity_of_selector(rules, view, &request->selectors[i], &candidate);
		if (!out->kind || privilege(&candidate) > privilege(out))
			*out = candidate;
	}
}

static void identity_json(struct jsonw *w, const struct rules *rules,
			  const struct identity_view *identity)
{
	const struct identity_data *data = rules->context.identities;
	size_t i, n = 0;

	jsonw_key(w, "identity");
	if (!identity || !identity->kind) {
		jsonw_null(w);
		return;
	}
	jsonw_object_begin(w);
	jsonw_member_string(w, "name", identity->name);
	jsonw_member_string(w, "client_id", identity->client_id);
	jsonw_member_string(w, "principal_id", identity->principal_id);
	jsonw_member_string(w, "kind", identity->kind);
	jsonw_key(w, "roles");
	jsonw_array_begin(w);
	for (i = 0; data && identity->principal_id && i < data->n_assignments && n < MAX_ROLES;
	     i++) {
		const struct role_assignment *a = &data->assignments[i];

		if (strcasecmp(a->principal_id, identity->principal_id) != 0)
			continue;
		jsonw_object_begin(w);
		jsonw_member_string(w, "role", a->role);
		jsonw_member_string(w, "scope", a->scope);
		jsonw_object_end(w);
		n++;
	}
	jsonw_array_end(w);
	jsonw_object_end(w);
}

/* --- writing alerts ---------------------------------------------------------- */

/*
 * The event an alert is about, as evidence. Its JSON record is written only when
 * it is needed (an alert's first line, a theft remembered): most events are
 * repeats, folded into an alert already written.
 */
struct evidence {
	const struct event_view *view;
	const char *json; /* NULL: not written yet */
	size_t len;
};

/* The event's record, written now if it was not. False when out of memory. */
static bool evidence_json(struct rules *rules, struct evidence *evidence)
{
	if (evidence->json)
		return true;
	jsonw_reset(&rules->evidence);
	output_event(&rules->evidence, OUTPUT_JSON, evidence->view);
	if (rules->evidence.failed)
		return false;
	evidence->json = rules->evidence.buf;
	evidence->len = rules->evidence.len;
	return true;
}

struct alert;

/* Writes an alert's summary: only for the alerts that are written, not folded. */
typedef void (*alert_describe_fn)(struct alert *alert);

struct alert {
	enum rule_id rule;
	enum severity severity;
	uint64_t time_ns;
	const struct event_view *view; /* NULL: not about one process (events-lost) */
	const struct identity_view *identity;
	char summary[640];
	alert_describe_fn describe; /* NULL: summary is written already */
	char key[512];
	/* target members, written by the rule */
	void (*target)(struct jsonw *w, const void *arg);
	const void *target_arg;
	const char *earlier_evidence; /* a chain's first half, before the event */
	struct evidence *evidence;    /* NULL: about no one event */
	/* An open of a secret file (NULL/false for other alerts), for the policy. */
	const char *secret_kind;
	const char *secret_path;
	bool secret_write; /* the open could write the file */
};

/* An alert about one event: when, who, its evidence, and how its target is written. */
static void alert_about(struct alert *alert, struct evidence *evidence,
			void (*target)(struct jsonw *w, const void *arg), const void *target_arg)
{
	alert->time_ns = evidence->view->time_ns;
	alert->view = evidence->view;
	alert->evidence = evidence;
	alert->target = target;
	alert->target_arg = target_arg;
}

static void finish_line(struct rules *rules, const char *prefix, const struct fold *fold)
{
	char first[RFC3339_LEN], last[RFC3339_LEN];

	jsonw_reset(&rules->line);
	textw_raw(&rules->line, prefix ? prefix : "");
	if (rules->format == OUTPUT_TEXT) {
		if (fold->count > 1)
			textw_printf(&rules->line, " (x%llu)", (unsigned long long)fold->count);
	} else {
		format_rfc3339(fold->first_ns, first);
		format_rfc3339(fold->last_ns, last);
		textw_printf(&rules->line, ",\"count\":%llu,\"first_seen\":\"%s\",\"last_seen\":\"%s\"}",
			     (unsigned long long)fold->count, first, last);
	}
	rules->stats.written[fold->rule][fold->severity]++;
	rules->sink.write(rules->sink.ctx, &rules->line, fold->severity);
}

static void write_prefix(struct rules *rules, const struct alert *alert, struct jsonw *w)
{
	char time_text[RFC3339_LEN];
	size_t i;

	jsonw_reset(w);
	format_rfc3339(alert->time_ns, time_text);
	if (rules->format == OUTPUT_TEXT) {
		textw_printf(w, "%s ALERT   %s %s", time_text, severity_name(alert->severity),
			     rule_table[alert->rule].name);
		if (alert->view)
			output_subject_text(w, alert->view);
		textw_raw(w, ": ");
		textw_escaped(w, alert->summary, strlen(alert->summary));
		return;
	}
	jsonw_object_begin(w);
	jsonw_member_string(w, "type", "alert");
	jsonw_member_string(w, "rule", rule_table[alert->rule].name);
	jsonw_member_string(w, "severity", severity_name(alert->severity));
	jsonw_member_string(w, "time", time_text);
	jsonw_member_string(w, "summary", alert->summary);
	if (alert->view) {
		output_subject_json(w, alert->view);
	} else {
		jsonw_key(w, "pod");
		jsonw_null(w);
		jsonw_key(w, "proc");
		jsonw_null(w);
	}
	identity_json(w, rules, alert->identity);
	jsonw_key(w, "target");
	jsonw_object_begin(w);
	if (alert->target)
		alert->target(w, alert->target_arg);
	jsonw_object_end(w);
	jsonw_key(w, "evidence");
	jsonw_array_begin(w);
	if (alert->earlier_evidence)
		jsonw_raw_value(w, alert->earlier_evidence, strlen(alert->earlier_evidence));
	if (alert->evidence && evidence_json(rules, alert->evidence))
		jsonw_raw_value(w, alert->evidence->json, alert->evidence->len);
	jsonw_array_end(w);
	jsonw_key(w, "techniques");
	jsonw_array_begin(w);
	for (i = 0; i < 3 && rule_table[alert->rule].techniques[i]; i++)
		jsonw_string(w, rule_table[alert->rule].techniques[i]);
	jsonw_array_end(w);
	/* The object stays open: count, first_seen, last_seen and "}" come with each write. */
}

static struct fold *fold_find(struct rules *rules, const char *key)
{
	uint32_t hash = string_hash(key);
	struct fold *fold;

	for (fold = rules->fold_buckets[hash % FOLD_BUCKETS]; fold; fold = fold->hash_next)
		if (fold->hash == hash && strcmp(fold->key, key) == 0)
			return fold;
	return NULL;
}

/* A fold slot taken for key: found by it from now on. */
static void fold_use(struct rules *rules, struct fold *fold, const char *key)
{
	struct fold **bucket;

	snprintf(fold->key, sizeof(fold->key), "%s", key);
	fold->used = true;
	fold->hash = string_hash(fold->key);
	bucket = &rules->fold_buckets[fold->hash % FOLD_BUCKETS];
	fold->hash_next = *bucket;
	*bucket = fold;
}

static struct fold *fold_slot(struct rules *rules)
{
	struct fold *oldest = &rules->folds[0];
	size_t i;

	for (i = 0; i < FOLD_MAX; i++) {
		if (!rules->folds[i].used)
			return &rules->folds[i];
		if (rules->folds[i].first_ns < oldest->first_ns)
			oldest = &rules->folds[i];
	}
	/* Full: the oldest window closes early. */
	if (oldest->count > 1)
		finish_line(rules, oldest->prefix, oldest);
	fold_release(rules, oldest);
	return oldest;
}

/*
 * Policy first; then the first of a kind is written, repeats are counted. False
 * when the policy allows it: allowed access is no first step of a chain either.
 */
static bool raise_alert(struct rules *rules, struct alert *alert, const char *identity_kind)
{
	const struct event_view *view = alert->view;
	struct policy_subject subject = {0};
	struct fold *fold;

	subject.rule = rule_table[alert->rule].name;
	if (view) {
		subject.host = !(view->cgroup && view->cgroup->ref.is_pod);
		subject.host_unit = view->cgroup && view->cgroup->host_unit[0]
					    ? view->cgroup->host_unit
					    : NULL;
		subject.namespace = view->pod ? view->pod->namespace : NULL;
		subject.pod_name = view->pod ? view->pod->name : NULL;
		subject.service_account = view->pod ? view->pod->service_account : NULL;
		subject.proxy_sidecar = view->pod && view->pod->proxy_sidecar;
		subject.container = view->container ? view->container->name : NULL;
		subject.image = view->container ? view->container->image : NULL;
		subject.exe = view->process ? view->process->exe : NULL;
	}
	subject.identity_kind = identity_kind;
	subject.secret_kind = alert->secret_kind;
	subject.secret_path = alert->secret_path;
	subject.secret_write = alert->secret_write;
	if (policy_allows(rules->context.policy, &subject)) {
		rules->stats.allowed++;
		return false;
	}
	alert->severity = policy_severity(rules->context.policy, subject.rule, alert->severity);
	rules->stats.alerts[alert->rule]++;
	if (!output_filter_keep(rules->filter, alert->view, subject.rule, alert->time_ns))
		return true;
	fold = fold_find(rules, alert->key);
	if (fold) {
		fold->count++;
		fold->last_ns = alert->time_ns;
		rules->stats.folded++;
		return true;
	}
	fold = fold_slot(rules);
	fold_use(rules, fold, alert->key);
	fold->count = 1;
	fold->first_ns = fold->last_ns = alert->time_ns;
	if (fold->first_ns + RULES_FOLD_WINDOW_NS < rules->next_close_ns)
		rules->next_close_ns = fold->first_ns + RULES_FOLD_WINDOW_NS;
	fold->severity = alert->severity;
	fold->rule = alert->rule;
	if (alert->describe)
		alert->describe(alert);
	write_prefix(rules, alert, &rules->scratch);
	fold->prefix = strdup(rules->scratch.buf ? rules->scratch.buf : "");
	finish_line(rules, fold->prefix, fold);
	return true;
}

/* Called for every event: the scan runs only when some window has ended. */
void rules_advance(struct rules *rules, uint64_t now_ns)
{
	uint64_t next = UINT64_MAX;
	size_t i;

	if (now_ns < rules->next_close_ns)
		return;
	for (i = 0; i < FOLD_MAX; i++) {
		struct fold *fold = &rules->folds[i];
		uint64_t closes = fold->first_ns + RULES_FOLD_WINDOW_NS;

		if (!fold->used)
			continue;
		if (now_ns < closes) {
			if (closes < next)
				next = closes;
			continue;
		}
		if (fold->count > 1)
			finish_line(rules, fold->prefix, fold);
		fold_release(rules, fold);
	}
	rules->next_close_ns = next;
}

void rules_finish(struct rules *rules)
{
	rules_advance(rules, UINT64_MAX);
}

/* --- the rules ------------------------------------------------------------- */

static const char *pod_label(const struct event_view *view, char *buf, size_t len)
{
	if (view->pod && view->pod->name)
		snprintf(buf, len, "pod %s/%s", view->pod->namespace, view->pod->name);
	else if (view->cgroup && view->cgroup->ref.is_pod)
		snprintf(buf, len, "pod %s", view->cgroup->ref.pod_uid);
	else if (view->cgroup && view->cgroup->host_unit[0])
		snprintf(buf, len, "host process (%s)", view->cgroup->host_unit);
	else
		snprintf(buf, len, "host process");
	return buf;
}

static const char *program(const struct event_view *view)
{
	if (view->process && view->process->exe)
		return view->process->exe;
	return view->task->comm;
}

static void subject_key(const struct event_view *view, char *buf, size_t len)
{
	if (view->cgroup && view->cgroup->ref.is_pod)
		snprintf(buf, len, "%s", view->cgroup->ref.pod_uid);
	else
		snprintf(buf, len, "cgroup:%llu", (unsigned long long)view->task->cgroup_id);
}

/*
 * parts joined by '|' into buf, cut to its size as snprintf would: fold keys are
 * built for every event a rule judges, most only to find the alert they fold into.
 */
static void key_join(char *buf, size_t len, const char *const *parts, size_t n)
{
	size_t used = 0, i, part_len;

	for (i = 0; i < n && used + 1 < len; i++) {
		if (i > 0)
			buf[used++] = '|';
		part_len = strnlen(parts[i], len - 1 - used);
		memcpy(buf + used, parts[i], part_len);
		used += part_len;
	}
	buf[used] = '\0';
}

/* The key of a pod's or host cgroup's alerts: its pod uid, or "cgroup:ID". */
static const char *subject_key_of(const struct event_view *view, char *buf, size_t len)
{
	if (view->cgroup && view->cgroup->ref.is_pod)
		return view->cgroup->ref.pod_uid;
	subject_key(view, buf, len);
	return buf;
}

static struct theft *theft_of(struct rules *rules, const char *pod_uid, bool create)
{
	uint32_t hash = string_hash(pod_uid);
	struct theft *slot, **bucket;
	size_t i;

	for (slot = rules->theft_buckets[hash % CHAIN_BUCKETS]; pod_uid[0] && slot;
	     slot = slot->hash_next)
		if (slot->hash == hash && strcmp(slot->pod_uid, pod_uid) == 0)
			return slot;
	if (!create)
		return NULL;
	if (rules->n_thefts < CHAIN_MAX) {
		slot = &rules->thefts[rules->n_thefts];
	} else {
		/* Full: the oldest theft is forgotten. */
		slot = &rules->thefts[0];
		for (i = 1; i < CHAIN_MAX; i++)
			if (rules->thefts[i].time_ns < slot->time_ns)
				slot = &rules->thefts[i];
		for (bucket = &rules->theft_buckets[slot->hash % CHAIN_BUCKETS]; *bucket != slot;)
			bucket = &(*bucket)->hash_next;
		*bucket = slot->hash_next;
		free(slot->evidence);
		memset(slot, 0, sizeof(*slot));
	}
	if (!pod_uid[0])
		return slot; /* found by no one: taken again by the next */
	snprintf(slot->pod_uid, sizeof(slot->pod_uid), "%s", pod_uid);
	/* As a lookup would hash it: a uid longer than the slot is cut. */
	slot->hash = string_hash(slot->pod_uid);
	bucket = &rules->theft_buckets[slot->hash % CHAIN_BUCKETS];
	slot->hash_next = *bucket;
	*bucket = slot;
	if (rules->n_thefts < CHAIN_MAX)
		rules->n_thefts++;
	return slot;
}

/* A pod took a credential: remembered as the first half of a chain. */
static void note_theft(struct rules *rules, struct evidence *evidence, const char *summary)
{
	const struct event_view *view = evidence->view;
	struct theft *theft;

	if (!view->cgroup || !view->cgroup->ref.is_pod)
		return;
	theft = theft_of(rules, view->cgroup->ref.pod_uid, true);
	free(theft->evidence);
	theft->evidence = evidence_json(rules, evidence) ? strndup(evidence->json, evidence->len)
							 : NULL;
	theft->time_ns = view->time_ns;
	theft->reported = false;
	snprintf(theft->summary, sizeof(theft->summary), "%s", summary);
}

static void target_chain(struct jsonw *w, const void *arg)
{
	const struct event_view *view = arg;

	jsonw_member_string(w, "service", destination_service_name(view->naming->cls.service));
	jsonw_member_string(w, "host", view->naming->host[0] ? view->naming->host : NULL);
	jsonw_member_string(w, "resource",
			    view->naming->cls.resource[0] ? view->naming->cls.resource : NULL);
}

/* A pod that took a credential reaches a service it could use it on. */
static void note_use(struct rules *rules, struct evidence *evidence)
{
	const struct event_view *view = evidence->view;
	struct theft *theft;
	struct alert alert = {0};
	char who[320];

	if (!view->cgroup || !view->cgroup->ref.is_pod)
		return;
	theft = theft_of(rules, view->cgroup->ref.pod_uid, false);
	if (!theft || !theft->evidence || theft->reported || view->time_ns < theft->time_ns ||
	    view->time_ns - theft->time_ns > RULES_CHAIN_WINDOW_NS)
		return;
	theft->reported = true;
	alert.rule = RULE_CHAIN;
	alert.severity = SEVERITY_CRITICAL;
	alert_about(&alert, evidence, target_chain, view);
	snprintf(alert.summary, sizeof(alert.summary), "%s %s, then reached %s %s",
		 pod_label(view, who, sizeof(who)), theft->summary,
		 destination_service_name(view->naming->cls.service),
		 view->naming->host[0] ? view->naming->host : "(unnamed)");
	snprintf(alert.key, sizeof(alert.key), "chain|%s|%llu", theft->pod_uid,
		 (unsigned long long)theft->time_ns);
	alert.earlier_evidence = theft->evidence;
	raise_alert(rules, &alert, NULL);
}

struct imds_target {
	const struct http_request *request;
	const struct event_view *view;
	const char *category;
	bool incomplete;
	const char *unread; /* why the bytes could not be read: the HTTP error, or this */
};

/* What IMDS made of a request: "answered", "connected", "not-connected" or "unknown". */
static const char *outcome_of(const struct event_view *view)
{
	return flow_outcome_name((enum flow_outcome)view->http_outcome);
}

static void target_imds(struct jsonw *w, const void *arg)
{
	const struct imds_target *t = arg;
	const struct http_request *request = t->request;
	size_t i;

	jsonw_member_string(w, "service", "imds");
	jsonw_member_string(w, "category", t->category);
	jsonw_member_string(w, "path", request ? request->path : NULL);
	jsonw_member_string(w, "canonical_path", request ? request->canonical_path : NULL);
	jsonw_member_string(w, "resource", request ? http_resource(request) : NULL);
	if (request && request->n_resources > 1) {
		jsonw_key(w, "resources");
		jsonw_array_begin(w);
		for (i = 0; i < request->n_resources; i++)
			jsonw_string(w, request->resources[i]);
		jsonw_array_end(w);
	}
	jsonw_key(w, "ambiguous");
	jsonw_bool(w, request && (request->ambiguous || request->selectors_cut));
	jsonw_key(w, "incomplete");
	jsonw_bool(w, t->incomplete);
	jsonw_member_string(w, "outcome", outcome_of(t->view));
	jsonw_key(w, "status");
	if (t->view->http_status > 0)
		jsonw_uint(w, (uint64_t)t->view->http_status);
	else
		jsonw_null(w);
	jsonw_member_string(w, "parse_error", t->unread ? t->unread : t->view->http_error);
}

/*
 * What came of an access, for summaries: "IMDS answered 200", "refused or
 * dropped", and so on.
 */
static void outcome_text(const struct event_view *view, char *buf, size_t len)
{
	switch ((enum flow_outcome)view->http_outcome) {
	case OUTCOME_ANSWERED:
		snprintf(buf, len, "answered %d", view->http_status);
		break;
	case OUTCOME_CONNECTED:
		snprintf(buf, len, "connected, no answer seen");
		break;
	case OUTCOME_NOT_CONNECTED:
		snprintf(buf, len, "never connected: refused or dropped");
		break;
	default:
		snprintf(buf, len, "outcome unknown");
	}
}

/* One step less: an access that did not get what it asked for is an attempt. */
static enum severity attempt_of(enum severity severity)
{
	return severity > SEVERITY_LOW ? severity - 1 : severity;
}

/* Whether IMDS refused the request or never got it: no token came of it. */
static bool imds_refused(const struct event_view *view)
{
	return view->http_outcome == OUTCOME_NOT_CONNECTED ||
	       (view->http_status >= 400 && view->http_outcome == OUTCOME_ANSWERED);
}

static void describe_imds_access(struct alert *alert)
{
	const struct event_view *view = alert->view;
	const struct imds_target *target = alert->target_arg;
	char who[320], outcome[64];

	outcome_text(view, outcome, sizeof(outcome));
	if (view->http)
		snprintf(alert->summary, sizeof(alert->summary), "%s (%s) read IMDS %s (%s): %s",
			 pod_label(view, who, sizeof(who)), program(view), view->http->path,
			 target->category, outcome);
	else
		snprintf(alert->summary, sizeof(alert->summary),
			 "%s (%s) opened a connection to IMDS and asked nothing: %s",
			 pod_label(view, who, sizeof(who)), program(view), outcome);
}

/*
 * A request for a token, or one judged so: one whose path no category names, or
 * whose bytes could not all be read (request NULL). The identity is the most
 * privileged it may select; severity follows the identity and what IMDS did.
 */
static void imds_token_rule(struct rules *rules, struct evidence *evidence, struct alert *alert,
			    struct imds_target *target, const char *subject)
{
	const struct event_view *view = evidence->view;
	const struct http_request *request = view->http;
	const char *resource = request ? http_resource(request) : NULL;
	struct identity_view identity;
	char theft[384], who[320], outcome[64], severity[8];
	bool refused = imds_refused(view);

	selected_identity(rules, view, request, &identity);
	alert->rule = RULE_IMDS_TOKEN;
	alert->identity = &identity;
	alert->severity = identity.node ? SEVERITY_CRITICAL
			  : identity.own ? SEVERITY_LOW
					 : SEVERITY_HIGH;
	if (refused)
		alert->severity = attempt_of(alert->severity);
	outcome_text(view, outcome, sizeof(outcome));
	pod_label(view, who, sizeof(who));
	if (!request)
		snprintf(theft, sizeof(theft),
			 "sent IMDS bytes that could not be read (%s), judged a token request for "
			 "the node's default identity",
			 target->unread ? target->unread
				 : view->http_error ? view->http_error : "unread");
	else
		snprintf(theft, sizeof(theft), "asked IMDS for a token for %s with %s%s identity %s%s%s",
			 resource ? resource : "(no resource)",
			 identity.node ? "the node's " : (identity.own ? "its own " : "the "),
			 identity.kind,
			 identity.name ? identity.name
				       : (identity.client_id ? identity.client_id : "(unspecified)"),
			 target->category && strcmp(target->category, "identity-token") != 0
				 ? " (an unclassified path, judged a token request)"
				 : "",
			 request->ambiguous || request->selectors_cut ? " (ambiguous selectors)"
									: "");
	snprintf(alert->summary, sizeof(alert->summary), "%s (%s) %s%s: %s", who, program(view),
		 theft, target->incomplete && request ? " (incomplete)" : "", outcome);
	snprintf(severity, sizeof(severity), "%d", (int)alert->severity);
	key_join(alert->key, sizeof(alert->key),
		 (const char *const[]){rule_table[alert->rule].name, subject,
				       identity.client_id ? identity.client_id : identity.kind,
				       resource ? resource : "", program(view), severity},
		 6);
	/* A refused request took nothing: no chain starts from it. */
	if (raise_alert(rules, alert, identity.own ? "workload" : identity.kind) && identity.node &&
	    !refused)
		note_theft(rules, evidence, theft);
}

static void imds_rules(struct rules *rules, struct evidence *evidence)
{
	const struct event_view *view = evidence->view;
	const struct http_request *request = view->http;
	struct imds_target target = {request, view, NULL, false, NULL};
	struct alert alert = {0};
	char key[96], severity[8];
	const char *subject = subject_key_of(view, key, sizeof(key));

	alert_about(&alert, evidence, target_imds, &target);
	if (request) {
		target.incomplete = request->incomplete;
		target.category = request->incomplete
					  ? "unclassified"
					  : imds_category_name(imds_classify(request->canonical_path));
	} else {
		target.incomplete = !view->http_none;
		target.category = view->http_none ? "none" : "unclassified";
	}
	if (target.incomplete || (request && imds_is_token_request(request))) {
		imds_token_rule(rules, evidence, &alert, &target, subject);
		return;
	}
	alert.rule = RULE_IMDS_ACCESS;
	alert.severity = request ? SEVERITY_MEDIUM : SEVERITY_LOW;
	if (imds_refused(view))
		alert.severity = attempt_of(alert.severity);
	alert.describe = describe_imds_access;
	snprintf(severity, sizeof(severity), "%d", (int)alert.severity);
	key_join(alert.key, sizeof(alert.key),
		 (const char *const[]){rule_table[alert.rule].name, subject, target.category,
				       severity},
		 4);
	raise_alert(rules, &alert, NULL);
}

static void target_destination(struct jsonw *w, const void *arg)
{
	const struct event_view *view = arg;
	char ip[48];

	format_ip(view->dst->family, view->dst->addr, ip);
	jsonw_member_string(w, "service", destination_service_name(view->naming->cls.service));
	jsonw_member_string(w, "host", view->naming->host[0] ? view->naming->host : NULL);
	jsonw_member_string(w, "resource",
			    view->naming->cls.resource[0] ? view->naming->cls.resource : NULL);
	jsonw_member_string(w, "ip", ip);
	jsonw_member_uint(w, "port", view->dst->port);
	jsonw_member_string(w, "name_source", name_source_name(view->naming->source));
}

/* Whether the pod's own identity holds one of roles on the named resource. */
static bool own_identity_may(const struct rules *rules, const struct identity_view *own,
			     const char *type, const char *resource, const char *const *roles)
{
	const char *id = identity_data_resource_id(rules->context.identities, type, resource);

	return own->principal_id && id &&
	       identity_data_has_role(rules->context.identities, own->principal_id, id, roles);
}

static void describe_connect(struct alert *alert)
{
	const struct event_view *view = alert->view;
	const char *resource = view->naming->cls.resource;
	bool own = alert->identity != NULL; /* the pod has an identity of its own */
	char who[320];

	pod_label(view, who, sizeof(who));
	switch (alert->rule) {
	case RULE_WIRESERVER:
		snprintf(alert->summary, sizeof(alert->summary),
			 "%s (%s) reached WireServer (168.63.129.16:%u), which serves the VM agent's "
			 "goal state and extension settings",
			 who, program(view), view->dst->port);
		break;
	case RULE_KEYVAULT:
		snprintf(alert->summary, sizeof(alert->summary),
			 own ? "%s (%s) connected to Key Vault %s, on which its own identity "
			       "holds no Key Vault data role"
			     : "%s (%s) connected to Key Vault %s without an identity of its own "
			       "that may use it",
			 who, program(view), resource[0] ? resource : "(unnamed)");
		break;
	case RULE_ACR:
		snprintf(alert->summary, sizeof(alert->summary),
			 own ? "%s (%s) connected to container registry %s, on which its own "
			       "identity holds neither AcrPull nor AcrPush"
			     : "%s (%s) connected to container registry %s without an identity "
			       "of its own that may pull from it",
			 who, program(view), resource[0] ? resource : "(unnamed)");
		break;
	case RULE_ENTRA_LOGIN:
		snprintf(alert->summary, sizeof(alert->summary),
			 "%s (%s) contacted the Entra login host %s without a workload identity",
			 who, program(view), view->naming->host[0] ? view->naming->host : "");
		break;
	default:
		break;
	}
}

/*
 * The alert a connection to this destination raises, if any: rule, severity and
 * key (the fold key repeats are added to); the summary is written only with the
 * alert. *use: the destination is one a stolen credential is used on, the second
 * half of a chain.
 */
static bool connect_alert(const struct rules *rules, const struct event_view *view,
			  struct identity_view *own, struct alert *alert, bool *use)
{
	enum destination_service service = view->naming->cls.service;
	const char *resource = view->naming->cls.resource;
	char key[96];

	*use = false;
	switch (service) {
	case SERVICE_WIRESERVER:
		alert->rule = RULE_WIRESERVER;
		break;
	case SERVICE_KEYVAULT:
	case SERVICE_MANAGED_HSM:
		alert->rule = RULE_KEYVAULT;
		*use = true;
		break;
	case SERVICE_ACR:
	case SERVICE_ACR_DATA:
		alert->rule = RULE_ACR;
		*use = true;
		break;
	case SERVICE_ENTRA_LOGIN:
		alert->rule = RULE_ENTRA_LOGIN;
		*use = true;
		break;
	case SERVICE_RESOURCE_MANAGER:
		*use = true;
		return false;
	default:
		return false;
	}
	alert->time_ns = view->time_ns;
	alert->view = view;
	alert->target = target_destination;
	alert->target_arg = view;
	alert->describe = describe_connect;
	own_identity(rules, view, own);
	alert->identity = own->kind ? own : NULL;
	switch (alert->rule) {
	case RULE_KEYVAULT:
		if (own_identity_may(rules, own,
				     service == SERVICE_KEYVAULT ? KEYVAULT_TYPE : MANAGED_HSM_TYPE,
				     resource, KEYVAULT_DATA_ROLES))
			return false;
		alert->severity = SEVERITY_HIGH;
		break;
	case RULE_ACR:
		if (own_identity_may(rules, own, REGISTRY_TYPE, resource, ACR_PULL_ROLES))
			return false;
		alert->severity = SEVERITY_HIGH;
		break;
	case RULE_ENTRA_LOGIN:
		if (view->pod && pod_uses_workload_identity(view->pod))
			return false;
		alert->severity = SEVERITY_MEDIUM;
		break;
	default:
		alert->severity = SEVERITY_HIGH;
		break;
	}
	key_join(alert->key, sizeof(alert->key),
		 (const char *const[]){rule_table[alert->rule].name,
				       subject_key_of(view, key, sizeof(key)), resource,
				       program(view)},
		 4);
	return true;
}

/* --- contacts outside a connection whose requests are read ------------------ */

static void target_contact(struct jsonw *w, const void *arg)
{
	const struct event_view *view = arg;
	char ip[48];

	format_ip(view->dst->family, view->dst->addr, ip);
	jsonw_member_string(w, "service", destination_service_name(view->naming->cls.service));
	jsonw_member_string(w, "ip", ip);
	jsonw_member_string(w, "protocol", protocol_name(view->dst->protocol));
	jsonw_member_uint(w, "port", view->dst->port);
	jsonw_member_string(w, "via", view->kind == VIEW_PACKET ? "packet" : "socket");
	jsonw_key(w, "incomplete");
	jsonw_bool(w, true);
}

/*
 * A contact with IMDS whose requests cannot be read: a connection to a port
 * nothing captures, a UDP datagram, or a packet from a socket the connect hooks
 * did not see (raw, ICMP, NAT in the pod's namespace, a socket older than the
 * monitor). TCP to IMDS's own port is judged at its worst, a token request for the
 * node's identity; anything else cannot carry one to IMDS, and is a probe.
 */
static void imds_contact_rules(struct rules *rules, struct evidence *evidence)
{
	const struct event_view *view = evidence->view;
	const struct am_connect_record *dst = view->dst;
	struct imds_target target = {
		NULL, view, "unclassified", true,
		"a TCP packet to IMDS's port from a socket whose connection the monitor did not see"};
	struct alert alert = {0};
	char key[96], who[320], port[16];
	const char *subject = subject_key_of(view, key, sizeof(key));

	if (dst->capture & AM_CAPTURE_HTTP)
		return; /* its requests are read: the HTTP rules judge them */
	if (view->kind == VIEW_PACKET && dst->protocol == IPPROTO_TCP && dst->port == 80) {
		alert_about(&alert, evidence, target_imds, &target);
		imds_token_rule(rules, evidence, &alert, &target, subject);
		return;
	}
	alert.rule = RULE_IMDS_ACCESS;
	alert.severity = SEVERITY_MEDIUM;
	alert_about(&alert, evidence, target_contact, view);
	snprintf(alert.summary, sizeof(alert.summary),
		 "%s (%s) sent %s to IMDS %s port %u, which carries no request the monitor "
		 "reads: a probe, or a way around the connect hooks",
		 pod_label(view, who, sizeof(who)), program(view),
		 view->kind == VIEW_PACKET ? "a packet" : "traffic", protocol_name(dst->protocol),
		 dst->port);
	snprintf(port, sizeof(port), "%s/%u", protocol_name(dst->protocol), dst->port);
	key_join(alert.key, sizeof(alert.key),
		 (const char *const[]){rule_table[alert.rule].name, subject, port, program(view)},
		 4);
	raise_alert(rules, &alert, NULL);
}

static void target_mismatch(struct jsonw *w, const void *arg)
{
	const struct event_view *view = arg;
	const struct naming *naming = view->naming;

	target_destination(w, view);
	jsonw_member_string(w, "sni", naming->sni[0] ? naming->sni : naming->host);
	jsonw_member_string(w, "dns_host", naming->sni[0] ? naming->host : naming->dns_host);
}

/*
 * The TLS server name and the name the pod's DNS gave for the address are of
 * different families, one of them a vault, registry or login host: the pod hides
 * where it goes from a monitor that trusts one of them (curl --connect-to, a
 * hosts-file entry, a server name of some other site sent to a vault's address).
 * Names of one family differ innocently (vaults share front-end addresses), and
 * then the destination is judged by the service's rule.
 */
static void mismatch_rules(struct rules *rules, struct evidence *evidence)
{
	const struct event_view *view = evidence->view;
	const struct naming *naming = view->naming;
	const char *sni = naming->sni[0] ? naming->sni : naming->host;
	const char *dns_host = naming->sni[0] ? naming->host : naming->dns_host;
	struct destination_class sni_class, dns_class;
	struct alert alert = {0};
	char key[96], who[320];

	if (!naming->mismatch)
		return;
	destination_classify_host(sni, &sni_class);
	destination_classify_host(dns_host, &dns_class);
	if (destination_family(sni_class.service) == destination_family(dns_class.service))
		return;
	alert.rule = RULE_TLS_MISMATCH;
	alert.severity = SEVERITY_HIGH;
	alert_about(&alert, evidence, target_mismatch, view);
	snprintf(alert.summary, sizeof(alert.summary),
		 "%s (%s) reached %s %s while asking the server for %s: the TLS server name "
		 "and the pod's DNS name (%s) disagree",
		 pod_label(view, who, sizeof(who)), program(view),
		 destination_service_name(naming->cls.service), naming->host, sni, dns_host);
	key_join(alert.key, sizeof(alert.key),
		 (const char *const[]){rule_table[alert.rule].name,
				       subject_key_of(view, key, sizeof(key)), sni, dns_host,
				       program(view)},
		 5);
	raise_alert(rules, &alert, NULL);
}

static void connect_rules(struct rules *rules, struct evidence *evidence)
{
	struct identity_view own;
	struct alert alert = {0};
	bool use, raise;

	if (evidence->view->naming->cls.service == SERVICE_IMDS) {
		imds_contact_rules(rules, evidence);
		return;
	}
	mismatch_rules(rules, evidence);
	raise = connect_alert(rules, evidence->view, &own, &alert, &use);
	if (use)
		note_use(rules, evidence);
	if (!raise)
		return;
	alert.evidence = evidence;
	raise_alert(rules, &alert, NULL);
}

/*
 * Repeats the kernel counted raise nothing of their own; those of a connection
 * that raised an alert still open add their count to it.
 */
void rules_on_repeat(struct rules *rules, const struct event_view *view)
{
	const struct am_connect_repeat_record *repeat = view->repeat;
	uint64_t last_ns = repeat->last_ns + (uint64_t)view->boot_to_wall_ns;
	struct identity_view own;
	struct alert alert = {0};
	struct fold *fold;
	bool use;

	if (repeat->repeat_of != AM_REC_CONNECT || !view->cgroup || !view->cgroup->ref.is_pod ||
	    !view->naming || view->dst->protocol != 6 ||
	    !connect_alert(rules, view, &own, &alert, &use))
		return;
	fold = fold_find(rules, alert.key);
	if (!fold || last_ns >= fold->first_ns + RULES_FOLD_WINDOW_NS)
		return;
	fold->count += repeat->count;
	if (last_ns > fold->last_ns)
		fold->last_ns = last_ns;
	rules->stats.folded += repeat->count;
}

/* --- raw and packet sockets ---------------------------------------------------- */

static void target_socket(struct jsonw *w, const void *arg)
{
	const struct am_socket_record *socket = arg;

	jsonw_member_string(w, "family", socket_family_name(socket->family));
	jsonw_member_string(w, "type", socket_type_name(socket->type));
	jsonw_member_uint(w, "protocol", socket->protocol);
	jsonw_member_int(w, "result", socket->result);
}

/*
 * A pod made a packet socket, whose frames pass below every cgroup hook and carry
 * no cgroup (what it sends to IMDS cannot be seen), or a raw IP socket, whose
 * packets are seen but can be crafted to anything. Pods hold CAP_NET_RAW by
 * default, so this is what an attacker who has read the hooks would use.
 */
static void socket_rules(struct rules *rules, struct evidence *evidence)
{
	const struct event_view *view = evidence->view;
	const struct am_socket_record *socket = view->socket;
	bool packet = socket->family == AF_PACKET || socket->type == SOCK_PACKET;
	bool failed = socket->result < 0;
	struct alert alert = {0};
	char key[96], who[320], kind[48];

	alert.rule = RULE_RAW_SOCKET;
	alert.severity = packet ? SEVERITY_HIGH : SEVERITY_MEDIUM;
	if (failed)
		alert.severity = attempt_of(alert.severity);
	alert_about(&alert, evidence, target_socket, socket);
	snprintf(kind, sizeof(kind), "%s %s", socket_family_name(socket->family),
		 socket_type_name(socket->type));
	snprintf(alert.summary, sizeof(alert.summary), "%s (%s) %s a %s socket%s",
		 pod_label(view, who, sizeof(who)), program(view),
		 socket->syscall == AM_SOCKET_EXISTING ? "holds (made before the monitor started)"
		 : failed			      ? "tried to make"
						      : "made",
		 kind,
		 packet ? ": its frames pass below every hook, to IMDS or anywhere, unseen"
			: ": it can craft any IP packet");
	key_join(alert.key, sizeof(alert.key),
		 (const char *const[]){rule_table[alert.rule].name,
				       subject_key_of(view, key, sizeof(key)), kind, program(view),
				       failed ? "failed" : "made"},
		 5);
	raise_alert(rules, &alert, NULL);
}

/* What an open of a watched file could do to it. */
enum file_access {
	FILE_READ = 1,
	FILE_WRITE = 2,
};

/*
 * What an open's flags, as the opener passed them, let it do. O_PATH reads and
 * writes nothing: the kernel drops every other flag with it, and reopening the
 * fd through /proc is an open of its own. The access mode 3 needs both
 * permissions: judged both. O_TRUNC truncates even a read-only open; O_CREAT
 * makes a file in a watched volume.
 */
static unsigned int open_access(uint32_t flags)
{
	unsigned int access = 0;

	if (flags & O_PATH)
		return 0;
	if ((flags & O_ACCMODE) != O_WRONLY)
		access |= FILE_READ;
	if ((flags & O_ACCMODE) != O_RDONLY || (flags & (O_CREAT | O_TRUNC | O_APPEND)))
		access |= FILE_WRITE;
	return access;
}

/* A secret file's open, as one alert judges it: its read, or its write. */
struct file_target {
	const struct event_view *view;
	const char *host_path; /* the file's, on the node */
	bool write;
};

static void target_file(struct jsonw *w, const void *arg)
{
	const struct file_target *target = arg;
	const struct event_view *view = target->view;
	const struct am_open_record *record = view->open;

	jsonw_member_string(w, "kind", watch_kind_name(watch_kind_of(view->watch, record->name)));
	jsonw_member_string(w, "host_path", target->host_path);
	jsonw_key(w, "path");
	jsonw_string_n(w, record->path, strnlen(record->path, sizeof(record->path)));
	jsonw_key(w, "owner_pod");
	if (view->watch->owner_uid[0]) {
		jsonw_object_begin(w);
		jsonw_member_string(w, "uid", view->watch->owner_uid);
		jsonw_member_string(w, "namespace", view->owner_pod ? view->owner_pod->namespace : NULL);
		jsonw_member_string(w, "name", view->owner_pod ? view->owner_pod->name : NULL);
		jsonw_object_end(w);
	} else {
		jsonw_null(w);
	}
	jsonw_member_string(w, "access", target->write ? "write" : "read");
	jsonw_member_int(w, "result", record->result);
}

/*
 * One access of an open of someone else's secret, `what`: a read is theft
 * (node-credential-read, foreign-token-read), a write is tampering
 * (secret-tampering). A failed open is an attempt.
 */
static void open_alert(struct rules *rules, struct evidence *evidence, enum watch_kind kind,
		       const char *what, bool write)
{
	const struct event_view *view = evidence->view;
	bool node = !view->watch->owner_uid[0]; /* no pod's: the node's */
	bool failed = view->open->result < 0;
	struct file_target target = {view, NULL, write};
	char who[320], key[96], act[384], host[AM_WATCH_PATH_LEN + AM_NAME_LEN + 2];
	struct alert alert = {0};

	watch_host_path(view->watch, view->open, host, sizeof(host));
	target.host_path = host;
	alert_about(&alert, evidence, target_file, &target);
	if (write) {
		alert.rule = RULE_SECRET_TAMPERING;
		alert.severity = node ? SEVERITY_CRITICAL : SEVERITY_HIGH;
	} else if (node) {
		alert.rule = RULE_NODE_CREDENTIAL;
		alert.severity = SEVERITY_HIGH;
		if (kind == WATCH_NODE_CLOUD_CONFIG && rules->context.node &&
		    rules->context.node->uses_service_principal)
			alert.severity = SEVERITY_CRITICAL;
	} else {
		alert.rule = RULE_FOREIGN_TOKEN;
		alert.severity = SEVERITY_HIGH;
	}
	if (failed)
		alert.severity = SEVERITY_MEDIUM;
	alert.secret_kind = watch_kind_name(kind);
	alert.secret_path = host;
	alert.secret_write = open_access(view->open->flags) & FILE_WRITE;
	if (write)
		snprintf(act, sizeof(act), "%s %s for writing", failed ? "tried to open" : "opened",
			 what);
	else
		snprintf(act, sizeof(act), "%s %s", failed ? "tried to read" : "read", what);
	snprintf(alert.summary, sizeof(alert.summary), "%s (%s) %s",
		 pod_label(view, who, sizeof(who)), program(view), act);
	key_join(alert.key, sizeof(alert.key),
		 (const char *const[]){rule_table[alert.rule].name,
				       subject_key_of(view, key, sizeof(key)), host,
				       write ? "write" : "read", failed ? "failed" : "done"},
		 5);
	/* Only a read takes a credential away: the first half of a chain. */
	if (raise_alert(rules, &alert, NULL) && !failed && !write)
		note_theft(rules, evidence, act);
}

/*
 * Opens of the node's credentials by pods, and of a pod's secrets by anyone but
 * the pod: what an open could read is judged apart from what it could write.
 * Host processes (the kubelet, the VM agent) keep the node's files; who else
 * may keep a pod's (the kubelet, the CSI driver writing the mounts it serves)
 * is the policy's to say.
 */
static void open_rules(struct rules *rules, struct evidence *evidence)
{
	const struct event_view *view = evidence->view;
	enum watch_kind kind = watch_kind_of(view->watch, view->open->name);
	unsigned int access = open_access(view->open->flags);
	bool pod = view->cgroup && view->cgroup->ref.is_pod;
	const struct pod_info *owner =
		view->owner_pod && view->owner_pod->name ? view->owner_pod : NULL;
	char what[320], host[AM_WATCH_PATH_LEN + AM_NAME_LEN + 2];

	switch (kind) {
	case WATCH_NODE_CLOUD_CONFIG:
	case WATCH_KUBELET_CREDENTIALS:
	case WATCH_NODE_TLS_KEY:
	case WATCH_MANAGED_IDENTITY_SETTINGS:
		if (!pod)
			return;
		watch_host_path(view->watch, view->open, host, sizeof(host));
		snprintf(what, sizeof(what), "the node's %s %s", watch_kind_name(kind), host);
		break;
	case WATCH_SERVICE_ACCOUNT_TOKEN:
	case WATCH_WORKLOAD_IDENTITY_TOKEN:
	case WATCH_PROJECTED_TOKENS:
	case WATCH_SECRET_VOLUME:
	case WATCH_CSI_SECRET:
		if (!view->watch->owner_uid[0] ||
		    (pod && strcmp(view->watch->owner_uid, view->cgroup->ref.pod_uid) == 0))
			return; /* its own */
		snprintf(what, sizeof(what), "the %s of pod %s%s%s", watch_kind_name(kind),
			 owner ? owner->namespace : view->watch->owner_uid, owner ? "/" : "",
			 owner ? owner->name : "");
		break;
	default:
		return;
	}
	if (access & FILE_READ)
		open_alert(rules, evidence, kind, what, false);
	if (access & FILE_WRITE)
		open_alert(rules, evidence, kind, what, true);
}

bool rules_judge(const struct event_view *view)
{
	bool pod = view->cgroup && view->cgroup->ref.is_pod;
	bool node_service = view->naming && (view->naming->cls.service == SERVICE_IMDS ||
					     view->naming->cls.service == SERVICE_WIRESERVER);

	switch (view->kind) {
	case VIEW_HTTP:
		return pod && view->naming && view->naming->cls.service == SERVICE_IMDS;
	case VIEW_CONNECT:
		return pod && view->naming && (view->dst->protocol == IPPROTO_TCP || node_service);
	case VIEW_SEND:
	case VIEW_PACKET:
		/* Any packet to IMDS or WireServer, whatever its protocol and port. */
		return pod && node_service;
	case VIEW_SOCKET:
		return pod;
	case VIEW_OPEN:
		return view->watch != NULL;
	default:
		return false;
	}
}

void rules_on_event(struct rules *rules, const struct event_view *view, const char *event_json,
		    size_t event_json_len)
{
	struct evidence evidence = {view, event_json, event_json_len};

	rules_advance(rules, view->time_ns);
	switch (view->kind) {
	case VIEW_HTTP:
		imds_rules(rules, &evidence);
		break;
	case VIEW_CONNECT:
	case VIEW_SEND:
	case VIEW_PACKET:
		connect_rules(rules, &evidence);
		break;
	case VIEW_SOCKET:
		socket_rules(rules, &evidence);
		break;
	case VIEW_OPEN:
		open_rules(rules, &evidence);
		break;
	default:
		break;
	}
}

static void target_loss(struct jsonw *w, const void *arg)
{
	const uint64_t *lost = arg;

	jsonw_member_uint(w, "lost", lost[0]);
	jsonw_member_uint(w, "lost_total", lost[1]);
}

void rules_on_loss(struct rules *rules, uint64_t time_ns, uint64_t lost, uint64_t lost_total)
{
	uint64_t counts[2] = {lost, lost_total};
	struct alert alert = {0};

	rules_advance(rules, time_ns);
	alert.rule = RULE_EVENTS_LOST;
	alert.severity = SEVERITY_HIGH;
	alert.time_ns = time_ns;
	alert.target = target_loss;
	alert.target_arg = counts;
	snprintf(alert.summary, sizeof(alert.summary),
		 "%llu events were lost in the kernel (%llu in all): alerts may be missing, their "
		 "absence proves nothing",
		 (unsigned long long)lost, (unsigned long long)lost_total);
	snprintf(alert.key, sizeof(alert.key), "events-lost");
	raise_alert(rules, &alert, NULL);
}

struct degraded_target {
	const struct degraded_notice *notice;
	uint64_t since_ns;
};

static void target_degraded(struct jsonw *w, const void *arg)
{
	const struct degraded_target *target = arg;
	char since[RFC3339_LEN];

	format_rfc3339(target->since_ns, since);
	jsonw_member_string(w, "detection", detection_name(target->notice->detection));
	jsonw_member_string(w, "cause", degraded_cause_name(target->notice->cause));
	jsonw_member_string(w, "sees", detection_sees(target->notice->detection));
	jsonw_member_string(w, "reason", target->notice->reason);
	jsonw_member_string(w, "since", since);
}

void rules_on_degraded(struct rules *rules, uint64_t time_ns, const struct degraded_notice *notice,
		       uint64_t since_ns)
{
	struct degraded_target target = {notice, since_ns};
	struct alert alert = {0};

	rules_advance(rules, time_ns);
	alert.rule = RULE_MONITOR_DEGRADED;
	/* Blind to an attack it exists for is as bad as a loss; blind to names, less. */
	alert.severity = detection_critical(notice->detection) ? SEVERITY_HIGH : SEVERITY_MEDIUM;
	alert.time_ns = time_ns;
	alert.target = target_degraded;
	alert.target_arg = &target;
	snprintf(alert.summary, sizeof(alert.summary),
		 "accessmon is blind to %s on this node: %s; their absence proves nothing",
		 detection_sees(notice->detection), notice->reason);
	snprintf(alert.key, sizeof(alert.key), "monitor-degraded %s",
		 detection_name(notice->detection));
	raise_alert(rules, &alert, NULL);
}
