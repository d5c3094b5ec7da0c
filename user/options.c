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
};

static const struct option long_options[] = {
	{"help", no_argument, NULL, 'h'},
	{"verbose", no_argument, NULL, 'v'},
	{"events", no_argument, NULL, OPT_EVENTS},
	{"watch", required_argument, NULL, OPT_WATCH},
	{"pods", required_argument, NULL, OPT_PODS},
	{"cgroup-root", required_argument, NULL, OPT_CGROUP_ROOT},
	{"ready-file", required_argument, NULL, OPT_READY_FILE},
	{"format", required_argument, NULL, OPT_FORMAT},
	{"open-hook", required_argument, NULL, OPT_OPEN_HOOK},
	{"ringbuf-size", required_argument, NULL, OPT_RINGBUF_SIZE},
	{NULL, 0, NULL, 0},
};

void monitor_usage(FILE *out)
{
	fputs("Usage: accessmon monitor [OPTIONS]\n"
	      "\n"
	      "Attach accessmon's kernel probes and stream records, one JSON object per\n"
	      "line, on standard output. Diagnostics go to standard error.\n"
	      "\n"
	      "Options:\n"
	      "  --events              write every reported event, not only alerts\n"
	      "  --watch PATH          report opens of this file, by any path that reaches it\n"
	      "                        (repeatable)\n"
	      "  --pods FILE           Kubernetes PodList JSON (kubectl get pods -o json) naming\n"
	      "                        the pods whose cgroups the events come from\n"
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
		case OPT_PODS:
			options->pods_file = optarg;
			break;
		case OPT_CGROUP_ROOT:
			options->cgroup_root = optarg;
			break;
		case OPT_READY_FILE:
			options->ready_file = optarg;
			break;
		case OPT_FORMAT:
			if (strcmp(optarg, "json") == 0) {
				options->format = OUTPUT_JSON;
			} else if (strcmp(optarg, "text") == 0) {
				options->format = OUTPUT_TEXT;
			} else {
				am_error_set(err, "--format '%s': expected json or text", optarg);
				return -EINVAL;
			}
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
		case ':':
			am_error_set(err, "option '%s' needs a value", argv[optind - 1]);
			return -EINVAL;
		default:
			am_error_set(err, "unknown option '%s'", argv[optind - 1]);
			return -EINVAL;
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
