// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* Kubelet /pods poller on libcurl; see kubelet.h. */
#include "attribute/kubelet.h"

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>

#include "lib/clock.h"
#include "lib/json_input.h"

#define MIN_REFRESH_INTERVAL_NS 1000000000ull
#define TOKEN_MAX_BYTES 65536

struct kubelet_client {
	struct kubelet_config config;
	char *url;
	char *source; /* "kubelet <url>", for errors */
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t wake;
	bool stop;
	bool refresh_requested;
	cJSON *pending;	  /* newest answer not yet taken */
	bool failed;	  /* newest fetch failed */
	bool failure_new; /* ... and nobody was told yet */
	struct am_error failure;
	uint64_t last_fetch_ns;
};

struct body {
	char *data;
	size_t len;
	bool too_big;
};

void kubelet_pods_url(const char *base, char *out, size_t size)
{
	const char *host = strstr(base, "://"), *end, *port;
	size_t len = strlen(base);

	if (len && base[len - 1] == '/')
		len--;
	host = host ? host + 3 : base;
	end = host + strcspn(host, "/");
	if (end > base + len)
		end = base + len;
	port = end;
	while (port > host && port[-1] != ':')
		port--;
	/*
	 * An IPv6 node address from the downward API comes bare ("fd00::4" in
	 * https://$(NODE_IP):10250): the last colon is the port's; bracket the rest.
	 */
	if (host[0] != '[' && port > host + 1 && memchr(host, ':', (size_t)(port - 1 - host))) {
		snprintf(out, size, "%.*s[%.*s]%.*s/pods", (int)(host - base), base,
			 (int)(port - 1 - host), host, (int)(base + len - (port - 1)), port - 1);
		return;
	}
	snprintf(out, size, "%.*s/pods", (int)len, base);
}

static size_t on_body(char *data, size_t size, size_t count, void *ctx)
{
	struct body *body = ctx;
	size_t n = size * count;
	char *grown;

	if (body->len + n > KUBELET_MAX_ANSWER_BYTES) {
		body->too_big = true;
		return 0;
	}
	grown = realloc(body->data, body->len + n + 1);
	if (!grown)
		return 0;
	body->data = grown;
	memcpy(body->data + body->len, data, n);
	body->len += n;
	body->data[body->len] = '\0';
	return n;
}

static int read_token(const char *path, char *out, size_t max, struct am_error *err)
{
	FILE *f = fopen(path, "re");
	size_t n;

	if (!f) {
		am_error_set(err, "kubelet token file %s: %s", path, strerror(errno));
		return -errno;
	}
	n = fread(out, 1, max - 1, f);
	fclose(f);
	while (n > 0 && (out[n - 1] == '\n' || out[n - 1] == '\r' || out[n - 1] == ' '))
		n--;
	out[n] = '\0';
	if (n == 0) {
		am_error_set(err, "kubelet token file %s: empty", path);
		return -EINVAL;
	}
	return 0;
}

/* One GET /pods; returns the parsed PodList or NULL with err filled. */
static cJSON *fetch(struct kubelet_client *client, struct am_error *err)
{
	char *token = malloc(TOKEN_MAX_BYTES);
	char *authorization = NULL;
	struct curl_slist *headers = NULL;
	struct body body = {0};
	cJSON *root = NULL;
	long status = 0;
	CURLcode rc;
	CURL *curl;

	if (!token) {
		am_error_set(err, "%s: out of memory", client->source);
		return NULL;
	}
	if (read_token(client->config.token_file, token, TOKEN_MAX_BYTES, err)) {
		free(token);
		return NULL;
	}
	curl = curl_easy_init();
	authorization = malloc(strlen(token) + 32);
	if (!curl || !authorization) {
		am_error_set(err, "%s: out of memory", client->source);
		goto out;
	}
	sprintf(authorization, "Authorization: Bearer %s", token);
	headers = curl_slist_append(headers, authorization);
	headers = curl_slist_append(headers, "Accept: application/json");
	curl_easy_setopt(curl, CURLOPT_URL, client->url);
	curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
	curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(curl, CURLOPT_WRITEDATA, &body);
	curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, (long)client->config.timeout_ms);
	curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "https,http");
	curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L);
	if (client->config.ca_file)
		curl_easy_setopt(curl, CURLOPT_CAINFO, client->config.ca_file);
	if (client->config.insecure) {
		curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, 0L);
		curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, 0L);
	}
	rc = curl_easy_perform(curl);
	if (rc != CURLE_OK) {
		am_error_set(err, "%s: %s", client->source,
			     body.too_big ? "answer larger than 64 MiB" : curl_easy_strerror(rc));
		goto out;
	}
	curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
	if (status != 200) {
		am_error_set(err, "%s: HTTP %ld%s", client->source, status,
			     status == 401 || status == 403
				     ? " (check the service account token and its RBAC: get on "
				       "nodes/pods, or nodes/proxy before Kubernetes 1.33)"
				     : "");
		goto out;
	}
	root = json_input_parse(client->source, body.data ? body.data : "", body.len, err);
out:
	curl_slist_free_all(headers);
	if (curl)
		curl_easy_cleanup(curl);
	if (authorization) {
		memset(authorization, 0, strlen(authorization));
		free(authorization);
	}
	memset(token, 0, TOKEN_MAX_BYTES);
	free(token);
	free(body.data);
	return root;
}

static void *poll_loop(void *arg)
{
	struct kubelet_client *client = arg;

	pthread_mutex_lock(&client->lock);
	while (!client->stop) {
		struct am_error err = {{0}};
		struct timespec deadline;
		cJSON *root;

		pthread_mutex_unlock(&client->lock);
		root = fetch(client, &err);
		pthread_mutex_lock(&client->lock);
		client->last_fetch_ns = monotonic_ns();
		client->refresh_requested = false;
		if (root) {
			cJSON_Delete(client->pending);
			client->pending = root;
			client->failed = false;
		} else {
			/* Tell once per distinct failure, not at every poll. */
			if (!client->failed || strcmp(client->failure.msg, err.msg) != 0)
				client->failure_new = true;
			client->failed = true;
			client->failure = err;
		}
		clock_gettime(CLOCK_REALTIME, &deadline);
		deadline.tv_sec += client->config.interval_ms / 1000;
		deadline.tv_nsec += (long)(client->config.interval_ms % 1000) * 1000000L;
		if (deadline.tv_nsec >= 1000000000L) {
			deadline.tv_sec++;
			deadline.tv_nsec -= 1000000000L;
		}
		while (!client->stop && !client->refresh_requested)
			if (pthread_cond_timedwait(&client->wake, &client->lock, &deadline) ==
			    ETIMEDOUT)
				break;
		/* A refresh asked for right after a fetch waits out the minimum interval. */
		while (!client->stop && client->refresh_requested &&
		       monotonic_ns() - client->last_fetch_ns < MIN_REFRESH_INTERVAL_NS) {
			struct timespec pause = {0, 50 * 1000000L};

			pthread_mutex_unlock(&client->lock);
			nanosleep(&pause, NULL);
			pthread_mutex_lock(&client->lock);
		}
	}
	pthread_mutex_unlock(&client->lock);
	return NULL;
}

struct kubelet_client *kubelet_client_start(const struct kubelet_config *config,
					    struct am_error *err)
{
	struct kubelet_client *client;
	size_t len;

	if (strncmp(config->url, "https://", 8) != 0 && strncmp(config->url, "http://", 7) != 0) {
		am_error_set(err, "--kubelet-url '%s': expected https://HOST:PORT", config->url);
		errno = EINVAL;
		return NULL;
	}
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		am_error_set(err, "libcurl failed to initialise");
		errno = EIO;
		return NULL;
	}
	client = calloc(1, sizeof(*client));
	if (!client)
		goto oom;
	client->config = *config;
	if (!client->config.token_file)
		client->config.token_file = KUBELET_DEFAULT_TOKEN_FILE;
	if (!client->config.interval_ms)
		client->config.interval_ms = 10000;
	if (!client->config.timeout_ms)
		client->config.timeout_ms = 5000;
	len = strlen(config->url);
	client->url = malloc(len + sizeof("[]/pods"));
	client->source = malloc(len + sizeof("kubelet []/pods"));
	if (!client->url || !client->source)
		goto oom;
	kubelet_pods_url(config->url, client->url, len + sizeof("[]/pods"));
	sprintf(client->source, "kubelet %s", client->url);
	pthread_mutex_init(&client->lock, NULL);
	pthread_cond_init(&client->wake, NULL);
	if (pthread_create(&client->thread, NULL, poll_loop, client) != 0) {
		am_error_set(err, "starting the kubelet poller failed");
		pthread_mutex_destroy(&client->lock);
		pthread_cond_destroy(&client->wake);
		free(client->url);
		free(client->source);
		free(client);
		errno = EAGAIN;
		return NULL;
	}
	return client;
oom:
	if (client) {
		free(client->url);
		free(client->source);
		free(client);
	}
	am_error_set(err, "out of memory");
	errno = ENOMEM;
	return NULL;
}

void kubelet_client_stop(struct kubelet_client *client)
{
	if (!client)
		return;
	pthread_mutex_lock(&client->lock);
	client->stop = true;
	pthread_cond_signal(&client->wake);
	pthread_mutex_unlock(&client->lock);
	pthread_join(client->thread, NULL);
	cJSON_Delete(client->pending);
	pthread_mutex_destroy(&client->lock);
	pthread_cond_destroy(&client->wake);
	free(client->url);
	free(client->source);
	free(client);
	curl_global_cleanup();
}

cJSON *kubelet_client_take(struct kubelet_client *client, bool *failed, struct am_error *err)
{
	cJSON *root;

	pthread_mutex_lock(&client->lock);
	root = client->pending;
	client->pending = NULL;
	*failed = false;
	if (client->failure_new) {
		*failed = true;
		*err = client->failure;
		client->failure_new = false;
	}
	pthread_mutex_unlock(&client->lock);
	return root;
}

void kubelet_client_refresh(struct kubelet_client *client)
{
	pthread_mutex_lock(&client->lock);
	client->refresh_requested = true;
	pthread_cond_signal(&client->wake);
	pthread_mutex_unlock(&client->lock);
}

const char *kubelet_client_url(const struct kubelet_client *client)
{
	return client->url;
}
