// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * Benchmark workload: a tight syscall loop, timed. Prints the mean nanoseconds per
 * iteration over ITERATIONS after a warm-up.
 *
 *   loop getppid ITERATIONS
 *   loop open PATH ITERATIONS      openat(PATH) + close
 *   loop udp ITERATIONS            sendto(127.0.0.1:9), one event each for the monitor
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

int main(int argc, char **argv)
{
	long i, iterations;
	const char *path = NULL;
	double start;

	if (argc == 3 && strcmp(argv[1], "udp") == 0) {
		struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons(9)};
		int fd = socket(AF_INET, SOCK_DGRAM, 0);

		iterations = atol(argv[2]);
		to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		start = now_ns();
		for (i = 0; i < iterations; i++)
			sendto(fd, "x", 1, 0, (struct sockaddr *)&to, sizeof(to));
		printf("%.1f\n", (now_ns() - start) / (double)iterations);
		return 0;
	}
	if (argc == 3 && strcmp(argv[1], "getppid") == 0) {
		iterations = atol(argv[2]);
	} else if (argc == 4 && strcmp(argv[1], "open") == 0) {
		path = argv[2];
		iterations = atol(argv[3]);
	} else {
		fprintf(stderr, "usage: loop getppid N | loop open PATH N | loop udp N\n");
		return 2;
	}
	if (iterations <= 0)
		return 2;
	for (i = 0; i < iterations / 10; i++) {
		if (path)
			close(openat(AT_FDCWD, path, O_RDONLY));
		else
			syscall(SYS_getppid);
	}
	start = now_ns();
	for (i = 0; i < iterations; i++) {
		if (path) {
			int fd = openat(AT_FDCWD, path, O_RDONLY);

			if (fd < 0) {
				perror(path);
				return 1;
			}
			close(fd);
		} else {
			syscall(SYS_getppid);
		}
	}
	printf("%.1f\n", (now_ns() - start) / (double)iterations);
	return 0;
}
