// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * Unit tests: the monitor's HTTP endpoint (metrics/httpd.h) on a loopback port:
 * /metrics, /healthz and /readyz as they change, requests it refuses, and
 * clients that say nothing while others are answered.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "metrics/httpd.h"

static int connect_to(int port)
{
	struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port),
				   .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	struct timeval timeout = {5, 0};
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
	assert_int_equal(connect(fd, (struct sockaddr *)&addr, sizeof(addr)), 0);
	return fd;
}

/* Sends request on a new connection; the whole answer, read until the server closes. */
static char *ask_raw(int port, const char *request, size_t len)
{
	size_t cap = 65536, got = 0;
	char *answer = malloc(cap);
	int fd = connect_to(port);
	ssize_t n;

	assert_non_null(answer);
	assert_int_equal(send(fd, request, len, MSG_NOSIGNAL), (ssize_t)len);
	while (got < cap - 1 && (n = recv(fd, answer + got, cap - 1 - got, 0)) > 0)
		got += (size_t)n;
	answer[got] = '\0';
	close(fd);
	return answer;
}

static char *ask(int port, const char *request)
{
	return ask_raw(port, request, strlen(request));
}

static void assert_answer(char *answer, const char *status, const char *body)
{
	const char *start = strstr(answer, "\r\n\r\n");

	if (strncmp(answer, status, strlen(status)) != 0 || !start || strcmp(start + 4, body) != 0)
		fail_msg("expected '%s' with '%s', got '%s'", status, body, answer);
	free(answer);
}

static uint64_t monotonic_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void endpoints(void **state)
{
	struct am_error err;
	struct httpd *httpd = httpd_start("127.0.0.1", "0", &err);
	const char metrics[] = "# TYPE accessmon_events_total counter\naccessmon_events_total 5\n";
	char *answer;
	int port;

	(void)state;
	if (!httpd)
		fail_msg("%s", err.msg);
	port = httpd_port(httpd);
	assert_true(port > 0);
	/* Before anything is published: empty metrics, healthy, not ready. */
	assert_answer(ask(port, "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n"), "HTTP/1.1 200 OK", "");
	assert_answer(ask(port, "GET /healthz HTTP/1.1\r\n\r\n"), "HTTP/1.1 200 OK", "ok\n");
	assert_answer(ask(port, "GET /readyz HTTP/1.1\r\n\r\n"), "HTTP/1.1 503 Service Unavailable",
		      "not ready: probes or first inventory not loaded yet\n");

	httpd_publish_metrics(httpd, metrics, strlen(metrics));
	httpd_set_ready(httpd, true);
	answer = ask(port, "GET /metrics?x=1 HTTP/1.1\r\n\r\n");
	assert_non_null(strstr(answer, "Content-Type: text/plain; version=0.0.4"));
	assert_non_null(strstr(answer, "Content-Length: 63\r\n"));
	assert_answer(answer, "HTTP/1.1 200 OK", metrics);
	assert_answer(ask(port, "GET /readyz HTTP/1.0\n\n"), "HTTP/1.1 200 OK", "ready\n");
	/* HEAD: the headers alone. */
	answer = ask(port, "HEAD /metrics HTTP/1.1\r\n\r\n");
	assert_non_null(strstr(answer, "Content-Length: 63\r\n"));
	assert_answer(answer, "HTTP/1.1 200 OK", "");

	/* A loop that has not turned for longer than HTTPD_STALL_NS is unhealthy. */
	httpd_heartbeat(httpd, monotonic_now());
	assert_answer(ask(port, "GET /healthz HTTP/1.1\r\n\r\n"), "HTTP/1.1 200 OK", "ok\n");
	httpd_heartbeat(httpd, monotonic_now() - HTTPD_STALL_NS - 2000000000ull);
	answer = ask(port, "GET /healthz HTTP/1.1\r\n\r\n");
	assert_non_null(strstr(answer, "event loop stalled for 1"));
	free(answer);
	httpd_stop(httpd);
	httpd_stop(NULL);
}

static void requests_refused(void **state)
{
	struct am_error err;
	struct httpd *httpd = httpd_start("127.0.0.1", "0", &err);
	char *big;
	int port;

	(void)state;
	assert_non_null(httpd);
	port = httpd_port(httpd);
	assert_answer(ask(port, "POST /metrics HTTP/1.1\r\n\r\n"),
		      "HTTP/1.1 405 Method Not Allowed", "GET or HEAD\n");
	assert_answer(ask(port, "GET /secrets HTTP/1.1\r\n\r\n"), "HTTP/1.1 404 Not Found",
		      "try /metrics, /healthz or /readyz\n");
	assert_answer(ask(port, "GET\r\n\r\n"), "HTTP/1.1 400 Bad Request", "bad request\n");
	/*
	 * Headers that never end, up to the request's bound (8 KiB and its NUL): sent
	 * exactly, so that the server closes with nothing unread (no reset).
	 */
	big = malloc(8191);
	memcpy(big, "GET / HTTP/1.1\r\n", 16);
	memset(big + 16, 'a', 8191 - 16);
	assert_answer(ask_raw(port, big, 8191), "HTTP/1.1 431 Request Header Fields Too Large",
		      "too large\n");
	free(big);
	httpd_stop(httpd);
}

/* A client that connects and says nothing holds no one else up. */
static void silent_clients_do_not_block(void **state)
{
	struct am_error err;
	struct httpd *httpd = httpd_start("127.0.0.1", "0", &err);
	int silent[4], i, port;

	(void)state;
	assert_non_null(httpd);
	port = httpd_port(httpd);
	for (i = 0; i < 4; i++)
		silent[i] = connect_to(port);
	assert_answer(ask(port, "GET /healthz HTTP/1.1\r\n\r\n"), "HTTP/1.1 200 OK", "ok\n");
	for (i = 0; i < 4; i++)
		close(silent[i]);
	httpd_stop(httpd);
}

static void addresses_that_cannot_be_bound(void **state)
{
	struct am_error err;
	struct httpd *httpd = httpd_start("127.0.0.1", "0", &err), *second;
	char port[16];

	(void)state;
	assert_non_null(httpd);
	snprintf(port, sizeof(port), "%d", httpd_port(httpd));
	second = httpd_start("127.0.0.1", port, &err);
	assert_null(second);
	assert_non_null(strstr(err.msg, "Address already in use (is another accessmon running?"));
	httpd_stop(httpd);
	/* A port that is no number nor service: said without a lookup on the network. */
	assert_null(httpd_start("127.0.0.1", "no-such-service", &err));
	assert_non_null(strstr(err.msg, "--listen 127.0.0.1:no-such-service: "));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(endpoints),
		cmocka_unit_test(requests_refused),
		cmocka_unit_test(silent_clients_do_not_block),
		cmocka_unit_test(addresses_that_cannot_be_bound),
	};

	return cmocka_run_group_tests_name("httpd", tests, NULL, NULL);
}
