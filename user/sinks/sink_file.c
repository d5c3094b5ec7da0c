// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* The stdout and file sinks: lines written in order; a file rotates by size. */
#include "sinks/sink_private.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int file_open(struct sink *sink)
{
	struct stat st;
	int fd;

	fd = open(sink->spec.target, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return -EINVAL;
	}
	sink->fd = fd;
	sink->file_size = (uint64_t)st.st_size;
	return 0;
}

/* FILE -> FILE.1 -> ... -> FILE.keep; the new FILE is created, never followed. */
static int file_rotate(struct sink *sink)
{
	const char *path = sink->spec.target;
	size_t len = strlen(path) + 16;
	char *from = malloc(len), *to = malloc(len);
	unsigned int i;
	int fd, rc = 0;

	if (!from || !to) {
		rc = -ENOMEM;
		goto out;
	}
	close(sink->fd);
	sink->fd = -1;
	if (sink->spec.keep == 0) {
		unlink(path);
	} else {
		for (i = sink->spec.keep; i > 1; i--) {
			snprintf(from, len, "%s.%u", path, i - 1);
			snprintf(to, len, "%s.%u", path, i);
			rename(from, to);
		}
		snprintf(to, len, "%s.1", path);
		rename(path, to);
	}
	fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0 && errno == EEXIST) {
		/* Something was put there since the rename: never write through it. */
		unlink(path);
		fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
			  0600);
	}
	if (fd < 0) {
		rc = -errno;
		goto out;
	}
	sink->fd = fd;
	sink->file_size = 0;
out:
	free(from);
	free(to);
	return rc;
}

/* Writes lines [first, first + n) of chunk; the number written, or -errno. */
static ssize_t deliver_fd(struct sink *sink, const struct chunk *chunk, size_t first, size_t n)
{
	const struct line_entry *start = &chunk->lines[first];
	size_t done = 0;

	if (sink->spec.kind == SINK_FILE) {
		int rc = sink->fd < 0 ? file_open(sink) : 0;

		if (rc)
			return rc;
		if (sink->file_size && sink->file_size + start->len + 1 > sink->spec.max_size) {
			rc = file_rotate(sink);
			if (rc)
				return rc;
		}
		/* Up to where the file must rotate. */
		while (done < n && (done == 0 || sink->file_size + start[done].offset +
								 start[done].len + 1 - start->offset <=
							 sink->spec.max_size))
			done++;
	} else {
		done = n;
	}
	{
		const char *from = chunk->data + start->offset;
		size_t bytes = start[done - 1].offset + start[done - 1].len + 1 - start->offset;
		size_t written = 0;

		while (written < bytes) {
			ssize_t w = write(sink->fd, from + written, bytes - written);

			if (w < 0 && errno == EINTR)
				continue;
			if (w <= 0) {
				size_t lines = 0;

				/* Whole lines only count; a torn line is written again whole. */
				while (lines < done && start[lines].offset + start[lines].len + 1 -
							       start->offset <= written)
					lines++;
				sink->file_size += written;
				return lines ? (ssize_t)lines : (w < 0 ? -errno : -EIO);
			}
			written += (size_t)w;
		}
		sink->file_size += bytes;
	}
	return (ssize_t)done;
}

static int stdout_sink_open(struct sink *sink, struct am_error *err)
{
	(void)err;
	sink->fd = STDOUT_FILENO;
	return 0;
}

static int file_sink_open(struct sink *sink, struct am_error *err)
{
	int rc = file_open(sink);

	if (rc)
		am_error_set(err, "sink %s: %s", sink->spec.name,
			     rc == -ELOOP ? "is a symbolic link; give the file itself"
			     : rc == -EINVAL ? "is not a regular file"
					     : strerror(-rc));
	return rc;
}

static void file_sink_close(struct sink *sink)
{
	if (sink->fd >= 0)
		close(sink->fd);
}

const struct sink_ops sink_stdout_ops = {
	.doing = "writing",
	.open = stdout_sink_open,
	.write = deliver_fd,
};

const struct sink_ops sink_file_ops = {
	.doing = "writing",
	.open = file_sink_open,
	.write = deliver_fd,
	.close = file_sink_close,
};
