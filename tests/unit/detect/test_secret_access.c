// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * Unit tests: opens of secret files through the rules. A read is theft
 * (foreign-token-read, node-credential-read), a write is tampering
 * (secret-tampering), each its own alert.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "alert_lines.h"

#include "attribute/cgroups.h"
#include "name/flows.h"
#include "attribute/node_identity.h"
#include "attribute/pods.h"
#include "detect/policy.h"
#include "detect/rules.h"
#include "attribute/watch.h"

#define SEC 1000000000ull
#define ATTACKER_UID "6a989b21-408d-4fa1-81d2-4c4c92c84db5"
#define VICTIM_UID "4f66490c-5111-44a5-b13e-de98b6064328"
#define VICTIM_TOKEN                                                                           \
	"/var/lib/kubelet/pods/" VICTIM_UID                                                    \
	"/volumes/kubernetes.io~projected/azure-identity-token"

static const struct watch_entry victim_token = {
	.kind = WATCH_WORKLOAD_IDENTITY_TOKEN,
	.path = VICTIM_TOKEN,
	.owner_uid = VICTIM_UID,
	.identity = WATCH_DIR_IDENTITY,
};

static const struct watch_entry azure_json = {
	.kind = WATCH_NODE_CLOUD_CONFIG,
	.path = "/etc/kubernetes/azure.json",
	.identity = WATCH_FILE_IDENTITY,
};

static struct pod_info victim = {
	.uid = VICTIM_UID,
	.namespace = "payments",
	.name = "checkout",
};

/* One open of a watched file, as the pipeline would hand it to the rules. */
struct secret_open {
	struct cgroup_entry cgroup;
	struct am_open_record open;
	struct event_view view;
};

/* opener_uid NULL: a host process, in host_unit ("" for none). */
static void secret_open(struct secret_open *o, const struct watch_entry *watch,
			const char *opener_uid, const char *host_unit, uint32_t flags,
			int64_t result, uint64_t time_ns)
{
	memset(o, 0, sizeof(*o));
	o->cgroup.id = 10874;
	if (opener_uid) {
		o->cgroup.ref.is_pod = true;
		snprintf(o->cgroup.ref.pod_uid, sizeof(o->cgroup.ref.pod_uid), "%s", opener_uid);
	} else {
		snprintf(o->cgroup.host_unit, sizeof(o->cgroup.host_unit), "%s", host_unit);
	}
	o->open.header.type = AM_REC_OPEN;
	o->open.task.pid = 8586;
	o->open.task.cgroup_id = o->cgroup.id;
	strcpy(o->open.task.comm, "sh");
	o->open.result = result;
	o->open.flags = flags;
	o->open.match = result < 0 ? AM_MATCH_PATH : AM_MATCH_DIR;
	snprintf(o->open.path, sizeof(o->open.path), "%s%s", watch->path,
		 watch->owner_uid[0] ? "/azure-identity-token" : "");
	if (watch->owner_uid[0] && result >= 0)
		strcpy(o->open.name, "azure-identity-token");
	o->view.kind = VIEW_OPEN;
	o->view.open = &o->open;
	o->view.watch = watch;
	o->view.owner_pod = watch->owner_uid[0] ? &victim : NULL;
	o->view.task = &o->open.task;
	o->view.cgroup = &o->cgroup;
	o->view.time_ns = time_ns;
}

struct scene {
	struct policy *policy;
	struct node_identity node;
	struct rules *rules;
};

static int scene_setup(void **state)
{
	static struct scene scene;
	struct rules_context context = {0};
	struct rules_sink sink = {.write = collect};

	memset(&scene, 0, sizeof(scene));
	scene.policy = policy_default();
	context.policy = scene.policy;
	context.node = &scene.node;
	scene.rules = rules_new(&context, OUTPUT_JSON, &sink);
	if (!scene.policy || !scene.rules)
		return -1;
	written[0] = '\0';
	*state = &scene;
	return 0;
}

static int scene_teardown(void **state)
{
	struct scene *scene = *state;

	rules_free(scene->rules);
	policy_free(scene->policy);
	return 0;
}

static void judge(struct scene *scene, const struct watch_entry *watch, const char *opener_uid,
		  const char *host_unit, uint32_t flags, int64_t result, uint64_t time_ns)
{
	struct secret_open o;

	secret_open(&o, watch, opener_uid, host_unit, flags, result, time_ns);
	assert_true(rules_judge(&o.view));
	rules_on_event(scene->rules, &o.view, NULL, 0);
}

/*
 * The rule's line, which must say this severity, end its summary with what the
 * opener did and its target with target_end.
 */
static const char *expect_alert(const char *rule, const char *severity, const char *act,
				const char *target_end)
{
	const char *line = line_of(rule);
	char want[256];

	snprintf(want, sizeof(want), "\"rule\":\"%s\",\"severity\":\"%s\"", rule, severity);
	assert_non_null(strstr(line, want));
	snprintf(want, sizeof(want), " (sh) %s\"", act);
	assert_non_null(strstr(line, want));
	snprintf(want, sizeof(want), "%s},\"evidence\":[{\"type\":\"open\"", target_end);
	assert_non_null(strstr(line, want));
	return line;
}

/* How targets end: whose file, the access judged, the open's result. */
#define VICTIMS_READ "\"name\":\"checkout\"},\"access\":\"read\",\"result\":3"
#define VICTIMS_WRITE "\"name\":\"checkout\"},\"access\":\"write\",\"result\":3"
#define NODES_WRITE "\"owner_pod\":null,\"access\":\"write\",\"result\":3"
#define NODES_READ "\"owner_pod\":null,\"access\":\"read\",\"result\":3"

#define VICTIMS_TOKEN "the workload-identity-token of pod payments/checkout"
#define NODES_CONFIG "the node's node-cloud-config /etc/kubernetes/azure.json"

static void a_read_of_another_pods_token_is_theft(void **state)
{
	const char *line;

	judge(*state, &victim_token, ATTACKER_UID, NULL, O_RDONLY, 3, 1 * SEC);
	assert_int_equal(lines(), 1);
	line = expect_alert("foreign-token-read", "high", "read " VICTIMS_TOKEN, VICTIMS_READ);
	assert_non_null(strstr(line, "\"techniques\":[\"MS-TA9016\"]"));
}

static void a_write_of_another_pods_token_is_tampering_only(void **state)
{
	const char *line;

	judge(*state, &victim_token, ATTACKER_UID, NULL, O_WRONLY | O_TRUNC, 3, 1 * SEC);
	assert_int_equal(lines(), 1);
	line = expect_alert("secret-tampering", "high", "opened " VICTIMS_TOKEN " for writing",
			    VICTIMS_WRITE);
	assert_non_null(strstr(line, "\"techniques\":[\"MS-TA9013\"]"));
}

/* O_RDWR takes and tampers: two alerts, each with its own access. */
static void a_read_write_open_is_both(void **state)
{
	judge(*state, &victim_token, ATTACKER_UID, NULL, O_RDWR, 3, 1 * SEC);
	assert_int_equal(lines(), 2);
	expect_alert("foreign-token-read", "high", "read " VICTIMS_TOKEN, VICTIMS_READ);
	expect_alert("secret-tampering", "high", "opened " VICTIMS_TOKEN " for writing",
		     VICTIMS_WRITE);
}

/* A read and a write of one file fold apart; more writes fold into the first. */
static void reads_and_writes_fold_apart(void **state)
{
	struct scene *scene = *state;

	judge(scene, &victim_token, ATTACKER_UID, NULL, O_RDONLY, 3, 1 * SEC);
	judge(scene, &victim_token, ATTACKER_UID, NULL, O_WRONLY, 3, 2 * SEC);
	judge(scene, &victim_token, ATTACKER_UID, NULL, O_WRONLY | O_APPEND, 3, 3 * SEC);
	judge(scene, &victim_token, ATTACKER_UID, NULL, O_RDONLY | O_CREAT, 3, 4 * SEC);
	assert_int_equal(lines(), 2);
	rules_finish(scene->rules);
	assert_int_equal(lines(), 4);
	assert_non_null(strstr(strrchr(written, '{'), "\"count\":3,"));
}

static void the_pods_own_volume_is_its_own(void **state)
{
	judge(*state, &victim_token, VICTIM_UID, NULL, O_WRONLY | O_CREAT | O_TRUNC, 3, 1 * SEC);
	judge(*state, &victim_token, VICTIM_UID, NULL, O_RDWR, 3, 2 * SEC);
	assert_int_equal(lines(), 0);
}

static void a_pod_writing_the_nodes_credentials_is_critical(void **state)
{
	judge(*state, &azure_json, ATTACKER_UID, NULL, O_WRONLY | O_TRUNC, 3, 1 * SEC);
	assert_int_equal(lines(), 1);
	expect_alert("secret-tampering", "critical", "opened " NODES_CONFIG " for writing",
		     NODES_WRITE);
	/* Its read is high, as before (a managed-identity node). */
	judge(*state, &azure_json, ATTACKER_UID, NULL, O_RDONLY, 3, 2 * SEC);
	expect_alert("node-credential-read", "high", "read " NODES_CONFIG, NODES_READ);
}

/* The kubelet and the VM agent keep the node's files; the kubelet, the pods'. */
static void host_processes_writing_credentials_are_silent(void **state)
{
	judge(*state, &azure_json, NULL, "walinuxagent.service", O_WRONLY | O_CREAT | O_TRUNC, 3,
	      1 * SEC);
	judge(*state, &azure_json, NULL, "", O_RDWR, 3, 2 * SEC);
	judge(*state, &victim_token, NULL, "kubelet.service", O_WRONLY | O_CREAT | O_TRUNC, 3,
	      3 * SEC);
	assert_int_equal(lines(), 0);
	/* Another host process writing a pod's token is judged as its read would be. */
	judge(*state, &victim_token, NULL, "", O_WRONLY, 3, 4 * SEC);
	assert_int_equal(lines(), 1);
	expect_alert("secret-tampering", "high", "opened " VICTIMS_TOKEN " for writing",
		     VICTIMS_WRITE);
}

/* A failed write is an attempt: medium, for the node's files too. */
static void a_failed_write_is_an_attempt(void **state)
{
	judge(*state, &victim_token, ATTACKER_UID, NULL, O_WRONLY | O_CREAT, -EACCES, 1 * SEC);
	assert_int_equal(lines(), 1);
	expect_alert("secret-tampering", "medium", "tried to open " VICTIMS_TOKEN " for writing",
		     "\"access\":\"write\",\"result\":-13");
	written[0] = '\0';
	judge(*state, &azure_json, ATTACKER_UID, NULL, O_WRONLY, -EROFS, 2 * SEC);
	assert_int_equal(lines(), 1);
	expect_alert("secret-tampering", "medium", "tried to open " NODES_CONFIG " for writing",
		     "\"access\":\"write\",\"result\":-30");
}

/* O_PATH reads and writes nothing, whatever flags come with it. */
static void a_path_only_open_is_no_access(void **state)
{
	judge(*state, &victim_token, ATTACKER_UID, NULL, O_PATH, 3, 1 * SEC);
	judge(*state, &azure_json, ATTACKER_UID, NULL, O_PATH | O_WRONLY | O_TRUNC, 3, 2 * SEC);
	judge(*state, &azure_json, ATTACKER_UID, NULL, O_PATH, -ENOENT, 3 * SEC);
	assert_int_equal(lines(), 0);
}

/* A write takes nothing away: no chain starts from it. */
static void only_a_read_starts_a_chain(void **state)
{
	struct scene *scene = *state;
	struct cgroup_entry cgroup = {.ref.is_pod = true};
	struct naming naming = {.source = NAME_DNS};
	struct am_connect_record dst = {.header.type = AM_REC_CONNECT, .family = 4, .protocol = 6,
					.port = 443};
	struct event_view view = {.kind = VIEW_CONNECT, .dst = &dst, .naming = &naming,
				  .task = &dst.task, .cgroup = &cgroup};

	strcpy(cgroup.ref.pod_uid, ATTACKER_UID);
	naming.cls.service = SERVICE_KEYVAULT;
	strcpy(naming.cls.resource, "kv-payments");
	strcpy(naming.host, "kv-payments.vault.azure.net");
	judge(scene, &azure_json, ATTACKER_UID, NULL, O_WRONLY | O_TRUNC, 3, 1 * SEC);
	view.time_ns = 2 * SEC;
	rules_on_event(scene->rules, &view, NULL, 0);
	assert_string_equal(line_of("identity-theft-chain"), "");
	judge(scene, &azure_json, ATTACKER_UID, NULL, O_RDWR, 3, 3 * SEC);
	view.time_ns = 4 * SEC;
	rules_on_event(scene->rules, &view, NULL, 0);
	assert_non_null(strstr(line_of("identity-theft-chain"),
			       "read " NODES_CONFIG ", then reached keyvault "
			       "kv-payments.vault.azure.net"));
}

#define SCENE_TEST(f) cmocka_unit_test_setup_teardown(f, scene_setup, scene_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		SCENE_TEST(a_read_of_another_pods_token_is_theft),
		SCENE_TEST(a_write_of_another_pods_token_is_tampering_only),
		SCENE_TEST(a_read_write_open_is_both),
		SCENE_TEST(reads_and_writes_fold_apart),
		SCENE_TEST(the_pods_own_volume_is_its_own),
		SCENE_TEST(a_pod_writing_the_nodes_credentials_is_critical),
		SCENE_TEST(host_processes_writing_credentials_are_silent),
		SCENE_TEST(a_failed_write_is_an_attempt),
		SCENE_TEST(a_path_only_open_is_no_access),
		SCENE_TEST(only_a_read_starts_a_chain),
	};

	return cmocka_run_group_tests_name("secret access", tests, NULL, NULL);
}
