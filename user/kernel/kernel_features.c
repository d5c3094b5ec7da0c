// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* What the running kernel offers the probes; see kernel_features.h. */
#include "kernel/kernel_features.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#define KERNEL_BTF "/sys/kernel/btf/vmlinux"

/* A sysctl's integer value, or -1 when it is not there. */
static int read_sysctl(const char *path)
{
	FILE *file = fopen(path, "re");
	int value = -1;

	if (!file)
		return -1;
	if (fscanf(file, "%d", &value) != 1)
		value = -1;
	fclose(file);
	return value;
}

/* libbpf's probes answer 1 (yes), 0 (no) or -errno (could not tell: treated as no). */
static bool map_type(enum bpf_map_type type)
{
	return libbpf_probe_bpf_map_type(type, NULL) == 1;
}

static bool prog_type(enum bpf_prog_type type)
{
	return libbpf_probe_bpf_prog_type(type, NULL) == 1;
}

static bool helper(enum bpf_prog_type type, enum bpf_func_id id)
{
	return libbpf_probe_bpf_helper(type, id, NULL) == 1;
}

/*
 * A kernel built without io_uring has no way around the open syscalls there; one
 * with kernel.io_uring_disabled=2 lets nobody use it. Anything else (even 1, which
 * leaves it to a group and to CAP_SYS_ADMIN) is a way a pod may take.
 */
static void probe_io_uring(struct kernel_features *features)
{
	long rc = syscall(__NR_io_uring_setup, 0, NULL);

	features->io_uring = true;
	if (rc < 0 && errno == ENOSYS) {
		features->io_uring = false;
		features->io_uring_absent_why = "the kernel has no io_uring";
	} else if (read_sysctl("/proc/sys/kernel/io_uring_disabled") == 2) {
		features->io_uring = false;
		features->io_uring_absent_why = "kernel.io_uring_disabled=2 lets nobody use io_uring";
	}
	if (rc >= 0)
		close((int)rc); /* cannot happen with no entries; never leak one */
	features->io_uring_form = kernel_info_io_uring_form(features->btf);
	features->io_uring_create = kernel_info_io_uring_create_readable(features->btf);
}

int kernel_features_probe(struct kernel_features *features, struct am_error *err)
{
	struct utsname uts;

	memset(features, 0, sizeof(*features));
	if (uname(&uts) == 0)
		snprintf(features->release, sizeof(features->release), "%s", uts.release);
	features->btf = btf__load_vmlinux_btf();
	if (!features->btf) {
		am_error_set(err,
			     "kernel BTF not found at " KERNEL_BTF
			     ": accessmon needs a kernel built with CONFIG_DEBUG_INFO_BTF=y (every AKS "
			     "node image has it; Linux " KERNEL_MINIMUM " or later)");
		return -ENOTSUP;
	}
	features->ringbuf = map_type(BPF_MAP_TYPE_RINGBUF);
	if (!features->ringbuf) {
		am_error_set(err,
			     "kernel %s has no BPF ring buffer (BPF_MAP_TYPE_RINGBUF, Linux " KERNEL_MINIMUM
			     "): accessmon hands every event over through it and cannot run here",
			     features->release);
		return -ENOTSUP;
	}
	features->sk_storage = map_type(BPF_MAP_TYPE_SK_STORAGE);
	features->lru_hash = map_type(BPF_MAP_TYPE_LRU_HASH);
	features->tracepoint_programs = prog_type(BPF_PROG_TYPE_TRACEPOINT);
	features->sock_addr_programs = prog_type(BPF_PROG_TYPE_CGROUP_SOCK_ADDR);
	features->skb_programs = prog_type(BPF_PROG_TYPE_CGROUP_SKB);
	features->tracepoint_task_pt_regs =
		features->tracepoint_programs &&
		helper(BPF_PROG_TYPE_TRACEPOINT, BPF_FUNC_task_pt_regs);
	features->sock_addr_current_task =
		features->sock_addr_programs &&
		helper(BPF_PROG_TYPE_CGROUP_SOCK_ADDR, BPF_FUNC_get_current_task) &&
		helper(BPF_PROG_TYPE_CGROUP_SOCK_ADDR, BPF_FUNC_probe_read_kernel);
	features->sock_addr_sk_storage = features->sock_addr_programs && features->sk_storage &&
					 helper(BPF_PROG_TYPE_CGROUP_SOCK_ADDR,
						BPF_FUNC_sk_storage_get);
	features->skb_sk_storage = features->skb_programs && features->sk_storage &&
				   helper(BPF_PROG_TYPE_CGROUP_SKB, BPF_FUNC_sk_storage_get);
	features->memlock_charged = !helper(BPF_PROG_TYPE_SOCKET_FILTER, BPF_FUNC_ktime_get_coarse_ns);
	probe_io_uring(features);
	features->unprivileged_bpf_disabled = kernel_unprivileged_bpf_disabled();
	return 0;
}

int kernel_unprivileged_bpf_disabled(void)
{
	return read_sysctl("/proc/sys/kernel/unprivileged_bpf_disabled");
}

void kernel_features_release(struct kernel_features *features)
{
	btf__free(features->btf);
	features->btf = NULL;
}

bool kernel_features_tracepoint(const struct kernel_features *features, const char *name)
{
	return features->btf && kernel_info_has_tracepoint(features->btf, name);
}
