// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * `accessmon monitor`: checks the host, loads the inventory and watch set,
 * attaches the probes and feeds the ring buffer into the pipeline until SIGINT or
 * SIGTERM, keeping the pod inventory current and reporting every record the
 * kernel could not deliver as it happens.
 */
#include "monitor.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/magic.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/vfs.h>
#include <time.h>
#include <unistd.h>

#include "cgroups.h"
#include "hostfs.h"
#include "inventory.h"
#include "options.h"
#include "output.h"
#include "pipeline.h"
#include "pods.h"
#include "probes.h"
#include "processes.h"
#include "dns_cache.h"
#include "identities.h"
#include "policy.h"
#include "recorder.h"
#include "rules.h"
#include "state.h"
#include "trace.h"
#include "secrets.h"
#include "service_tags.h"
#include "watch.h"

#define POLL_INTERVAL_MS 100
/* Readiness waits this long for the kubelet's first answer, when one is configured. */
#define KUBELET_FIRST_ANSWER_WAIT_MS 3000
#define CGROUP_CACHE_CAPACITY 65536
#define PROCESS_CACHE_CAPACITY 32768
#define DNS_CACHE_CAPACITY 65536
/* A record from an unknown cgroup rescans the tree at most this often. */
#define CGROUP_RESCAN_MIN_INTERVAL_NS (100ull * 1000000ull)
/* The node's secrets are discovered again this often. */
#define DISCOVERY_INTERVAL_NS (1000ull * 1000000ull)
/* A watch entry that leaves the set keeps its id this long, for records in flight. */
#define WATCH_GRACE_NS (30ull * 1000000000ull)

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

struct monitor {
	struct monitor_options options;
	char cgroup_root[4096];
	char *proc_dir;
	struct pod_inventory *pods;
	struct inventory *inventory;
	struct cgroup_cache *cgroups;
	struct process_cache *processes;
	struct watch_list *watches;
	struct dns_cache *dns;
	struct service_tags *service_tags;
	struct identity_data *identities;
	struct policy *policy;
	struct rules_context rules;
	/* Recording: what changed outside the record stream since it was last written. */
	struct recorder *recorder;
	uint64_t trace_lost_reported; /* recorder losses already said in the stream */
	struct jsonw state;
	unsigned long recorded_pods, recorded_watches;
	bool cgroups_dirty;
	uint32_t missed_pids[64];
	size_t n_missed_pids;
	struct pipeline *pipeline;
	struct probes *probes;
	uint64_t lost_reported;
	uint64_t last_rescan_ns;
	uint64_t last_discovery_ns;
	char last_discovery_message[AM_ERROR_LEN];
};

static uint64_t clock_ns(clockid_t clock)
{
	struct timespec ts;

	clock_gettime(clock, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void report(void *ctx, const char *message)
{
	(void)ctx;
	fprintf(stderr, "accessmon: %s\n", message);
}

/* The cgroup hooks attach to a cgroup v2 directory; say so early when it is not one. */
static int check_cgroup_root(const char *path)
{
	struct statfs fs;

	if (statfs(path, &fs) < 0) {
		fprintf(stderr, "accessmon: cgroup root %s: %s\n", path, strerror(errno));
		return -errno;
	}
	if (fs.f_type != CGROUP2_SUPER_MAGIC) {
		fprintf(stderr,
			"accessmon: cgroup root %s is not a cgroup v2 filesystem; give the cgroup2 "
			"mount point (see /proc/mounts) with --cgroup-root\n",
			path);
		return -EINVAL;
	}
	return 0;
}

static int find_cgroup_root(struct monitor *monitor)
{
	FILE *mounts;
	int rc;

	if (monitor->options.cgroup_root) {
		if (strlen(monitor->options.cgroup_root) >= sizeof(monitor->cgroup_root)) {
			fprintf(stderr, "accessmon: --cgroup-root: path too long\n");
			return -ENAMETOOLONG;
		}
		strcpy(monitor->cgroup_root, monitor->options.cgroup_root);
		return check_cgroup_root(monitor->cgroup_root);
	}
	mounts = fopen("/proc/mounts", "re");
	if (!mounts) {
		fprintf(stderr, "accessmon: /proc/mounts: %s; give --cgroup-root\n",
			strerror(errno));
		return -errno;
	}
	rc = cgroup2_mount_find(mounts, monitor->cgroup_root, sizeof(monitor->cgroup_root));
	fclose(mounts);
	if (rc) {
		fprintf(stderr,
			"accessmon: no cgroup v2 filesystem is mounted (see /proc/mounts): "
			"accessmon needs cgroup v2; mount it or give --cgroup-root\n");
		return rc;
	}
	return check_cgroup_root(monitor->cgroup_root);
}

/* --watch paths: absolute, and there when the monitor starts. */
static int check_watch_paths(struct monitor *monitor)
{
	const char *host_root = monitor->options.sources.host_root;
	size_t i;

	for (i = 0; i < monitor->options.n_watch_paths; i++) {
		const char *path = monitor->options.watch_paths[i];
		struct stat st;
		char *full;
		int rc = 0;

		if (path[0] != '/') {
			fprintf(stderr, "accessmon: --watch %s: give an absolute path\n", path);
			return -EINVAL;
		}
		full = host_path(host_root ? host_root : "/", path);
		if (!full)
			return -ENOMEM;
		if (stat(full, &st) < 0) {
			fprintf(stderr, "accessmon: --watch %s: %s\n", full, strerror(errno));
			rc = -EINVAL;
		}
		free(full);
		if (rc)
			return rc;
	}
	return 0;
}

static int sink_file(void *ctx, uint32_t kdev, uint64_t inode, uint32_t id, bool add)
{
	return probes_watch_file(ctx, kdev, inode, id, add);
}

static int sink_dir(void *ctx, uint32_t kdev, uint64_t inode, uint32_t id, uint32_t flags,
		    bool add)
{
	return probes_watch_dir(ctx, kdev, inode, id, flags, add);
}

static int sink_path(void *ctx, const char *path, uint32_t id, bool add)
{
	return probes_watch_path(ctx, path, id, add);
}

/* Says a discovery problem once, not at every round. */
static void report_discovery(void *ctx, const char *message)
{
	struct monitor *monitor = ctx;

	if (strcmp(monitor->last_discovery_message, message) == 0)
		return;
	snprintf(monitor->last_discovery_message, sizeof(monitor->last_discovery_message), "%s",
		 message);
	fprintf(stderr, "accessmon: %s\n", message);
}

/* One discovery round: the node's secrets now, synced to the kernel's maps. */
static void refresh_watch_set(struct monitor *monitor, uint64_t now_ns)
{
	struct watch_sink sink = {sink_file, sink_dir, sink_path, monitor->probes};
	size_t failures;

	watch_list_begin(monitor->watches);
	secrets_discover(monitor->watches, monitor->options.sources.host_root,
			 monitor->options.watch_paths, monitor->options.n_watch_paths,
			 report_discovery, monitor);
	failures = watch_list_end(monitor->watches, &sink, now_ns, WATCH_GRACE_NS);
	if (failures)
		report_discovery(monitor, "some watch set updates failed in the kernel's maps; "
					  "retrying every second");
	probes_watch_state(monitor->probes, watch_list_has_dirs(monitor->watches),
			   watch_list_has_paths(monitor->watches));
	monitor->last_discovery_ns = now_ns;
}

static void record_state_to(struct recorder *recorder, struct monitor *monitor, uint64_t boot_ns)
{
	recorder_state(recorder, monitor->state.buf, monitor->state.len, boot_ns);
}

static void record_state(struct monitor *monitor, uint64_t boot_ns)
{
	record_state_to(monitor->recorder, monitor, boot_ns);
}

/*
 * State the live side changed outside the record stream (a rescan, a /proc read,
 * the inventory, the watch set), written before the record that saw it.
 */
static void record_changes(struct monitor *monitor, uint64_t boot_ns)
{
	size_t i;

	if (!monitor->recorder)
		return;
	if (monitor->cgroups_dirty) {
		state_write_cgroups(&monitor->state, monitor->cgroups);
		record_state(monitor, boot_ns);
		monitor->cgroups_dirty = false;
	}
	for (i = 0; i < monitor->n_missed_pids; i++) {
		const struct process_info *process =
			process_cache_lookup(monitor->processes, monitor->missed_pids[i]);

		if (!process)
			continue;
		state_write_process(&monitor->state, process);
		record_state(monitor, boot_ns);
	}
	monitor->n_missed_pids = 0;
	if (pod_inventory_generation(monitor->pods) != monitor->recorded_pods) {
		state_write_pods(&monitor->state, monitor->pods);
		record_state(monitor, boot_ns);
		monitor->recorded_pods = pod_inventory_generation(monitor->pods);
	}
	if (watch_list_generation(monitor->watches) != monitor->recorded_watches) {
		state_write_watches(&monitor->state, monitor->watches);
		record_state(monitor, boot_ns);
		monitor->recorded_watches = watch_list_generation(monitor->watches);
	}
}

static int on_record(void *ctx, const void *data, size_t size)
{
	struct monitor *monitor = ctx;
	const struct am_record_header *header = data;

	pipeline_record(monitor->pipeline, data, size);
	if (monitor->recorder && size >= sizeof(*header)) {
		record_changes(monitor, header->time_ns);
		recorder_record(monitor->recorder, data, (uint32_t)size, header->time_ns);
	}
	return 0;
}

/* The whole state: each trace file starts with it. */
static void record_snapshot(void *ctx, struct recorder *recorder)
{
	struct monitor *monitor = ctx;
	uint64_t now_ns = clock_ns(CLOCK_BOOTTIME);

	state_write_node(&monitor->state, inventory_node(monitor->inventory));
	record_state_to(recorder, monitor, now_ns);
	state_write_identities(&monitor->state, monitor->identities);
	record_state_to(recorder, monitor, now_ns);
	state_write_policy(&monitor->state, monitor->policy);
	record_state_to(recorder, monitor, now_ns);
	state_write_service_tags(&monitor->state, monitor->service_tags);
	record_state_to(recorder, monitor, now_ns);
	state_write_cgroups(&monitor->state, monitor->cgroups);
	record_state_to(recorder, monitor, now_ns);
	state_write_processes(&monitor->state, monitor->processes);
	record_state_to(recorder, monitor, now_ns);
	state_write_pods(&monitor->state, monitor->pods);
	record_state_to(recorder, monitor, now_ns);
	monitor->recorded_pods = pod_inventory_generation(monitor->pods);
	state_write_watches(&monitor->state, monitor->watches);
	record_state_to(recorder, monitor, now_ns);
	monitor->recorded_watches = watch_list_generation(monitor->watches);
	state_write_dns(&monitor->state, monitor->dns);
	record_state_to(recorder, monitor, now_ns);
	monitor->cgroups_dirty = false;
	monitor->n_missed_pids = 0;
}

static int start_recording(struct monitor *monitor, int64_t boot_to_wall_ns)
{
	struct recorder_config config = {0};
	struct am_error err;
	struct utsname uts;
	struct jsonw header;
	char started[RFC3339_LEN];
	size_t i;

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
	jsonw_key(&header, "watch");
	jsonw_array_begin(&header);
	for (i = 0; i < monitor->options.n_watch_paths; i++)
		jsonw_string(&header, monitor->options.watch_paths[i]);
	jsonw_array_end(&header);
	jsonw_object_end(&header);
	jsonw_object_end(&header);
	config.path = monitor->options.record_file;
	config.max_size = monitor->options.record_max_size;
	config.keep = monitor->options.record_keep;
	config.header_json = header.buf;
	config.snapshot = record_snapshot;
	config.snapshot_ctx = monitor;
	monitor->recorder = recorder_open(&config, &err);
	jsonw_release(&header);
	if (!monitor->recorder) {
		fprintf(stderr, "accessmon: %s\n", err.msg);
		return -EINVAL;
	}
	return 0;
}

/* A cgroup the kernel did not announce (created before the probes): rescan, rate-limited. */
static void on_cgroup_miss(void *ctx, uint64_t cgroup_id, uint64_t now_ns)
{
	struct monitor *monitor = ctx;
	struct am_error err;

	(void)cgroup_id;
	if (monitor->last_rescan_ns &&
	    now_ns - monitor->last_rescan_ns < CGROUP_RESCAN_MIN_INTERVAL_NS)
		return;
	monitor->last_rescan_ns = now_ns;
	cgroup_tree_scan(monitor->cgroups, monitor->cgroup_root, &err);
	monitor->cgroups_dirty = true;
}

/* A process the kernel did not announce (started before the probes): read /proc once. */
static void on_process_miss(void *ctx, uint32_t pid, uint64_t now_ns)
{
	struct monitor *monitor = ctx;
	struct process_info placeholder = {.pid = pid, .exited_at_ns = now_ns};

	if (process_read_proc(monitor->processes, monitor->proc_dir, monitor->cgroup_root, pid))
		/* Gone already: remember that, so its next records do not ask again. */
		process_cache_put(monitor->processes, &placeholder);
	if (monitor->n_missed_pids < sizeof(monitor->missed_pids) / sizeof(monitor->missed_pids[0]))
		monitor->missed_pids[monitor->n_missed_pids++] = pid;
}

static void on_pod_miss(void *ctx, const char *pod_uid, const char *container_id,
			uint64_t now_ns)
{
	struct monitor *monitor = ctx;

	(void)pod_uid;
	(void)container_id;
	inventory_pod_miss(monitor->inventory, now_ns);
}

static void report_losses(struct monitor *monitor)
{
	uint64_t counters[AM_CNT_MAX];
	uint64_t lost, now_ns;

	if (probes_counters(monitor->probes, counters))
		return;
	lost = counters[AM_CNT_RINGBUF_FULL];
	if (lost <= monitor->lost_reported)
		return;
	fprintf(stderr,
		"accessmon: %" PRIu64 " events lost in the kernel (ring buffer full), %" PRIu64
		" in all\n",
		lost - monitor->lost_reported, lost);
	now_ns = clock_ns(CLOCK_BOOTTIME);
	pipeline_events_lost(monitor->pipeline, now_ns, lost - monitor->lost_reported, lost);
	if (monitor->recorder) {
		state_write_loss(&monitor->state, now_ns, lost - monitor->lost_reported, lost);
		record_state(monitor, now_ns);
	}
	monitor->lost_reported = lost;
}

/* Trace entries the recorder could not write: a line in the stream, at once. */
static void report_trace_loss(struct monitor *monitor, uint64_t now_ns)
{
	char reason[128];
	uint64_t lost = recorder_lost(monitor->recorder, reason, sizeof(reason));

	if (lost <= monitor->trace_lost_reported)
		return;
	pipeline_trace_lost(monitor->pipeline, now_ns, reason, lost - monitor->trace_lost_reported,
			    lost);
	monitor->trace_lost_reported = lost;
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

/*
 * Identity data and policy, from their files. On a reload, what fails to load
 * leaves the previous data in force, and says why.
 */
static int load_detection(struct monitor *monitor, bool reload)
{
	struct identity_data *identities = NULL;
	struct policy *policy;
	struct am_error err;

	if (monitor->options.identities_dir) {
		identities = identity_data_load(monitor->options.identities_dir, &err);
		if (!identities) {
			fprintf(stderr, "accessmon: %s%s\n", err.msg,
				reload ? "; keeping the identity data loaded before" : "");
			return -EINVAL;
		}
		fprintf(stderr, "accessmon: identity data: loaded %s%s%s\n",
			identities->loaded[0] ? identities->loaded : "nothing",
			identities->missing[0] ? "; missing " : "", identities->missing);
	}
	if (monitor->options.policy_file) {
		policy = policy_load(monitor->options.policy_file, &err);
		if (!policy) {
			fprintf(stderr, "accessmon: --policy %s%s\n", err.msg,
				reload ? "; keeping the policy loaded before" : "");
			identity_data_free(identities);
			return -EINVAL;
		}
	} else {
		policy = policy_default();
	}
	if (identities) {
		identity_data_free(monitor->identities);
		monitor->identities = identities;
	}
	policy_free(monitor->policy);
	monitor->policy = policy;
	monitor->rules.node = inventory_node(monitor->inventory);
	monitor->rules.identities = monitor->identities;
	monitor->rules.policy = monitor->policy;
	if (reload && monitor->pipeline)
		pipeline_set_rules_context(monitor->pipeline, &monitor->rules);
	return 0;
}

static int run(struct monitor *monitor)
{
	uint64_t now_ns;
	int rc = 0;

	while (!stop_requested) {
		rc = probes_poll(monitor->probes, POLL_INTERVAL_MS);
		if (rc < 0) {
			fprintf(stderr, "accessmon: reading the ring buffer failed: %s\n",
				strerror(-rc));
			break;
		}
		report_losses(monitor);
		now_ns = clock_ns(CLOCK_BOOTTIME);
		if (reload_requested) {
			reload_requested = 0;
			if (load_detection(monitor, true) == 0) {
				fprintf(stderr, "accessmon: reloaded identity data and policy\n");
				if (monitor->recorder) {
					state_write_identities(&monitor->state, monitor->identities);
					record_state(monitor, now_ns);
					state_write_policy(&monitor->state, monitor->policy);
					record_state(monitor, now_ns);
				}
			}
		}
		inventory_tick(monitor->inventory, now_ns);
		if (now_ns - monitor->last_discovery_ns >= DISCOVERY_INTERVAL_NS)
			refresh_watch_set(monitor, now_ns);
		if (monitor->recorder) {
			const char *error = recorder_error(monitor->recorder);

			record_changes(monitor, now_ns);
			recorder_tick(monitor->recorder, now_ns);
			if (*error)
				fprintf(stderr, "accessmon: %s\n", error);
			report_trace_loss(monitor, now_ns);
		}
		rc = pipeline_flush(monitor->pipeline);
		if (rc) {
			fprintf(stderr, "accessmon: writing records failed: %s\n", strerror(-rc));
			break;
		}
	}
	/* What the kernel already handed over is still reported before exit. */
	probes_drain(monitor->probes);
	report_losses(monitor);
	if (monitor->recorder)
		report_trace_loss(monitor, clock_ns(CLOCK_BOOTTIME));
	pipeline_finish(monitor->pipeline);
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

static struct inventory *inventory_from_options(const struct source_options *sources,
						struct pod_inventory *pods)
{
	struct inventory_config config = {
		.host_root = sources->host_root,
		.pods_file = sources->pods_file,
		.cluster_file = sources->cluster_file,
		.kubelet_url = sources->kubelet_url,
		.kubelet_token_file = sources->kubelet_token_file,
		.kubelet_ca_file = sources->kubelet_ca_file,
		.kubelet_insecure = sources->kubelet_insecure,
		.kubelet_interval_ms = sources->kubelet_interval_ms,
		.no_containerd = sources->no_containerd,
	};

	return inventory_new(&config, pods, report, NULL);
}

int monitor_main(int argc, char **argv)
{
	struct monitor monitor = {0};
	struct pipeline_config pipeline_config = {0};
	struct pipeline_state state = {0};
	struct pipeline_hooks hooks = {0};
	struct probes_config probes_config = {0};
	struct am_error err = {{0}};
	int status = 1, rc;

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
	install_signals();

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
	monitor.inventory = inventory_from_options(&monitor.options.sources, monitor.pods);
	if (!monitor.pods || !monitor.cgroups || !monitor.processes || !monitor.watches ||
	    !monitor.dns ||
	    !monitor.proc_dir || !monitor.inventory) {
		fprintf(stderr, "accessmon: out of memory\n");
		goto free_state;
	}
	if (find_cgroup_root(&monitor))
		goto free_state;
	if (check_watch_paths(&monitor)) {
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

	if (load_detection(&monitor, false)) {
		status = 2;
		goto free_state;
	}
	pipeline_config.events = monitor.options.events;
	pipeline_config.rules = &monitor.rules;
	pipeline_config.format = monitor.options.format;
	pipeline_config.boot_to_wall_ns =
		(int64_t)(clock_ns(CLOCK_REALTIME) - clock_ns(CLOCK_BOOTTIME));
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
	hooks.cgroup_miss = on_cgroup_miss;
	hooks.process_miss = on_process_miss;
	hooks.pod_miss = on_pod_miss;
	hooks.ctx = &monitor;
	pipeline_set_hooks(monitor.pipeline, &hooks);

	probes_config.cgroup_root = monitor.cgroup_root;
	probes_config.ringbuf_bytes = monitor.options.ringbuf_bytes;
	probes_config.open_hook = monitor.options.open_hook;
	probes_config.verbose = monitor.options.verbose;
	monitor.probes = probes_open(&probes_config, on_record, &monitor, &err);
	if (!monitor.probes) {
		fprintf(stderr, "accessmon: %s\n", err.msg);
		goto free_pipeline;
	}
	/* After the probes, so a host that cannot run them is told that first and alone. */
	rc = inventory_load(monitor.inventory, clock_ns(CLOCK_BOOTTIME), KUBELET_FIRST_ANSWER_WAIT_MS,
			    &err);
	if (rc) {
		fprintf(stderr, "accessmon: %s\n", err.msg);
		status = 2;
		goto close_probes;
	}
	refresh_watch_set(&monitor, clock_ns(CLOCK_BOOTTIME));
	/* After attaching, so a cgroup or process made meanwhile is seen by one or the other. */
	if (cgroup_tree_scan(monitor.cgroups, monitor.cgroup_root, &err) < 0) {
		fprintf(stderr, "accessmon: %s\n", err.msg);
		goto close_probes;
	}
	process_snapshot_proc(monitor.processes, monitor.proc_dir, monitor.cgroup_root);
	fprintf(stderr,
		"accessmon: attached at cgroup %s, opens seen by %s; %zu cgroups, %zu processes, "
		"%zu pods known, %zu secrets watched%s\n",
		monitor.cgroup_root,
		probes_open_hook(monitor.probes) == OPEN_HOOK_TRACEPOINT
			? "the syscalls/sys_exit_open* tracepoints"
			: "the raw sys_exit tracepoint (tracefs unavailable: every syscall pays for it)",
		cgroup_cache_count(monitor.cgroups), process_cache_count(monitor.processes),
		pod_inventory_count(monitor.pods), watch_list_count(monitor.watches),
		probes_io_uring(monitor.probes) ? "" : "; io_uring opens not seen (no io_uring tracepoint)");
	jsonw_init(&monitor.state);
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

	status = run(&monitor);
	if (monitor.recorder) {
		uint64_t lost;

		record_changes(&monitor, clock_ns(CLOCK_BOOTTIME));
		lost = recorder_lost(monitor.recorder, NULL, 0);
		if (lost)
			fprintf(stderr, "accessmon: %llu trace entries could not be written\n",
				(unsigned long long)lost);
	}

	if (monitor.options.ready_file)
		unlink(monitor.options.ready_file);
close_probes:
	recorder_close(monitor.recorder);
	jsonw_release(&monitor.state);
	probes_close(monitor.probes);
free_pipeline:
	pipeline_free(monitor.pipeline);
free_state:
	inventory_free(monitor.inventory);
	watch_list_free(monitor.watches);
	process_cache_free(monitor.processes);
	dns_cache_free(monitor.dns);
	service_tags_free(monitor.service_tags);
	identity_data_free(monitor.identities);
	policy_free(monitor.policy);
	cgroup_cache_free(monitor.cgroups);
	pod_inventory_free(monitor.pods);
	free(monitor.proc_dir);
	monitor_options_release(&monitor.options);
	return status;
}
