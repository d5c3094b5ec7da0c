// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* The monitor's own capabilities: needed at start, kept once attached; see capabilities.h. */
#include "kernel/capabilities.h"

#include <errno.h>
#include <linux/capability.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

static const struct {
	int number;
	const char *name;
	const char *why; /* NULL: never needed to start, only ever kept */
} capabilities[] = {
	{CAP_BPF, "CAP_BPF", "to load the BPF programs and maps"},
	{CAP_PERFMON, "CAP_PERFMON", "to attach the tracing programs and read kernel memory in them"},
	{CAP_NET_ADMIN, "CAP_NET_ADMIN", "to attach the cgroup socket and packet programs"},
	{CAP_DAC_READ_SEARCH, "CAP_DAC_READ_SEARCH",
	 "to read azure.json, the kubelet's pod directories, containerd's bundles and tracefs"},
	{CAP_SYS_ADMIN, "CAP_SYS_ADMIN", NULL},
};

#define N_CAPABILITIES (sizeof(capabilities) / sizeof(capabilities[0]))

const char *capability_name(int cap)
{
	size_t i;

	for (i = 0; i < N_CAPABILITIES; i++)
		if (capabilities[i].number == cap)
			return capabilities[i].name;
	return NULL;
}

/* The effective capability set, from /proc/self/status; false when unreadable. */
static bool effective_capabilities(uint64_t *caps)
{
	char line[256];
	bool found = false;
	FILE *status = fopen("/proc/self/status", "re");

	if (!status)
		return false;
	while (fgets(line, sizeof(line), status)) {
		if (strncmp(line, "CapEff:", 7) == 0) {
			*caps = strtoull(line + 7, NULL, 16);
			found = true;
			break;
		}
	}
	fclose(status);
	return found;
}

int capabilities_check(capabilities_report_fn report, void *ctx)
{
	char message[256];
	uint64_t caps;
	size_t i;
	int missing = 0;

	if (!effective_capabilities(&caps))
		return 0; /* no /proc: the kernel will say what fails */
	for (i = 0; i < N_CAPABILITIES; i++) {
		if (!capabilities[i].why || caps & CAPABILITY_BIT(capabilities[i].number))
			continue;
		snprintf(message, sizeof(message), "missing capability %s, needed %s",
			 capabilities[i].name, capabilities[i].why);
		report(ctx, message);
		missing++;
	}
	if (missing)
		report(ctx, "run as root, or grant CAP_BPF, CAP_PERFMON, CAP_NET_ADMIN and "
			    "CAP_DAC_READ_SEARCH (in Kubernetes: the container's "
			    "securityContext.capabilities.add; see deploy/kubernetes)");
	return missing ? -EPERM : 0;
}

/* The calling thread's effective set cut to `keep` (its permitted set is left alone). */
static int thread_effective(uint64_t keep)
{
	struct __user_cap_header_struct header = {.version = _LINUX_CAPABILITY_VERSION_3};
	struct __user_cap_data_struct data[2];
	int i;

	if (syscall(SYS_capget, &header, data))
		return -errno;
	for (i = 0; i < 2; i++)
		data[i].effective &= (uint32_t)(keep >> (32 * i));
	if (syscall(SYS_capset, &header, data))
		return -errno;
	return 0;
}

struct trial {
	uint64_t keep;
	int (*fn)(void *ctx);
	void *ctx;
	int rc;
};

static void *trial_thread(void *arg)
{
	struct trial *trial = arg;

	trial->rc = thread_effective(trial->keep);
	if (trial->rc == 0)
		trial->rc = trial->fn(trial->ctx);
	return NULL;
}

int capabilities_try_with(uint64_t keep, int (*fn)(void *ctx), void *ctx)
{
	struct trial trial = {.keep = keep, .fn = fn, .ctx = ctx, .rc = -EINVAL};
	pthread_t thread;
	int rc;

	rc = pthread_create(&thread, NULL, trial_thread, &trial);
	if (rc)
		return -rc;
	pthread_join(thread, NULL);
	return trial.rc;
}

/* "CAP_BPF, CAP_PERFMON" for the named capabilities of `mask`; the others counted. */
static void name_capabilities(uint64_t mask, char *names, size_t len, size_t *others)
{
	size_t i;

	names[0] = '\0';
	for (i = 0; i < N_CAPABILITIES; i++) {
		uint64_t bit = CAPABILITY_BIT(capabilities[i].number);

		if (!(mask & bit) || !capabilities[i].why)
			continue;
		snprintf(names + strlen(names), len - strlen(names), "%s%s", names[0] ? ", " : "",
			 capabilities[i].name);
		mask &= ~bit;
	}
	for (*others = 0; mask; mask &= mask - 1)
		(*others)++;
}

int capabilities_drop(uint64_t keep, const char *why, char *said, size_t said_len)
{
	struct __user_cap_header_struct header = {.version = _LINUX_CAPABILITY_VERSION_3};
	struct __user_cap_data_struct data[2];
	uint64_t held;
	char names[160];
	size_t i, others;
	int cap;

	if (syscall(SYS_capget, &header, data)) {
		snprintf(said, said_len, "accessmon: reading the capabilities failed: %s; keeping them\n",
			 strerror(errno));
		return -errno;
	}
	held = data[0].permitted | (uint64_t)data[1].permitted << 32;
	for (cap = 0; cap <= CAP_LAST_CAP; cap++)
		if (!(keep & CAPABILITY_BIT(cap)))
			prctl(PR_CAPBSET_DROP, cap, 0, 0, 0); /* needs CAP_SETPCAP: best effort */
	for (i = 0; i < 2; i++) {
		data[i].permitted &= (uint32_t)(keep >> (32 * i));
		data[i].effective &= (uint32_t)(keep >> (32 * i));
		data[i].inheritable = 0;
	}
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) || syscall(SYS_capset, &header, data)) {
		snprintf(said, said_len,
			 "accessmon: dropping the capabilities attaching needed failed: %s\n",
			 strerror(errno));
		return -errno;
	}
	name_capabilities(held & ~keep, names, sizeof(names), &others);
	snprintf(said, said_len,
		 "accessmon: probes attached; dropped %s%s%zu other capabilities%s, keeping %s\n",
		 names[0] ? names : "no capability", names[0] ? " and " : " (", others,
		 names[0] ? "" : ")", held & keep ? why : "none");
	return 0;
}
