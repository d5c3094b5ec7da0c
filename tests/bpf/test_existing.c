// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * bpf/existing.bpf.c: the verifier accepts the existing hook set (the task_file
 * iterator), and the iterator, run once as the monitor runs it at start, finds
 * this process's sockets: a UDP socket connected to IMDS (a connect record
 * flagged AM_CONNECT_EXISTING, with its local port and no cookie), a raw ICMP
 * socket (a socket record flagged AM_SOCKET_EXISTING); not a UDP socket connected
 * elsewhere; and none of them when this process is the monitor (am_self_tgid).
 * An iterator link is no hook on live events: nothing else on the host runs it.
 * Connecting a UDP socket sends nothing.
 *
 * Not reachable here: a TCP connection to IMDS older than the monitor, and its
 * bytes captured from its next packet (the late mark in net.bpf.c), are tested end
 * to end by tests/e2e/test_evasion.sh (test_a_connection_older_than_the_monitor).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "skeleton_fixture.h"

struct found {
	uint32_t pid;
	int connects_to_imds, connects_elsewhere, raw_sockets;
	uint16_t sport, imds_port;
	uint8_t connect_flags, capture;
	uint64_t cookie;
	uint16_t socket_syscall;
};

static int record_find(void *ctx, void *data, size_t size)
{
	const struct am_record_header *header = data;
	struct found *found = ctx;
	uint8_t imds[4] = {169, 254, 169, 254};

	if (header->type == AM_REC_CONNECT && size >= sizeof(struct am_connect_record)) {
		const struct am_connect_record *r = data;

		if (r->task.pid != found->pid)
			return 0;
		if (memcmp(r->addr, imds, 4) == 0) {
			found->connects_to_imds++;
			found->sport = r->sport;
			found->imds_port = r->port;
			found->connect_flags = r->flags;
			found->capture = r->capture;
			found->cookie = r->cookie;
		} else {
			found->connects_elsewhere++;
		}
	} else if (header->type == AM_REC_SOCKET && size >= sizeof(struct am_socket_record)) {
		const struct am_socket_record *r = data;

		if (r->task.pid == found->pid && r->family == AF_INET && r->type == SOCK_RAW) {
			found->raw_sockets++;
			found->socket_syscall = r->syscall;
		}
	}
	return 0;
}

static int udp_connected(const char *addr, uint16_t port)
{
	struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons(port)};
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	inet_pton(AF_INET, addr, &to.sin_addr);
	if (fd >= 0 && connect(fd, (struct sockaddr *)&to, sizeof(to)) != 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Runs the iterator once (self_tgid: the monitor's process) and collects this process's records. */
static void iterate(uint32_t self_tgid, struct found *found)
{
	struct accessmon_bpf *skel = fixture_open(1u << 22, self_tgid);
	struct ring_buffer *ring = NULL;
	struct bpf_link *link = NULL;
	char buf[256];
	int fd = -1;

	memset(found, 0, sizeof(*found));
	found->pid = (uint32_t)getpid();
	assert_non_null(skel);
	assert_int_equal(fixture_autoload(skel, "am_existing"), 0);
	if (fixture_load(skel, "am_existing"))
		goto destroy;
	link = bpf_program__attach_iter(skel->progs.am_existing, NULL);
	if (!link)
		goto destroy;
	fd = bpf_iter_create(bpf_link__fd(link));
	if (fd < 0)
		goto destroy;
	while (read(fd, buf, sizeof(buf)) > 0)
		;
	ring = ring_buffer__new(bpf_map__fd(skel->maps.events), record_find, found, NULL);
	if (ring)
		ring_buffer__consume(ring);
destroy:
	ring_buffer__free(ring);
	if (fd >= 0)
		close(fd);
	bpf_link__destroy(link);
	accessmon_bpf__destroy(skel);
	assert_true(ring != NULL);
}

static void test_verifier_accepts_the_existing_hook_set(void **state)
{
	(void)state;
	assert_int_equal(fixture_load_hook_set("existing"), 0);
}

static void test_the_iterator_finds_sockets_older_than_the_monitor(void **state)
{
	int to_imds = udp_connected("169.254.169.254", 80);
	int elsewhere = udp_connected("10.0.0.1", 80);
	int raw = socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_ICMP);
	struct sockaddr_in local;
	socklen_t local_len = sizeof(local);
	struct found found;

	(void)state;
	if (to_imds < 0 || elsewhere < 0 || raw < 0) {
		print_message("  cannot make the sockets (%s): no route to IMDS, or no "
			      "CAP_NET_RAW\n",
			      strerror(errno));
		if (to_imds >= 0)
			close(to_imds);
		if (elsewhere >= 0)
			close(elsewhere);
		if (raw >= 0)
			close(raw);
		skip();
	}
	assert_int_equal(getsockname(to_imds, (struct sockaddr *)&local, &local_len), 0);
	iterate(0, &found);
	close(to_imds);
	close(elsewhere);
	close(raw);
	assert_int_equal(found.connects_to_imds, 1);
	assert_int_equal(found.connect_flags, AM_CONNECT_EXISTING);
	assert_int_equal(found.imds_port, 80);
	assert_int_equal(found.sport, ntohs(local.sin_port));
	/* A socket reached from a file has no cookie; UDP is not captured. */
	assert_int_equal(found.cookie, 0);
	assert_int_equal(found.capture, 0);
	assert_int_equal(found.connects_elsewhere, 0);
	assert_int_equal(found.raw_sockets, 1);
	assert_int_equal(found.socket_syscall, AM_SOCKET_EXISTING);
}

static void test_the_monitors_own_sockets_are_not_reported(void **state)
{
	int to_imds = udp_connected("169.254.169.254", 80);
	struct found found;

	(void)state;
	if (to_imds < 0)
		skip();
	iterate((uint32_t)getpid(), &found);
	close(to_imds);
	assert_int_equal(found.connects_to_imds, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_verifier_accepts_the_existing_hook_set),
		cmocka_unit_test(test_the_iterator_finds_sockets_older_than_the_monitor),
		cmocka_unit_test(test_the_monitors_own_sockets_are_not_reported),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
