// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* accessmon's entry point: dispatches to the subcommands. */
#include <stdio.h>
#include <string.h>

#include "cmd/check_config_command.h"
#include "cmd/inventory_command.h"
#include "cmd/monitor.h"
#include "cmd/policy_command.h"
#include "cmd/replay_command.h"

#ifndef ACCESSMON_VERSION
#define ACCESSMON_VERSION "0.1.0"
#endif

static void usage(FILE *out)
{
	fputs("Usage: accessmon COMMAND [OPTIONS]\n"
	      "\n"
	      "eBPF runtime access monitor for AKS nodes: which pods reach IMDS, WireServer,\n"
	      "Key Vault and ACR, and which read the node's secret files.\n"
	      "\n"
	      "Commands:\n"
	      "  monitor    attach the kernel probes and stream records as JSON lines\n"
	      "  inventory  print the node's identities and pods as the monitor sees them\n"
	      "  replay     feed recorded traces through the pipeline, as live\n"
	      "  trace      describe recorded traces (trace info FILE)\n"
	      "  check-config  check a config, policy or identity directory; every problem\n"
	      "  policy     print the built-in policy (--show-default), each entry's source\n"
	      "  version    print the version\n"
	      "  help       show this help\n"
	      "\n"
	      "Run 'accessmon COMMAND --help' for a command's options.\n",
	      out);
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (strcmp(argv[1], "monitor") == 0)
		return monitor_main(argc - 1, argv + 1);
	if (strcmp(argv[1], "replay") == 0)
		return replay_main(argc - 1, argv + 1);
	if (strcmp(argv[1], "trace") == 0)
		return trace_main(argc - 1, argv + 1);
	if (strcmp(argv[1], "check-config") == 0)
		return check_config_main(argc - 1, argv + 1);
	if (strcmp(argv[1], "inventory") == 0)
		return inventory_main(argc - 1, argv + 1);
	if (strcmp(argv[1], "policy") == 0)
		return policy_main(argc - 1, argv + 1);
	if (strcmp(argv[1], "version") == 0 || strcmp(argv[1], "--version") == 0) {
		printf("accessmon %s\n", ACCESSMON_VERSION);
		return 0;
	}
	if (strcmp(argv[1], "help") == 0 || strcmp(argv[1], "--help") == 0 ||
	    strcmp(argv[1], "-h") == 0) {
		usage(stdout);
		return 0;
	}
	fprintf(stderr, "accessmon: unknown command '%s'; run 'accessmon --help' for the list\n",
		argv[1]);
	return 2;
}
