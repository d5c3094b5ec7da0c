// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * The set of sinks: started, reconfigured and stopped together, fed one shared
 * batch; each sink's kind is a struct sink_ops (sink_private.h). See sinks.h.
 */
#include "sinks/sinks.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/clock.h"
#include "sinks/sink_private.h"

#define SYSLOG_HOST_MAX 255
#define STOP_GRACE_MS 2000

struct sinks {
	struct sink **sinks;
	size_t n;
	char host[SYSLOG_HOST_MAX + 1];
	struct chunk *batch;
};

/* By enum sink_kind: a new kind of sink is a sink_<kind>.c and a line here. */
static const struct sink_ops *const sink_kinds[] = {
	[SINK_STDOUT] = &sink_stdout_ops,
	[SINK_FILE] = &sink_file_ops,
	[SINK_SYSLOG] = &sink_syslog_ops,
	[SINK_WEBHOOK] = &sink_webhook_ops,
};

static void sink_free(struct sink *sink)
{
	if (!sink)
		return;
	if (sink->ops->close)
		sink->ops->close(sink);
	while (sink->head)
		sink_advance(sink, sink->head->chunk->n_lines - sink->head_line);
	pthread_mutex_destroy(&sink->lock);
	pthread_cond_destroy(&sink->wake);
	sink_spec_release(&sink->spec);
	free(sink);
}

static struct sink *sink_start(const struct sink_spec *spec, const char *host,
			       struct am_error *err)
{
	struct sink *sink = calloc(1, sizeof(*sink));
	pthread_condattr_t attr;

	if (!sink || sink_spec_copy(&sink->spec, spec)) {
		free(sink);
		am_error_set(err, "out of memory");
		return NULL;
	}
	sink->ops = sink_kinds[spec->kind];
	sink->host = host;
	sink->fd = -1;
	atomic_init(&sink->written, 0);
	atomic_init(&sink->dropped, 0);
	atomic_init(&sink->failures, 0);
	atomic_init(&sink->up, true);
	pthread_mutex_init(&sink->lock, NULL);
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&sink->wake, &attr);
	pthread_condattr_destroy(&attr);
	if (sink->ops->open && sink->ops->open(sink, err))
		goto fail;
	if (pthread_create(&sink->thread, NULL, sink_thread, sink)) {
		am_error_set(err, "sink %s: cannot start its thread", spec->name);
		goto fail;
	}
	sink->started = true;
	return sink;
fail:
	sink_free(sink);
	return NULL;
}

/* A thread blocked in write() or send() cannot be woken; wait for it this long. */
static bool sink_join(struct sink *sink, unsigned int wait_ms)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += (time_t)(wait_ms / 1000);
	ts.tv_nsec += (long)(wait_ms % 1000) * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	return pthread_timedjoin_np(sink->thread, NULL, &ts) == 0;
}

/* Asks a sink to finish what is queued by the deadline, and waits for it. */
static uint64_t sink_stop(struct sink *sink, unsigned int drain_ms)
{
	uint64_t lost;

	if (!sink)
		return 0;
	if (sink->started) {
		pthread_mutex_lock(&sink->lock);
		sink->stopping = true;
		sink->drain_deadline_ns = monotonic_ns() + (uint64_t)drain_ms * 1000000ull;
		pthread_cond_broadcast(&sink->wake);
		pthread_mutex_unlock(&sink->lock);
		if (!sink_join(sink, drain_ms + STOP_GRACE_MS)) {
			/* Blocked in a write nobody reads: leave it, rather than hang the monitor. */
			pthread_detach(sink->thread);
			pthread_mutex_lock(&sink->lock);
			lost = sink->queued_lines + sink->body_lines;
			pthread_mutex_unlock(&sink->lock);
			return lost;
		}
	}
	lost = atomic_load(&sink->dropped) - sink->drops_reported;
	sink_free(sink);
	return lost;
}

struct sinks *sinks_start(const struct sink_spec *specs, size_t n_specs, const char *host,
			  struct am_error *err)
{
	struct sinks *sinks = calloc(1, sizeof(*sinks));
	uint64_t none;
	size_t i;

	if (!sinks) {
		am_error_set(err, "out of memory");
		return NULL;
	}
	snprintf(sinks->host, sizeof(sinks->host), "%s", host && *host ? host : "-");
	for (i = 0; sinks->host[i]; i++)
		if (sinks->host[i] <= ' ' || sinks->host[i] > '~')
			sinks->host[i] = '_';
	if (sinks_reconfigure(sinks, specs, n_specs, 0, &none, err)) {
		sinks_stop(sinks, 0);
		return NULL;
	}
	return sinks;
}

int sinks_reconfigure(struct sinks *sinks, const struct sink_spec *specs, size_t n_specs,
		      unsigned int drain_ms, uint64_t *undelivered, struct am_error *err)
{
	struct sink **next = calloc(n_specs ? n_specs : 1, sizeof(*next));
	size_t *from = calloc(n_specs ? n_specs : 1, sizeof(*from)); /* old index + 1; 0: new */
	size_t i, j;

	*undelivered = 0;
	if (!next || !from) {
		free(next);
		free(from);
		am_error_set(err, "out of memory");
		return -ENOMEM;
	}
	/* Lines written before the reload go to the sinks of before, all of them. */
	sinks_publish(sinks);
	for (i = 0; i < n_specs; i++) {
		for (j = 0; j < sinks->n; j++) {
			if (sinks->sinks[j] && strcmp(sinks->sinks[j]->spec.text, specs[i].text) == 0) {
				next[i] = sinks->sinks[j];
				sinks->sinks[j] = NULL;
				from[i] = j + 1;
				break;
			}
		}
		if (next[i] || (next[i] = sink_start(&specs[i], sinks->host, err)))
			continue;
		/* Keep the old set: give back what moved, stop what started. */
		for (j = 0; j < i; j++) {
			if (from[j])
				sinks->sinks[from[j] - 1] = next[j];
			else
				sink_stop(next[j], 0);
		}
		free(next);
		free(from);
		return -EINVAL;
	}
	for (j = 0; j < sinks->n; j++)
		*undelivered += sink_stop(sinks->sinks[j], drain_ms);
	free(sinks->sinks);
	free(from);
	sinks->sinks = next;
	sinks->n = n_specs;
	return 0;
}

void sinks_write(struct sinks *sinks, const char *line, size_t len, const struct line_meta *meta)
{
	struct chunk *chunk = sinks->batch;
	struct line_entry *entry;

	if (!sinks->n)
		return;
	if (chunk && (chunk->n_lines == CHUNK_MAX_LINES || chunk->used + len + 1 > chunk->cap)) {
		sinks_publish(sinks);
		chunk = NULL;
	}
	if (!chunk && !(chunk = sinks->batch = chunk_new(len + 1))) {
		size_t i;

		for (i = 0; i < sinks->n; i++)
			atomic_fetch_add(&sinks->sinks[i]->dropped, 1);
		return;
	}
	entry = &chunk->lines[chunk->n_lines++];
	entry->offset = (uint32_t)chunk->used;
	entry->len = (uint32_t)len;
	entry->meta = *meta;
	memcpy(chunk->data + chunk->used, line, len);
	chunk->data[chunk->used + len] = '\n';
	chunk->used += len + 1;
}

void sinks_publish(struct sinks *sinks)
{
	struct chunk *chunk = sinks->batch;
	size_t i;

	if (!chunk)
		return;
	sinks->batch = NULL;
	for (i = 0; i < sinks->n; i++)
		sink_enqueue(sinks->sinks[i], chunk);
	chunk_put(chunk);
}

int sinks_take_drops(struct sinks *sinks, uint64_t now_ns, uint64_t min_interval_ns,
		     uint64_t *dropped, uint64_t *dropped_total, const char **name, char *reason,
		     size_t reason_len)
{
	size_t i;

	for (i = 0; i < sinks->n; i++) {
		struct sink *sink = sinks->sinks[i];
		uint64_t total = atomic_load(&sink->dropped);

		if (total <= sink->drops_reported)
			continue;
		if (sink->drops_reported_ns && now_ns - sink->drops_reported_ns < min_interval_ns)
			continue;
		sink->drops_reported_ns = now_ns;
		*dropped = total - sink->drops_reported;
		*dropped_total = total;
		*name = sink->spec.name;
		pthread_mutex_lock(&sink->lock);
		snprintf(reason, reason_len, "queue full (%llu bytes)%s%s",
			 (unsigned long long)sink->spec.queue_bytes, sink->reason[0] ? ": " : "",
			 sink->reason);
		pthread_mutex_unlock(&sink->lock);
		sink->drops_reported = total;
		return (int)i;
	}
	return -1;
}

size_t sinks_count(const struct sinks *sinks)
{
	return sinks ? sinks->n : 0;
}

void sinks_stats(struct sinks *sinks, size_t index, struct sink_stats *stats)
{
	struct sink *sink = sinks->sinks[index];

	stats->name = sink->spec.name;
	stats->kind = sink_kind_name(sink->spec.kind);
	pthread_mutex_lock(&sink->lock);
	stats->queued_bytes = sink->queued_bytes + sink->body_len;
	stats->queued_lines = sink->queued_lines + sink->body_lines;
	pthread_mutex_unlock(&sink->lock);
	stats->written_lines = atomic_load(&sink->written);
	stats->dropped_lines = atomic_load(&sink->dropped);
	stats->failures = atomic_load(&sink->failures);
	stats->up = atomic_load(&sink->up);
}

uint64_t sinks_stop(struct sinks *sinks, unsigned int drain_ms)
{
	uint64_t lost = 0;
	size_t i;

	if (!sinks)
		return 0;
	sinks_publish(sinks);
	for (i = 0; i < sinks->n; i++)
		lost += sink_stop(sinks->sinks[i], drain_ms);
	chunk_put(sinks->batch);
	free(sinks->sinks);
	free(sinks);
	return lost;
}
