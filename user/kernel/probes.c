// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* Kernel probe lifecycle on top of the libbpf skeleton; see probes.h. */
#include "kernel/probes_private.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <linux/membarrier.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "kernel/repeats.h"

/* Repeat entries moved per batch system call, at first; a fuller bucket grows it. */
#define REPEAT_BATCH 1024

/* Read-only views of the ring buffer's two position pages, for its fill level. */
static void map_ring_positions(struct probes *probes)
{
	int fd = bpf_map__fd(probes->skel->maps.events);
	void *consumer, *producer;

	probes->page_size = (size_t)sysconf(_SC_PAGESIZE);
	consumer = mmap(NULL, probes->page_size, PROT_READ, MAP_SHARED, fd, 0);
	producer = mmap(NULL, probes->page_size, PROT_READ, MAP_SHARED, fd,
			(off_t)probes->page_size);
	probes->ring_consumer = consumer == MAP_FAILED ? NULL : consumer;
	probes->ring_producer = producer == MAP_FAILED ? NULL : producer;
}

/*
 * Volume control: taking the kernel's repeat counts out without losing one.
 *
 * The probes only ever add to an entry's count. No count can be taken out of an
 * entry the probes may still reach: user space cannot subtract atomically, and
 * deleting an entry races with a probe that found it a moment before and adds to
 * it after (into a deleted element: lost). Nor can user space keep a "flushed so
 * far" per key and delete stale keys: the same race hits the delete, and a probe
 * may reopen a window in between. So there are two maps, and am_repeat_slot
 * (the skeleton's mapped .bss) says which one the probes use. Once a second:
 *
 *  1. The map retired at the previous call is read and emptied in one pass
 *     (lookup-and-delete batches). No probe can still be writing it: the cgroup
 *     hooks run their programs under rcu_read_lock(), and
 *     membarrier(MEMBARRIER_CMD_GLOBAL) returns only after synchronize_rcu(),
 *     that is after every probe that started before it, so every probe that read
 *     the old slot, has finished. Where membarrier cannot promise that (nohz_full,
 *     a seccomp profile without it, a single CPU, where it does not wait), the
 *     second since the flip is the margin: a probe runs for microseconds and
 *     never sleeps.
 *  2. The entries of the map in use whose window is open and whose epoch is still
 *     their cgroup's are copied into the emptied map with a count of zero, so the
 *     memory of first contacts carries over. The rest (windows ended, epochs moved
 *     on) stay behind and are deleted in step 1 next time: stale keys never
 *     pile up.
 *  3. The slot flips. The probes count into the copy; the map they used is
 *     retired with every count it got, to be read at the next call.
 *
 * Each count is read exactly once, in step 1 of the call after the one that
 * retired its map. A key first inserted between steps 2 and 3 is not in the
 * copy: its next contact is reported on its own once more. Every imprecision
 * here reports more, never less.
 */
static int repeats_open(struct probes *probes)
{
	size_t len = (size_t)AM_EPOCH_SLOTS * sizeof(uint64_t);
	void *epochs;
	long cmds;

	if (!probes->repeat_window_ns)
		return 0;
	epochs = mmap(NULL, len, PROT_READ, MAP_SHARED, bpf_map__fd(probes->skel->maps.cgroup_epochs),
		      0);
	if (epochs == MAP_FAILED)
		return -errno;
	probes->epochs = epochs;
	probes->epochs_len = len;
	probes->batch_cap = REPEAT_BATCH;
	probes->batch_keys = calloc(probes->batch_cap, sizeof(*probes->batch_keys));
	probes->batch_values = calloc(probes->batch_cap, sizeof(*probes->batch_values));
	if (!probes->batch_keys || !probes->batch_values)
		return -ENOMEM;
	cmds = syscall(__NR_membarrier, MEMBARRIER_CMD_QUERY, 0, 0);
	probes->membarrier = cmds > 0 && (cmds & MEMBARRIER_CMD_GLOBAL) &&
			     sysconf(_SC_NPROCESSORS_ONLN) > 1;
	return 0;
}

static int repeats_batch_grow(struct probes *probes)
{
	uint32_t cap = probes->batch_cap * 2;
	struct am_repeat_key *keys;
	struct am_repeat_value *values;

	if (cap > AM_REPEAT_MAX_ENTRIES)
		return -ENOSPC;
	keys = realloc(probes->batch_keys, cap * sizeof(*keys));
	if (!keys)
		return -ENOMEM;
	probes->batch_keys = keys;
	values = realloc(probes->batch_values, cap * sizeof(*values));
	if (!values)
		return -ENOMEM;
	probes->batch_values = values;
	probes->batch_cap = cap;
	return 0;
}

/* Until every probe that may have read the old slot is done (see above). */
static void repeats_quiesce(struct probes *probes, bool no_margin)
{
	if (probes->membarrier && syscall(__NR_membarrier, MEMBARRIER_CMD_GLOBAL, 0, 0) == 0)
		return;
	/* At exit there is no second to wait for: a probe's microseconds, many times over. */
	if (no_margin)
		usleep(20000);
}

/* Where a walk through a repeat map has got to, between batches. */
struct batch_cursor {
	uint64_t in, out;
	bool started;
};

/*
 * The next batch of a repeat map, into probes->batch_keys and batch_values
 * (*count entries), deleted as read when `take`. Returns 1 when more follow, 0
 * for the last batch, or -errno. A bucket larger than a batch grows the batch.
 */
static int repeats_next_batch(struct probes *probes, int fd, bool take,
			      struct batch_cursor *cursor, uint32_t *count)
{
	int rc;

	for (;;) {
		*count = probes->batch_cap;
		if (take)
			rc = bpf_map_lookup_and_delete_batch(fd, cursor->started ? &cursor->in : NULL,
							     &cursor->out, probes->batch_keys,
							     probes->batch_values, count, NULL);
		else
			rc = bpf_map_lookup_batch(fd, cursor->started ? &cursor->in : NULL,
						  &cursor->out, probes->batch_keys,
						  probes->batch_values, count, NULL);
		if (rc != -ENOSPC)
			break;
		rc = repeats_batch_grow(probes); /* nothing was taken */
		if (rc)
			return rc;
	}
	if (rc && rc != -ENOENT)
		return rc;
	cursor->in = cursor->out;
	cursor->started = true;
	return rc == -ENOENT ? 0 : 1;
}

/* Every entry of a map no probe writes any more, deleted as read; fn gets the counts. */
static int repeats_drain(struct probes *probes, struct bpf_map *map, probes_repeat_fn fn,
			 void *ctx)
{
	struct batch_cursor cursor = {0};
	uint32_t count, i;
	int more;

	do {
		more = repeats_next_batch(probes, bpf_map__fd(map), true, &cursor, &count);
		if (more < 0)
			return more;
		for (i = 0; i < count; i++)
			if (probes->batch_values[i].count)
				fn(ctx, &probes->batch_keys[i], &probes->batch_values[i]);
	} while (more);
	return 0;
}

/* Copies the entries that carry over from the map in use into the emptied one. */
static int repeats_carry_over(struct probes *probes, struct bpf_map *from, struct bpf_map *to,
			      uint64_t now_ns)
{
	struct batch_cursor cursor = {0};
	uint32_t count, kept, i;
	int more, rc;

	do {
		more = repeats_next_batch(probes, bpf_map__fd(from), false, &cursor, &count);
		if (more < 0)
			return more;
		for (i = 0, kept = 0; i < count; i++) {
			const struct am_repeat_key *key = &probes->batch_keys[i];
			uint64_t epoch = probes->epochs[key->cgroup_id & (AM_EPOCH_SLOTS - 1)];

			if (!repeats_carry(key, &probes->batch_values[i], now_ns,
					   probes->repeat_window_ns, epoch))
				continue;
			probes->batch_keys[kept] = *key;
			probes->batch_values[kept] = (struct am_repeat_value){
				.window_start_ns = probes->batch_values[i].window_start_ns,
			};
			kept++;
		}
		if (kept) {
			rc = bpf_map_update_batch(bpf_map__fd(to), probes->batch_keys,
						  probes->batch_values, &kept, NULL);
			if (rc)
				return rc;
		}
	} while (more);
	return 0;
}

int probes_repeats_flush(struct probes *probes, uint64_t now_ns, bool final, probes_repeat_fn fn,
			 void *ctx)
{
	struct bpf_map *maps[2] = {probes->skel->maps.connect_repeats_0,
				   probes->skel->maps.connect_repeats_1};
	uint32_t slot;
	int rc;

	if (!probes->repeat_window_ns)
		return 0;
	slot = __atomic_load_n(&probes->skel->bss->am_repeat_slot, __ATOMIC_ACQUIRE) & 1;
	if (probes->repeat_retired) {
		repeats_quiesce(probes, false);
		rc = repeats_drain(probes, maps[!slot], fn, ctx);
		if (rc)
			return rc; /* the retired map keeps its counts; the next call tries again */
		probes->repeat_retired = false;
	}
	if (!final) {
		rc = repeats_carry_over(probes, maps[slot], maps[!slot], now_ns);
		if (rc)
			return rc; /* not flipped: the probes go on counting where they do */
	}
	__atomic_store_n(&probes->skel->bss->am_repeat_slot, !slot, __ATOMIC_RELEASE);
	probes->repeat_retired = true;
	if (!final)
		return 0;
	repeats_quiesce(probes, true);
	rc = repeats_drain(probes, maps[slot], fn, ctx);
	if (!rc)
		probes->repeat_retired = false;
	return rc;
}

static int on_ringbuf_record(void *ctx, void *data, size_t size)
{
	struct probes *probes = ctx;

	probes->on_record(probes->on_record_ctx, data, size);
	return 0;
}

struct probes *probes_open(const struct probes_config *config, probes_record_fn on_record,
			   void *ctx, struct am_error *err)
{
	struct probes *probes;
	int rc;

	probes = calloc(1, sizeof(*probes));
	if (!probes) {
		am_error_set(err, "out of memory");
		return NULL;
	}
	probes->cgroup_fd = -1;
	probes->stats_fd = -1;
	probes->repeat_window_ns = config->repeat_window_ns;
	programs_set_verbose(config->verbose);
	rc = kernel_features_probe(&probes->features, err);
	if (rc)
		goto close;
	rc = programs_load(probes, config, err);
	/* The kernel's BTF is some megabytes: kept only while choosing what to load. */
	kernel_features_release(&probes->features);
	if (rc)
		goto close;
	rc = programs_attach(probes, config->cgroup_root, err);
	if (rc)
		goto close;

	probes->on_record = on_record;
	probes->on_record_ctx = ctx;
	probes->ringbuf = ring_buffer__new(bpf_map__fd(probes->skel->maps.events),
					   on_ringbuf_record, probes, NULL);
	if (!probes->ringbuf) {
		rc = -errno;
		am_error_set(err, "opening the ring buffer failed: %s", strerror(-rc));
		goto close;
	}
	map_ring_positions(probes);
	rc = repeats_open(probes);
	if (rc) {
		am_error_set(err, "preparing the repeat counts failed: %s", strerror(-rc));
		goto close;
	}
	/* Run counts and times of the programs, for /metrics; needs CAP_SYS_ADMIN. */
	if (config->bpf_stats)
		probes->stats_fd = bpf_enable_stats(BPF_STATS_RUN_TIME);
	probes->n_cpus = libbpf_num_possible_cpus();
	if (probes->n_cpus <= 0) {
		rc = probes->n_cpus ? probes->n_cpus : -EINVAL;
		am_error_set(err, "counting possible CPUs failed: %s", strerror(-rc));
		goto close;
	}
	probes->counter_values = calloc((size_t)probes->n_cpus, sizeof(uint64_t));
	if (!probes->counter_values) {
		rc = -ENOMEM;
		am_error_set(err, "out of memory");
		goto close;
	}
	return probes;

close:
	probes_close(probes);
	errno = -rc;
	return NULL;
}

void probes_close(struct probes *probes)
{
	if (!probes)
		return;
	ring_buffer__free(probes->ringbuf);
	if (probes->ring_consumer)
		munmap((void *)probes->ring_consumer, probes->page_size);
	if (probes->ring_producer)
		munmap((void *)probes->ring_producer, probes->page_size);
	if (probes->epochs)
		munmap((void *)probes->epochs, probes->epochs_len);
	free(probes->batch_keys);
	free(probes->batch_values);
	if (probes->stats_fd >= 0)
		close(probes->stats_fd);
	programs_detach(probes);
	kernel_features_release(&probes->features);
	free(probes->counter_values);
	free(probes);
}

size_t probes_losses(const struct probes *probes, const struct probes_loss **losses)
{
	*losses = probes->losses;
	return probes->n_losses;
}

void probes_counts(const struct probes *probes, size_t *attached, size_t *needed)
{
	*attached = probes->n_attached;
	*needed = probes->n_needed;
}

const struct kernel_features *probes_features(const struct probes *probes)
{
	return &probes->features;
}

int probes_map_access(struct probes *probes)
{
	uint32_t key = 0, value;
	int rc;

	rc = bpf_map__lookup_elem(probes->skel->maps.watch_state, &key, sizeof(key), &value,
				  sizeof(value), 0);
	if (rc)
		return rc;
	return bpf_map__update_elem(probes->skel->maps.watch_state, &key, sizeof(key), &value,
				    sizeof(value), BPF_EXIST);
}

static int watch_identity(struct bpf_map *map, uint32_t kdev, uint64_t inode, uint32_t watch_id,
			  uint32_t flags, bool add)
{
	struct am_file_key key = {.inode = inode, .dev = kdev};
	struct am_watch_value value = {.watch_id = watch_id, .flags = flags};
	int rc;

	if (add)
		rc = bpf_map__update_elem(map, &key, sizeof(key), &value, sizeof(value), BPF_ANY);
	else
		rc = bpf_map__delete_elem(map, &key, sizeof(key), 0);
	if (rc && !(rc == -ENOENT && !add))
		return rc;
	return 0;
}

int probes_watch_file(struct probes *probes, uint32_t kdev, uint64_t inode, uint32_t watch_id,
		      uint32_t flags, bool add)
{
	return watch_identity(probes->skel->maps.watched_files, kdev, inode, watch_id, flags, add);
}

/* What one directory adds to (add) or takes from its device's entry. */
static void dev_value_apply(struct am_dev_value *dev, uint32_t watch_id, uint32_t flags, bool add)
{
	int step = add ? 1 : -1;

	dev->dirs += step;
	if (flags & AM_WATCH_SUBTREE)
		dev->subtrees += step;
	if (flags & AM_WATCH_DEVICE) {
		dev->volume_id = add ? watch_id : 0;
		dev->volume_flags = add ? flags : 0;
	}
}

/*
 * A watched directory, and its device's entry (watched_dir_devs): the open
 * probes look at an unwatched file's parents only on a device that holds a
 * watched directory, deeply only where one is a subtree; a directory that is
 * its filesystem's root (AM_WATCH_DEVICE) makes the device itself the match.
 */
int probes_watch_dir(struct probes *probes, uint32_t kdev, uint64_t inode, uint32_t watch_id,
		     uint32_t flags, bool add)
{
	struct bpf_map *devs = probes->skel->maps.watched_dir_devs;
	struct am_file_key key = {.inode = inode, .dev = kdev};
	struct am_dev_value dev = {0};
	struct am_watch_value old;
	bool existed;
	int rc;

	existed = bpf_map__lookup_elem(probes->skel->maps.watched_dirs, &key, sizeof(key), &old,
				       sizeof(old), 0) == 0;
	/* The device's entry goes first on add and last on remove: the walk needs it. */
	bpf_map__lookup_elem(devs, &kdev, sizeof(kdev), &dev, sizeof(dev), 0);
	if (existed)
		dev_value_apply(&dev, old.watch_id, old.flags, false);
	if (add)
		dev_value_apply(&dev, watch_id, flags, true);
	if (add || dev.dirs) {
		rc = bpf_map__update_elem(devs, &kdev, sizeof(kdev), &dev, sizeof(dev), BPF_ANY);
		if (rc)
			return rc;
	}
	rc = watch_identity(probes->skel->maps.watched_dirs, kdev, inode, watch_id, flags, add);
	if (rc || add || dev.dirs)
		return rc;
	rc = bpf_map__delete_elem(devs, &kdev, sizeof(kdev), 0);
	return rc == -ENOENT ? 0 : rc;
}

void probes_dirs_listed(struct probes *probes, uint64_t realtime_s)
{
	__atomic_store_n(&probes->skel->bss->am_dirs_listed_s, realtime_s, __ATOMIC_RELEASE);
}

int probes_watch_path(struct probes *probes, const char *path, uint32_t watch_id, bool add)
{
	struct am_watch_value value = {.watch_id = watch_id};
	struct am_path_key key;
	int rc;

	if (strlen(path) >= sizeof(key.path))
		return -ENAMETOOLONG;
	memset(&key, 0, sizeof(key));
	strcpy(key.path, path);
	if (add)
		rc = bpf_map__update_elem(probes->skel->maps.watched_paths, &key, sizeof(key),
					  &value, sizeof(value), BPF_ANY);
	else
		rc = bpf_map__delete_elem(probes->skel->maps.watched_paths, &key, sizeof(key), 0);
	if (rc && !(rc == -ENOENT && !add))
		return rc;
	return 0;
}

int probes_watch_state(struct probes *probes, bool dirs, bool paths)
{
	uint32_t key, value;
	int rc;

	key = 0;
	value = dirs;
	rc = bpf_map__update_elem(probes->skel->maps.watch_state, &key, sizeof(key), &value,
				  sizeof(value), BPF_ANY);
	if (rc)
		return rc;
	key = 1;
	value = paths;
	return bpf_map__update_elem(probes->skel->maps.watch_state, &key, sizeof(key), &value,
				    sizeof(value), BPF_ANY);
}

int probes_poll(struct probes *probes, int timeout_ms)
{
	int rc, more;

	/*
	 * Records the probes submitted without a wakeup (record_submit) are read at
	 * the next one or here, at most PROBES_WAKEUP_MS after the last records read:
	 * a poll that times out reads what is there all the same.
	 */
	if (probes->busy && timeout_ms > PROBES_WAKEUP_MS)
		timeout_ms = PROBES_WAKEUP_MS;
	rc = ring_buffer__poll(probes->ringbuf, timeout_ms);
	if (rc == -EINTR)
		rc = 0;
	if (rc < 0)
		return rc;
	more = ring_buffer__consume(probes->ringbuf);
	if (more < 0)
		return more == -EINTR ? rc : more;
	probes->busy = rc + more > 0;
	return rc + more;
}

int probes_drain(struct probes *probes)
{
	return ring_buffer__consume(probes->ringbuf);
}

int probes_counters(struct probes *probes, uint64_t totals[AM_CNT_MAX])
{
	uint32_t key;
	int cpu;

	for (key = 0; key < AM_CNT_MAX; key++) {
		totals[key] = 0;
		if (bpf_map__lookup_elem(probes->skel->maps.counters, &key, sizeof(key),
					 probes->counter_values,
					 sizeof(uint64_t) * (size_t)probes->n_cpus, 0))
			return -errno;
		for (cpu = 0; cpu < probes->n_cpus; cpu++)
			totals[key] += probes->counter_values[cpu];
	}
	return 0;
}

enum open_hook probes_open_hook(const struct probes *probes)
{
	return probes->open_hook;
}

int64_t probes_ring_used(const struct probes *probes)
{
	if (!probes->ring_consumer || !probes->ring_producer)
		return -1;
	return (int64_t)(__atomic_load_n(probes->ring_producer, __ATOMIC_ACQUIRE) -
			 __atomic_load_n(probes->ring_consumer, __ATOMIC_ACQUIRE));
}

bool probes_stats_enabled(const struct probes *probes)
{
	char value = '0';
	int fd;

	if (probes->stats_fd >= 0)
		return true;
	fd = open("/proc/sys/kernel/bpf_stats_enabled", O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		if (read(fd, &value, 1) != 1)
			value = '0';
		close(fd);
	}
	return value == '1';
}

/*
 * A program's run count and time, from its descriptor's /proc entry: no bpf(2)
 * call, so it needs no capability the monitor may have dropped (Linux 5.1 on).
 */
static int program_fdinfo(int fd, uint64_t *run_count, uint64_t *run_time_ns)
{
	char path[64], line[256];
	unsigned long long value;
	FILE *file;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	file = fopen(path, "re");
	if (!file)
		return -errno;
	*run_count = *run_time_ns = 0;
	while (fgets(line, sizeof(line), file)) {
		if (sscanf(line, "run_time_ns: %llu", &value) == 1)
			*run_time_ns = value;
		else if (sscanf(line, "run_cnt: %llu", &value) == 1)
			*run_count = value;
	}
	fclose(file);
	return 0;
}

int probes_program_stats(const struct probes *probes, probes_program_fn fn, void *ctx)
{
	struct bpf_program *prog;

	bpf_object__for_each_program(prog, probes->skel->obj)
	{
		uint64_t run_count, run_time_ns;
		int fd = bpf_program__fd(prog), rc;

		if (fd < 0)
			continue; /* not loaded on this kernel */
		rc = program_fdinfo(fd, &run_count, &run_time_ns);
		if (rc)
			return rc;
		fn(ctx, bpf_program__name(prog), run_count, run_time_ns);
	}
	return 0;
}
