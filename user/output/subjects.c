// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * Who a record is about: the "proc", "cgroup", "pod" and "host" members, or the
 * text line's "pod=... pid=... comm=...", and the output cache that keeps the
 * members written for a process or cgroup (output.h says when they are reused).
 */
#include "output/output.h"

#include <stdlib.h>
#include <string.h>

#include "attribute/cgroups.h"
#include "attribute/pods.h"
#include "attribute/processes.h"

static size_t comm_length(const char comm[AM_COMM_LEN])
{
	return strnlen(comm, AM_COMM_LEN);
}

/* Arguments are NUL-separated; at most this many are written. */
#define OUTPUT_MAX_ARGS 32

static void json_args(struct jsonw *w, const struct process_info *process)
{
	size_t offset = 0, count = 0;

	jsonw_key(w, "args");
	if (!process || !process->args) {
		jsonw_null(w);
		return;
	}
	jsonw_array_begin(w);
	while (offset < process->args_size && count < OUTPUT_MAX_ARGS) {
		size_t len = strnlen(process->args + offset, process->args_size - offset);

		jsonw_string_n(w, process->args + offset, len);
		offset += len + 1;
		count++;
	}
	jsonw_array_end(w);
	if (process->args_truncated || offset < process->args_size) {
		jsonw_key(w, "args_truncated");
		jsonw_bool(w, true);
	}
}

static void json_ancestors(struct jsonw *w, const struct event_view *view)
{
	const struct process_info *process = view->process;
	size_t i;

	jsonw_key(w, "ancestors");
	jsonw_array_begin(w);
	/* What this process ran before it exec'd: sh -c 'curl ...' shows sh here. */
	if (process && process->previous_exe) {
		jsonw_object_begin(w);
		jsonw_member_uint(w, "pid", process->pid);
		jsonw_key(w, "comm");
		jsonw_string_n(w, process->previous_comm, comm_length(process->previous_comm));
		jsonw_member_string(w, "exe", process->previous_exe);
		jsonw_key(w, "replaced_by_exec");
		jsonw_bool(w, true);
		jsonw_object_end(w);
	}
	for (i = 0; i < view->n_ancestors; i++) {
		const struct process_info *ancestor = view->ancestors[i];

		jsonw_object_begin(w);
		jsonw_member_uint(w, "pid", ancestor->pid);
		jsonw_key(w, "comm");
		jsonw_string_n(w, ancestor->comm, comm_length(ancestor->comm));
		jsonw_member_string(w, "exe", ancestor->exe);
		jsonw_object_end(w);
	}
	jsonw_array_end(w);
}

static void json_proc_uncached(struct jsonw *w, const struct event_view *view)
{
	const struct process_info *process = view->process;
	const struct am_task *task = view->task;
	char start[RFC3339_LEN];

	jsonw_key(w, "proc");
	jsonw_object_begin(w);
	jsonw_member_uint(w, "pid", task->pid);
	jsonw_member_uint(w, "tid", task->tid);
	jsonw_member_uint(w, "ppid", task->ppid);
	jsonw_member_uint(w, "uid", task->uid);
	jsonw_key(w, "comm");
	jsonw_string_n(w, task->comm, comm_length(task->comm));
	jsonw_member_string(w, "exe", process ? process->exe : NULL);
	json_args(w, process);
	jsonw_key(w, "start_time");
	if (process && process->start_ns) {
		format_rfc3339(process->start_ns + (uint64_t)view->boot_to_wall_ns, start);
		jsonw_string(w, start);
	} else {
		jsonw_null(w);
	}
	json_ancestors(w, view);
	jsonw_object_end(w);
}

static void pod_details_json(struct jsonw *w, const struct pod_info *pod,
			     const struct container_info *container);

static void json_cgroup_and_pod_uncached(struct jsonw *w, const struct event_view *view)
{
	const struct cgroup_entry *cgroup = view->cgroup;

	jsonw_key(w, "cgroup");
	jsonw_object_begin(w);
	jsonw_member_uint(w, "id", view->task->cgroup_id);
	jsonw_member_string(w, "path", cgroup ? cgroup->path : NULL);
	jsonw_object_end(w);

	jsonw_key(w, "pod");
	if (!cgroup || !cgroup->ref.is_pod) {
		jsonw_null(w);
		jsonw_key(w, "host");
		jsonw_object_begin(w);
		jsonw_member_string(w, "unit",
				    cgroup && cgroup->host_unit[0] ? cgroup->host_unit : NULL);
		jsonw_member_string(w, "slice",
				    cgroup && cgroup->host_slice[0] ? cgroup->host_slice : NULL);
		jsonw_object_end(w);
		return;
	}
	jsonw_object_begin(w);
	jsonw_member_string(w, "uid", cgroup->ref.pod_uid);
	jsonw_member_string(w, "namespace", view->pod ? view->pod->namespace : NULL);
	jsonw_member_string(w, "name", view->pod ? view->pod->name : NULL);
	jsonw_member_string(w, "container_id",
			    cgroup->ref.container_id[0] ? cgroup->ref.container_id : NULL);
	jsonw_member_string(w, "container", view->container ? view->container->name : NULL);
	pod_details_json(w, view->pod, view->container);
	jsonw_object_end(w);
	jsonw_key(w, "host");
	jsonw_null(w);
}

/* --- kept subjects ----------------------------------------------------------- */

#define OUTPUT_CACHE_PROCS 2048
#define OUTPUT_CACHE_CGROUPS 1024

/* Members as written once: a copy of the writer's bytes. */
struct fragment {
	char *json;
	size_t len;
	size_t cap;
};

/* The "proc" member, and everything it was written from. */
struct proc_fragment {
	uint64_t version; /* the process's; 0: an empty slot */
	uint64_t ancestors[EVENT_MAX_ANCESTORS]; /* their versions */
	size_t n_ancestors;
	uint32_t pid, tid, ppid, uid; /* the record's task: a thread may differ */
	char comm[AM_COMM_LEN];
	int64_t boot_to_wall_ns;
	struct fragment members;
};

/* The "cgroup", "pod" and "host" members, and everything they were written from. */
struct cgroup_fragment {
	uint64_t version; /* the cgroup entry's; 0: an empty slot */
	unsigned long generation; /* the pod inventory's, when the entry's pod was found */
	const struct pod_info *pod;
	const struct container_info *container;
	struct fragment members;
};

struct output_cache {
	struct proc_fragment procs[OUTPUT_CACHE_PROCS];
	struct cgroup_fragment cgroups[OUTPUT_CACHE_CGROUPS];
};

struct output_cache *output_cache_new(void)
{
	return calloc(1, sizeof(struct output_cache));
}

void output_cache_free(struct output_cache *cache)
{
	size_t i;

	if (!cache)
		return;
	for (i = 0; i < OUTPUT_CACHE_PROCS; i++)
		free(cache->procs[i].members.json);
	for (i = 0; i < OUTPUT_CACHE_CGROUPS; i++)
		free(cache->cgroups[i].members.json);
	free(cache);
}

/*
 * Keeps what w got since start: members of the open object, without the comma
 * that separated them from the members before. False when out of memory.
 */
static bool fragment_keep(struct fragment *fragment, const struct jsonw *w, size_t start)
{
	size_t len;

	if (w->failed)
		return false;
	if (start < w->len && w->buf[start] == ',')
		start++;
	len = w->len - start;
	if (len > fragment->cap) {
		char *grown = realloc(fragment->json, len);

		if (!grown)
			return false;
		fragment->json = grown;
		fragment->cap = len;
	}
	memcpy(fragment->json, w->buf + start, len);
	fragment->len = len;
	return true;
}

static bool proc_fragment_current(const struct proc_fragment *kept, const struct event_view *view)
{
	const struct am_task *task = view->task;
	size_t i;

	if (kept->version != view->process->version || kept->n_ancestors != view->n_ancestors ||
	    kept->pid != task->pid || kept->tid != task->tid || kept->ppid != task->ppid ||
	    kept->uid != task->uid || kept->boot_to_wall_ns != view->boot_to_wall_ns ||
	    memcmp(kept->comm, task->comm, sizeof(kept->comm)) != 0)
		return false;
	for (i = 0; i < view->n_ancestors; i++)
		if (kept->ancestors[i] != view->ancestors[i]->version)
			return false;
	return true;
}

static void json_proc(struct jsonw *w, const struct event_view *view)
{
	const struct am_task *task = view->task;
	struct proc_fragment *kept;
	size_t start = w->len, i;

	/* Unknown processes are rare and cheap to write: their members are not kept. */
	if (!view->cache || !view->process || !view->process->version) {
		json_proc_uncached(w, view);
		return;
	}
	kept = &view->cache->procs[(task->pid * 2654435761u >> 8) % OUTPUT_CACHE_PROCS];
	if (proc_fragment_current(kept, view)) {
		jsonw_raw_members(w, kept->members.json, kept->members.len);
		return;
	}
	json_proc_uncached(w, view);
	kept->version = 0;
	if (!fragment_keep(&kept->members, w, start))
		return;
	for (i = 0; i < view->n_ancestors; i++)
		kept->ancestors[i] = view->ancestors[i]->version;
	kept->n_ancestors = view->n_ancestors;
	kept->pid = task->pid;
	kept->tid = task->tid;
	kept->ppid = task->ppid;
	kept->uid = task->uid;
	memcpy(kept->comm, task->comm, sizeof(kept->comm));
	kept->boot_to_wall_ns = view->boot_to_wall_ns;
	kept->version = view->process->version;
}

static void json_cgroup_and_pod(struct jsonw *w, const struct event_view *view)
{
	const struct cgroup_entry *cgroup = view->cgroup;
	struct cgroup_fragment *kept;
	size_t start = w->len;

	if (!view->cache || !cgroup || !cgroup->version) {
		json_cgroup_and_pod_uncached(w, view);
		return;
	}
	kept = &view->cache->cgroups[(cgroup->id * 0x9e3779b97f4a7c15ull >> 32) %
				     OUTPUT_CACHE_CGROUPS];
	if (kept->version == cgroup->version && kept->generation == cgroup->generation &&
	    kept->pod == view->pod && kept->container == view->container) {
		jsonw_raw_members(w, kept->members.json, kept->members.len);
		return;
	}
	json_cgroup_and_pod_uncached(w, view);
	kept->version = 0;
	if (!fragment_keep(&kept->members, w, start))
		return;
	kept->generation = cgroup->generation;
	kept->pod = view->pod;
	kept->container = view->container;
	kept->version = cgroup->version;
}

/* The labels written per pod (pods.h bounds the bytes of each key and value). */
#define OUTPUT_MAX_LABELS 16

static void workload_identity_json(struct jsonw *w, const struct pod_info *pod,
				   const struct container_info *container)
{
	const struct workload_identity_env *wi;

	jsonw_key(w, "workload_identity");
	if (!pod || !pod_uses_workload_identity(pod)) {
		jsonw_null(w);
		return;
	}
	wi = pod_workload_identity(pod, container);
	jsonw_object_begin(w);
	jsonw_member_string(w, "client_id", wi ? wi->client_id : NULL);
	jsonw_member_string(w, "tenant_id", wi ? wi->tenant_id : NULL);
	jsonw_member_string(w, "token_file", wi ? wi->token_file : NULL);
	jsonw_object_end(w);
}

static void pod_details_json(struct jsonw *w, const struct pod_info *pod,
			     const struct container_info *container)
{
	size_t i;

	jsonw_member_string(w, "service_account", pod ? pod->service_account : NULL);
	jsonw_key(w, "host_network");
	if (pod && (pod->sources & (POD_SOURCE_PODLIST | POD_SOURCE_KUBELET)))
		jsonw_bool(w, pod->host_network);
	else
		jsonw_null(w);
	jsonw_key(w, "labels");
	if (!pod) {
		jsonw_null(w);
	} else {
		jsonw_object_begin(w);
		for (i = 0; i < pod->n_labels && i < OUTPUT_MAX_LABELS; i++)
			jsonw_member_string(w, pod->labels[i].key, pod->labels[i].value);
		jsonw_object_end(w);
		if (pod->labels_truncated || pod->n_labels > OUTPUT_MAX_LABELS) {
			jsonw_key(w, "labels_truncated");
			jsonw_bool(w, true);
		}
	}
	workload_identity_json(w, pod, container);
}

void output_pod_json(struct jsonw *w, const struct pod_info *pod,
		     const struct container_info *container)
{
	jsonw_member_string(w, "uid", pod->uid);
	jsonw_member_string(w, "namespace", pod->namespace);
	jsonw_member_string(w, "name", pod->name);
	pod_details_json(w, pod, container);
}

static void text_who(struct jsonw *w, const struct event_view *view)
{
	const struct cgroup_entry *cgroup = view->cgroup;
	const struct am_task *task = view->task;

	if (cgroup && cgroup->ref.is_pod) {
		textw_raw(w, " pod=");
		if (view->pod) {
			/* A bundle may name the pod and not its namespace, or neither. */
			textw_name(w, view->pod->namespace);
			textw_raw(w, "/");
			textw_name(w, view->pod->name);
		} else {
			textw_printf(w, "uid:%s", cgroup->ref.pod_uid);
		}
		if (view->container) {
			textw_raw(w, " container=");
			textw_name(w, view->container->name);
		}
	} else {
		textw_raw(w, " host");
		if (cgroup && cgroup->host_unit[0]) {
			textw_raw(w, " unit=");
			textw_escaped(w, cgroup->host_unit, strlen(cgroup->host_unit));
		}
	}
	textw_printf(w, " pid=%u uid=%u comm=", task->pid, task->uid);
	textw_escaped(w, task->comm, comm_length(task->comm));
	if (view->process && view->process->exe) {
		textw_raw(w, " exe=");
		textw_escaped(w, view->process->exe, strlen(view->process->exe));
	}
}

void output_subject_json(struct jsonw *w, const struct event_view *view)
{
	json_proc(w, view);
	json_cgroup_and_pod(w, view);
}

void output_subject_text(struct jsonw *w, const struct event_view *view)
{
	text_who(w, view);
}
