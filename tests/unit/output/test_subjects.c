// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * Unit tests: the kept "proc", "cgroup" and "pod" members of event records. A
 * record written with the cache must be the record written without it, whatever
 * changed in between: an exec, a parent's exec, another thread, a renamed thread,
 * a cgroup added again, a new pod inventory, two processes in one slot.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <cjson/cJSON.h>

#include "attribute/cgroups.h"
#include "lib/json_input.h"
#include "output/output.h"
#include "attribute/pods.h"
#include "attribute/processes.h"
#include "pod_fixture.h"

#define CGROUP_ID 4242
#define PARENT 100
#define CHILD 101

struct world {
	struct process_cache *processes;
	struct cgroup_cache *cgroups;
	struct pod_inventory *pods;
	struct output_cache *cache;
	struct am_connect_record dst;
	struct event_view view;
	char *with_cache;
};

static void podlist_apply(struct world *world, const char *pod_name)
{
	char podlist[1024];
	struct am_error err;
	cJSON *root;

	snprintf(podlist, sizeof(podlist),
		 "{\"kind\":\"PodList\",\"items\":[{\"metadata\":{\"name\":\"%s\",\"namespace\":"
		 "\"shop\",\"uid\":\"" POD_UID "\",\"labels\":{\"app\":\"%s\"}},\"spec\":{"
		 "\"containers\":[{\"name\":\"app\"}]},\"status\":{\"containerStatuses\":[{"
		 "\"name\":\"app\",\"containerID\":\"containerd://" CONTAINER "\"}]}}]}",
		 pod_name, pod_name);
	root = json_input_parse("podlist", podlist, strlen(podlist), &err);
	assert_non_null(root);
	assert_int_equal(pod_inventory_apply_podlist(world->pods, root, "podlist",
						     POD_SOURCE_PODLIST, 1, &err),
			 0);
	cJSON_Delete(root);
}

static void exec(struct world *world, uint32_t pid, uint32_t ppid, const char *exe,
		 const char *comm)
{
	struct am_exec_record record = {0};

	record.header.type = AM_REC_EXEC;
	record.header.size = sizeof(record);
	record.task.pid = record.task.tid = pid;
	record.task.ppid = ppid;
	record.task.cgroup_id = CGROUP_ID;
	snprintf(record.task.comm, sizeof(record.task.comm), "%s", comm);
	record.start_ns = 1000000000ull * pid;
	snprintf(record.exe, sizeof(record.exe), "%s", exe);
	record.args_size = (uint16_t)(strlen(exe) + 1);
	memcpy(record.args, exe, record.args_size);
	process_cache_exec(world->processes, &record);
}

static int setup(void **state)
{
	struct world *world = calloc(1, sizeof(*world));

	assert_non_null(world);
	world->processes = process_cache_new(64);
	world->cgroups = cgroup_cache_new(64);
	world->pods = pod_inventory_new();
	world->cache = output_cache_new();
	assert_non_null(world->cache);
	podlist_apply(world, "web");
	assert_int_equal(cgroup_cache_add(world->cgroups, CGROUP_ID, CGROUP_PATH), 0);
	exec(world, PARENT, 1, "/bin/sh", "sh");
	exec(world, CHILD, PARENT, "/usr/bin/curl", "curl");
	world->dst.family = 4;
	world->dst.protocol = 6;
	world->dst.port = 443;
	memcpy(world->dst.addr, "\x0a\x00\x00\x01", 4);
	*state = world;
	return 0;
}

static int teardown(void **state)
{
	struct world *world = *state;

	free(world->with_cache);
	output_cache_free(world->cache);
	pod_inventory_free(world->pods);
	cgroup_cache_free(world->cgroups);
	process_cache_free(world->processes);
	free(world);
	return 0;
}

/* What the pipeline does: the event's cgroup, pod, process and ancestors. */
static struct event_view *view_of(struct world *world, uint32_t pid, uint32_t tid,
				  const char *comm)
{
	struct event_view *view = &world->view;
	struct cgroup_entry *cgroup = cgroup_cache_lookup(world->cgroups, CGROUP_ID);
	const struct process_info *process = process_cache_lookup(world->processes, pid);
	uint32_t parent;

	assert_non_null(cgroup);
	if (cgroup->generation != pod_inventory_generation(world->pods)) {
		cgroup->pod = pod_inventory_find(world->pods, cgroup->ref.pod_uid);
		cgroup->container = cgroup->pod ? pod_find_container(cgroup->pod,
								     cgroup->ref.container_id)
						: NULL;
		cgroup->generation = pod_inventory_generation(world->pods);
	}
	memset(view, 0, sizeof(*view));
	world->dst.task.pid = pid;
	world->dst.task.tid = tid;
	world->dst.task.ppid = process ? process->ppid : 0;
	world->dst.task.cgroup_id = CGROUP_ID;
	snprintf(world->dst.task.comm, sizeof(world->dst.task.comm), "%s", comm);
	view->kind = VIEW_CONNECT;
	view->dst = &world->dst;
	view->task = &world->dst.task;
	view->time_ns = 1764324245000000000ull;
	view->boot_to_wall_ns = 1764324000000000000ll;
	view->cgroup = cgroup;
	view->pod = cgroup->pod;
	view->container = cgroup->container;
	view->process = process;
	for (parent = process ? process->ppid : 0; parent && view->n_ancestors < 2;) {
		const struct process_info *ancestor =
			process_cache_lookup(world->processes, parent);

		if (!ancestor)
			break;
		view->ancestors[view->n_ancestors++] = ancestor;
		parent = ancestor->ppid;
	}
	view->cache = world->cache;
	return view;
}

static char *render(const struct event_view *view)
{
	struct jsonw w;
	char *copy;

	jsonw_init(&w);
	output_event(&w, OUTPUT_JSON, view);
	assert_false(w.failed);
	copy = strdup(w.buf);
	jsonw_release(&w);
	return copy;
}

/* The record as written with the cache, twice (kept, then reused), and without it. */
static const char *written(struct world *world, uint32_t pid, uint32_t tid, const char *comm)
{
	struct event_view *view = view_of(world, pid, tid, comm);
	char *first = render(view), *again = render(view), *fresh;

	view->cache = NULL;
	fresh = render(view);
	assert_string_equal(first, fresh);
	assert_string_equal(again, fresh);
	free(first);
	free(again);
	free(world->with_cache);
	world->with_cache = fresh;
	return fresh;
}

static void same_process_same_members(void **state)
{
	struct world *world = *state;

	assert_non_null(strstr(written(world, CHILD, CHILD, "curl"), "\"exe\":\"/usr/bin/curl\""));
	assert_non_null(strstr(written(world, CHILD, CHILD, "curl"), "\"name\":\"web\""));
}

static void exec_changes_the_process(void **state)
{
	struct world *world = *state;

	written(world, CHILD, CHILD, "curl");
	/* The same name, the same thread: only the process's version tells. */
	exec(world, CHILD, PARENT, "/usr/local/bin/curl", "curl");
	assert_non_null(
		strstr(written(world, CHILD, CHILD, "curl"), "\"exe\":\"/usr/local/bin/curl\""));
	/* curl exec'd another curl: the first is what it ran before. */
	assert_non_null(strstr(world->with_cache, "\"replaced_by_exec\":true"));
}

static void parent_exec_changes_the_ancestors(void **state)
{
	struct world *world = *state;

	written(world, CHILD, CHILD, "curl");
	exec(world, PARENT, 1, "/bin/bash", "bash");
	assert_non_null(strstr(written(world, CHILD, CHILD, "curl"), "\"exe\":\"/bin/bash\""));
}

static void threads_and_names_of_one_process(void **state)
{
	struct world *world = *state;

	written(world, CHILD, CHILD, "curl");
	assert_non_null(strstr(written(world, CHILD, CHILD + 7, "curl"), "\"tid\":108"));
	assert_non_null(strstr(written(world, CHILD, CHILD + 7, "worker"), "\"comm\":\"worker\""));
	assert_non_null(strstr(written(world, CHILD, CHILD, "curl"), "\"tid\":101"));
}

static void cgroup_added_again(void **state)
{
	struct world *world = *state;

	written(world, CHILD, CHILD, "curl");
	assert_int_equal(cgroup_cache_add(world->cgroups, CGROUP_ID, "/system.slice/cron.service"),
			 0);
	assert_non_null(strstr(written(world, CHILD, CHILD, "curl"), "\"unit\":\"cron.service\""));
	assert_non_null(strstr(world->with_cache, "\"pod\":null"));
	/* Host cgroups both, no pod either time: only the entry's version tells. */
	assert_int_equal(cgroup_cache_add(world->cgroups, CGROUP_ID, "/system.slice/ssh.service"),
			 0);
	assert_non_null(strstr(written(world, CHILD, CHILD, "curl"), "\"unit\":\"ssh.service\""));
}

static void new_pod_inventory(void **state)
{
	struct world *world = *state;

	assert_non_null(strstr(written(world, CHILD, CHILD, "curl"), "\"name\":\"web\""));
	/* The same pod object, renamed: only the inventory's generation tells. */
	podlist_apply(world, "web-renamed");
	assert_non_null(strstr(written(world, CHILD, CHILD, "curl"), "\"name\":\"web-renamed\""));
	pod_inventory_clear(world->pods);
	assert_non_null(strstr(written(world, CHILD, CHILD, "curl"), "\"namespace\":null"));
	podlist_apply(world, "shop-web");
	assert_non_null(strstr(written(world, CHILD, CHILD, "curl"), "\"name\":\"shop-web\""));
	assert_non_null(strstr(world->with_cache, "\"labels\":{\"app\":\"shop-web\"}"));
}

/* Two processes whose pids share a slot take it in turns. */
static void processes_sharing_a_slot(void **state)
{
	struct world *world = *state;
	uint32_t other = CHILD + 1, pid;

	/* Find a pid with the same slot as CHILD, as the cache hashes them. */
	for (pid = CHILD + 1; pid < 1u << 22; pid++)
		if ((pid * 2654435761u >> 8) % 2048 == (CHILD * 2654435761u >> 8) % 2048) {
			other = pid;
			break;
		}
	exec(world, other, PARENT, "/usr/bin/nc", "nc");
	assert_non_null(strstr(written(world, CHILD, CHILD, "curl"), "/usr/bin/curl"));
	assert_non_null(strstr(written(world, other, other, "nc"), "/usr/bin/nc"));
	assert_non_null(strstr(written(world, CHILD, CHILD, "curl"), "/usr/bin/curl"));
}

/* A process the cache does not know, and one exiting and coming back under its pid. */
static void unknown_and_reused_pids(void **state)
{
	struct world *world = *state;

	assert_non_null(strstr(written(world, 999, 999, "ghost"), "\"exe\":null"));
	written(world, CHILD, CHILD, "curl");
	process_cache_exit(world->processes, CHILD, 5);
	process_cache_expire(world->processes, UINT64_MAX, 0);
	exec(world, CHILD, PARENT, "/usr/bin/dig", "dig");
	assert_non_null(strstr(written(world, CHILD, CHILD, "dig"), "\"exe\":\"/usr/bin/dig\""));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(same_process_same_members, setup, teardown),
		cmocka_unit_test_setup_teardown(exec_changes_the_process, setup, teardown),
		cmocka_unit_test_setup_teardown(parent_exec_changes_the_ancestors, setup, teardown),
		cmocka_unit_test_setup_teardown(threads_and_names_of_one_process, setup, teardown),
		cmocka_unit_test_setup_teardown(cgroup_added_again, setup, teardown),
		cmocka_unit_test_setup_teardown(new_pod_inventory, setup, teardown),
		cmocka_unit_test_setup_teardown(processes_sharing_a_slot, setup, teardown),
		cmocka_unit_test_setup_teardown(unknown_and_reused_pids, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
