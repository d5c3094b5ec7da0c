/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * Every map and configuration global of the probes, in one place. maps.bpf.c
 * defines them; every other object sees them through these extern declarations,
 * and `bpftool gen object` links the objects into one before the skeleton is made.
 *
 * events          ring buffer of struct am_*_record, sized by user space
 * counters        per-CPU counters indexed by enum am_counter (losses, truncations)
 * watched_files   struct am_file_key -> struct am_watch_value: the watch set
 */
#ifndef ACCESSMON_MAPS_BPF_H
#define ACCESSMON_MAPS_BPF_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "accessmon.h"

#ifdef AM_DEFINE_MAPS
#define AM_MAP
#else
#define AM_MAP extern
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

#endif /* ACCESSMON_MAPS_BPF_H */
