// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* JSON and text serialisation of records; see output.h. */
#include "output/output.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "attribute/cgroups.h"
#include "detect/degraded.h"
#include "parse/dns.h"
#include "name/flows.h"
#include "parse/http.h"
#include "attribute/pods.h"
#include "name/service_tags.h"
#include "attribute/processes.h"
#include "attribute/watch.h"

/*
 * Every record has a time or two, so the date and time of day are formatted once
 * per second (per thread) and only the nanoseconds each call.
 */
void format_rfc3339(uint64_t time_ns, char out[RFC3339_LEN])
{
	/*
	 * The date and time of a few recent seconds: a record's time and its
	 * process's start time alternate, and one slot would miss at every call.
	 */
	static __thread uint64_t cached_second[4] = {UINT64_MAX, UINT64_MAX, UINT64_MAX,
						     UINT64_MAX};
	static __thread char cached[4][RFC3339_LEN]; /* "YYYY-MM-DDTHH:MM:SS." */
	static __thread unsigned int next_slot;
	uint64_t second = time_ns / 1000000000ull;
	unsigned int ns = (unsigned int)(time_ns % 1000000000ull), slot;
	int i;

	for (slot = 0; slot < 4 && cached_second[slot] != second; slot++)
		;
	if (slot == 4) {
		time_t t = (time_t)second;
		struct tm tm;

		slot = next_slot++ % 4;
		gmtime_r(&t, &tm);
		snprintf(cached[slot], sizeof(cached[slot]), "%04d-%02d-%02dT%02d:%02d:%02d.",
			 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
			 tm.tm_sec);
		cached_second[slot] = second;
	}
	/* 20 characters for every year a 64-bit nanosecond count can reach (1970-2554). */
	memcpy(out, cached[slot], 20);
	for (i = 28; i >= 20; i--) {
		out[i] = (char)('0' + ns % 10);
		ns /= 10;
	}
	out[29] = 'Z';
	out[30] = '\0';
}

void format_ip(uint8_t family, const uint8_t addr[16], char out[48])
{
	int i;

	if (family == 6) {
		if (!inet_ntop(AF_INET6, addr, out, 48))
			strcpy(out, "?");
		return;
	}
	/* IPv4 by hand: inet_ntop goes through sprintf, once per record. */
	for (i = 0; i < 4; i++) {
		unsigned int b = addr[i];

		if (b >= 100)
			*out++ = (char)('0' + b / 100);
		if (b >= 10)
			*out++ = (char)('0' + b / 10 % 10);
		*out++ = (char)('0' + b % 10);
		*out++ = i < 3 ? '.' : '\0';
	}
}

const char *protocol_name(uint8_t protocol)
{
	switch (protocol) {
	case 6:
		return "tcp";
	case 17:
		return "udp";
	case 1:
		return "icmp";
	case 58:
		return "icmpv6";
	case 132:
		return "sctp";
	default:
		return "other";
	}
}

static const char *view_kind_name(const struct event_view *view)
{
	switch (view->kind) {
	case VIEW_CONNECT:
		return "connect";
	case VIEW_SEND:
		return "send";
	case VIEW_OPEN:
		return "open";
	case VIEW_HTTP:
		return "http";
	case VIEW_DNS:
		return "dns";
	case VIEW_REPEAT:
		return view->repeat->repeat_of == AM_REC_SEND ? "send-repeat" : "connect-repeat";
	case VIEW_PACKET:
		return "packet";
	case VIEW_SOCKET:
		return "socket";
	}
	return "unknown";
}

static const char *access_mode(uint32_t flags)
{
	switch (flags & O_ACCMODE) {
	case O_RDONLY:
		return "read";
	case O_WRONLY:
		return "write";
	default:
		return "read-write";
	}
}

static size_t comm_length(const char comm[AM_COMM_LEN])
{
	return strnlen(comm, AM_COMM_LEN);
}

/* Arguments are NUL-separated; at most this many are written. */
#define OUTPUT_MAX_ARGS 32

static void json_args(struct jsonw *w, const struct process_info *process)
{
	size_t offset = 0, count = 0;

	jsonw_key(w, "args");
	if (!process || !process->args) {
		jsonw_null(w);
		return;
	}
	jsonw_array_begin(w);
	while (offset < process->args_size && count < OUTPUT_MAX_ARGS) {
		size_t len = strnlen(process->args + offset, process->args_size - offset);

		jsonw_string_n(w, process->args + offset, len);
		offset += len + 1;
		count++;
	}
	jsonw_array_end(w);
	if (process->args_truncated || offset < process->args_size) {
		jsonw_key(w, "args_truncated");
		jsonw_bool(w, true);
	}
}

static void json_ancestors(struct jsonw *w, const struct event_view *view)
{
	const struct process_info *process = view->process;
	size_t i;

	jsonw_key(w, "ancestors");
	jsonw_array_begin(w);
	/* What this process ran before it exec'd: sh -c 'curl ...' shows sh here. */
	if (process && process->previous_exe) {
		jsonw_object_begin(w);
		jsonw_member_uint(w, "pid", process->pid);
		jsonw_key(w, "comm");
		jsonw_string_n(w, process->previous_comm, comm_length(process->previous_comm));
		jsonw_member_string(w, "exe", process->previous_exe);
		jsonw_key(w, "replaced_by_exec");
		jsonw_bool(w, true);
		jsonw_object_end(w);
	}
	for (i = 0; i < view->n_ancestors; i++) {
		const struct process_info *ancestor = view->ancestors[i];

		jsonw_object_begin(w);
		jsonw_member_uint(w, "pid", ancestor->pid);
		jsonw_key(w, "comm");
		jsonw_string_n(w, ancestor->comm, comm_length(ancestor->comm));
		jsonw_member_string(w, "exe", ancestor->exe);
		jsonw_object_end(w);
	}
	jsonw_array_end(w);
}

static void json_proc_uncached(struct jsonw *w, const struct event_view *view)
{
	const struct process_info *process = view->process;
	const struct am_task *task = view->task;
	char start[RFC3339_LEN];

	jsonw_key(w, "proc");
	jsonw_object_begin(w);
	jsonw_member_uint(w, "pid", task->pid);
	jsonw_member_uint(w, "tid", task->tid);
	jsonw_member_uint(w, "ppid", task->ppid);
	jsonw_member_uint(w, "uid", task->uid);
	jsonw_key(w, "comm");
	jsonw_string_n(w, task->comm, comm_length(task->comm));
	jsonw_member_string(w, "exe", process ? process->exe : NULL);
	json_args(w, process);
	jsonw_key(w, "start_time");
	if (process && process->start_ns) {
		format_rfc3339(process->start_ns + (uint64_t)view->boot_to_wall_ns, start);
		jsonw_string(w, start);
	} else {
		jsonw_null(w);
	}
	json_ancestors(w, view);
	jsonw_object_end(w);
}

static void pod_details_json(struct jsonw *w, const struct pod_info *pod,
			     const struct container_info *container);

static void json_cgroup_and_pod_uncached(struct jsonw *w, const struct event_view *view)
{
	const struct cgroup_entry *cgroup = view->cgroup;

	jsonw_key(w, "cgroup");
	jsonw_object_begin(w);
	jsonw_member_uint(w, "id", view->task->cgroup_id);
	jsonw_member_string(w, "path", cgroup ? cgroup->path : NULL);
	jsonw_object_end(w);

	jsonw_key(w, "pod");
	if (!cgroup || !cgroup->ref.is_pod) {
		jsonw_null(w);
		jsonw_key(w, "host");
		jsonw_object_begin(w);
		jsonw_member_string(w, "unit",
				    cgroup && cgroup->host_unit[0] ? cgroup->host_unit : NULL);
		jsonw_member_string(w, "slice",
				    cgroup && cgroup->host_slice[0] ? cgroup->host_slice : NULL);
		jsonw_object_end(w);
		return;
	}
	jsonw_object_begin(w);
	jsonw_member_string(w, "uid", cgroup->ref.pod_uid);
	jsonw_member_string(w, "namespace", view->pod ? view->pod->namespace : NULL);
	jsonw_member_string(w, "name", view->pod ? view->pod->name : NULL);
	jsonw_member_string(w, "container_id",
			    cgroup->ref.container_id[0] ? cgroup->ref.container_id : NULL);
	jsonw_member_string(w, "container", view->container ? view->container->name : NULL);
	pod_details_json(w, view->pod, view->container);
	jsonw_object_end(w);
	jsonw_key(w, "host");
	jsonw_null(w);
}

/* --- kept subjects ----------------------------------------------------------- */

#define OUTPUT_CACHE_PROCS 2048
#define OUTPUT_CACHE_CGROUPS 1024

/* Members as written once: a copy of the writer's bytes. */
struct fragment {
	char *json;
	size_t len;
	size_t cap;
};

/* The "proc" member, and everything it was written from. */
struct proc_fragment {
	uint64_t version; /* the process's; 0: an empty slot */
	uint64_t ancestors[EVENT_MAX_ANCESTORS]; /* their versions */
	size_t n_ancestors;
	uint32_t pid, tid, ppid, uid; /* the record's task: a thread may differ */
	char comm[AM_COMM_LEN];
	int64_t boot_to_wall_ns;
	struct fragment members;
};

/* The "cgroup", "pod" and "host" members, and everything they were written from. */
struct cgroup_fragment {
	uint64_t version; /* the cgroup entry's; 0: an empty slot */
	unsigned long generation; /* the pod inventory's, when the entry's pod was found */
	const struct pod_info *pod;
	const struct container_info *container;
	struct fragment members;
};

struct output_cache {
	struct proc_fragment procs[OUTPUT_CACHE_PROCS];
	struct cgroup_fragment cgroups[OUTPUT_CACHE_CGROUPS];
};

struct output_cache *output_cache_new(void)
{
	return calloc(1, sizeof(struct output_cache));
}

void output_cache_free(struct output_cache *cache)
{
	size_t i;

	if (!cache)
		return;
	for (i = 0; i < OUTPUT_CACHE_PROCS; i++)
		free(cache->procs[i].members.json);
	for (i = 0; i < OUTPUT_CACHE_CGROUPS; i++)
		free(cache->cgroups[i].members.json);
	free(cache);
}

/*
 * Keeps what w got since start: members of the open object, without the comma
 * that separated them from the members before. False when out of memory.
 */
static bool fragment_keep(struct fragment *fragment, const struct jsonw *w, size_t start)
{
	size_t len;

	if (w->failed)
		return false;
	if (start < w->len && w->buf[start] == ',')
		start++;
	len = w->len - start;
	if (len > fragment->cap) {
		char *grown = realloc(fragment->json, len);

		if (!grown)
			return false;
		fragment->json = grown;
		fragment->cap = len;
	}
	memcpy(fragment->json, w->buf + start, len);
	fragment->len = len;
	return true;
}

static bool proc_fragment_current(const struct proc_fragment *kept, const struct event_view *view)
{
	const struct am_task *task = view->task;
	size_t i;

	if (kept->version != view->process->version || kept->n_ancestors != view->n_ancestors ||
	    kept->pid != task->pid || kept->tid != task->tid || kept->ppid != task->ppid ||
	    kept->uid != task->uid || kept->boot_to_wall_ns != view->boot_to_wall_ns ||
	    memcmp(kept->comm, task->comm, sizeof(kept->comm)) != 0)
		return false;
	for (i = 0; i < view->n_ancestors; i++)
		if (kept->ancestors[i] != view->ancestors[i]->version)
			return false;
	return true;
}

static void json_proc(struct jsonw *w, const struct event_view *view)
{
	const struct am_task *task = view->task;
	struct proc_fragment *kept;
	size_t start = w->len, i;

	/* Unknown processes are rare and cheap to write: their members are not kept. */
	if (!view->cache || !view->process || !view->process->version) {
		json_proc_uncached(w, view);
		return;
	}
	kept = &view->cache->procs[(task->pid * 2654435761u >> 8) % OUTPUT_CACHE_PROCS];
	if (proc_fragment_current(kept, view)) {
		jsonw_raw_members(w, kept->members.json, kept->members.len);
		return;
	}
	json_proc_uncached(w, view);
	kept->version = 0;
	if (!fragment_keep(&kept->members, w, start))
		return;
	for (i = 0; i < view->n_ancestors; i++)
		kept->ancestors[i] = view->ancestors[i]->version;
	kept->n_ancestors = view->n_ancestors;
	kept->pid = task->pid;
	kept->tid = task->tid;
	kept->ppid = task->ppid;
	kept->uid = task->uid;
	memcpy(kept->comm, task->comm, sizeof(kept->comm));
	kept->boot_to_wall_ns = view->boot_to_wall_ns;
	kept->version = view->process->version;
}

static void json_cgroup_and_pod(struct jsonw *w, const struct event_view *view)
{
	const struct cgroup_entry *cgroup = view->cgroup;
	struct cgroup_fragment *kept;
	size_t start = w->len;

	if (!view->cache || !cgroup || !cgroup->version) {
		json_cgroup_and_pod_uncached(w, view);
		return;
	}
	kept = &view->cache->cgroups[(cgroup->id * 0x9e3779b97f4a7c15ull >> 32) %
				     OUTPUT_CACHE_CGROUPS];
	if (kept->version == cgroup->version && kept->generation == cgroup->generation &&
	    kept->pod == view->pod && kept->container == view->container) {
		jsonw_raw_members(w, kept->members.json, kept->members.len);
		return;
	}
	json_cgroup_and_pod_uncached(w, view);
	kept->version = 0;
	if (!fragment_keep(&kept->members, w, start))
		return;
	kept->generation = cgroup->generation;
	kept->pod = view->pod;
	kept->container = view->container;
	kept->version = cgroup->version;
}

/* The labels written per pod (pods.h bounds the bytes of each key and value). */
#define OUTPUT_MAX_LABELS 16

static void workload_identity_json(struct jsonw *w, const struct pod_info *pod,
				   const struct container_info *container)
{
	const struct workload_identity_env *wi;

	jsonw_key(w, "workload_identity");
	if (!pod || !pod_uses_workload_identity(pod)) {
		jsonw_null(w);
		return;
	}
	wi = pod_workload_identity(pod, container);
	jsonw_object_begin(w);
	jsonw_member_string(w, "client_id", wi ? wi->client_id : NULL);
	jsonw_member_string(w, "tenant_id", wi ? wi->tenant_id : NULL);
	jsonw_member_string(w, "token_file", wi ? wi->token_file : NULL);
	jsonw_object_end(w);
}

static void pod_details_json(struct jsonw *w, const struct pod_info *pod,
			     const struct container_info *container)
{
	size_t i;

	jsonw_member_string(w, "service_account", pod ? pod->service_account : NULL);
	jsonw_key(w, "host_network");
	if (pod && (pod->sources & (POD_SOURCE_PODLIST | POD_SOURCE_KUBELET)))
		jsonw_bool(w, pod->host_network);
	else
		jsonw_null(w);
	jsonw_key(w, "labels");
	if (!pod) {
		jsonw_null(w);
	} else {
		jsonw_object_begin(w);
		for (i = 0; i < pod->n_labels && i < OUTPUT_MAX_LABELS; i++)
			jsonw_member_string(w, pod->labels[i].key, pod->labels[i].value);
		jsonw_object_end(w);
		if (pod->labels_truncated || pod->n_labels > OUTPUT_MAX_LABELS) {
			jsonw_key(w, "labels_truncated");
			jsonw_bool(w, true);
		}
	}
	workload_identity_json(w, pod, container);
}

void output_pod_json(struct jsonw *w, const struct pod_info *pod,
		     const struct container_info *container)
{
	jsonw_member_string(w, "uid", pod->uid);
	jsonw_member_string(w, "namespace", pod->namespace);
	jsonw_member_string(w, "name", pod->name);
	pod_details_json(w, pod, container);
}

static void json_dst(struct jsonw *w, const struct am_connect_record *record,
		     const struct naming *naming)
{
	char ip[48];

	format_ip(record->family, record->addr, ip);
	jsonw_key(w, "dst");
	jsonw_object_begin(w);
	jsonw_member_string(w, "ip", ip);
	jsonw_member_uint(w, "port", record->port);
	jsonw_member_string(w, "proto", protocol_name(record->protocol));
	jsonw_member_string(w, "host", naming && naming->host[0] ? naming->host : NULL);
	jsonw_member_string(w, "name_source", name_source_name(naming ? naming->source : NAME_NONE));
	jsonw_member_string(w, "service",
			    naming ? destination_service_name(naming->cls.service) : NULL);
	jsonw_member_string(w, "resource",
			    naming && naming->cls.resource[0] ? naming->cls.resource : NULL);
	jsonw_member_string(w, "cloud", naming ? destination_cloud_name(naming->cls.cloud) : NULL);
	if (naming && naming->tag) {
		jsonw_member_string(w, "service_tag", naming->tag->name);
		jsonw_member_string(w, "region", naming->tag->region);
	}
	if (naming && naming->mismatch && naming->dns_host[0])
		jsonw_member_string(w, "dns_host", naming->dns_host);
	if (naming && naming->mismatch && naming->sni[0])
		jsonw_member_string(w, "sni", naming->sni);
	if (naming && naming->hello_unread) {
		jsonw_key(w, "hello_unread");
		jsonw_bool(w, true);
	}
	if (record->flags & AM_CONNECT_EXISTING) {
		jsonw_key(w, "existing");
		jsonw_bool(w, true);
	}
	jsonw_object_end(w);
}

const char *socket_family_name(uint16_t family)
{
	switch (family) {
	case 2:
		return "inet";
	case 10:
		return "inet6";
	case 17:
		return "packet";
	default:
		return "other";
	}
}

const char *socket_type_name(uint16_t type)
{
	switch (type) {
	case 1:
		return "stream";
	case 2:
		return "dgram";
	case 3:
		return "raw";
	case 10:
		return "packet";
	default:
		return "other";
	}
}

/* How the socket came to be seen: made by socket(2) or io_uring, or held at start. */
static const char *socket_via(const struct am_socket_record *socket)
{
	if (socket->syscall == AM_SOCKET_EXISTING)
		return "existing";
	return socket->syscall ? "io_uring" : "socket";
}

static void json_socket(struct jsonw *w, const struct am_socket_record *socket)
{
	jsonw_key(w, "socket");
	jsonw_object_begin(w);
	jsonw_member_string(w, "family", socket_family_name(socket->family));
	jsonw_member_string(w, "type", socket_type_name(socket->type));
	jsonw_member_uint(w, "protocol", socket->protocol);
	jsonw_member_int(w, "result", socket->result);
	jsonw_member_string(w, "via", socket_via(socket));
	jsonw_object_end(w);
}

static void text_socket(struct jsonw *w, const struct am_socket_record *socket)
{
	textw_printf(w, " %s %s protocol=%u result=%d via=%s", socket_family_name(socket->family),
		     socket_type_name(socket->type), socket->protocol, socket->result,
		     socket_via(socket));
}

/* A packet's headers as captured: the transport header's first bytes, in hex. */
static void json_packet(struct jsonw *w, const struct am_payload_record *packet)
{
	static const char hex[] = "0123456789abcdef";
	char text[2 * AM_PACKET_CAPTURE + 1];
	size_t i, n = packet->captured < AM_PACKET_CAPTURE ? packet->captured : AM_PACKET_CAPTURE;

	for (i = 0; i < n; i++) {
		text[2 * i] = hex[packet->data[i] >> 4];
		text[2 * i + 1] = hex[packet->data[i] & 0xf];
	}
	text[2 * n] = '\0';
	jsonw_key(w, "packet");
	jsonw_object_begin(w);
	jsonw_member_uint(w, "bytes", packet->payload_len);
	jsonw_member_uint(w, "sport", packet->sport);
	jsonw_member_string(w, "headers", text);
	jsonw_object_end(w);
}

/* Each value of an IMDS selector or resource given more than once. */
static void json_selectors(struct jsonw *w, const struct http_request *http)
{
	size_t i;

	jsonw_key(w, "selectors");
	jsonw_array_begin(w);
	for (i = 0; i < http->n_selectors; i++) {
		jsonw_object_begin(w);
		jsonw_member_string(w, "name", imds_selector_name(http->selectors[i].kind));
		jsonw_member_string(w, "value", http->selectors[i].value);
		jsonw_object_end(w);
	}
	jsonw_array_end(w);
	jsonw_key(w, "resources");
	jsonw_array_begin(w);
	for (i = 0; i < http->n_resources; i++)
		jsonw_string(w, http->resources[i]);
	jsonw_array_end(w);
}

static void json_http(struct jsonw *w, const struct event_view *view)
{
	const struct http_request *http = view->http;
	const char *msi_res_id;

	jsonw_key(w, "http");
	jsonw_object_begin(w);
	jsonw_member_string(w, "outcome", flow_outcome_name((enum flow_outcome)view->http_outcome));
	if (!http) {
		/* Asked nothing; or could not be read, and then judged at its worst. */
		jsonw_key(w, "request");
		jsonw_bool(w, false);
		jsonw_member_string(w, "parse_error", view->http_error);
		jsonw_object_end(w);
		if (view->naming && view->naming->cls.service == SERVICE_IMDS) {
			jsonw_key(w, "imds");
			jsonw_object_begin(w);
			jsonw_member_string(w, "category", view->http_none ? "none" : "unclassified");
			jsonw_key(w, "incomplete");
			jsonw_bool(w, !view->http_none);
			jsonw_member_string(w, "parse_error", view->http_error);
			jsonw_object_end(w);
		}
		return;
	}
	jsonw_member_string(w, "method", http->method);
	jsonw_member_string(w, "path", http->path);
	jsonw_member_string(w, "canonical_path", http->canonical_path);
	jsonw_member_string(w, "version", http->version);
	jsonw_member_string(w, "host", http->host[0] ? http->host : NULL);
	jsonw_key(w, "metadata_header");
	jsonw_bool(w, http->metadata_header);
	jsonw_key(w, "status");
	if (view->http_status > 0)
		jsonw_uint(w, (uint64_t)view->http_status);
	else
		jsonw_null(w);
	jsonw_key(w, "truncated");
	jsonw_bool(w, http->truncated);
	jsonw_key(w, "incomplete");
	jsonw_bool(w, http->incomplete);
	jsonw_key(w, "query");
	jsonw_object_begin(w);
	jsonw_member_string(w, "resource", http_resource(http));
	jsonw_member_string(w, "api-version", http->api_version[0] ? http->api_version : NULL);
	for (int kind = 0; kind < IMDS_SELECTOR_KINDS; kind++)
		jsonw_member_string(w, imds_selector_name((enum imds_selector)kind),
				    http_selector_first(http, (enum imds_selector)kind));
	jsonw_object_end(w);
	jsonw_object_end(w);
	if (!view->naming || view->naming->cls.service != SERVICE_IMDS)
		return;
	msi_res_id = http_selector_first(http, IMDS_MSI_RES_ID);
	if (!msi_res_id)
		msi_res_id = http_selector_first(http, IMDS_MI_RES_ID);
	jsonw_key(w, "imds");
	jsonw_object_begin(w);
	jsonw_member_string(w, "category",
			    http->incomplete ? "unclassified"
					     : imds_category_name(imds_classify(http->canonical_path)));
	jsonw_member_string(w, "resource", http_resource(http));
	jsonw_member_string(w, "client_id", http_selector_first(http, IMDS_CLIENT_ID));
	jsonw_member_string(w, "object_id", http_selector_first(http, IMDS_OBJECT_ID));
	jsonw_member_string(w, "principal_id", http_selector_first(http, IMDS_PRINCIPAL_ID));
	jsonw_member_string(w, "msi_res_id", msi_res_id);
	jsonw_key(w, "metadata_header");
	jsonw_bool(w, http->metadata_header);
	jsonw_key(w, "ambiguous");
	jsonw_bool(w, http->ambiguous || http->selectors_cut);
	if (http->ambiguous || http->selectors_cut)
		json_selectors(w, http);
	jsonw_object_end(w);
}

static const char *dns_type_name(uint16_t type)
{
	switch (type) {
	case DNS_TYPE_A:
		return "A";
	case DNS_TYPE_AAAA:
		return "AAAA";
	case DNS_TYPE_CNAME:
		return "CNAME";
	default:
		return "other";
	}
}

static void json_dns(struct jsonw *w, const struct event_view *view)
{
	const struct dns_message *dns = view->dns;
	char ip[48];
	size_t i;

	jsonw_key(w, "dns");
	jsonw_object_begin(w);
	if (!dns) {
		jsonw_member_string(w, "parse_error", view->dns_error);
		jsonw_object_end(w);
		return;
	}
	jsonw_member_string(w, "question", dns->question);
	jsonw_member_uint(w, "rcode", dns->rcode);
	jsonw_key(w, "answers");
	jsonw_array_begin(w);
	for (i = 0; i < dns->n_records; i++) {
		const struct dns_record *record = &dns->records[i];

		jsonw_object_begin(w);
		jsonw_member_string(w, "name", record->name);
		jsonw_member_string(w, "type", dns_type_name(record->type));
		jsonw_member_uint(w, "ttl", record->ttl);
		if (record->type == DNS_TYPE_CNAME) {
			jsonw_member_string(w, "data", record->target);
		} else {
			format_ip(record->family, record->addr, ip);
			jsonw_member_string(w, "data", ip);
		}
		jsonw_object_end(w);
	}
	jsonw_array_end(w);
	jsonw_object_end(w);
}

static void text_dst(struct jsonw *w, const struct am_connect_record *record,
		     const struct naming *naming)
{
	char ip[48];

	format_ip(record->family, record->addr, ip);
	if (record->family == 6)
		textw_printf(w, " -> [%s]:%u/%s", ip, record->port, protocol_name(record->protocol));
	else
		textw_printf(w, " -> %s:%u/%s", ip, record->port, protocol_name(record->protocol));
	if (!naming)
		return;
	if (naming->host[0]) {
		textw_raw(w, " host=");
		textw_escaped(w, naming->host, strlen(naming->host));
	}
	if (destination_service_name(naming->cls.service))
		textw_printf(w, " service=%s", destination_service_name(naming->cls.service));
	if (naming->cls.resource[0]) {
		textw_raw(w, " resource=");
		textw_escaped(w, naming->cls.resource, strlen(naming->cls.resource));
	}
	if (naming->source != NAME_NONE)
		textw_printf(w, " (%s)", name_source_name(naming->source));
}

static void text_http(struct jsonw *w, const struct event_view *view)
{
	const struct http_request *http = view->http;
	const char *value;
	size_t i;

	if (!http && view->http_none) {
		textw_printf(w, " asked nothing (%s)",
			     flow_outcome_name((enum flow_outcome)view->http_outcome));
		return;
	}
	if (!http) {
		textw_raw(w, " UNREAD (judged at worst): ");
		textw_escaped(w, view->http_error, strlen(view->http_error));
		return;
	}
	textw_raw(w, " ");
	textw_escaped(w, http->method, strlen(http->method));
	textw_raw(w, " ");
	textw_escaped(w, http->path, strlen(http->path));
	if (strcmp(http->path, http->canonical_path) != 0) {
		textw_raw(w, " (");
		textw_escaped(w, http->canonical_path, strlen(http->canonical_path));
		textw_raw(w, ")");
	}
	for (i = 0; i < http->n_resources; i++) {
		textw_raw(w, " resource=");
		textw_escaped(w, http->resources[i], strlen(http->resources[i]));
	}
	for (i = 0; i < http->n_selectors; i++) {
		value = http->selectors[i].value;
		textw_printf(w, " %s=", imds_selector_name(http->selectors[i].kind));
		textw_escaped(w, value, strlen(value));
	}
	if (view->http_status > 0)
		textw_printf(w, " status=%d", view->http_status);
	else
		textw_printf(w, " %s", flow_outcome_name((enum flow_outcome)view->http_outcome));
	if (http->truncated)
		textw_raw(w, " truncated");
	if (http->incomplete)
		textw_raw(w, " INCOMPLETE");
	if (http->ambiguous)
		textw_raw(w, " ambiguous");
}

static const char *syscall_name(uint16_t syscall)
{
	switch (syscall) {
	case AM_OPEN_SYSCALL_OPEN:
		return "open";
	case AM_OPEN_SYSCALL_OPENAT:
		return "openat";
	case AM_OPEN_SYSCALL_OPENAT2:
		return "openat2";
	case AM_OPEN_SYSCALL_CREAT:
		return "creat";
	case AM_OPEN_SYSCALL_OPEN_BY_HANDLE_AT:
		return "open_by_handle_at";
	case AM_OPEN_SYSCALL_IO_URING:
		return "io_uring";
	case AM_OPEN_SYSCALL_IA32 | AM_OPEN_SYSCALL_OPEN:
		return "ia32 open";
	case AM_OPEN_SYSCALL_IA32 | AM_OPEN_SYSCALL_OPENAT:
		return "ia32 openat";
	case AM_OPEN_SYSCALL_IA32 | AM_OPEN_SYSCALL_OPENAT2:
		return "ia32 openat2";
	case AM_OPEN_SYSCALL_IA32 | AM_OPEN_SYSCALL_CREAT:
		return "ia32 creat";
	case AM_OPEN_SYSCALL_IA32 | AM_OPEN_SYSCALL_OPEN_BY_HANDLE_AT:
		return "ia32 open_by_handle_at";
	default:
		return "unknown";
	}
}

static void json_owner_pod(struct jsonw *w, const struct event_view *view)
{
	const struct pod_info *owner = view->owner_pod;
	const struct watch_entry *watch = view->watch;

	jsonw_key(w, "owner_pod");
	if (!watch || !watch->owner_uid[0]) {
		jsonw_null(w);
		return;
	}
	jsonw_object_begin(w);
	jsonw_member_string(w, "uid", watch->owner_uid);
	jsonw_member_string(w, "namespace", owner ? owner->namespace : NULL);
	jsonw_member_string(w, "name", owner ? owner->name : NULL);
	jsonw_object_end(w);
}

static void json_open(struct jsonw *w, const struct am_open_record *record,
		      const struct event_view *view)
{
	const struct watch_entry *watch = view->watch;
	char dev[24], host[AM_WATCH_PATH_LEN + AM_NAME_LEN + 2];

	jsonw_key(w, "file");
	jsonw_object_begin(w);
	jsonw_key(w, "path");
	if (record->path_flags & AM_PATH_UNREADABLE)
		jsonw_null(w);
	else
		jsonw_string_n(w, record->path, strnlen(record->path, sizeof(record->path)));
	jsonw_key(w, "host_path");
	if (watch) {
		watch_host_path(watch, record, host, sizeof(host));
		jsonw_string(w, host);
	} else {
		jsonw_null(w);
	}
	jsonw_member_string(w, "kind",
			    watch ? watch_kind_name(watch_kind_of(watch, record->name)) : NULL);
	json_owner_pod(w, view);
	if (record->match == AM_MATCH_PATH) {
		jsonw_key(w, "dev");
		jsonw_null(w);
		jsonw_key(w, "inode");
		jsonw_null(w);
	} else {
		snprintf(dev, sizeof(dev), "%u:%u", record->dev >> 20, record->dev & 0xfffff);
		jsonw_member_string(w, "dev", dev);
		jsonw_member_uint(w, "inode", record->inode);
	}
	jsonw_member_uint(w, "flags", record->flags);
	jsonw_member_string(w, "access", access_mode(record->flags));
	jsonw_member_int(w, "result", record->result);
	if (record->result < 0) {
		const char *name = strerrorname_np((int)-record->result);

		jsonw_member_string(w, "error", name ? name : "unknown");
	}
	jsonw_member_string(w, "syscall", syscall_name(record->syscall));
	if (record->path_flags & AM_PATH_TRUNCATED) {
		jsonw_key(w, "path_truncated");
		jsonw_bool(w, true);
	}
	jsonw_object_end(w);
}

static void text_who(struct jsonw *w, const struct event_view *view)
{
	const struct cgroup_entry *cgroup = view->cgroup;
	const struct am_task *task = view->task;

	if (cgroup && cgroup->ref.is_pod) {
		textw_raw(w, " pod=");
		if (view->pod) {
			/* A bundle may name the pod and not its namespace, or neither. */
			textw_name(w, view->pod->namespace);
			textw_raw(w, "/");
			textw_name(w, view->pod->name);
		} else {
			textw_printf(w, "uid:%s", cgroup->ref.pod_uid);
		}
		if (view->container) {
			textw_raw(w, " container=");
			textw_name(w, view->container->name);
		}
	} else {
		textw_raw(w, " host");
		if (cgroup && cgroup->host_unit[0]) {
			textw_raw(w, " unit=");
			textw_escaped(w, cgroup->host_unit, strlen(cgroup->host_unit));
		}
	}
	textw_printf(w, " pid=%u uid=%u comm=", task->pid, task->uid);
	textw_escaped(w, task->comm, comm_length(task->comm));
	if (view->process && view->process->exe) {
		textw_raw(w, " exe=");
		textw_escaped(w, view->process->exe, strlen(view->process->exe));
	}
}

static void text_open(struct jsonw *w, const struct event_view *view)
{
	const struct am_open_record *record = view->open;
	char host[AM_WATCH_PATH_LEN + AM_NAME_LEN + 2];

	textw_raw(w, " file=");
	textw_escaped(w, record->path, strnlen(record->path, sizeof(record->path)));
	if (view->watch) {
		watch_host_path(view->watch, record, host, sizeof(host));
		if (strcmp(host, record->path) != 0) {
			textw_raw(w, " (");
			textw_escaped(w, host, strlen(host));
			textw_raw(w, ")");
		}
		textw_printf(w, " kind=%s", watch_kind_name(watch_kind_of(view->watch, record->name)));
	}
	if (view->owner_pod && view->owner_pod->name) {
		textw_raw(w, " owner=");
		textw_name(w, view->owner_pod->namespace);
		textw_raw(w, "/");
		textw_name(w, view->owner_pod->name);
	}
	textw_printf(w, " %s result=%" PRId64, access_mode(record->flags), (int64_t)record->result);
	if (record->result < 0 && strerrorname_np((int)-record->result))
		textw_printf(w, " (%s)", strerrorname_np((int)-record->result));
}

static void text_dns(struct jsonw *w, const struct event_view *view)
{
	char ip[48];
	size_t i;

	if (!view->dns) {
		textw_raw(w, " unreadable answer: ");
		textw_escaped(w, view->dns_error, strlen(view->dns_error));
		return;
	}
	textw_raw(w, " ");
	textw_escaped(w, view->dns->question, strlen(view->dns->question));
	for (i = 0; i < view->dns->n_records; i++) {
		const struct dns_record *record = &view->dns->records[i];

		if (record->type == DNS_TYPE_CNAME) {
			textw_raw(w, " CNAME ");
			textw_escaped(w, record->target, strlen(record->target));
		} else {
			format_ip(record->family, record->addr, ip);
			textw_printf(w, " %s", ip);
		}
	}
}

/* How many, and when: the wall clock times of the first and last repeat counted. */
static void json_repeat(struct jsonw *w, const struct event_view *view)
{
	const struct am_connect_repeat_record *repeat = view->repeat;
	uint64_t to_wall = (uint64_t)view->boot_to_wall_ns;
	char time_text[RFC3339_LEN];

	jsonw_member_uint(w, "count", repeat->count);
	format_rfc3339(repeat->first_ns + to_wall, time_text);
	jsonw_member_string(w, "first", time_text);
	format_rfc3339(repeat->last_ns + to_wall, time_text);
	jsonw_member_string(w, "last", time_text);
	format_rfc3339(repeat->window_start_ns + to_wall, time_text);
	jsonw_member_string(w, "window_start", time_text);
}

static void text_repeat(struct jsonw *w, const struct event_view *view)
{
	const struct am_connect_repeat_record *repeat = view->repeat;
	uint64_t to_wall = (uint64_t)view->boot_to_wall_ns;
	char first[RFC3339_LEN], last[RFC3339_LEN];

	format_rfc3339(repeat->first_ns + to_wall, first);
	format_rfc3339(repeat->last_ns + to_wall, last);
	textw_printf(w, " count=%" PRIu64 " first=%s last=%s", (uint64_t)repeat->count, first,
		     last);
}

void output_subject_json(struct jsonw *w, const struct event_view *view)
{
	json_proc(w, view);
	json_cgroup_and_pod(w, view);
}

void output_subject_text(struct jsonw *w, const struct event_view *view)
{
	text_who(w, view);
}

void output_event(struct jsonw *w, enum output_format format, const struct event_view *view)
{
	char time_text[RFC3339_LEN];

	format_rfc3339(view->time_ns, time_text);
	if (format == OUTPUT_TEXT) {
		textw_printf(w, "%s %-7s", time_text, view_kind_name(view));
		text_who(w, view);
		switch (view->kind) {
		case VIEW_CONNECT:
		case VIEW_SEND:
			text_dst(w, view->dst, view->naming);
			break;
		case VIEW_HTTP:
			text_dst(w, view->dst, view->naming);
			text_http(w, view);
			break;
		case VIEW_OPEN:
			text_open(w, view);
			break;
		case VIEW_DNS:
			text_dns(w, view);
			break;
		case VIEW_REPEAT:
			text_dst(w, view->dst, view->naming);
			text_repeat(w, view);
			break;
		case VIEW_PACKET:
			text_dst(w, view->dst, view->naming);
			textw_printf(w, " packet of %u bytes", view->packet->payload_len);
			break;
		case VIEW_SOCKET:
			text_socket(w, view->socket);
			break;
		}
		return;
	}

	jsonw_object_begin(w);
	jsonw_member_string(w, "type", view_kind_name(view));
	jsonw_member_string(w, "time", time_text);
	json_proc(w, view);
	json_cgroup_and_pod(w, view);
	switch (view->kind) {
	case VIEW_CONNECT:
	case VIEW_SEND:
		json_dst(w, view->dst, view->naming);
		break;
	case VIEW_HTTP:
		json_dst(w, view->dst, view->naming);
		json_http(w, view);
		break;
	case VIEW_OPEN:
		json_open(w, view->open, view);
		break;
	case VIEW_DNS:
		json_dns(w, view);
		break;
	case VIEW_REPEAT:
		json_dst(w, view->dst, view->naming);
		json_repeat(w, view);
		break;
	case VIEW_PACKET:
		json_dst(w, view->dst, view->naming);
		json_packet(w, view->packet);
		break;
	case VIEW_SOCKET:
		json_socket(w, view->socket);
		break;
	}
	jsonw_object_end(w);
}

/* A loss record: `type` says what lost it, `what` the unit in text. */
static void output_loss(struct jsonw *w, enum output_format format, const char *type,
			const char *what, const char *sink, const char *reason, uint64_t time_ns,
			uint64_t lost, uint64_t lost_total)
{
	char time_text[RFC3339_LEN];

	format_rfc3339(time_ns, time_text);
	if (format == OUTPUT_TEXT) {
		textw_printf(w, "%s LOST    %" PRIu64 " %s%s%s (%s), %" PRIu64 " in all", time_text,
			     lost, what, sink ? " by " : "", sink ? sink : "", reason, lost_total);
		return;
	}
	jsonw_object_begin(w);
	jsonw_member_string(w, "type", type);
	jsonw_member_string(w, "time", time_text);
	if (sink)
		jsonw_member_string(w, "sink", sink);
	jsonw_member_string(w, "reason", reason);
	jsonw_member_uint(w, "lost", lost);
	jsonw_member_uint(w, "lost_total", lost_total);
	jsonw_object_end(w);
}

void output_events_lost(struct jsonw *w, enum output_format format, uint64_t time_ns,
			uint64_t lost, uint64_t lost_total)
{
	output_loss(w, format, "events-lost", "events lost in the kernel", NULL, "ring buffer full",
		    time_ns, lost, lost_total);
}

void output_trace_lost(struct jsonw *w, enum output_format format, uint64_t time_ns,
		       const char *reason, uint64_t lost, uint64_t lost_total)
{
	output_loss(w, format, "trace-lost", "trace entries not written", NULL, reason, time_ns,
		    lost, lost_total);
}

void output_sink_lost(struct jsonw *w, enum output_format format, uint64_t time_ns,
		      const char *sink, const char *reason, uint64_t lost, uint64_t lost_total)
{
	output_loss(w, format, "sink-lost", "lines dropped", sink, reason, time_ns, lost,
		    lost_total);
}

void output_monitor_degraded(struct jsonw *w, enum output_format format, uint64_t time_ns,
			     const struct degraded_notice *notice, uint64_t since_ns)
{
	const char *name = detection_name(notice->detection);
	const char *sees = detection_sees(notice->detection);
	char time_text[RFC3339_LEN], since_text[RFC3339_LEN];

	format_rfc3339(time_ns, time_text);
	format_rfc3339(since_ns, since_text);
	if (format == OUTPUT_TEXT) {
		if (notice->restored) {
			textw_printf(w, "%s RESTORED %s: sees %s again (was: ", time_text, name, sees);
			textw_escaped(w, notice->reason, strlen(notice->reason));
			textw_raw(w, ")");
		} else {
			textw_printf(w, "%s DEGRADED %s: BLIND to %s since %s: ", time_text, name, sees,
				     since_text);
			textw_escaped(w, notice->reason, strlen(notice->reason));
		}
		return;
	}
	jsonw_object_begin(w);
	jsonw_member_string(w, "type", "monitor-degraded");
	jsonw_member_string(w, "time", time_text);
	jsonw_member_string(w, "state", notice->restored ? "restored" : "degraded");
	jsonw_member_string(w, "detection", name);
	jsonw_member_string(w, "cause", degraded_cause_name(notice->cause));
	jsonw_member_string(w, "sees", sees);
	jsonw_member_string(w, "reason", notice->reason);
	jsonw_member_string(w, "since", since_text);
	jsonw_object_end(w);
}

bool output_filter_keep(const struct output_filter *filter, const struct event_view *view,
			const char *rule, uint64_t time_ns)
{
	if (!filter)
		return true;
	if (filter->since_ns && time_ns < filter->since_ns)
		return false;
	if (filter->until_ns && time_ns > filter->until_ns)
		return false;
	if (filter->rule && (!rule || strcmp(rule, filter->rule) != 0))
		return false;
	if (filter->pod_name) {
		const struct pod_info *pod = view ? view->pod : NULL;

		if (!pod || !pod->name || !pod->namespace || strcmp(pod->name, filter->pod_name) != 0 ||
		    strcmp(pod->namespace, filter->namespace) != 0)
			return false;
	}
	return true;
}
