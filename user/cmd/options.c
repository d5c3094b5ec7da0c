// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* The command lines of `accessmon monitor` and `accessmon inventory`; see options.h. */
#include "cmd/options.h"

#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "cmd/option_values.h"
#include "cmd/options_private.h"
#include "kernel/repeats.h"

#define SOURCE_LONG_OPTIONS                                                                    \
	{"pods", required_argument, NULL, OPT_PODS},                                           \
		{"host-root", required_argument, NULL, OPT_HOST_ROOT},                         \
		{"cluster", required_argument, NULL, OPT_CLUSTER},                             \
		{"kubelet-url", required_argument, NULL, OPT_KUBELET_URL},                     \
		{"kubelet-token-file", required_argument, NULL, OPT_KUBELET_TOKEN_FILE},       \
		{"kubelet-ca-file", required_argument, NULL, OPT_KUBELET_CA_FILE},             \
		{"kubelet-insecure", no_argument, NULL, OPT_KUBELET_INSECURE},                 \
		{"kubelet-interval", required_argument, NULL, OPT_KUBELET_INTERVAL},           \
	{                                                                                      \
		"no-containerd", no_argument, NULL, OPT_NO_CONTAINERD                          \
	}

/* Handles an option every pod-source-reading command takes; 1 when it was one. */
static int source_option(int opt, const char *arg, struct inventory_sources *sources,
			 struct am_error *err)
{
	unsigned long seconds;
	char *end;

	switch (opt) {
	case OPT_PODS:
		sources->pods_file = arg;
		return 1;
	case OPT_HOST_ROOT:
		if (!*arg) {
			am_error_set(err, "--host-root: the path is empty");
			return -EINVAL;
		}
		sources->host_root = arg;
		return 1;
	case OPT_CLUSTER:
		sources->cluster_file = arg;
		return 1;
	case OPT_KUBELET_URL:
		if (strncmp(arg, "https://", 8) != 0 && strncmp(arg, "http://", 7) != 0) {
			am_error_set(err, "--kubelet-url '%s': expected https://HOST:PORT", arg);
			return -EINVAL;
		}
		sources->kubelet_url = arg;
		return 1;
	case OPT_KUBELET_TOKEN_FILE:
		sources->kubelet_token_file = arg;
		return 1;
	case OPT_KUBELET_CA_FILE:
		sources->kubelet_ca_file = arg;
		return 1;
	case OPT_KUBELET_INSECURE:
		sources->kubelet_insecure = true;
		return 1;
	case OPT_KUBELET_INTERVAL:
		errno = 0;
		seconds = strtoul(arg, &end, 10);
		if (errno || end == arg || *end || seconds < 1 || seconds > 3600 || arg[0] == '-') {
			am_error_set(err, "--kubelet-interval '%s': expected seconds from 1 to 3600",
				     arg);
			return -EINVAL;
		}
		sources->kubelet_interval_ms = (unsigned int)seconds * 1000;
		return 1;
	case OPT_NO_CONTAINERD:
		sources->no_containerd = true;
		return 1;
	default:
		return 0;
	}
}

/* The message for getopt's ':' (missing value) and '?' (unknown option). */
static int getopt_error(int opt, char **argv, struct am_error *err)
{
	if (opt == ':')
		am_error_set(err, "option '%s' needs a value", argv[optind - 1]);
	else
		am_error_set(err, "unknown option '%s'", argv[optind - 1]);
	return -EINVAL;
}

static const struct option long_options[] = {
	{"help", no_argument, NULL, 'h'},
	{"verbose", no_argument, NULL, 'v'},
	{"events", no_argument, NULL, OPT_EVENTS},
	{"watch", required_argument, NULL, OPT_WATCH},
	{"cgroup-root", required_argument, NULL, OPT_CGROUP_ROOT},
	{"ready-file", required_argument, NULL, OPT_READY_FILE},
	{"format", required_argument, NULL, OPT_FORMAT},
	{"open-hook", required_argument, NULL, OPT_OPEN_HOOK},
	{"ringbuf-size", required_argument, NULL, OPT_RINGBUF_SIZE},
	{"service-tags", required_argument, NULL, OPT_SERVICE_TAGS},
	{"identities", required_argument, NULL, OPT_IDENTITIES},
	{"policy", required_argument, NULL, OPT_POLICY},
	{"record", required_argument, NULL, OPT_RECORD},
	{"record-max-size", required_argument, NULL, OPT_RECORD_MAX_SIZE},
	{"record-keep", required_argument, NULL, OPT_RECORD_KEEP},
	{"config", required_argument, NULL, OPT_CONFIG},
	{"sink", required_argument, NULL, OPT_SINK},
	{"listen", required_argument, NULL, OPT_LISTEN},
	{"repeat-window", required_argument, NULL, OPT_REPEAT_WINDOW},
	{"bpf-stats", no_argument, NULL, OPT_BPF_STATS},
	{"pod-grace", required_argument, NULL, OPT_POD_GRACE},
	{"degraded-interval", required_argument, NULL, OPT_DEGRADED_INTERVAL},
	SOURCE_LONG_OPTIONS,
	{NULL, 0, NULL, 0},
};

static const struct option inventory_long_options[] = {
	{"help", no_argument, NULL, 'h'},
	{"format", required_argument, NULL, OPT_FORMAT},
	SOURCE_LONG_OPTIONS,
	{NULL, 0, NULL, 0},
};

static int add_watch(struct monitor_options *options, const char *path, struct am_error *err)
{
	const char **grown;

	if (!*path) {
		am_error_set(err, "--watch: the path is empty");
		return -EINVAL;
	}
	if (options->n_watch_paths >= OPTIONS_MAX_WATCH) {
		am_error_set(err, "--watch: at most %d paths", OPTIONS_MAX_WATCH);
		return -EINVAL;
	}
	grown = realloc(options->watch_paths,
			(options->n_watch_paths + 1) * sizeof(*options->watch_paths));
	if (!grown) {
		am_error_set(err, "out of memory");
		return -ENOMEM;
	}
	options->watch_paths = grown;
	options->watch_paths[options->n_watch_paths++] = path;
	return 0;
}

static int add_sink(struct monitor_options *options, const char *text, struct am_error *err)
{
	struct sink_spec *grown;
	struct am_error why;

	grown = realloc(options->sinks, (options->n_sinks + 1) * sizeof(*options->sinks));
	if (!grown) {
		am_error_set(err, "out of memory");
		return -ENOMEM;
	}
	options->sinks = grown;
	if (sink_spec_parse(text, &options->sinks[options->n_sinks], &why)) {
		am_error_set(err, "--sink '%s': %s", text, why.msg);
		return -EINVAL;
	}
	options->n_sinks++;
	return 0;
}

static void clear_sinks(struct monitor_options *options)
{
	size_t i;

	for (i = 0; i < options->n_sinks; i++)
		sink_spec_release(&options->sinks[i]);
	options->n_sinks = 0;
}

/* One option, from the command line or the config file; `from_config` says which. */
int monitor_option_apply(struct monitor_options *options, int opt, const char *arg,
			 bool from_config, struct am_error *err)
{
	int rc;

	switch (opt) {
	case 'h':
		options->help = true;
		return 0;
	case 'v':
		options->verbose = true;
		return 0;
	case OPT_EVENTS:
		options->events = true;
		return 0;
	case OPT_BPF_STATS:
		options->bpf_stats = true;
		return 0;
	case OPT_WATCH:
		/* A list on the command line replaces the config's, as single values do. */
		if (!from_config && options->watch_from_config) {
			options->n_watch_paths = 0;
			options->watch_from_config = false;
		}
		options->watch_from_config |= from_config;
		return add_watch(options, arg, err);
	case OPT_SINK:
		if (!from_config && options->sinks_from_config) {
			clear_sinks(options);
			options->sinks_from_config = false;
		}
		options->sinks_from_config |= from_config;
		return add_sink(options, arg, err);
	case OPT_LISTEN:
		return parse_listen(options, arg, err);
	case OPT_CONFIG:
		if (from_config) {
			am_error_set(err, "a config file cannot name another config file");
			return -EINVAL;
		}
		options->config_file = arg; /* read before the command line is applied */
		return 0;
	case OPT_CGROUP_ROOT:
		options->cgroup_root = arg;
		return 0;
	case OPT_READY_FILE:
		options->ready_file = arg;
		return 0;
	case OPT_SERVICE_TAGS:
		options->service_tags_file = arg;
		return 0;
	case OPT_IDENTITIES:
		options->identities_dir = arg;
		return 0;
	case OPT_POLICY:
		options->policy_file = arg;
		return 0;
	case OPT_RECORD:
		options->record_file = arg;
		return 0;
	case OPT_RECORD_MAX_SIZE:
		if (parse_size(arg, &options->record_max_size) || options->record_max_size < 65536) {
			am_error_set(err, "--record-max-size '%s': expected a size of at least 64K, "
					  "like 100M",
				     arg);
			return -EINVAL;
		}
		return 0;
	case OPT_RECORD_KEEP: {
		char *end;
		unsigned long keep;

		errno = 0;
		keep = strtoul(arg, &end, 10);
		if (errno || end == arg || *end || keep > 1000 || arg[0] == '-') {
			am_error_set(err, "--record-keep '%s': expected a number from 0 to 1000", arg);
			return -EINVAL;
		}
		options->record_keep = (unsigned int)keep;
		return 0;
	}
	case OPT_FORMAT:
		return parse_format(arg, &options->format, err);
	case OPT_OPEN_HOOK:
		if (strcmp(arg, "auto") == 0) {
			options->open_hook = OPEN_HOOK_AUTO;
		} else if (strcmp(arg, "tracepoint") == 0) {
			options->open_hook = OPEN_HOOK_TRACEPOINT;
		} else if (strcmp(arg, "raw") == 0) {
			options->open_hook = OPEN_HOOK_RAW;
		} else {
			am_error_set(err, "--open-hook '%s': expected auto, tracepoint or raw", arg);
			return -EINVAL;
		}
		return 0;
	case OPT_RINGBUF_SIZE:
		return parse_ringbuf_size(arg, &options->ringbuf_bytes, err);
	case OPT_REPEAT_WINDOW:
		return parse_seconds("--repeat-window", arg, 0, REPEATS_MAX_WINDOW_S,
				     &options->repeat_window_s, err);
	case OPT_POD_GRACE:
		return parse_seconds("--pod-grace", arg, 1, POD_GRACE_MAX_S, &options->pod_grace_s,
				     err);
	case OPT_DEGRADED_INTERVAL:
		return parse_seconds("--degraded-interval", arg, 1, DEGRADED_INTERVAL_MAX_S,
				     &options->degraded_interval_s, err);
	default:
		rc = source_option(opt, arg, &options->sources, err);
		return rc > 0 ? 0 : rc == 0 ? -ENOENT : rc;
	}
}

const struct option *monitor_option_find(const char *name)
{
	const struct option *o;

	for (o = long_options; o->name; o++)
		if (strcmp(o->name, name) == 0)
			return o;
	return NULL;
}

void monitor_options_init(struct monitor_options *options)
{
	memset(options, 0, sizeof(*options));
	options->ringbuf_bytes = RINGBUF_DEFAULT_BYTES;
	options->repeat_window_s = REPEATS_DEFAULT_WINDOW_S;
	options->pod_grace_s = POD_GRACE_DEFAULT_S;
	options->degraded_interval_s = DEGRADED_INTERVAL_DEFAULT_S;
	options->record_keep = 5;
}

/* --config FILE or --config=FILE, looked for before the rest is applied on top. */
static const char *find_config(int argc, char **argv)
{
	int i;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0)
			break;
		if (strcmp(argv[i], "--config") == 0 && i + 1 < argc)
			return argv[i + 1];
		if (strncmp(argv[i], "--config=", 9) == 0)
			return argv[i] + 9;
	}
	return NULL;
}

int monitor_options_parse(int argc, char **argv, struct monitor_options *options,
			  struct am_error *err)
{
	const char *config;
	int opt, rc;

	monitor_options_init(options);
	config = find_config(argc, argv);
	if (config) {
		rc = monitor_options_load_config(config, options, NULL, NULL, err);
		if (rc)
			return rc < 0 ? rc : -EINVAL;
	}
	optind = 0; /* GNU: start over, even if an earlier parse stopped midway */
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":hv", long_options, NULL)) != -1) {
		if (opt == ':' || opt == '?')
			return getopt_error(opt, argv, err);
		rc = monitor_option_apply(options, opt, optarg, false, err);
		if (rc == -ENOENT)
			return getopt_error(opt, argv, err);
		if (rc)
			return rc;
	}
	if (optind < argc) {
		am_error_set(err, "unexpected argument '%s'", argv[optind]);
		return -EINVAL;
	}
	return monitor_options_check(options, err);
}

int monitor_options_check(const struct monitor_options *options, struct am_error *err)
{
	size_t i;

	for (i = 0; options->format == OUTPUT_TEXT && i < options->n_sinks; i++) {
		if (options->sinks[i].kind != SINK_STDOUT) {
			am_error_set(err, "--format text is for people reading stdout; the %s sink "
					  "carries JSON lines: leave out --format text, or the sink",
				     options->sinks[i].name);
			return -EINVAL;
		}
	}
	for (i = 0; i < options->n_watch_paths; i++) {
		if (options->watch_paths[i][0] != '/') {
			am_error_set(err, "--watch %s: give an absolute path", options->watch_paths[i]);
			return -EINVAL;
		}
	}
	return 0;
}

int inventory_options_parse(int argc, char **argv, struct inventory_options *options,
			    struct am_error *err)
{
	int opt, rc;

	memset(options, 0, sizeof(*options));
	optind = 0;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":h", inventory_long_options, NULL)) != -1) {
		switch (opt) {
		case 'h':
			options->help = true;
			break;
		case OPT_FORMAT:
			rc = parse_format(optarg, &options->format, err);
			if (rc)
				return rc;
			break;
		default:
			rc = source_option(opt, optarg, &options->sources, err);
			if (rc < 0)
				return rc;
			if (rc == 0)
				return getopt_error(opt, argv, err);
		}
	}
	if (optind < argc) {
		am_error_set(err, "unexpected argument '%s'", argv[optind]);
		return -EINVAL;
	}
	return 0;
}

void monitor_options_release(struct monitor_options *options)
{
	free(options->watch_paths);
	options->watch_paths = NULL;
	options->n_watch_paths = 0;
	clear_sinks(options);
	free(options->sinks);
	options->sinks = NULL;
	free(options->listen_buf);
	options->listen_buf = NULL;
	cJSON_Delete(options->config_root);
	options->config_root = NULL;
}
