// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * A sink's thread: takes lines off its queue and hands them to its kind, in
 * order, retrying with back-off; a stream kind line by line, a batch kind in
 * bodies gathered up to the batch limits or the flush interval.
 */
#include "sinks/sink_private.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/clock.h"

/* Between failed attempts: 250 ms doubling to 30 s; false once the sink must stop. */
static bool sink_backoff(struct sink *sink, unsigned int *delay_ms)
{
	uint64_t until = monotonic_ns() + (uint64_t)*delay_ms * 1000000ull;
	bool go_on = true;
	struct timespec ts;

	pthread_mutex_lock(&sink->lock);
	if (sink->stopping && until > sink->drain_deadline_ns)
		until = sink->drain_deadline_ns;
	ts.tv_sec = (time_t)(until / 1000000000ull);
	ts.tv_nsec = (long)(until % 1000000000ull);
	while (monotonic_ns() < until) {
		if (pthread_cond_timedwait(&sink->wake, &sink->lock, &ts) == ETIMEDOUT)
			break;
		if (sink->stopping && sink->drain_deadline_ns < until)
			break;
	}
	if (sink->stopping && monotonic_ns() >= sink->drain_deadline_ns)
		go_on = false;
	pthread_mutex_unlock(&sink->lock);
	*delay_ms = *delay_ms * 2 > SINK_RETRY_MAX_MS ? SINK_RETRY_MAX_MS : *delay_ms * 2;
	return go_on;
}

static void sink_failed(struct sink *sink, int rc, const char *what)
{
	atomic_fetch_add(&sink->failures, 1);
	atomic_store(&sink->up, false);
	pthread_mutex_lock(&sink->lock);
	if (rc)
		sink_set_reason(sink, "%s: %s", what, strerror(-rc));
	pthread_mutex_unlock(&sink->lock);
}

/* Lines still queued when a stopping sink runs out of time are dropped, counted. */
static void sink_drop_queued(struct sink *sink)
{
	pthread_mutex_lock(&sink->lock);
	atomic_fetch_add(&sink->dropped, sink->queued_lines + sink->body_lines);
	sink->body_lines = 0;
	sink->body_len = 0;
	while (sink->head)
		sink_advance(sink, sink->head->chunk->n_lines - sink->head_line);
	sink_set_reason(sink, "stopped with lines undelivered");
	pthread_mutex_unlock(&sink->lock);
}

/* stdout, file and syslog: lines go out in queue order, a failed one is retried. */
static void run_stream_sink(struct sink *sink)
{
	unsigned int delay_ms = SINK_RETRY_FIRST_MS;

	for (;;) {
		struct chunk *chunk;
		size_t first, n;
		ssize_t done;

		pthread_mutex_lock(&sink->lock);
		while (!sink->head && !sink->stopping)
			sink_wait(sink, 0);
		if (!sink->head) {
			pthread_mutex_unlock(&sink->lock);
			return;
		}
		chunk = sink->head->chunk;
		first = sink->head_line;
		n = chunk->n_lines - first;
		pthread_mutex_unlock(&sink->lock);

		done = sink->ops->write(sink, chunk, first, n);
		if (done > 0) {
			pthread_mutex_lock(&sink->lock);
			sink_advance(sink, (size_t)done);
			pthread_mutex_unlock(&sink->lock);
			atomic_fetch_add(&sink->written, (uint64_t)done);
			atomic_store(&sink->up, true);
			delay_ms = SINK_RETRY_FIRST_MS;
			continue;
		}
		sink_failed(sink, (int)done, sink->ops->doing);
		if (!sink_backoff(sink, &delay_ms)) {
			sink_drop_queued(sink);
			return;
		}
	}
}

/* Moves queued lines into the POST body up to the batch limits; under lock. */
static void batch_fill(struct sink *sink)
{
	while (sink->head && sink->body_lines < sink->spec.batch_lines) {
		const struct chunk *chunk = sink->head->chunk;
		const struct line_entry *entry = &chunk->lines[sink->head_line];

		if (sink->body_len && sink->body_len + entry->len + 1 > sink->spec.batch_bytes)
			break;
		if (sink->body_len + entry->len + 1 > sink->spec.batch_bytes) {
			/* One line over the batch size goes alone. */
			char *grown = realloc(sink->body, entry->len + 1);

			if (!grown)
				break;
			sink->body = grown;
		}
		memcpy(sink->body + sink->body_len, chunk->data + entry->offset, entry->len + 1);
		sink->body_len += entry->len + 1;
		sink->body_lines++;
		sink_advance(sink, 1);
	}
}

/* Batch kinds (webhook): lines go out in bodies, a failed one is retried whole. */
static void run_batch_sink(struct sink *sink)
{
	unsigned int delay_ms = SINK_RETRY_FIRST_MS;
	uint64_t batch_started_ns = 0;

	for (;;) {
		bool full, due;
		enum post_result result;

		pthread_mutex_lock(&sink->lock);
		if (!sink->body_lines) {
			while (!sink->head && !sink->stopping)
				sink_wait(sink, 0);
			if (!sink->head) {
				pthread_mutex_unlock(&sink->lock);
				return;
			}
			batch_started_ns = monotonic_ns();
		}
		batch_fill(sink);
		full = sink->body_lines >= sink->spec.batch_lines ||
		       (sink->head && sink->body_len) || sink->stopping;
		due = monotonic_ns() >= batch_started_ns + (uint64_t)sink->spec.flush_ms * 1000000ull;
		if (!full && !due) {
			sink_wait(sink, batch_started_ns + (uint64_t)sink->spec.flush_ms * 1000000ull);
			pthread_mutex_unlock(&sink->lock);
			continue;
		}
		pthread_mutex_unlock(&sink->lock);

		result = sink->ops->post(sink);
		if (result == POST_RETRY) {
			atomic_fetch_add(&sink->failures, 1);
			atomic_store(&sink->up, false);
			if (!sink_backoff(sink, &delay_ms)) {
				sink_drop_queued(sink);
				return;
			}
			continue;
		}
		pthread_mutex_lock(&sink->lock);
		if (result == POST_OK) {
			atomic_fetch_add(&sink->written, sink->body_lines);
			atomic_store(&sink->up, true);
		} else {
			/* The receiver refused this batch for good: dropped, and said why. */
			atomic_fetch_add(&sink->dropped, sink->body_lines);
			atomic_fetch_add(&sink->failures, 1);
		}
		sink->body_lines = 0;
		sink->body_len = 0;
		pthread_mutex_unlock(&sink->lock);
		delay_ms = SINK_RETRY_FIRST_MS;
	}
}

void *sink_thread(void *arg)
{
	struct sink *sink = arg;

	if (sink->ops->post)
		run_batch_sink(sink);
	else
		run_stream_sink(sink);
	return NULL;
}
