// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * Unit tests: the rules over detections: repeats folded into their alert, blind
 * detections, and chains. The identities and the policy have test_identities.c,
 * test_policy.c and test_policy_default.c.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "alert_lines.h"

#include "attribute/cgroups.h"
#include "event/degraded.h"
#include "name/flows.h"
#include "detect/policy.h"
#include "detect/rules.h"
#include "attribute/watch.h"

#define SEC 1000000000ull

static void repeats_fold_until_their_window_ends(void **state)
{
	struct policy *policy = policy_default();
	struct rules_context context = {.policy = policy};
	struct rules_sink sink = {.write = collect};
	struct rules *rules = rules_new(&context, OUTPUT_JSON, &sink);

	(void)state;
	assert_non_null(rules);
	written[0] = '\0';
	rules_on_loss(rules, 1 * SEC, 5, 5);
	rules_on_loss(rules, 2 * SEC, 1, 6);
	rules_on_loss(rules, 30 * SEC, 1, 7);
	/* The first at once; the repeats wait for the window. */
	assert_int_equal(lines(), 1);
	assert_non_null(strstr(written, "\"count\":1"));
	rules_advance(rules, 1 * SEC + RULES_FOLD_WINDOW_NS - 1);
	assert_int_equal(lines(), 1);
	/* The window ends: the repeats go out with their count, and the next is new. */
	rules_on_loss(rules, 61 * SEC + SEC / 2, 1, 8);
	assert_int_equal(lines(), 3);
	assert_non_null(strstr(written, "\"count\":3"));
	rules_on_loss(rules, 100 * SEC, 1, 9);
	rules_advance(rules, 121 * SEC);
	assert_int_equal(lines(), 3);
	rules_advance(rules, 121 * SEC + SEC / 2);
	assert_int_equal(lines(), 4);
	assert_non_null(strstr(strrchr(written, '{'), "\"count\":2"));
	assert_int_equal(rules_stats(rules)->folded, 3);
	/* Nothing is left to write at the end. */
	rules_finish(rules);
	assert_int_equal(lines(), 4);
	rules_free(rules);
	policy_free(policy);
}

/*
 * A blind detection is an alert: high when it blinds an attack the monitor exists
 * for, medium when only names or counts; one per detection, folded like any other.
 */
static void a_blind_detection_is_an_alert(void **state)
{
	struct policy *policy = policy_default();
	struct rules_context context = {.policy = policy};
	struct rules_sink sink = {.write = collect};
	struct rules *rules = rules_new(&context, OUTPUT_JSON, &sink);
	struct degraded_notice files = {.detection = DETECTION_SECRET_FILES,
					.cause = DEGRADED_MAPS,
					.reason = "the kernel refused 2 watch set updates",
					.since_ns = 1 * SEC};
	struct degraded_notice close = {.detection = DETECTION_CONNECTION_CLOSE,
					.reason = "no inet_sock_set_state",
					.since_ns = 1 * SEC};

	(void)state;
	written[0] = '\0';
	rules_on_degraded(rules, 2 * SEC, &files, 1 * SEC);
	rules_on_degraded(rules, 3 * SEC, &close, 1 * SEC);
	rules_on_degraded(rules, 4 * SEC, &files, 1 * SEC);
	assert_int_equal(lines(), 2);
	assert_non_null(strstr(written, "\"rule\":\"monitor-degraded\",\"severity\":\"high\""));
	assert_non_null(strstr(written, "\"rule\":\"monitor-degraded\",\"severity\":\"medium\""));
	assert_non_null(strstr(written, "\"summary\":\"accessmon is blind to opens of secret files on "
					"this node: the kernel refused 2 watch set updates; their "
					"absence proves nothing\""));
	assert_non_null(strstr(written, "\"target\":{\"detection\":\"secret-files\",\"cause\":"
					"\"maps\",\"sees\":"
					"\"opens of secret files\",\"reason\":\"the kernel refused 2 "
					"watch set updates\",\"since\":\"1970-01-01T00:00:01.000000000Z\"}"));
	rules_finish(rules);
	/* The repeat of secret-files folded: its count goes out when the window ends. */
	assert_int_equal(lines(), 3);
	assert_non_null(strstr(strrchr(written, '{'), "\"count\":2"));
	rules_free(rules);
	policy_free(policy);
}

/* A pod's connect to Key Vault kv-payments, as the pipeline would hand it to the rules. */
struct vault_connect {
	struct cgroup_entry cgroup;
	struct naming naming;
	struct am_connect_record dst;
	struct am_connect_repeat_record repeat;
	struct event_view view;
};

static void vault_connect(struct vault_connect *c, const char *vault, uint64_t time_ns)
{
	memset(c, 0, sizeof(*c));
	c->cgroup.ref.is_pod = true;
	strcpy(c->cgroup.ref.pod_uid, "0c7d2f4a-1b3e-4c5d-9e8f-a1b2c3d4e5f6");
	c->naming.source = NAME_DNS;
	c->naming.cls.service = SERVICE_KEYVAULT;
	snprintf(c->naming.cls.resource, sizeof(c->naming.cls.resource), "%s", vault);
	snprintf(c->naming.host, sizeof(c->naming.host), "%s.vault.azure.net", vault);
	c->dst.header.type = AM_REC_CONNECT;
	c->dst.task.pid = 4242;
	strcpy(c->dst.task.comm, "python3");
	c->dst.family = 4;
	c->dst.protocol = 6;
	c->dst.port = 8443;
	c->view.kind = VIEW_CONNECT;
	c->view.dst = &c->dst;
	c->view.naming = &c->naming;
	c->view.task = &c->dst.task;
	c->view.cgroup = &c->cgroup;
	c->view.time_ns = time_ns;
}

/* The same destination's repeats, counted in the kernel between first and last. */
static void vault_repeats(struct vault_connect *c, uint64_t count, uint64_t first_ns,
			  uint64_t last_ns)
{
	c->repeat.repeat_of = AM_REC_CONNECT;
	c->repeat.count = count;
	c->repeat.first_ns = first_ns;
	c->repeat.last_ns = last_ns;
	c->view.kind = VIEW_REPEAT;
	c->view.repeat = &c->repeat;
	c->view.time_ns = last_ns + SEC;
}

static void counted_repeats_join_their_alert_and_raise_none(void **state)
{
	struct policy *policy = policy_default();
	struct rules_context context = {.policy = policy};
	struct rules_sink sink = {.write = collect};
	struct rules *rules = rules_new(&context, OUTPUT_JSON, &sink);
	struct vault_connect c;
	const char *json = "{\"type\":\"connect\"}";

	(void)state;
	assert_non_null(rules);
	written[0] = '\0';
	/* Repeats of a destination that raised nothing (yet) raise nothing. */
	vault_connect(&c, "kv-payments", 1 * SEC);
	vault_repeats(&c, 7, 1 * SEC, 2 * SEC);
	rules_on_repeat(rules, &c.view);
	assert_int_equal(lines(), 0);
	/* The connect raises its alert at once... */
	vault_connect(&c, "kv-payments", 10 * SEC);
	assert_true(rules_judge(&c.view));
	rules_on_event(rules, &c.view, json, strlen(json));
	assert_int_equal(lines(), 1);
	/* ...its repeats add to it, another vault's do not, nor a send's... */
	vault_repeats(&c, 19999, 10 * SEC, 12 * SEC);
	assert_false(rules_judge(&c.view));
	rules_on_repeat(rules, &c.view);
	vault_connect(&c, "kv-other", 13 * SEC);
	vault_repeats(&c, 5, 13 * SEC, 14 * SEC);
	rules_on_repeat(rules, &c.view);
	vault_connect(&c, "kv-payments", 15 * SEC);
	vault_repeats(&c, 3, 15 * SEC, 16 * SEC);
	c.repeat.repeat_of = AM_REC_SEND;
	rules_on_repeat(rules, &c.view);
	/* ...nor those counted after its window closed. */
	vault_connect(&c, "kv-payments", 20 * SEC);
	vault_repeats(&c, 100, 69 * SEC, 70 * SEC);
	rules_on_repeat(rules, &c.view);
	assert_int_equal(lines(), 1);
	/* The window ends: one folded line, with the connect and its 19999 repeats. */
	rules_advance(rules, 71 * SEC);
	assert_int_equal(lines(), 2);
	assert_non_null(strstr(strchr(written, '\n'), "\"rule\":\"keyvault-unexpected\""));
	assert_non_null(strstr(strchr(written, '\n'), "\"count\":20000,"));
	/* One alert, not 20000. */
	for (int rule = 0; rule < rule_count(); rule++)
		if (strcmp(rule_name(rule), "keyvault-unexpected") == 0)
			assert_int_equal(rules_stats(rules)->alerts[rule], 1);
	rules_free(rules);
	policy_free(policy);
}

/* Every alert line, counted; the last two kept. */
static struct {
	size_t count;
	char last[16384], before_last[16384];
} sunk;

static void sink_count(void *ctx, struct jsonw *line, enum severity severity)
{
	(void)ctx;
	(void)severity;
	memcpy(sunk.before_last, sunk.last, sizeof(sunk.last));
	snprintf(sunk.last, sizeof(sunk.last), "%s", line->buf);
	sunk.count++;
}

/* rules_private.h's FOLD_MAX: alerts kept to fold repeats into. */
#define RULES_FOLDS 4096

static void folds_are_found_among_many(void **state)
{
	struct policy *policy = policy_default();
	struct rules_context context = {.policy = policy};
	struct rules_sink sink = {.write = sink_count};
	struct rules *rules = rules_new(&context, OUTPUT_JSON, &sink);
	struct vault_connect c;
	char vault[32];
	int i;

	(void)state;
	assert_non_null(rules);
	memset(&sunk, 0, sizeof(sunk));
	/* One more vault than there are folds: the first one's fold goes. */
	for (i = 0; i <= RULES_FOLDS; i++) {
		snprintf(vault, sizeof(vault), "kv-%d", i);
		vault_connect(&c, vault, 1 * SEC + (uint64_t)i);
		rules_on_event(rules, &c.view, NULL, 0);
	}
	assert_int_equal(sunk.count, RULES_FOLDS + 1);
	/* Written by the rules, the pipeline having written none: the event as evidence. */
	assert_non_null(strstr(sunk.last, "\"evidence\":[{\"type\":\"connect\""));
	assert_non_null(strstr(sunk.last, "\"pid\":4242"));
	assert_non_null(strstr(sunk.last, "Key Vault kv-4096 without an identity"));
	/* The newest and the second fold into theirs... */
	vault_connect(&c, "kv-4096", 2 * SEC);
	rules_on_event(rules, &c.view, NULL, 0);
	vault_connect(&c, "kv-1", 2 * SEC);
	rules_on_event(rules, &c.view, NULL, 0);
	assert_int_equal(sunk.count, RULES_FOLDS + 1);
	/* ...the first is new again, and pushes out the oldest, kv-1, with its count. */
	vault_connect(&c, "kv-0", 3 * SEC);
	rules_on_event(rules, &c.view, NULL, 0);
	assert_int_equal(sunk.count, RULES_FOLDS + 3);
	assert_non_null(strstr(sunk.before_last, "Key Vault kv-1 without"));
	assert_non_null(strstr(sunk.before_last, "\"count\":2,"));
	assert_non_null(strstr(sunk.last, "Key Vault kv-0 without"));
	assert_non_null(strstr(sunk.last, "\"count\":1,"));
	assert_int_equal(rules_stats(rules)->folded, 2);
	rules_free(rules);
	policy_free(policy);
}

/* A pod reads the node's cloud config, then reaches Key Vault: one chain, its own. */
static void chains_are_the_thieves_own(void **state)
{
	struct policy *policy = policy_default();
	struct rules_context context = {.policy = policy};
	struct rules_sink sink = {.write = sink_count};
	struct rules *rules = rules_new(&context, OUTPUT_JSON, &sink);
	struct watch_entry watch = {.kind = WATCH_NODE_CLOUD_CONFIG,
				    .path = "/etc/kubernetes/azure.json"};
	struct am_open_record open = {0};
	struct event_view view = {0};
	struct vault_connect c;

	(void)state;
	assert_non_null(rules);
	memset(&sunk, 0, sizeof(sunk));
	vault_connect(&c, "kv-payments", 1 * SEC);
	open.header.type = AM_REC_OPEN;
	open.task = c.dst.task;
	strcpy(open.path, "/host/etc/kubernetes/azure.json");
	view.kind = VIEW_OPEN;
	view.open = &open;
	view.watch = &watch;
	view.task = &open.task;
	view.cgroup = &c.cgroup;
	view.time_ns = 1 * SEC;
	assert_true(rules_judge(&view));
	rules_on_event(rules, &view, NULL, 0);
	assert_int_equal(sunk.count, 1);
	assert_non_null(strstr(sunk.last, "\"rule\":\"node-credential-read\""));
	/* Another pod reaching Key Vault is no chain. */
	vault_connect(&c, "kv-payments", 2 * SEC);
	strcpy(c.cgroup.ref.pod_uid, "99999999-1b3e-4c5d-9e8f-a1b2c3d4e5f6");
	rules_on_event(rules, &c.view, NULL, 0);
	assert_int_equal(sunk.count, 2);
	assert_non_null(strstr(sunk.last, "\"rule\":\"keyvault-unexpected\""));
	/* The thief does: the chain, with both events, then the Key Vault alert. */
	vault_connect(&c, "kv-payments", 3 * SEC);
	rules_on_event(rules, &c.view, NULL, 0);
	assert_int_equal(sunk.count, 4);
	assert_non_null(strstr(sunk.before_last, "\"rule\":\"identity-theft-chain\""));
	assert_non_null(strstr(sunk.before_last, "\"evidence\":[{\"type\":\"open\""));
	assert_non_null(strstr(sunk.before_last, "}},{\"type\":\"connect\""));
	assert_non_null(strstr(sunk.last, "\"rule\":\"keyvault-unexpected\""));
	rules_free(rules);
	policy_free(policy);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(repeats_fold_until_their_window_ends),
		cmocka_unit_test(a_blind_detection_is_an_alert),
		cmocka_unit_test(counted_repeats_join_their_alert_and_raise_none),
		cmocka_unit_test(folds_are_found_among_many),
		cmocka_unit_test(chains_are_the_thieves_own),
	};

	return cmocka_run_group_tests_name("detection", tests, NULL, NULL);
}

