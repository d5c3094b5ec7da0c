// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * Which programs this kernel can run, loading and attaching them. Every program
 * of the embedded object has a role here: the detection it serves and the hook it
 * attaches to. What the kernel offers (kernel_features.c) decides which of them are
 * wanted and how they are built (read-only globals set before load); a load that
 * fails all the same is taken apart by trial loads, one program at a time, to
 * find the programs this kernel refuses and the verifier's reason. Those are not
 * loaded; the rest are, and every program or piece left out is a loss that the
 * monitor says, loudly, as long as it runs (probes_losses()).
 */
#include "kernel/probes_private.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "lib/tail_log.h"

#define TRACEFS "/sys/kernel/tracing"
#define DEBUGFS_TRACING "/sys/kernel/debug/tracing"

static const struct program_role {
	const char *name;
	enum detection detection;
	const char *hook; /* what it attaches to, as messages name it */
	bool cgroup;	  /* attached at the cgroup v2 root; else libbpf attaches it by its section */
} program_roles[] = {
	{"am_connect4", DETECTION_CONNECTIONS, "cgroup/connect4", true},
	{"am_connect6", DETECTION_CONNECTIONS, "cgroup/connect6", true},
	{"am_sendmsg4", DETECTION_CONNECTIONS, "cgroup/sendmsg4", true},
	{"am_sendmsg6", DETECTION_CONNECTIONS, "cgroup/sendmsg6", true},
	{"am_egress", DETECTION_REQUESTS, "cgroup_skb/egress", true},
	{"am_ingress", DETECTION_REQUESTS, "cgroup_skb/ingress", true},
	{"am_sock_set_state", DETECTION_CONNECTION_CLOSE, "tp_btf/inet_sock_set_state", false},
	{"am_exit_open", DETECTION_SECRET_FILES, "tracepoint/syscalls/sys_exit_open", false},
	{"am_exit_openat", DETECTION_SECRET_FILES, "tracepoint/syscalls/sys_exit_openat", false},
	{"am_exit_openat2", DETECTION_SECRET_FILES, "tracepoint/syscalls/sys_exit_openat2", false},
	{"am_exit_creat", DETECTION_SECRET_FILES, "tracepoint/syscalls/sys_exit_creat", false},
	{"am_exit_open_by_handle_at", DETECTION_SECRET_FILES,
	 "tracepoint/syscalls/sys_exit_open_by_handle_at", false},
	{"am_raw_sys_exit", DETECTION_SECRET_FILES, "tp_btf/sys_exit", false},
	{"am_io_uring_complete", DETECTION_IO_URING, "tp_btf/io_uring_complete", false},
	{"am_io_uring_complete_old", DETECTION_IO_URING, "tp_btf/io_uring_complete", false},
	{"am_io_uring_create", DETECTION_IO_URING, "tp_btf/io_uring_create", false},
	{"am_process_exec", DETECTION_PROCESSES, "tp_btf/sched_process_exec", false},
	{"am_process_fork", DETECTION_PROCESSES, "tp_btf/sched_process_fork", false},
	{"am_process_exit", DETECTION_PROCESSES, "tp_btf/sched_process_exit", false},
	{"am_cgroup_mkdir", DETECTION_CGROUPS, "tp_btf/cgroup_mkdir", false},
	{"am_cgroup_rmdir", DETECTION_CGROUPS, "tp_btf/cgroup_rmdir", false},
	{"am_exit_socket", DETECTION_RAW_SOCKETS, "tracepoint/syscalls/sys_exit_socket", false},
	{"am_existing", DETECTION_EXISTING_CONNECTIONS, "iter/task_file", false},
	{"am_ia32_sys_exit", DETECTION_IA32_OPENS, "tp_btf/sys_exit", false},
};

#define N_ROLES (sizeof(program_roles) / sizeof(program_roles[0]))
_Static_assert(N_ROLES <= PROBES_MAX_PROGRAMS, "more programs than PROBES_MAX_PROGRAMS");

/* The open syscalls' tracepoints, in the order of the roles above. */
static const char *const open_syscalls[] = {"open", "openat", "openat2", "creat",
					    "open_by_handle_at"};
#define FIRST_OPEN_ROLE 7

/* --- libbpf's messages -------------------------------------------------------- */

/* The tail of libbpf's output during a trial load: the verifier's reason is at its end. */
#define CAPTURE_LEN 32768
static char capture_buf[CAPTURE_LEN];
static struct tail_log capture = {capture_buf, CAPTURE_LEN, 0};
static bool capturing, verbose_libbpf;

static int libbpf_print(enum libbpf_print_level level, const char *format, va_list args)
{
	char line[4096];
	va_list copy;
	int n;

	if (level == LIBBPF_DEBUG && !verbose_libbpf)
		return 0;
	va_copy(copy, args);
	n = vsnprintf(line, sizeof(line), format, copy);
	va_end(copy);
	if (n < 0)
		return 0;
	if ((size_t)n >= sizeof(line))
		n = (int)sizeof(line) - 1;
	if (verbose_libbpf)
		fputs(line, stderr);
	if (capturing)
		tail_log_append(&capture, line, (size_t)n);
	return 0;
}

void programs_set_verbose(bool verbose)
{
	verbose_libbpf = verbose;
	libbpf_set_print(libbpf_print);
}

/* --- choosing ----------------------------------------------------------------- */

static void add_loss(struct probes *probes, enum detection detection, const char *what,
		     const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static void add_loss(struct probes *probes, enum detection detection, const char *what,
		     const char *fmt, ...)
{
	struct probes_loss *loss;
	va_list args;

	if (probes->n_losses >= PROBES_MAX_LOSSES)
		return;
	loss = &probes->losses[probes->n_losses++];
	loss->detection = detection;
	snprintf(loss->what, sizeof(loss->what), "%s", what);
	va_start(args, fmt);
	vsnprintf(loss->reason, sizeof(loss->reason), fmt, args);
	va_end(args);
}

static int role_index(const char *name)
{
	size_t i;

	for (i = 0; i < N_ROLES; i++)
		if (strcmp(program_roles[i].name, name) == 0)
			return (int)i;
	return -1;
}

static bool tracefs_has_event(const char *syscall)
{
	char path[256];

	snprintf(path, sizeof(path), TRACEFS "/events/syscalls/sys_exit_%s/id", syscall);
	if (faccessat(AT_FDCWD, path, R_OK, AT_EACCESS) == 0)
		return true;
	snprintf(path, sizeof(path), DEBUGFS_TRACING "/events/syscalls/sys_exit_%s/id", syscall);
	return faccessat(AT_FDCWD, path, R_OK, AT_EACCESS) == 0;
}

/*
 * The syscall tracepoints are the cheapest hook for opens, and libbpf finds them
 * through tracefs. Mount it where the kernel expects it when nobody has; it is
 * unmounted again on close.
 */
static bool tracefs_ensure(struct probes *probes)
{
	if (tracefs_has_event("openat"))
		return true;
	if (mount("nodev", TRACEFS, "tracefs", 0, NULL) == 0) {
		probes->mounted_tracefs = true;
		if (tracefs_has_event("openat"))
			return true;
	}
	return false;
}

/*
 * Opens: the syscall tracepoints (they need tracefs, and bpf_task_pt_regs to read
 * the opener's arguments at exit, Linux 5.15), or the raw sys_exit tracepoint.
 */
static int choose_open_hook(struct probes *probes, const struct probes_config *config,
			    bool want[N_ROLES], struct am_error *err)
{
	const struct kernel_features *features = &probes->features;
	bool tracepoint = false;
	size_t i;

	if (config->open_hook != OPEN_HOOK_RAW) {
		const char *missing = NULL;

		if (!features->tracepoint_programs)
			missing = "the kernel runs no tracepoint programs";
		else if (!features->tracepoint_task_pt_regs)
			missing = "the kernel has no bpf_task_pt_regs (Linux 5.15) to read the "
				  "opener's arguments at exit";
		else if (!tracefs_ensure(probes))
			missing = "tracefs is not mounted at " TRACEFS " and mounting it failed";
		tracepoint = !missing;
		if (missing && config->open_hook == OPEN_HOOK_TRACEPOINT) {
			am_error_set(err,
				     "--open-hook tracepoint: the syscall tracepoints cannot be used "
				     "(%s); use --open-hook raw",
				     missing);
			return -ENOENT;
		}
	}
	probes->open_hook = tracepoint ? OPEN_HOOK_TRACEPOINT : OPEN_HOOK_RAW;
	for (i = 0; i < 5; i++) {
		/* A syscall the kernel does not have (openat2 before 5.6) is no way in either. */
		want[FIRST_OPEN_ROLE + i] = tracepoint && tracefs_has_event(open_syscalls[i]);
	}
	/* socket(2) is seen by the same form of hook as the opens. */
	want[role_index("am_exit_socket")] = tracepoint && tracefs_has_event("socket");
	if (tracepoint && !want[role_index("am_exit_socket")])
		add_loss(probes, DETECTION_RAW_SOCKETS, "am_exit_socket",
			 "the kernel has no sys_exit_socket tracepoint");
	want[role_index("am_raw_sys_exit")] = !tracepoint;
	if (!tracepoint && !kernel_features_tracepoint(features, "sys_exit")) {
		want[role_index("am_raw_sys_exit")] = false;
		add_loss(probes, DETECTION_SECRET_FILES, "am_raw_sys_exit",
			 "neither the syscall tracepoints nor the raw sys_exit tracepoint can be used");
		add_loss(probes, DETECTION_RAW_SOCKETS, "am_raw_sys_exit",
			 "neither the syscall tracepoints nor the raw sys_exit tracepoint can be used");
	}
	return 0;
}

/* Whether the kernel's BTF gives struct `type` a member `member`. */
static bool btf_has_member(const struct btf *btf, const char *type, const char *member)
{
	const struct btf_type *t;
	const struct btf_member *m;
	int id = btf__find_by_name_kind(btf, type, BTF_KIND_STRUCT);
	__u16 i;

	if (id < 0)
		return false;
	t = btf__type_by_id(btf, id);
	m = btf_members(t);
	for (i = 0; i < btf_vlen(t); i++, m++)
		if (strcmp(btf__name_by_offset(btf, m->name_off), member) == 0)
			return true;
	return false;
}

/*
 * Whether processes can make ia32 syscalls: a kernel built with ia32 emulation has
 * its entry points and ia32 syscall wrappers, unless booted with ia32_emulation off
 * (a parameter of 6.7 and later, the last one given counts, read as the kernel's
 * kstrtobool does). A kernel built to leave it off unless told
 * (IA32_EMULATION_DEFAULT_DISABLED) cannot be told apart: yes.
 */
static bool kernel_has_ia32(const struct btf *btf)
{
	static const char *const functions[] = {"do_int80_syscall_32", "do_int80_emulation",
						"do_fast_syscall_32", "__ia32_compat_sys_openat"};
	const char *key = "ia32_emulation=";
	char cmdline[4096], *arg;
	bool built = false, on = true;
	size_t i, n;
	FILE *file;

	for (i = 0; i < sizeof(functions) / sizeof(functions[0]) && !built; i++)
		built = btf__find_by_name_kind(btf, functions[i], BTF_KIND_FUNC) >= 0;
	if (!built)
		return false;
	if (btf__find_by_name_kind(btf, "ia32_emulation_override_cmdline", BTF_KIND_FUNC) < 0)
		return true;
	file = fopen("/proc/cmdline", "re");
	if (!file)
		return true;
	n = fread(cmdline, 1, sizeof(cmdline) - 1, file);
	fclose(file);
	cmdline[n] = '\0';
	for (arg = strstr(cmdline, key); arg; arg = strstr(arg + 1, key)) {
		if (arg != cmdline && arg[-1] != ' ')
			continue;
		arg += strlen(key);
		if (arg[0] && strchr("nNfFdD0", arg[0]))
			on = false;
		else if (arg[0] && strchr("yYtTeE1", arg[0]))
			on = true;
		else if (strncasecmp(arg, "of", 2) == 0 || strncasecmp(arg, "on", 2) == 0)
			on = arg[1] == 'n' || arg[1] == 'N';
	}
	return on;
}

/*
 * 32-bit (ia32) syscalls, which the syscall tracepoints skip (bpf/open.bpf.c): beside
 * them am_ia32_sys_exit takes them at the raw sys_exit tracepoint; the raw hook reads
 * them itself. What it costs every syscall is measured by BENCH_ONLY=ia32
 * bench/run.sh, which sets ACCESSMON_IA32_OPENS=off to leave the program out (a
 * loss like any other: said as ia32-opens).
 */
static void choose_ia32(struct probes *probes, bool want[N_ROLES])
{
	const struct kernel_features *features = &probes->features;
	const char *setting = getenv("ACCESSMON_IA32_OPENS");
	bool raw = probes->open_hook == OPEN_HOOK_RAW;
	const char *missing = NULL;

	if (!features->btf || !kernel_has_ia32(features->btf))
		return; /* no ia32 emulation: there are no such syscalls */
	if (!btf_has_member(features->btf, "thread_info", "status"))
		missing = "the kernel's thread_info has no status (TS_COMPAT) to tell a 32-bit "
			  "syscall by";
	else if (!kernel_features_tracepoint(features, "sys_exit"))
		missing = "the kernel has no raw sys_exit tracepoint, the only one 32-bit syscalls "
			  "pass";
	else if (!raw && setting && strcmp(setting, "off") == 0)
		missing = "left out: ACCESSMON_IA32_OPENS=off";
	if (missing) {
		add_loss(probes, DETECTION_IA32_OPENS, raw ? "ia32 syscalls" : "am_ia32_sys_exit",
			 "%s", missing);
		return;
	}
	want[role_index("am_ia32_sys_exit")] = !raw;
}

/* io_uring: the completion program that reads this kernel's io_uring_complete. */
static void choose_io_uring(struct probes *probes, bool want[N_ROLES])
{
	const struct kernel_features *features = &probes->features;

	if (!features->io_uring)
		return; /* no way around the open syscalls to watch */
	switch (features->io_uring_form) {
	case IO_URING_FORM_REQUEST:
		want[role_index("am_io_uring_complete")] = true;
		break;
	case IO_URING_FORM_USER_DATA:
		want[role_index("am_io_uring_complete_old")] = true;
		want[role_index("am_io_uring_create")] =
			features->io_uring_create && features->lru_hash;
		break;
	case IO_URING_FORM_NONE:
		add_loss(probes, DETECTION_IO_URING, "io_uring_complete",
			 "the kernel has io_uring but no io_uring_complete tracepoint");
		break;
	default:
		add_loss(probes, DETECTION_IO_URING, "io_uring_complete",
			 "the io_uring_complete tracepoint's arguments are of a shape accessmon "
			 "cannot read");
	}
}

/* Every program this kernel needs, and what is lost up front. */
static int choose_programs(struct probes *probes, const struct probes_config *config,
			   bool want[N_ROLES], struct am_error *err)
{
	const struct kernel_features *features = &probes->features;
	size_t i;
	int rc;

	for (i = 0; i < N_ROLES; i++) {
		const struct program_role *role = &program_roles[i];

		want[i] = false;
		if (strncmp(role->hook, "tp_btf/", 7) == 0 && strcmp(role->hook, "tp_btf/sys_exit") &&
		    strncmp(role->hook, "tp_btf/io_uring", 15)) {
			want[i] = kernel_features_tracepoint(features, role->hook + 7);
			if (!want[i])
				add_loss(probes, role->detection, role->name,
					 "the kernel has no %s tracepoint", role->hook + 7);
		}
	}
	for (i = 0; i < 4; i++) {
		want[i] = features->sock_addr_programs;
		if (!want[i])
			add_loss(probes, DETECTION_CONNECTIONS, program_roles[i].name,
				 "the kernel runs no cgroup sock_addr programs");
	}
	for (i = 4; i < 6; i++) {
		want[i] = features->skb_programs && features->skb_sk_storage;
		if (!want[i])
			add_loss(probes, DETECTION_REQUESTS, program_roles[i].name,
				 "the kernel lets cgroup_skb programs use no socket storage");
	}
	if (!features->sock_addr_sk_storage)
		add_loss(probes, DETECTION_REQUESTS, "socket marks",
			 "the connect hooks cannot use socket storage, so no IMDS or WireServer "
			 "request and no TLS server name is captured (DNS answers over UDP still "
			 "are)");
	/* The task_file iterator (5.8), with bpf_sock_from_file (5.11). */
	want[role_index("am_existing")] = true;
	rc = choose_open_hook(probes, config, want, err);
	if (rc)
		return rc;
	choose_io_uring(probes, want);
	choose_ia32(probes, want);
	return 0;
}

/* --- loading ------------------------------------------------------------------ */

/* The embedded object, configured: read-only globals and map sizes are set before load. */
static struct accessmon_bpf *skeleton_open(const struct probes *probes,
					   const struct probes_config *config, bool trial,
					   struct am_error *err)
{
	struct accessmon_bpf *skel = accessmon_bpf__open();
	int rc;

	if (!skel) {
		am_error_set(err, "opening the embedded BPF object failed: %s", strerror(errno));
		return NULL;
	}
	/* The monitor's own connections and opens would feed its output back to it. */
	skel->rodata->am_self_tgid = (uint32_t)getpid();
	skel->rodata->am_repeat_window_ns = config->repeat_window_ns;
	/* Wakeups: at most one per PROBES_WAKEUP_MS, or when a quarter of the ring waits. */
	skel->rodata->am_wakeup_ns = PROBES_WAKEUP_MS * 1000000ull;
	skel->rodata->am_wakeup_bytes = config->ringbuf_bytes / 4;
	skel->rodata->am_connect_parent = probes->features.sock_addr_current_task;
	skel->rodata->am_connect_marks = probes->features.sock_addr_sk_storage;
	/* A trial load only wants the verifier's verdict: the smallest ring buffer. */
	rc = bpf_map__set_max_entries(skel->maps.events,
				      trial ? (uint32_t)sysconf(_SC_PAGESIZE) : config->ringbuf_bytes);
	if (rc) {
		am_error_set(err, "ring buffer size %u refused: %s", config->ringbuf_bytes,
			     strerror(-rc));
		accessmon_bpf__destroy(skel);
		return NULL;
	}
	return skel;
}

/* Sets every program's autoload; -EINVAL when the object has a program with no role. */
static int set_autoload(struct accessmon_bpf *skel, const bool want[N_ROLES], int only,
			struct am_error *err)
{
	struct bpf_program *prog;

	bpf_object__for_each_program(prog, skel->obj)
	{
		int i = role_index(bpf_program__name(prog));

		if (i < 0) {
			am_error_set(err, "program %s has no role in user/programs.c",
				     bpf_program__name(prog));
			return -EINVAL;
		}
		bpf_program__set_autoload(prog, only >= 0 ? i == only : want[i]);
	}
	return 0;
}

/* Loads one program alone; 0, or -errno with the verifier's reason. */
static int trial_load(const struct probes *probes, const struct probes_config *config, int index,
		      char *reason, size_t size)
{
	struct accessmon_bpf *skel;
	struct am_error err;
	int rc;

	reason[0] = '\0';
	skel = skeleton_open(probes, config, true, &err);
	if (!skel) {
		am_error_printable(reason, size, err.msg);
		return -EINVAL;
	}
	rc = set_autoload(skel, NULL, index, &err);
	if (!rc) {
		tail_log_reset(&capture);
		capturing = true;
		rc = accessmon_bpf__load(skel);
		capturing = false;
		if (rc) {
			kernel_info_verifier_reason(capture.buf, reason, size);
			if (!reason[0])
				snprintf(reason, size, "%s", strerror(-rc));
		}
	}
	accessmon_bpf__destroy(skel);
	return rc;
}

static const char *permission_hint(const struct probes *probes, int error)
{
	static char hint[256];
	struct rlimit limit;

	if (error != EPERM && error != EACCES)
		return ": run with --verbose to see libbpf's log";
	if (probes->features.memlock_charged && getrlimit(RLIMIT_MEMLOCK, &limit) == 0 &&
	    limit.rlim_cur != RLIM_INFINITY) {
		snprintf(hint, sizeof(hint),
			 ": this kernel charges BPF maps to RLIMIT_MEMLOCK (before Linux 5.11), here "
			 "%llu KiB: raise it (ulimit -l unlimited) or grant CAP_SYS_RESOURCE; and run "
			 "as root, or with CAP_BPF, CAP_PERFMON and CAP_NET_ADMIN",
			 (unsigned long long)limit.rlim_cur / 1024);
		return hint;
	}
	return ": run accessmon as root, or with CAP_BPF, CAP_PERFMON and CAP_NET_ADMIN";
}

/*
 * Loads what is wanted. When the kernel refuses the whole, each wanted program is
 * loaded on its own: those it refuses are left out (a loss, with the verifier's
 * reason) and the rest loaded again. A whole that still fails, or a refusal no
 * single program explains, is an error.
 */
int programs_load(struct probes *probes, const struct probes_config *config, struct am_error *err)
{
	bool want[N_ROLES];
	size_t i, refused = 0, wanted;
	char reason[256];
	int rc, first_rc;

	rc = choose_programs(probes, config, want, err);
	if (rc)
		return rc;
	/* Needed: what will load, and what this kernel lacks a hook or helper for. */
	probes->n_needed = 0;
	for (i = 0; i < N_ROLES; i++)
		probes->n_needed += want[i];
	for (i = 0; i < probes->n_losses; i++)
		probes->n_needed += role_index(probes->losses[i].what) >= 0;
	for (int attempt = 0; attempt < 2; attempt++) {
		probes->skel = skeleton_open(probes, config, false, err);
		if (!probes->skel)
			return -EINVAL;
		rc = set_autoload(probes->skel, want, -1, err);
		if (rc)
			return rc;
		rc = accessmon_bpf__load(probes->skel);
		if (rc == 0)
			break;
		accessmon_bpf__destroy(probes->skel);
		probes->skel = NULL;
		/* EACCES is also the verifier's refusal: trial loads tell the two apart. */
		if (attempt == 1 || rc == -EPERM)
			break;
		first_rc = rc;
		wanted = 0;
		for (i = 0; i < N_ROLES; i++)
			wanted += want[i];
		for (i = 0; i < N_ROLES; i++) {
			if (!want[i] || trial_load(probes, config, (int)i, reason, sizeof(reason)) == 0)
				continue;
			want[i] = false;
			refused++;
			add_loss(probes, program_roles[i].detection, program_roles[i].name,
				 "the kernel refused %s: %s", program_roles[i].hook, reason);
		}
		/* None refused alone, or every one (no permission): the whole's error stands. */
		if (!refused || refused == wanted) {
			rc = first_rc;
			break;
		}
	}
	if (rc) {
		am_error_set(err, "loading the BPF programs failed: %s%s", strerror(-rc),
			     permission_hint(probes, -rc));
		return rc;
	}
	return 0;
}

/* --- attaching ---------------------------------------------------------------- */

/*
 * An iterator runs once, here, at start: reading it to its end makes the program
 * see every object of its kind, and what it reports goes into the ring buffer
 * like any record. A failure is a loss of what it was to find.
 */
static void run_iterator(struct probes *probes, const struct program_role *role,
			 struct bpf_link *link)
{
	char buf[256];
	ssize_t n;
	int fd = bpf_iter_create(bpf_link__fd(link));

	if (fd < 0) {
		add_loss(probes, role->detection, role->name, "running %s failed: %s", role->hook,
			 strerror(errno));
		return;
	}
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		;
	if (n < 0)
		add_loss(probes, role->detection, role->name, "reading %s failed: %s", role->hook,
			 strerror(errno));
	close(fd);
}

/*
 * Every loaded program, each on its own: one the kernel will not attach is a loss,
 * not the end. Only when none attaches, or a permission is missing, is it an error.
 */
int programs_attach(struct probes *probes, const char *cgroup_root, struct am_error *err)
{
	const char *first_hook = NULL;
	int first_error = 0;
	size_t i;

	probes->cgroup_fd = open(cgroup_root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (probes->cgroup_fd < 0) {
		am_error_set(err, "cgroup root %s: %s", cgroup_root, strerror(errno));
		return -errno;
	}
	for (i = 0; i < N_ROLES; i++) {
		const struct program_role *role = &program_roles[i];
		struct bpf_program *prog =
			bpf_object__find_program_by_name(probes->skel->obj, role->name);

		if (!prog || bpf_program__fd(prog) < 0)
			continue; /* not loaded on this kernel */
		if (role->cgroup)
			probes->links[i] = bpf_program__attach_cgroup(prog, probes->cgroup_fd);
		else
			probes->links[i] = bpf_program__attach(prog);
		if (probes->links[i]) {
			probes->n_attached++;
			if (strncmp(role->hook, "iter/", 5) == 0)
				run_iterator(probes, role, probes->links[i]);
			continue;
		}
		if (!first_error) {
			first_error = errno ? errno : ENOENT;
			first_hook = role->hook;
		}
		add_loss(probes, role->detection, role->name, "attaching to %s failed: %s",
			 role->hook, strerror(errno));
	}
	if (first_error == EPERM || first_error == EACCES || !probes->n_attached) {
		am_error_set(err, "attaching %s%s%s failed: %s%s",
			     first_hook ? first_hook : "the probes",
			     first_hook && strncmp(first_hook, "cgroup", 6) == 0 ? " to " : "",
			     first_hook && strncmp(first_hook, "cgroup", 6) == 0 ? cgroup_root : "",
			     strerror(first_error ? first_error : ENOENT),
			     permission_hint(probes, first_error));
		return -(first_error ? first_error : ENOENT);
	}
	return 0;
}

void programs_detach(struct probes *probes)
{
	size_t i;

	for (i = 0; i < N_ROLES; i++) {
		bpf_link__destroy(probes->links[i]);
		probes->links[i] = NULL;
	}
	if (probes->cgroup_fd >= 0)
		close(probes->cgroup_fd);
	probes->cgroup_fd = -1;
	accessmon_bpf__destroy(probes->skel);
	probes->skel = NULL;
	/* EBUSY when someone else started using it meanwhile: then it stays. */
	if (probes->mounted_tracefs)
		umount2(TRACEFS, MNT_DETACH);
	probes->mounted_tracefs = false;
}
