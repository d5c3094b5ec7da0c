// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * The webhook sink: batches of JSON lines POSTed over HTTP(S) with libcurl,
 * with a bearer token read again before every POST.
 */
#include "sinks/sink_private.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define TOKEN_MAX_BYTES 8192

static size_t discard_body(char *data, size_t size, size_t count, void *ctx)
{
	(void)data;
	(void)ctx;
	return size * count;
}

/* The bearer token, re-read before every POST so a rotated file is picked up. */
static int read_token(const struct sink_spec *spec, char **token)
{
	char buf[TOKEN_MAX_BYTES + 1];
	const char *env;
	size_t len = 0;

	free(*token);
	*token = NULL;
	if (spec->token_file) {
		int fd = open(spec->token_file, O_RDONLY | O_CLOEXEC);
		ssize_t n;

		if (fd < 0)
			return -errno;
		while ((n = read(fd, buf + len, TOKEN_MAX_BYTES - len)) > 0)
			len += (size_t)n;
		close(fd);
		if (n < 0)
			return -EIO;
		if (len >= TOKEN_MAX_BYTES)
			return -EFBIG;
		buf[len] = '\0';
	} else if ((env = getenv("ACCESSMON_WEBHOOK_TOKEN")) && *env) {
		snprintf(buf, sizeof(buf), "%s", env);
		len = strlen(buf);
	} else {
		return 0;
	}
	while (len && (buf[len - 1] == '\n' || buf[len - 1] == '\r' || buf[len - 1] == ' '))
		buf[--len] = '\0';
	if (strpbrk(buf, "\r\n"))
		return -EINVAL;
	*token = malloc(len + sizeof("Authorization: Bearer "));
	if (!*token)
		return -ENOMEM;
	sprintf(*token, "Authorization: Bearer %s", buf);
	return 0;
}

static enum post_result webhook_post(struct sink *sink)
{
	struct curl_slist *headers = NULL;
	long status = 0;
	CURLcode code;
	int rc;

	if (!sink->curl && !(sink->curl = curl_easy_init())) {
		sink_set_reason(sink, "cannot start an HTTP client");
		return POST_RETRY;
	}
	rc = read_token(&sink->spec, &sink->token);
	if (rc) {
		sink_set_reason(sink, "token file %s: %s", sink->spec.token_file, strerror(-rc));
		return POST_RETRY;
	}
	headers = curl_slist_append(headers, "Content-Type: application/x-ndjson");
	if (sink->token)
		headers = curl_slist_append(headers, sink->token);
	curl_easy_reset(sink->curl);
	curl_easy_setopt(sink->curl, CURLOPT_URL, sink->spec.target);
	curl_easy_setopt(sink->curl, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(sink->curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(sink->curl, CURLOPT_HTTPHEADER, headers);
	curl_easy_setopt(sink->curl, CURLOPT_POSTFIELDS, sink->body);
	curl_easy_setopt(sink->curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)sink->body_len);
	curl_easy_setopt(sink->curl, CURLOPT_TIMEOUT_MS, (long)sink->spec.timeout_ms);
	curl_easy_setopt(sink->curl, CURLOPT_CONNECTTIMEOUT_MS,
			 (long)(sink->spec.timeout_ms < 5000 ? sink->spec.timeout_ms : 5000));
	curl_easy_setopt(sink->curl, CURLOPT_WRITEFUNCTION, discard_body);
	curl_easy_setopt(sink->curl, CURLOPT_USERAGENT, "accessmon/" ACCESSMON_VERSION);
	if (sink->spec.ca_file)
		curl_easy_setopt(sink->curl, CURLOPT_CAINFO, sink->spec.ca_file);
	if (sink->spec.insecure) {
		curl_easy_setopt(sink->curl, CURLOPT_SSL_VERIFYPEER, 0L);
		curl_easy_setopt(sink->curl, CURLOPT_SSL_VERIFYHOST, 0L);
	}
	code = curl_easy_perform(sink->curl);
	curl_slist_free_all(headers);
	if (code != CURLE_OK) {
		sink_set_reason(sink, "POST failed: %s", curl_easy_strerror(code));
		return POST_RETRY;
	}
	curl_easy_getinfo(sink->curl, CURLINFO_RESPONSE_CODE, &status);
	if (status >= 200 && status < 300)
		return POST_OK;
	sink_set_reason(sink, "POST answered HTTP %ld", status);
	/* Over capacity or failing: try again. Anything else will not change by retrying. */
	if (status == 408 || status == 429 || status >= 500)
		return POST_RETRY;
	return POST_REJECTED;
}

static int webhook_sink_open(struct sink *sink, struct am_error *err)
{
	const struct sink_spec *spec = &sink->spec;
	int rc;

	sink->body = malloc(spec->batch_bytes);
	rc = read_token(spec, &sink->token);
	if (rc || !sink->body) {
		am_error_set(err, "sink %s: token file %s: %s", spec->name,
			     spec->token_file ? spec->token_file : "-",
			     strerror(rc ? -rc : ENOMEM));
		return rc ? rc : -ENOMEM;
	}
	return 0;
}

static void webhook_sink_close(struct sink *sink)
{
	if (sink->curl)
		curl_easy_cleanup(sink->curl);
	free(sink->body);
	free(sink->token);
}

const struct sink_ops sink_webhook_ops = {
	.open = webhook_sink_open,
	.post = webhook_post,
	.close = webhook_sink_close,
};
