// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * `accessmon replay FILE...`: feeds recorded records through the same pipeline as
 * the live monitor, with the recorded state, policy and identity data (or the
 * ones given now), and writes the same records live would have.
 * `accessmon trace info FILE...`: what a trace holds and whether it is intact.
 */
#include "cmd/replay_command.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "accessmon.h"
#include "attribute/cgroups.h"
#include "name/dns_cache.h"
#include "detect/identities.h"
#include "event/records.h"
#include "lib/json_input.h"
#include "attribute/node_identity.h"
#include "cmd/options.h"
#include "output/output.h"
#include "pipeline/pipeline.h"
#include "attribute/pods.h"
#include "detect/policy.h"
#include "attribute/processes.h"
#include "detect/rules.h"
#include "name/service_tags.h"
#include "source/replay.h"
#include "trace/state.h"
#include "trace/trace.h"
#include "attribute/watch.h"

struct replay {
	struct cgroup_cache *cgroups;
	struct process_cache *processes;
	struct pod_inventory *pods;
	struct watch_list *watches;
	struct dns_cache *dns;
	struct node_identity node;
	struct identity_data *identities;
	struct policy *policy;
	struct service_tags *service_tags;
	struct state_refs refs;
	struct rules_context rules;
	struct pipeline *pipeline;
	struct output_filter filter;
	bool keep_identities, keep_policy;
	bool events, has_filter;
	enum output_format format;
	int64_t boot_to_wall_ns;
};

static void replay_usage(FILE *out)
{
	fputs("Usage: accessmon replay [OPTIONS] FILE...\n"
	      "\n"
	      "Feed recorded traces (accessmon monitor --record) through the same pipeline as\n"
	      "the live monitor, and write the records it would have written. Rotated files\n"
	      "are replayed oldest first (FILE.2 FILE.1 FILE) in whatever order they are given.\n"
	      "\n"
	      "Options:\n"
	      "  --events              also write every event, not only alerts\n"
	      "  --format json|text    JSON lines (default) or one readable line per record\n"
	      "  --policy FILE         judge with this policy instead of the recorded one\n"
	      "  --identities DIR      and this identity data instead of the recorded data\n"
	      "  --pod NAMESPACE/NAME  only records of this pod\n"
	      "  --rule RULE           only alerts of this rule\n"
	      "  --since TIME          only records at or after TIME: RFC 3339\n"
	      "                        (2026-11-28T10:00:00Z) or relative to now (10m, 2h, 1d)\n"
	      "  --until TIME          only records at or before TIME\n"
	      "  -h, --help            show this help\n"
	      "\n"
	      "Exit status: 0 all read; 2 a file could not be read at all (or is from a newer\n"
	      "accessmon); 3 a trace was truncated or damaged: everything readable was\n"
	      "written and each problem named on stderr with its byte offset.\n",
	      out);
}

/* RFC 3339 (UTC or with an offset) or a duration before now. */
static int parse_time(const char *text, uint64_t *out)
{
	struct tm tm = {0};
	char *rest, *end;
	double amount;
	long offset = 0;
	uint64_t frac = 0;
	int digits = 0;
	time_t seconds;

	amount = strtod(text, &end);
	if (end != text && *end && !end[1] && strchr("smhd", *end) && amount >= 0) {
		double scale = *end == 's' ? 1 : *end == 'm' ? 60 : *end == 'h' ? 3600 : 86400;
		struct timespec now;

		clock_gettime(CLOCK_REALTIME, &now);
		*out = (uint64_t)now.tv_sec * 1000000000ull + (uint64_t)now.tv_nsec -
		       (uint64_t)(amount * scale * 1e9);
		return 0;
	}
	rest = strptime(text, "%Y-%m-%dT%H:%M:%S", &tm);
	if (!rest)
		return -EINVAL;
	if (*rest == '.') {
		for (rest++; *rest >= '0' && *rest <= '9'; rest++, digits++)
			if (digits < 9)
				frac = frac * 10 + (uint64_t)(*rest - '0');
		for (; digits < 9; digits++)
			frac *= 10;
	}
	if (*rest == 'Z' || *rest == 'z') {
		rest++;
	} else if (*rest == '+' || *rest == '-') {
		int hours, minutes;

		if (sscanf(rest + 1, "%2d:%2d", &hours, &minutes) != 2)
			return -EINVAL;
		offset = (hours * 3600 + minutes * 60) * (*rest == '+' ? 1 : -1);
		rest += 6;
	} else {
		return -EINVAL;
	}
	if (*rest)
		return -EINVAL;
	seconds = timegm(&tm) - offset;
	*out = (uint64_t)seconds * 1000000000ull + frac;
	return 0;
}

static void report(void *ctx, const char *message)
{
	(void)ctx;
	fprintf(stderr, "accessmon: %s\n", message);
}

/*
 * A number of the trace header (in its `section` object, or at the top when
 * NULL), written as a string or a number; 0 when absent.
 */
static int64_t header_number(const char *header, const char *section, const char *key)
{
	cJSON *root = header ? cJSON_Parse(header) : NULL;
	const cJSON *object = section ? cJSON_GetObjectItemCaseSensitive(root, section) : root;
	const cJSON *item = cJSON_GetObjectItemCaseSensitive(object, key);
	int64_t value = cJSON_IsString(item)	 ? strtoll(item->valuestring, NULL, 10)
			: cJSON_IsNumber(item) ? (int64_t)item->valuedouble
					       : 0;

	cJSON_Delete(root);
	return value;
}

static int replay_parse(int argc, char **argv, struct replay *replay, const char **policy_file,
			const char **identities_dir, int *first_file)
{
	static const struct option options[] = {
		{"events", no_argument, NULL, 'e'},     {"format", required_argument, NULL, 'f'},
		{"policy", required_argument, NULL, 'p'}, {"identities", required_argument, NULL, 'i'},
		{"pod", required_argument, NULL, 'P'},    {"rule", required_argument, NULL, 'r'},
		{"since", required_argument, NULL, 's'},  {"until", required_argument, NULL, 'u'},
		{"help", no_argument, NULL, 'h'},	  {NULL, 0, NULL, 0},
	};
	int opt;

	optind = 0;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":h", options, NULL)) != -1) {
		switch (opt) {
		case 'e':
			replay->events = true;
			break;
		case 'f':
			if (strcmp(optarg, "json") == 0) {
				replay->format = OUTPUT_JSON;
			} else if (strcmp(optarg, "text") == 0) {
				replay->format = OUTPUT_TEXT;
			} else {
				fprintf(stderr, "accessmon replay: --format '%s': expected json or text\n",
					optarg);
				return 2;
			}
			break;
		case 'p':
			*policy_file = optarg;
			break;
		case 'i':
			*identities_dir = optarg;
			break;
		case 'P': {
			char *slash = strchr(optarg, '/');

			if (!slash || slash == optarg || !slash[1]) {
				fprintf(stderr, "accessmon replay: --pod '%s': expected NAMESPACE/NAME\n",
					optarg);
				return 2;
			}
			*slash = '\0';
			replay->filter.namespace = optarg;
			replay->filter.pod_name = slash + 1;
			replay->has_filter = true;
			break;
		}
		case 'r':
			replay->filter.rule = optarg;
			replay->has_filter = true;
			break;
		case 's':
		case 'u':
			if (parse_time(optarg, opt == 's' ? &replay->filter.since_ns
							    : &replay->filter.until_ns)) {
				fprintf(stderr,
					"accessmon replay: --%s '%s': expected RFC 3339 "
					"(2026-11-28T10:00:00Z) or a duration like 10m, 2h, 1d\n",
					opt == 's' ? "since" : "until", optarg);
				return 2;
			}
			replay->has_filter = true;
			break;
		case 'h':
			replay_usage(stdout);
			return 0;
		case ':':
			fprintf(stderr, "accessmon replay: option '%s' needs a value\n",
				argv[optind - 1]);
			return 2;
		default:
			fprintf(stderr,
				"accessmon replay: unknown option '%s'; see 'accessmon replay --help'\n",
				argv[optind - 1]);
			return 2;
		}
	}
	if (optind >= argc) {
		fprintf(stderr, "accessmon replay: no trace file given; see 'accessmon replay --help'\n");
		return 2;
	}
	*first_file = optind;
	return -1;
}

/* stdout's buffer: static, since stdout is flushed after replay_main returns. */
static char output_buffer[1 << 20];

int replay_main(int argc, char **argv)
{
	struct replay replay = {0};
	struct pipeline_config config = {0};
	struct pipeline_state state = {0};
	struct replay_source_config source_config = {0};
	const char *policy_file = NULL, *identities_dir = NULL;
	struct source *source = NULL;
	struct source_stats stats;
	struct am_error err;
	const char **files;
	int64_t pod_grace_s;
	int status = 0, first, i, rc;
	char *header = NULL;

	rc = replay_parse(argc, argv, &replay, &policy_file, &identities_dir, &first);
	if (rc >= 0)
		return rc;
	/*
	 * Records go out in large writes (a replay --events writes hundreds of MB); a
	 * terminal still sees each line as it comes.
	 */
	if (!isatty(STDOUT_FILENO))
		setvbuf(stdout, output_buffer, _IOFBF, sizeof(output_buffer));
	replay.cgroups = cgroup_cache_new(65536);
	replay.processes = process_cache_new(32768);
	replay.pods = pod_inventory_new();
	replay.watches = watch_list_new("/", AM_WATCH_MAX_FILES + AM_WATCH_MAX_DIRS);
	replay.dns = dns_cache_new(65536);
	node_identity_init(&replay.node);
	if (identities_dir) {
		replay.identities = identity_data_load(identities_dir, &err);
		if (!replay.identities) {
			fprintf(stderr, "accessmon: %s\n", err.msg);
			return 2;
		}
		replay.keep_identities = true;
	}
	if (policy_file) {
		replay.policy = policy_load(policy_file, &err);
		if (!replay.policy) {
			fprintf(stderr, "accessmon: --policy %s\n", err.msg);
			return 2;
		}
		replay.keep_policy = true;
	} else {
		replay.policy = policy_default();
	}
	replay.refs = (struct state_refs){replay.cgroups, replay.processes, replay.pods,
					  replay.watches, replay.dns, &replay.node,
					  &replay.identities, &replay.policy, &replay.service_tags};
	replay.rules = (struct rules_context){&replay.node, replay.identities, replay.policy};
	files = calloc((size_t)(argc - first), sizeof(*files));
	if (!files) {
		fprintf(stderr, "accessmon: out of memory\n");
		return 1;
	}
	for (i = first; i < argc; i++)
		files[i - first] = argv[i];
	trace_order_files(files, (size_t)(argc - first));
	/* Each file carries its own clock; the pipeline is made with the first. */
	if (trace_read_header(files[0], &header, &err)) {
		fprintf(stderr, "accessmon: %s\n", err.msg);
		status = 2;
		goto free_files;
	}
	replay.boot_to_wall_ns = header_number(header, NULL, "boot_to_wall_ns");
	/* Removed cgroups name late events as long as they did live. */
	pod_grace_s = header_number(header, "options", "pod_grace_s");
	free(header);
	if (pod_grace_s > 0 && pod_grace_s <= POD_GRACE_MAX_S)
		config.cgroup_grace_ns = (uint64_t)pod_grace_s * 1000000000ull;
	config.events = replay.events;
	config.format = replay.format;
	config.boot_to_wall_ns = replay.boot_to_wall_ns;
	config.rules = &replay.rules;
	config.filter = replay.has_filter ? &replay.filter : NULL;
	state.cgroups = replay.cgroups;
	state.processes = replay.processes;
	state.pods = replay.pods;
	state.watches = replay.watches;
	state.dns = replay.dns;
	state.service_tags = NULL;
	replay.pipeline = pipeline_new(&config, &state, stdout);
	source_config.files = files;
	source_config.n_files = (size_t)(argc - first);
	source_config.pipeline = replay.pipeline;
	source_config.refs = replay.refs;
	source_config.keep_identities = replay.keep_identities;
	source_config.keep_policy = replay.keep_policy;
	source_config.rules = &replay.rules;
	source_config.report = report;
	if (replay.pipeline)
		source = replay_source_open(&source_config);
	if (!source) {
		fprintf(stderr, "accessmon: out of memory\n");
		status = 1;
		goto free_pipeline;
	}
	while (source_poll(source, -1) != SOURCE_END)
		;
	source_drain(source);
	source_stats(source, &stats);
	status = stats.inputs_failed ? 2 : stats.inputs_damaged ? 3 : 0;
	pipeline_finish(replay.pipeline);
	pipeline_flush(replay.pipeline);
	source_close(source);
free_pipeline:
	pipeline_free(replay.pipeline);
free_files:
	free(files);
	cgroup_cache_free(replay.cgroups);
	process_cache_free(replay.processes);
	pod_inventory_free(replay.pods);
	watch_list_free(replay.watches);
	dns_cache_free(replay.dns);
	node_identity_release(&replay.node);
	identity_data_free(replay.identities);
	policy_free(replay.policy);
	service_tags_free(replay.service_tags);
	return status;
}

/* --- trace info --- */

struct info {
	uint64_t records[AM_REC_TYPE_MAX + 1];
	uint64_t states;
	uint64_t lost;
	uint64_t recorder_lost;
	char *last_pods;
};

static void info_entry(void *ctx, uint16_t kind, const uint8_t *data, uint32_t len)
{
	struct info *info = ctx;

	if (kind == TRACE_ENTRY_RECORD) {
		const struct am_record_header *header = (const void *)data;

		if (len >= sizeof(*header) && header->type < AM_REC_TYPE_MAX)
			info->records[header->type]++;
		else
			info->records[AM_REC_TYPE_MAX]++;
		return;
	}
	info->states++;
	if (len > 20 && memcmp(data, "{\"state\":\"pods\"", 15) == 0) {
		free(info->last_pods);
		info->last_pods = strndup((const char *)data, len);
	} else if (len > 20 && memcmp(data, "{\"state\":\"loss\"", 15) == 0) {
		cJSON *root = cJSON_ParseWithLength((const char *)data, len);

		const cJSON *lost = cJSON_GetObjectItem(root, "lost");

		info->lost += cJSON_IsString(lost) ? strtoull(lost->valuestring, NULL, 10) : 0;
		cJSON_Delete(root);
	} else if (len > 28 && memcmp(data, "{\"state\":\"recorder-loss\"", 24) == 0) {
		cJSON *root = cJSON_ParseWithLength((const char *)data, len);

		const cJSON *records = cJSON_GetObjectItem(root, "records");

		info->recorder_lost +=
			cJSON_IsString(records) ? strtoull(records->valuestring, NULL, 10) : 0;
		cJSON_Delete(root);
	}
}


static int trace_info(const char *path)
{
	struct trace_read_stats stats;
	struct info info = {0};
	char first[RFC3339_LEN], last[RFC3339_LEN];
	struct am_error err;
	struct jsonw w;
	char *header;
	cJSON *pods;
	int64_t offset;
	int rc, type;

	rc = trace_read_file(path, &header, info_entry, &info, report, &stats, &err);
	if (rc) {
		fprintf(stderr, "accessmon: %s\n", err.msg);
		return 2;
	}
	offset = header_number(header, NULL, "boot_to_wall_ns");
	format_rfc3339(stats.first_ns + (uint64_t)offset, first);
	format_rfc3339(stats.last_ns + (uint64_t)offset, last);
	jsonw_init(&w);
	jsonw_object_begin(&w);
	jsonw_member_string(&w, "file", path);
	jsonw_key(&w, "header");
	jsonw_raw_value(&w, header, strlen(header));
	jsonw_member_string(&w, "first_record", stats.first_ns ? first : NULL);
	jsonw_member_string(&w, "last_record", stats.last_ns ? last : NULL);
	jsonw_key(&w, "records");
	jsonw_object_begin(&w);
	for (type = 1; type <= AM_REC_TYPE_MAX; type++)
		if (info.records[type])
			jsonw_member_uint(&w, record_type_name((uint16_t)type), info.records[type]);
	jsonw_object_end(&w);
	jsonw_member_uint(&w, "states", info.states);
	jsonw_key(&w, "pods");
	jsonw_array_begin(&w);
	pods = info.last_pods ? cJSON_Parse(info.last_pods) : NULL;
	{
		const cJSON *pod;

		cJSON_ArrayForEach(pod, cJSON_GetObjectItem(pods, "pods"))
		{
			char name[512];

			snprintf(name, sizeof(name), "%s/%s", json_member_string(pod, "namespace")
								   ? json_member_string(pod, "namespace")
								   : "?",
				 json_member_string(pod, "name") ? json_member_string(pod, "name") : "?");
			jsonw_string(&w, name);
		}
	}
	cJSON_Delete(pods);
	jsonw_array_end(&w);
	jsonw_member_uint(&w, "events_lost_in_kernel", info.lost);
	jsonw_member_uint(&w, "entries_lost_by_recorder", info.recorder_lost);
	jsonw_key(&w, "integrity");
	jsonw_object_begin(&w);
	jsonw_member_string(&w, "status", stats.corrupt_blocks ? "damaged"
					  : stats.truncated    ? "truncated"
							       : "intact");
	jsonw_member_uint(&w, "blocks", stats.blocks);
	jsonw_member_uint(&w, "corrupt_blocks", stats.corrupt_blocks);
	jsonw_key(&w, "truncated");
	jsonw_bool(&w, stats.truncated);
	if (stats.truncated)
		jsonw_member_uint(&w, "readable_until_byte", stats.stopped_at);
	jsonw_object_end(&w);
	jsonw_object_end(&w);
	printf("%s\n", w.buf);
	jsonw_release(&w);
	free(header);
	free(info.last_pods);
	return stats.corrupt_blocks || stats.truncated ? 3 : 0;
}

int trace_main(int argc, char **argv)
{
	int i, status = 0;

	if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		fputs("Usage: accessmon trace info FILE...\n"
		      "\n"
		      "Describe recorded traces: header, time range, records by type, pods, events\n"
		      "lost, and integrity (exit 3 when a file is truncated or damaged).\n",
		      argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	if (strcmp(argv[1], "info") != 0 || argc < 3) {
		fprintf(stderr, "accessmon trace: expected 'info FILE...'; see 'accessmon trace --help'\n");
		return 2;
	}
	for (i = 2; i < argc; i++) {
		int rc = trace_info(argv[i]);

		if (rc > status)
			status = rc;
	}
	return status;
}
