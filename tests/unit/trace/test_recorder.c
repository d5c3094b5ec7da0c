// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * Unit tests: recording a trace (trace/recorder.h) into a temporary directory
 * and reading it back with the trace reader: the header and opening snapshot,
 * records as they came, blocks written by age, rotation with a snapshot at the
 * start of every file, and files it must not write.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "accessmon.h"
#include "trace/recorder.h"
#include "trace/trace.h"
#include "tree.h"

#define SEC 1000000000ull

static const char header_json[] = "{\"format\":1,\"node\":\"n1\"}";

struct snapshots {
	int taken;
};

/* Each file opens with the state; here one small document. */
static void snapshot(void *ctx, struct recorder *recorder)
{
	static const char doc[] = "{\"state\":\"x-snapshot\"}";
	struct snapshots *s = ctx;

	s->taken++;
	recorder_state(recorder, doc, sizeof(doc) - 1, 0);
}

struct read_back {
	int records, states;
	int first_kind; /* of the file's first entry */
	uint32_t last_pid;
};

static void on_entry(void *ctx, uint16_t kind, const uint8_t *data, uint32_t len)
{
	struct read_back *r = ctx;

	if (!r->first_kind)
		r->first_kind = kind;
	if (kind == TRACE_ENTRY_RECORD) {
		const struct am_exit_record *record = (const void *)data;

		assert_int_equal(len, sizeof(*record));
		r->last_pid = record->pid;
		r->records++;
	} else {
		r->states++;
	}
}

static void on_report(void *ctx, const char *message)
{
	(void)ctx;
	fail_msg("the reader reported: %s", message);
}

static void read_file(const char *path, struct read_back *r)
{
	struct trace_read_stats stats;
	struct am_error err;
	char *header;

	memset(r, 0, sizeof(*r));
	if (trace_read_file(path, &header, on_entry, r, on_report, &stats, &err))
		fail_msg("%s", err.msg);
	assert_string_equal(header, header_json);
	assert_false(stats.truncated);
	assert_int_equal(stats.corrupt_blocks, 0);
	free(header);
}

static void record_exit(struct recorder *recorder, uint32_t pid, uint64_t time_ns)
{
	struct am_exit_record record = {0};

	record.header.type = AM_REC_EXIT;
	record.header.size = sizeof(record);
	record.header.time_ns = time_ns;
	record.pid = pid;
	record.exit_code = (int32_t)(pid * 2654435761u);
	recorder_record(recorder, &record, sizeof(record), time_ns);
}

static void records_and_reads_back(void **state)
{
	struct snapshots snapshots = {0};
	struct recorder_config config = {.header_json = header_json, .snapshot = snapshot,
					 .snapshot_ctx = &snapshots};
	struct recorder *recorder;
	struct read_back r;
	struct am_error err;
	char path[128], reason[128];
	struct stat st;
	uint32_t i;

	(void)state;
	tree_make("recorder");
	snprintf(path, sizeof(path), "%s/trace.am", tree_root);
	config.path = path;
	recorder = recorder_open(&config, &err);
	if (!recorder)
		fail_msg("%s", err.msg);
	assert_int_equal(snapshots.taken, 1);
	for (i = 1; i <= 100; i++)
		record_exit(recorder, i, i * 1000);
	recorder_state(recorder, "{\"state\":\"loss\"}", 16, 5000);
	/* Within a second a block waits; after one, it is written. */
	recorder_tick(recorder, 1000 + SEC / 2);
	recorder_tick(recorder, 1000 + SEC);
	record_exit(recorder, 101, 2 * SEC);
	assert_int_equal(recorder_lost(recorder, reason, sizeof(reason)), 0);
	assert_string_equal(reason, "");
	assert_string_equal(recorder_error(recorder), "");
	recorder_close(recorder);
	recorder_close(NULL);

	/* Private to its owner: it holds what pods did. */
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	read_file(path, &r);
	assert_int_equal(r.first_kind, TRACE_ENTRY_STATE);
	assert_int_equal(r.records, 101);
	assert_int_equal(r.states, 2);
	assert_int_equal(r.last_pid, 101);
}

static void files_it_must_not_write(void **state)
{
	struct recorder_config config = {.header_json = header_json};
	struct am_error err;
	char path[128], target[128];

	(void)state;
	tree_make("recorder");
	/* An existing file is never overwritten. */
	tree_write("/old.am", "keep me");
	snprintf(path, sizeof(path), "%s/old.am", tree_root);
	config.path = path;
	assert_null(recorder_open(&config, &err));
	assert_non_null(strstr(err.msg, "old.am: File exists (choose another name or move it away)"));
	/* Nor a symlink someone planted, wherever it points. */
	snprintf(target, sizeof(target), "%s/elsewhere", tree_root);
	snprintf(path, sizeof(path), "%s/link.am", tree_root);
	assert_int_equal(symlink(target, path), 0);
	assert_null(recorder_open(&config, &err));
	assert_non_null(strstr(err.msg, "--record "));
	assert_int_equal(access(target, F_OK), -1);
	/* A directory that is not there. */
	snprintf(path, sizeof(path), "%s/no/such/dir.am", tree_root);
	assert_null(recorder_open(&config, &err));
	assert_non_null(strstr(err.msg, "No such file or directory"));
}

static void rotates_with_a_snapshot_each(void **state)
{
	struct snapshots snapshots = {0};
	struct recorder_config config = {.header_json = header_json, .max_size = 4096, .keep = 2,
					 .snapshot = snapshot, .snapshot_ctx = &snapshots};
	struct recorder *recorder;
	struct read_back r;
	struct am_error err;
	char path[128], rotated[160];
	uint64_t now = SEC;
	uint32_t pid = 1, newest = 0;
	int round, i, total = 0;

	(void)state;
	tree_make("recorder");
	snprintf(path, sizeof(path), "%s/trace.am", tree_root);
	config.path = path;
	recorder = recorder_open(&config, &err);
	assert_non_null(recorder);
	/* Blocks written once a second, each larger than max_size on its own. */
	for (round = 0; round < 8; round++) {
		for (i = 0; i < 2000; i++)
			record_exit(recorder, pid++, now);
		now += SEC;
		recorder_tick(recorder, now);
	}
	record_exit(recorder, pid++, now);
	recorder_close(recorder);
	assert_true(snapshots.taken >= 3);
	/* path, path.1, path.2 are kept; older ones are gone. */
	snprintf(rotated, sizeof(rotated), "%s.3", path);
	assert_int_equal(access(rotated, F_OK), -1);
	for (i = 2; i >= 0; i--) {
		if (i)
			snprintf(rotated, sizeof(rotated), "%s.%d", path, i);
		else
			snprintf(rotated, sizeof(rotated), "%s", path);
		read_file(rotated, &r);
		/* Every file starts with the state a replay of it needs. */
		assert_int_equal(r.first_kind, TRACE_ENTRY_STATE);
		assert_true(r.states >= 1);
		total += r.records;
		if (r.last_pid > newest)
			newest = r.last_pid;
	}
	/* The last record is kept; the oldest files' records went with them. */
	assert_int_equal(newest, pid - 1);
	assert_true(total > 0 && total < (int)pid);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(records_and_reads_back, tree_remove),
		cmocka_unit_test_teardown(files_it_must_not_write, tree_remove),
		cmocka_unit_test_teardown(rotates_with_a_snapshot_each, tree_remove),
	};

	return cmocka_run_group_tests_name("recorder", tests, NULL, NULL);
}
