// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * The monitor's own alerts: records the kernel could not deliver (events-lost)
 * and detections it is blind to (monitor-degraded).
 */
#include "detect/rules_private.h"

#include <stdio.h>

#include "event/degraded.h"

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
	rules_raise_alert(rules, &alert, NULL);
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
	rules_raise_alert(rules, &alert, NULL);
}
