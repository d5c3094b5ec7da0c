// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * Benchmark workloads: tight syscall loops, timed, and the generators that fill
 * the monitor for the throughput, memory and loss sections of bench/run.sh.
 * Timed loops run a warm-up of a tenth, then CHUNKS equal chunks, and print the
 * nanoseconds per iteration of the median chunk: a burst of other work on the
 * machine spoils a chunk or two, not the figure. Time is the process's own CPU
 * time: it includes everything the kernel does on the
 * loop's behalf (syscalls, BPF programs, loopback softirqs run in its context, on
 * this kernel without IRQ time accounting) and leaves out whatever else the
 * machine runs on the same CPU meanwhile, which wall time would count.
 *
 *   loop getppid N
 *   loop open PATH N                openat(PATH) + close
 *   loop ia32-open PATH N           the 32-bit syscall entry's open(PATH) (int $0x80,
 *                                   x86_64 only) + close
 *   loop udp N                      sendto(127.0.0.1:9), one event each for the monitor
 *   loop connect ADDR PORT N        TCP connect to a listener this process holds on
 *                                   ADDR:PORT, accept, close both (RST: no TIME_WAIT)
 *   loop rr ADDR PORT N             request/response on one established TCP connection
 *                                   to a listener this process holds: 100 bytes out,
 *                                   read, 100 bytes back, read
 *   loop bulk ADDR PORT N           64 KiB written and read on one established TCP
 *                                   connection, N times (ns per 64 KiB)
 *   loop open-rate PATH RATE SECS   openat+close at RATE per second for SECS; prints
 *                                   "sent N seconds S"
 *   loop mix PATH N                 N rounds of a pod's traffic (needs 169.254.169.254
 *                                   on lo): DNS answers then TLS connects to the names,
 *                                   IMDS metadata requests over HTTP, other connects, UDP
 *                                   sends, opens of PATH
 *   loop dns FIRST N                N distinct DNS answers (names fill-FIRST+i.bench.test),
 *                                   from a server this process holds on 127.0.0.53:53
 *   loop sleepers N                 N children that sleep until this process gets
 *                                   SIGTERM (or dies, or 30 minutes pass)
 *
 * Everything stays on loopback inside the caller's network namespace.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double clock_ns(clockid_t clock)
{
	struct timespec ts;

	clock_gettime(clock, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

/* What the timed loops are measured in: this process's CPU time. */
static double now_ns(void)
{
	return clock_ns(CLOCK_PROCESS_CPUTIME_ID);
}

static double wall_ns(void)
{
	return clock_ns(CLOCK_MONOTONIC);
}

#define CHUNKS 21

static int compare_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* Runs step(arg) `iterations` times after a tenth as warm-up; prints the median chunk. */
static void timed(void (*step)(void *), void *arg, long iterations)
{
	double per_chunk[CHUNKS], start;
	long i, n = iterations / CHUNKS;
	int c;

	if (n < 1)
		n = 1;
	for (i = 0; i < iterations / 10; i++)
		step(arg);
	for (c = 0; c < CHUNKS; c++) {
		start = now_ns();
		for (i = 0; i < n; i++)
			step(arg);
		per_chunk[c] = (now_ns() - start) / (double)n;
	}
	qsort(per_chunk, CHUNKS, sizeof(per_chunk[0]), compare_double);
	printf("%.1f\n", per_chunk[CHUNKS / 2]);
}

static void die(const char *what)
{
	perror(what);
	exit(1);
}

static long count_arg(const char *text)
{
	char *end;
	long n = strtol(text, &end, 10);

	if (*end || n <= 0 || n > 1000000000L) {
		fprintf(stderr, "loop: bad count '%s'\n", text);
		exit(2);
	}
	return n;
}

static struct sockaddr_in address(const char *ip, int port)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};

	if (inet_pton(AF_INET, ip, &a.sin_addr) != 1) {
		fprintf(stderr, "loop: bad address '%s'\n", ip);
		exit(2);
	}
	return a;
}

static int listener(const char *ip, int port)
{
	struct sockaddr_in a = address(ip, port);
	int one = 1, fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		die("socket");
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) || listen(fd, 4096))
		die(ip);
	return fd;
}

/* Close with RST: neither side keeps the connection in TIME_WAIT. */
static void close_reset(int fd)
{
	struct linger linger = {.l_onoff = 1, .l_linger = 0};

	setsockopt(fd, SOL_SOCKET, SO_LINGER, &linger, sizeof(linger));
	close(fd);
}

/* One connection: connect, let the listener accept it, optionally one HTTP exchange. */
static void connect_once(int listen_fd, const struct sockaddr_in *to, const char *request)
{
	char buffer[2048];
	int client, server;

	client = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (client < 0)
		die("socket");
	if (connect(client, (const struct sockaddr *)to, sizeof(*to)))
		die("connect");
	server = accept(listen_fd, NULL, NULL);
	if (server < 0)
		die("accept");
	if (request) {
		static const char answer[] = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
					     "Content-Length: 2\r\n\r\n{}";

		if (write(client, request, strlen(request)) < 0 ||
		    read(server, buffer, sizeof(buffer)) < 0 ||
		    write(server, answer, sizeof(answer) - 1) < 0 ||
		    read(client, buffer, sizeof(buffer)) < 0)
			die("http");
	}
	close_reset(client);
	close_reset(server);
}

struct connect_args {
	int listen_fd;
	struct sockaddr_in to;
};

static void connect_step(void *arg)
{
	struct connect_args *args = arg;

	connect_once(args->listen_fd, &args->to, NULL);
}

static int run_connect(const char *ip, int port, long iterations)
{
	struct connect_args args = {.listen_fd = listener(ip, port), .to = address(ip, port)};

	timed(connect_step, &args, iterations);
	return 0;
}

/* One established connection to a listener this process holds: the client and server ends. */
struct stream_args {
	int client, server;
	char buffer[65536];
	size_t size;
};

static void stream_open(struct stream_args *args, const char *ip, int port, size_t size)
{
	struct sockaddr_in to = address(ip, port);
	int listen_fd = listener(ip, port), one = 1;

	args->client = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (args->client < 0 || connect(args->client, (const struct sockaddr *)&to, sizeof(to)))
		die("connect");
	args->server = accept(listen_fd, NULL, NULL);
	if (args->server < 0)
		die("accept");
	setsockopt(args->client, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	setsockopt(args->server, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	memset(args->buffer, 'a', sizeof(args->buffer));
	args->size = size;
}

/* Reads exactly n bytes. */
static void read_all(int fd, char *buffer, size_t n)
{
	while (n) {
		ssize_t got = read(fd, buffer, n);

		if (got <= 0)
			die("read");
		n -= (size_t)got;
	}
}

/* Writes n bytes from one end and reads them at the other, a socket buffer at a time. */
static void transfer(int from, int to, char *buffer, size_t n)
{
	while (n) {
		size_t step = n < 16384 ? n : 16384;
		ssize_t put = write(from, buffer, step);

		if (put <= 0)
			die("write");
		read_all(to, buffer, (size_t)put);
		n -= (size_t)put;
	}
}

static void rr_step(void *arg)
{
	struct stream_args *args = arg;

	transfer(args->client, args->server, args->buffer, args->size);
	transfer(args->server, args->client, args->buffer, args->size);
}

static void bulk_step(void *arg)
{
	struct stream_args *args = arg;

	transfer(args->client, args->server, args->buffer, args->size);
}

static int run_stream(const char *ip, int port, long iterations, bool bulk)
{
	static struct stream_args args;

	stream_open(&args, ip, port, bulk ? sizeof(args.buffer) : 100);
	timed(bulk ? bulk_step : rr_step, &args, iterations);
	close_reset(args.client);
	close_reset(args.server);
	return 0;
}

static void open_close(const char *path)
{
	int fd = openat(AT_FDCWD, path, O_RDONLY);

	if (fd < 0)
		die(path);
	close(fd);
}

/* Paces opens against the clock: no sleeping, so short gaps cannot bunch them up. */
static int run_open_rate(const char *path, long rate, long seconds)
{
	double start = wall_ns(), end = start + (double)seconds * 1e9, now;
	long sent = 0;

	while ((now = wall_ns()) < end) {
		/* One open at a time, so a sender that cannot keep up still stops on time. */
		if (sent < (long)((now - start) * (double)rate / 1e9)) {
			open_close(path);
			sent++;
		}
	}
	printf("sent %ld seconds %.3f\n", sent, (wall_ns() - start) / 1e9);
	return 0;
}

/* A DNS question for `name` (type A) into out; returns its length. */
static size_t dns_query(uint8_t *out, uint16_t id, const char *name)
{
	size_t pos = 12;
	const char *label = name;

	memset(out, 0, 12);
	out[0] = id >> 8;
	out[1] = id & 0xff;
	out[2] = 0x01; /* recursion desired */
	out[5] = 1;    /* one question */
	while (*label) {
		const char *dot = strchr(label, '.');
		size_t len = dot ? (size_t)(dot - label) : strlen(label);

		out[pos++] = len;
		memcpy(out + pos, label, len);
		pos += len;
		label += len + (dot ? 1 : 0);
	}
	out[pos++] = 0;
	out[pos++] = 0, out[pos++] = 1; /* A */
	out[pos++] = 0, out[pos++] = 1; /* IN */
	return pos;
}

/* The answer to `query`: the question, and one A record pointing at it. */
static size_t dns_answer(uint8_t *out, const uint8_t *query, size_t len, const uint8_t addr[4])
{
	static const uint8_t record[] = {0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0x0e, 0x10, 0, 4};

	memcpy(out, query, len);
	out[2] = 0x81, out[3] = 0x80; /* response, recursion available */
	out[7] = 1;		      /* one answer */
	memcpy(out + len, record, sizeof(record));
	memcpy(out + len + sizeof(record), addr, 4);
	return len + sizeof(record) + 4;
}

struct dns_pair {
	int server, client;
	struct sockaddr_in server_addr;
};

static struct dns_pair dns_open(void)
{
	struct dns_pair pair = {.server_addr = address("127.0.0.53", 53)};

	pair.server = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	pair.client = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (pair.server < 0 || pair.client < 0)
		die("socket");
	if (bind(pair.server, (struct sockaddr *)&pair.server_addr, sizeof(pair.server_addr)))
		die("bind 127.0.0.53:53");
	return pair;
}

/* The client asks, the server answers `addr`, the client reads the answer. */
static void dns_exchange(struct dns_pair *pair, uint16_t id, const char *name, const uint8_t addr[4])
{
	uint8_t query[512], answer[600];
	struct sockaddr_in from;
	socklen_t from_len = sizeof(from);
	size_t len = dns_query(query, id, name);
	ssize_t got;

	if (sendto(pair->client, query, len, 0, (struct sockaddr *)&pair->server_addr,
		   sizeof(pair->server_addr)) < 0)
		die("dns query");
	got = recvfrom(pair->server, query, sizeof(query), 0, (struct sockaddr *)&from, &from_len);
	if (got < 12)
		die("dns server");
	len = dns_answer(answer, query, (size_t)got, addr);
	if (sendto(pair->server, answer, len, 0, (struct sockaddr *)&from, from_len) < 0)
		die("dns answer");
	if (recv(pair->client, answer, sizeof(answer), 0) < 0)
		die("dns client");
}

static int run_dns(long first, long n)
{
	struct dns_pair pair = dns_open();
	char name[128];
	long i;

	for (i = 0; i < n; i++) {
		long k = first + i;
		uint8_t addr[4] = {127, 88, (k >> 8) & 0xff, k & 0xff};

		snprintf(name, sizeof(name), "fill-%ld.bench.test", k);
		dns_exchange(&pair, (uint16_t)k, name, addr);
	}
	printf("answers %ld\n", n);
	return 0;
}

/*
 * A pod's traffic, ten operations a round: a DNS answer for one of four vaults then
 * a TLS connect to it, an IMDS instance metadata request (no token: the mix is of a
 * working node, not an attack), three connects to an in-pod service, two UDP sends,
 * two opens of the watched file.
 */
static int run_mix(const char *path, long rounds)
{
	static const char imds_request[] =
		"GET /metadata/instance/compute?api-version=2021-02-01 HTTP/1.1\r\n"
		"Host: 169.254.169.254\r\nMetadata: true\r\nUser-Agent: bench\r\n\r\n";
	struct sockaddr_in imds = address("169.254.169.254", 80);
	struct sockaddr_in service = address("127.0.0.1", 8080);
	struct sockaddr_in udp_to = address("127.0.0.1", 9);
	int imds_fd = listener("169.254.169.254", 80);
	int service_fd = listener("127.0.0.1", 8080);
	int tls_fd = listener("0.0.0.0", 443);
	int udp = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	struct dns_pair pair = dns_open();
	char name[128];
	long i;
	int j;

	if (udp < 0)
		die("socket");
	for (i = 0; i < rounds; i++) {
		uint8_t addr[4] = {127, 77, 0, (i % 4) + 1};
		struct sockaddr_in vault = {.sin_family = AF_INET, .sin_port = htons(443)};

		snprintf(name, sizeof(name), "kv-%ld.vault.azure.net", i % 4);
		dns_exchange(&pair, (uint16_t)i, name, addr);
		memcpy(&vault.sin_addr, addr, 4);
		connect_once(tls_fd, &vault, NULL);
		connect_once(imds_fd, &imds, imds_request);
		for (j = 0; j < 3; j++)
			connect_once(service_fd, &service, NULL);
		for (j = 0; j < 2; j++)
			sendto(udp, "x", 1, 0, (struct sockaddr *)&udp_to, sizeof(udp_to));
		for (j = 0; j < 2; j++)
			open_close(path);
	}
	return 0;
}

static void open_step(void *path)
{
	open_close(path);
}

#if defined(__x86_64__)
/* ia32 open + close: int $0x80 with eax 5, the path copied below 4 GiB (MAP_32BIT). */
static void ia32_open_step(void *low_path)
{
	long fd;

	__asm__ volatile("int $0x80"
			 : "=a"(fd)
			 : "a"(5L), "b"((long)(uintptr_t)low_path), "c"((long)O_RDONLY)
			 : "memory", "cc", "r8", "r9", "r10", "r11");
	if (fd < 0) {
		errno = (int)-fd;
		die("ia32 open");
	}
	close((int)fd);
}

static int run_ia32_open(const char *path, long iterations)
{
	size_t len = strlen(path) + 1;
	char *low =
	    mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_32BIT, -1, 0);

	if (low == MAP_FAILED)
		die("mmap(MAP_32BIT)");
	memcpy(low, path, len);
	timed(ia32_open_step, low, iterations);
	return 0;
}
#endif

static void getppid_step(void *unused)
{
	(void)unused;
	syscall(SYS_getppid);
}

static volatile sig_atomic_t stop;

static void on_signal(int signo)
{
	(void)signo;
	stop = 1;
}

static int run_sleepers(long n)
{
	struct sigaction action = {.sa_handler = on_signal};
	sigset_t block, old;
	pid_t parent;
	long i, started = 0;

	/* A process group of our own: the children are stopped with one kill(0). */
	setpgid(0, 0);
	parent = getpid();
	sigemptyset(&block);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGINT);
	sigprocmask(SIG_BLOCK, &block, &old);
	sigaction(SIGTERM, &action, NULL);
	sigaction(SIGINT, &action, NULL);
	for (i = 0; i < n; i++) {
		pid_t pid = fork();

		if (pid < 0)
			break;
		if (pid == 0) {
			/* Bounded: gone with the parent, or after 30 minutes. */
			prctl(PR_SET_PDEATHSIG, SIGKILL);
			if (getppid() != parent)
				_exit(0);
			signal(SIGTERM, SIG_DFL);
			signal(SIGINT, SIG_DFL);
			sigprocmask(SIG_SETMASK, &old, NULL);
			alarm(1800);
			for (;;)
				pause();
		}
		started++;
	}
	printf("sleepers %ld\n", started);
	fflush(stdout);
	while (!stop)
		sigsuspend(&old);
	signal(SIGTERM, SIG_IGN);
	kill(0, SIGTERM); /* our process group: the children */
	while (wait(NULL) > 0 || errno == EINTR)
		;
	return 0;
}

int main(int argc, char **argv)
{
	long i, iterations;
	double start;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc == 3 && strcmp(argv[1], "udp") == 0) {
		struct sockaddr_in to = address("127.0.0.1", 9);
		int fd = socket(AF_INET, SOCK_DGRAM, 0);

		iterations = count_arg(argv[2]);
		start = now_ns();
		for (i = 0; i < iterations; i++)
			sendto(fd, "x", 1, 0, (struct sockaddr *)&to, sizeof(to));
		printf("%.1f\n", (now_ns() - start) / (double)iterations);
		return 0;
	}
	if (argc == 5 && strcmp(argv[1], "connect") == 0)
		return run_connect(argv[2], (int)count_arg(argv[3]), count_arg(argv[4]));
	if (argc == 5 && (strcmp(argv[1], "rr") == 0 || strcmp(argv[1], "bulk") == 0))
		return run_stream(argv[2], atoi(argv[3]), atol(argv[4]), argv[1][0] == 'b');
	if (argc == 5 && strcmp(argv[1], "open-rate") == 0)
		return run_open_rate(argv[2], count_arg(argv[3]), count_arg(argv[4]));
	if (argc == 4 && strcmp(argv[1], "mix") == 0)
		return run_mix(argv[2], count_arg(argv[3]));
	if (argc == 4 && strcmp(argv[1], "dns") == 0)
		return run_dns(count_arg(argv[2]), count_arg(argv[3]));
	if (argc == 3 && strcmp(argv[1], "sleepers") == 0)
		return run_sleepers(count_arg(argv[2]));
	if (argc == 3 && strcmp(argv[1], "getppid") == 0) {
		timed(getppid_step, NULL, count_arg(argv[2]));
		return 0;
	}
	if (argc == 4 && strcmp(argv[1], "open") == 0) {
		timed(open_step, argv[2], count_arg(argv[3]));
		return 0;
	}
#if defined(__x86_64__)
	if (argc == 4 && strcmp(argv[1], "ia32-open") == 0)
		return run_ia32_open(argv[2], count_arg(argv[3]));
#endif
	fprintf(stderr, "usage: loop getppid N | open PATH N | ia32-open PATH N | udp N |\n"
			"       connect ADDR PORT N | open-rate PATH RATE SECONDS | mix PATH N |\n"
			"       dns FIRST N | sleepers N\n");
	return 2;
}
