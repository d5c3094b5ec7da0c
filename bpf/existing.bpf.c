// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * Sockets older than the monitor, found once at start by walking every open file
 * of every process (the task_file iterator, 5.8; it sees all network namespaces,
 * which the TCP and UDP iterators, bound to their creator's, do not): a pod that
 * opened its connection to IMDS, or its raw socket, before the monitor started
 * would otherwise never be seen making it.
 *
 * - A TCP or UDP socket connected to IMDS or WireServer is reported as a connect
 *   record flagged AM_CONNECT_EXISTING, with the process that holds it and its
 *   local port (cookie 0: the socket reached from a file is not a pointer the
 *   cookie and storage helpers accept). What a TCP one sends to an HTTP port is
 *   captured from its next packet on: the packet hook marks it then (net.bpf.c),
 *   and user space ties those bytes to this record by cgroup and ports.
 * - A raw or packet socket is reported as a socket record flagged
 *   AM_SOCKET_EXISTING.
 *
 * A socket held by several processes (inherited across fork) is reported once per
 * holder: each of them can use it.
 */
#include "socket.bpf.h"
#include <bpf/bpf_tracing.h>

#define IPPROTO_TCP_NR 6
#define IPPROTO_UDP_NR 17
#define TCP_CLOSE_NR 7
#define IMDS_IP4 0xa9fea9feu
#define WIRESERVER_IP4 0xa83f8110u

/* The task context of a record, for the task holding the file (not the iterating one). */
static __always_inline void task_fill_from(struct am_task *out, struct task_struct *task)
{
	out->pid = BPF_CORE_READ(task, tgid);
	out->tid = BPF_CORE_READ(task, pid);
	out->ppid = BPF_CORE_READ(task, real_parent, tgid);
	out->uid = BPF_CORE_READ(task, cred, uid.val);
	out->cgroup_id = BPF_CORE_READ(task, cgroups, dfl_cgrp, kn, id);
	/* Zeroed first: a string read leaves the bytes after it as the ring left them. */
	__builtin_memset(out->comm, 0, sizeof(out->comm));
	BPF_CORE_READ_STR_INTO(&out->comm, task, comm);
}

/* The IPv4 peer of a connected socket (IPv4, or IPv4-mapped IPv6) if it is IMDS or WireServer; else 0. */
static __always_inline __u32 node_service_peer(struct sock *sk)
{
	struct sock_common *skc = &sk->__sk_common;
	__u16 family = BPF_CORE_READ(skc, skc_family);
	__u32 daddr = 0;

	if (family == AF_INET_NR) {
		daddr = bpf_ntohl(BPF_CORE_READ(skc, skc_daddr));
	} else if (family == AF_INET6_NR) {
		__u32 words[4];

		BPF_CORE_READ_INTO(&words, skc, skc_v6_daddr.in6_u.u6_addr32);
		if (words[0] == 0 && words[1] == 0 && words[2] == bpf_htonl(0x0000ffff))
			daddr = bpf_ntohl(words[3]);
	}
	if (daddr != IMDS_IP4 && daddr != WIRESERVER_IP4)
		return 0;
	/* A closed TCP socket holds no connection (a connected UDP one reads "established"). */
	if (BPF_CORE_READ(skc, skc_state) == TCP_CLOSE_NR)
		return 0;
	return daddr;
}

static __always_inline void report_connected(struct task_struct *task, struct sock *sk,
					     __u32 daddr, __u16 protocol)
{
	struct sock_common *skc = &sk->__sk_common;
	struct am_connect_record *record;
	__u16 dport = bpf_ntohs(BPF_CORE_READ(skc, skc_dport));

	record = record_reserve(sizeof(*record), AM_REC_CONNECT);
	if (!record)
		return;
	task_fill_from(&record->task, task);
	record->family = 4;
	record->protocol = (__u8)protocol;
	record->port = dport;
	/* The packet hook captures it from its next packet, as it would a new one. */
	record->capture = protocol == IPPROTO_TCP_NR &&
					  (dport == 80 || (daddr == WIRESERVER_IP4 && dport == 32526))
				  ? AM_CAPTURE_HTTP
				  : 0;
	record->flags = AM_CONNECT_EXISTING;
	record->sport = BPF_CORE_READ(skc, skc_num);
	record->cookie = 0;
	__builtin_memset(record->addr, 0, sizeof(record->addr));
	daddr = bpf_htonl(daddr);
	__builtin_memcpy(record->addr, &daddr, 4);
	record_submit(record);
}

SEC("iter/task_file")
int am_existing(struct bpf_iter__task_file *ctx)
{
	struct task_struct *task = ctx->task;
	struct file *file = ctx->file;
	struct am_socket_record *record;
	struct socket *sock;
	struct sock *sk;
	__u16 family, type, protocol;
	__u32 daddr;

	if (!task || !file || BPF_CORE_READ(task, tgid) == am_self_tgid)
		return 0;
	sock = bpf_sock_from_file(file);
	if (!sock)
		return 0;
	sk = BPF_CORE_READ(sock, sk);
	if (!sk)
		return 0;
	family = BPF_CORE_READ(sk, __sk_common.skc_family);
	type = BPF_CORE_READ(sock, type);
	protocol = BPF_CORE_READ(sk, sk_protocol);
	if (!socket_reported(family, type)) {
		if (protocol == IPPROTO_TCP_NR || protocol == IPPROTO_UDP_NR) {
			daddr = node_service_peer(sk);
			if (daddr)
				report_connected(task, sk, daddr, protocol);
		}
		return 0;
	}
	record = record_reserve(sizeof(*record), AM_REC_SOCKET);
	if (!record)
		return 0;
	task_fill_from(&record->task, task);
	record->result = ctx->fd;
	record->family = family;
	record->type = type & SOCK_TYPE_MASK_NR;
	record->protocol = protocol;
	record->syscall = AM_SOCKET_EXISTING;
	record->reserved = 0;
	record_submit(record);
	return 0;
}
