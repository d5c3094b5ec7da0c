/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * Reads a pod UID and container id out of a cgroup v2 path as the kubelet names
 * it, for both cgroup drivers:
 *   systemd:  /kubepods.slice/kubepods-<qos>.slice/kubepods-<qos>-pod<uid_>.slice/cri-containerd-<id>.scope
 *             (guaranteed pods: /kubepods.slice/kubepods-pod<uid_>.slice/...)
 *   cgroupfs: /kubepods/<qos>/pod<uid>/<id>   (guaranteed: /kubepods/pod<uid>/<id>)
 * A prefix before the kubepods level (a nested kubelet, a cgroup namespace) is
 * allowed. Pure: no I/O.
 */
#ifndef ACCESSMON_CGROUP_PATH_H
#define ACCESSMON_CGROUP_PATH_H

#include <stdbool.h>
#include <stddef.h>

#define POD_UID_LEN 36
#define CONTAINER_ID_MAX 64

enum pod_qos {
	POD_QOS_NONE = 0, /* not a pod cgroup */
	POD_QOS_GUARANTEED,
	POD_QOS_BURSTABLE,
	POD_QOS_BESTEFFORT,
};

enum cgroup_driver {
	CGROUP_DRIVER_NONE = 0,
	CGROUP_DRIVER_SYSTEMD,
	CGROUP_DRIVER_CGROUPFS,
};

struct cgroup_pod_ref {
	bool is_pod;
	enum pod_qos qos;
	enum cgroup_driver driver;
	char pod_uid[POD_UID_LEN + 1];		  /* with dashes, lower case */
	char container_id[CONTAINER_ID_MAX + 1]; /* empty for the pod-level cgroup */
	char runtime[16];			  /* "containerd", "docker", "crio" or "" */
};

/* Fills ref from path; returns true when the path is inside a pod's cgroup. */
bool cgroup_path_parse(const char *path, struct cgroup_pod_ref *ref);

/*
 * The systemd unit a host cgroup belongs to: the deepest component ending in
 * ".service" or ".scope" (kubelet.service, containerd.service, session-3.scope),
 * and the slice above it. Empty strings when there is none.
 */
void cgroup_path_host_unit(const char *path, char *unit, size_t unit_len, char *slice,
			   size_t slice_len);

#endif /* ACCESSMON_CGROUP_PATH_H */
