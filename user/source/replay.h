/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * The replay source: records from trace files (accessmon monitor --record), one
 * file a poll, with the state recorded between them applied as it comes, so the
 * pipeline sees what it saw live.
 */
#ifndef ACCESSMON_SOURCE_REPLAY_H
#define ACCESSMON_SOURCE_REPLAY_H

#include <stdbool.h>
#include <stddef.h>

#include "source/source.h"
#include "trace/state.h"

struct pipeline;
struct rules_context;

struct replay_source_config {
	const char *const *files; /* in recording order (trace_order_files); kept, not copied */
	size_t n_files;
	struct pipeline *pipeline;
	struct state_refs refs; /* where the recorded state goes */
	/* The replay was given its own identity data or policy: recorded ones are ignored. */
	bool keep_identities, keep_policy;
	/* Follows the recorded identity data and policy, and is given to the pipeline anew. */
	struct rules_context *rules;
	/* A file's problems, one line each. */
	void (*report)(void *ctx, const char *message);
	void *report_ctx;
};

/* NULL with errno set when out of memory. */
struct source *replay_source_open(const struct replay_source_config *config);

#endif /* ACCESSMON_SOURCE_REPLAY_H */
