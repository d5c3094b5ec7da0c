#!/usr/bin/env bash
# End to end on the live probes: connects, UDP sends and watched-file opens from
# real processes in fake pods, attributed to the right pod, and the monitor's own
# behaviour (losses, errors, clean shutdown).
source "$(dirname "$0")/lib.sh"

pod_define web shop
pod_define late-cgroupfs batch cgroupfs burstable
pod_define guaranteed payments systemd guaranteed
pod_up web

test_ipv4_connect_to_imds() {
	pod_serve web 169.254.169.254 80 || return
	monitor_start || return
	pod_run web curl -s -o /dev/null -H Metadata:true \
		'http://169.254.169.254/metadata/instance?api-version=2021-02-01'
	expect_eq "$?" 0 "curl exit status"
	monitor_stop
	local match=".type == \"connect\" and .proc.pid == $LAST_PID"
	expect_records 1 "$match" "one connect from curl" || return
	expect_eq "$(field "$match" .proc.comm)" curl "comm"
	expect_eq "$(field "$match" .proc.tid)" "$LAST_PID" "tid of a single-threaded client"
	expect_eq "$(field "$match" .proc.uid)" 0 "uid"
	expect_eq "$(field "$match" .pod.name)" web "pod name"
	expect_eq "$(field "$match" .pod.namespace)" shop "pod namespace"
	expect_eq "$(field "$match" .pod.uid)" "${POD_UID[web]}" "pod uid"
	expect_eq "$(field "$match" .pod.container_id)" "${POD_CID[web]}" "container id"
	expect_eq "$(field "$match" .pod.container)" app "container name"
	expect_eq "$(field "$match" .cgroup.path)" "${POD_CGROUP[web]#"$CGROUP2"}" "cgroup path"
	expect_eq "$(field "$match" .cgroup.id)" "$(stat -c %i "${POD_CGROUP[web]}")" "cgroup id"
	expect_eq "$(field "$match" .dst.ip)" 169.254.169.254 "destination"
	expect_eq "$(field "$match" .dst.port)" 80 "port"
	expect_eq "$(field "$match" .dst.proto)" tcp "protocol"
	expect_true grep -Eq '"time":"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}\.[0-9]{9}Z"' "$OUT"
}

test_ipv6_and_ipv4_mapped_destinations() {
	pod_serve web 169.254.169.254 80 || return
	pod_serve web fd00::10 8080 || return
	monitor_start || return
	pod_run web curl -s -o /dev/null 'http://[fd00::10]:8080/'
	local v6_pid=$LAST_PID
	# An IPv6 socket reaching IMDS through its IPv4-mapped address is still IMDS.
	pod_run web curl -s -o /dev/null -H Metadata:true \
		'http://[::ffff:169.254.169.254]/metadata/identity/oauth2/token?resource=https://vault.azure.net'
	local mapped_pid=$LAST_PID
	monitor_stop
	expect_records 1 ".type == \"connect\" and .proc.pid == $v6_pid and .dst.ip == \"fd00::10\" and .dst.port == 8080 and .dst.proto == \"tcp\"" \
		"IPv6 connect"
	expect_records 1 ".type == \"connect\" and .proc.pid == $mapped_pid" "one record for the mapped connect"
	expect_records 1 ".type == \"connect\" and .proc.pid == $mapped_pid and .dst.ip == \"169.254.169.254\" and .dst.port == 80 and .pod.name == \"web\"" \
		"IPv4-mapped destination reported as IPv4"
}

test_udp_send_and_connect() {
	monitor_start || return
	pod_run web python3 -c '
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.sendto(b"q", ("169.254.169.254", 53))
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
u.connect(("168.63.129.16", 32526))
u.send(b"q")
s6 = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
s6.sendto(b"q", ("fd00::10", 5353))
'
	expect_eq "$?" 0 "python exit status"
	monitor_stop
	expect_records 1 ".type == \"send\" and .proc.pid == $LAST_PID and .dst.ip == \"169.254.169.254\" and .dst.port == 53 and .dst.proto == \"udp\" and .pod.name == \"web\"" \
		"unconnected UDP sendto"
	expect_records 1 ".type == \"connect\" and .proc.pid == $LAST_PID and .dst.ip == \"168.63.129.16\" and .dst.port == 32526 and .dst.proto == \"udp\"" \
		"connected UDP socket"
	expect_records 1 ".type == \"send\" and .proc.pid == $LAST_PID and .dst.ip == \"fd00::10\" and .dst.port == 5353" \
		"IPv6 UDP sendto"
	expect_records 0 ".type == \"send\" and .proc.pid == $LAST_PID and .dst.ip == \"168.63.129.16\"" \
		"no send record for a connected socket's send()"
}

test_watched_file_opens_by_every_name() {
	local dir="$WORK/node/etc/kubernetes" secret unwatched
	mkdir -p "$dir"
	secret="$dir/azure.json"
	unwatched="$dir/unwatched.json"
	echo '{"aadClientId":"msi"}' > "$secret"
	echo '{}' > "$unwatched"
	ln -s "$secret" "$WORK/node/azure-link.json"
	ln "$secret" "$WORK/node/azure-hardlink.json"
	monitor_start --watch "$secret" || return
	local -a pids=()
	pod_run web "$AM_OPEN" openat "$secret" >/dev/null; pids+=("$LAST_PID:$secret")
	pod_run web "$AM_OPEN" open "$secret" >/dev/null; pids+=("$LAST_PID:$secret")
	pod_run web "$AM_OPEN" openat2 "$secret" >/dev/null; pids+=("$LAST_PID:$secret")
	pod_run web "$AM_OPEN" dirfd "$dir" azure.json >/dev/null; pids+=("$LAST_PID:azure.json")
	pod_run web "$AM_OPEN" dirfd "$dir" ../kubernetes/./azure.json >/dev/null; pids+=("$LAST_PID:../kubernetes/./azure.json")
	pod_run web "$AM_OPEN" openat "$WORK/node/azure-link.json" >/dev/null; pids+=("$LAST_PID:$WORK/node/azure-link.json")
	pod_run web "$AM_OPEN" openat "$WORK/node/azure-hardlink.json" >/dev/null; pids+=("$LAST_PID:$WORK/node/azure-hardlink.json")
	pod_run web cat "$secret" >/dev/null; pids+=("$LAST_PID:$secret")
	pod_run web "$AM_OPEN" openat "$unwatched" >/dev/null
	local unwatched_pid=$LAST_PID
	monitor_stop
	local entry pid path
	for entry in "${pids[@]}"; do
		pid=${entry%%:*}
		path=${entry#*:}
		expect_records 1 ".type == \"open\" and .proc.pid == $pid" "open as '$path'" || continue
		expect_eq "$(field ".proc.pid == $pid" .file.path)" "$path" "path as the opener named it"
		expect_eq "$(field ".proc.pid == $pid" .file.host_path)" "$secret" "watched path"
		expect_eq "$(field ".proc.pid == $pid" .file.inode)" "$(stat -c %i "$secret")" "inode"
		expect_eq "$(field ".proc.pid == $pid" '.file.result >= 0')" true "result is an fd"
		expect_eq "$(field ".proc.pid == $pid" .pod.name)" web "opener's pod"
	done
	expect_records 0 ".proc.pid == $unwatched_pid and .type == \"open\"" "an unwatched file reports nothing"
}

test_raw_sys_exit_hook_sees_the_same_opens() {
	local secret="$WORK/raw/kubeconfig"
	mkdir -p "$WORK/raw"
	echo 'apiVersion: v1' > "$secret"
	monitor_start --open-hook raw --watch "$secret" || return
	expect_true grep -q "opens seen by the raw sys_exit tracepoint" "$ERR"
	pod_run web "$AM_OPEN" openat "$secret" >/dev/null
	local openat_pid=$LAST_PID
	pod_run web "$AM_OPEN" openat2 "$secret" >/dev/null
	local openat2_pid=$LAST_PID
	pod_run web "$AM_OPEN" open "$secret" >/dev/null
	local open_pid=$LAST_PID
	pod_run web "$AM_OPEN" openat "$WORK/raw" >/dev/null
	local dir_pid=$LAST_PID
	monitor_stop
	expect_records 1 ".type == \"open\" and .proc.pid == $openat_pid and .file.host_path == \"$secret\"" "openat via raw hook"
	expect_records 1 ".type == \"open\" and .proc.pid == $openat2_pid" "openat2 via raw hook"
	expect_records 1 ".type == \"open\" and .proc.pid == $open_pid" "open via raw hook"
	expect_records 0 ".proc.pid == $dir_pid" "an unwatched directory reports nothing"
}

test_pods_created_after_start_and_both_drivers() {
	pod_serve web 169.254.169.254 80 || return
	monitor_start || return
	# cgroups made while the monitor runs: the kernel's cgroup_mkdir names them.
	pod_up late-cgroupfs || return
	pod_up guaranteed || return
	pod_serve late-cgroupfs 169.254.169.254 80 || return
	pod_serve guaranteed 169.254.169.254 80 || return
	pod_run late-cgroupfs curl -s -o /dev/null http://169.254.169.254/metadata/versions
	local cgroupfs_pid=$LAST_PID
	pod_run guaranteed curl -s -o /dev/null http://169.254.169.254/metadata/versions
	local guaranteed_pid=$LAST_PID
	monitor_stop
	expect_records 1 ".type == \"connect\" and .proc.pid == $cgroupfs_pid and .pod.name == \"late-cgroupfs\" and .pod.namespace == \"batch\" and .pod.container == \"app\" and .pod.container_id == \"${POD_CID[late-cgroupfs]}\"" \
		"cgroupfs-driver pod created after start"
	expect_records 1 ".type == \"connect\" and .proc.pid == $guaranteed_pid and .pod.name == \"guaranteed\" and .pod.uid == \"${POD_UID[guaranteed]}\"" \
		"guaranteed pod (no QoS level in its cgroup name)"
}

test_host_process_has_no_pod() {
	monitor_start || return
	bash -c 'echo $$ > "$1"; exec curl -s -m 2 -o /dev/null http://127.0.0.1:9/' _ "$WORK/host.pid"
	local pid
	pid=$(cat "$WORK/host.pid")
	monitor_stop
	expect_records 1 ".type == \"connect\" and .proc.pid == $pid and .pod == null and .dst.ip == \"127.0.0.1\" and .dst.port == 9" \
		"host process connect"
}

test_text_format() {
	pod_serve web 169.254.169.254 80 || return
	monitor_start --format text || return
	pod_run web curl -s -o /dev/null http://169.254.169.254/metadata/instance
	monitor_stop
	local line
	line=$(grep " connect .* pid=$LAST_PID " "$OUT")
	expect_eq "$(echo "$line" | grep -c .)" 1 "one text line for the connect"
	expect_true grep -Eq "^[0-9T:.-]+Z connect +pod=shop/web container=app pid=$LAST_PID uid=0 comm=curl exe=/usr/bin/curl -> 169\.254\.169\.254:80/tcp service=imds \(fixed\)$" <<< "$line"
}

test_lost_events_are_counted_and_reported() {
	# A ring buffer of one page cannot hold a burst of 20000 sends while its reader
	# is stopped (stopped, so a fast reader cannot make the loss a matter of timing).
	monitor_start --ringbuf-size 4096 || return
	kill -STOP "$MONITOR_PID"
	pod_run web python3 -c '
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for i in range(20000):
    s.sendto(b"x", ("169.254.169.254", 9))
'
	kill -CONT "$MONITOR_PID"
	sleep 0.3
	monitor_stop
	local delivered lost
	delivered=$(records ".type == \"send\" and .proc.pid == $LAST_PID" | wc -l)
	lost=$(jq -s '[.[] | select(.type == "events-lost")] | last | .lost_total // 0' "$OUT")
	expect_true test "$lost" -gt 0 || return
	expect_records 0 '.type == "events-lost" and (.lost <= 0 or .reason != "ring buffer full")' "well-formed loss records"
	# Every send is either delivered or counted as lost (other processes may add to both).
	expect_true test $((delivered + lost)) -ge 20000
	expect_true grep -q "events lost in the kernel (ring buffer full)" "$ERR"
	expect_eq "$(jq -s '[.[] | select(.type == "events-lost") | .lost] | add' "$OUT")" "$lost" \
		"the per-report counts add up to the total"
}

# records_are N FILTER: exactly N records match (for wait_until).
records_are() {
	[ "$(records "$2" | wc -l)" = "$1" ]
}

test_a_steady_stream_wakes_the_collector_in_batches() {
	# 3000 sends to IMDS's address (never aggregated), paced so the collector always
	# catches up: left to the kernel, each would wake it. The probes wake it at most
	# once per 10 ms (or when a quarter of the ring waits); the rest wait for that
	# wakeup or the poll timeout, and every send is still delivered.
	monitor_start || return
	local before after switches
	before=$(awk '/^voluntary_ctxt_switches/ { print $2 }' "/proc/$MONITOR_PID/status")
	pod_run web python3 -c '
import socket, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
start = time.monotonic()
for n in range(3000):
    s.sendto(b"x", ("169.254.169.254", 9))
    due = start + (n + 1) * 0.0005
    while time.monotonic() < due:
        pass
'
	local sender=$LAST_PID
	wait_until 5 records_are 3000 ".type == \"send\" and .proc.pid == $sender" ||
		fail "$(records ".type == \"send\" and .proc.pid == $sender" | wc -l) of 3000 sends delivered"
	after=$(awk '/^voluntary_ctxt_switches/ { print $2 }' "/proc/$MONITOR_PID/status")
	switches=$((after - before))
	echo "    3000 records in 1.5 s: the event loop woke $switches times"
	if [ "$switches" -ge 600 ]; then
		fail "the event loop woke $switches times for 3000 records paced over 1.5 s"
	fi
	# A lone record after a quiet second arrives at once, not at a later poll.
	sleep 1
	pod_run web "$AM_CONNECT" 169.254.169.254 9
	local lone=$LAST_PID
	wait_until 2 records_are 1 ".type == \"connect\" and .proc.pid == $lone" ||
		fail "a lone connect after a quiet second was not delivered within a second"
	monitor_stop
}

test_clean_shutdown_on_sigterm() {
	monitor_start || return
	expect_true bash -c "bpftool prog show | grep -q am_connect4"
	monitor_stop TERM
	sleep 0.2
	if bpftool prog show | grep -q 'am_connect4\|am_exit_openat\|am_cgroup_mkdir'; then
		fail "programs still loaded after exit"
	fi
	if bpftool link show | grep -q 'am_'; then
		fail "links still attached after exit"
	fi
	if ls /sys/fs/bpf 2>/dev/null | grep -q accessmon; then
		fail "something pinned in bpffs"
	fi
}

# expect_usage_error EXIT_STATUS PATTERN ARGS...: the monitor refuses with one clear line.
expect_usage_error() {
	local status=$1 pattern=$2 rc lines
	shift 2
	"$AM" monitor "$@" > "$WORK/usage.out" 2> "$WORK/usage.err"
	rc=$?
	expect_eq "$rc" "$status" "exit status of 'monitor $*'"
	expect_true grep -Eq -- "$pattern" "$WORK/usage.err" || cat "$WORK/usage.err" >&2
	lines=$(grep -c . "$WORK/usage.err")
	expect_eq "$lines" 1 "stderr lines of 'monitor $*'"
	expect_eq "$(wc -c < "$WORK/usage.out")" 0 "nothing on stdout for 'monitor $*'"
}

test_clear_errors() {
	printf '{"kind":"PodList","items":[\n  {"metadata": {"uid": }}\n]}\n' > "$WORK/bad-pods.json"
	expect_usage_error 2 "bad-pods.json:2:24: invalid JSON" --pods "$WORK/bad-pods.json"
	printf '{"kind":"PodList","items":[{"metadata":{"name":"x"}}]}' > "$WORK/nouid.json"
	expect_usage_error 2 "nouid.json: items\[0\]\.metadata\.uid: missing" --pods "$WORK/nouid.json"
	expect_usage_error 2 "--pods $WORK/missing.json: cannot open: No such file" --pods "$WORK/missing.json"
	expect_usage_error 2 "unknown option '--bogus'; see 'accessmon monitor --help'" --bogus
	expect_usage_error 2 "--format 'xml': expected json or text" --format xml
	expect_usage_error 2 "--watch $WORK/nope: No such file or directory" --watch "$WORK/nope"
	expect_usage_error 1 "cgroup root /nonexistent-cgroup: No such file or directory" \
		--cgroup-root /nonexistent-cgroup
	"$AM" monitor --help > "$WORK/help.txt"
	expect_eq "$?" 0 "--help exit status"
	expect_true grep -q -- "--watch PATH" "$WORK/help.txt"
	expect_true grep -q -- "--pods FILE" "$WORK/help.txt"
}

test_unprivileged_user_is_told_what_is_missing() {
	chmod 755 "$BUILD" "$(dirname "$BUILD")" 2>/dev/null
	capsh --user=nobody -- -c "'$AM' monitor --events" > "$WORK/unpriv.out" 2> "$WORK/unpriv.err"
	local rc=$? cap
	expect_eq "$rc" 2 "exit status without privileges"
	# Each missing capability named with what it is for, then what to do; nothing else.
	for cap in CAP_BPF CAP_PERFMON CAP_NET_ADMIN CAP_DAC_READ_SEARCH; do
		expect_true grep -q "^accessmon: missing capability $cap, needed to " "$WORK/unpriv.err"
	done
	expect_true grep -q "run as root, or grant CAP_BPF, CAP_PERFMON, CAP_NET_ADMIN and CAP_DAC_READ_SEARCH" "$WORK/unpriv.err"
	expect_eq "$(grep -c . "$WORK/unpriv.err")" 5 "stderr lines" || cat "$WORK/unpriv.err" >&2
	expect_eq "$(wc -c < "$WORK/unpriv.out")" 0 "stdout"
}

e2e_main foundation
