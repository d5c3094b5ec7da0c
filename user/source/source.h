/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * Where the pipeline's records come from. Two sources feed it the same way: the
 * kernel's ring buffer while the monitor runs (source/live.h) and trace files
 * read back (source/replay.h). Each is opened with the pipeline it feeds; the
 * commands turn the loop and the pipeline never learns which one it is fed by.
 */
#ifndef ACCESSMON_SOURCE_SOURCE_H
#define ACCESSMON_SOURCE_SOURCE_H

#include <stdint.h>

/* source_poll(): the source has nothing more to give. */
#define SOURCE_END 1

/* What a source could not deliver or read, in all. */
struct source_stats {
	uint64_t records_lost;	 /* the kernel's ring buffer was full */
	uint64_t trace_lost;	 /* trace entries the recording could not write */
	uint64_t inputs_failed;	 /* inputs that could not be read at all */
	uint64_t inputs_damaged; /* inputs read only in part, or with what was not understood */
};

struct source;

struct source_ops {
	/*
	 * Feeds the pipeline what is ready, waiting at most timeout_ms for it: 0,
	 * SOURCE_END when nothing more will come, or -errno when reading failed.
	 */
	int (*poll)(struct source *source, int timeout_ms);
	/* Hands over everything already taken in, without waiting (at the end). */
	int (*drain)(struct source *source);
	void (*stats)(const struct source *source, struct source_stats *stats);
	void (*close)(struct source *source);
};

/* Embedded first in each implementation's own struct. */
struct source {
	const struct source_ops *ops;
};

static inline int source_poll(struct source *source, int timeout_ms)
{
	return source->ops->poll(source, timeout_ms);
}

static inline int source_drain(struct source *source)
{
	return source->ops->drain(source);
}

static inline void source_stats(const struct source *source, struct source_stats *stats)
{
	source->ops->stats(source, stats);
}

/* Accepts NULL. */
static inline void source_close(struct source *source)
{
	if (source)
		source->ops->close(source);
}

#endif /* ACCESSMON_SOURCE_SOURCE_H */
