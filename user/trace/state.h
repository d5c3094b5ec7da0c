/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * The pipeline's state as JSON documents, and back: what a trace file carries so
 * that a recording replays exactly as it ran. Each document is
 * {"state": "<kind>", ...}; docs/TRACE-FORMAT.md lists the kinds.
 */
#ifndef ACCESSMON_STATE_H
#define ACCESSMON_STATE_H

#include <stdint.h>

#include "event/degraded.h"
#include "lib/error.h"
#include "lib/jsonw.h"

struct cgroup_cache;
struct process_cache;
struct process_info;
struct pod_inventory;
struct watch_list;
struct dns_cache;
struct node_identity;
struct identity_data;
struct policy;
struct service_tags;

struct state_refs {
	struct cgroup_cache *cgroups;
	struct process_cache *processes;
	struct pod_inventory *pods;
	struct watch_list *watches;
	struct dns_cache *dns;
	struct node_identity *node;
	struct identity_data **identities;
	struct policy **policy;
	struct service_tags **service_tags;
};

void state_write_cgroups(struct jsonw *w, struct cgroup_cache *cgroups);
void state_write_processes(struct jsonw *w, struct process_cache *processes);
void state_write_process(struct jsonw *w, const struct process_info *process);
void state_write_pods(struct jsonw *w, const struct pod_inventory *pods);
void state_write_watches(struct jsonw *w, const struct watch_list *watches);
void state_write_dns(struct jsonw *w, const struct dns_cache *dns);
void state_write_node(struct jsonw *w, const struct node_identity *node);
void state_write_identities(struct jsonw *w, const struct identity_data *identities);
void state_write_policy(struct jsonw *w, const struct policy *policy);
void state_write_service_tags(struct jsonw *w, const struct service_tags *tags);
void state_write_loss(struct jsonw *w, uint64_t boot_ns, uint64_t lost, uint64_t lost_total);
void state_write_degraded(struct jsonw *w, uint64_t boot_ns, const struct degraded_notice *notice);
void state_write_recorder_loss(struct jsonw *w, uint64_t records);

/* What an applied document asks of the replay beyond the state itself. */
struct state_effect {
	char kind[32];
	bool loss; /* a kernel loss report: lost, lost_total at boot_ns */
	uint64_t boot_ns, lost, lost_total;
	uint64_t recorder_lost;
	bool detection_changed; /* identities or policy replaced */
	bool degraded;		/* a monitor-degraded notice at boot_ns */
	struct degraded_notice notice;
	char degraded_reason[DEGRADED_REASON_LEN];
};

/*
 * Applies one document. keep_identities / keep_policy: the replay was given its
 * own, and recorded ones are ignored.
 */
int state_apply(const struct state_refs *refs, const char *json, size_t len, bool keep_identities,
		bool keep_policy, struct state_effect *effect, struct am_error *err);

#endif /* ACCESSMON_STATE_H */
