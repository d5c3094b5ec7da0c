// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * `accessmon inventory`: reads the same sources the monitor reads, merges them the
 * same way, and prints the node's identities and pods, so an operator can check
 * the monitor sees the node as they do.
 */
#include "cmd/inventory_command.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "attribute/inventory.h"
#include "lib/jsonw.h"
#include "cmd/options.h"
#include "output/output.h"
#include "attribute/pods.h"

#define KUBELET_FIRST_ANSWER_WAIT_MS 10000

static void report(void *ctx, const char *message)
{
	(void)ctx;
	fprintf(stderr, "accessmon: %s\n", message);
}

static void sources_json(struct jsonw *w, unsigned int sources)
{
	jsonw_key(w, "sources");
	jsonw_array_begin(w);
	if (sources & POD_SOURCE_PODLIST)
		jsonw_string(w, "podlist");
	if (sources & POD_SOURCE_KUBELET)
		jsonw_string(w, "kubelet");
	if (sources & POD_SOURCE_CONTAINERD)
		jsonw_string(w, "containerd");
	jsonw_array_end(w);
}

static void container_json(struct jsonw *w, const struct container_info *container)
{
	jsonw_object_begin(w);
	jsonw_member_string(w, "name", container->name);
	jsonw_member_string(w, "id", container->id);
	jsonw_member_string(w, "image", container->image);
	jsonw_key(w, "sandbox");
	jsonw_bool(w, container->sandbox);
	jsonw_key(w, "workload_identity");
	if (container->has_workload_identity) {
		jsonw_object_begin(w);
		jsonw_member_string(w, "client_id", container->wi.client_id);
		jsonw_member_string(w, "tenant_id", container->wi.tenant_id);
		jsonw_member_string(w, "token_file", container->wi.token_file);
		jsonw_member_string(w, "authority_host", container->wi.authority_host);
		jsonw_object_end(w);
	} else {
		jsonw_null(w);
	}
	jsonw_object_end(w);
}

static void pod_text(struct jsonw *w, const struct pod_info *pod)
{
	const struct workload_identity_env *wi = pod_workload_identity(pod, NULL);
	size_t i;

	textw_raw(w, "pod ");
	textw_name(w, pod->namespace);
	textw_raw(w, "/");
	textw_name(w, pod->name);
	textw_raw(w, " uid=");
	textw_escaped(w, pod->uid, strlen(pod->uid));
	if (pod->service_account) {
		textw_raw(w, " service-account=");
		textw_escaped(w, pod->service_account, strlen(pod->service_account));
	}
	if (pod->host_network)
		textw_raw(w, " host-network");
	if (pod_uses_workload_identity(pod)) {
		textw_raw(w, " workload-identity=");
		if (wi && wi->client_id)
			textw_escaped(w, wi->client_id, strlen(wi->client_id));
		else
			textw_raw(w, "(label only)");
	}
	if (pod->deleted_at_ns)
		textw_raw(w, " deleted");
	textw_raw(w, "\n");
	for (i = 0; i < pod->n_containers; i++) {
		const struct container_info *container = &pod->containers[i];

		textw_raw(w, "  container ");
		textw_name(w, container->name);
		textw_raw(w, " id=");
		if (container->id)
			textw_escaped(w, container->id, strnlen(container->id, 12));
		else
			textw_raw(w, "-");
		if (container->image) {
			textw_raw(w, " image=");
			textw_escaped(w, container->image, strlen(container->image));
		}
		textw_raw(w, "\n");
	}
}

static void inventory_print(const struct inventory *inventory, const struct pod_inventory *pods,
			    enum output_format format)
{
	struct jsonw w;
	size_t i, j;

	jsonw_init(&w);
	if (format == OUTPUT_TEXT) {
		node_identity_write(&w, format, inventory_node(inventory));
		for (i = 0; i < pod_inventory_size(pods); i++)
			pod_text(&w, pod_inventory_at(pods, i));
	} else {
		jsonw_object_begin(&w);
		jsonw_key(&w, "node");
		node_identity_write(&w, format, inventory_node(inventory));
		jsonw_key(&w, "pods");
		jsonw_array_begin(&w);
		for (i = 0; i < pod_inventory_size(pods); i++) {
			const struct pod_info *pod = pod_inventory_at(pods, i);

			jsonw_object_begin(&w);
			output_pod_json(&w, pod, NULL);
			jsonw_key(&w, "proxy_sidecar");
			jsonw_bool(&w, pod->proxy_sidecar);
			sources_json(&w, pod->sources);
			jsonw_key(&w, "containers");
			jsonw_array_begin(&w);
			for (j = 0; j < pod->n_containers; j++)
				container_json(&w, &pod->containers[j]);
			jsonw_array_end(&w);
			jsonw_object_end(&w);
		}
		jsonw_array_end(&w);
		jsonw_object_end(&w);
		textw_raw(&w, "\n");
	}
	if (w.buf)
		fputs(w.buf, stdout);
	jsonw_release(&w);
}

int inventory_main(int argc, char **argv)
{
	struct inventory_options options;
	struct inventory_config config;
	struct pod_inventory *pods;
	struct inventory *inventory;
	struct am_error err = {{0}};
	struct timespec now;
	int status = 1;

	if (inventory_options_parse(argc, argv, &options, &err)) {
		fprintf(stderr, "accessmon inventory: %s; see 'accessmon inventory --help'\n",
			err.msg);
		return 2;
	}
	if (options.help) {
		inventory_usage(stdout);
		return 0;
	}
	config = (struct inventory_config){.sources = options.sources};
	pods = pod_inventory_new();
	inventory = pods ? inventory_new(&config, pods, report, NULL) : NULL;
	if (!inventory) {
		fprintf(stderr, "accessmon: out of memory\n");
		goto out;
	}
	clock_gettime(CLOCK_BOOTTIME, &now);
	if (inventory_load(inventory,
			   (uint64_t)now.tv_sec * 1000000000ull + (uint64_t)now.tv_nsec,
			   KUBELET_FIRST_ANSWER_WAIT_MS, &err)) {
		fprintf(stderr, "accessmon: %s\n", err.msg);
		status = 2;
		goto out;
	}
	inventory_print(inventory, pods, options.format);
	status = 0;
out:
	inventory_free(inventory);
	pod_inventory_free(pods);
	return status;
}
