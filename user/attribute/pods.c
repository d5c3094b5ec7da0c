// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* The merged pod inventory; see pods.h. */
#include "attribute/pods.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/json_input.h"

#define WI_LABEL "azure.workload.identity/use"
#define WI_PROXY_ANNOTATION "azure.workload.identity/inject-proxy-sidecar"

struct pod_inventory {
	struct pod_info **pods;
	size_t n_pods;
	size_t capacity;
	size_t live;
	unsigned long generation;
};

struct pod_inventory *pod_inventory_new(void)
{
	return calloc(1, sizeof(struct pod_inventory));
}

void workload_identity_env_release(struct workload_identity_env *wi)
{
	free(wi->client_id);
	free(wi->tenant_id);
	free(wi->token_file);
	free(wi->authority_host);
	memset(wi, 0, sizeof(*wi));
}

/*
 * How much of s is kept: all of it up to max bytes, else max bytes cut before a
 * UTF-8 continuation byte so no character is split (at most 3 bytes back:
 * invalid input is not searched further).
 */
static size_t bounded_length(const char *s, size_t max)
{
	size_t len = strnlen(s, max + 1), back;

	if (len <= max)
		return len;
	len = max;
	for (back = 0; back < 3 && len > 0 && ((unsigned char)s[len] & 0xc0) == 0x80; back++)
		len--;
	return len;
}

static char *bounded_strdup(const char *s, size_t max)
{
	return strndup(s, bounded_length(s, max));
}

static void replace_string(char **slot, const char *value)
{
	char *copy = value ? bounded_strdup(value, POD_VALUE_MAX_BYTES) : NULL;

	free(*slot);
	*slot = copy;
}

void workload_identity_env_set(struct workload_identity_env *wi, const char *name,
			       const char *value)
{
	if (strcmp(name, "AZURE_CLIENT_ID") == 0)
		replace_string(&wi->client_id, value);
	else if (strcmp(name, "AZURE_TENANT_ID") == 0)
		replace_string(&wi->tenant_id, value);
	else if (strcmp(name, "AZURE_FEDERATED_TOKEN_FILE") == 0)
		replace_string(&wi->token_file, value);
	else if (strcmp(name, "AZURE_AUTHORITY_HOST") == 0)
		replace_string(&wi->authority_host, value);
}

static bool wi_present(const struct workload_identity_env *wi)
{
	return wi->client_id || wi->token_file;
}

void bundle_container_release(struct bundle_container *container)
{
	free(container->id);
	free(container->pod_uid);
	free(container->pod_name);
	free(container->pod_namespace);
	free(container->container_name);
	free(container->image);
	workload_identity_env_release(&container->wi);
	memset(container, 0, sizeof(*container));
}

static void container_release(struct container_info *container)
{
	free(container->id);
	free(container->name);
	free(container->image);
	workload_identity_env_release(&container->wi);
}

static void labels_release(struct pod_info *pod)
{
	size_t i;

	for (i = 0; i < pod->n_labels; i++) {
		free(pod->labels[i].key);
		free(pod->labels[i].value);
	}
	pod->n_labels = 0;
}

static void pod_free(struct pod_info *pod)
{
	size_t i;

	if (!pod)
		return;
	free(pod->uid);
	free(pod->namespace);
	free(pod->name);
	free(pod->service_account);
	labels_release(pod);
	free(pod->labels);
	pod_volumes_release(&pod->volumes);
	for (i = 0; i < pod->n_containers; i++)
		container_release(&pod->containers[i]);
	free(pod->containers);
	free(pod);
}

void pod_inventory_free(struct pod_inventory *inventory)
{
	size_t i;

	if (!inventory)
		return;
	for (i = 0; i < inventory->n_pods; i++)
		pod_free(inventory->pods[i]);
	free(inventory->pods);
	free(inventory);
}

static struct pod_info *pod_alloc(const char *uid)
{
	struct pod_info *pod = calloc(1, sizeof(*pod));

	if (!pod)
		return NULL;
	pod->uid = strdup(uid);
	pod->labels = calloc(POD_MAX_LABELS, sizeof(*pod->labels));
	pod->containers = calloc(POD_MAX_CONTAINERS, sizeof(*pod->containers));
	if (!pod->uid || !pod->labels || !pod->containers) {
		pod_free(pod);
		return NULL;
	}
	return pod;
}

/* "containerd://abc" -> "abc"; an id without a scheme is taken as it is. */
static const char *strip_runtime_scheme(const char *id)
{
	const char *sep = strstr(id, "://");

	return sep ? sep + 3 : id;
}

/*
 * The pod's entry for a container: by id, else the same name still without an id.
 * A restarted container has a new id under the same name; both ids stay known so
 * late events of the old one are still attributed.
 */
static struct container_info *container_slot(struct pod_info *pod, const char *id,
					     const char *name)
{
	struct container_info *container;
	char bounded[POD_NAME_MAX_BYTES + 1];
	size_t i;

	/* Compared and kept as it is stored: a giant name is found again, not added again. */
	if (name) {
		size_t len = bounded_length(name, POD_NAME_MAX_BYTES);

		memcpy(bounded, name, len);
		bounded[len] = '\0';
		name = bounded;
	}
	if (id) {
		for (i = 0; i < pod->n_containers; i++)
			if (pod->containers[i].id && strcmp(pod->containers[i].id, id) == 0)
				return &pod->containers[i];
	}
	if (name) {
		for (i = 0; i < pod->n_containers; i++) {
			container = &pod->containers[i];
			if (container->name && strcmp(container->name, name) == 0 &&
			    (!container->id || !id)) {
				if (id && !container->id)
					container->id = strdup(id);
				return container;
			}
		}
	}
	if (pod->n_containers >= POD_MAX_CONTAINERS)
		return NULL;
	container = &pod->containers[pod->n_containers++];
	memset(container, 0, sizeof(*container));
	container->id = id ? strdup(id) : NULL;
	container->name = name ? strdup(name) : NULL;
	return container;
}

/* Takes a container's workload identity variables, when it has any. */
static void container_set_wi(struct container_info *container, struct workload_identity_env *wi)
{
	if (!wi_present(wi))
		return;
	workload_identity_env_release(&container->wi);
	container->wi = *wi;
	memset(wi, 0, sizeof(*wi));
	container->has_workload_identity = true;
}

/* --- PodList parsing ------------------------------------------------------- */

static int env_parse(const cJSON *env, struct workload_identity_env *wi)
{
	const cJSON *item;

	if (!cJSON_IsArray(env))
		return 0;
	cJSON_ArrayForEach(item, env)
	{
		const char *name = json_member_string(item, "name");
		const char *value = json_member_string(item, "value");

		if (name && value)
			workload_identity_env_set(wi, name, value);
	}
	return 0;
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
		i++;
		if (statuses) {
			const char *id = json_member_string(item, "containerID");

			container = container_slot(pod, id && *id ? strip_runtime_scheme(id) : NULL,
						   name);
		} else {
			struct workload_identity_env wi = {0};
			const char *image;

			container = container_slot(pod, NULL, name);
			if (container) {
				env_parse(cJSON_GetObjectItemCaseSensitive(item, "env"), &wi);
				container_set_wi(container, &wi);
				image = json_member_string(item, "image");
				if (!container->image && image)
					container->image = bounded_strdup(image, POD_VALUE_MAX_BYTES);
			}
			workload_identity_env_release(&wi);
		}
	}
	return 0;
}

static int labels_parse(struct pod_info *pod, const cJSON *labels, const char *source,
			size_t index, struct am_error *err)
{
	const cJSON *label;
	char *key, *value;

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
		if (strcmp(label->string, WI_LABEL) == 0)
			pod->workload_identity_label = strcmp(label->valuestring, "true") == 0;
		if (pod->n_labels >= POD_MAX_LABELS ||
		    strlen(label->string) > POD_LABEL_MAX_BYTES) {
			pod->labels_truncated = true;
			continue;
		}
		if (strlen(label->valuestring) > POD_LABEL_MAX_BYTES)
			pod->labels_truncated = true;
		key = strdup(label->string);
		value = bounded_strdup(label->valuestring, POD_LABEL_MAX_BYTES);
		if (!key || !value) {
			free(key);
			free(value);
			am_error_set(err, "%s: out of memory", source);
			return -ENOMEM;
		}
		pod->labels[pod->n_labels].key = key;
		pod->labels[pod->n_labels].value = value;
		pod->n_labels++;
	}
	return 0;
}

static int pod_parse(struct pod_info **out, const cJSON *item, const char *source, size_t index,
		     struct am_error *err)
{
	const cJSON *metadata = cJSON_GetObjectItemCaseSensitive(item, "metadata");
	const cJSON *spec = cJSON_GetObjectItemCaseSensitive(item, "spec");
	const cJSON *status = cJSON_GetObjectItemCaseSensitive(item, "status");
	const cJSON *annotations;
	const char *uid, *name, *namespace, *proxy;
	struct pod_info *pod;
	int rc;

	*out = NULL;
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
	pod = pod_alloc(uid);
	if (!pod) {
		am_error_set(err, "%s: out of memory", source);
		return -ENOMEM;
	}
	*out = pod;
	pod->name = bounded_strdup(name, POD_NAME_MAX_BYTES);
	pod->namespace = bounded_strdup(namespace ? namespace : "default", POD_NAME_MAX_BYTES);
	rc = labels_parse(pod, cJSON_GetObjectItemCaseSensitive(metadata, "labels"), source, index,
			  err);
	if (rc)
		return rc;
	annotations = cJSON_GetObjectItemCaseSensitive(metadata, "annotations");
	proxy = json_member_string(annotations, WI_PROXY_ANNOTATION);
	pod->proxy_sidecar = proxy && strcmp(proxy, "true") == 0;
	if (cJSON_IsObject(spec)) {
		static const char *const lists[] = {"initContainers", "containers",
						    "ephemeralContainers"};
		size_t i;

		if (json_member_string(spec, "serviceAccountName"))
			pod->service_account = bounded_strdup(
				json_member_string(spec, "serviceAccountName"), POD_NAME_MAX_BYTES);
		pod->host_network = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(spec, "hostNetwork"));
		pod->has_spec = true;
		rc = pod_volumes_parse(&pod->volumes, cJSON_GetObjectItemCaseSensitive(spec, "volumes"),
				       source, index, err);
		if (rc)
			return rc;
		for (i = 0; i < 3; i++) {
			char field[64];

			snprintf(field, sizeof(field), "spec.%s", lists[i]);
			rc = containers_parse(pod, cJSON_GetObjectItemCaseSensitive(spec, lists[i]),
					      source, index, field, false, err);
			if (rc)
				return rc;
		}
	}
	if (cJSON_IsObject(status)) {
		static const char *const lists[] = {"initContainerStatuses", "containerStatuses",
						    "ephemeralContainerStatuses"};
		size_t i;

		for (i = 0; i < 3; i++) {
			char field[64];

			snprintf(field, sizeof(field), "status.%s", lists[i]);
			rc = containers_parse(pod,
					      cJSON_GetObjectItemCaseSensitive(status, lists[i]),
					      source, index, field, true, err);
			if (rc)
				return rc;
		}
	}
	if (!pod->name || !pod->namespace) {
		am_error_set(err, "%s: out of memory", source);
		return -ENOMEM;
	}
	return 0;
}

/* --- merging --------------------------------------------------------------- */

static struct pod_info *find_mutable(struct pod_inventory *inventory, const char *uid)
{
	size_t i;

	for (i = 0; i < inventory->n_pods; i++)
		if (strcmp(inventory->pods[i]->uid, uid) == 0)
			return inventory->pods[i];
	return NULL;
}

static struct pod_info *insert(struct pod_inventory *inventory, struct pod_info *pod)
{
	if (inventory->n_pods >= POD_INVENTORY_MAX_PODS)
		return NULL;
	if (inventory->n_pods == inventory->capacity) {
		size_t capacity = inventory->capacity ? inventory->capacity * 2 : 64;
		struct pod_info **grown =
			realloc(inventory->pods, capacity * sizeof(*inventory->pods));

		if (!grown)
			return NULL;
		inventory->pods = grown;
		inventory->capacity = capacity;
	}
	inventory->pods[inventory->n_pods++] = pod;
	return pod;
}

static void take_string(char **slot, char **value)
{
	if (!*value)
		return;
	free(*slot);
	*slot = *value;
	*value = NULL;
}

/* Folds a parsed PodList pod into the inventory's entry for it. */
static void merge_podlist_pod(struct pod_inventory *inventory, struct pod_info *parsed,
			      unsigned int kind)
{
	struct pod_info *pod = find_mutable(inventory, parsed->uid);
	size_t i;

	if (!pod) {
		if (!insert(inventory, parsed)) {
			pod_free(parsed);
			return;
		}
		parsed->sources = kind;
		return;
	}
	take_string(&pod->namespace, &parsed->namespace);
	take_string(&pod->name, &parsed->name);
	take_string(&pod->service_account, &parsed->service_account);
	pod->host_network = parsed->host_network;
	pod->workload_identity_label = parsed->workload_identity_label;
	pod->proxy_sidecar = parsed->proxy_sidecar;
	if (parsed->has_spec) {
		struct pod_volumes volumes = pod->volumes;

		pod->volumes = parsed->volumes;
		parsed->volumes = volumes; /* freed with parsed */
		pod->has_spec = true;
	}
	labels_release(pod);
	for (i = 0; i < parsed->n_labels; i++)
		pod->labels[i] = parsed->labels[i];
	pod->n_labels = parsed->n_labels;
	pod->labels_truncated = parsed->labels_truncated;
	parsed->n_labels = 0;
	for (i = 0; i < parsed->n_containers; i++) {
		struct container_info *from = &parsed->containers[i];
		struct container_info *to = container_slot(pod, from->id, from->name);

		if (!to)
			continue;
		container_set_wi(to, &from->wi);
		if (!to->image)
			take_string(&to->image, &from->image);
	}
	pod->sources |= kind;
	pod->deleted_at_ns = 0;
	pod_free(parsed);
}

/* Pods `kind` reported before but not in its latest answer lose that source. */
static void forget_absent(struct pod_inventory *inventory, unsigned int kind,
			  const unsigned char *seen, uint64_t now_ns)
{
	size_t i;

	for (i = 0; i < inventory->n_pods; i++) {
		struct pod_info *pod = inventory->pods[i];

		if (seen[i] || !(pod->sources & kind))
			continue;
		pod->sources &= ~kind;
		if (!pod->sources && !pod->deleted_at_ns)
			pod->deleted_at_ns = now_ns ? now_ns : 1;
	}
}

static void recount(struct pod_inventory *inventory)
{
	size_t i, live = 0;

	for (i = 0; i < inventory->n_pods; i++)
		if (!inventory->pods[i]->deleted_at_ns)
			live++;
	inventory->live = live;
	inventory->generation++;
}

int pod_inventory_apply_podlist(struct pod_inventory *inventory, const cJSON *root,
				const char *source, enum pod_source kind, uint64_t now_ns,
				struct am_error *err)
{
	struct pod_info **parsed;
	const cJSON *items, *item;
	unsigned char *seen;
	size_t n = 0, count, i;
	const char *doc_kind;
	int rc = 0;

	if (!cJSON_IsObject(root)) {
		am_error_set(err, "%s: expected a PodList object", source);
		return -EINVAL;
	}
	doc_kind = json_member_string(root, "kind");
	if (doc_kind && strcmp(doc_kind, "PodList") != 0 && strcmp(doc_kind, "List") != 0) {
		am_error_set(err, "%s: kind is \"%s\", expected \"PodList\"", source, doc_kind);
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
	parsed = calloc(count ? count : 1, sizeof(*parsed));
	if (!parsed) {
		am_error_set(err, "%s: out of memory", source);
		return -ENOMEM;
	}
	cJSON_ArrayForEach(item, items)
	{
		rc = pod_parse(&parsed[n], item, source, n, err);
		n++;
		if (rc)
			break;
	}
	if (rc) {
		for (i = 0; i < n; i++)
			pod_free(parsed[i]);
		free(parsed);
		return rc;
	}
	for (i = 0; i < n; i++)
		merge_podlist_pod(inventory, parsed[i], kind);
	free(parsed);

	seen = calloc(inventory->n_pods ? inventory->n_pods : 1, 1);
	if (seen) {
		for (i = 0; i < inventory->n_pods; i++) {
			const cJSON *it;

			cJSON_ArrayForEach(it, items)
			{
				const char *uid = json_member_string(
					cJSON_GetObjectItemCaseSensitive(it, "metadata"), "uid");

				if (uid && strcmp(uid, inventory->pods[i]->uid) == 0) {
					seen[i] = 1;
					break;
				}
			}
		}
		forget_absent(inventory, kind, seen, now_ns);
		free(seen);
	}
	recount(inventory);
	return 0;
}

int pod_inventory_apply_containers(struct pod_inventory *inventory,
				   const struct bundle_container *containers, size_t n,
				   uint64_t now_ns)
{
	unsigned char *seen;
	size_t i, j;

	for (i = 0; i < n; i++) {
		const struct bundle_container *from = &containers[i];
		struct container_info *to;
		struct pod_info *pod;

		if (!from->pod_uid || !from->id)
			continue;
		pod = find_mutable(inventory, from->pod_uid);
		if (!pod) {
			pod = pod_alloc(from->pod_uid);
			if (!pod || !insert(inventory, pod)) {
				pod_free(pod);
				continue;
			}
		}
		if (!pod->name && from->pod_name)
			pod->name = bounded_strdup(from->pod_name, POD_NAME_MAX_BYTES);
		if (!pod->namespace && from->pod_namespace)
			pod->namespace = bounded_strdup(from->pod_namespace, POD_NAME_MAX_BYTES);
		pod->sources |= POD_SOURCE_CONTAINERD;
		pod->deleted_at_ns = 0;
		to = container_slot(pod, from->id,
				    from->sandbox ? "POD" : from->container_name);
		if (!to)
			continue;
		to->sandbox = from->sandbox;
		if (!to->image && from->image)
			to->image = bounded_strdup(from->image, POD_VALUE_MAX_BYTES);
		if (wi_present(&from->wi)) {
			struct workload_identity_env wi = {0};

			workload_identity_env_set(&wi, "AZURE_CLIENT_ID", from->wi.client_id);
			workload_identity_env_set(&wi, "AZURE_TENANT_ID", from->wi.tenant_id);
			workload_identity_env_set(&wi, "AZURE_FEDERATED_TOKEN_FILE",
						  from->wi.token_file);
			workload_identity_env_set(&wi, "AZURE_AUTHORITY_HOST",
						  from->wi.authority_host);
			container_set_wi(to, &wi);
		}
	}
	seen = calloc(inventory->n_pods ? inventory->n_pods : 1, 1);
	if (!seen)
		return -ENOMEM;
	for (i = 0; i < inventory->n_pods; i++)
		for (j = 0; j < n && !seen[i]; j++)
			if (containers[j].pod_uid &&
			    strcmp(containers[j].pod_uid, inventory->pods[i]->uid) == 0)
				seen[i] = 1;
	forget_absent(inventory, POD_SOURCE_CONTAINERD, seen, now_ns);
	free(seen);
	recount(inventory);
	return 0;
}

void pod_inventory_clear(struct pod_inventory *inventory)
{
	size_t i;

	for (i = 0; i < inventory->n_pods; i++)
		pod_free(inventory->pods[i]);
	inventory->n_pods = 0;
	recount(inventory);
}

size_t pod_inventory_expire(struct pod_inventory *inventory, uint64_t now_ns, uint64_t grace_ns)
{
	size_t i = 0, dropped = 0;

	while (i < inventory->n_pods) {
		struct pod_info *pod = inventory->pods[i];

		if (pod->deleted_at_ns && now_ns > pod->deleted_at_ns &&
		    now_ns - pod->deleted_at_ns > grace_ns) {
			pod_free(pod);
			inventory->pods[i] = inventory->pods[--inventory->n_pods];
			dropped++;
		} else {
			i++;
		}
	}
	if (dropped)
		recount(inventory);
	return dropped;
}

size_t pod_inventory_count(const struct pod_inventory *inventory)
{
	return inventory->live;
}

unsigned long pod_inventory_generation(const struct pod_inventory *inventory)
{
	return inventory->generation;
}

const struct pod_info *pod_inventory_find(const struct pod_inventory *inventory, const char *uid)
{
	return find_mutable((struct pod_inventory *)inventory, uid);
}

const struct pod_info *pod_inventory_at(const struct pod_inventory *inventory, size_t i)
{
	return i < inventory->n_pods ? inventory->pods[i] : NULL;
}

size_t pod_inventory_size(const struct pod_inventory *inventory)
{
	return inventory->n_pods;
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

const struct workload_identity_env *pod_workload_identity(const struct pod_info *pod,
							  const struct container_info *container)
{
	size_t i;

	if (container && container->has_workload_identity)
		return &container->wi;
	for (i = 0; i < pod->n_containers; i++)
		if (pod->containers[i].has_workload_identity)
			return &pod->containers[i].wi;
	return NULL;
}

bool pod_uses_workload_identity(const struct pod_info *pod)
{
	return pod->workload_identity_label || pod_workload_identity(pod, NULL);
}
