// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* A minimal HTTP/1.1 endpoint for metrics and health; see httpd.h. */
#include "metrics/httpd.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "lib/clock.h"

#define REQUEST_MAX_BYTES 8192
/* A client gets this long to send its request: a slow one cannot hold the endpoint. */
#define REQUEST_TIMEOUT_MS 2000
#define MAX_CONNECTIONS 64

struct httpd {
	int listen_fd;
	int stop_pipe[2];
	pthread_t thread;
	pthread_mutex_t lock;
	char *metrics; /* under lock */
	size_t metrics_len;
	atomic_uint_fast64_t heartbeat_ns;
	atomic_bool ready;
	int port;
};

/* One client: its request as it arrives, then the answer as the socket takes it. */
struct connection {
	int fd;
	uint64_t deadline_ns;
	char request[REQUEST_MAX_BYTES];
	size_t request_len;
	char *answer;
	size_t answer_len, answer_sent;
};

static void respond(struct connection *conn, int status, const char *reason, const char *type,
		    const char *body, size_t len, bool head)
{
	char header[256];
	int n = snprintf(header, sizeof(header),
			 "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
			 "Cache-Control: no-store\r\nConnection: close\r\n\r\n",
			 status, reason, type, len);

	conn->answer = malloc((size_t)n + (head ? 0 : len));
	if (!conn->answer)
		return;
	memcpy(conn->answer, header, (size_t)n);
	if (!head)
		memcpy(conn->answer + n, body, len);
	conn->answer_len = (size_t)n + (head ? 0 : len);
}

/* The request is complete: what it asks decides the answer. */
static void answer(struct httpd *httpd, struct connection *conn)
{
	const char *text = "text/plain; charset=utf-8";
	char method[8], path[256];
	bool head;

	if (sscanf(conn->request, "%7s %255s", method, path) != 2) {
		respond(conn, 400, "Bad Request", text, "bad request\n", 12, false);
		return;
	}
	head = strcmp(method, "HEAD") == 0;
	if (!head && strcmp(method, "GET") != 0) {
		respond(conn, 405, "Method Not Allowed", text, "GET or HEAD\n", 12, false);
		return;
	}
	path[strcspn(path, "?")] = '\0';
	if (strcmp(path, "/metrics") == 0) {
		pthread_mutex_lock(&httpd->lock);
		respond(conn, 200, "OK", "text/plain; version=0.0.4; charset=utf-8",
			httpd->metrics ? httpd->metrics : "", httpd->metrics_len, head);
		pthread_mutex_unlock(&httpd->lock);
	} else if (strcmp(path, "/healthz") == 0) {
		uint64_t beat = atomic_load(&httpd->heartbeat_ns), now = monotonic_ns();
		char body[128];
		int n;

		if (beat && now - beat > HTTPD_STALL_NS) {
			n = snprintf(body, sizeof(body), "event loop stalled for %llu s\n",
				     (unsigned long long)((now - beat) / 1000000000ull));
			respond(conn, 503, "Service Unavailable", text, body, (size_t)n, head);
		} else {
			respond(conn, 200, "OK", text, "ok\n", 3, head);
		}
	} else if (strcmp(path, "/readyz") == 0) {
		if (atomic_load(&httpd->ready))
			respond(conn, 200, "OK", text, "ready\n", 6, head);
		else
			respond(conn, 503, "Service Unavailable", text,
				"not ready: probes or first inventory not loaded yet\n", 52, head);
	} else {
		respond(conn, 404, "Not Found", text, "try /metrics, /healthz or /readyz\n", 34,
			head);
	}
}

static void connection_close(struct connection *conn)
{
	close(conn->fd);
	free(conn->answer);
	memset(conn, 0, sizeof(*conn));
	conn->fd = -1;
}

/* Reads what arrived; false when the connection is done with (closed or refused). */
static bool connection_read(struct httpd *httpd, struct connection *conn)
{
	ssize_t n = recv(conn->fd, conn->request + conn->request_len,
			 sizeof(conn->request) - 1 - conn->request_len, MSG_DONTWAIT);

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return true;
	if (n <= 0)
		return false;
	conn->request_len += (size_t)n;
	conn->request[conn->request_len] = '\0';
	if (strstr(conn->request, "\r\n\r\n") || strstr(conn->request, "\n\n"))
		answer(httpd, conn);
	else if (conn->request_len == sizeof(conn->request) - 1)
		respond(conn, 431, "Request Header Fields Too Large", "text/plain", "too large\n",
			10, false);
	return true;
}

/* Sends what the socket takes; false once all is sent or the client is gone. */
static bool connection_write(struct connection *conn)
{
	ssize_t n = send(conn->fd, conn->answer + conn->answer_sent,
			 conn->answer_len - conn->answer_sent, MSG_DONTWAIT | MSG_NOSIGNAL);

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return true;
	if (n <= 0)
		return false;
	conn->answer_sent += (size_t)n;
	return conn->answer_sent < conn->answer_len;
}

/*
 * Every client at once, none able to hold the others up: a pod that opens
 * connections and says nothing must not make the probes fail and the monitor
 * restart. Each client has REQUEST_TIMEOUT_MS in all; past MAX_CONNECTIONS the
 * oldest is dropped.
 */
static void *httpd_thread(void *arg)
{
	struct httpd *httpd = arg;
	struct connection *conns = calloc(MAX_CONNECTIONS, sizeof(*conns));
	size_t i;

	if (!conns)
		return NULL;
	for (i = 0; i < MAX_CONNECTIONS; i++)
		conns[i].fd = -1;
	for (;;) {
		struct pollfd fds[MAX_CONNECTIONS + 2];
		uint64_t now = monotonic_ns(), next = now + REQUEST_TIMEOUT_MS * 1000000ull;
		int fd;

		fds[0] = (struct pollfd){.fd = httpd->listen_fd, .events = POLLIN};
		fds[1] = (struct pollfd){.fd = httpd->stop_pipe[0], .events = POLLIN};
		for (i = 0; i < MAX_CONNECTIONS; i++) {
			struct connection *conn = &conns[i];

			if (conn->fd >= 0 && now >= conn->deadline_ns)
				connection_close(conn);
			if (conn->fd >= 0 && conn->deadline_ns < next)
				next = conn->deadline_ns;
			fds[i + 2] = (struct pollfd){.fd = conn->fd,
						     .events = conn->answer ? POLLOUT : POLLIN};
		}
		if (poll(fds, MAX_CONNECTIONS + 2, (int)((next - now) / 1000000ull) + 1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (fds[1].revents)
			break;
		for (i = 0; i < MAX_CONNECTIONS; i++) {
			struct connection *conn = &conns[i];
			bool open = true;

			if (conn->fd < 0 || !fds[i + 2].revents)
				continue;
			if (!conn->answer)
				open = connection_read(httpd, conn);
			if (open && conn->answer && (fds[i + 2].revents & POLLOUT || !conn->answer_sent))
				open = connection_write(conn);
			if (!open)
				connection_close(conn);
		}
		if (!(fds[0].revents & POLLIN))
			continue;
		fd = accept4(httpd->listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
		if (fd < 0)
			continue;
		{
			size_t slot = 0, oldest = 0;

			for (i = 0; i < MAX_CONNECTIONS; i++) {
				if (conns[i].fd < 0) {
					slot = i;
					break;
				}
				if (conns[i].deadline_ns < conns[oldest].deadline_ns)
					oldest = i;
			}
			if (i == MAX_CONNECTIONS) {
				connection_close(&conns[oldest]);
				slot = oldest;
			}
			conns[slot].fd = fd;
			conns[slot].deadline_ns = monotonic_ns() + REQUEST_TIMEOUT_MS * 1000000ull;
		}
	}
	for (i = 0; i < MAX_CONNECTIONS; i++)
		if (conns[i].fd >= 0)
			connection_close(&conns[i]);
	free(conns);
	return NULL;
}

static int bind_listener(struct httpd *httpd, const char *host, const char *port,
			 struct am_error *err)
{
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE}, *found, *ai;
	int rc = getaddrinfo(host, port, &hints, &found), one = 1, last_errno = 0;

	if (rc) {
		am_error_set(err, "--listen %s:%s: %s", host, port, gai_strerror(rc));
		return -EINVAL;
	}
	for (ai = found; ai; ai = ai->ai_next) {
		int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);

		if (fd < 0)
			continue;
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 && listen(fd, 16) == 0) {
			struct sockaddr_storage bound;
			socklen_t len = sizeof(bound);

			httpd->listen_fd = fd;
			if (getsockname(fd, (struct sockaddr *)&bound, &len) == 0)
				httpd->port = ntohs(bound.ss_family == AF_INET6
							    ? ((struct sockaddr_in6 *)&bound)->sin6_port
							    : ((struct sockaddr_in *)&bound)->sin_port);
			freeaddrinfo(found);
			return 0;
		}
		last_errno = errno;
		close(fd);
	}
	freeaddrinfo(found);
	am_error_set(err, "--listen %s:%s: %s%s", host, port, strerror(last_errno),
		     last_errno == EADDRINUSE ? " (is another accessmon running? give another port)"
					      : "");
	return -last_errno;
}

struct httpd *httpd_start(const char *host, const char *port, struct am_error *err)
{
	struct httpd *httpd = calloc(1, sizeof(*httpd));

	if (!httpd) {
		am_error_set(err, "out of memory");
		return NULL;
	}
	httpd->listen_fd = -1;
	httpd->stop_pipe[0] = httpd->stop_pipe[1] = -1;
	pthread_mutex_init(&httpd->lock, NULL);
	atomic_init(&httpd->heartbeat_ns, 0);
	atomic_init(&httpd->ready, false);
	if (bind_listener(httpd, host, port, err))
		goto fail;
	if (pipe2(httpd->stop_pipe, O_CLOEXEC) < 0 ||
	    pthread_create(&httpd->thread, NULL, httpd_thread, httpd)) {
		am_error_set(err, "--listen: cannot start the HTTP thread");
		goto fail;
	}
	return httpd;
fail:
	if (httpd->listen_fd >= 0)
		close(httpd->listen_fd);
	if (httpd->stop_pipe[0] >= 0) {
		close(httpd->stop_pipe[0]);
		close(httpd->stop_pipe[1]);
	}
	pthread_mutex_destroy(&httpd->lock);
	free(httpd);
	return NULL;
}

void httpd_stop(struct httpd *httpd)
{
	if (!httpd)
		return;
	if (write(httpd->stop_pipe[1], "x", 1) == 1)
		pthread_join(httpd->thread, NULL);
	close(httpd->listen_fd);
	close(httpd->stop_pipe[0]);
	close(httpd->stop_pipe[1]);
	pthread_mutex_destroy(&httpd->lock);
	free(httpd->metrics);
	free(httpd);
}

void httpd_publish_metrics(struct httpd *httpd, const char *text, size_t len)
{
	char *copy = malloc(len + 1);

	if (!copy)
		return;
	memcpy(copy, text, len);
	copy[len] = '\0';
	pthread_mutex_lock(&httpd->lock);
	free(httpd->metrics);
	httpd->metrics = copy;
	httpd->metrics_len = len;
	pthread_mutex_unlock(&httpd->lock);
}

void httpd_heartbeat(struct httpd *httpd, uint64_t now_ns)
{
	atomic_store(&httpd->heartbeat_ns, now_ns);
}

void httpd_set_ready(struct httpd *httpd, bool ready)
{
	atomic_store(&httpd->ready, ready);
}

int httpd_port(const struct httpd *httpd)
{
	return httpd->port;
}
