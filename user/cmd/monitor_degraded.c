// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * What the monitor keeps and what it cannot see: the capabilities it holds on to
 * once attached, what the kernel could not give the probes, and each notice of
 * blindness, said in the stream, the trace and on standard error.
 */
#include <linux/capability.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cmd/monitor_private.h"
#include "event/degraded.h"
#include "kernel/capabilities.h"
#include "kernel/kernel_features.h"
#include "kernel/probes.h"
#include "lib/clock.h"
#include "pipeline/pipeline.h"
#include "source/live.h"

static int map_access(void *ctx)
{
	return probes_map_access(ctx);
}

/*
 * What the monitor keeps once attached: CAP_DAC_READ_SEARCH to read the node's
 * files and, only where this kernel's bpf(2) refuses map reads and writes to a
 * caller without it, what it takes. Before Linux 5.19, while
 * kernel.unprivileged_bpf_disabled is set (Ubuntu's default is 2), every bpf(2)
 * command needs CAP_BPF (or CAP_SYS_ADMIN), not only loading; since then only
 * creating maps and loading programs does. Found by trying the maps on a thread
 * holding only what would be kept, not by the kernel's version.
 */
uint64_t monitor_capabilities_to_keep(struct monitor *monitor, char *why, size_t len)
{
	static const int extra[] = {CAP_BPF, CAP_SYS_ADMIN};
	uint64_t keep = CAPABILITY_BIT(CAP_DAC_READ_SEARCH);
	int sysctl = probes_features(monitor->probes)->unprivileged_bpf_disabled;
	int rc = capabilities_try_with(keep, map_access, monitor->probes);
	size_t i;

	snprintf(why, len, "CAP_DAC_READ_SEARCH to read the node's files");
	if (rc == 0)
		return keep;
	for (i = 0; i < sizeof(extra) / sizeof(extra[0]); i++) {
		if (capabilities_try_with(keep | CAPABILITY_BIT(extra[i]), map_access,
					  monitor->probes) != 0)
			continue;
		snprintf(why, len,
			 "CAP_DAC_READ_SEARCH to read the node's files and %s: this kernel's "
			 "bpf(2) refuses the monitor's map reads and writes without it (%s, "
			 "kernel.unprivileged_bpf_disabled=%d)",
			 capability_name(extra[i]), strerror(-rc), sysctl);
		return keep | CAPABILITY_BIT(extra[i]);
	}
	snprintf(why, len,
		 "CAP_DAC_READ_SEARCH to read the node's files and CAP_BPF: the maps could not be "
		 "used without it (%s), nor with it",
		 strerror(-rc));
	return keep | CAPABILITY_BIT(CAP_BPF);
}

/* Everything the kernel could not give the probes, one condition per detection. */
void monitor_degraded_from_probes(struct monitor *monitor, uint64_t now_ns)
{
	char reasons[DETECTION_COUNT][DEGRADED_REASON_LEN] = {{0}};
	const struct probes_loss *losses;
	size_t n = probes_losses(monitor->probes, &losses), i;
	int d;

	for (i = 0; i < n; i++) {
		char *reason = reasons[losses[i].detection];
		size_t used = strlen(reason);

		snprintf(reason + used, DEGRADED_REASON_LEN - used, "%s%s: %s", used ? "; " : "",
			 losses[i].what, losses[i].reason);
	}
	for (d = 0; d < DETECTION_COUNT; d++)
		if (reasons[d][0])
			degraded_set(monitor->degraded, (enum detection)d, DEGRADED_PROBES, reasons[d],
				     now_ns);
}

static const char *yes_no(bool yes)
{
	return yes ? "yes" : "no";
}

/* Says once on standard error what the kernel gave. */
void monitor_say_kernel(struct monitor *monitor)
{
	const struct kernel_features *features = probes_features(monitor->probes);
	size_t attached, needed;

	probes_counts(monitor->probes, &attached, &needed);
	fprintf(stderr, "accessmon: kernel %s: %zu of the %zu probes it needs attached\n",
		features->release, attached, needed);
	fprintf(stderr,
		"accessmon: kernel %s offers: socket storage %s (in connect hooks %s, in packet "
		"hooks %s), LRU hash maps %s, tracepoint programs %s with bpf_task_pt_regs %s, "
		"the current task in connect hooks %s, io_uring %s (io_uring_complete: %s form), BPF "
		"memory charged to RLIMIT_MEMLOCK %s; tracing programs checked by loading them\n",
		features->release, yes_no(features->sk_storage),
		yes_no(features->sock_addr_sk_storage), yes_no(features->skb_sk_storage),
		yes_no(features->lru_hash), yes_no(features->tracepoint_programs),
		yes_no(features->tracepoint_task_pt_regs), yes_no(features->sock_addr_current_task),
		yes_no(features->io_uring), io_uring_form_name(features->io_uring_form),
		yes_no(features->memlock_charged));
	if (!features->io_uring)
		fprintf(stderr, "accessmon: io_uring opens need no watching: %s\n",
			features->io_uring_absent_why);
	/* What is blind follows at once, as the monitor-degraded records say it (on_degraded). */
}

/* One notice of what the monitor cannot see: in the stream, the trace, and stderr. */
void monitor_on_degraded(void *ctx, const struct degraded_notice *notice)
{
	struct monitor *monitor = ctx;
	uint64_t now_ns = clock_ns(CLOCK_BOOTTIME);

	pipeline_monitor_degraded(monitor->pipeline, now_ns, notice);
	fprintf(stderr, "accessmon: %s [%s, %s] %s: %s\n",
		notice->restored ? "SEES AGAIN" : "BLIND", detection_name(notice->detection),
		degraded_cause_name(notice->cause), detection_sees(notice->detection), notice->reason);
	live_source_degraded(monitor->source, now_ns, notice);
}
