// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * bpf/net.bpf.c, below the end-to-end tests: the verifier accepts the net hook
 * set (am_egress, am_ingress, am_sock_set_state), and the cgroup skb programs run
 * with BPF_PROG_TEST_RUN on crafted IPv4 and IPv6 packets (TCP, UDP, ICMP). Each
 * run asserts the verdict (a cgroup skb hook always allows: 1) and what the
 * program leaves in the ring buffer, the counters and the capture budget.
 *
 * Covered: a packet to IMDS or WireServer outside any marked socket yields one
 * AM_PAYLOAD_PACKET record of its headers (what, from where, to where, the
 * packet's cgroup); packets to other addresses, from the service's own address,
 * over IPv6, or that are no IP at all yield none; a pod whose budget is spent
 * captures nothing and the loss is counted; a full ring buffer is counted.
 *
 * Not reachable here: a cgroup skb test run hands the program a socket of its
 * own making, new at every run, with no type and no protocol. So nothing can be
 * in its socket storage before the run (the connect hooks' marks), the late mark
 * of a TCP connection to port 80 (it needs a SOCK_STREAM socket) and ingress's
 * DNS and HTTP answers (they need a UDP or TCP socket) do not run, and "once a
 * socket" cannot be seen. Those paths are tested end to end: marked capture of
 * requests, answers and DNS by tests/e2e/test_destinations.sh, late marking by
 * tests/e2e/test_evasion.sh (test_a_connection_older_than_the_monitor), a
 * datagram reported once by test_evasion.sh (test_packets_to_imds_and_raw_sockets).
 * am_sock_set_state (tp_btf) is only loaded: BTF tracepoints have no test run.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <cmocka.h>

#include "packet_builder.h"
#include "skeleton_fixture.h"

#define IMDS "169.254.169.254"
#define WIRESERVER "168.63.129.16"
#define POD "10.244.1.7"
#define RINGBUF_BYTES (1u << 20)
#define MAX_RECORDS 96

struct net_test {
	struct accessmon_bpf *skel;
	struct ring_buffer *ring;
	int egress, ingress;
	size_t n_records;
	struct am_payload_record records[MAX_RECORDS];
	uint64_t cgroup_id; /* this process's: the test run's socket is made in it */
};

/* Says that a path cannot be reached by a test run, and where it is tested instead. */
static void not_reachable(const char *path, const char *covered_by)
{
	print_message("  not reachable by BPF_PROG_TEST_RUN: %s; covered end to end by %s\n", path,
		      covered_by);
}

static int record_collect(void *ctx, void *data, size_t size)
{
	struct net_test *t = ctx;

	if (t->n_records < MAX_RECORDS) {
		memset(&t->records[t->n_records], 0, sizeof(t->records[0]));
		memcpy(&t->records[t->n_records], data,
		       size < sizeof(t->records[0]) ? size : sizeof(t->records[0]));
	}
	t->n_records++;
	return 0;
}

/* The cgroup v2 id of this process: its directory's inode under the v2 mount. */
static uint64_t own_cgroup_id(void)
{
	char line[4096], mount[1024] = "", path[8192], type[64];
	uint64_t id = 0;
	struct stat st;
	FILE *file;

	file = fopen("/proc/mounts", "re");
	if (!file)
		return 0;
	while (fgets(line, sizeof(line), file))
		if (sscanf(line, "%*s %1023s %63s", mount, type) == 2 &&
		    strcmp(type, "cgroup2") == 0)
			break;
	fclose(file);
	if (strcmp(type, "cgroup2") != 0)
		return 0;
	file = fopen("/proc/self/cgroup", "re");
	if (!file)
		return 0;
	while (fgets(line, sizeof(line), file)) {
		if (strncmp(line, "0::", 3) != 0)
			continue;
		line[strcspn(line, "\n")] = '\0';
		snprintf(path, sizeof(path), "%s%s", mount, line + 3);
		if (stat(path, &st) == 0)
			id = st.st_ino;
	}
	fclose(file);
	return id;
}

static int setup_with_ring(void **state, uint32_t ringbuf_bytes)
{
	struct net_test *t = calloc(1, sizeof(*t));

	if (!t)
		return -1;
	t->cgroup_id = own_cgroup_id();
	t->skel = fixture_open(ringbuf_bytes, 0);
	if (!t->skel || fixture_autoload(t->skel, "am_egress") ||
	    fixture_autoload(t->skel, "am_ingress") ||
	    fixture_load(t->skel, "am_egress, am_ingress"))
		goto destroy;
	t->egress = bpf_program__fd(t->skel->progs.am_egress);
	t->ingress = bpf_program__fd(t->skel->progs.am_ingress);
	t->ring = ring_buffer__new(bpf_map__fd(t->skel->maps.events), record_collect, t, NULL);
	if (!t->ring)
		goto destroy;
	*state = t;
	return 0;
destroy:
	accessmon_bpf__destroy(t->skel);
	free(t);
	return -1;
}

static int setup(void **state)
{
	return setup_with_ring(state, RINGBUF_BYTES);
}

static int teardown(void **state)
{
	struct net_test *t = *state;

	ring_buffer__free(t->ring);
	accessmon_bpf__destroy(t->skel);
	free(t);
	return 0;
}

/* Runs a program once on the packet; returns its verdict, having read what it left. */
static uint32_t run(struct net_test *t, int prog, const struct packet *packet)
{
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = packet->bytes,
		    .data_size_in = (uint32_t)packet->len, .repeat = 1);
	int rc = bpf_prog_test_run_opts(prog, &opts);

	assert_int_equal(rc, 0);
	t->n_records = 0;
	assert_true(ring_buffer__consume(t->ring) >= 0);
	return opts.retval;
}

static struct transport udp(uint16_t sport, uint16_t dport, const char *payload)
{
	return (struct transport){IPPROTO_UDP, sport, dport, 0, payload, strlen(payload)};
}

static struct transport tcp(uint16_t sport, uint16_t dport, uint32_t seq, const char *payload)
{
	return (struct transport){IPPROTO_TCP, sport, dport, seq, payload, strlen(payload)};
}

/* The budget left to a cgroup, or -1 when it has none in the map. */
static int64_t budget_of(struct net_test *t, uint64_t cgroup_id)
{
	struct {
		uint64_t tokens, last_ns;
	} budget;

	if (bpf_map_lookup_elem(bpf_map__fd(t->skel->maps.capture_budget), &cgroup_id, &budget))
		return -1;
	return (int64_t)budget.tokens;
}

/* Asserts a record of the packet's headers, as report_packet() makes it. */
static void assert_packet_record(const struct net_test *t, const struct am_payload_record *r,
				 const struct packet *packet, uint8_t protocol, uint16_t sport,
				 uint16_t dport, const char *saddr, const char *daddr)
{
	uint32_t l4_len = (uint32_t)(packet->len - packet->transport);
	uint8_t addr[4];

	assert_int_equal(r->header.type, AM_REC_PAYLOAD);
	assert_int_equal(r->header.size, sizeof(*r));
	assert_int_equal(r->kind, AM_PAYLOAD_PACKET);
	assert_int_equal(r->family, 4);
	assert_int_equal(r->protocol, protocol);
	assert_int_equal(r->flags, 0);
	assert_int_equal(r->sport, sport);
	assert_int_equal(r->dport, dport);
	assert_int_equal(r->seq, 0);
	/* The bytes from the transport header on: headers first, at most AM_PACKET_CAPTURE. */
	assert_int_equal(r->payload_len, l4_len);
	assert_int_equal(r->captured, l4_len < AM_PACKET_CAPTURE ? l4_len : AM_PACKET_CAPTURE);
	assert_memory_equal(r->data, packet->bytes + packet->transport, r->captured);
	inet_pton(AF_INET, saddr, addr);
	assert_memory_equal(r->saddr, addr, 4);
	inet_pton(AF_INET, daddr, addr);
	assert_memory_equal(r->daddr, addr, 4);
	/* No connect hook marked it: no process. The pod is the socket's cgroup. */
	assert_int_equal(r->pid, 0);
	if (t->cgroup_id)
		assert_int_equal(r->cgroup_id, t->cgroup_id);
}

/* --- load only ---------------------------------------------------------------- */

static void test_verifier_accepts_the_net_hook_set(void **state)
{
	(void)state;
	assert_int_equal(fixture_load_hook_set("net"), 0);
}

/* --- egress ------------------------------------------------------------------- */

static void test_udp_to_imds_outside_a_marked_socket_is_reported(void **state)
{
	struct net_test *t = *state;
	struct transport datagram =
		udp(40000, 80, "GET /metadata/identity/oauth2/token HTTP/1.1\r\n");
	struct packet packet;

	packet_ipv4(&packet, POD, IMDS, &datagram);
	assert_int_equal(run(t, t->egress, &packet), 1);
	assert_int_equal(t->n_records, 1);
	assert_packet_record(t, &t->records[0], &packet, IPPROTO_UDP, 40000, 80, POD, IMDS);
	/* What it captured is taken from the pod's budget. */
	if (t->cgroup_id)
		assert_int_equal(budget_of(t, t->cgroup_id),
				 (int64_t)AM_CAPTURE_BURST - (int64_t)t->records[0].captured);
}

static void test_tcp_to_wireserver_outside_a_marked_socket_is_reported(void **state)
{
	struct net_test *t = *state;
	struct transport segment =
		tcp(40001, 32526, 1000, "GET /machine?comp=goalstate HTTP/1.1\r\n");
	struct packet packet;

	packet_ipv4(&packet, POD, WIRESERVER, &segment);
	assert_int_equal(run(t, t->egress, &packet), 1);
	assert_int_equal(t->n_records, 1);
	assert_packet_record(t, &t->records[0], &packet, IPPROTO_TCP, 40001, 32526, POD,
			     WIRESERVER);
	not_reachable("the late mark of a TCP connection to WireServer's or IMDS's HTTP port "
		      "(mark_late needs a SOCK_STREAM socket; the test run's has no type), so its "
		      "bytes are a packet record here, not an HTTP request",
		      "tests/e2e/test_evasion.sh (test_a_connection_older_than_the_monitor)");
}

static void test_icmp_to_imds_is_reported_without_ports(void **state)
{
	struct net_test *t = *state;
	struct transport echo = {IPPROTO_ICMP, 0, 0, 0, "ping", 4};
	struct packet packet;

	packet_ipv4(&packet, POD, IMDS, &echo);
	assert_int_equal(run(t, t->egress, &packet), 1);
	assert_int_equal(t->n_records, 1);
	assert_packet_record(t, &t->records[0], &packet, IPPROTO_ICMP, 0, 0, POD, IMDS);
}

static void test_a_large_packet_to_imds_gives_only_its_headers(void **state)
{
	struct net_test *t = *state;
	static char body[1400];
	struct transport datagram;
	struct packet packet;

	memset(body, 'x', sizeof(body) - 1);
	datagram = udp(40002, 80, body);
	packet_ipv4(&packet, POD, IMDS, &datagram);
	assert_int_equal(run(t, t->egress, &packet), 1);
	assert_int_equal(t->n_records, 1);
	assert_int_equal(t->records[0].captured, AM_PACKET_CAPTURE);
	assert_int_equal(t->records[0].payload_len, 8 + sizeof(body) - 1);
}

static void test_packets_elsewhere_are_not_reported(void **state)
{
	struct net_test *t = *state;
	struct transport to_http = tcp(40003, 80, 1, "GET / HTTP/1.1\r\n");
	struct transport to_dns = udp(40004, 53, "question");
	struct packet packet;

	packet_ipv4(&packet, POD, "10.0.0.1", &to_http);
	assert_int_equal(run(t, t->egress, &packet), 1);
	assert_int_equal(t->n_records, 0);
	packet_ipv4(&packet, POD, "10.0.0.1", &to_dns);
	assert_int_equal(run(t, t->egress, &packet), 1);
	assert_int_equal(t->n_records, 0);
	/* One address off IMDS's. */
	packet_ipv4(&packet, POD, "169.254.169.253", &to_http);
	assert_int_equal(run(t, t->egress, &packet), 1);
	assert_int_equal(t->n_records, 0);
	/* Nothing was taken from any budget. */
	if (t->cgroup_id)
		assert_int_equal(budget_of(t, t->cgroup_id), -1);
}

static void test_a_stand_in_for_imds_inside_the_pod_is_not_imds(void **state)
{
	struct net_test *t = *state;
	struct transport answer = tcp(80, 40005, 1, "HTTP/1.1 200 OK\r\n");
	struct packet packet;

	/* A fake IMDS on the pod's loopback answers from its own address to itself. */
	packet_ipv4(&packet, IMDS, IMDS, &answer);
	assert_int_equal(run(t, t->egress, &packet), 1);
	assert_int_equal(t->n_records, 0);
}

static void test_ipv6_packets_are_not_reported(void **state)
{
	struct net_test *t = *state;
	struct transport segment = tcp(40006, 80, 1, "GET / HTTP/1.1\r\n");
	struct transport datagram = udp(40007, 80, "GET / HTTP/1.1\r\n");
	struct packet packet;

	/* IMDS has no IPv6 address; an IPv4-mapped one never leaves as IPv6. */
	packet_ipv6(&packet, "fd00::7", "::ffff:169.254.169.254", &segment);
	assert_int_equal(run(t, t->egress, &packet), 1);
	assert_int_equal(t->n_records, 0);
	packet_ipv6(&packet, "fd00::7", "2001:db8::1", &datagram);
	assert_int_equal(run(t, t->egress, &packet), 1);
	assert_int_equal(t->n_records, 0);
}

static void test_what_is_no_ip_packet_passes(void **state)
{
	struct net_test *t = *state;
	struct transport datagram = udp(40008, 80, "x");
	struct packet packet;

	/* Version 5 in the first nibble: neither read_ip nor to_node_service takes it. */
	packet_ipv4(&packet, POD, IMDS, &datagram);
	packet.bytes[sizeof(struct ether_header)] = 0x55;
	assert_int_equal(run(t, t->egress, &packet), 1);
	assert_int_equal(t->n_records, 0);
	assert_int_equal(run(t, t->ingress, &packet), 1);
	assert_int_equal(t->n_records, 0);
	/*
	 * An IP header to IMDS and not one byte after it (the test run refuses less
	 * than an IP header): no ports to read, nothing to capture.
	 */
	packet_ipv4(&packet, POD, IMDS, &datagram);
	packet.len = packet.transport;
	assert_int_equal(run(t, t->egress, &packet), 1);
	assert_int_equal(t->n_records, 0);
	assert_int_equal(run(t, t->ingress, &packet), 1);
	assert_int_equal(t->n_records, 0);
}

static void test_a_pod_whose_budget_is_spent_captures_nothing(void **state)
{
	struct net_test *t = *state;
	struct transport datagram = udp(40009, 80, "GET /metadata/instance HTTP/1.1\r\n");
	struct {
		uint64_t tokens, last_ns;
	} spent = {0, UINT64_MAX / 2}; /* taken "later" than now: no refill */
	struct packet packet;
	uint64_t before;

	if (!t->cgroup_id)
		skip();
	assert_int_equal(bpf_map_update_elem(bpf_map__fd(t->skel->maps.capture_budget),
					     &t->cgroup_id, &spent, BPF_ANY),
			 0);
	before = fixture_counter(t->skel, AM_CNT_CAPTURE_BUDGET);
	packet_ipv4(&packet, POD, IMDS, &datagram);
	assert_int_equal(run(t, t->egress, &packet), 1);
	assert_int_equal(t->n_records, 0);
	/* Never silent: every byte it would have taken is counted. */
	assert_int_equal(fixture_counter(t->skel, AM_CNT_CAPTURE_BUDGET) - before,
			 packet.len - packet.transport);
}

static void test_every_run_is_a_new_socket(void **state)
{
	struct net_test *t = *state;
	struct transport datagram = udp(40010, 80, "x");
	struct packet packet;

	/* report_packet() says a socket's packets once; here each run has its own socket. */
	packet_ipv4(&packet, POD, IMDS, &datagram);
	assert_int_equal(run(t, t->egress, &packet), 1);
	assert_int_equal(t->n_records, 1);
	assert_int_equal(run(t, t->egress, &packet), 1);
	assert_int_equal(t->n_records, 1);
	not_reachable("a socket's packets to IMDS reported once (the test run makes a new socket "
		      "each run)",
		      "tests/e2e/test_evasion.sh (test_packets_to_imds_and_raw_sockets)");
}

/* A ring buffer of one page: three packet records fill it, the fourth is counted. */
static int setup_small_ring(void **state)
{
	return setup_with_ring(state, (uint32_t)sysconf(_SC_PAGESIZE));
}

static void test_a_full_ring_buffer_is_counted(void **state)
{
	struct net_test *t = *state;
	struct transport datagram = udp(40011, 80, "x");
	struct am_payload_record *record;
	struct packet packet;
	size_t fit = (size_t)sysconf(_SC_PAGESIZE) / (sizeof(*record) + 8), i;
	LIBBPF_OPTS(bpf_test_run_opts, opts, .repeat = 1);

	packet_ipv4(&packet, POD, IMDS, &datagram);
	opts.data_in = packet.bytes;
	opts.data_size_in = (uint32_t)packet.len;
	assert_int_equal(fixture_counter(t->skel, AM_CNT_RINGBUF_FULL), 0);
	/* Unread: each run's record stays in the ring. */
	for (i = 0; i <= fit; i++) {
		assert_int_equal(bpf_prog_test_run_opts(t->egress, &opts), 0);
		assert_int_equal(opts.retval, 1);
	}
	assert_int_equal(fixture_counter(t->skel, AM_CNT_RINGBUF_FULL), 1);
	t->n_records = 0;
	assert_true(ring_buffer__consume(t->ring) >= 0);
	assert_int_equal(t->n_records, fit);
}

/* --- ingress ------------------------------------------------------------------ */

static void test_ingress_always_allows(void **state)
{
	struct net_test *t = *state;
	struct transport dns = udp(53, 40012, "\x12\x34\x81\x80 an answer");
	struct transport http = tcp(80, 40013, 7, "HTTP/1.1 200 OK\r\n\r\n");
	struct packet packet;

	packet_ipv4(&packet, "10.0.0.10", POD, &dns);
	assert_int_equal(run(t, t->ingress, &packet), 1);
	assert_int_equal(t->n_records, 0);
	packet_ipv4(&packet, IMDS, POD, &http);
	assert_int_equal(run(t, t->ingress, &packet), 1);
	assert_int_equal(t->n_records, 0);
	packet_ipv6(&packet, "fd00::53", "fd00::7", &dns);
	assert_int_equal(run(t, t->ingress, &packet), 1);
	assert_int_equal(t->n_records, 0);
	not_reachable("ingress's DNS answers over UDP, and HTTP status lines and DNS over TCP on "
		      "marked sockets (the test run's socket has no protocol, and no storage "
		      "before the run)",
		      "tests/e2e/test_destinations.sh "
		      "(test_vault_and_registry_named_from_dns_answers, "
		      "test_dns_over_tcp_and_hostile_answers, "
		      "test_imds_token_request_names_resource_and_identity)");
}

/* A test on a freshly loaded skeleton of its own. */
#define NET_TEST(test) cmocka_unit_test_setup_teardown(test, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_verifier_accepts_the_net_hook_set),
		NET_TEST(test_udp_to_imds_outside_a_marked_socket_is_reported),
		NET_TEST(test_tcp_to_wireserver_outside_a_marked_socket_is_reported),
		NET_TEST(test_icmp_to_imds_is_reported_without_ports),
		NET_TEST(test_a_large_packet_to_imds_gives_only_its_headers),
		NET_TEST(test_packets_elsewhere_are_not_reported),
		NET_TEST(test_a_stand_in_for_imds_inside_the_pod_is_not_imds),
		NET_TEST(test_ipv6_packets_are_not_reported),
		NET_TEST(test_what_is_no_ip_packet_passes),
		NET_TEST(test_a_pod_whose_budget_is_spent_captures_nothing),
		NET_TEST(test_every_run_is_a_new_socket),
		cmocka_unit_test_setup_teardown(test_a_full_ring_buffer_is_counted,
						setup_small_ring, teardown),
		NET_TEST(test_ingress_always_allows),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
