// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * Test helper: a fake pod's whole workload in one process, for the churn test,
 * which maps every record to its pod by this process's pid. It connects to a
 * server of its own network namespace (its own listening socket on
 * 127.0.0.1:PORT: the handshake completes and is accepted) and then opens and
 * closes each FILE, its secrets. Exits 0 when all of it worked, 1 otherwise.
 *
 *   am-pod-workload PORT FILE...
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	struct sockaddr_in addr = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	int server, client, accepted, fd, one = 1, i;
	long port;
	char *end;

	if (argc < 2) {
		fprintf(stderr, "usage: am-pod-workload PORT FILE...\n");
		return 2;
	}
	port = strtol(argv[1], &end, 10);
	if (*end || end == argv[1] || port < 1 || port > 65535) {
		fprintf(stderr, "am-pod-workload: '%s' is not a port\n", argv[1]);
		return 2;
	}
	addr.sin_port = htons((unsigned short)port);
	server = socket(AF_INET, SOCK_STREAM, 0);
	if (server < 0 || setsockopt(server, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    bind(server, (struct sockaddr *)&addr, sizeof(addr)) || listen(server, 1)) {
		perror("am-pod-workload: listen");
		return 1;
	}
	client = socket(AF_INET, SOCK_STREAM, 0);
	if (client < 0 || connect(client, (struct sockaddr *)&addr, sizeof(addr))) {
		perror("am-pod-workload: connect");
		return 1;
	}
	accepted = accept(server, NULL, NULL);
	if (accepted < 0) {
		perror("am-pod-workload: accept");
		return 1;
	}
	close(accepted);
	close(client);
	close(server);
	for (i = 2; i < argc; i++) {
		fd = open(argv[i], O_RDONLY);
		if (fd < 0) {
			fprintf(stderr, "am-pod-workload: %s: %s\n", argv[i], strerror(errno));
			return 1;
		}
		close(fd);
	}
	return 0;
}
