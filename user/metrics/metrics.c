// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* Prometheus text rendering of the monitor's numbers; see metrics.h. */
#include "metrics/metrics.h"

#include <inttypes.h>
#include <string.h>

#include "detect/policy.h"
#include "event/records.h"

static const char *const kernel_counter_names[AM_CNT_MAX] = {
	[AM_CNT_RINGBUF_FULL] = "accessmon_events_lost_total",
	[AM_CNT_OPEN_PATH_FAULT] = "accessmon_open_path_unread_total",
	[AM_CNT_PAYLOAD_CUT] = "accessmon_payload_bytes_not_captured_total",
	[AM_CNT_FLOW_STORAGE] = "accessmon_flow_storage_failures_total",
	[AM_CNT_REPEAT_FULL] = "accessmon_repeat_map_full_total",
	[AM_CNT_CAPTURE_BUDGET] = "accessmon_capture_budget_bytes_total",
	[AM_CNT_IA32_UNDECODED] = "accessmon_ia32_calls_undecoded_total",
};

static const char *const kernel_counter_help[AM_CNT_MAX] = {
	[AM_CNT_RINGBUF_FULL] = "Records the kernel could not deliver: the ring buffer was full.",
	[AM_CNT_OPEN_PATH_FAULT] = "Open records sent without the opener's path (page fault).",
	[AM_CNT_PAYLOAD_CUT] = "Payload bytes past a record's or a connection's capture limit.",
	[AM_CNT_FLOW_STORAGE] = "Sockets that could not get capture state.",
	[AM_CNT_REPEAT_FULL] = "Connects and sends reported one by one: the repeat map was full.",
	[AM_CNT_CAPTURE_BUDGET] = "Payload bytes not captured: their pod's budget was spent.",
	[AM_CNT_IA32_UNDECODED] = "32-bit (ia32) open_tree and pidfd_getfd calls: not decoded.",
};

static void family(struct jsonw *out, const char *name, const char *type, const char *help)
{
	textw_printf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* A label value: backslash, double quote and newline escaped. */
static void label_value(struct jsonw *out, const char *value)
{
	char one[2] = {0};

	for (; *value; value++) {
		if (*value == '\\' || *value == '"')
			textw_printf(out, "\\%c", *value);
		else if (*value == '\n')
			textw_raw(out, "\\n");
		else {
			one[0] = *value;
			textw_raw(out, one);
		}
	}
}

static void gauge(struct jsonw *out, const char *name, const char *help, uint64_t value)
{
	family(out, name, "gauge", help);
	textw_printf(out, "%s %" PRIu64 "\n", name, value);
}

static void counter(struct jsonw *out, const char *name, const char *help, uint64_t value)
{
	family(out, name, "counter", help);
	textw_printf(out, "%s %" PRIu64 "\n", name, value);
}

static void render_sinks(const struct metrics_snapshot *s, struct jsonw *out)
{
	static const struct {
		const char *name, *type, *help;
	} families[] = {
		{"accessmon_sink_queue_lines", "gauge", "Lines waiting in a sink's queue."},
		{"accessmon_sink_queue_bytes", "gauge", "Bytes waiting in a sink's queue."},
		{"accessmon_sink_written_lines_total", "counter", "Lines a sink delivered."},
		{"accessmon_sink_dropped_lines_total", "counter",
		 "Lines a sink dropped: its queue was full, or the receiver refused them."},
		{"accessmon_sink_failures_total", "counter",
		 "Failed writes, sends or POSTs of a sink (each retried)."},
		{"accessmon_sink_up", "gauge", "1 when the sink's last delivery worked."},
	};
	size_t f, i;

	for (f = 0; f < sizeof(families) / sizeof(families[0]); f++) {
		family(out, families[f].name, families[f].type, families[f].help);
		for (i = 0; i < s->n_sinks; i++) {
			const struct sink_stats *sink = &s->sinks[i];
			uint64_t values[] = {sink->queued_lines,  sink->queued_bytes,
					     sink->written_lines, sink->dropped_lines,
					     sink->failures,	  sink->up};

			textw_printf(out, "%s{sink=\"", families[f].name);
			label_value(out, sink->name);
			textw_printf(out, "\",kind=\"%s\"} %" PRIu64 "\n", sink->kind, values[f]);
		}
	}
}

void metrics_render(const struct metrics_snapshot *s, struct jsonw *out)
{
	size_t i;
	int rule, severity;

	family(out, "accessmon_build_info", "gauge", "The monitor's version.");
	textw_raw(out, "accessmon_build_info{version=\"");
	label_value(out, s->version ? s->version : "unknown");
	textw_raw(out, "\"} 1\n");
	gauge(out, "accessmon_start_time_seconds", "When the monitor started (Unix time).",
	      s->start_time_s);
	gauge(out, "accessmon_ready", "1 once the probes are attached and the inventory loaded.",
	      s->ready);

	family(out, "accessmon_records_total", "counter",
	       "Records read from the kernel, by type.");
	for (i = 1; i < AM_REC_TYPE_MAX; i++)
		textw_printf(out, "accessmon_records_total{type=\"%s\"} %" PRIu64 "\n",
			     record_type_name((uint16_t)i), s->records[i]);
	counter(out, "accessmon_records_malformed_total", "Records too short for their type.",
		s->malformed);
	counter(out, "accessmon_connect_repeats_total",
		"Connects and sends the kernel counted instead of reporting them one by one "
		"(the sum of the connect-repeat records' counts).",
		s->repeats);
	counter(out, "accessmon_lines_written_total", "Lines handed to the sinks.",
		s->lines_written);
	for (i = 0; i < AM_CNT_MAX; i++)
		counter(out, kernel_counter_names[i], kernel_counter_help[i], s->kernel_counters[i]);
	if (s->ring_used_bytes >= 0)
		gauge(out, "accessmon_ringbuf_used_bytes",
		      "Bytes in the kernel ring buffer not yet read.", (uint64_t)s->ring_used_bytes);
	gauge(out, "accessmon_ringbuf_size_bytes", "The kernel ring buffer's size.",
	      s->ring_size_bytes);

	if (s->detection) {
		family(out, "accessmon_alerts_total", "counter",
		       "Alert lines written, by rule and severity (a folded repeat is one line).");
		for (rule = 0; rule < rule_count(); rule++)
			for (severity = SEVERITY_LOW; severity <= SEVERITY_CRITICAL; severity++)
				if (s->alerts.written[rule][severity])
					textw_printf(out,
						     "accessmon_alerts_total{rule=\"%s\","
						     "severity=\"%s\"} %" PRIu64 "\n",
						     rule_name(rule), severity_name(severity),
						     s->alerts.written[rule][severity]);
		counter(out, "accessmon_alerts_allowed_total",
			"Events a rule matched that the policy allows.", s->alerts.allowed);
	}
	render_sinks(s, out);

	family(out, "accessmon_detection_blind", "gauge",
	       "1 while the monitor cannot see what the detection sees (a monitor-degraded "
	       "record says why).");
	for (i = 0; i < DETECTION_COUNT; i++)
		textw_printf(out, "accessmon_detection_blind{detection=\"%s\"} %d\n",
			     detection_name((enum detection)i), s->blind[i] ? 1 : 0);
	gauge(out, "accessmon_probes_attached", "BPF programs attached.", s->probes_attached);
	gauge(out, "accessmon_probes_needed",
	      "BPF programs this kernel needs (fewer attached: some detection is blind).",
	      s->probes_needed);
	family(out, "accessmon_capability_kept", "gauge",
	       "1 for each capability the monitor kept once its probes were attached.");
	for (i = 0; i < s->n_kept; i++)
		textw_printf(out, "accessmon_capability_kept{capability=\"%s\"} 1\n",
			     s->kept[i]);

	gauge(out, "accessmon_pods", "Pods the inventory knows.", s->pods);
	gauge(out, "accessmon_processes", "Processes in the process cache.", s->processes);
	gauge(out, "accessmon_cgroups", "Cgroups in the cgroup cache.", s->cgroups);
	gauge(out, "accessmon_heap_bytes",
	      "Bytes the monitor's allocator has handed out and not taken back.", s->heap_bytes);
	gauge(out, "accessmon_watched_secrets", "Files and directories in the watch set.",
	      s->watches);
	if (s->recording)
		counter(out, "accessmon_trace_lost_total",
			"Trace entries the recorder could not write.", s->trace_lost);
	family(out, "accessmon_config_reloads_total", "counter", "SIGHUP reloads, by result.");
	textw_printf(out,
		     "accessmon_config_reloads_total{result=\"ok\"} %" PRIu64 "\n"
		     "accessmon_config_reloads_total{result=\"failed\"} %" PRIu64 "\n",
		     s->reloads_ok, s->reloads_failed);

	gauge(out, "accessmon_bpf_stats_enabled",
	      "1 when the kernel counts BPF program runs (kernel.bpf_stats_enabled).",
	      s->program_stats_enabled);
	family(out, "accessmon_bpf_program_runs_total", "counter",
	       "Times each BPF program ran (0 while the kernel does not count).");
	for (i = 0; i < s->n_programs; i++)
		textw_printf(out, "accessmon_bpf_program_runs_total{program=\"%s\"} %" PRIu64 "\n",
			     s->programs[i].name, s->programs[i].run_count);
	family(out, "accessmon_bpf_program_run_seconds_total", "counter",
	       "Time spent in each BPF program.");
	for (i = 0; i < s->n_programs; i++)
		textw_printf(out, "accessmon_bpf_program_run_seconds_total{program=\"%s\"} %.9f\n",
			     s->programs[i].name, (double)s->programs[i].run_time_ns / 1e9);
}
