#!/usr/bin/env bash
# accessmon benchmarks: what the monitor costs the workloads beside it, how fast its
# collector is, how much memory it holds and where it starts to lose events.
#
# Every figure is measured against a baseline taken in the same run: the workload
# pinned to CPU 0, the monitor (or the floor, or bpftrace) to CPU 1, configurations
# interleaved within each repetition, REPS repetitions (median [min-max]). Beside the
# baseline, two references: the floor (bench/floor.bpf.c: empty programs on the same
# hooks, the least any program there costs) and the peer (bpftrace with an
# equivalent filter). Writes $BUILD/bench/results.md and results.png.
#
#   bench/run.sh                          (root; `make bench` builds and runs it)
#   REPS=7 bench/run.sh
#   BENCH_ONLY=overhead bench/run.sh      one section: overhead (1-3: getppid,
#                                         unwatched and watched opens), nodelike (3b: unwatched
#                                         opens beside watched directories), connect (4),
#                                         throughput (5), replay (6), memory (7), loss (8),
#                                         stream (9: established connections in a pod),
#                                         ia32 (10: what seeing 32-bit syscalls costs)
set -u
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
REPS=${REPS:-5}
GETPPID_N=${GETPPID_N:-2000000}
OPEN_N=${OPEN_N:-200000}
WATCHED_N=${WATCHED_N:-200000}
CONNECT_N=${CONNECT_N:-40000}
RR_N=${RR_N:-20000}
BULK_N=${BULK_N:-2000}
PODS_N=${PODS_N:-200}
MIX_ROUNDS=${MIX_ROUNDS:-100}
REPLAY_N=${REPLAY_N:-200000}
SLEEPERS_N=${SLEEPERS_N:-10000}
DNS_N=${DNS_N:-50000}
IA32_GETPPID_N=${IA32_GETPPID_N:-1000000}
IA32_OPEN_N=${IA32_OPEN_N:-100000}
MEMORY_N=${MEMORY_N:-200000}
LOSS_RATES=${LOSS_RATES:-25000 50000 100000 200000 400000}
LOSS_SECONDS=${LOSS_SECONDS:-3}
ONLY=${BENCH_ONLY:-}
AM="$BUILD/accessmon"
LOOP="$BUILD/bench/loop"
FLOOR="$BUILD/bench/floor"
OUT_DIR="$BUILD/bench"
RESULTS="$OUT_DIR/results.md"
RATIOS="$OUT_DIR/ratios.dat"
TARGETS="$OUT_DIR/targets.md"
CGROUP2=$(awk '$3 == "cgroup2" { print $2; exit }' /proc/mounts)
NETNS="ambench$$"
WORK=$(mktemp -d /dev/shm/accessmon-bench.XXXXXX)
# A free loopback port for the monitor's /metrics.
LISTEN_PORT=$((19000 + $$ % 1000))
while [ -n "$(ss -Hltn "sport = :$LISTEN_PORT" 2>/dev/null)" ]; do LISTEN_PORT=$((LISTEN_PORT + 1)); done
TICK_MS=$((1000 / $(getconf CLK_TCK)))
TOOL_PID=""
BACKGROUND_PIDS=()
CREATED_CGROUPS=()
NETNS_MADE=0
MOUNTS=()

cleanup() {
	local pid cg i
	[ -n "$TOOL_PID" ] && kill -INT "$TOOL_PID" 2>/dev/null && wait "$TOOL_PID" 2>/dev/null
	for pid in "${BACKGROUND_PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null; done
	for pid in "${BACKGROUND_PIDS[@]}"; do wait "$pid" 2>/dev/null; done
	for ((i = ${#CREATED_CGROUPS[@]} - 1; i >= 0; i--)); do
		cg=${CREATED_CGROUPS[$i]}
		[ -d "$cg" ] || continue
		[ -f "$cg/cgroup.procs" ] && xargs -r kill -KILL < "$cg/cgroup.procs" 2>/dev/null
		for _ in 1 2 3 4 5 6 7 8 9 10; do rmdir "$cg" 2>/dev/null && break; sleep 0.1; done
	done
	if [ "$NETNS_MADE" = 1 ]; then
		ip netns pids "$NETNS" 2>/dev/null | xargs -r kill -KILL 2>/dev/null
		ip netns del "$NETNS" 2>/dev/null
	fi
	for i in "${MOUNTS[@]}"; do umount "$i" 2>/dev/null; done
	[ -n "${BENCH_KEEP:-}" ] && cp -r "$WORK" "$BENCH_KEEP"
	rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

[ "$(id -u)" = 0 ] || { echo "bench: run as root (it loads BPF programs)" >&2; exit 1; }
[ "$(nproc)" -ge 2 ] || { echo "bench: needs two CPUs (workload and monitor apart)" >&2; exit 1; }
case "$ONLY" in
"" | overhead | nodelike | connect | throughput | replay | memory | loss | stream | ia32) ;;
*) echo "bench: BENCH_ONLY is one of overhead nodelike connect throughput replay memory loss stream ia32" >&2; exit 2 ;;
esac
want() { [ -z "$ONLY" ] || [ "$ONLY" = "$1" ]; }
# What `loop` runs for N: a tenth as warm-up, then 21 equal chunks.
loop_ops() { echo $(($1 / 10 + $1 / 21 * 21)); }
mkdir -p "$OUT_DIR"
echo "unwatched" > "$WORK/unwatched"
echo "secret" > "$WORK/watched"
: > "$RATIOS"
: > "$TARGETS"
# The peer for opens: bpftrace printing each openat of the watched file's path.
cat > "$WORK/open.bt" <<EOF
tracepoint:syscalls:sys_enter_openat /str(args->filename) == "$WORK/watched"/ { @watched[tid] = 1; }
tracepoint:syscalls:sys_exit_openat /@watched[tid]/ {
	printf("open pid=%d comm=%s fd=%d\n", pid, comm, args->ret);
	delete(@watched[tid]);
}
EOF
log() { echo "bench: $*" >&2; }

# --- the tools under test: monitor, floor, bpftrace (one at a time, on CPU 1) ---

wait_for_file() { # wait_for_file PATH SECONDS
	local i
	for ((i = 0; i < $2 * 20; i++)); do
		[ -s "$1" ] || [ -f "$1" ] && return 0
		sleep 0.05
	done
	return 1
}

# start_monitor OUTPUT ARGS...: the monitor, its records into OUTPUT; it watches
# MONITOR_WATCH's files besides the node's.
MONITOR_WATCH=(--watch "$WORK/watched")
start_monitor() {
	local out=$1
	shift
	rm -f "$WORK/ready"
	taskset -c 1 "$AM" monitor --ready-file "$WORK/ready" --no-containerd \
		"${MONITOR_WATCH[@]}" "$@" > "$out" 2> "$WORK/tool.err" &
	TOOL_PID=$!
	wait_for_file "$WORK/ready" 20 || { log "monitor did not start: $(cat "$WORK/tool.err")"; exit 1; }
	case " $* " in
	*" --listen "*)
		curl -s "http://127.0.0.1:$LISTEN_PORT/metrics" | grep -q '^accessmon_build_info' ||
			{ log "the monitor's /metrics on port $LISTEN_PORT does not answer: $(cat "$WORK/tool.err")"; exit 1; } ;;
	esac
}

# start_floor SET...: empty programs on the hooks of SET (tracepoint, raw, connect).
start_floor() {
	rm -f "$WORK/ready"
	taskset -c 1 "$FLOOR" --ready-file "$WORK/ready" "$@" > /dev/null 2> "$WORK/tool.err" &
	TOOL_PID=$!
	wait_for_file "$WORK/ready" 20 || { log "floor did not start: $(cat "$WORK/tool.err")"; exit 1; }
}

# start_bpftrace SCRIPT OUTPUT: bpftrace, ready once it says it attached.
start_bpftrace() {
	local i
	taskset -c 1 bpftrace "$1" > "$2" 2> "$WORK/tool.err" &
	TOOL_PID=$!
	for ((i = 0; i < 600; i++)); do
		grep -q '^Attaching' "$2" 2>/dev/null && return 0
		kill -0 "$TOOL_PID" 2>/dev/null || break
		sleep 0.05
	done
	log "bpftrace did not start: $(cat "$WORK/tool.err")"
	exit 1
}

stop_tool() {
	[ -n "$TOOL_PID" ] || return 0
	kill -INT "$TOOL_PID" 2>/dev/null
	wait "$TOOL_PID" 2>/dev/null
	TOOL_PID=""
}

# cpu_ticks PID: user + system clock ticks of every thread of PID.
cpu_ticks() {
	awk '{ sub(/^.*\) /, ""); print $12 + $13 }' "/proc/$1/stat"
}

# wait_idle PID: until PID has used no CPU for 0.3 s (it has drained its input).
wait_idle() {
	local prev cur i
	prev=$(cpu_ticks "$1")
	for ((i = 0; i < 200; i++)); do
		sleep 0.3
		cur=$(cpu_ticks "$1")
		[ "$cur" = "$prev" ] && return 0
		prev=$cur
	done
}

# bpf_ns PID: total run time (ns) the kernel's BPF statistics have counted for the
# programs PID holds (0 while statistics are off). The noise-free part of a cost.
bpf_ns() {
	local ids
	ids=$(grep -h '^prog_id:' /proc/"$1"/fdinfo/* 2>/dev/null | awk '{ print $2 }' | sort -u | paste -sd,)
	[ -n "$ids" ] || { echo 0; return; }
	bpftool prog show -j 2>/dev/null | jq --arg ids "$ids" \
		'($ids | split(",") | map(tonumber)) as $want | [.[] | select(.id as $id | $want | index($id)) | .run_time_ns // 0] | add // 0'
}

# bpf_cost VAR PID N COMMAND...: runs COMMAND (its output on stdout), and adds
# "BPF ns per operation" of PID's programs over N operations to samples[VAR].
bpf_cost() {
	local var=$1 pid=$2 n=$3 before after
	shift 3
	before=$(bpf_ns "$pid")
	"$@"
	after=$(bpf_ns "$pid")
	samples[$var]+=" $(calc "($after - $before) / $n")"
}

metric() { # metric NAME_WITH_LABELS: one value from the monitor's /metrics
	curl -s "http://127.0.0.1:$LISTEN_PORT/metrics" | awk -v m="$1" '$1 == m { print $2; exit }'
}

# --- statistics and tables ---

declare -A samples
# stats "v1 v2 ...": median min max
stats() {
	tr ' ' '\n' <<< "$1" | grep . | sort -g | awk '{ v[NR] = $1 } END {
		if (NR == 0) { print "nan nan nan"; exit }
		m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
		printf "%.1f %.1f %.1f", m, v[1], v[NR] }'
}
median() { stats "$1" | cut -d' ' -f1; }

# target NUMBER TEXT MET MEASURED: one line of the targets table.
target() {
	printf '| %s | %s | %s | %s |\n' "$1" "$2" "$([ "$3" = 1 ] && echo "**met**" || echo "**missed**")" \
		"$4" >> "$TARGETS"
}
calc() { awk "BEGIN { printf \"%.1f\", $1 }"; }
ratio() { awk "BEGIN { printf \"%.3f\", $1 }"; }
le() { awk "BEGIN { exit !(($1) <= ($2)) }" && echo 1 || echo 0; }

# --- test network namespace and fake pods ---

netns_up() {
	[ "$NETNS_MADE" = 1 ] && return 0
	ip netns add "$NETNS" || { log "cannot create network namespace $NETNS"; exit 1; }
	NETNS_MADE=1
	ip -n "$NETNS" link set lo up
	ip -n "$NETNS" addr add 169.254.169.254/32 dev lo
}

# PODS_N pods as the kubelet's systemd cgroup driver names them, and their PodList.
declare -a POD_CGROUPS=()
pods_up() {
	local i uid cid dir parent
	[ "${#POD_CGROUPS[@]}" -gt 0 ] && return 0
	{
		echo '{"apiVersion":"v1","kind":"PodList","items":['
		for ((i = 0; i < PODS_N; i++)); do
			uid=$(cat /proc/sys/kernel/random/uuid)
			cid=$(printf '%08x' "$i")$(head -c 28 /dev/urandom | od -An -tx1 | tr -d ' \n')
			dir="$CGROUP2/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod${uid//-/_}.slice"
			for parent in "$CGROUP2/kubepods.slice" "$CGROUP2/kubepods.slice/kubepods-besteffort.slice" \
				"$dir" "$dir/cri-containerd-$cid.scope"; do
				if [ ! -d "$parent" ]; then
					mkdir "$parent" || { log "cannot create cgroup $parent"; exit 1; }
					CREATED_CGROUPS+=("$parent")
				fi
			done
			POD_CGROUPS+=("$dir/cri-containerd-$cid.scope")
			[ "$i" -gt 0 ] && echo ","
			printf '{"metadata":{"name":"bench-%d","namespace":"ns-%d","uid":"%s","labels":{"app":"bench-%d"}},' \
				"$i" $((i % 20)) "$uid" "$i"
			printf '"spec":{"serviceAccountName":"default","containers":[{"name":"app"}]},'
			printf '"status":{"containerStatuses":[{"name":"app","containerID":"containerd://%s"}]}}\n' "$cid"
		done
		echo ']}'
	} > "$WORK/pods.json"
}

# in_pod I COMMAND...: COMMAND as a process of pod I (its cgroup, the bench netns).
in_pod() {
	local cg=${POD_CGROUPS[$1]}
	shift
	bash -c 'echo $$ > "$1/cgroup.procs" || exit 125; ns=$2; shift 2; exec ip netns exec "$ns" "$@"' \
		_ "$cg" "$NETNS" "$@"
}

# --- header ---
{
	echo "# accessmon benchmarks"
	echo
	echo "Machine: $(nproc) CPUs ($(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo)), kernel $(uname -r),"
	echo "$(date -u +%Y-%m-%dT%H:%M:%SZ), $("$AM" --version 2>/dev/null | head -n 1), $REPS repetitions"
	echo "(median [min-max]), configurations interleaved within each repetition; workload on CPU 0 (ns: its own CPU time, median of 21 chunks of each run),"
	echo "monitor / floor / bpftrace on CPU 1. Floor: bench/floor.bpf.c, empty programs on the same hooks."
	echo "Peer: bpftrace $(bpftrace --version 2>/dev/null | awk '{ print $2 }')."
	others=$(pgrep -c -f 'accessmon monitor' 2>/dev/null)
	[ "${others:-0}" -gt 0 ] && echo "Note: $others other accessmon monitor(s) were running when the run began (other tests): expect noise."
	echo "BPF programs already loaded when the run began (by others; they run in every configuration): $(bpftool prog show -j 2>/dev/null | jq '[.[] | select(.name != null)] | length')."
} > "$RESULTS"

# run_section FUNCTION: in this shell (what it creates is cleaned up by the trap),
# its tables appended to the results and shown.
run_section() {
	"$1" > "$WORK/section.md"
	tee -a "$RESULTS" < "$WORK/section.md"
}

# === 1-3: tax on getppid, unwatched opens, watched opens ===============================
overhead_section() {
	local rep config out before after delivered
	local configs=(baseline floor-tracepoint floor-raw floor-lookup floor-report monitor-tracepoint monitor-raw bpftrace)
	for rep in $(seq "$REPS"); do
		for config in "${configs[@]}"; do
			out="$WORK/out.$config"
			case "$config" in
			baseline) ;;
			floor-tracepoint) start_floor tracepoint ;;
			floor-raw) start_floor raw ;;
			floor-lookup) start_floor lookup ;;
			floor-report) start_floor --watch "$WORK/watched" report ;;
			# A ring buffer that holds every watched open: the figure is the cost of
			# reporting each, not of losing some (the loss section covers the default).
			monitor-tracepoint) start_monitor "$out" --events --ringbuf-size 268435456 --open-hook tracepoint ;;
			monitor-raw) start_monitor "$out" --events --ringbuf-size 268435456 --open-hook raw ;;
			bpftrace) start_bpftrace "$WORK/open.bt" "$out" ;;
			esac
			samples[$config,getppid]+=" $(taskset -c 0 "$LOOP" getppid "$GETPPID_N")"
			samples[$config,open]+=" $(taskset -c 0 "$LOOP" open "$WORK/unwatched" "$OPEN_N")"
			[ -n "$TOOL_PID" ] && before=$(cpu_ticks "$TOOL_PID")
			samples[$config,watched]+=" $(taskset -c 0 "$LOOP" open "$WORK/watched" "$WATCHED_N")"
			if [ -n "$TOOL_PID" ] && [ "${config%%-*}" != floor ]; then
				wait_idle "$TOOL_PID"
				after=$(cpu_ticks "$TOOL_PID")
				stop_tool
				if [ "$config" = bpftrace ]; then
					delivered=$(grep -c '^open ' "$out")
				else
					delivered=$(grep -c '"type":"open"' "$out")
					samples[$config,lost]+=" $(grep -c '"type":"events-lost"' "$out")"
				fi
				samples[$config,delivered]+=" $delivered"
				[ "$delivered" -gt 0 ] && samples[$config,cpu]+=" $(calc "($after - $before) * $TICK_MS * 100000 / $delivered")"
			fi
			stop_tool
			rm -f "$out"
		done
		log "overhead: repetition $rep of $REPS done"
	done
	# Each one's own BPF run time, once, with statistics on (not timed: they cost a little).
	for config in floor-tracepoint floor-raw floor-lookup floor-report monitor-tracepoint monitor-raw; do
		case "$config" in
		floor-*) start_floor --stats --watch "$WORK/watched" "${config#floor-}" ;;
		monitor-*) start_monitor /dev/null --bpf-stats --ringbuf-size 268435456 --open-hook "${config#monitor-}" ;;
		esac
		bpf_cost "$config,bpf_getppid" "$TOOL_PID" "$(loop_ops "$GETPPID_N")" \
			taskset -c 0 "$LOOP" getppid "$GETPPID_N" > /dev/null
		bpf_cost "$config,bpf_open" "$TOOL_PID" "$(loop_ops "$OPEN_N")" \
			taskset -c 0 "$LOOP" open "$WORK/unwatched" "$OPEN_N" > /dev/null
		bpf_cost "$config,bpf_watched" "$TOOL_PID" "$(loop_ops "$WATCHED_N")" \
			taskset -c 0 "$LOOP" open "$WORK/watched" "$WATCHED_N" > /dev/null
		stop_tool
	done

	local base_g base_o base_w fl g gmin gmax o omin omax w wmin wmax
	read -r base_g _ _ <<< "$(stats "${samples[baseline,getppid]}")"
	read -r base_o _ _ <<< "$(stats "${samples[baseline,open]}")"
	read -r base_w _ _ <<< "$(stats "${samples[baseline,watched]}")"
	floor_of() { # the floor a configuration is compared with: the same hooks
		case "$1" in
		baseline | floor-*) echo "" ;;
		*-raw) echo floor-raw ;;
		*) echo floor-tracepoint ;;
		esac
	}
	added() { calc "$(median "${samples[$1,$2]}") - $(median "${samples[baseline,$2]}")"; }
	minimum() { stats "$1" | cut -d' ' -f2; }
	# Interference only ever adds time, so the minima are a second, less noisy view.
	added_min() { calc "$(minimum "${samples[$1,$2]}") - $(minimum "${samples[baseline,$2]}")"; }
	echo
	echo "## 1. Tax on unrelated syscalls: getppid loop ($GETPPID_N calls)"
	echo
	echo "| configuration | ns per call | added ns | x baseline | added beyond its floor | added ns, on minima |"
	echo "|---|---|---|---|---|---|"
	for config in "${configs[@]}"; do
		read -r g gmin gmax <<< "$(stats "${samples[$config,getppid]}")"
		fl=$(floor_of "$config")
		printf '| %s | %s [%s-%s] | %+.1f | %.3f | %s | %+.1f |\n' "$config" "$g" "$gmin" "$gmax" \
			"$(added "$config" getppid)" "$(ratio "$g / $base_g")" \
			"$([ -n "$fl" ] && printf '%+.1f (vs %s)' "$(calc "$g - $(median "${samples[$fl,getppid]}")")" "$fl" || echo -)" \
			"$(added_min "$config" getppid)"
		echo "getppid:$config $(ratio "$g / $base_g")" >> "$RATIOS"
	done
	echo
	echo "## 2. Opens of unwatched files: openat+close loop ($OPEN_N pairs)"
	echo
	echo "| configuration | ns per pair | added ns | added % | added / its floor's added | added ns, on minima |"
	echo "|---|---|---|---|---|---|"
	for config in "${configs[@]}"; do
		read -r o omin omax <<< "$(stats "${samples[$config,open]}")"
		fl=$(floor_of "$config")
		printf '| %s | %s [%s-%s] | %+.1f | %+.1f%% | %s | %+.1f |\n' "$config" "$o" "$omin" "$omax" \
			"$(added "$config" open)" "$(calc "($o - $base_o) * 100 / $base_o")" \
			"$([ -n "$fl" ] && printf '%.2f (vs %s)' "$(ratio "$(added "$config" open) / $(added "$fl" open)")" "$fl" || echo -)" \
			"$(added_min "$config" open)"
		echo "unwatched-open:$config $(ratio "$o / $base_o")" >> "$RATIOS"
	done
	echo
	echo "## 3. Opens of watched files: openat+close loop ($WATCHED_N pairs, every open reported)"
	echo
	echo "Monitors run with \`--events\` (every open written as JSON to a file on tmpfs) and a 256 MiB"
	echo "ring buffer, so every open is reported end to end; bpftrace prints one line each."
	echo "Collector CPU: utime+stime of the monitor (or bpftrace) from before the loop until it has"
	echo "drained, per 100 000 delivered events."
	echo
	echo "| configuration | ns per pair | added ns | added beyond its floor | added ns, on minima | delivered / sent (per rep) | collector CPU ms per 100k events |"
	echo "|---|---|---|---|---|---|---|"
	for config in "${configs[@]}"; do
		read -r w wmin wmax <<< "$(stats "${samples[$config,watched]}")"
		fl=$(floor_of "$config")
		local deliv="-" cpu="-"
		if [ -n "${samples[$config,delivered]:-}" ]; then
			deliv="$(median "${samples[$config,delivered]}" | cut -d. -f1) / $(loop_ops "$WATCHED_N")"
			read -r c cmin cmax <<< "$(stats "${samples[$config,cpu]:-}")"
			cpu="$c [$cmin-$cmax]"
		fi
		printf '| %s | %s [%s-%s] | %+.1f | %s | %+.1f | %s | %s |\n' "$config" "$w" "$wmin" "$wmax" \
			"$(added "$config" watched)" \
			"$([ -n "$fl" ] && printf '%+.1f (vs %s)' "$(calc "$w - $(median "${samples[$fl,watched]}")")" "$fl" || echo -)" \
			"$(added_min "$config" watched)" "$deliv" "$cpu"
		echo "watched-open:$config $(ratio "$w / $base_w")" >> "$RATIOS"
	done
	echo
	echo "BPF run time per operation, from the kernel's own statistics (run_time_ns of every program"
	echo "the tool holds; immune to the machine's noise; the floor's measured once with statistics on;"
	echo "a ring buffer submit's wakeup of the collector is inside the program's time):"
	echo
	echo "| configuration | getppid ns | unwatched open ns | watched open ns |"
	echo "|---|---|---|---|"
	for config in floor-tracepoint floor-raw floor-lookup floor-report monitor-tracepoint monitor-raw; do
		printf '| %s | %s | %s | %s |\n' "$config" "$(median "${samples[$config,bpf_getppid]:-}")" \
			"$(median "${samples[$config,bpf_open]:-}")" "$(median "${samples[$config,bpf_watched]:-}")"
	done
	echo
	echo "Statistics are on only for these separate runs (\`--bpf-stats\`, \`floor --stats\`): they add two"
	echo "clock reads to every program run on the machine, so no timed configuration has them."
	echo
	echo "floor-lookup: the least a program can do to tell a watched file by identity on the"
	echo "cheapest hook: sys_exit_openat's fd to its struct file, the inode's number and device, and"
	echo "one lookup in an empty hash map (bench/floor.bpf.c). It reports nothing; what it adds over"
	echo "floor-tracepoint is the price of matching by identity at all. floor-report: the same match, and"
	echo "for the watched file a record of the monitor's open record's size reserved and submitted with"
	echo "the monitor's wakeup rule, holding nothing but its time, read and dropped by the floor: the"
	echo "price of reporting an open at all, before anything is read to put in the record."
	echo
	echo "bpftrace's script: \`$(head -n 1 "$WORK/open.bt" | sed 's/|/\\|/g')\` and a printf on the"
	echo "matching sys_exit_openat: it sees openat only (the monitor: open, openat, openat2, creat,"
	echo "open_by_handle_at, io_uring) and matches the path string, not the file."

	# Targets 1-3: the monitor as it ships (tracepoint: what --open-hook auto picks when
	# tracefs can be had) against the floor of whichever hook set costs least there.
	local m_g f_g m_o f_o m_w f_w b_g b_o b_w
	cheapest() { # cheapest FIGURE: the floor set with the least median
		if awk "BEGIN { exit !($(median "${samples[floor-tracepoint,$1]}") <= $(median "${samples[floor-raw,$1]}")) }"; then
			echo floor-tracepoint
		else
			echo floor-raw
		fi
	}
	m_g=$(added monitor-tracepoint getppid); f_g=$(added "$(cheapest getppid)" getppid)
	target 1 "getppid: within 10 ns of the floor of the cheapest hook set" \
		"$(le "$m_g - $f_g" 10)" "monitor-tracepoint $(printf '%+.1f' "$m_g") ns, $(cheapest getppid) $(printf '%+.1f' "$f_g") ns: $(printf '%+.1f' "$(calc "$m_g - $f_g")") ns beyond (on minima: $(printf '%+.1f' "$(calc "$(added_min monitor-tracepoint getppid) - $(added_min "$(cheapest getppid)" getppid)")") ns)"
	m_o=$(added monitor-tracepoint open); f_o=$(added "$(cheapest open)" open)
	target 2 "unwatched open+close: within 20% of the cheapest floor's added cost" \
		"$(le "$m_o" "$f_o * 1.2")" "monitor-tracepoint $(printf '%+.1f' "$m_o") ns ($(calc "($m_o) * 100 / $base_o")% added to open+close), $(cheapest open) $(printf '%+.1f' "$f_o") ns: $(ratio "$m_o / $f_o")x (on minima: $(ratio "$(added_min monitor-tracepoint open) / $(added_min "$(cheapest open)" open)")x); floor-lookup, identity matching and nothing else, $(printf '%+.1f' "$(added floor-lookup open)") ns: $(ratio "$(added floor-lookup open) / $f_o")x"
	m_w=$(added monitor-tracepoint watched); f_w=$(added "$(cheapest watched)" watched)
	target 3 "watched open: <= 300 ns added beyond the cheapest floor" \
		"$(le "$m_w - $f_w" 300)" "monitor-tracepoint $(printf '%+.1f' "$m_w") ns, $(cheapest watched) $(printf '%+.1f' "$f_w") ns: $(printf '%+.1f' "$(calc "$m_w - $f_w")") ns beyond (on minima: $(printf '%+.1f' "$(calc "$(added_min monitor-tracepoint watched) - $(added_min "$(cheapest watched)" watched)")") ns); floor-report, a bare record for each, $(printf '%+.1f' "$(added floor-report watched)") ns: $(printf '%+.1f' "$(calc "$(added floor-report watched) - $f_w")") ns beyond; collector $(median "${samples[monitor-tracepoint,cpu]}") ms CPU per 100k events"
	b_g=$(added bpftrace getppid); b_o=$(added bpftrace open); b_w=$(added bpftrace watched)
	target "1-3" "better than bpftrace (getppid, unwatched, watched open)" \
		"$(awk "BEGIN { print ($m_g <= $b_g && $m_o <= $b_o && $m_w <= $b_w) ? 1 : 0 }")" \
		"monitor-tracepoint $(printf '%+.1f / %+.1f / %+.1f' "$m_g" "$m_o" "$m_w") ns, bpftrace $(printf '%+.1f / %+.1f / %+.1f' "$b_g" "$b_o" "$b_w") ns (bpftrace delivered $(median "${samples[bpftrace,delivered]}" | cut -d. -f1) of $(loop_ops "$WATCHED_N") watched opens)"
}
want overhead && run_section overhead_section

# === 3b: unwatched opens on a node-like tree ===========================================
# On an AKS node the watched directories (/etc/kubernetes/certs, /var/lib/kubelet/pki)
# sit on the root filesystem beside most files opened, and pod volumes are tmpfs
# mounts of their own. The file opened here is on the same device as those
# directories, four levels down, as a shared library is.
nodelike_tree() {
	local node=$WORK/node pod=$WORK/node/var/lib/kubelet/pods/0c7d2f4a-1b3e-4c5d-9e8f-a1b2c3d4e5f6
	mkdir -p "$node/etc/kubernetes/certs" "$node/var/lib/kubelet/pki" "$node/usr/lib/x86_64-linux-gnu" \
		"$pod/volumes/kubernetes.io~projected/kube-api-access-bench"
	echo '{}' > "$node/etc/kubernetes/azure.json"
	for f in ca.crt client.crt client.key kubeletserver.crt kubeletserver.key; do echo x > "$node/etc/kubernetes/certs/$f"; done
	for f in kubelet-client-current.pem kubelet.crt kubelet.key; do echo x > "$node/var/lib/kubelet/pki/$f"; done
	echo x > "$node/var/lib/kubelet/bootstrap-kubeconfig"
	echo x > "$node/usr/lib/x86_64-linux-gnu/libfake.so.6"
	mount -t tmpfs -o size=1m tmpfs "$pod/volumes/kubernetes.io~projected/kube-api-access-bench" &&
		MOUNTS+=("$pod/volumes/kubernetes.io~projected/kube-api-access-bench")
	echo token > "$pod/volumes/kubernetes.io~projected/kube-api-access-bench/token"
}

nodelike_section() {
	local rep config out file=$WORK/node/usr/lib/x86_64-linux-gnu/libfake.so.6
	local configs=(baseline floor-lookup monitor-tracepoint bpftrace)
	local -a MONITOR_WATCH=() # the node's own credentials only
	nodelike_tree
	for rep in $(seq "$REPS"); do
		for config in "${configs[@]}"; do
			out="$WORK/out.$config"
			case "$config" in
			baseline) ;;
			floor-lookup) start_floor lookup ;;
			monitor-tracepoint) start_monitor "$out" --events --host-root "$WORK/node" --open-hook tracepoint ;;
			bpftrace) start_bpftrace "$WORK/open.bt" "$out" ;;
			esac
			samples[nodelike,$config]+=" $(taskset -c 0 "$LOOP" open "$file" "$OPEN_N")"
			stop_tool
			rm -f "$out"
		done
		log "nodelike: repetition $rep of $REPS done"
	done
	local base o omin omax m f b
	base=$(median "${samples[nodelike,baseline]}")
	echo
	echo "## 3b. Unwatched opens on a node-like tree: openat+close loop ($OPEN_N pairs)"
	echo
	echo "The monitor runs with \`--host-root\` on a tree laid out as an AKS node's: azure.json, the"
	echo "kubelet's kubeconfigs, /etc/kubernetes/certs and /var/lib/kubelet/pki with their files, and"
	echo "a pod's token volume on a tmpfs of its own. The file opened, usr/lib/x86_64-linux-gnu/"
	echo "libfake.so.6, is on the same device as the watched directories."
	echo
	echo "| configuration | ns per pair | added ns | added % | added / floor-lookup's added |"
	echo "|---|---|---|---|---|"
	for config in "${configs[@]}"; do
		read -r o omin omax <<< "$(stats "${samples[nodelike,$config]}")"
		printf '| %s | %s [%s-%s] | %+.1f | %+.1f%% | %s |\n' "$config" "$o" "$omin" "$omax" \
			"$(calc "$o - $base")" "$(calc "($o - $base) * 100 / $base")" \
			"$([ "$config" = baseline ] && echo - || ratio "($o - $base) / ($(median "${samples[nodelike,floor-lookup]}") - $base)")"
		echo "nodelike-open:$config $(ratio "$o / $base")" >> "$RATIOS"
	done
	m=$(calc "$(median "${samples[nodelike,monitor-tracepoint]}") - $base")
	f=$(calc "$(median "${samples[nodelike,floor-lookup]}") - $base")
	b=$(calc "$(median "${samples[nodelike,bpftrace]}") - $base")
	target 3b "unwatched open on a node-like tree: within 20% of floor-lookup, and below bpftrace" \
		"$(awk "BEGIN { print ($m <= $f * 1.2 && $m < $b) ? 1 : 0 }")" \
		"monitor-tracepoint $(printf '%+.1f' "$m") ns, floor-lookup $(printf '%+.1f' "$f") ns ($(ratio "$m / $f")x), bpftrace $(printf '%+.1f' "$b") ns"
}
want nodelike && run_section nodelike_section

# === 4: outbound connections, inside the test network namespace =========================
connect_section() {
	local rep config out
	local configs=(baseline floor-connect floor-connect+skb monitor bpftrace)
	local port=18080
	netns_up
	cat > "$WORK/connect.bt" <<-'EOF'
	tracepoint:syscalls:sys_enter_connect {
		$sa = (struct sockaddr_in *)args->uservaddr;
		if ($sa->sin_family == 2 && $sa->sin_addr.s_addr == 0xfea9fea9 && $sa->sin_port == 0x5000) {
			printf("connect pid=%d comm=%s imds\n", pid, comm);
		}
	}
	EOF
	for rep in $(seq "$REPS"); do
		for config in "${configs[@]}"; do
			out="$WORK/out.$config"
			case "$config" in
			baseline) ;;
			floor-connect) start_floor connect ;;
			floor-connect+skb) start_floor connect skb ;;
			monitor) start_monitor "$out" --events --ringbuf-size 268435456 ;;
			bpftrace) start_bpftrace "$WORK/connect.bt" "$out" ;;
			esac
			samples[$config,other]+=" $(ip netns exec "$NETNS" taskset -c 0 "$LOOP" connect 127.0.0.1 "$port" "$CONNECT_N")"
			samples[$config,imds]+=" $(ip netns exec "$NETNS" taskset -c 0 "$LOOP" connect 169.254.169.254 80 "$CONNECT_N")"
			if [ "$config" = monitor ]; then
				wait_idle "$TOOL_PID"
				stop_tool
				samples[$config,delivered]+=" $(grep -c '"type":"connect"' "$out")"
			fi
			stop_tool
			rm -f "$out"
		done
		log "connect: repetition $rep of $REPS done"
	done
	# Each one's BPF run time, once, with statistics on (as in sections 1-3).
	for config in floor-connect floor-connect+skb monitor; do
		case "$config" in
		floor-connect) start_floor --stats connect ;;
		floor-connect+skb) start_floor --stats connect skb ;;
		monitor) start_monitor /dev/null --bpf-stats --ringbuf-size 268435456 ;;
		esac
		bpf_cost "$config,bpf_other" "$TOOL_PID" "$(loop_ops "$CONNECT_N")" \
			ip netns exec "$NETNS" taskset -c 0 "$LOOP" connect 127.0.0.1 "$port" "$CONNECT_N" > /dev/null
		bpf_cost "$config,bpf_imds" "$TOOL_PID" "$(loop_ops "$CONNECT_N")" \
			ip netns exec "$NETNS" taskset -c 0 "$LOOP" connect 169.254.169.254 80 "$CONNECT_N" > /dev/null
		stop_tool
	done
	local base dest d dmin dmax
	echo
	echo "## 4. Outbound connections: TCP connect loop in a test network namespace ($CONNECT_N connects)"
	echo
	echo "Each iteration: socket, connect to a listener the loop holds on the destination, accept,"
	echo "close both with RST (no TIME_WAIT). Everything inside namespace $NETNS (lo up,"
	echo "169.254.169.254/32 on lo). The monitor (\`--events\`, default volume control) reports every IMDS"
	echo "connect and counts the repeats of the other destination in the kernel:"
	echo "$(median "${samples[monitor,delivered]:-0}" | cut -d. -f1) connect records a repetition for $((2 * $(loop_ops "$CONNECT_N"))) connects, half of them to IMDS."
	echo
	echo "| configuration | 127.0.0.1:$port ns | added ns | added / floor-connect+skb's | 169.254.169.254:80 (IMDS) ns | added ns | added / floor-connect+skb's |"
	echo "|---|---|---|---|---|---|---|"
	for config in "${configs[@]}"; do
		printf '| %s ' "$config"
		for dest in other imds; do
			read -r d dmin dmax <<< "$(stats "${samples[$config,$dest]}")"
			base=$(median "${samples[baseline,$dest]}")
			printf '| %s [%s-%s] | %+.1f | %s ' "$d" "$dmin" "$dmax" "$(calc "$d - $base")" \
				"$(case "$config" in baseline | floor-*) echo - ;; *) ratio "($d - $base) / ($(median "${samples[floor-connect+skb,$dest]}") - $base)" ;; esac)"
			echo "connect-$dest:$config $(ratio "$d / $base")" >> "$RATIOS"
		done
		echo "|"
	done
	echo
	echo "BPF run time per connect, from the kernel's statistics (as in sections 2-3):"
	echo
	echo "| configuration | 127.0.0.1:$port ns | IMDS ns |"
	echo "|---|---|---|"
	for config in floor-connect floor-connect+skb monitor; do
		printf '| %s | %s | %s |\n' "$config" "$(median "${samples[$config,bpf_other]:-}")" "$(median "${samples[$config,bpf_imds]:-}")"
	done
	echo
	echo "floor-connect+skb: empty programs on every hook the monitor's connection tracking uses (the"
	echo "sock_addr hooks, cgroup_skb ingress and egress, inet_sock_set_state): its lower bound."
	echo "bpftrace's script: sys_enter_connect, the sockaddr read and compared with 169.254.169.254:80,"
	echo "a printf on a match (it sees connect(2) only; the monitor also sees sendto/sendmsg)."
	local m f fs b all=1 text=""
	for dest in other imds; do
		base=$(median "${samples[baseline,$dest]}")
		m=$(calc "$(median "${samples[monitor,$dest]}") - $base")
		f=$(calc "$(median "${samples[floor-connect,$dest]}") - $base")
		fs=$(calc "$(median "${samples[floor-connect+skb,$dest]}") - $base")
		b=$(calc "$(median "${samples[bpftrace,$dest]}") - $base")
		target 4 "connect to $([ $dest = imds ] && echo "IMDS" || echo "127.0.0.1:$port"): within 20% of the connect hooks' floor" \
			"$(le "$m" "$f * 1.2")" "monitor $(printf '%+.1f' "$m") ns, floor $(printf '%+.1f' "$f") ns$(awk "BEGIN { exit !($f > 0) }" && printf ': %sx' "$(ratio "$m / $f")" || echo " (below the noise)"); with the packet hooks the monitor also needs, floor $(printf '%+.1f' "$fs") ns: $(ratio "$m / $fs")x"
		[ "$(le "$m" "$b")" = 1 ] || all=0
		text+="$dest: monitor $(printf '%+.1f' "$m") ns, bpftrace $(printf '%+.1f' "$b") ns; "
	done
	target 4 "better than bpftrace (connects)" "$all" "$text"
}
want connect && run_section connect_section

# replay_samples NAME TRACE: REPS timings (ms, one core) of TRACE read three ways into
# samples[NAME,info|alerts|events]: decompressed and walked, replayed for alerts,
# replayed with every event written.
replay_samples() {
	local rep
	for rep in $(seq "$REPS"); do
		samples[$1,info]+=" $(millis taskset -c 0 "$AM" trace info "$2")"
		samples[$1,alerts]+=" $(millis taskset -c 0 "$AM" replay "$2")"
		samples[$1,events]+=" $(millis taskset -c 0 "$AM" replay --events "$2")"
	done
}

# replay_rows NAME RECORDS LABEL_INFO LABEL_ALERTS LABEL_EVENTS: the table rows of
# replay_samples NAME, each as records/s and as a multiple of decompression.
replay_rows() {
	local name=$1 records=$2 what t tmin tmax base
	shift 2
	read -r base _ _ <<< "$(stats "${samples[$name,info]}")"
	for what in info alerts events; do
		read -r t tmin tmax <<< "$(stats "${samples[$name,$what]}")"
		printf '| %s | %.0f [%.0f-%.0f] | %.0f [%.0f-%.0f] | %.2f |\n' "$1" "$t" "$tmin" "$tmax" \
			"$(calc "$records * 1000 / $t")" "$(calc "$records * 1000 / $tmax")" "$(calc "$records * 1000 / $tmin")" \
			"$(ratio "$t / $base")"
		echo "$name-replay:$what $(ratio "$t / $base")" >> "$RATIOS"
		shift
	done
}

# === 5: collector throughput: a realistic mix from 200 pods, replayed on one core ========
throughput_section() {
	local i records
	netns_up
	pods_up
	log "throughput: recording $PODS_N pods x $MIX_ROUNDS rounds of the mix"
	start_monitor /dev/null --pods "$WORK/pods.json" --ringbuf-size 268435456 --record "$WORK/mix.am"
	for ((i = 0; i < PODS_N; i++)); do
		in_pod "$i" taskset -c 0 "$LOOP" mix "$WORK/watched" "$MIX_ROUNDS" || { log "mix in pod $i failed"; exit 1; }
	done
	wait_idle "$TOOL_PID"
	stop_tool
	"$AM" trace info "$WORK/mix.am" > "$WORK/mix.info"
	records=$(jq '[.records[]] | add' "$WORK/mix.info")
	replay_samples mix "$WORK/mix.am"
	"$AM" replay "$WORK/mix.am" 2>/dev/null | jq -r '.rule // .type' | sort | uniq -c | sort -rn |
		awk '{ printf "%s%s %s", (NR > 1 ? ", " : ""), $2, $1 }' > "$WORK/mix.alerts"
	local rate
	echo
	echo "## 5. Collector throughput: a realistic mix from $PODS_N pods, replayed on one core"
	echo
	echo "Method: the live monitor (\`--pods\` with a PodList of $PODS_N pods whose cgroups exist,"
	echo "named as the kubelet's systemd driver names them) recorded (\`--record\`) one process in"
	echo "each pod running $MIX_ROUNDS rounds of: a DNS answer for one of four vault names then a TLS"
	echo "connect to it, an IMDS instance metadata request over HTTP (answered), three connects to an"
	echo "in-pod service, two UDP sends, two opens of a watched file: a working node, no attack."
	echo "\`accessmon replay\` then feeds the recorded kernel"
	echo "records through the same pipeline stages as the live monitor (decode, attribute: cgroup,"
	echo "process, pod; DNS naming, HTTP reassembly, rules; JSON), pinned to CPU 0: one core."
	echo
	echo "Trace: $records records ($(stat -c %s "$WORK/mix.am") bytes): $(jq -r '.records | to_entries | map("\(.key) \(.value)") | join(", ")' "$WORK/mix.info")."
	echo "Alerts raised: $(cat "$WORK/mix.alerts")."
	echo
	echo "| one core, $records records | ms | records/s | x decompression |"
	echo "|---|---|---|---|"
	replay_rows mix "$records" "decompress and walk (trace info)" \
		"decode, attribute, evaluate (replay, alerts only)" \
		"decode, attribute, evaluate, serialise (replay --events)"
	rate=$(calc "$records * 1000 / $(median "${samples[mix,events]}")")
	target 5 ">= 1,000,000 events/s per core (decoded, attributed, evaluated, serialised)" \
		"$(le 1000000 "$rate")" "$(printf '%.0f' "$rate") events/s (replay --events); alerts only $(printf '%.0f' "$(calc "$records * 1000 / $(median "${samples[mix,alerts]}")")")/s"
}

millis() { # millis COMMAND...: wall time of one run in milliseconds
	local start end
	start=$(date +%s%N)
	"$@" > /dev/null 2>&1
	end=$(date +%s%N)
	echo "$(((end - start) / 1000000))"
}
want throughput && run_section throughput_section

# === 6: replay throughput against plain decompression ===================================
replay_section() {
	local records base rate
	rm -f "$WORK/trace.am"
	# Every send a record of its own (no volume control): the figure is per record.
	start_monitor /dev/null --ringbuf-size 134217728 --repeat-window 0 --record "$WORK/trace.am"
	taskset -c 0 "$LOOP" udp "$REPLAY_N" > /dev/null
	wait_idle "$TOOL_PID"
	stop_tool
	records=$("$AM" trace info "$WORK/trace.am" | jq '[.records[]] | add')
	replay_samples udp "$WORK/trace.am"
	echo
	echo "## 6. Replay throughput: a trace of $REPLAY_N UDP sends"
	echo
	echo "| replay of $records recorded records ($(stat -c %s "$WORK/trace.am") bytes) | ms | records/s | x decompression |"
	echo "|---|---|---|---|"
	replay_rows udp "$records" "decompress and walk (trace info)" "replay, alerts only" \
		"replay --events (every record as JSON)"
	base=$(median "${samples[udp,info]}")
	rate=$(calc "$records * 1000 / $(median "${samples[udp,alerts]}")")
	target 6 "replay >= 3,000,000 events/s and within 2x of plain decompression" \
		"$(awk "BEGIN { print ($rate >= 3000000 && $(median "${samples[udp,alerts]}") <= 2 * $base) ? 1 : 0 }")" \
		"$(printf '%.0f' "$rate") events/s, $(calc "$(median "${samples[udp,alerts]}") / $base")x decompression ($(printf '%.0f' "$(calc "$records * 1000 / $base")")/s)"
}
want replay && run_section replay_section

# === 7: memory with 200 pods, 10k processes, 50k DNS answers ============================
memory_section() {
	local i per rss hwm maps pid started dns_before dns_after
	netns_up
	pods_up
	start_monitor /dev/null --pods "$WORK/pods.json" --listen "$LISTEN_PORT"
	memory_now() { # memory_now LABEL: one table row
		local status=/proc/$TOOL_PID/status
		rss=$(awk '/^VmRSS:/ { print $2 }' "$status")
		hwm=$(awk '/^VmHWM:/ { print $2 }' "$status")
		# Each map once: its fds' fdinfo name the map and its memlock.
		maps=$(for f in /proc/"$TOOL_PID"/fdinfo/*; do
			awk '/^memlock:/ { m = $2 } /^map_id:/ { id = $2 } END { if (id != "") print id, m }' "$f"
		done 2>/dev/null | sort -u | awk '{ t += $2 } END { print t + 0 }')
		printf '| %s | %.1f | %.1f | %s | %s | %.1f | %s | %s | %s |\n' "$1" "$(calc "$rss / 1024")" "$(calc "$hwm / 1024")" \
			"$(awk '/^Rss(Anon|File):/ { printf "%s%.1f", (n++ ? " / " : ""), $2 / 1024 }' "$status")" \
			"$(awk '/^[0-9a-f]+-[0-9a-f]+ / { m = ($6 == "anon_inode:bpf-map") } m && /^Rss:/ { t += $2 }
				END { printf "%.1f", t / 1024 }' "/proc/$TOOL_PID/smaps")" \
			"$(calc "$maps / 1048576")" "$(metric accessmon_pods)" "$(metric accessmon_processes)" \
			"$(metric accessmon_cgroups)"
	}
	sleep 1.5
	{
		echo
		echo "## 7. Memory: $PODS_N pods, $SLEEPERS_N processes, $DNS_N DNS answers"
		echo
		echo "The monitor as the DaemonSet runs it (alerts only, stdout), \`--pods\` with $PODS_N pods."
		echo "Processes: $SLEEPERS_N sleeping children spread over the pods' cgroups. DNS: $DNS_N distinct"
		echo "names answered (A records) by a server inside the test namespace, asked from the pods."
		echo "BPF maps: bytes_memlock of every map the monitor holds (the 4 MiB ring buffer included)."
		echo
		echo "VmRSS splits into RssAnon (heap, stacks) and RssFile (the binary, its libraries, and the"
		echo "BPF maps mapped into the monitor: the ring buffer, whose data pages libbpf maps twice so"
		echo "records can wrap around, counts twice its size there although it is kernel memory, the"
		echo "same pages as in the BPF maps column)."
		echo
		echo "| after | VmRSS MiB | VmHWM MiB | anon / file MiB | of which BPF map mappings MiB | BPF maps MiB | pods | processes | cgroups |"
		echo "|---|---|---|---|---|---|---|---|---|"
		memory_now "start"
	} > "$WORK/memory.md"
	per=$((SLEEPERS_N / PODS_N))
	for ((i = 0; i < PODS_N; i++)); do
		bash -c 'echo $$ > "$1/cgroup.procs" && exec "$2" sleepers "$3"' _ "${POD_CGROUPS[$i]}" "$LOOP" "$per" \
			> "$WORK/sleepers.$i" 2>&1 &
		BACKGROUND_PIDS+=("$!")
	done
	started=0
	for ((i = 0; i < PODS_N; i++)); do
		wait_for_file "$WORK/sleepers.$i" 30
		for _ in $(seq 100); do grep -q sleepers "$WORK/sleepers.$i" && break; sleep 0.1; done
		started=$((started + $(awk '{ print $2 }' "$WORK/sleepers.$i")))
	done
	wait_idle "$TOOL_PID"
	sleep 1.5
	memory_now "+ $started sleeping processes" >> "$WORK/memory.md"
	dns_before=$(metric 'accessmon_records_total{type="payload"}')
	per=$((DNS_N / PODS_N))
	for ((i = 0; i < PODS_N; i++)); do
		in_pod "$i" "$LOOP" dns $((i * per + 1)) "$per" > /dev/null || log "dns in pod $i failed"
	done
	wait_idle "$TOOL_PID"
	sleep 1.5
	dns_after=$(metric 'accessmon_records_total{type="payload"}')
	memory_now "+ $((dns_after - dns_before)) DNS answers read" >> "$WORK/memory.md"
	# Opens of the watched file: each one reported (UDP sends to one place would be counted).
	taskset -c 0 "$LOOP" open "$WORK/watched" "$MEMORY_N" > /dev/null
	wait_idle "$TOOL_PID"
	sleep 1.5
	memory_now "+ $(loop_ops "$MEMORY_N") reported opens" >> "$WORK/memory.md"
	cp "/proc/$TOOL_PID/smaps" "$WORK/smaps.last"
	for pid in "${BACKGROUND_PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null; done
	for pid in "${BACKGROUND_PIDS[@]}"; do wait "$pid" 2>/dev/null; done
	BACKGROUND_PIDS=()
	stop_tool
	cat "$WORK/memory.md"
	target 7 "RSS <= 32 MiB (200 pods, 10k processes, 50k DNS entries)" "$(le "$hwm" 32768)" \
		"VmHWM $(calc "$hwm / 1024") MiB, VmRSS $(calc "$rss / 1024") MiB, of which $(awk '/^[0-9a-f]+-[0-9a-f]+ / { m = ($6 == "anon_inode:bpf-map") } m && /^Rss:/ { t += $2 } END { printf "%.1f", t / 1024 }' "$WORK/smaps.last") MiB the BPF map mappings (ring buffer twice); BPF maps $(calc "$maps / 1048576") MiB beside it"
}
want memory && run_section memory_section

# === 8: loss: the highest rate with zero loss, and exact accounting above it ============
bt_lost() { # events bpftrace said it lost ("Lost N events")
	grep -ho 'Lost [0-9]* events' "$WORK/loss.bt.out" "$WORK/tool.err" 2>/dev/null | awk '{ t += $2 } END { print t + 0 }'
}

loss_section() {
	local mode rate sent secs rec0 lost0 rec1 lost1 delivered lost best exact
	echo
	echo "## 8. Loss: watched opens at fixed rates, $LOSS_SECONDS s each (default 4 MiB ring buffer)"
	echo
	echo "The sender opens the watched file at a fixed rate on CPU 0 (paced against the clock);"
	echo "every open is one reported event. Delivered and lost: \`accessmon_records_total{type=\"open\"}\`"
	echo "and \`accessmon_events_lost_total\` from \`--listen\`'s /metrics, before and after each step"
	echo "(after the collector has drained). Lost counts records of every type the ring buffer could not"
	echo "take; nothing else on the machine opens the watched file. bpftrace: its printed lines, and the"
	echo "\"Lost N events\" it reports. A rate counts as zero-loss when all was delivered and the sender"
	echo "reached 95% of it."
	echo
	echo "| collector | rate asked /s | sent | achieved /s | delivered | lost | sent = delivered + lost |"
	echo "|---|---|---|---|---|---|---|"
	for mode in alerts events bpftrace; do
		case "$mode" in
		alerts) start_monitor /dev/null --listen "$LISTEN_PORT" ;;
		events) start_monitor /dev/null --listen "$LISTEN_PORT" --events ;;
		bpftrace) start_bpftrace "$WORK/open.bt" "$WORK/loss.bt.out" ;;
		esac
		sleep 1.2
		best=0
		for rate in $LOSS_RATES; do
			if [ "$mode" = bpftrace ]; then
				rec0=$(grep -c '^open ' "$WORK/loss.bt.out")
				lost0=$(bt_lost)
			else
				rec0=$(metric 'accessmon_records_total{type="open"}')
				lost0=$(metric accessmon_events_lost_total)
			fi
			read -r _ sent _ secs <<< "$(taskset -c 0 "$LOOP" open-rate "$WORK/watched" "$rate" "$LOSS_SECONDS")"
			wait_idle "$TOOL_PID"
			sleep 1.2
			if [ "$mode" = bpftrace ]; then
				rec1=$(grep -c '^open ' "$WORK/loss.bt.out")
				lost1=$(bt_lost)
			else
				rec1=$(metric 'accessmon_records_total{type="open"}')
				lost1=$(metric accessmon_events_lost_total)
			fi
			delivered=$((rec1 - rec0))
			lost=$((lost1 - lost0))
			exact=$([ $((delivered + lost)) = "$sent" ] && echo yes || echo "no (off by $((sent - delivered - lost)))")
			case "$mode" in
			alerts) label="monitor, alerts only (as the DaemonSet)" ;;
			events) label="monitor --events (JSON to /dev/null)" ;;
			bpftrace) label="bpftrace (printf, perf buffer)" ;;
			esac
			printf '| %s | %s | %s | %.0f | %s | %s | %s |\n' "$label" \
				"$rate" "$sent" "$(calc "$sent / $secs")" "$delivered" "$lost" "$exact"
			[ "$delivered" = "$sent" ] && awk "BEGIN { exit !($sent / $secs >= 0.95 * $rate) }" && best=$rate
			samples[loss,$mode,$rate]="$((sent - delivered)) $sent"
		done
		stop_tool
		samples[loss,$mode,best]=$best
	done
	read -r lost sent <<< "${samples[loss,alerts,100000]:-x x}"
	target 8 "zero loss at 100,000 reported events/s" "$([ "$lost" = 0 ] && echo 1 || echo 0)" \
		"alerts only: highest zero-loss step ${samples[loss,alerts,best]}/s (at 100k/s: $lost lost of $sent); --events: ${samples[loss,events,best]}/s; bpftrace: ${samples[loss,bpftrace,best]}/s"
	target 8 "better than bpftrace (highest zero-loss rate)" \
		"$([ "${samples[loss,alerts,best]}" -ge "${samples[loss,bpftrace,best]}" ] && echo 1 || echo 0)" \
		"monitor ${samples[loss,alerts,best]}/s (alerts only), ${samples[loss,events,best]}/s (--events); bpftrace ${samples[loss,bpftrace,best]}/s"
}
want loss && run_section loss_section

# === 9: established connections in a pod: request/response and bulk ===================
# What reading every byte sent to IMDS costs, and that other connections do not pay it.
stream_section() {
	local rep config out dest kind ip port
	local configs=(baseline floor-connect+skb monitor)
	netns_up
	pods_up
	for rep in $(seq "$REPS"); do
		for config in "${configs[@]}"; do
			out="$WORK/out.$config"
			case "$config" in
			baseline) ;;
			floor-connect+skb) start_floor connect skb ;;
			monitor) start_monitor "$out" --events --ringbuf-size 268435456 ;;
			esac
			for dest in other imds; do
				if [ "$dest" = imds ]; then ip=169.254.169.254 port=80; else ip=127.0.0.1 port=18090; fi
				samples[$config,rr,$dest]+=" $(in_pod 0 taskset -c 0 "$LOOP" rr "$ip" "$port" "$RR_N")"
				samples[$config,bulk,$dest]+=" $(in_pod 0 taskset -c 0 "$LOOP" bulk "$ip" "$port" "$BULK_N")"
			done
			stop_tool
			rm -f "$out"
		done
		log "stream: repetition $rep of $REPS done"
	done
	local base d dmin dmax
	echo
	echo "## 9. Established connections in a pod: request/response and bulk"
	echo
	echo "One TCP connection, established before timing, from a process in a pod's cgroup inside"
	echo "namespace $NETNS to a listener the same process holds: rr, 100 bytes each way and read"
	echo "($RR_N round trips, ns each); bulk, 64 KiB written and read ($BULK_N times, ns per 64 KiB)."
	echo "To 127.0.0.1 the monitor captures nothing; to IMDS (169.254.169.254:80, on lo here) it"
	echo "captures every byte sent, within the pod's budget (512 KiB, then 128 KiB/s: a bulk"
	echo "stream spends it at once, and the rest is counted, not captured)."
	echo
	echo "| configuration | measure | 127.0.0.1 ns | x baseline | IMDS ns | x baseline |"
	echo "|---|---|---|---|---|---|"
	for config in "${configs[@]}"; do
		for kind in rr bulk; do
			printf '| %s | %s ' "$config" "$kind"
			for dest in other imds; do
				read -r d dmin dmax <<< "$(stats "${samples[$config,$kind,$dest]}")"
				base=$(median "${samples[baseline,$kind,$dest]}")
				printf '| %s [%s-%s] | %s ' "$d" "$dmin" "$dmax" "$(ratio "$d / $base")"
				echo "$kind-$dest:$config $(ratio "$d / $base")" >> "$RATIOS"
			done
			echo "|"
		done
	done
	local m f
	for kind in rr bulk; do
		base=$(median "${samples[baseline,$kind,other]}")
		m=$(calc "$(median "${samples[monitor,$kind,other]}") - $base")
		f=$(calc "$(median "${samples[floor-connect+skb,$kind,other]}") - $base")
		target 9 "$kind on a connection not to IMDS: the monitor costs no more than its hooks' floor (+10%)" \
			"$(le "$m" "$f * 1.1 + 1")" "monitor $(printf '%+.1f' "$m") ns, floor $(printf '%+.1f' "$f") ns"
	done
}
want stream && run_section stream_section

# === 10: 32-bit (ia32) syscalls =========================================================
# The syscall tracepoints never fire for ia32 syscalls; beside them the monitor attaches
# am_ia32_sys_exit to the raw sys_exit tracepoint, which every syscall of the node then
# passes (bpf/open.bpf.c). monitor-no-ia32 is the monitor without it
# (ACCESSMON_IA32_OPENS=off, which it reports as blindness to ia32-opens); with the raw
# hook the one raw program reads them too. floor-raw: an empty program on the same
# tracepoint, the least any program there costs.
ia32_section() {
	local rep config out figure
	local configs=(baseline floor-raw monitor-no-ia32 monitor-tracepoint monitor-raw)
	local figures=(getppid open ia32-open)
	for rep in $(seq "$REPS"); do
		for config in "${configs[@]}"; do
			out="$WORK/out.$config"
			case "$config" in
			baseline) ;;
			floor-raw) start_floor raw ;;
			monitor-no-ia32) ACCESSMON_IA32_OPENS=off start_monitor "$out" --open-hook tracepoint ;;
			monitor-tracepoint) start_monitor "$out" --open-hook tracepoint ;;
			monitor-raw) start_monitor "$out" --open-hook raw ;;
			esac
			samples[ia32,$config,getppid]+=" $(taskset -c 0 "$LOOP" getppid "$IA32_GETPPID_N")"
			samples[ia32,$config,open]+=" $(taskset -c 0 "$LOOP" open "$WORK/unwatched" "$IA32_OPEN_N")"
			samples[ia32,$config,ia32-open]+=" $(taskset -c 0 "$LOOP" ia32-open "$WORK/unwatched" "$IA32_OPEN_N")"
			stop_tool
			rm -f "$out"
		done
		log "ia32: repetition $rep of $REPS done"
	done
	# The ia32 program's own run time per getppid, and the empty program's on the same
	# tracepoint, once each with statistics on (not timed).
	for config in floor-raw monitor-tracepoint; do
		case "$config" in
		floor-raw) start_floor --stats raw ;;
		monitor-tracepoint) start_monitor /dev/null --bpf-stats --open-hook tracepoint ;;
		esac
		bpf_cost "ia32,$config,bpf_getppid" "$TOOL_PID" "$(loop_ops "$IA32_GETPPID_N")" \
			taskset -c 0 "$LOOP" getppid "$IA32_GETPPID_N" > /dev/null
		stop_tool
	done

	local v vmin vmax base
	echo
	echo "## 10. 32-bit (ia32) syscalls: getppid ($IA32_GETPPID_N calls), open+close ($IA32_OPEN_N pairs, unwatched file), ia32 open+close (int \$0x80, $IA32_OPEN_N pairs)"
	echo
	echo "ns per operation, median [min-max] of $REPS, and as a multiple of the same run's baseline."
	echo "monitor-no-ia32: the monitor with the syscall tracepoints and without am_ia32_sys_exit"
	echo "(\`ACCESSMON_IA32_OPENS=off\`), blind to ia32 opens; monitor-tracepoint: as it ships."
	echo
	echo "| configuration | getppid ns | x baseline | open+close ns | x baseline | ia32 open+close ns | x baseline |"
	echo "|---|---|---|---|---|---|---|"
	for config in "${configs[@]}"; do
		printf '| %s ' "$config"
		for figure in "${figures[@]}"; do
			read -r v vmin vmax <<< "$(stats "${samples[ia32,$config,$figure]}")"
			base=$(median "${samples[ia32,baseline,$figure]}")
			printf '| %s [%s-%s] | %s ' "$v" "$vmin" "$vmax" "$(ratio "$v / $base")"
			echo "ia32-$figure:$config $(ratio "$v / $base")" >> "$RATIOS"
		done
		echo "|"
	done
	echo
	echo "What am_ia32_sys_exit adds (monitor-tracepoint against monitor-no-ia32, medians):"
	for figure in "${figures[@]}"; do
		printf -- '- %s: %+.1f ns (%.3fx baseline -> %.3fx)\n' "$figure" \
			"$(calc "$(median "${samples[ia32,monitor-tracepoint,$figure]}") - $(median "${samples[ia32,monitor-no-ia32,$figure]}")")" \
			"$(ratio "$(median "${samples[ia32,monitor-no-ia32,$figure]}") / $(median "${samples[ia32,baseline,$figure]}")")" \
			"$(ratio "$(median "${samples[ia32,monitor-tracepoint,$figure]}") / $(median "${samples[ia32,baseline,$figure]}")")"
	done
	echo
	echo "BPF run time per getppid from the kernel's statistics (one run each, statistics on): the"
	echo "monitor's programs $(median "${samples[ia32,monitor-tracepoint,bpf_getppid]}") ns (only am_ia32_sys_exit runs for a getppid), floor-raw's"
	echo "empty program $(median "${samples[ia32,floor-raw,bpf_getppid]}") ns: the difference is what its test of the compat bit costs;"
	echo "the rest of what it adds is the raw tracepoint's own price."
}
want ia32 && run_section ia32_section

# === summary and plot ===================================================================
{
	echo
	echo "## Targets"
	echo
	echo "| # | target | | measured |"
	echo "|---|---|---|---|"
	cat "$TARGETS"
} | tee -a "$RESULTS"

if [ -s "$RATIOS" ] && command -v gnuplot > /dev/null; then
	awk '{ print NR - 1, $2, $1 }' "$RATIOS" > "$WORK/ratios.plot"
	gnuplot <<-EOF
	set terminal pngcairo size 1400,800 font ",10" noenhanced
	set output "$OUT_DIR/results.png"
	set title "accessmon benchmarks: time per operation as a multiple of the same run's baseline (median of $REPS)"
	set ylabel "x baseline (replay rows: x plain decompression)"
	set style fill solid 0.7 border -1
	set boxwidth 0.8
	set grid ytics
	set xtics rotate by -60 left font ",8"
	set logscale y 2
	set yrange [0.5:*]
	set key off
	plot "$WORK/ratios.plot" using 1:2:xtic(3) with boxes lc rgb "#3a7abf", \
	     "" using 1:2:(sprintf("%.2f", \$2)) with labels offset 0,0.7 font ",7", \
	     1 with lines lc rgb "#444444" dt 2
	EOF
fi
echo
echo "bench: results in $RESULTS$([ -f "$OUT_DIR/results.png" ] && echo " and $OUT_DIR/results.png")"
