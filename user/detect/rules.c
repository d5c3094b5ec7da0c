// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* The detection's entry points: the rules' state, and each event to its rules. */
#include "detect/rules.h"

#include <stdlib.h>
#include <netinet/in.h>

#include "detect/rules_private.h"
#include "attribute/cgroups.h"
#include "name/flows.h"

const struct rule_info rule_table[RULE_COUNT] = {
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
	rules->hash_seed = hash_random_seed();
	rules->folds = calloc(FOLD_MAX, sizeof(*rules->folds));
	rules->thefts = calloc(CHAIN_MAX, sizeof(*rules->thefts));
	/* Twice as many buckets as entries: chains stay short while every slot is taken. */
	if (!rules->folds || !rules->thefts || hashtab_init(&rules->folds_by_key, 2 * FOLD_MAX) ||
	    hashtab_init(&rules->thefts_by_pod, 2 * CHAIN_MAX)) {
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
	hashtab_release(&rules->folds_by_key);
	hashtab_release(&rules->thefts_by_pod);
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
		rules_imds(rules, &evidence);
		break;
	case VIEW_CONNECT:
	case VIEW_SEND:
	case VIEW_PACKET:
		rules_connect(rules, &evidence);
		break;
	case VIEW_SOCKET:
		rules_socket(rules, &evidence);
		break;
	case VIEW_OPEN:
		rules_open(rules, &evidence);
		break;
	default:
		break;
	}
}
