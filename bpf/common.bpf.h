/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/* Helpers every probe uses: the task context of a record, counters, reservation. */
#ifndef ACCESSMON_COMMON_BPF_H
#define ACCESSMON_COMMON_BPF_H

#include "maps.bpf.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>

static __always_inline void counter_add(__u32 which, __u64 n)
{
	__u64 *value = bpf_map_lookup_elem(&counters, &which);

	if (value)
		*value += n;
}

/*
 * Reserves a record of `size` bytes and fills its header. A failed reservation is
 * counted, so user space can report every record the ring buffer could not take.
 */
static __always_inline void *record_reserve_at(__u32 size, __u16 type, __u64 time_ns)
{
	struct am_record_header *header = bpf_ringbuf_reserve(&events, size, 0);

	if (!header) {
		counter_add(AM_CNT_RINGBUF_FULL, 1);
		return NULL;
	}
	header->type = type;
	header->size = size;
	header->cpu = bpf_get_smp_processor_id();
	header->time_ns = time_ns;
	return header;
}

/* The same, stamped now (CLOCK_BOOTTIME). */
static __always_inline void *record_reserve(__u32 size, __u16 type)
{
	return record_reserve_at(size, type, bpf_ktime_get_boot_ns());
}

/*
 * Submits a record, waking the collector only when it is due. A wakeup is an
 * interrupt work item and, on a VM, an interprocessor interrupt: microseconds,
 * paid by the process that made the record. Left to itself the kernel wakes the
 * collector for every record it finds caught up, which a fast collector always
 * is: one wakeup per record. Instead a record wakes it when none did for
 * am_wakeup_ns, or when am_wakeup_bytes wait unread; the others are read at that
 * wakeup or at the collector's own poll timeout, which is as long (user/probes.c).
 * CPUs may race on am_last_wakeup_ns: at worst both wake it.
 */
static __always_inline void record_submit(void *record)
{
	__u64 now = ((struct am_record_header *)record)->time_ns;
	__u64 flags = 0;

	if (am_wakeup_ns) {
		if ((__s64)(now - am_last_wakeup_ns) >= (__s64)am_wakeup_ns) {
			am_last_wakeup_ns = now;
			flags = BPF_RB_FORCE_WAKEUP;
		} else if (bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA) >= am_wakeup_bytes) {
			flags = BPF_RB_FORCE_WAKEUP;
		} else {
			flags = BPF_RB_NO_WAKEUP;
		}
	}
	bpf_ringbuf_submit(record, flags);
}

/* The monitor itself, which never reports on its own doings. */
static __always_inline bool from_self(void)
{
	return am_self_tgid && (__u32)(bpf_get_current_pid_tgid() >> 32) == am_self_tgid;
}

/* The cgroup's epoch slot (see cgroup_epochs in maps.bpf.h). */
static __always_inline __u64 *cgroup_epoch(__u64 cgroup_id)
{
	__u32 slot = (__u32)cgroup_id & (AM_EPOCH_SLOTS - 1);

	return bpf_map_lookup_elem(&cgroup_epochs, &slot);
}

/* A credential may have been taken: the cgroup's next contacts are reported again. */
static __always_inline void cgroup_epoch_bump(__u64 cgroup_id)
{
	__u64 *epoch = cgroup_epoch(cgroup_id);

	if (epoch)
		__sync_fetch_and_add(epoch, 1);
}

static __always_inline void task_fill_common(struct am_task *task)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();

	task->pid = pid_tgid >> 32;
	task->tid = (__u32)pid_tgid;
	task->uid = (__u32)bpf_get_current_uid_gid();
	task->cgroup_id = bpf_get_current_cgroup_id();
	bpf_get_current_comm(task->comm, sizeof(task->comm));
}

/*
 * The task context of a record, from the connect hooks (the parent by probe reads,
 * where the kernel lets them read the task; else 0, and user space's process
 * cache names the parent).
 */
static __always_inline void task_fill(struct am_task *task)
{
	task_fill_common(task);
	task->ppid = 0;
	if (am_connect_parent)
		task->ppid = BPF_CORE_READ((struct task_struct *)bpf_get_current_task(), real_parent,
					   tgid);
}

/*
 * Whether bpf_get_current_task_btf() exists (Linux 5.11): it gives tracing
 * programs the current task as a typed pointer they may walk with plain loads.
 * Resolved when the programs load, from the running kernel's own list of helpers;
 * the branch not taken is never verified, so older kernels (5.10) load the
 * probe-read path instead.
 */
#define HAVE_TASK_BTF bpf_core_enum_value_exists(enum bpf_func_id, BPF_FUNC_get_current_task_btf)

/* The same, from tracing programs, which read the parent as a typed pointer. */
static __always_inline void task_fill_traced(struct am_task *task)
{
	task_fill_common(task);
	if (HAVE_TASK_BTF)
		task->ppid = bpf_get_current_task_btf()->real_parent->tgid;
	else
		task->ppid = BPF_CORE_READ((struct task_struct *)bpf_get_current_task(), real_parent,
					   tgid);
}

#endif /* ACCESSMON_COMMON_BPF_H */
