/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * The contract between accessmon's kernel probes (bpf/) and its collector (user/):
 * the records the probes put on the ring buffer, the keys and values of the maps
 * user space fills, and the constants both sides agree on. Nothing else is shared.
 *
 * Records are fixed-size, little-endian, naturally aligned, and never change
 * layout within one AM_RECORD_VERSION: trace files store them as they came off the
 * ring buffer, so a change here is a trace format change.
 */
#ifndef ACCESSMON_H
#define ACCESSMON_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

#define AM_RECORD_VERSION 1

#define AM_COMM_LEN 16
/* Bytes of the path an opener passed to open(2), as it named it. */
#define AM_OPEN_PATH_LEN 256
/* Bytes of a cgroup path relative to the cgroup v2 root, as cgroup_mkdir reports it. */
#define AM_CGROUP_PATH_LEN 256

/* Bytes of an executable's path and of its command line (NUL-separated arguments). */
#define AM_EXE_LEN 256
#define AM_ARGS_LEN 512

/* Bytes of a watched path (failed opens are matched on the path string). */
#define AM_WATCH_PATH_LEN 256
/* Bytes of the opened file's own name, sent with directory matches. */
#define AM_NAME_LEN 64
/*
 * How many parents of an opened file are looked up in the watched directories,
 * on a device where a watched volume is a plain directory (not its own mount).
 * Elsewhere one parent is looked up (flat credential directories) or none (a
 * volume that is its own tmpfs is matched by its device, at any depth).
 */
#define AM_DIR_WALK_DEPTH 16

/* Sizes of the maps user space fills. */
#define AM_WATCH_MAX_FILES 16384
#define AM_WATCH_MAX_DIRS 16384
#define AM_WATCH_MAX_PATHS 16384

enum am_record_type {
	AM_REC_CONNECT = 1,	 /* connect(2) on a TCP or UDP socket, IPv4 or IPv6 */
	AM_REC_SEND = 2,	 /* sendmsg(2)/sendto(2) with an address, on a UDP socket */
	AM_REC_OPEN = 3,	 /* open of a watched file */
	AM_REC_CGROUP_MKDIR = 4, /* a cgroup v2 directory was created */
	AM_REC_CGROUP_RMDIR = 5, /* a cgroup v2 directory was removed */
	AM_REC_EXEC = 6,	 /* a process called execve(2) successfully */
	AM_REC_FORK = 7,	 /* a new process (not a thread) was created */
	AM_REC_EXIT = 8,	 /* the last thread of a process exited */
	AM_REC_PAYLOAD = 9,	 /* the first bytes of a packet that matters (HTTP, TLS, DNS) */
	AM_REC_FLOW_CLOSE = 10,	 /* a captured TCP connection closed (older traces; now FLOW_STATE) */
	AM_REC_CONNECT_REPEAT = 11, /* connects or sends counted in the kernel, not reported */
	AM_REC_FLOW_STATE = 12,	 /* a captured TCP connection was established, or closed */
	AM_REC_SOCKET = 13,	 /* a raw or packet socket was created */
	AM_REC_TYPE_MAX,
};

/* Which syscall produced an open record. */
enum am_open_syscall {
	AM_OPEN_SYSCALL_OPEN = 1,
	AM_OPEN_SYSCALL_OPENAT = 2,
	AM_OPEN_SYSCALL_OPENAT2 = 3,
	AM_OPEN_SYSCALL_CREAT = 4,
	AM_OPEN_SYSCALL_OPEN_BY_HANDLE_AT = 5,
	AM_OPEN_SYSCALL_IO_URING = 6, /* IORING_OP_OPENAT or IORING_OP_OPENAT2 */
	/* Or'd with one of OPEN to OPEN_BY_HANDLE_AT: made through the 32-bit (ia32) entry. */
	AM_OPEN_SYSCALL_IA32 = 0x80,
};

/* How an open record matched the watch set. */
enum am_match {
	AM_MATCH_FILE = 1, /* the opened file is watched */
	AM_MATCH_DIR = 2,  /* a parent directory of the opened file is watched */
	AM_MATCH_PATH = 3, /* a failed open named a watched path */
	AM_MATCH_DEVICE = 4, /* the opened file is on a watched volume's own filesystem */
};

/* Set in am_open_record.path_flags. */
#define AM_PATH_TRUNCATED 0x1 /* the path did not fit in AM_OPEN_PATH_LEN */
#define AM_PATH_UNREADABLE 0x2 /* the user pointer could not be read */

/* Every record starts with this. */
struct am_record_header {
	__u16 type; /* enum am_record_type */
	__u16 size; /* sizeof the whole record */
	__u32 cpu;
	__u64 time_ns; /* CLOCK_BOOTTIME */
};

/* The task that caused a record, as the kernel saw it then. */
struct am_task {
	__u64 cgroup_id; /* cgroup v2 id: the inode number of the cgroup directory */
	__u32 pid;	 /* thread group id, what user space calls the pid */
	__u32 tid;
	__u32 ppid; /* thread group id of the real parent */
	__u32 uid;
	char comm[AM_COMM_LEN];
};

/* Set in am_connect_record.capture: what the kernel captures on this socket. */
#define AM_CAPTURE_HTTP 0x1    /* request bytes out, response status in (IMDS, WireServer) */
#define AM_CAPTURE_TLS 0x2     /* the first bytes out: the ClientHello */
#define AM_CAPTURE_DNS_TCP 0x4 /* answer bytes in, DNS over TCP */
#define AM_CAPTURE_DNS_UDP 0x8 /* none: remembers who asked, for the answers' records */

/* Set in am_connect_record.flags. */
/*
 * Older than the monitor: found at start by bpf/existing.bpf.c (cookie 0, sport
 * set: its bytes are captured from its next packet on, see net.bpf.c), or made
 * by user space for such a connection first seen sending (user/flows.h).
 */
#define AM_CONNECT_EXISTING 0x1

/* AM_REC_CONNECT and AM_REC_SEND. */
struct am_connect_record {
	struct am_record_header header;
	struct am_task task;
	__u8 family;   /* 4 or 6; an IPv4-mapped IPv6 address is reported as 4 */
	__u8 protocol; /* IPPROTO_TCP, IPPROTO_UDP, or another IP protocol number */
	__u16 port;    /* destination port, host byte order */
	__u8 capture;  /* AM_CAPTURE_* set on the socket */
	__u8 flags;    /* AM_CONNECT_* */
	__u16 sport;   /* AM_CONNECT_EXISTING: the local port (host byte order); else 0 */
	__u64 cookie;  /* the socket's cookie: links payload and close records to it */
	__u8 addr[16]; /* network byte order; IPv4 in the first 4 bytes */
};

/*
 * Volume control. A connect or send that is neither to IMDS or WireServer nor on a
 * socket marked for capture is looked up in the connect_repeats map by pod (cgroup)
 * and destination: the first contact is reported, repeats within the window are
 * only counted, and user space turns the counts into AM_REC_CONNECT_REPEAT
 * records. There are two such maps; see bpf/maps.bpf.h and user/probes.c.
 */
#define AM_REPEAT_MAX_ENTRIES 65536
/* Slots of the cgroup_epochs array: a cgroup's slot is its id modulo this. */
#define AM_EPOCH_SLOTS 4096

/* Key of the connect_repeats maps: a pod (its cgroup), in an epoch, and a destination. */
struct am_repeat_key {
	__u64 cgroup_id;
	__u32 epoch;   /* the cgroup's epoch (cgroup_epochs), low 32 bits */
	__u16 type;    /* AM_REC_CONNECT or AM_REC_SEND */
	__u16 port;    /* host byte order */
	__u8 family;   /* 4 or 6, as in am_connect_record */
	__u8 protocol;
	__u8 reserved[6];
	__u8 addr[16]; /* network byte order; IPv4 in the first 4 bytes */
};

struct am_repeat_value {
	__u64 window_start_ns; /* the individual record the repeats follow (CLOCK_BOOTTIME) */
	__u64 first_ns;	       /* the first repeat counted in this map; 0: none yet */
	__u64 last_ns;	       /* the last repeat counted in this map */
	__u64 count;	       /* repeats counted in this map (only ever incremented) */
	__u64 last_pid_tgid;   /* the last repeat's thread group id << 32 | thread id */
};

/*
 * AM_REC_CONNECT_REPEAT: `count` connects (or sends) of one pod to one destination
 * that the kernel counted instead of reporting, between first_ns and last_ns.
 * User space makes it from a connect_repeats entry (it never crosses the ring
 * buffer) and feeds it to the pipeline and the trace like any other record.
 */
struct am_connect_repeat_record {
	struct am_record_header header; /* time_ns: when user space took the counts */
	struct am_task task; /* the last repeat's: cgroup, pid and tid; the rest zero */
	__u8 family;
	__u8 protocol;
	__u16 port;
	__u16 repeat_of; /* AM_REC_CONNECT or AM_REC_SEND */
	__u16 reserved;
	__u8 addr[16];
	__u64 count;
	__u64 window_start_ns; /* CLOCK_BOOTTIME, like every time below */
	__u64 first_ns;
	__u64 last_ns;
};

/* Bytes of packet payload one payload record carries at most; a segment takes several. */
#define AM_PAYLOAD_LEN 1024
/* Records one segment is cut into at most (a 64 KiB GSO segment); past them, lost. */
#define AM_PAYLOAD_CHUNKS 64
/* Bytes of a TLS connection's start captured for its ClientHello, at most. */
#define AM_TLS_HELLO_CAPTURE (16384 + 1024)
/* Bytes of an answer captured on HTTP connections: the status line. */
#define AM_HTTP_STATUS_CAPTURE 64
/* Bytes of a DNS answer over UDP captured, in records of AM_PAYLOAD_LEN. */
#define AM_DNS_UDP_CAPTURE 4096
/* Bytes of a packet to IMDS or WireServer outside a marked socket: its headers. */
#define AM_PACKET_CAPTURE 128
/*
 * Capture budget of each pod (cgroup), in payload bytes: a burst of
 * AM_CAPTURE_BURST, refilled at AM_CAPTURE_RATE a second. One pod cannot fill the
 * ring buffer and blind the monitor to the others; a pod past its budget has its
 * connections' bytes lost (AM_PAYLOAD_LOST), and user space judges them at worst.
 */
#define AM_CAPTURE_BURST (512u << 10)
#define AM_CAPTURE_RATE (128u << 10)

enum am_payload_kind {
	AM_PAYLOAD_HTTP_REQUEST = 1,  /* egress, AM_CAPTURE_HTTP */
	AM_PAYLOAD_HTTP_RESPONSE = 2, /* ingress, the first segment of the answer */
	AM_PAYLOAD_TLS_HELLO = 3,     /* egress, the first segment, AM_CAPTURE_TLS */
	AM_PAYLOAD_DNS_UDP = 4,	      /* ingress, a UDP datagram from port 53 */
	AM_PAYLOAD_DNS_TCP = 5,	      /* ingress, AM_CAPTURE_DNS_TCP */
	AM_PAYLOAD_PACKET = 6,	      /* egress to IMDS or WireServer on an unmarked socket */
};

/* Set in am_payload_record.flags. */
#define AM_PAYLOAD_TRUNCATED 0x1 /* the packet had more than `captured` bytes */
/*
 * The kernel stopped capturing this connection's bytes (the pod's budget was
 * spent, or the ring buffer full): from seq on, payload_len bytes of this segment
 * and everything after were not captured. captured is 0.
 */
#define AM_PAYLOAD_LOST 0x2

/* AM_REC_PAYLOAD: packet bytes of a socket that matters, from the cgroup skb hooks. */
struct am_payload_record {
	struct am_record_header header;
	__u64 cookie;	 /* the socket's cookie */
	__u64 cgroup_id; /* the socket's cgroup */
	__u32 pid;	 /* the process that connected it, when known */
	__u8 kind;	 /* enum am_payload_kind */
	__u8 family;	 /* 4 or 6 */
	__u8 protocol;
	__u8 flags;	     /* AM_PAYLOAD_* */
	__u16 sport;	     /* host byte order */
	__u16 dport;	     /* host byte order */
	__u32 seq;	     /* TCP sequence number of the first payload byte; 0 for UDP */
	__u32 payload_len;   /* payload bytes in the packet */
	__u32 captured;	     /* bytes in data */
	__u32 reserved;
	__u8 saddr[16];
	__u8 daddr[16];
	__u8 data[AM_PAYLOAD_LEN];
};

/* AM_REC_FLOW_CLOSE (written by older monitors: replayed as a close) */
struct am_flow_close_record {
	struct am_record_header header;
	__u64 cookie;
};

/* am_flow_state_record.state */
#define AM_FLOW_ESTABLISHED 1
#define AM_FLOW_CLOSED 2
#define AM_FLOW_CONNECTING 3 /* its SYN is on its way: the kernel will say what becomes of it */

/* Set in am_flow_state_record.flags and am_flow_state.flags. */
#define AM_FLOW_LOST 0x1	 /* bytes of the connection were not captured */
#define AM_FLOW_WAS_ESTABLISHED 0x2 /* it was established before it closed */

/* AM_REC_FLOW_STATE: a captured TCP connection was established, or closed. */
struct am_flow_state_record {
	struct am_record_header header;
	__u64 cookie;
	__u8 state; /* AM_FLOW_* */
	__u8 flags; /* AM_FLOW_LOST, AM_FLOW_WAS_ESTABLISHED */
	__u16 reserved;
	__u32 seq_end; /* the sequence number after the last byte the socket sent */
};

/* Per-socket state the kernel keeps for the sockets it captures (sk storage). */
struct am_flow_state {
	__u32 pid;
	__u8 capture; /* AM_CAPTURE_* */
	__u8 flags;   /* AM_FLOW_LOST, AM_FLOW_WAS_ESTABLISHED */
	__u8 hello_done; /* TLS: the server spoke, the ClientHello is over */
	__u8 packet_said; /* a packet to IMDS or WireServer was reported */
	__u32 captured_out; /* payload bytes captured so far, out */
	__u32 seq_end;	    /* the sequence number after the last byte sent */
};

/* AM_REC_SOCKET: a raw or packet socket was made (it can reach IMDS past the cgroup hooks). */
/* am_socket_record.syscall: found at start (bpf/existing.bpf.c), made before the monitor. */
#define AM_SOCKET_EXISTING 0x100

struct am_socket_record {
	struct am_record_header header;
	struct am_task task;
	__s32 result; /* the descriptor, or -errno */
	__u16 family; /* AF_INET, AF_INET6, AF_PACKET */
	__u16 type;   /* SOCK_RAW, SOCK_DGRAM, SOCK_PACKET (flags masked) */
	__u16 protocol;
	__u16 syscall; /* 0: socket(2); AM_OPEN_SYSCALL_IO_URING; AM_SOCKET_EXISTING */
	__u32 reserved;
};

/*
 * AM_REC_OPEN: an open of a watched file (by its identity or a watched parent
 * directory's), or a failed open of a watched path.
 */
struct am_open_record {
	struct am_record_header header;
	struct am_task task;
	__s64 result; /* the fd returned, or -errno */
	__u64 inode;  /* 0 for a failed open */
	__u32 dev;    /* kernel encoding: major << 20 | minor; 0 for a failed open */
	__u32 watch_id;
	__u32 flags;	 /* open flags as passed */
	__u16 syscall;	 /* enum am_open_syscall */
	__u8 path_flags; /* AM_PATH_* */
	__u8 match;	 /* enum am_match */
	char path[AM_OPEN_PATH_LEN]; /* NUL-terminated, as the opener named it */
	char name[AM_NAME_LEN];	     /* the opened file's own name, NUL-terminated */
};

/* AM_REC_CGROUP_MKDIR and AM_REC_CGROUP_RMDIR. */
struct am_cgroup_record {
	struct am_record_header header;
	__u64 cgroup_id;
	__u32 level;
	__u32 reserved;
	char path[AM_CGROUP_PATH_LEN]; /* relative to the cgroup v2 root, starts with / */
};

/* Set in am_exec_record.flags. */
#define AM_EXEC_EXE_TRUNCATED 0x1
#define AM_EXEC_ARGS_TRUNCATED 0x2

/* AM_REC_EXEC: the task after a successful exec. */
struct am_exec_record {
	struct am_record_header header;
	struct am_task task;
	__u64 start_ns;	 /* CLOCK_BOOTTIME when the process was created */
	__u16 flags;	 /* AM_EXEC_* */
	__u16 args_size; /* bytes used in args */
	__u32 reserved;
	char exe[AM_EXE_LEN];	/* the file name execve(2) was given, NUL-terminated */
	char args[AM_ARGS_LEN]; /* argv, each argument NUL-terminated */
};

/* AM_REC_FORK: task describes the child; ppid is the parent's process id. */
struct am_fork_record {
	struct am_record_header header;
	struct am_task task;
	__u64 start_ns; /* CLOCK_BOOTTIME */
};

/* AM_REC_EXIT */
struct am_exit_record {
	struct am_record_header header;
	__u32 pid;
	__s32 exit_code; /* as wait(2) encodes it */
};

/* Key of the watched_files map: a file's identity on the node. */
struct am_file_key {
	__u64 inode;
	__u32 dev; /* kernel encoding: major << 20 | minor */
	__u32 reserved;
};

/* Set in am_watch_value.flags of a watched directory. */
#define AM_WATCH_SKIP_PUBLIC 0x1 /* not ca.crt or namespace, unless watched by identity */
#define AM_WATCH_SUBTREE 0x2	 /* every file below counts (a volume), not only its own */
#define AM_WATCH_DEVICE 0x4	 /* the directory is its filesystem's root: match the device */
/* Set in am_watch_value.flags of a watched file. */
#define AM_WATCH_PUBLIC 0x8 /* a volume's file the spec says is no credential: never report */

struct am_watch_value {
	__u32 watch_id; /* user space's id of the watch entry */
	__u32 flags;	/* AM_WATCH_* */
};

/*
 * Value of the watched_dir_devs map, per device: the watched directories on it,
 * how many of them are subtrees, and the volume whose filesystem it is (when
 * volume_flags has AM_WATCH_DEVICE).
 */
struct am_dev_value {
	__u32 dirs;
	__u32 subtrees;
	__u32 volume_id;
	__u32 volume_flags;
};

/* Key of the watched_paths map: a NUL-padded absolute path. */
struct am_path_key {
	char path[AM_WATCH_PATH_LEN];
};

/* Indexes of the per-CPU counters array. */
enum am_counter {
	AM_CNT_RINGBUF_FULL = 0, /* records lost: ring buffer reservation failed */
	AM_CNT_OPEN_PATH_FAULT,	 /* open records sent without the opener's path */
	AM_CNT_PAYLOAD_CUT,	 /* payload bytes not captured: past a record or a flow's limit */
	AM_CNT_FLOW_STORAGE,	 /* sockets that could not get capture state */
	AM_CNT_REPEAT_FULL,	 /* connects and sends reported one by one: connect_repeats was full */
	AM_CNT_CAPTURE_BUDGET,	 /* payload bytes not captured: their pod's capture budget was spent */
	AM_CNT_IA32_UNDECODED,	 /* 32-bit syscalls that may hand over a file, not decoded */
	AM_CNT_MAX,
};

/* The kernel's dev_t encoding, which differs from the one stat(2) returns. */
#define AM_KDEV(major, minor) (((__u32)(major) << 20) | ((__u32)(minor) & 0xfffff))

#endif /* ACCESSMON_H */
