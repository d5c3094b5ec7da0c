// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* Alert sinks with bounded queues, a thread each; see sinks.h. */
#include "sinks/sinks.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "lib/clock.h"
#include "cmd/options.h"
#include "detect/policy.h"

/* A batch the event loop filled: lines, each followed by '\n', shared by every sink. */
#define CHUNK_MIN_BYTES (64u << 10)
#define CHUNK_MAX_LINES 1024
#define TOKEN_MAX_BYTES 8192
#define SYSLOG_UDP_MAX 65000
#define SYSLOG_HOST_MAX 255
#define STOP_GRACE_MS 2000

struct line_entry {
	uint32_t offset;
	uint32_t len; /* without the '\n' */
	struct line_meta meta;
};

struct chunk {
	atomic_int refs;
	size_t used, cap;
	size_t n_lines;
	char *data;
	struct line_entry lines[CHUNK_MAX_LINES];
};

struct queued {
	struct chunk *chunk;
	struct queued *next;
};

struct sink {
	struct sink_spec spec;
	const char *host;
	pthread_t thread;
	bool started;
	pthread_mutex_t lock;
	pthread_cond_t wake;
	/* under lock */
	struct queued *head, *tail;
	size_t head_line; /* the consumer's place in head's chunk */
	uint64_t queued_bytes, queued_lines;
	bool stopping;
	uint64_t drain_deadline_ns;
	char reason[160]; /* why lines are waiting or were dropped */
	uint64_t drops_reported;
	uint64_t drops_reported_ns; /* when, by the caller's clock */
	/* read by any thread */
	atomic_uint_fast64_t written, dropped, failures;
	atomic_bool up;
	/* the worker's own */
	int fd;
	uint64_t file_size;
	struct sockaddr_storage addr;
	socklen_t addr_len;
	CURL *curl;
	char *body;
	size_t body_len, body_lines;
	char *token;
};

struct sinks {
	struct sink **sinks;
	size_t n;
	char host[SYSLOG_HOST_MAX + 1];
	struct chunk *batch;
};

/* --- queue ------------------------------------------------------------------- */

static void chunk_put(struct chunk *chunk)
{
	if (chunk && atomic_fetch_sub(&chunk->refs, 1) == 1) {
		free(chunk->data);
		free(chunk);
	}
}

static struct chunk *chunk_new(size_t cap)
{
	struct chunk *chunk = malloc(sizeof(*chunk));

	if (!chunk)
		return NULL;
	chunk->cap = cap < CHUNK_MIN_BYTES ? CHUNK_MIN_BYTES : cap;
	chunk->data = malloc(chunk->cap);
	if (!chunk->data) {
		free(chunk);
		return NULL;
	}
	atomic_init(&chunk->refs, 1);
	chunk->used = 0;
	chunk->n_lines = 0;
	return chunk;
}

static void set_reason(struct sink *sink, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void set_reason(struct sink *sink, const char *fmt, ...)
{
	va_list args;

	va_start(args, fmt);
	vsnprintf(sink->reason, sizeof(sink->reason), fmt, args);
	va_end(args);
}

static void sink_enqueue(struct sink *sink, struct chunk *chunk)
{
	struct queued *node;

	pthread_mutex_lock(&sink->lock);
	if (sink->queued_bytes + chunk->used > sink->spec.queue_bytes ||
	    !(node = malloc(sizeof(*node)))) {
		atomic_fetch_add(&sink->dropped, chunk->n_lines);
		pthread_mutex_unlock(&sink->lock);
		return;
	}
	atomic_fetch_add(&chunk->refs, 1);
	node->chunk = chunk;
	node->next = NULL;
	if (sink->tail)
		sink->tail->next = node;
	else
		sink->head = node;
	sink->tail = node;
	sink->queued_bytes += chunk->used;
	sink->queued_lines += chunk->n_lines;
	pthread_cond_signal(&sink->wake);
	pthread_mutex_unlock(&sink->lock);
}

/* Under lock: the head chunk's lines [head_line, head_line + n) are delivered. */
static void sink_advance(struct sink *sink, size_t n)
{
	struct queued *node = sink->head;
	struct chunk *chunk = node->chunk;

	sink->head_line += n;
	sink->queued_lines -= n;
	if (sink->head_line < chunk->n_lines)
		return;
	sink->queued_bytes -= chunk->used;
	sink->head = node->next;
	if (!sink->head)
		sink->tail = NULL;
	sink->head_line = 0;
	free(node);
	chunk_put(chunk);
}

/* Under lock: waits until a line is queued, the deadline (0: none) or stop. */
static void sink_wait(struct sink *sink, uint64_t deadline_ns)
{
	struct timespec ts;

	if (sink->head || sink->stopping)
		return;
	if (!deadline_ns) {
		pthread_cond_wait(&sink->wake, &sink->lock);
		return;
	}
	ts.tv_sec = (time_t)(deadline_ns / 1000000000ull);
	ts.tv_nsec = (long)(deadline_ns % 1000000000ull);
	pthread_cond_timedwait(&sink->wake, &sink->lock, &ts);
}

/* Between failed attempts: 250 ms doubling to 30 s; false once the sink must stop. */
static bool sink_backoff(struct sink *sink, unsigned int *delay_ms)
{
	uint64_t until = monotonic_ns() + (uint64_t)*delay_ms * 1000000ull;
	bool go_on = true;
	struct timespec ts;

	pthread_mutex_lock(&sink->lock);
	if (sink->stopping && until > sink->drain_deadline_ns)
		until = sink->drain_deadline_ns;
	ts.tv_sec = (time_t)(until / 1000000000ull);
	ts.tv_nsec = (long)(until % 1000000000ull);
	while (monotonic_ns() < until) {
		if (pthread_cond_timedwait(&sink->wake, &sink->lock, &ts) == ETIMEDOUT)
			break;
		if (sink->stopping && sink->drain_deadline_ns < until)
			break;
	}
	if (sink->stopping && monotonic_ns() >= sink->drain_deadline_ns)
		go_on = false;
	pthread_mutex_unlock(&sink->lock);
	*delay_ms = *delay_ms * 2 > SINK_RETRY_MAX_MS ? SINK_RETRY_MAX_MS : *delay_ms * 2;
	return go_on;
}

/* --- stdout and file ---------------------------------------------------------- */

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

/* --- syslog ------------------------------------------------------------------ */

static int syslog_severity(const struct line_meta *meta)
{
	if (meta->line_class == LINE_LOSS)
		return 4; /* warning */
	if (meta->line_class != LINE_ALERT)
		return 6; /* informational */
	switch (meta->severity) {
	case SEVERITY_CRITICAL:
		return 2;
	case SEVERITY_HIGH:
		return 3;
	case SEVERITY_MEDIUM:
		return 4;
	default:
		return 5;
	}
}

static int syslog_connect(struct sink *sink)
{
	int type = sink->spec.transport == SYSLOG_TCP ? SOCK_STREAM : SOCK_DGRAM;
	int fd;

	if (sink->spec.transport == SYSLOG_UNIX) {
		struct sockaddr_un un = {.sun_family = AF_UNIX};

		if (strlen(sink->spec.target) >= sizeof(un.sun_path))
			return -ENAMETOOLONG;
		strcpy(un.sun_path, sink->spec.target);
		fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
		if (fd < 0)
			return -errno;
		if (connect(fd, (struct sockaddr *)&un, sizeof(un)) < 0) {
			int rc = -errno;

			close(fd);
			return rc;
		}
	} else {
		struct addrinfo hints = {.ai_socktype = type}, *found, *ai;
		int rc = getaddrinfo(sink->spec.target, sink->spec.port, &hints, &found);

		if (rc)
			return -EHOSTUNREACH;
		fd = -1;
		for (ai = found; ai; ai = ai->ai_next) {
			fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
			if (fd < 0)
				continue;
			if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
				break;
			close(fd);
			fd = -1;
		}
		rc = fd < 0 ? -errno : 0;
		freeaddrinfo(found);
		if (fd < 0)
			return rc ? rc : -ECONNREFUSED;
	}
	sink->fd = fd;
	return 0;
}

/* RFC 5424: <PRI>1 TIMESTAMP HOSTNAME APP-NAME PROCID MSGID STRUCTURED-DATA MSG */
static int syslog_header(const struct sink *sink, const struct line_meta *meta, char *out,
			 size_t size)
{
	static const char *const msgids[] = {"event", "alert", "loss"};
	struct timespec now;
	struct tm tm;
	char stamp[32];

	clock_gettime(CLOCK_REALTIME, &now);
	gmtime_r(&now.tv_sec, &tm);
	strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", &tm);
	return snprintf(out, size, "<%d>1 %s.%06ldZ %s accessmon %d %s - ",
			sink->spec.facility * 8 + syslog_severity(meta), stamp, now.tv_nsec / 1000,
			sink->host, (int)getpid(), msgids[meta->line_class > 2 ? 0 : meta->line_class]);
}

static int syslog_send_one(struct sink *sink, const char *line, const struct line_entry *entry)
{
	char header[400], frame[24];
	struct iovec iov[3];
	struct msghdr msg = {.msg_iov = iov};
	size_t total, sent = 0;
	int header_len;

	header_len = syslog_header(sink, &entry->meta, header, sizeof(header));
	if (header_len < 0 || (size_t)header_len >= sizeof(header))
		return -EINVAL;
	total = (size_t)header_len + entry->len;
	if (sink->spec.transport == SYSLOG_TCP) {
		/* RFC 6587 octet counting: a JSON line may hold no newline, but say its length. */
		int n = snprintf(frame, sizeof(frame), "%zu ", total);

		iov[0] = (struct iovec){frame, (size_t)n};
		iov[1] = (struct iovec){header, (size_t)header_len};
		iov[2] = (struct iovec){(void *)line, entry->len};
		msg.msg_iovlen = 3;
		total += (size_t)n;
	} else {
		iov[0] = (struct iovec){header, (size_t)header_len};
		iov[1] = (struct iovec){(void *)line, entry->len};
		msg.msg_iovlen = 2;
		if (total > SYSLOG_UDP_MAX) /* RFC 5426 lets a sender truncate */
			iov[1].iov_len = SYSLOG_UDP_MAX - (size_t)header_len;
	}
	while (sent < total) {
		ssize_t n = sendmsg(sink->fd, &msg, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (sink->spec.transport != SYSLOG_TCP)
			return 0;
		sent += (size_t)n;
		while (msg.msg_iovlen && (size_t)n >= msg.msg_iov[0].iov_len) {
			n -= (ssize_t)msg.msg_iov[0].iov_len;
			msg.msg_iov++;
			msg.msg_iovlen--;
		}
		if (msg.msg_iovlen) {
			msg.msg_iov[0].iov_base = (char *)msg.msg_iov[0].iov_base + n;
			msg.msg_iov[0].iov_len -= (size_t)n;
		}
	}
	return 0;
}

static ssize_t deliver_syslog(struct sink *sink, const struct chunk *chunk, size_t first,
			      size_t n)
{
	size_t i;
	int rc;

	if (sink->fd < 0) {
		rc = syslog_connect(sink);
		if (rc)
			return rc;
	}
	for (i = 0; i < n; i++) {
		const struct line_entry *entry = &chunk->lines[first + i];

		rc = syslog_send_one(sink, chunk->data + entry->offset, entry);
		if (rc) {
			/* A stream cut mid-message is reconnected and the message sent whole. */
			close(sink->fd);
			sink->fd = -1;
			return i ? (ssize_t)i : rc;
		}
	}
	return (ssize_t)n;
}

/* --- webhook ------------------------------------------------------------------ */

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

enum post_result { POST_OK, POST_RETRY, POST_REJECTED };

static enum post_result webhook_post(struct sink *sink)
{
	struct curl_slist *headers = NULL;
	long status = 0;
	CURLcode code;
	int rc;

	if (!sink->curl && !(sink->curl = curl_easy_init())) {
		set_reason(sink, "cannot start an HTTP client");
		return POST_RETRY;
	}
	rc = read_token(&sink->spec, &sink->token);
	if (rc) {
		set_reason(sink, "token file %s: %s", sink->spec.token_file, strerror(-rc));
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
		set_reason(sink, "POST failed: %s", curl_easy_strerror(code));
		return POST_RETRY;
	}
	curl_easy_getinfo(sink->curl, CURLINFO_RESPONSE_CODE, &status);
	if (status >= 200 && status < 300)
		return POST_OK;
	set_reason(sink, "POST answered HTTP %ld", status);
	/* Over capacity or failing: try again. Anything else will not change by retrying. */
	if (status == 408 || status == 429 || status >= 500)
		return POST_RETRY;
	return POST_REJECTED;
}

/* --- workers ------------------------------------------------------------------ */

static void sink_failed(struct sink *sink, int rc, const char *what)
{
	atomic_fetch_add(&sink->failures, 1);
	atomic_store(&sink->up, false);
	pthread_mutex_lock(&sink->lock);
	if (rc)
		set_reason(sink, "%s: %s", what, strerror(-rc));
	pthread_mutex_unlock(&sink->lock);
}

/* Lines still queued when a stopping sink runs out of time are dropped, counted. */
static void sink_drop_queued(struct sink *sink)
{
	pthread_mutex_lock(&sink->lock);
	atomic_fetch_add(&sink->dropped, sink->queued_lines + sink->body_lines);
	sink->body_lines = 0;
	sink->body_len = 0;
	while (sink->head)
		sink_advance(sink, sink->head->chunk->n_lines - sink->head_line);
	set_reason(sink, "stopped with lines undelivered");
	pthread_mutex_unlock(&sink->lock);
}

/* stdout, file and syslog: lines go out in queue order, a failed one is retried. */
static void run_stream_sink(struct sink *sink)
{
	unsigned int delay_ms = SINK_RETRY_FIRST_MS;

	for (;;) {
		struct chunk *chunk;
		size_t first, n;
		ssize_t done;

		pthread_mutex_lock(&sink->lock);
		while (!sink->head && !sink->stopping)
			sink_wait(sink, 0);
		if (!sink->head) {
			pthread_mutex_unlock(&sink->lock);
			return;
		}
		chunk = sink->head->chunk;
		first = sink->head_line;
		n = chunk->n_lines - first;
		pthread_mutex_unlock(&sink->lock);

		done = sink->spec.kind == SINK_SYSLOG ? deliver_syslog(sink, chunk, first, n)
						      : deliver_fd(sink, chunk, first, n);
		if (done > 0) {
			pthread_mutex_lock(&sink->lock);
			sink_advance(sink, (size_t)done);
			pthread_mutex_unlock(&sink->lock);
			atomic_fetch_add(&sink->written, (uint64_t)done);
			atomic_store(&sink->up, true);
			delay_ms = SINK_RETRY_FIRST_MS;
			continue;
		}
		sink_failed(sink, (int)done,
			    sink->spec.kind == SINK_SYSLOG ? "sending" : "writing");
		if (!sink_backoff(sink, &delay_ms)) {
			sink_drop_queued(sink);
			return;
		}
	}
}

/* Moves queued lines into the POST body up to the batch limits; under lock. */
static void webhook_fill(struct sink *sink)
{
	while (sink->head && sink->body_lines < sink->spec.batch_lines) {
		const struct chunk *chunk = sink->head->chunk;
		const struct line_entry *entry = &chunk->lines[sink->head_line];

		if (sink->body_len && sink->body_len + entry->len + 1 > sink->spec.batch_bytes)
			break;
		if (sink->body_len + entry->len + 1 > sink->spec.batch_bytes) {
			/* One line over the batch size goes alone. */
			char *grown = realloc(sink->body, entry->len + 1);

			if (!grown)
				break;
			sink->body = grown;
		}
		memcpy(sink->body + sink->body_len, chunk->data + entry->offset, entry->len + 1);
		sink->body_len += entry->len + 1;
		sink->body_lines++;
		sink_advance(sink, 1);
	}
}

static void run_webhook_sink(struct sink *sink)
{
	unsigned int delay_ms = SINK_RETRY_FIRST_MS;
	uint64_t batch_started_ns = 0;

	for (;;) {
		bool full, due;
		enum post_result result;

		pthread_mutex_lock(&sink->lock);
		if (!sink->body_lines) {
			while (!sink->head && !sink->stopping)
				sink_wait(sink, 0);
			if (!sink->head) {
				pthread_mutex_unlock(&sink->lock);
				return;
			}
			batch_started_ns = monotonic_ns();
		}
		webhook_fill(sink);
		full = sink->body_lines >= sink->spec.batch_lines ||
		       (sink->head && sink->body_len) || sink->stopping;
		due = monotonic_ns() >= batch_started_ns + (uint64_t)sink->spec.flush_ms * 1000000ull;
		if (!full && !due) {
			sink_wait(sink, batch_started_ns + (uint64_t)sink->spec.flush_ms * 1000000ull);
			pthread_mutex_unlock(&sink->lock);
			continue;
		}
		pthread_mutex_unlock(&sink->lock);

		result = webhook_post(sink);
		if (result == POST_RETRY) {
			atomic_fetch_add(&sink->failures, 1);
			atomic_store(&sink->up, false);
			if (!sink_backoff(sink, &delay_ms)) {
				sink_drop_queued(sink);
				return;
			}
			continue;
		}
		pthread_mutex_lock(&sink->lock);
		if (result == POST_OK) {
			atomic_fetch_add(&sink->written, sink->body_lines);
			atomic_store(&sink->up, true);
		} else {
			/* The receiver refused this batch for good: dropped, and said why. */
			atomic_fetch_add(&sink->dropped, sink->body_lines);
			atomic_fetch_add(&sink->failures, 1);
		}
		sink->body_lines = 0;
		sink->body_len = 0;
		pthread_mutex_unlock(&sink->lock);
		delay_ms = SINK_RETRY_FIRST_MS;
	}
}

static void *sink_thread(void *arg)
{
	struct sink *sink = arg;

	if (sink->spec.kind == SINK_WEBHOOK)
		run_webhook_sink(sink);
	else
		run_stream_sink(sink);
	return NULL;
}

/* --- the set ------------------------------------------------------------------ */

static void sink_free(struct sink *sink)
{
	if (!sink)
		return;
	if (sink->fd >= 0 && sink->spec.kind != SINK_STDOUT)
		close(sink->fd);
	if (sink->curl)
		curl_easy_cleanup(sink->curl);
	free(sink->body);
	free(sink->token);
	while (sink->head)
		sink_advance(sink, sink->head->chunk->n_lines - sink->head_line);
	pthread_mutex_destroy(&sink->lock);
	pthread_cond_destroy(&sink->wake);
	sink_spec_release(&sink->spec);
	free(sink);
}

static struct sink *sink_start(const struct sink_spec *spec, const char *host,
			       struct am_error *err)
{
	struct sink *sink = calloc(1, sizeof(*sink));
	pthread_condattr_t attr;
	int rc;

	if (!sink || sink_spec_copy(&sink->spec, spec)) {
		free(sink);
		am_error_set(err, "out of memory");
		return NULL;
	}
	sink->host = host;
	sink->fd = spec->kind == SINK_STDOUT ? STDOUT_FILENO : -1;
	atomic_init(&sink->written, 0);
	atomic_init(&sink->dropped, 0);
	atomic_init(&sink->failures, 0);
	atomic_init(&sink->up, true);
	pthread_mutex_init(&sink->lock, NULL);
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&sink->wake, &attr);
	pthread_condattr_destroy(&attr);
	if (spec->kind == SINK_FILE) {
		rc = file_open(sink);
		if (rc) {
			am_error_set(err, "sink %s: %s", spec->name,
				     rc == -ELOOP ? "is a symbolic link; give the file itself"
				     : rc == -EINVAL ? "is not a regular file"
						     : strerror(-rc));
			goto fail;
		}
	}
	if (spec->kind == SINK_WEBHOOK) {
		sink->body = malloc(spec->batch_bytes);
		rc = read_token(spec, &sink->token);
		if (rc || !sink->body) {
			am_error_set(err, "sink %s: token file %s: %s", spec->name,
				     spec->token_file ? spec->token_file : "-",
				     strerror(rc ? -rc : ENOMEM));
			goto fail;
		}
	}
	if (pthread_create(&sink->thread, NULL, sink_thread, sink)) {
		am_error_set(err, "sink %s: cannot start its thread", spec->name);
		goto fail;
	}
	sink->started = true;
	return sink;
fail:
	sink_free(sink);
	return NULL;
}

/* A thread blocked in write() or send() cannot be woken; wait for it this long. */
static bool sink_join(struct sink *sink, unsigned int wait_ms)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += (time_t)(wait_ms / 1000);
	ts.tv_nsec += (long)(wait_ms % 1000) * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	return pthread_timedjoin_np(sink->thread, NULL, &ts) == 0;
}

/* Asks a sink to finish what is queued by the deadline, and waits for it. */
static uint64_t sink_stop(struct sink *sink, unsigned int drain_ms)
{
	uint64_t lost;

	if (!sink)
		return 0;
	if (sink->started) {
		pthread_mutex_lock(&sink->lock);
		sink->stopping = true;
		sink->drain_deadline_ns = monotonic_ns() + (uint64_t)drain_ms * 1000000ull;
		pthread_cond_broadcast(&sink->wake);
		pthread_mutex_unlock(&sink->lock);
		if (!sink_join(sink, drain_ms + STOP_GRACE_MS)) {
			/* Blocked in a write nobody reads: leave it, rather than hang the monitor. */
			pthread_detach(sink->thread);
			pthread_mutex_lock(&sink->lock);
			lost = sink->queued_lines + sink->body_lines;
			pthread_mutex_unlock(&sink->lock);
			return lost;
		}
	}
	lost = atomic_load(&sink->dropped) - sink->drops_reported;
	sink_free(sink);
	return lost;
}

struct sinks *sinks_start(const struct sink_spec *specs, size_t n_specs, const char *host,
			  struct am_error *err)
{
	struct sinks *sinks = calloc(1, sizeof(*sinks));
	uint64_t none;
	size_t i;

	if (!sinks) {
		am_error_set(err, "out of memory");
		return NULL;
	}
	snprintf(sinks->host, sizeof(sinks->host), "%s", host && *host ? host : "-");
	for (i = 0; sinks->host[i]; i++)
		if (sinks->host[i] <= ' ' || sinks->host[i] > '~')
			sinks->host[i] = '_';
	if (sinks_reconfigure(sinks, specs, n_specs, 0, &none, err)) {
		sinks_stop(sinks, 0);
		return NULL;
	}
	return sinks;
}

int sinks_reconfigure(struct sinks *sinks, const struct sink_spec *specs, size_t n_specs,
		      unsigned int drain_ms, uint64_t *undelivered, struct am_error *err)
{
	struct sink **next = calloc(n_specs ? n_specs : 1, sizeof(*next));
	size_t *from = calloc(n_specs ? n_specs : 1, sizeof(*from)); /* old index + 1; 0: new */
	size_t i, j;

	*undelivered = 0;
	if (!next || !from) {
		free(next);
		free(from);
		am_error_set(err, "out of memory");
		return -ENOMEM;
	}
	/* Lines written before the reload go to the sinks of before, all of them. */
	sinks_publish(sinks);
	for (i = 0; i < n_specs; i++) {
		for (j = 0; j < sinks->n; j++) {
			if (sinks->sinks[j] && strcmp(sinks->sinks[j]->spec.text, specs[i].text) == 0) {
				next[i] = sinks->sinks[j];
				sinks->sinks[j] = NULL;
				from[i] = j + 1;
				break;
			}
		}
		if (next[i] || (next[i] = sink_start(&specs[i], sinks->host, err)))
			continue;
		/* Keep the old set: give back what moved, stop what started. */
		for (j = 0; j < i; j++) {
			if (from[j])
				sinks->sinks[from[j] - 1] = next[j];
			else
				sink_stop(next[j], 0);
		}
		free(next);
		free(from);
		return -EINVAL;
	}
	for (j = 0; j < sinks->n; j++)
		*undelivered += sink_stop(sinks->sinks[j], drain_ms);
	free(sinks->sinks);
	free(from);
	sinks->sinks = next;
	sinks->n = n_specs;
	return 0;
}

void sinks_write(struct sinks *sinks, const char *line, size_t len, const struct line_meta *meta)
{
	struct chunk *chunk = sinks->batch;
	struct line_entry *entry;

	if (!sinks->n)
		return;
	if (chunk && (chunk->n_lines == CHUNK_MAX_LINES || chunk->used + len + 1 > chunk->cap)) {
		sinks_publish(sinks);
		chunk = NULL;
	}
	if (!chunk && !(chunk = sinks->batch = chunk_new(len + 1))) {
		size_t i;

		for (i = 0; i < sinks->n; i++)
			atomic_fetch_add(&sinks->sinks[i]->dropped, 1);
		return;
	}
	entry = &chunk->lines[chunk->n_lines++];
	entry->offset = (uint32_t)chunk->used;
	entry->len = (uint32_t)len;
	entry->meta = *meta;
	memcpy(chunk->data + chunk->used, line, len);
	chunk->data[chunk->used + len] = '\n';
	chunk->used += len + 1;
}

void sinks_publish(struct sinks *sinks)
{
	struct chunk *chunk = sinks->batch;
	size_t i;

	if (!chunk)
		return;
	sinks->batch = NULL;
	for (i = 0; i < sinks->n; i++)
		sink_enqueue(sinks->sinks[i], chunk);
	chunk_put(chunk);
}

int sinks_take_drops(struct sinks *sinks, uint64_t now_ns, uint64_t min_interval_ns,
		     uint64_t *dropped, uint64_t *dropped_total, const char **name, char *reason,
		     size_t reason_len)
{
	size_t i;

	for (i = 0; i < sinks->n; i++) {
		struct sink *sink = sinks->sinks[i];
		uint64_t total = atomic_load(&sink->dropped);

		if (total <= sink->drops_reported)
			continue;
		if (sink->drops_reported_ns && now_ns - sink->drops_reported_ns < min_interval_ns)
			continue;
		sink->drops_reported_ns = now_ns;
		*dropped = total - sink->drops_reported;
		*dropped_total = total;
		*name = sink->spec.name;
		pthread_mutex_lock(&sink->lock);
		snprintf(reason, reason_len, "queue full (%llu bytes)%s%s",
			 (unsigned long long)sink->spec.queue_bytes, sink->reason[0] ? ": " : "",
			 sink->reason);
		pthread_mutex_unlock(&sink->lock);
		sink->drops_reported = total;
		return (int)i;
	}
	return -1;
}

size_t sinks_count(const struct sinks *sinks)
{
	return sinks ? sinks->n : 0;
}

void sinks_stats(struct sinks *sinks, size_t index, struct sink_stats *stats)
{
	struct sink *sink = sinks->sinks[index];

	stats->name = sink->spec.name;
	stats->kind = sink_kind_name(sink->spec.kind);
	pthread_mutex_lock(&sink->lock);
	stats->queued_bytes = sink->queued_bytes + sink->body_len;
	stats->queued_lines = sink->queued_lines + sink->body_lines;
	pthread_mutex_unlock(&sink->lock);
	stats->written_lines = atomic_load(&sink->written);
	stats->dropped_lines = atomic_load(&sink->dropped);
	stats->failures = atomic_load(&sink->failures);
	stats->up = atomic_load(&sink->up);
}

uint64_t sinks_stop(struct sinks *sinks, unsigned int drain_ms)
{
	uint64_t lost = 0;
	size_t i;

	if (!sinks)
		return 0;
	sinks_publish(sinks);
	for (i = 0; i < sinks->n; i++)
		lost += sink_stop(sinks->sinks[i], drain_ms);
	chunk_put(sinks->batch);
	free(sinks->sinks);
	free(sinks);
	return lost;
}
