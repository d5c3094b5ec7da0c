/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * Raw and packet sockets a process makes. A packet socket (AF_PACKET) sends frames
 * below the cgroup hooks, which then never see them, and its frames carry no
 * cgroup; a raw socket can craft any IP packet. So the making of one is reported
 * in its own right, from socket(2) (the syscall exit hooks in open.bpf.c and
 * socket.bpf.c) and from io_uring's IORING_OP_SOCKET (open.bpf.c).
 */
#ifndef ACCESSMON_SOCKET_BPF_H
#define ACCESSMON_SOCKET_BPF_H

#include "common.bpf.h"

#define AF_INET_NR 2
#define AF_INET6_NR 10
#define AF_PACKET_NR 17
#define SOCK_RAW_NR 3
#define SOCK_PACKET_NR 10
#define SOCK_TYPE_MASK_NR 0xf

/*
 * A packet socket, or a raw or SOCK_PACKET IP socket. Not netlink's raw sockets
 * (ip, iptables, every CNI), nor other families: they send no IP packets.
 */
static __always_inline bool socket_reported(__u32 family, __u32 type)
{
	type &= SOCK_TYPE_MASK_NR;
	if (family == AF_PACKET_NR)
		return true;
	return (family == AF_INET_NR || family == AF_INET6_NR) &&
	       (type == SOCK_RAW_NR || type == SOCK_PACKET_NR);
}

static __always_inline void report_socket(long result, __u32 family, __u32 type, __u32 protocol,
					  __u16 via)
{
	struct am_socket_record *record;

	if (!socket_reported(family, type) || from_self())
		return;
	record = record_reserve(sizeof(*record), AM_REC_SOCKET);
	if (!record)
		return;
	task_fill_traced(&record->task);
	record->result = (__s32)result;
	record->family = (__u16)family;
	record->type = (__u16)(type & SOCK_TYPE_MASK_NR);
	record->protocol = (__u16)protocol;
	record->syscall = via;
	record->reserved = 0;
	record_submit(record);
}

#endif /* ACCESSMON_SOCKET_BPF_H */
