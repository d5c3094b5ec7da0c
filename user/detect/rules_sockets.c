// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* The rule for raw and packet sockets (raw-socket). */
#include "detect/rules_private.h"

#include <stdio.h>
#include <sys/socket.h>

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
void rules_socket(struct rules *rules, struct evidence *evidence)
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
		alert.severity = rules_attempt_of(alert.severity);
	rules_alert_about(&alert, evidence, target_socket, socket);
	snprintf(kind, sizeof(kind), "%s %s", socket_family_name(socket->family),
		 socket_type_name(socket->type));
	snprintf(alert.summary, sizeof(alert.summary), "%s (%s) %s a %s socket%s",
		 rules_pod_label(view, who, sizeof(who)), rules_program(view),
		 socket->syscall == AM_SOCKET_EXISTING ? "holds (made before the monitor started)"
		 : failed			       ? "tried to make"
						       : "made",
		 kind,
		 packet ? ": its frames pass below every hook, to IMDS or anywhere, unseen"
			: ": it can craft any IP packet");
	rules_key_join(alert.key, sizeof(alert.key),
		       (const char *const[]){rule_table[alert.rule].name,
					     rules_subject_key_of(view, key, sizeof(key)), kind,
					     rules_program(view), failed ? "failed" : "made"},
		       5);
	rules_raise_alert(rules, &alert, NULL);
}
