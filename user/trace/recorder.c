// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* Trace recording with a writer thread and rotation; see recorder.h. */
#include "trace/recorder.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "lib/jsonw.h"
#include "trace/redact.h"
#include "trace/state.h"
#include "trace/trace.h"

#define BLOCK_FLUSH_BYTES (256u << 10)
#define BLOCK_FLUSH_NS (1000ull * 1000000ull)
#define QUEUE_MAX 64

struct item {
	uint8_t *data; /* an encoded block, or NULL: rotate to a new file */
	size_t len;
	uint32_t entries; /* records and states, not counting a loss mark */
	uint64_t marked;  /* losses the block's recorder-loss entry says, if it has one */
};

struct recorder {
	struct recorder_config config;
	char *path;
	uint8_t *header;
	size_t header_len;
	struct trace_block block;
	struct redactor *redactor; /* what a record must not take to disk */
	uint64_t block_started_ns;
	uint64_t bytes_in_file; /* as the main thread counts them */
	/* shared with the writer thread */
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t wake;
	struct item queue[QUEUE_MAX];
	size_t head, count;
	bool stop;
	int fd;
	uint64_t lost;	      /* entries dropped */
	uint64_t lost_marked; /* of which the trace says so already */
	char lost_reason[128]; /* why the last ones were lost */
	char error[AM_ERROR_LEN + 128];
	bool error_new;
	bool failing;	/* the last write failed: said once, until one works again */
	off_t good_end; /* the file's length up to its last whole block */
	/* main thread only */
	uint64_t block_marked;	     /* losses the block being built marks */
	uint32_t block_mark_entries; /* its recorder-loss entries */
	bool in_snapshot;	     /* a file's opening snapshot is being written */
	uint64_t opening_bytes;	     /* header and snapshot of the current file */
};

static int open_file(const char *path, struct am_error *err)
{
	/* 0600, never through a symlink someone planted, never over an existing file. */
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);

	if (fd < 0)
		am_error_set(err, "--record %s: %s%s", path, strerror(errno),
			     errno == EEXIST ? " (choose another name or move it away)" : "");
	return fd;
}

/*
 * Entries that will not reach the file, with the loss marks that went with
 * them (the next block marks those again), and why. The lock is held.
 */
static void lose(struct recorder *r, uint64_t entries, uint64_t marked, const char *why)
{
	r->lost += entries;
	r->lost_marked -= marked;
	snprintf(r->lost_reason, sizeof(r->lost_reason), "%s", why);
}

static bool write_all(int fd, const uint8_t *data, size_t len)
{
	while (len) {
		ssize_t n = write(fd, data, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return false;
		data += n;
		len -= (size_t)n;
	}
	return true;
}

/* path -> path.1 -> ... -> path.<keep>; the oldest goes. */
static int rotate(struct recorder *r)
{
	char from[4096], to[4096];
	struct am_error err;
	unsigned int i;

	close(r->fd);
	r->fd = -1;
	for (i = r->config.keep; i > 0; i--) {
		snprintf(from, sizeof(from), i == 1 ? "%s" : "%s.%u", r->path, i - 1);
		snprintf(to, sizeof(to), "%s.%u", r->path, i);
		rename(from, to);
	}
	if (r->config.keep == 0)
		unlink(r->path);
	r->fd = open_file(r->path, &err);
	if (r->fd < 0) {
		snprintf(r->error, sizeof(r->error), "%s", err.msg);
		r->error_new = true;
		return -1;
	}
	if (!write_all(r->fd, r->header, r->header_len)) {
		/* Blocks after half a header would not read: none go to this file. */
		close(r->fd);
		r->fd = -1;
		return -1;
	}
	r->good_end = (off_t)r->header_len;
	return 0;
}

/*
 * After a failed write, writing resumes once the file system has room for this
 * block and a full one more: cutting off a torn block frees a little, and small
 * blocks fitting into it would only make the trace alternate between gaps.
 */
static bool room_to_resume(int fd, size_t len)
{
	struct statvfs st;

	if (fstatvfs(fd, &st) != 0)
		return true; /* let the write itself say what is wrong */
	return (uint64_t)st.f_bavail * st.f_frsize >= len + BLOCK_FLUSH_BYTES;
}

/*
 * One block to the file. A write that fails part way leaves the file cut inside
 * a block, where replay says the trace stops; the next write first cuts that torn
 * block off, so that blocks written once the disk has room again never follow
 * half a block (replay would skip them with it). A block that is not written
 * takes its loss mark with it: the next block marks those losses again.
 */
static void write_block(struct recorder *r, const struct item *item)
{
	bool written = false;
	int saved = 0;

	if (r->fd < 0)
		saved = EBADF;
	else if (r->failing && !room_to_resume(r->fd, item->len))
		saved = ENOSPC;
	else if (r->failing && (ftruncate(r->fd, r->good_end) != 0 ||
				lseek(r->fd, r->good_end, SEEK_SET) != r->good_end))
		saved = errno;
	else if (write_all(r->fd, item->data, item->len))
		written = true;
	else
		saved = errno ? errno : EIO;
	pthread_mutex_lock(&r->lock);
	if (written) {
		r->good_end += (off_t)item->len;
		if (r->failing)
			snprintf(r->error, sizeof(r->error),
				 "recording to %s works again; %llu entries lost in all", r->path,
				 (unsigned long long)r->lost);
		r->error_new = r->error_new || r->failing;
		r->failing = false;
	} else {
		char why[96];

		snprintf(why, sizeof(why), "write failed: %s",
			 r->fd < 0 ? "no file open" : strerror(saved));
		lose(r, item->entries, item->marked, why);
		/* Said once when writing stops, and once when it works again. */
		if (!r->failing) {
			snprintf(r->error, sizeof(r->error),
				 "recording to %s failed: %s; entries are counted as lost until a "
				 "write works again",
				 r->path, r->fd < 0 ? "no file open" : strerror(saved));
			r->error_new = true;
		}
		r->failing = true;
	}
	pthread_mutex_unlock(&r->lock);
}

static void *writer(void *arg)
{
	struct recorder *r = arg;

	pthread_mutex_lock(&r->lock);
	for (;;) {
		struct item item;

		while (!r->count && !r->stop)
			pthread_cond_wait(&r->wake, &r->lock);
		if (!r->count && r->stop)
			break;
		item = r->queue[r->head];
		r->head = (r->head + 1) % QUEUE_MAX;
		r->count--;
		pthread_mutex_unlock(&r->lock);
		if (!item.data)
			rotate(r);
		else
			write_block(r, &item);
		free(item.data);
		pthread_mutex_lock(&r->lock);
	}
	pthread_mutex_unlock(&r->lock);
	return NULL;
}

/* Hands an item to the writer; a full queue drops it, counted. */
static void enqueue(struct recorder *r, uint8_t *data, size_t len, uint32_t entries,
		    uint64_t marked)
{
	pthread_mutex_lock(&r->lock);
	if (r->count == QUEUE_MAX) {
		lose(r, entries, marked,
		     "the disk is slower than the events: the writer's queue was full");
		pthread_mutex_unlock(&r->lock);
		free(data);
		return;
	}
	r->queue[(r->head + r->count) % QUEUE_MAX] = (struct item){data, len, entries, marked};
	r->count++;
	pthread_cond_signal(&r->wake);
	pthread_mutex_unlock(&r->lock);
}

static void flush(struct recorder *r)
{
	uint32_t entries;
	uint8_t *data;
	size_t len;

	if (!r->block.entries)
		return;
	entries = r->block.entries - r->block_mark_entries;
	if (trace_block_encode(&r->block, &data, &len) == 0) {
		r->bytes_in_file += len;
		enqueue(r, data, len, entries, r->block_marked);
	} else {
		pthread_mutex_lock(&r->lock);
		lose(r, entries, r->block_marked, "out of memory");
		pthread_mutex_unlock(&r->lock);
	}
	r->block_marked = 0;
	r->block_mark_entries = 0;
	trace_block_reset(&r->block);
}

static void mark_losses(struct recorder *r)
{
	struct jsonw w;
	uint64_t lost;

	pthread_mutex_lock(&r->lock);
	lost = r->lost - r->lost_marked;
	r->lost_marked = r->lost;
	pthread_mutex_unlock(&r->lock);
	if (!lost)
		return;
	jsonw_init(&w);
	state_write_recorder_loss(&w, lost);
	trace_block_add(&r->block, TRACE_ENTRY_STATE, w.buf, (uint32_t)w.len, 0);
	r->block_marked += lost;
	r->block_mark_entries++;
	jsonw_release(&w);
}

static void add(struct recorder *r, uint16_t kind, const void *data, uint32_t len, uint64_t time_ns)
{
	if (!r->block.entries) {
		r->block_started_ns = time_ns;
		mark_losses(r);
	}
	trace_block_add(&r->block, kind, data, len, time_ns);
	if (r->block.len >= BLOCK_FLUSH_BYTES)
		flush(r);
	/*
	 * Never inside a snapshot, and never before a file holds as many bytes of
	 * records as of snapshot: on a node whose state outgrows max_size, each file
	 * would otherwise hold a snapshot and next to nothing, rotating at every record.
	 */
	if (r->config.max_size && !r->in_snapshot && r->bytes_in_file >= r->config.max_size &&
	    r->bytes_in_file >= 2 * r->opening_bytes) {
		flush(r);
		enqueue(r, NULL, 0, 0, 0);
		r->bytes_in_file = r->header_len;
		r->in_snapshot = true;
		if (r->config.snapshot)
			r->config.snapshot(r->config.snapshot_ctx, r);
		r->in_snapshot = false;
		flush(r);
		r->opening_bytes = r->bytes_in_file;
	}
}

struct recorder *recorder_open(const struct recorder_config *config, struct am_error *err)
{
	struct recorder *r = calloc(1, sizeof(*r));

	if (!r) {
		am_error_set(err, "out of memory");
		return NULL;
	}
	r->config = *config;
	r->path = strdup(config->path);
	r->redactor = redactor_new();
	if (!r->path || !r->redactor) {
		am_error_set(err, "out of memory");
		redactor_free(r->redactor);
		free(r->path);
		free(r);
		return NULL;
	}
	trace_block_init(&r->block);
	pthread_mutex_init(&r->lock, NULL);
	pthread_cond_init(&r->wake, NULL);
	r->fd = open_file(config->path, err);
	if (r->fd < 0 || trace_header_encode(config->header_json, &r->header, &r->header_len) ||
	    !write_all(r->fd, r->header, r->header_len)) {
		if (r->fd >= 0) {
			am_error_set(err, "--record %s: %s", config->path, strerror(errno));
			close(r->fd);
		}
		free(r->header);
		free(r->path);
		redactor_free(r->redactor);
		free(r);
		return NULL;
	}
	r->bytes_in_file = r->header_len;
	r->good_end = (off_t)r->header_len;
	if (pthread_create(&r->thread, NULL, writer, r) != 0) {
		am_error_set(err, "--record: starting the writer failed");
		close(r->fd);
		free(r->header);
		free(r->path);
		redactor_free(r->redactor);
		free(r);
		return NULL;
	}
	r->in_snapshot = true;
	if (config->snapshot)
		config->snapshot(config->snapshot_ctx, r);
	r->in_snapshot = false;
	flush(r);
	r->opening_bytes = r->bytes_in_file;
	return r;
}

void recorder_record(struct recorder *r, const void *data, uint32_t len, uint64_t time_ns)
{
	const void *clean = redactor_clean(r->redactor, data, len);

	if (!clean) {
		pthread_mutex_lock(&r->lock);
		lose(r, 1, 0, "out of memory");
		pthread_mutex_unlock(&r->lock);
		return;
	}
	add(r, TRACE_ENTRY_RECORD, clean, len, time_ns);
}

void recorder_state(struct recorder *r, const char *json, size_t len, uint64_t time_ns)
{
	add(r, TRACE_ENTRY_STATE, json, (uint32_t)len, time_ns);
}

void recorder_tick(struct recorder *r, uint64_t now_ns)
{
	if (r->block.entries && now_ns - r->block_started_ns >= BLOCK_FLUSH_NS)
		flush(r);
}

uint64_t recorder_lost(struct recorder *r, char *reason, size_t reason_len)
{
	uint64_t lost;

	pthread_mutex_lock(&r->lock);
	lost = r->lost;
	if (reason)
		snprintf(reason, reason_len, "%s", r->lost_reason);
	pthread_mutex_unlock(&r->lock);
	return lost;
}

const char *recorder_error(struct recorder *r)
{
	const char *message = "";

	pthread_mutex_lock(&r->lock);
	if (r->error_new) {
		r->error_new = false;
		message = r->error;
	}
	pthread_mutex_unlock(&r->lock);
	return message;
}

void recorder_close(struct recorder *r)
{
	if (!r)
		return;
	mark_losses(r);
	flush(r);
	pthread_mutex_lock(&r->lock);
	r->stop = true;
	pthread_cond_signal(&r->wake);
	pthread_mutex_unlock(&r->lock);
	pthread_join(r->thread, NULL);
	if (r->fd >= 0)
		close(r->fd);
	trace_block_release(&r->block);
	pthread_mutex_destroy(&r->lock);
	pthread_cond_destroy(&r->wake);
	free(r->header);
	free(r->path);
	redactor_free(r->redactor);
	free(r);
}
