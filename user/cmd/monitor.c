// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * `accessmon monitor`: checks the host, loads the inventory and watch set,
 * opens the live source (the probes) and turns the loop that feeds it into the
 * pipeline until SIGINT or SIGTERM, keeping the pod inventory current and
 * reporting every record the kernel could not deliver as it happens. Its other
 * jobs are in cmd/monitor_*.c, around the state in cmd/monitor_private.h.
 */
#include "cmd/monitor.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "attribute/cgroups.h"
#include "attribute/inventory.h"
#include "attribute/pods.h"
#include "attribute/processes.h"
#include "attribute/watch.h"
#include "cmd/monitor_private.h"
#include "event/degraded.h"
#include "detect/identities.h"
#include "detect/policy.h"
#include "kernel/capabilities.h"
#include "kernel/probes.h"
#include "lib/clock.h"
#include "lib/hostfs.h"
#include "name/dns_cache.h"
#include "name/service_tags.h"
#include "metrics/httpd.h"
#include "output/output.h"
#include "pipeline/pipeline.h"
#include "sinks/sinks.h"
#include "source/live.h"
#include "trace/trace.h"

#define POLL_INTERVAL_MS 100
/* Readiness waits this long for the kubelet's first answer, when one is configured. */
#define KUBELET_FIRST_ANSWER_WAIT_MS 3000
#define CGROUP_CACHE_CAPACITY 65536
#define PROCESS_CACHE_CAPACITY 32768
#define DNS_CACHE_CAPACITY 65536
/* The node's secrets are discovered again this often. */
#define DISCOVERY_INTERVAL_NS (1000ull * 1000000ull)
/* /metrics is rendered this often. */
#define METRICS_INTERVAL_NS (1000ull * 1000000ull)

static volatile sig_atomic_t stop_requested;
static volatile sig_atomic_t reload_requested;

static void on_stop_signal(int signo)
{
	(void)signo;
	stop_requested = 1;
}

static void on_reload_signal(int signo)
{
	(void)signo;
	reload_requested = 1;
}

static void report(void *ctx, const char *message)
{
	(void)ctx;
	fprintf(stderr, "accessmon: %s\n", message);
}

static int start_recording(struct monitor *monitor, int64_t boot_to_wall_ns)
{
	struct am_error err;
	struct utsname uts;
	struct jsonw header;
	char started[RFC3339_LEN];
	size_t i;
	int rc;

	uname(&uts);
	format_rfc3339(clock_ns(CLOCK_REALTIME), started);
	jsonw_init(&header);
	jsonw_object_begin(&header);
	jsonw_member_uint(&header, "format", TRACE_VERSION);
	jsonw_member_string(&header, "node", uts.nodename);
	jsonw_member_string(&header, "kernel", uts.release);
	{
		char offset[24], boot_time[RFC3339_LEN];

		/* A string: JSON numbers are doubles, and this needs all 64 bits. */
		snprintf(offset, sizeof(offset), "%lld", (long long)boot_to_wall_ns);
		jsonw_member_string(&header, "boot_to_wall_ns", offset);
		format_rfc3339((uint64_t)boot_to_wall_ns, boot_time);
		jsonw_member_string(&header, "boot_time", boot_time);
	}
	jsonw_member_string(&header, "started", started);
	jsonw_member_string(&header, "monitor_version", ACCESSMON_VERSION);
	jsonw_key(&header, "options");
	jsonw_object_begin(&header);
	jsonw_key(&header, "events");
	jsonw_bool(&header, monitor->options.events);
	jsonw_member_string(&header, "host_root", monitor->options.sources.host_root);
	jsonw_member_string(&header, "identities", monitor->options.identities_dir);
	jsonw_member_string(&header, "policy", monitor->options.policy_file);
	jsonw_member_string(&header, "service_tags", monitor->options.service_tags_file);
	jsonw_member_uint(&header, "repeat_window_s", monitor->options.repeat_window_s);
	jsonw_member_uint(&header, "pod_grace_s", monitor->options.pod_grace_s);
	jsonw_key(&header, "watch");
	jsonw_array_begin(&header);
	for (i = 0; i < monitor->options.n_watch_paths; i++)
		jsonw_string(&header, monitor->options.watch_paths[i]);
	jsonw_array_end(&header);
	jsonw_object_end(&header);
	jsonw_object_end(&header);
	rc = live_source_record(monitor->source, monitor->options.record_file,
				monitor->options.record_max_size, monitor->options.record_keep,
				header.buf, &err);
	jsonw_release(&header);
	if (rc)
		fprintf(stderr, "accessmon: %s\n", err.msg);
	return rc;
}

static int write_ready_file(const char *path)
{
	char pid[32];
	int fd, n;

	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd < 0)
		return -errno;
	n = snprintf(pid, sizeof(pid), "%d\n", getpid());
	if (write(fd, pid, (size_t)n) != n) {
		close(fd);
		return -EIO;
	}
	close(fd);
	return 0;
}

static int run(struct monitor *monitor)
{
	uint64_t now_ns;
	int rc = 0;

	while (!stop_requested) {
		rc = source_poll(monitor->source, POLL_INTERVAL_MS);
		if (rc < 0) {
			fprintf(stderr, "accessmon: reading the ring buffer failed: %s\n",
				strerror(-rc));
			break;
		}
		now_ns = clock_ns(CLOCK_BOOTTIME);
		if (reload_requested) {
			reload_requested = 0;
			monitor_reload(monitor, now_ns);
		}
		inventory_tick(monitor->inventory, now_ns);
		if (now_ns - monitor->last_discovery_ns >= DISCOVERY_INTERVAL_NS)
			monitor_refresh_watch_set(monitor, now_ns);
		live_source_tick(monitor->source, now_ns);
		live_source_report_trace_loss(monitor->source, now_ns, SINK_LOSS_INTERVAL_NS);
		monitor_report_sink_drops(monitor, now_ns, SINK_LOSS_INTERVAL_NS);
		degraded_report(monitor->degraded, now_ns, monitor_on_degraded, monitor);
		rc = pipeline_flush(monitor->pipeline);
		if (rc) {
			fprintf(stderr, "accessmon: writing records failed: %s\n", strerror(-rc));
			break;
		}
		if (monitor->httpd) {
			uint64_t beat = clock_ns(CLOCK_MONOTONIC);

			httpd_heartbeat(monitor->httpd, beat);
			if (beat - monitor->last_metrics_ns >= METRICS_INTERVAL_NS) {
				monitor_publish_metrics(monitor);
				monitor->last_metrics_ns = beat;
			}
		}
	}
	/* What the kernel already handed over or counted is still reported before exit. */
	source_drain(monitor->source);
	degraded_report(monitor->degraded, clock_ns(CLOCK_BOOTTIME), monitor_on_degraded, monitor);
	live_source_report_trace_loss(monitor->source, clock_ns(CLOCK_BOOTTIME), 0);
	pipeline_finish(monitor->pipeline);
	monitor_report_sink_drops(monitor, clock_ns(CLOCK_BOOTTIME), 0);
	pipeline_flush(monitor->pipeline);
	return rc < 0 ? 1 : 0;
}

static void install_signals(void)
{
	struct sigaction action = {0};

	action.sa_handler = on_stop_signal;
	sigemptyset(&action.sa_mask);
	sigaction(SIGINT, &action, NULL);
	sigaction(SIGTERM, &action, NULL);
	action.sa_handler = on_reload_signal;
	sigaction(SIGHUP, &action, NULL);
	action.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &action, NULL);
}

static struct inventory *inventory_from_options(const struct inventory_sources *sources,
						unsigned int pod_grace_s,
						struct pod_inventory *pods)
{
	struct inventory_config config = {
		.sources = *sources,
		.pod_grace_ns = pod_grace_s * 1000000000ull,
	};

	return inventory_new(&config, pods, report, NULL);
}

int monitor_main(int argc, char **argv)
{
	struct monitor monitor = {0};
	struct pipeline_config pipeline_config = {0};
	struct pipeline_state state = {0};
	struct live_source_config source_config = {0};
	struct am_error err = {{0}};
	char dropped[768] = "", keep_why[384];
	int status = 1, rc;
	uint64_t keep;

	if (monitor_options_parse(argc, argv, &monitor.options, &err)) {
		fprintf(stderr, "accessmon monitor: %s; see 'accessmon monitor --help'\n", err.msg);
		monitor_options_release(&monitor.options);
		return 2;
	}
	if (monitor.options.help) {
		monitor_usage(stdout);
		monitor_options_release(&monitor.options);
		return 0;
	}
	monitor.argc = argc;
	monitor.argv = argv;
	monitor.start_time_s = clock_ns(CLOCK_REALTIME) / 1000000000ull;
	jsonw_init(&monitor.metrics_text);
	install_signals();
	if (capabilities_check(report, NULL)) {
		monitor_options_release(&monitor.options);
		return 2;
	}
	monitor.degraded = degraded_new(monitor.options.degraded_interval_s * 1000000000ull);
	monitor.pods = pod_inventory_new();
	monitor.cgroups = cgroup_cache_new(CGROUP_CACHE_CAPACITY);
	monitor.processes = process_cache_new(PROCESS_CACHE_CAPACITY);
	monitor.dns = dns_cache_new(DNS_CACHE_CAPACITY);
	monitor.watches = watch_list_new(monitor.options.sources.host_root,
					 AM_WATCH_MAX_FILES + AM_WATCH_MAX_DIRS);
	monitor.proc_dir = host_path(monitor.options.sources.host_root
					     ? monitor.options.sources.host_root
					     : "/",
				     "/proc");
	monitor.inventory = inventory_from_options(&monitor.options.sources,
						   monitor.options.pod_grace_s, monitor.pods);
	if (!monitor.degraded || !monitor.pods || !monitor.cgroups || !monitor.processes ||
	    !monitor.watches ||
	    !monitor.dns ||
	    !monitor.proc_dir || !monitor.inventory) {
		fprintf(stderr, "accessmon: out of memory\n");
		goto free_state;
	}
	if (monitor_find_cgroup_root(&monitor))
		goto free_state;
	if (monitor_check_watch_paths(&monitor)) {
		status = 2;
		goto free_state;
	}
	if (monitor.options.service_tags_file) {
		monitor.service_tags = service_tags_load(monitor.options.service_tags_file, &err);
		if (!monitor.service_tags) {
			fprintf(stderr, "accessmon: --service-tags %s\n", err.msg);
			status = 2;
			goto free_state;
		}
		fprintf(stderr, "accessmon: service tags: %zu prefixes in %zu tags from %s\n",
			service_tags_prefix_count(monitor.service_tags),
			service_tags_tag_count(monitor.service_tags),
			monitor.options.service_tags_file);
	}

	if (monitor_load_detection(&monitor, false)) {
		status = 2;
		goto free_state;
	}
	pipeline_config.events = monitor.options.events;
	pipeline_config.rules = &monitor.rules;
	pipeline_config.format = monitor.options.format;
	pipeline_config.boot_to_wall_ns =
		(int64_t)(clock_ns(CLOCK_REALTIME) - clock_ns(CLOCK_BOOTTIME));
	pipeline_config.cgroup_grace_ns = monitor.options.pod_grace_s * 1000000000ull;
	state.cgroups = monitor.cgroups;
	state.processes = monitor.processes;
	state.pods = monitor.pods;
	state.watches = monitor.watches;
	state.dns = monitor.dns;
	state.service_tags = monitor.service_tags;
	monitor.pipeline = pipeline_new(&pipeline_config, &state, stdout);
	if (!monitor.pipeline) {
		fprintf(stderr, "accessmon: out of memory\n");
		goto free_state;
	}

	source_config.probes.cgroup_root = monitor.cgroup_root;
	source_config.probes.ringbuf_bytes = monitor.options.ringbuf_bytes;
	source_config.probes.repeat_window_ns = monitor.options.repeat_window_s * 1000000000ull;
	source_config.probes.open_hook = monitor.options.open_hook;
	source_config.probes.verbose = monitor.options.verbose;
	source_config.probes.bpf_stats = monitor.options.bpf_stats;
	source_config.pipeline = monitor.pipeline;
	source_config.degraded = monitor.degraded;
	source_config.cgroups = monitor.cgroups;
	source_config.processes = monitor.processes;
	source_config.pods = monitor.pods;
	source_config.watches = monitor.watches;
	source_config.dns = monitor.dns;
	source_config.inventory = monitor.inventory;
	source_config.identities = &monitor.identities;
	source_config.policy = &monitor.policy;
	source_config.service_tags = &monitor.service_tags;
	source_config.proc_dir = monitor.proc_dir;
	source_config.proc_cgroup_base = monitor.proc_cgroup_base; /* found just below */
	source_config.report = report;
	monitor.source = live_source_open(&source_config, &err);
	if (!monitor.source) {
		fprintf(stderr, "accessmon: %s\n", err.msg);
		goto free_pipeline;
	}
	monitor.probes = live_source_probes(monitor.source);
	/*
	 * After attaching, so a cgroup or process made meanwhile is seen by one or the
	 * other; before the capabilities go, so /proc/PID/exe of processes older than
	 * the monitor can still be read.
	 */
	if (cgroup_tree_scan(monitor.cgroups, monitor.cgroup_root, &err) < 0) {
		fprintf(stderr, "accessmon: %s\n", err.msg);
		goto close_probes;
	}
	monitor_find_proc_cgroup_base(&monitor);
	process_snapshot_proc(monitor.processes, monitor.proc_dir, monitor.proc_cgroup_base);
	monitor_degraded_from_probes(&monitor, clock_ns(CLOCK_BOOTTIME));
	/* Before any thread starts: capabilities belong to threads. */
	keep = monitor_capabilities_to_keep(&monitor, keep_why, sizeof(keep_why));
	if (capabilities_drop(keep, keep_why, dropped, sizeof(dropped)) == 0) {
		live_source_set_cap_bpf_dropped(monitor.source, !(keep & CAPABILITY_BIT(CAP_BPF)));
		monitor.kept_capabilities = keep;
	}
	/* Then the endpoint, so probes see /healthz answer (and /readyz say not yet) at once. */
	if (monitor.options.listen_host) {
		monitor.httpd = httpd_start(monitor.options.listen_host, monitor.options.listen_port,
					    &err);
		if (!monitor.httpd) {
			fprintf(stderr, "accessmon: %s\n", err.msg);
			status = 2;
			goto close_probes;
		}
		httpd_heartbeat(monitor.httpd, clock_ns(CLOCK_MONOTONIC));
		fprintf(stderr, "accessmon: serving /metrics, /healthz and /readyz on %s:%d\n",
			monitor.options.listen_host, httpd_port(monitor.httpd));
	}
	if (monitor_start_sinks(&monitor)) {
		status = 2;
		goto close_probes;
	}
	/* After the probes, so a host that cannot run them is told that first and alone. */
	rc = inventory_load(monitor.inventory, clock_ns(CLOCK_BOOTTIME), KUBELET_FIRST_ANSWER_WAIT_MS,
			    &err);
	if (rc) {
		fprintf(stderr, "accessmon: %s\n", err.msg);
		status = 2;
		goto close_probes;
	}
	monitor_refresh_watch_set(&monitor, clock_ns(CLOCK_BOOTTIME));
	fprintf(stderr,
		"accessmon: attached at cgroup %s, opens seen by %s%s; %zu cgroups, %zu processes, "
		"%zu pods known, %zu secrets %s\n",
		monitor.cgroup_root,
		probes_open_hook(monitor.probes) == OPEN_HOOK_TRACEPOINT
			? "the syscalls/sys_exit_open* tracepoints"
			: "the raw sys_exit tracepoint (every syscall pays for it)",
		degraded_reason(monitor.degraded, DETECTION_SECRET_FILES, DEGRADED_PROBES)
			? ", NOT all of them (see BLIND)"
			: "",
		cgroup_cache_count(monitor.cgroups), process_cache_count(monitor.processes),
		pod_inventory_count(monitor.pods), watch_list_count(monitor.watches),
		degraded_reason(monitor.degraded, DETECTION_SECRET_FILES, DEGRADED_MAPS)
			? "found, but NOT all in the kernel's watch set (see the monitor-degraded "
			  "records)"
			: "watched");
	monitor_say_kernel(&monitor);
	fputs(dropped, stderr);
	if (monitor.options.record_file && start_recording(&monitor, pipeline_config.boot_to_wall_ns)) {
		status = 2;
		goto close_probes;
	}
	if (monitor.options.ready_file) {
		rc = write_ready_file(monitor.options.ready_file);
		if (rc) {
			fprintf(stderr, "accessmon: --ready-file %s: %s\n",
				monitor.options.ready_file, strerror(-rc));
			goto close_probes;
		}
	}
	monitor.ready = true;
	if (monitor.httpd) {
		monitor_publish_metrics(&monitor);
		httpd_set_ready(monitor.httpd, true);
	}

	status = run(&monitor);
	live_source_finish_recording(monitor.source, clock_ns(CLOCK_BOOTTIME));

	if (monitor.options.ready_file)
		unlink(monitor.options.ready_file);
close_probes:
	source_close(monitor.source);
free_pipeline:
	if (monitor.sinks) {
		uint64_t undelivered = sinks_stop(monitor.sinks, SINK_DRAIN_EXIT_MS);

		/* Past the drain time only standard error is left to say it. */
		if (undelivered)
			fprintf(stderr, "accessmon: %llu lines were not delivered by the sinks before "
					"exit\n",
				(unsigned long long)undelivered);
	}
	pipeline_free(monitor.pipeline);
	sink_spec_release(&monitor.stdout_spec);
free_state:
	httpd_stop(monitor.httpd);
	jsonw_release(&monitor.metrics_text);
	while (monitor.n_retired) {
		monitor_options_release(monitor.retired[--monitor.n_retired]);
		free(monitor.retired[monitor.n_retired]);
	}
	free(monitor.retired);
	inventory_free(monitor.inventory);
	watch_list_free(monitor.watches);
	process_cache_free(monitor.processes);
	dns_cache_free(monitor.dns);
	service_tags_free(monitor.service_tags);
	identity_data_free(monitor.identities);
	policy_free(monitor.policy);
	cgroup_cache_free(monitor.cgroups);
	pod_inventory_free(monitor.pods);
	degraded_free(monitor.degraded);
	free(monitor.proc_dir);
	monitor_options_release(&monitor.options);
	return status;
}
