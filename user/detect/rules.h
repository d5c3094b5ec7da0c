/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * Detection: each event is joined with the identities its pod may use and what
 * those identities may do, and an alert is raised only where access is
 * unexpected. The rules, their severities, Threat Matrix techniques and
 * conditions are in docs/DETECTION.md ("Rules"). Repeats within a window fold into one
 * alert with a count. Time is the records' own, so a replay alerts as live did.
 */
#ifndef ACCESSMON_RULES_H
#define ACCESSMON_RULES_H

#include <stdbool.h>
#include <stdint.h>

#include "lib/jsonw.h"
#include "event/line.h"
#include "event/view.h"
#include "detect/policy.h"

struct identity_data;
struct node_identity;

/* Repeats of an alert within this window fold into it. */
#define RULES_FOLD_WINDOW_NS (60ull * 1000000000ull)
/* A theft followed by a use within this window is one identity-theft chain. */
#define RULES_CHAIN_WINDOW_NS (600ull * 1000000000ull)

struct rules_context {
	const struct node_identity *node;	 /* from azure.json and --cluster */
	const struct identity_data *identities; /* --identities; NULL: none */
	const struct policy *policy;
};

/* Where alerts go: one line each. */
struct rules_sink {
	void (*write)(void *ctx, struct jsonw *line, enum severity severity);
	void *ctx;
};

struct rules_stats {
	uint64_t alerts[16];
	uint64_t written[16][SEVERITY_CRITICAL + 1]; /* alert lines by rule and severity */
	uint64_t allowed;
	uint64_t folded;
};

struct rules;
struct output_filter;

struct rules *rules_new(const struct rules_context *context, enum output_format format,
			const struct rules_sink *sink);
/* Alerts the filter does not keep are judged but not written (replay's filters). */
void rules_set_filter(struct rules *rules, const struct output_filter *filter);
void rules_free(struct rules *rules);
/* New identity data or policy (a reload): alerts from now on use them. */
void rules_set_context(struct rules *rules, const struct rules_context *context);

/* Whether any rule looks at this event (else it only moves the rules' clock). */
bool rules_judge(const struct event_view *view);
/*
 * One event rules_judge() accepted. event_json is its record when it was written
 * already, else NULL: it is written here only if an alert needs it as evidence.
 */
void rules_on_event(struct rules *rules, const struct event_view *view, const char *event_json,
		    size_t event_json_len);
/*
 * Repeats the kernel counted (a VIEW_REPEAT): never an alert of their own; their
 * count joins the folded alert of the same connection while its window is open.
 */
void rules_on_repeat(struct rules *rules, const struct event_view *view);
struct degraded_notice;
/* The monitor is blind to a detection (notice->restored is never an alert). */
void rules_on_degraded(struct rules *rules, uint64_t time_ns, const struct degraded_notice *notice,
		       uint64_t since_ns);
/* The kernel could not deliver `lost` records. */
void rules_on_loss(struct rules *rules, uint64_t time_ns, uint64_t lost, uint64_t lost_total);
/* The records' clock reached now_ns (wall): folded alerts whose window ended go out. */
void rules_advance(struct rules *rules, uint64_t now_ns);
void rules_finish(struct rules *rules);
const struct rules_stats *rules_stats(const struct rules *rules);

/* Rule names, for policies and docs/DETECTION.md. */
const char *rule_name(int rule);
int rule_count(void);

#endif /* ACCESSMON_RULES_H */
