#!/usr/bin/env bash
# End to end: the monitor beside another one on the same node, and killed outright
# and started again. Two monitors each see every event once and leave each other
# alone; a SIGKILLed monitor leaves no program or cgroup attachment behind, and
# its successor reports every event exactly once.
#
# Then the faults of a node, each while a pod keeps acting: the kubelet gone and
# back, containerd's state gone and back, identity data and policy replaced by
# invalid JSON, a sink whose reader stops, the disk under the trace filling, and
# a node whose state outgrows the trace's rotation size. In each the monitor goes
# on reporting and attributing, says once what broke, counts what it lost where
# the metrics and the record stream show it, and recovers when the fault ends.
# These tests look at their own monitor only.
source "$(dirname "$0")/lib.sh"

node_tree_init
pod_define web shop
pod_up web

# our_programs: how many of accessmon's BPF programs (named am_*) the kernel holds.
our_programs() {
	bpftool prog show -j 2>/dev/null | jq '[.[] | select((.name // "") | startswith("am_"))] | length'
}

# our_programs_are N (for wait_until).
our_programs_are() {
	[ "$(our_programs)" = "$1" ]
}

# our_cgroup_attachments: accessmon's programs attached to the cgroup v2 root.
our_cgroup_attachments() {
	bpftool cgroup show "$CGROUP2" 2>/dev/null | grep -c ' am_'
}

# sends_in FILE PID N: FILE holds exactly N send records of PID (for wait_until).
sends_in() {
	[ "$(jq -c "select(.type == \"send\" and .proc.pid == $2)" "$1" 2>/dev/null | wc -l)" = "$3" ]
}

# one_send: a UDP send to IMDS's address from the pod (never aggregated); LAST_PID.
one_send() {
	pod_run web python3 -c 'import socket; socket.socket(socket.AF_INET, socket.SOCK_DGRAM).sendto(b"x", ("169.254.169.254", 9))'
}

test_two_monitors_on_one_node_each_see_everything_once() {
	local second second_out="$WORK/second.out" second_err="$WORK/second.err" first_send second_send
	wait_until 5 our_programs_are 0 || { fail "$(our_programs) accessmon programs before the test"; return; }
	monitor_start || return
	local alone
	alone=$(our_programs)
	rm -f "$WORK/second.ready"
	"$AM" monitor --events --ready-file "$WORK/second.ready" > "$second_out" 2> "$second_err" &
	second=$!
	BACKGROUND_PIDS+=("$second")
	wait_until 10 test -f "$WORK/second.ready" || { fail "the second monitor did not start: $(cat "$second_err")"; return; }
	expect_eq "$(our_programs)" $((2 * alone)) "programs with two monitors (each its own)"

	one_send
	first_send=$LAST_PID
	wait_until 5 sends_in "$OUT" "$first_send" 1 || fail "the first monitor did not see the send once"
	wait_until 5 sends_in "$second_out" "$first_send" 1 || fail "the second monitor did not see the send once"

	# The second stops: the first goes on, with its own programs untouched.
	kill -INT "$second"
	wait "$second"
	expect_eq "$?" 0 "the second monitor's exit status"
	# The kernel frees a closed program after a grace period: a moment later.
	wait_until 5 our_programs_are "$alone" ||
		fail "programs once the second monitor is gone: $(our_programs), expected $alone"
	one_send
	second_send=$LAST_PID
	wait_until 5 sends_in "$OUT" "$second_send" 1 || fail "the first monitor lost its probes when the second stopped"
	monitor_stop
	expect_records 1 ".type == \"send\" and .proc.pid == $first_send" "the first send, first monitor"
	expect_records 1 ".type == \"send\" and .proc.pid == $second_send" "the second send, first monitor"
	expect_eq "$(jq -c "select(.proc.pid == $second_send)" "$second_out" | wc -l)" 0 "the second send, second monitor (stopped)"
	expect_eq "$(jq -c 'select(.type == "events-lost")' "$OUT" "$second_out" | wc -l)" 0 "losses"
	if grep -q "failed\|refused" "$second_err"; then
		fail "the second monitor complained: $(cat "$second_err")"
	fi
	wait_until 5 our_programs_are 0 || fail "$(our_programs) accessmon programs after both stopped"
}

test_sigkill_leaves_nothing_and_a_restart_reports_once() {
	wait_until 5 our_programs_are 0 || { fail "$(our_programs) accessmon programs before the test"; return; }
	monitor_start || return
	local programs attachments
	programs=$(our_programs)
	attachments=$(our_cgroup_attachments)
	expect_true test "$programs" -gt 0
	expect_true test "$attachments" -gt 0
	kill -KILL "$MONITOR_PID"
	wait "$MONITOR_PID" 2>/dev/null
	MONITOR_PID=""
	# Nothing is pinned: the programs and links go with the process's descriptors.
	wait_until 5 our_programs_are 0 || fail "$(our_programs) accessmon programs left after SIGKILL"
	expect_eq "$(our_cgroup_attachments)" 0 "cgroup attachments left after SIGKILL"

	# The successor attaches as many programs as before, and reports each event once.
	monitor_start || return
	expect_eq "$(our_programs)" "$programs" "programs after the restart"
	expect_eq "$(our_cgroup_attachments)" "$attachments" "cgroup attachments after the restart"
	one_send
	local sender=$LAST_PID
	wait_until 5 sends_in "$OUT" "$sender" 1 || fail "the restarted monitor did not see the send"
	monitor_stop
	expect_records 1 ".type == \"send\" and .proc.pid == $sender" "the send after the restart, exactly once"
	wait_until 5 our_programs_are 0 || fail "$(our_programs) accessmon programs after a clean stop"
}

# --- faults of the node ------------------------------------------------------

# pod_unlisted NAME NAMESPACE: a pod (cgroup, network namespace) that the PodList
# does not name: only containerd's bundle or the kubelet will.
pod_unlisted() {
	pod_define "$1" "$2"
	jq --arg name "$1" 'del(.items[] | select(.metadata.name == $name))' "$PODS_JSON" \
		> "$WORK/pods.tmp" && mv "$WORK/pods.tmp" "$PODS_JSON"
	pod_up "$1"
}

# send_from NAME [COUNT]: COUNT (default 1) UDP sends to IMDS's address from the
# pod, one process; LAST_PID.
send_from() {
	pod_run "$1" python3 -c '
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for _ in range(int(sys.argv[1])):
    s.sendto(b"x", ("169.254.169.254", 9))
' "${2:-1}"
}

# send_named PID NAME: the send record of PID names pod NAME (for wait_until).
send_named() {
	[ "$(jq -r "select(.type == \"send\" and .proc.pid == $1) | .pod.name" "$OUT" 2>/dev/null)" = "$2" ]
}

# expect_named PID NAME WHAT: exactly one send record of PID, naming pod NAME.
expect_named() {
	expect_records 1 ".type == \"send\" and .proc.pid == $1 and .pod.name == \"$2\" and .pod.namespace == \"${POD_NAMESPACE[$2]}\"" "$3"
}

# kubelet_up PORT: the fake kubelet on 127.0.0.1:PORT, serving $WORK/kubelet-pods.json.
kubelet_up() {
	local ready="$WORK/kubelet.ready"
	if [ ! -f "$WORK/kubelet.crt" ]; then
		openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=fake-kubelet \
			-addext "subjectAltName=IP:127.0.0.1" \
			-keyout "$WORK/kubelet.key" -out "$WORK/kubelet.crt" >/dev/null 2>&1 ||
			{ fail "openssl failed"; return 1; }
		echo "sa-token-$RANDOM$RANDOM" > "$WORK/kubelet.token"
	fi
	rm -f "$ready"
	python3 "$FAKE_KUBELET" 127.0.0.1 "$1" "$WORK/kubelet.crt" "$WORK/kubelet.key" \
		"$WORK/kubelet.token" "$WORK/kubelet-pods.json" "$ready" >/dev/null 2>&1 &
	KUBELET_PID=$!
	BACKGROUND_PIDS+=("$KUBELET_PID")
	wait_until 30 test -f "$ready" || { fail "the fake kubelet did not start on port $1"; return 1; }
}

# kubelet_lists NAME...: the fake kubelet's /pods names exactly these pods.
kubelet_lists() {
	local name items='[]'
	for name in "$@"; do
		items=$(jq -c --arg name "$name" --arg ns "${POD_NAMESPACE[$name]}" \
			--arg uid "${POD_UID[$name]}" --arg cid "${POD_CID[$name]}" \
			'. + [{metadata: {name: $name, namespace: $ns, uid: $uid},
			   spec: {serviceAccountName: "default", containers: [{name: "app"}]},
			   status: {containerStatuses: [{name: "app", containerID: ("containerd://" + $cid)}]}}]' \
			<<< "$items")
	done
	# Whole or not at all: the kubelet never serves half a file.
	jq -n --argjson items "$items" '{kind: "PodList", apiVersion: "v1", items: $items}' \
		> "$WORK/kubelet-pods.tmp" && mv "$WORK/kubelet-pods.tmp" "$WORK/kubelet-pods.json"
}

test_kubelet_gone_and_back() {
	local USE_PODLIST=0 port metrics pods before known_gone bundled_gone late
	pod_unlisted kb-known web || return
	pod_unlisted kb-bundled web || return
	pod_unlisted kb-late web || return
	pod_bundle kb-bundled
	kubelet_lists kb-known
	port=$(free_port)
	metrics=$(free_port)
	kubelet_up "$port" || return
	local url="https://127.0.0.1:$port"
	monitor_start --host-root "$NODE_ROOT" --kubelet-url "$url" --kubelet-ca-file "$WORK/kubelet.crt" \
		--kubelet-token-file "$WORK/kubelet.token" --kubelet-interval 1 --listen "$metrics" || return
	send_from kb-known
	before=$LAST_PID
	wait_until 5 send_named "$before" kb-known || fail "a pod only the kubelet names, before the fault"

	# The kubelet goes away for three polls and more.
	kill "$KUBELET_PID"
	wait "$KUBELET_PID" 2>/dev/null
	sleep 3.5
	send_from kb-known
	known_gone=$LAST_PID
	send_from kb-bundled
	bundled_gone=$LAST_PID
	pods=$(metric "$metrics" accessmon_pods)

	# It comes back on the same address, now also naming a pod nothing else knows.
	kubelet_lists kb-known kb-late
	kubelet_up "$port" || return
	# The poll is asynchronous: the new pod is known once its answer is taken.
	wait_until 5 metric_is "$metrics" accessmon_pods $((pods + 1)) ||
		fail "pods known after the kubelet came back: $(metric "$metrics" accessmon_pods), expected $((pods + 1))"
	send_from kb-late
	late=$LAST_PID
	monitor_stop
	expect_named "$known_gone" kb-known "the kubelet's last answer, while it is gone"
	expect_named "$bundled_gone" kb-bundled "containerd's bundle, while the kubelet is gone"
	expect_named "$late" kb-late "a pod only the kubelet knows, after it came back"
	# Said once with why, not at every failed poll.
	expect_eq "$(grep -c "kubelet $url/pods: " "$ERR")" 1 "reports of the kubelet's absence"
	expect_true grep -q "kubelet $url/pods: Couldn't connect to server; keeping the pods known so far" "$ERR"
}

test_containerd_state_gone_and_back() {
	local metrics listed bundled first grace new
	pod_define cd-listed shop
	pod_up cd-listed || return
	pod_unlisted cd-bundled shop || return
	pod_unlisted cd-new shop || return
	pod_bundle cd-bundled
	metrics=$(free_port)
	monitor_start --host-root "$NODE_ROOT" --listen "$metrics" || return
	send_from cd-bundled
	first=$LAST_PID
	wait_until 5 send_named "$first" cd-bundled || fail "a pod only containerd names, before the fault"

	# containerd's state goes: the task directory and every bundle in it.
	rm -rf "${BUNDLES:?}"
	wait_until 5 grep -q "no containerd task bundles under $NODE_ROOT" "$ERR" ||
		fail "containerd's state went away unsaid"
	send_from cd-listed
	listed=$LAST_PID
	send_from cd-bundled
	grace=$LAST_PID
	sleep 1.5

	# It comes back, with a pod that started meanwhile.
	mkdir -p "$BUNDLES"
	pod_bundle cd-new
	send_from cd-new
	new=$LAST_PID
	expect_eq "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$metrics/healthz")" 200 "healthz after the fault"
	monitor_stop
	expect_named "$listed" cd-listed "a pod the PodList names, while containerd is gone"
	expect_named "$grace" cd-bundled "a pod containerd named, within its grace, while containerd is gone"
	expect_named "$new" cd-new "a pod whose bundle appeared after containerd came back"
	expect_eq "$(grep -c "no containerd task bundles" "$ERR")" 1 "reports of containerd's absence"
}

# token_request POD CLIENT_ID: the pod asks IMDS for a vault token for CLIENT_ID.
token_request() {
	pod_run "$1" curl -s -o /dev/null -H Metadata:true \
		"http://169.254.169.254/metadata/identity/oauth2/token?api-version=2018-02-01&resource=https://vault.azure.net&client_id=$2"
}

# judged POD: the pod asks for the add-on's and the kubelet's tokens and connects
# to WireServer; prints the severity and identity kind of each alert, in that order.
judged() {
	local addon kubelet wire
	token_request "$1" "$ADDON_ID"
	addon=$LAST_PID
	token_request "$1" "$KUBELET_CLIENT_ID"
	kubelet=$LAST_PID
	pod_run "$1" "$AM_CONNECT" 168.63.129.16 80 2>/dev/null
	wire=$LAST_PID
	wait_until 5 test -n "$(records ".type == \"alert\" and .proc.pid == $wire")"
	local pid
	for pid in "$addon" "$kubelet" "$wire"; do
		records ".type == \"alert\" and .proc.pid == $pid" | jq -r '"\(.rule)/\(.severity)/\(.identity.kind // "-")"'
	done | tr '\n' ' ' | sed 's/ $//'
}

ADDON_ID=c5d6e7f8-0000-1111-2222-333344445555

test_identity_data_and_policy_replaced_by_invalid_json() {
	local ids="$WORK/fault-identities" policy="$WORK/fault-policy.json" metrics pod
	local before="imds-token-request/critical/addon imds-token-request/critical/kubelet wireserver-access/critical/-"
	mkdir -p "$ids"
	echo '{"name": "aks-test", "addonProfiles": {"azureKeyvaultSecretsProvider": {"enabled": true,
 "identity": {"clientId": "'"$ADDON_ID"'", "objectId": "addon-principal"}}}}' > "$ids/cluster.json"
	echo '{"allow": [], "severity": {"wireserver-access": "critical"}}' > "$policy"
	for pod in id-1 id-2 id-3 id-4; do
		pod_define "$pod" shop
		pod_up "$pod" || return
		pod_serve "$pod" 169.254.169.254 80 || return
	done
	metrics=$(free_port)
	monitor_start --host-root "$NODE_ROOT" --identities "$ids" --policy "$policy" --listen "$metrics" || return
	expect_eq "$(judged id-1)" "$before" "alerts under the first identity data and policy"

	# The identity data turns to invalid JSON: refused with its place, kept in force.
	printf '{"name": "aks-test",\n "addonProfiles": {"azureKeyvaultSecretsProvider": \n' > "$ids/cluster.json"
	kill -HUP "$MONITOR_PID"
	wait_until 5 metric_is "$metrics" 'accessmon_config_reloads_total{result="failed"}' 1 ||
		fail "failed reloads: '$(metric "$metrics" 'accessmon_config_reloads_total{result="failed"}')', expected 1"
	expect_true grep -Eq "$ids/cluster.json:[0-9]+:[0-9]+: invalid JSON.*; keeping the identity data loaded before" "$ERR"
	expect_eq "$(judged id-2)" "$before" "alerts after refusing invalid identity data"

	# The identity data is whole again, the policy and azure.json are not.
	echo '{"name": "aks-test", "addonProfiles": {}}' > "$ids/cluster.json"
	printf '{"allow": [],\n "severity": {"wireserver-access": "low"\n' > "$policy"
	echo '{"tenantId": ' > "$NODE_ROOT/etc/kubernetes/azure.json"
	kill -HUP "$MONITOR_PID"
	wait_until 5 metric_is "$metrics" 'accessmon_config_reloads_total{result="failed"}' 2 ||
		fail "failed reloads: '$(metric "$metrics" 'accessmon_config_reloads_total{result="failed"}')', expected 2"
	expect_true grep -Eq -- "--policy $policy:[0-9]+:[0-9]+: invalid JSON.*; keeping the policy loaded before" "$ERR"
	# Nothing of the refused reload took effect: not the identity data that was valid either.
	expect_eq "$(judged id-3)" "$before" "alerts after refusing an invalid policy"

	# Both fixed: the reload goes through. azure.json is read at start only (the
	# node's identities change with the node), so its invalid copy changes nothing.
	echo '{"allow": [], "severity": {"wireserver-access": "low"}}' > "$policy"
	kill -HUP "$MONITOR_PID"
	wait_until 5 metric_is "$metrics" 'accessmon_config_reloads_total{result="ok"}' 1 ||
		fail "reloads ok: '$(metric "$metrics" 'accessmon_config_reloads_total{result="ok"}')', expected 1"
	expect_eq "$(judged id-4)" \
		"imds-token-request/high/unknown imds-token-request/critical/kubelet wireserver-access/low/-" \
		"alerts under the fixed identity data and policy"
	expect_eq "$(metric "$metrics" 'accessmon_config_reloads_total{result="failed"}')" 2 "failed reloads at the end"
	monitor_stop
	expect_eq "$(grep -c "azure.json" "$ERR")" 0 "azure.json mentioned (read at start only)"
	node_tree_init
}

test_sink_whose_reader_stops() {
	# The file sink is the stream read here; stdout goes through a pipe whose reader stops.
	local OUT="$WORK/file-sink.jsonl" fifo="$WORK/stdout.fifo" piped="$WORK/piped.jsonl"
	local reader metrics sender after dropped
	local lost_filter='.type == "sink-lost" and .sink == "stdout"'
	rm -f "$fifo" "$OUT" "$WORK/monitor.ready"
	mkfifo "$fifo"
	cat "$fifo" > "$piped" &
	reader=$!
	BACKGROUND_PIDS+=("$reader")
	metrics=$(free_port)
	"$AM" monitor --events --pods "$PODS_JSON" --ready-file "$WORK/monitor.ready" --listen "$metrics" \
		--sink stdout,queue=64K --sink "file:$OUT" > "$fifo" 2> "$ERR" &
	MONITOR_PID=$!
	wait_until 10 test -f "$WORK/monitor.ready" || { fail "monitor not ready: $(cat "$ERR")"; return; }

	# The reader stops: the pipe (64 KiB) and then the queue (64 KiB) fill.
	kill -STOP "$reader"
	send_from web 3000
	sender=$LAST_PID
	wait_until 10 sends_in "$OUT" "$sender" 3000 || fail "the file sink did not get every send while stdout was stuck"
	wait_until 5 count_ge "$OUT" "$lost_filter" 1 || fail "no sink-lost record for stdout on the file sink"
	# /metrics is refreshed every second.
	wait_until 3 metric_ge "$metrics" 'accessmon_sink_dropped_lines_total{sink="stdout",kind="stdout"}' 1 ||
		fail "stdout's drops are not in accessmon_sink_dropped_lines_total"
	# The event loop turns regardless: the kernel lost nothing, the monitor is healthy.
	expect_eq "$(metric "$metrics" accessmon_events_lost_total)" 0 "events lost in the kernel"
	expect_eq "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$metrics/healthz")" 200 "healthz while a sink is stuck"

	# The reader goes on: stdout delivers again, the loss said there too.
	kill -CONT "$reader"
	send_from web
	after=$LAST_PID
	wait_until 10 sends_in "$piped" "$after" 1 || fail "stdout did not recover once its reader went on"
	wait_until 10 count_ge "$piped" "$lost_filter" 1 || fail "no sink-lost record on stdout once it recovered"
	sleep 1.1
	dropped=$(metric "$metrics" 'accessmon_sink_dropped_lines_total{sink="stdout",kind="stdout"}')
	monitor_stop
	wait "$reader" 2>/dev/null
	expect_records 1 ".type == \"send\" and .proc.pid == $after" "the send after recovery, file sink"
	expect_eq "$(jq -s "[.[] | select($lost_filter) | .lost] | add" "$OUT")" "$dropped" \
		"sink-lost counts on the file sink against accessmon_sink_dropped_lines_total"
	# Every line the monitor wrote reached stdout or was counted as dropped there.
	expect_eq "$(($(wc -l < "$piped") + dropped))" "$(wc -l < "$OUT")" "stdout's lines plus its drops, against the file sink's lines"
	expect_eq "$(count "$OUT" '.type == "sink-lost" and .sink != "stdout"')" 0 "sink-lost records naming the file sink"
	expect_eq "$(count "$OUT" '.type == "events-lost"')" 0 "events-lost records"
	local said
	said=$(grep -c "accessmon: sink stdout dropped [0-9]* lines (queue full (65536 bytes)" "$ERR")
	expect_true test "$said" -ge 1 -a "$said" -le 3
}

test_recording_disk_fills_and_frees() {
	local small="$WORK/full" trace metrics alarm resumed said
	pod_define rec-2 shop
	pod_up rec-2 || return
	mkdir -p "$small"
	mount -t tmpfs -o size=256k accessmon-e2e-faults "$small" || { fail "cannot mount a tmpfs"; return; }
	CREATED_MOUNTS+=("$small")
	trace="$small/trace.am"
	metrics=$(free_port)
	monitor_start --record "$trace" --listen "$metrics" || return
	for _ in $(seq 20); do
		send_from web 20000
		grep -q '"type":"trace-lost"' "$OUT" && break
		sleep 0.3
	done
	wait_until 5 grep -q '"type":"trace-lost"' "$OUT" || fail "no trace-lost record once the disk was full"
	# Live alerting goes on.
	pod_run web "$AM_CONNECT" 168.63.129.16 80 2>/dev/null
	alarm=$LAST_PID
	wait_until 5 test -n "$(records ".type == \"alert\" and .proc.pid == $alarm")" ||
		fail "no alert after the disk filled"
	wait_until 3 metric_ge "$metrics" accessmon_trace_lost_total 1 ||
		fail "trace losses are not in accessmon_trace_lost_total"
	sleep 1.5 # blocks go on failing: said once

	# Room again: the recording resumes, and what it writes follows a mark of the gap.
	mount -o remount,size=4m "$small" || { fail "cannot grow the tmpfs"; return; }
	wait_until 5 grep -q "recording to $trace works again" "$ERR" || fail "the recording did not resume"
	pod_run rec-2 "$AM_CONNECT" 168.63.129.16 80 2>/dev/null
	resumed=$LAST_PID
	wait_until 5 test -n "$(records ".type == \"alert\" and .proc.pid == $resumed")" ||
		fail "no alert after the disk had room again"
	monitor_stop
	expect_eq "$(grep -c "recording to $trace failed: No space left on device" "$ERR")" 1 "stderr lines about the full disk"
	expect_eq "$(jq -r 'select(.type == "trace-lost") | .reason' "$OUT" | sort -u)" "write failed: No space left on device" "trace-lost reason"
	said=$(sed -n 's/.*: \([0-9]*\) trace entries could not be written$/\1/p' "$ERR")
	expect_eq "$(jq -s '[.[] | select(.type == "trace-lost")] | last | .lost_total' "$OUT")" "$said" \
		"lost_total of the last trace-lost record against the count at exit"
	expect_eq "$(jq -s '[.[] | select(.type == "trace-lost") | .lost] | add' "$OUT")" "$said" "trace-lost counts added up"
	# The first at once, then at most every 5 s while losses go on, the rest at exit.
	expect_true test "$(count "$OUT" '.type == "trace-lost"')" -le 3

	# The trace replays: the live lines up to the cut, one line naming the gap, and
	# the alert raised once there was room again.
	timeout 20 "$AM" replay --events "$trace" > "$WORK/replayed.jsonl" 2> "$WORK/replay.err"
	expect_eq "$?" 0 "replay's exit status (the gap is marked, no block is torn)"
	# One line at each gap (normally one), naming every entry lost.
	expect_eq "$(grep -vc "^accessmon: $trace: the recording lost [0-9]* entries here (a slow or full disk)$" "$WORK/replay.err")" 0 \
		"replay's other messages: $(cat "$WORK/replay.err")"
	expect_eq "$(sed -n 's/.* lost \([0-9]*\) entries here .*/\1/p' "$WORK/replay.err" | awk '{ n += $1 } END { print n + 0 }')" "$said" \
		"entries lost by replay's notices"
	expect_true grep -qxF "$(records ".type == \"alert\" and .proc.pid == $resumed")" "$WORK/replayed.jsonl"
	# Records after the gap may be read without state that went with it (a process
	# read from /proc): what precedes it must be exactly as live.
	python3 - "$WORK/replayed.jsonl" "$OUT" "${said:-0}" <<-'PY' || fail "the replay is not the live stream up to the gap"
	import json, sys
	replayed = open(sys.argv[1]).read().splitlines()
	live = [line for line in open(sys.argv[2]).read().splitlines()
	        if json.loads(line)["type"] != "trace-lost"]
	lost = int(sys.argv[3])
	head = 0
	while head < min(len(live), len(replayed)) and live[head] == replayed[head]:
	    head += 1
	# Whole lines from before the gap; never more missing than the entries lost.
	if 0 < head < len(replayed) and 0 < len(live) - len(replayed) <= lost:
	    sys.exit(0)
	print(f"    replay: {head} lines as live up to the gap, {len(replayed) - head} after it, "
	      f"of {len(live)} live; {lost} entries lost", file=sys.stderr)
	sys.exit(1)
	PY
	umount "$small"
}

test_recording_state_larger_than_the_rotation_size() {
	local trace="$WORK/big-state.am" sleepers=() pid i file
	# Processes with long command lines: the state snapshot opening each trace file
	# outgrows --record-max-size.
	for i in $(seq 300); do
		bash -c 'exec -a "am-sleeper-$1-$(head -c 400 /dev/urandom | base64 -w0)" sleep 60' _ "$i" \
			>/dev/null 2>&1 &
		sleepers+=("$!")
	done
	BACKGROUND_PIDS+=("${sleepers[@]}")
	sleep 0.5
	monitor_start --record "$trace" --record-max-size 64K --record-keep 2 || return
	for i in 1 2 3; do
		send_from web 20000
	done
	send_from web
	pid=$LAST_PID
	wait_until 5 sends_in "$OUT" "$pid" 1 || fail "the monitor stopped reporting while recording"
	monitor_stop
	kill "${sleepers[@]}" 2>/dev/null
	expect_true test -f "$trace.1"
	# Rotated at twice its opening snapshot, not at 64 KiB: the state did outgrow it.
	expect_true test "$(stat -c %s "$trace.1")" -gt $((2 * 65536))
	for file in "$trace" "$trace.1"; do
		expect_eq "$("$AM" trace info "$file" 2>/dev/null | jq -r .integrity.status)" intact "integrity of $file"
		# Each file holds at least as many bytes of records as of snapshot.
		expect_true test "$(jq -c 'select(.type == "send")' < <("$AM" replay --events "$file" 2>/dev/null) | wc -l)" -gt 0
	done
}

e2e_main faults
