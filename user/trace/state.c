// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* The pipeline's state to and from JSON, for trace files; see state.h. */
#include "trace/state.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attribute/cgroups.h"
#include "name/dns_cache.h"
#include "detect/identities.h"
#include "lib/json_input.h"
#include "attribute/node_identity.h"
#include "attribute/pods.h"
#include "detect/policy.h"
#include "attribute/processes.h"
#include "name/service_tags.h"
#include "attribute/watch.h"

static void hex(struct jsonw *w, const char *key, const uint8_t *data, size_t len)
{
	static const char digits[] = "0123456789abcdef";
	char *text = malloc(len * 2 + 1);
	size_t i;

	if (!text)
		return;
	for (i = 0; i < len; i++) {
		text[i * 2] = digits[data[i] >> 4];
		text[i * 2 + 1] = digits[data[i] & 15];
	}
	text[len * 2] = '\0';
	jsonw_member_string(w, key, text);
	free(text);
}

static size_t unhex(const char *text, uint8_t *out, size_t max)
{
	size_t n = 0;

	while (text && text[0] && text[1] && n < max) {
		unsigned int byte;

		if (sscanf(text, "%2x", &byte) != 1)
			break;
		out[n++] = (uint8_t)byte;
		text += 2;
	}
	return n;
}

/* 64-bit values go as decimal strings: JSON numbers are doubles, 53 bits exact. */
static void member_u64(struct jsonw *w, const char *key, uint64_t value)
{
	char text[24];

	snprintf(text, sizeof(text), "%llu", (unsigned long long)value);
	jsonw_member_string(w, key, text);
}

static void begin(struct jsonw *w, const char *kind)
{
	jsonw_reset(w);
	jsonw_object_begin(w);
	jsonw_member_string(w, "state", kind);
}

/* --- cgroups --- */

static void write_cgroup(void *ctx, const struct cgroup_entry *entry)
{
	struct jsonw *w = ctx;

	jsonw_object_begin(w);
	member_u64(w, "id", entry->id);
	jsonw_member_string(w, "path", entry->path);
	member_u64(w, "removed", entry->removed_at_ns);
	jsonw_object_end(w);
}

void state_write_cgroups(struct jsonw *w, struct cgroup_cache *cgroups)
{
	begin(w, "cgroups");
	jsonw_key(w, "cgroups");
	jsonw_array_begin(w);
	cgroup_cache_foreach(cgroups, write_cgroup, w);
	jsonw_array_end(w);
	jsonw_object_end(w);
}

/* --- processes --- */

static void write_process_object(struct jsonw *w, const struct process_info *p)
{
	jsonw_object_begin(w);
	member_u64(w, "pid", p->pid);
	member_u64(w, "ppid", p->ppid);
	member_u64(w, "uid", p->uid);
	member_u64(w, "start", p->start_ns);
	member_u64(w, "cgroup", p->cgroup_id);
	hex(w, "comm", (const uint8_t *)p->comm, strnlen(p->comm, sizeof(p->comm)));
	if (p->exe)
		hex(w, "exe", (const uint8_t *)p->exe, strlen(p->exe));
	if (p->args)
		hex(w, "args", (const uint8_t *)p->args, p->args_size);
	jsonw_key(w, "args_truncated");
	jsonw_bool(w, p->args_truncated);
	jsonw_key(w, "ran_exe");
	jsonw_bool(w, p->ran_exe);
	if (p->previous_exe) {
		hex(w, "previous_exe", (const uint8_t *)p->previous_exe, strlen(p->previous_exe));
		hex(w, "previous_comm", (const uint8_t *)p->previous_comm,
		    strnlen(p->previous_comm, sizeof(p->previous_comm)));
	}
	member_u64(w, "exited", p->exited_at_ns);
	jsonw_object_end(w);
}

static void write_process(void *ctx, const struct process_info *p)
{
	write_process_object(ctx, p);
}

void state_write_processes(struct jsonw *w, struct process_cache *processes)
{
	begin(w, "processes");
	jsonw_key(w, "processes");
	jsonw_array_begin(w);
	process_cache_foreach(processes, write_process, w);
	jsonw_array_end(w);
	jsonw_object_end(w);
}

void state_write_process(struct jsonw *w, const struct process_info *process)
{
	begin(w, "process");
	jsonw_key(w, "process");
	write_process_object(w, process);
	jsonw_object_end(w);
}

static uint64_t number(const cJSON *object, const char *key)
{
	const cJSON *item = cJSON_GetObjectItemCaseSensitive(object, key);

	if (cJSON_IsString(item))
		return strtoull(item->valuestring, NULL, 10);
	return cJSON_IsNumber(item) && item->valuedouble > 0 ? (uint64_t)item->valuedouble : 0;
}

static void restore_process(struct process_cache *processes, const cJSON *item)
{
	struct process_info info = {0};
	uint8_t exe[AM_EXE_LEN + 1] = {0}, args[AM_ARGS_LEN] = {0}, prev[AM_EXE_LEN + 1] = {0};
	size_t n;

	info.pid = (uint32_t)number(item, "pid");
	info.ppid = (uint32_t)number(item, "ppid");
	info.uid = (uint32_t)number(item, "uid");
	info.start_ns = number(item, "start");
	info.cgroup_id = number(item, "cgroup");
	info.exited_at_ns = number(item, "exited");
	unhex(json_member_string(item, "comm"), (uint8_t *)info.comm, sizeof(info.comm) - 1);
	if (json_member_string(item, "exe")) {
		unhex(json_member_string(item, "exe"), exe, AM_EXE_LEN);
		info.exe = (char *)exe;
	}
	if (json_member_string(item, "args")) {
		n = unhex(json_member_string(item, "args"), args, AM_ARGS_LEN);
		info.args = (char *)args;
		info.args_size = (uint16_t)n;
	}
	if (json_member_string(item, "previous_exe")) {
		unhex(json_member_string(item, "previous_exe"), prev, AM_EXE_LEN);
		info.previous_exe = (char *)prev;
		unhex(json_member_string(item, "previous_comm"), (uint8_t *)info.previous_comm,
		      sizeof(info.previous_comm) - 1);
	}
	info.args_truncated = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(item, "args_truncated"));
	if (process_cache_put(processes, &info))
		process_cache_lookup(processes, info.pid)->ran_exe =
			cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(item, "ran_exe"));
}

/* --- pods --- */

static void write_wi(struct jsonw *w, const struct workload_identity_env *wi)
{
	jsonw_object_begin(w);
	jsonw_member_string(w, "client_id", wi->client_id);
	jsonw_member_string(w, "tenant_id", wi->tenant_id);
	jsonw_member_string(w, "token_file", wi->token_file);
	jsonw_member_string(w, "authority_host", wi->authority_host);
	jsonw_object_end(w);
}

void state_write_pods(struct jsonw *w, const struct pod_inventory *pods)
{
	size_t i, j;

	begin(w, "pods");
	jsonw_key(w, "pods");
	jsonw_array_begin(w);
	for (i = 0; i < pod_inventory_size(pods); i++) {
		const struct pod_info *pod = pod_inventory_at(pods, i);

		jsonw_object_begin(w);
		jsonw_member_string(w, "uid", pod->uid);
		jsonw_member_string(w, "namespace", pod->namespace);
		jsonw_member_string(w, "name", pod->name);
		jsonw_member_string(w, "service_account", pod->service_account);
		jsonw_key(w, "host_network");
		jsonw_bool(w, pod->host_network);
		jsonw_key(w, "wi_label");
		jsonw_bool(w, pod->workload_identity_label);
		jsonw_key(w, "proxy_sidecar");
		jsonw_bool(w, pod->proxy_sidecar);
		member_u64(w, "sources", pod->sources);
		member_u64(w, "deleted", pod->deleted_at_ns);
		jsonw_key(w, "labels");
		jsonw_array_begin(w);
		for (j = 0; j < pod->n_labels; j++) {
			jsonw_string(w, pod->labels[j].key);
			jsonw_string(w, pod->labels[j].value);
		}
		jsonw_array_end(w);
		if (pod->labels_truncated) {
			jsonw_key(w, "labels_truncated");
			jsonw_bool(w, true);
		}
		jsonw_key(w, "containers");
		jsonw_array_begin(w);
		for (j = 0; j < pod->n_containers; j++) {
			const struct container_info *c = &pod->containers[j];

			jsonw_object_begin(w);
			jsonw_member_string(w, "id", c->id);
			jsonw_member_string(w, "name", c->name);
			jsonw_member_string(w, "image", c->image);
			jsonw_key(w, "sandbox");
			jsonw_bool(w, c->sandbox);
			jsonw_key(w, "wi");
			if (c->has_workload_identity)
				write_wi(w, &c->wi);
			else
				jsonw_null(w);
			jsonw_object_end(w);
		}
		jsonw_array_end(w);
		jsonw_object_end(w);
	}
	jsonw_array_end(w);
	jsonw_object_end(w);
}

/* --- watches, DNS, node, identities, policy, service tags, losses --- */

void state_write_watches(struct jsonw *w, const struct watch_list *watches)
{
	size_t id;

	begin(w, "watches");
	jsonw_key(w, "entries");
	jsonw_array_begin(w);
	for (id = 0; id < watch_list_slots(watches); id++) {
		const struct watch_entry *e = watch_list_get(watches, (uint32_t)id);

		if (!e)
			continue;
		jsonw_object_begin(w);
		member_u64(w, "id", e->id);
		member_u64(w, "kind", e->kind);
		jsonw_member_string(w, "path", e->path);
		jsonw_member_string(w, "owner", e->owner_uid);
		member_u64(w, "identity", e->identity);
		jsonw_key(w, "by_path");
		jsonw_bool(w, e->by_path);
		member_u64(w, "flags", e->flags);
		member_u64(w, "removed", e->removed_at_ns);
		jsonw_object_end(w);
	}
	jsonw_array_end(w);
	jsonw_object_end(w);
}

static void write_dns_entry(void *ctx, const char *owner, uint8_t family, const uint8_t addr[16],
			    const char *name, uint64_t expires_ns)
{
	struct jsonw *w = ctx;

	jsonw_object_begin(w);
	jsonw_member_string(w, "owner", owner);
	member_u64(w, "family", family);
	hex(w, "addr", addr, 16);
	jsonw_member_string(w, "name", name);
	member_u64(w, "expires", expires_ns);
	jsonw_object_end(w);
}

void state_write_dns(struct jsonw *w, const struct dns_cache *dns)
{
	begin(w, "dns");
	jsonw_key(w, "entries");
	jsonw_array_begin(w);
	dns_cache_foreach(dns, write_dns_entry, w);
	jsonw_array_end(w);
	jsonw_object_end(w);
}

void state_write_node(struct jsonw *w, const struct node_identity *node)
{
	size_t i;

	begin(w, "node");
	/* As azure.json and `az aks show` put it, so their readers take it back. */
	jsonw_key(w, "azure");
	jsonw_object_begin(w);
	if (node->has_cloud_config) {
		jsonw_member_string(w, "cloud", node->cloud);
		jsonw_member_string(w, "tenantId", node->tenant_id ? node->tenant_id : "");
		jsonw_member_string(w, "subscriptionId", node->subscription_id);
		jsonw_member_string(w, "resourceGroup", node->resource_group);
		jsonw_member_string(w, "location", node->location);
		jsonw_member_string(w, "vmType", node->vm_type);
		jsonw_member_string(w, "primaryScaleSetName", node->scale_set);
		jsonw_key(w, "useManagedIdentityExtension");
		jsonw_bool(w, node->use_managed_identity);
		jsonw_member_string(w, "aadClientId", node->uses_service_principal
							       ? node->service_principal_client_id
							       : "msi");
	}
	jsonw_object_end(w);
	jsonw_key(w, "identities");
	jsonw_array_begin(w);
	for (i = 0; i < node->n_identities; i++) {
		const struct managed_identity *m = &node->identities[i];

		jsonw_object_begin(w);
		jsonw_member_string(w, "kind", m->kind);
		jsonw_member_string(w, "name", m->name);
		jsonw_member_string(w, "clientId", m->client_id);
		jsonw_member_string(w, "objectId", m->object_id);
		jsonw_member_string(w, "resourceId", m->resource_id);
		jsonw_object_end(w);
	}
	jsonw_array_end(w);
	jsonw_member_string(w, "cluster_identity_type", node->cluster_identity_type);
	jsonw_member_string(w, "cluster_identity_principal_id", node->cluster_identity_principal_id);
	jsonw_member_string(w, "cluster_name", node->cluster_name);
	jsonw_object_end(w);
}

void state_write_identities(struct jsonw *w, const struct identity_data *identities)
{
	size_t i;

	begin(w, "identities");
	jsonw_key(w, "files");
	jsonw_array_begin(w);
	for (i = 0; identities && i < identities->n_files; i++) {
		jsonw_object_begin(w);
		jsonw_member_string(w, "name", identities->files[i].name);
		jsonw_member_string(w, "json", identities->files[i].json);
		jsonw_object_end(w);
	}
	jsonw_array_end(w);
	jsonw_key(w, "present");
	jsonw_bool(w, identities != NULL);
	jsonw_object_end(w);
}

void state_write_policy(struct jsonw *w, const struct policy *policy)
{
	begin(w, "policy");
	jsonw_member_string(w, "json", policy ? policy_json(policy) : NULL);
	jsonw_object_end(w);
}

void state_write_service_tags(struct jsonw *w, const struct service_tags *tags)
{
	char *json = tags ? service_tags_json(tags) : NULL;

	begin(w, "service_tags");
	jsonw_member_string(w, "json", json);
	jsonw_object_end(w);
	free(json);
}

void state_write_loss(struct jsonw *w, uint64_t boot_ns, uint64_t lost, uint64_t lost_total)
{
	begin(w, "loss");
	member_u64(w, "time", boot_ns);
	member_u64(w, "lost", lost);
	member_u64(w, "lost_total", lost_total);
	jsonw_object_end(w);
}

void state_write_degraded(struct jsonw *w, uint64_t boot_ns, const struct degraded_notice *notice)
{
	begin(w, "degraded");
	member_u64(w, "time", boot_ns);
	jsonw_member_string(w, "detection", detection_name(notice->detection));
	jsonw_member_string(w, "cause", degraded_cause_name(notice->cause));
	jsonw_key(w, "restored");
	jsonw_bool(w, notice->restored);
	jsonw_member_string(w, "reason", notice->reason);
	member_u64(w, "since", notice->since_ns);
	jsonw_object_end(w);
}

void state_write_recorder_loss(struct jsonw *w, uint64_t records)
{
	begin(w, "recorder-loss");
	member_u64(w, "records", records);
	jsonw_object_end(w);
}

/* --- applying --- */

static const char *string_or(const cJSON *object, const char *key, const char *fallback)
{
	const char *value = json_member_string(object, key);

	return value ? value : fallback;
}

static int apply_pods(struct pod_inventory *pods, const cJSON *root, struct am_error *err)
{
	/* A PodList the inventory reads, then the fields a PodList cannot carry. */
	cJSON *list = cJSON_CreateObject(), *items = cJSON_AddArrayToObject(list, "items");
	const cJSON *pod;
	size_t i = 0;
	int rc;

	cJSON_ArrayForEach(pod, cJSON_GetObjectItemCaseSensitive(root, "pods"))
	{
		cJSON *item = cJSON_CreateObject(), *metadata, *spec, *status, *labels, *containers,
		      *statuses;
		const cJSON *label, *container;

		metadata = cJSON_AddObjectToObject(item, "metadata");
		cJSON_AddStringToObject(metadata, "uid", string_or(pod, "uid", "?"));
		cJSON_AddStringToObject(metadata, "name", string_or(pod, "name", ""));
		cJSON_AddStringToObject(metadata, "namespace", string_or(pod, "namespace", ""));
		labels = cJSON_AddObjectToObject(metadata, "labels");
		for (label = cJSON_GetObjectItemCaseSensitive(pod, "labels")
				     ? cJSON_GetObjectItemCaseSensitive(pod, "labels")->child
				     : NULL;
		     label && label->next; label = label->next->next)
			cJSON_AddStringToObject(labels, label->valuestring, label->next->valuestring);
		spec = cJSON_AddObjectToObject(item, "spec");
		if (json_member_string(pod, "service_account"))
			cJSON_AddStringToObject(spec, "serviceAccountName",
						json_member_string(pod, "service_account"));
		containers = cJSON_AddArrayToObject(spec, "containers");
		status = cJSON_AddObjectToObject(item, "status");
		statuses = cJSON_AddArrayToObject(status, "containerStatuses");
		cJSON_ArrayForEach(container, cJSON_GetObjectItemCaseSensitive(pod, "containers"))
		{
			cJSON *c = cJSON_CreateObject(), *s = cJSON_CreateObject();
			const char *name = string_or(container, "name", "");

			cJSON_AddStringToObject(c, "name", name);
			if (json_member_string(container, "image"))
				cJSON_AddStringToObject(c, "image",
							json_member_string(container, "image"));
			cJSON_AddItemToArray(containers, c);
			cJSON_AddStringToObject(s, "name", name);
			if (json_member_string(container, "id"))
				cJSON_AddStringToObject(s, "containerID",
							json_member_string(container, "id"));
			cJSON_AddItemToArray(statuses, s);
		}
		cJSON_AddItemToArray(items, item);
	}
	pod_inventory_clear(pods);
	rc = pod_inventory_apply_podlist(pods, list, "trace pods", POD_SOURCE_PODLIST, 1, err);
	cJSON_Delete(list);
	if (rc)
		return rc;
	/* Now the exact fields: sources, deletion, flags, workload identity, sandboxes. */
	cJSON_ArrayForEach(pod, cJSON_GetObjectItemCaseSensitive(root, "pods"))
	{
		struct pod_info *info =
			(struct pod_info *)pod_inventory_find(pods, string_or(pod, "uid", "?"));
		const cJSON *container;

		if (!info)
			continue;
		info->sources = (unsigned int)number(pod, "sources");
		info->deleted_at_ns = number(pod, "deleted");
		info->host_network = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(pod, "host_network"));
		info->workload_identity_label =
			cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(pod, "wi_label"));
		info->proxy_sidecar = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(pod, "proxy_sidecar"));
		info->labels_truncated =
			cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(pod, "labels_truncated"));
		if (!json_member_string(pod, "name")) {
			free(info->name);
			info->name = NULL;
		}
		if (!json_member_string(pod, "namespace")) {
			free(info->namespace);
			info->namespace = NULL;
		}
		i = 0;
		cJSON_ArrayForEach(container, cJSON_GetObjectItemCaseSensitive(pod, "containers"))
		{
			const cJSON *wi = cJSON_GetObjectItemCaseSensitive(container, "wi");
			struct container_info *c;

			if (i >= info->n_containers)
				break;
			c = &info->containers[i++];
			c->sandbox = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(container, "sandbox"));
			if (cJSON_IsObject(wi)) {
				workload_identity_env_set(&c->wi, "AZURE_CLIENT_ID",
							  json_member_string(wi, "client_id"));
				workload_identity_env_set(&c->wi, "AZURE_TENANT_ID",
							  json_member_string(wi, "tenant_id"));
				workload_identity_env_set(&c->wi, "AZURE_FEDERATED_TOKEN_FILE",
							  json_member_string(wi, "token_file"));
				workload_identity_env_set(&c->wi, "AZURE_AUTHORITY_HOST",
							  json_member_string(wi, "authority_host"));
				c->has_workload_identity = true;
			}
		}
	}
	return 0;
}

static int apply_node(struct node_identity *node, const cJSON *root, struct am_error *err)
{
	const cJSON *azure = cJSON_GetObjectItemCaseSensitive(root, "azure"), *m;

	node_identity_release(node);
	if (cJSON_IsObject(azure) && azure->child &&
	    node_identity_load_azure_json(node, azure, "trace node", err))
		return -EINVAL;
	cJSON_ArrayForEach(m, cJSON_GetObjectItemCaseSensitive(root, "identities"))
	{
		struct managed_identity *identity;
		size_t i;

		if (node->n_identities >= NODE_MAX_IDENTITIES)
			break;
		/* azure.json may have added the kubelet identity already. */
		for (i = 0; i < node->n_identities; i++)
			if (node->identities[i].client_id && json_member_string(m, "clientId") &&
			    strcmp(node->identities[i].client_id, json_member_string(m, "clientId")) == 0)
				break;
		identity = &node->identities[i];
		if (i == node->n_identities)
			node->n_identities++;
		else {
			free(identity->kind);
			free(identity->name);
			free(identity->client_id);
			free(identity->object_id);
			free(identity->resource_id);
		}
		identity->kind = strdup(string_or(m, "kind", "unknown"));
		identity->name = json_member_string(m, "name") ? strdup(json_member_string(m, "name")) : NULL;
		identity->client_id = json_member_string(m, "clientId")
					      ? strdup(json_member_string(m, "clientId"))
					      : NULL;
		identity->object_id = json_member_string(m, "objectId")
					      ? strdup(json_member_string(m, "objectId"))
					      : NULL;
		identity->resource_id = json_member_string(m, "resourceId")
						? strdup(json_member_string(m, "resourceId"))
						: NULL;
	}
	if (json_member_string(root, "cluster_identity_type"))
		node->cluster_identity_type = strdup(json_member_string(root, "cluster_identity_type"));
	if (json_member_string(root, "cluster_identity_principal_id"))
		node->cluster_identity_principal_id =
			strdup(json_member_string(root, "cluster_identity_principal_id"));
	if (json_member_string(root, "cluster_name"))
		node->cluster_name = strdup(json_member_string(root, "cluster_name"));
	return 0;
}

static int apply_identities(struct identity_data **slot, const cJSON *root, struct am_error *err)
{
	struct identity_data *data;
	const cJSON *file;

	if (!cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(root, "present"))) {
		identity_data_free(*slot);
		*slot = NULL;
		return 0;
	}
	data = identity_data_new();
	if (!data)
		return -ENOMEM;
	cJSON_ArrayForEach(file, cJSON_GetObjectItemCaseSensitive(root, "files"))
	{
		const char *text = json_member_string(file, "json");
		cJSON *doc = text ? cJSON_Parse(text) : NULL;
		int rc = doc ? identity_data_add_document(data, "trace",
							   string_or(file, "name", "?"), doc, err)
			     : -EINVAL;

		cJSON_Delete(doc);
		if (rc) {
			identity_data_free(data);
			return -EINVAL;
		}
	}
	identity_data_free(*slot);
	*slot = data;
	return 0;
}

int state_apply(const struct state_refs *refs, const char *json, size_t len, bool keep_identities,
		bool keep_policy, struct state_effect *effect, struct am_error *err)
{
	cJSON *root = json_input_parse("trace state", json, len, err);
	const cJSON *item;
	const char *kind;
	int rc = 0;

	memset(effect, 0, sizeof(*effect));
	if (!root)
		return -EINVAL;
	kind = json_member_string(root, "state");
	snprintf(effect->kind, sizeof(effect->kind), "%s", kind ? kind : "?");
	if (!kind) {
		am_error_set(err, "trace state: no \"state\" member");
		rc = -EINVAL;
	} else if (strcmp(kind, "cgroups") == 0) {
		cJSON_ArrayForEach(item, cJSON_GetObjectItemCaseSensitive(root, "cgroups"))
		{
			cgroup_cache_add(refs->cgroups, number(item, "id"), string_or(item, "path", "/"));
			if (number(item, "removed"))
				cgroup_cache_mark_removed(refs->cgroups, number(item, "id"),
							  number(item, "removed"));
		}
	} else if (strcmp(kind, "processes") == 0) {
		cJSON_ArrayForEach(item, cJSON_GetObjectItemCaseSensitive(root, "processes"))
			restore_process(refs->processes, item);
	} else if (strcmp(kind, "process") == 0) {
		restore_process(refs->processes, cJSON_GetObjectItemCaseSensitive(root, "process"));
	} else if (strcmp(kind, "pods") == 0) {
		rc = apply_pods(refs->pods, root, err);
	} else if (strcmp(kind, "watches") == 0) {
		cJSON_ArrayForEach(item, cJSON_GetObjectItemCaseSensitive(root, "entries"))
		{
			struct watch_spec spec = {
				.kind = (enum watch_kind)number(item, "kind"),
				.path = json_member_string(item, "path"),
				.owner_uid = json_member_string(item, "owner"),
				.identity = (enum watch_identity)number(item, "identity"),
				.by_path = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(item, "by_path")),
				.flags = (uint32_t)number(item, "flags"),
			};

			watch_list_restore(refs->watches, (uint32_t)number(item, "id"), &spec,
					   number(item, "removed"));
		}
	} else if (strcmp(kind, "dns") == 0) {
		cJSON_ArrayForEach(item, cJSON_GetObjectItemCaseSensitive(root, "entries"))
		{
			uint8_t addr[16] = {0};

			unhex(json_member_string(item, "addr"), addr, 16);
			dns_cache_add(refs->dns, string_or(item, "owner", ""),
				      (uint8_t)number(item, "family"), addr,
				      string_or(item, "name", ""), number(item, "expires"));
		}
	} else if (strcmp(kind, "node") == 0) {
		rc = apply_node(refs->node, root, err);
	} else if (strcmp(kind, "identities") == 0) {
		if (!keep_identities) {
			rc = apply_identities(refs->identities, root, err);
			effect->detection_changed = rc == 0;
		}
	} else if (strcmp(kind, "policy") == 0) {
		if (!keep_policy) {
			const char *text = json_member_string(root, "json");
			cJSON *doc = text ? cJSON_Parse(text) : NULL;
			struct policy *policy = doc ? policy_parse(doc, "trace policy", err)
						    : policy_default();

			cJSON_Delete(doc);
			if (policy) {
				policy_free(*refs->policy);
				*refs->policy = policy;
				effect->detection_changed = true;
			} else {
				rc = -EINVAL;
			}
		}
	} else if (strcmp(kind, "service_tags") == 0) {
		const char *text = json_member_string(root, "json");
		cJSON *doc = text ? cJSON_Parse(text) : NULL;

		service_tags_free(*refs->service_tags);
		*refs->service_tags = doc ? service_tags_from_json(doc, "trace service tags", err)
					  : NULL;
		cJSON_Delete(doc);
	} else if (strcmp(kind, "loss") == 0) {
		effect->loss = true;
		effect->boot_ns = number(root, "time");
		effect->lost = number(root, "lost");
		effect->lost_total = number(root, "lost_total");
	} else if (strcmp(kind, "degraded") == 0) {
		int detection = detection_parse(json_member_string(root, "detection"));
		int cause = degraded_cause_parse(json_member_string(root, "cause"));

		/* What this monitor does not know (a newer recorder's) is left out. */
		if (detection >= 0 && cause >= 0) {
			effect->degraded = true;
			effect->boot_ns = number(root, "time");
			effect->notice.detection = (enum detection)detection;
			effect->notice.cause = (enum degraded_cause)cause;
			effect->notice.restored =
				cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(root, "restored"));
			snprintf(effect->degraded_reason, sizeof(effect->degraded_reason), "%s",
				 string_or(root, "reason", ""));
			effect->notice.reason = effect->degraded_reason;
			effect->notice.since_ns = number(root, "since");
		}
	} else if (strcmp(kind, "recorder-loss") == 0) {
		effect->recorder_lost = number(root, "records");
	}
	cJSON_Delete(root);
	return rc;
}
