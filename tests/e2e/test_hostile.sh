#!/usr/bin/env bash
# End to end: hostile input. Everything a pod controls reaches the monitor: its
# names, labels and annotations (PodList and containerd bundle), a process's name,
# program and arguments, the path it opens a secret by, the DNS answers it gets,
# its requests to IMDS and its TLS server names. Terminal escapes (CSI, OSC, DCS,
# C1 controls in UTF-8 and raw 0x9b), newlines, quotes, backslashes, bidirectional
# overrides, invalid UTF-8 and giant values go in; what comes out must be strict
# JSON that reads back as what went in (or its documented cut), and text lines
# with nothing a terminal acts on. tests/helpers/hostile.py holds the values.
source "$(dirname "$0")/lib.sh"

HOSTILE_PY="$E2E_ROOT/tests/helpers/hostile.py"
TEXT_OUT="$WORK/text.txt"
TEXT_PID=""
node_tree_init
chmod 755 "$WORK" "$NODE_ROOT"

pod_define hostile shop
pod_up hostile
python3 "$HOSTILE_PY" podlist "$PODS_JSON" "${POD_UID[hostile]}"
# A pod only containerd knows: its names come from the bundle's annotations.
pod_define bundled batch
jq --arg uid "${POD_UID[bundled]}" '.items |= map(select(.metadata.uid != $uid))' \
	"$PODS_JSON" > "$WORK/pods.tmp" && mv "$WORK/pods.tmp" "$PODS_JSON"
pod_up bundled
python3 "$HOSTILE_PY" bundle "$BUNDLES/${POD_CID[bundled]}/config.json" \
	"${POD_UID[bundled]}" "${POD_CID[bundled]}"
python3 "$HOSTILE_PY" layout "$WORK" "$NODE_ROOT"

# check ARGS...: runs hostile.py; each problem it prints is a failure, and so is
# its failing without saying why (a checker that crashed proves nothing).
check() {
	local problems rc line
	problems=$(python3 "$HOSTILE_PY" "$@" 2>&1)
	rc=$?
	while IFS= read -r line; do
		[ -n "$line" ] && fail "$line"
	done <<< "$problems"
	[ "$rc" = 0 ] || [ -n "$problems" ] || fail "hostile.py $1 exited $rc"
}

# text_monitor_start: a second monitor beside the JSON one, writing --format text.
text_monitor_start() {
	local ready="$WORK/text.ready"
	rm -f "$ready"
	"$AM" monitor --events --format text --ready-file "$ready" --pods "$PODS_JSON" "$@" \
		> "$TEXT_OUT" 2> "$WORK/text.err" &
	TEXT_PID=$!
	BACKGROUND_PIDS+=("$TEXT_PID")
	wait_until 10 test -f "$ready" ||
		{ fail "text monitor not ready: $(cat "$WORK/text.err")"; return 1; }
}

text_monitor_stop() {
	kill -INT "$TEXT_PID" && wait "$TEXT_PID"
	expect_eq "$?" 0 "text monitor exit status"
}

servers_up() {
	local ready="$WORK/ready.hostile-dns"
	mkdir -p "/etc/netns/${POD_NETNS[hostile]}"
	printf 'nameserver 127.0.0.53\n' > "/etc/netns/${POD_NETNS[hostile]}/resolv.conf"
	ip netns exec "${POD_NETNS[hostile]}" \
		python3 "$HOSTILE_PY" dns-server 127.0.0.53 53 "$ready" >/dev/null 2>&1 &
	BACKGROUND_PIDS+=("$!")
	wait_until 30 test -f "$ready" || { fail "hostile DNS server did not start"; return 1; }
	pod_serve hostile 169.254.169.254 80 || return 1
	pod_serve hostile 0.0.0.0 443 || return 1
}

test_hostile_values_come_out_escaped_and_bounded() {
	servers_up || return
	monitor_start --host-root "$NODE_ROOT" || return
	text_monitor_start --host-root "$NODE_ROOT" || return
	pod_run hostile python3 "$HOSTILE_PY" spawn "$WORK" || fail "the renamed program failed"
	pod_run hostile python3 "$HOSTILE_PY" dns-client || fail "the DNS client failed"
	pod_run hostile python3 "$HOSTILE_PY" http-client || fail "the IMDS client failed"
	pod_run hostile python3 "$HOSTILE_PY" tls-client 127.77.0.20 443 ||
		fail "the TLS client failed"
	pod_run bundled cat "$NODE_ROOT/etc/kubernetes/azure.json" >/dev/null
	sleep 1 # the repeat window's first second: every record is out
	monitor_stop
	text_monitor_stop
	check expect "$OUT" "$TEXT_OUT" "$WORK" "${POD_UID[hostile]}" "${POD_UID[bundled]}"
}

# accessmon inventory prints the same pods, in JSON and in text.
test_inventory_of_hostile_pods() {
	"$AM" inventory --pods "$PODS_JSON" --host-root "$NODE_ROOT" > "$WORK/inventory.json" \
		2> "$WORK/inventory.err" || fail "inventory failed: $(cat "$WORK/inventory.err")"
	"$AM" inventory --pods "$PODS_JSON" --host-root "$NODE_ROOT" --format text \
		> "$WORK/inventory.txt" 2>> "$WORK/inventory.err" ||
		fail "inventory --format text failed"
	check check-inventory "$WORK/inventory.json" "${POD_UID[hostile]}"
	check check-text "$WORK/inventory.txt"
	expect_eq "$(grep -c '^pod ' "$WORK/inventory.txt")" 2 "pods in the text inventory"
}

# A malformed PodList names the hostile label in its error: stderr stays harmless.
test_errors_naming_hostile_values_are_printable() {
	printf '%s' '{"items":[{"metadata":{"uid":"u","name":"n",' \
		'"labels":{"k\u001b]0;t\u0007\n\u009b\u202e":1}}}]}' > "$WORK/bad-pods.json"
	"$AM" inventory --pods "$WORK/bad-pods.json" > /dev/null 2> "$WORK/bad.err" &&
		fail "a label that is not a string was taken"
	check check-text "$WORK/bad.err"
	expect_true grep -qF 'k\x1b]0;t\x07\x0a\xc2\x9b\xe2\x80\xae' "$WORK/bad.err"
}

e2e_main hostile
