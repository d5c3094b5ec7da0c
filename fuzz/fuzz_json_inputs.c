// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * libFuzzer targets for the JSON documents accessmon reads from outside: a
 * PodList (or kubelet answer), a containerd bundle's config.json, azure.json and
 * `az aks show` output, the service tags, a policy, and the Azure CLI's identity
 * data, and the monitor's --config. FUZZ_JSON_KIND picks one at build time.
 */
#include <stdint.h>
#include <stdlib.h>

#include "attribute/containerd.h"
#include "detect/identities.h"
#include "detect/policy.h"
#include "lib/json_input.h"
#include "attribute/node_identity.h"
#include "cmd/options.h"
#include "attribute/pods.h"
#include "name/service_tags.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct am_error err;
	cJSON *root = json_input_parse("fuzz", (const char *)data, size, &err);

	if (!root)
		return 0;
#if FUZZ_JSON_KIND == 1
	{
		struct pod_inventory *pods = pod_inventory_new();

		pod_inventory_apply_podlist(pods, root, "fuzz", POD_SOURCE_KUBELET, 1, &err);
		pod_inventory_expire(pods, 100, 1);
		pod_inventory_free(pods);
	}
#elif FUZZ_JSON_KIND == 2
	{
		struct bundle_container container;

		if (containerd_bundle_parse(root, "id", "fuzz", &container, &err) == 0)
			bundle_container_release(&container);
	}
#elif FUZZ_JSON_KIND == 3
	{
		struct node_identity node;

		node_identity_init(&node);
		node_identity_load_azure_json(&node, root, "fuzz", &err);
		node_identity_load_cluster(&node, root, "fuzz", &err);
		node_identity_release(&node);
	}
#elif FUZZ_JSON_KIND == 5
	policy_free(policy_parse(root, "fuzz", &err));
#elif FUZZ_JSON_KIND == 6
	{
		static const char *const files[] = {"role-assignments.json", "identities.json",
						    "resources.json", "cluster.json",
						    "federated-credentials-x.json"};
		struct identity_data *data = identity_data_new();
		size_t i;

		for (i = 0; data && i < sizeof(files) / sizeof(files[0]); i++)
			identity_data_add_document(data, "fuzz", files[i], root, &err);
		identity_data_has_role(data, "p", "/subscriptions/s/x", KEYVAULT_DATA_ROLES);
		identity_data_resource_id(data, KEYVAULT_TYPE, "kv");
		identity_data_by_subject(data, "ns", "sa");
		identity_data_free(data);
	}
#elif FUZZ_JSON_KIND == 7
	{
		struct monitor_options options;

		monitor_options_init(&options);
		monitor_options_apply_config(&options, root, "fuzz", (const char *)NULL, NULL, NULL,
					     &err);
		monitor_options_check(&options, &err);
		monitor_options_release(&options); /* the tree went with the options */
		return 0;
	}
#else
	service_tags_free(service_tags_from_json(root, "fuzz", &err));
#endif
	cJSON_Delete(root);
	return 0;
}
