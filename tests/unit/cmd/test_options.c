// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* Unit tests: `accessmon monitor` option parsing. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <cmocka.h>

#include "cmd/options.h"
#include "tree.h"

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
	assert_int_equal(options.repeat_window_s, 60);
	assert_int_equal(options.pod_grace_s, 60);
	assert_false(options.bpf_stats);
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
			   "--open-hook", "raw", "--ringbuf-size", "65536", "-v", "--repeat-window",
			   "0", "--bpf-stats", "--pod-grace", "2");
	struct monitor_options options;
	struct am_error err;

	(void)state;
	assert_int_equal(parse(argv, 23, &options, &err), 0);
	assert_int_equal(options.repeat_window_s, 0);
	assert_int_equal(options.pod_grace_s, 2);
	assert_true(options.bpf_stats);
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
		{{"--repeat-window", "3601"}, "--repeat-window '3601': expected seconds from 0 to 3600"},
		{{"--repeat-window", "-1"}, "--repeat-window '-1': expected seconds from 0 to 3600"},
		{{"--repeat-window", "1m"}, "--repeat-window '1m': expected seconds from 0 to 3600"},
		{{"--repeat-window", ""}, "--repeat-window '': expected seconds from 0 to 3600"},
		{{"--pod-grace", "0"}, "--pod-grace '0': expected seconds from 1 to 3600"},
		{{"--pod-grace", "3601"}, "--pod-grace '3601': expected seconds from 1 to 3600"},
		{{"--pod-grace", "2s"}, "--pod-grace '2s': expected seconds from 1 to 3600"},
		{{"--degraded-interval", "0"},
		 "--degraded-interval '0': expected seconds from 1 to 86400"},
		{{"--degraded-interval", "86401"},
		 "--degraded-interval '86401': expected seconds from 1 to 86400"},
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

/* The config's path under the test tree. */
static const char *config_at(const char *text)
{
	static char path[128];

	tree_make("options");
	tree_write("/config.json", text);
	snprintf(path, sizeof(path), "%s/config.json", tree_root);
	return path;
}

static void config_file_under_flags(void **state)
{
	const char *path = config_at("{\n"
				     "  \"events\": true,\n"
				     "  \"sink\": [\"stdout\", \"file:/var/log/a.jsonl\"],\n"
				     "  \"watch\": [\"/a\", \"/b\"],\n"
				     "  \"listen\": 9464,\n"
				     "  \"ringbuf-size\": 65536,\n"
				     "  \"policy\": \"/p.json\",\n"
				     "  \"kubelet-interval\": 30,\n"
				     "  \"repeat-window\": 3600,\n"
				     "  \"bpf-stats\": true\n"
				     "}\n");
	char **argv = ARGV("--config", (char *)path, "--watch", "/c", "--ringbuf-size", "131072");
	struct monitor_options options;
	struct am_error err;

	(void)state;
	assert_int_equal(parse(argv, 7, &options, &err), 0);
	assert_true(options.events);
	assert_string_equal(options.config_file, path);
	/* Lists on the command line replace the config's; single values override. */
	assert_int_equal(options.n_watch_paths, 1);
	assert_string_equal(options.watch_paths[0], "/c");
	assert_int_equal(options.ringbuf_bytes, 131072);
	/* What the command line leaves alone comes from the file. */
	assert_int_equal(options.n_sinks, 2);
	assert_int_equal(options.sinks[1].kind, SINK_FILE);
	assert_string_equal(options.listen_host, "127.0.0.1");
	assert_string_equal(options.listen_port, "9464");
	assert_string_equal(options.policy_file, "/p.json");
	assert_int_equal(options.sources.kubelet_interval_ms, 30000);
	assert_int_equal(options.repeat_window_s, 3600);
	assert_true(options.bpf_stats);
	monitor_options_release(&options);

	{
		char **sinks = ARGV("--sink", "stdout", "--config", (char *)path);

		assert_int_equal(parse(sinks, 5, &options, &err), 0);
		assert_int_equal(options.n_sinks, 1);
		assert_int_equal(options.sinks[0].kind, SINK_STDOUT);
		assert_int_equal(options.n_watch_paths, 2);
		monitor_options_release(&options);
	}
}

static void config_errors_name_the_place(void **state)
{
	static const struct {
		const char *text, *message;
	} cases[] = {
		{"{\n  \"events\": true,\n  \"colour\": \"red\"\n}\n",
		 ":3:3: unknown option \"colour\""},
		{"{\"events\": \"yes\"}", ":1:2: \"events\": expected true or false"},
		{"{\"ringbuf-size\": 1.5}", ":1:2: \"ringbuf-size\": expected a string or a whole number"},
		{"{\"ringbuf-size\": 1000}", "--ringbuf-size '1000': expected a power of two"},
		{"{\"config\": \"/other.json\"}", "unknown option \"config\""},
		{"{\"sink\": [\"stdout\", 7]}", "\"sink\": expected an array of strings"},
		{"{\"watch\": {\"a\": 1}}", "\"watch\": expected a string or an array of strings"},
		{"[1, 2]", "expected a JSON object of options"},
		{"{\"events\": tru", "config.json"},
		{"{\"format\": \"text\", \"sink\": [\"file:/x\"]}",
		 "--format text is for people reading stdout"},
		{"{\"listen\": \"0.0.0.0:0\"}", "--listen '0.0.0.0:0'"},
		{"{\"listen\": \"example.org:80\"}", "--listen 'example.org:80'"},
	};
	struct monitor_options options;
	struct am_error err;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *path = config_at(cases[i].text);
		char **argv = ARGV("--config", (char *)path);

		if (parse(argv, 3, &options, &err) == 0)
			fail_msg("%s: accepted", cases[i].text);
		if (!strstr(err.msg, cases[i].message))
			fail_msg("%s: '%s' does not say '%s'", cases[i].text, err.msg,
				 cases[i].message);
		monitor_options_release(&options);
		tree_remove(NULL);
	}
}

struct problems {
	int count;
	int lines[8];
};

static void collect_problem(void *ctx, const char *path, int line, int column,
			    const char *message)
{
	struct problems *problems = ctx;

	(void)path;
	(void)column;
	assert_non_null(message);
	if (problems->count < 8)
		problems->lines[problems->count] = line;
	problems->count++;
}

static void config_problems_all_said(void **state)
{
	const char *path = config_at("{\n"
				     "  \"bogus\": 1,\n"
				     "  \"events\": true,\n"
				     "  \"sink\": [\"tape\", \"stdout\", \"file:rel\"],\n"
				     "  \"listen\": \"x\"\n"
				     "}\n");
	struct problems problems = {0};
	struct monitor_options options;
	struct am_error err;

	(void)state;
	monitor_options_init(&options);
	assert_int_equal(monitor_options_load_config(path, &options, collect_problem, &problems, &err),
			 4);
	assert_int_equal(problems.count, 4);
	assert_int_equal(problems.lines[0], 2);
	assert_int_equal(problems.lines[1], 4);
	assert_int_equal(problems.lines[2], 4);
	assert_int_equal(problems.lines[3], 5);
	/* What was right still applied. */
	assert_true(options.events);
	assert_int_equal(options.n_sinks, 1);
	monitor_options_release(&options);
}

static void listen_forms(void **state)
{
	static const struct {
		const char *arg, *host, *port;
	} cases[] = {
		{"9464", "127.0.0.1", "9464"},
		{"0.0.0.0:9464", "0.0.0.0", "9464"},
		{"[::1]:19464", "::1", "19464"},
		{"localhost:80", "localhost", "80"},
	};
	struct monitor_options options;
	struct am_error err;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char **argv = ARGV("--listen", (char *)cases[i].arg);

		assert_int_equal(parse(argv, 3, &options, &err), 0);
		assert_string_equal(options.listen_host, cases[i].host);
		assert_string_equal(options.listen_port, cases[i].port);
		monitor_options_release(&options);
	}
	{
		char **argv = ARGV("--listen", "65536");

		assert_int_equal(parse(argv, 3, &options, &err), -EINVAL);
		monitor_options_release(&options);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(defaults),
		cmocka_unit_test(every_option),
		cmocka_unit_test(errors_say_which_option),
		cmocka_unit_test(source_options),
		cmocka_unit_test(help),
		cmocka_unit_test_teardown(config_file_under_flags, tree_remove),
		cmocka_unit_test_teardown(config_errors_name_the_place, tree_remove),
		cmocka_unit_test_teardown(config_problems_all_said, tree_remove),
		cmocka_unit_test(listen_forms),
	};

	return cmocka_run_group_tests_name("options", tests, NULL, NULL);
}
