// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * Unit tests: the trace format. Round trips, truncation at every byte, corrupt
 * blocks skipped with their offset, newer versions refused. State documents are
 * test_state.c's.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "accessmon.h"
#include "trace/trace.h"

struct collected {
	int records;
	int states;
	uint64_t last_time;
	int reports;
	char last_report[512];
};

static void collect(void *ctx, uint16_t kind, const uint8_t *data, uint32_t len)
{
	struct collected *c = ctx;

	if (kind == TRACE_ENTRY_RECORD) {
		const struct am_record_header *header = (const void *)data;

		assert_true(len >= sizeof(*header));
		/* Records come back aligned, so they can be read in place. */
		assert_int_equal((uintptr_t)data % 8, 0);
		c->records++;
		c->last_time = header->time_ns;
	} else {
		c->states++;
	}
}

static void on_report(void *ctx, const char *message)
{
	struct collected *c = ctx;

	c->reports++;
	snprintf(c->last_report, sizeof(c->last_report), "%s", message);
}

/* A trace of `blocks` blocks of 100 exit records each, and a state document. */
static uint8_t *make_trace(int blocks, size_t *len, size_t *block_offsets)
{
	uint8_t *file, *part;
	size_t part_len;
	struct trace_block block;
	int b, i;

	assert_int_equal(trace_header_encode("{\"format\":1,\"boot_to_wall_ns\":\"5\"}", &file, len),
			 0);
	trace_block_init(&block);
	for (b = 0; b < blocks; b++) {
		trace_block_reset(&block);
		assert_int_equal(trace_block_add(&block, TRACE_ENTRY_STATE, "{\"state\":\"x\"}", 13, 0),
				 0);
		for (i = 0; i < 100; i++) {
			struct am_exit_record record = {0};

			record.header.type = AM_REC_EXIT;
			record.header.size = sizeof(record);
			record.header.time_ns = (uint64_t)(b * 100 + i + 1);
			record.pid = (uint32_t)i;
			assert_int_equal(trace_block_add(&block, TRACE_ENTRY_RECORD, &record,
							 sizeof(record), record.header.time_ns),
					 0);
		}
		assert_int_equal(trace_block_encode(&block, &part, &part_len), 0);
		file = realloc(file, *len + part_len);
		memcpy(file + *len, part, part_len);
		if (block_offsets)
			block_offsets[b] = *len;
		*len += part_len;
		free(part);
	}
	trace_block_release(&block);
	return file;
}

static void round_trip(void **state)
{
	struct collected c = {0};
	struct trace_read_stats stats;
	struct am_error err;
	size_t len;
	uint8_t *file = make_trace(3, &len, NULL);
	char *header;

	(void)state;
	assert_int_equal(trace_read_buffer(file, len, "t", &header, collect, &c, on_report, &stats,
					   &err),
			 0);
	assert_string_equal(header, "{\"format\":1,\"boot_to_wall_ns\":\"5\"}");
	assert_int_equal(c.records, 300);
	assert_int_equal(c.states, 3);
	assert_int_equal(c.reports, 0);
	assert_int_equal(stats.blocks, 3);
	assert_int_equal(stats.first_ns, 1);
	assert_int_equal(stats.last_ns, 300);
	assert_false(stats.truncated);
	free(header);
	free(file);
}

static void truncation_at_every_byte(void **state)
{
	size_t len, offsets[3], cut;
	uint8_t *file = make_trace(3, &len, offsets);

	(void)state;
	for (cut = 0; cut <= len; cut++) {
		struct collected c = {0};
		struct trace_read_stats stats;
		struct am_error err;
		char *header = NULL;
		int rc = trace_read_buffer(file, cut, "t", &header, collect, &c, on_report, &stats,
					   &err);

		if (cut < offsets[0]) {
			/* Inside the file header: an error, or an empty but valid read. */
			assert_true(rc < 0 || c.records == 0);
		} else {
			int whole = cut >= len ? 3 : cut >= offsets[2] ? 2 : cut >= offsets[1] ? 1 : 0;

			assert_int_equal(rc, 0);
			/* Every intact block before the cut, and nothing else. */
			assert_int_equal(c.records, whole * 100);
			/* Cut at a block boundary, nothing is half there: not truncated. */
			assert_int_equal(stats.truncated, cut < len && cut != offsets[0] &&
								  cut != offsets[1] && cut != offsets[2]);
			if (stats.truncated)
				assert_non_null(strstr(c.last_report, "truncated at byte"));
		}
		free(header);
	}
	free(file);
}

static void corrupt_block_is_skipped_with_its_offset(void **state)
{
	struct collected c = {0};
	struct trace_read_stats stats;
	struct am_error err;
	size_t len, offsets[3];
	uint8_t *file = make_trace(3, &len, offsets);
	char *header, expected[64];

	(void)state;
	file[offsets[1] + 50] ^= 0xff; /* inside the second block's compressed data */
	assert_int_equal(trace_read_buffer(file, len, "t", &header, collect, &c, on_report, &stats,
					   &err),
			 0);
	assert_int_equal(c.records, 200);
	assert_int_equal(stats.corrupt_blocks, 1);
	snprintf(expected, sizeof(expected), "block at byte %zu fails its checksum", offsets[1]);
	assert_non_null(strstr(c.last_report, expected));
	free(header);
	/* A broken block header: found again at the next block. */
	memset(&c, 0, sizeof(c));
	file[offsets[1] + 50] ^= 0xff;
	file[offsets[1] + 5] ^= 0x55;
	assert_int_equal(trace_read_buffer(file, len, "t", &header, collect, &c, on_report, &stats,
					   &err),
			 0);
	assert_int_equal(c.records, 200);
	assert_non_null(strstr(c.last_report, "corrupt block header"));
	free(header);
	free(file);
}

static void newer_versions_and_other_files_are_refused(void **state)
{
	struct collected c = {0};
	struct trace_read_stats stats;
	struct am_error err;
	size_t len;
	uint8_t *file = make_trace(1, &len, NULL);
	char *header;

	(void)state;
	file[8] = TRACE_VERSION + 1;
	assert_int_equal(trace_read_buffer(file, len, "t", &header, collect, &c, on_report, &stats,
					   &err),
			 -EPROTONOSUPPORT);
	assert_non_null(strstr(err.msg, "newer than this accessmon reads"));
	assert_int_equal(trace_read_buffer((const uint8_t *)"{\"not\":\"a trace\"}", 17, "t",
					   &header, collect, &c, on_report, &stats, &err),
			 -EINVAL);
	assert_non_null(strstr(err.msg, "not an accessmon trace file"));
	free(file);
}

static void rotated_files_are_put_oldest_first(void **state)
{
	const char *glob[] = {"/t/trace.am", "/t/trace.am.1", "other.am", "/t/trace.am.10",
			      "/t/trace.am.2", "v1.2/x.am"};
	const char *same[] = {"a.am.1", "a.am"};

	(void)state;
	trace_order_files(glob, 6);
	assert_string_equal(glob[0], "/t/trace.am.10");
	assert_string_equal(glob[1], "/t/trace.am.2");
	assert_string_equal(glob[2], "/t/trace.am.1");
	assert_string_equal(glob[3], "/t/trace.am");
	/* Other names keep their place after the first group. */
	assert_string_equal(glob[4], "other.am");
	assert_string_equal(glob[5], "v1.2/x.am");
	trace_order_files(same, 2);
	assert_string_equal(same[0], "a.am.1");
	assert_string_equal(same[1], "a.am");
	trace_order_files(NULL, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(round_trip),
		cmocka_unit_test(truncation_at_every_byte),
		cmocka_unit_test(rotated_files_are_put_oldest_first),
		cmocka_unit_test(corrupt_block_is_skipped_with_its_offset),
		cmocka_unit_test(newer_versions_and_other_files_are_refused),
	};

	return cmocka_run_group_tests_name("trace", tests, NULL, NULL);
}
