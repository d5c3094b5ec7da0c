// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* `accessmon monitor` option parsing; see options.h. */
#include "cmd/options.h"

#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "lib/json_input.h"
#include "kernel/repeats.h"

enum {
	OPT_EVENTS = 0x100,
	OPT_WATCH,
	OPT_PODS,
	OPT_CGROUP_ROOT,
	OPT_READY_FILE,
	OPT_FORMAT,
	OPT_OPEN_HOOK,
	OPT_RINGBUF_SIZE,
	OPT_HOST_ROOT,
	OPT_CLUSTER,
	OPT_KUBELET_URL,
	OPT_KUBELET_TOKEN_FILE,
	OPT_KUBELET_CA_FILE,
	OPT_KUBELET_INSECURE,
	OPT_KUBELET_INTERVAL,
	OPT_NO_CONTAINERD,
	OPT_SERVICE_TAGS,
	OPT_IDENTITIES,
	OPT_POLICY,
	OPT_RECORD,
	OPT_RECORD_MAX_SIZE,
	OPT_RECORD_KEEP,
	OPT_CONFIG,
	OPT_SINK,
	OPT_LISTEN,
	OPT_REPEAT_WINDOW,
	OPT_BPF_STATS,
	OPT_POD_GRACE,
	OPT_DEGRADED_INTERVAL,
};

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

#define SOURCE_USAGE                                                                           \
	"  --host-root DIR       the node's root filesystem, prefixed to every host path\n"     \
	"                        the monitor reads (default: /)\n"                              \
	"  --pods FILE           Kubernetes PodList JSON (kubectl get pods -o json) naming\n"   \
	"                        the pods whose cgroups the events come from\n"                \
	"  --kubelet-url URL     poll the kubelet's /pods, e.g. https://NODE_IP:10250\n"        \
	"  --kubelet-token-file FILE\n"                                                         \
	"                        bearer token for the kubelet (default: the pod's service\n"    \
	"                        account token)\n"                                               \
	"  --kubelet-ca-file FILE  CA bundle that signed the kubelet's serving certificate\n"   \
	"  --kubelet-insecure    do not verify the kubelet's certificate\n"                     \
	"  --kubelet-interval SECONDS  between polls (default: 10)\n"                           \
	"  --cluster FILE        `az aks show -o json` output: kubelet and add-on identities\n" \
	"  --no-containerd       do not read containerd's task bundles\n"

/* Handles an option every pod-source-reading command takes; 1 when it was one. */
static int source_option(int opt, const char *arg, struct source_options *sources,
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

static int parse_format(const char *arg, enum output_format *format, struct am_error *err)
{
	if (strcmp(arg, "json") == 0) {
		*format = OUTPUT_JSON;
	} else if (strcmp(arg, "text") == 0) {
		*format = OUTPUT_TEXT;
	} else {
		am_error_set(err, "--format '%s': expected json or text", arg);
		return -EINVAL;
	}
	return 0;
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

void monitor_usage(FILE *out)
{
	fputs("Usage: accessmon monitor [OPTIONS]\n"
	      "\n"
	      "Attach accessmon's kernel probes and stream alerts (and with --events every\n"
	      "event), one JSON object per line, to standard output or the --sink's.\n"
	      "Diagnostics go to standard error. SIGHUP reloads the --config file, --policy\n"
	      "and --identities; a bad reload keeps what was loaded and says why.\n"
	      "\n"
	      "Options:\n"
	      "  --config FILE         a JSON object of these options, keys without the dashes:\n"
	      "                        {\"events\": true, \"sink\": [\"stdout\"], \"listen\": 9464};\n"
	      "                        options on the command line override it\n"
	      "  --events              write every reported event, not only alerts\n"
	      "  --sink SPEC           where lines go (repeatable; default: stdout). Each sink\n"
	      "                        has its own bounded queue; what a full one drops is\n"
	      "                        counted and reported as a sink-lost record:\n"
	      "                          stdout\n"
	      "                          file:PATH[,max-size=100M][,keep=5]\n"
	      "                          syslog[:unix:/dev/log | :udp:HOST:PORT | :tcp:HOST:PORT]\n"
	      "                                [,facility=authpriv]   (RFC 5424)\n"
	      "                          webhook:URL[,token-file=FILE][,ca-file=FILE][,insecure]\n"
	      "                                [,batch-lines=500][,batch-bytes=1M][,flush-ms=1000]\n"
	      "                                [,timeout-ms=10000]   (POSTs JSON lines; retries)\n"
	      "                        every sink takes queue=SIZE (default 8M). The webhook's\n"
	      "                        bearer token comes from token-file or\n"
	      "                        $ACCESSMON_WEBHOOK_TOKEN, never the command line\n"
	      "  --listen [ADDR:]PORT  serve /metrics (Prometheus), /healthz and /readyz over\n"
	      "                        HTTP; a port alone listens on 127.0.0.1\n"
	      "  --identities DIR      the Azure CLI's JSON: role-assignments.json,\n"
	      "                        identities.json, cluster.json, federated-credentials*.json,\n"
	      "                        resources.json (each optional)\n"
	      "  --policy FILE         allowed access and severity overrides (JSON); default: the\n"
	      "                        built-in policy, which allows what AKS itself does\n"
	      "  --record FILE         also write a trace file (replay it with accessmon replay)\n"
	      "  --record-max-size SIZE  rotate the trace at this size (e.g. 100M)\n"
	      "  --record-keep N       rotated traces kept: FILE.1 ... FILE.N (default: 5)\n"
	      "  --watch PATH          report opens of this file, by any path that reaches it\n"
	      "                        (repeatable)\n" SOURCE_USAGE
	      "  --service-tags FILE   Microsoft's ServiceTags_Public JSON (or .json.gz): names\n"
	      "                        the Azure service of destinations no DNS answer or TLS\n"
	      "                        server name names\n"
	      "  --cgroup-root DIR     cgroup v2 mount (default: found in /proc/mounts)\n"
	      "  --ready-file PATH     create PATH once every probe is attached; removed on exit\n"
	      "  --format json|text    JSON lines (default) or one readable line per record\n"
	      "  --open-hook auto|tracepoint|raw\n"
	      "                        which kernel hook sees opens: the syscall tracepoints\n"
	      "                        (cheapest; mounts tracefs if needed), the raw sys_exit\n"
	      "                        tracepoint, or the first that works (default: auto)\n"
	      "  --ringbuf-size BYTES  kernel ring buffer size, a power of two of at least 4096\n"
	      "                        (default: 4194304)\n"
	      "  --repeat-window SECONDS\n"
	      "                        after a pod's connect or send to a destination is\n"
	      "                        reported, count its repeats in the kernel this long and\n"
	      "                        report them as connect-repeat records (default: 60;\n"
	      "                        0: report every one; IMDS, WireServer, DNS and TLS are\n"
	      "                        always reported one by one)\n"
	      "  --pod-grace SECONDS   how long a pod no source reports any more, and a removed\n"
	      "                        cgroup, still name the events that arrive late\n"
	      "                        (default: 60)\n"
	      "  --degraded-interval SECONDS\n"
	      "                        while the kernel leaves a detection blind (a probe it\n"
	      "                        refused, a map it stopped letting the monitor use), say\n"
	      "                        so again this often: a monitor-degraded record and\n"
	      "                        alert (default: 60)\n"
	      "  --bpf-stats           turn on the kernel's BPF run time statistics while the\n"
	      "                        monitor runs, for /metrics' per-program runs and time\n"
	      "                        (they add two clock reads to every BPF program run on\n"
	      "                        the node; without it they count only when\n"
	      "                        kernel.bpf_stats_enabled=1)\n"
	      "  -v, --verbose         also print libbpf's own log\n"
	      "  -h, --help            show this help\n"
	      "\n"
	      "Needs root, or exactly CAP_BPF, CAP_PERFMON, CAP_NET_ADMIN and\n"
	      "CAP_DAC_READ_SEARCH (CAP_SYS_ADMIN only to mount tracefs where nobody has), a\n"
	      "kernel with BTF (/sys/kernel/btf/vmlinux) and cgroup v2.\n"
	      "Stop with Ctrl-C or SIGTERM: the probes are detached and nothing stays pinned.\n",
	      out);
}

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

/* A whole number of seconds within [min, max], for `option`. */
static int parse_seconds(const char *option, const char *arg, unsigned long min,
			 unsigned long max, unsigned int *out, struct am_error *err)
{
	unsigned long seconds;
	char *end;

	errno = 0;
	seconds = strtoul(arg, &end, 10);
	if (errno || end == arg || *end || arg[0] == '-' || seconds < min || seconds > max) {
		am_error_set(err, "%s '%s': expected seconds from %lu to %lu", option, arg, min,
			     max);
		return -EINVAL;
	}
	*out = (unsigned int)seconds;
	return 0;
}

static int parse_ringbuf_size(const char *text, uint32_t *out, struct am_error *err)
{
	unsigned long long value;
	char *end;

	errno = 0;
	value = strtoull(text, &end, 10);
	if (errno || end == text || *end || value < 4096 || value > (1ull << 30) ||
	    (value & (value - 1))) {
		am_error_set(err,
			     "--ringbuf-size '%s': expected a power of two from 4096 to 1073741824",
			     text);
		return -EINVAL;
	}
	*out = (uint32_t)value;
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

/* PORT, HOST:PORT or [IPV6]:PORT; a port alone listens on loopback only. */
static int parse_listen(struct monitor_options *options, const char *text, struct am_error *err)
{
	char *copy = strdup(text), *host, *port;
	unsigned char addr[16];
	unsigned long number;
	char *end;

	if (!copy) {
		am_error_set(err, "out of memory");
		return -ENOMEM;
	}
	free(options->listen_buf);
	options->listen_buf = copy;
	if (copy[0] == '[') {
		host = copy + 1;
		port = strchr(host, ']');
		if (!port || port[1] != ':')
			goto bad;
		*port = '\0';
		port += 2;
	} else if ((port = strrchr(copy, ':'))) {
		host = copy;
		*port++ = '\0';
	} else {
		host = "127.0.0.1";
		port = copy;
	}
	errno = 0;
	number = strtoul(port, &end, 10);
	if (errno || end == port || *end || number < 1 || number > 65535 || port[0] == '-')
		goto bad;
	if (inet_pton(AF_INET, host, addr) != 1 && inet_pton(AF_INET6, host, addr) != 1 &&
	    strcmp(host, "localhost") != 0)
		goto bad;
	options->listen_host = host;
	options->listen_port = port;
	return 0;
bad:
	am_error_set(err, "--listen '%s': expected PORT (loopback), ADDRESS:PORT or [IPV6]:PORT, "
			  "like 9464 or 0.0.0.0:9464", text);
	return -EINVAL;
}

/* One option, from the command line or the config file; `from_config` says which. */
static int apply_option(struct monitor_options *options, int opt, const char *arg,
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

/* Text lines and columns are 1-based; the key's first occurrence stands for it. */
static void key_position(const char *text, const char *key, int *line, int *column)
{
	size_t key_len = strlen(key);
	const char *at = text, *p;

	*line = 1;
	*column = 1;
	while ((at = strchr(at, '"'))) {
		if (strncmp(at + 1, key, key_len) == 0 && at[1 + key_len] == '"') {
			p = at + 2 + key_len;
			while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
				p++;
			if (*p == ':')
				break;
		}
		at++;
	}
	if (!at)
		return;
	for (p = text; p < at; p++) {
		if (*p == '\n') {
			(*line)++;
			*column = 1;
		} else {
			(*column)++;
		}
	}
}

/* The file again as text, for positions; NULL when it cannot be read. */
static char *read_text(const char *path)
{
	size_t cap = JSON_INPUT_MAX_BYTES, len;
	FILE *f = fopen(path, "re");
	char *text;

	if (!f)
		return NULL;
	text = malloc(cap + 1);
	len = text ? fread(text, 1, cap, f) : 0;
	if (text)
		text[len] = '\0';
	if (text && len == cap) {
		free(text);
		text = NULL;
		errno = EFBIG;
	}
	fclose(f);
	return text;
}

static const struct option *find_long_option(const char *name)
{
	const struct option *o;

	for (o = long_options; o->name; o++)
		if (strcmp(o->name, name) == 0)
			return o;
	return NULL;
}

/* One config member, as if it were given on the command line. */
/* Where problems go while a config is read: to check-config, or the first one fails it. */
struct config_reader {
	options_problem_fn problem;
	void *ctx;
	const char *path;
	const char *text;
	int problems;
};

static void config_problem(struct config_reader *reader, const char *key, const char *message)
{
	int line = 0, column = 0;

	if (reader->text)
		key_position(reader->text, key, &line, &column);
	reader->problems++;
	if (reader->problem)
		reader->problem(reader->ctx, reader->path, line, column, message);
}

static int config_member(struct monitor_options *options, const cJSON *member, cJSON *numbers,
			 struct config_reader *reader, struct am_error *err)
{
	const struct option *o = find_long_option(member->string);
	const cJSON *item;
	int rc;

	if (!o || o->val == 'h' || o->val == OPT_CONFIG) {
		am_error_set(err, "unknown option \"%s\" (the keys are the long options of "
				  "'accessmon monitor --help', without the dashes)",
			     member->string);
		return -EINVAL;
	}
	if (o->has_arg == no_argument) {
		if (!cJSON_IsBool(member)) {
			am_error_set(err, "\"%s\": expected true or false", member->string);
			return -EINVAL;
		}
		return cJSON_IsTrue(member) ? apply_option(options, o->val, NULL, true, err) : 0;
	}
	if (cJSON_IsArray(member) && (o->val == OPT_WATCH || o->val == OPT_SINK)) {
		int first = 0;

		/* Each item on its own, so check-config names every bad one. */
		cJSON_ArrayForEach(item, member)
		{
			if (!cJSON_IsString(item)) {
				am_error_set(err, "\"%s\": expected an array of strings", member->string);
				rc = -EINVAL;
			} else {
				rc = apply_option(options, o->val, item->valuestring, true, err);
			}
			if (rc && !reader->problem)
				return rc;
			if (rc) {
				config_problem(reader, member->string, err->msg);
				first = first ? first : rc;
			}
		}
		return first ? 1 : 0;
	}
	if (cJSON_IsString(member))
		return apply_option(options, o->val, member->valuestring, true, err);
	/* In range before the cast: a double past long long's range is undefined to convert. */
	if (cJSON_IsNumber(member) && member->valuedouble >= 0 && member->valuedouble < 1e15 &&
	    member->valuedouble == (double)(long long)member->valuedouble &&
	    o->val != OPT_WATCH && o->val != OPT_SINK) {
		char number[32];
		cJSON *kept;

		/* The option keeps a pointer to its text: the tree owns it. */
		snprintf(number, sizeof(number), "%lld", (long long)member->valuedouble);
		kept = cJSON_CreateString(number);
		if (!kept) {
			am_error_set(err, "out of memory");
			return -ENOMEM;
		}
		cJSON_AddItemToArray(numbers, kept);
		return apply_option(options, o->val, kept->valuestring, true, err);
	}
	am_error_set(err, "\"%s\": expected %s", member->string,
		     o->val == OPT_WATCH || o->val == OPT_SINK ? "a string or an array of strings"
							       : "a string or a whole number");
	return -EINVAL;
}

int monitor_options_apply_config(struct monitor_options *options, cJSON *root,
				 const char *source, const char *text, options_problem_fn problem,
				 void *ctx, struct am_error *err)
{
	struct config_reader reader = {problem, ctx, source, text, 0};
	const cJSON *member;
	cJSON *numbers;

	/* Whatever happens, the tree is the options' now: their strings point into it. */
	cJSON_Delete(options->config_root);
	options->config_root = root;
	if (!cJSON_IsObject(root)) {
		am_error_set(err, "%s: expected a JSON object of options, like {\"events\": true}",
			     source);
		return -EINVAL;
	}
	/* Numbers become option text; it lives in the tree, as the strings do. */
	numbers = cJSON_CreateArray();
	if (!numbers) {
		am_error_set(err, "out of memory");
		return -ENOMEM;
	}
	cJSON_AddItemToObject(root, "", numbers);
	cJSON_ArrayForEach(member, root)
	{
		struct am_error why;
		int rc;

		if (member == numbers)
			continue;
		rc = config_member(options, member, numbers, &reader, &why);
		if (rc == 0 || rc == 1)
			continue; /* 1: its items' problems are said already */
		if (!problem) {
			int line = 0, column = 0;

			if (text)
				key_position(text, member->string, &line, &column);
			am_error_set(err, "%s:%d:%d: %s", source, line, column, why.msg);
			reader.problems++;
			break;
		}
		config_problem(&reader, member->string, why.msg);
	}
	return reader.problems;
}

int monitor_options_load_config(const char *path, struct monitor_options *options,
				options_problem_fn problem, void *ctx, struct am_error *err)
{
	char *text = read_text(path);
	cJSON *root;
	int rc;

	if (!text) {
		am_error_set(err, "%s: %s", path, strerror(errno ? errno : EIO));
		return -EINVAL;
	}
	root = json_input_parse(path, text, strlen(text), err);
	if (!root) {
		free(text);
		return -EINVAL;
	}
	rc = monitor_options_apply_config(options, root, path, text, problem, ctx, err);
	free(text);
	return rc;
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
		rc = apply_option(options, opt, optarg, false, err);
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

void inventory_usage(FILE *out)
{
	fputs("Usage: accessmon inventory [OPTIONS]\n"
	      "\n"
	      "Print what the monitor knows of this node right now: its identities (from\n"
	      "azure.json and --cluster) and its pods with their containers and workload\n"
	      "identities (from containerd, the kubelet and --pods), merged as the monitor\n"
	      "merges them. Use it to check the monitor sees the node as you do.\n"
	      "\n"
	      "Options:\n"
	      "  --format json|text    one JSON document (default) or readable lines\n" SOURCE_USAGE
	      "  -h, --help            show this help\n",
	      out);
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

int parse_size(const char *text, uint64_t *out)
{
	unsigned long long value;
	char *end;

	errno = 0;
	value = strtoull(text, &end, 10);
	if (errno || end == text || text[0] == '-')
		return -EINVAL;
	switch (*end) {
	case 'K':
	case 'k':
		value <<= 10;
		end++;
		break;
	case 'M':
	case 'm':
		value <<= 20;
		end++;
		break;
	case 'G':
	case 'g':
		value <<= 30;
		end++;
		break;
	}
	if (*end)
		return -EINVAL;
	*out = value;
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
