// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* Pod and identity sources kept current; see inventory.h. */
#include "attribute/inventory.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "attribute/containerd.h"
#include "lib/hostfs.h"
#include "lib/json_input.h"
#include "attribute/kubelet.h"

/*
 * containerd's task directory is rescanned as soon as it changes (checked at every
 * tick and on every miss: one stat), and in full now and then regardless.
 */
#define CONTAINERD_FULL_RESCAN_NS (30ull * 1000000000ull)
#define MISS_RESCAN_MIN_NS (250ull * 1000000ull)

struct inventory {
	struct inventory_config config;
	struct pod_inventory *pods;
	struct node_identity node;
	struct containerd_scan *containerd;
	struct kubelet_client *kubelet;
	inventory_report_fn report;
	void *report_ctx;
	uint64_t last_containerd_scan_ns;
	bool containerd_missing_reported;
};

static void report(struct inventory *inventory, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void report(struct inventory *inventory, const char *fmt, ...)
{
	char message[AM_ERROR_LEN], printable[AM_ERROR_LEN];
	va_list ap;

	if (!inventory->report)
		return;
	va_start(ap, fmt);
	vsnprintf(message, sizeof(message), fmt, ap);
	va_end(ap);
	/* Paths and answers named here come from the node and its pods. */
	am_error_printable(printable, sizeof(printable), message);
	inventory->report(inventory->report_ctx, printable);
}

static void report_bundle(void *ctx, const char *message)
{
	report(ctx, "skipping a containerd bundle: %s", message);
}

struct inventory *inventory_new(const struct inventory_config *config, struct pod_inventory *pods,
				inventory_report_fn report_fn, void *ctx)
{
	struct inventory *inventory = calloc(1, sizeof(*inventory));

	if (!inventory)
		return NULL;
	inventory->config = *config;
	if (!inventory->config.sources.host_root)
		inventory->config.sources.host_root = "/";
	if (!inventory->config.pod_grace_ns)
		inventory->config.pod_grace_ns = INVENTORY_POD_GRACE_NS;
	inventory->pods = pods;
	inventory->report = report_fn;
	inventory->report_ctx = ctx;
	node_identity_init(&inventory->node);
	if (!config->sources.no_containerd) {
		inventory->containerd = containerd_scan_new(inventory->config.sources.host_root);
		if (!inventory->containerd) {
			free(inventory);
			return NULL;
		}
	}
	return inventory;
}

void inventory_free(struct inventory *inventory)
{
	if (!inventory)
		return;
	kubelet_client_stop(inventory->kubelet);
	containerd_scan_free(inventory->containerd);
	node_identity_release(&inventory->node);
	free(inventory);
}

static void scan_containerd(struct inventory *inventory, uint64_t now_ns)
{
	const struct bundle_container *containers;
	size_t n;
	int rc;

	if (!inventory->containerd)
		return;
	inventory->last_containerd_scan_ns = now_ns;
	rc = containerd_scan_run(inventory->containerd, report_bundle, inventory);
	if (rc < 0) {
		if (!inventory->containerd_missing_reported)
			report(inventory, "no containerd task bundles under %s (%s): pods are "
					  "named from the other sources only",
			       inventory->config.sources.host_root, strerror(-rc));
		inventory->containerd_missing_reported = true;
		/* Pods it reported before are gone with it. */
		pod_inventory_apply_containers(inventory->pods, NULL, 0, now_ns);
		return;
	}
	inventory->containerd_missing_reported = false;
	containers = containerd_scan_containers(inventory->containerd, &n);
	pod_inventory_apply_containers(inventory->pods, containers, n, now_ns);
}

static void load_azure_json(struct inventory *inventory)
{
	char *path = host_path(inventory->config.sources.host_root, NODE_AZURE_JSON);
	struct am_error err;
	cJSON *root;

	if (!path)
		return;
	/* As the effective ids and capabilities open it (CAP_DAC_READ_SEARCH), not the real uid. */
	if (faccessat(AT_FDCWD, path, F_OK, AT_EACCESS) != 0) {
		report(inventory, "%s: %s: the node's identities are unknown", path,
		       strerror(errno));
		free(path);
		return;
	}
	root = json_input_load_file(path, &err);
	if (!root || node_identity_load_azure_json(&inventory->node, root, path, &err))
		report(inventory, "%s; the node's identities are unknown", err.msg);
	cJSON_Delete(root);
	free(path);
}

static int load_json_file(const char *option, const char *path, struct am_error *err,
			  cJSON **out)
{
	struct am_error load_err;

	*out = json_input_load_file(path, &load_err);
	if (!*out) {
		am_error_set(err, "%s %s", option, load_err.msg);
		return -EINVAL;
	}
	return 0;
}

static void apply_kubelet(struct inventory *inventory, uint64_t now_ns)
{
	struct am_error err;
	bool failed;
	cJSON *root;

	if (!inventory->kubelet)
		return;
	root = kubelet_client_take(inventory->kubelet, &failed, &err);
	if (failed)
		report(inventory, "%s; keeping the pods known so far", err.msg);
	if (!root)
		return;
	if (pod_inventory_apply_podlist(inventory->pods, root,
					kubelet_client_url(inventory->kubelet), POD_SOURCE_KUBELET,
					now_ns, &err))
		report(inventory, "%s; keeping the pods known so far", err.msg);
	cJSON_Delete(root);
}

int inventory_load(struct inventory *inventory, uint64_t now_ns, unsigned int wait_kubelet_ms,
		   struct am_error *err)
{
	struct am_error inner;
	cJSON *root;
	int rc;

	if (inventory->config.sources.pods_file) {
		rc = load_json_file("--pods", inventory->config.sources.pods_file, err, &root);
		if (rc)
			return rc;
		rc = pod_inventory_apply_podlist(inventory->pods, root, inventory->config.sources.pods_file,
						 POD_SOURCE_PODLIST, now_ns, &inner);
		cJSON_Delete(root);
		if (rc) {
			am_error_set(err, "--pods %s", inner.msg);
			return rc;
		}
	}
	load_azure_json(inventory);
	if (inventory->config.sources.cluster_file) {
		rc = load_json_file("--cluster", inventory->config.sources.cluster_file, err, &root);
		if (rc)
			return rc;
		rc = node_identity_load_cluster(&inventory->node, root,
						inventory->config.sources.cluster_file, &inner);
		cJSON_Delete(root);
		if (rc) {
			am_error_set(err, "--cluster %s", inner.msg);
			return rc;
		}
	}
	scan_containerd(inventory, now_ns);
	if (inventory->config.sources.kubelet_url) {
		struct kubelet_config config = {
			.url = inventory->config.sources.kubelet_url,
			.token_file = inventory->config.sources.kubelet_token_file,
			.ca_file = inventory->config.sources.kubelet_ca_file,
			.insecure = inventory->config.sources.kubelet_insecure,
			.interval_ms = inventory->config.sources.kubelet_interval_ms,
		};
		unsigned int waited = 0;

		inventory->kubelet = kubelet_client_start(&config, err);
		if (!inventory->kubelet)
			return -EINVAL;
		while (waited < wait_kubelet_ms) {
			struct am_error kubelet_err;
			bool failed;

			root = kubelet_client_take(inventory->kubelet, &failed, &kubelet_err);
			if (root || failed) {
				if (failed)
					report(inventory, "%s", kubelet_err.msg);
				if (root &&
				    pod_inventory_apply_podlist(inventory->pods, root,
								kubelet_client_url(inventory->kubelet),
								POD_SOURCE_KUBELET, now_ns, &kubelet_err))
					report(inventory, "%s", kubelet_err.msg);
				cJSON_Delete(root);
				break;
			}
			usleep(20000);
			waited += 20;
		}
	}
	return 0;
}

void inventory_tick(struct inventory *inventory, uint64_t now_ns)
{
	apply_kubelet(inventory, now_ns);
	if (inventory->containerd &&
	    (containerd_scan_stale(inventory->containerd) ||
	     now_ns - inventory->last_containerd_scan_ns >= CONTAINERD_FULL_RESCAN_NS))
		scan_containerd(inventory, now_ns);
	pod_inventory_expire(inventory->pods, now_ns, inventory->config.pod_grace_ns);
}

void inventory_pod_miss(struct inventory *inventory, uint64_t now_ns)
{
	if (inventory->kubelet)
		kubelet_client_refresh(inventory->kubelet);
	if (inventory->containerd &&
	    (containerd_scan_stale(inventory->containerd) ||
	     now_ns - inventory->last_containerd_scan_ns >= MISS_RESCAN_MIN_NS))
		scan_containerd(inventory, now_ns);
}

const struct node_identity *inventory_node(const struct inventory *inventory)
{
	return &inventory->node;
}
