/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * Recording a trace file while the monitor runs. Entries gather in a block that
 * is compressed and handed to a writer thread when it is large or a second old;
 * a slow or full disk never stalls the pipeline: blocks the writer cannot take
 * or write are dropped, counted, and the loss is marked in the trace itself.
 * Files rotate by size, each starting with a full state snapshot.
 */
#ifndef ACCESSMON_RECORDER_H
#define ACCESSMON_RECORDER_H

#include <stddef.h>
#include <stdint.h>

#include "lib/error.h"

struct recorder;

/* Writes the full state (a snapshot) through recorder_state; called at each file's start. */
typedef void (*recorder_snapshot_fn)(void *ctx, struct recorder *recorder);

struct recorder_config {
	const char *path;
	uint64_t max_size; /* 0: no rotation */
	unsigned int keep; /* rotated files kept: path.1 ... path.<keep> */
	const char *header_json;
	recorder_snapshot_fn snapshot;
	void *snapshot_ctx;
};

struct recorder *recorder_open(const struct recorder_config *config, struct am_error *err);
void recorder_close(struct recorder *recorder);

void recorder_record(struct recorder *recorder, const void *data, uint32_t len, uint64_t time_ns);
void recorder_state(struct recorder *recorder, const char *json, size_t len, uint64_t time_ns);
/* At least once a second: a block older than a second is written. */
void recorder_tick(struct recorder *recorder, uint64_t now_ns);
/* Entries dropped because the disk was slow or full, in all; and why the last were. */
uint64_t recorder_lost(struct recorder *recorder, char *reason, size_t reason_len);
/* The last write error, if any ("" otherwise), to report once. */
const char *recorder_error(struct recorder *recorder);

#endif /* ACCESSMON_RECORDER_H */
