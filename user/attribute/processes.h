/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * The process cache: pid -> executable, arguments, parent, start time, kept from
 * the kernel's exec/fork/exit records and a /proc snapshot at start. Fixed
 * capacity; exited processes stay for a grace period (their children's ancestry
 * and late events still need them) and are then freed.
 */
#ifndef ACCESSMON_PROCESSES_H
#define ACCESSMON_PROCESSES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "accessmon.h"
#include "lib/hashtab.h"

struct process_info {
	uint32_t pid;
	struct hashtab_node node; /* by pid: beside it, a lookup reads one cache line */
	uint32_t ppid;
	uint32_t uid;
	uint64_t start_ns; /* CLOCK_BOOTTIME */
	uint64_t cgroup_id;
	char comm[AM_COMM_LEN];
	char *exe;		  /* NULL: unknown */
	char *args;		  /* argv, each NUL-terminated; NULL: unknown */
	uint16_t args_size;
	bool args_truncated;
	bool ran_exe; /* exe is what this process ran, not what it inherited at fork */
	/* The program this process ran before its last exec (sh -c 'exec curl'). */
	char *previous_exe;
	char previous_comm[AM_COMM_LEN];
	uint64_t exited_at_ns; /* 0 while running */
	/*
	 * Changes whenever what is kept of the process does (exec, fork, put), and is
	 * never the same for two entries in one program: what was derived from it (its
	 * record's JSON) is current while the version is.
	 */
	uint64_t version;
};

struct process_cache;

struct process_cache *process_cache_new(size_t capacity);
void process_cache_free(struct process_cache *cache);

struct process_info *process_cache_lookup(struct process_cache *cache, uint32_t pid);
void process_cache_exec(struct process_cache *cache, const struct am_exec_record *record);
void process_cache_fork(struct process_cache *cache, const struct am_fork_record *record);
void process_cache_exit(struct process_cache *cache, uint32_t pid, uint64_t now_ns);
/*
 * Adds or replaces a process known some other way (a /proc snapshot). Strings are
 * copied. Returns the entry, or NULL when out of memory.
 */
struct process_info *process_cache_put(struct process_cache *cache, const struct process_info *info);
/* Frees processes that exited more than grace_ns before now_ns. Returns how many. */
size_t process_cache_expire(struct process_cache *cache, uint64_t now_ns, uint64_t grace_ns);
size_t process_cache_count(const struct process_cache *cache);
void process_cache_foreach(struct process_cache *cache,
			   void (*fn)(void *ctx, const struct process_info *info), void *ctx);
/* Live processes pushed out because the cache was full. */
uint64_t process_cache_evicted(const struct process_cache *cache);

/*
 * Reads one process from a /proc-style directory (proc_dir/<pid>/...). cgroup_root
 * is the cgroup v2 mount used to turn /proc/<pid>/cgroup into a cgroup id.
 * Returns 0 or a negative errno (-ENOENT when the process is gone).
 */
int process_read_proc(struct process_cache *cache, const char *proc_dir, const char *cgroup_root,
		      uint32_t pid);
/* Reads every process in proc_dir. Returns how many were added. */
int process_snapshot_proc(struct process_cache *cache, const char *proc_dir,
			  const char *cgroup_root);

#endif /* ACCESSMON_PROCESSES_H */
