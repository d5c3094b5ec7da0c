// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* The replay source: trace files read back into the pipeline; see replay.h. */
#include "source/replay.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "detect/rules.h"
#include "pipeline/pipeline.h"
#include "trace/trace.h"

struct replay_source {
	struct source source;
	struct replay_source_config config;
	size_t next_file;
	const char *file; /* the one being read */
	uint64_t bad_states;
	uint64_t inputs_failed, inputs_damaged;
};

/* Room for a file name and an error message. */
#define REPLAY_MESSAGE_LEN (PATH_MAX + 2 * AM_ERROR_LEN)

static void say(struct replay_source *replay, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void say(struct replay_source *replay, const char *fmt, ...)
{
	char message[REPLAY_MESSAGE_LEN];
	va_list args;

	va_start(args, fmt);
	vsnprintf(message, sizeof(message), fmt, args);
	va_end(args);
	replay->config.report(replay->config.report_ctx, message);
}

/* The trace reader's word on a damaged file: it calls back with the entries' ctx. */
static void report_problem(void *ctx, const char *message)
{
	struct replay_source *replay = ctx;

	replay->config.report(replay->config.report_ctx, message);
}

static void on_entry(void *ctx, uint16_t kind, const uint8_t *data, uint32_t len)
{
	struct replay_source *replay = ctx;
	const struct replay_source_config *config = &replay->config;
	struct state_effect effect;
	struct am_error err;

	if (kind == TRACE_ENTRY_RECORD) {
		pipeline_record(config->pipeline, data, len);
		return;
	}
	if (kind != TRACE_ENTRY_STATE)
		return;
	if (state_apply(&config->refs, (const char *)data, len, config->keep_identities,
			config->keep_policy, &effect, &err)) {
		if (!replay->bad_states++)
			say(replay, "%s: a %s state could not be applied: %s", replay->file,
			    effect.kind, err.msg);
		return;
	}
	if (effect.loss)
		pipeline_events_lost(config->pipeline, effect.boot_ns, effect.lost,
				     effect.lost_total);
	if (effect.degraded)
		pipeline_monitor_degraded(config->pipeline, effect.boot_ns, &effect.notice);
	if (effect.recorder_lost)
		say(replay, "%s: the recording lost %" PRIu64 " entries here (a slow or full disk)",
		    replay->file, effect.recorder_lost);
	if (strcmp(effect.kind, "service_tags") == 0)
		pipeline_set_service_tags(config->pipeline, *config->refs.service_tags);
	if (effect.detection_changed) {
		config->rules->identities = *config->refs.identities;
		config->rules->policy = *config->refs.policy;
		pipeline_set_rules_context(config->pipeline, config->rules);
	}
}

/* One whole file a call: a trace is read block by block, and a replay does not wait. */
static int replay_poll(struct source *source, int timeout_ms)
{
	struct replay_source *replay = (struct replay_source *)source;
	const struct replay_source_config *config = &replay->config;
	struct trace_read_stats stats;
	uint64_t malformed, bad_states;
	struct am_error err;
	char *header;
	int rc;

	(void)timeout_ms;
	if (replay->next_file >= config->n_files)
		return SOURCE_END;
	replay->file = config->files[replay->next_file++];
	malformed = pipeline_stats(config->pipeline)->malformed;
	bad_states = replay->bad_states;
	rc = trace_read_file(replay->file, &header, on_entry, replay, report_problem, &stats, &err);
	free(header);
	if (rc) {
		say(replay, "%s", err.msg);
		replay->inputs_failed++;
		return 0;
	}
	malformed = pipeline_stats(config->pipeline)->malformed - malformed;
	if (malformed)
		say(replay,
		    "%s: %" PRIu64 " records were not understood and were skipped "
		    "(damaged, or from another accessmon build)",
		    replay->file, malformed);
	if (stats.corrupt_blocks || stats.truncated || malformed ||
	    replay->bad_states != bad_states)
		replay->inputs_damaged++;
	return 0;
}

/* Each poll hands over all it read: nothing waits. */
static int replay_drain(struct source *source)
{
	(void)source;
	return 0;
}

static void replay_stats(const struct source *source, struct source_stats *stats)
{
	const struct replay_source *replay = (const struct replay_source *)source;

	*stats = (struct source_stats){.inputs_failed = replay->inputs_failed,
				       .inputs_damaged = replay->inputs_damaged};
}

static void replay_close(struct source *source)
{
	free(source);
}

static const struct source_ops replay_ops = {
	.poll = replay_poll,
	.drain = replay_drain,
	.stats = replay_stats,
	.close = replay_close,
};

struct source *replay_source_open(const struct replay_source_config *config)
{
	struct replay_source *replay = calloc(1, sizeof(*replay));

	if (!replay)
		return NULL;
	replay->source.ops = &replay_ops;
	replay->config = *config;
	return &replay->source;
}
