// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* The process cache and the /proc snapshot; see processes.h. */
#include "attribute/processes.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct process_cache {
	struct hashtab table;
	size_t capacity;
	uint64_t evicted;
};

/* /proc start times are in clock ticks; the kernel's are in ns. */
#define SAME_START_TOLERANCE_NS (20ull * 1000000ull)

/* Versions are unique across every cache: a freed entry's never comes back. */
static uint64_t next_version(void)
{
	static uint64_t last;

	return __atomic_add_fetch(&last, 1, __ATOMIC_RELAXED);
}

static bool same_start(uint64_t a, uint64_t b)
{
	return (a > b ? a - b : b - a) <= SAME_START_TOLERANCE_NS;
}

/* Buckets for four million processes at most: past that, chains grow instead. */
#define PROCESS_BUCKETS_MAX (1u << 22)

struct process_cache *process_cache_new(size_t capacity)
{
	struct process_cache *cache = calloc(1, sizeof(*cache));

	if (!cache)
		return NULL;
	if (hashtab_init(&cache->table,
			 capacity < PROCESS_BUCKETS_MAX ? capacity : PROCESS_BUCKETS_MAX)) {
		free(cache);
		errno = ENOMEM;
		return NULL;
	}
	cache->capacity = capacity ? capacity : 1;
	return cache;
}

static void info_release(struct process_info *info)
{
	free(info->exe);
	free(info->args);
	free(info->previous_exe);
}

static void info_free(struct process_cache *cache, struct process_info *info)
{
	hashtab_del(&cache->table, &info->node);
	info_release(info);
	free(info);
}

void process_cache_free(struct process_cache *cache)
{
	struct hashtab_node *node, *next;

	if (!cache)
		return;
	hashtab_for_each_safe(node, next, &cache->table)
		info_free(cache, hashtab_entry(node, struct process_info, node));
	hashtab_release(&cache->table);
	free(cache);
}

static bool pid_matches(const struct hashtab_node *node, const void *key)
{
	return hashtab_entry(node, struct process_info, node)->pid == *(const uint32_t *)key;
}

struct process_info *process_cache_lookup(struct process_cache *cache, uint32_t pid)
{
	struct hashtab_node *node = hashtab_find(&cache->table, hash_u32(pid), pid_matches, &pid);

	return node ? hashtab_entry(node, struct process_info, node) : NULL;
}

/* Makes room for one entry: exited processes go first, then the oldest one. */
static void make_room(struct process_cache *cache)
{
	struct process_info *oldest = NULL;
	struct hashtab_node *node;

	if (hashtab_count(&cache->table) < cache->capacity)
		return;
	if (process_cache_expire(cache, UINT64_MAX, 0) > 0)
		return;
	/* Of equal start times the first in the table's order: the same records evict the same. */
	hashtab_for_each(node, &cache->table) {
		struct process_info *info = hashtab_entry(node, struct process_info, node);

		if (!oldest || info->start_ns < oldest->start_ns)
			oldest = info;
	}
	if (oldest) {
		info_free(cache, oldest);
		cache->evicted++;
	}
}

/* The entry for pid, created empty when there is none. */
static struct process_info *entry_for(struct process_cache *cache, uint32_t pid)
{
	struct process_info *info = process_cache_lookup(cache, pid);

	if (info)
		return info;
	make_room(cache);
	info = calloc(1, sizeof(*info));
	if (!info)
		return NULL;
	info->pid = pid;
	hashtab_add(&cache->table, &info->node, hash_u32(pid));
	return info;
}

static char *dup_bounded(const char *s, size_t max)
{
	size_t n = strnlen(s, max);
	char *copy = malloc(n + 1);

	if (copy) {
		memcpy(copy, s, n);
		copy[n] = '\0';
	}
	return copy;
}

static char *dup_bytes(const char *s, size_t n)
{
	char *copy = malloc(n + 1);

	if (copy) {
		memcpy(copy, s, n);
		copy[n] = '\0';
	}
	return copy;
}

void process_cache_exec(struct process_cache *cache, const struct am_exec_record *record)
{
	struct process_info *info = entry_for(cache, record->task.pid);
	size_t args_size = record->args_size;

	if (!info)
		return;
	/* A fresh exec after a reused pid: whatever ran before under this pid is gone. */
	if (info->exited_at_ns || (info->start_ns && !same_start(info->start_ns, record->start_ns))) {
		free(info->previous_exe);
		info->previous_exe = NULL;
		info->previous_comm[0] = '\0';
	} else if (info->exe && info->ran_exe) {
		free(info->previous_exe);
		info->previous_exe = info->exe;
		memcpy(info->previous_comm, info->comm, sizeof(info->comm));
		info->exe = NULL;
	}
	free(info->exe);
	free(info->args);
	if (args_size > AM_ARGS_LEN)
		args_size = AM_ARGS_LEN;
	info->exe = dup_bounded(record->exe, sizeof(record->exe));
	info->args = dup_bytes(record->args, args_size);
	info->args_size = (uint16_t)args_size;
	info->args_truncated = record->flags & AM_EXEC_ARGS_TRUNCATED;
	info->ran_exe = true;
	info->ppid = record->task.ppid;
	info->uid = record->task.uid;
	info->cgroup_id = record->task.cgroup_id;
	info->start_ns = record->start_ns;
	info->exited_at_ns = 0;
	memcpy(info->comm, record->task.comm, sizeof(info->comm));
	info->version = next_version();
}

void process_cache_fork(struct process_cache *cache, const struct am_fork_record *record)
{
	struct process_info *info = entry_for(cache, record->task.pid);
	struct process_info *parent;

	if (!info)
		return;
	/* Looked up after entry_for, which may have evicted the parent to make room. */
	parent = process_cache_lookup(cache, record->task.ppid);
	info_release(info);
	info->exe = parent && parent->exe ? strdup(parent->exe) : NULL;
	info->args = parent && parent->args ? dup_bytes(parent->args, parent->args_size) : NULL;
	info->args_size = parent && parent->args ? parent->args_size : 0;
	info->args_truncated = parent ? parent->args_truncated : false;
	info->ran_exe = false;
	info->previous_exe = NULL;
	info->previous_comm[0] = '\0';
	info->ppid = record->task.ppid;
	info->uid = record->task.uid;
	info->cgroup_id = record->task.cgroup_id;
	info->start_ns = record->start_ns;
	info->exited_at_ns = 0;
	memcpy(info->comm, record->task.comm, sizeof(info->comm));
	info->version = next_version();
}

void process_cache_exit(struct process_cache *cache, uint32_t pid, uint64_t now_ns)
{
	struct process_info *info = process_cache_lookup(cache, pid);

	if (info)
		info->exited_at_ns = now_ns ? now_ns : 1;
}

struct process_info *process_cache_put(struct process_cache *cache, const struct process_info *src)
{
	struct process_info *info = entry_for(cache, src->pid);

	if (!info)
		return NULL;
	info_release(info);
	info->ppid = src->ppid;
	info->uid = src->uid;
	info->start_ns = src->start_ns;
	info->cgroup_id = src->cgroup_id;
	memcpy(info->comm, src->comm, sizeof(info->comm));
	info->exe = src->exe ? strdup(src->exe) : NULL;
	info->args = src->args ? dup_bytes(src->args, src->args_size) : NULL;
	info->args_size = src->args ? src->args_size : 0;
	info->args_truncated = src->args_truncated;
	info->ran_exe = src->exe != NULL;
	info->previous_exe = src->previous_exe ? strdup(src->previous_exe) : NULL;
	memcpy(info->previous_comm, src->previous_comm, sizeof(info->previous_comm));
	info->exited_at_ns = src->exited_at_ns;
	info->version = next_version();
	return info;
}

size_t process_cache_expire(struct process_cache *cache, uint64_t now_ns, uint64_t grace_ns)
{
	struct hashtab_node *node, *next;
	size_t dropped = 0;

	hashtab_for_each_safe(node, next, &cache->table) {
		struct process_info *info = hashtab_entry(node, struct process_info, node);

		if (info->exited_at_ns && now_ns >= info->exited_at_ns &&
		    now_ns - info->exited_at_ns >= grace_ns) {
			info_free(cache, info);
			dropped++;
		}
	}
	return dropped;
}

void process_cache_foreach(struct process_cache *cache,
			   void (*fn)(void *ctx, const struct process_info *info), void *ctx)
{
	struct hashtab_node *node;

	hashtab_for_each(node, &cache->table)
		fn(ctx, hashtab_entry(node, struct process_info, node));
}

size_t process_cache_count(const struct process_cache *cache)
{
	return hashtab_count(&cache->table);
}

uint64_t process_cache_evicted(const struct process_cache *cache)
{
	return cache->evicted;
}

/* Reads at most max-1 bytes of dir/name into buf; returns the length or -errno. */
static ssize_t read_small_file(int dir_fd, const char *name, char *buf, size_t max)
{
	ssize_t n, total = 0;
	int fd = openat(dir_fd, name, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	while ((size_t)total < max - 1) {
		n = read(fd, buf + total, max - 1 - (size_t)total);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		total += n;
	}
	close(fd);
	buf[total] = '\0';
	return total;
}

/* /proc/<pid>/stat: the fields after the parenthesised comm, which may hold anything. */
static int parse_stat(const char *stat, uint32_t *ppid, uint64_t *start_ticks)
{
	const char *p = strrchr(stat, ')');
	unsigned long long ticks;
	unsigned int parent;
	int field;

	if (!p)
		return -EINVAL;
	p++;
	/* " S ppid ..." : state is field 3, ppid 4, starttime 22. */
	if (sscanf(p, " %*c %u", &parent) != 1)
		return -EINVAL;
	for (field = 3; field < 22 && *p; field++) {
		p = strchr(p + 1, ' ');
		if (!p)
			return -EINVAL;
	}
	if (sscanf(p, " %llu", &ticks) != 1)
		return -EINVAL;
	*ppid = parent;
	*start_ticks = ticks;
	return 0;
}

static uint64_t cgroup_id_of(int pid_fd, const char *cgroup_root)
{
	char buf[4096], path[8192];
	const char *line;
	struct stat st;

	if (read_small_file(pid_fd, "cgroup", buf, sizeof(buf)) <= 0)
		return 0;
	/* The cgroup v2 line is "0::/path". */
	line = strstr(buf, "0::");
	if (!line || (line != buf && line[-1] != '\n'))
		return 0;
	line += 3;
	snprintf(path, sizeof(path), "%s%.*s", cgroup_root, (int)strcspn(line, "\n"), line);
	if (stat(path, &st) < 0)
		return 0;
	return st.st_ino;
}

int process_read_proc(struct process_cache *cache, const char *proc_dir, const char *cgroup_root,
		      uint32_t pid)
{
	struct process_info info = {0};
	char path[4096], buf[4096], exe[AM_EXE_LEN], args[AM_ARGS_LEN + 1];
	uint64_t start_ticks;
	long ticks_per_second = sysconf(_SC_CLK_TCK);
	ssize_t n;
	char *uid_line;
	int pid_fd;

	snprintf(path, sizeof(path), "%s/%u", proc_dir, pid);
	pid_fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (pid_fd < 0)
		return -errno;
	if (read_small_file(pid_fd, "stat", buf, sizeof(buf)) <= 0 ||
	    parse_stat(buf, &info.ppid, &start_ticks) < 0) {
		close(pid_fd);
		return -ENOENT;
	}
	info.pid = pid;
	if (ticks_per_second <= 0)
		ticks_per_second = 100;
	info.start_ns = start_ticks * (1000000000ull / (uint64_t)ticks_per_second);
	n = read_small_file(pid_fd, "comm", buf, sizeof(buf));
	if (n > 0) {
		buf[strcspn(buf, "\n")] = '\0';
		memcpy(info.comm, buf, strnlen(buf, sizeof(info.comm) - 1));
	}
	if (read_small_file(pid_fd, "status", buf, sizeof(buf)) > 0 &&
	    (uid_line = strstr(buf, "\nUid:")))
		info.uid = (uint32_t)strtoul(uid_line + 5, NULL, 10);
	n = readlinkat(pid_fd, "exe", exe, sizeof(exe) - 1);
	if (n > 0) {
		exe[n] = '\0';
		info.exe = exe;
	}
	n = read_small_file(pid_fd, "cmdline", args, sizeof(args));
	if (n > 0) {
		info.args = args;
		info.args_size = (uint16_t)(n > AM_ARGS_LEN ? AM_ARGS_LEN : n);
		info.args_truncated = n >= AM_ARGS_LEN;
	}
	info.cgroup_id = cgroup_id_of(pid_fd, cgroup_root);
	close(pid_fd);
	return process_cache_put(cache, &info) ? 0 : -ENOMEM;
}

int process_snapshot_proc(struct process_cache *cache, const char *proc_dir,
			  const char *cgroup_root)
{
	struct dirent *dent;
	int added = 0;
	DIR *dir = opendir(proc_dir);

	if (!dir)
		return -errno;
	while ((dent = readdir(dir))) {
		char *end;
		unsigned long pid;

		if (!isdigit((unsigned char)dent->d_name[0]))
			continue;
		pid = strtoul(dent->d_name, &end, 10);
		if (*end || pid == 0 || pid > UINT32_MAX)
			continue;
		if (process_read_proc(cache, proc_dir, cgroup_root, (uint32_t)pid) == 0)
			added++;
	}
	closedir(dir);
	return added;
}
