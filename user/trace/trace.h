/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * The trace file format (docs/TRACE-FORMAT.md): a file header with a JSON
 * description, then zlib-compressed blocks, each with a CRC-32, holding entries:
 * raw kernel records exactly as they came off the ring buffer, and state (JSON)
 * the pipeline needs to interpret them. Little-endian throughout.
 *
 * The reader is built for damaged files: a truncated file yields every intact
 * block and says where it stopped; a corrupt block is reported with its offset
 * and skipped; a file from a newer format version is refused.
 */
#ifndef ACCESSMON_TRACE_H
#define ACCESSMON_TRACE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "lib/error.h"

#define TRACE_MAGIC "AMTRACE1"
#define TRACE_VERSION 1
#define TRACE_BLOCK_MAGIC 0x4b424d41u /* "AMBK" */
#define TRACE_HEADER_MAX (1u << 20)
#define TRACE_BLOCK_MAX (64u << 20) /* uncompressed bytes of one block at most */
#define TRACE_ENTRY_MAX (32u << 20)

enum trace_entry_kind {
	TRACE_ENTRY_RECORD = 1, /* a raw kernel record (struct am_record_header ...) */
	TRACE_ENTRY_STATE = 2,	/* a JSON document: {"state": "<what>", ...} */
};

/* --- writing: a block in memory, compressed and framed on demand --- */

struct trace_block {
	uint8_t *data;
	size_t len;
	size_t cap;
	uint32_t entries;
	uint64_t first_ns, last_ns; /* record times (CLOCK_BOOTTIME) */
};

void trace_block_init(struct trace_block *block);
void trace_block_release(struct trace_block *block);
void trace_block_reset(struct trace_block *block);
int trace_block_add(struct trace_block *block, uint16_t kind, const void *data, uint32_t len,
		    uint64_t time_ns);
/* Compresses and frames the block; *out is malloc'd. */
int trace_block_encode(const struct trace_block *block, uint8_t **out, size_t *out_len);
/* The file header: magic, version, and the JSON description. */
int trace_header_encode(const char *json, uint8_t **out, size_t *out_len);

/* --- reading --- */

struct trace_reader;

typedef void (*trace_entry_fn)(void *ctx, uint16_t kind, const uint8_t *data, uint32_t len);

struct trace_read_stats {
	uint64_t blocks;
	uint64_t corrupt_blocks;
	uint64_t entries;
	bool truncated;
	uint64_t stopped_at; /* offset where a truncated file stopped being readable */
	uint64_t first_ns, last_ns; /* record times of the blocks read (CLOCK_BOOTTIME) */
};

/* Reads a whole trace from memory; problems go to report(ctx, message), one line each. */
int trace_read_buffer(const uint8_t *data, size_t len, const char *name, char **header_json,
		      trace_entry_fn on_entry, void *ctx, void (*report)(void *, const char *),
		      struct trace_read_stats *stats, struct am_error *err);
/* Only the header: its JSON (malloc'd), or an error (a newer version: -EPROTONOSUPPORT). */
int trace_read_header(const char *path, char **header_json, struct am_error *err);
int trace_read_file(const char *path, char **header_json, trace_entry_fn on_entry, void *ctx,
		    void (*report)(void *, const char *), struct trace_read_stats *stats,
		    struct am_error *err);

/*
 * Puts rotated files in recording order, oldest first: FILE.3 FILE.2 FILE.1 FILE,
 * whatever order they were given in (a shell glob gives FILE FILE.1 ...). Files of
 * different names keep the order they were given in.
 */
void trace_order_files(const char **files, size_t n);

#endif /* ACCESSMON_TRACE_H */
