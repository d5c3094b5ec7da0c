// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* Pod inventory from PodList documents; see pods.h. */
#include "pods.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json_input.h"

struct pod_inventory {
	struct pod_info *pods;
	size_t n_pods;
	unsigned long generation;
};

struct pod_inventory *pod_inventory_new(void)
{
	return calloc(1, sizeof(struct pod_inventory));
}

static void pod_release(struct pod_info *pod)
{
	size_t i;

	free(pod->uid);
	free(pod->namespace);
	free(pod->name);
	free(pod->service_account);
	for (i = 0; i < pod->n_labels; i++) {
		free(pod->labels[i].key);
		free(pod->labels[i].value);
	}
	free(pod->labels);
	for (i = 0; i < pod->n_containers; i++) {
		free(pod->containers[i].id);
		free(pod->containers[i].name);
	}
	free(pod->containers);
}

static void pods_release(struct pod_info *pods, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		pod_release(&pods[i]);
	free(pods);
}

void pod_inventory_free(struct pod_inventory *inventory)
{
	if (!inventory)
		return;
	pods_release(inventory->pods, inventory->n_pods);
	free(inventory);
}

static char *dup_or_null(const char *s)
{
	return s ? strdup(s) : NULL;
}

/* "containerd://abc" -> "abc"; an id without a scheme is taken as it is. */
static const char *strip_runtime_scheme(const char *id)
{
	const char *sep = strstr(id, "://");

	return sep ? sep + 3 : id;
}

static struct container_info *container_slot(struct pod_info *pod, const char *name)
{
	size_t i;

	for (i = 0; i < pod->n_containers; i++)
		if (pod->containers[i].name && strcmp(pod->containers[i].name, name) == 0)
			return &pod->containers[i];
	if (pod->n_containers >= POD_MAX_CONTAINERS)
		return NULL;
	pod->containers[pod->n_containers].name = strdup(name);
	pod->containers[pod->n_containers].id = NULL;
	return &pod->containers[pod->n_containers++];
}

static int containers_parse(struct pod_info *pod, const cJSON *list, const char *source,
			    size_t index, const char *field, bool statuses, struct am_error *err)
{
	const cJSON *item;
	size_t i = 0;

	if (!list)
		return 0;
	if (!cJSON_IsArray(list)) {
		am_error_set(err, "%s: items[%zu].%s: expected an array", source, index, field);
		return -EINVAL;
	}
	cJSON_ArrayForEach(item, list)
	{
		const char *name = json_member_string(item, "name");
		struct container_info *container;

		if (!name) {
			am_error_set(err, "%s: items[%zu].%s[%zu].name: missing or not a string",
				     source, index, field, i);
			return -EINVAL;
		}
		container = container_slot(pod, name);
		if (!container)
			break; /* past POD_MAX_CONTAINERS: keep the first ones */
		if (statuses) {
			const char *id = json_member_string(item, "containerID");

			if (id && *id && !container->id)
				container->id = strdup(strip_runtime_scheme(id));
		}
		i++;
	}
	return 0;
}

static int labels_parse(struct pod_info *pod, const cJSON *labels, const char *source,
			size_t index, struct am_error *err)
{
	const cJSON *label;

	if (!labels)
		return 0;
	if (!cJSON_IsObject(labels)) {
		am_error_set(err, "%s: items[%zu].metadata.labels: expected an object", source,
			     index);
		return -EINVAL;
	}
	cJSON_ArrayForEach(label, labels)
	{
		if (!cJSON_IsString(label)) {
			am_error_set(err, "%s: items[%zu].metadata.labels.%s: expected a string",
				     source, index, label->string);
			return -EINVAL;
		}
		if (pod->n_labels >= POD_MAX_LABELS)
			break;
		pod->labels[pod->n_labels].key = strdup(label->string);
		pod->labels[pod->n_labels].value = strdup(label->valuestring);
		pod->n_labels++;
	}
	return 0;
}

static int pod_parse(struct pod_info *pod, const cJSON *item, const char *source, size_t index,
		     struct am_error *err)
{
	const cJSON *metadata = cJSON_GetObjectItemCaseSensitive(item, "metadata");
	const cJSON *spec = cJSON_GetObjectItemCaseSensitive(item, "spec");
	const cJSON *status = cJSON_GetObjectItemCaseSensitive(item, "status");
	const char *uid, *name, *namespace;
	int err_code;

	if (!cJSON_IsObject(item) || !cJSON_IsObject(metadata)) {
		am_error_set(err, "%s: items[%zu].metadata: missing or not an object", source,
			     index);
		return -EINVAL;
	}
	uid = json_member_string(metadata, "uid");
	name = json_member_string(metadata, "name");
	namespace = json_member_string(metadata, "namespace");
	if (!uid || !name) {
		am_error_set(err, "%s: items[%zu].metadata.%s: missing or not a string", source,
			     index, uid ? "name" : "uid");
		return -EINVAL;
	}
	pod->uid = strdup(uid);
	pod->name = strdup(name);
	pod->namespace = strdup(namespace ? namespace : "default");
	pod->labels = calloc(POD_MAX_LABELS, sizeof(*pod->labels));
	pod->containers = calloc(POD_MAX_CONTAINERS, sizeof(*pod->containers));
	if (!pod->uid || !pod->name || !pod->namespace || !pod->labels || !pod->containers) {
		am_error_set(err, "%s: out of memory", source);
		return -ENOMEM;
	}
	err_code = labels_parse(pod, cJSON_GetObjectItemCaseSensitive(metadata, "labels"), source,
				index, err);
	if (err_code)
		return err_code;
	if (spec && cJSON_IsObject(spec)) {
		const cJSON *host_network = cJSON_GetObjectItemCaseSensitive(spec, "hostNetwork");
		static const char *const lists[] = {"initContainers", "containers",
						    "ephemeralContainers"};
		size_t i;

		pod->service_account = dup_or_null(json_member_string(spec, "serviceAccountName"));
		pod->host_network = cJSON_IsTrue(host_network);
		for (i = 0; i < 3; i++) {
			char field[64];

			snprintf(field, sizeof(field), "spec.%s", lists[i]);
			err_code = containers_parse(pod,
						    cJSON_GetObjectItemCaseSensitive(spec, lists[i]),
						    source, index, field, false, err);
			if (err_code)
				return err_code;
		}
	}
	if (status && cJSON_IsObject(status)) {
		static const char *const lists[] = {"initContainerStatuses", "containerStatuses",
						    "ephemeralContainerStatuses"};
		size_t i;

		for (i = 0; i < 3; i++) {
			char field[64];

			snprintf(field, sizeof(field), "status.%s", lists[i]);
			err_code = containers_parse(
				pod, cJSON_GetObjectItemCaseSensitive(status, lists[i]), source,
				index, field, true, err);
			if (err_code)
				return err_code;
		}
	}
	return 0;
}

int pod_inventory_load_podlist(struct pod_inventory *inventory, const cJSON *root,
			       const char *source, struct am_error *err)
{
	const cJSON *items, *item;
	struct pod_info *pods;
	size_t n = 0, count;
	const char *kind;
	int err_code;

	if (!cJSON_IsObject(root)) {
		am_error_set(err, "%s: expected a PodList object", source);
		return -EINVAL;
	}
	kind = json_member_string(root, "kind");
	if (kind && strcmp(kind, "PodList") != 0 && strcmp(kind, "List") != 0) {
		am_error_set(err, "%s: kind is \"%s\", expected \"PodList\"", source, kind);
		return -EINVAL;
	}
	items = cJSON_GetObjectItemCaseSensitive(root, "items");
	if (!cJSON_IsArray(items)) {
		am_error_set(err, "%s: items: missing or not an array", source);
		return -EINVAL;
	}
	count = (size_t)cJSON_GetArraySize(items);
	if (count > POD_INVENTORY_MAX_PODS) {
		am_error_set(err, "%s: %zu pods is more than the %d a node can hold here", source,
			     count, POD_INVENTORY_MAX_PODS);
		return -E2BIG;
	}
	pods = calloc(count ? count : 1, sizeof(*pods));
	if (!pods) {
		am_error_set(err, "%s: out of memory", source);
		return -ENOMEM;
	}
	cJSON_ArrayForEach(item, items)
	{
		err_code = pod_parse(&pods[n], item, source, n, err);
		n++;
		if (err_code) {
			pods_release(pods, n);
			return err_code;
		}
	}
	pods_release(inventory->pods, inventory->n_pods);
	inventory->pods = pods;
	inventory->n_pods = n;
	inventory->generation++;
	return 0;
}

size_t pod_inventory_count(const struct pod_inventory *inventory)
{
	return inventory->n_pods;
}

unsigned long pod_inventory_generation(const struct pod_inventory *inventory)
{
	return inventory->generation;
}

const struct pod_info *pod_inventory_find(const struct pod_inventory *inventory, const char *uid)
{
	size_t i;

	for (i = 0; i < inventory->n_pods; i++)
		if (strcmp(inventory->pods[i].uid, uid) == 0)
			return &inventory->pods[i];
	return NULL;
}

const struct container_info *pod_find_container(const struct pod_info *pod,
						const char *container_id)
{
	size_t i;

	if (!container_id || !*container_id)
		return NULL;
	for (i = 0; i < pod->n_containers; i++)
		if (pod->containers[i].id && strcmp(pod->containers[i].id, container_id) == 0)
			return &pod->containers[i];
	return NULL;
}
