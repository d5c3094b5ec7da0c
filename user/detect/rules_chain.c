// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * The identity-theft chain: a pod that took a credential (an IMDS token for the
 * node's identity, a secret file's read) reaches a service it could use it on.
 */
#include "detect/rules_private.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attribute/cgroups.h"
#include "name/flows.h"

static bool theft_matches(const struct hashtab_node *node, const void *pod_uid)
{
	return strcmp(hashtab_entry(node, struct theft, node)->pod_uid, pod_uid) == 0;
}

static struct theft *theft_of(struct rules *rules, const char *pod_uid, bool create)
{
	struct hashtab_node *node = NULL;
	struct theft *slot;
	size_t i;

	if (pod_uid[0])
		node = hashtab_find(&rules->thefts_by_pod, hash_string(rules->hash_seed, pod_uid),
				    theft_matches, pod_uid);
	if (node)
		return hashtab_entry(node, struct theft, node);
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
		if (hashtab_linked(&slot->node))
			hashtab_del(&rules->thefts_by_pod, &slot->node);
		free(slot->evidence);
		memset(slot, 0, sizeof(*slot));
	}
	if (!pod_uid[0])
		return slot; /* found by no one: taken again by the next */
	snprintf(slot->pod_uid, sizeof(slot->pod_uid), "%s", pod_uid);
	/* As a lookup would hash it: a uid longer than the slot is cut. */
	hashtab_add(&rules->thefts_by_pod, &slot->node,
		    hash_string(rules->hash_seed, slot->pod_uid));
	if (rules->n_thefts < CHAIN_MAX)
		rules->n_thefts++;
	return slot;
}

/* A pod took a credential: remembered as the first half of a chain. */
void rules_note_theft(struct rules *rules, struct evidence *evidence, const char *summary)
{
	const struct event_view *view = evidence->view;
	struct theft *theft;

	if (!view->cgroup || !view->cgroup->ref.is_pod)
		return;
	theft = theft_of(rules, view->cgroup->ref.pod_uid, true);
	free(theft->evidence);
	theft->evidence =
	    rules_evidence_json(rules, evidence) ? strndup(evidence->json, evidence->len) : NULL;
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
void rules_note_use(struct rules *rules, struct evidence *evidence)
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
	rules_alert_about(&alert, evidence, target_chain, view);
	snprintf(alert.summary, sizeof(alert.summary), "%s %s, then reached %s %s",
		 rules_pod_label(view, who, sizeof(who)), theft->summary,
		 destination_service_name(view->naming->cls.service),
		 view->naming->host[0] ? view->naming->host : "(unnamed)");
	snprintf(alert.key, sizeof(alert.key), "chain|%s|%llu", theft->pod_uid,
		 (unsigned long long)theft->time_ns);
	alert.earlier_evidence = theft->evidence;
	rules_raise_alert(rules, &alert, NULL);
}
