// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * `accessmon check-config PATH...`: validates what the monitor would load, before
 * it is deployed or a SIGHUP is sent. A directory is identity data; a file is a
 * policy when it has "allow" or "severity", else a monitor config, whose own
 * policy, identity directory and service tags are checked with it. Every problem
 * is printed, one line each with where it is; the exit status says whether any
 * was found.
 */
#include "cmd/check_config_command.h"

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "detect/identities.h"
#include "lib/json_input.h"
#include "cmd/options.h"
#include "detect/policy.h"
#include "name/service_tags.h"

struct check {
	int problems;
};

static void problem(void *ctx, const char *message)
{
	struct check *check = ctx;

	printf("%s\n", message);
	check->problems++;
}

static void config_problem(void *ctx, const char *path, int line, int column,
			   const char *message)
{
	struct check *check = ctx;

	printf("%s:%d:%d: %s\n", path, line, column, message);
	check->problems++;
}

static void check_identities(struct check *check, const char *dir)
{
	identity_data_check(dir, problem, check);
}

static void check_policy_file(struct check *check, const char *path)
{
	struct am_error err;
	cJSON *root = json_input_load_file(path, &err);

	if (!root) {
		problem(check, err.msg);
		return;
	}
	policy_check(root, path, problem, check);
	cJSON_Delete(root);
}

static void check_config_file(struct check *check, const char *path)
{
	struct monitor_options options;
	struct am_error err;
	int rc;

	monitor_options_init(&options);
	rc = monitor_options_load_config(path, &options, config_problem, check, &err);
	if (rc < 0) {
		problem(check, err.msg);
		monitor_options_release(&options);
		return;
	}
	if (monitor_options_check(&options, &err)) {
		printf("%s: %s\n", path, err.msg);
		check->problems++;
	}
	if (options.policy_file)
		check_policy_file(check, options.policy_file);
	if (options.identities_dir)
		check_identities(check, options.identities_dir);
	if (options.service_tags_file) {
		struct service_tags *tags = service_tags_load(options.service_tags_file, &err);

		if (!tags)
			problem(check, err.msg);
		service_tags_free(tags);
	}
	monitor_options_release(&options);
}

/* A policy says what it allows; a config has none of those keys. */
static bool is_policy(const char *path)
{
	struct am_error err;
	cJSON *root = json_input_load_file(path, &err);
	bool policy = root && (cJSON_GetObjectItemCaseSensitive(root, "allow") ||
			       cJSON_GetObjectItemCaseSensitive(root, "severity"));

	cJSON_Delete(root);
	return policy;
}

static void usage(FILE *out)
{
	fputs("Usage: accessmon check-config PATH...\n"
	      "\n"
	      "Check what the monitor would load, and print every problem with its place:\n"
	      "  a directory   identity data (--identities): each file the monitor reads\n"
	      "  a policy      a JSON file with \"allow\" or \"severity\" (--policy)\n"
	      "  a config      any other JSON file (--config), with the policy, identity\n"
	      "                directory and service tags it names\n"
	      "\n"
	      "Exit status: 0 when everything is fine, 1 when there are problems, 2 on\n"
	      "usage errors.\n",
	      out);
}

int check_config_main(int argc, char **argv)
{
	int i, total = 0;

	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) {
		usage(stdout);
		return 0;
	}
	for (i = 1; i < argc; i++) {
		struct check check = {0};
		const char *kind;
		struct stat st;

		if (argv[i][0] == '-') {
			fprintf(stderr, "accessmon check-config: unknown option '%s'; see "
					"'accessmon check-config --help'\n",
				argv[i]);
			return 2;
		}
		if (stat(argv[i], &st) < 0) {
			printf("%s: cannot read it: %m\n", argv[i]);
			total++;
			continue;
		}
		if (S_ISDIR(st.st_mode)) {
			kind = "identity data";
			check_identities(&check, argv[i]);
		} else if (is_policy(argv[i])) {
			kind = "policy";
			check_policy_file(&check, argv[i]);
		} else {
			kind = "config";
			check_config_file(&check, argv[i]);
		}
		if (check.problems)
			printf("%s: %d problem%s (%s)\n", argv[i], check.problems,
			       check.problems == 1 ? "" : "s", kind);
		else
			printf("%s: ok (%s)\n", argv[i], kind);
		total += check.problems;
	}
	return total ? 1 : 0;
}
