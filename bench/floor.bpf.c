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
 *    matches a file by identity, and floor-report: that, and an empty record
 *    reported for a match (below),
 *  - the packet hooks beside them (cgroup_skb ingress and egress at the root, and
 *    the inet_sock_set_state BTF tracepoint): what every connection pays besides.
 */
#include "vmlinux.h"
#include "accessmon.h"
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
 * fd's struct file, its inode's number and device, one lookup in a hash map.
 * The same reads as the monitor's, nothing more. floor-lookup's map stays empty;
 * floor-report's holds the file floor --watch names.
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

static __always_inline bool floor_match(long fd)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct fdtable *fdt = task->files->fdt;
	struct file_key key = {};
	struct file *file = NULL;
	struct inode *inode;

	if (fd < 0 || (unsigned long)fd >= fdt->max_fds)
		return false;
	bpf_probe_read_kernel(&file, sizeof(file), &fdt->fd[fd]);
	if (!file)
		return false;
	inode = BPF_CORE_READ(file, f_inode);
	key.inode = BPF_CORE_READ(inode, i_ino);
	key.dev = BPF_CORE_READ(inode, i_sb, s_dev);
	return bpf_map_lookup_elem(&floor_files, &key) != NULL;
}

SEC("tracepoint/syscalls/sys_exit_openat")
int floor_lookup_openat(struct trace_event_raw_sys_exit *ctx)
{
	return floor_match(ctx->ret) ? 1 : 0;
}

/*
 * floor-report: the match, then a record of the monitor's open record's size
 * reserved and submitted, waking the reader as the monitor's probes do (at most
 * every 10 ms, or when a quarter of the ring waits), and nothing written in it
 * but its time: what reporting an open at all costs, before reading anything
 * to report.
 */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4 << 20);
} floor_events SEC(".maps");

volatile __u64 floor_last_wakeup_ns = 0;

SEC("tracepoint/syscalls/sys_exit_openat")
int floor_report_openat(struct trace_event_raw_sys_exit *ctx)
{
	struct am_open_record *record;
	__u64 now, flags = BPF_RB_NO_WAKEUP;

	if (!floor_match(ctx->ret))
		return 0;
	record = bpf_ringbuf_reserve(&floor_events, sizeof(*record), 0);
	if (!record)
		return 0;
	now = bpf_ktime_get_boot_ns();
	record->header.time_ns = now;
	if (now - floor_last_wakeup_ns >= 10000000ull) {
		floor_last_wakeup_ns = now;
		flags = BPF_RB_FORCE_WAKEUP;
	} else if (bpf_ringbuf_query(&floor_events, BPF_RB_AVAIL_DATA) >= (1 << 20)) {
		flags = BPF_RB_FORCE_WAKEUP;
	}
	bpf_ringbuf_submit(record, flags);
	return 0;
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
