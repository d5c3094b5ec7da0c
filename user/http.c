// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* HTTP/1.x request heads and IMDS paths; see http.h. */
#include "http.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static int hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

void percent_decode(const char *src, size_t len, char *out, size_t out_len)
{
	size_t i = 0, o = 0;

	while (i < len && o + 1 < out_len) {
		int high, low;

		if (src[i] == '%' && i + 2 < len && (high = hex_value(src[i + 1])) >= 0 &&
		    (low = hex_value(src[i + 2])) >= 0) {
			out[o++] = (char)(high << 4 | low);
			i += 3;
		} else {
			out[o++] = src[i++];
		}
	}
	out[o] = '\0';
}

static void copy_bounded(char *out, size_t out_len, const char *src, size_t len)
{
	size_t n = len < out_len - 1 ? len : out_len - 1;

	memcpy(out, src, n);
	out[n] = '\0';
}

/* Finds the end of the head: the offset past the blank line, or 0. */
static size_t head_end(const char *buf, size_t len)
{
	size_t i;

	for (i = 0; i + 1 < len; i++) {
		if (buf[i] != '\n')
			continue;
		if (buf[i + 1] == '\n')
			return i + 2;
		if (i + 2 < len && buf[i + 1] == '\r' && buf[i + 2] == '\n')
			return i + 3;
	}
	return 0;
}

static void query_param(struct http_request *req, const char *name, size_t name_len,
			const char *value, size_t value_len)
{
	static const struct {
		const char *name;
		size_t offset;
		size_t size;
		size_t flag;
	} params[] = {
		{"resource", offsetof(struct http_request, resource), HTTP_VALUE_MAX,
		 offsetof(struct http_request, has_resource)},
		{"api-version", offsetof(struct http_request, api_version), 64, 0},
		{"client_id", offsetof(struct http_request, client_id), HTTP_VALUE_MAX,
		 offsetof(struct http_request, has_client_id)},
		{"object_id", offsetof(struct http_request, object_id), HTTP_VALUE_MAX,
		 offsetof(struct http_request, has_object_id)},
		{"msi_res_id", offsetof(struct http_request, msi_res_id), HTTP_VALUE_MAX,
		 offsetof(struct http_request, has_msi_res_id)},
		{"mi_res_id", offsetof(struct http_request, mi_res_id), HTTP_VALUE_MAX,
		 offsetof(struct http_request, has_mi_res_id)},
	};
	char decoded_name[32];
	size_t i;

	percent_decode(name, name_len, decoded_name, sizeof(decoded_name));
	for (i = 0; i < sizeof(params) / sizeof(params[0]); i++) {
		if (strcmp(decoded_name, params[i].name) != 0)
			continue;
		percent_decode(value, value_len, (char *)req + params[i].offset, params[i].size);
		if (params[i].flag)
			*((bool *)((char *)req + params[i].flag)) = true;
		return;
	}
}

static void parse_target(struct http_request *req, const char *target, size_t len)
{
	const char *query = memchr(target, '?', len);
	size_t path_len = query ? (size_t)(query - target) : len;
	const char *p, *end = target + len;

	/* An absolute-form target (a proxy's) keeps only its path. */
	if (path_len > 7 && strncasecmp(target, "http://", 7) == 0) {
		const char *slash = memchr(target + 7, '/', path_len - 7);

		path_len -= slash ? (size_t)(slash - target) : path_len;
		target = slash ? slash : target + path_len;
	}
	percent_decode(target, path_len, req->path, sizeof(req->path));
	if (!query)
		return;
	for (p = query + 1; p < end;) {
		const char *amp = memchr(p, '&', (size_t)(end - p));
		const char *pair_end = amp ? amp : end;
		const char *eq = memchr(p, '=', (size_t)(pair_end - p));

		if (eq)
			query_param(req, p, (size_t)(eq - p), eq + 1, (size_t)(pair_end - eq - 1));
		p = pair_end + 1;
	}
}

uint64_t http_length_digit(uint64_t value, char digit)
{
	if (value >= HTTP_CONTENT_LENGTH_MAX)
		return HTTP_CONTENT_LENGTH_MAX;
	value = value * 10 + (uint64_t)(digit - '0');
	return value < HTTP_CONTENT_LENGTH_MAX ? value : HTTP_CONTENT_LENGTH_MAX;
}

/* Digits only, else none (0): a value never reads past its own line. */
static size_t content_length(const char *value, size_t len)
{
	uint64_t n = 0;

	if (!len)
		return 0;
	for (size_t i = 0; i < len; i++) {
		if (value[i] < '0' || value[i] > '9')
			return 0;
		n = http_length_digit(n, value[i]);
	}
	return (size_t)n;
}

static bool token_char(char c)
{
	return isalpha((unsigned char)c) || c == '-';
}

enum http_parse_result http_parse_request(const char *buf, size_t len, struct http_request *req,
					  size_t *consumed, size_t *body_missing,
					  const char **error)
{
	const char *line_end, *sp1, *sp2, *p, *end;
	size_t head, body = 0, blank, i;

	memset(req, 0, sizeof(*req));
	*consumed = 0;
	*body_missing = 0;
	*error = NULL;
	/* Tolerate the blank lines some clients send between pipelined requests. */
	for (blank = 0; blank < len && (buf[blank] == '\r' || buf[blank] == '\n'); blank++)
		;
	buf += blank;
	len -= blank;
	for (i = 0; i < len && i < sizeof(req->method) && token_char(buf[i]); i++)
		;
	if (len > 0 && (i == 0 || (i < len && buf[i] != ' ') || i >= sizeof(req->method))) {
		*error = "not an HTTP request line";
		return HTTP_MALFORMED;
	}
	head = head_end(buf, len);
	if (!head)
		return HTTP_NEED_MORE; /* the caller bounds how much it waits for */
	end = buf + head;
	line_end = memchr(buf, '\n', head);
	sp1 = memchr(buf, ' ', (size_t)(line_end - buf));
	sp2 = sp1 ? memchr(sp1 + 1, ' ', (size_t)(line_end - sp1 - 1)) : NULL;
	if (!sp1 || !sp2) {
		*error = "request line is not METHOD TARGET VERSION";
		return HTTP_MALFORMED;
	}
	copy_bounded(req->method, sizeof(req->method), buf, (size_t)(sp1 - buf));
	parse_target(req, sp1 + 1, (size_t)(sp2 - sp1 - 1));
	copy_bounded(req->version, sizeof(req->version), sp2 + 1,
		     (size_t)(line_end - sp2 - 1 - (line_end[-1] == '\r')));
	if (strncmp(req->version, "HTTP/", 5) != 0) {
		*error = "request line does not end in an HTTP version";
		return HTTP_MALFORMED;
	}
	for (p = line_end + 1; p < end;) {
		const char *next = memchr(p, '\n', (size_t)(end - p));
		const char *colon = memchr(p, ':', (size_t)((next ? next : end) - p));
		size_t name_len, value_len;
		const char *value;

		if (!next)
			break;
		if (colon) {
			name_len = (size_t)(colon - p);
			value = colon + 1;
			while (value < next && (*value == ' ' || *value == '\t'))
				value++;
			value_len = (size_t)(next - value);
			while (value_len && (value[value_len - 1] == '\r' || value[value_len - 1] == ' '))
				value_len--;
			if (name_len == 8 && strncasecmp(p, "metadata", 8) == 0)
				req->metadata_header = value_len == 4 && strncasecmp(value, "true", 4) == 0;
			else if (name_len == 4 && strncasecmp(p, "host", 4) == 0)
				copy_bounded(req->host, sizeof(req->host), value, value_len);
			else if (name_len == 14 && strncasecmp(p, "content-length", 14) == 0)
				body = content_length(value, value_len);
		}
		p = next + 1;
	}
	if (body > len - head) {
		*body_missing = body - (len - head);
		body = len - head;
	}
	*consumed = blank + head + body;
	return HTTP_COMPLETE;
}

int http_parse_status(const char *buf, size_t len)
{
	int status = 0, i;

	if (len < 12 || strncmp(buf, "HTTP/", 5) != 0)
		return -1;
	for (i = 5; i < (int)len && buf[i] != ' '; i++)
		;
	if (i + 3 >= (int)len)
		return -1;
	for (int d = 1; d <= 3; d++) {
		if (!isdigit((unsigned char)buf[i + d]))
			return -1;
		status = status * 10 + (buf[i + d] - '0');
	}
	return status;
}

enum imds_category imds_classify(const char *path)
{
	if (strncasecmp(path, "/metadata", 9) != 0 || (path[9] != '/' && path[9] != '\0'))
		return IMDS_OTHER;
	path += 9;
	/* Detection errs towards matching: the rest of the path is case-blind too. */
	if (strncasecmp(path, "/identity/oauth2/token", 22) == 0 &&
	    (path[22] == '\0' || path[22] == '/'))
		return IMDS_IDENTITY_TOKEN;
	if (strncasecmp(path, "/identity", 9) == 0 && (path[9] == '\0' || path[9] == '/'))
		return IMDS_IDENTITY_INFO;
	if (strncasecmp(path, "/instance", 9) == 0 && (path[9] == '\0' || path[9] == '/'))
		return IMDS_INSTANCE;
	if (strncasecmp(path, "/attested", 9) == 0 && (path[9] == '\0' || path[9] == '/'))
		return IMDS_ATTESTED;
	return IMDS_OTHER;
}

const char *imds_category_name(enum imds_category category)
{
	switch (category) {
	case IMDS_IDENTITY_TOKEN:
		return "identity-token";
	case IMDS_IDENTITY_INFO:
		return "identity-info";
	case IMDS_INSTANCE:
		return "instance";
	case IMDS_ATTESTED:
		return "attested";
	default:
		return "other";
	}
}
