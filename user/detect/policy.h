/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * The policy: known-good access that raises no alert, and severity overrides.
 * A JSON file (--policy FILE); without one, the built-in default below, which
 * allows what AKS itself does and nothing broader. An allow entry matches when
 * every condition it states holds; it names the rules it silences ("*": all).
 */
#ifndef ACCESSMON_POLICY_H
#define ACCESSMON_POLICY_H

#include <stdbool.h>
#include <cjson/cJSON.h>

#include "event/severity.h"
#include "lib/error.h"

/* What an alert is about, as policy conditions see it. */
struct policy_subject {
	const char *rule;
	bool host; /* a host process, not a pod's */
	const char *host_unit;
	const char *namespace;
	const char *pod_name;
	const char *service_account;
	const char *container;
	const char *image;
	const char *exe;
	bool proxy_sidecar;
	const char *identity_kind; /* the identity an IMDS token request selected, or NULL */
	/* A secret file's access: its watch kind's name (watch_kind_name), the
	 * path the node names it by, and whether the open could write it. */
	const char *secret_kind;
	const char *secret_path;
	bool secret_write;
};

struct policy;

/* The built-in default policy's text (policy_default.c): each entry with its source. */
extern const char POLICY_DEFAULT_JSON[];

struct policy *policy_parse(const cJSON *root, const char *source, struct am_error *err);
struct policy *policy_load(const char *path, struct am_error *err);
typedef void (*policy_problem_fn)(void *ctx, const char *message);
/* Every problem of a policy document, not only the first; returns how many. */
int policy_check(const cJSON *root, const char *source, policy_problem_fn problem, void *ctx);
struct policy *policy_default(void);
void policy_free(struct policy *policy);
/* The policy as compact JSON: what a recording carries. */
const char *policy_json(const struct policy *policy);

/* The comment of the allow entry that matches, or NULL: the alert stands. */
const char *policy_allows(const struct policy *policy, const struct policy_subject *subject);
/* The severity after overrides. */
enum severity policy_severity(const struct policy *policy, const char *rule,
			      enum severity severity);

enum severity severity_parse(const char *name);

#endif /* ACCESSMON_POLICY_H */
