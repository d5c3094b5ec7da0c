// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* Pod and container identity from kubelet cgroup names; see cgroup_path.h. */
#include "attribute/cgroup_path.h"

#include <ctype.h>
#include <string.h>

#define COMPONENT_MAX 256

struct component {
	const char *start;
	size_t len;
};

static bool has_prefix(const struct component *c, const char *prefix)
{
	size_t n = strlen(prefix);

	return c->len >= n && memcmp(c->start, prefix, n) == 0;
}

static bool has_suffix(const struct component *c, const char *suffix)
{
	size_t n = strlen(suffix);

	return c->len >= n && memcmp(c->start + c->len - n, suffix, n) == 0;
}

static bool component_is(const struct component *c, const char *s)
{
	return c->len == strlen(s) && memcmp(c->start, s, c->len) == 0;
}

/*
 * Copies a pod UID written with '-' (cgroupfs) or '_' (systemd) into out with
 * dashes. A UID is 8-4-4-4-12 hex digits.
 */
static bool uid_parse(const char *s, size_t len, char out[POD_UID_LEN + 1])
{
	size_t i;

	if (len != POD_UID_LEN)
		return false;
	for (i = 0; i < len; i++) {
		char c = s[i];

		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (c != '-' && c != '_')
				return false;
			out[i] = '-';
		} else if (isxdigit((unsigned char)c)) {
			out[i] = (char)tolower((unsigned char)c);
		} else {
			return false;
		}
	}
	out[len] = '\0';
	return true;
}

static bool hex_id_parse(const char *s, size_t len, char out[CONTAINER_ID_MAX + 1])
{
	size_t i;

	if (len == 0 || len > CONTAINER_ID_MAX)
		return false;
	for (i = 0; i < len; i++) {
		if (!isxdigit((unsigned char)s[i]))
			return false;
		out[i] = (char)tolower((unsigned char)s[i]);
	}
	out[len] = '\0';
	return true;
}

static const struct {
	const char *prefix;
	const char *runtime;
} scope_prefixes[] = {
	{"cri-containerd-", "containerd"},
	{"docker-", "docker"},
	{"crio-", "crio"},
	{"containerd-", "containerd"},
};

/* systemd driver: <runtime>-<id>.scope. */
static bool systemd_container_parse(const struct component *c, struct cgroup_pod_ref *ref)
{
	size_t i, plen;

	if (!has_suffix(c, ".scope"))
		return false;
	for (i = 0; i < sizeof(scope_prefixes) / sizeof(scope_prefixes[0]); i++) {
		if (!has_prefix(c, scope_prefixes[i].prefix))
			continue;
		plen = strlen(scope_prefixes[i].prefix);
		if (!hex_id_parse(c->start + plen, c->len - plen - strlen(".scope"),
				  ref->container_id))
			return false;
		strcpy(ref->runtime, scope_prefixes[i].runtime);
		return true;
	}
	return false;
}

/* systemd driver: kubepods[-<qos>]-pod<uid_>.slice. */
static bool systemd_pod_parse(const struct component *c, struct cgroup_pod_ref *ref)
{
	static const struct {
		const char *prefix;
		enum pod_qos qos;
	} forms[] = {
		{"kubepods-burstable-pod", POD_QOS_BURSTABLE},
		{"kubepods-besteffort-pod", POD_QOS_BESTEFFORT},
		{"kubepods-pod", POD_QOS_GUARANTEED},
	};
	size_t i, plen;

	if (!has_suffix(c, ".slice"))
		return false;
	for (i = 0; i < sizeof(forms) / sizeof(forms[0]); i++) {
		if (!has_prefix(c, forms[i].prefix))
			continue;
		plen = strlen(forms[i].prefix);
		if (!uid_parse(c->start + plen, c->len - plen - strlen(".slice"), ref->pod_uid))
			return false;
		ref->qos = forms[i].qos;
		return true;
	}
	return false;
}

static size_t split(const char *path, struct component *parts, size_t max)
{
	size_t n = 0;
	const char *p = path;

	while (*p && n < max) {
		const char *end;

		while (*p == '/')
			p++;
		if (!*p)
			break;
		end = strchr(p, '/');
		if (!end)
			end = p + strlen(p);
		parts[n].start = p;
		parts[n].len = (size_t)(end - p);
		n++;
		p = end;
	}
	return n;
}

bool cgroup_path_parse(const char *path, struct cgroup_pod_ref *ref)
{
	struct component parts[COMPONENT_MAX];
	size_t n, i;

	memset(ref, 0, sizeof(*ref));
	n = split(path, parts, COMPONENT_MAX);
	for (i = 0; i < n; i++) {
		if (component_is(&parts[i], "kubepods.slice")) {
			size_t pod = i + 1;

			if (pod < n && (component_is(&parts[pod], "kubepods-burstable.slice") ||
					component_is(&parts[pod], "kubepods-besteffort.slice")))
				pod++;
			if (pod >= n || !systemd_pod_parse(&parts[pod], ref))
				continue;
			ref->is_pod = true;
			ref->driver = CGROUP_DRIVER_SYSTEMD;
			if (pod + 1 < n && !systemd_container_parse(&parts[pod + 1], ref))
				ref->container_id[0] = '\0';
			return true;
		}
		if (component_is(&parts[i], "kubepods")) {
			size_t pod = i + 1;
			enum pod_qos qos = POD_QOS_GUARANTEED;

			if (pod < n && component_is(&parts[pod], "burstable")) {
				qos = POD_QOS_BURSTABLE;
				pod++;
			} else if (pod < n && component_is(&parts[pod], "besteffort")) {
				qos = POD_QOS_BESTEFFORT;
				pod++;
			}
			if (pod >= n || !has_prefix(&parts[pod], "pod") ||
			    !uid_parse(parts[pod].start + 3, parts[pod].len - 3, ref->pod_uid))
				continue;
			ref->is_pod = true;
			ref->qos = qos;
			ref->driver = CGROUP_DRIVER_CGROUPFS;
			if (pod + 1 < n &&
			    !hex_id_parse(parts[pod + 1].start, parts[pod + 1].len, ref->container_id))
				ref->container_id[0] = '\0';
			return true;
		}
	}
	memset(ref, 0, sizeof(*ref));
	return false;
}

static void copy_component(const struct component *c, char *out, size_t len)
{
	size_t n = c->len < len - 1 ? c->len : len - 1;

	memcpy(out, c->start, n);
	out[n] = '\0';
}

void cgroup_path_host_unit(const char *path, char *unit, size_t unit_len, char *slice,
			   size_t slice_len)
{
	struct component parts[COMPONENT_MAX];
	size_t n, i;

	unit[0] = '\0';
	slice[0] = '\0';
	n = split(path, parts, COMPONENT_MAX);
	for (i = n; i-- > 0;) {
		if (!unit[0] && (has_suffix(&parts[i], ".service") || has_suffix(&parts[i], ".scope"))) {
			copy_component(&parts[i], unit, unit_len);
			continue;
		}
		if (unit[0] && has_suffix(&parts[i], ".slice")) {
			copy_component(&parts[i], slice, slice_len);
			return;
		}
	}
}
