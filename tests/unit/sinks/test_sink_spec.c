// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * Unit tests: what a --sink says (sinks/sink_spec.h), parsed without side
 * effects: defaults, every option's bounds, names safe to log, and copies.
 * Running the sinks is test_sinks.c's.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "sinks/sink_spec.h"

static void parse_ok(const char *text, struct sink_spec *spec)
{
	struct am_error err = {{0}};

	if (sink_spec_parse(text, spec, &err))
		fail_msg("%s: %s", text, err.msg);
}

static void refused(const char *text, const char *message)
{
	struct sink_spec spec;
	struct am_error err = {{0}};

	if (sink_spec_parse(text, &spec, &err) != -EINVAL)
		fail_msg("%s: accepted", text);
	if (!strstr(err.msg, message))
		fail_msg("%s: '%s' does not say '%s'", text, err.msg, message);
}

static void defaults(void **state)
{
	struct sink_spec spec;

	(void)state;
	parse_ok("webhook:http://10.0.0.5:8080/alerts", &spec);
	assert_string_equal(spec.text, "webhook:http://10.0.0.5:8080/alerts");
	assert_int_equal(spec.batch_lines, SINK_DEFAULT_BATCH_LINES);
	assert_int_equal(spec.batch_bytes, SINK_DEFAULT_BATCH_BYTES);
	assert_int_equal(spec.flush_ms, SINK_DEFAULT_FLUSH_MS);
	assert_int_equal(spec.timeout_ms, SINK_DEFAULT_TIMEOUT_MS);
	assert_int_equal(spec.queue_bytes, SINK_DEFAULT_QUEUE_BYTES);
	assert_null(spec.token_file);
	assert_false(spec.insecure);
	sink_spec_release(&spec);
	parse_ok("file:/var/log/accessmon.jsonl", &spec);
	assert_int_equal(spec.max_size, SINK_DEFAULT_FILE_MAX_SIZE);
	assert_int_equal(spec.keep, SINK_DEFAULT_FILE_KEEP);
	sink_spec_release(&spec);
	/* syslog over TCP defaults to 601, a unix socket to the path given. */
	parse_ok("syslog:tcp:logs.example", &spec);
	assert_string_equal(spec.port, "601");
	sink_spec_release(&spec);
	parse_ok("syslog:unix:/run/systemd/journal/syslog", &spec);
	assert_int_equal(spec.transport, SYSLOG_UNIX);
	assert_string_equal(spec.target, "/run/systemd/journal/syslog");
	assert_string_equal(spec.name, "syslog:unix:/run/systemd/journal/syslog");
	assert_null(spec.port);
	sink_spec_release(&spec);
	parse_ok("syslog:udp:[fd00::9]", &spec);
	assert_string_equal(spec.target, "fd00::9");
	assert_string_equal(spec.port, "514");
	sink_spec_release(&spec);
}

static void bounds_of_every_number(void **state)
{
	struct sink_spec spec;

	(void)state;
	parse_ok("webhook:https://r.example/,batch-lines=1,flush-ms=1,timeout-ms=100,"
		 "batch-bytes=1K,queue=64K",
		 &spec);
	assert_int_equal(spec.batch_lines, 1);
	assert_int_equal(spec.flush_ms, 1);
	assert_int_equal(spec.timeout_ms, 100);
	assert_int_equal(spec.batch_bytes, 1024);
	assert_int_equal(spec.queue_bytes, 65536);
	sink_spec_release(&spec);
	parse_ok("webhook:https://r.example/,batch-lines=100000,flush-ms=600000,"
		 "timeout-ms=600000,batch-bytes=64M,queue=16G",
		 &spec);
	assert_int_equal(spec.batch_lines, 100000);
	assert_int_equal(spec.batch_bytes, 64ull << 20);
	assert_int_equal(spec.queue_bytes, 16ull << 30);
	sink_spec_release(&spec);
	parse_ok("file:/x,keep=0,max-size=64K", &spec);
	assert_int_equal(spec.keep, 0);
	assert_int_equal(spec.max_size, 65536);
	sink_spec_release(&spec);
	parse_ok("file:/x,keep=1000", &spec);
	sink_spec_release(&spec);
	/* One past each end, signs, and what is not a number at all. */
	refused("webhook:https://r.example/,batch-lines=0", "batch-lines=0: expected 1 to 100000");
	refused("webhook:https://r.example/,batch-lines=100001", "batch-lines=100001");
	refused("webhook:https://r.example/,flush-ms=0", "flush-ms=0: expected 1 to 600000");
	refused("webhook:https://r.example/,timeout-ms=99", "timeout-ms=99: expected 100 to");
	refused("webhook:https://r.example/,timeout-ms=600001", "timeout-ms=600001");
	refused("webhook:https://r.example/,batch-bytes=1023", "batch-bytes=1023");
	refused("webhook:https://r.example/,batch-bytes=65M", "batch-bytes=65M");
	refused("stdout,queue=17G", "queue=17G: expected a size");
	refused("file:/x,keep=1001", "keep=1001: expected a number from 0 to 1000");
	refused("file:/x,keep=-1", "keep=-1");
	refused("file:/x,keep=", "keep=");
	refused("file:/x,keep=2x", "keep=2x");
	refused("webhook:https://r.example/,batch-lines=18446744073709551617", "batch-lines=");
}

static void options_belong_to_their_kind(void **state)
{
	(void)state;
	refused("stdout,max-size=1M", "stdout sink: unknown option 'max-size=1M'");
	refused("syslog,keep=3", "syslog sink: unknown option 'keep=3'");
	refused("file:/x,facility=daemon", "file sink: unknown option 'facility=daemon'");
	/* A flag with a value, a value without one. */
	refused("webhook:https://r.example/,insecure=yes", "unknown option 'insecure=yes'");
	refused("webhook:https://r.example/,token-file", "unknown option 'token-file'");
	refused("webhook:https://r.example/,token-file=", "unknown option 'token-file='");
	refused("stdout,,queue=1M", "unknown option ''");
	refused("", "unknown sink type ''");
	refused("file:", "absolute path");
	refused("webhook:https://", "http:// or https:// URL");
	refused("syslog:unix:relative", "syslog:unix:/PATH");
	refused("syslog:udp:[fd00::9", "syslog:udp:HOST:PORT");
	refused("syslog:tcp::601", "syslog:tcp:HOST:PORT");
	refused("syslog:tcp:host:", "syslog:tcp:HOST:PORT");
}

static void facilities_by_name(void **state)
{
	static const struct {
		const char *name;
		int number;
	} facilities[] = {{"kern", 0}, {"daemon", 3}, {"auth", 4}, {"authpriv", 10},
			  {"ftp", 11}, {"local0", 16}, {"local7", 23}};
	struct sink_spec spec;
	char text[64];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(facilities) / sizeof(facilities[0]); i++) {
		snprintf(text, sizeof(text), "syslog,facility=%s", facilities[i].name);
		parse_ok(text, &spec);
		assert_int_equal(spec.facility, facilities[i].number);
		sink_spec_release(&spec);
	}
	refused("syslog,facility=local8", "facility=local8");
	refused("syslog,facility=", "facility=");
	refused("syslog,facility=Daemon", "facility=Daemon");
}

/* Names go to logs and metrics: no user, password, query or fragment. */
static void names_hide_what_urls_carry(void **state)
{
	struct sink_spec spec, copy;

	(void)state;
	parse_ok("webhook:https://recv.example/in#frag,insecure", &spec);
	assert_string_equal(spec.name, "webhook:https://recv.example/in");
	sink_spec_release(&spec);
	parse_ok("webhook:https://recv.example?key=k", &spec);
	assert_string_equal(spec.name, "webhook:https://recv.example");
	sink_spec_release(&spec);
	/* An '@' past the host is in the path, not credentials. */
	parse_ok("webhook:https://recv.example/team@x", &spec);
	assert_string_equal(spec.name, "webhook:https://recv.example/team@x");

	/* A copy has its own strings and says the same. */
	assert_int_equal(sink_spec_copy(&copy, &spec), 0);
	assert_ptr_not_equal(copy.name, spec.name);
	assert_string_equal(copy.name, spec.name);
	assert_string_equal(copy.target, spec.target);
	assert_string_equal(copy.text, spec.text);
	sink_spec_release(&spec);
	assert_string_equal(copy.target, "https://recv.example/team@x");
	sink_spec_release(&copy);
	assert_null(copy.name);

	assert_string_equal(sink_kind_name(SINK_STDOUT), "stdout");
	assert_string_equal(sink_kind_name(SINK_FILE), "file");
	assert_string_equal(sink_kind_name(SINK_SYSLOG), "syslog");
	assert_string_equal(sink_kind_name(SINK_WEBHOOK), "webhook");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(defaults),
		cmocka_unit_test(bounds_of_every_number),
		cmocka_unit_test(options_belong_to_their_kind),
		cmocka_unit_test(facilities_by_name),
		cmocka_unit_test(names_hide_what_urls_carry),
	};

	return cmocka_run_group_tests_name("sink_spec", tests, NULL, NULL);
}
