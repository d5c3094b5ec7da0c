// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * cgroup v2 directories as they are created and removed. The kernel hands the
 * path here, so user space learns a pod's cgroup before the pod's first event even
 * when the cgroup lives only for a moment; v1 hierarchies are skipped.
 */
#include "common.bpf.h"
#include <bpf/bpf_tracing.h>

static __always_inline void report_cgroup(struct cgroup *cgrp, const char *path, __u16 type)
{
	struct am_cgroup_record *record;

	/* The default (v2) hierarchy is the one with hierarchy id 0. */
	if (BPF_CORE_READ(cgrp, root, hierarchy_id) != 0)
		return;
	record = record_reserve(sizeof(*record), type);
	if (!record)
		return;
	record->cgroup_id = BPF_CORE_READ(cgrp, kn, id);
	record->level = BPF_CORE_READ(cgrp, level);
	record->reserved = 0;
	if (bpf_probe_read_kernel_str(record->path, sizeof(record->path), path) < 0)
		record->path[0] = '\0';
	record_submit(record);
}

SEC("tp_btf/cgroup_mkdir")
int BPF_PROG(am_cgroup_mkdir, struct cgroup *cgrp, const char *path)
{
	report_cgroup(cgrp, path, AM_REC_CGROUP_MKDIR);
	return 0;
}

SEC("tp_btf/cgroup_rmdir")
int BPF_PROG(am_cgroup_rmdir, struct cgroup *cgrp, const char *path)
{
	report_cgroup(cgrp, path, AM_REC_CGROUP_RMDIR);
	return 0;
}
