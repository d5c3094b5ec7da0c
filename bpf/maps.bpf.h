/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * Every map and configuration global of the probes, in one place. maps.bpf.c
 * defines them; every other object sees them through these extern declarations,
 * and `bpftool gen object` links the objects into one before the skeleton is made.
 *
 * events          ring buffer of struct am_*_record, sized by user space
 * counters        per-CPU counters indexed by enum am_counter (losses, truncations)
 * watched_files   struct am_file_key -> struct am_watch_value: watched files
 * watched_dirs    struct am_file_key -> struct am_watch_value: directories whose
 *                 files are watched whatever they are replaced with (token rotation)
 * watched_dir_devs
 *                 device -> struct am_dev_value: the watched directories it
 *                 holds (a file's parents share its device, so only there can
 *                 they match), and the volume that is the whole device
 * watched_paths   struct am_path_key -> struct am_watch_value: absolute paths whose
 *                 failed opens are reported
 * path_scratch    one per-CPU struct am_path_key, to build a lookup key in
 * watch_state     [0]: watched directories exist, [1]: watched paths exist; lets
 *                 the open probes skip the work when a set is empty
 * flows           socket storage: struct am_flow_state for sockets whose bytes
 *                 are captured (IMDS, WireServer, TLS, DNS over TCP)
 * connect_repeats_0, connect_repeats_1
 *                 struct am_repeat_key -> struct am_repeat_value: which pod
 *                 reached which destination when, and the repeats counted since.
 *                 HASH, not LRU: an LRU would evict counts silently. The probes
 *                 use the one am_repeat_slot names; user space flips the slot
 *                 once a second and reads the other one when no probe can still
 *                 be writing it (user/probes.c explains why two)
 * cgroup_epochs   a counter per slot (cgroup id modulo AM_EPOCH_SLOTS), bumped
 *                 by every IMDS contact and watched-file open of the cgroup and
 *                 part of the repeat key, so a pod's first contact with anything
 *                 after a credential theft is reported on its own again. An
 *                 array, not a hash: the connect path pays one hash lookup, not
 *                 two. A shared slot only makes more contacts first contacts,
 *                 never fewer. Mmapable: user space reads it without a syscall
 * capture_budget  cgroup id -> struct am_budget: what each pod may still capture
 *                 (net.bpf.c). LRU: a pod's budget pushed out starts full again,
 *                 and only pods that capture are in it
 * uring_creators  io_uring ring (its kernel address) -> the task that created it:
 *                 where io_uring's workers are kernel threads (before 5.12; 5.10
 *                 before 5.10.162), their completions are attributed to the
 *                 ring's creator. LRU: a ring gone stays until pushed out, and one
 *                 pushed out only loses its attribution (the record is still made)
 * capture_scratch what the records of one capture share, a slot a CPU (net.bpf.c)
 *
 * am_self_tgid    the monitor's own process id, set before load: its own
 *                 connections (webhook, syslog, kubelet) and opens (azure.json)
 *                 are not reported, so its output cannot feed itself
 * am_repeat_window_ns
 *                 how long after a reported contact repeats are only counted,
 *                 set before load (--repeat-window); 0: every contact reported
 * am_repeat_slot  which connect_repeats map the probes use (0 or 1); user space
 *                 writes it through the skeleton's mapped .bss
 * am_dirs_listed_s
 *                 the wall-clock second at which the last complete discovery
 *                 round began listing the watched directories (mapped .bss):
 *                 every file of a flat watched directory changed before it was
 *                 declared by its identity then; 0: none yet
 * am_wakeup_ns, am_wakeup_bytes
 *                 when a record wakes the collector (see record_submit in
 *                 common.bpf.h), set before load; am_wakeup_ns 0: every record
 * am_last_wakeup_ns
 *                 when a record last woke the collector (CLOCK_BOOTTIME)
 * am_connect_parent
 *                 the connect hooks may read the current task (bpf_get_current_task
 *                 and probe reads in cgroup sock_addr programs): the parent's pid.
 *                 Set before load from the kernel's answer (user/kernel_features.c)
 * am_connect_marks
 *                 the connect hooks may use socket storage: they mark sockets for
 *                 capture. Set before load likewise
 */
#ifndef ACCESSMON_MAPS_BPF_H
#define ACCESSMON_MAPS_BPF_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "accessmon.h"

#ifdef AM_DEFINE_MAPS
#define AM_MAP
const volatile __u32 am_self_tgid = 0;
const volatile __u64 am_repeat_window_ns = 60ull * 1000000000ull;
volatile __u32 am_repeat_slot = 0;
volatile __u64 am_dirs_listed_s = 0;
const volatile __u64 am_wakeup_ns = 0;
const volatile __u64 am_wakeup_bytes = 0;
volatile __u64 am_last_wakeup_ns = 0;
const volatile bool am_connect_parent = true;
const volatile bool am_connect_marks = true;
#else
#define AM_MAP extern
extern const volatile __u32 am_self_tgid;
extern const volatile __u64 am_repeat_window_ns;
extern volatile __u32 am_repeat_slot;
extern volatile __u64 am_dirs_listed_s;
extern const volatile __u64 am_wakeup_ns;
extern const volatile __u64 am_wakeup_bytes;
extern volatile __u64 am_last_wakeup_ns;
extern const volatile bool am_connect_parent;
extern const volatile bool am_connect_marks;
#endif

AM_MAP struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 8 * 1024 * 1024);
} events SEC(".maps");

AM_MAP struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, AM_CNT_MAX);
	__type(key, __u32);
	__type(value, __u64);
} counters SEC(".maps");

AM_MAP struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, AM_WATCH_MAX_FILES);
	__type(key, struct am_file_key);
	__type(value, struct am_watch_value);
} watched_files SEC(".maps");

AM_MAP struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, AM_WATCH_MAX_DIRS);
	__type(key, struct am_file_key);
	__type(value, struct am_watch_value);
} watched_dirs SEC(".maps");

AM_MAP struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, AM_WATCH_MAX_DIRS);
	__type(key, __u32); /* a device (the kernel's dev_t) */
	__type(value, struct am_dev_value);
} watched_dir_devs SEC(".maps");

AM_MAP struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, AM_WATCH_MAX_PATHS);
	__type(key, struct am_path_key);
	__type(value, struct am_watch_value);
} watched_paths SEC(".maps");

AM_MAP struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct am_path_key);
} path_scratch SEC(".maps");

AM_MAP struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, __u32);
} watch_state SEC(".maps");

AM_MAP struct {
	__uint(type, BPF_MAP_TYPE_SK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct am_flow_state);
} flows SEC(".maps");

#define AM_REPEAT_MAP(name)                                                                    \
	AM_MAP struct {                                                                        \
		__uint(type, BPF_MAP_TYPE_HASH);                                               \
		__uint(map_flags, BPF_F_NO_PREALLOC);                                          \
		__uint(max_entries, AM_REPEAT_MAX_ENTRIES);                                    \
		__type(key, struct am_repeat_key);                                             \
		__type(value, struct am_repeat_value);                                         \
	} name SEC(".maps")

AM_REPEAT_MAP(connect_repeats_0);
AM_REPEAT_MAP(connect_repeats_1);

AM_MAP struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, AM_EPOCH_SLOTS);
	__type(key, __u32);
	__type(value, __u64); /* 8 bytes: an array's element stride, so user space maps it plainly */
} cgroup_epochs SEC(".maps");

AM_MAP struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 4096);
	__type(key, __u64);
	__type(value, struct am_task);
} uring_creators SEC(".maps");

/* What the records of one capture share (net.bpf.c): one a CPU. */
struct am_capture_template {
	__u64 cookie;
	__u64 cgroup_id;
	__u32 pid;
	__u8 kind, family, protocol, reserved;
	__u16 sport, dport;
	__u32 seq;
	__u32 payload_len;
	__u32 offset; /* of the first payload byte in the packet */
	__u8 saddr[16];
	__u8 daddr[16];
};

AM_MAP struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct am_capture_template);
} capture_scratch SEC(".maps");

/* A pod's capture budget: a token bucket of payload bytes. */
struct am_budget {
	__u64 tokens;
	__u64 last_ns; /* CLOCK_BOOTTIME of the last take */
};

AM_MAP struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, __u64);
	__type(value, struct am_budget);
} capture_budget SEC(".maps");

#endif /* ACCESSMON_MAPS_BPF_H */
