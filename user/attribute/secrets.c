// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* Discovery of the node's secrets; see secrets.h. */
#include "attribute/secrets.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "accessmon.h"
#include "lib/hostfs.h"
#include "lib/json_input.h"
#include "attribute/pods.h"

#define CSI_SECRETS_STORE_DRIVER "secrets-store.csi.k8s.io"

struct round {
	struct watch_list *list;
	const char *host_root;
	const struct pod_inventory *pods;
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

/* --- pod volumes ----------------------------------------------------------- */

struct volume_walk {
	struct round *round;
	const struct pod_info *pod;	/* NULL: no spec known */
	const struct pod_volume *spec; /* NULL: no spec known, or not in it */
	enum watch_kind kind;		/* the volume's */
	const char *owner;
	const char *dir; /* node path of the volume */
	size_t files;
};

/* What the spec makes of a file the kubelet wrote into a projected volume. */
static bool projected_kind(const struct volume_walk *walk, const char *rel, const char *name,
			   enum watch_kind *kind)
{
	enum volume_file_kind file;

	if (walk->spec && pod_volume_file_kind(walk->spec, rel, &file)) {
		if (file == VOLUME_FILE_PUBLIC)
			return false;
		*kind = file == VOLUME_FILE_WI_TOKEN ? WATCH_WORKLOAD_IDENTITY_TOKEN
		      : file == VOLUME_FILE_TOKEN    ? WATCH_SERVICE_ACCOUNT_TOKEN
						     : WATCH_SECRET_VOLUME;
		return true;
	}
	if (walk->spec && !walk->spec->unnamed_secrets && !walk->pod->volumes.truncated)
		return false; /* a configMap's or downwardAPI's key */
	/* No spec says: at worst every file but the public parts of a token volume. */
	if (strcmp(name, "ca.crt") == 0 || strcmp(name, "namespace") == 0)
		return false;
	if (walk->spec) {
		*kind = WATCH_SECRET_VOLUME;
		return true;
	}
	*kind = strcmp(name, "azure-identity-token") == 0 ? WATCH_WORKLOAD_IDENTITY_TOKEN
							   : WATCH_SERVICE_ACCOUNT_TOKEN;
	return true;
}

/* A Secret volume: the items the spec names, or every file when it names none. */
static bool secret_kind(const struct volume_walk *walk, const char *rel)
{
	enum volume_file_kind file;

	if (!walk->spec || walk->spec->unnamed_secrets || walk->pod->volumes.truncated)
		return true;
	return pod_volume_file_kind(walk->spec, rel, &file) && file != VOLUME_FILE_PUBLIC;
}

static void volume_file(struct volume_walk *walk, const char *rel, const char *name)
{
	char path[AM_WATCH_PATH_LEN + 64];
	enum watch_kind kind = walk->kind;

	bool credential = true;

	if (walk->kind == WATCH_PROJECTED_TOKENS)
		credential = projected_kind(walk, rel, name, &kind);
	else if (walk->kind == WATCH_SECRET_VOLUME)
		credential = secret_kind(walk, rel);
	if (walk->files >= SECRETS_MAX_FILES_PER_VOLUME ||
	    (size_t)snprintf(path, sizeof(path), "%s/%s", walk->dir, rel) >= AM_WATCH_PATH_LEN)
		return; /* the volume's own entry still matches it */
	walk->files++;
	/* A file the spec says is public is still declared, so the kernel skips it
	 * by its identity rather than judging it at worst through its volume. */
	want(walk->round, kind, path, walk->owner, WATCH_FILE_IDENTITY, credential,
	     credential ? 0 : AM_WATCH_PUBLIC);
}

/*
 * Every file of a volume at any depth, by the names the pod sees: the visible
 * names lead through ..data into the current timestamped directory, so each file
 * is found once. Names starting with a dot are the kubelet's own.
 */
static void volume_walk_dir(struct volume_walk *walk, const char *rel, int depth)
{
	char node_dir[AM_WATCH_PATH_LEN + 64], *full;
	struct dirent *dent;
	DIR *dir;

	if (depth > SECRETS_MAX_VOLUME_DEPTH ||
	    (size_t)snprintf(node_dir, sizeof(node_dir), "%s%s%s", walk->dir, *rel ? "/" : "",
			     rel) >= sizeof(node_dir))
		return;
	full = host_path(walk->round->host_root, node_dir);
	dir = full ? opendir(full) : NULL;
	while (dir && (dent = readdir(dir)) && walk->files < SECRETS_MAX_FILES_PER_VOLUME) {
		char child[AM_WATCH_PATH_LEN + 64], *child_full;
		struct stat st;

		if (dent->d_name[0] == '.')
			continue;
		if ((size_t)snprintf(child, sizeof(child), "%s%s%s", rel, *rel ? "/" : "",
				     dent->d_name) >= AM_WATCH_PATH_LEN)
			continue;
		child_full = malloc(strlen(full) + strlen(dent->d_name) + 2);
		if (!child_full)
			break;
		sprintf(child_full, "%s/%s", full, dent->d_name);
		if (stat(child_full, &st) == 0) {
			if (S_ISDIR(st.st_mode))
				volume_walk_dir(walk, child, depth + 1);
			else if (S_ISREG(st.st_mode))
				volume_file(walk, child, dent->d_name);
		}
		free(child_full);
	}
	if (dir)
		closedir(dir);
	free(full);
}

/*
 * A volume: its directory by identity, so a file the kubelet swaps in is matched
 * before this round sees it (by the device when the volume is its own tmpfs, as
 * the kubelet mounts them, else by walking parents), and each credential file by
 * its own identity, which no link or name can hide.
 */
static void want_volume(struct round *round, const char *dir, enum watch_kind kind,
			const char *owner, const char *volume_name)
{
	struct volume_walk walk = {round, NULL, NULL, kind, owner, dir, 0};

	walk.pod = round->pods ? pod_inventory_find(round->pods, owner) : NULL;
	if (walk.pod && !walk.pod->has_spec)
		walk.pod = NULL;
	if (walk.pod)
		walk.spec = pod_volumes_find(&walk.pod->volumes, volume_name);
	want(round, kind, dir, owner, WATCH_DIR_IDENTITY, false,
	     AM_WATCH_SUBTREE | (kind == WATCH_PROJECTED_TOKENS ? AM_WATCH_SKIP_PUBLIC : 0));
	volume_walk_dir(&walk, "", 0);
}

static void want_projected(struct round *round, const char *path, const char *name,
			   unsigned char type, void *owner)
{
	(void)type;
	want_volume(round, path, WATCH_PROJECTED_TOKENS, owner, name);
}

static void want_secret(struct round *round, const char *path, const char *name,
			unsigned char type, void *owner)
{
	(void)type;
	want_volume(round, path, WATCH_SECRET_VOLUME, owner, name);
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
		want_volume(round, mount, WATCH_CSI_SECRET, owner, name);
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

int secrets_discover(struct watch_list *list, const char *host_root,
		     const struct pod_inventory *pods, const char *const *extra_paths, size_t n_extra,
		     secrets_report_fn report, void *ctx)
{
	static const struct {
		const char *path;
		enum watch_kind kind;
	} node_files[] = {
		{"/etc/kubernetes/azure.json", WATCH_NODE_CLOUD_CONFIG},
		{"/var/lib/kubelet/kubeconfig", WATCH_KUBELET_CREDENTIALS},
		{"/var/lib/kubelet/bootstrap-kubeconfig", WATCH_KUBELET_CREDENTIALS},
		{"/var/lib/waagent/ManagedIdentity-Settings", WATCH_MANAGED_IDENTITY_SETTINGS},
	};
	static const char *const tls_dirs[] = {"/etc/kubernetes/certs", "/var/lib/kubelet/pki"};
	struct round round = {list, host_root ? host_root : "/", pods, report, ctx, 0};
	size_t i;

	/* Node credentials are watched by path even while absent: probing them counts. */
	for (i = 0; i < sizeof(node_files) / sizeof(node_files[0]); i++)
		want(&round, node_files[i].kind, node_files[i].path, NULL, WATCH_FILE_IDENTITY, true,
		     0);
	/* Flat directories: a new file is matched by its one parent until seen here. */
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
