// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * The rules for destinations: WireServer, Key Vault, container registries and
 * Entra login reached without an identity that may use them, and TLS server
 * names that hide where a connection goes. Connections and their repeats.
 */
#include "detect/rules_private.h"

#include <stdio.h>

#include "attribute/cgroups.h"
#include "attribute/pods.h"
#include "detect/identities.h"
#include "name/flows.h"

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

	rules_pod_label(view, who, sizeof(who));
	switch (alert->rule) {
	case RULE_WIRESERVER:
		snprintf(
		    alert->summary, sizeof(alert->summary),
		    "%s (%s) reached WireServer (168.63.129.16:%u), which serves the VM agent's "
		    "goal state and extension settings",
		    who, rules_program(view), view->dst->port);
		break;
	case RULE_KEYVAULT:
		snprintf(alert->summary, sizeof(alert->summary),
			 own ? "%s (%s) connected to Key Vault %s, on which its own identity "
			       "holds no Key Vault data role"
			     : "%s (%s) connected to Key Vault %s without an identity of its own "
			       "that may use it",
			 who, rules_program(view), resource[0] ? resource : "(unnamed)");
		break;
	case RULE_ACR:
		snprintf(alert->summary, sizeof(alert->summary),
			 own ? "%s (%s) connected to container registry %s, on which its own "
			       "identity holds neither AcrPull nor AcrPush"
			     : "%s (%s) connected to container registry %s without an identity "
			       "of its own that may pull from it",
			 who, rules_program(view), resource[0] ? resource : "(unnamed)");
		break;
	case RULE_ENTRA_LOGIN:
		snprintf(alert->summary, sizeof(alert->summary),
			 "%s (%s) contacted the Entra login host %s without a workload identity",
			 who, rules_program(view), view->naming->host[0] ? view->naming->host : "");
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
	rules_own_identity(rules, view, own);
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
	rules_key_join(alert->key, sizeof(alert->key),
		       (const char *const[]){rule_table[alert->rule].name,
					     rules_subject_key_of(view, key, sizeof(key)), resource,
					     rules_program(view)},
		       4);
	return true;
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
	rules_alert_about(&alert, evidence, target_mismatch, view);
	snprintf(alert.summary, sizeof(alert.summary),
		 "%s (%s) reached %s %s while asking the server for %s: the TLS server name "
		 "and the pod's DNS name (%s) disagree",
		 rules_pod_label(view, who, sizeof(who)), rules_program(view),
		 destination_service_name(naming->cls.service), naming->host, sni, dns_host);
	rules_key_join(alert.key, sizeof(alert.key),
		       (const char *const[]){rule_table[alert.rule].name,
					     rules_subject_key_of(view, key, sizeof(key)), sni,
					     dns_host, rules_program(view)},
		       5);
	rules_raise_alert(rules, &alert, NULL);
}

void rules_connect(struct rules *rules, struct evidence *evidence)
{
	struct identity_view own;
	struct alert alert = {0};
	bool use, raise;

	if (evidence->view->naming->cls.service == SERVICE_IMDS) {
		rules_imds_contact(rules, evidence);
		return;
	}
	mismatch_rules(rules, evidence);
	raise = connect_alert(rules, evidence->view, &own, &alert, &use);
	if (use)
		rules_note_use(rules, evidence);
	if (!raise)
		return;
	alert.evidence = evidence;
	rules_raise_alert(rules, &alert, NULL);
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
	fold = rules_fold_find(rules, alert.key);
	if (!fold || last_ns >= fold->first_ns + RULES_FOLD_WINDOW_NS)
		return;
	fold->count += repeat->count;
	if (last_ns > fold->last_ns)
		fold->last_ns = last_ns;
	rules->stats.folded += repeat->count;
}
