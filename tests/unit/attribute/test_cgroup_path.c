// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* Unit tests: pod and container identity from kubelet cgroup paths, host units too. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "attribute/cgroup_path.h"

#define ID64 "3f1ea5a1c8d2b0e4f6a7b8c9d0e1f2a3b4c5d6e7f8091a2b3c4d5e6f708192a3"

static void systemd_burstable(void **state)
{
	struct cgroup_pod_ref ref;

	(void)state;
	assert_true(cgroup_path_parse(
		"/kubepods.slice/kubepods-burstable.slice/"
		"kubepods-burstable-pod0c7d2f4a_1b3e_4c5d_9e8f_a1b2c3d4e5f6.slice/"
		"cri-containerd-" ID64 ".scope",
		&ref));
	assert_true(ref.is_pod);
	assert_int_equal(ref.qos, POD_QOS_BURSTABLE);
	assert_int_equal(ref.driver, CGROUP_DRIVER_SYSTEMD);
	assert_string_equal(ref.pod_uid, "0c7d2f4a-1b3e-4c5d-9e8f-a1b2c3d4e5f6");
	assert_string_equal(ref.container_id, ID64);
	assert_string_equal(ref.runtime, "containerd");
}

static void systemd_besteffort_and_guaranteed(void **state)
{
	struct cgroup_pod_ref ref;

	(void)state;
	assert_true(cgroup_path_parse("/kubepods.slice/kubepods-besteffort.slice/"
				      "kubepods-besteffort-pod11111111_2222_3333_4444_555555555555.slice",
				      &ref));
	assert_int_equal(ref.qos, POD_QOS_BESTEFFORT);
	assert_string_equal(ref.pod_uid, "11111111-2222-3333-4444-555555555555");
	assert_string_equal(ref.container_id, "");

	assert_true(cgroup_path_parse("/kubepods.slice/"
				      "kubepods-pod11111111_2222_3333_4444_555555555555.slice/"
				      "cri-containerd-abc123.scope",
				      &ref));
	assert_int_equal(ref.qos, POD_QOS_GUARANTEED);
	assert_string_equal(ref.container_id, "abc123");
}

static void cgroupfs_driver(void **state)
{
	struct cgroup_pod_ref ref;

	(void)state;
	assert_true(cgroup_path_parse("/kubepods/burstable/pod0c7d2f4a-1b3e-4c5d-9e8f-a1b2c3d4e5f6/" ID64,
				      &ref));
	assert_int_equal(ref.driver, CGROUP_DRIVER_CGROUPFS);
	assert_int_equal(ref.qos, POD_QOS_BURSTABLE);
	assert_string_equal(ref.pod_uid, "0c7d2f4a-1b3e-4c5d-9e8f-a1b2c3d4e5f6");
	assert_string_equal(ref.container_id, ID64);

	assert_true(cgroup_path_parse("/kubepods/pod0c7d2f4a-1b3e-4c5d-9e8f-a1b2c3d4e5f6/" ID64, &ref));
	assert_int_equal(ref.qos, POD_QOS_GUARANTEED);
}

static void nested_prefix_and_upper_case(void **state)
{
	struct cgroup_pod_ref ref;

	(void)state;
	/* A kubelet in a container (kind) nests the hierarchy under its own cgroup. */
	assert_true(cgroup_path_parse("/system.slice/kind.scope/kubepods.slice/"
				      "kubepods-besteffort.slice/"
				      "kubepods-besteffort-podAABBCCDD_2222_3333_4444_555555555555.slice/"
				      "cri-containerd-ABCDEF.scope",
				      &ref));
	assert_string_equal(ref.pod_uid, "aabbccdd-2222-3333-4444-555555555555");
	assert_string_equal(ref.container_id, "abcdef");
}

static void not_pods(void **state)
{
	static const char *const paths[] = {
		"/",
		"",
		"/system.slice/kubelet.service",
		"/kubepods.slice",
		"/kubepods.slice/kubepods-burstable.slice",
		"/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-podnot-a-uid.slice",
		"/kubepods/burstable/pod1234",
		"/kubepods/burstable/notapod/" ID64,
		"/user.slice/kubepods-pod11111111_2222_3333_4444_555555555555.slice",
		"/kubepods.slice/kubepods-pod11111111_2222_3333_4444_55555555555.slice",
		"/kubepods.slice/kubepods-pod11111111x2222_3333_4444_555555555555.slice",
	};
	struct cgroup_pod_ref ref;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		assert_false(cgroup_path_parse(paths[i], &ref));
		assert_false(ref.is_pod);
		assert_string_equal(ref.pod_uid, "");
	}
}

static void bad_container_component(void **state)
{
	struct cgroup_pod_ref ref;

	(void)state;
	/* A pod-level child that is not a container scope still names the pod. */
	assert_true(cgroup_path_parse("/kubepods.slice/"
				      "kubepods-pod11111111_2222_3333_4444_555555555555.slice/"
				      "something-else",
				      &ref));
	assert_string_equal(ref.container_id, "");
	assert_true(cgroup_path_parse("/kubepods.slice/"
				      "kubepods-pod11111111_2222_3333_4444_555555555555.slice/"
				      "cri-containerd-xyz.scope",
				      &ref));
	assert_string_equal(ref.container_id, "");
}

static void host_units(void **state)
{
	char unit[128], slice[128];

	(void)state;
	cgroup_path_host_unit("/system.slice/kubelet.service", unit, sizeof(unit), slice,
			      sizeof(slice));
	assert_string_equal(unit, "kubelet.service");
	assert_string_equal(slice, "system.slice");
	cgroup_path_host_unit("/system.slice/containerd.service/sub", unit, sizeof(unit), slice,
			      sizeof(slice));
	assert_string_equal(unit, "containerd.service");
	cgroup_path_host_unit("/user.slice/user-0.slice/session-3.scope", unit, sizeof(unit),
			      slice, sizeof(slice));
	assert_string_equal(unit, "session-3.scope");
	assert_string_equal(slice, "user-0.slice");
	cgroup_path_host_unit("/", unit, sizeof(unit), slice, sizeof(slice));
	assert_string_equal(unit, "");
	assert_string_equal(slice, "");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(systemd_burstable),
		cmocka_unit_test(systemd_besteffort_and_guaranteed),
		cmocka_unit_test(cgroupfs_driver),
		cmocka_unit_test(nested_prefix_and_upper_case),
		cmocka_unit_test(not_pods),
		cmocka_unit_test(bad_container_component),
		cmocka_unit_test(host_units),
	};

	return cmocka_run_group_tests_name("cgroup_path", tests, NULL, NULL);
}
