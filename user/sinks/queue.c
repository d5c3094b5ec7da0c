// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * A sink's bounded queue: the event loop's chunks, shared by reference, waiting
 * for the sink's thread; see sink_private.h.
 */
#include "sinks/sink_private.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define CHUNK_MIN_BYTES (64u << 10)

void chunk_put(struct chunk *chunk)
{
	if (chunk && atomic_fetch_sub(&chunk->refs, 1) == 1) {
		free(chunk->data);
		free(chunk);
	}
}

struct chunk *chunk_new(size_t cap)
{
	struct chunk *chunk = malloc(sizeof(*chunk));

	if (!chunk)
		return NULL;
	chunk->cap = cap < CHUNK_MIN_BYTES ? CHUNK_MIN_BYTES : cap;
	chunk->data = malloc(chunk->cap);
	if (!chunk->data) {
		free(chunk);
		return NULL;
	}
	atomic_init(&chunk->refs, 1);
	chunk->used = 0;
	chunk->n_lines = 0;
	return chunk;
}

void sink_set_reason(struct sink *sink, const char *fmt, ...)
{
	va_list args;

	va_start(args, fmt);
	vsnprintf(sink->reason, sizeof(sink->reason), fmt, args);
	va_end(args);
}

void sink_enqueue(struct sink *sink, struct chunk *chunk)
{
	struct queued *node;

	pthread_mutex_lock(&sink->lock);
	if (sink->queued_bytes + chunk->used > sink->spec.queue_bytes ||
	    !(node = malloc(sizeof(*node)))) {
		atomic_fetch_add(&sink->dropped, chunk->n_lines);
		pthread_mutex_unlock(&sink->lock);
		return;
	}
	atomic_fetch_add(&chunk->refs, 1);
	node->chunk = chunk;
	node->next = NULL;
	if (sink->tail)
		sink->tail->next = node;
	else
		sink->head = node;
	sink->tail = node;
	sink->queued_bytes += chunk->used;
	sink->queued_lines += chunk->n_lines;
	pthread_cond_signal(&sink->wake);
	pthread_mutex_unlock(&sink->lock);
}

void sink_advance(struct sink *sink, size_t n)
{
	struct queued *node = sink->head;
	struct chunk *chunk = node->chunk;

	sink->head_line += n;
	sink->queued_lines -= n;
	if (sink->head_line < chunk->n_lines)
		return;
	sink->queued_bytes -= chunk->used;
	sink->head = node->next;
	if (!sink->head)
		sink->tail = NULL;
	sink->head_line = 0;
	free(node);
	chunk_put(chunk);
}

void sink_wait(struct sink *sink, uint64_t deadline_ns)
{
	struct timespec ts;

	if (sink->head || sink->stopping)
		return;
	if (!deadline_ns) {
		pthread_cond_wait(&sink->wake, &sink->lock);
		return;
	}
	ts.tv_sec = (time_t)(deadline_ns / 1000000000ull);
	ts.tv_nsec = (long)(deadline_ns % 1000000000ull);
	pthread_cond_timedwait(&sink->wake, &sink->lock, &ts);
}
