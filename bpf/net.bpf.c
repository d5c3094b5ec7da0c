// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * Packet bytes that name a destination or say what was asked of it, from cgroup
 * skb hooks at the cgroup v2 root. Only the bytes needed leave the kernel:
 *  - egress, sockets marked at connect: every byte sent to IMDS or WireServer
 *    (however many requests, of whatever size), and a TLS connection's first
 *    bytes until the server speaks (the ClientHello, over as many segments as it
 *    takes);
 *  - egress, any other socket (raw, ICMP, UDP, a TCP connect the hooks missed):
 *    the headers of its first packet to IMDS or WireServer;
 *  - ingress: the status line of each answer on HTTP-marked sockets, DNS answers
 *    (UDP from port 53, and every byte of DNS over TCP on marked sockets).
 * A segment is cut into records of AM_PAYLOAD_LEN. What each pod may capture is
 * budgeted (AM_CAPTURE_BURST, refilled at AM_CAPTURE_RATE): a pod that spends it,
 * or a ring buffer that is full, loses its connection's bytes from there, said
 * with an AM_PAYLOAD_LOST record and in the connection's state, and user space
 * judges that connection at its worst. Every other packet costs a header read or
 * a socket storage lookup, and passes. The hooks return 1: nothing is dropped.
 */
#include "common.bpf.h"
#include <bpf/bpf_tracing.h>

#define ETH_P_IP 0x0800
#define ETH_P_IPV6 0x86DD
#define IPPROTO_TCP 6
#define IPPROTO_UDP 17
#define SOCK_STREAM_NR 1
#define TCP_ESTABLISHED 1
#define TCP_SYN_SENT 2
#define TCP_CLOSE 7

#define IMDS_IP4 0xa9fea9feu	   /* 169.254.169.254 */
#define WIRESERVER_IP4 0xa83f8110u /* 168.63.129.16 */

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

/* What one run captures: where the bytes are, and what they are. */
struct capture {
	struct __sk_buff *skb;
	const struct l4 *l4;
	const struct ports *ports;
	__u32 offset;	   /* of the first payload byte in the packet */
	__u32 payload_len; /* payload bytes in the packet */
	__u32 seq;	   /* of the first payload byte (UDP: 0) */
	__u32 pid;
	__u8 kind;
};

/*
 * The pod's capture budget: takes up to `want` bytes of it and returns what it
 * granted. A token bucket per cgroup, refilled at AM_CAPTURE_RATE; CPUs racing on
 * one bucket may grant a little more than it holds, never less. Without room to
 * keep the score (the map is an LRU and always has), everything is granted.
 */
static __always_inline __u32 budget_take(__u64 cgroup_id, __u32 want, __u64 now)
{
	struct am_budget *budget = bpf_map_lookup_elem(&capture_budget, &cgroup_id);
	__u64 elapsed, tokens;
	__u32 grant;

	if (!budget) {
		struct am_budget fresh = {.tokens = AM_CAPTURE_BURST, .last_ns = now};

		bpf_map_update_elem(&capture_budget, &cgroup_id, &fresh, BPF_NOEXIST);
		budget = bpf_map_lookup_elem(&capture_budget, &cgroup_id);
		if (!budget)
			return want;
	}
	elapsed = now > budget->last_ns ? now - budget->last_ns : 0;
	if (elapsed > 10 * 1000000000ull)
		elapsed = 10 * 1000000000ull;
	tokens = budget->tokens + elapsed * AM_CAPTURE_RATE / 1000000000ull;
	if (tokens > AM_CAPTURE_BURST)
		tokens = AM_CAPTURE_BURST;
	grant = tokens < want ? (__u32)tokens : want;
	budget->tokens = tokens - grant;
	budget->last_ns = now;
	if (grant < want)
		counter_add(AM_CNT_CAPTURE_BUDGET, want - grant);
	return grant;
}

/*
 * What every record of one capture shares, set by capture_prepare() in a per-CPU
 * slot for am_emit_chunks() to copy (a cgroup skb program runs to its end on one
 * CPU, so nothing else uses the slot meanwhile).
 */
static __always_inline struct am_capture_template *capture_prepare(const struct capture *c)
{
	__u32 zero = 0;
	struct am_capture_template *t = bpf_map_lookup_elem(&capture_scratch, &zero);

	if (!t)
		return NULL;
	t->cookie = bpf_get_socket_cookie(c->skb);
	t->cgroup_id = bpf_skb_cgroup_id(c->skb);
	t->pid = c->pid;
	t->kind = c->kind;
	t->family = c->l4->family;
	t->protocol = c->l4->protocol;
	t->sport = bpf_ntohs(c->ports->source);
	t->dport = bpf_ntohs(c->ports->dest);
	t->seq = c->seq;
	t->payload_len = c->payload_len;
	t->offset = c->offset;
	__builtin_memcpy(t->saddr, c->l4->saddr, sizeof(t->saddr));
	__builtin_memcpy(t->daddr, c->l4->daddr, sizeof(t->daddr));
	return t;
}

/* A record for the bytes from `done` on, filled from the template; NULL when the ring is full. */
static __always_inline struct am_payload_record *payload_reserve(const struct am_capture_template *t,
								 __u32 done)
{
	struct am_payload_record *record = record_reserve(sizeof(*record), AM_REC_PAYLOAD);

	if (!record)
		return NULL;
	record->cookie = t->cookie;
	record->cgroup_id = t->cgroup_id;
	record->pid = t->pid;
	record->kind = t->kind;
	record->family = t->family;
	record->protocol = t->protocol;
	record->flags = 0;
	record->sport = t->sport;
	record->dport = t->dport;
	/* seq: TCP's of the first byte here (UDP: its offset in the datagram). */
	record->seq = t->seq + done;
	/* The segment's bytes from here: more than `captured` says the record holds part. */
	record->payload_len = t->payload_len - done;
	record->captured = 0;
	record->reserved = 0;
	__builtin_memcpy(record->saddr, t->saddr, sizeof(record->saddr));
	__builtin_memcpy(record->daddr, t->daddr, sizeof(record->daddr));
	return record;
}

/*
 * Captures the first `limit` payload bytes of the prepared capture as records of
 * AM_PAYLOAD_LEN. Returns the bytes captured: fewer than limit when the ring
 * buffer is full. A global function: the verifier checks it once, alone, not once
 * for every state of every caller (inlined, the loop made the hooks too large to
 * load).
 */
__noinline int am_emit_chunks(struct __sk_buff *skb, __u32 limit)
{
	__u32 zero = 0, off, len;
	struct am_capture_template *t = bpf_map_lookup_elem(&capture_scratch, &zero);
	int i;

	if (!skb || !t)
		return 0;
	/*
	 * Nothing but i is carried from one turn to the next (off is i's multiple, and
	 * each way out returns), so the verifier sees every turn's start as one state.
	 */
	for (i = 0; i < AM_PAYLOAD_CHUNKS; i++) {
		struct am_payload_record *record;

		off = (__u32)i * AM_PAYLOAD_LEN;
		if (off >= limit)
			return (int)limit;
		record = payload_reserve(t, off);
		if (!record)
			return (int)off;
		len = limit - off;
		if (len > AM_PAYLOAD_LEN)
			len = AM_PAYLOAD_LEN;
		/* 1 <= len <= AM_PAYLOAD_LEN, in a form the verifier follows. */
		len = ((len - 1) & (AM_PAYLOAD_LEN - 1)) + 1;
		if (bpf_skb_load_bytes(skb, t->offset + off, record->data, len)) {
			bpf_ringbuf_discard(record, 0);
			return (int)off;
		}
		record->captured = len;
		record_submit(record);
	}
	return (int)(limit < AM_PAYLOAD_CHUNKS * AM_PAYLOAD_LEN ? limit
							     : AM_PAYLOAD_CHUNKS * AM_PAYLOAD_LEN);
}

/* Prepares the capture and captures its first `limit` bytes; returns how many. */
static __always_inline __u32 emit_chunks(const struct capture *c, __u32 limit)
{
	if (!limit || !capture_prepare(c))
		return 0;
	return (__u32)am_emit_chunks(c->skb, limit);
}

/* Says that the bytes from `captured` on were not captured (budget spent, ring full). */
static __always_inline void emit_lost(const struct capture *c, __u32 captured)
{
	struct am_capture_template *t = capture_prepare(c);
	struct am_payload_record *record = t ? payload_reserve(t, captured) : NULL;

	if (!record)
		return; /* the connection's state still says it, at close */
	record->flags = AM_PAYLOAD_LOST;
	record_submit(record);
}

/*
 * Captures a segment of a marked connection within the pod's budget and `room`
 * (what the kind still wants), and marks the connection lost when any byte it
 * wanted could not be had.
 */
static __always_inline void capture_segment(const struct capture *c, struct am_flow_state *state,
					    __u32 room)
{
	__u32 want = c->payload_len < room ? c->payload_len : room, grant, done;
	__u32 max = AM_PAYLOAD_LEN * AM_PAYLOAD_CHUNKS;

	if (!want)
		return;
	if (state->flags & AM_FLOW_LOST) {
		counter_add(AM_CNT_PAYLOAD_CUT, want);
		return;
	}
	grant = budget_take(bpf_skb_cgroup_id(c->skb), want, bpf_ktime_get_boot_ns());
	if (grant > max)
		grant = max;
	done = emit_chunks(c, grant);
	state->captured_out += done;
	if (done < want) {
		counter_add(AM_CNT_PAYLOAD_CUT, want - done);
		state->flags |= AM_FLOW_LOST;
		emit_lost(c, done);
	}
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

/*
 * Whether a packet goes to IMDS or WireServer: asked of every packet that leaves
 * a socket nothing captures, so read in place (direct packet access), with a
 * helper only when the header is not in the linear part.
 */
static __always_inline bool to_node_service(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data, *end = (void *)(long)skb->data_end;
	struct iphdr *ip = data;
	__u8 first;
	__be32 saddr, daddr;

	if ((void *)(ip + 1) <= end) {
		if (ip->version != 4)
			return false;
		saddr = ip->saddr;
		daddr = ip->daddr;
	} else if (bpf_skb_load_bytes(skb, 0, &first, 1) || (first >> 4) != 4 ||
		   bpf_skb_load_bytes(skb, 12, &saddr, 4) || bpf_skb_load_bytes(skb, 16, &daddr, 4)) {
		return false;
	}
	/* From the address itself: a stand-in for the service inside the pod, not it. */
	if (saddr == daddr)
		return false;
	return daddr == bpf_htonl(IMDS_IP4) || daddr == bpf_htonl(WIRESERVER_IP4);
}

/*
 * A packet to IMDS or WireServer from a socket the connect hooks did not mark for
 * capture: a raw socket, ICMP, UDP, a protocol or port nothing captures. Its
 * headers are reported, once a socket (every packet when there is none to keep
 * the mark on); the pod is the packet's cgroup.
 */
static __always_inline void report_packet(struct __sk_buff *skb, const struct l4 *l4)
{
	struct am_flow_state *state = NULL;
	struct ports ports = {0};
	struct bpf_sock *sk = sock_of(skb);
	struct capture c;
	__u32 len;

	if (sk) {
		state = bpf_sk_storage_get(&flows, sk, 0, BPF_SK_STORAGE_GET_F_CREATE);
		if (state && state->packet_said)
			return;
	}
	if (l4->protocol == IPPROTO_TCP || l4->protocol == IPPROTO_UDP)
		bpf_skb_load_bytes(skb, l4->offset, &ports, sizeof(ports));
	len = skb->len > l4->offset ? skb->len - l4->offset : 0;
	c = (struct capture){skb, l4, &ports, l4->offset, len, 0, state ? state->pid : 0,
			     AM_PAYLOAD_PACKET};
	if (len > AM_PACKET_CAPTURE)
		len = AM_PACKET_CAPTURE;
	if (budget_take(bpf_skb_cgroup_id(skb), len, bpf_ktime_get_boot_ns()) < len)
		return; /* counted: a pod that floods spends its own budget */
	if (emit_chunks(&c, len) && state)
		state->packet_said = 1;
}

/*
 * A TCP connection to IMDS's or WireServer's HTTP port that no connect hook
 * marked (older than the monitor, bpf/existing.bpf.c; or made where the connect
 * hooks cannot mark sockets) is marked here, at its first packet seen, and read
 * from there on: user space takes bytes of a connection it never saw connect as
 * those of a connection already open (user/flows.h).
 */
static __always_inline struct am_flow_state *mark_late(struct __sk_buff *skb, struct bpf_sock *sk,
						       const struct l4 *l4)
{
	struct am_flow_state *state;
	struct ports ports;
	__u32 daddr;
	__u16 dport;

	/* A TCP socket's: a raw socket's crafted segment is only a packet (report_packet). */
	if (l4->family != 4 || l4->protocol != IPPROTO_TCP || sk->type != SOCK_STREAM_NR ||
	    bpf_skb_load_bytes(skb, l4->offset, &ports, sizeof(ports)))
		return NULL;
	__builtin_memcpy(&daddr, l4->daddr, 4);
	daddr = bpf_ntohl(daddr);
	dport = bpf_ntohs(ports.dest);
	if (dport != 80 && !(daddr == WIRESERVER_IP4 && dport == 32526))
		return NULL;
	state = bpf_sk_storage_get(&flows, sk, 0, BPF_SK_STORAGE_GET_F_CREATE);
	if (!state) {
		counter_add(AM_CNT_FLOW_STORAGE, 1);
		return NULL;
	}
	if (state->capture)
		return state; /* marked meanwhile, on another CPU */
	state->pid = 0;
	state->capture = AM_CAPTURE_HTTP;
	state->flags = AM_FLOW_WAS_ESTABLISHED;
	state->hello_done = 0;
	state->packet_said = 0;
	state->captured_out = 0;
	state->seq_end = 0;
	return state;
}

SEC("cgroup_skb/egress")
int am_egress(struct __sk_buff *skb)
{
	struct bpf_sock *sk = sock_of(skb);
	struct am_flow_state *state = sk ? bpf_sk_storage_get(&flows, sk, 0, 0) : NULL;
	__u32 payload_offset, payload_len, seq, end;
	struct capture c;
	struct ports ports;
	struct l4 l4;

	/*
	 * Only an HTTP-marked socket's packets are known to be captured whole. Any
	 * other socket's packet to IMDS or WireServer is reported, TLS-marked ones too:
	 * a connection to some address on 443 that a NAT rule sends on to IMDS leaves
	 * the pod with IMDS's address on it.
	 */
	if (!state || !(state->capture & AM_CAPTURE_HTTP)) {
		/*
		 * (Not from_self(): cgroup skb programs may not ask for the current task
		 * before 6.x, and the monitor sends nothing to IMDS or WireServer.)
		 */
		if (to_node_service(skb) && !read_ip(skb, &l4)) {
			/*
			 * Also a socket marked only as said (a connect to IMDS on another
			 * port): a NAT rule in the pod may send it on to port 80.
			 */
			if ((!state || !state->capture) && sk)
				state = mark_late(skb, sk, &l4);
			if (!state || !(state->capture & AM_CAPTURE_HTTP))
				report_packet(skb, &l4);
		}
		if (!state || !(state->capture & (AM_CAPTURE_HTTP | AM_CAPTURE_TLS)))
			return 1;
	}
	if (read_ip(skb, &l4) || l4.protocol != IPPROTO_TCP ||
	    bpf_skb_load_bytes(skb, l4.offset, &ports, sizeof(ports)) ||
	    read_tcp(skb, &l4, &payload_offset, &seq))
		return 1;
	if (skb->len <= payload_offset)
		return 1; /* no payload: handshake, ACKs */
	payload_len = skb->len - payload_offset;
	c = (struct capture){skb, &l4, &ports, payload_offset, payload_len, seq, state->pid,
			     AM_PAYLOAD_HTTP_REQUEST};
	if (state->capture & AM_CAPTURE_HTTP) {
		/* Retransmissions resend what was captured: only new bytes are taken. */
		end = seq + payload_len;
		if (state->seq_end && (__s32)(end - state->seq_end) <= 0)
			return 1;
		state->seq_end = end;
		capture_segment(&c, state, payload_len);
		return 1;
	}
	/* TLS: the ClientHello, until the server speaks or the hello's room is spent. */
	if (state->hello_done || state->captured_out >= AM_TLS_HELLO_CAPTURE)
		return 1;
	c.kind = AM_PAYLOAD_TLS_HELLO;
	capture_segment(&c, state, AM_TLS_HELLO_CAPTURE - state->captured_out);
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
	__u32 payload_offset, payload_len, seq;
	struct am_flow_state *state;
	struct bpf_sock *sk = sock_of(skb);
	struct capture c;
	struct ports ports;
	struct l4 l4;
	char head[5];

	if (!sk)
		return 1;
	if (sk->protocol == IPPROTO_UDP) {
		if (read_ip(skb, &l4) || l4.protocol != IPPROTO_UDP ||
		    bpf_skb_load_bytes(skb, l4.offset, &ports, sizeof(ports)) ||
		    ports.source != bpf_htons(53) || skb->len <= l4.offset + 8)
			return 1;
		state = bpf_sk_storage_get(&flows, sk, 0, 0);
		payload_len = skb->len - l4.offset - 8;
		c = (struct capture){skb, &l4, &ports, l4.offset + 8, payload_len, 0,
				     state ? state->pid : 0, AM_PAYLOAD_DNS_UDP};
		/* A datagram's records carry their offset in seq; a large answer is several. */
		emit_chunks(&c, budget_take(bpf_skb_cgroup_id(skb),
					    payload_len < AM_DNS_UDP_CAPTURE ? payload_len
									     : AM_DNS_UDP_CAPTURE,
					    bpf_ktime_get_boot_ns()));
		return 1;
	}
	if (sk->protocol != IPPROTO_TCP)
		return 1;
	state = bpf_sk_storage_get(&flows, sk, 0, 0);
	if (!state || !state->capture)
		return 1;
	if (read_ip(skb, &l4) || l4.protocol != IPPROTO_TCP ||
	    bpf_skb_load_bytes(skb, l4.offset, &ports, sizeof(ports)) ||
	    read_tcp(skb, &l4, &payload_offset, &seq) || skb->len <= payload_offset)
		return 1;
	payload_len = skb->len - payload_offset;
	if (state->capture & AM_CAPTURE_TLS) {
		state->hello_done = 1; /* the server answered: the hello is over */
		return 1;
	}
	c = (struct capture){skb, &l4, &ports, payload_offset, payload_len, seq, state->pid,
			     AM_PAYLOAD_HTTP_RESPONSE};
	if (state->capture & AM_CAPTURE_HTTP) {
		/* Each segment that starts an answer: its status line, nothing of the body. */
		if (payload_len < sizeof(head) ||
		    bpf_skb_load_bytes(skb, payload_offset, head, sizeof(head)) || head[0] != 'H' ||
		    head[1] != 'T' || head[2] != 'T' || head[3] != 'P' || head[4] != '/')
			return 1;
		emit_chunks(&c, payload_len < AM_HTTP_STATUS_CAPTURE ? payload_len
								      : AM_HTTP_STATUS_CAPTURE);
		return 1;
	}
	if (!(state->capture & AM_CAPTURE_DNS_TCP))
		return 1;
	c.kind = AM_PAYLOAD_DNS_TCP;
	capture_segment(&c, state, payload_len);
	return 1;
}

/*
 * A captured connection established or closed: its outcome (was IMDS reached at
 * all?), and at its end what the kernel sent (seq_end) and whether any of it was
 * lost, so that bytes lost at the very end are known too.
 */
SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(am_sock_set_state, struct sock *sk, int oldstate, int newstate)
{
	struct am_flow_state_record *record;
	struct am_flow_state *state;
	__u8 which;

	if (newstate != TCP_CLOSE && newstate != TCP_SYN_SENT &&
	    !(newstate == TCP_ESTABLISHED && oldstate == TCP_SYN_SENT))
		return 0;
	/*
	 * Only HTTP connections (IMDS, WireServer) have an outcome: every other
	 * connection's steps pass on its address, without a storage lookup.
	 */
	if (newstate != TCP_CLOSE && sk->__sk_common.skc_daddr != bpf_htonl(IMDS_IP4) &&
	    sk->__sk_common.skc_daddr != bpf_htonl(WIRESERVER_IP4))
		return 0;
	state = bpf_sk_storage_get(&flows, sk, 0, 0);
	if (!state || !state->capture)
		return 0;
	if (newstate == TCP_ESTABLISHED)
		state->flags |= AM_FLOW_WAS_ESTABLISHED;
	/* Only HTTP connections' outcome is reported; the others need only their end. */
	if (newstate != TCP_CLOSE && !(state->capture & AM_CAPTURE_HTTP))
		return 0;
	which = newstate == TCP_CLOSE ? AM_FLOW_CLOSED
		: newstate == TCP_SYN_SENT ? AM_FLOW_CONNECTING
					   : AM_FLOW_ESTABLISHED;
	record = record_reserve(sizeof(*record), AM_REC_FLOW_STATE);
	if (!record)
		return 0;
	record->cookie = bpf_get_socket_cookie(sk);
	record->state = which;
	record->flags = state->flags;
	record->reserved = 0;
	record->seq_end = state->seq_end;
	record_submit(record);
	return 0;
}
