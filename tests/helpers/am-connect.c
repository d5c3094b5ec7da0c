// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * Test helper: a process that lives for a moment. It starts a TCP connect to
 * ADDRESS:PORT without waiting for it and exits at once, so tests can prove a
 * process that execs, connects and exits within a millisecond is still named.
 *
 *   am-connect ADDRESS PORT
 */
#include <arpa/inet.h>
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
	int fd;

	if (argc != 3) {
		fprintf(stderr, "usage: am-connect ADDRESS PORT\n");
		return 2;
	}
	if (inet_pton(AF_INET, argv[1], &addr4.sin_addr) == 1) {
		addr4.sin_port = htons((unsigned short)atoi(argv[2]));
		fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
		connect(fd, (struct sockaddr *)&addr4, sizeof(addr4));
	} else if (inet_pton(AF_INET6, argv[1], &addr6.sin6_addr) == 1) {
		addr6.sin6_port = htons((unsigned short)atoi(argv[2]));
		fd = socket(AF_INET6, SOCK_STREAM | SOCK_NONBLOCK, 0);
		connect(fd, (struct sockaddr *)&addr6, sizeof(addr6));
	} else {
		fprintf(stderr, "am-connect: '%s' is not an IP address\n", argv[1]);
		return 2;
	}
	return 0;
}
