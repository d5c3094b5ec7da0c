// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* --sink parsing; see sink_spec.h. */
#include "sinks/sink_spec.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/size.h"

const char *sink_kind_name(enum sink_kind kind)
{
	switch (kind) {
	case SINK_FILE:
		return "file";
	case SINK_SYSLOG:
		return "syslog";
	case SINK_WEBHOOK:
		return "webhook";
	default:
		return "stdout";
	}
}

/* --- parsing ----------------------------------------------------------------- */

static const char *const facilities[] = {
	"kern", "user", "mail", "daemon", "auth", "syslog", "lpr", "news",
	"uucp", "cron", "authpriv", "ftp", NULL, NULL, NULL, NULL,
	"local0", "local1", "local2", "local3", "local4", "local5", "local6", "local7",
};

static int parse_facility(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(facilities) / sizeof(facilities[0]); i++)
		if (facilities[i] && strcmp(facilities[i], name) == 0)
			return (int)i;
	return -1;
}

static int parse_count(const char *text, unsigned long min, unsigned long max,
		       unsigned int *out)
{
	unsigned long value;
	char *end;

	errno = 0;
	value = strtoul(text, &end, 10);
	if (errno || end == text || *end || text[0] == '-' || value < min || value > max)
		return -EINVAL;
	*out = (unsigned int)value;
	return 0;
}

/* The URL as it may be shown: no user:password@, no query, no fragment. */
static char *redacted_url(const char *url)
{
	const char *scheme_end = strstr(url, "://");
	const char *authority, *path_start, *at, *end;
	char *name;

	if (!scheme_end)
		return strdup(url);
	authority = scheme_end + 3;
	path_start = authority + strcspn(authority, "/?#");
	at = memchr(authority, '@', (size_t)(path_start - authority));
	end = path_start + strcspn(path_start, "?#");
	name = malloc(strlen(url) + 1);
	if (!name)
		return NULL;
	snprintf(name, strlen(url) + 1, "%.*s%.*s", (int)(authority - url), url,
		 (int)(end - (at ? at + 1 : authority)), at ? at + 1 : authority);
	return name;
}

/* HOST:PORT or [HOST]:PORT into target and port; the port may be left out. */
static int split_host_port(const char *text, const char *default_port, struct sink_spec *spec)
{
	const char *colon;
	size_t host_len;

	if (text[0] == '[') {
		const char *close = strchr(text, ']');

		if (!close || (close[1] && close[1] != ':'))
			return -EINVAL;
		host_len = (size_t)(close - text - 1);
		spec->target = strndup(text + 1, host_len);
		colon = close[1] ? close + 1 : NULL;
	} else {
		colon = strrchr(text, ':');
		host_len = colon ? (size_t)(colon - text) : strlen(text);
		spec->target = strndup(text, host_len);
	}
	spec->port = strdup(colon ? colon + 1 : default_port);
	if (!spec->target || !spec->port || !host_len || !spec->port[0])
		return -EINVAL;
	if (spec->port[strspn(spec->port, "0123456789")] != '\0')
		return -EINVAL;
	return 0;
}

static int parse_target(const char *type, const char *target, struct sink_spec *spec,
			struct am_error *err)
{
	if (strcmp(type, "stdout") == 0) {
		spec->kind = SINK_STDOUT;
		if (target) {
			am_error_set(err, "stdout takes no target");
			return -EINVAL;
		}
		return 0;
	}
	if (strcmp(type, "file") == 0) {
		spec->kind = SINK_FILE;
		if (!target || target[0] != '/') {
			am_error_set(err, "file: give an absolute path, like "
					  "file:/var/log/accessmon/alerts.jsonl");
			return -EINVAL;
		}
		spec->target = strdup(target);
		return 0;
	}
	if (strcmp(type, "syslog") == 0) {
		spec->kind = SINK_SYSLOG;
		if (!target) {
			spec->transport = SYSLOG_UNIX;
			spec->target = strdup("/dev/log");
			return 0;
		}
		if (strncmp(target, "unix:", 5) == 0 && target[5] == '/') {
			spec->transport = SYSLOG_UNIX;
			spec->target = strdup(target + 5);
			return 0;
		}
		if (strncmp(target, "udp:", 4) == 0 || strncmp(target, "tcp:", 4) == 0) {
			spec->transport = target[0] == 'u' ? SYSLOG_UDP : SYSLOG_TCP;
			if (split_host_port(target + 4, target[0] == 'u' ? "514" : "601", spec) == 0)
				return 0;
		}
		am_error_set(err, "syslog: expected syslog, syslog:unix:/PATH, syslog:udp:HOST:PORT "
				  "or syslog:tcp:HOST:PORT");
		return -EINVAL;
	}
	if (strcmp(type, "webhook") == 0) {
		spec->kind = SINK_WEBHOOK;
		if (!target ||
		    (strncmp(target, "https://", 8) != 0 && strncmp(target, "http://", 7) != 0) ||
		    !target[strspn(target, "htps:/")]) {
			am_error_set(err, "webhook: give an http:// or https:// URL, like "
					  "webhook:https://receiver.example:8888/alerts");
			return -EINVAL;
		}
		if (strchr(target, '@') && strchr(target, '@') < target + 8 + strcspn(target + 8, "/")) {
			am_error_set(err, "webhook: no credentials in the URL (they would show in "
					  "the process list); use token-file=FILE or "
					  "$ACCESSMON_WEBHOOK_TOKEN");
			return -EINVAL;
		}
		spec->target = strdup(target);
		spec->name = NULL;
		return 0;
	}
	am_error_set(err, "unknown sink type '%s': expected stdout, file, syslog or webhook", type);
	return -EINVAL;
}

static int parse_option(const char *key, const char *value, struct sink_spec *spec,
			struct am_error *err)
{
	bool webhook = spec->kind == SINK_WEBHOOK;

	if (strcmp(key, "queue") == 0 && value) {
		if (parse_size(value, &spec->queue_bytes) || spec->queue_bytes < 65536 ||
		    spec->queue_bytes > (1ull << 34))
			goto bad_value;
		return 0;
	}
	if (spec->kind == SINK_FILE && strcmp(key, "max-size") == 0 && value) {
		if (parse_size(value, &spec->max_size) || spec->max_size < 65536)
			goto bad_value;
		return 0;
	}
	if (spec->kind == SINK_FILE && strcmp(key, "keep") == 0 && value)
		return parse_count(value, 0, 1000, &spec->keep) ? (am_error_set(err, "keep=%s: "
				"expected a number from 0 to 1000", value), -EINVAL) : 0;
	if (spec->kind == SINK_SYSLOG && strcmp(key, "facility") == 0 && value) {
		spec->facility = parse_facility(value);
		if (spec->facility < 0) {
			am_error_set(err, "facility=%s: expected a syslog facility such as authpriv, "
					  "daemon or local0 to local7", value);
			return -EINVAL;
		}
		return 0;
	}
	/* Given twice, the last one counts (as for every option). */
	if (webhook && strcmp(key, "token-file") == 0 && value && value[0]) {
		free(spec->token_file);
		spec->token_file = strdup(value);
		return 0;
	}
	if (webhook && strcmp(key, "ca-file") == 0 && value && value[0]) {
		free(spec->ca_file);
		spec->ca_file = strdup(value);
		return 0;
	}
	if (webhook && strcmp(key, "insecure") == 0 && !value) {
		spec->insecure = true;
		return 0;
	}
	if (webhook && strcmp(key, "batch-lines") == 0 && value)
		return parse_count(value, 1, 100000, &spec->batch_lines) ? (am_error_set(err,
				"batch-lines=%s: expected 1 to 100000", value), -EINVAL) : 0;
	if (webhook && strcmp(key, "batch-bytes") == 0 && value) {
		if (parse_size(value, &spec->batch_bytes) || spec->batch_bytes < 1024 ||
		    spec->batch_bytes > (64ull << 20))
			goto bad_value;
		return 0;
	}
	if (webhook && strcmp(key, "flush-ms") == 0 && value)
		return parse_count(value, 1, 600000, &spec->flush_ms) ? (am_error_set(err,
				"flush-ms=%s: expected 1 to 600000", value), -EINVAL) : 0;
	if (webhook && strcmp(key, "timeout-ms") == 0 && value)
		return parse_count(value, 100, 600000, &spec->timeout_ms) ? (am_error_set(err,
				"timeout-ms=%s: expected 100 to 600000", value), -EINVAL) : 0;
	am_error_set(err, "%s sink: unknown option '%s%s%s'", sink_kind_name(spec->kind), key,
		     value ? "=" : "", value ? value : "");
	return -EINVAL;
bad_value:
	am_error_set(err, "%s=%s: expected a size like 64K, 8M or 1G", key, value);
	return -EINVAL;
}

int sink_spec_parse(const char *text, struct sink_spec *spec, struct am_error *err)
{
	char *copy = strdup(text), *type, *target, *options, *option;
	int rc = -EINVAL;

	memset(spec, 0, sizeof(*spec));
	spec->queue_bytes = SINK_DEFAULT_QUEUE_BYTES;
	spec->max_size = SINK_DEFAULT_FILE_MAX_SIZE;
	spec->keep = SINK_DEFAULT_FILE_KEEP;
	spec->facility = 10; /* authpriv: security messages, kept from ordinary users */
	spec->batch_lines = SINK_DEFAULT_BATCH_LINES;
	spec->batch_bytes = SINK_DEFAULT_BATCH_BYTES;
	spec->flush_ms = SINK_DEFAULT_FLUSH_MS;
	spec->timeout_ms = SINK_DEFAULT_TIMEOUT_MS;
	spec->text = strdup(text);
	if (!copy || !spec->text) {
		am_error_set(err, "out of memory");
		rc = -ENOMEM;
		goto out;
	}
	options = strchr(copy, ',');
	if (options)
		*options++ = '\0';
	type = copy;
	target = strchr(copy, ':');
	if (target)
		*target++ = '\0';
	if (parse_target(type, target, spec, err))
		goto out;
	while (options && *options) {
		char *value;

		option = options;
		options = strchr(options, ',');
		if (options)
			*options++ = '\0';
		value = strchr(option, '=');
		if (value)
			*value++ = '\0';
		if (parse_option(option, value, spec, err))
			goto out;
	}
	if (spec->kind == SINK_WEBHOOK) {
		spec->name = redacted_url(spec->target);
		if (spec->name) {
			char *named = malloc(strlen(spec->name) + sizeof("webhook:"));

			if (named)
				sprintf(named, "webhook:%s", spec->name);
			free(spec->name);
			spec->name = named;
		}
	} else if (spec->kind == SINK_STDOUT) {
		spec->name = strdup("stdout");
	} else if (spec->kind == SINK_FILE) {
		spec->name = malloc(strlen(spec->target) + sizeof("file:"));
		if (spec->name)
			sprintf(spec->name, "file:%s", spec->target);
	} else {
		static const char *const transports[] = {"unix", "udp", "tcp"};
		size_t len = strlen(spec->target) + (spec->port ? strlen(spec->port) : 0) + 32;

		spec->name = malloc(len);
		if (spec->name)
			snprintf(spec->name, len, "syslog:%s:%s%s%s", transports[spec->transport],
				 spec->target, spec->port ? ":" : "", spec->port ? spec->port : "");
	}
	if (!spec->name) {
		am_error_set(err, "out of memory");
		rc = -ENOMEM;
		goto out;
	}
	rc = 0;
out:
	free(copy);
	if (rc)
		sink_spec_release(spec);
	return rc;
}

void sink_spec_release(struct sink_spec *spec)
{
	free(spec->text);
	free(spec->name);
	free(spec->target);
	free(spec->port);
	free(spec->token_file);
	free(spec->ca_file);
	memset(spec, 0, sizeof(*spec));
}

int sink_spec_copy(struct sink_spec *to, const struct sink_spec *from)
{
	struct am_error err;

	/* Parsing the text again is the one way to copy that cannot forget a field. */
	return sink_spec_parse(from->text, to, &err);
}

