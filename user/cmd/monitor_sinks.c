// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* The monitor's sinks: which ones, started for the pipeline, and what they dropped. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/utsname.h>

#include "cmd/monitor_private.h"
#include "pipeline/pipeline.h"
#include "sinks/sinks.h"

const struct sink_spec *monitor_sink_specs(struct monitor *monitor, size_t *n)
{
	if (monitor->options.n_sinks) {
		*n = monitor->options.n_sinks;
		return monitor->options.sinks;
	}
	*n = 1;
	return &monitor->stdout_spec;
}

static const char *node_name(void)
{
	static struct utsname uts;
	const char *name = getenv("NODE_NAME");

	if (name && *name)
		return name;
	uname(&uts);
	return uts.nodename;
}

int monitor_start_sinks(struct monitor *monitor)
{
	const struct sink_spec *specs;
	struct am_error err;
	size_t n;

	if (sink_spec_parse("stdout", &monitor->stdout_spec, &err)) {
		fprintf(stderr, "accessmon: %s\n", err.msg);
		return -ENOMEM;
	}
	specs = monitor_sink_specs(monitor, &n);
	monitor->sinks = sinks_start(specs, n, node_name(), &err);
	if (!monitor->sinks) {
		fprintf(stderr, "accessmon: %s\n", err.msg);
		return -EINVAL;
	}
	pipeline_set_sinks(monitor->pipeline, monitor->sinks);
	return 0;
}

/*
 * Lines a sink could not take: said on every sink (its own too, once it
 * recovers), the first at once, then at most every SINK_LOSS_INTERVAL_NS while
 * it goes on (min_interval_ns 0 at exit: everything still unsaid).
 */
void monitor_report_sink_drops(struct monitor *monitor, uint64_t now_ns, uint64_t min_interval_ns)
{
	uint64_t dropped, total;
	const char *name;
	char reason[256];

	while (sinks_take_drops(monitor->sinks, now_ns, min_interval_ns, &dropped, &total, &name,
				reason, sizeof(reason)) >= 0) {
		fprintf(stderr, "accessmon: sink %s dropped %llu lines (%s), %llu in all\n", name,
			(unsigned long long)dropped, reason, (unsigned long long)total);
		pipeline_sink_lost(monitor->pipeline, now_ns, name, reason, dropped, total);
	}
}
