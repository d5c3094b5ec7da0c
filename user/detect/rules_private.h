/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * What the detection's files share behind rules.h: the rules' state, an alert on
 * its way out, and the helpers every family of rules uses. rules.c holds the
 * entry points, alerts.c writes and folds alerts, rules_identity.c says which
 * identity a request selects, and each rules_<family>.c judges one kind of
 * access. Nothing outside detect/ includes this.
 */
#ifndef ACCESSMON_DETECT_RULES_PRIVATE_H
#define ACCESSMON_DETECT_RULES_PRIVATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "detect/rules.h"
#include "lib/hashtab.h"
#include "output/output.h"

/* Summaries and keys are bounded on purpose: a pod's names cannot make them grow. */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wformat-truncation"
#endif

enum rule_id {
	RULE_IMDS_TOKEN = 0,
	RULE_IMDS_ACCESS,
	RULE_WIRESERVER,
	RULE_KEYVAULT,
	RULE_ACR,
	RULE_ENTRA_LOGIN,
	RULE_NODE_CREDENTIAL,
	RULE_FOREIGN_TOKEN,
	RULE_SECRET_TAMPERING,
	RULE_CHAIN,
	RULE_EVENTS_LOST,
	RULE_MONITOR_DEGRADED,
	RULE_RAW_SOCKET,
	RULE_TLS_MISMATCH,
	RULE_COUNT,
};

struct rule_info {
	const char *name;
	const char *techniques[3];
};

/* Each rule's name and Threat Matrix techniques, by rule_id. */
extern const struct rule_info rule_table[RULE_COUNT];

#define FOLD_MAX 4096
#define CHAIN_MAX 4096

/* An alert once written: kept to fold repeats into it. */
struct fold {
	char key[512];
	uint64_t first_ns, last_ns;
	uint64_t count;
	/* The line up to its count: JSON without the closing brace, or the text line. */
	char *prefix;
	enum severity severity;
	enum rule_id rule;
	bool used;
	struct hashtab_node node; /* in rules.folds_by_key while used */
};

/* A pod that took a credential: the first half of a chain. */
struct theft {
	char pod_uid[48];
	uint64_t time_ns;
	char *evidence; /* the event's JSON */
	char summary[384];
	bool reported;
	bool used;
	struct hashtab_node node; /* in rules.thefts_by_pod once it has a pod uid */
};

struct rules {
	struct rules_context context;
	const struct output_filter *filter;
	enum output_format format;
	struct rules_sink sink;
	struct fold *folds;
	struct hashtab folds_by_key; /* every fold in use: each event looks its key up */
	uint64_t next_close_ns; /* no fold's window ends before this; UINT64_MAX: none open */
	struct theft *thefts;
	size_t n_thefts; /* thefts[0..n_thefts) are taken; the rest never were */
	struct hashtab thefts_by_pod;
	uint64_t hash_seed; /* fold keys carry what pods choose: hash_random_seed() */
	struct rules_stats stats;
	struct jsonw line;
	struct jsonw scratch;
	struct jsonw evidence; /* the event's record, when the pipeline did not write it */
};

struct identity_view {
	const char *kind; /* kubelet | addon | workload | node-system | service-principal | unknown */
	const char *name;
	const char *client_id;
	const char *principal_id;
	bool node; /* reachable through IMDS on this node */
	bool own;  /* the pod's own workload identity */
	const char *selector; /* the request's value that named it */
};

/*
 * The event an alert is about, as evidence. Its JSON record is written only when
 * it is needed (an alert's first line, a theft remembered): most events are
 * repeats, folded into an alert already written.
 */
struct evidence {
	const struct event_view *view;
	const char *json; /* NULL: not written yet */
	size_t len;
};

struct alert;

/* Writes an alert's summary: only for the alerts that are written, not folded. */
typedef void (*alert_describe_fn)(struct alert *alert);

struct alert {
	enum rule_id rule;
	enum severity severity;
	uint64_t time_ns;
	const struct event_view *view; /* NULL: not about one process (events-lost) */
	const struct identity_view *identity;
	char summary[640];
	alert_describe_fn describe; /* NULL: summary is written already */
	char key[512];
	/* target members, written by the rule */
	void (*target)(struct jsonw *w, const void *arg);
	const void *target_arg;
	const char *earlier_evidence; /* a chain's first half, before the event */
	struct evidence *evidence;    /* NULL: about no one event */
	/* An open of a secret file (NULL/false for other alerts), for the policy. */
	const char *secret_kind;
	const char *secret_path;
	bool secret_write; /* the open could write the file */
};

/* rules_identity.c: which identity a request selects, and the pod's own. */
void rules_own_identity(const struct rules *rules, const struct event_view *view,
			struct identity_view *out);
void rules_selected_identity(const struct rules *rules, const struct event_view *view,
			     const struct http_request *request, struct identity_view *out);
void rules_identity_json(struct jsonw *w, const struct rules *rules,
			 const struct identity_view *identity);

/* alerts.c: writing alerts and folding their repeats. */
bool rules_evidence_json(struct rules *rules, struct evidence *evidence);
void rules_alert_about(struct alert *alert, struct evidence *evidence,
		       void (*target)(struct jsonw *w, const void *arg), const void *target_arg);
bool rules_raise_alert(struct rules *rules, struct alert *alert, const char *identity_kind);
struct fold *rules_fold_find(struct rules *rules, const char *key);
/* Summaries and keys: who did it, with what, and the key its repeats fold by. */
const char *rules_pod_label(const struct event_view *view, char *buf, size_t len);
const char *rules_program(const struct event_view *view);
void rules_key_join(char *buf, size_t len, const char *const *parts, size_t n);
const char *rules_subject_key_of(const struct event_view *view, char *buf, size_t len);
enum severity rules_attempt_of(enum severity severity);

/* rules_chain.c: a credential taken, then used. */
void rules_note_theft(struct rules *rules, struct evidence *evidence, const char *summary);
void rules_note_use(struct rules *rules, struct evidence *evidence);

/* The families of rules, by the kind of event rules_on_event() is given. */
void rules_imds(struct rules *rules, struct evidence *evidence);    /* rules_imds.c */
void rules_connect(struct rules *rules, struct evidence *evidence); /* rules_network.c */
void rules_socket(struct rules *rules, struct evidence *evidence);  /* rules_sockets.c */
void rules_open(struct rules *rules, struct evidence *evidence);    /* rules_files.c */
/* rules_imds.c: a contact with IMDS whose requests are not read (from rules_connect). */
void rules_imds_contact(struct rules *rules, struct evidence *evidence);

#endif /* ACCESSMON_DETECT_RULES_PRIVATE_H */
