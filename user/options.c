// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* `accessmon monitor` option parsing; see options.h. */
#include "options.h"

#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

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
	      "event), one JSON object per line, on standard output. Diagnostics go to\n"
	      "standard error. SIGHUP reloads --identities and --policy.\n"
	      "\n"
	      "Options:\n"
	      "  --events              write every reported event, not only alerts\n"
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
	      "                        (default: 8388608)\n"
	      "  -v, --verbose         also print libbpf's own log\n"
	      "  -h, --help            show this help\n"
	      "\n"
	      "Needs root, or CAP_BPF, CAP_PERFMON and CAP_NET_ADMIN (CAP_SYS_ADMIN to mount\n"
	      "tracefs), a kernel with BTF (/sys/kernel/btf/vmlinux) and cgroup v2.\n"
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

int monitor_options_parse(int argc, char **argv, struct monitor_options *options,
			  struct am_error *err)
{
	int opt, rc;

	memset(options, 0, sizeof(*options));
	options->ringbuf_bytes = RINGBUF_DEFAULT_BYTES;
	options->record_keep = 5;
	optind = 0; /* GNU: start over, even if an earlier parse stopped midway */
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":hv", long_options, NULL)) != -1) {
		switch (opt) {
		case 'h':
			options->help = true;
			break;
		case 'v':
			options->verbose = true;
			break;
		case OPT_EVENTS:
			options->events = true;
			break;
		case OPT_WATCH:
			rc = add_watch(options, optarg, err);
			if (rc)
				return rc;
			break;
		case OPT_CGROUP_ROOT:
			options->cgroup_root = optarg;
			break;
		case OPT_READY_FILE:
			options->ready_file = optarg;
			break;
		case OPT_SERVICE_TAGS:
			options->service_tags_file = optarg;
			break;
		case OPT_IDENTITIES:
			options->identities_dir = optarg;
			break;
		case OPT_POLICY:
			options->policy_file = optarg;
			break;
		case OPT_RECORD:
			options->record_file = optarg;
			break;
		case OPT_RECORD_MAX_SIZE:
			if (parse_size(optarg, &options->record_max_size) || options->record_max_size < 65536) {
				am_error_set(err, "--record-max-size '%s': expected a size of at least 64K, "
						  "like 100M",
					     optarg);
				return -EINVAL;
			}
			break;
		case OPT_RECORD_KEEP: {
			char *end;
			unsigned long keep;

			errno = 0;
			keep = strtoul(optarg, &end, 10);
			if (errno || end == optarg || *end || keep > 1000 || optarg[0] == '-') {
				am_error_set(err, "--record-keep '%s': expected a number from 0 to 1000",
					     optarg);
				return -EINVAL;
			}
			options->record_keep = (unsigned int)keep;
			break;
		}
		case OPT_FORMAT:
			rc = parse_format(optarg, &options->format, err);
			if (rc)
				return rc;
			break;
		case OPT_OPEN_HOOK:
			if (strcmp(optarg, "auto") == 0) {
				options->open_hook = OPEN_HOOK_AUTO;
			} else if (strcmp(optarg, "tracepoint") == 0) {
				options->open_hook = OPEN_HOOK_TRACEPOINT;
			} else if (strcmp(optarg, "raw") == 0) {
				options->open_hook = OPEN_HOOK_RAW;
			} else {
				am_error_set(err, "--open-hook '%s': expected auto, tracepoint or raw",
					     optarg);
				return -EINVAL;
			}
			break;
		case OPT_RINGBUF_SIZE:
			rc = parse_ringbuf_size(optarg, &options->ringbuf_bytes, err);
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
}

const char *open_hook_name(enum open_hook hook)
{
	switch (hook) {
	case OPEN_HOOK_TRACEPOINT:
		return "tracepoint";
	case OPEN_HOOK_RAW:
		return "raw";
	default:
		return "auto";
	}
}
