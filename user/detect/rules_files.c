// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * The rules for secret files: the node's credentials read by pods
 * (node-credential-read), a pod's tokens and secrets read by anyone else
 * (foreign-token-read), and either written (secret-tampering).
 */
#include "detect/rules_private.h"

#include <fcntl.h>
#include <stdio.h>
#include <string.h>

#include "attribute/cgroups.h"
#include "attribute/node_identity.h"
#include "attribute/pods.h"
#include "attribute/watch.h"

/* What an open of a watched file could do to it. */
enum file_access {
	FILE_READ = 1,
	FILE_WRITE = 2,
};

/*
 * What an open's flags, as the opener passed them, let it do. O_PATH reads and
 * writes nothing: the kernel drops every other flag with it, and reopening the
 * fd through /proc is an open of its own. The access mode 3 needs both
 * permissions: judged both. O_TRUNC truncates even a read-only open; O_CREAT
 * makes a file in a watched volume.
 */
static unsigned int open_access(uint32_t flags)
{
	unsigned int access = 0;

	if (flags & O_PATH)
		return 0;
	if ((flags & O_ACCMODE) != O_WRONLY)
		access |= FILE_READ;
	if ((flags & O_ACCMODE) != O_RDONLY || (flags & (O_CREAT | O_TRUNC | O_APPEND)))
		access |= FILE_WRITE;
	return access;
}

/* A secret file's open, as one alert judges it: its read, or its write. */
struct file_target {
	const struct event_view *view;
	const char *host_path; /* the file's, on the node */
	bool write;
};

static void target_file(struct jsonw *w, const void *arg)
{
	const struct file_target *target = arg;
	const struct event_view *view = target->view;
	const struct am_open_record *record = view->open;

	jsonw_member_string(w, "kind", watch_kind_name(watch_kind_of(view->watch, record->name)));
	jsonw_member_string(w, "host_path", target->host_path);
	jsonw_key(w, "path");
	jsonw_string_n(w, record->path, strnlen(record->path, sizeof(record->path)));
	jsonw_key(w, "owner_pod");
	if (view->watch->owner_uid[0]) {
		jsonw_object_begin(w);
		jsonw_member_string(w, "uid", view->watch->owner_uid);
		jsonw_member_string(w, "namespace", view->owner_pod ? view->owner_pod->namespace : NULL);
		jsonw_member_string(w, "name", view->owner_pod ? view->owner_pod->name : NULL);
		jsonw_object_end(w);
	} else {
		jsonw_null(w);
	}
	jsonw_member_string(w, "access", target->write ? "write" : "read");
	jsonw_member_int(w, "result", record->result);
}

/*
 * One access of an open of someone else's secret, `what`: a read is theft
 * (node-credential-read, foreign-token-read), a write is tampering
 * (secret-tampering). A failed open is an attempt.
 */
static void open_alert(struct rules *rules, struct evidence *evidence, enum watch_kind kind,
		       const char *what, bool write)
{
	const struct event_view *view = evidence->view;
	bool node = !view->watch->owner_uid[0]; /* no pod's: the node's */
	bool failed = view->open->result < 0;
	struct file_target target = {view, NULL, write};
	char who[320], key[96], act[384], host[AM_WATCH_PATH_LEN + AM_NAME_LEN + 2];
	struct alert alert = {0};

	watch_host_path(view->watch, view->open, host, sizeof(host));
	target.host_path = host;
	rules_alert_about(&alert, evidence, target_file, &target);
	if (write) {
		alert.rule = RULE_SECRET_TAMPERING;
		alert.severity = node ? SEVERITY_CRITICAL : SEVERITY_HIGH;
	} else if (node) {
		alert.rule = RULE_NODE_CREDENTIAL;
		alert.severity = SEVERITY_HIGH;
		if (kind == WATCH_NODE_CLOUD_CONFIG && rules->context.node &&
		    rules->context.node->uses_service_principal)
			alert.severity = SEVERITY_CRITICAL;
	} else {
		alert.rule = RULE_FOREIGN_TOKEN;
		alert.severity = SEVERITY_HIGH;
	}
	if (failed)
		alert.severity = SEVERITY_MEDIUM;
	alert.secret_kind = watch_kind_name(kind);
	alert.secret_path = host;
	alert.secret_write = open_access(view->open->flags) & FILE_WRITE;
	if (write)
		snprintf(act, sizeof(act), "%s %s for writing", failed ? "tried to open" : "opened",
			 what);
	else
		snprintf(act, sizeof(act), "%s %s", failed ? "tried to read" : "read", what);
	snprintf(alert.summary, sizeof(alert.summary), "%s (%s) %s",
		 rules_pod_label(view, who, sizeof(who)), rules_program(view), act);
	rules_key_join(alert.key, sizeof(alert.key),
		       (const char *const[]){rule_table[alert.rule].name,
					     rules_subject_key_of(view, key, sizeof(key)), host,
					     write ? "write" : "read", failed ? "failed" : "done"},
		       5);
	/* Only a read takes a credential away: the first half of a chain. */
	if (rules_raise_alert(rules, &alert, NULL) && !failed && !write)
		rules_note_theft(rules, evidence, act);
}

/*
 * Opens of the node's credentials by pods, and of a pod's secrets by anyone but
 * the pod: what an open could read is judged apart from what it could write.
 * Host processes (the kubelet, the VM agent) keep the node's files; who else
 * may keep a pod's (the kubelet, the CSI driver writing the mounts it serves)
 * is the policy's to say.
 */
void rules_open(struct rules *rules, struct evidence *evidence)
{
	const struct event_view *view = evidence->view;
	enum watch_kind kind = watch_kind_of(view->watch, view->open->name);
	unsigned int access = open_access(view->open->flags);
	bool pod = view->cgroup && view->cgroup->ref.is_pod;
	const struct pod_info *owner =
		view->owner_pod && view->owner_pod->name ? view->owner_pod : NULL;
	char what[320], host[AM_WATCH_PATH_LEN + AM_NAME_LEN + 2];

	switch (kind) {
	case WATCH_NODE_CLOUD_CONFIG:
	case WATCH_KUBELET_CREDENTIALS:
	case WATCH_NODE_TLS_KEY:
	case WATCH_MANAGED_IDENTITY_SETTINGS:
		if (!pod)
			return;
		watch_host_path(view->watch, view->open, host, sizeof(host));
		snprintf(what, sizeof(what), "the node's %s %s", watch_kind_name(kind), host);
		break;
	case WATCH_SERVICE_ACCOUNT_TOKEN:
	case WATCH_WORKLOAD_IDENTITY_TOKEN:
	case WATCH_PROJECTED_TOKENS:
	case WATCH_SECRET_VOLUME:
	case WATCH_CSI_SECRET:
		if (!view->watch->owner_uid[0] ||
		    (pod && strcmp(view->watch->owner_uid, view->cgroup->ref.pod_uid) == 0))
			return; /* its own */
		snprintf(what, sizeof(what), "the %s of pod %s%s%s", watch_kind_name(kind),
			 owner ? owner->namespace : view->watch->owner_uid, owner ? "/" : "",
			 owner ? owner->name : "");
		break;
	default:
		return;
	}
	if (access & FILE_READ)
		open_alert(rules, evidence, kind, what, false);
	if (access & FILE_WRITE)
		open_alert(rules, evidence, kind, what, true);
}
