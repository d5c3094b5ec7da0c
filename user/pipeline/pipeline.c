// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* Decode, attribute, write: the collector's pipeline; see pipeline.h. */
#include "pipeline/pipeline.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attribute/cgroups.h"
#include "event/degraded.h"
#include "event/records.h"
#include "lib/jsonw.h"
#include "output/output.h"
#include "attribute/pods.h"
#include "parse/dns.h"
#include "name/dns_cache.h"
#include "name/flows.h"
#include "attribute/processes.h"
#include "detect/rules.h"
#include "name/service_tags.h"
#include "sinks/sinks.h"
#include "attribute/watch.h"

/*
 * A DNS answer over UDP larger than one record comes as several, each with its
 * offset in seq; other CPUs' records may come between. Put back together here.
 */
#define DNS_UDP_SLOTS 8

struct dns_datagram {
	uint64_t cookie;
	uint64_t time_ns;
	uint32_t len, total; /* bytes here; bytes the datagram has (as far as captured) */
	struct am_task task;
	bool used;
	uint8_t data[AM_DNS_UDP_CAPTURE];
};

struct pipeline {
	struct pipeline_config config;
	struct pipeline_state state;
	struct pipeline_hooks hooks;
	FILE *out;
	struct sinks *sinks; /* NULL: the FILE */
	struct jsonw line;
	struct flow_table *flows;
	struct rules *rules;
	struct jsonw event_json; /* an event's JSON record, for alerts' evidence */
	struct output_cache *subjects; /* records' proc, cgroup and pod members, as written */
	struct dns_message *dns_message; /* scratch: large */
	struct dns_datagram *datagrams;	 /* DNS_UDP_SLOTS of them */
	uint64_t last_expire_ns;
	uint64_t last_advance_ns;
	struct pipeline_stats stats;
	/*
	 * Connections older than the monitor whose bytes are captured from their next
	 * packet (bpf/existing.bpf.c): who holds each, until its bytes come. The
	 * oldest gives way when full: its bytes then come without their process.
	 */
	struct am_connect_record existing[PIPELINE_EXISTING_MAX];
	size_t n_existing, next_existing;
};

static void on_flow_http(void *ctx, const struct flow *flow, const struct flow_request *request,
			 uint64_t time_ns);
static void write_alert(void *ctx, struct jsonw *line, enum severity severity);
static void on_flow_released(void *ctx, struct flow *flow);
static void on_flow_fallback(void *ctx, struct flow *flow);
static void on_flow_dns(void *ctx, const struct flow *flow, const uint8_t *message, size_t len,
			uint64_t time_ns);
static void on_flow_late(void *ctx, struct am_connect_record *connect, struct naming *naming);

struct pipeline *pipeline_new(const struct pipeline_config *config,
			      const struct pipeline_state *state, FILE *out)
{
	struct pipeline *pipeline = calloc(1, sizeof(*pipeline));

	if (!pipeline)
		return NULL;
	struct flow_callbacks callbacks = {
		.http = on_flow_http,
		.released = on_flow_released,
		.dns = on_flow_dns,
		.fallback = on_flow_fallback,
		.late = on_flow_late,
		.ctx = pipeline,
	};

	pipeline->config = *config;
	if (!pipeline->config.cgroup_grace_ns)
		pipeline->config.cgroup_grace_ns = PIPELINE_CGROUP_GRACE_NS;
	pipeline->state = *state;
	pipeline->out = out;
	jsonw_init(&pipeline->line);
	struct rules_sink sink = {.write = write_alert, .ctx = pipeline};

	pipeline->flows = flow_table_new(PIPELINE_MAX_FLOWS, &callbacks);
	pipeline->dns_message = malloc(sizeof(*pipeline->dns_message));
	pipeline->datagrams = calloc(DNS_UDP_SLOTS, sizeof(*pipeline->datagrams));
	jsonw_init(&pipeline->event_json);
	pipeline->subjects = output_cache_new();
	if (config->rules)
		pipeline->rules = rules_new(config->rules, config->format, &sink);
	if (pipeline->rules)
		rules_set_filter(pipeline->rules, config->filter);
	if (!pipeline->flows || !pipeline->dns_message || !pipeline->datagrams || !pipeline->subjects ||
	    (config->rules && !pipeline->rules)) {
		pipeline_free(pipeline);
		return NULL;
	}
	return pipeline;
}

void pipeline_free(struct pipeline *pipeline)
{
	if (!pipeline)
		return;
	flow_table_free(pipeline->flows);
	rules_free(pipeline->rules);
	free(pipeline->dns_message);
	free(pipeline->datagrams);
	output_cache_free(pipeline->subjects);
	jsonw_release(&pipeline->event_json);
	jsonw_release(&pipeline->line);
	free(pipeline);
}

void pipeline_set_hooks(struct pipeline *pipeline, const struct pipeline_hooks *hooks)
{
	pipeline->hooks = *hooks;
}

static size_t record_size_of(uint16_t type)
{
	const struct record_type *record = record_type(type);

	return record ? record->size : 0;
}

/* Every line the pipeline writes (records, alerts, losses) goes out here. */
static void write_out(struct pipeline *pipeline, const struct jsonw *line, enum line_class class,
		      enum severity severity)
{
	struct line_meta meta = {.line_class = (uint8_t)class, .severity = (uint8_t)severity};

	if (line->failed) {
		pipeline->stats.write_errors++;
		return;
	}
	if (pipeline->sinks) {
		sinks_write(pipeline->sinks, line->buf, line->len, &meta);
	} else if (fwrite(line->buf, 1, line->len, pipeline->out) != line->len ||
		   putc('\n', pipeline->out) == EOF) {
		pipeline->stats.write_errors++;
		return;
	}
	pipeline->stats.written++;
}

static void resolve_pod(struct pipeline *pipeline, struct cgroup_entry *entry)
{
	entry->pod = pod_inventory_find(pipeline->state.pods, entry->ref.pod_uid);
	entry->container = entry->pod ? pod_find_container(entry->pod, entry->ref.container_id)
				      : NULL;
	entry->generation = pod_inventory_generation(pipeline->state.pods);
	entry->miss_reported = false;
}

/* The cgroup entry of an event, with its pod and container resolved and cached. */
static const struct cgroup_entry *attribute(struct pipeline *pipeline, uint64_t cgroup_id,
					    uint64_t boot_ns)
{
	struct cgroup_entry *entry = cgroup_cache_lookup(pipeline->state.cgroups, cgroup_id);
	unsigned long generation;

	if (!entry && pipeline->hooks.cgroup_miss) {
		pipeline->hooks.cgroup_miss(pipeline->hooks.ctx, cgroup_id, boot_ns);
		entry = cgroup_cache_lookup(pipeline->state.cgroups, cgroup_id);
	}
	if (!entry) {
		pipeline->stats.unknown_cgroup++;
		return NULL;
	}
	if (!entry->ref.is_pod)
		return entry;
	generation = pod_inventory_generation(pipeline->state.pods);
	if (entry->generation != generation)
		resolve_pod(pipeline, entry);
	/* Unknown to the inventory: ask the source once per inventory change. */
	if ((!entry->pod || (entry->ref.container_id[0] && !entry->container)) &&
	    pipeline->hooks.pod_miss && !entry->miss_reported) {
		entry->miss_reported = true;
		pipeline->hooks.pod_miss(pipeline->hooks.ctx, entry->ref.pod_uid,
					 entry->ref.container_id, boot_ns);
		if (pod_inventory_generation(pipeline->state.pods) != entry->generation)
			resolve_pod(pipeline, entry);
	}
	return entry;
}

static void handle_cgroup_record(struct pipeline *pipeline, const struct am_cgroup_record *record)
{
	char path[AM_CGROUP_PATH_LEN + 1];

	memcpy(path, record->path, AM_CGROUP_PATH_LEN);
	path[AM_CGROUP_PATH_LEN] = '\0';
	if (record->header.type == AM_REC_CGROUP_MKDIR)
		cgroup_cache_add(pipeline->state.cgroups, record->cgroup_id, path);
	else
		cgroup_cache_mark_removed(pipeline->state.cgroups, record->cgroup_id,
					  record->header.time_ns);
}

static const struct process_info *process_of(struct pipeline *pipeline, uint32_t pid,
					      uint64_t boot_ns)
{
	struct process_info *process = process_cache_lookup(pipeline->state.processes, pid);

	if (!process && pipeline->hooks.process_miss) {
		pipeline->hooks.process_miss(pipeline->hooks.ctx, pid, boot_ns);
		process = process_cache_lookup(pipeline->state.processes, pid);
	}
	return process;
}

/*
 * The chain of parents, nearest first, up to the container's init (the last
 * ancestor in the event's own cgroup) or, for host processes, the host's init.
 */
static void ancestors_fill(struct pipeline *pipeline, struct event_view *view,
			   const struct am_task *task)
{
	bool in_pod = view->cgroup && view->cgroup->ref.is_pod;
	uint32_t pid = task->ppid;

	view->n_ancestors = 0;
	while (pid != 0 && pid != task->pid && view->n_ancestors < EVENT_MAX_ANCESTORS) {
		const struct process_info *parent =
			process_cache_lookup(pipeline->state.processes, pid);

		if (!parent)
			break;
		if (in_pod && parent->cgroup_id != task->cgroup_id)
			break;
		view->ancestors[view->n_ancestors++] = parent;
		if (pid == 1 || parent->ppid == pid)
			break;
		pid = parent->ppid;
	}
}

static void write_alert(void *ctx, struct jsonw *line, enum severity severity)
{
	write_out(ctx, line, LINE_ALERT, severity);
}

/* Fills what every view of a task has in common, then writes and judges the record. */
static void emit_view(struct pipeline *pipeline, struct event_view *view,
		      const struct am_task *task, uint64_t boot_ns)
{
	const struct cgroup_entry *cgroup;
	const char *json = NULL; /* the event's JSON record, once written */
	bool judged, written;

	if (!pipeline->config.events && !pipeline->rules)
		return;
	cgroup = attribute(pipeline, task->cgroup_id, boot_ns);
	view->time_ns = boot_ns + (uint64_t)pipeline->config.boot_to_wall_ns;
	view->task = task;
	view->boot_to_wall_ns = pipeline->config.boot_to_wall_ns;
	view->cgroup = cgroup;
	view->pod = cgroup ? cgroup->pod : NULL;
	view->container = cgroup ? cgroup->container : NULL;
	view->cache = pipeline->subjects;
	judged = pipeline->rules && rules_judge(view);
	written = pipeline->config.events &&
		  output_filter_keep(pipeline->config.filter, view, NULL, view->time_ns);
	/* The process and its ancestry only where they are read: most records go nowhere. */
	if (judged || written || view->kind == VIEW_REPEAT) {
		view->process = process_of(pipeline, task->pid, boot_ns);
		ancestors_fill(pipeline, view, task);
	}
	if (view->kind == VIEW_REPEAT && pipeline->rules)
		rules_on_repeat(pipeline->rules, view);
	if (written && pipeline->config.format == OUTPUT_TEXT) {
		jsonw_reset(&pipeline->line);
		output_event(&pipeline->line, OUTPUT_TEXT, view);
		write_out(pipeline, &pipeline->line, LINE_EVENT, SEVERITY_NONE);
	}
	/* The JSON is built only where it goes; rules build it only for an alert's evidence. */
	if (written && pipeline->config.format == OUTPUT_JSON) {
		jsonw_reset(&pipeline->event_json);
		output_event(&pipeline->event_json, OUTPUT_JSON, view);
		write_out(pipeline, &pipeline->event_json, LINE_EVENT, SEVERITY_NONE);
		json = pipeline->event_json.failed ? NULL : pipeline->event_json.buf;
	}
	if (judged)
		rules_on_event(pipeline->rules, view, json, json ? pipeline->event_json.len : 0);
	else if (pipeline->rules)
		rules_advance(pipeline->rules, view->time_ns);
}

/* Whose DNS cache: the pod's, or for host processes their cgroup's. */
static void dns_owner(struct pipeline *pipeline, uint64_t cgroup_id, uint64_t boot_ns,
		      char out[DNS_CACHE_OWNER_MAX])
{
	const struct cgroup_entry *cgroup = attribute(pipeline, cgroup_id, boot_ns);

	char digits[24], *start = digits + sizeof(digits);

	_Static_assert(sizeof(cgroup->ref.pod_uid) <= DNS_CACHE_OWNER_MAX, "a pod uid is an owner");
	if (cgroup && cgroup->ref.is_pod) {
		memcpy(out, cgroup->ref.pod_uid, sizeof(cgroup->ref.pod_uid));
		return;
	}
	/* "cgroup:ID", without printf: this runs for every host connect. */
	do {
		*--start = (char)('0' + cgroup_id % 10);
		cgroup_id /= 10;
	} while (cgroup_id);
	memcpy(out, "cgroup:", 7);
	memcpy(out + 7, start, (size_t)(digits + sizeof(digits) - start));
	out[7 + (digits + sizeof(digits) - start)] = '\0';
}

static void name_by_service_tag(struct pipeline *pipeline, const struct am_connect_record *record,
				struct naming *naming)
{
	const struct service_tag *tag =
		service_tags_lookup(pipeline->state.service_tags, record->family, record->addr);

	if (!tag)
		return;
	naming->source = NAME_SERVICE_TAG;
	naming->tag = tag;
	naming->cls.service = tag->service;
	naming->cls.cloud = CLOUD_PUBLIC;
}

/* What a destination is, from what is known when the connection starts. */
static void name_destination(struct pipeline *pipeline, const struct am_connect_record *record,
			     bool try_tags, struct naming *naming)
{
	char owner[DNS_CACHE_OWNER_MAX];
	const char *host;

	memset(naming, 0, sizeof(*naming));
	naming->cls.service = destination_fixed(record->family, record->addr);
	if (naming->cls.service != SERVICE_NONE) {
		naming->source = NAME_FIXED;
		return;
	}
	dns_owner(pipeline, record->task.cgroup_id, record->header.time_ns, owner);
	host = dns_cache_lookup(pipeline->state.dns, owner, record->family, record->addr,
				record->header.time_ns);
	if (host) {
		size_t len = strnlen(host, sizeof(naming->host) - 1);

		memcpy(naming->host, host, len);
		naming->host[len] = '\0';
		naming->source = NAME_DNS;
		destination_classify_host(naming->host, &naming->cls);
		return;
	}
	if (try_tags)
		name_by_service_tag(pipeline, record, naming);
}

static void emit_connect(struct pipeline *pipeline, const struct am_connect_record *record,
			 const struct naming *naming)
{
	struct event_view view = {0};

	view.kind = record->header.type == AM_REC_SEND ? VIEW_SEND : VIEW_CONNECT;
	view.dst = record;
	view.naming = naming;
	emit_view(pipeline, &view, &record->task, record->header.time_ns);
}

static void handle_connect(struct pipeline *pipeline, const struct am_connect_record *record)
{
	bool hold = (record->capture & AM_CAPTURE_TLS) != 0;
	struct naming naming;

	/*
	 * TLS: the connect waits for the server name in the ClientHello, named or not
	 * by DNS: the server name is what the client asks the server for, and a name
	 * from DNS that differs from it is evidence, not the answer.
	 */
	name_destination(pipeline, record, !hold, &naming);
	if ((record->flags & AM_CONNECT_EXISTING) && !record->cookie &&
	    (record->capture & AM_CAPTURE_HTTP)) {
		pipeline->existing[pipeline->next_existing] = *record;
		pipeline->next_existing = (pipeline->next_existing + 1) % PIPELINE_EXISTING_MAX;
		if (pipeline->n_existing < PIPELINE_EXISTING_MAX)
			pipeline->n_existing++;
	}
	if ((record->capture & (AM_CAPTURE_HTTP | AM_CAPTURE_TLS | AM_CAPTURE_DNS_TCP)) &&
	    record->cookie && flow_table_open(pipeline->flows, record, &naming, hold) && hold)
		return;
	emit_connect(pipeline, record, &naming);
}

/*
 * Repeats the kernel counted. The record knows the last repeat's pid and tid; the
 * rest of its task is the process cache's, as for packets.
 */
static void handle_repeat(struct pipeline *pipeline, const struct am_connect_repeat_record *record)
{
	const struct process_info *process;
	struct am_connect_record dst = {0};
	struct event_view view = {0};
	struct naming naming;

	if (record->repeat_of != AM_REC_CONNECT && record->repeat_of != AM_REC_SEND) {
		pipeline->stats.malformed++;
		return;
	}
	pipeline->stats.repeats += record->count;
	/* What it repeats, as that was reported: the same naming, the same dst. */
	dst.header = record->header;
	dst.header.type = record->repeat_of;
	dst.task = record->task;
	dst.family = record->family;
	dst.protocol = record->protocol;
	dst.port = record->port;
	memcpy(dst.addr, record->addr, sizeof(dst.addr));
	process = process_of(pipeline, dst.task.pid, record->header.time_ns);
	if (process && !dst.task.comm[0]) {
		dst.task.ppid = process->ppid;
		dst.task.uid = process->uid;
		memcpy(dst.task.comm, process->comm, sizeof(dst.task.comm));
	}
	name_destination(pipeline, &dst, true, &naming);
	view.kind = VIEW_REPEAT;
	view.dst = &dst;
	view.naming = &naming;
	view.repeat = record;
	emit_view(pipeline, &view, &dst.task, record->header.time_ns);
}

static void handle_open(struct pipeline *pipeline, const struct am_open_record *record)
{
	struct event_view view = {0};

	view.kind = VIEW_OPEN;
	view.open = record;
	view.watch = watch_list_get(pipeline->state.watches, record->watch_id);
	if (view.watch && view.watch->owner_uid[0])
		view.owner_pod = pod_inventory_find(pipeline->state.pods, view.watch->owner_uid);
	emit_view(pipeline, &view, &record->task, record->header.time_ns);
}

/* A DNS answer a process received: learnt for naming, and reported. */
static void handle_dns(struct pipeline *pipeline, const struct am_task *task, const uint8_t *data,
		       size_t len, uint64_t boot_ns)
{
	struct event_view view = {0};
	char owner[DNS_CACHE_OWNER_MAX];
	struct am_error err;

	view.kind = VIEW_DNS;
	if (dns_parse(data, len, pipeline->dns_message, &err) == 0) {
		dns_owner(pipeline, task->cgroup_id, boot_ns, owner);
		dns_cache_learn(pipeline->state.dns, owner, pipeline->dns_message, boot_ns);
		view.dns = pipeline->dns_message;
	} else {
		pipeline->stats.dns_errors++;
		view.dns_error = err.msg;
	}
	emit_view(pipeline, &view, task, boot_ns);
}

/* The task behind a packet: what the kernel stored at connect, and the process cache. */
static void task_of_packet(struct pipeline *pipeline, uint32_t pid, uint64_t cgroup_id,
			   struct am_task *task)
{
	const struct process_info *process =
		pid ? process_cache_lookup(pipeline->state.processes, pid) : NULL;

	memset(task, 0, sizeof(*task));
	task->pid = pid;
	task->tid = pid;
	task->cgroup_id = cgroup_id;
	if (process) {
		task->ppid = process->ppid;
		task->uid = process->uid;
		memcpy(task->comm, process->comm, sizeof(task->comm));
	}
}

static void datagram_done(struct pipeline *pipeline, struct dns_datagram *d)
{
	d->used = false;
	handle_dns(pipeline, &d->task, d->data, d->len, d->time_ns);
}

/* One record of a DNS answer over UDP: parsed once its datagram is all there. */
static void dns_udp_payload(struct pipeline *pipeline, const struct am_payload_record *record)
{
	struct dns_datagram *d = NULL, *free_slot = NULL, *oldest = NULL;
	size_t i;

	for (i = 0; i < DNS_UDP_SLOTS; i++) {
		struct dns_datagram *slot = &pipeline->datagrams[i];

		if (!slot->used) {
			free_slot = free_slot ? free_slot : slot;
			continue;
		}
		if (slot->cookie == record->cookie && record->seq != 0)
			d = slot;
		if (!oldest || slot->time_ns < oldest->time_ns)
			oldest = slot;
	}
	if (record->seq == 0) {
		for (i = 0; i < DNS_UDP_SLOTS; i++)
			if (pipeline->datagrams[i].used && pipeline->datagrams[i].cookie == record->cookie)
				datagram_done(pipeline, &pipeline->datagrams[i]);
		if (record->captured >= record->payload_len) {
			struct am_task task;

			task_of_packet(pipeline, record->pid, record->cgroup_id, &task);
			handle_dns(pipeline, &task, record->data, record->captured,
				   record->header.time_ns);
			return;
		}
		if (!free_slot) {
			datagram_done(pipeline, oldest);
			free_slot = oldest;
		}
		d = free_slot;
		d->used = true;
		d->cookie = record->cookie;
		d->time_ns = record->header.time_ns;
		d->len = 0;
		d->total = record->payload_len < AM_DNS_UDP_CAPTURE ? record->payload_len
								     : AM_DNS_UDP_CAPTURE;
		task_of_packet(pipeline, record->pid, record->cgroup_id, &d->task);
	}
	if (!d || record->seq != d->len || d->len + record->captured > sizeof(d->data))
		return; /* a part whose start was not seen: nothing to put it after */
	memcpy(d->data + d->len, record->data, record->captured);
	d->len += record->captured;
	if (d->len >= d->total)
		datagram_done(pipeline, d);
}

/*
 * A packet to IMDS or WireServer outside a socket the connect hooks marked (raw,
 * ICMP, UDP, a port nothing captures): reported as a contact of its own.
 */
static void handle_packet(struct pipeline *pipeline, const struct am_payload_record *record)
{
	struct am_connect_record dst = {0};
	struct event_view view = {0};
	struct naming naming;

	dst.header = record->header;
	task_of_packet(pipeline, record->pid, record->cgroup_id, &dst.task);
	dst.family = record->family;
	dst.protocol = record->protocol;
	dst.port = record->dport;
	dst.cookie = record->cookie;
	memcpy(dst.addr, record->daddr, sizeof(dst.addr));
	name_destination(pipeline, &dst, false, &naming);
	view.kind = VIEW_PACKET;
	view.dst = &dst;
	view.naming = &naming;
	view.packet = record;
	emit_view(pipeline, &view, &dst.task, record->header.time_ns);
}

static void handle_payload(struct pipeline *pipeline, const struct am_payload_record *record)
{
	if (record->captured > AM_PAYLOAD_LEN) {
		pipeline->stats.malformed++;
		return;
	}
	switch (record->kind) {
	case AM_PAYLOAD_DNS_UDP:
		dns_udp_payload(pipeline, record);
		break;
	case AM_PAYLOAD_PACKET:
		handle_packet(pipeline, record);
		break;
	default:
		flow_table_payload(pipeline->flows, record);
	}
}

/* A raw or packet socket a process made. */
static void handle_socket(struct pipeline *pipeline, const struct am_socket_record *record)
{
	struct event_view view = {0};

	view.kind = VIEW_SOCKET;
	view.socket = record;
	emit_view(pipeline, &view, &record->task, record->header.time_ns);
}

static void on_flow_http(void *ctx, const struct flow *flow, const struct flow_request *request,
			 uint64_t time_ns)
{
	struct pipeline *pipeline = ctx;
	struct event_view view = {0};

	view.kind = VIEW_HTTP;
	view.dst = &flow->connect;
	view.naming = &flow->naming;
	view.http = request->request;
	view.http_status = request->status;
	view.http_error = request->error;
	view.http_outcome = request->outcome;
	view.http_none = !request->request && !request->error;
	emit_view(pipeline, &view, &flow->connect.task, time_ns);
}

/*
 * Request bytes of a connection never seen connecting: its holder, as found at
 * start, names the process (and the connection was reported then); without one it
 * is reported now, with its pod and no process.
 */
static void on_flow_late(void *ctx, struct am_connect_record *connect, struct naming *naming)
{
	struct pipeline *pipeline = ctx;
	size_t i;

	for (i = 0; i < pipeline->n_existing; i++) {
		struct am_connect_record *held = &pipeline->existing[i];

		if (held->task.cgroup_id != connect->task.cgroup_id ||
		    held->sport != connect->sport || held->port != connect->port ||
		    memcmp(held->addr, connect->addr, 4))
			continue;
		connect->task = held->task;
		/* Forgotten: the last entry takes its place. */
		*held = pipeline->existing[--pipeline->n_existing];
		pipeline->next_existing = pipeline->n_existing % PIPELINE_EXISTING_MAX;
		name_destination(pipeline, connect, true, naming);
		return;
	}
	name_destination(pipeline, connect, true, naming);
	emit_connect(pipeline, connect, naming);
}

static void on_flow_released(void *ctx, struct flow *flow)
{
	emit_connect(ctx, &flow->connect, &flow->naming);
}

static void on_flow_fallback(void *ctx, struct flow *flow)
{
	name_by_service_tag(ctx, &flow->connect, &flow->naming);
}

static void on_flow_dns(void *ctx, const struct flow *flow, const uint8_t *message, size_t len,
			uint64_t time_ns)
{
	handle_dns(ctx, &flow->connect.task, message, len, time_ns);
}

int pipeline_record(struct pipeline *pipeline, const void *data, size_t size)
{
	const struct am_record_header *header = data;
	size_t expected;

	if (size < sizeof(*header)) {
		pipeline->stats.malformed++;
		return -EINVAL;
	}
	expected = record_size_of(header->type);
	if (!expected || header->size != expected || size < expected) {
		pipeline->stats.malformed++;
		return -EINVAL;
	}
	pipeline->stats.records[header->type]++;

	/* Waiting requests and connects are reported by the records' clock, not the wall's. */
	if (header->time_ns > pipeline->last_advance_ns + FLOW_ADVANCE_INTERVAL_NS) {
		flow_table_advance(pipeline->flows, header->time_ns);
		pipeline->last_advance_ns = header->time_ns;
	}
	switch (header->type) {
	case AM_REC_CONNECT:
	case AM_REC_SEND:
		handle_connect(pipeline, data);
		break;
	case AM_REC_OPEN:
		handle_open(pipeline, data);
		break;
	case AM_REC_CONNECT_REPEAT:
		handle_repeat(pipeline, data);
		break;
	case AM_REC_PAYLOAD:
		handle_payload(pipeline, data);
		break;
	case AM_REC_FLOW_CLOSE:
		flow_table_close(pipeline->flows, ((const struct am_flow_close_record *)data)->cookie,
				 header->time_ns);
		break;
	case AM_REC_FLOW_STATE:
		flow_table_state(pipeline->flows, data);
		break;
	case AM_REC_SOCKET:
		handle_socket(pipeline, data);
		break;
	case AM_REC_CGROUP_MKDIR:
	case AM_REC_CGROUP_RMDIR:
		handle_cgroup_record(pipeline, data);
		break;
	case AM_REC_EXEC:
		process_cache_exec(pipeline->state.processes, data);
		break;
	case AM_REC_FORK:
		process_cache_fork(pipeline->state.processes, data);
		break;
	case AM_REC_EXIT:
		process_cache_exit(pipeline->state.processes,
				   ((const struct am_exit_record *)data)->pid, header->time_ns);
		break;
	}
	/* Forget removed cgroups and exited processes past their grace, once a second. */
	if (header->time_ns - pipeline->last_expire_ns > 1000000000ull) {
		cgroup_cache_expire(pipeline->state.cgroups, header->time_ns,
				    pipeline->config.cgroup_grace_ns);
		process_cache_expire(pipeline->state.processes, header->time_ns,
				     PIPELINE_PROCESS_GRACE_NS);
		pipeline->last_expire_ns = header->time_ns;
	}
	return 0;
}

void pipeline_events_lost(struct pipeline *pipeline, uint64_t boot_ns, uint64_t lost,
			  uint64_t lost_total)
{
	if (pipeline->rules)
		rules_on_loss(pipeline->rules, boot_ns + (uint64_t)pipeline->config.boot_to_wall_ns,
			      lost, lost_total);
	jsonw_reset(&pipeline->line);
	output_events_lost(&pipeline->line, pipeline->config.format,
			   boot_ns + (uint64_t)pipeline->config.boot_to_wall_ns, lost, lost_total);
	write_out(pipeline, &pipeline->line, LINE_LOSS, SEVERITY_NONE);
}

void pipeline_monitor_degraded(struct pipeline *pipeline, uint64_t boot_ns,
			       const struct degraded_notice *notice)
{
	uint64_t time_ns = boot_ns + (uint64_t)pipeline->config.boot_to_wall_ns;
	uint64_t since_ns = notice->since_ns + (uint64_t)pipeline->config.boot_to_wall_ns;

	if (pipeline->rules && !notice->restored)
		rules_on_degraded(pipeline->rules, time_ns, notice, since_ns);
	jsonw_reset(&pipeline->line);
	output_monitor_degraded(&pipeline->line, pipeline->config.format, time_ns, notice, since_ns);
	write_out(pipeline, &pipeline->line, LINE_LOSS, SEVERITY_NONE);
}

void pipeline_trace_lost(struct pipeline *pipeline, uint64_t boot_ns, const char *reason,
			 uint64_t lost, uint64_t lost_total)
{
	jsonw_reset(&pipeline->line);
	output_trace_lost(&pipeline->line, pipeline->config.format,
			  boot_ns + (uint64_t)pipeline->config.boot_to_wall_ns, reason, lost,
			  lost_total);
	write_out(pipeline, &pipeline->line, LINE_LOSS, SEVERITY_NONE);
}

void pipeline_sink_lost(struct pipeline *pipeline, uint64_t boot_ns, const char *sink,
			const char *reason, uint64_t lost, uint64_t lost_total)
{
	jsonw_reset(&pipeline->line);
	output_sink_lost(&pipeline->line, pipeline->config.format,
			 boot_ns + (uint64_t)pipeline->config.boot_to_wall_ns, sink, reason, lost,
			 lost_total);
	write_out(pipeline, &pipeline->line, LINE_LOSS, SEVERITY_NONE);
}

void pipeline_set_sinks(struct pipeline *pipeline, struct sinks *sinks)
{
	pipeline->sinks = sinks;
}

void pipeline_set_events(struct pipeline *pipeline, bool events)
{
	pipeline->config.events = events;
}

const struct rules_stats *pipeline_rules_stats(const struct pipeline *pipeline)
{
	return pipeline->rules ? rules_stats(pipeline->rules) : NULL;
}

void pipeline_finish(struct pipeline *pipeline)
{
	flow_table_finish(pipeline->flows);
	if (pipeline->rules)
		rules_finish(pipeline->rules);
}

void pipeline_set_service_tags(struct pipeline *pipeline, const struct service_tags *tags)
{
	pipeline->state.service_tags = tags;
}

void pipeline_set_rules_context(struct pipeline *pipeline, const struct rules_context *context)
{
	if (pipeline->rules)
		rules_set_context(pipeline->rules, context);
}

int pipeline_flush(struct pipeline *pipeline)
{
	if (pipeline->sinks) {
		sinks_publish(pipeline->sinks);
		return 0;
	}
	if (fflush(pipeline->out) != 0)
		return -errno;
	return 0;
}

const struct pipeline_stats *pipeline_stats(const struct pipeline *pipeline)
{
	return &pipeline->stats;
}
