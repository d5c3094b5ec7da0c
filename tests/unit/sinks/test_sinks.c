// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * Unit tests: alert sinks. --sink parsing; the file sink's rotation, modes and
 * refusal of symlinks; exact drop accounting when a sink cannot deliver; RFC 5424
 * framing over UDP and TCP (loopback sockets the test opens); a reload that keeps
 * an unchanged sink's queue.
 */
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
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "detect/policy.h"
#include "sinks/sinks.h"
#include "tree.h"

static const struct line_meta event_meta = {LINE_EVENT, 0};

static void parse_ok(const char *text, struct sink_spec *spec)
{
	struct am_error err = {{0}};

	if (sink_spec_parse(text, spec, &err))
		fail_msg("%s: %s", text, err.msg);
}

static void parses_every_kind(void **state)
{
	struct sink_spec spec;

	(void)state;
	parse_ok("stdout", &spec);
	assert_int_equal(spec.kind, SINK_STDOUT);
	assert_string_equal(spec.name, "stdout");
	assert_int_equal(spec.queue_bytes, SINK_DEFAULT_QUEUE_BYTES);
	sink_spec_release(&spec);

	parse_ok("file:/var/log/a.jsonl,max-size=1M,keep=3,queue=128K", &spec);
	assert_int_equal(spec.kind, SINK_FILE);
	assert_string_equal(spec.target, "/var/log/a.jsonl");
	assert_int_equal(spec.max_size, 1 << 20);
	assert_int_equal(spec.keep, 3);
	assert_int_equal(spec.queue_bytes, 128 << 10);
	assert_string_equal(spec.name, "file:/var/log/a.jsonl");
	sink_spec_release(&spec);

	/* An option given twice: the last counts, the first is not leaked (valgrind run). */
	parse_ok("webhook:https://r.example/x,token-file=/a,token-file=/b,ca-file=/c,ca-file=/d", &spec);
	assert_string_equal(spec.token_file, "/b");
	assert_string_equal(spec.ca_file, "/d");
	sink_spec_release(&spec);

	parse_ok("syslog", &spec);
	assert_int_equal(spec.transport, SYSLOG_UNIX);
	assert_string_equal(spec.target, "/dev/log");
	assert_int_equal(spec.facility, 10);
	sink_spec_release(&spec);

	parse_ok("syslog:tcp:[::1]:6514,facility=local3", &spec);
	assert_int_equal(spec.transport, SYSLOG_TCP);
	assert_string_equal(spec.target, "::1");
	assert_string_equal(spec.port, "6514");
	assert_int_equal(spec.facility, 19);
	assert_string_equal(spec.name, "syslog:tcp:::1:6514");
	sink_spec_release(&spec);

	parse_ok("syslog:udp:logs.example", &spec);
	assert_string_equal(spec.port, "514");
	sink_spec_release(&spec);

	parse_ok("webhook:https://recv.example:8443/in?key=secret,token-file=/t,batch-lines=10,"
		 "flush-ms=50,insecure",
		 &spec);
	assert_int_equal(spec.kind, SINK_WEBHOOK);
	assert_string_equal(spec.target, "https://recv.example:8443/in?key=secret");
	/* The name goes to logs and metrics: never the query, which may carry a key. */
	assert_string_equal(spec.name, "webhook:https://recv.example:8443/in");
	assert_string_equal(spec.token_file, "/t");
	assert_int_equal(spec.batch_lines, 10);
	assert_int_equal(spec.flush_ms, 50);
	assert_true(spec.insecure);
	sink_spec_release(&spec);
}

static void refuses_what_would_not_work(void **state)
{
	static const struct {
		const char *text, *message;
	} cases[] = {
		{"tape", "unknown sink type 'tape'"},
		{"file:relative.jsonl", "absolute path"},
		{"file:/x,keep=many", "keep=many"},
		{"file:/x,max-size=1K", "max-size=1K"},
		{"stdout:/x", "takes no target"},
		{"stdout,colour=red", "unknown option 'colour=red'"},
		{"syslog:carrier-pigeon:x", "syslog:udp:HOST:PORT"},
		{"syslog:udp:host:port", "syslog:udp:HOST:PORT"},
		{"syslog,facility=kitchen", "facility=kitchen"},
		{"webhook:ftp://x/y", "http:// or https://"},
		{"webhook:https://user:pw@x/y", "no credentials in the URL"},
		{"webhook:https://x/y,queue=1", "queue=1"},
		{"file:/x,token-file=/t", "unknown option 'token-file=/t'"},
	};
	struct sink_spec spec;
	struct am_error err;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		err.msg[0] = '\0';
		if (sink_spec_parse(cases[i].text, &spec, &err) != -EINVAL)
			fail_msg("%s: accepted", cases[i].text);
		if (!strstr(err.msg, cases[i].message))
			fail_msg("%s: '%s' does not say '%s'", cases[i].text, err.msg,
				 cases[i].message);
	}
}

static struct sinks *start(const char *text)
{
	struct sink_spec spec;
	struct am_error err = {{0}};
	struct sinks *sinks;

	parse_ok(text, &spec);
	sinks = sinks_start(&spec, 1, "node-1", &err);
	sink_spec_release(&spec);
	if (!sinks)
		fail_msg("%s: %s", text, err.msg);
	return sinks;
}

/* Writes lines "{"n":FIRST}" ... padded to about `size` bytes, publishing every `every`. */
static void write_lines(struct sinks *sinks, int first, int count, size_t size, int every)
{
	char line[1024];
	int i;

	for (i = first; i < first + count; i++) {
		int n = snprintf(line, sizeof(line), "{\"n\":%d,\"pad\":\"%*s\"}", i,
				 (int)(size > 40 ? size - 40 : 1), "");

		sinks_write(sinks, line, (size_t)n, &event_meta);
		if ((i + 1) % every == 0)
			sinks_publish(sinks);
	}
	sinks_publish(sinks);
}

/* The "n" of every line of a file, in order; returns how many. */
static int read_numbers(const char *path, int *numbers, int max, off_t *size, mode_t *mode)
{
	char line[2048];
	struct stat st;
	FILE *f = fopen(path, "r");
	int n = 0;

	if (!f)
		return -1;
	fstat(fileno(f), &st);
	*size = st.st_size;
	*mode = st.st_mode & 07777;
	while (n < max && fgets(line, sizeof(line), f))
		assert_int_equal(sscanf(line, "{\"n\":%d,", &numbers[n++]), 1);
	fclose(f);
	return n;
}

static void file_rotates_and_keeps_order(void **state)
{
	static int numbers[4096];
	char text[256], path[256];
	struct sinks *sinks;
	int i, k, n, expected;
	off_t size;
	mode_t mode;

	(void)state;
	tree_make("sinks");
	snprintf(text, sizeof(text), "file:%s/alerts.jsonl,max-size=64K,keep=2", tree_root);
	sinks = start(text);
	write_lines(sinks, 0, 3000, 100, 64);
	assert_int_equal(sinks_stop(sinks, 5000), 0);

	/* Newest in FILE, then FILE.1, FILE.2; each a run of consecutive lines. */
	expected = 2999;
	for (k = 0; k <= 3; k++) {
		if (k == 0)
			snprintf(path, sizeof(path), "%s/alerts.jsonl", tree_root);
		else
			snprintf(path, sizeof(path), "%s/alerts.jsonl.%d", tree_root, k);
		n = read_numbers(path, numbers, 4096, &size, &mode);
		if (k == 3) {
			assert_int_equal(n, -1); /* keep=2: no third */
			break;
		}
		assert_true(n > 0);
		assert_true(size <= 65536);
		assert_int_equal(mode, 0600);
		for (i = n - 1; i >= 0; i--)
			assert_int_equal(numbers[i], expected--);
		if (k > 0) /* a rotated file was full: the next line would not have fitted */
			assert_true(size + 101 > 65536);
	}
}

static void file_refuses_a_symlink(void **state)
{
	char link_path[256], target[256], text[300];
	struct sink_spec spec;
	struct am_error err = {{0}};

	(void)state;
	tree_make("sinks");
	snprintf(target, sizeof(target), "%s/victim", tree_root);
	snprintf(link_path, sizeof(link_path), "%s/alerts.jsonl", tree_root);
	tree_write("/victim", "precious\n");
	assert_int_equal(symlink(target, link_path), 0);
	snprintf(text, sizeof(text), "file:%s", link_path);
	parse_ok(text, &spec);
	assert_null(sinks_start(&spec, 1, "node-1", &err));
	sink_spec_release(&spec);
	assert_non_null(strstr(err.msg, "symbolic link"));
	{
		off_t size;
		mode_t mode;
		int numbers[1];

		/* The target was not written through the link. */
		assert_int_equal(read_numbers(target, numbers, 0, &size, &mode), 0);
		assert_int_equal(size, 9);
	}
}

/* A sink that cannot deliver: its queue fills, and every line is either queued or counted. */
static void full_queue_drops_are_counted_exactly(void **state)
{
	struct sink_stats stats;
	struct sinks *sinks;
	uint64_t dropped = 0, total = 0, step, step_total;
	const char *name;
	char reason[256], text[256];

	(void)state;
	tree_make("sinks");
	snprintf(text, sizeof(text), "syslog:unix:%s/no-such-socket,queue=64K", tree_root);
	sinks = start(text);
	write_lines(sinks, 0, 2000, 100, 50);
	while (sinks_take_drops(sinks, 1, 0, &step, &step_total, &name, reason, sizeof(reason)) >=
	       0) {
		dropped += step;
		total = step_total;
	}
	assert_true(dropped > 0);
	assert_int_equal(dropped, total);
	/* A sink that goes on dropping is reported again only after the interval. */
	write_lines(sinks, 2000, 100, 100, 50);
	assert_int_equal(sinks_take_drops(sinks, 2, 5000000000ull, &step, &step_total, &name, reason,
					  sizeof(reason)),
			 -1);
	assert_int_equal(sinks_take_drops(sinks, 5000000001ull, 5000000000ull, &step, &step_total,
					  &name, reason, sizeof(reason)),
			 0);
	assert_int_equal(step, 100);
	assert_int_equal(step_total, total + 100);
	dropped += step;
	total = step_total;
	assert_int_equal(strncmp(name, "syslog:unix:", 12), 0);
	assert_non_null(strstr(reason, "queue full"));
	for (int tries = 0; tries < 200; tries++) { /* its first attempt may still be on the way */
		sinks_stats(sinks, 0, &stats);
		if (stats.failures)
			break;
		usleep(10000);
	}
	assert_true(stats.failures > 0);
	assert_int_equal(stats.dropped_lines, dropped);
	assert_int_equal(stats.queued_lines + stats.dropped_lines + stats.written_lines, 2100);
	assert_true(stats.queued_bytes <= 65536);
	assert_int_equal(stats.written_lines, 0);
	assert_false(stats.up);
	/* Stopping at once: what was still queued is undelivered, and said. */
	assert_int_equal(sinks_stop(sinks, 0), stats.queued_lines);
}

static int udp_socket(int *port)
{
	struct sockaddr_in addr = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof(addr);
	int fd = socket(AF_INET, SOCK_DGRAM, 0);

	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&addr, sizeof(addr)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&addr, &len), 0);
	*port = ntohs(addr.sin_port);
	return fd;
}

static ssize_t receive(int fd, char *buf, size_t size)
{
	struct pollfd pfd = {.fd = fd, .events = POLLIN};
	ssize_t n;

	assert_int_equal(poll(&pfd, 1, 5000), 1);
	n = recv(fd, buf, size - 1, 0);
	assert_true(n > 0);
	buf[n] = '\0';
	return n;
}

static void syslog_udp_is_rfc5424(void **state)
{
	struct line_meta alert = {LINE_ALERT, SEVERITY_HIGH};
	char text[128], buf[2048], stamp[64], host[64], msgid[16];
	struct sinks *sinks;
	int port, fd, pri, pid, offset = 0;

	(void)state;
	fd = udp_socket(&port);
	snprintf(text, sizeof(text), "syslog:udp:127.0.0.1:%d,facility=local0", port);
	sinks = start(text);
	sinks_write(sinks, "{\"type\":\"alert\",\"rule\":\"imds-token-request\"}", 44, &alert);
	sinks_write(sinks, "{\"type\":\"connect\"}", 18, &event_meta);
	sinks_publish(sinks);

	receive(fd, buf, sizeof(buf));
	assert_int_equal(sscanf(buf, "<%d>1 %63s %63s accessmon %d %15s - %n", &pri, stamp, host,
				&pid, msgid, &offset),
			 5);
	assert_int_equal(pri, 16 * 8 + 3); /* local0, high = error */
	assert_string_equal(host, "node-1");
	assert_int_equal(pid, getpid());
	assert_string_equal(msgid, "alert");
	assert_int_equal(strlen(stamp), strlen("2026-11-28T12:00:00.123456Z"));
	assert_int_equal(stamp[strlen(stamp) - 1], 'Z');
	assert_string_equal(buf + offset, "{\"type\":\"alert\",\"rule\":\"imds-token-request\"}");

	receive(fd, buf, sizeof(buf));
	assert_int_equal(sscanf(buf, "<%d>1 %63s %63s accessmon %d %15s - %n", &pri, stamp, host,
				&pid, msgid, &offset),
			 5);
	assert_int_equal(pri, 16 * 8 + 6);
	assert_string_equal(msgid, "event");
	assert_string_equal(buf + offset, "{\"type\":\"connect\"}");
	assert_int_equal(sinks_stop(sinks, 2000), 0);
	close(fd);
}

static void syslog_tcp_counts_octets(void **state)
{
	struct sockaddr_in addr = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof(addr);
	char text[128], buf[8192];
	struct sinks *sinks;
	int listener, conn, i;
	size_t have = 0;
	const char *at;

	(void)state;
	listener = socket(AF_INET, SOCK_STREAM, 0);
	assert_int_equal(bind(listener, (struct sockaddr *)&addr, sizeof(addr)), 0);
	assert_int_equal(listen(listener, 1), 0);
	assert_int_equal(getsockname(listener, (struct sockaddr *)&addr, &len), 0);
	snprintf(text, sizeof(text), "syslog:tcp:127.0.0.1:%d", ntohs(addr.sin_port));
	sinks = start(text);
	write_lines(sinks, 0, 3, 60, 100);
	conn = accept(listener, NULL, NULL);
	assert_true(conn >= 0);
	while (have < sizeof(buf) - 1) {
		struct pollfd pfd = {.fd = conn, .events = POLLIN};
		ssize_t n;

		if (poll(&pfd, 1, 1000) != 1)
			break;
		n = recv(conn, buf + have, sizeof(buf) - 1 - have, 0);
		if (n <= 0)
			break;
		have += (size_t)n;
		buf[have] = '\0';
		if (strstr(buf, "{\"n\":2,"))
			break;
	}
	/* Three frames "LEN SP MSG", back to back, each LEN exactly its message. */
	at = buf;
	for (i = 0; i < 3; i++) {
		unsigned long frame;
		char *end;
		const char *json;

		frame = strtoul(at, &end, 10);
		assert_int_equal(*end, ' ');
		json = strstr(end + 1, " - {");
		assert_non_null(json);
		assert_true(end + 1 + frame <= buf + have);
		assert_int_equal(end[frame], '}'); /* the frame ends with the JSON */
		assert_int_equal(atoi(strstr(json, "\"n\":") + 4), i);
		at = end + 1 + frame;
	}
	assert_int_equal(at - buf, (long)have);
	assert_int_equal(sinks_stop(sinks, 2000), 0);
	close(conn);
	close(listener);
}

static void reload_keeps_an_unchanged_sink(void **state)
{
	static int numbers[4096];
	struct sink_spec specs[2];
	char text_a[256], text_b[256], path[256];
	struct am_error err = {{0}};
	uint64_t undelivered = 1;
	struct sinks *sinks;
	off_t size;
	mode_t mode;
	int i, n;

	(void)state;
	tree_make("sinks");
	snprintf(text_a, sizeof(text_a), "file:%s/a.jsonl", tree_root);
	snprintf(text_b, sizeof(text_b), "file:%s/b.jsonl", tree_root);
	parse_ok(text_a, &specs[0]);
	parse_ok(text_b, &specs[1]);
	sinks = sinks_start(specs, 1, "node-1", &err);
	assert_non_null(sinks);
	write_lines(sinks, 0, 100, 50, 10);
	/* Lines still in the unpublished batch belong to the sinks of before. */
	for (i = 100; i < 105; i++) {
		char line[64];

		n = snprintf(line, sizeof(line), "{\"n\":%d}", i);
		sinks_write(sinks, line, (size_t)n, &event_meta);
	}
	assert_int_equal(sinks_reconfigure(sinks, specs, 2, 1000, &undelivered, &err), 0);
	assert_int_equal(undelivered, 0);
	assert_int_equal(sinks_count(sinks), 2);
	write_lines(sinks, 105, 95, 50, 10);
	/* A sink that cannot start leaves the set as it was. */
	sink_spec_release(&specs[1]);
	parse_ok("file:/proc/no/such/dir/x.jsonl", &specs[1]);
	assert_int_not_equal(sinks_reconfigure(sinks, specs, 2, 1000, &undelivered, &err), 0);
	assert_int_equal(sinks_count(sinks), 2);
	write_lines(sinks, 200, 10, 50, 10);
	assert_int_equal(sinks_stop(sinks, 5000), 0);

	snprintf(path, sizeof(path), "%s/a.jsonl", tree_root);
	n = read_numbers(path, numbers, 4096, &size, &mode);
	assert_int_equal(n, 210);
	for (i = 0; i < n; i++)
		assert_int_equal(numbers[i], i);
	snprintf(path, sizeof(path), "%s/b.jsonl", tree_root);
	n = read_numbers(path, numbers, 4096, &size, &mode);
	assert_int_equal(n, 105);
	assert_int_equal(numbers[0], 105);
	sink_spec_release(&specs[0]);
	sink_spec_release(&specs[1]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(parses_every_kind),
		cmocka_unit_test(refuses_what_would_not_work),
		cmocka_unit_test_teardown(file_rotates_and_keeps_order, tree_remove),
		cmocka_unit_test_teardown(file_refuses_a_symlink, tree_remove),
		cmocka_unit_test_teardown(full_queue_drops_are_counted_exactly, tree_remove),
		cmocka_unit_test(syslog_udp_is_rfc5424),
		cmocka_unit_test(syslog_tcp_counts_octets),
		cmocka_unit_test_teardown(reload_keeps_an_unchanged_sink, tree_remove),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
