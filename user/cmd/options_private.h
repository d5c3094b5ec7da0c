/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * Inside the options: what the command line (options.c) and the --config file
 * (config.c) share. A config key is a long option without its dashes, applied
 * the way the command line applies it.
 */
#ifndef ACCESSMON_CMD_OPTIONS_PRIVATE_H
#define ACCESSMON_CMD_OPTIONS_PRIVATE_H

#include <getopt.h>
#include <stdbool.h>

#include "cmd/options.h"
#include "lib/error.h"

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

/* The monitor's long option called name (without the dashes), or NULL. */
const struct option *monitor_option_find(const char *name);
/*
 * One option, from the command line or the config file; `from_config` says
 * which. 0, -ENOENT when opt is none of the monitor's, or -errno with err set.
 */
int monitor_option_apply(struct monitor_options *options, int opt, const char *arg,
			 bool from_config, struct am_error *err);

#endif /* ACCESSMON_CMD_OPTIONS_PRIVATE_H */
