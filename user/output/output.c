// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * Records for people and machines (see output.h): an event's frame, its time and
 * kind around what subjects.c and json.c or text.c write, and the records the
 * monitor writes about itself: losses, and detections it is blind to.
 */
#include "output/output.h"

#include <inttypes.h>
#include <string.h>

#include "output/output_private.h"
#include "event/degraded.h"

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

void output_event(struct jsonw *w, enum output_format format, const struct event_view *view)
{
	char time_text[RFC3339_LEN];

	format_rfc3339(view->time_ns, time_text);
	if (format == OUTPUT_TEXT) {
		textw_printf(w, "%s %-7s", time_text, view_kind_name(view));
		output_subject_text(w, view);
		output_text_details(w, view);
		return;
	}

	jsonw_object_begin(w);
	jsonw_member_string(w, "type", view_kind_name(view));
	jsonw_member_string(w, "time", time_text);
	output_subject_json(w, view);
	output_json_details(w, view);
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
