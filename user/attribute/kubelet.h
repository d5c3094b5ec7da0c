/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * The kubelet's /pods endpoint over HTTPS, polled by a background thread so a slow
 * or dead kubelet never stalls event processing. The service account token is
 * read from its file before every request (it rotates) and never logged.
 */
#ifndef ACCESSMON_KUBELET_H
#define ACCESSMON_KUBELET_H

#include <stdbool.h>
#include <cjson/cJSON.h>

#include "lib/error.h"

#define KUBELET_DEFAULT_TOKEN_FILE "/var/run/secrets/kubernetes.io/serviceaccount/token"
#define KUBELET_MAX_ANSWER_BYTES (64u << 20)

struct kubelet_config {
	const char *url;	/* https://HOST:10250; "/pods" is appended */
	const char *token_file; /* bearer token, re-read before each request */
	const char *ca_file;	/* CA bundle to verify the kubelet's certificate; NULL: system */
	bool insecure;		/* do not verify the kubelet's certificate */
	unsigned int interval_ms;
	unsigned int timeout_ms;
};

struct kubelet_client;

struct kubelet_client *kubelet_client_start(const struct kubelet_config *config,
					    struct am_error *err);
void kubelet_client_stop(struct kubelet_client *client);

/*
 * The newest answer not yet taken: a parsed PodList (the caller frees it), or NULL.
 * When the newest fetch failed, *failed is set and err says why, once per failure.
 */
cJSON *kubelet_client_take(struct kubelet_client *client, bool *failed, struct am_error *err);
/* Asks for a fetch now (a pod the inventory does not know); at most one a second. */
void kubelet_client_refresh(struct kubelet_client *client);
/* The URL polled, for messages. */
const char *kubelet_client_url(const struct kubelet_client *client);

/* base + "/pods", with a bare IPv6 host put in brackets. */
void kubelet_pods_url(const char *base, char *out, size_t size);

#endif /* ACCESSMON_KUBELET_H */
