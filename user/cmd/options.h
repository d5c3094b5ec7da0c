/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/* Command-line options of `accessmon monitor`, parsed without side effects. */
#ifndef ACCESSMON_OPTIONS_H
#define ACCESSMON_OPTIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "lib/error.h"
#include "attribute/inventory.h"
#include "event/line.h"
#include "kernel/probes.h"
#include "lib/size.h"
#include "sinks/sink_spec.h"

#define OPTIONS_MAX_WATCH 4096
#define RINGBUF_DEFAULT_BYTES (4u << 20)
/* --pod-grace: a deleted pod and a removed cgroup name late events this long. */
#define POD_GRACE_DEFAULT_S 60
#define POD_GRACE_MAX_S 3600
/* --degraded-interval: a blind detection is said again this often. */
#define DEGRADED_INTERVAL_DEFAULT_S 60
#define DEGRADED_INTERVAL_MAX_S 86400

struct monitor_options {
	bool help;
	bool events;
	bool verbose;
	bool bpf_stats; /* --bpf-stats */
	enum output_format format;
	enum open_hook open_hook;
	uint32_t ringbuf_bytes;
	unsigned int repeat_window_s; /* --repeat-window; 0: every connect reported */
	unsigned int pod_grace_s;     /* --pod-grace */
	unsigned int degraded_interval_s; /* --degraded-interval */
	struct inventory_sources sources;
	const char *cgroup_root; /* NULL: found in /proc/mounts */
	const char *ready_file;
	const char *service_tags_file;
	const char *identities_dir;
	const char *policy_file;
	const char *record_file;
	uint64_t record_max_size;
	unsigned int record_keep;
	const char **watch_paths;
	size_t n_watch_paths;
	/* --sink; none given: stdout */
	struct sink_spec *sinks;
	size_t n_sinks;
	/* --listen: the metrics and health endpoint; host NULL: none */
	const char *listen_host;
	const char *listen_port;
	const char *config_file;
	/* The parsed --config: its strings back the options taken from it. */
	void *config_root;
	char *listen_buf;
	bool watch_from_config, sinks_from_config;
};

/* Where a --config problem is: line and column of its key, for check-config. */
typedef void (*options_problem_fn)(void *ctx, const char *path, int line, int column,
				   const char *message);

struct inventory_options {
	bool help;
	enum output_format format;
	struct inventory_sources sources;
};

/*
 * Parses argv (argv[0] is the subcommand name). Returns 0, or -EINVAL with err
 * saying which option is wrong and how. Strings point into argv.
 */
int monitor_options_parse(int argc, char **argv, struct monitor_options *options,
			  struct am_error *err);
void monitor_options_release(struct monitor_options *options);
/*
 * Reads a --config file into options (on top of what they hold): every problem
 * goes to `problem` when given, else the first one fails it. Returns the number
 * of problems, or -errno when the file cannot be read or parsed (err says where).
 */
int monitor_options_load_config(const char *path, struct monitor_options *options,
				options_problem_fn problem, void *ctx, struct am_error *err);
struct cJSON;
/*
 * The same from a parsed document (root is the options' from now on); text,
 * when given, is where positions are found.
 */
int monitor_options_apply_config(struct monitor_options *options, struct cJSON *root,
				 const char *source, const char *text, options_problem_fn problem,
				 void *ctx, struct am_error *err);
/* What holds across options (text output only to stdout, say); 0 or -EINVAL. */
int monitor_options_check(const struct monitor_options *options, struct am_error *err);
/* Defaults, as parsing starts from them. */
void monitor_options_init(struct monitor_options *options);
void monitor_usage(FILE *out);

int inventory_options_parse(int argc, char **argv, struct inventory_options *options,
			    struct am_error *err);
void inventory_usage(FILE *out);

#endif /* ACCESSMON_OPTIONS_H */
