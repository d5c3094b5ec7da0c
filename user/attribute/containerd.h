/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * containerd's task bundles on the node: for every running container of the
 * Kubernetes namespace, <host-root>/run/containerd/io.containerd.runtime.v2.task/
 * k8s.io/<id>/config.json, the OCI spec whose io.kubernetes.cri.* annotations name
 * the pod and container and whose process.env holds the container's environment.
 * Readable without any credential.
 */
#ifndef ACCESSMON_CONTAINERD_H
#define ACCESSMON_CONTAINERD_H

#include <stdbool.h>
#include <stddef.h>
#include <cjson/cJSON.h>

#include "lib/error.h"
#include "attribute/pods.h"

#define CONTAINERD_TASK_DIR "/run/containerd/io.containerd.runtime.v2.task/k8s.io"
#define CONTAINERD_MAX_BUNDLES 16384

/* Reads one bundle's config.json document; `source` names it in errors. */
int containerd_bundle_parse(const cJSON *config, const char *id, const char *source,
			    struct bundle_container *out, struct am_error *err);

struct containerd_scan;

/* Bundles under <host_root>/run/containerd/...; remembers what it read before. */
struct containerd_scan *containerd_scan_new(const char *host_root);
void containerd_scan_free(struct containerd_scan *scan);

typedef void (*containerd_report_fn)(void *ctx, const char *message);

/*
 * Lists the task directory, reads the bundles it has not read yet, forgets those
 * gone, and hands the complete list to `containers`. A bundle that cannot be read
 * is reported once through `report` and skipped. Returns the number of bundles,
 * or -ENOENT when the directory does not exist (no containerd, or not yet).
 */
int containerd_scan_run(struct containerd_scan *scan, containerd_report_fn report, void *ctx);
/*
 * True when a scan would find something new: the task directory changed since the
 * last scan (a bundle was added or removed), or a bundle was half-written then.
 */
bool containerd_scan_stale(const struct containerd_scan *scan);
const struct bundle_container *containerd_scan_containers(const struct containerd_scan *scan,
							  size_t *n);

#endif /* ACCESSMON_CONTAINERD_H */
