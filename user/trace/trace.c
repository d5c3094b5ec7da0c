// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* The trace file format, writer and reader; see trace.h and docs/TRACE-FORMAT.md. */
#include "trace/trace.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

/* Block header: magic, compressed and uncompressed sizes, entries, times, CRC-32. */
#define BLOCK_HEADER_LEN 40

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v, p[1] = (uint8_t)(v >> 8), p[2] = (uint8_t)(v >> 16),
	p[3] = (uint8_t)(v >> 24);
}

static void put64(uint8_t *p, uint64_t v)
{
	put32(p, (uint32_t)v);
	put32(p + 4, (uint32_t)(v >> 32));
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t get64(const uint8_t *p)
{
	return (uint64_t)get32(p) | (uint64_t)get32(p + 4) << 32;
}

void trace_block_init(struct trace_block *block)
{
	memset(block, 0, sizeof(*block));
}

void trace_block_release(struct trace_block *block)
{
	free(block->data);
	trace_block_init(block);
}

void trace_block_reset(struct trace_block *block)
{
	block->len = 0;
	block->entries = 0;
	block->first_ns = block->last_ns = 0;
}

/* Entries start at 8-byte boundaries, so records are read in place, aligned. */
#define ENTRY_HEADER_LEN 8
#define ENTRY_ALIGN(n) (((n) + 7) & ~(size_t)7)

int trace_block_add(struct trace_block *block, uint16_t kind, const void *data, uint32_t len,
		    uint64_t time_ns)
{
	size_t need = block->len + ENTRY_ALIGN(ENTRY_HEADER_LEN + (size_t)len);

	if (len > TRACE_ENTRY_MAX)
		return -E2BIG;
	if (need > block->cap) {
		size_t cap = block->cap ? block->cap : 65536;
		uint8_t *grown;

		while (cap < need)
			cap *= 2;
		grown = realloc(block->data, cap);
		if (!grown)
			return -ENOMEM;
		block->data = grown;
		block->cap = cap;
	}
	/* Entry: u32 length of the payload, u16 kind, u16 zero, payload, zeros to 8 bytes. */
	memset(block->data + block->len, 0, need - block->len);
	put32(block->data + block->len, len);
	block->data[block->len + 4] = (uint8_t)kind;
	block->data[block->len + 5] = (uint8_t)(kind >> 8);
	memcpy(block->data + block->len + ENTRY_HEADER_LEN, data, len);
	block->len = need;
	if (time_ns) {
		if (!block->first_ns || time_ns < block->first_ns)
			block->first_ns = time_ns;
		if (time_ns > block->last_ns)
			block->last_ns = time_ns;
	}
	block->entries++;
	return 0;
}

int trace_block_encode(const struct trace_block *block, uint8_t **out, size_t *out_len)
{
	uLongf compressed_len = compressBound(block->len);
	uint8_t *buf = malloc(BLOCK_HEADER_LEN + compressed_len);

	if (!buf)
		return -ENOMEM;
	if (compress2(buf + BLOCK_HEADER_LEN, &compressed_len, block->data ? block->data : buf,
		      block->len, Z_BEST_SPEED) != Z_OK) {
		free(buf);
		return -EIO;
	}
	put32(buf, TRACE_BLOCK_MAGIC);
	put32(buf + 4, (uint32_t)compressed_len);
	put32(buf + 8, (uint32_t)block->len);
	put32(buf + 12, block->entries);
	put64(buf + 16, block->first_ns);
	put64(buf + 24, block->last_ns);
	put32(buf + 32, (uint32_t)crc32(0, buf + BLOCK_HEADER_LEN, (uInt)compressed_len));
	/* The header's own CRC covers the 36 bytes before it. */
	put32(buf + 36, (uint32_t)crc32(0, buf, 36));
	*out = buf;
	*out_len = BLOCK_HEADER_LEN + compressed_len;
	return 0;
}

int trace_header_encode(const char *json, uint8_t **out, size_t *out_len)
{
	size_t len = strlen(json);
	uint8_t *buf = malloc(16 + len);

	if (!buf)
		return -ENOMEM;
	memcpy(buf, TRACE_MAGIC, 8);
	put32(buf + 8, TRACE_VERSION);
	put32(buf + 12, (uint32_t)len);
	memcpy(buf + 16, json, len);
	*out = buf;
	*out_len = 16 + len;
	return 0;
}

static void say(void (*report)(void *, const char *), void *ctx, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void say(void (*report)(void *, const char *), void *ctx, const char *fmt, ...)
{
	char message[512];
	va_list ap;

	if (!report)
		return;
	va_start(ap, fmt);
	vsnprintf(message, sizeof(message), fmt, ap);
	va_end(ap);
	report(ctx, message);
}

/*
 * One block's zlib stream into out (*out_len: its room, then what it held). The
 * block's CRC-32 was checked already, so zlib's own Adler-32 is not computed
 * again: it was a fifth of a replay's time.
 */
static int inflate_block(z_stream *stream, bool *ready, const uint8_t *in, uint32_t in_len,
			 uint8_t *out, uLongf *out_len)
{
	int rc;

	if (!*ready) {
		memset(stream, 0, sizeof(*stream));
		if (inflateInit(stream) != Z_OK)
			return Z_MEM_ERROR;
		*ready = true;
	} else if (inflateReset(stream) != Z_OK) {
		return Z_STREAM_ERROR;
	}
	inflateValidate(stream, 0);
	stream->next_in = (Bytef *)in;
	stream->avail_in = in_len;
	stream->next_out = out;
	stream->avail_out = (uInt)*out_len;
	rc = inflate(stream, Z_FINISH);
	*out_len = stream->total_out;
	return rc == Z_STREAM_END ? Z_OK : Z_DATA_ERROR;
}

/* Entries of one decompressed block. False when the block's framing is wrong. */
static bool read_entries(const uint8_t *data, size_t len, uint32_t expected,
			 trace_entry_fn on_entry, void *ctx, uint64_t *entries)
{
	size_t pos = 0;
	uint32_t n = 0;

	while (pos < len) {
		uint32_t entry_len;
		uint16_t kind;

		if (len - pos < ENTRY_HEADER_LEN)
			return false;
		entry_len = get32(data + pos);
		kind = (uint16_t)(data[pos + 4] | data[pos + 5] << 8);
		if (entry_len > len - pos - ENTRY_HEADER_LEN)
			return false;
		on_entry(ctx, kind, data + pos + ENTRY_HEADER_LEN, entry_len);
		pos += ENTRY_ALIGN(ENTRY_HEADER_LEN + (size_t)entry_len);
		if (pos > len)
			return false;
		n++;
		(*entries)++;
	}
	return n == expected;
}

/* The next block magic at or after `from`, or len. */
static size_t find_block(const uint8_t *data, size_t len, size_t from)
{
	size_t i;

	for (i = from; i + 4 <= len; i++)
		if (get32(data + i) == TRACE_BLOCK_MAGIC)
			return i;
	return len;
}

int trace_read_buffer(const uint8_t *data, size_t len, const char *name, char **header_json,
		      trace_entry_fn on_entry, void *ctx, void (*report)(void *, const char *),
		      struct trace_read_stats *stats, struct am_error *err)
{
	uint32_t version, header_len, block_cap = 0;
	uint8_t *block = NULL;
	bool stream_ready = false;
	z_stream stream;
	size_t pos;

	memset(stats, 0, sizeof(*stats));
	*header_json = NULL;
	if (len < 16 || memcmp(data, TRACE_MAGIC, 7) != 0) {
		am_error_set(err, "%s: not an accessmon trace file (no AMTRACE header)", name);
		return -EINVAL;
	}
	version = get32(data + 8);
	if (version > TRACE_VERSION) {
		am_error_set(err, "%s: trace format version %u is newer than this accessmon reads "
				  "(%u): use a newer accessmon",
			     name, version, TRACE_VERSION);
		return -EPROTONOSUPPORT;
	}
	header_len = get32(data + 12);
	if (header_len > TRACE_HEADER_MAX || header_len > len - 16) {
		am_error_set(err, "%s: byte 12: the header length %u runs past the file", name,
			     header_len);
		return -EINVAL;
	}
	*header_json = strndup((const char *)data + 16, header_len);
	pos = 16 + header_len;
	while (pos < len) {
		uint32_t compressed, uncompressed, entries;
		uLongf out_len;

		if (len - pos < BLOCK_HEADER_LEN) {
			stats->truncated = true;
			stats->stopped_at = pos;
			say(report, ctx, "%s: truncated at byte %zu (a block header cut short); every "
					 "block before it was read",
			    name, pos);
			break;
		}
		compressed = get32(data + pos + 4);
		uncompressed = get32(data + pos + 8);
		entries = get32(data + pos + 12);
		if (get32(data + pos) != TRACE_BLOCK_MAGIC ||
		    get32(data + pos + 36) != (uint32_t)crc32(0, data + pos, 36) ||
		    uncompressed > TRACE_BLOCK_MAX) {
			size_t next = find_block(data, len, pos + 1);

			stats->corrupt_blocks++;
			say(report, ctx, "%s: corrupt block header at byte %zu, skipped to byte %zu",
			    name, pos, next);
			pos = next;
			continue;
		}
		if (compressed > len - pos - BLOCK_HEADER_LEN) {
			stats->truncated = true;
			stats->stopped_at = pos;
			say(report, ctx, "%s: truncated at byte %zu (a block of %u bytes cut short); "
					 "every block before it was read",
			    name, pos, compressed);
			break;
		}
		if (get32(data + pos + 32) !=
		    (uint32_t)crc32(0, data + pos + BLOCK_HEADER_LEN, compressed)) {
			stats->corrupt_blocks++;
			say(report, ctx, "%s: block at byte %zu fails its checksum, skipped", name, pos);
			pos = find_block(data, len, pos + BLOCK_HEADER_LEN + compressed);
			continue;
		}
		if (uncompressed > block_cap || !block) {
			free(block);
			block_cap = uncompressed > block_cap ? uncompressed : block_cap;
			block = malloc(block_cap ? block_cap : 1);
		}
		out_len = uncompressed;
		if (!block ||
		    inflate_block(&stream, &stream_ready, data + pos + BLOCK_HEADER_LEN, compressed,
				  block, &out_len) != Z_OK ||
		    out_len != uncompressed ||
		    !read_entries(block, out_len, entries, on_entry, ctx, &stats->entries)) {
			stats->corrupt_blocks++;
			say(report, ctx, "%s: block at byte %zu does not decode, skipped", name, pos);
		} else {
			uint64_t first = get64(data + pos + 16), last = get64(data + pos + 24);

			stats->blocks++;
			if (first && (!stats->first_ns || first < stats->first_ns))
				stats->first_ns = first;
			if (last > stats->last_ns)
				stats->last_ns = last;
		}
		pos += BLOCK_HEADER_LEN + compressed;
	}
	free(block);
	if (stream_ready)
		inflateEnd(&stream);
	return 0;
}

int trace_read_file(const char *path, char **header_json, trace_entry_fn on_entry, void *ctx,
		    void (*report)(void *, const char *), struct trace_read_stats *stats,
		    struct am_error *err)
{
	struct stat st;
	uint8_t *data;
	size_t got = 0;
	int fd, rc;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		am_error_set(err, "%s: cannot open: %s", path, strerror(errno));
		return -errno;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		am_error_set(err, "%s: not a regular file", path);
		close(fd);
		return -EINVAL;
	}
	data = malloc((size_t)st.st_size + 1);
	if (!data) {
		close(fd);
		am_error_set(err, "%s: out of memory", path);
		return -ENOMEM;
	}
	while (got < (size_t)st.st_size) {
		ssize_t n = read(fd, data + got, (size_t)st.st_size - got);

		if (n <= 0)
			break;
		got += (size_t)n;
	}
	close(fd);
	rc = trace_read_buffer(data, got, path, header_json, on_entry, ctx, report, stats, err);
	free(data);
	return rc;
}

int trace_read_header(const char *path, char **header_json, struct am_error *err)
{
	uint8_t fixed[16];
	uint32_t version, len;
	FILE *f = fopen(path, "re");

	*header_json = NULL;
	if (!f) {
		am_error_set(err, "%s: cannot open: %s", path, strerror(errno));
		return -errno;
	}
	if (fread(fixed, 1, 16, f) != 16 || memcmp(fixed, TRACE_MAGIC, 7) != 0) {
		fclose(f);
		am_error_set(err, "%s: not an accessmon trace file (no AMTRACE header)", path);
		return -EINVAL;
	}
	version = get32(fixed + 8);
	len = get32(fixed + 12);
	if (version > TRACE_VERSION) {
		fclose(f);
		am_error_set(err, "%s: trace format version %u is newer than this accessmon reads "
				  "(%u): use a newer accessmon",
			     path, version, TRACE_VERSION);
		return -EPROTONOSUPPORT;
	}
	if (len > TRACE_HEADER_MAX || !(*header_json = calloc(1, len + 1)) ||
	    fread(*header_json, 1, len, f) != len) {
		fclose(f);
		free(*header_json);
		*header_json = NULL;
		am_error_set(err, "%s: the header is cut short", path);
		return -EINVAL;
	}
	fclose(f);
	return 0;
}

/* --- ordering rotated files --- */

struct ordered_file {
	const char *name;
	size_t base_len;     /* the name without a ".N" rotation suffix */
	unsigned long index; /* N; 0 for the live file */
	size_t group;	     /* where the first file of this base was given */
};

static void split_rotation(struct ordered_file *f)
{
	const char *dot = strrchr(f->name, '.');
	char *end;

	f->base_len = strlen(f->name);
	f->index = 0;
	if (!dot || !dot[1] || dot[1] == '0' || strchr(dot, '/'))
		return;
	f->index = strtoul(dot + 1, &end, 10);
	if (*end)
		f->index = 0;
	else
		f->base_len = (size_t)(dot - f->name);
}

static int by_group_then_age(const void *a, const void *b)
{
	const struct ordered_file *x = a, *y = b;

	if (x->group != y->group)
		return x->group < y->group ? -1 : 1;
	if (x->index != y->index)
		return x->index > y->index ? -1 : 1; /* higher N is older */
	return 0;
}

void trace_order_files(const char **files, size_t n)
{
	struct ordered_file *list = calloc(n ? n : 1, sizeof(*list));
	size_t i, j;

	if (!list)
		return; /* the given order, then */
	for (i = 0; i < n; i++) {
		list[i].name = files[i];
		split_rotation(&list[i]);
	}
	for (i = 0; i < n; i++) {
		list[i].group = i;
		for (j = 0; j < i; j++) {
			if (list[j].base_len == list[i].base_len &&
			    strncmp(list[j].name, list[i].name, list[i].base_len) == 0) {
				list[i].group = list[j].group;
				break;
			}
		}
	}
	qsort(list, n, sizeof(*list), by_group_then_age);
	for (i = 0; i < n; i++)
		files[i] = list[i].name;
	free(list);
}
