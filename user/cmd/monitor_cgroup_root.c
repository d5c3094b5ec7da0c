// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * Where the monitor finds the cgroup tree: the cgroup2 mount its hooks attach
 * to, and the root /proc's cgroup paths are relative to.
 */
#include <errno.h>
#include <linux/magic.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>

#include "attribute/cgroups.h"
#include "cmd/monitor_private.h"

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

int monitor_find_cgroup_root(struct monitor *monitor)
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
void monitor_find_proc_cgroup_base(struct monitor *monitor)
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
