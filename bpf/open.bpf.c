// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * Opens of watched files. The probe runs when open(2), openat(2) or openat2(2)
 * returns: the new fd leads to the struct file the kernel really opened, and its
 * (device, inode) is looked up in the watch set. Matching on identity instead of
 * on the path string means a relative path, a symlink, a hard link or a bind mount
 * cannot hide the file. Unwatched opens cost one fd-table walk and one hash lookup;
 * only matches read the path the opener passed, from the syscall's saved registers.
 *
 * Two hook sets do the same job; user space loads one:
 *  - the classic syscalls/sys_exit_open* tracepoints (cheapest: they only fire for
 *    these syscalls; they need tracefs to attach), or
 *  - the BTF raw tracepoint sys_exit, which fires on every syscall and is filtered
 *    here by syscall number (the fallback when tracefs cannot be had).
 */
#include "common.bpf.h"
#include <bpf/bpf_tracing.h>

/* x86_64 syscall numbers. */
#define NR_OPEN 2
#define NR_OPENAT 257
#define NR_OPENAT2 437

static __always_inline struct file *fd_to_file(long fd)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	struct fdtable *fdt = BPF_CORE_READ(task, files, fdt);
	unsigned int max_fds = BPF_CORE_READ(fdt, max_fds);
	struct file **fds;
	struct file *file = NULL;

	if ((unsigned long)fd >= max_fds)
		return NULL;
	fds = BPF_CORE_READ(fdt, fd);
	bpf_probe_read_kernel(&file, sizeof(file), &fds[fd]);
	return file;
}

static __always_inline void report_open(struct pt_regs *regs, long ret, __u16 syscall)
{
	struct am_open_record *record;
	struct am_watch_value *watch;
	struct am_file_key key = {};
	const char *user_path;
	struct inode *inode;
	struct file *file;
	long copied;

	if (ret < 0)
		return;
	file = fd_to_file(ret);
	if (!file)
		return;
	inode = BPF_CORE_READ(file, f_inode);
	key.inode = BPF_CORE_READ(inode, i_ino);
	key.dev = BPF_CORE_READ(inode, i_sb, s_dev);
	watch = bpf_map_lookup_elem(&watched_files, &key);
	if (!watch)
		return;

	record = record_reserve(sizeof(*record), AM_REC_OPEN);
	if (!record)
		return;
	task_fill(&record->task);
	record->result = ret;
	record->inode = key.inode;
	record->dev = key.dev;
	record->watch_id = watch->watch_id;
	record->syscall = syscall;
	record->path_flags = 0;
	record->reserved = 0;
	record->flags = 0;

	/* Syscall arguments as saved on entry: di, si, dx, r10. */
	if (syscall == AM_OPEN_SYSCALL_OPEN) {
		user_path = (const char *)BPF_CORE_READ(regs, di);
		record->flags = (__u32)BPF_CORE_READ(regs, si);
	} else {
		user_path = (const char *)BPF_CORE_READ(regs, si);
		if (syscall == AM_OPEN_SYSCALL_OPENAT) {
			record->flags = (__u32)BPF_CORE_READ(regs, dx);
		} else {
			__u64 how_flags = 0;

			bpf_probe_read_user(&how_flags, sizeof(how_flags),
					    (const void *)BPF_CORE_READ(regs, dx));
			record->flags = (__u32)how_flags;
		}
	}
	copied = bpf_probe_read_user_str(record->path, sizeof(record->path), user_path);
	if (copied < 0) {
		record->path[0] = '\0';
		record->path_flags |= AM_PATH_UNREADABLE;
		counter_add(AM_CNT_OPEN_PATH_FAULT, 1);
	} else if (copied == sizeof(record->path)) {
		record->path_flags |= AM_PATH_TRUNCATED;
	}
	bpf_ringbuf_submit(record, 0);
}

static __always_inline struct pt_regs *current_regs(void)
{
	return (struct pt_regs *)bpf_task_pt_regs(bpf_get_current_task_btf());
}

SEC("tracepoint/syscalls/sys_exit_open")
int am_exit_open(struct trace_event_raw_sys_exit *ctx)
{
	report_open(current_regs(), ctx->ret, AM_OPEN_SYSCALL_OPEN);
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_openat")
int am_exit_openat(struct trace_event_raw_sys_exit *ctx)
{
	report_open(current_regs(), ctx->ret, AM_OPEN_SYSCALL_OPENAT);
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_openat2")
int am_exit_openat2(struct trace_event_raw_sys_exit *ctx)
{
	report_open(current_regs(), ctx->ret, AM_OPEN_SYSCALL_OPENAT2);
	return 0;
}

SEC("tp_btf/sys_exit")
int BPF_PROG(am_raw_sys_exit, struct pt_regs *regs, long ret)
{
	long nr = BPF_CORE_READ(regs, orig_ax);

	if (nr == NR_OPENAT)
		report_open(regs, ret, AM_OPEN_SYSCALL_OPENAT);
	else if (nr == NR_OPEN)
		report_open(regs, ret, AM_OPEN_SYSCALL_OPEN);
	else if (nr == NR_OPENAT2)
		report_open(regs, ret, AM_OPEN_SYSCALL_OPENAT2);
	return 0;
}
