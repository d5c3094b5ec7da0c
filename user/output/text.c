// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* What each kind of record says on its text line, after who did it. */
#include "output/output_private.h"

#include <inttypes.h>
#include <string.h>

#include "attribute/pods.h"
#include "attribute/watch.h"
#include "name/flows.h"
#include "parse/dns.h"
#include "parse/http.h"

static void text_socket(struct jsonw *w, const struct am_socket_record *socket)
{
	textw_printf(w, " %s %s protocol=%u result=%d via=%s", socket_family_name(socket->family),
		     socket_type_name(socket->type), socket->protocol, socket->result,
		     output_socket_via(socket));
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
	textw_printf(w, " %s result=%" PRId64, output_access_mode(record->flags),
		     (int64_t)record->result);
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

/* What a record says after its subject: where it went, what it asked, read or made. */
void output_text_details(struct jsonw *w, const struct event_view *view)
{
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
}
