/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * What the BPF program tests share: the monitor's skeleton opened and configured
 * as user/kernel/programs.c does it (read-only globals from the kernel's features,
 * a ring buffer size), the programs of one hook set chosen with
 * bpf_program__set_autoload, and the verifier's log kept for a failed load.
 *
 * Nothing here attaches a program: a test loads programs and runs them with
 * BPF_PROG_TEST_RUN, or only loads them. Every skeleton is destroyed by its
 * test (no pinned maps, nothing left in the kernel).
 *
 * Header-only (static inline): each test is one source file, as the Makefile
 * builds them.
 */
#ifndef ACCESSMON_TESTS_BPF_SKELETON_FIXTURE_H
#define ACCESSMON_TESTS_BPF_SKELETON_FIXTURE_H

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "accessmon.h"
#include "accessmon.skel.h"
#include "kernel/kernel_features.h"
#include "kernel/kernel_info.h"
#include "lib/tail_log.h"

/* --- hook sets ---------------------------------------------------------------- */

/*
 * Every program of the object by hook set: the programs of one bpf/ source that
 * the monitor chooses together (user/kernel/programs.c, program_roles). Of
 * open.bpf.c's, io_uring's and ia32's are sets of their own, chosen apart; of
 * io_uring's, the kernel's form of io_uring_complete picks one (the others are
 * fallbacks for older kernels, see test_open.c). Loading a whole set is how
 * the monitor loads it; fixture_load_hook_set() does that for the sets whose
 * programs all load on one kernel.
 */
struct hook_set {
	const char *name;
	const char *programs[8];
};

static const struct hook_set hook_sets[] = {
	{"connect", {"am_connect4", "am_connect6", "am_sendmsg4", "am_sendmsg6"}},
	{"net", {"am_egress", "am_ingress", "am_sock_set_state"}},
	{"open",
	 {"am_exit_open", "am_exit_openat", "am_exit_openat2", "am_exit_creat",
	  "am_exit_open_by_handle_at", "am_raw_sys_exit"}},
	{"io_uring", {"am_io_uring_complete", "am_io_uring_complete_old", "am_io_uring_create"}},
	{"ia32", {"am_ia32_sys_exit"}},
	{"socket", {"am_exit_socket"}},
	{"process", {"am_process_exec", "am_process_fork", "am_process_exit"}},
	{"cgroup", {"am_cgroup_mkdir", "am_cgroup_rmdir"}},
	{"existing", {"am_existing"}},
};

#define N_HOOK_SETS (sizeof(hook_sets) / sizeof(hook_sets[0]))

static inline const struct hook_set *hook_set_find(const char *name)
{
	size_t i;

	for (i = 0; i < N_HOOK_SETS; i++)
		if (strcmp(hook_sets[i].name, name) == 0)
			return &hook_sets[i];
	return NULL;
}

static inline bool hook_set_has(const struct hook_set *set, const char *program)
{
	size_t i;

	for (i = 0; i < sizeof(set->programs) / sizeof(set->programs[0]) && set->programs[i]; i++)
		if (strcmp(set->programs[i], program) == 0)
			return true;
	return false;
}

/* --- the verifier's log ------------------------------------------------------- */

/* The tail of libbpf's output for the load under way: printed only when it fails. */
#define FIXTURE_LOG_LEN 65536
static char fixture_log_buf[FIXTURE_LOG_LEN];
static struct tail_log fixture_log = {fixture_log_buf, FIXTURE_LOG_LEN, 0};

static inline int fixture_libbpf_print(enum libbpf_print_level level, const char *format,
				       va_list args)
{
	char line[4096];
	int n;

	(void)level;
	n = vsnprintf(line, sizeof(line), format, args);
	if (n < 0)
		return 0;
	if ((size_t)n >= sizeof(line))
		n = (int)sizeof(line) - 1;
	/* The newest stays: the verifier's reason is at the end. */
	tail_log_append(&fixture_log, line, (size_t)n);
	return 0;
}

static inline void fixture_log_reset(void)
{
	libbpf_set_print(fixture_libbpf_print);
	tail_log_reset(&fixture_log);
}

/* The last lines of the log, for a failure message. */
static inline const char *fixture_log_tail(size_t max)
{
	return fixture_log.len > max ? fixture_log.buf + fixture_log.len - max : fixture_log.buf;
}

/* --- the kernel's features ---------------------------------------------------- */

/* Probed once a test binary, as the monitor does at start. */
static inline const struct kernel_features *fixture_features(void)
{
	static struct kernel_features features;
	static bool probed;

	if (!probed) {
		struct am_error err;

		fixture_log_reset();
		if (kernel_features_probe(&features, &err)) {
			fprintf(stderr, "kernel features: %s\n", err.msg);
			return NULL;
		}
		probed = true;
	}
	return &features;
}

/* --- the skeleton ------------------------------------------------------------- */

/*
 * The embedded object, configured as the monitor configures it before load
 * (programs.c, skeleton_open), with every program's autoload off: the caller
 * turns on what it loads. self_tgid is the process whose doings the probes skip
 * (the monitor passes its own; a test that wants to see its own sockets, 0).
 */
static inline struct accessmon_bpf *fixture_open(uint32_t ringbuf_bytes, uint32_t self_tgid)
{
	const struct kernel_features *features = fixture_features();
	struct accessmon_bpf *skel;
	struct bpf_program *prog;

	if (!features)
		return NULL;
	fixture_log_reset();
	skel = accessmon_bpf__open();
	if (!skel)
		return NULL;
	skel->rodata->am_self_tgid = self_tgid;
	skel->rodata->am_repeat_window_ns = 60ull * 1000000000ull;
	/* 0: every record wakes the reader (the monitor batches; a test reads by consume). */
	skel->rodata->am_wakeup_ns = 0;
	skel->rodata->am_wakeup_bytes = 0;
	skel->rodata->am_connect_parent = features->sock_addr_current_task;
	skel->rodata->am_connect_marks = features->sock_addr_sk_storage;
	if (bpf_map__set_max_entries(skel->maps.events, ringbuf_bytes)) {
		accessmon_bpf__destroy(skel);
		return NULL;
	}
	bpf_object__for_each_program(prog, skel->obj)
		bpf_program__set_autoload(prog, false);
	return skel;
}

/* Turns on the autoload of one program by name; -ENOENT when the object has none. */
static inline int fixture_autoload(struct accessmon_bpf *skel, const char *name)
{
	struct bpf_program *prog = bpf_object__find_program_by_name(skel->obj, name);

	if (!prog)
		return -ENOENT;
	return bpf_program__set_autoload(prog, true);
}

/*
 * Loads; on failure prints the tail of the verifier's log under `what` (unless
 * `what` is NULL: a load expected to fail, whose reason the caller reads).
 */
static inline int fixture_load(struct accessmon_bpf *skel, const char *what)
{
	int rc;

	fixture_log_reset();
	rc = accessmon_bpf__load(skel);
	if (rc && what)
		fprintf(stderr, "loading %s failed: %s\n--- libbpf's log (tail) ---\n%s\n---\n",
			what, strerror(-rc), fixture_log_tail(4000));
	return rc;
}

/*
 * The load-only verifier test: opens the skeleton, turns on the named programs
 * and nothing else, loads, and checks that each has its descriptor. Returns 0, or
 * the load's -errno (the verifier's log is printed), or -ENOENT for a name the
 * object lacks.
 */
static inline int fixture_load_only(const char *what, const char *const *names, size_t n)
{
	struct accessmon_bpf *skel = fixture_open((uint32_t)sysconf(_SC_PAGESIZE),
						  (uint32_t)getpid());
	size_t i;
	int rc = 0;

	if (!skel)
		return -errno ? -errno : -EINVAL;
	for (i = 0; i < n && names[i] && !rc; i++)
		rc = fixture_autoload(skel, names[i]);
	if (!rc)
		rc = fixture_load(skel, what);
	for (i = 0; i < n && names[i] && !rc; i++)
		if (bpf_program__fd(bpf_object__find_program_by_name(skel->obj, names[i])) < 0)
			rc = -EBADF;
	accessmon_bpf__destroy(skel);
	return rc;
}

/*
 * Loads one program alone, quietly: 0, or -errno with the verifier's reason in
 * reason[size] (for a program this kernel refuses by design).
 */
static inline int fixture_try_load(const char *name, char *reason, size_t size)
{
	struct accessmon_bpf *skel = fixture_open((uint32_t)sysconf(_SC_PAGESIZE),
						  (uint32_t)getpid());
	int rc;

	reason[0] = '\0';
	if (!skel)
		return -EINVAL;
	rc = fixture_autoload(skel, name);
	if (!rc)
		rc = fixture_load(skel, NULL);
	if (rc)
		kernel_info_verifier_reason(fixture_log.buf, reason, size);
	accessmon_bpf__destroy(skel);
	return rc;
}

/* The same for every program of a hook set. */
static inline int fixture_load_hook_set(const char *name)
{
	const struct hook_set *set = hook_set_find(name);
	char what[64];

	if (!set)
		return -ENOENT;
	snprintf(what, sizeof(what), "the %s hook set", name);
	return fixture_load_only(what, set->programs,
				 sizeof(set->programs) / sizeof(set->programs[0]));
}

/* The sum over CPUs of a per-CPU counter (enum am_counter). */
static inline uint64_t fixture_counter(struct accessmon_bpf *skel, uint32_t which)
{
	int cpus = libbpf_num_possible_cpus();
	uint64_t values[cpus > 0 ? cpus : 1], sum = 0;
	int i;

	if (cpus <= 0 || bpf_map_lookup_elem(bpf_map__fd(skel->maps.counters), &which, values))
		return UINT64_MAX;
	for (i = 0; i < cpus; i++)
		sum += values[i];
	return sum;
}

#endif /* ACCESSMON_TESTS_BPF_SKELETON_FIXTURE_H */
