#!/usr/bin/env bash
# End to end: record on the node, replay on a laptop. A trace recorded while the
# scenario attacks run replays to the same records byte for byte; it survives
# SIGKILL, truncation and corruption; it rotates; replay filters and judges
# with today's policy; trace info describes it.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/scenario.sh"

TRACE="$WORK/trace.am"

# attack: the kubelet token theft, a vault read, azure.json read.
attack() {
	pod_run attacker curl -s -o /dev/null -H Metadata:true "$(token https://vault.azure.net "$KUBELET_ID")"
	pod_run attacker curl -sk -o /dev/null https://kv-payments.vault.azure.net/secrets/db?api-version=7.4
	pod_run attacker cat "$NODE_ROOT/etc/kubernetes/azure.json" >/dev/null
}

test_1_replay_writes_exactly_what_live_wrote() {
	net_up attacker || return
	rm -f "$TRACE"
	detect_start --record "$TRACE" || return
	attack
	monitor_stop
	expect_eq "$(stat -c %a "$TRACE")" 600 "trace file mode"
	"$AM" replay --events "$TRACE" > "$WORK/replayed.jsonl" 2> "$WORK/replay.err"
	expect_eq "$?" 0 "replay exit status"
	expect_true cmp "$OUT" "$WORK/replayed.jsonl" || diff <(cut -c1-200 "$OUT") <(cut -c1-200 "$WORK/replayed.jsonl") | head -8 >&2
	expect_eq "$(alerts)" "identity-theft-chain imds-token-request keyvault-unexpected node-credential-read" "live alerts"
	# Without --events, exactly the alert lines, in the same order.
	"$AM" replay "$TRACE" > "$WORK/alerts.jsonl"
	expect_true cmp <(grep '"type":"alert"' "$OUT") "$WORK/alerts.jsonl"
	# Text format replays too.
	"$AM" replay --format text "$TRACE" > "$WORK/alerts.txt"
	expect_eq "$(grep -c ' ALERT ' "$WORK/alerts.txt")" 4 "text alerts"
	cp "$TRACE" "$WORK/kept.am"
}

test_2_trace_info_describes_the_trace() {
	[ -f "$WORK/kept.am" ] || { fail "needs the recording of the first test"; return; }
	"$AM" trace info "$WORK/kept.am" > "$WORK/info.json"
	expect_eq "$?" 0 "trace info exit status"
	expect_eq "$(jq -r .integrity.status "$WORK/info.json")" intact "integrity"
	expect_eq "$(jq -r '.header.node' "$WORK/info.json")" "$(uname -n)" "node"
	expect_eq "$(jq -r '.header.options.identities' "$WORK/info.json")" "$IDS" "options in force"
	expect_eq "$(jq -r '.header.options.pod_grace_s' "$WORK/info.json")" 60 "the grace replay keeps cgroups for"
	expect_true test "$(jq -r '.records.connect' "$WORK/info.json")" -ge 2
	expect_true test "$(jq -r '.records.payload' "$WORK/info.json")" -ge 2
	expect_eq "$(jq -r '.pods | index("shop/attacker") != null' "$WORK/info.json")" true "pods"
	expect_eq "$(jq -r '.events_lost_in_kernel' "$WORK/info.json")" 0 "no loss"
	expect_true grep -Eq '"first_record":"20[0-9-]+T' "$WORK/info.json"
}

test_3_replay_filters_and_todays_policy() {
	[ -f "$WORK/kept.am" ] || { fail "needs the recording of the first test"; return; }
	"$AM" replay --rule keyvault-unexpected "$WORK/kept.am" > "$WORK/f1.jsonl"
	expect_eq "$(jq -r .rule "$WORK/f1.jsonl" | tr '\n' ' ')" "keyvault-unexpected " "--rule"
	"$AM" replay --events --pod shop/attacker "$WORK/kept.am" > "$WORK/f2.jsonl"
	expect_eq "$(jq -r '.pod.name' "$WORK/f2.jsonl" | sort -u | tr '\n' ' ')" "attacker " "--pod"
	"$AM" replay --pod payments/checkout "$WORK/kept.am" > "$WORK/f3.jsonl"
	expect_eq "$(wc -l < "$WORK/f3.jsonl")" 0 "--pod of another pod"
	"$AM" replay --since 2000-01-01T00:00:00Z --until 2000-01-02T00:00:00Z "$WORK/kept.am" > "$WORK/f4.jsonl"
	expect_eq "$(wc -l < "$WORK/f4.jsonl")" 0 "--since/--until outside the trace"
	"$AM" replay --since 1d "$WORK/kept.am" > "$WORK/f5.jsonl"
	expect_eq "$(wc -l < "$WORK/f5.jsonl")" 4 "--since relative"
	# Today's policy: the attacker's namespace is allowed to read node config now.
	echo '{"allow":[{"comment":"today","rules":["node-credential-read"],"namespace":"shop"}]}' > "$WORK/today.json"
	"$AM" replay --policy "$WORK/today.json" "$WORK/kept.am" > "$WORK/f6.jsonl"
	expect_eq "$(jq -r .rule "$WORK/f6.jsonl" | sort | tr '\n' ' ')" "identity-theft-chain imds-token-request keyvault-unexpected " "today's policy"
	"$AM" replay --since yesterday "$WORK/kept.am" > /dev/null 2> "$WORK/bad.err"
	expect_eq "$?" 2 "bad --since"
	expect_true grep -q "expected RFC 3339" "$WORK/bad.err"
}

test_4_damage_truncation_corruption_and_newer_versions() {
	[ -f "$WORK/kept.am" ] || { fail "needs the recording of the first test"; return; }
	local size cut full
	size=$(stat -c %s "$WORK/kept.am")
	full=$("$AM" replay "$WORK/kept.am" | wc -l)
	for cut in 16 100 $((size / 3)) $((size / 2)) $((size - 1)); do
		head -c "$cut" "$WORK/kept.am" > "$WORK/cut.am"
		timeout 10 "$AM" replay "$WORK/cut.am" > "$WORK/cut.out" 2> "$WORK/cut.err"
		local rc=$?
		expect_true test "$rc" -le 3 || continue
		expect_true test "$(wc -l < "$WORK/cut.out")" -le "$full"
	done
	head -c $((size - 7)) "$WORK/kept.am" > "$WORK/cut.am"
	"$AM" replay "$WORK/cut.am" > /dev/null 2> "$WORK/cut.err"
	expect_eq "$?" 3 "a truncated trace exits 3"
	expect_true grep -q "truncated at byte" "$WORK/cut.err"
	expect_eq "$("$AM" trace info "$WORK/cut.am" 2>/dev/null | jq -r .integrity.status)" truncated "info of a truncated trace"
	# A flipped byte in the middle: that block is skipped, with its offset.
	cp "$WORK/kept.am" "$WORK/flip.am"
	printf '\xff' | dd of="$WORK/flip.am" bs=1 seek=$((size / 2)) conv=notrunc 2>/dev/null
	timeout 10 "$AM" replay "$WORK/flip.am" > /dev/null 2> "$WORK/flip.err"
	expect_eq "$?" 3 "a damaged trace exits 3"
	expect_true grep -Eq "at byte [0-9]+" "$WORK/flip.err"
	# A well-framed block whose record nobody knows: counted, named, exit 3.
	cp "$WORK/kept.am" "$WORK/odd.am"
	python3 - "$WORK/odd.am" <<'PY'
import struct, sys, zlib
record = struct.pack("<HHIQ", 99, 16, 0, 1)  # type 99 does not exist
entry = struct.pack("<IHH", len(record), 1, 0) + record
data = zlib.compress(entry)
head = struct.pack("<IIIIQQI", 0x4B424D41, len(data), len(entry), 1, 1, 1, zlib.crc32(data))
with open(sys.argv[1], "ab") as f:
    f.write(head + struct.pack("<I", zlib.crc32(head)) + data)
PY
	"$AM" replay "$WORK/odd.am" > "$WORK/odd.out" 2> "$WORK/odd.err"
	expect_eq "$?" 3 "a trace with a record nobody knows exits 3"
	expect_true grep -q "odd.am: 1 records were not understood" "$WORK/odd.err"
	expect_eq "$(wc -l < "$WORK/odd.out")" "$full" "every alert before it is still written"
	# A newer format version is refused, clearly.
	cp "$WORK/kept.am" "$WORK/new.am"
	printf '\x09' | dd of="$WORK/new.am" bs=1 seek=8 conv=notrunc 2>/dev/null
	"$AM" replay "$WORK/new.am" > /dev/null 2> "$WORK/new.err"
	expect_eq "$?" 2 "newer version exit status"
	expect_true grep -q "trace format version 9 is newer than this accessmon reads" "$WORK/new.err"
}

test_5_a_killed_monitor_leaves_a_trace_that_replays() {
	net_up attacker || return
	rm -f "$TRACE"
	detect_start --record "$TRACE" || return
	pod_run attacker curl -s -o /dev/null -H Metadata:true "$(token https://vault.azure.net "$KUBELET_ID")"
	sleep 2.5
	kill -KILL "$MONITOR_PID"
	wait "$MONITOR_PID" 2>/dev/null
	MONITOR_PID=""
	"$AM" replay "$TRACE" > "$WORK/killed.jsonl" 2>/dev/null
	expect_eq "$(jq -r .rule "$WORK/killed.jsonl" | tr '\n' ' ')" "imds-token-request " "alerts up to the last second"
}

test_6_rotation_keeps_self_contained_files() {
	net_up attacker || return
	rm -f "$TRACE" "$TRACE".*
	detect_start --record "$TRACE" --record-max-size 64K --record-keep 2 || return
	pod_run attacker python3 -c '
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for i in range(60000):
    s.sendto(b"x", ("169.254.169.254", 9))
'
	sleep 1.2
	pod_run attacker curl -s -o /dev/null 'http://168.63.129.16/machine/?comp=goalstate'
	monitor_stop
	expect_true test -f "$TRACE.1"
	expect_true test ! -f "$TRACE.3"
	expect_eq "$(stat -c %a "$TRACE.1")" 600 "rotated file mode"
	# Each file starts with the whole state: the last one alone still names the pod.
	"$AM" replay "$TRACE" > "$WORK/last.jsonl"
	expect_eq "$(jq -r 'select(.rule == "wireserver-access") | .pod.name' "$WORK/last.jsonl")" attacker "last file alone"
	expect_eq "$("$AM" trace info "$TRACE.1" | jq -r .integrity.status)" intact "rotated file intact"
	# A shell glob gives the newest first; replay puts them oldest first itself.
	"$AM" replay --events "$TRACE.2" "$TRACE.1" "$TRACE" > "$WORK/ordered.jsonl" 2>/dev/null
	"$AM" replay --events "$TRACE" "$TRACE.1" "$TRACE.2" > "$WORK/globbed.jsonl" 2>/dev/null
	expect_true test -s "$WORK/ordered.jsonl"
	expect_true cmp -s "$WORK/ordered.jsonl" "$WORK/globbed.jsonl"
}

test_7_the_trace_file_is_never_opened_through_a_planted_link() {
	ln -sf /etc/passwd-accessmon-target "$WORK/planted.am"
	"$AM" monitor --record "$WORK/planted.am" > /dev/null 2> "$WORK/planted.err"
	expect_eq "$?" 2 "refused"
	expect_true grep -q -- "--record $WORK/planted.am: File exists" "$WORK/planted.err"
	expect_true test ! -e /etc/passwd-accessmon-target
}

test_8_a_full_disk_is_counted_and_said_in_the_stream() {
	net_up attacker || return
	mkdir -p "$WORK/small"
	mount -t tmpfs -o size=64k accessmon-e2e "$WORK/small" || { fail "cannot mount a tmpfs"; return; }
	CREATED_MOUNTS+=("$WORK/small")
	detect_start --record "$WORK/small/trace.am" || return
	pod_run attacker python3 -c '
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for i in range(60000):
    s.sendto(b"x", ("169.254.169.254", 9))
'
	sleep 1.5
	monitor_stop
	# Said in the stream, with why and how many, and on stderr.
	expect_true grep -q '"type":"trace-lost"' "$OUT"
	expect_true grep -q "No space left on device" <<< "$(jq -r 'select(.type == "trace-lost") | .reason' "$OUT")"
	expect_true test "$(jq -s '[.[] | select(.type == "trace-lost") | .lost] | add' "$OUT")" -gt 0
	expect_true grep -q "trace entries could not be written" "$ERR"
	# What reached the disk still replays, up to where it stops.
	timeout 20 "$AM" replay "$WORK/small/trace.am" > /dev/null 2>&1
	expect_true test "$?" -le 3
	umount "$WORK/small"
}

# trace_text TRACE: every block of a trace decompressed, with its header (the
# format is docs/TRACE-FORMAT.md), so that a test can look for what is in it.
trace_text() {
	python3 - "$1" <<'PY'
import struct, sys, zlib
data = open(sys.argv[1], "rb").read()
out = sys.stdout.buffer
header_len = struct.unpack_from("<I", data, 12)[0]
out.write(data[:16 + header_len])
pos = 16 + header_len
while pos + 40 <= len(data):
    magic, compressed = struct.unpack_from("<II", data, pos)
    if magic != 0x4b424d41:
        sys.exit("no block at %d" % pos)
    out.write(zlib.decompress(data[pos + 40:pos + 40 + compressed]))
    pos += 40 + compressed
PY
}

test_9_the_trace_keeps_no_secret() {
	local secret=SECRET-$RANDOM$RANDOM text="$WORK/trace.txt" node_json="$NODE_ROOT/etc/kubernetes/azure.json"
	net_up attacker || return
	# The secrets a compromised pod could reach: the node's client secret, a
	# workload identity token, and whatever it puts in its own requests.
	jq --arg s "$secret" '.aadClientSecret = $s' "$node_json" > "$WORK/azure.tmp" && cat "$WORK/azure.tmp" > "$node_json"
	pod_projected checkout azure-identity-token "azure-identity-token=$secret-token"
	rm -f "$TRACE"
	detect_start --record "$TRACE" || return
	# From files: a process's arguments are in its records, by design.
	printf 'Metadata: true\nAuthorization: Bearer %s\nX-Forwarded-Secret:%s\nCookie: session=%s\n' \
		"$secret" "$secret" "$secret" > "$WORK/headers"
	printf '<Health><Password>%s</Password></Health>' "$secret" > "$WORK/body"
	pod_run attacker curl -s -o /dev/null -H "@$WORK/headers" "$(token https://vault.azure.net "$KUBELET_ID")"
	pod_run attacker curl -s -o /dev/null -H "x-ms-version: 2012-11-30" -H "Content-Type: text/xml" \
		--data-binary "@$WORK/body" "http://168.63.129.16/machine?comp=health"
	pod_run attacker cat "$node_json" > /dev/null
	pod_run checkout cat "$(pod_volumes checkout)/kubernetes.io~projected/azure-identity-token/azure-identity-token" > /dev/null
	monitor_stop
	trace_text "$TRACE" > "$text" || { fail "the trace does not decode"; return; }
	# Not vacuous: the requests are in the trace, with what the pipeline reads.
	expect_true grep -aq "GET /metadata/identity/oauth2/token?api-version=2018-02-01&resource=https://vault.azure.net&client_id=$KUBELET_ID HTTP/1.1" "$text"
	expect_true grep -aq "POST /machine?comp=health HTTP/1.1" "$text"
	expect_true grep -aq "Metadata: true" "$text"
	expect_true grep -aq "Authorization:\*\*\*" "$text"
	expect_eq "$(grep -ac "$secret" "$text")" 0 "trace lines holding the secret"
	expect_eq "$(grep -c "$secret" "$OUT")" 0 "output lines holding the secret"
	# The cleaned trace still replays to what the monitor wrote live.
	"$AM" replay --events "$TRACE" > "$WORK/replayed9.jsonl" 2> "$WORK/replay9.err"
	expect_true cmp "$OUT" "$WORK/replayed9.jsonl"
	expect_true grep -q '"rule":"imds-token-request"' "$WORK/replayed9.jsonl"
}

e2e_main trace
