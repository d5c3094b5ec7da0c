// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * Outbound connections, taken by cgroup sock_addr hooks attached at the cgroup v2
 * root, so every process on the node is covered whatever its network namespace
 * (hostNetwork pods included). These hooks run before routing and before any
 * netfilter NAT, so the address is the one the process asked for.
 *
 * connect4/connect6 see connect(2) on TCP and UDP sockets; sendmsg4/sendmsg6 see
 * sendto(2)/sendmsg(2) with an explicit address on unconnected UDP sockets. Every
 * program returns 1: accessmon observes, it never blocks.
 */
#include "common.bpf.h"

#define AF_INET 2
#define AF_INET6 10

static __always_inline void report_v4(struct bpf_sock_addr *ctx, __u16 type)
{
	struct am_connect_record *record = record_reserve(sizeof(*record), type);
	__u32 ip4;

	if (!record)
		return;
	task_fill(&record->task);
	record->family = 4;
	record->protocol = ctx->protocol;
	record->port = bpf_ntohs((__u16)ctx->user_port);
	record->reserved = 0;
	__builtin_memset(record->addr, 0, sizeof(record->addr));
	ip4 = ctx->user_ip4;
	__builtin_memcpy(record->addr, &ip4, sizeof(ip4));
	bpf_ringbuf_submit(record, 0);
}

static __always_inline void report_v6(struct bpf_sock_addr *ctx, __u16 type)
{
	struct am_connect_record *record = record_reserve(sizeof(*record), type);
	__u32 words[4];

	if (!record)
		return;
	task_fill(&record->task);
	/* The context only allows 4-byte reads of user_ip6. */
	words[0] = ctx->user_ip6[0];
	words[1] = ctx->user_ip6[1];
	words[2] = ctx->user_ip6[2];
	words[3] = ctx->user_ip6[3];
	record->protocol = ctx->protocol;
	record->port = bpf_ntohs((__u16)ctx->user_port);
	record->reserved = 0;
	__builtin_memset(record->addr, 0, sizeof(record->addr));
	/* ::ffff:a.b.c.d is an IPv4 destination reached through an IPv6 socket. */
	if (words[0] == 0 && words[1] == 0 && words[2] == bpf_htonl(0x0000ffff)) {
		record->family = 4;
		__builtin_memcpy(record->addr, &words[3], sizeof(words[3]));
	} else {
		record->family = 6;
		__builtin_memcpy(record->addr, words, sizeof(words));
	}
	bpf_ringbuf_submit(record, 0);
}

SEC("cgroup/connect4")
int am_connect4(struct bpf_sock_addr *ctx)
{
	report_v4(ctx, AM_REC_CONNECT);
	return 1;
}

SEC("cgroup/connect6")
int am_connect6(struct bpf_sock_addr *ctx)
{
	report_v6(ctx, AM_REC_CONNECT);
	return 1;
}

SEC("cgroup/sendmsg4")
int am_sendmsg4(struct bpf_sock_addr *ctx)
{
	report_v4(ctx, AM_REC_SEND);
	return 1;
}

SEC("cgroup/sendmsg6")
int am_sendmsg6(struct bpf_sock_addr *ctx)
{
	report_v6(ctx, AM_REC_SEND);
	return 1;
}
