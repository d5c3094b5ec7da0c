// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* Bounded JSON input with positioned errors; see json_input.h. */
#include "lib/json_input.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void position_of(const char *text, size_t offset, size_t *line, size_t *column)
{
	size_t i;

	*line = 1;
	*column = 1;
	for (i = 0; i < offset; i++) {
		if (text[i] == '\n') {
			(*line)++;
			*column = 1;
		} else {
			(*column)++;
		}
	}
}

cJSON *json_input_parse(const char *source, const char *text, size_t len, struct am_error *err)
{
	const char *end = NULL;
	size_t line, column, offset;
	cJSON *root;

	if (len == 0) {
		am_error_set(err, "%s: empty input, expected a JSON document", source);
		errno = ENODATA;
		return NULL;
	}
	root = cJSON_ParseWithLengthOpts(text, len, &end, 0);
	if (root)
		return root;
	offset = end && end >= text && end <= text + len ? (size_t)(end - text) : len;
	/* cJSON stops on the last byte it read when the document is cut short. */
	position_of(text, offset, &line, &column);
	if (offset + 1 >= len) {
		am_error_set(err, "%s:%zu:%zu: invalid JSON: input ends too early", source, line,
			     column);
		errno = ENODATA;
	} else {
		am_error_set(err, "%s:%zu:%zu: invalid JSON near byte %zu", source, line, column,
			     offset);
		errno = EINVAL;
	}
	return NULL;
}

cJSON *json_input_load_file(const char *path, struct am_error *err)
{
	struct stat st;
	char *text;
	size_t got = 0;
	cJSON *root;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		am_error_set(err, "%s: cannot open: %s", path, strerror(errno));
		return NULL;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		am_error_set(err, "%s: not a regular file", path);
		close(fd);
		return NULL;
	}
	if ((unsigned long long)st.st_size > JSON_INPUT_MAX_BYTES) {
		am_error_set(err, "%s: %lld bytes is larger than the %u-byte limit", path,
			     (long long)st.st_size, JSON_INPUT_MAX_BYTES);
		close(fd);
		return NULL;
	}
	text = malloc((size_t)st.st_size + 1);
	if (!text) {
		am_error_set(err, "%s: out of memory", path);
		close(fd);
		return NULL;
	}
	while (got < (size_t)st.st_size) {
		ssize_t n = read(fd, text + got, (size_t)st.st_size - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			am_error_set(err, "%s: read failed: %s", path, strerror(errno));
			free(text);
			close(fd);
			return NULL;
		}
		if (n == 0)
			break;
		got += (size_t)n;
	}
	close(fd);
	text[got] = '\0';
	root = json_input_parse(path, text, got, err);
	free(text);
	return root;
}

const char *json_member_string(const cJSON *object, const char *name)
{
	const cJSON *item = cJSON_GetObjectItemCaseSensitive(object, name);

	return cJSON_IsString(item) ? item->valuestring : NULL;
}
