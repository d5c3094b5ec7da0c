/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * Inside the sinks: what the set (sinks.c), the queue (queue.c), the worker
 * threads (workers.c) and the kinds of sink (sink_*.c) share. Each kind is a
 * struct sink_ops; the set picks one by the spec's kind, and the workers call
 * nothing else of it.
 */
#ifndef ACCESSMON_SINKS_SINK_PRIVATE_H
#define ACCESSMON_SINKS_SINK_PRIVATE_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <curl/curl.h>

#include "event/line.h"
#include "lib/error.h"
#include "sinks/sink_spec.h"

#define CHUNK_MAX_LINES 1024

struct line_entry {
	uint32_t offset;
	uint32_t len; /* without the '\n' */
	struct line_meta meta;
};

/* A batch the event loop filled: lines, each followed by '\n', shared by every sink. */
struct chunk {
	atomic_int refs;
	size_t used, cap;
	size_t n_lines;
	char *data;
	struct line_entry lines[CHUNK_MAX_LINES];
};

struct queued {
	struct chunk *chunk;
	struct queued *next;
};

enum post_result { POST_OK, POST_RETRY, POST_REJECTED };

struct sink;

/*
 * One kind of sink. A stream kind (write) is handed the queued lines in order
 * and says how many went out; a batch kind (post) is handed sink->body, the
 * lines the worker gathered up to the spec's batch limits.
 */
struct sink_ops {
	/* What a failed write was doing, for the reason it gives ("writing"). */
	const char *doing;
	/* Before the thread starts; 0, or -errno with err saying why. NULL: nothing. */
	int (*open)(struct sink *sink, struct am_error *err);
	/* Lines [first, first + n) of chunk; the number delivered, or -errno. */
	ssize_t (*write)(struct sink *sink, const struct chunk *chunk, size_t first, size_t n);
	/* sink->body, sink->body_len bytes holding sink->body_lines lines. */
	enum post_result (*post)(struct sink *sink);
	/* Releases what open and the writes took; NULL: nothing. */
	void (*close)(struct sink *sink);
};

extern const struct sink_ops sink_stdout_ops;
extern const struct sink_ops sink_file_ops;
extern const struct sink_ops sink_syslog_ops;
extern const struct sink_ops sink_webhook_ops;

struct sink {
	struct sink_spec spec;
	const struct sink_ops *ops;
	const char *host;
	pthread_t thread;
	bool started;
	pthread_mutex_t lock;
	pthread_cond_t wake;
	/* under lock */
	struct queued *head, *tail;
	size_t head_line; /* the consumer's place in head's chunk */
	uint64_t queued_bytes, queued_lines;
	bool stopping;
	uint64_t drain_deadline_ns;
	char reason[160]; /* why lines are waiting or were dropped */
	uint64_t drops_reported;
	uint64_t drops_reported_ns; /* when, by the caller's clock */
	/* read by any thread */
	atomic_uint_fast64_t written, dropped, failures;
	atomic_bool up;
	/* the worker's own */
	int fd;
	uint64_t file_size;
	CURL *curl;
	char *body;
	size_t body_len, body_lines;
	char *token;
};

/* queue.c */
/* A chunk of at least cap bytes, holding one reference; NULL when out of memory. */
struct chunk *chunk_new(size_t cap);
/* Gives back a reference (NULL: none); the last one frees the chunk. */
void chunk_put(struct chunk *chunk);
/* Takes a reference to chunk, or drops its lines, counted, when the queue is full. */
void sink_enqueue(struct sink *sink, struct chunk *chunk);
/* Under lock: the head chunk's lines [head_line, head_line + n) are delivered. */
void sink_advance(struct sink *sink, size_t n);
/* Under lock: waits until a line is queued, the deadline (0: none) or stop. */
void sink_wait(struct sink *sink, uint64_t deadline_ns);
/* Why lines are waiting or were dropped; under lock. */
void sink_set_reason(struct sink *sink, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* workers.c: the thread of one sink. */
void *sink_thread(void *arg);

#endif /* ACCESSMON_SINKS_SINK_PRIVATE_H */
