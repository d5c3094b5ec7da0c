// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * Unit tests: the benign corpus. Each AKS component the default policy knows
 * (policy_default.c) does what its public manifest and code show it doing, as
 * records through the whole pipeline: the files it reads (with their kinds), the
 * IMDS paths and identities it asks for, WireServer, the vaults and login host it
 * reaches, the raw sockets it makes. Under the default policy that raises no
 * alert, and every access is seen: its event record is written, and where a rule
 * judged it the policy's allowance is counted. The same accesses from a
 * look-alike (another namespace, service account, image or container) alert.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <cmocka.h>
#include <cjson/cJSON.h>

#include "node_fixture.h"

/* The node's identities: the kubelet's (azure.json) and the add-ons' (az aks show). */
#define KUBELET_ID "5a1c2b3d-1111-2222-3333-444455556666"
#define KEYVAULT_ADDON_ID "c5d6e7f8-0000-1111-2222-333344445555"
#define MONITOR_ADDON_ID "7e8f9a0b-2222-3333-4444-555566667777"
#define POLICY_ADDON_ID "3c4d5e6f-4444-5555-6666-777788889999"
/* A workload identity of the proxied app's own. */
#define OWN_ID "1a2b3c4d-5e6f-7081-92a3-b4c5d6e7f809"
/* The component is POD_UID (pod_fixture.h) in cgroup CGROUP_ID; APP_UID another pod. */
#define CGROUP_ID 4242
#define APP_UID "9e8d7c6b-5a49-4382-9170-6f5e4d3c2b1a"
#define APP_CSI                                                                                \
	"/var/lib/kubelet/pods/" APP_UID "/volumes/kubernetes.io~csi/secrets-store-inline/mount"
#define OWN_TOKEN                                                                              \
	"/var/lib/kubelet/pods/" POD_UID "/volumes/kubernetes.io~projected/kube-api-access-7xk2p"
#define SEC 1000000000ull

#define TOKEN_PATH "/metadata/identity/oauth2/token?api-version=2018-02-01&resource="
#define STORAGE "https%3A%2F%2Fstorage.azure.com%2F"
#define VAULT "https%3A%2F%2Fvault.azure.net"
#define MONITOR "https%3A%2F%2Fmonitor.azure.com%2F"
#define POLICY_DATA "https%3A%2F%2Fgov-prod-policy-data.trafficmanager.net"

static const char azure_json[] = NODE_FIXTURE_AZURE_JSON(KUBELET_ID);

static const char cluster_json[] =
	"{\"name\":\"aks\",\"identityProfile\":{\"kubeletidentity\":{\"clientId\":\"" KUBELET_ID "\"}},"
	"\"addonProfiles\":{"
	"\"azureKeyvaultSecretsProvider\":{\"enabled\":true,"
	"\"identity\":{\"clientId\":\"" KEYVAULT_ADDON_ID "\"}},"
	"\"omsagent\":{\"enabled\":true,\"identity\":{\"clientId\":\"" MONITOR_ADDON_ID "\"}},"
	"\"azurepolicy\":{\"enabled\":true,\"identity\":{\"clientId\":\"" POLICY_ADDON_ID "\"}}}}";

/* The watched files an access can open, by their watch id. */
enum watched {
	AZURE_JSON = 1,
	MANAGED_IDENTITY_SETTINGS,
	KUBECONFIG,
	NODE_CERTS,
	OWN_TOKEN_VOLUME,
	APP_CSI_MOUNT,
};

#define NODE_FILE(k, p) {.kind = k, .path = p, .identity = WATCH_FILE_IDENTITY, .by_path = true}
#define VOLUME(k, p, owner)                                                                    \
	{.kind = k, .path = p, .owner_uid = owner, .identity = WATCH_DIR_IDENTITY,             \
	 .flags = AM_WATCH_SUBTREE}

static const struct {
	enum watched id;
	struct watch_spec spec;
} watched[] = {
	{AZURE_JSON, NODE_FILE(WATCH_NODE_CLOUD_CONFIG, "/etc/kubernetes/azure.json")},
	{MANAGED_IDENTITY_SETTINGS,
	 NODE_FILE(WATCH_MANAGED_IDENTITY_SETTINGS, "/var/lib/waagent/ManagedIdentity-Settings")},
	{KUBECONFIG, NODE_FILE(WATCH_KUBELET_CREDENTIALS, "/var/lib/kubelet/kubeconfig")},
	{NODE_CERTS, {.kind = WATCH_NODE_TLS_KEY, .path = "/etc/kubernetes/certs",
		      .identity = WATCH_DIR_IDENTITY}},
	{OWN_TOKEN_VOLUME, VOLUME(WATCH_PROJECTED_TOKENS, OWN_TOKEN, POD_UID)},
	{APP_CSI_MOUNT, VOLUME(WATCH_CSI_SECRET, APP_CSI, APP_UID)},
};

enum access_kind {
	OPEN = 1,    /* file: a watched file; name: the file in a watched directory */
	IMDS,	     /* target: the request line's target */
	WIRESERVER,  /* a connect to 168.63.129.16:80 */
	CONNECT,     /* target: the host name the pod resolved */
	RAW_SOCKET,  /* family, type */
	API_SERVER,  /* a connect to the API server: no rule looks */
};

struct access {
	enum access_kind kind;
	const char *target;
	enum watched file;
	const char *name;
	int flags; /* open flags; for RAW_SOCKET the family */
	int type;  /* RAW_SOCKET's socket type */
	bool judged; /* a rule judges it: alone, it would alert */
};

#define READ(f) {OPEN, NULL, f, NULL, O_RDONLY, 0, true}
#define READ_IN(f, n) {OPEN, NULL, f, n, O_RDONLY, 0, true}
#define WRITE_IN(f, n) {OPEN, NULL, f, n, O_WRONLY | O_CREAT | O_TRUNC, 0, true}
#define OWN_TOKEN_READ {OPEN, NULL, OWN_TOKEN_VOLUME, "token", O_RDONLY, 0, false}
#define IMDS_GET(t) {IMDS, t, 0, NULL, 0, 0, true}
#define REACH(h) {CONNECT, h, 0, NULL, 0, 0, true}
#define RAW(family, type) {RAW_SOCKET, NULL, 0, NULL, family, type, true}
#define IPTABLES RAW(AF_INET, SOCK_RAW)
#define API {API_SERVER, NULL, 0, NULL, 0, 0, false}
#define END {0}

/* What a look-alike changes: each a test of its own where the row says it applies. */
enum lookalike {
	OTHER_NAMESPACE = 1 << 0,
	OTHER_SERVICE_ACCOUNT = 1 << 1,
	OTHER_IMAGE = 1 << 2,      /* another registry's copy */
	SIMILAR_IMAGE = 1 << 3,    /* the same repository's name with a suffix */
	OTHER_CONTAINER = 1 << 4,
	NO_PROXY_SIDECAR = 1 << 5, /* the pod without the workload identity proxy sidecar */
	LOOKALIKES = OTHER_NAMESPACE | OTHER_SERVICE_ACCOUNT | OTHER_IMAGE | SIMILAR_IMAGE,
};

struct component {
	const char *name;
	const char *namespace;
	const char *service_account;
	const char *container;
	const char *image;
	bool host_network;
	bool proxy_sidecar;
	const char *client_id; /* AZURE_CLIENT_ID in the container's env; NULL: none */
	unsigned int lookalikes;
	struct access accesses[8];
};

static const struct component components[] = {
	{"azuredisk-csi node", "kube-system", "csi-azuredisk-node-sa", "azuredisk",
	 "mcr.microsoft.com/oss/v2/kubernetes-csi/azuredisk-csi:v1.33.11", true, false, NULL,
	 LOOKALIKES,
	 {READ(AZURE_JSON), READ(MANAGED_IDENTITY_SETTINGS),
	  IMDS_GET("/metadata/instance/compute?api-version=2021-02-01&format=json"),
	  OWN_TOKEN_READ, END}},
	{"azurefile-csi node", "kube-system", "csi-azurefile-node-sa", "azurefile",
	 "mcr.microsoft.com/oss/kubernetes-csi/azurefile-csi:v1.33.10", true, false, NULL,
	 LOOKALIKES,
	 {READ(AZURE_JSON), READ(MANAGED_IDENTITY_SETTINGS),
	  IMDS_GET("/metadata/instance?api-version=2021-02-01"),
	  IMDS_GET(TOKEN_PATH STORAGE "&client_id=" KUBELET_ID),
	  REACH("login.microsoftonline.com"), END}},
	{"blob-csi node", "kube-system", "csi-blob-node-sa", "blob",
	 "mcr.microsoft.com/oss/v2/kubernetes-csi/blob-csi:v1.27.9", true, false, NULL, LOOKALIKES,
	 {READ(AZURE_JSON), IMDS_GET("/metadata/instance/compute?api-version=2021-02-01"),
	  IMDS_GET(TOKEN_PATH STORAGE "&client_id=" KUBELET_ID),
	  REACH("login.microsoftonline.com"), END}},
	{"cloud-node-manager", "kube-system", "cloud-node-manager", "cloud-node-manager",
	 "mcr.microsoft.com/oss/v2/kubernetes/azure-cloud-node-manager:v1.33.16-1", true, false,
	 NULL, LOOKALIKES,
	 {IMDS_GET("/metadata/instance?api-version=2021-12-13&format=json"), OWN_TOKEN_READ, END}},
	{"kube-proxy", "kube-system", "default", "kube-proxy",
	 "mcr.microsoft.com/oss/v2/kubernetes/kube-proxy:v1.33.7-16", true, false, NULL, LOOKALIKES,
	 {READ(KUBECONFIG), READ_IN(NODE_CERTS, "client.crt"), READ_IN(NODE_CERTS, "client.key"),
	  READ_IN(NODE_CERTS, "ca.crt"), IPTABLES, END}},
	{"azure-cns", "kube-system", "azure-cns", "cns-container",
	 "mcr.microsoft.com/containernetworking/azure-cns:v1.6.43-0", true, false, NULL, LOOKALIKES,
	 {{WIRESERVER, NULL, 0, NULL, 0, 0, true},
	  IMDS_GET("/metadata/instance/compute?api-version=2021-01-01&format=json"),
	  IMDS_GET("/metadata/instance/network?api-version=2025-07-24&format=json"),
	  IMDS_GET("/metadata/versions"), IPTABLES, END}},
	{"ip-masq-agent", "kube-system", "default", "azure-ip-masq-agent",
	 "mcr.microsoft.com/oss/v2/azure/ip-masq-agent-v2:v0.1.16-14", true, false, NULL,
	 LOOKALIKES, {IPTABLES, END}},
	{"ama-logs", "kube-system", "ama-logs", "ama-logs",
	 "mcr.microsoft.com/azuremonitor/containerinsights/ciprod:3.6.0", false, false, NULL,
	 LOOKALIKES,
	 {READ(AZURE_JSON), IMDS_GET(TOKEN_PATH MONITOR "&client_id=" MONITOR_ADDON_ID), END}},
	{"ama-logs addon-token-adapter", "kube-system", "ama-logs", "addon-token-adapter",
	 "mcr.microsoft.com/aks/msi/addon-token-adapter:master.250604.1", false, false, NULL,
	 LOOKALIKES | OTHER_CONTAINER, {IPTABLES, END}},
	{"ama-metrics-node", "kube-system", "ama-metrics-serviceaccount", "prometheus-collector",
	 "mcr.microsoft.com/azuremonitor/containerinsights/ciprod/prometheus-collector/images:"
	 "7.2.0-main-07-27-2026-2169504d",
	 false, false, NULL, LOOKALIKES,
	 {IMDS_GET(TOKEN_PATH MONITOR "&client_id=" MONITOR_ADDON_ID), END}},
	{"secrets-store-csi-driver", "kube-system", "secrets-store-csi-driver", "secrets-store",
	 "mcr.microsoft.com/oss/v2/kubernetes-csi/secrets-store/driver:v1.6.0-6", false, false, NULL,
	 LOOKALIKES,
	 {READ_IN(APP_CSI_MOUNT, "db-password"), WRITE_IN(APP_CSI_MOUNT, "db-password"),
	  OWN_TOKEN_READ, END}},
	{"secrets-store-provider-azure", "kube-system", "csi-secrets-store-provider-azure",
	 "provider-azure-installer", "mcr.microsoft.com/oss/v2/azure/secrets-store/provider-azure:v1.7.2",
	 true, false, NULL, LOOKALIKES,
	 {IMDS_GET(TOKEN_PATH VAULT "&client_id=" KEYVAULT_ADDON_ID), REACH("kv-csi.vault.azure.net"),
	  REACH("login.microsoftonline.com"), END}},
	{"azure-policy", "kube-system", "azure-policy", "azure-policy",
	 "mcr.microsoft.com/azure-policy/policy-kubernetes-addon-prod:1.10.1", false, false, NULL,
	 LOOKALIKES,
	 {READ(AZURE_JSON), IMDS_GET(TOKEN_PATH POLICY_DATA "&client_id=" POLICY_ADDON_ID), END}},
	{"retina-agent", "kube-system", "retina-agent", "retina",
	 "mcr.microsoft.com/containernetworking/retina-agent:v0.0.33", true, false, NULL, LOOKALIKES,
	 {RAW(AF_PACKET, SOCK_RAW), END}},
	{"cilium", "kube-system", "cilium", "cilium-agent",
	 "mcr.microsoft.com/containernetworking/cilium/cilium-distroless:v1.18.11-260622", true,
	 false, NULL, LOOKALIKES, {RAW(AF_INET, SOCK_RAW), RAW(AF_INET6, SOCK_RAW), END}},
	{"node-local-dns", "kube-system", "node-local-dns", "node-cache",
	 "mcr.microsoft.com/oss/kubernetes/k8s-dns-node-cache:1.22.28", true, false, NULL, LOOKALIKES,
	 {IPTABLES, END}},
	/* The app's namespace, service account and image are the user's: narrowed by identity. */
	{"workload identity proxy sidecar", "payments", "checkout", "app",
	 "myreg.azurecr.io/checkout:1.4", false, true, OWN_ID, NO_PROXY_SIDECAR,
	 {IMDS_GET(TOKEN_PATH VAULT "&client_id=" OWN_ID), END}},
	{"workload identity proxy-init", "payments", "checkout", "azwi-proxy-init",
	 "mcr.microsoft.com/oss/azure/workload-identity/proxy-init:v1.5.1", false, true, OWN_ID,
	 NO_PROXY_SIDECAR | OTHER_IMAGE | SIMILAR_IMAGE | OTHER_CONTAINER, {IPTABLES, END}},
	/* Components that touch nothing the rules judge: no entry, and silent all the same. */
	{"gatekeeper", "gatekeeper-system", "gatekeeper-admin", "manager",
	 "mcr.microsoft.com/oss/open-policy-agent/gatekeeper:v3.20.1", false, false, NULL, 0,
	 {OWN_TOKEN_READ, API, END}},
	{"konnectivity-agent", "kube-system", "konnectivity-agent", "konnectivity-agent",
	 "mcr.microsoft.com/oss/v2/kubernetes/apiserver-network-proxy/agent:v0.32.1-11", false, false,
	 NULL, 0, {OWN_TOKEN_READ, API, END}},
	{"workload identity webhook", "kube-system", "azure-wi-webhook-admin", "manager",
	 "mcr.microsoft.com/oss/v2/azure/workload-identity/webhook:v1.5.1", false, false, NULL, 0,
	 {OWN_TOKEN_READ, API, END}},
	{"defender publisher", "kube-system", "microsoft-defender-publisher-ds",
	 "microsoft-defender-publisher",
	 "mcr.microsoft.com/azuredefender/stable/security-publisher:1.0.200",
	 false, false, NULL, 0, {OWN_TOKEN_READ, API, END}},
	{"image cleaner", "kube-system", "eraser-controller-manager", "manager",
	 "mcr.microsoft.com/oss/v2/eraser/eraser-manager:v1.4.0", false, false, NULL, 0,
	 {OWN_TOKEN_READ, API, END}},
};

/* One run: the shared fixture, and how far its output and alerts were read. */
struct node {
	struct node_fixture *f;
	size_t seen;	      /* output read so far */
	uint64_t raised_seen; /* alerts raised so far */
	uint64_t cookie;
};

/* The component's pod, as the kubelet's /pods has it, beside the app whose CSI mount it serves. */
static char *podlist_of(const struct component *c)
{
	cJSON *list = cJSON_CreateObject(), *items = cJSON_AddArrayToObject(list, "items");
	cJSON *pod = cJSON_CreateObject(), *meta, *spec, *container, *status;
	char *text;

	cJSON_AddStringToObject(list, "kind", "PodList");
	meta = cJSON_AddObjectToObject(pod, "metadata");
	cJSON_AddStringToObject(meta, "name", c->name);
	cJSON_AddStringToObject(meta, "namespace", c->namespace);
	cJSON_AddStringToObject(meta, "uid", POD_UID);
	if (c->proxy_sidecar)
		cJSON_AddStringToObject(cJSON_AddObjectToObject(meta, "annotations"),
					"azure.workload.identity/inject-proxy-sidecar", "true");
	spec = cJSON_AddObjectToObject(pod, "spec");
	cJSON_AddStringToObject(spec, "serviceAccountName", c->service_account);
	cJSON_AddBoolToObject(spec, "hostNetwork", c->host_network);
	container = cJSON_CreateObject();
	cJSON_AddStringToObject(container, "name", c->container);
	cJSON_AddStringToObject(container, "image", c->image);
	if (c->client_id) {
		cJSON *env = cJSON_AddArrayToObject(container, "env"), *var = cJSON_CreateObject();

		cJSON_AddStringToObject(var, "name", "AZURE_CLIENT_ID");
		cJSON_AddStringToObject(var, "value", c->client_id);
		cJSON_AddItemToArray(env, var);
	}
	cJSON_AddItemToArray(cJSON_AddArrayToObject(spec, "containers"), container);
	status = cJSON_CreateObject();
	cJSON_AddStringToObject(status, "name", c->container);
	cJSON_AddStringToObject(status, "containerID", "containerd://" CONTAINER);
	cJSON_AddItemToArray(cJSON_AddArrayToObject(cJSON_AddObjectToObject(pod, "status"),
						    "containerStatuses"),
			     status);
	cJSON_AddItemToArray(items, pod);
	cJSON_AddItemToArray(items, node_fixture_parse(
					    "app", "{\"metadata\":{\"name\":\"checkout-7d9\","
						   "\"namespace\":\"payments\",\"uid\":\"" APP_UID "\"},"
						   "\"spec\":{\"serviceAccountName\":\"checkout\","
						   "\"containers\":[{\"name\":\"app\","
						   "\"image\":\"myreg.azurecr.io/checkout:1.4\"}]}}"));
	text = cJSON_PrintUnformatted(list);
	cJSON_Delete(list);
	return text;
}

static struct node *node_new(const struct component *c)
{
	struct node *node = calloc(1, sizeof(*node));
	char *podlist = podlist_of(c);
	size_t i;

	assert_non_null(node);
	node->f = node_fixture_new(azure_json, cluster_json, podlist, CGROUP_ID, 16);
	free(podlist);
	node->f->step_ns = SEC / 1000;
	node->cookie = 0x5eed;
	for (i = 0; i < sizeof(watched) / sizeof(watched[0]); i++)
		assert_int_equal(
			watch_list_restore(node->f->watches, watched[i].id, &watched[i].spec, 0), 0);
	return node;
}

static void node_free(struct node *node)
{
	node_fixture_free(node->f);
	free(node);
}

static void feed(struct node *node, void *record, uint16_t type, size_t size)
{
	node_fixture_feed(node->f, record, type, size);
}

static void task_fill(struct am_task *task, const char *comm)
{
	task->cgroup_id = CGROUP_ID;
	task->pid = 3100;
	task->tid = 3100;
	task->ppid = 1;
	snprintf(task->comm, sizeof(task->comm), "%s", comm);
}

static struct am_connect_record connect_to(struct node *node, const uint8_t addr[4], uint16_t port,
					   uint8_t capture)
{
	struct am_connect_record c = {0};

	task_fill(&c.task, "agent");
	c.family = 4;
	c.protocol = IPPROTO_TCP;
	c.port = port;
	c.capture = capture;
	c.cookie = ++node->cookie;
	memcpy(c.addr, addr, 4);
	return c;
}

static void close_flow(struct node *node, uint64_t cookie, uint32_t seq_end)
{
	struct am_flow_state_record close = {0};

	close.cookie = cookie;
	close.state = AM_FLOW_CLOSED;
	close.flags = AM_FLOW_WAS_ESTABLISHED;
	close.seq_end = seq_end;
	feed(node, &close, AM_REC_FLOW_STATE, sizeof(close));
}

static void payload(struct node *node, const struct am_connect_record *c, uint8_t kind,
		    uint32_t seq, const char *bytes)
{
	struct am_payload_record p = {0};
	size_t len = strlen(bytes);

	assert_true(len <= AM_PAYLOAD_LEN);
	p.cookie = c->cookie;
	p.cgroup_id = CGROUP_ID;
	p.pid = c->task.pid;
	p.kind = kind;
	p.family = 4;
	p.protocol = IPPROTO_TCP;
	p.sport = 40000;
	p.dport = c->port;
	memcpy(p.saddr, (uint8_t[]){10, 224, 0, 4}, 4);
	memcpy(p.daddr, c->addr, 4);
	p.seq = seq;
	p.payload_len = (uint32_t)len;
	p.captured = (uint32_t)len;
	memcpy(p.data, bytes, len);
	feed(node, &p, AM_REC_PAYLOAD, sizeof(p));
}

static void imds_get(struct node *node, const char *target)
{
	static const uint8_t imds[4] = {169, 254, 169, 254};
	static const char ok[] = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}";
	struct am_connect_record c = connect_to(node, imds, 80, AM_CAPTURE_HTTP);
	char request[1024];
	const uint32_t seq = 1000000;

	snprintf(request, sizeof(request),
		 "GET %s HTTP/1.1\r\nHost: 169.254.169.254\r\nMetadata: true\r\n\r\n", target);
	feed(node, &c, AM_REC_CONNECT, sizeof(c));
	payload(node, &c, AM_PAYLOAD_HTTP_REQUEST, seq, request);
	payload(node, &c, AM_PAYLOAD_HTTP_RESPONSE, 0, ok);
	close_flow(node, c.cookie, seq + (uint32_t)strlen(request));
}

/* A connect to what the pod resolved `host` to (its DNS answer, as the cache learnt it). */
static void reach(struct node *node, const char *host)
{
	uint8_t addr[16] = {20, 60, 4, (uint8_t)(strlen(host) & 0xff)};
	struct am_connect_record c = connect_to(node, addr, 443, 0);

	dns_cache_add(node->f->dns, POD_UID, 4, addr, host, UINT64_MAX);
	feed(node, &c, AM_REC_CONNECT, sizeof(c));
}

static void open_file(struct node *node, const struct access *a)
{
	const struct watch_entry *watch = watch_list_get(node->f->watches, a->file);
	struct am_open_record o = {0};

	assert_non_null(watch);
	task_fill(&o.task, "agent");
	o.result = 7;
	o.inode = 91000 + a->file;
	o.dev = (8u << 20) | 1;
	o.watch_id = a->file;
	o.flags = (uint32_t)a->flags;
	o.syscall = AM_OPEN_SYSCALL_OPENAT;
	o.match = a->name ? AM_MATCH_DIR : AM_MATCH_FILE;
	snprintf(o.path, sizeof(o.path), "%s%s%s", watch->path, a->name ? "/" : "",
		 a->name ? a->name : "");
	if (a->name)
		snprintf(o.name, sizeof(o.name), "%s", a->name);
	feed(node, &o, AM_REC_OPEN, sizeof(o));
}

static void do_access(struct node *node, const struct access *a)
{
	static const uint8_t wireserver[4] = {168, 63, 129, 16}, api[4] = {10, 0, 0, 1};
	struct am_connect_record c;
	struct am_socket_record s = {0};

	switch (a->kind) {
	case OPEN:
		open_file(node, a);
		break;
	case IMDS:
		imds_get(node, a->target);
		break;
	case WIRESERVER:
	case API_SERVER:
		c = a->kind == WIRESERVER ? connect_to(node, wireserver, 80, 0)
					  : connect_to(node, api, 443, 0);
		feed(node, &c, AM_REC_CONNECT, sizeof(c));
		break;
	case CONNECT:
		reach(node, a->target);
		break;
	case RAW_SOCKET:
		task_fill(&s.task, "iptables");
		s.result = 5;
		s.family = (uint16_t)a->flags;
		s.type = (uint16_t)a->type;
		s.protocol = a->flags == AF_PACKET ? htons(0x0003) : IPPROTO_RAW;
		feed(node, &s, AM_REC_SOCKET, sizeof(s));
		break;
	}
	pipeline_flush(node->f->pipeline);
}

/* Alerts the rules raised so far, written or folded into one written before. */
static uint64_t alerts_raised(const struct node *node)
{
	const struct rules_stats *stats = pipeline_rules_stats(node->f->pipeline);
	uint64_t n = 0;
	int rule;

	for (rule = 0; rule < rule_count(); rule++)
		n += stats->alerts[rule];
	return n;
}

/* What the pipeline wrote since the last look (event records, alert lines), and raised. */
struct tally {
	int events;
	int alerts;
	uint64_t raised; /* alerts the rules raised, folded ones too */
	char first_alert[8192];
};

static struct tally tally_new_lines(struct node *node)
{
	struct tally t = {0};
	const char *line, *end;

	fflush(node->f->stream);
	for (line = node->f->out + node->seen; line < node->f->out + node->f->out_len;
	     line = end + 1) {
		end = strchr(line, '\n');
		assert_non_null(end);
		if (strncmp(line, "{\"type\":\"alert\"", 15) == 0) {
			if (!t.alerts++)
				snprintf(t.first_alert, sizeof(t.first_alert), "%.*s",
					 (int)(end - line), line);
		} else {
			t.events++;
		}
	}
	node->seen = node->f->out_len;
	t.raised = alerts_raised(node) - node->raised_seen;
	node->raised_seen += t.raised;
	return t;
}

static const char *access_name(const struct access *a, char *buf, size_t len)
{
	static const char *const kinds[] = {"open", "IMDS", "WireServer", "connect", "raw socket",
					    "API server"};

	snprintf(buf, len, "%s %s%s%s", kinds[a->kind - 1],
		 a->kind == OPEN ? watched[a->file - 1].spec.path : a->target ? a->target : "",
		 a->name ? "/" : "", a->name ? a->name : "");
	return buf;
}

static uint64_t allowed(const struct node *node)
{
	return pipeline_rules_stats(node->f->pipeline)->allowed;
}

/* Every access of the component: seen, judged where a rule looks, and silent. */
static void real_pattern_is_silent_and_seen(void **state)
{
	size_t i, j;
	char what[512];

	(void)state;
	for (i = 0; i < sizeof(components) / sizeof(components[0]); i++) {
		const struct component *c = &components[i];
		struct node *node = node_new(c);

		tally_new_lines(node);
		for (j = 0; c->accesses[j].kind; j++) {
			const struct access *a = &c->accesses[j];
			uint64_t before = allowed(node);
			struct tally t;

			do_access(node, a);
			t = tally_new_lines(node);
			access_name(a, what, sizeof(what));
			if (t.alerts || t.raised)
				fail_msg("%s: %s alerted: %s", c->name, what, t.first_alert);
			if (!t.events)
				fail_msg("%s: %s was not seen (no event record)", c->name, what);
			if (a->judged && allowed(node) == before)
				fail_msg("%s: %s: no rule judged it, or no entry allowed it", c->name,
					 what);
			if (!a->judged && allowed(node) != before)
				fail_msg("%s: %s: a policy entry was used where no rule should look",
					 c->name, what);
		}
		pipeline_finish(node->f->pipeline);
		if (tally_new_lines(node).raised)
			fail_msg("%s: an alert at the end", c->name);
		node_free(node);
	}
}

/* The component changed as a look-alike would differ from it. */
static struct component lookalike_of(const struct component *c, enum lookalike change)
{
	static char image[256];
	struct component l = *c;
	const char *tag = strrchr(c->image, ':');
	size_t repository = tag ? (size_t)(tag - c->image) : strlen(c->image);

	switch (change) {
	case OTHER_NAMESPACE:
		l.namespace = "shop";
		break;
	case OTHER_SERVICE_ACCOUNT:
		l.service_account = "attacker";
		break;
	case OTHER_IMAGE:
		/* The same path under another registry's host. */
		snprintf(image, sizeof(image), "evil.azurecr.io/%s", strchr(c->image, '/') + 1);
		l.image = image;
		break;
	case SIMILAR_IMAGE:
		snprintf(image, sizeof(image), "%.*s-debug%s", (int)repository, c->image,
			 tag ? tag : "");
		l.image = image;
		break;
	case OTHER_CONTAINER:
		l.container = "app";
		break;
	case NO_PROXY_SIDECAR:
		l.proxy_sidecar = false;
		break;
	default:
		break;
	}
	return l;
}

static const char *lookalike_name(enum lookalike change)
{
	switch (change) {
	case OTHER_NAMESPACE:
		return "in another namespace";
	case OTHER_SERVICE_ACCOUNT:
		return "with another service account";
	case OTHER_IMAGE:
		return "with another registry's image";
	case SIMILAR_IMAGE:
		return "with a look-alike image repository";
	case OTHER_CONTAINER:
		return "in another container";
	case NO_PROXY_SIDECAR:
		return "without the proxy sidecar";
	default:
		return "?";
	}
}

/* Each access a rule judges alerts from every look-alike the row names. */
static void lookalikes_alert(void **state)
{
	size_t i, j;
	unsigned int change;
	char what[512];
	int tested = 0;

	(void)state;
	for (i = 0; i < sizeof(components) / sizeof(components[0]); i++) {
		for (change = 1; change <= NO_PROXY_SIDECAR; change <<= 1) {
			struct component l;
			struct node *node;

			if (!(components[i].lookalikes & change))
				continue;
			l = lookalike_of(&components[i], (enum lookalike)change);
			node = node_new(&l);
			tally_new_lines(node);
			for (j = 0; l.accesses[j].kind; j++) {
				const struct access *a = &l.accesses[j];
				struct tally t;

				do_access(node, a);
				t = tally_new_lines(node);
				if (a->judged && !t.raised)
					fail_msg("%s %s: %s raised no alert", l.name,
						 lookalike_name((enum lookalike)change),
						 access_name(a, what, sizeof(what)));
			}
			assert_int_equal(allowed(node), 0);
			tested++;
			node_free(node);
		}
	}
	assert_true(tested > 50);
}

/* The proxied app asking for a node identity is no longer its own business. */
static void proxy_sidecar_only_for_the_pods_own_identity(void **state)
{
	const struct component *proxied = NULL;
	struct node *node;
	struct tally t;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(components) / sizeof(components[0]); i++)
		if (strcmp(components[i].name, "workload identity proxy sidecar") == 0)
			proxied = &components[i];
	assert_non_null(proxied);
	node = node_new(proxied);
	tally_new_lines(node);
	imds_get(node, TOKEN_PATH VAULT "&client_id=" KUBELET_ID);
	t = tally_new_lines(node);
	assert_int_equal(t.alerts, 1);
	assert_non_null(
		strstr(t.first_alert, "\"rule\":\"imds-token-request\",\"severity\":\"critical\""));
	imds_get(node, TOKEN_PATH VAULT);
	t = tally_new_lines(node);
	assert_int_equal(t.alerts, 1);
	assert_non_null(strstr(t.first_alert, "\"kind\":\"node-system\""));
	node_free(node);
}

/* An allowed reader that writes, or reads what its manifest does not mount, still alerts. */
static void allowed_readers_do_only_what_they_are_allowed(void **state)
{
	const struct access write_config = WRITE_IN(AZURE_JSON, NULL);
	const struct access kubeconfig = READ(KUBECONFIG);
	const struct access imds_token = IMDS_GET(TOKEN_PATH VAULT "&client_id=" KUBELET_ID);
	struct node *node = node_new(&components[0]); /* the disk CSI node plugin */
	struct tally t;

	(void)state;
	tally_new_lines(node);
	do_access(node, &write_config);
	t = tally_new_lines(node);
	assert_int_equal(t.alerts, 1);
	assert_non_null(strstr(t.first_alert, "\"rule\":\"secret-tampering\""));
	do_access(node, &kubeconfig);
	t = tally_new_lines(node);
	assert_int_equal(t.alerts, 1);
	assert_non_null(strstr(t.first_alert, "\"rule\":\"node-credential-read\""));
	do_access(node, &imds_token);
	t = tally_new_lines(node);
	assert_int_equal(t.alerts, 1);
	assert_non_null(strstr(t.first_alert, "\"rule\":\"imds-token-request\""));
	node_free(node);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(real_pattern_is_silent_and_seen),
		cmocka_unit_test(lookalikes_alert),
		cmocka_unit_test(proxy_sidecar_only_for_the_pods_own_identity),
		cmocka_unit_test(allowed_readers_do_only_what_they_are_allowed),
	};

	return cmocka_run_group_tests_name("benign", tests, NULL, NULL);
}
