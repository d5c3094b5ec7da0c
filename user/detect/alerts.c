// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * Writing alerts: the policy's word, the line (JSON or text) with its evidence,
 * and repeats folded into the alert they repeat until its window ends.
 */
#include "detect/rules_private.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attribute/cgroups.h"
#include "attribute/pods.h"
#include "attribute/processes.h"

static bool fold_matches(const struct hashtab_node *node, const void *key)
{
	return strcmp(hashtab_entry(node, struct fold, node)->key, key) == 0;
}

static void fold_release(struct rules *rules, struct fold *fold)
{
	if (hashtab_linked(&fold->node))
		hashtab_del(&rules->folds_by_key, &fold->node);
	free(fold->prefix);
	memset(fold, 0, sizeof(*fold));
}

/* The event's record, written now if it was not. False when out of memory. */
bool rules_evidence_json(struct rules *rules, struct evidence *evidence)
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

/* An alert about one event: when, who, its evidence, and how its target is written. */
void rules_alert_about(struct alert *alert, struct evidence *evidence,
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
	rules_identity_json(w, rules, alert->identity);
	jsonw_key(w, "target");
	jsonw_object_begin(w);
	if (alert->target)
		alert->target(w, alert->target_arg);
	jsonw_object_end(w);
	jsonw_key(w, "evidence");
	jsonw_array_begin(w);
	if (alert->earlier_evidence)
		jsonw_raw_value(w, alert->earlier_evidence, strlen(alert->earlier_evidence));
	if (alert->evidence && rules_evidence_json(rules, alert->evidence))
		jsonw_raw_value(w, alert->evidence->json, alert->evidence->len);
	jsonw_array_end(w);
	jsonw_key(w, "techniques");
	jsonw_array_begin(w);
	for (i = 0; i < 3 && rule_table[alert->rule].techniques[i]; i++)
		jsonw_string(w, rule_table[alert->rule].techniques[i]);
	jsonw_array_end(w);
	/* The object stays open: count, first_seen, last_seen and "}" come with each write. */
}

struct fold *rules_fold_find(struct rules *rules, const char *key)
{
	uint64_t hash = hash_string(rules->hash_seed, key);
	struct hashtab_node *node = hashtab_find(&rules->folds_by_key, hash, fold_matches, key);

	return node ? hashtab_entry(node, struct fold, node) : NULL;
}

/* A fold slot taken for key: found by it from now on. */
static void fold_use(struct rules *rules, struct fold *fold, const char *key)
{
	snprintf(fold->key, sizeof(fold->key), "%s", key);
	fold->used = true;
	/* As a lookup would hash it: a key longer than the slot is cut. */
	hashtab_add(&rules->folds_by_key, &fold->node, hash_string(rules->hash_seed, fold->key));
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
bool rules_raise_alert(struct rules *rules, struct alert *alert, const char *identity_kind)
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
	fold = rules_fold_find(rules, alert->key);
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

const char *rules_pod_label(const struct event_view *view, char *buf, size_t len)
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

const char *rules_program(const struct event_view *view)
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
void rules_key_join(char *buf, size_t len, const char *const *parts, size_t n)
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
const char *rules_subject_key_of(const struct event_view *view, char *buf, size_t len)
{
	if (view->cgroup && view->cgroup->ref.is_pod)
		return view->cgroup->ref.pod_uid;
	subject_key(view, buf, len);
	return buf;
}

/* One step less: an access that did not get what it asked for is an attempt. */
enum severity rules_attempt_of(enum severity severity)
{
	return severity > SEVERITY_LOW ? severity - 1 : severity;
}
