// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * Test helper: a process that lives for a moment. It starts a TCP connect to
 * ADDRESS:PORT without waiting for it and exits at once, so tests can prove a
 * process that execs, connects and exits within a millisecond is still named.
 * With COUNT, it makes COUNT such connects, each on a socket of its own closed
 * at once, as fast as it can: a busy client, for the volume tests. With
 * "spread", the i-th goes to port PORT + i: COUNT destinations, not one.
 *
 *   am-connect ADDRESS PORT [COUNT [spread]]
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	struct sockaddr_in6 addr6 = {.sin6_family = AF_INET6};
	struct sockaddr_in addr4 = {.sin_family = AF_INET};
	struct sockaddr *addr;
	socklen_t addr_len;
	long count = 1, port, i;
	bool spread = argc == 5 && strcmp(argv[4], "spread") == 0;
	char *end;
	int family, fd;

	if (argc < 3 || argc > 5 || (argc == 5 && !spread)) {
		fprintf(stderr, "usage: am-connect ADDRESS PORT [COUNT [spread]]\n");
		return 2;
	}
	port = strtol(argv[2], &end, 10);
	if (*end || port < 1 || port > 65535) {
		fprintf(stderr, "am-connect: '%s' is not a port\n", argv[2]);
		return 2;
	}
	if (argc >= 4) {
		errno = 0;
		count = strtol(argv[3], &end, 10);
		if (errno || end == argv[3] || *end || count < 1) {
			fprintf(stderr, "am-connect: '%s' is not a count\n", argv[3]);
			return 2;
		}
	}
	if (spread && port + count - 1 > 65535) {
		fprintf(stderr, "am-connect: ports %ld to %ld do not all exist\n", port, port + count - 1);
		return 2;
	}
	if (inet_pton(AF_INET, argv[1], &addr4.sin_addr) == 1) {
		family = AF_INET;
		addr = (struct sockaddr *)&addr4;
		addr_len = sizeof(addr4);
	} else if (inet_pton(AF_INET6, argv[1], &addr6.sin6_addr) == 1) {
		family = AF_INET6;
		addr = (struct sockaddr *)&addr6;
		addr_len = sizeof(addr6);
	} else {
		fprintf(stderr, "am-connect: '%s' is not an IP address\n", argv[1]);
		return 2;
	}
	for (i = 0; i < count; i++) {
		uint16_t to = htons((uint16_t)(spread ? port + i : port));

		addr4.sin_port = to;
		addr6.sin6_port = to;
		fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK, 0);
		if (fd < 0) {
			perror("am-connect: socket");
			return 1;
		}
		connect(fd, addr, addr_len);
		/* The lone connect leaves its socket to exit, as it always did. */
		if (count > 1)
			close(fd);
	}
	return 0;
}
