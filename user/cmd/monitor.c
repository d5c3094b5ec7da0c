// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * `accessmon monitor`: checks the host, loads the inventory and watch set,
 * attaches the probes and feeds the ring buffer into the pipeline until SIGINT or
 * SIGTERM, keeping the pod inventory current and reporting every record the
 * kernel could not deliver as it happens.
 */
#include "cmd/monitor.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <linux/magic.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/vfs.h>
#include <time.h>
#include <unistd.h>

#include "kernel/capabilities.h"
#include "lib/clock.h"
#include "attribute/cgroups.h"
#include "detect/degraded.h"
#include "kernel/kernel_features.h"
#include "output/httpd.h"
#include "output/metrics.h"
#include "sinks/sinks.h"
#include "lib/hostfs.h"
#include "attribute/inventory.h"
#include "cmd/options.h"
#include "output/output.h"
#include "pipeline/pipeline.h"
#include "attribute/pods.h"
#include "kernel/probes.h"
#include "attribute/processes.h"
#include "name/dns_cache.h"
#include "detect/identities.h"
#include "detect/policy.h"
#include "detect/rules.h"
#include "trace/trace.h"
#include "attribute/secrets.h"
#include "name/service_tags.h"
#include "attribute/watch.h"
#include "source/live.h"

#define POLL_INTERVAL_MS 100
/* Readiness waits this long for the kubelet's first answer, when one is configured. */
#define KUBELET_FIRST_ANSWER_WAIT_MS 3000
#define CGROUP_CACHE_CAPACITY 65536
#define PROCESS_CACHE_CAPACITY 32768
#define DNS_CACHE_CAPACITY 65536
/* The node's secrets are discovered again this often. */
#define DISCOVERY_INTERVAL_NS (1000ull * 1000000ull)
/*
 * A watch entry that leaves the set keeps its id this long, for records in flight;
 * no longer than --pod-grace, so what a deleted pod leaves behind goes at once.
 */
#define WATCH_GRACE_NS (30ull * 1000000000ull)
/* /metrics is rendered this often. */
#define METRICS_INTERVAL_NS (1000ull * 1000000ull)
/* At exit, sinks get this long to deliver what is queued; a sink a reload removed, less. */
#define SINK_DRAIN_EXIT_MS 5000
#define SINK_DRAIN_RELOAD_MS 1000
/* A sink, or the recorder, that keeps dropping is reported at most this often. */
#define SINK_LOSS_INTERVAL_NS (5000ull * 1000000ull)


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
	int argc;
	char **argv; /* parsed again at every reload */
	struct monitor_options **retired;
	size_t n_retired;
	struct sinks *sinks;
	struct sink_spec stdout_spec; /* the sink when none is given */
	struct httpd *httpd;
	struct jsonw metrics_text;
	uint64_t last_metrics_ns;
	uint64_t reloads_ok, reloads_failed;
	uint64_t start_time_s;
	bool ready;
	char cgroup_root[4096];
	/*
	 * What /proc/PID/cgroup paths are relative to: the cgroup root, or in a
	 * container with its own cgroup namespace, that namespace's root under it.
	 */
	char proc_cgroup_base[8192];
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
	struct pipeline *pipeline;
	struct source *source;
	struct probes *probes; /* the live source's */
	uint64_t last_discovery_ns;
	char last_discovery_message[AM_ERROR_LEN];
	/* What the monitor cannot see; said in the stream until it can (degraded.h). */
	struct degraded *degraded;
	/* Watch set updates the kernel refused in the last round, and the last error. */
	size_t watch_refused;
	int watch_error;
	uint64_t kept_capabilities;
};

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

/*
 * In a pod the monitor has its own cgroup namespace: other processes' cgroups
 * read "0::/../../kubepods.slice/...", relative to the namespace's root. That
 * root is the cgroup our own cgroup2 mount shows; the cache knows its path.
 */
static void find_proc_cgroup_base(struct monitor *monitor)
{
	char mount_point[4096];
	const struct cgroup_entry *entry;
	struct stat own, root;
	FILE *mountinfo;
	int rc;

	snprintf(monitor->proc_cgroup_base, sizeof(monitor->proc_cgroup_base), "%s",
		 monitor->cgroup_root);
	mountinfo = fopen("/proc/self/mountinfo", "re");
	if (!mountinfo)
		return;
	rc = cgroup2_namespace_mount_find(mountinfo, mount_point, sizeof(mount_point));
	fclose(mountinfo);
	if (rc || stat(mount_point, &own) < 0 || stat(monitor->cgroup_root, &root) < 0 ||
	    own.st_ino == root.st_ino)
		return;
	entry = cgroup_cache_lookup(monitor->cgroups, (uint64_t)own.st_ino);
	if (!entry) {
		fprintf(stderr, "accessmon: this cgroup namespace's root (%s) is not under %s: the "
				"cgroups of processes started before the monitor are unknown\n",
			mount_point, monitor->cgroup_root);
		return;
	}
	snprintf(monitor->proc_cgroup_base, sizeof(monitor->proc_cgroup_base), "%s%s",
		 monitor->cgroup_root, strcmp(entry->path, "/") == 0 ? "" : entry->path);
	fprintf(stderr, "accessmon: in a cgroup namespace rooted at %s: reading /proc's cgroup "
			"paths from there\n",
		entry->path);
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

/* Every refusal of the kernel's maps is counted: a watch set it refuses is a blind spot. */
static int watch_result(struct monitor *monitor, int rc)
{
	if (rc) {
		monitor->watch_refused++;
		monitor->watch_error = rc;
	}
	return rc;
}

static int sink_file(void *ctx, uint32_t kdev, uint64_t inode, uint32_t id, uint32_t flags,
		     bool add)
{
	struct monitor *monitor = ctx;

	return watch_result(monitor,
			    probes_watch_file(monitor->probes, kdev, inode, id, flags, add));
}

static int sink_dir(void *ctx, uint32_t kdev, uint64_t inode, uint32_t id, uint32_t flags,
		    bool add)
{
	struct monitor *monitor = ctx;

	return watch_result(monitor, probes_watch_dir(monitor->probes, kdev, inode, id, flags, add));
}

static int sink_path(void *ctx, const char *path, uint32_t id, bool add)
{
	struct monitor *monitor = ctx;

	return watch_result(monitor, probes_watch_path(monitor->probes, path, id, add));
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
	struct watch_sink sink = {sink_file, sink_dir, sink_path, monitor};
	uint64_t pod_grace_ns = monitor->options.pod_grace_s * 1000000000ull;
	uint64_t listing_s = clock_ns(CLOCK_REALTIME) / 1000000000ull;
	char what[128], reason[DEGRADED_REASON_LEN];

	monitor->watch_refused = 0;
	watch_list_begin(monitor->watches);
	secrets_discover(monitor->watches, monitor->options.sources.host_root, monitor->pods,
			 monitor->options.watch_paths, monitor->options.n_watch_paths,
			 report_discovery, monitor);
	if (watch_list_end(monitor->watches, &sink, now_ns,
			   pod_grace_ns < WATCH_GRACE_NS ? pod_grace_ns : WATCH_GRACE_NS) == 0)
		probes_dirs_listed(monitor->probes, listing_s);
	watch_result(monitor, probes_watch_state(monitor->probes,
						 watch_list_has_dirs(monitor->watches),
						 watch_list_has_paths(monitor->watches)));
	/* Tried again every round; said in the stream while any is refused. */
	if (monitor->watch_refused) {
		snprintf(what, sizeof(what), "the kernel refused %zu watch set updates",
			 monitor->watch_refused);
		live_source_refusal_reason(monitor->source, monitor->watch_error, what, reason,
					   sizeof(reason));
		degraded_set(monitor->degraded, DETECTION_SECRET_FILES, DEGRADED_MAPS, reason, now_ns);
	} else {
		degraded_clear(monitor->degraded, DETECTION_SECRET_FILES, DEGRADED_MAPS);
	}
	monitor->last_discovery_ns = now_ns;
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

/* --- capabilities and what the kernel could not give -------------------------- */

static void report_capability(void *ctx, const char *message)
{
	(void)ctx;
	fprintf(stderr, "accessmon: %s\n", message);
}

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
static uint64_t capabilities_to_keep(struct monitor *monitor, char *why, size_t len)
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
static void degraded_from_probes(struct monitor *monitor, uint64_t now_ns)
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
static void say_kernel(struct monitor *monitor)
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
static void on_degraded(void *ctx, const struct degraded_notice *notice)
{
	struct monitor *monitor = ctx;
	uint64_t now_ns = clock_ns(CLOCK_BOOTTIME);

	pipeline_monitor_degraded(monitor->pipeline, now_ns, notice);
	fprintf(stderr, "accessmon: %s [%s, %s] %s: %s\n",
		notice->restored ? "SEES AGAIN" : "BLIND", detection_name(notice->detection),
		degraded_cause_name(notice->cause), detection_sees(notice->detection), notice->reason);
	live_source_degraded(monitor->source, now_ns, notice);
}

/* --- sinks -------------------------------------------------------------------- */

static const struct sink_spec *sink_specs(struct monitor *monitor, size_t *n)
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

static int start_sinks(struct monitor *monitor)
{
	const struct sink_spec *specs;
	struct am_error err;
	size_t n;

	if (sink_spec_parse("stdout", &monitor->stdout_spec, &err)) {
		fprintf(stderr, "accessmon: %s\n", err.msg);
		return -ENOMEM;
	}
	specs = sink_specs(monitor, &n);
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
static void report_sink_drops(struct monitor *monitor, uint64_t now_ns, uint64_t min_interval_ns)
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

/* --- metrics ------------------------------------------------------------------- */

static void add_program(void *ctx, const char *name, uint64_t run_count, uint64_t run_time_ns)
{
	struct metrics_snapshot *snapshot = ctx;
	struct metrics_program *program;

	if (snapshot->n_programs >= METRICS_MAX_PROGRAMS)
		return;
	program = &snapshot->programs[snapshot->n_programs++];
	snprintf(program->name, sizeof(program->name), "%s", name);
	program->run_count = run_count;
	program->run_time_ns = run_time_ns;
}

/* What malloc has handed out and not had back: a leak grows it, while a page
 * kept by the allocator after a burst does not. */
static uint64_t heap_in_use(void)
{
	struct mallinfo2 info = mallinfo2();

	return (uint64_t)info.uordblks + (uint64_t)info.hblkhd;
}

static void publish_metrics(struct monitor *monitor)
{
	const struct pipeline_stats *stats = pipeline_stats(monitor->pipeline);
	const struct rules_stats *alerts = pipeline_rules_stats(monitor->pipeline);
	struct metrics_snapshot *s = calloc(1, sizeof(*s));
	size_t i;

	if (!s)
		return;
	memcpy(s->records, stats->records, sizeof(s->records));
	s->malformed = stats->malformed;
	s->repeats = stats->repeats;
	s->lines_written = stats->written;
	probes_counters(monitor->probes, s->kernel_counters);
	s->ring_used_bytes = probes_ring_used(monitor->probes);
	s->ring_size_bytes = monitor->options.ringbuf_bytes;
	if (alerts) {
		s->alerts = *alerts;
		s->detection = true;
	}
	s->n_sinks = sinks_count(monitor->sinks);
	if (s->n_sinks > METRICS_MAX_SINKS)
		s->n_sinks = METRICS_MAX_SINKS;
	for (i = 0; i < s->n_sinks; i++)
		sinks_stats(monitor->sinks, i, &s->sinks[i]);
	s->pods = pod_inventory_count(monitor->pods);
	s->processes = process_cache_count(monitor->processes);
	s->cgroups = cgroup_cache_count(monitor->cgroups);
	s->watches = watch_list_count(monitor->watches);
	s->heap_bytes = heap_in_use();
	s->program_stats_enabled = probes_stats_enabled(monitor->probes);
	probes_program_stats(monitor->probes, add_program, s);
	if (live_source_recording(monitor->source)) {
		struct source_stats source;

		source_stats(monitor->source, &source);
		s->recording = true;
		s->trace_lost = source.trace_lost;
	}
	s->reloads_ok = monitor->reloads_ok;
	s->reloads_failed = monitor->reloads_failed;
	for (i = 0; i < DETECTION_COUNT; i++)
		s->blind[i] = degraded_blind(monitor->degraded, (enum detection)i);
	probes_counts(monitor->probes, &s->probes_attached, &s->probes_needed);
	for (i = 0; i <= CAP_LAST_CAP && s->n_kept < sizeof(s->kept) / sizeof(s->kept[0]); i++)
		if ((monitor->kept_capabilities & CAPABILITY_BIT(i)) && capability_name((int)i))
			s->kept[s->n_kept++] = capability_name((int)i);
	s->start_time_s = monitor->start_time_s;
	s->ready = monitor->ready;
	s->version = ACCESSMON_VERSION;
	jsonw_reset(&monitor->metrics_text);
	metrics_render(s, &monitor->metrics_text);
	if (!monitor->metrics_text.failed)
		httpd_publish_metrics(monitor->httpd, monitor->metrics_text.buf,
				      monitor->metrics_text.len);
	free(s);
}

/* --- reload -------------------------------------------------------------------- */

/*
 * Settings a reload replaced stay allocated until exit: what only a restart
 * changes keeps pointing into the set it came from. A few KiB per reload.
 */
static int retire_options(struct monitor *monitor, struct monitor_options *old)
{
	struct monitor_options **grown =
		realloc(monitor->retired, (monitor->n_retired + 1) * sizeof(*grown));

	if (!grown)
		return -ENOMEM;
	monitor->retired = grown;
	monitor->retired[monitor->n_retired++] = old;
	return 0;
}

static bool same_text(const char *a, const char *b)
{
	return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

/* A setting a running monitor cannot change: said, and the running value kept. */
static void keep_restart_only(const struct monitor_options *now, struct monitor_options *next)
{
	const char *changed = NULL;

#define KEEP(field, name)                                                                      \
	do {                                                                                   \
		if (!same_text(now->field, next->field))                                       \
			changed = name;                                                        \
		next->field = now->field;                                                      \
	} while (0)
#define KEEP_VALUE(field, name)                                                                \
	do {                                                                                   \
		if (now->field != next->field)                                                 \
			changed = name;                                                        \
		next->field = now->field;                                                      \
	} while (0)
	KEEP(sources.host_root, "host-root");
	KEEP(sources.pods_file, "pods");
	KEEP(sources.cluster_file, "cluster");
	KEEP(sources.kubelet_url, "kubelet-url");
	KEEP(sources.kubelet_token_file, "kubelet-token-file");
	KEEP(sources.kubelet_ca_file, "kubelet-ca-file");
	KEEP_VALUE(sources.kubelet_insecure, "kubelet-insecure");
	KEEP_VALUE(sources.kubelet_interval_ms, "kubelet-interval");
	KEEP_VALUE(sources.no_containerd, "no-containerd");
	KEEP(cgroup_root, "cgroup-root");
	KEEP(ready_file, "ready-file");
	KEEP(service_tags_file, "service-tags");
	KEEP(record_file, "record");
	KEEP_VALUE(record_max_size, "record-max-size");
	KEEP_VALUE(record_keep, "record-keep");
	KEEP_VALUE(format, "format");
	KEEP_VALUE(open_hook, "open-hook");
	KEEP_VALUE(ringbuf_bytes, "ringbuf-size");
	KEEP_VALUE(repeat_window_s, "repeat-window");
	KEEP_VALUE(pod_grace_s, "pod-grace");
	KEEP_VALUE(degraded_interval_s, "degraded-interval");
	KEEP(listen_host, "listen");
	KEEP(listen_port, "listen");
	KEEP_VALUE(verbose, "verbose");
	KEEP_VALUE(bpf_stats, "bpf-stats");
#undef KEEP
#undef KEEP_VALUE
	if (changed)
		fprintf(stderr, "accessmon: reload: '%s' (and any other setting of the probes, the "
				"sources, the recorder or the endpoint) changes only at a restart; "
				"keeping the running value\n",
			changed);
}

/*
 * SIGHUP: the config file and command line again, then policy and identity data.
 * Nothing changes unless all of it loads; a failure keeps everything as it was.
 */
static void reload(struct monitor *monitor, uint64_t now_ns)
{
	struct monitor_options *next = malloc(sizeof(*next)), *old = malloc(sizeof(*old));
	const struct sink_spec *specs;
	uint64_t undelivered;
	struct am_error err;
	size_t n;

	if (!next || !old) {
		free(next);
		free(old);
		monitor->reloads_failed++;
		return;
	}
	if (monitor_options_parse(monitor->argc, monitor->argv, next, &err)) {
		fprintf(stderr, "accessmon: reload: %s; keeping the settings loaded before\n", err.msg);
		goto fail;
	}
	keep_restart_only(&monitor->options, next);
	*old = monitor->options;
	monitor->options = *next;
	if (load_detection(monitor, true) != 0) {
		monitor->options = *old;
		goto fail;
	}
	specs = sink_specs(monitor, &n);
	if (sinks_reconfigure(monitor->sinks, specs, n, SINK_DRAIN_RELOAD_MS, &undelivered, &err)) {
		fprintf(stderr, "accessmon: reload: %s; keeping the sinks and settings loaded "
				"before\n",
			err.msg);
		monitor->options = *old;
		load_detection(monitor, true);
		goto fail;
	}
	if (undelivered) {
		fprintf(stderr, "accessmon: reload: the sinks taken out left %llu lines undelivered\n",
			(unsigned long long)undelivered);
		pipeline_sink_lost(monitor->pipeline, now_ns, "removed by reload",
				   "not delivered before the sink was taken out", undelivered,
				   undelivered);
	}
	pipeline_set_events(monitor->pipeline, monitor->options.events);
	if (retire_options(monitor, old))
		fprintf(stderr, "accessmon: reload: out of memory keeping the old settings\n");
	free(next);
	monitor->reloads_ok++;
	/* The watch list follows the new --watch paths at once. */
	refresh_watch_set(monitor, now_ns);
	fprintf(stderr, "accessmon: reloaded the configuration, identity data and policy\n");
	live_source_detection_changed(monitor->source, now_ns);
	return;
fail:
	monitor_options_release(next);
	free(next);
	free(old);
	monitor->reloads_failed++;
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
			reload(monitor, now_ns);
		}
		inventory_tick(monitor->inventory, now_ns);
		if (now_ns - monitor->last_discovery_ns >= DISCOVERY_INTERVAL_NS)
			refresh_watch_set(monitor, now_ns);
		live_source_tick(monitor->source, now_ns);
		live_source_report_trace_loss(monitor->source, now_ns, SINK_LOSS_INTERVAL_NS);
		report_sink_drops(monitor, now_ns, SINK_LOSS_INTERVAL_NS);
		degraded_report(monitor->degraded, now_ns, on_degraded, monitor);
		rc = pipeline_flush(monitor->pipeline);
		if (rc) {
			fprintf(stderr, "accessmon: writing records failed: %s\n", strerror(-rc));
			break;
		}
		if (monitor->httpd) {
			uint64_t beat = clock_ns(CLOCK_MONOTONIC);

			httpd_heartbeat(monitor->httpd, beat);
			if (beat - monitor->last_metrics_ns >= METRICS_INTERVAL_NS) {
				publish_metrics(monitor);
				monitor->last_metrics_ns = beat;
			}
		}
	}
	/* What the kernel already handed over or counted is still reported before exit. */
	source_drain(monitor->source);
	degraded_report(monitor->degraded, clock_ns(CLOCK_BOOTTIME), on_degraded, monitor);
	live_source_report_trace_loss(monitor->source, clock_ns(CLOCK_BOOTTIME), 0);
	pipeline_finish(monitor->pipeline);
	report_sink_drops(monitor, clock_ns(CLOCK_BOOTTIME), 0);
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
						unsigned int pod_grace_s,
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
	if (capabilities_check(report_capability, NULL)) {
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
	find_proc_cgroup_base(&monitor);
	process_snapshot_proc(monitor.processes, monitor.proc_dir, monitor.proc_cgroup_base);
	degraded_from_probes(&monitor, clock_ns(CLOCK_BOOTTIME));
	/* Before any thread starts: capabilities belong to threads. */
	keep = capabilities_to_keep(&monitor, keep_why, sizeof(keep_why));
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
	if (start_sinks(&monitor)) {
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
	refresh_watch_set(&monitor, clock_ns(CLOCK_BOOTTIME));
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
	say_kernel(&monitor);
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
		publish_metrics(&monitor);
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
