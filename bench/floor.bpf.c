// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * The floor: empty programs on the hooks the monitor uses. What the kernel charges
 * for running any program at all on a hook is the least a monitor on that hook can
 * cost; bench/run.sh compares the monitor's added cost with these.
 *
 *  - the classic syscalls tracepoints the monitor attaches with --open-hook tracepoint,
 *  - the BTF raw tracepoint sys_exit it attaches with --open-hook raw,
 *  - the cgroup sock_addr hooks it attaches at the cgroup v2 root,
 *  - floor-lookup: the sys_exit_openat tracepoint with the least program that
 *    matches a file by identity (below),
 *  - the packet hooks beside them (cgroup_skb ingress and egress at the root, and
 *    the inet_sock_set_state BTF tracepoint): what every connection pays besides.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>

SEC("tracepoint/syscalls/sys_exit_open")
int floor_exit_open(void *ctx)
{
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_openat")
int floor_exit_openat(void *ctx)
{
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_openat2")
int floor_exit_openat2(void *ctx)
{
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_creat")
int floor_exit_creat(void *ctx)
{
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_open_by_handle_at")
int floor_exit_open_by_handle_at(void *ctx)
{
	return 0;
}

SEC("tp_btf/sys_exit")
int BPF_PROG(floor_raw_sys_exit, struct pt_regs *regs, long ret)
{
	return 0;
}

/*
 * The least a program can do to tell a watched file by its identity: the new
 * fd's struct file, its inode's number and device, one lookup in a hash map
 * (empty: nothing ever matches). The same reads as the monitor's, nothing more.
 */
struct file_key {
	__u64 inode;
	__u32 dev;
	__u32 pad;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, struct file_key);
	__type(value, __u32);
} floor_files SEC(".maps");

SEC("tracepoint/syscalls/sys_exit_openat")
int floor_lookup_openat(struct trace_event_raw_sys_exit *ctx)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct fdtable *fdt = task->files->fdt;
	struct file_key key = {};
	struct file *file = NULL;
	struct inode *inode;
	long fd = ctx->ret;

	if (fd < 0 || (unsigned long)fd >= fdt->max_fds)
		return 0;
	bpf_probe_read_kernel(&file, sizeof(file), &fdt->fd[fd]);
	if (!file)
		return 0;
	inode = BPF_CORE_READ(file, f_inode);
	key.inode = BPF_CORE_READ(inode, i_ino);
	key.dev = BPF_CORE_READ(inode, i_sb, s_dev);
	return bpf_map_lookup_elem(&floor_files, &key) ? 1 : 0;
}

/* Sock_addr programs must return 1 (allow). */
SEC("cgroup/connect4")
int floor_connect4(struct bpf_sock_addr *ctx)
{
	return 1;
}

SEC("cgroup/connect6")
int floor_connect6(struct bpf_sock_addr *ctx)
{
	return 1;
}

SEC("cgroup/sendmsg4")
int floor_sendmsg4(struct bpf_sock_addr *ctx)
{
	return 1;
}

SEC("cgroup/sendmsg6")
int floor_sendmsg6(struct bpf_sock_addr *ctx)
{
	return 1;
}

SEC("cgroup_skb/ingress")
int floor_ingress(struct __sk_buff *skb)
{
	return 1;
}

SEC("cgroup_skb/egress")
int floor_egress(struct __sk_buff *skb)
{
	return 1;
}

SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(floor_sock_set_state, struct sock *sk, int oldstate, int newstate)
{
	return 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
