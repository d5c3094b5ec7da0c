/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * Unit-test helper: one pod's uid, its container's id and the container's cgroup
 * path as the kubelet's systemd driver names it.
 */
#ifndef ACCESSMON_TEST_POD_FIXTURE_H
#define ACCESSMON_TEST_POD_FIXTURE_H

#define POD_UID "0c7d2f4a-1b3e-4c5d-9e8f-a1b2c3d4e5f6"
#define CONTAINER "3f1ea5a1c8d2b0e4f6a7b8c9d0e1f2a3b4c5d6e7f8091a2b3c4d5e6f708192a3"
#define CGROUP_PATH                                                                            \
	"/kubepods.slice/kubepods-besteffort.slice/"                                           \
	"kubepods-besteffort-pod0c7d2f4a_1b3e_4c5d_9e8f_a1b2c3d4e5f6.slice/"                  \
	"cri-containerd-" CONTAINER ".scope"

#endif /* ACCESSMON_TEST_POD_FIXTURE_H */
