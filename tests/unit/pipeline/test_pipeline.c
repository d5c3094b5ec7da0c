// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * Unit tests: the pipeline from raw kernel records to JSON and text lines,
 * attribution through cgroup records and the pod inventory, and malformed input.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include <cjson/cJSON.h>

#include "attribute/cgroups.h"
#include "name/dns_cache.h"
#include "event/degraded.h"
#include "lib/json_input.h"
#include "pipeline/pipeline.h"
#include "attribute/pods.h"
#include "attribute/processes.h"
#include "attribute/watch.h"
#include "pod_fixture.h"


struct fixture {
	struct dns_cache *dns;
	struct cgroup_cache *cgroups;
	struct process_cache *processes;
	struct pod_inventory *pods;
	struct watch_list *watches;
	struct pipeline *pipeline;
	char *out;
	size_t out_len;
	FILE *stream;
	int misses;
};

static const char podlist[] =
	"{\"kind\":\"PodList\",\"items\":[{\"metadata\":{\"name\":\"web\",\"namespace\":\"shop\","
	"\"uid\":\"" POD_UID "\"},\"spec\":{\"containers\":[{\"name\":\"app\"}]},"
	"\"status\":{\"containerStatuses\":[{\"name\":\"app\",\"containerID\":\"containerd://" CONTAINER
	"\"}]}}]}";

static struct fixture *fixture_new(bool events, enum output_format format)
{
	struct pipeline_config config = {.events = events, .format = format,
					 .boot_to_wall_ns = 1764324245000000000ll};
	struct fixture *f = calloc(1, sizeof(*f));
	struct pipeline_state state;
	struct am_error err;
	cJSON *root;

	f->cgroups = cgroup_cache_new(64);
	f->processes = process_cache_new(64);
	f->pods = pod_inventory_new();
	f->watches = watch_list_new("/", 8);
	root = json_input_parse("podlist", podlist, strlen(podlist), &err);
	assert_non_null(root);
	assert_int_equal(pod_inventory_apply_podlist(f->pods, root, "podlist", POD_SOURCE_PODLIST, 1,
						     &err),
			 0);
	cJSON_Delete(root);
	f->stream = open_memstream(&f->out, &f->out_len);
	f->dns = dns_cache_new(64);
	state = (struct pipeline_state){.cgroups = f->cgroups,
					.processes = f->processes,
					.pods = f->pods,
					.watches = f->watches,
					.dns = f->dns};
	f->pipeline = pipeline_new(&config, &state, f->stream);
	return f;
}

static void fixture_free(struct fixture *f)
{
	pipeline_free(f->pipeline);
	fclose(f->stream);
	free(f->out);
	watch_list_free(f->watches);
	process_cache_free(f->processes);
	dns_cache_free(f->dns);
	pod_inventory_free(f->pods);
	cgroup_cache_free(f->cgroups);
	free(f);
}

static const char *output(struct fixture *f)
{
	fflush(f->stream);
	return f->out ? f->out : "";
}

static void header_fill(struct am_record_header *header, uint16_t type, uint16_t size,
			uint64_t time_ns)
{
	header->type = type;
	header->size = size;
	header->time_ns = time_ns;
}

static void feed_mkdir(struct fixture *f, uint64_t id, const char *path, uint64_t time_ns)
{
	struct am_cgroup_record record = {0};

	header_fill(&record.header, AM_REC_CGROUP_MKDIR, sizeof(record), time_ns);
	record.cgroup_id = id;
	strncpy(record.path, path, sizeof(record.path) - 1);
	assert_int_equal(pipeline_record(f->pipeline, &record, sizeof(record)), 0);
}

static struct am_connect_record connect_record(uint64_t cgroup_id, const char *comm)
{
	struct am_connect_record record = {0};

	header_fill(&record.header, AM_REC_CONNECT, sizeof(record), 5000000123ull);
	record.task.cgroup_id = cgroup_id;
	record.task.pid = 4242;
	record.task.tid = 4243;
	record.task.ppid = 1;
	record.task.uid = 1000;
	memcpy(record.task.comm, comm, strnlen(comm, sizeof(record.task.comm)));
	record.family = 4;
	record.protocol = 6;
	record.port = 80;
	memcpy(record.addr, (uint8_t[]){169, 254, 169, 254}, 4);
	return record;
}

static cJSON *only_line(struct fixture *f)
{
	const char *text = output(f);
	const char *newline = strchr(text, '\n');
	cJSON *line;

	assert_non_null(newline);
	assert_int_equal(newline[1], '\0');
	line = cJSON_ParseWithLength(text, (size_t)(newline - text));
	assert_non_null(line);
	return line;
}

static const char *string_at(const cJSON *root, const char *object, const char *member)
{
	const cJSON *parent = object ? cJSON_GetObjectItem(root, object) : root;
	const cJSON *item = cJSON_GetObjectItem(parent, member);

	return cJSON_IsString(item) ? item->valuestring : NULL;
}

static double number_at(const cJSON *root, const char *object, const char *member)
{
	const cJSON *parent = object ? cJSON_GetObjectItem(root, object) : root;

	return cJSON_GetNumberValue(cJSON_GetObjectItem(parent, member));
}

static void connect_from_pod(void **state)
{
	struct fixture *f = fixture_new(true, OUTPUT_JSON);
	struct am_connect_record record = connect_record(777, "curl");
	cJSON *line;

	(void)state;
	feed_mkdir(f, 777, CGROUP_PATH, 1000);
	assert_int_equal(pipeline_record(f->pipeline, &record, sizeof(record)), 0);
	line = only_line(f);
	assert_string_equal(string_at(line, NULL, "type"), "connect");
	assert_string_equal(string_at(line, NULL, "time"), "2025-11-28T10:04:10.000000123Z");
	assert_int_equal(number_at(line, "proc", "pid"), 4242);
	assert_int_equal(number_at(line, "proc", "tid"), 4243);
	assert_int_equal(number_at(line, "proc", "ppid"), 1);
	assert_int_equal(number_at(line, "proc", "uid"), 1000);
	assert_string_equal(string_at(line, "proc", "comm"), "curl");
	assert_int_equal(number_at(line, "cgroup", "id"), 777);
	assert_string_equal(string_at(line, "cgroup", "path"), CGROUP_PATH);
	assert_string_equal(string_at(line, "pod", "uid"), POD_UID);
	assert_string_equal(string_at(line, "pod", "namespace"), "shop");
	assert_string_equal(string_at(line, "pod", "name"), "web");
	assert_string_equal(string_at(line, "pod", "container_id"), CONTAINER);
	assert_string_equal(string_at(line, "pod", "container"), "app");
	assert_string_equal(string_at(line, "dst", "ip"), "169.254.169.254");
	assert_int_equal(number_at(line, "dst", "port"), 80);
	assert_string_equal(string_at(line, "dst", "proto"), "tcp");
	cJSON_Delete(line);
	fixture_free(f);
}

static void host_process_and_unknown_pod(void **state)
{
	struct fixture *f = fixture_new(true, OUTPUT_JSON);
	struct am_connect_record record = connect_record(1, "kubelet");
	cJSON *line;

	(void)state;
	feed_mkdir(f, 1, "/system.slice/kubelet.service", 1000);
	assert_int_equal(pipeline_record(f->pipeline, &record, sizeof(record)), 0);
	line = only_line(f);
	assert_true(cJSON_IsNull(cJSON_GetObjectItem(line, "pod")));
	cJSON_Delete(line);
	fixture_free(f);

	/* A pod cgroup the inventory does not know: uid and container, no names. */
	f = fixture_new(true, OUTPUT_JSON);
	feed_mkdir(f, 9, "/kubepods/besteffort/pod11111111-2222-3333-4444-555555555555/abcd", 1);
	record = connect_record(9, "sh");
	assert_int_equal(pipeline_record(f->pipeline, &record, sizeof(record)), 0);
	line = only_line(f);
	assert_string_equal(string_at(line, "pod", "uid"), "11111111-2222-3333-4444-555555555555");
	assert_string_equal(string_at(line, "pod", "container_id"), "abcd");
	assert_true(cJSON_IsNull(cJSON_GetObjectItem(cJSON_GetObjectItem(line, "pod"), "name")));
	cJSON_Delete(line);
	fixture_free(f);
}

static void on_miss(void *ctx, uint64_t cgroup_id, uint64_t now_ns)
{
	struct fixture *f = ctx;

	(void)now_ns;
	f->misses++;
	cgroup_cache_add(f->cgroups, cgroup_id, "/late.slice");
}

static void unknown_cgroup_asks_the_source(void **state)
{
	struct fixture *f = fixture_new(true, OUTPUT_JSON);
	struct am_connect_record record = connect_record(55, "curl");
	cJSON *line;

	struct pipeline_hooks hooks = {.cgroup_miss = on_miss, .ctx = f};

	(void)state;
	pipeline_set_hooks(f->pipeline, &hooks);
	assert_int_equal(pipeline_record(f->pipeline, &record, sizeof(record)), 0);
	assert_int_equal(f->misses, 1);
	line = only_line(f);
	assert_string_equal(string_at(line, "cgroup", "path"), "/late.slice");
	cJSON_Delete(line);
	fixture_free(f);
}

static void ipv6_send(void **state)
{
	struct fixture *f = fixture_new(true, OUTPUT_JSON);
	struct am_connect_record record = connect_record(1, "dig");
	const uint8_t addr[16] = {0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x53};
	cJSON *line;

	(void)state;
	record.header.type = AM_REC_SEND;
	record.family = 6;
	record.protocol = 17;
	record.port = 53;
	memcpy(record.addr, addr, 16);
	assert_int_equal(pipeline_record(f->pipeline, &record, sizeof(record)), 0);
	line = only_line(f);
	assert_string_equal(string_at(line, NULL, "type"), "send");
	assert_string_equal(string_at(line, "dst", "ip"), "fd00::53");
	assert_string_equal(string_at(line, "dst", "proto"), "udp");
	assert_true(cJSON_IsNull(cJSON_GetObjectItem(cJSON_GetObjectItem(line, "cgroup"), "path")));
	cJSON_Delete(line);
	fixture_free(f);
}

/* Files and directories alike: the kernel takes everything. */
static int sink_ok(void *ctx, uint32_t kdev, uint64_t inode, uint32_t id, uint32_t flags,
		   bool add)
{
	(void)ctx, (void)kdev, (void)inode, (void)id, (void)flags, (void)add;
	return 0;
}

static int sink_path_ok(void *ctx, const char *path, uint32_t id, bool add)
{
	(void)ctx, (void)path, (void)id, (void)add;
	return 0;
}

static const struct watch_entry *watch_one(struct fixture *f, const struct watch_spec *spec)
{
	struct watch_sink sink = {sink_ok, sink_ok, sink_path_ok, NULL};
	struct am_error err;
	size_t i;

	watch_list_begin(f->watches);
	assert_int_equal(watch_list_want(f->watches, spec, &err), 0);
	watch_list_end(f->watches, &sink, 1, 1);
	for (i = 0; i < 8; i++) {
		const struct watch_entry *entry = watch_list_get(f->watches, (uint32_t)i);

		if (entry && strcmp(entry->path, spec->path) == 0)
			return entry;
	}
	fail();
	return NULL;
}

static struct am_open_record open_record(const struct watch_entry *watch, uint8_t match)
{
	struct am_open_record record = {0};

	header_fill(&record.header, AM_REC_OPEN, sizeof(record), 1);
	record.task.cgroup_id = 1;
	strcpy(record.task.comm, "cat");
	record.result = 3;
	record.inode = 1234;
	record.dev = (8u << 20) | 1;
	record.watch_id = watch->id;
	record.flags = 02; /* O_RDWR */
	record.syscall = AM_OPEN_SYSCALL_OPENAT;
	record.match = match;
	return record;
}

static void open_of_watched_file(void **state)
{
	struct fixture *f = fixture_new(true, OUTPUT_JSON);
	struct watch_spec spec = {.kind = WATCH_NODE_CLOUD_CONFIG, .path = "/proc/self/exe",
				  .identity = WATCH_FILE_IDENTITY, .by_path = true};
	const struct watch_entry *watch = watch_one(f, &spec);
	struct am_open_record record = open_record(watch, AM_MATCH_FILE);
	cJSON *line, *file;

	(void)state;
	strcpy(record.path, "../x/exe");
	assert_int_equal(pipeline_record(f->pipeline, &record, sizeof(record)), 0);
	line = only_line(f);
	file = cJSON_GetObjectItem(line, "file");
	assert_string_equal(string_at(file, NULL, "path"), "../x/exe");
	assert_string_equal(string_at(file, NULL, "host_path"), "/proc/self/exe");
	assert_string_equal(string_at(file, NULL, "kind"), "node-cloud-config");
	assert_true(cJSON_IsNull(cJSON_GetObjectItem(file, "owner_pod")));
	assert_string_equal(string_at(file, NULL, "dev"), "8:1");
	assert_string_equal(string_at(file, NULL, "access"), "read-write");
	assert_string_equal(string_at(file, NULL, "syscall"), "openat");
	assert_int_equal(number_at(file, NULL, "result"), 3);
	assert_int_equal(number_at(file, NULL, "flags"), 2);
	assert_null(cJSON_GetObjectItem(file, "error"));
	cJSON_Delete(line);
	fixture_free(f);
}

static void rotated_token_in_another_pods_volume(void **state)
{
	struct fixture *f = fixture_new(true, OUTPUT_JSON);
	struct watch_spec spec = {.kind = WATCH_PROJECTED_TOKENS,
				  .path = "/var/lib/kubelet/pods/" POD_UID
					  "/volumes/kubernetes.io~projected/azure-identity-token",
				  .owner_uid = POD_UID, .identity = WATCH_DIR_IDENTITY};
	const struct watch_entry *watch = watch_one(f, &spec);
	struct am_open_record record = open_record(watch, AM_MATCH_DIR);
	cJSON *line, *file;

	(void)state;
	strcpy(record.path, "/var/run/secrets/azure/tokens/azure-identity-token");
	strcpy(record.name, "azure-identity-token");
	assert_int_equal(pipeline_record(f->pipeline, &record, sizeof(record)), 0);
	line = only_line(f);
	file = cJSON_GetObjectItem(line, "file");
	assert_string_equal(string_at(file, NULL, "kind"), "workload-identity-token");
	assert_string_equal(string_at(file, NULL, "host_path"),
			    "/var/lib/kubelet/pods/" POD_UID
			    "/volumes/kubernetes.io~projected/azure-identity-token/azure-identity-token");
	assert_string_equal(string_at(file, "owner_pod", "name"), "web");
	assert_string_equal(string_at(file, "owner_pod", "namespace"), "shop");
	assert_string_equal(string_at(file, "owner_pod", "uid"), POD_UID);
	cJSON_Delete(line);
	fixture_free(f);
}

static void failed_open_of_watched_path(void **state)
{
	struct fixture *f = fixture_new(true, OUTPUT_JSON);
	struct watch_spec spec = {.kind = WATCH_KUBELET_CREDENTIALS,
				  .path = "/var/lib/kubelet/kubeconfig", .by_path = true};
	const struct watch_entry *watch = watch_one(f, &spec);
	struct am_open_record record = open_record(watch, AM_MATCH_PATH);
	cJSON *line, *file;

	(void)state;
	record.result = -13;
	record.inode = 0;
	record.dev = 0;
	strcpy(record.path, "/var/lib/kubelet/kubeconfig");
	assert_int_equal(pipeline_record(f->pipeline, &record, sizeof(record)), 0);
	line = only_line(f);
	file = cJSON_GetObjectItem(line, "file");
	assert_string_equal(string_at(file, NULL, "kind"), "kubelet-credentials");
	assert_string_equal(string_at(file, NULL, "error"), "EACCES");
	assert_int_equal(number_at(file, NULL, "result"), -13);
	assert_true(cJSON_IsNull(cJSON_GetObjectItem(file, "inode")));
	cJSON_Delete(line);
	fixture_free(f);
}

static void malformed_records_are_counted(void **state)
{
	struct fixture *f = fixture_new(true, OUTPUT_JSON);
	struct am_connect_record record = connect_record(1, "x");
	uint8_t junk[4] = {1, 0, 0, 0};

	(void)state;
	assert_int_equal(pipeline_record(f->pipeline, junk, sizeof(junk)), -EINVAL);
	assert_int_equal(pipeline_record(f->pipeline, &record, sizeof(record) - 1), -EINVAL);
	record.header.size = 12;
	assert_int_equal(pipeline_record(f->pipeline, &record, sizeof(record)), -EINVAL);
	record.header.size = sizeof(record);
	record.header.type = 99;
	assert_int_equal(pipeline_record(f->pipeline, &record, sizeof(record)), -EINVAL);
	record.header.type = AM_REC_OPEN; /* the size of a connect record, not an open one */
	assert_int_equal(pipeline_record(f->pipeline, &record, sizeof(record)), -EINVAL);
	assert_int_equal(pipeline_stats(f->pipeline)->malformed, 5);
	assert_string_equal(output(f), "");
	fixture_free(f);
}

static void events_off_writes_nothing_but_losses(void **state)
{
	struct fixture *f = fixture_new(false, OUTPUT_JSON);
	struct am_connect_record record = connect_record(1, "x");
	cJSON *line;

	(void)state;
	assert_int_equal(pipeline_record(f->pipeline, &record, sizeof(record)), 0);
	assert_string_equal(output(f), "");
	pipeline_events_lost(f->pipeline, 2000000000ull, 7, 19);
	line = only_line(f);
	assert_string_equal(string_at(line, NULL, "type"), "events-lost");
	assert_int_equal(number_at(line, NULL, "lost"), 7);
	assert_int_equal(number_at(line, NULL, "lost_total"), 19);
	cJSON_Delete(line);
	fixture_free(f);
}

/* Blind, and seeing again: a record each, in JSON and as one safe text line. */
static void monitor_degraded_records(void **state)
{
	struct fixture *f = fixture_new(false, OUTPUT_JSON);
	struct degraded_notice notice = {.detection = DETECTION_SECRET_FILES,
					 .cause = DEGRADED_MAPS,
					 .reason = "the kernel refused 3 watch set updates",
					 .since_ns = 1000000000ull};
	cJSON *line;

	(void)state;
	pipeline_monitor_degraded(f->pipeline, 2000000000ull, &notice);
	line = only_line(f);
	assert_string_equal(string_at(line, NULL, "type"), "monitor-degraded");
	assert_string_equal(string_at(line, NULL, "state"), "degraded");
	assert_string_equal(string_at(line, NULL, "detection"), "secret-files");
	assert_string_equal(string_at(line, NULL, "cause"), "maps");
	assert_string_equal(string_at(line, NULL, "sees"), "opens of secret files");
	assert_string_equal(string_at(line, NULL, "reason"), "the kernel refused 3 watch set updates");
	assert_string_equal(string_at(line, NULL, "time"), "2025-11-28T10:04:07.000000000Z");
	assert_string_equal(string_at(line, NULL, "since"), "2025-11-28T10:04:06.000000000Z");
	cJSON_Delete(line);
	notice.restored = true;
	pipeline_monitor_degraded(f->pipeline, 3000000000ull, &notice);
	assert_non_null(strstr(strchr(output(f), '\n'), "\"type\":\"monitor-degraded\","
							"\"time\":\"2025-11-28T10:04:08.000000000Z\","
							"\"state\":\"restored\""));
	fixture_free(f);

	f = fixture_new(false, OUTPUT_TEXT);
	notice.restored = false;
	notice.detection = DETECTION_IO_URING;
	notice.reason = "the kernel refused it: \x1b[2Jbad\n";
	pipeline_monitor_degraded(f->pipeline, 2000000000ull, &notice);
	assert_string_equal(output(f), "2025-11-28T10:04:07.000000000Z DEGRADED io-uring-opens: BLIND "
				       "to opens of secret files through io_uring since "
				       "2025-11-28T10:04:06.000000000Z: the kernel refused it: "
				       "\\x1b[2Jbad\\x0a\n");
	fixture_free(f);
}

static void text_format_is_one_safe_line(void **state)
{
	struct fixture *f = fixture_new(true, OUTPUT_TEXT);
	struct am_connect_record record = connect_record(777, "evil\x1b[2J\n");
	const char *text;

	(void)state;
	feed_mkdir(f, 777, CGROUP_PATH, 1);
	assert_int_equal(pipeline_record(f->pipeline, &record, sizeof(record)), 0);
	text = output(f);
	assert_string_equal(text, "2025-11-28T10:04:10.000000123Z connect pod=shop/web container=app "
				  "pid=4242 uid=1000 comm=evil\\x1b[2J\\x0a -> 169.254.169.254:80/tcp "
				  "service=imds (fixed)\n");
	fixture_free(f);
}

static void removed_cgroup_still_attributes(void **state)
{
	struct fixture *f = fixture_new(true, OUTPUT_JSON);
	struct am_connect_record record = connect_record(777, "curl");
	struct am_cgroup_record rmdir_record = {0};
	cJSON *line;

	(void)state;
	feed_mkdir(f, 777, CGROUP_PATH, 1);
	header_fill(&rmdir_record.header, AM_REC_CGROUP_RMDIR, sizeof(rmdir_record), 2);
	rmdir_record.cgroup_id = 777;
	assert_int_equal(pipeline_record(f->pipeline, &rmdir_record, sizeof(rmdir_record)), 0);
	assert_int_equal(pipeline_record(f->pipeline, &record, sizeof(record)), 0);
	line = only_line(f);
	assert_string_equal(string_at(line, "pod", "name"), "web");
	cJSON_Delete(line);
	fixture_free(f);
}

/* 19999 repeats of the process in the cache, as user space makes them from the kernel's counts. */
static struct am_connect_repeat_record repeat_record(uint64_t cgroup_id, uint16_t repeat_of)
{
	struct am_connect_repeat_record record = {0};

	header_fill(&record.header, AM_REC_CONNECT_REPEAT, sizeof(record), 7000000000ull);
	record.task.cgroup_id = cgroup_id;
	record.task.pid = 4242;
	record.task.tid = 4250;
	record.family = 4;
	record.protocol = 6;
	record.port = 5432;
	record.repeat_of = repeat_of;
	memcpy(record.addr, (uint8_t[]){10, 0, 0, 7}, 4);
	record.count = 19999;
	record.window_start_ns = 5000000123ull;
	record.first_ns = 5000000500ull;
	record.last_ns = 6500000000ull;
	return record;
}

static void put_process(struct fixture *f, uint64_t cgroup_id)
{
	struct process_info info = {.pid = 4242, .ppid = 17, .uid = 1000, .cgroup_id = cgroup_id,
				    .comm = "psql", .exe = "/usr/bin/psql"};

	assert_non_null(process_cache_put(f->processes, &info));
}

static void repeats_of_a_pod(void **state)
{
	struct fixture *f = fixture_new(true, OUTPUT_JSON);
	struct am_connect_repeat_record record = repeat_record(777, AM_REC_CONNECT);
	cJSON *line;

	(void)state;
	feed_mkdir(f, 777, CGROUP_PATH, 1000);
	put_process(f, 777);
	assert_int_equal(pipeline_record(f->pipeline, &record, sizeof(record)), 0);
	line = only_line(f);
	assert_string_equal(string_at(line, NULL, "type"), "connect-repeat");
	assert_string_equal(string_at(line, NULL, "time"), "2025-11-28T10:04:12.000000000Z");
	assert_int_equal(number_at(line, NULL, "count"), 19999);
	assert_string_equal(string_at(line, NULL, "window_start"), "2025-11-28T10:04:10.000000123Z");
	assert_string_equal(string_at(line, NULL, "first"), "2025-11-28T10:04:10.000000500Z");
	assert_string_equal(string_at(line, NULL, "last"), "2025-11-28T10:04:11.500000000Z");
	/* The last repeat's process: pid and tid from the kernel, the rest from the cache. */
	assert_int_equal(number_at(line, "proc", "pid"), 4242);
	assert_int_equal(number_at(line, "proc", "tid"), 4250);
	assert_int_equal(number_at(line, "proc", "ppid"), 17);
	assert_int_equal(number_at(line, "proc", "uid"), 1000);
	assert_string_equal(string_at(line, "proc", "comm"), "psql");
	assert_string_equal(string_at(line, "proc", "exe"), "/usr/bin/psql");
	assert_string_equal(string_at(line, "pod", "name"), "web");
	assert_string_equal(string_at(line, "pod", "container"), "app");
	assert_string_equal(string_at(line, "dst", "ip"), "10.0.0.7");
	assert_int_equal(number_at(line, "dst", "port"), 5432);
	assert_string_equal(string_at(line, "dst", "proto"), "tcp");
	assert_string_equal(string_at(line, "dst", "name_source"), "none");
	cJSON_Delete(line);
	assert_int_equal(pipeline_stats(f->pipeline)->repeats, 19999);
	assert_int_equal(pipeline_stats(f->pipeline)->records[AM_REC_CONNECT_REPEAT], 1);
	fixture_free(f);
}

static void repeats_of_sends_named_and_unknown(void **state)
{
	struct fixture *f = fixture_new(true, OUTPUT_JSON);
	struct am_connect_repeat_record record = repeat_record(1, AM_REC_SEND);
	cJSON *line;

	(void)state;
	/* A destination named as its connect was: IMDS is fixed. */
	memcpy(record.addr, (uint8_t[]){169, 254, 169, 254}, 4);
	record.port = 80;
	record.protocol = 17;
	assert_int_equal(pipeline_record(f->pipeline, &record, sizeof(record)), 0);
	line = only_line(f);
	assert_string_equal(string_at(line, NULL, "type"), "send-repeat");
	assert_string_equal(string_at(line, "dst", "proto"), "udp");
	assert_string_equal(string_at(line, "dst", "service"), "imds");
	/* A process nobody knows: its pid, and no name. */
	assert_int_equal(number_at(line, "proc", "pid"), 4242);
	assert_string_equal(string_at(line, "proc", "comm"), "");
	assert_true(cJSON_IsNull(cJSON_GetObjectItem(cJSON_GetObjectItem(line, "proc"), "exe")));
	cJSON_Delete(line);
	/* Neither a connect's nor a send's: malformed, nothing written. */
	record.repeat_of = AM_REC_OPEN;
	assert_int_equal(pipeline_record(f->pipeline, &record, sizeof(record)), 0);
	assert_int_equal(pipeline_stats(f->pipeline)->malformed, 1);
	assert_int_equal(pipeline_stats(f->pipeline)->repeats, 19999);
	/* The size of a connect record is not a repeat's. */
	record.repeat_of = AM_REC_CONNECT;
	record.header.size = sizeof(struct am_connect_record);
	assert_int_equal(pipeline_record(f->pipeline, &record, sizeof(struct am_connect_record)),
			 -EINVAL);
	fixture_free(f);
}

static void repeats_as_text(void **state)
{
	struct fixture *f = fixture_new(true, OUTPUT_TEXT);
	struct am_connect_repeat_record record = repeat_record(777, AM_REC_CONNECT);

	(void)state;
	feed_mkdir(f, 777, CGROUP_PATH, 1);
	put_process(f, 777);
	assert_int_equal(pipeline_record(f->pipeline, &record, sizeof(record)), 0);
	assert_string_equal(output(f),
			    "2025-11-28T10:04:12.000000000Z connect-repeat pod=shop/web container=app "
			    "pid=4242 uid=1000 comm=psql exe=/usr/bin/psql -> 10.0.0.7:5432/tcp "
			    "count=19999 first=2025-11-28T10:04:10.000000500Z "
			    "last=2025-11-28T10:04:11.500000000Z\n");
	fixture_free(f);
}

static void repeats_without_events_write_nothing(void **state)
{
	struct fixture *f = fixture_new(false, OUTPUT_JSON);
	struct am_connect_repeat_record record = repeat_record(777, AM_REC_CONNECT);

	(void)state;
	assert_int_equal(pipeline_record(f->pipeline, &record, sizeof(record)), 0);
	assert_string_equal(output(f), "");
	assert_int_equal(pipeline_stats(f->pipeline)->repeats, 19999);
	fixture_free(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(connect_from_pod),
		cmocka_unit_test(host_process_and_unknown_pod),
		cmocka_unit_test(unknown_cgroup_asks_the_source),
		cmocka_unit_test(ipv6_send),
		cmocka_unit_test(open_of_watched_file),
		cmocka_unit_test(rotated_token_in_another_pods_volume),
		cmocka_unit_test(failed_open_of_watched_path),
		cmocka_unit_test(malformed_records_are_counted),
		cmocka_unit_test(events_off_writes_nothing_but_losses),
		cmocka_unit_test(monitor_degraded_records),
		cmocka_unit_test(text_format_is_one_safe_line),
		cmocka_unit_test(removed_cgroup_still_attributes),
		cmocka_unit_test(repeats_of_a_pod),
		cmocka_unit_test(repeats_of_sends_named_and_unknown),
		cmocka_unit_test(repeats_as_text),
		cmocka_unit_test(repeats_without_events_write_nothing),
	};

	return cmocka_run_group_tests_name("pipeline", tests, NULL, NULL);
}
