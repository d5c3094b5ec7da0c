/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * Finds the node's secrets under the host root and declares them to the watch
 * set: the node's credential files (azure.json, the kubelet's kubeconfigs, the
 * VM agent's ManagedIdentity-Settings, TLS keys) and, for every pod under
 * /var/lib/kubelet/pods/<uid>/, its projected volumes, Secret volumes and
 * Secrets Store CSI mounts: each volume, and each credential file in it at any
 * depth, as the pod's spec names them (pod_volumes.h). Run again every second,
 * it follows pods as they come and go.
 */
#ifndef ACCESSMON_SECRETS_H
#define ACCESSMON_SECRETS_H

#include <stddef.h>

#include "attribute/watch.h"

#define KUBELET_PODS_DIR "/var/lib/kubelet/pods"
/* Files declared per volume at most: a volume is a pod's to fill. Beyond them,
 * and below SECRETS_MAX_VOLUME_DEPTH, the volume's own entry still matches. */
#define SECRETS_MAX_FILES_PER_VOLUME 256
#define SECRETS_MAX_VOLUME_DEPTH 32

typedef void (*secrets_report_fn)(void *ctx, const char *message);

/*
 * One discovery round: declares everything found (and extra_paths, kind custom)
 * with watch_list_want. The caller brackets it with watch_list_begin/_end.
 * Returns the number of entries declared.
 */
struct pod_inventory;
int secrets_discover(struct watch_list *list, const char *host_root,
		     const struct pod_inventory *pods, const char *const *extra_paths, size_t n_extra,
		     secrets_report_fn report, void *ctx);

#endif /* ACCESSMON_SECRETS_H */
