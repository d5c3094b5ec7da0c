#!/usr/bin/env bash
# End to end: the monitor beside another one on the same node, and killed outright
# and started again. Two monitors each see every event once and leave each other
# alone; a SIGKILLed monitor leaves no program or cgroup attachment behind, and
# its successor reports every event exactly once.
source "$(dirname "$0")/lib.sh"

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

e2e_main faults
