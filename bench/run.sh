#!/usr/bin/env bash
# accessmon benchmarks: what the monitor costs the workloads beside it.
#
# Every figure is measured against a baseline taken in the same run, the workload
# pinned to CPU 0 and the monitor to CPU 1, configurations interleaved, REPS
# repetitions (median, min and max). Writes a markdown table to stdout and to
# $BUILD/bench/results.md.
#
#   bench/run.sh            (root; `make bench` builds and runs it)
#   REPS=7 bench/run.sh
set -u
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
REPS=${REPS:-5}
GETPPID_N=${GETPPID_N:-2000000}
OPEN_N=${OPEN_N:-200000}
AM="$BUILD/accessmon"
LOOP="$BUILD/bench/loop"
OUT_DIR="$BUILD/bench"
WORK=$(mktemp -d /tmp/accessmon-bench.XXXXXX)
MONITOR_PID=""

cleanup() {
	[ -n "$MONITOR_PID" ] && kill -INT "$MONITOR_PID" 2>/dev/null && wait "$MONITOR_PID" 2>/dev/null
	rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

[ "$(id -u)" = 0 ] || { echo "bench: run as root (it loads BPF programs)" >&2; exit 1; }
[ "$(nproc)" -ge 2 ] || { echo "bench: needs two CPUs (workload and monitor apart)" >&2; exit 1; }
mkdir -p "$OUT_DIR"
echo "unwatched" > "$WORK/unwatched"
echo "secret" > "$WORK/watched"

start_monitor() {
	rm -f "$WORK/ready"
	taskset -c 1 "$AM" monitor --ready-file "$WORK/ready" --no-containerd \
		--watch "$WORK/watched" "$@" > /dev/null 2> "$WORK/monitor.err" &
	MONITOR_PID=$!
	for _ in $(seq 200); do
		[ -f "$WORK/ready" ] && return 0
		sleep 0.05
	done
	echo "bench: monitor did not start: $(cat "$WORK/monitor.err")" >&2
	exit 1
}

stop_monitor() {
	[ -n "$MONITOR_PID" ] || return 0
	kill -INT "$MONITOR_PID"
	wait "$MONITOR_PID"
	MONITOR_PID=""
}

declare -A samples
configs=(baseline tracepoint raw)
# BENCH_ONLY=memory runs only the memory section (what the DaemonSet's requests rest on).
[ "${BENCH_ONLY:-}" = memory ] && REPS=0
for rep in $(seq "$REPS"); do
	for config in "${configs[@]}"; do
		case "$config" in
		baseline) ;;
		tracepoint) start_monitor --open-hook tracepoint ;;
		raw) start_monitor --open-hook raw ;;
		esac
		samples[$config,getppid]+=" $(taskset -c 0 "$LOOP" getppid "$GETPPID_N")"
		samples[$config,open]+=" $(taskset -c 0 "$LOOP" open "$WORK/unwatched" "$OPEN_N")"
		stop_monitor
	done
	echo "bench: repetition $rep of $REPS done" >&2
done

# stats "v1 v2 ...": median min max (defined before the tables below use it)
stats() {
	tr ' ' '\n' <<< "$1" | grep . | sort -n | awk '{ v[NR] = $1 } END {
		m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
		printf "%.1f %.1f %.1f", m, v[1], v[NR] }'
}

[ "${BENCH_ONLY:-}" = memory ] || {
	echo "| configuration | getppid ns (median [min-max]) | added ns | openat+close ns (median [min-max]) | added ns | added % |"
	echo "|---|---|---|---|---|---|"
	read -r base_g _ _ <<< "$(stats "${samples[baseline,getppid]}")"
	read -r base_o _ _ <<< "$(stats "${samples[baseline,open]}")"
	for config in "${configs[@]}"; do
		read -r g gmin gmax <<< "$(stats "${samples[$config,getppid]}")"
		read -r o omin omax <<< "$(stats "${samples[$config,open]}")"
		awk -v c="$config" -v g="$g" -v gmin="$gmin" -v gmax="$gmax" -v bg="$base_g" \
			-v o="$o" -v omin="$omin" -v omax="$omax" -v bo="$base_o" 'BEGIN {
			printf "| %s | %.1f [%.1f-%.1f] | %+.1f | %.1f [%.1f-%.1f] | %+.1f | %+.1f%% |\n",
				c, g, gmin, gmax, g - bg, o, omin, omax, o - bo, (o - bo) * 100 / bo }'
	done
	echo
	echo "Machine: $(nproc) CPUs, $(uname -r), $REPS repetitions, workload on CPU 0, monitor on CPU 1."
	echo "Unwatched opens; the monitor watches one other file and the node's secret paths."
} | tee "$OUT_DIR/results.md"

# Memory: the monitor's resident set, and the BPF maps charged beside it, after a
# burst of reported events through a stdout sink (the DaemonSet's requests and
# limits rest on these).
memory_section() {
	local status rss hwm maps
	start_monitor --events
	taskset -c 0 "$LOOP" udp "${MEMORY_N:-200000}" > /dev/null
	sleep 2
	status=/proc/$MONITOR_PID/status
	rss=$(awk '/^VmRSS:/ { print $2 }' "$status")
	hwm=$(awk '/^VmHWM:/ { print $2 }' "$status")
	# Each map the monitor holds once: its fds' fdinfo name the map and its memlock.
	maps=$(for f in /proc/"$MONITOR_PID"/fdinfo/*; do
		awk '/^memlock:/ { m = $2 } /^map_id:/ { id = $2 } END { if (id != "") print id, m }' "$f"
	done 2>/dev/null | sort -u | awk '{ t += $2 } END { print t + 0 }')
	stop_monitor
	echo
	echo "| monitor memory after ${MEMORY_N:-200000} reported events | MiB |"
	echo "|---|---|"
	awk -v r="$rss" -v h="$hwm" -v m="$maps" 'BEGIN {
		printf "| resident now (VmRSS) | %.1f |\n| resident peak (VmHWM) | %.1f |\n", r / 1024, h / 1024
		printf "| BPF maps (bytes_memlock, ring buffer included) | %.1f |\n", m / 1048576 }'
}
memory_section | tee -a "$OUT_DIR/results.md"
[ "${BENCH_ONLY:-}" = memory ] && exit 0

# Replay: a trace of REPLAY_N events recorded live, then read back.
REPLAY_N=${REPLAY_N:-200000}
rm -f "$WORK/trace.am"
start_monitor --ringbuf-size 134217728 --record "$WORK/trace.am"
taskset -c 0 "$LOOP" udp "$REPLAY_N" > /dev/null
sleep 1
stop_monitor
records=$("$AM" trace info "$WORK/trace.am" | jq '[.records[]] | add')
millis() { # millis COMMAND...: wall time of one run in milliseconds
	local start end
	start=$(date +%s%N)
	"$@" > /dev/null 2>&1
	end=$(date +%s%N)
	echo "$(( (end - start) / 1000000 ))"
}
for rep in $(seq "$REPS"); do
	samples[info]+=" $(millis taskset -c 0 "$AM" trace info "$WORK/trace.am")"
	samples[replay]+=" $(millis taskset -c 0 "$AM" replay "$WORK/trace.am")"
	samples[events]+=" $(millis taskset -c 0 "$AM" replay --events "$WORK/trace.am")"
done
{
	echo
	echo "| replay of $records recorded records ($(stat -c %s "$WORK/trace.am") bytes) | ms (median [min-max]) | records/s | x decompression |"
	echo "|---|---|---|---|"
	read -r base _ _ <<< "$(stats "${samples[info]}")"
	for what in info replay events; do
		read -r t tmin tmax <<< "$(stats "${samples[$what]}")"
		case "$what" in
		info) label="decompress and walk (trace info)" ;;
		replay) label="replay, alerts only" ;;
		events) label="replay --events (every record as JSON)" ;;
		esac
		awk -v l="$label" -v t="$t" -v a="$tmin" -v b="$tmax" -v n="$records" -v base="$base" 'BEGIN {
			printf "| %s | %.0f [%.0f-%.0f] | %.0f | %.2f |\n", l, t, a, b, n * 1000 / t, t / base }'
	done
} | tee -a "$OUT_DIR/results.md"
