// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * The syslog sink: RFC 5424 messages over a Unix datagram socket, UDP, or TCP
 * with RFC 6587 octet counting; a cut connection is made again.
 */
#include "sinks/sink_private.h"

#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "event/severity.h"

#define SYSLOG_UDP_MAX 65000

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

static void syslog_sink_close(struct sink *sink)
{
	if (sink->fd >= 0)
		close(sink->fd);
}

const struct sink_ops sink_syslog_ops = {
	.doing = "sending",
	.write = deliver_syslog,
	.close = syslog_sink_close,
};
