// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* Unit tests: the process cache from exec/fork/exit records, and /proc reading. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "attribute/processes.h"

static struct am_exec_record exec_record(uint32_t pid, uint32_t ppid, const char *exe,
					 const char *args, size_t args_size, uint64_t start)
{
	struct am_exec_record record = {0};

	record.header.type = AM_REC_EXEC;
	record.header.size = sizeof(record);
	record.task.pid = pid;
	record.task.tid = pid;
	record.task.ppid = ppid;
	record.task.cgroup_id = 7;
	strncpy(record.task.comm, strrchr(exe, '/') + 1, sizeof(record.task.comm) - 1);
	strncpy(record.exe, exe, sizeof(record.exe) - 1);
	memcpy(record.args, args, args_size);
	record.args_size = (uint16_t)args_size;
	record.start_ns = start;
	return record;
}

static struct am_fork_record fork_record(uint32_t pid, uint32_t ppid, const char *comm,
					 uint64_t start)
{
	struct am_fork_record record = {0};

	record.header.type = AM_REC_FORK;
	record.header.size = sizeof(record);
	record.task.pid = pid;
	record.task.ppid = ppid;
	record.task.cgroup_id = 7;
	strncpy(record.task.comm, comm, sizeof(record.task.comm) - 1);
	record.start_ns = start;
	return record;
}

static void exec_fork_exit(void **state)
{
	struct process_cache *cache = process_cache_new(16);
	struct am_exec_record sh = exec_record(100, 1, "/bin/sh", "sh\0-c\0curl x", 12, 1000);
	struct am_fork_record child = fork_record(101, 100, "sh", 2000000000ull);
	struct am_exec_record curl =
		exec_record(101, 100, "/usr/bin/curl", "curl\0x", 7, 2000000000ull);
	struct process_info *info;

	(void)state;
	process_cache_exec(cache, &sh);
	process_cache_fork(cache, &child);
	info = process_cache_lookup(cache, 101);
	/* A forked child runs its parent's program until it execs. */
	assert_string_equal(info->exe, "/bin/sh");
	assert_int_equal(info->args_size, 12);
	assert_false(info->ran_exe);
	process_cache_exec(cache, &curl);
	info = process_cache_lookup(cache, 101);
	assert_string_equal(info->exe, "/usr/bin/curl");
	assert_memory_equal(info->args, "curl\0x", 7);
	assert_int_equal(info->ppid, 100);
	/* fork then exec is not "replaced by exec": the parent already shows sh. */
	assert_null(info->previous_exe);

	process_cache_exit(cache, 101, 5000);
	assert_int_equal(process_cache_expire(cache, 5500, 1000), 0);
	assert_non_null(process_cache_lookup(cache, 101));
	assert_int_equal(process_cache_expire(cache, 6000, 1000), 1);
	assert_null(process_cache_lookup(cache, 101));
	assert_int_equal(process_cache_count(cache), 1);
	process_cache_free(cache);
}

static void exec_in_place_keeps_previous_program(void **state)
{
	struct process_cache *cache = process_cache_new(16);
	struct am_exec_record sh = exec_record(200, 1, "/bin/sh", "sh", 3, 1000);
	struct am_exec_record curl = exec_record(200, 1, "/usr/bin/curl", "curl", 5, 1000);
	struct process_info *info;

	(void)state;
	process_cache_exec(cache, &sh);
	process_cache_exec(cache, &curl);
	info = process_cache_lookup(cache, 200);
	assert_string_equal(info->exe, "/usr/bin/curl");
	assert_string_equal(info->previous_exe, "/bin/sh");
	assert_string_equal(info->previous_comm, "sh");
	/* The pid reused by a new process (other start time): no inherited history. */
	curl.start_ns = 900000000000ull;
	process_cache_exec(cache, &curl);
	assert_null(process_cache_lookup(cache, 200)->previous_exe);
	process_cache_free(cache);
}

static void capacity_evicts_exited_then_oldest(void **state)
{
	struct process_cache *cache = process_cache_new(4);
	uint32_t pid;

	(void)state;
	for (pid = 1; pid <= 4; pid++) {
		struct am_fork_record record = fork_record(pid, 0, "p", pid * 10);

		process_cache_fork(cache, &record);
	}
	process_cache_exit(cache, 3, 100);
	{
		struct am_fork_record record = fork_record(5, 0, "p", 50);

		process_cache_fork(cache, &record);
	}
	assert_null(process_cache_lookup(cache, 3));
	assert_int_equal(process_cache_evicted(cache), 0);
	{
		struct am_fork_record record = fork_record(6, 0, "p", 60);

		process_cache_fork(cache, &record);
	}
	/* Nothing exited: the oldest live process goes, and that is counted. */
	assert_null(process_cache_lookup(cache, 1));
	assert_non_null(process_cache_lookup(cache, 6));
	assert_int_equal(process_cache_evicted(cache), 1);
	assert_int_equal(process_cache_count(cache), 4);
	process_cache_free(cache);
}

static void memory_stays_bounded_under_churn(void **state)
{
	struct process_cache *cache = process_cache_new(1024);
	uint32_t i;

	(void)state;
	for (i = 0; i < 200000; i++) {
		struct am_fork_record record = fork_record(1000 + (i % 30000), 1, "w", i);

		process_cache_fork(cache, &record);
		process_cache_exit(cache, 1000 + (i % 30000), i + 1);
		if (i % 1000 == 0)
			process_cache_expire(cache, i + 1, 500);
		assert_true(process_cache_count(cache) <= 1024);
	}
	process_cache_expire(cache, UINT64_MAX, 0);
	assert_int_equal(process_cache_count(cache), 0);
	process_cache_free(cache);
}

static void reads_own_process_from_proc(void **state)
{
	struct process_cache *cache = process_cache_new(16);
	struct process_info *info;
	(void)state;
	assert_int_equal(process_read_proc(cache, "/proc", "/nonexistent", (uint32_t)getpid()), 0);
	info = process_cache_lookup(cache, (uint32_t)getpid());
	assert_non_null(info);
	assert_int_equal(info->ppid, (uint32_t)getppid());
	/* Under valgrind the executable is valgrind's own: only its form is certain. */
	assert_non_null(info->exe);
	assert_int_equal(info->exe[0], '/');
	assert_true(info->args_size > 0);
	assert_true(info->start_ns > 0);
	assert_true(info->ran_exe);
	assert_int_equal(process_read_proc(cache, "/proc", "/", 0x7ffffff0), -ENOENT);
	assert_true(process_snapshot_proc(cache, "/proc", "/") > 1);
	assert_true(process_snapshot_proc(cache, "/nonexistent-proc", "/") < 0);
	process_cache_free(cache);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(exec_fork_exit),
		cmocka_unit_test(exec_in_place_keeps_previous_program),
		cmocka_unit_test(capacity_evicts_exited_then_oldest),
		cmocka_unit_test(memory_stays_bounded_under_churn),
		cmocka_unit_test(reads_own_process_from_proc),
	};

	return cmocka_run_group_tests_name("processes", tests, NULL, NULL);
}
