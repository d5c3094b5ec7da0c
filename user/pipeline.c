// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* Decode, attribute, write: the collector's pipeline; see pipeline.h. */
#include "pipeline.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cgroups.h"
#include "jsonw.h"
#include "output.h"
#include "pods.h"
#include "processes.h"
#include "watch.h"

struct pipeline {
	struct pipeline_config config;
	struct pipeline_state state;
	struct pipeline_hooks hooks;
	FILE *out;
	struct jsonw line;
	uint64_t last_expire_ns;
	struct pipeline_stats stats;
};

struct pipeline *pipeline_new(const struct pipeline_config *config,
			      const struct pipeline_state *state, FILE *out)
{
	struct pipeline *pipeline = calloc(1, sizeof(*pipeline));

	if (!pipeline)
		return NULL;
	pipeline->config = *config;
	pipeline->state = *state;
	pipeline->out = out;
	jsonw_init(&pipeline->line);
	return pipeline;
}

void pipeline_free(struct pipeline *pipeline)
{
	if (!pipeline)
		return;
	jsonw_release(&pipeline->line);
	free(pipeline);
}

void pipeline_set_hooks(struct pipeline *pipeline, const struct pipeline_hooks *hooks)
{
	pipeline->hooks = *hooks;
}

static size_t record_size_of(uint16_t type)
{
	switch (type) {
	case AM_REC_CONNECT:
	case AM_REC_SEND:
		return sizeof(struct am_connect_record);
	case AM_REC_OPEN:
		return sizeof(struct am_open_record);
	case AM_REC_CGROUP_MKDIR:
	case AM_REC_CGROUP_RMDIR:
		return sizeof(struct am_cgroup_record);
	case AM_REC_EXEC:
		return sizeof(struct am_exec_record);
	case AM_REC_FORK:
		return sizeof(struct am_fork_record);
	case AM_REC_EXIT:
		return sizeof(struct am_exit_record);
	default:
		return 0;
	}
}

static void write_line(struct pipeline *pipeline)
{
	struct jsonw *line = &pipeline->line;

	if (line->failed) {
		pipeline->stats.write_errors++;
		return;
	}
	textw_raw(line, "\n");
	if (fwrite(line->buf, 1, line->len, pipeline->out) != line->len)
		pipeline->stats.write_errors++;
	else
		pipeline->stats.written++;
}

static void resolve_pod(struct pipeline *pipeline, struct cgroup_entry *entry)
{
	entry->pod = pod_inventory_find(pipeline->state.pods, entry->ref.pod_uid);
	entry->container = entry->pod ? pod_find_container(entry->pod, entry->ref.container_id)
				      : NULL;
	entry->generation = pod_inventory_generation(pipeline->state.pods);
	entry->miss_reported = false;
}

/* The cgroup entry of an event, with its pod and container resolved and cached. */
static const struct cgroup_entry *attribute(struct pipeline *pipeline, uint64_t cgroup_id,
					    uint64_t boot_ns)
{
	struct cgroup_entry *entry = cgroup_cache_lookup(pipeline->state.cgroups, cgroup_id);
	unsigned long generation;

	if (!entry && pipeline->hooks.cgroup_miss) {
		pipeline->hooks.cgroup_miss(pipeline->hooks.ctx, cgroup_id, boot_ns);
		entry = cgroup_cache_lookup(pipeline->state.cgroups, cgroup_id);
	}
	if (!entry) {
		pipeline->stats.unknown_cgroup++;
		return NULL;
	}
	if (!entry->ref.is_pod)
		return entry;
	generation = pod_inventory_generation(pipeline->state.pods);
	if (entry->generation != generation)
		resolve_pod(pipeline, entry);
	/* Unknown to the inventory: ask the source once per inventory change. */
	if ((!entry->pod || (entry->ref.container_id[0] && !entry->container)) &&
	    pipeline->hooks.pod_miss && !entry->miss_reported) {
		entry->miss_reported = true;
		pipeline->hooks.pod_miss(pipeline->hooks.ctx, entry->ref.pod_uid,
					 entry->ref.container_id, boot_ns);
		if (pod_inventory_generation(pipeline->state.pods) != entry->generation)
			resolve_pod(pipeline, entry);
	}
	return entry;
}

static void handle_cgroup_record(struct pipeline *pipeline, const struct am_cgroup_record *record)
{
	char path[AM_CGROUP_PATH_LEN + 1];

	memcpy(path, record->path, AM_CGROUP_PATH_LEN);
	path[AM_CGROUP_PATH_LEN] = '\0';
	if (record->header.type == AM_REC_CGROUP_MKDIR)
		cgroup_cache_add(pipeline->state.cgroups, record->cgroup_id, path);
	else
		cgroup_cache_mark_removed(pipeline->state.cgroups, record->cgroup_id,
					  record->header.time_ns);
}

static const struct process_info *process_of(struct pipeline *pipeline, uint32_t pid,
					      uint64_t boot_ns)
{
	struct process_info *process = process_cache_lookup(pipeline->state.processes, pid);

	if (!process && pipeline->hooks.process_miss) {
		pipeline->hooks.process_miss(pipeline->hooks.ctx, pid, boot_ns);
		process = process_cache_lookup(pipeline->state.processes, pid);
	}
	return process;
}

/*
 * The chain of parents, nearest first, up to the container's init (the last
 * ancestor in the event's own cgroup) or, for host processes, the host's init.
 */
static void ancestors_fill(struct pipeline *pipeline, struct event_view *view,
			   const struct am_task *task)
{
	bool in_pod = view->cgroup && view->cgroup->ref.is_pod;
	uint32_t pid = task->ppid;

	view->n_ancestors = 0;
	while (pid != 0 && pid != task->pid && view->n_ancestors < EVENT_MAX_ANCESTORS) {
		const struct process_info *parent =
			process_cache_lookup(pipeline->state.processes, pid);

		if (!parent)
			break;
		if (in_pod && parent->cgroup_id != task->cgroup_id)
			break;
		view->ancestors[view->n_ancestors++] = parent;
		if (pid == 1 || parent->ppid == pid)
			break;
		pid = parent->ppid;
	}
}

static void handle_event(struct pipeline *pipeline, const struct am_record_header *header,
			 const struct am_task *task)
{
	const struct cgroup_entry *cgroup;
	const struct process_info *process;
	struct event_view view = {0};

	if (!pipeline->config.events)
		return;
	cgroup = attribute(pipeline, task->cgroup_id, header->time_ns);
	process = process_of(pipeline, task->pid, header->time_ns);
	view.header = header;
	view.time_ns = header->time_ns + (uint64_t)pipeline->config.boot_to_wall_ns;
	view.task = task;
	view.boot_to_wall_ns = pipeline->config.boot_to_wall_ns;
	view.cgroup = cgroup;
	view.pod = cgroup ? cgroup->pod : NULL;
	view.container = cgroup ? cgroup->container : NULL;
	view.process = process;
	ancestors_fill(pipeline, &view, task);
	if (header->type == AM_REC_OPEN) {
		view.watch = watch_list_get(pipeline->state.watches,
					    ((const struct am_open_record *)header)->watch_id);
		if (view.watch && view.watch->owner_uid[0])
			view.owner_pod = pod_inventory_find(pipeline->state.pods,
							    view.watch->owner_uid);
	}
	jsonw_reset(&pipeline->line);
	output_event(&pipeline->line, pipeline->config.format, &view);
	write_line(pipeline);
}

int pipeline_record(struct pipeline *pipeline, const void *data, size_t size)
{
	const struct am_record_header *header = data;
	size_t expected;

	if (size < sizeof(*header)) {
		pipeline->stats.malformed++;
		return -EINVAL;
	}
	expected = record_size_of(header->type);
	if (!expected || header->size != expected || size < expected) {
		pipeline->stats.malformed++;
		return -EINVAL;
	}
	pipeline->stats.records[header->type]++;

	switch (header->type) {
	case AM_REC_CONNECT:
	case AM_REC_SEND:
		handle_event(pipeline, header, &((const struct am_connect_record *)data)->task);
		break;
	case AM_REC_OPEN:
		handle_event(pipeline, header, &((const struct am_open_record *)data)->task);
		break;
	case AM_REC_CGROUP_MKDIR:
	case AM_REC_CGROUP_RMDIR:
		handle_cgroup_record(pipeline, data);
		break;
	case AM_REC_EXEC:
		process_cache_exec(pipeline->state.processes, data);
		break;
	case AM_REC_FORK:
		process_cache_fork(pipeline->state.processes, data);
		break;
	case AM_REC_EXIT:
		process_cache_exit(pipeline->state.processes,
				   ((const struct am_exit_record *)data)->pid, header->time_ns);
		break;
	}
	/* Forget removed cgroups and exited processes past their grace, once a second. */
	if (header->time_ns - pipeline->last_expire_ns > 1000000000ull) {
		cgroup_cache_expire(pipeline->state.cgroups, header->time_ns,
				    PIPELINE_CGROUP_GRACE_NS);
		process_cache_expire(pipeline->state.processes, header->time_ns,
				     PIPELINE_PROCESS_GRACE_NS);
		pipeline->last_expire_ns = header->time_ns;
	}
	return 0;
}

void pipeline_events_lost(struct pipeline *pipeline, uint64_t boot_ns, uint64_t lost,
			  uint64_t lost_total)
{
	jsonw_reset(&pipeline->line);
	output_events_lost(&pipeline->line, pipeline->config.format,
			   boot_ns + (uint64_t)pipeline->config.boot_to_wall_ns, lost, lost_total);
	write_line(pipeline);
}

int pipeline_flush(struct pipeline *pipeline)
{
	if (fflush(pipeline->out) != 0)
		return -errno;
	return 0;
}

const struct pipeline_stats *pipeline_stats(const struct pipeline *pipeline)
{
	return &pipeline->stats;
}
