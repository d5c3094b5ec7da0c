// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* Discovery of the node's secrets; see secrets.h. */
#include "secrets.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "accessmon.h"
#include "hostfs.h"
#include "json_input.h"

#define CSI_SECRETS_STORE_DRIVER "secrets-store.csi.k8s.io"

struct round {
	struct watch_list *list;
	const char *host_root;
	secrets_report_fn report;
	void *ctx;
	int declared;
};

static void want(struct round *round, enum watch_kind kind, const char *path, const char *owner,
		 enum watch_identity identity, bool by_path, uint32_t flags)
{
	struct watch_spec spec = {
		.kind = kind,
		.path = path,
		.owner_uid = owner,
		.identity = identity,
		.by_path = by_path,
		.flags = flags,
	};
	struct am_error err;

	if (watch_list_want(round->list, &spec, &err) == 0)
		round->declared++;
	else if (round->report)
		round->report(round->ctx, err.msg);
}

/* Calls fn for every entry of dir_path (a node path) that is not hidden. */
static void each_entry(struct round *round, const char *dir_path,
		       void (*fn)(struct round *, const char *node_path, const char *name,
				  unsigned char type, void *arg),
		       void *arg, size_t max)
{
	char *full = host_path(round->host_root, dir_path);
	struct dirent *dent;
	size_t seen = 0;
	DIR *dir;

	if (!full)
		return;
	dir = opendir(full);
	free(full);
	if (!dir)
		return;
	while ((dent = readdir(dir)) && seen < max) {
		char path[AM_WATCH_PATH_LEN + 64];

		/* "..data" and the timestamped directories: the visible names are enough. */
		if (dent->d_name[0] == '.')
			continue;
		if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir_path, dent->d_name) >=
		    sizeof(path))
			continue;
		fn(round, path, dent->d_name, dent->d_type, arg);
		seen++;
	}
	closedir(dir);
}

struct volume_args {
	enum watch_kind kind;
	const char *owner;
	bool tokens_only;
};

static void want_file_path(struct round *round, const char *path, const char *name,
			   unsigned char type, void *arg)
{
	struct volume_args *volume = arg;

	if (type == DT_DIR)
		return;
	if (volume->tokens_only && strcmp(name, "token") != 0 &&
	    strcmp(name, "azure-identity-token") != 0)
		return;
	want(round, volume->kind, path, volume->owner, WATCH_NO_IDENTITY, true, 0);
}

/* A volume: its directory by identity (rotation-proof), its visible files by path. */
static void want_volume(struct round *round, const char *dir, enum watch_kind kind,
			const char *owner, bool tokens_only)
{
	struct volume_args volume = {kind, owner, tokens_only};

	want(round, kind, dir, owner, WATCH_DIR_IDENTITY, false,
	     tokens_only ? AM_WATCH_TOKENS_ONLY : 0);
	each_entry(round, dir, want_file_path, &volume, SECRETS_MAX_FILES_PER_VOLUME);
}

static void want_projected(struct round *round, const char *path, const char *name,
			   unsigned char type, void *owner)
{
	(void)name;
	(void)type;
	want_volume(round, path, WATCH_PROJECTED_TOKENS, owner, true);
}

static void want_secret(struct round *round, const char *path, const char *name,
			unsigned char type, void *owner)
{
	(void)name;
	(void)type;
	want_volume(round, path, WATCH_SECRET_VOLUME, owner, false);
}

/* A CSI volume counts when its driver is the Secrets Store (vol_data.json says). */
static void want_csi(struct round *round, const char *path, const char *name, unsigned char type,
		     void *owner)
{
	char data_path[AM_WATCH_PATH_LEN + 64], mount[AM_WATCH_PATH_LEN + 64];
	const char *driver;
	struct am_error err;
	char *full;
	cJSON *data;

	(void)name;
	(void)type;
	snprintf(data_path, sizeof(data_path), "%s/vol_data.json", path);
	full = host_path(round->host_root, data_path);
	if (!full)
		return;
	data = json_input_load_file(full, &err);
	free(full);
	driver = data ? json_member_string(data, "driverName") : NULL;
	if (driver && strcmp(driver, CSI_SECRETS_STORE_DRIVER) == 0 &&
	    (size_t)snprintf(mount, sizeof(mount), "%s/mount", path) < AM_WATCH_PATH_LEN)
		want_volume(round, mount, WATCH_CSI_SECRET, owner, false);
	cJSON_Delete(data);
}

static void want_pod(struct round *round, const char *path, const char *uid, unsigned char type,
		     void *arg)
{
	static const struct {
		const char *plugin;
		void (*fn)(struct round *, const char *, const char *, unsigned char, void *);
	} plugins[] = {
		{"kubernetes.io~projected", want_projected},
		{"kubernetes.io~secret", want_secret},
		{"kubernetes.io~csi", want_csi},
	};
	char dir[AM_WATCH_PATH_LEN + 64];
	size_t i;

	(void)arg;
	if (type != DT_DIR && type != DT_UNKNOWN)
		return;
	for (i = 0; i < sizeof(plugins) / sizeof(plugins[0]); i++) {
		snprintf(dir, sizeof(dir), "%s/volumes/%s", path, plugins[i].plugin);
		each_entry(round, dir, plugins[i].fn, (void *)uid, SECRETS_MAX_FILES_PER_VOLUME);
	}
}

static void want_tls_file(struct round *round, const char *path, const char *name,
			  unsigned char type, void *arg)
{
	(void)name;
	(void)arg;
	if (type != DT_DIR)
		want(round, WATCH_NODE_TLS_KEY, path, NULL, WATCH_NO_IDENTITY, true, 0);
}

static bool is_directory(const char *host_root, const char *path)
{
	char *full = host_path(host_root, path);
	struct stat st;
	bool dir;

	if (!full)
		return false;
	dir = stat(full, &st) == 0 && S_ISDIR(st.st_mode);
	free(full);
	return dir;
}

int secrets_discover(struct watch_list *list, const char *host_root, const char *const *extra_paths,
		     size_t n_extra, secrets_report_fn report, void *ctx)
{
	static const struct {
		const char *path;
		enum watch_kind kind;
	} node_files[] = {
		{"/etc/kubernetes/azure.json", WATCH_NODE_CLOUD_CONFIG},
		{"/var/lib/kubelet/kubeconfig", WATCH_KUBELET_CREDENTIALS},
		{"/var/lib/kubelet/bootstrap-kubeconfig", WATCH_KUBELET_CREDENTIALS},
	};
	static const char *const tls_dirs[] = {"/etc/kubernetes/certs", "/var/lib/kubelet/pki"};
	struct round round = {list, host_root ? host_root : "/", report, ctx, 0};
	size_t i;

	/* Node credentials are watched by path even while absent: probing them counts. */
	for (i = 0; i < sizeof(node_files) / sizeof(node_files[0]); i++)
		want(&round, node_files[i].kind, node_files[i].path, NULL, WATCH_FILE_IDENTITY, true,
		     0);
	for (i = 0; i < sizeof(tls_dirs) / sizeof(tls_dirs[0]); i++) {
		want(&round, WATCH_NODE_TLS_KEY, tls_dirs[i], NULL, WATCH_DIR_IDENTITY, false, 0);
		each_entry(&round, tls_dirs[i], want_tls_file, NULL, SECRETS_MAX_FILES_PER_VOLUME);
	}
	each_entry(&round, KUBELET_PODS_DIR, want_pod, NULL, 65536);
	for (i = 0; i < n_extra; i++)
		want(&round, WATCH_CUSTOM, extra_paths[i], NULL,
		     is_directory(round.host_root, extra_paths[i]) ? WATCH_DIR_IDENTITY
								  : WATCH_FILE_IDENTITY,
		     true, 0);
	return round.declared;
}
