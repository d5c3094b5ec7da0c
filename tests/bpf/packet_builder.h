/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * Packets for BPF_PROG_TEST_RUN of the cgroup skb programs: an Ethernet header
 * (the test run strips it; a cgroup skb program sees the IP header first), an
 * IPv4 or IPv6 header and a TCP, UDP or ICMP header, then the payload. Lengths
 * are right; checksums are left 0, as nothing on the test run's path checks them.
 */
#ifndef ACCESSMON_TESTS_BPF_PACKET_BUILDER_H
#define ACCESSMON_TESTS_BPF_PACKET_BUILDER_H

#include <arpa/inet.h>
#include <net/ethernet.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <netinet/ip6.h>
#include <netinet/tcp.h>
#include <netinet/udp.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define PACKET_MAX 4096

struct packet {
	uint8_t bytes[PACKET_MAX];
	size_t len;
	size_t transport; /* offset of the transport header in bytes[] */
};

/* What follows the IP header. */
struct transport {
	uint8_t protocol; /* IPPROTO_TCP, IPPROTO_UDP, IPPROTO_ICMP */
	uint16_t sport, dport;
	uint32_t seq; /* TCP */
	const void *payload;
	size_t payload_len;
};

static inline size_t transport_header_len(uint8_t protocol)
{
	return protocol == IPPROTO_TCP ? sizeof(struct tcphdr) : 8; /* UDP, ICMP: 8 */
}

/* Writes the transport header and payload at packet->transport; returns its length. */
static inline size_t transport_write(struct packet *packet, const struct transport *t)
{
	uint8_t *at = packet->bytes + packet->transport;
	size_t header = transport_header_len(t->protocol), total = header + t->payload_len;

	memset(at, 0, header);
	if (t->protocol == IPPROTO_TCP) {
		struct tcphdr *tcp = (struct tcphdr *)at;

		tcp->source = htons(t->sport);
		tcp->dest = htons(t->dport);
		tcp->seq = htonl(t->seq);
		tcp->doff = sizeof(*tcp) / 4;
		tcp->psh = 1;
		tcp->ack = 1;
		tcp->window = htons(65535);
	} else if (t->protocol == IPPROTO_UDP) {
		struct udphdr *udp = (struct udphdr *)at;

		udp->source = htons(t->sport);
		udp->dest = htons(t->dport);
		udp->len = htons((uint16_t)total);
	} else {
		at[0] = 8; /* ICMP echo request */
	}
	if (t->payload_len)
		memcpy(at + header, t->payload, t->payload_len);
	return total;
}

/* An IPv4 packet from saddr to daddr (dotted quads). */
static inline void packet_ipv4(struct packet *packet, const char *saddr, const char *daddr,
			       const struct transport *t)
{
	struct ether_header *eth = (struct ether_header *)packet->bytes;
	struct iphdr *ip = (struct iphdr *)(eth + 1);
	size_t l4;

	memset(packet, 0, sizeof(*packet));
	eth->ether_type = htons(ETHERTYPE_IP);
	ip->version = 4;
	ip->ihl = sizeof(*ip) / 4;
	ip->ttl = 64;
	ip->protocol = t->protocol;
	inet_pton(AF_INET, saddr, &ip->saddr);
	inet_pton(AF_INET, daddr, &ip->daddr);
	packet->transport = sizeof(*eth) + sizeof(*ip);
	l4 = transport_write(packet, t);
	ip->tot_len = htons((uint16_t)(sizeof(*ip) + l4));
	packet->len = packet->transport + l4;
}

/* An IPv6 packet from saddr to daddr. */
static inline void packet_ipv6(struct packet *packet, const char *saddr, const char *daddr,
			       const struct transport *t)
{
	struct ether_header *eth = (struct ether_header *)packet->bytes;
	struct ip6_hdr *ip6 = (struct ip6_hdr *)(eth + 1);
	size_t l4;

	memset(packet, 0, sizeof(*packet));
	eth->ether_type = htons(ETHERTYPE_IPV6);
	ip6->ip6_flow = htonl(6u << 28);
	ip6->ip6_nxt = t->protocol;
	ip6->ip6_hlim = 64;
	inet_pton(AF_INET6, saddr, &ip6->ip6_src);
	inet_pton(AF_INET6, daddr, &ip6->ip6_dst);
	packet->transport = sizeof(*eth) + sizeof(*ip6);
	l4 = transport_write(packet, t);
	ip6->ip6_plen = htons((uint16_t)l4);
	packet->len = packet->transport + l4;
}

#endif /* ACCESSMON_TESTS_BPF_PACKET_BUILDER_H */
