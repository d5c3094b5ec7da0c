// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * Unit tests: the pipeline's state as trace documents (trace/state.h), written
 * and applied back: each restores exactly what it recorded, a replay given its
 * own identities or policy keeps them, and documents that are wrong are refused.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "attribute/cgroups.h"
#include "attribute/node_identity.h"
#include "attribute/pods.h"
#include "attribute/processes.h"
#include "attribute/watch.h"
#include "detect/identities.h"
#include "detect/policy.h"
#include "lib/json_input.h"
#include "name/dns_cache.h"
#include "name/service_tags.h"
#include "trace/state.h"

static void state_documents_restore_what_they_recorded(void **state)
{
	struct cgroup_cache *cgroups = cgroup_cache_new(16), *cgroups2 = cgroup_cache_new(16);
	struct process_cache *processes = process_cache_new(16), *processes2 = process_cache_new(16);
	struct dns_cache *dns = dns_cache_new(16), *dns2 = dns_cache_new(16);
	struct pod_inventory *pods = pod_inventory_new(), *pods2 = pod_inventory_new();
	struct state_refs refs = {.cgroups = cgroups2, .processes = processes2, .pods = pods2,
				  .dns = dns2};
	struct process_info p = {.pid = 7, .ppid = 1, .start_ns = 18446744073709551000ull,
				 .exe = "/bin/\xe2\x82\xac", .args = "a\0b", .args_size = 4};
	uint8_t addr[16] = {10, 0, 0, 1};
	struct bundle_container bundle = {.id = "c1", .pod_uid = "u1", .pod_name = "p",
					  .pod_namespace = "ns", .container_name = "app"};
	struct state_effect effect;
	struct am_error err;
	struct jsonw w;

	(void)state;
	jsonw_init(&w);
	cgroup_cache_add(cgroups, 42, "/kubepods/pod11111111-2222-3333-4444-555555555555/c1");
	cgroup_cache_mark_removed(cgroups, 42, 99);
	state_write_cgroups(&w, cgroups);
	assert_int_equal(state_apply(&refs, w.buf, w.len, false, false, &effect, &err), 0);
	assert_int_equal(cgroup_cache_lookup(cgroups2, 42)->removed_at_ns, 99);
	assert_true(cgroup_cache_lookup(cgroups2, 42)->ref.is_pod);

	process_cache_put(processes, &p);
	state_write_processes(&w, processes);
	assert_int_equal(state_apply(&refs, w.buf, w.len, false, false, &effect, &err), 0);
	assert_string_equal(process_cache_lookup(processes2, 7)->exe, "/bin/\xe2\x82\xac");
	assert_int_equal(process_cache_lookup(processes2, 7)->args_size, 4);
	/* 64-bit values survive JSON exactly. */
	assert_true(process_cache_lookup(processes2, 7)->start_ns == 18446744073709551000ull);

	dns_cache_add(dns, "pod-a", 4, addr, "kv.vault.azure.net", 123456789012345678ull);
	state_write_dns(&w, dns);
	assert_int_equal(state_apply(&refs, w.buf, w.len, false, false, &effect, &err), 0);
	assert_string_equal(dns_cache_lookup(dns2, "pod-a", 4, addr, 1), "kv.vault.azure.net");

	pod_inventory_apply_containers(pods, &bundle, 1, 5);
	state_write_pods(&w, pods);
	assert_int_equal(state_apply(&refs, w.buf, w.len, false, false, &effect, &err), 0);
	assert_string_equal(pod_inventory_find(pods2, "u1")->name, "p");
	assert_int_equal(pod_inventory_find(pods2, "u1")->sources, POD_SOURCE_CONTAINERD);
	assert_string_equal(pod_find_container(pod_inventory_find(pods2, "u1"), "c1")->name, "app");

	state_write_loss(&w, 5, 6, 7);
	assert_int_equal(state_apply(&refs, w.buf, w.len, false, false, &effect, &err), 0);
	assert_true(effect.loss);
	assert_int_equal(effect.lost_total, 7);
	/* A blind detection replays as it was said. */
	state_write_degraded(&w, 9, &(struct degraded_notice){.detection = DETECTION_IO_URING,
							      .cause = DEGRADED_PROBES,
							      .restored = true,
							      .reason = "refused \"x\"",
							      .since_ns = 8});
	assert_int_equal(state_apply(&refs, w.buf, w.len, false, false, &effect, &err), 0);
	assert_true(effect.degraded);
	assert_int_equal(effect.boot_ns, 9);
	assert_int_equal(effect.notice.detection, DETECTION_IO_URING);
	assert_int_equal(effect.notice.cause, DEGRADED_PROBES);
	assert_true(effect.notice.restored);
	assert_string_equal(effect.notice.reason, "refused \"x\"");
	assert_int_equal(effect.notice.since_ns, 8);
	/* One a newer monitor knows and this one does not is left out, not misread. */
	effect.degraded = false;
	assert_int_equal(state_apply(&refs, "{\"state\":\"degraded\",\"detection\":\"x-ray\"}", 40,
				     false, false, &effect, &err),
			 0);
	assert_false(effect.degraded);
	assert_int_equal(state_apply(&refs, "{\"oops\"", 7, false, false, &effect, &err), -EINVAL);

	jsonw_release(&w);
	cgroup_cache_free(cgroups);
	cgroup_cache_free(cgroups2);
	process_cache_free(processes);
	process_cache_free(processes2);
	dns_cache_free(dns);
	dns_cache_free(dns2);
	pod_inventory_free(pods);
	pod_inventory_free(pods2);
}

static cJSON *parse(const char *text)
{
	cJSON *root = cJSON_Parse(text);

	assert_non_null(root);
	return root;
}

static void node_watches_and_tags_restore(void **state)
{
	struct node_identity node, node2;
	struct watch_list *watches = watch_list_new("/", 16), *watches2 = watch_list_new("/", 16);
	struct watch_spec spec = {.kind = WATCH_NODE_CLOUD_CONFIG,
				  .path = "/etc/kubernetes/azure.json",
				  .identity = WATCH_FILE_IDENTITY,
				  .by_path = true};
	struct service_tags *tags, *tags2 = NULL;
	struct state_refs refs = {.node = &node2, .watches = watches2, .service_tags = &tags2};
	uint8_t addr[16] = {20, 1, 2, 3};
	struct state_effect effect;
	struct am_error err;
	struct jsonw w;
	cJSON *root;

	(void)state;
	jsonw_init(&w);
	node_identity_init(&node);
	node_identity_init(&node2);
	root = parse("{\"tenantId\":\"t\",\"aadClientId\":\"msi\",\"resourceGroup\":\"MC_rg\","
		     "\"useManagedIdentityExtension\":true,\"userAssignedIdentityID\":\"kubelet-id\"}");
	assert_int_equal(node_identity_load_azure_json(&node, root, "azure.json", &err), 0);
	cJSON_Delete(root);
	root = parse("{\"name\":\"aks\",\"addonProfiles\":{\"azurepolicy\":{\"identity\":{"
		     "\"clientId\":\"addon-id\",\"objectId\":\"o\"}}}}");
	assert_int_equal(node_identity_load_cluster(&node, root, "aks.json", &err), 0);
	cJSON_Delete(root);
	state_write_node(&w, &node);
	assert_int_equal(state_apply(&refs, w.buf, w.len, false, false, &effect, &err), 0);
	assert_string_equal(effect.kind, "node");
	assert_true(node2.has_cloud_config);
	assert_true(node2.use_managed_identity);
	assert_string_equal(node2.resource_group, "MC_rg");
	assert_int_equal(node2.n_identities, 2);
	assert_string_equal(node_identity_by_client_id(&node2, "kubelet-id")->kind, "kubelet");
	assert_string_equal(node_identity_by_client_id(&node2, "addon-id")->name, "azurepolicy");
	assert_string_equal(node2.cluster_name, "aks");
	/* Applied twice, it is the same node, not twice the identities. */
	assert_int_equal(state_apply(&refs, w.buf, w.len, false, false, &effect, &err), 0);
	assert_int_equal(node2.n_identities, 2);

	/* As a replay puts entries back: at their ids, nothing installed. */
	assert_int_equal(watch_list_restore(watches, 3, &spec, 0), 0);
	state_write_watches(&w, watches);
	assert_int_equal(state_apply(&refs, w.buf, w.len, false, false, &effect, &err), 0);
	assert_int_equal(watch_list_count(watches2), 1);
	{
		const struct watch_entry *e = watch_list_get(watches2, 3);

		assert_non_null(e);
		assert_string_equal(e->path, "/etc/kubernetes/azure.json");
		assert_int_equal(e->kind, WATCH_NODE_CLOUD_CONFIG);
		assert_int_equal(e->identity, WATCH_FILE_IDENTITY);
		assert_true(e->by_path);
	}

	root = parse("{\"values\":[{\"name\":\"AzureKeyVault\",\"properties\":{\"systemService\":"
		     "\"AzureKeyVault\",\"addressPrefixes\":[\"20.1.0.0/16\"]}}]}");
	tags = service_tags_from_json(root, "tags", &err);
	cJSON_Delete(root);
	assert_non_null(tags);
	state_write_service_tags(&w, tags);
	assert_int_equal(state_apply(&refs, w.buf, w.len, false, false, &effect, &err), 0);
	assert_non_null(tags2);
	assert_string_equal(service_tags_lookup(tags2, 4, addr)->name, "AzureKeyVault");
	/* A recording made without tags takes them away again. */
	state_write_service_tags(&w, NULL);
	assert_int_equal(state_apply(&refs, w.buf, w.len, false, false, &effect, &err), 0);
	assert_null(tags2);

	state_write_recorder_loss(&w, 12);
	assert_int_equal(state_apply(&refs, w.buf, w.len, false, false, &effect, &err), 0);
	assert_string_equal(effect.kind, "recorder-loss");
	assert_int_equal(effect.recorder_lost, 12);

	service_tags_free(tags);
	watch_list_free(watches);
	watch_list_free(watches2);
	node_identity_release(&node);
	node_identity_release(&node2);
	jsonw_release(&w);
}

static void detection_state_and_what_the_replay_keeps(void **state)
{
	static const char bad_policy[] = "{\"state\":\"policy\",\"json\":\"{\\\"allow\\\":[{}]}\"}";
	struct identity_data *identities = identity_data_new(), *identities2 = NULL;
	struct policy *policy, *policy2 = policy_default(), *kept;
	struct state_refs refs = {.identities = &identities2, .policy = &policy2};
	struct policy_subject s = {.rule = "imds-access", .namespace = "shop"};
	struct state_effect effect;
	struct am_error err;
	struct jsonw w;
	cJSON *root;

	(void)state;
	jsonw_init(&w);
	root = parse("[{\"name\":\"checkout\",\"clientId\":\"c1\",\"principalId\":\"p1\"}]");
	assert_int_equal(identity_data_add_document(identities, "d", "identities.json", root, &err),
			 0);
	cJSON_Delete(root);
	state_write_identities(&w, identities);
	assert_int_equal(state_apply(&refs, w.buf, w.len, false, false, &effect, &err), 0);
	assert_true(effect.detection_changed);
	assert_non_null(identities2);
	assert_string_equal(identity_data_by_client_id(identities2, "c1")->name, "checkout");
	/* "No identities" is recorded too, and applied. */
	state_write_identities(&w, NULL);
	assert_int_equal(state_apply(&refs, w.buf, w.len, false, false, &effect, &err), 0);
	assert_null(identities2);
	/* A replay given its own identities keeps them. */
	state_write_identities(&w, identities);
	assert_int_equal(state_apply(&refs, w.buf, w.len, true, false, &effect, &err), 0);
	assert_false(effect.detection_changed);
	assert_null(identities2);

	root = parse("{\"allow\":[{\"comment\":\"shop\",\"rules\":\"*\",\"namespace\":\"shop\"}]}");
	policy = policy_parse(root, "p.json", &err);
	cJSON_Delete(root);
	assert_non_null(policy);
	state_write_policy(&w, policy);
	kept = policy2;
	assert_int_equal(state_apply(&refs, w.buf, w.len, false, true, &effect, &err), 0);
	assert_ptr_equal(policy2, kept);
	assert_false(effect.detection_changed);
	assert_int_equal(state_apply(&refs, w.buf, w.len, false, false, &effect, &err), 0);
	assert_true(effect.detection_changed);
	assert_string_equal(policy_allows(policy2, &s), "shop");
	/* A recorded policy that is wrong is refused, and the one in use stays. */
	kept = policy2;
	assert_int_equal(state_apply(&refs, bad_policy, strlen(bad_policy), false, false, &effect,
				     &err),
			 -EINVAL);
	assert_non_null(strstr(err.msg, "trace policy: allow[0].rules: missing"));
	assert_ptr_equal(policy2, kept);

	policy_free(policy);
	policy_free(policy2);
	identity_data_free(identities);
	jsonw_release(&w);
}

static void documents_that_are_wrong(void **state)
{
	struct state_refs refs = {0};
	struct state_effect effect;
	struct am_error err;

	(void)state;
	assert_int_equal(state_apply(&refs, "{\"kind\":\"dns\"}", 14, false, false, &effect, &err),
			 -EINVAL);
	assert_string_equal(err.msg, "trace state: no \"state\" member");
	assert_string_equal(effect.kind, "?");
	assert_int_equal(state_apply(&refs, "{\"state\":", 9, false, false, &effect, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "trace state:1:"));
	/* A kind this monitor does not know is passed over: a newer recorder's. */
	assert_int_equal(state_apply(&refs, "{\"state\":\"x-ray\"}", 17, false, false, &effect,
				     &err),
			 0);
	assert_string_equal(effect.kind, "x-ray");
	assert_false(effect.loss || effect.degraded || effect.detection_changed);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(state_documents_restore_what_they_recorded),
		cmocka_unit_test(node_watches_and_tags_restore),
		cmocka_unit_test(detection_state_and_what_the_replay_keeps),
		cmocka_unit_test(documents_that_are_wrong),
	};

	return cmocka_run_group_tests_name("state", tests, NULL, NULL);
}
