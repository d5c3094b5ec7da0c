#!/usr/bin/env bash
# End to end: 32-bit (ia32) syscalls. Any x86_64 process may make them with
# `int $0x80`, and the syscall tracepoints the monitor watches opens with never
# fire for them (bpf/open.bpf.c). An attacker pod reads a victim pod's token
# through the ia32 open, openat, openat2 and open_by_handle_at, and makes raw
# sockets through ia32 socket and socketcall: each is reported once, beside the
# 64-bit calls and never in their place, with the syscall tracepoints and with
# the raw hook; without the ia32 program the monitor says it is blind.
source "$(dirname "$0")/lib.sh"

AM_IA32_OPEN="$BUILD/tests/helpers/am-ia32-open"

victim_and_attacker
SA_VOLUME=kube-api-access-3n7wd
pod_projected victim "$SA_VOLUME" token=victim-sa-token ca.crt=cluster-ca namespace=payments
TOKEN="$(pod_volumes victim)/kubernetes.io~projected/$SA_VOLUME/token"
HOST_TOKEN="/var/lib/kubelet/pods/${POD_UID[victim]}/volumes/kubernetes.io~projected/$SA_VOLUME/token"

# A kernel without ia32 emulation (or booted with ia32_emulation=false) has no such
# syscalls: nothing to see, every test passes vacuously and says so.
[ -x "$AM_IA32_OPEN" ] || { echo "ia32: $AM_IA32_OPEN is missing: make $AM_IA32_OPEN" >&2; exit 1; }
IA32=1
if ! "$AM_IA32_OPEN" open /dev/null >/dev/null 2>&1; then
	IA32=0
	echo "  ia32: this kernel makes no 32-bit syscalls (no ia32 emulation): nothing to see"
fi

# expect_foreign PID SYSCALL: one open record by PID of the victim's token, with
# its kind, owner and opener and SYSCALL, and one foreign-token-read alert.
expect_foreign() {
	local match=".type == \"open\" and .proc.pid == $1"
	expect_records 1 "$match" "one open record from pid $1" || return 1
	expect_eq "$(field "$match" .file.syscall)" "$2" "syscall"
	expect_eq "$(field "$match" .file.kind)" service-account-token "kind"
	expect_eq "$(field "$match" .file.host_path)" "$HOST_TOKEN" "host path"
	expect_eq "$(field "$match" '.file.owner_pod.name // "none"')" victim "owner pod"
	expect_eq "$(field "$match" .pod.name)" attacker "opener's pod"
	expect_records 1 ".type == \"alert\" and .rule == \"foreign-token-read\" and .proc.pid == $1" \
		"a foreign-token-read alert for pid $1"
}

# steal FORM HOOK: the attacker reads the token through the ia32 FORM under a
# monitor of its own (--open-hook HOOK), so that the alert is this read's alone.
steal() {
	local form=$1 match
	monitor_start --host-root "$NODE_ROOT" --open-hook "$2" || return
	if [ "$form" = open_by_handle_at ]; then
		pod_run attacker "$AM_IA32_OPEN" handle "$NODE_ROOT" "$TOKEN" >/dev/null
	else
		pod_run attacker "$AM_IA32_OPEN" "$form" "$TOKEN" >/dev/null
	fi
	expect_eq "$?" 0 "ia32 $form of the token succeeded"
	monitor_stop
	expect_foreign "$LAST_PID" "ia32 $form" || return
	match=".type == \"open\" and .proc.pid == $LAST_PID"
	if [ "$form" = open_by_handle_at ]; then
		expect_eq "$(field "$match" .file.path)" null "no path to a handle"
	else
		expect_eq "$(field "$match" .file.path)" "$TOKEN" "the path as the ia32 $form named it"
	fi
}

# beside_native HOOK: an ia32 openat and a 64-bit openat of the token under one
# monitor: one record each, the one alert counting both, nothing twice.
beside_native() {
	local ia32 native
	monitor_start --host-root "$NODE_ROOT" --open-hook "$1" || return
	pod_run attacker "$AM_IA32_OPEN" openat "$TOKEN" >/dev/null
	ia32=$LAST_PID
	pod_run attacker "$AM_OPEN" openat "$TOKEN" >/dev/null
	native=$LAST_PID
	monitor_stop
	expect_records 1 ".type == \"open\" and .proc.pid == $ia32 and .file.syscall == \"ia32 openat\"" \
		"the ia32 openat, once"
	expect_records 1 ".type == \"open\" and .proc.pid == $native and .file.syscall == \"openat\"" \
		"the 64-bit openat, once"
	expect_records 2 ".type == \"open\" and .pod.name == \"attacker\"" "the attacker's open records"
	expect_eq "$(jq -s '[.[] | select(.type == "alert" and .rule == "foreign-token-read") | .count // 1] | max' "$OUT")" \
		2 "reads the foreign-token-read alert counts"
}

# steal_every_way HOOK: each ia32 form alone, then one beside a 64-bit open.
steal_every_way() {
	local form
	[ "$IA32" = 1 ] || return 0
	for form in open openat openat2 open_by_handle_at; do
		steal "$form" "$1"
	done
	beside_native "$1"
}

# The hook the monitor picks: the syscall tracepoints and am_ia32_sys_exit where the
# kernel has tracefs and bpf_task_pt_regs (5.15), else the raw hook alone.
test_ia32_opens_of_a_foreign_token_with_the_hook_it_picks() {
	steal_every_way auto
}

test_ia32_opens_of_a_foreign_token_with_the_raw_hook() {
	steal_every_way raw
}

test_ia32_raw_sockets_through_socket_and_socketcall() {
	[ "$IA32" = 1 ] || return 0
	local call
	local -A pids
	monitor_start --host-root "$NODE_ROOT" || return
	for call in socket socketcall; do
		pod_run attacker "$AM_IA32_OPEN" "$call" >/dev/null
		expect_eq "$?" 0 "ia32 $call made a raw socket"
		pids[$call]=$LAST_PID
	done
	monitor_stop
	for call in socket socketcall; do
		local match=".type == \"socket\" and .proc.pid == ${pids[$call]}"
		expect_records 1 "$match" "one socket record from ia32 $call" || continue
		expect_eq "$(field "$match" '"\(.socket.family) \(.socket.type) \(.socket.protocol)"')" \
			"inet raw 1" "the socket ia32 $call made"
		expect_eq "$(field "$match" .pod.name)" attacker "its pod"
	done
}

test_a_descriptor_by_open_tree_is_counted() {
	[ "$IA32" = 1 ] || return 0
	local port
	port=$(free_port)
	monitor_start --host-root "$NODE_ROOT" --listen "$port" || return
	pod_run attacker "$AM_IA32_OPEN" open_tree "$TOKEN" >/dev/null
	expect_eq "$?" 0 "ia32 open_tree of the token succeeded"
	wait_until 5 metric_ge "$port" accessmon_ia32_calls_undecoded_total 1 ||
		fail "accessmon_ia32_calls_undecoded_total is '$(metric "$port" accessmon_ia32_calls_undecoded_total)', expected 1 or more"
	monitor_stop
}

# Without am_ia32_sys_exit the syscall tracepoints alone miss the ia32 open; the
# monitor says so (a monitor-degraded record with cause "probes": read from the
# output directly, as records() leaves those to the kernel matrix). The raw hook,
# where the monitor picks it, reads them whatever the setting.
test_without_the_ia32_program_the_monitor_says_it_is_blind() {
	[ "$IA32" = 1 ] || return 0
	ACCESSMON_IA32_OPENS=off monitor_start --host-root "$NODE_ROOT" || return
	pod_run attacker "$AM_IA32_OPEN" open "$TOKEN" >/dev/null
	monitor_stop
	if grep -q "opens seen by the raw sys_exit tracepoint" "$ERR"; then
		echo "    the raw hook was picked: it reads ia32 syscalls whatever the setting"
		return
	fi
	expect_records 0 ".type == \"open\" and .proc.pid == $LAST_PID" "the ia32 open, unseen"
	expect_eq "$(jq -c 'select(.type == "monitor-degraded" and .detection == "ia32-opens" and .cause == "probes")' "$OUT" | wc -l)" \
		1 "a monitor-degraded record for ia32-opens"
	expect_true grep -q 'ACCESSMON_IA32_OPENS=off' "$OUT"
}

e2e_main ia32
