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
#include "watch.h"

struct pipeline {
	struct pipeline_config config;
	struct cgroup_cache *cgroups;
	struct pod_inventory *pods;
	const struct watch_list *watches;
	FILE *out;
	struct jsonw line;
	pipeline_cgroup_miss_fn cgroup_miss;
	void *cgroup_miss_ctx;
	uint64_t last_expire_ns;
	struct pipeline_stats stats;
};

struct pipeline *pipeline_new(const struct pipeline_config *config, struct cgroup_cache *cgroups,
			      struct pod_inventory *pods, const struct watch_list *watches,
			      FILE *out)
{
	struct pipeline *pipeline = calloc(1, sizeof(*pipeline));

	if (!pipeline)
		return NULL;
	pipeline->config = *config;
	pipeline->cgroups = cgroups;
	pipeline->pods = pods;
	pipeline->watches = watches;
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

void pipeline_set_cgroup_miss(struct pipeline *pipeline, pipeline_cgroup_miss_fn fn, void *ctx)
{
	pipeline->cgroup_miss = fn;
	pipeline->cgroup_miss_ctx = ctx;
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

/* The cgroup entry of an event, with its pod and container resolved and cached. */
static const struct cgroup_entry *attribute(struct pipeline *pipeline, uint64_t cgroup_id,
					    uint64_t boot_ns)
{
	struct cgroup_entry *entry = cgroup_cache_lookup(pipeline->cgroups, cgroup_id);
	unsigned long generation;

	if (!entry && pipeline->cgroup_miss) {
		pipeline->cgroup_miss(pipeline->cgroup_miss_ctx, cgroup_id, boot_ns);
		entry = cgroup_cache_lookup(pipeline->cgroups, cgroup_id);
	}
	if (!entry) {
		pipeline->stats.unknown_cgroup++;
		return NULL;
	}
	generation = pod_inventory_generation(pipeline->pods);
	if (entry->ref.is_pod && entry->generation != generation) {
		entry->pod = pod_inventory_find(pipeline->pods, entry->ref.pod_uid);
		entry->container =
			entry->pod ? pod_find_container(entry->pod, entry->ref.container_id) : NULL;
		entry->generation = generation;
	}
	return entry;
}

static void handle_cgroup_record(struct pipeline *pipeline, const struct am_cgroup_record *record)
{
	char path[AM_CGROUP_PATH_LEN + 1];

	memcpy(path, record->path, AM_CGROUP_PATH_LEN);
	path[AM_CGROUP_PATH_LEN] = '\0';
	if (record->header.type == AM_REC_CGROUP_MKDIR)
		cgroup_cache_add(pipeline->cgroups, record->cgroup_id, path);
	else
		cgroup_cache_mark_removed(pipeline->cgroups, record->cgroup_id,
					  record->header.time_ns);
}

static void handle_event(struct pipeline *pipeline, const struct am_record_header *header,
			 const struct am_task *task)
{
	const struct cgroup_entry *cgroup;
	struct event_view view = {0};

	if (!pipeline->config.events)
		return;
	cgroup = attribute(pipeline, task->cgroup_id, header->time_ns);
	view.header = header;
	view.time_ns = header->time_ns + (uint64_t)pipeline->config.boot_to_wall_ns;
	view.task = task;
	view.cgroup = cgroup;
	view.pod = cgroup ? cgroup->pod : NULL;
	view.container = cgroup ? cgroup->container : NULL;
	if (header->type == AM_REC_OPEN)
		view.watch = watch_list_get(pipeline->watches,
					    ((const struct am_open_record *)header)->watch_id);
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
	}
	/* Forget removed cgroups past their grace period, at most once a second. */
	if (header->time_ns - pipeline->last_expire_ns > 1000000000ull) {
		cgroup_cache_expire(pipeline->cgroups, header->time_ns, PIPELINE_CGROUP_GRACE_NS);
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
