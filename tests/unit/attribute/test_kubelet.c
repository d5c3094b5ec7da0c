// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * Unit tests: the kubelet's /pods endpoint (attribute/kubelet.h): the URL polled,
 * and the poller against a small HTTP server in this process, answering what a
 * kubelet would, or refusing.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "attribute/kubelet.h"
#include "tree.h"

static void kubelet_url_brackets_a_bare_ipv6_host(void **state)
{
	static const struct {
		const char *base, *url;
	} cases[] = {
		{"https://10.224.0.4:10250", "https://10.224.0.4:10250/pods"},
		{"https://10.224.0.4:10250/", "https://10.224.0.4:10250/pods"},
		{"https://fd00::4:10250", "https://[fd00::4]:10250/pods"},
		{"https://[fd00::4]:10250", "https://[fd00::4]:10250/pods"},
		{"https://node-1:10250", "https://node-1:10250/pods"},
		{"http://127.0.0.1:18080/", "http://127.0.0.1:18080/pods"},
	};
	char out[128];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		kubelet_pods_url(cases[i].base, out, sizeof(out));
		assert_string_equal(out, cases[i].url);
	}
}

/* A one-connection-at-a-time HTTP server giving every client the same answer. */
struct server {
	int fd;
	int port;
	const char *answer;
	char request[4096];
	int served;
	pthread_t thread;
	pthread_mutex_t lock;
};

static void *serve(void *arg)
{
	struct server *server = arg;
	int client;

	while ((client = accept(server->fd, NULL, NULL)) >= 0) {
		char request[4096];
		size_t len = 0;
		ssize_t n;

		while (len < sizeof(request) - 1 &&
		       (n = recv(client, request + len, sizeof(request) - 1 - len, 0)) > 0) {
			len += (size_t)n;
			request[len] = '\0';
			if (strstr(request, "\r\n\r\n"))
				break;
		}
		request[len] = '\0';
		if (send(client, server->answer, strlen(server->answer), MSG_NOSIGNAL) < 0)
			perror("send");
		close(client);
		pthread_mutex_lock(&server->lock);
		memcpy(server->request, request, len + 1);
		server->served++;
		pthread_mutex_unlock(&server->lock);
	}
	return NULL;
}

static void server_start(struct server *server, const char *answer)
{
	struct sockaddr_in addr = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof(addr);

	memset(server, 0, sizeof(*server));
	server->answer = answer;
	pthread_mutex_init(&server->lock, NULL);
	server->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(server->fd >= 0);
	assert_int_equal(bind(server->fd, (struct sockaddr *)&addr, sizeof(addr)), 0);
	assert_int_equal(listen(server->fd, 4), 0);
	assert_int_equal(getsockname(server->fd, (struct sockaddr *)&addr, &len), 0);
	server->port = ntohs(addr.sin_port);
	assert_int_equal(pthread_create(&server->thread, NULL, serve, server), 0);
}

static void server_stop(struct server *server)
{
	shutdown(server->fd, SHUT_RDWR);
	pthread_join(server->thread, NULL);
	close(server->fd);
	pthread_mutex_destroy(&server->lock);
}

/* What the poller has, waiting up to ten seconds for its first fetch. */
static cJSON *take_first(struct kubelet_client *client, bool *failed, struct am_error *err)
{
	struct timespec pause = {0, 20 * 1000000L};
	cJSON *root;
	int i;

	for (i = 0; i < 500; i++) {
		root = kubelet_client_take(client, failed, err);
		if (root || *failed)
			return root;
		nanosleep(&pause, NULL);
	}
	fail_msg("the poller fetched nothing in ten seconds");
	return NULL;
}

static struct kubelet_client *start(const struct server *server, const char *token_file)
{
	char url[64];
	struct kubelet_config config = {.url = url, .token_file = token_file,
					.interval_ms = 60000, .timeout_ms = 5000};
	struct kubelet_client *client;
	struct am_error err;

	snprintf(url, sizeof(url), "http://127.0.0.1:%d/", server->port);
	client = kubelet_client_start(&config, &err);
	if (!client)
		fail_msg("%s", err.msg);
	return client;
}

static void polls_with_the_token(void **state)
{
	struct server server;
	struct kubelet_client *client;
	char token_file[128], expected[64];
	struct am_error err;
	bool failed;
	cJSON *root;

	(void)state;
	tree_make("kubelet");
	tree_write("/token", "eyJhbGciOi.token\n");
	snprintf(token_file, sizeof(token_file), "%s/token", tree_root);
	server_start(&server, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
			      "Content-Length: 29\r\nConnection: close\r\n\r\n"
			      "{\"kind\":\"PodList\",\"items\":[]}");
	client = start(&server, token_file);
	snprintf(expected, sizeof(expected), "http://127.0.0.1:%d/pods", server.port);
	assert_string_equal(kubelet_client_url(client), expected);
	root = take_first(client, &failed, &err);
	if (failed)
		fail_msg("%s", err.msg);
	assert_non_null(root);
	assert_string_equal(cJSON_GetObjectItem(root, "kind")->valuestring, "PodList");
	cJSON_Delete(root);
	/* Taken once: nothing new until the next poll. */
	assert_null(kubelet_client_take(client, &failed, &err));
	assert_false(failed);
	kubelet_client_stop(client);
	server_stop(&server);
	/* The token read from its file, its line end left out, as a bearer token. */
	assert_non_null(strstr(server.request, "GET /pods HTTP/1.1\r\n"));
	assert_non_null(strstr(server.request, "Authorization: Bearer eyJhbGciOi.token\r\n"));
}

static void failures_are_said_once(void **state)
{
	struct server server;
	struct kubelet_client *client;
	char token_file[128];
	struct am_error err;
	bool failed;

	(void)state;
	tree_make("kubelet");
	tree_write("/token", "t");
	snprintf(token_file, sizeof(token_file), "%s/token", tree_root);
	server_start(&server, "HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n"
			      "Connection: close\r\n\r\n");
	client = start(&server, token_file);
	assert_null(take_first(client, &failed, &err));
	assert_true(failed);
	assert_non_null(strstr(err.msg, "/pods: HTTP 403 (check the service account token"));
	/* Said once, not at every take. */
	assert_null(kubelet_client_take(client, &failed, &err));
	assert_false(failed);
	kubelet_client_stop(client);
	server_stop(&server);

	/* No token file: the poller says which, and never asks without one. */
	server_start(&server, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}");
	client = start(&server, "/nonexistent/token");
	assert_null(take_first(client, &failed, &err));
	assert_true(failed);
	assert_string_equal(err.msg, "kubelet token file /nonexistent/token: No such file or "
				     "directory");
	kubelet_client_stop(client);
	server_stop(&server);
	assert_int_equal(server.served, 0);
}

static void urls_that_are_not_http(void **state)
{
	struct kubelet_config config = {.url = "10.224.0.4:10250"};
	struct am_error err;

	(void)state;
	errno = 0;
	assert_null(kubelet_client_start(&config, &err));
	assert_int_equal(errno, EINVAL);
	assert_string_equal(err.msg, "--kubelet-url '10.224.0.4:10250': expected https://HOST:PORT");
	config.url = "ftp://10.224.0.4";
	assert_null(kubelet_client_start(&config, &err));
	kubelet_client_stop(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(kubelet_url_brackets_a_bare_ipv6_host),
		cmocka_unit_test_teardown(polls_with_the_token, tree_remove),
		cmocka_unit_test_teardown(failures_are_said_once, tree_remove),
		cmocka_unit_test(urls_that_are_not_http),
	};

	return cmocka_run_group_tests_name("kubelet", tests, NULL, NULL);
}
