// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * Opens of watched files. The probe runs when an open returns: the new fd leads
 * to the struct file the kernel really opened, and its (device, inode) is looked
 * up in the watch set. Every credential file user space has found is there by
 * its own identity, so no name can hide it: not a relative path, a symlink, a
 * bind mount, another mount namespace, /proc/<pid>/root, open_by_handle_at, nor
 * a hard link anywhere on its filesystem, made before or after the monitor
 * started (a hard link is the same inode; its dentry is another name, which is
 * why the file's parents can never be what identifies it).
 * A file user space has not seen yet (a token the kubelet has just rotated in: a
 * new timestamped directory, new inodes) is matched by where it is: a volume on
 * its own tmpfs by the device, at any depth; a volume that is a plain directory
 * by walking up to AM_DIR_WALK_DEPTH parents; a flat credential directory by the
 * file's one parent. A failed open is reported when the absolute path it named
 * is watched: probing is a signal too.
 *
 * Two hook sets do the same job; user space loads one:
 *  - the classic syscalls/sys_exit_* tracepoints of open, openat, openat2, creat
 *    and open_by_handle_at (cheapest: they fire only for these syscalls; they
 *    need tracefs to attach), or
 *  - the BTF raw tracepoint sys_exit, which fires on every syscall and is filtered
 *    here by syscall number (the fallback when tracefs cannot be had).
 * io_uring opens (IORING_OP_OPENAT, IORING_OP_OPENAT2) bypass the syscalls and are
 * taken at the io_uring_complete tracepoint, whose arguments changed in 5.18: one
 * program for each form, user space loads the one the kernel's BTF describes.
 */
#include "common.bpf.h"
#include "socket.bpf.h"
#include <bpf/bpf_tracing.h>

/* x86_64 syscall numbers. */
#define NR_OPEN 2
#define NR_CREAT 85
#define NR_OPENAT 257
#define NR_OPEN_BY_HANDLE_AT 304
#define NR_OPENAT2 437
#define NR_SOCKET 41

#define O_WRONLY 01
#define O_CREAT 0100
#define O_TRUNC 01000
#define S_IFMT 00170000
#define S_IFDIR 0040000

#define IORING_OP_OPENAT_NR 18
#define IORING_OP_OPENAT2_NR 28
#define IORING_OP_SOCKET_NR 45

/*
 * The file behind a new fd. The task, its files and fd table are read as typed
 * kernel pointers (plain loads); only the fd array's slot, at an index the
 * verifier cannot bound, takes a probe read.
 */
static __always_inline struct file *fd_to_file(long fd)
{
	struct file *file = NULL;

	if (HAVE_TASK_BTF) {
		struct fdtable *fdt = bpf_get_current_task_btf()->files->fdt;

		if ((unsigned long)fd >= fdt->max_fds)
			return NULL;
		bpf_probe_read_kernel(&file, sizeof(file), &fdt->fd[fd]);
	} else {
		struct task_struct *task = (struct task_struct *)bpf_get_current_task();
		struct fdtable *fdt = BPF_CORE_READ(task, files, fdt);
		struct file **fds;

		if ((unsigned long)fd >= BPF_CORE_READ(fdt, max_fds))
			return NULL;
		fds = BPF_CORE_READ(fdt, fd);
		bpf_probe_read_kernel(&file, sizeof(file), &fds[fd]);
	}
	return file;
}

static __always_inline bool watch_state_on(__u32 which)
{
	__u32 *on = bpf_map_lookup_elem(&watch_state, &which);

	return on && *on;
}

static __always_inline bool name_is(const char *name, const char *want, int len)
{
	int i;

	for (i = 0; i < len; i++)
		if (name[i] != want[i])
			return false;
	return true;
}

/*
 * A service account volume's public parts, beside its token: the cluster's CA and
 * the namespace. Skipped only when not watched by their own identity.
 */
static __always_inline bool is_public_name(const char name[AM_NAME_LEN])
{
	return name_is(name, "ca.crt", sizeof("ca.crt")) ||
	       name_is(name, "namespace", sizeof("namespace"));
}

struct open_call {
	const char *user_path; /* NULL: the syscall names no path */
	__u32 flags;
	__u16 syscall;
};

static __always_inline void record_fill_path(struct am_open_record *record,
					     const struct open_call *call)
{
	long copied;

	record->path_flags = 0;
	if (!call->user_path) {
		record->path[0] = '\0';
		record->path_flags |= AM_PATH_UNREADABLE;
		return;
	}
	copied = bpf_probe_read_user_str(record->path, sizeof(record->path), call->user_path);
	if (copied < 0) {
		record->path[0] = '\0';
		record->path_flags |= AM_PATH_UNREADABLE;
		counter_add(AM_CNT_OPEN_PATH_FAULT, 1);
	} else if (copied == sizeof(record->path)) {
		record->path_flags |= AM_PATH_TRUNCATED;
	}
}

/* An open syscall's first three arguments, by its form: the path it named, its flags. */
static __always_inline void open_call_decode(__u16 form, __u64 arg0, __u64 arg1, __u64 arg2,
					     struct open_call *call)
{
	switch (form) {
	case AM_OPEN_SYSCALL_OPEN:
		call->user_path = (const char *)arg0;
		call->flags = (__u32)arg1;
		break;
	case AM_OPEN_SYSCALL_CREAT:
		call->user_path = (const char *)arg0;
		call->flags = O_CREAT | O_WRONLY | O_TRUNC;
		break;
	case AM_OPEN_SYSCALL_OPEN_BY_HANDLE_AT:
		call->user_path = NULL;
		call->flags = (__u32)arg2;
		break;
	case AM_OPEN_SYSCALL_OPENAT2: {
		__u64 how_flags = 0;

		call->user_path = (const char *)arg1;
		bpf_probe_read_user(&how_flags, sizeof(how_flags), (const void *)arg2);
		call->flags = (__u32)how_flags;
		break;
	}
	default:
		call->user_path = (const char *)arg1;
		call->flags = (__u32)arg2;
	}
}

/*
 * A 32-bit (ia32) syscall's arguments: bx, cx, dx. The kernel's ia32 entry takes
 * only their low 32 bits (SC_IA32_REGS_TO_ARGS casts each register), so pointers
 * are zero-extended as it does: bits an opener sets above them cannot send these
 * reads anywhere the kernel did not read.
 */
static __always_inline void open_call_read_ia32(struct pt_regs *regs, __u16 syscall,
						struct open_call *call)
{
	open_call_decode(syscall & ~AM_OPEN_SYSCALL_IA32, (__u32)regs->bx, (__u32)regs->cx,
			 (__u32)regs->dx, call);
}

/*
 * Syscall arguments as saved on entry (x86_64: di, si, dx, r10; ia32: see above);
 * regs NULL: io_uring.
 */
static __always_inline void open_call_read(struct pt_regs *regs, __u16 syscall,
					   struct open_call *call)
{
	call->syscall = syscall;
	if (!regs) { /* io_uring: no syscall of its own */
		call->user_path = NULL;
		call->flags = 0;
		return;
	}
	if (syscall & AM_OPEN_SYSCALL_IA32)
		open_call_read_ia32(regs, syscall, call);
	else
		open_call_decode(syscall, regs->di, regs->si, regs->dx, call);
}

/* An inode's change time in seconds, as each kernel keeps it. */
struct inode___ctime_611 {
	time64_t i_ctime_sec;
} __attribute__((preserve_access_index));
struct inode___ctime_66 {
	struct timespec64 __i_ctime;
} __attribute__((preserve_access_index));
struct inode___ctime_old {
	struct timespec64 i_ctime;
} __attribute__((preserve_access_index));

static __always_inline __s64 inode_ctime_s(struct inode *inode)
{
	if (bpf_core_field_exists(((struct inode___ctime_611 *)inode)->i_ctime_sec))
		return BPF_CORE_READ((struct inode___ctime_611 *)inode, i_ctime_sec);
	if (bpf_core_field_exists(((struct inode___ctime_66 *)inode)->__i_ctime))
		return BPF_CORE_READ((struct inode___ctime_66 *)inode, __i_ctime.tv_sec);
	return BPF_CORE_READ((struct inode___ctime_old *)inode, i_ctime.tv_sec);
}

/*
 * Whether a file in a flat watched directory would have been declared by its
 * identity: it was changed (created, linked, renamed: each sets the change
 * time) at least 2 s before the last complete discovery round began listing.
 * The margin covers the coarse clock the kernel stamps change times with.
 */
static __always_inline bool listed_before(struct inode *inode)
{
	__u64 listed = am_dirs_listed_s;

	return listed && inode_ctime_s(inode) + 2 <= (__s64)listed;
}

/*
 * Where an unwatched file's device holds watched directories, they are looked
 * for among its parents: one parent where only flat credential directories are
 * (the node's certificate stores), up to AM_DIR_WALK_DEPTH where a watched
 * volume is a plain directory. A flat directory matches only its own entries.
 */
static __always_inline struct am_watch_value *match_parents(struct dentry *dentry,
							    const struct am_dev_value *dev,
							    struct am_file_key *key)
{
	struct am_watch_value *watch;
	struct dentry *parent;
	int i, depth = dev->subtrees ? AM_DIR_WALK_DEPTH : 1;

	for (i = 0; i < AM_DIR_WALK_DEPTH && i < depth; i++) {
		parent = BPF_CORE_READ(dentry, d_parent);
		if (!parent || parent == dentry)
			return NULL; /* the root of the file's mount */
		dentry = parent;
		key->inode = BPF_CORE_READ(dentry, d_inode, i_ino);
		watch = bpf_map_lookup_elem(&watched_dirs, key);
		if (watch && (i == 0 || (watch->flags & AM_WATCH_SUBTREE)))
			return watch;
	}
	return NULL;
}

/*
 * A successful open: the file's own identity first, which no name or link can
 * change; then, for a file user space has not seen yet (a token the kubelet has
 * just rotated in), its device (a volume on its own tmpfs) or its parents. The
 * syscall's arguments are read only for a match.
 */
static __always_inline void match_file(struct file *file, long fd, struct pt_regs *regs,
				       __u16 syscall, const struct am_task *opener)
{
	struct am_watch_value *watch, found;
	struct am_open_record *record;
	struct am_file_key key = {};
	struct am_dev_value *dev;
	char name[AM_NAME_LEN] = {};
	struct dentry *dentry;
	struct open_call call;
	struct inode *inode;
	__u8 match = AM_MATCH_FILE;
	__u64 file_inode;
	__u32 file_dev;

	inode = BPF_CORE_READ(file, f_inode);
	key.inode = file_inode = BPF_CORE_READ(inode, i_ino);
	key.dev = file_dev = BPF_CORE_READ(inode, i_sb, s_dev);
	watch = bpf_map_lookup_elem(&watched_files, &key);
	/* Only what a match needs is read after the lookups: most opens match nothing. */
	if (watch) {
		if (watch->flags & AM_WATCH_PUBLIC)
			return; /* beside the credentials in their volume, and no secret */
		found = *watch;
		dentry = BPF_CORE_READ(file, f_path.dentry);
	} else {
		dev = bpf_map_lookup_elem(&watched_dir_devs, &file_dev);
		if (!dev)
			return;
		/* Only flat directories here, and the file older than the last listing:
		 * had it been in one, it would have matched by its identity. */
		if (!dev->subtrees && !(dev->volume_flags & AM_WATCH_DEVICE) &&
		    listed_before(inode))
			return;
		dentry = BPF_CORE_READ(file, f_path.dentry);
		if (dev->volume_flags & AM_WATCH_DEVICE) {
			match = AM_MATCH_DEVICE;
			found.watch_id = dev->volume_id;
			found.flags = dev->volume_flags;
		} else {
			watch = match_parents(dentry, dev, &key);
			if (!watch)
				return;
			match = AM_MATCH_DIR;
			found = *watch;
		}
		/* A directory is listed, not read (ls, find, rm -r, the kubelet's own writer). */
		if ((BPF_CORE_READ(inode, i_mode) & S_IFMT) == S_IFDIR)
			return;
		bpf_probe_read_kernel_str(name, sizeof(name), BPF_CORE_READ(dentry, d_name.name));
		if ((found.flags & AM_WATCH_SKIP_PUBLIC) && is_public_name(name))
			return;
	}
	if (from_self())
		return;
	/* A credential may be in hand: the pod's next contacts are reported again. */
	cgroup_epoch_bump(opener ? opener->cgroup_id : bpf_get_current_cgroup_id());

	record = record_reserve(sizeof(*record), AM_REC_OPEN);
	if (!record)
		return;
	open_call_read(regs, syscall, &call);
	if (opener)
		record->task = *opener;
	else
		task_fill_traced(&record->task);
	record->result = fd;
	record->inode = file_inode;
	record->dev = file_dev;
	record->watch_id = found.watch_id;
	record->flags = call.flags;
	record->syscall = call.syscall;
	record->match = match;
	if (match != AM_MATCH_FILE)
		__builtin_memcpy(record->name, name, sizeof(name));
	else
		bpf_probe_read_kernel_str(record->name, sizeof(record->name),
					  BPF_CORE_READ(dentry, d_name.name));
	record_fill_path(record, &call);
	record_submit(record);
}

/* A failed open: the absolute path it named, against the watched paths. */
static __always_inline void match_failed_path(long error, const struct open_call *call)
{
	struct am_watch_value *watch;
	struct am_open_record *record;
	struct am_path_key *key;
	__u32 zero = 0;
	long copied;

	if (!call->user_path || !watch_state_on(1))
		return;
	key = bpf_map_lookup_elem(&path_scratch, &zero);
	if (!key)
		return;
	__builtin_memset(key->path, 0, sizeof(key->path));
	copied = bpf_probe_read_user_str(key->path, sizeof(key->path), call->user_path);
	if (copied <= 1 || key->path[0] != '/')
		return;
	watch = bpf_map_lookup_elem(&watched_paths, key);
	if (!watch || from_self())
		return;
	cgroup_epoch_bump(bpf_get_current_cgroup_id());
	record = record_reserve(sizeof(*record), AM_REC_OPEN);
	if (!record)
		return;
	task_fill_traced(&record->task);
	record->result = error;
	record->inode = 0;
	record->dev = 0;
	record->watch_id = watch->watch_id;
	record->flags = call->flags;
	record->syscall = call->syscall;
	record->match = AM_MATCH_PATH;
	record->path_flags = 0;
	record->name[0] = '\0';
	bpf_probe_read_kernel(record->path, sizeof(record->path), key->path);
	record_submit(record);
}

static __always_inline void report_open(struct pt_regs *regs, long ret, __u16 syscall)
{
	struct open_call call;
	struct file *file;

	if (ret < 0) {
		open_call_read(regs, syscall, &call);
		match_failed_path(ret, &call);
		return;
	}
	file = fd_to_file(ret);
	if (file)
		match_file(file, ret, regs, syscall, NULL);
}

static __always_inline struct pt_regs *current_regs(void)
{
	return (struct pt_regs *)bpf_task_pt_regs(bpf_get_current_task_btf());
}

SEC("tracepoint/syscalls/sys_exit_open")
int am_exit_open(struct trace_event_raw_sys_exit *ctx)
{
	report_open(current_regs(), ctx->ret, AM_OPEN_SYSCALL_OPEN);
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_openat")
int am_exit_openat(struct trace_event_raw_sys_exit *ctx)
{
	report_open(current_regs(), ctx->ret, AM_OPEN_SYSCALL_OPENAT);
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_openat2")
int am_exit_openat2(struct trace_event_raw_sys_exit *ctx)
{
	report_open(current_regs(), ctx->ret, AM_OPEN_SYSCALL_OPENAT2);
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_creat")
int am_exit_creat(struct trace_event_raw_sys_exit *ctx)
{
	report_open(current_regs(), ctx->ret, AM_OPEN_SYSCALL_CREAT);
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_open_by_handle_at")
int am_exit_open_by_handle_at(struct trace_event_raw_sys_exit *ctx)
{
	report_open(current_regs(), ctx->ret, AM_OPEN_SYSCALL_OPEN_BY_HANDLE_AT);
	return 0;
}

/* The 32-bit (ia32) syscalls, at the end of this file. */
static __always_inline bool in_ia32_syscall(void);
static __always_inline void ia32_sys_exit(struct pt_regs *regs, long ret);

SEC("tp_btf/sys_exit")
int BPF_PROG(am_raw_sys_exit, struct pt_regs *regs, long ret)
{
	long nr = regs->orig_ax;

	/* An ia32 syscall's number names another call than the x86_64 one of that number. */
	if (in_ia32_syscall()) {
		ia32_sys_exit(regs, ret);
		return 0;
	}
	if (nr == NR_OPENAT)
		report_open(regs, ret, AM_OPEN_SYSCALL_OPENAT);
	else if (nr == NR_OPEN)
		report_open(regs, ret, AM_OPEN_SYSCALL_OPEN);
	else if (nr == NR_OPENAT2)
		report_open(regs, ret, AM_OPEN_SYSCALL_OPENAT2);
	else if (nr == NR_CREAT)
		report_open(regs, ret, AM_OPEN_SYSCALL_CREAT);
	else if (nr == NR_OPEN_BY_HANDLE_AT)
		report_open(regs, ret, AM_OPEN_SYSCALL_OPEN_BY_HANDLE_AT);
	else if (nr == NR_SOCKET)
		report_socket(ret, (__u32)regs->di, (__u32)regs->si, (__u32)regs->dx, 0);
	return 0;
}

/* struct io_kiocb before 5.19 kept the result in `result`, since then in `cqe.res`. */
struct io_kiocb___old {
	u8 opcode;
	int result;
} __attribute__((preserve_access_index));

/*
 * io_uring_complete with the request as its second argument (Linux 5.18 and
 * later, whatever follows it): only completed opens are looked at. A completed
 * open's result is the fd it installed in the submitter's table, which the
 * io_uring worker threads share.
 */
/*
 * A socket made where its arguments are not at hand (io_uring's IORING_OP_SOCKET,
 * 5.19; ia32 socketcall): what kind, from the file it installed.
 */
static __always_inline void socket_from_fd(int res, __u16 via)
{
	struct file *file = fd_to_file(res);
	struct socket *sock;
	struct sock *sk;

	if (!file)
		return;
	sock = BPF_CORE_READ(file, private_data);
	sk = BPF_CORE_READ(sock, sk);
	report_socket(res, BPF_CORE_READ(sk, __sk_common.skc_family), BPF_CORE_READ(sock, type),
		      BPF_CORE_READ(sk, sk_protocol), via);
}

SEC("tp_btf/io_uring_complete")
int BPF_PROG(am_io_uring_complete, void *ring, struct io_kiocb *req)
{
	struct file *file;
	__u8 opcode = BPF_CORE_READ(req, opcode);
	int res;

	if (opcode != IORING_OP_OPENAT_NR && opcode != IORING_OP_OPENAT2_NR &&
	    opcode != IORING_OP_SOCKET_NR)
		return 0;
	if (bpf_core_field_exists(req->cqe))
		res = BPF_CORE_READ(req, cqe.res);
	else
		res = BPF_CORE_READ((struct io_kiocb___old *)req, result);
	if (res < 0)
		return 0;
	if (opcode == IORING_OP_SOCKET_NR) {
		socket_from_fd(res, AM_OPEN_SYSCALL_IO_URING);
		return 0;
	}
	file = fd_to_file(res);
	if (file)
		match_file(file, res, NULL, AM_OPEN_SYSCALL_IO_URING, NULL);
	return 0;
}

#define PF_KTHREAD 0x00200000

/* Who created each ring, for completions run by kernel threads (see below). */
SEC("tp_btf/io_uring_create")
int BPF_PROG(am_io_uring_create, int fd, void *ring)
{
	struct am_task task;
	__u64 key = (__u64)ring;

	task_fill_traced(&task);
	bpf_map_update_elem(&uring_creators, &key, &task, BPF_ANY);
	return 0;
}

/*
 * io_uring_complete before Linux 5.18: (ring, user_data, result[, cflags]), no
 * request, so no opcode. Every completion whose result is a descriptor of the
 * completing task is looked up instead: an open's result is the fd it installed,
 * and any other request's result that happens to equal the number of a watched
 * file's descriptor the process already holds reports that file again, which says
 * nothing false. Matching on marks made at submission (ring, user_data) instead
 * could be evaded: a request of the same user_data completing first takes the
 * mark, and a flood of submissions pushes it out of any bounded map.
 *
 * Where io_uring's workers are kernel threads (before the io-thread rework of
 * 5.12, which stable 5.10 took in 5.10.162), they borrow the submitter's
 * descriptor table while they work but not its pid or cgroup: their records are
 * given the ring creator's instead. Since, they are threads of the submitter.
 *
 * A completion the kernel posts no CQE for (IOSQE_CQE_SKIP_SUCCESS, 5.17) passes
 * no tracepoint, and an open into the fixed-file table installs no descriptor:
 * see docs/KNOWN-GAPS.md.
 */
SEC("tp_btf/io_uring_complete")
int BPF_PROG(am_io_uring_complete_old, void *ring, u64 user_data, long result)
{
	struct am_task *opener = NULL;
	struct file *file;
	int res = (int)result;

	if (res < 0)
		return 0;
	if (BPF_CORE_READ((struct task_struct *)bpf_get_current_task(), flags) & PF_KTHREAD) {
		__u64 key = (__u64)ring;

		/* A ring made before the monitor: the worker's own (host) context, not silence. */
		opener = bpf_map_lookup_elem(&uring_creators, &key);
	}
	file = fd_to_file(res);
	if (file)
		match_file(file, res, NULL, AM_OPEN_SYSCALL_IO_URING, opener);
	return 0;
}

/* --- 32-bit (ia32) syscalls ------------------------------------------------------- */

/*
 * Any x86_64 process may make 32-bit syscalls (int $0x80 from 64-bit code, or a
 * 32-bit program's own), unless the kernel was booted with ia32_emulation=false.
 * They have numbers and argument registers of their own, and the syscalls/
 * sys_exit_* tracepoints never fire for them: the kernel's syscall tracing skips a
 * task in a compat syscall (kernel/trace/trace_syscalls.c: trace_get_syscall_nr()
 * returns -1 when arch_trace_is_compat_syscall(), which arch/x86/include/asm/
 * ftrace.h defines as in_32bit_syscall(): "Instead of reporting bogus syscalls,
 * just do not trace them"). The raw sys_exit tracepoint fires for every syscall:
 * beside the syscall tracepoints am_ia32_sys_exit takes the ia32 ones there, and
 * with the raw hook am_raw_sys_exit hands them here before anything else.
 *
 * A task is in one while its thread_info.status has TS_COMPAT: the ia32 entry sets
 * it, and it is cleared on the way back to user space, after the sys_exit
 * tracepoint (arch_exit_to_user_mode_prepare()). That bit is tested first and
 * alone: every 64-bit syscall of the node passes here.
 *
 * x32 syscalls (__X32_SYSCALL_BIT in the number, CONFIG_X86_X32_ABI) are skipped by
 * the syscall tracepoints as well and are not read here; io_uring makes no syscall
 * per open, and its completions are taken alike for 32-bit and 64-bit rings.
 */
#define TS_COMPAT 0x0002 /* arch/x86/include/asm/thread_info.h */

/* i386 numbers (arch/x86/entry/syscalls/syscall_32.tbl). */
#define IA32_NR_OPEN 5
#define IA32_NR_CREAT 8
#define IA32_NR_SOCKETCALL 102
#define IA32_NR_OPENAT 295
#define IA32_NR_OPEN_BY_HANDLE_AT 342
#define IA32_NR_SOCKET 359
#define IA32_NR_OPEN_TREE 428
#define IA32_NR_OPENAT2 437
#define IA32_NR_PIDFD_GETFD 438
#define SOCKETCALL_SOCKET 1 /* socketcall's SYS_SOCKET */

/*
 * x86's thread_info is the first member of task_struct. A kernel whose thread_info
 * has no status (not x86) has no ia32 syscalls to tell apart: false, the ia32
 * branch is never verified, and user space, which finds the same in the kernel's
 * BTF, says the monitor is blind to them (ia32-opens).
 */
static __always_inline bool in_ia32_syscall(void)
{
	struct task_struct *task;

	if (!bpf_core_field_exists(((struct task_struct *)0)->thread_info.status))
		return false;
	if (HAVE_TASK_BTF)
		return bpf_get_current_task_btf()->thread_info.status & TS_COMPAT;
	task = (struct task_struct *)bpf_get_current_task();
	return BPF_CORE_READ(task, thread_info.status) & TS_COMPAT;
}

/*
 * socketcall(2), ia32's multiplexer of the socket calls: of them only SYS_SOCKET
 * makes a socket of its own kind. One made is read from the file it installed, not
 * from the arguments, which are in user memory another thread may rewrite once the
 * kernel has read them; a refused one (no CAP_NET_RAW) from those arguments, as
 * socket(2)'s refusals are reported.
 */
static __always_inline void ia32_socketcall(struct pt_regs *regs, long ret)
{
	__u32 args[3] = {};

	if ((__u32)regs->bx != SOCKETCALL_SOCKET)
		return;
	if (ret >= 0) {
		socket_from_fd((int)ret, 0);
		return;
	}
	bpf_probe_read_user(args, sizeof(args), (const void *)(__u64)(__u32)regs->cx);
	report_socket(ret, args[0], args[1], args[2], 0);
}

/*
 * An ia32 syscall at its exit, taken as its x86_64 twin is: an open's file by its
 * descriptor and its arguments from the ia32 registers (open_call_read_ia32), the
 * record's syscall marked AM_OPEN_SYSCALL_IA32; a socket's kind as socket(2)'s.
 * Calls that hand over a descriptor by other means (open_tree's O_PATH descriptor,
 * pidfd_getfd's copy of another process's) are not decoded: counted, not silent.
 */
static __always_inline void ia32_sys_exit(struct pt_regs *regs, long ret)
{
	__u16 form;

	switch (regs->orig_ax) {
	case IA32_NR_OPEN:
		form = AM_OPEN_SYSCALL_OPEN;
		break;
	case IA32_NR_OPENAT:
		form = AM_OPEN_SYSCALL_OPENAT;
		break;
	case IA32_NR_OPENAT2:
		form = AM_OPEN_SYSCALL_OPENAT2;
		break;
	case IA32_NR_CREAT:
		form = AM_OPEN_SYSCALL_CREAT;
		break;
	case IA32_NR_OPEN_BY_HANDLE_AT:
		form = AM_OPEN_SYSCALL_OPEN_BY_HANDLE_AT;
		break;
	case IA32_NR_SOCKET:
		report_socket(ret, (__u32)regs->bx, (__u32)regs->cx, (__u32)regs->dx, 0);
		return;
	case IA32_NR_SOCKETCALL:
		ia32_socketcall(regs, ret);
		return;
	case IA32_NR_OPEN_TREE:
	case IA32_NR_PIDFD_GETFD:
		counter_add(AM_CNT_IA32_UNDECODED, 1);
		return;
	default:
		return;
	}
	report_open(regs, ret, AM_OPEN_SYSCALL_IA32 | form);
}

/*
 * Beside the syscall tracepoints: the ia32 syscalls they skip. Every syscall of the
 * node pays the raw tracepoint's own price for it, and one test of one bit
 * (measured: BENCH_ONLY=ia32 bench/run.sh).
 */
SEC("tp_btf/sys_exit")
int BPF_PROG(am_ia32_sys_exit, struct pt_regs *regs, long ret)
{
	if (in_ia32_syscall())
		ia32_sys_exit(regs, ret);
	return 0;
}
