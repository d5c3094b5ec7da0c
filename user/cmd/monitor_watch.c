// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * The monitor's watch set: the node's secrets and the --watch paths, discovered
 * every round and synced to the kernel's maps; what the maps refuse is a blind
 * spot, said as one.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "attribute/secrets.h"
#include "attribute/watch.h"
#include "cmd/monitor_private.h"
#include "event/degraded.h"
#include "kernel/probes.h"
#include "lib/clock.h"
#include "lib/hostfs.h"
#include "source/live.h"

/*
 * A watch entry that leaves the set keeps its id this long, for records in flight;
 * no longer than --pod-grace, so what a deleted pod leaves behind goes at once.
 */
#define WATCH_GRACE_NS (30ull * 1000000000ull)

/* --watch paths: absolute, and there when the monitor starts. */
int monitor_check_watch_paths(struct monitor *monitor)
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
void monitor_refresh_watch_set(struct monitor *monitor, uint64_t now_ns)
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
