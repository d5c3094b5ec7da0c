// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * libFuzzer target: trace files, damaged any way (cut, flipped, forged lengths),
 * read and their state documents applied, as `accessmon replay` does.
 */
#include <stdint.h>
#include <stdlib.h>

#include "attribute/cgroups.h"
#include "name/dns_cache.h"
#include "detect/identities.h"
#include "attribute/node_identity.h"
#include "attribute/pods.h"
#include "detect/policy.h"
#include "attribute/processes.h"
#include "name/service_tags.h"
#include "trace/state.h"
#include "trace/trace.h"
#include "attribute/watch.h"

static struct state_refs refs;

static void on_entry(void *ctx, uint16_t kind, const uint8_t *data, uint32_t len)
{
	struct state_effect effect;
	struct am_error err;

	(void)ctx;
	if (kind == TRACE_ENTRY_STATE)
		state_apply(&refs, (const char *)data, len, false, false, &effect, &err);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct node_identity node;
	struct identity_data *identities = NULL;
	struct policy *policy = NULL;
	struct service_tags *tags = NULL;
	struct trace_read_stats stats;
	struct am_error err;
	char *header;

	refs.cgroups = cgroup_cache_new(64);
	refs.processes = process_cache_new(64);
	refs.pods = pod_inventory_new();
	refs.watches = watch_list_new("/", 64);
	refs.dns = dns_cache_new(64);
	node_identity_init(&node);
	refs.node = &node;
	refs.identities = &identities;
	refs.policy = &policy;
	refs.service_tags = &tags;
	trace_read_buffer(data, size, "fuzz", &header, on_entry, NULL, NULL, &stats, &err);
	free(header);
	cgroup_cache_free(refs.cgroups);
	process_cache_free(refs.processes);
	pod_inventory_free(refs.pods);
	watch_list_free(refs.watches);
	dns_cache_free(refs.dns);
	node_identity_release(&node);
	identity_data_free(identities);
	policy_free(policy);
	service_tags_free(tags);
	return 0;
}
