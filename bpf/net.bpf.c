// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * Packet bytes that name a destination or say what was asked of it, from cgroup
 * skb hooks at the cgroup v2 root. Only the bytes needed leave the kernel:
 *  - egress, sockets marked at connect: the HTTP request to IMDS or WireServer (up
 *    to AM_HTTP_FLOW_CAPTURE bytes a connection), the first segment of a TLS
 *    connection (the ClientHello and its server name);
 *  - ingress: the first segment of the answer on HTTP-marked sockets (the status
 *    line), DNS answers (UDP from port 53, and DNS over TCP on marked sockets).
 * Every other packet costs a header read or a socket storage lookup, and passes.
 * Bytes not captured are counted. The hooks return 1: nothing is ever dropped.
 */
#include "common.bpf.h"
#include <bpf/bpf_tracing.h>

#define ETH_P_IP 0x0800
#define ETH_P_IPV6 0x86DD
#define IPPROTO_TCP 6
#define IPPROTO_UDP 17
#define TCP_CLOSE 7

struct l4 {
	__u32 offset; /* of the transport header */
	__u8 family;
	__u8 protocol;
	__u8 saddr[16];
	__u8 daddr[16];
};

/* Reads the IP header at the start of the packet (cgroup skb programs see it there). */
static __always_inline int read_ip(struct __sk_buff *skb, struct l4 *l4)
{
	__u8 first;

	if (bpf_skb_load_bytes(skb, 0, &first, 1))
		return -1;
	__builtin_memset(l4->saddr, 0, sizeof(l4->saddr));
	__builtin_memset(l4->daddr, 0, sizeof(l4->daddr));
	if ((first >> 4) == 4) {
		l4->family = 4;
		l4->offset = (first & 0x0f) * 4;
		if (bpf_skb_load_bytes(skb, 9, &l4->protocol, 1) ||
		    bpf_skb_load_bytes(skb, 12, l4->saddr, 4) ||
		    bpf_skb_load_bytes(skb, 16, l4->daddr, 4))
			return -1;
		return 0;
	}
	if ((first >> 4) == 6) {
		/* Extension headers are not followed: the capture only wants plain TCP/UDP. */
		l4->family = 6;
		l4->offset = 40;
		if (bpf_skb_load_bytes(skb, 6, &l4->protocol, 1) ||
		    bpf_skb_load_bytes(skb, 8, l4->saddr, 16) ||
		    bpf_skb_load_bytes(skb, 24, l4->daddr, 16))
			return -1;
		return 0;
	}
	return -1;
}

struct ports {
	__be16 source;
	__be16 dest;
};

/* Sends `len` payload bytes from `offset` as a payload record. */
static __always_inline void emit(struct __sk_buff *skb, const struct l4 *l4, const struct ports *ports,
				 __u32 payload_offset, __u32 payload_len, __u32 seq, __u8 kind,
				 __u32 pid, __u32 budget)
{
	struct am_payload_record *record;
	__u32 len = payload_len;

	if (len > budget)
		len = budget;
	if (len > AM_PAYLOAD_LEN)
		len = AM_PAYLOAD_LEN;
	if (len < payload_len)
		counter_add(AM_CNT_PAYLOAD_CUT, payload_len - len);
	if (len == 0)
		return;
	record = record_reserve(sizeof(*record), AM_REC_PAYLOAD);
	if (!record)
		return;
	record->cookie = bpf_get_socket_cookie(skb);
	record->cgroup_id = bpf_skb_cgroup_id(skb);
	record->pid = pid;
	record->kind = kind;
	record->family = l4->family;
	record->protocol = l4->protocol;
	record->flags = len < payload_len ? AM_PAYLOAD_TRUNCATED : 0;
	record->sport = bpf_ntohs(ports->source);
	record->dport = bpf_ntohs(ports->dest);
	record->seq = seq;
	record->payload_len = payload_len;
	record->reserved = 0;
	__builtin_memcpy(record->saddr, l4->saddr, sizeof(record->saddr));
	__builtin_memcpy(record->daddr, l4->daddr, sizeof(record->daddr));
	/*
	 * 1 <= len <= AM_PAYLOAD_LEN already; this form of it (unchanged in value) is
	 * one the verifier can follow through whatever the compiler makes of checks.
	 */
	len = ((len - 1) & (AM_PAYLOAD_LEN - 1)) + 1;
	if (bpf_skb_load_bytes(skb, payload_offset, record->data, len)) {
		bpf_ringbuf_discard(record, 0);
		return;
	}
	record->captured = len;
	record_submit(record);
}

/* The TCP header's data offset and sequence number. */
static __always_inline int read_tcp(struct __sk_buff *skb, const struct l4 *l4, __u32 *payload_offset,
				    __u32 *seq)
{
	__u8 doff;
	__be32 raw_seq;

	if (bpf_skb_load_bytes(skb, l4->offset + 4, &raw_seq, 4) ||
	    bpf_skb_load_bytes(skb, l4->offset + 12, &doff, 1))
		return -1;
	*seq = bpf_ntohl(raw_seq);
	*payload_offset = l4->offset + (doff >> 4) * 4;
	return 0;
}

static __always_inline struct bpf_sock *sock_of(struct __sk_buff *skb)
{
	struct bpf_sock *sk = skb->sk;

	return sk ? bpf_sk_fullsock(sk) : NULL;
}

static __always_inline struct am_flow_state *flow_of(struct __sk_buff *skb)
{
	struct bpf_sock *sk = sock_of(skb);

	return sk ? bpf_sk_storage_get(&flows, sk, 0, 0) : NULL;
}

SEC("cgroup_skb/egress")
int am_egress(struct __sk_buff *skb)
{
	struct am_flow_state *state = flow_of(skb);
	__u32 payload_offset, payload_len, seq, budget;
	struct ports ports;
	struct l4 l4;

	if (!state || !(state->capture & (AM_CAPTURE_HTTP | AM_CAPTURE_TLS)))
		return 1;
	if (read_ip(skb, &l4) || l4.protocol != IPPROTO_TCP ||
	    bpf_skb_load_bytes(skb, l4.offset, &ports, sizeof(ports)) ||
	    read_tcp(skb, &l4, &payload_offset, &seq))
		return 1;
	if (skb->len <= payload_offset)
		return 1; /* no payload: handshake, ACKs */
	payload_len = skb->len - payload_offset;
	if (state->capture & AM_CAPTURE_HTTP) {
		budget = state->captured_out < AM_HTTP_FLOW_CAPTURE
				 ? AM_HTTP_FLOW_CAPTURE - state->captured_out
				 : 0;
		if (!budget) {
			counter_add(AM_CNT_PAYLOAD_CUT, payload_len);
			return 1;
		}
		state->captured_out += payload_len < budget ? payload_len : budget;
		emit(skb, &l4, &ports, payload_offset, payload_len, seq, AM_PAYLOAD_HTTP_REQUEST,
		     state->pid, budget);
		return 1;
	}
	if (state->hello_seen)
		return 1;
	state->hello_seen = 1;
	emit(skb, &l4, &ports, payload_offset, payload_len, seq, AM_PAYLOAD_TLS_HELLO, state->pid,
	     AM_PAYLOAD_LEN);
	return 1;
}

/*
 * The receiving socket says what a packet can be before any byte of it is read:
 * UDP (a DNS answer comes from port 53, even to an unconnected socket, so that
 * one is read), or TCP, of interest only on a marked socket.
 */
SEC("cgroup_skb/ingress")
int am_ingress(struct __sk_buff *skb)
{
	__u32 payload_offset, payload_len, seq, budget;
	struct am_flow_state *state;
	struct bpf_sock *sk = sock_of(skb);
	struct ports ports;
	struct l4 l4;

	if (!sk)
		return 1;
	if (sk->protocol == IPPROTO_UDP) {
		if (read_ip(skb, &l4) || l4.protocol != IPPROTO_UDP ||
		    bpf_skb_load_bytes(skb, l4.offset, &ports, sizeof(ports)) ||
		    ports.source != bpf_htons(53) || skb->len <= l4.offset + 8)
			return 1;
		state = bpf_sk_storage_get(&flows, sk, 0, 0);
		emit(skb, &l4, &ports, l4.offset + 8, skb->len - l4.offset - 8, 0, AM_PAYLOAD_DNS_UDP,
		     state ? state->pid : 0, AM_PAYLOAD_LEN);
		return 1;
	}
	if (sk->protocol != IPPROTO_TCP)
		return 1;
	state = bpf_sk_storage_get(&flows, sk, 0, 0);
	if (!state || !(state->capture & (AM_CAPTURE_HTTP | AM_CAPTURE_DNS_TCP)))
		return 1;
	if (read_ip(skb, &l4) || l4.protocol != IPPROTO_TCP ||
	    bpf_skb_load_bytes(skb, l4.offset, &ports, sizeof(ports)) ||
	    read_tcp(skb, &l4, &payload_offset, &seq) || skb->len <= payload_offset)
		return 1;
	payload_len = skb->len - payload_offset;
	if (state->capture & AM_CAPTURE_HTTP) {
		/* The status line is all that is wanted of the answer. */
		if (state->response_seen)
			return 1;
		state->response_seen = 1;
		emit(skb, &l4, &ports, payload_offset, payload_len, seq, AM_PAYLOAD_HTTP_RESPONSE,
		     state->pid, 64);
		return 1;
	}
	budget = state->captured_in < AM_DNS_TCP_FLOW_CAPTURE
			 ? AM_DNS_TCP_FLOW_CAPTURE - state->captured_in
			 : 0;
	if (!budget) {
		counter_add(AM_CNT_PAYLOAD_CUT, payload_len);
		return 1;
	}
	state->captured_in += payload_len < budget ? payload_len : budget;
	emit(skb, &l4, &ports, payload_offset, payload_len, seq, AM_PAYLOAD_DNS_TCP, state->pid,
	     budget);
	return 1;
}

/* A captured connection that closes: its pending requests can be reported. */
SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(am_sock_set_state, struct sock *sk, int oldstate, int newstate)
{
	struct am_flow_close_record *record;
	struct am_flow_state *state;

	if (newstate != TCP_CLOSE)
		return 0;
	state = bpf_sk_storage_get(&flows, sk, 0, 0);
	if (!state || !state->capture)
		return 0;
	record = record_reserve(sizeof(*record), AM_REC_FLOW_CLOSE);
	if (!record)
		return 0;
	record->cookie = bpf_get_socket_cookie(sk);
	record_submit(record);
	return 0;
}
