#!/usr/bin/env bash
# End to end: volume control on a busy node. A pod hammering one destination
# gives its first contact as a connect record and the rest as counts, exactly
# (connect-repeat records, from the kernel's aggregation); another pod has its
# own first contact; IMDS and WireServer are always reported one by one; a pod's
# first contact after an IMDS request or a secret read is reported again; the
# window ends; and a recorded trace replays to the same lines.
source "$(dirname "$0")/lib.sh"

pod_define busy shop
pod_define other shop
pod_up busy
pod_up other
SECRET="$WORK/node/etc/kubernetes/azure.json"
mkdir -p "$(dirname "$SECRET")"
echo '{"aadClientId":"msi"}' > "$SECRET"

# repeats_of PID: the sum of the counts of PID's connect-repeat records (0: none).
repeats_of() {
	jq -s "[.[] | select(.type == \"connect-repeat\" and .proc.pid == $1) | .count] | add // 0" "$OUT"
}

# repeats_are PID N: PID's repeats add up to N (for wait_until).
repeats_are() {
	[ "$(repeats_of "$1")" = "$2" ]
}

# connects PID FILTER: PID's connect records that also match FILTER.
connects() {
	records ".type == \"connect\" and .proc.pid == $1 and (${2:-true})" | wc -l
}

test_a_busy_pod_is_counted_not_flooded() {
	local port pid before after records_connect repeat_records
	port=$(free_port)
	monitor_start --listen "$port" || return
	before=$(metric "$port" 'accessmon_records_total{type="connect"}')
	pod_run busy "$AM_CONNECT" 127.0.0.1 9 20000
	expect_eq "$?" 0 "am-connect exit status" || return
	pid=$LAST_PID
	# The counts leave the kernel within two seconds, while the monitor runs.
	wait_until 10 repeats_are "$pid" 19999 ||
		fail "the repeats of 20000 connects add up to $(repeats_of "$pid") while the monitor runs, expected 19999"
	after=$(metric "$port" 'accessmon_records_total{type="connect"}')
	expect_eq "$(metric "$port" accessmon_repeat_map_full_total)" 0 "connects the full map sent one by one"
	expect_true test "$(metric "$port" accessmon_connect_repeats_total)" -ge 19999
	monitor_stop
	# Exactly one first contact, and every other connect counted: nothing lost,
	# nothing twice (the exit's last flush adds nothing more).
	expect_records 1 ".type == \"connect\" and .proc.pid == $pid" "the first contact" || return
	expect_eq "$(repeats_of "$pid")" 19999 "repeats counted, after exit"
	local first='.type == "connect" and .proc.pid == '$pid
	local repeat='.type == "connect-repeat" and .proc.pid == '$pid
	expect_eq "$(field "$first" '.dst.ip + ":" + (.dst.port | tostring) + "/" + .dst.proto')" 127.0.0.1:9/tcp "first contact's destination"
	repeat_records=$(records "$repeat" | wc -l)
	expect_true test "$repeat_records" -ge 1
	expect_records 0 "$repeat and (.dst.ip != \"127.0.0.1\" or .dst.port != 9 or .dst.proto != \"tcp\")" "repeats of another destination"
	expect_records 0 "$repeat and (.pod.name != \"busy\" or .pod.namespace != \"shop\" or .pod.container != \"app\")" "repeats of another pod"
	expect_records 0 "$repeat and (.proc.comm != \"am-connect\" or (.proc.exe | endswith(\"/am-connect\") | not))" "repeats of another process"
	expect_records 0 "$repeat and (.count < 1 or .first > .last or .window_start > .first or .time < .last)" "inconsistent counts or times"
	expect_records "$repeat_records" "$repeat and .window_start == $(field "$first" '.time | tojson')" "repeats naming the contact they repeat"
	# The ring buffer carried next to nothing of it (other processes on the host add a few).
	records_connect=$((after - before))
	expect_true test "$records_connect" -lt 1000 || fail "$records_connect connect records crossed the ring buffer for 20000 connects"
	echo "    20000 connects: 1 connect record and $repeat_records connect-repeat records ($(( (1 + repeat_records) * 1000000 / 20000 )) records per million connects)"
}

test_a_full_map_reports_every_contact() {
	# 70000 destinations, twice: more than the kernel's 65536 keys. A contact whose
	# key does not fit is reported on its own and counted in the metric; each
	# destination's reported contacts and counted repeats add up to exactly its
	# contacts: none is lost, none counted twice.
	local port pass pids=() full connects repeats
	port=$(free_port)
	# 70000 connect records in a few seconds: a queue that holds them all, so what
	# is counted here is the kernel's doing, not a busy machine's slow stdout. A
	# window of an hour: however slowly the connects come (software emulation in
	# the kernel matrix takes minutes), no key leaves the map before it is full.
	monitor_start --listen "$port" --sink stdout,queue=1G --repeat-window 3600 || return
	for pass in 1 2; do
		pod_run busy "$AM_CONNECT" 127.0.0.1 1 35000 spread
		pids+=("$LAST_PID")
		pod_run busy "$AM_CONNECT" 127.0.0.2 1 35000 spread
		pids+=("$LAST_PID")
	done
	# A bound, not a timing: the counter is read after the collector has drained
	# 85000 records, which under emulation (the kernel matrix) takes minutes.
	wait_until 300 metric_ge "$port" accessmon_repeat_map_full_total 1 ||
		fail "accessmon_repeat_map_full_total: '$(metric "$port" accessmon_repeat_map_full_total)', expected more than 0"
	full=$(metric "$port" accessmon_repeat_map_full_total)
	monitor_stop
	expect_eq "$(connects "${pids[0]}")" 35000 "first contacts with 35000 ports of 127.0.0.1"
	expect_eq "$(connects "${pids[1]}")" 35000 "first contacts with 35000 ports of 127.0.0.2"
	connects=$(records ".type == \"connect\" and .pod.name == \"busy\"" | wc -l)
	repeats=$(jq -s '[.[] | select(.type == "connect-repeat" and .pod.name == "busy") | .count] | add // 0' "$OUT")
	expect_eq "$((connects + repeats))" 140000 "reported and counted contacts"
	expect_records 0 '.type == "events-lost"' "records lost"
	expect_records 0 '.type == "sink-lost"' "lines the stdout sink dropped"
	echo "    140000 contacts with 70000 destinations: $connects reported ($full because the map was full), $repeats counted"
}

test_another_pod_has_its_own_first_contact() {
	monitor_start || return
	pod_run busy "$AM_CONNECT" 127.0.0.1 9 3
	local busy=$LAST_PID
	pod_run other "$AM_CONNECT" 127.0.0.1 9 3
	local other=$LAST_PID
	# The same pod, another port: another destination.
	pod_run busy "$AM_CONNECT" 127.0.0.1 10 2
	local port10=$LAST_PID
	monitor_stop
	expect_eq "$(connects "$busy" '.dst.port == 9')" 1 "busy's first contact"
	expect_eq "$(repeats_of "$busy")" 2 "busy's repeats"
	expect_eq "$(connects "$other" '.dst.port == 9 and .pod.name == "other"')" 1 "the other pod's own first contact"
	expect_eq "$(repeats_of "$other")" 2 "the other pod's repeats"
	expect_eq "$(connects "$port10" '.dst.port == 10')" 1 "another port of the same address"
	expect_eq "$(repeats_of "$port10")" 1 "its repeat"
}

test_imds_and_wireserver_are_always_reported_one_by_one() {
	pod_serve busy 169.254.169.254 80 || return
	monitor_start || return
	local curls=() i
	for i in 1 2 3 4 5; do
		pod_run busy curl -s -o /dev/null -H Metadata:true 'http://169.254.169.254/metadata/instance?api-version=2021-02-01'
		curls+=("$LAST_PID")
	done
	pod_run busy "$AM_CONNECT" 169.254.169.254 80 200
	local imds=$LAST_PID
	pod_run busy "$AM_CONNECT" 168.63.129.16 32526 100
	local wireserver=$LAST_PID
	monitor_stop
	for i in "${curls[@]}"; do
		expect_eq "$(connects "$i" '.dst.service == "imds"')" 1 "curl $i's IMDS connect"
		expect_records 1 ".type == \"http\" and .proc.pid == $i and .imds.category == \"instance\"" "curl $i's request"
	done
	expect_eq "$(connects "$imds" '.dst.ip == "169.254.169.254" and .dst.port == 80')" 200 "200 connects to IMDS, 200 records"
	expect_eq "$(connects "$wireserver" '.dst.service == "wireserver"')" 100 "100 connects to WireServer, 100 records"
	expect_records 0 ".type == \"connect-repeat\" and (.dst.ip == \"169.254.169.254\" or .dst.ip == \"168.63.129.16\")" "IMDS or WireServer counted"
}

test_after_imds_or_a_secret_the_next_contact_is_reported_again() {
	pod_serve busy 169.254.169.254 80 || return
	monitor_start --watch "$SECRET" || return
	pod_run busy "$AM_CONNECT" 127.0.0.1 9 3
	local before=$LAST_PID
	pod_run busy curl -s -o /dev/null -H Metadata:true 'http://169.254.169.254/metadata/identity/oauth2/token?resource=https://vault.azure.net'
	pod_run busy "$AM_CONNECT" 127.0.0.1 9 2
	local after_imds=$LAST_PID
	pod_run busy cat "$SECRET" > /dev/null
	pod_run busy "$AM_CONNECT" 127.0.0.1 9 2
	local after_secret=$LAST_PID
	# Nothing in between: counted as before.
	pod_run busy "$AM_CONNECT" 127.0.0.1 9 2
	local again=$LAST_PID
	monitor_stop
	expect_eq "$(connects "$before")" 1 "first contact"
	expect_eq "$(connects "$after_imds")" 1 "the first contact after an IMDS request"
	expect_eq "$(connects "$after_secret")" 1 "the first contact after a secret was read"
	expect_eq "$(connects "$again")" 0 "a contact with nothing in between"
	# Repeats are per pod and destination: a record names the last process.
	expect_eq "$(jq -s '[.[] | select(.type == "connect-repeat" and .pod.name == "busy" and .dst.port == 9) | .count] | add' "$OUT")" 6 \
		"the pod's repeats (2, 1, 1 and 2)"
}

test_the_window_ends_and_zero_turns_it_off() {
	monitor_start --repeat-window 1 || return
	pod_run busy "$AM_CONNECT" 127.0.0.1 9 3
	local first=$LAST_PID
	sleep 2.5
	pod_run busy "$AM_CONNECT" 127.0.0.1 9 3
	local second=$LAST_PID
	monitor_stop
	expect_eq "$(connects "$first")" 1 "first window's contact"
	expect_eq "$(repeats_of "$first")" 2 "first window's repeats"
	expect_eq "$(connects "$second")" 1 "a contact after the window ended"
	expect_eq "$(repeats_of "$second")" 2 "second window's repeats"

	monitor_start --repeat-window 0 || return
	pod_run busy "$AM_CONNECT" 127.0.0.1 9 50
	local all=$LAST_PID
	monitor_stop
	expect_eq "$(connects "$all")" 50 "--repeat-window 0: every connect"
	expect_records 0 '.type == "connect-repeat"' "--repeat-window 0: no repeat records"
	"$AM" monitor --repeat-window 3601 > /dev/null 2> "$WORK/window.err"
	expect_eq "$?" 2 "--repeat-window 3601 exit status"
	expect_true grep -q -- "--repeat-window '3601': expected seconds from 0 to 3600" "$WORK/window.err"
}

test_text_format_is_one_line() {
	monitor_start --format text || return
	pod_run busy "$AM_CONNECT" 127.0.0.1 9 4
	local pid=$LAST_PID
	monitor_stop
	local line
	line=$(grep " connect-repeat .* pid=$pid " "$OUT")
	expect_eq "$(echo "$line" | grep -c .)" 1 "one text line for the repeats"
	expect_true grep -Eq "^[0-9T:.-]+Z connect-repeat pod=shop/busy container=app pid=$pid uid=0 comm=am-connect exe=[^ ]*/am-connect -> 127\.0\.0\.1:9/tcp count=3 first=[0-9T:.-]+Z last=[0-9T:.-]+Z$" <<< "$line"
}

test_a_recorded_trace_replays_the_same_lines() {
	local trace="$WORK/volume.am"
	monitor_start --record "$trace" || return
	pod_run busy "$AM_CONNECT" 127.0.0.1 9 5000
	local pid=$LAST_PID
	pod_run other "$AM_CONNECT" 127.0.0.1 9 10
	sleep 2.2 # a flush while running, and the one at exit
	pod_run busy "$AM_CONNECT" 127.0.0.1 9 100
	local later=$LAST_PID
	monitor_stop
	expect_true test "$(repeats_of "$pid")" -eq 4999
	# Two flushes later, still in the window: the first contact was carried over.
	expect_eq "$(connects "$later")" 0 "a contact seconds later, in the window"
	expect_eq "$(repeats_of "$later")" 100 "its repeats"
	expect_true test "$(records '.type == "connect-repeat"' | wc -l)" -ge 3
	"$AM" replay --events "$trace" > "$WORK/replayed.jsonl" 2> "$WORK/replayed.err"
	expect_eq "$?" 0 "replay exit status"
	if ! cmp -s "$OUT" "$WORK/replayed.jsonl"; then
		fail "the replay differs from the live run"
		diff <(cut -c1-200 "$OUT") <(cut -c1-200 "$WORK/replayed.jsonl") | head -6 >&2
	fi
	"$AM" trace info "$trace" > "$WORK/info.json"
	expect_eq "$(jq -r '.records["connect-repeat"]' "$WORK/info.json")" "$(records '.type == "connect-repeat"' | wc -l)" "trace info's connect-repeat records"
}

e2e_main volume
