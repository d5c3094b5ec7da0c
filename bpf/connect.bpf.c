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
 *
 * A socket whose bytes matter is marked here, in socket storage, for the packet
 * hooks in net.bpf.c: IMDS and WireServer (the HTTP request), port 443 (the TLS
 * ClientHello), DNS over TCP (the answers), DNS over UDP (who asked, since the
 * answers arrive in softirq context). The mark survives any later NAT.
 *
 * Every other connect and send is aggregated: the first of a pod (cgroup) to a
 * destination is reported, repeats within am_repeat_window_ns of it are counted
 * in connect_repeats and leave the kernel as counts (user/probes.c). IMDS and
 * WireServer contacts, and sockets marked for capture (their records carry the
 * cookie the packet records are joined on), are always reported one by one.
 */
#include "common.bpf.h"

#define AF_INET 2
#define AF_INET6 10
#define IPPROTO_TCP 6
#define IPPROTO_UDP 17
#define EEXIST 17

#define IMDS_IP4 0xa9fea9feu	   /* 169.254.169.254 */
#define WIRESERVER_IP4 0xa83f8110u /* 168.63.129.16 */

static __always_inline __u8 capture_for(__u8 family, __u32 ip4_host, __u16 port, __u8 protocol)
{
	if (protocol == IPPROTO_UDP && port == 53)
		return AM_CAPTURE_DNS_UDP;
	if (protocol != IPPROTO_TCP)
		return 0;
	if (family == 4 && ip4_host == IMDS_IP4 && port == 80)
		return AM_CAPTURE_HTTP;
	if (family == 4 && ip4_host == WIRESERVER_IP4 && (port == 80 || port == 32526))
		return AM_CAPTURE_HTTP;
	if (port == 443)
		return AM_CAPTURE_TLS;
	if (port == 53)
		return AM_CAPTURE_DNS_TCP;
	return 0;
}

/*
 * Marks the socket for capture, remembering who connected it. A socket reported
 * here reaching IMDS or WireServer without capture (UDP, another port) is marked
 * as said, so that the packet hook does not report its packets a second time,
 * and without their process.
 */
static __always_inline __u8 mark_socket(struct bpf_sock_addr *ctx, __u8 capture, __u32 pid,
					bool node_service)
{
	struct am_flow_state *state;
	struct bpf_sock *sk = ctx->sk;

	if ((!capture && !node_service) || !sk || !am_connect_marks)
		return 0;
	state = bpf_sk_storage_get(&flows, sk, 0, BPF_SK_STORAGE_GET_F_CREATE);
	if (!state) {
		counter_add(AM_CNT_FLOW_STORAGE, 1);
		return 0;
	}
	state->pid = pid;
	state->capture = capture;
	state->flags = 0;
	state->hello_done = 0;
	state->packet_said = !capture;
	state->captured_out = 0;
	state->seq_end = 0;
	return capture;
}

/*
 * Counts a repeat in `map` and returns true, or returns false when this contact is
 * to be reported: the first of its key, the first after the window ended (which
 * opens a new one), or one the full map cannot hold (counted: never lost).
 */
static __always_inline bool repeat_count_in(void *map, const struct am_repeat_key *key, __u64 now)
{
	struct am_repeat_value *value = bpf_map_lookup_elem(map, key);

	if (!value) {
		struct am_repeat_value fresh = {.window_start_ns = now};
		long rc = bpf_map_update_elem(map, key, &fresh, BPF_NOEXIST);

		if (rc == 0)
			return false;
		if (rc != -EEXIST) {
			counter_add(AM_CNT_REPEAT_FULL, 1);
			return false;
		}
		/* Another CPU's first contact, an instant earlier: this one repeats it. */
		value = bpf_map_lookup_elem(map, key);
		if (!value)
			return false;
	} else if ((__s64)(now - value->window_start_ns) >= (__s64)am_repeat_window_ns) {
		value->window_start_ns = now;
		return false;
	}
	/* Racing CPUs may both set first_ns or last_ns; either time is a repeat's. */
	if (!value->first_ns)
		value->first_ns = now;
	value->last_ns = now;
	value->last_pid_tgid = bpf_get_current_pid_tgid();
	__sync_fetch_and_add(&value->count, 1);
	return true;
}

/* Whether this contact is only counted: a repeat of one reported within the window. */
static __always_inline bool repeat_counted(__u16 type, __u8 family, __u8 protocol, __u16 port,
					   const __u32 words[4], __u64 now)
{
	struct am_repeat_key key;
	__u64 *epoch;

	if (!am_repeat_window_ns)
		return false;
	__builtin_memset(&key, 0, sizeof(key));
	key.cgroup_id = bpf_get_current_cgroup_id();
	epoch = cgroup_epoch(key.cgroup_id);
	key.epoch = epoch ? (__u32)*epoch : 0;
	key.type = type;
	key.port = port;
	key.family = family;
	key.protocol = protocol;
	if (family == 4)
		__builtin_memcpy(key.addr, &words[3], 4);
	else
		__builtin_memcpy(key.addr, words, 16);
	/* One call site per map, so the verifier knows each map at its lookup. */
	if (am_repeat_slot)
		return repeat_count_in(&connect_repeats_1, &key, now);
	return repeat_count_in(&connect_repeats_0, &key, now);
}

static __always_inline void report(struct bpf_sock_addr *ctx, __u16 type, __u8 family,
				   const __u32 words[4])
{
	struct am_connect_record *record;
	__u16 port = bpf_ntohs((__u16)ctx->user_port);
	__u8 protocol = ctx->protocol;
	__u32 ip4 = bpf_ntohl(words[3]);
	__u8 capture;
	__u64 now;

	if (from_self())
		return;
	/* One time for the record and its repeats' window_start: they join on it. */
	now = bpf_ktime_get_boot_ns();
	capture = capture_for(family, ip4, port, protocol);
	if (family == 4 && ip4 == IMDS_IP4) {
		/* Whatever follows a token request is a first contact again (theft, then use). */
		cgroup_epoch_bump(bpf_get_current_cgroup_id());
	} else if (!capture && !(family == 4 && ip4 == WIRESERVER_IP4) &&
		   repeat_counted(type, family, protocol, port, words, now)) {
		return;
	}
	record = record_reserve_at(sizeof(*record), type, now);
	if (!record)
		return;
	task_fill(&record->task);
	record->family = family;
	record->protocol = protocol;
	record->port = port;
	record->flags = 0;
	record->sport = 0;
	__builtin_memset(record->addr, 0, sizeof(record->addr));
	if (family == 4)
		__builtin_memcpy(record->addr, &words[3], 4);
	else
		__builtin_memcpy(record->addr, words, 16);
	record->cookie = bpf_get_socket_cookie(ctx);
	record->capture = mark_socket(ctx, capture, record->task.pid,
				      family == 4 && (ip4 == IMDS_IP4 || ip4 == WIRESERVER_IP4));
	record_submit(record);
}

static __always_inline void report_v4(struct bpf_sock_addr *ctx, __u16 type)
{
	__u32 words[4] = {0, 0, 0, ctx->user_ip4};

	report(ctx, type, 4, words);
}

static __always_inline void report_v6(struct bpf_sock_addr *ctx, __u16 type)
{
	__u32 words[4];

	/* The context only allows 4-byte reads of user_ip6. */
	words[0] = ctx->user_ip6[0];
	words[1] = ctx->user_ip6[1];
	words[2] = ctx->user_ip6[2];
	words[3] = ctx->user_ip6[3];
	/* ::ffff:a.b.c.d is an IPv4 destination reached through an IPv6 socket. */
	if (words[0] == 0 && words[1] == 0 && words[2] == bpf_htonl(0x0000ffff))
		report(ctx, type, 4, words);
	else
		report(ctx, type, 6, words);
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
