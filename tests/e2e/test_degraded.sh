#!/usr/bin/env bash
# End to end: what the monitor cannot see is said in the stream, not only on
# stderr. A node with more secret files than the kernel's watch set holds: the
# kernel refuses the updates that do not fit, and the monitor says so at start,
# in monitor-degraded records repeated every --degraded-interval, in an alert
# and in /metrics, until the volumes go and it says it sees again. A recording
# of it replays to the same lines. (Kernels that refuse probes or maps outright
# are the kernel matrix's: tests/e2e/test_smoke.sh on 5.10.)
source "$(dirname "$0")/lib.sh"

USE_PODLIST=1
node_tree_init
chmod 755 "$WORK" "$NODE_ROOT"
pod_define hoard data
pod_up hoard

# VOLUMES secret volumes of 256 files: with --host-root each file is two paths
# (as the node names it, and under the root), 512 entries of the kernel's
# 16384-path map a volume.
VOLUMES=34
fill_volumes() {
	python3 - "$(pod_volumes hoard)/kubernetes.io~secret" "$VOLUMES" <<-'EOF'
	import os, sys
	base, n = sys.argv[1], int(sys.argv[2])
	for v in range(n):
	    d = os.path.join(base, "vol-%02d" % v)
	    os.makedirs(d, exist_ok=True)
	    for f in range(256):
	        with open(os.path.join(d, "key-%03d" % f), "w") as out:
	            out.write("s")
	EOF
}

test_a_full_watch_set_is_said_until_it_is_not() {
	local port trace="$WORK/degraded.am" replayed="$WORK/replayed.jsonl"
	fill_volumes
	port=$(free_port)
	monitor_start --host-root "$NODE_ROOT" --listen "$port" --degraded-interval 2 \
		--record "$trace" || return
	expect_true grep -q "secrets found, but NOT all in the kernel's watch set" "$ERR" || cat "$ERR" >&2
	expect_blind "$port" secret-files
	expect_true grep -q '"cause":"maps","sees":"opens of secret files","reason":"the kernel refused [0-9]* watch set updates: Argument list too long (the kernel.s map is full)"' "$OUT"
	expect_true test "$(count "$OUT" '.type == "alert" and .rule == "monitor-degraded" and .severity == "high" and .target.detection == "secret-files"')" -ge 1
	expect_eq "$(metric "$port" 'accessmon_detection_blind{detection="connections"}')" 0 "another detection's"
	# Half the volumes go: everything fits again, and the monitor says it sees.
	rm -rf "$(pod_volumes hoard)/kubernetes.io~secret"/vol-1*
	rm -rf "$(pod_volumes hoard)/kubernetes.io~secret"/vol-2*
	expect_restored "$port" secret-files
	pod_run hoard cat "$(pod_volumes hoard)/kubernetes.io~secret/vol-00/key-255" > /dev/null
	local reader=$LAST_PID
	sleep 0.5
	monitor_stop
	expect_records 1 ".type == \"open\" and .proc.pid == $reader and .file.kind == \"secret-volume\"" \
		"a secret read once the set fits again"
	# The recording says it all again.
	"$AM" replay "$trace" > "$replayed" 2> "$WORK/replay.err" || fail "replay: $(cat "$WORK/replay.err")"
	expect_eq "$(jq -c 'select(.type == "monitor-degraded" or .rule == "monitor-degraded")' "$replayed" | md5sum)" \
		"$(jq -c 'select(.type == "monitor-degraded" or .rule == "monitor-degraded")' "$OUT" | md5sum)" \
		"monitor-degraded lines, replayed"
}

# The kernel this runs on: the start lines name it and what it gave; /metrics says
# how many probes are attached of those it needs, and which capabilities stayed.
test_the_start_says_what_the_kernel_gave() {
	local port attached needed
	port=$(free_port)
	monitor_start --listen "$port" || return
	expect_true grep -Fq "accessmon: kernel $(uname -r): " "$ERR"
	attached=$(metric "$port" accessmon_probes_attached)
	needed=$(metric "$port" accessmon_probes_needed)
	expect_true test -n "$attached"
	expect_true grep -q "accessmon: kernel .*: $attached of the $needed probes it needs attached" "$ERR"
	kept_caps
	expect_eq "$(metric "$port" 'accessmon_capability_kept{capability="CAP_DAC_READ_SEARCH"}')" 1 "CAP_DAC_READ_SEARCH kept"
	if [ "$KEPT_NAMES" = cap_dac_read_search ]; then
		expect_eq "$(metric "$port" 'accessmon_capability_kept{capability="CAP_BPF"}')" "" "CAP_BPF not kept"
	else
		expect_eq "$(metric "$port" 'accessmon_capability_kept{capability="CAP_BPF"}')" 1 "CAP_BPF kept"
	fi
	if [ "$attached" = "$needed" ]; then
		if grep -q "BLIND" "$ERR"; then fail "BLIND on stderr with every probe attached"; fi
		expect_eq "$(curl -s "http://127.0.0.1:$port/metrics" | awk '/^accessmon_detection_blind/ { s += $2 } END { print s + 0 }')" 0 \
			"blind detections with every probe attached"
	else
		expect_true grep -q "BLIND" "$ERR"
	fi
	monitor_stop
}

e2e_main degraded
