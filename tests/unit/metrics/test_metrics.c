// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * Unit tests: the Prometheus rendering of the monitor's numbers, and the HTTP
 * endpoint serving it with /healthz and /readyz (on a loopback port the kernel
 * picks).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
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
#include "metrics/metrics.h"
#include "detect/policy.h"

static void renders_every_family(void **state)
{
	struct metrics_snapshot *s = calloc(1, sizeof(*s));
	struct jsonw out;
	const char *line;

	(void)state;
	assert_non_null(s);
	s->records[AM_REC_CONNECT] = 42;
	s->kernel_counters[AM_CNT_RINGBUF_FULL] = 7;
	s->kernel_counters[AM_CNT_REPEAT_FULL] = 3;
	s->records[AM_REC_CONNECT_REPEAT] = 5;
	s->repeats = 19999;
	s->ring_used_bytes = 4096;
	s->ring_size_bytes = 8 << 20;
	s->detection = true;
	s->alerts.written[0][SEVERITY_CRITICAL] = 3;
	s->n_sinks = 1;
	s->sinks[0] = (struct sink_stats){.name = "webhook:https://r/\"in\"\\x",
					  .kind = "webhook",
					  .queued_lines = 5,
					  .dropped_lines = 9,
					  .up = false};
	s->pods = 200;
	s->n_programs = 1;
	snprintf(s->programs[0].name, sizeof(s->programs[0].name), "am_connect4");
	s->programs[0].run_count = 10;
	s->programs[0].run_time_ns = 1500000000ull;
	s->reloads_failed = 1;
	s->blind[DETECTION_SECRET_FILES] = true;
	s->probes_attached = 14;
	s->probes_needed = 15;
	s->kept[s->n_kept++] = "CAP_DAC_READ_SEARCH";
	s->kept[s->n_kept++] = "CAP_BPF";
	s->version = "1.2.3";
	jsonw_init(&out);
	metrics_render(s, &out);
	assert_false(out.failed);
	assert_non_null(strstr(out.buf, "\naccessmon_records_total{type=\"connect\"} 42\n"));
	assert_non_null(strstr(out.buf, "\naccessmon_events_lost_total 7\n"));
	assert_non_null(strstr(out.buf, "\naccessmon_records_total{type=\"connect-repeat\"} 5\n"));
	assert_non_null(strstr(out.buf, "\naccessmon_connect_repeats_total 19999\n"));
	assert_non_null(strstr(out.buf, "\naccessmon_repeat_map_full_total 3\n"));
	assert_non_null(strstr(out.buf, "\naccessmon_ringbuf_used_bytes 4096\n"));
	assert_non_null(strstr(out.buf, "\naccessmon_alerts_total{rule=\"imds-token-request\","
					"severity=\"critical\"} 3\n"));
	/* Label values are escaped as the exposition format says. */
	assert_non_null(strstr(out.buf, "\naccessmon_sink_dropped_lines_total{sink=\"webhook:"
					"https://r/\\\"in\\\"\\\\x\",kind=\"webhook\"} 9\n"));
	assert_non_null(strstr(out.buf, "\naccessmon_sink_up{sink="));
	assert_non_null(strstr(out.buf, "\naccessmon_pods 200\n"));
	assert_non_null(strstr(out.buf, "\naccessmon_bpf_program_run_seconds_total{program="
					"\"am_connect4\"} 1.500000000\n"));
	assert_non_null(strstr(out.buf, "\naccessmon_config_reloads_total{result=\"failed\"} 1\n"));
	assert_non_null(strstr(out.buf, "accessmon_build_info{version=\"1.2.3\"} 1\n"));
	assert_non_null(strstr(out.buf, "\naccessmon_detection_blind{detection=\"secret-files\"} 1\n"));
	assert_non_null(strstr(out.buf, "\naccessmon_detection_blind{detection=\"connections\"} 0\n"));
	assert_non_null(strstr(out.buf, "\naccessmon_probes_attached 14\n"));
	assert_non_null(strstr(out.buf, "\naccessmon_probes_needed 15\n"));
	assert_non_null(strstr(out.buf, "\naccessmon_capability_kept{capability=\"CAP_BPF\"} 1\n"));
	/* Every sample line: name, optional labels, one value; every family typed once. */
	for (line = out.buf; *line; line = strchr(line, '\n') + 1) {
		char name[128];

		if (line[0] == '#') {
			assert_true(strncmp(line, "# HELP ", 7) == 0 || strncmp(line, "# TYPE ", 7) == 0);
		} else {
			assert_int_equal(sscanf(line, "%127[a-z_]", name), 1);
			assert_true(strncmp(name, "accessmon_", 10) == 0);
		}
		assert_non_null(strchr(line, '\n'));
	}
	jsonw_release(&out);
	free(s);
}

/* One request to the endpoint; the whole answer in buf. */
static void get(int port, const char *request, char *buf, size_t size)
{
	struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port),
				   .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	size_t have = 0;
	ssize_t n;

	assert_int_equal(connect(fd, (struct sockaddr *)&addr, sizeof(addr)), 0);
	assert_int_equal(send(fd, request, strlen(request), 0), (ssize_t)strlen(request));
	while (have < size - 1 && (n = recv(fd, buf + have, size - 1 - have, 0)) > 0)
		have += (size_t)n;
	buf[have] = '\0';
	close(fd);
}

static uint64_t monotonic_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void endpoint_answers(void **state)
{
	struct am_error err = {{0}};
	struct httpd *httpd;
	char buf[4096];
	int port;

	(void)state;
	httpd = httpd_start("127.0.0.1", "0", &err);
	assert_non_null(httpd);
	port = httpd_port(httpd);
	assert_true(port > 0);

	get(port, "GET /readyz HTTP/1.1\r\nHost: x\r\n\r\n", buf, sizeof(buf));
	assert_non_null(strstr(buf, "HTTP/1.1 503 "));
	httpd_set_ready(httpd, true);
	get(port, "GET /readyz HTTP/1.1\r\n\r\n", buf, sizeof(buf));
	assert_non_null(strstr(buf, "HTTP/1.1 200 "));

	httpd_heartbeat(httpd, monotonic_ns());
	get(port, "GET /healthz HTTP/1.0\r\n\r\n", buf, sizeof(buf));
	assert_non_null(strstr(buf, "HTTP/1.1 200 "));
	/* A loop that stopped turning is unhealthy, and the answer says for how long. */
	httpd_heartbeat(httpd, monotonic_ns() - HTTPD_STALL_NS - 2000000000ull);
	get(port, "GET /healthz HTTP/1.1\r\n\r\n", buf, sizeof(buf));
	assert_non_null(strstr(buf, "HTTP/1.1 503 "));
	assert_non_null(strstr(buf, "event loop stalled for 12 s"));

	httpd_publish_metrics(httpd, "accessmon_up 1\n", 15);
	get(port, "GET /metrics?x=1 HTTP/1.1\r\n\r\n", buf, sizeof(buf));
	assert_non_null(strstr(buf, "HTTP/1.1 200 "));
	assert_non_null(strstr(buf, "Content-Type: text/plain; version=0.0.4"));
	assert_non_null(strstr(buf, "Content-Length: 15\r\n"));
	assert_non_null(strstr(buf, "\r\n\r\naccessmon_up 1\n"));
	get(port, "HEAD /metrics HTTP/1.1\r\n\r\n", buf, sizeof(buf));
	assert_null(strstr(buf, "accessmon_up"));

	get(port, "GET /secrets HTTP/1.1\r\n\r\n", buf, sizeof(buf));
	assert_non_null(strstr(buf, "HTTP/1.1 404 "));
	get(port, "DELETE /metrics HTTP/1.1\r\n\r\n", buf, sizeof(buf));
	assert_non_null(strstr(buf, "HTTP/1.1 405 "));
	get(port, "garbage\r\n\r\n", buf, sizeof(buf));
	assert_non_null(strstr(buf, "HTTP/1.1 400 "));
	httpd_stop(httpd);
}

/* Clients that connect and say nothing cannot hold the endpoint up for the probes. */
static void idle_clients_do_not_block(void **state)
{
	struct sockaddr_in addr = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	struct am_error err = {{0}};
	struct httpd *httpd;
	char buf[1024];
	int idle[80], i;

	(void)state;
	httpd = httpd_start("127.0.0.1", "0", &err);
	assert_non_null(httpd);
	addr.sin_port = htons((uint16_t)httpd_port(httpd));
	/* More than the endpoint keeps: the oldest are dropped, not the newest refused. */
	for (i = 0; i < 80; i++) {
		idle[i] = socket(AF_INET, SOCK_STREAM, 0);
		assert_int_equal(connect(idle[i], (struct sockaddr *)&addr, sizeof(addr)), 0);
		assert_int_equal(send(idle[i], "GET /metr", 9, 0), 9);
	}
	httpd_set_ready(httpd, true);
	get(httpd_port(httpd), "GET /readyz HTTP/1.1\r\n\r\n", buf, sizeof(buf));
	assert_non_null(strstr(buf, "HTTP/1.1 200 "));
	/*
	 * Answered while the newest idle client is still held open (not after the idle
	 * ones timed out); the oldest were closed to make room.
	 */
	assert_int_equal(recv(idle[79], buf, sizeof(buf), MSG_DONTWAIT), -1);
	assert_int_equal(errno, EAGAIN);
	assert_int_equal(recv(idle[0], buf, sizeof(buf), 0), 0);
	for (i = 0; i < 80; i++)
		close(idle[i]);
	httpd_stop(httpd);
}

static void port_taken_is_said(void **state)
{
	struct am_error err = {{0}};
	struct httpd *first, *second;
	char port[16];

	(void)state;
	first = httpd_start("127.0.0.1", "0", &err);
	assert_non_null(first);
	snprintf(port, sizeof(port), "%d", httpd_port(first));
	second = httpd_start("127.0.0.1", port, &err);
	assert_null(second);
	assert_non_null(strstr(err.msg, "Address already in use"));
	assert_non_null(strstr(err.msg, "another accessmon"));
	httpd_stop(first);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(renders_every_family),
		cmocka_unit_test(endpoint_answers),
		cmocka_unit_test(idle_clients_do_not_block),
		cmocka_unit_test(port_taken_is_said),
	};

	return cmocka_run_group_tests_name("metrics", tests, NULL, NULL);
}
