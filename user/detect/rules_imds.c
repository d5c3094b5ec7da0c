// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * The rules for IMDS: token requests (imds-token-request), other reads
 * (imds-access), and contacts whose requests the monitor cannot read.
 */
#include "detect/rules_private.h"

#include <stdio.h>
#include <string.h>
#include <netinet/in.h>

#include "name/flows.h"
#include "parse/http.h"

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
			 rules_pod_label(view, who, sizeof(who)), rules_program(view),
			 view->http->path, target->category, outcome);
	else
		snprintf(alert->summary, sizeof(alert->summary),
			 "%s (%s) opened a connection to IMDS and asked nothing: %s",
			 rules_pod_label(view, who, sizeof(who)), rules_program(view), outcome);
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

	rules_selected_identity(rules, view, request, &identity);
	alert->rule = RULE_IMDS_TOKEN;
	alert->identity = &identity;
	alert->severity = identity.node ? SEVERITY_CRITICAL
			  : identity.own ? SEVERITY_LOW
					 : SEVERITY_HIGH;
	if (refused)
		alert->severity = rules_attempt_of(alert->severity);
	outcome_text(view, outcome, sizeof(outcome));
	rules_pod_label(view, who, sizeof(who));
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
	snprintf(alert->summary, sizeof(alert->summary), "%s (%s) %s%s: %s", who,
		 rules_program(view), theft, target->incomplete && request ? " (incomplete)" : "",
		 outcome);
	snprintf(severity, sizeof(severity), "%d", (int)alert->severity);
	rules_key_join(
	    alert->key, sizeof(alert->key),
	    (const char *const[]){rule_table[alert->rule].name, subject,
				  identity.client_id ? identity.client_id : identity.kind,
				  resource ? resource : "", rules_program(view), severity},
	    6);
	/* A refused request took nothing: no chain starts from it. */
	if (rules_raise_alert(rules, alert, identity.own ? "workload" : identity.kind) &&
	    identity.node && !refused)
		rules_note_theft(rules, evidence, theft);
}

void rules_imds(struct rules *rules, struct evidence *evidence)
{
	const struct event_view *view = evidence->view;
	const struct http_request *request = view->http;
	struct imds_target target = {request, view, NULL, false, NULL};
	struct alert alert = {0};
	char key[96], severity[8];
	const char *subject = rules_subject_key_of(view, key, sizeof(key));

	rules_alert_about(&alert, evidence, target_imds, &target);
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
		alert.severity = rules_attempt_of(alert.severity);
	alert.describe = describe_imds_access;
	snprintf(severity, sizeof(severity), "%d", (int)alert.severity);
	rules_key_join(
	    alert.key, sizeof(alert.key),
	    (const char *const[]){rule_table[alert.rule].name, subject, target.category, severity},
	    4);
	rules_raise_alert(rules, &alert, NULL);
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
void rules_imds_contact(struct rules *rules, struct evidence *evidence)
{
	const struct event_view *view = evidence->view;
	const struct am_connect_record *dst = view->dst;
	struct imds_target target = {
		NULL, view, "unclassified", true,
		"a TCP packet to IMDS's port from a socket whose connection the monitor did not see"};
	struct alert alert = {0};
	char key[96], who[320], port[16];
	const char *subject = rules_subject_key_of(view, key, sizeof(key));

	if (dst->capture & AM_CAPTURE_HTTP)
		return; /* its requests are read: the HTTP rules judge them */
	if (view->kind == VIEW_PACKET && dst->protocol == IPPROTO_TCP && dst->port == 80) {
		rules_alert_about(&alert, evidence, target_imds, &target);
		imds_token_rule(rules, evidence, &alert, &target, subject);
		return;
	}
	alert.rule = RULE_IMDS_ACCESS;
	alert.severity = SEVERITY_MEDIUM;
	rules_alert_about(&alert, evidence, target_contact, view);
	snprintf(alert.summary, sizeof(alert.summary),
		 "%s (%s) sent %s to IMDS %s port %u, which carries no request the monitor "
		 "reads: a probe, or a way around the connect hooks",
		 rules_pod_label(view, who, sizeof(who)), rules_program(view),
		 view->kind == VIEW_PACKET ? "a packet" : "traffic", protocol_name(dst->protocol),
		 dst->port);
	snprintf(port, sizeof(port), "%s/%u", protocol_name(dst->protocol), dst->port);
	rules_key_join(
	    alert.key, sizeof(alert.key),
	    (const char *const[]){rule_table[alert.rule].name, subject, port, rules_program(view)},
	    4);
	rules_raise_alert(rules, &alert, NULL);
}
