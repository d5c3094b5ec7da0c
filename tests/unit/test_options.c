// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* Unit tests: `accessmon monitor` option parsing. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <cmocka.h>

#include "options.h"

#define ARGV(...) ((char *[]){"monitor", __VA_ARGS__, NULL})

static int parse(char **argv, int argc, struct monitor_options *options, struct am_error *err)
{
	err->msg[0] = '\0';
	return monitor_options_parse(argc, argv, options, err);
}

static void defaults(void **state)
{
	char *argv[] = {"monitor", NULL};
	struct monitor_options options;
	struct am_error err;

	(void)state;
	assert_int_equal(parse(argv, 1, &options, &err), 0);
	assert_false(options.events);
	assert_false(options.help);
	assert_int_equal(options.format, OUTPUT_JSON);
	assert_int_equal(options.open_hook, OPEN_HOOK_AUTO);
	assert_int_equal(options.ringbuf_bytes, RINGBUF_DEFAULT_BYTES);
	assert_null(options.sources.pods_file);
	assert_null(options.sources.host_root);
	assert_null(options.sources.kubelet_url);
	assert_null(options.cgroup_root);
	assert_int_equal(options.n_watch_paths, 0);
	monitor_options_release(&options);
}

static void every_option(void **state)
{
	char **argv = ARGV("--events", "--watch", "/a", "--watch=/b", "--pods", "p.json",
			   "--cgroup-root", "/cg", "--ready-file", "/r", "--format", "text",
			   "--open-hook", "raw", "--ringbuf-size", "65536", "-v");
	struct monitor_options options;
	struct am_error err;

	(void)state;
	assert_int_equal(parse(argv, 18, &options, &err), 0);
	assert_true(options.events);
	assert_true(options.verbose);
	assert_int_equal(options.n_watch_paths, 2);
	assert_string_equal(options.watch_paths[0], "/a");
	assert_string_equal(options.watch_paths[1], "/b");
	assert_string_equal(options.sources.pods_file, "p.json");
	assert_string_equal(options.cgroup_root, "/cg");
	assert_string_equal(options.ready_file, "/r");
	assert_int_equal(options.format, OUTPUT_TEXT);
	assert_int_equal(options.open_hook, OPEN_HOOK_RAW);
	assert_int_equal(options.ringbuf_bytes, 65536);
	monitor_options_release(&options);
}

static void errors_say_which_option(void **state)
{
	static const struct {
		const char *args[3];
		const char *message;
	} cases[] = {
		{{"--bogus"}, "unknown option '--bogus'"},
		{{"-x"}, "unknown option '-x'"},
		{{"--format", "yaml"}, "--format 'yaml': expected json or text"},
		{{"--open-hook", "kprobe"}, "--open-hook 'kprobe': expected auto, tracepoint or raw"},
		{{"--ringbuf-size", "1000"},
		 "--ringbuf-size '1000': expected a power of two from 4096 to 1073741824"},
		{{"--ringbuf-size", "8k"},
		 "--ringbuf-size '8k': expected a power of two from 4096 to 1073741824"},
		{{"--ringbuf-size", "-4096"},
		 "--ringbuf-size '-4096': expected a power of two from 4096 to 1073741824"},
		{{"--watch", ""}, "--watch: the path is empty"},
		{{"--pods"}, "option '--pods' needs a value"},
		{{"stray"}, "unexpected argument 'stray'"},
		{{"--kubelet-url", "ftp://x"}, "--kubelet-url 'ftp://x': expected https://HOST:PORT"},
		{{"--kubelet-interval", "0"}, "--kubelet-interval '0': expected seconds from 1 to 3600"},
		{{"--kubelet-interval", "-5"},
		 "--kubelet-interval '-5': expected seconds from 1 to 3600"},
		{{"--host-root", ""}, "--host-root: the path is empty"},
	};
	struct monitor_options options;
	struct am_error err;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *argv[4] = {"monitor"};
		int argc = 1;

		while (argc < 4 && cases[i].args[argc - 1]) {
			argv[argc] = (char *)cases[i].args[argc - 1];
			argc++;
		}
		assert_int_not_equal(parse(argv, argc, &options, &err), 0);
		assert_string_equal(err.msg, cases[i].message);
		monitor_options_release(&options);
	}
}

static void source_options(void **state)
{
	char **argv = ARGV("--host-root", "/host", "--kubelet-url", "https://10.0.0.4:10250",
			   "--kubelet-token-file", "/t", "--kubelet-ca-file", "/ca",
			   "--kubelet-insecure", "--kubelet-interval", "30", "--cluster", "aks.json",
			   "--no-containerd");
	struct inventory_options inventory;
	struct monitor_options options;
	struct am_error err;

	(void)state;
	assert_int_equal(parse(argv, 15, &options, &err), 0);
	assert_string_equal(options.sources.host_root, "/host");
	assert_string_equal(options.sources.kubelet_url, "https://10.0.0.4:10250");
	assert_string_equal(options.sources.kubelet_token_file, "/t");
	assert_string_equal(options.sources.kubelet_ca_file, "/ca");
	assert_true(options.sources.kubelet_insecure);
	assert_int_equal(options.sources.kubelet_interval_ms, 30000);
	assert_string_equal(options.sources.cluster_file, "aks.json");
	assert_true(options.sources.no_containerd);
	monitor_options_release(&options);

	/* inventory takes the same source options, and not the monitor's own. */
	assert_int_equal(inventory_options_parse(15, argv, &inventory, &err), 0);
	assert_string_equal(inventory.sources.host_root, "/host");
	assert_string_equal(inventory.sources.cluster_file, "aks.json");
	{
		char **bad = ARGV("--events");

		assert_int_equal(inventory_options_parse(2, bad, &inventory, &err), -EINVAL);
		assert_string_equal(err.msg, "unknown option '--events'");
	}
}

static void help(void **state)
{
	char **argv = ARGV("--help");
	struct monitor_options options;
	struct am_error err;

	(void)state;
	assert_int_equal(parse(argv, 2, &options, &err), 0);
	assert_true(options.help);
	monitor_options_release(&options);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(defaults),
		cmocka_unit_test(every_option),
		cmocka_unit_test(errors_say_which_option),
		cmocka_unit_test(source_options),
		cmocka_unit_test(help),
	};

	return cmocka_run_group_tests_name("options", tests, NULL, NULL);
}
