// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * Loads the floor (bench/floor.bpf.c: empty programs on the monitor's hooks),
 * attaches the chosen sets and holds them until SIGINT or SIGTERM.
 *
 *   floor [--ready-file PATH] [--cgroup-root DIR] [--stats] SET...
 *
 * SET: tracepoint (the syscalls/sys_exit_open* tracepoints, as --open-hook
 * tracepoint), raw (tp_btf/sys_exit, as --open-hook raw), lookup (the tracepoint
 * set with an identity match, and nothing more, at sys_exit_openat), report (the
 * same, and an empty record reported for each open of the --watch file, which
 * floor reads and drops), connect (cgroup
 * connect4, connect6, sendmsg4, sendmsg6 at the cgroup v2 root), skb (cgroup_skb
 * ingress and egress at the root, tp_btf/inet_sock_set_state). --stats holds
 * BPF run-time statistics on while it runs, as the monitor's --bpf-stats does.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "floor.skel.h"

static volatile sig_atomic_t stop;

static void on_signal(int signo)
{
	(void)signo;
	stop = 1;
}

/* The cgroup v2 mount point, from /proc/mounts. */
static int cgroup2_root(char *out, size_t size)
{
	char dev[256], dir[4096], type[64];
	FILE *mounts = fopen("/proc/mounts", "r");
	int rc = -ENOENT;

	if (!mounts)
		return -errno;
	while (fscanf(mounts, "%255s %4095s %63s %*[^\n]", dev, dir, type) == 3) {
		if (strcmp(type, "cgroup2") == 0 && strlen(dir) < size) {
			strcpy(out, dir);
			rc = 0;
			break;
		}
	}
	fclose(mounts);
	return rc;
}

static int discard_record(void *ctx, void *data, size_t size)
{
	(void)ctx;
	(void)data;
	(void)size;
	return 0;
}

int main(int argc, char **argv)
{
	const char *ready_file = NULL, *cgroup_root = NULL;
	bool want_tracepoint = false, want_raw = false, want_connect = false, want_skb = false;
	bool want_lookup = false, want_report = false;
	const char *watch = NULL;
	struct ring_buffer *ring = NULL;
	bool stats = false;
	struct bpf_link *links[16] = {};
	struct bpf_program *tracepoints[5], *connects[4], *skbs[2];
	struct sigaction action = {.sa_handler = on_signal};
	char root[4096];
	struct floor_bpf *skel;
	int i, nlinks = 0, cgroup_fd = -1, stats_fd = -1, rc = 1;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--ready-file") == 0 && i + 1 < argc)
			ready_file = argv[++i];
		else if (strcmp(argv[i], "--cgroup-root") == 0 && i + 1 < argc)
			cgroup_root = argv[++i];
		else if (strcmp(argv[i], "--stats") == 0)
			stats = true;
		else if (strcmp(argv[i], "tracepoint") == 0)
			want_tracepoint = true;
		else if (strcmp(argv[i], "raw") == 0)
			want_raw = true;
		else if (strcmp(argv[i], "lookup") == 0)
			want_tracepoint = want_lookup = true;
		else if (strcmp(argv[i], "report") == 0)
			want_tracepoint = want_report = true;
		else if (strcmp(argv[i], "--watch") == 0 && i + 1 < argc)
			watch = argv[++i];
		else if (strcmp(argv[i], "connect") == 0)
			want_connect = true;
		else if (strcmp(argv[i], "skb") == 0)
			want_skb = true;
		else {
			fprintf(stderr, "usage: floor [--ready-file PATH] [--cgroup-root DIR] [--stats] "
					"[--watch PATH] tracepoint|raw|lookup|report|connect|skb...\n");
			return 2;
		}
	}
	skel = floor_bpf__open();
	if (!skel) {
		fprintf(stderr, "floor: opening the BPF object failed: %s\n", strerror(errno));
		return 1;
	}
	tracepoints[0] = skel->progs.floor_exit_open;
	tracepoints[1] = skel->progs.floor_exit_openat;
	tracepoints[2] = skel->progs.floor_exit_openat2;
	tracepoints[3] = skel->progs.floor_exit_creat;
	tracepoints[4] = skel->progs.floor_exit_open_by_handle_at;
	connects[0] = skel->progs.floor_connect4;
	connects[1] = skel->progs.floor_connect6;
	connects[2] = skel->progs.floor_sendmsg4;
	connects[3] = skel->progs.floor_sendmsg6;
	skbs[0] = skel->progs.floor_ingress;
	skbs[1] = skel->progs.floor_egress;
	/* lookup, report: the tracepoint set, with their own program at sys_exit_openat. */
	bpf_program__set_autoload(skel->progs.floor_lookup_openat, false);
	bpf_program__set_autoload(skel->progs.floor_report_openat, false);
	if (want_lookup)
		tracepoints[1] = skel->progs.floor_lookup_openat;
	else if (want_report)
		tracepoints[1] = skel->progs.floor_report_openat;
	/* Only what is attached is loaded. */
	for (i = 0; i < 5; i++)
		bpf_program__set_autoload(tracepoints[i], want_tracepoint);
	for (i = 0; i < 4; i++)
		bpf_program__set_autoload(connects[i], want_connect);
	for (i = 0; i < 2; i++)
		bpf_program__set_autoload(skbs[i], want_skb);
	bpf_program__set_autoload(skel->progs.floor_sock_set_state, want_skb);
	bpf_program__set_autoload(skel->progs.floor_raw_sys_exit, want_raw);
	if (floor_bpf__load(skel)) {
		fprintf(stderr, "floor: loading the BPF programs failed: %s\n", strerror(errno));
		goto destroy;
	}
	if (watch) {
		struct { uint64_t inode; uint32_t dev, pad; } key = {0};
		uint32_t one = 1;
		struct stat st;

		if (stat(watch, &st)) {
			fprintf(stderr, "floor: %s: %s\n", watch, strerror(errno));
			goto destroy;
		}
		/* The kernel's dev_t: major << 20 | minor. */
		key.inode = st.st_ino;
		key.dev = (uint32_t)(major(st.st_dev) << 20 | minor(st.st_dev));
		if (bpf_map__update_elem(skel->maps.floor_files, &key, sizeof(key), &one, sizeof(one),
					 BPF_ANY)) {
			fprintf(stderr, "floor: watching %s failed: %s\n", watch, strerror(errno));
			goto destroy;
		}
	}
	if (want_report) {
		ring = ring_buffer__new(bpf_map__fd(skel->maps.floor_events), discard_record, NULL, NULL);
		if (!ring) {
			fprintf(stderr, "floor: opening the ring buffer failed: %s\n", strerror(errno));
			goto destroy;
		}
	}
	for (i = 0; want_tracepoint && i < 5; i++) {
		links[nlinks] = bpf_program__attach(tracepoints[i]);
		if (!links[nlinks++]) {
			fprintf(stderr, "floor: attaching %s failed: %s\n",
				bpf_program__name(tracepoints[i]), strerror(errno));
			goto detach;
		}
	}
	if (want_raw) {
		links[nlinks] = bpf_program__attach(skel->progs.floor_raw_sys_exit);
		if (!links[nlinks++]) {
			fprintf(stderr, "floor: attaching tp_btf/sys_exit failed: %s\n", strerror(errno));
			goto detach;
		}
	}
	if (want_skb) {
		links[nlinks] = bpf_program__attach(skel->progs.floor_sock_set_state);
		if (!links[nlinks++]) {
			fprintf(stderr, "floor: attaching tp_btf/inet_sock_set_state failed: %s\n",
				strerror(errno));
			goto detach;
		}
	}
	if (want_connect || want_skb) {
		if (!cgroup_root) {
			if (cgroup2_root(root, sizeof(root))) {
				fprintf(stderr, "floor: no cgroup v2 mount in /proc/mounts\n");
				goto detach;
			}
			cgroup_root = root;
		}
		cgroup_fd = open(cgroup_root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (cgroup_fd < 0) {
			fprintf(stderr, "floor: %s: %s\n", cgroup_root, strerror(errno));
			goto detach;
		}
		for (i = 0; i < 6; i++) {
			struct bpf_program *prog = i < 4 ? connects[i] : skbs[i - 4];

			if (!(i < 4 ? want_connect : want_skb))
				continue;
			links[nlinks] = bpf_program__attach_cgroup(prog, cgroup_fd);
			if (!links[nlinks++]) {
				fprintf(stderr, "floor: attaching %s to %s failed: %s\n",
					bpf_program__name(prog), cgroup_root, strerror(errno));
				goto detach;
			}
		}
	}
	if (stats) {
		stats_fd = bpf_enable_stats(BPF_STATS_RUN_TIME);
		if (stats_fd < 0)
			fprintf(stderr, "floor: enabling BPF statistics failed: %s\n", strerror(errno));
	}
	sigaction(SIGINT, &action, NULL);
	sigaction(SIGTERM, &action, NULL);
	if (ready_file) {
		int fd = open(ready_file, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

		if (fd < 0) {
			fprintf(stderr, "floor: %s: %s\n", ready_file, strerror(errno));
			goto detach;
		}
		close(fd);
	}
	/* A reader as cheap as can be: what it reads, it drops (report). */
	while (!stop) {
		if (!ring) {
			pause();
			continue;
		}
		ring_buffer__poll(ring, 10);
		ring_buffer__consume(ring);
	}
	rc = 0;
	if (ready_file)
		unlink(ready_file);
detach:
	if (stats_fd >= 0)
		close(stats_fd);
	for (i = 0; i < nlinks; i++)
		bpf_link__destroy(links[i]);
	if (cgroup_fd >= 0)
		close(cgroup_fd);
destroy:
	ring_buffer__free(ring);
	floor_bpf__destroy(skel);
	return rc;
}
