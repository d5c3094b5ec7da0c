// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * Which identity an IMDS request selects (the node's, the pod's own, or another)
 * and the pod's own, as alerts name them with their roles. The identity data they
 * are looked up in is identities.c's.
 */
#include "detect/rules_private.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "attribute/node_identity.h"
#include "attribute/pods.h"
#include "detect/identities.h"
#include "parse/http.h"

#define MAX_ROLES 16

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
void rules_own_identity(const struct rules *rules, const struct event_view *view,
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
	rules_own_identity(rules, view, &own);
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
void rules_selected_identity(const struct rules *rules, const struct event_view *view,
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

void rules_identity_json(struct jsonw *w, const struct rules *rules,
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
