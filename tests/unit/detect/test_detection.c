// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* Unit tests: identity assignments from the Azure CLI's output, and the policy. */
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
#include "tree.h"

#include "attribute/cgroups.h"
#include "event/degraded.h"
#include "name/flows.h"
#include "detect/identities.h"
#include "detect/policy.h"
#include "detect/rules.h"
#include "attribute/watch.h"

#define RG "/subscriptions/s1/resourceGroups/rg-apps"

static const char *dir;

static void write_file(const char *name, const char *text)
{
	char path[256];

	snprintf(path, sizeof(path), "/%s", name);
	tree_write(path, text);
}

static int setup(void **state)
{
	(void)state;
	dir = tree_make("ids");
	return 0;
}

static void loads_what_is_there_and_says_what_is_not(void **state)
{
	const char *const kv[] = {"Key Vault Secrets User", NULL};
	struct identity_data *data;
	struct am_error err;

	(void)state;
	write_file("role-assignments.json",
		   "[{\"principalId\":\"P1\",\"roleDefinitionName\":\"Key Vault Secrets User\","
		   "\"roleDefinitionId\":\"/x/roleDefinitions/4633458b-17de-408a-b874-0445c86b69e6\","
		   "\"scope\":\"" RG "\"},"
		   "{\"principalId\":\"p2\",\"roleDefinitionId\":\"/subscriptions/s1/providers/"
		   "Microsoft.Authorization/roleDefinitions/7F951DDA-4ED3-4680-A7CA-43FE172D538D\","
		   "\"scope\":\"" RG "/providers/Microsoft.ContainerRegistry/registries/myreg\"}]");
	write_file("identities.json",
		   "[{\"name\":\"checkout\",\"clientId\":\"C1\",\"principalId\":\"p1\",\"id\":\"/x/c\"}]");
	write_file("federated-credentials-checkout.json",
		   "[{\"id\":\"" RG "/providers/Microsoft.ManagedIdentity/userAssignedIdentities/"
		   "checkout/federatedIdentityCredentials/fc\",\"subject\":"
		   "\"system:serviceaccount:payments:checkout\"}]");
	data = identity_data_load(dir, &err);
	assert_non_null(data);
	assert_non_null(strstr(data->loaded, "role-assignments.json (2)"));
	assert_non_null(strstr(data->loaded, "federated-credentials*.json (1)"));
	assert_non_null(strstr(data->missing, "cluster.json"));
	assert_non_null(strstr(data->missing, "resources.json"));
	/* A role on a resource group covers what is below it, case-insensitively... */
	assert_true(identity_data_has_role(data, "p1",
					   "/SUBSCRIPTIONS/s1/resourcegroups/RG-APPS/providers/"
					   "Microsoft.KeyVault/vaults/kv",
					   kv));
	/* ...but not a sibling whose name merely starts the same. */
	assert_false(identity_data_has_role(data, "p1",
					    "/subscriptions/s1/resourceGroups/rg-apps2/providers/"
					    "Microsoft.KeyVault/vaults/kv",
					    kv));
	assert_false(identity_data_has_role(data, "p2", RG, kv));
	/* A role known only by its definition GUID. */
	assert_string_equal(data->assignments[1].role, "AcrPull");
	assert_true(identity_data_has_role(
		data, "p2", RG "/providers/Microsoft.ContainerRegistry/registries/myreg",
		ACR_PULL_ROLES));
	assert_string_equal(identity_data_resource_id(data, REGISTRY_TYPE, "MyReg"),
			    RG "/providers/Microsoft.ContainerRegistry/registries/myreg");
	assert_null(identity_data_resource_id(data, KEYVAULT_TYPE, "kv"));
	assert_string_equal(identity_data_by_client_id(data, "c1")->name, "checkout");
	assert_string_equal(identity_data_by_subject(data, "payments", "checkout")->client_id, "c1");
	assert_null(identity_data_by_subject(data, "payments", "other"));
	identity_data_free(data);
}

static void wrong_files_are_errors_with_a_position(void **state)
{
	struct identity_data *data;
	struct am_error err;

	(void)state;
	write_file("identities.json", "[{\"name\": \"x\",\n \"clientId\": }]");
	data = identity_data_load(dir, &err);
	assert_null(data);
	assert_non_null(strstr(err.msg, "identities.json:2:"));
	write_file("identities.json", "{\"not\": \"a list\"}");
	assert_null(identity_data_load(dir, &err));
	assert_non_null(strstr(err.msg, "expected a JSON array"));
	write_file("identities.json", "[]");
	write_file("role-assignments.json", "[{\"principalId\":\"p\"}]");
	assert_null(identity_data_load(dir, &err));
	assert_non_null(strstr(err.msg, "role-assignments.json: [0]: needs principalId, scope"));
	assert_null(identity_data_load("/nonexistent-ids", &err));
	assert_non_null(strstr(err.msg, "--identities /nonexistent-ids"));
}

#define PROVIDER_SA "csi-secrets-store-provider-azure"
#define PROVIDER_IMAGE "mcr.microsoft.com/oss/v2/azure/secrets-store/provider-azure:v1.7.2"
#define DISK_SA "csi-azuredisk-node-sa"
#define DISK_IMAGE "mcr.microsoft.com/oss/v2/kubernetes-csi/azuredisk-csi:v1.33.11"
#define AZURE_JSON_PATH "/etc/kubernetes/azure.json"

/* What the default policy says of one subject. */
static const struct {
	const char *what;
	struct policy_subject s;
	bool allowed;
} default_cases[] = {
	{"the kubelet on the host",
	 {.rule = "imds-token-request", .host = true, .host_unit = "kubelet.service"}, true},
	{"another host unit", {.rule = "imds-token-request", .host = true, .host_unit = "sshd.service"},
	 false},
	/* The Key Vault provider with its add-on identity, and only that. */
	{"the Key Vault provider, add-on identity",
	 {.rule = "imds-token-request", .namespace = "kube-system", .service_account = PROVIDER_SA,
	  .image = PROVIDER_IMAGE, .identity_kind = "addon"},
	 true},
	{"the Key Vault provider, kubelet identity",
	 {.rule = "imds-token-request", .namespace = "kube-system", .service_account = PROVIDER_SA,
	  .image = PROVIDER_IMAGE, .identity_kind = "kubelet"},
	 false},
	{"the provider's look-alike in another namespace",
	 {.rule = "imds-token-request", .namespace = "default", .service_account = PROVIDER_SA,
	  .image = PROVIDER_IMAGE, .identity_kind = "addon"},
	 false},
	/* Never by a pod's name alone: its service account and image repository too. */
	{"a pod named as the provider's, another service account",
	 {.rule = "imds-token-request", .namespace = "kube-system",
	  .pod_name = "aks-secrets-store-provider-azure-x7k2p", .service_account = "default",
	  .image = PROVIDER_IMAGE, .identity_kind = "addon"},
	 false},
	{"the provider's service account, another registry's image",
	 {.rule = "imds-token-request", .namespace = "kube-system", .service_account = PROVIDER_SA,
	  .image = "myreg.azurecr.io/provider-azure:v1.7.2", .identity_kind = "addon"},
	 false},
	{"the provider's service account, a look-alike repository",
	 {.rule = "imds-token-request", .namespace = "kube-system", .service_account = PROVIDER_SA,
	  .image = "mcr.microsoft.com/oss/v2/azure/secrets-store/provider-azure-debug:v1",
	  .identity_kind = "addon"},
	 false},
	/* No blanket namespace allowance. */
	{"any kube-system pod reading azure.json",
	 {.rule = "node-credential-read", .namespace = "kube-system", .pod_name = "anything",
	  .secret_kind = "node-cloud-config", .secret_path = AZURE_JSON_PATH},
	 false},
	/* The disk CSI node plugin reads the files its manifest mounts, and no others. */
	{"the disk CSI node plugin reading azure.json",
	 {.rule = "node-credential-read", .namespace = "kube-system", .service_account = DISK_SA,
	  .image = DISK_IMAGE, .secret_kind = "node-cloud-config", .secret_path = AZURE_JSON_PATH},
	 true},
	{"the disk CSI node plugin reading ManagedIdentity-Settings",
	 {.rule = "node-credential-read", .namespace = "kube-system", .service_account = DISK_SA,
	  .image = DISK_IMAGE, .secret_kind = "managed-identity-settings",
	  .secret_path = "/var/lib/waagent/ManagedIdentity-Settings"},
	 true},
	{"the disk CSI node plugin opening azure.json for writing",
	 {.rule = "node-credential-read", .namespace = "kube-system", .service_account = DISK_SA,
	  .image = DISK_IMAGE, .secret_kind = "node-cloud-config", .secret_path = AZURE_JSON_PATH,
	  .secret_write = true},
	 false},
	{"the disk CSI node plugin reading the kubelet's kubeconfig",
	 {.rule = "node-credential-read", .namespace = "kube-system", .service_account = DISK_SA,
	  .image = DISK_IMAGE, .secret_kind = "kubelet-credentials",
	  .secret_path = "/var/lib/kubelet/kubeconfig"},
	 false},
	/* The proxy sidecar, with the pod's own identity only. */
	{"a proxied pod, its own identity",
	 {.rule = "imds-token-request", .proxy_sidecar = true, .identity_kind = "workload"}, true},
	{"a proxied pod, the node's default identity",
	 {.rule = "imds-token-request", .proxy_sidecar = true, .identity_kind = "node-system"},
	 false},
	/* Raw and packet sockets: AKS's network agents, and only raw-socket. */
	{"Retina's packet socket",
	 {.rule = "raw-socket", .namespace = "kube-system", .pod_name = "retina-agent-4kq2x",
	  .service_account = "retina-agent",
	  .image = "mcr.microsoft.com/containernetworking/retina-agent:v0.0.33"},
	 true},
	{"Cilium's raw socket",
	 {.rule = "raw-socket", .namespace = "kube-system", .service_account = "cilium",
	  .image = "mcr.microsoft.com/containernetworking/cilium/cilium-distroless:v1.18.11-260622"},
	 true},
	{"Cilium reading instance metadata",
	 {.rule = "imds-access", .namespace = "kube-system", .service_account = "cilium",
	  .image = "mcr.microsoft.com/containernetworking/cilium/cilium-distroless:v1.18.11-260622"},
	 false},
	{"a pod named as Cilium's",
	 {.rule = "raw-socket", .namespace = "kube-system", .pod_name = "cilium-9xw7d",
	  .service_account = "default", .image = "docker.io/library/busybox:1.36"},
	 false},
};

static void default_policy_allows_what_aks_does_and_nothing_broader(void **state)
{
	struct policy *policy = policy_default();
	size_t i;

	(void)state;
	assert_non_null(policy);
	for (i = 0; i < sizeof(default_cases) / sizeof(default_cases[0]); i++)
		if ((policy_allows(policy, &default_cases[i].s) != NULL) != default_cases[i].allowed)
			fail_msg("%s: %s", default_cases[i].what,
				 default_cases[i].allowed ? "not allowed" : "allowed");
	policy_free(policy);
}

static struct policy *policy_from(const char *text, struct am_error *err)
{
	cJSON *root = cJSON_Parse(text);
	struct policy *policy = policy_parse(root, "p.json", err);

	cJSON_Delete(root);
	return policy;
}

static void policy_files(void **state)
{
	struct policy_subject s = {.rule = "imds-access", .namespace = "shop", .pod_name = "web-1",
				   .exe = "/usr/bin/curl"};
	struct am_error err;
	struct policy *policy;

	(void)state;
	policy = policy_from("{\"allow\":[{\"comment\":\"health\",\"rules\":[\"imds-access\"],"
			     "\"namespace\":\"shop\",\"exe\":[\"/usr/bin/curl\"]}],"
			     "\"severity\":{\"wireserver-access\":\"critical\"}}",
			     &err);
	assert_non_null(policy);
	assert_string_equal(policy_allows(policy, &s), "health");
	s.exe = "/usr/bin/wget";
	assert_null(policy_allows(policy, &s));
	assert_int_equal(policy_severity(policy, "wireserver-access", SEVERITY_HIGH),
			 SEVERITY_CRITICAL);
	assert_int_equal(policy_severity(policy, "imds-access", SEVERITY_MEDIUM), SEVERITY_MEDIUM);
	policy_free(policy);

	assert_null(policy_from("{\"allow\":[{\"rules\":[\"imds\"]}]}", &err));
	assert_string_equal(err.msg, "p.json: allow[0].rules[0]: unknown rule \"imds\"");
	assert_null(policy_from("{\"allow\":[{\"rules\":\"*\",\"namespaces\":\"x\"}]}", &err));
	assert_string_equal(err.msg, "p.json: allow[0]: unknown condition \"namespaces\"");
	assert_null(policy_from("{\"allow\":[{\"namespace\":\"x\"}]}", &err));
	assert_non_null(strstr(err.msg, "allow[0].rules: missing"));
	assert_null(policy_from("{\"severity\":{\"imds-access\":\"urgent\"}}", &err));
	assert_non_null(strstr(err.msg, "severity.imds-access"));
	assert_null(policy_from("{\"allow\":[{\"rules\":\"*\",\"proxy_sidecar\":\"yes\"}]}", &err));
	assert_non_null(strstr(err.msg, "proxy_sidecar: expected true or false"));
	assert_null(policy_load("/nonexistent/policy.json", &err));
	assert_non_null(strstr(err.msg, "/nonexistent/policy.json: cannot open"));
	assert_int_equal(severity_parse("high"), SEVERITY_HIGH);
	assert_int_equal(severity_parse("nope"), SEVERITY_NONE);
}

/* Problems policy_check reports, joined by newlines. */
static char problems[2048];

static void note_problem(void *ctx, const char *message)
{
	(void)ctx;
	strncat(problems, message, sizeof(problems) - strlen(problems) - 2);
	strcat(problems, "\n");
}

/* Secret files are judged by kind, path (at a directory) and access; images at a repository. */
static void policy_secret_and_image_conditions(void **state)
{
	struct policy_subject s = {.rule = "foreign-token-read",
				   .namespace = "kube-system",
				   .service_account = "driver",
				   .image = "mcr.microsoft.com/oss/driver:v1",
				   .secret_kind = "csi-secret",
				   .secret_path = "/var/lib/kubelet/pods/u1/volumes/kubernetes.io~csi/v/mount/k"};
	struct am_error err;
	struct policy *policy;
	cJSON *root;

	(void)state;
	policy = policy_from("{\"allow\":[{\"comment\":\"driver\",\"source\":\"its manifest\","
			     "\"rules\":[\"foreign-token-read\",\"secret-tampering\"],"
			     "\"service_account\":\"driver\","
			     "\"image_prefix\":\"mcr.microsoft.com/oss/driver\","
			     "\"secret_kind\":[\"csi-secret\"],"
			     "\"secret_path_prefix\":\"/var/lib/kubelet/pods\",\"access\":\"read\"}]}",
			     &err);
	assert_non_null(policy);
	assert_string_equal(policy_allows(policy, &s), "driver");
	/* access: "read" is an open that cannot write. */
	s.secret_write = true;
	assert_null(policy_allows(policy, &s));
	s.secret_write = false;
	/* Another kind, a path beside the prefix, no secret at all. */
	s.secret_kind = "secret-volume";
	assert_null(policy_allows(policy, &s));
	s.secret_kind = "csi-secret";
	s.secret_path = "/var/lib/kubelet/pods2/u1/k";
	assert_null(policy_allows(policy, &s));
	s.secret_path = NULL;
	s.secret_kind = NULL;
	assert_null(policy_allows(policy, &s));
	s.secret_kind = "csi-secret";
	s.secret_path = "/var/lib/kubelet/pods";
	assert_non_null(policy_allows(policy, &s));
	/* An image prefix names one repository: any tag or digest, no other repository. */
	s.image = "mcr.microsoft.com/oss/driver@sha256:0123";
	assert_non_null(policy_allows(policy, &s));
	s.image = "mcr.microsoft.com/oss/driver/sub:v1";
	assert_null(policy_allows(policy, &s));
	s.image = "mcr.microsoft.com/oss/driver-debug:v1";
	assert_null(policy_allows(policy, &s));
	s.image = "mcr.microsoft.com/oss/driver";
	assert_non_null(policy_allows(policy, &s));
	s.image = NULL;
	assert_null(policy_allows(policy, &s));
	policy_free(policy);
	/* Ending in '/', it names every repository below: a registry, never a longer host. */
	policy = policy_from("{\"allow\":[{\"rules\":\"raw-socket\","
			     "\"image_prefix\":\"mcr.microsoft.com/\"}]}",
			     &err);
	assert_non_null(policy);
	memset(&s, 0, sizeof(s));
	s.rule = "raw-socket";
	s.image = "mcr.microsoft.com/oss/cilium/cilium:1.16.6";
	assert_non_null(policy_allows(policy, &s));
	s.image = "mcr.microsoft.com.example.net/oss/cilium/cilium:1.16.6";
	assert_null(policy_allows(policy, &s));
	policy_free(policy);

	/* Errors say where and what is expected. */
	assert_null(policy_from("{\"allow\":[{\"rules\":\"secret-tampering\","
				"\"secret_kind\":\"csi-secrets\"}]}",
				&err));
	assert_non_null(strstr(err.msg, "p.json: allow[0].secret_kind[0]: unknown secret kind "
					"\"csi-secrets\"; known: node-cloud-config, "));
	assert_non_null(strstr(err.msg, ", csi-secret, "));
	assert_null(policy_from("{\"allow\":[{\"rules\":\"*\",\"secret_path_prefix\":\"etc\"}]}",
				&err));
	assert_string_equal(err.msg, "p.json: allow[0].secret_path_prefix[0]: expected an absolute "
				     "path, not \"etc\"");
	assert_null(policy_from("{\"allow\":[{\"rules\":\"*\",\"access\":\"rw\"}]}", &err));
	assert_non_null(strstr(err.msg, "allow[0].access: expected \"read\""));
	assert_null(policy_from("{\"allow\":[{\"rules\":[\"imds-access\"],"
				"\"secret_kind\":\"csi-secret\"}]}",
				&err));
	assert_string_equal(err.msg, "p.json: allow[0]: secret_kind, secret_path_prefix and access "
				     "match only node-credential-read, foreign-token-read and "
				     "secret-tampering, not \"imds-access\"");
	assert_null(policy_from("{\"allow\":[{\"rules\":\"*\",\"image_prefix\":\"\"}]}", &err));
	assert_non_null(strstr(err.msg, "allow[0].image_prefix[0]: expected a repository"));
	assert_null(policy_from("{\"allow\":[{\"rules\":\"*\",\"source\":[\"x\"]}]}", &err));
	assert_string_equal(err.msg, "p.json: allow[0].source: expected a string");
	/* policy_check reports every entry's problem, not the first only. */
	root = cJSON_Parse("{\"allow\":[{\"rules\":\"*\",\"access\":1},"
			   "{\"rules\":\"*\",\"secret_kind\":\"nope\"}]}");
	problems[0] = '\0';
	assert_int_equal(policy_check(root, "p.json", note_problem, NULL), 2);
	assert_non_null(strstr(problems, "p.json: allow[0].access: expected"));
	assert_non_null(strstr(problems, "p.json: allow[1].secret_kind[0]: unknown secret kind"));
	cJSON_Delete(root);
	/* The built-in policy checks clean. */
	root = cJSON_Parse(POLICY_DEFAULT_JSON);
	assert_int_equal(policy_check(root, "default", note_problem, NULL), 0);
	cJSON_Delete(root);
}

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
		cmocka_unit_test_setup_teardown(loads_what_is_there_and_says_what_is_not, setup,
						tree_remove),
		cmocka_unit_test_setup_teardown(wrong_files_are_errors_with_a_position, setup,
						tree_remove),
		cmocka_unit_test(default_policy_allows_what_aks_does_and_nothing_broader),
		cmocka_unit_test(policy_files),
		cmocka_unit_test(policy_secret_and_image_conditions),
		cmocka_unit_test(repeats_fold_until_their_window_ends),
		cmocka_unit_test(a_blind_detection_is_an_alert),
		cmocka_unit_test(counted_repeats_join_their_alert_and_raise_none),
		cmocka_unit_test(folds_are_found_among_many),
		cmocka_unit_test(chains_are_the_thieves_own),
	};

	return cmocka_run_group_tests_name("detection", tests, NULL, NULL);
}
