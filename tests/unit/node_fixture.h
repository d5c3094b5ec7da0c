/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * Unit-test helper: a node behind the whole pipeline (records in, event and alert
 * lines out, into memory), with its identities, the default policy, and one pod
 * container (pod_fixture.h's CONTAINER in CGROUP_PATH) whose cgroup exists.
 * Include after <cmocka.h>.
 */
#ifndef ACCESSMON_TEST_NODE_FIXTURE_H
#define ACCESSMON_TEST_NODE_FIXTURE_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cjson/cJSON.h>

#include "attribute/cgroups.h"
#include "name/dns_cache.h"
#include "lib/json_input.h"
#include "attribute/node_identity.h"
#include "pipeline/pipeline.h"
#include "pod_fixture.h"
#include "attribute/pods.h"
#include "detect/policy.h"
#include "attribute/processes.h"
#include "detect/rules.h"
#include "attribute/watch.h"

/* A managed identity node's azure.json, the kubelet identity's client id given. */
#define NODE_FIXTURE_AZURE_JSON(kubelet)                                                       \
	"{\"cloud\":\"AzurePublicCloud\",\"tenantId\":\"t\",\"aadClientId\":\"msi\","            \
	"\"resourceGroup\":\"MC_rg\",\"vmType\":\"vmss\",\"useManagedIdentityExtension\":true,"    \
	"\"userAssignedIdentityID\":\"" kubelet "\"}"

struct node_fixture {
	struct node_identity node;
	struct policy *policy;
	struct rules_context rules;
	struct cgroup_cache *cgroups;
	struct process_cache *processes;
	struct pod_inventory *pods;
	struct watch_list *watches;
	struct dns_cache *dns;
	struct pipeline *pipeline;
	char *out;
	size_t out_len;
	FILE *stream;
	uint64_t time_ns; /* the last record's */
	uint64_t step_ns; /* between two records fed */
};

static inline cJSON *node_fixture_parse(const char *what, const char *text)
{
	struct am_error err;
	cJSON *root = json_input_parse(what, text, strlen(text), &err);

	if (!root)
		fail_msg("%s: %s", what, err.msg);
	return root;
}

/*
 * The node's azure.json and, unless NULL, `az aks show`'s output; the kubelet's
 * PodList; the cgroup id of CGROUP_PATH; how many watch entries it may hold.
 */
static inline struct node_fixture *node_fixture_new(const char *azure_json,
						    const char *cluster_json, const char *podlist,
						    uint64_t cgroup_id, size_t watches)
{
	struct node_fixture *f = calloc(1, sizeof(*f));
	struct pipeline_config config = {.events = true, .format = OUTPUT_JSON};
	struct pipeline_state state;
	struct am_cgroup_record mkdir = {0};
	struct am_error err;
	cJSON *root;

	assert_non_null(f);
	node_identity_init(&f->node);
	root = node_fixture_parse("azure.json", azure_json);
	assert_int_equal(node_identity_load_azure_json(&f->node, root, "azure.json", &err), 0);
	cJSON_Delete(root);
	if (cluster_json) {
		root = node_fixture_parse("cluster.json", cluster_json);
		assert_int_equal(node_identity_load_cluster(&f->node, root, "cluster.json", &err), 0);
		cJSON_Delete(root);
	}
	f->policy = policy_default();
	f->rules = (struct rules_context){.node = &f->node, .policy = f->policy};
	f->cgroups = cgroup_cache_new(64);
	f->processes = process_cache_new(64);
	f->pods = pod_inventory_new();
	f->watches = watch_list_new("/", watches);
	f->dns = dns_cache_new(64);
	root = node_fixture_parse("podlist", podlist);
	assert_int_equal(pod_inventory_apply_podlist(f->pods, root, "podlist", POD_SOURCE_PODLIST, 1,
						     &err),
			 0);
	cJSON_Delete(root);
	f->stream = open_memstream(&f->out, &f->out_len);
	config.rules = &f->rules;
	state = (struct pipeline_state){.cgroups = f->cgroups,
					.processes = f->processes,
					.pods = f->pods,
					.watches = f->watches,
					.dns = f->dns};
	f->pipeline = pipeline_new(&config, &state, f->stream);
	assert_non_null(f->pipeline);
	f->time_ns = 1000000000ull;
	f->step_ns = 1000;
	mkdir.header = (struct am_record_header){.type = AM_REC_CGROUP_MKDIR,
						 .size = sizeof(mkdir),
						 .time_ns = f->time_ns};
	mkdir.cgroup_id = cgroup_id;
	snprintf(mkdir.path, sizeof(mkdir.path), "%s", CGROUP_PATH);
	pipeline_record(f->pipeline, &mkdir, sizeof(mkdir));
	return f;
}

static inline void node_fixture_free(struct node_fixture *f)
{
	pipeline_free(f->pipeline);
	fclose(f->stream);
	free(f->out);
	dns_cache_free(f->dns);
	watch_list_free(f->watches);
	pod_inventory_free(f->pods);
	process_cache_free(f->processes);
	cgroup_cache_free(f->cgroups);
	policy_free(f->policy);
	node_identity_release(&f->node);
	free(f);
}

/* One record, step_ns after the last. */
static inline void node_fixture_feed(struct node_fixture *f, void *record, uint16_t type,
				     size_t size)
{
	struct am_record_header *header = record;

	f->time_ns += f->step_ns;
	header->type = type;
	header->size = (uint32_t)size;
	header->time_ns = f->time_ns;
	assert_int_equal(pipeline_record(f->pipeline, record, size), 0);
}

#endif /* ACCESSMON_TEST_NODE_FIXTURE_H */
