#!/usr/bin/env bash
# Where a monitor's cost per operation goes, program by program: the kernel's own
# run-time statistics (run_cnt, run_time_ns) of the BPF programs PID holds, before
# and after COMMAND, divided by the N operations COMMAND performs.
#
#   bench/bpf-cost.sh PID N COMMAND...
#   e.g. bench/bpf-cost.sh "$(pgrep -f 'accessmon monitor')" 220000 \
#            taskset -c 0 build/bench/loop open /tmp/unwatched 200000
#
# Needs kernel.bpf_stats_enabled (the monitor turns it on while it runs as root;
# `build/bench/floor --stats` does for the floor). Run time includes what happens
# synchronously inside a program, e.g. the wakeup a ring buffer submit sends.
set -u
[ $# -ge 3 ] || { echo "usage: bench/bpf-cost.sh PID N COMMAND..." >&2; exit 2; }
pid=$1 n=$2
shift 2
ids=$(grep -h '^prog_id:' /proc/"$pid"/fdinfo/* 2>/dev/null | awk '{ print $2 }' | sort -u)
[ -n "$ids" ] || { echo "bpf-cost: process $pid holds no BPF programs" >&2; exit 1; }
snapshot() {
	bpftool prog show -j | jq -r --arg ids "$ids" '($ids | split("\n") | map(tonumber)) as $want |
		.[] | select(.id as $id | $want | index($id)) |
		"\(.id) \(.name) \(.run_cnt // 0) \(.run_time_ns // 0)"' | sort
}
snapshot > "${TMPDIR:-/tmp}/bpf-cost.$$.before"
"$@"
snapshot > "${TMPDIR:-/tmp}/bpf-cost.$$.after"
join "${TMPDIR:-/tmp}/bpf-cost.$$.before" "${TMPDIR:-/tmp}/bpf-cost.$$.after" | awk -v n="$n" '
	{ runs = $6 - $3; ns = $7 - $4 }
	runs > 0 { printf "%-28s %10d runs (%5.2f per op) %8.1f ns/run %8.1f ns per op\n",
		$2, runs, runs / n, ns / runs, ns / n; total += ns }
	END { printf "%-28s %60.1f ns per op\n", "all programs", total / n }'
rm -f "${TMPDIR:-/tmp}/bpf-cost.$$.before" "${TMPDIR:-/tmp}/bpf-cost.$$.after"
