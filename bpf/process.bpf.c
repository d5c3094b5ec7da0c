// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * Process lifecycle: exec, fork and exit, from the scheduler's BTF tracepoints.
 * User space keeps a process cache from these, so every event names its process's
 * executable, arguments and ancestry even when the process lived for a moment.
 * Threads are skipped: a new thread is not a new process, and a process has
 * exited only when its last thread has.
 */
#include "common.bpf.h"
#include <bpf/bpf_tracing.h>

SEC("tp_btf/sched_process_exec")
int BPF_PROG(am_process_exec, struct task_struct *task, pid_t old_pid, struct linux_binprm *bprm)
{
	struct am_exec_record *record;
	unsigned long arg_start, arg_end, size;
	long copied;

	record = record_reserve(sizeof(*record), AM_REC_EXEC);
	if (!record)
		return 0;
	task_fill_traced(&record->task);
	record->start_ns = BPF_CORE_READ(task, start_boottime);
	record->flags = 0;
	record->reserved = 0;
	copied = bpf_probe_read_kernel_str(record->exe, sizeof(record->exe),
					   BPF_CORE_READ(bprm, filename));
	if (copied < 0)
		record->exe[0] = '\0';
	else if (copied == sizeof(record->exe))
		record->flags |= AM_EXEC_EXE_TRUNCATED;

	arg_start = BPF_CORE_READ(task, mm, arg_start);
	arg_end = BPF_CORE_READ(task, mm, arg_end);
	size = arg_end > arg_start ? arg_end - arg_start : 0;
	if (size > sizeof(record->args)) {
		size = sizeof(record->args);
		record->flags |= AM_EXEC_ARGS_TRUNCATED;
	}
	/* The mask proves the bound to the verifier; size is already within it. */
	size &= (sizeof(record->args) * 2 - 1);
	if (size > sizeof(record->args))
		size = sizeof(record->args);
	if (size && bpf_probe_read_user(record->args, size, (const void *)arg_start) < 0)
		size = 0;
	record->args_size = size;
	record_submit(record);
	return 0;
}

SEC("tp_btf/sched_process_fork")
int BPF_PROG(am_process_fork, struct task_struct *parent, struct task_struct *child)
{
	struct am_fork_record *record;
	__u32 pid = BPF_CORE_READ(child, tgid);

	if (BPF_CORE_READ(child, pid) != pid)
		return 0; /* a thread */
	record = record_reserve(sizeof(*record), AM_REC_FORK);
	if (!record)
		return 0;
	record->task.pid = pid;
	record->task.tid = pid;
	record->task.ppid = BPF_CORE_READ(child, real_parent, tgid);
	record->task.uid = (__u32)bpf_get_current_uid_gid();
	record->task.cgroup_id = bpf_get_current_cgroup_id();
	BPF_CORE_READ_STR_INTO(&record->task.comm, child, comm);
	record->start_ns = BPF_CORE_READ(child, start_boottime);
	record_submit(record);
	return 0;
}

SEC("tp_btf/sched_process_exit")
int BPF_PROG(am_process_exit, struct task_struct *task)
{
	struct am_exit_record *record;

	/* signal->live reaches zero when the last thread of the group exits. */
	if (BPF_CORE_READ(task, signal, live.counter) != 0)
		return 0;
	record = record_reserve(sizeof(*record), AM_REC_EXIT);
	if (!record)
		return 0;
	record->pid = BPF_CORE_READ(task, tgid);
	record->exit_code = BPF_CORE_READ(task, exit_code);
	record_submit(record);
	return 0;
}
