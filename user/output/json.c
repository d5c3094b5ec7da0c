// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * What each kind of record says, as JSON members: where it went (dst), what it
 * asked (http, imds), what it read (dns, file), what it sent or made (packet,
 * socket), how often (repeats). docs/RECORDS.md, "Event records", documents them.
 */
#include "output/output_private.h"

#include <stdio.h>
#include <string.h>

#include "attribute/pods.h"
#include "attribute/watch.h"
#include "name/flows.h"
#include "name/service_tags.h"
#include "parse/dns.h"
#include "parse/http.h"

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

static void json_socket(struct jsonw *w, const struct am_socket_record *socket)
{
	jsonw_key(w, "socket");
	jsonw_object_begin(w);
	jsonw_member_string(w, "family", socket_family_name(socket->family));
	jsonw_member_string(w, "type", socket_type_name(socket->type));
	jsonw_member_uint(w, "protocol", socket->protocol);
	jsonw_member_int(w, "result", socket->result);
	jsonw_member_string(w, "via", output_socket_via(socket));
	jsonw_object_end(w);
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
	jsonw_member_string(w, "access", output_access_mode(record->flags));
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

/* The members of a record after its subject: dst, http, file, dns, packet, socket. */
void output_json_details(struct jsonw *w, const struct event_view *view)
{
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
}
