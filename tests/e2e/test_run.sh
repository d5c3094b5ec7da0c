#!/usr/bin/env bash
# End to end: running the monitor. Its sinks (a webhook that dies and comes back,
# one that answers 503, a rotating file, syslog over UDP, TCP and a unix socket),
# the /metrics, /healthz and /readyz endpoint, the config file and its overrides,
# SIGHUP reloads, check-config, and the capabilities the DaemonSet grants: enough,
# and each one needed.
source "$(dirname "$0")/lib.sh"

FAKE_WEBHOOK="$E2E_ROOT/tests/helpers/fake_webhook.py"
FAKE_SYSLOG="$E2E_ROOT/tests/helpers/fake_syslog.py"
AZURE_JSON="$NODE_ROOT/etc/kubernetes/azure.json"

# One pod on a fake node whose tree only root can read (0700 directories, 0600
# files): the monitor reads it with CAP_DAC_READ_SEARCH, nothing else.
node_tree_init
pod_define app shop
pod_up app
pod_bundle app
chmod -R go-rwx "$NODE_ROOT"
chmod 644 "$PODS_JSON"

# am_start [OPTIONS...]: the monitor with the PodList and a ready file and nothing
# else implied (no --events: a config file may be what sets it); waits until ready.
am_start() {
	local ready="$WORK/monitor.ready"
	rm -f "$ready"
	: > "$OUT"
	"$AM" monitor --ready-file "$ready" --pods "$PODS_JSON" "$@" > "$OUT" 2> "$ERR" &
	MONITOR_PID=$!
	monitor_wait_ready "$ready"
}

# sends N [DELAY]: N UDP sends from the pod to 169.254.169.254:9 in its own
# network namespace, DELAY seconds apart; LAST_PID is the sender. To IMDS's
# address, which the kernel never aggregates: every send is a line.
sends() {
	pod_run app python3 -c '
import socket, sys, time
n, delay = int(sys.argv[1]), float(sys.argv[2])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for i in range(n):
    try:
        s.sendto(b"x", ("169.254.169.254", 9))
    except OSError:
        pass
    if delay:
        time.sleep(delay)
' "$1" "${2:-0}"
}

# status_is URL CODE: a GET of URL answers HTTP status CODE (for wait_until).
status_is() {
	[ "$(curl -s -m 2 -o /dev/null -w '%{http_code}' "$1")" = "$2" ]
}

# lines_ge FILE N: FILE has at least N lines (for wait_until).
lines_ge() {
	[ -f "$1" ] && [ "$(wc -l < "$1")" -ge "$2" ]
}

# webhook_start PORT LINES_FILE [FAIL_FIRST]: fake_webhook.py on 127.0.0.1:PORT (0:
# any); WEBHOOK_PID and WEBHOOK_PORT say where it runs.
webhook_start() {
	local ready="$WORK/webhook.ready.$RANDOM$RANDOM"
	python3 "$FAKE_WEBHOOK" 127.0.0.1 "$1" "$2" "$ready" "${3:-0}" > /dev/null 2> "$WORK/webhook.err" &
	WEBHOOK_PID=$!
	BACKGROUND_PIDS+=("$WEBHOOK_PID")
	if ! wait_until 30 test -s "$ready"; then
		fail "fake webhook on port $1 did not start: $(cat "$WORK/webhook.err")"
		return 1
	fi
	WEBHOOK_PORT=$(cat "$ready")
}

# --- the webhook sink ------------------------------------------------------

# webhook_settled PORT NAME LINES: the webhook sink NAME is up, and the last
# sink-lost record LINES received about it has the total the metrics have. Sets
# up, dropped and last_total (the caller's locals).
webhook_settled() {
	local series="{sink=\"$2\",kind=\"webhook\"}"
	up=$(metric "$1" "accessmon_sink_up$series")
	dropped=$(metric "$1" "accessmon_sink_dropped_lines_total$series")
	last_total=$(jq -s "[.[] | select(.type == \"sink-lost\" and .sink == \"$2\")] | last | .lost_total" "$3")
	# Not "nothing queued": the monitor's own POSTs are connect events, and --events
	# writes them, so a line or two is always on its way.
	[ "$up" = 1 ] && [ "$last_total" = "$dropped" ]
}

# The issue's "done when": a receiver killed mid-stream and back. What the full
# queue dropped is counted, said on every sink, and the counts agree.
test_webhook_killed_mid_stream_and_back() {
	local token="tok-$RANDOM$RANDOM$RANDOM-not-for-logs" port lport name sink
	local up dropped failures p1 p2 p3 paced last_total stdout_total
	printf '%s\n' "$token" > "$WORK/webhook.token"
	chmod 600 "$WORK/webhook.token"
	webhook_start 0 "$WORK/webhook1.lines" || return
	port=$WEBHOOK_PORT
	name="webhook:http://127.0.0.1:$port/ingest"
	sink="{sink=\"$name\",kind=\"webhook\"}"
	lport=$(free_port)
	am_start --events --sink stdout --listen "$lport" \
		--sink "webhook:http://127.0.0.1:$port/ingest,token-file=$WORK/webhook.token,queue=64K,flush-ms=200,batch-lines=20" || return

	# Up: paced events all arrive.
	sends 40 0.02
	p1=$LAST_PID
	wait_until 10 count_is "$WORK/webhook1.lines" ".type == \"send\" and .proc.pid == $p1" 40 ||
		fail "the receiver got $(count "$WORK/webhook1.lines" ".proc.pid == $p1") of 40 sends before it was killed"

	# Killed mid-stream: the queue fills, lines are dropped and counted, stdout goes on.
	kill -KILL "$WEBHOOK_PID"
	wait "$WEBHOOK_PID" 2>/dev/null
	sends 3000
	p2=$LAST_PID
	# A burst is read in big batches, each dropped whole; paced lines fill the queue
	# to the brim. Then single lines, each dropped alone and reported in a record
	# of its own, which the queue takes as long as there is room for one.
	sends 150 0.005
	paced=$LAST_PID
	sends 8 0.3
	wait_until 10 metric_is "$lport" "accessmon_sink_up$sink" 0 ||
		fail "accessmon_sink_up of the dead webhook: '$(metric "$lport" "accessmon_sink_up$sink")', expected 0"
	wait_until 5 metric_ge "$lport" "accessmon_sink_dropped_lines_total$sink" 1 ||
		fail "accessmon_sink_dropped_lines_total of the dead webhook: '$(metric "$lport" "accessmon_sink_dropped_lines_total$sink")', expected > 0"
	failures=$(metric "$lport" "accessmon_sink_failures_total$sink")
	expect_true test "${failures:-0}" -gt 0
	expect_true kill -0 "$MONITOR_PID" || return
	wait_until 10 count_is "$OUT" ".type == \"send\" and .proc.pid == $p2" 3000 ||
		fail "stdout got $(count "$OUT" ".proc.pid == $p2") of the 3000 sends made while the webhook was down"
	wait_until 5 count_is "$OUT" ".type == \"send\" and .proc.pid == $paced" 150 ||
		fail "stdout got $(count "$OUT" ".proc.pid == $paced") of the 150 paced sends made while the webhook was down"
	expect_eq "$(metric "$lport" 'accessmon_sink_dropped_lines_total{sink="stdout",kind="stdout"}')" 0 \
		"lines stdout dropped"
	expect_true grep -q "accessmon: sink $name dropped [0-9]* lines (queue full (65536 bytes)" "$ERR" ||
		cat "$ERR" >&2
	# Nothing happens for 3 s: nothing new is dropped, so next to nothing is reported.
	# (The sink-lost record meant for the full queue is itself dropped; reported at
	# every turn of the event loop, that made 10-20 records a second.)
	local reports_before reports_after
	reports_before=$(count "$OUT" '.type == "sink-lost"')
	sleep 3
	reports_after=$(count "$OUT" '.type == "sink-lost"')
	if [ $((reports_after - reports_before)) -gt 6 ]; then
		fail "$((reports_after - reports_before)) sink-lost records on stdout in 3 quiet seconds (the reports of dropped reports)"
	fi

	# Back on the same port: what was queued, then the loss report, then new lines.
	webhook_start "$port" "$WORK/webhook2.lines" || return
	wait_until 40 count_ge "$WORK/webhook2.lines" ".type == \"sink-lost\" and .sink == \"$name\" and .lost > 0" 1 ||
		fail "no sink-lost record naming $name reached the receiver after its restart"
	sends 20 0.02
	p3=$LAST_PID
	wait_until 10 count_is "$WORK/webhook2.lines" ".type == \"send\" and .proc.pid == $p3" 20 ||
		fail "the restarted receiver got $(count "$WORK/webhook2.lines" ".proc.pid == $p3") of 20 new sends"
	# Settled: up, and the last report's total is the metric's.
	wait_until 12 webhook_settled "$lport" "$name" "$WORK/webhook2.lines" ||
		fail "after the restart: sink_up '$up' (expected 1), last sink-lost lost_total '$last_total' vs accessmon_sink_dropped_lines_total '$dropped'"
	expect_true kill -0 "$MONITOR_PID"
	monitor_stop

	stdout_total=$(jq -s "[.[] | select(.type == \"sink-lost\" and .sink == \"$name\")] | last | .lost_total" "$OUT")
	expect_eq "$stdout_total" "$dropped" "lost_total of the last sink-lost record on stdout"
	expect_records 0 ".type == \"sink-lost\" and .sink != \"$name\"" "sink-lost records naming another sink"
	expect_records 0 ".type == \"sink-lost\" and (.lost <= 0 or (.reason | startswith(\"queue full (65536 bytes)\") | not))" \
		"well-formed sink-lost records"
	expect_eq "$(jq -s "[.[] | select(.type == \"sink-lost\" and .sink == \"$name\") | .lost] | add" "$OUT")" "$dropped" \
		"the sink-lost counts on stdout add up to the total"
	# Nothing was lost before the kill.
	expect_eq "$(count "$WORK/webhook1.lines" ".type == \"sink-lost\"")" 0 "sink-lost records before the kill"
	# The token: sent as a bearer token on every POST, written nowhere.
	expect_eq "$(jq -r '.authorization' "$WORK/webhook1.lines.requests" "$WORK/webhook2.lines.requests" | sort -u)" \
		"Bearer $token" "Authorization header of every POST"
	expect_eq "$(jq -r '.content_type' "$WORK/webhook1.lines.requests" "$WORK/webhook2.lines.requests" | sort -u)" \
		"application/x-ndjson" "Content-Type of every POST"
	if grep -qF "$token" "$OUT" "$ERR"; then
		fail "the webhook token appears in the monitor's output"
	fi
}

# A receiver answering 503 twice: the batch is retried, every line arrives once.
test_webhook_retries_until_accepted() {
	local lport name sink failures
	webhook_start 0 "$WORK/retry.lines" 2 || return
	name="webhook:http://127.0.0.1:$WEBHOOK_PORT/ingest"
	sink="{sink=\"$name\",kind=\"webhook\"}"
	lport=$(free_port)
	ACCESSMON_WEBHOOK_TOKEN=env-token am_start --events --sink stdout --listen "$lport" \
		--sink "webhook:http://127.0.0.1:$WEBHOOK_PORT/ingest?key=q,flush-ms=100" || return
	local monitor_pid=$MONITOR_PID
	sends 100 0.005
	wait_until 15 count_is "$WORK/retry.lines" ".type == \"send\" and .proc.pid == $LAST_PID" 100 ||
		fail "the receiver got $(count "$WORK/retry.lines" ".proc.pid == $LAST_PID") of 100 sends"
	wait_until 3 metric_ge "$lport" "accessmon_sink_failures_total$sink" 2 ||
		fail "accessmon_sink_failures_total after two 503s: '$(metric "$lport" "accessmon_sink_failures_total$sink")', expected >= 2"
	expect_eq "$(metric "$lport" "accessmon_sink_dropped_lines_total$sink")" 0 "lines dropped"
	wait_until 3 metric_is "$lport" "accessmon_sink_up$sink" 1 ||
		fail "accessmon_sink_up after the retries: '$(metric "$lport" "accessmon_sink_up$sink")', expected 1"
	monitor_stop
	expect_eq "$(jq -r .status "$WORK/retry.lines.requests" | head -n 3 | tr '\n' ' ')" "503 503 204 " \
		"the receiver's answers"
	expect_eq "$(jq -r .authorization "$WORK/retry.lines.requests" | sort -u)" "Bearer env-token" \
		"token from ACCESSMON_WEBHOOK_TOKEN"
	expect_eq "$(jq -r .path "$WORK/retry.lines.requests" | sort -u)" "/ingest?key=q" "the URL's path and query"
	# Exactly once each: the same lines as stdout, none twice.
	expect_true test "$(wc -l < "$OUT")" -ge 100
	if ! cmp -s <(sort "$OUT") <(sort "$WORK/retry.lines"); then
		fail "the webhook's lines differ from stdout's ($(wc -l < "$WORK/retry.lines") vs $(wc -l < "$OUT"))"
		diff <(sort "$OUT" | cut -c1-120) <(sort "$WORK/retry.lines" | cut -c1-120) | head -n 6 >&2
	fi
	expect_eq "$(sort "$WORK/retry.lines" | uniq -d | wc -l)" 0 "lines delivered twice"
	expect_records 0 '.type == "sink-lost"' "sink-lost records"
	if grep -q "env-token" "$OUT" "$ERR"; then
		fail "the webhook token appears in the monitor's output"
	fi
	# The monitor's own POSTs are not events: reported, they would feed the webhook
	# a line per flush forever, and their proc.args would carry the command line,
	# the webhook URL's query included, which the sink's name leaves out on purpose.
	expect_records 0 ".proc.pid == $monitor_pid" "records of the monitor's own process"
	if grep -q "key=q" "$OUT" "$ERR"; then
		fail "the webhook URL's query appears in the monitor's output, in $(grep -c "key=q" "$OUT") records of its own connects: $(grep -o '"comm":"[^"]*","exe":"[^"]*"' <(grep "key=q" "$OUT") | sort -u | head -n 1)"
	fi
}

# --- the file sink -----------------------------------------------------------

test_file_sink_rotates_and_never_follows_a_symlink() {
	local file="$WORK/alerts.jsonl" f size longest
	echo "untouched" > "$WORK/victim"
	# A link at a rotation target is replaced by the rename, never written through.
	ln -s "$WORK/victim" "$file.1"
	am_start --events --sink "file:$file,max-size=64K,keep=2" || return
	sends 600 0.001
	wait_until 10 test -f "$file.2"
	monitor_stop
	expect_eq "$(wc -c < "$OUT")" 0 "bytes on stdout (not a sink)"
	for f in "$file" "$file.1" "$file.2"; do
		if [ ! -f "$f" ] || [ -L "$f" ]; then
			fail "$f: missing or not a regular file"
			continue
		fi
		expect_eq "$(stat -c %a "$f")" 600 "mode of $f"
		size=$(stat -c %s "$f")
		longest=$(awk '{ if (length($0) + 1 > n) n = length($0) + 1 } END { print n + 0 }' "$f")
		expect_true test "$size" -gt 0
		expect_true test "$size" -le $((65536 + longest))
		if ! jq -e . "$f" > /dev/null 2>&1; then
			fail "$f holds a line that is not JSON"
		fi
		expect_eq "$(jq -c . "$f" | wc -l)" "$(wc -l < "$f")" "JSON values in $f, one a line"
	done
	expect_true test ! -e "$file.3"
	expect_eq "$(cat "$WORK/victim")" "untouched" "the target of a link at $file.1"
	# The newest lines are in FILE, the oldest kept in FILE.2.
	expect_true test "$(head -n 1 "$file.2" | jq -r .time)" \< "$(head -n 1 "$file" | jq -r .time)"
	expect_true test "$(count "$file" ".type == \"send\"")" -gt 0

	# A link planted at the file's own path: refused before anything starts.
	echo "untouched" > "$WORK/victim2"
	chmod 644 "$WORK/victim2"
	ln -s "$WORK/victim2" "$WORK/linked.jsonl"
	timeout 20 "$AM" monitor --events --sink "file:$WORK/linked.jsonl" --ready-file "$WORK/linked.ready" \
		> "$WORK/linked.out" 2> "$WORK/linked.err"
	local rc=$?
	expect_true test "$rc" != 0 && expect_true test "$rc" != 124
	expect_true grep -q "sink file:$WORK/linked.jsonl: is a symbolic link" "$WORK/linked.err" ||
		cat "$WORK/linked.err" >&2
	expect_eq "$(cat "$WORK/victim2")" "untouched" "the symlink's target"
	expect_eq "$(stat -c %a "$WORK/victim2")" 644 "the symlink's target's mode"
	expect_true test -L "$WORK/linked.jsonl"
	expect_true test ! -e "$WORK/linked.ready"
}

# --- syslog -------------------------------------------------------------------

test_syslog_over_udp_tcp_and_unix() {
	local dir="$WORK/syslog" udp tcp transport
	mkdir -p "$dir"
	python3 "$FAKE_SYSLOG" "$dir" "$dir/ready" --udp 127.0.0.1:0 --tcp 127.0.0.1:0 \
		--unix "$dir/log.sock" > /dev/null 2> "$dir/err" &
	BACKGROUND_PIDS+=("$!")
	wait_until 30 test -s "$dir/ready" || { fail "fake syslog did not start: $(cat "$dir/err")"; return; }
	udp=$(awk '$1 == "udp" { print $2 }' "$dir/ready")
	tcp=$(awk '$1 == "tcp" { print $2 }' "$dir/ready")
	am_start --events --host-root "$NODE_ROOT" --sink stdout --sink "syslog:udp:127.0.0.1:$udp" \
		--sink "syslog:tcp:127.0.0.1:$tcp" --sink "syslog:unix:$dir/log.sock" || return
	pod_run app cat "$AZURE_JSON" > /dev/null
	# Three destinations: repeats of one would be counted, not reported.
	for port in 9 10 11; do
		pod_run app "$AM_CONNECT" 127.0.0.1 "$port"
	done
	sends 5
	wait_until 5 count_ge "$OUT" '.type == "alert"' 1
	local pid=$MONITOR_PID
	monitor_stop
	# (The datagrams to IMDS raise imds-access alerts of their own.)
	expect_eq "$(alerts '.rule != "imds-access"')" node-credential-read "alerts on stdout" || { cat "$ERR" >&2; return; }
	expect_true test "$(count "$OUT" '.type == "connect"')" -ge 3
	for transport in udp tcp unix; do
		wait_until 5 lines_ge "$dir/$transport.log" "$(wc -l < "$OUT")"
		check_syslog "$dir/$transport.log" "$OUT" "$pid" || fail "syslog over $transport"
	done
	expect_eq "$(grep -c '^!! bad frame' "$dir/tcp.log")" 0 "TCP frames that are not octet counted"
}

# check_syslog RECEIVED STDOUT PID: every message RECEIVED is RFC 5424 as the
# monitor (PID) writes it, with the PRI and MSGID its record calls for, and its
# JSON is the same line as on stdout, in the same order.
check_syslog() {
	python3 - "$@" <<'PY'
import json, re, sys
got, want, pid = sys.argv[1], sys.argv[2], sys.argv[3]
header = re.compile(r"^<([0-9]+)>1 (\S+) (\S+) accessmon ([0-9]+) (event|alert|loss) - (\{.*)$")
severity = {"critical": 2, "high": 3, "medium": 4, "low": 5}
lines = open(got, encoding="utf-8", errors="replace").read().splitlines()
expected = open(want, encoding="utf-8").read().splitlines()
problems = []
if len(lines) != len(expected):
    problems.append("%d messages, stdout has %d lines" % (len(lines), len(expected)))
alerts = 0
for i, line in enumerate(lines):
    m = header.match(line)
    if not m:
        problems.append("message %d is not RFC 5424 as expected: %.120s" % (i, line))
        continue
    pri, stamp, host, procid, msgid, text = m.groups()
    if not re.match(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,6})?Z$", stamp):
        problems.append("message %d: timestamp %s" % (i, stamp))
    if procid != pid:
        problems.append("message %d: PROCID %s, the monitor is %s" % (i, procid, pid))
    try:
        record = json.loads(text)
    except ValueError as e:
        problems.append("message %d: the JSON does not parse: %s" % (i, e))
        continue
    if i < len(expected) and text != expected[i]:
        problems.append("message %d differs from stdout line %d:\n  %.150s\n  %.150s" % (i, i, text, expected[i]))
    kind = record.get("type")
    if kind == "alert":
        alerts += 1
        want_msgid, want_pri = "alert", 10 * 8 + severity[record["severity"]]
    elif kind.endswith("-lost") or kind == "monitor-degraded":
        want_msgid, want_pri = "loss", 10 * 8 + 4
    else:
        want_msgid, want_pri = "event", 10 * 8 + 6
    if msgid != want_msgid or int(pri) != want_pri:
        problems.append("message %d (%s): <%s> %s, expected <%d> %s" % (i, kind, pri, msgid, want_pri, want_msgid))
if alerts == 0:
    problems.append("no alert message")
for p in problems[:10]:
    print("    " + p, file=sys.stderr)
sys.exit(1 if problems else 0)
PY
}

# --- metrics and health -------------------------------------------------------

test_metrics_healthz_and_readyz() {
	local lport before after family body status url
	lport=$(free_port)
	url="http://127.0.0.1:$lport"
	am_start --events --host-root "$NODE_ROOT" --listen "$lport" --bpf-stats || return
	expect_true grep -q "serving /metrics, /healthz and /readyz on 127.0.0.1:$lport" "$ERR"
	# Loopback only, unless an address is given: the kernel's own view of the socket.
	expect_eq "$(ss -Hltn "sport = :$lport" | awk '{ print $4 }')" "127.0.0.1:$lport" "listening on"
	body=$(curl -s -m 2 "$url/healthz")
	expect_eq "$body" ok "/healthz body"
	expect_true status_is "$url/healthz" 200
	wait_until 3 status_is "$url/readyz" 200 ||
		fail "/readyz once ready: $(curl -s -m 2 -w ' %{http_code}' "$url/readyz")"
	status=$(curl -s -m 2 -o /dev/null -w '%{http_code}' "$url/no-such-page")
	expect_eq "$status" 404 "an unknown path"
	wait_until 3 metric_is "$lport" accessmon_ready 1 || fail "accessmon_ready: '$(metric "$lport" accessmon_ready)'"

	before=$(metric "$lport" 'accessmon_records_total{type="connect"}')
	# Twenty destinations: repeats of one would be counted, not reported.
	for port in $(seq 9 28); do
		pod_run app "$AM_CONNECT" 127.0.0.1 "$port"
	done
	wait_until 5 metric_ge "$lport" 'accessmon_records_total{type="connect"}' $((before + 20)) ||
		fail "accessmon_records_total{type=\"connect\"}: $before before 20 connects, $(metric "$lport" 'accessmon_records_total{type="connect"}') after"
	pod_run app cat "$AZURE_JSON" > /dev/null
	wait_until 5 metric_is "$lport" 'accessmon_alerts_total{rule="node-credential-read",severity="high"}' 1 ||
		fail "accessmon_alerts_total of the node-credential-read alert: '$(metric "$lport" 'accessmon_alerts_total{rule="node-credential-read",severity="high"}')', expected 1"
	after=$(metric "$lport" 'accessmon_sink_written_lines_total{sink="stdout",kind="stdout"}')
	expect_true test "${after:-0}" -ge 21

	curl -s -m 2 "$url/metrics" > "$WORK/metrics.txt"
	for family in accessmon_records_total accessmon_events_lost_total accessmon_ringbuf_used_bytes \
		accessmon_ringbuf_size_bytes accessmon_alerts_total accessmon_sink_queue_lines \
		accessmon_sink_queue_bytes accessmon_sink_written_lines_total accessmon_sink_dropped_lines_total \
		accessmon_sink_failures_total accessmon_sink_up accessmon_pods accessmon_processes \
		accessmon_cgroups accessmon_watched_secrets accessmon_config_reloads_total \
		accessmon_bpf_stats_enabled accessmon_bpf_program_runs_total \
		accessmon_bpf_program_run_seconds_total accessmon_ready accessmon_build_info; do
		grep -q "^# TYPE $family \(counter\|gauge\)$" "$WORK/metrics.txt" || fail "no family $family in /metrics"
		grep -Eq "^$family(\{[^}]*\})? " "$WORK/metrics.txt" || fail "no sample of $family in /metrics"
	done
	if grep -v '^#' "$WORK/metrics.txt" | grep -Evq '^[a-zA-Z_:][a-zA-Z0-9_:]*(\{[^}]*\})? [0-9.eE+-]+$'; then
		fail "lines of /metrics that are not Prometheus samples:"
		grep -v '^#' "$WORK/metrics.txt" | grep -Ev '^[a-zA-Z_:][a-zA-Z0-9_:]*(\{[^}]*\})? [0-9.eE+-]+$' | head -n 5 >&2
	fi
	if grep '^#' "$WORK/metrics.txt" | grep -Evq '^# (HELP|TYPE) [a-zA-Z_:][a-zA-Z0-9_:]* '; then
		fail "comment lines of /metrics that are neither HELP nor TYPE"
	fi
	expect_eq "$(awk '$1 == "accessmon_pods" { print $2 }' "$WORK/metrics.txt")" 1 "accessmon_pods"
	expect_eq "$(awk '$1 == "accessmon_ringbuf_size_bytes" { print $2 }' "$WORK/metrics.txt")" 4194304 \
		"accessmon_ringbuf_size_bytes"
	expect_true test "$(awk '$1 == "accessmon_watched_secrets" { print $2 }' "$WORK/metrics.txt")" -ge 1
	expect_true grep -Eq '^accessmon_build_info\{version="[^"]+"\} 1$' "$WORK/metrics.txt"
	# --bpf-stats: the kernel counts the programs' runs while the monitor runs.
	expect_eq "$(awk '$1 == "accessmon_bpf_stats_enabled" { print $2 }' "$WORK/metrics.txt")" 1 \
		"accessmon_bpf_stats_enabled with --bpf-stats"
	expect_true test "$(awk '$1 == "accessmon_bpf_program_runs_total{program=\"am_connect4\"}" { print $2 }' "$WORK/metrics.txt")" -ge 20
	monitor_stop
	# Gone with the monitor.
	expect_eq "$(curl -s -m 2 -o /dev/null -w '%{http_code}' "$url/healthz")" 000 "/healthz after exit"
}

# --- config file ----------------------------------------------------------------

test_config_file_and_command_line_overrides() {
	local cfg="$WORK/run-config.json" file="$WORK/config-sink.jsonl" lport size
	lport=$(free_port)
	cat > "$cfg" <<-EOF
	{
	  "events": false,
	  "sink": ["file:$file"],
	  "listen": $lport,
	  "host-root": "$NODE_ROOT"
	}
	EOF
	# The config alone: alerts only, to the file, metrics on its port.
	am_start --config "$cfg" || return
	expect_eq "$(curl -s -m 2 "http://127.0.0.1:$lport/healthz")" ok "/healthz on the config's port"
	pod_run app "$AM_CONNECT" 127.0.0.1 9
	local quiet_pid=$LAST_PID
	pod_run app cat "$AZURE_JSON" > /dev/null
	monitor_stop
	expect_eq "$(count "$file" '.type == "alert" and .rule == "node-credential-read"')" 1 "the alert, in the config's file sink"
	expect_eq "$(count "$file" ".proc.pid == $quiet_pid")" 0 "events with \"events\": false"
	expect_eq "$(count "$file" '.type == "open"')" 0 "events with \"events\": false"
	expect_eq "$(wc -c < "$OUT")" 0 "bytes on stdout (not in the config's sinks)"

	# --events on the command line overrides the config's false.
	am_start --config "$cfg" --events || return
	pod_run app "$AM_CONNECT" 127.0.0.1 9
	local events_pid=$LAST_PID
	monitor_stop
	expect_eq "$(count "$file" ".type == \"connect\" and .proc.pid == $events_pid")" 1 "the connect, with --events"
	expect_eq "$(wc -c < "$OUT")" 0 "bytes on stdout"

	# --sink stdout on the command line replaces the config's sinks.
	size=$(stat -c %s "$file")
	am_start --config "$cfg" --events --sink stdout || return
	expect_eq "$(curl -s -m 2 "http://127.0.0.1:$lport/healthz")" ok "/healthz on the config's port"
	pod_run app "$AM_CONNECT" 127.0.0.1 9
	local stdout_pid=$LAST_PID
	monitor_stop
	expect_records 1 ".type == \"connect\" and .proc.pid == $stdout_pid" "the connect, on stdout"
	expect_eq "$(stat -c %s "$file")" "$size" "size of the config's file sink, replaced"

	# An unknown key: refused, with its place.
	printf '{\n  "events": true,\n  "bogus-key": 1\n}\n' > "$WORK/bad-config.json"
	"$AM" monitor --config "$WORK/bad-config.json" > "$WORK/bad-config.out" 2> "$WORK/bad-config.err"
	expect_eq "$?" 2 "exit status with an unknown key"
	expect_true grep -q "$WORK/bad-config.json:3:3: unknown option \"bogus-key\"" "$WORK/bad-config.err" ||
		cat "$WORK/bad-config.err" >&2
	expect_eq "$(wc -c < "$WORK/bad-config.out")" 0 "bytes on stdout"
	# --format text with a sink that is not stdout: refused.
	"$AM" monitor --format text --sink "file:$WORK/text.log" > /dev/null 2> "$WORK/text.err"
	expect_eq "$?" 2 "exit status of --format text with a file sink"
	expect_true test ! -e "$WORK/text.log"
}

# --- SIGHUP -------------------------------------------------------------------

test_sighup_reloads_sinks_events_and_refuses_a_bad_config() {
	local cfg="$WORK/reload-config.json" file="$WORK/reload-sink.jsonl" lport
	lport=$(free_port)
	echo '{"allow": [], "severity": {}}' > "$WORK/reload-policy.json"
	write_config() { # write_config EVENTS SINKS_JSON [EXTRA]
		cat > "$cfg.tmp" <<-EOF
		{
		  "events": $1,
		  "sink": $2,
		  "policy": "$WORK/reload-policy.json",
		  "host-root": "$NODE_ROOT",
		  "listen": $lport${3:+,
		  $3}
		}
		EOF
		mv "$cfg.tmp" "$cfg"
	}
	write_config false '["stdout"]'
	am_start --config "$cfg" || return
	# Each connect to a port of its own: a repeat would be counted, not reported.
	pod_run app "$AM_CONNECT" 127.0.0.1 9
	local before_pid=$LAST_PID

	write_config true "[\"stdout\", \"file:$file\"]"
	kill -HUP "$MONITOR_PID"
	wait_until 5 grep -q "accessmon: reloaded the configuration, identity data and policy" "$ERR" ||
		fail "no reload said on stderr: $(cat "$ERR")"
	pod_run app "$AM_CONNECT" 127.0.0.1 10
	local after_pid=$LAST_PID
	wait_until 5 count_is "$file" ".type == \"connect\" and .proc.pid == $after_pid" 1 ||
		fail "the connect after the reload is not in the new file sink"
	wait_until 3 metric_is "$lport" 'accessmon_config_reloads_total{result="ok"}' 1 ||
		fail "reloads ok: '$(metric "$lport" 'accessmon_config_reloads_total{result="ok"}')', expected 1"

	# Invalid JSON: said why, where, and everything kept.
	printf '{\n  "events": false,\n  "sink": [\n' > "$cfg"
	kill -HUP "$MONITOR_PID"
	wait_until 5 grep -q "reload: .*keeping the settings loaded before" "$ERR" ||
		fail "no failed reload said on stderr: $(cat "$ERR")"
	expect_true grep -Eq "accessmon: reload: $cfg:[0-9]+:[0-9]+: .*; keeping the settings loaded before" "$ERR" ||
		cat "$ERR" >&2
	pod_run app "$AM_CONNECT" 127.0.0.1 11
	local kept_pid=$LAST_PID
	wait_until 5 count_is "$file" ".type == \"connect\" and .proc.pid == $kept_pid" 1 ||
		fail "the file sink stopped after a failed reload"
	expect_true kill -0 "$MONITOR_PID"
	wait_until 3 metric_is "$lport" 'accessmon_config_reloads_total{result="failed"}' 1 ||
		fail "reloads failed: '$(metric "$lport" 'accessmon_config_reloads_total{result="failed"}')', expected 1"
	expect_eq "$(metric "$lport" 'accessmon_config_reloads_total{result="ok"}')" 1 "reloads ok"

	# A setting only a restart changes: said, and the running value kept.
	write_config true "[\"stdout\", \"file:$file\"]" '"ringbuf-size": 16384'
	kill -HUP "$MONITOR_PID"
	wait_until 5 grep -q "'ringbuf-size' .*changes only at a restart; keeping the running value" "$ERR" ||
		fail "a ringbuf-size change is not said to need a restart: $(cat "$ERR")"
	wait_until 3 metric_is "$lport" 'accessmon_config_reloads_total{result="ok"}' 2 ||
		fail "reloads ok: '$(metric "$lport" 'accessmon_config_reloads_total{result="ok"}')', expected 2"
	expect_eq "$(metric "$lport" accessmon_ringbuf_size_bytes)" 4194304 "ring buffer size after the reload"
	monitor_stop
	expect_records 0 ".proc.pid == $before_pid" "events before the reload turned them on"
	expect_records 1 ".type == \"connect\" and .proc.pid == $after_pid" "the connect after the reload, on stdout"
	expect_records 1 ".type == \"connect\" and .proc.pid == $kept_pid" "the connect after the failed reload, on stdout"
	expect_eq "$(count "$file" ".proc.pid == $before_pid")" 0 "events before the reload in the file"
}

# Attached, the monitor drops every capability but CAP_DAC_READ_SEARCH (and
# CAP_BPF where the kernel's bpf(2) needs it for the maps), in every thread, for
# good (bounding set, no_new_privs), says so, and goes on working: events, an
# alert from a watched file, a reload that opens a new file sink.
test_capabilities_dropped_once_attached() {
	local cfg="$WORK/drop-config.json" file="$WORK/drop-sink.jsonl" lport task field
	lport=$(free_port)
	echo "{\"events\": true, \"host-root\": \"$NODE_ROOT\", \"listen\": $lport}" > "$cfg"
	am_start --config "$cfg" || return
	kept_caps
	expect_true grep -q "accessmon: probes attached; dropped $KEPT_SAID" "$ERR" || cat "$ERR" >&2
	expect_true test "$(ls "/proc/$MONITOR_PID/task" | wc -l)" -ge 3
	for task in /proc/"$MONITOR_PID"/task/*; do
		for field in CapEff CapPrm CapBnd; do
			expect_eq "$(awk -v f="$field:" '$1 == f { print $2 }' "$task/status")" "$KEPT_MASK" \
				"$field of thread ${task##*/}"
		done
		expect_eq "$(awk '$1 == "CapInh:" || $1 == "CapAmb:" { print $2 }' "$task/status" | sort -u)" \
			0000000000000000 "inheritable and ambient of thread ${task##*/}"
		expect_eq "$(awk '$1 == "NoNewPrivs:" { print $2 }' "$task/status")" 1 "no_new_privs of thread ${task##*/}"
	done
	pod_run app "$AM_CONNECT" 127.0.0.1 9
	local connect_pid=$LAST_PID
	pod_run app cat "$AZURE_JSON" > /dev/null
	wait_until 5 count_ge "$OUT" '.type == "alert" and .rule == "node-credential-read"' 1 ||
		fail "no node-credential-read alert after the capabilities were dropped"
	echo "{\"events\": true, \"host-root\": \"$NODE_ROOT\", \"listen\": $lport, \"sink\": [\"stdout\", \"file:$file\"]}" > "$cfg"
	kill -HUP "$MONITOR_PID"
	wait_until 5 grep -q "reloaded the configuration" "$ERR" || fail "no reload: $(cat "$ERR")"
	pod_run app "$AM_CONNECT" 127.0.0.1 10
	local after=$LAST_PID
	wait_until 5 count_is "$file" ".type == \"connect\" and .proc.pid == $after" 1 ||
		fail "the file sink a reload added after the drop got no connect"
	wait_until 3 metric_ge "$lport" 'accessmon_records_total{type="connect"}' 2 ||
		fail "/metrics after the drop: $(metric "$lport" 'accessmon_records_total{type="connect"}')"
	monitor_stop
	expect_records 1 ".type == \"connect\" and .proc.pid == $connect_pid" "a connect after the drop"
	# (The line that says what was kept names the kernel's refusal that decided it.)
	if grep -v "probes attached; dropped" "$ERR" | grep -q "Operation not permitted\|Permission denied"; then
		fail "a refusal on stderr after the drop: $(cat "$ERR")"
	fi
}

# --- check-config ---------------------------------------------------------------

test_check_config_reports_every_problem() {
	local dir="$WORK/check" out rc
	mkdir -p "$dir/ids"
	printf '{"events": "yes",\n "bogus": 1,\n "ringbuf-size": 1000}\n' > "$dir/three.json"
	"$AM" check-config "$dir/three.json" > "$dir/out" 2>&1
	rc=$?
	expect_eq "$rc" 1 "exit status with three problems"
	expect_eq "$(grep -c . "$dir/out")" 4 "lines: three problems and the summary" || cat "$dir/out" >&2
	expect_true grep -q "^$dir/three.json:1:2: \"events\": expected true or false$" "$dir/out"
	expect_true grep -q "^$dir/three.json:2:2: unknown option \"bogus\"" "$dir/out"
	expect_true grep -q "^$dir/three.json:3:2: --ringbuf-size '1000': expected a power of two" "$dir/out"
	expect_eq "$(tail -n 1 "$dir/out")" "$dir/three.json: 3 problems (config)" "summary"

	echo '[]' > "$dir/ids/role-assignments.json"
	printf '{"events": true, "sink": ["stdout", "file:%s/x.jsonl"], "listen": 9464, "identities": "%s/ids"}\n' \
		"$dir" "$dir" > "$dir/good.json"
	out=$("$AM" check-config "$dir/good.json" 2>&1)
	expect_eq "$?" 0 "exit status of a good config"
	expect_eq "$out" "$dir/good.json: ok (config)" "output for a good config"

	printf '{"allow": [{"rules": ["no-such-rule"]},\n  {"rules": ["imds-access"], "namespace": "ok"},\n  {"rules": ["imds-access"], "bogus": 1}]}\n' \
		> "$dir/policy.json"
	"$AM" check-config "$dir/policy.json" > "$dir/out" 2>&1
	expect_eq "$?" 1 "exit status of a policy with two bad entries"
	expect_eq "$(grep -c . "$dir/out")" 3 "lines for the policy" || cat "$dir/out" >&2
	expect_true grep -q "^$dir/policy.json: allow\[0\].rules\[0\]: unknown rule \"no-such-rule\"$" "$dir/out"
	expect_true grep -q "^$dir/policy.json: allow\[2\]: .*bogus" "$dir/out"
	expect_eq "$(tail -n 1 "$dir/out")" "$dir/policy.json: 2 problems (policy)" "policy summary"

	echo '[{"oops": ' > "$dir/ids/identities.json"
	"$AM" check-config "$dir/ids" > "$dir/out" 2>&1
	expect_eq "$?" 1 "exit status of identity data with a broken file"
	expect_true grep -q "^$dir/ids/identities.json:1:[0-9]*: invalid JSON" "$dir/out" || cat "$dir/out" >&2
	expect_eq "$(grep -c "role-assignments" "$dir/out")" 0 "the good file named as a problem"
	expect_eq "$(tail -n 1 "$dir/out")" "$dir/ids: 1 problem (identity data)" "identity data summary"
	# A config naming the broken directory has its problem too.
	"$AM" check-config "$dir/good.json" > "$dir/out" 2>&1
	expect_eq "$?" 1 "exit status of a config naming broken identity data"
	expect_true grep -q "identities.json:1:[0-9]*: invalid JSON" "$dir/out" || cat "$dir/out" >&2

	"$AM" check-config > /dev/null 2>&1
	expect_eq "$?" 2 "exit status without a path"
	"$AM" check-config --bogus "$dir/good.json" > /dev/null 2> "$dir/err"
	expect_eq "$?" 2 "exit status with an unknown option"
	expect_true grep -q "unknown option '--bogus'" "$dir/err"
}

# --- capabilities ---------------------------------------------------------------

# daemonset_capabilities: the capabilities the DaemonSet adds to the monitor's
# container, lower case, one a line, from the manifests themselves.
daemonset_capabilities() {
	local tool
	for tool in kubectl node npm; do
		if ! command -v "$tool" > /dev/null; then
			fail "$tool is not installed: cannot read the DaemonSet's capabilities (tests/deploy/run.sh installs it)"
			return 1
		fi
	done
	if [ ! -f "$E2E_ROOT/tests/deploy/validate.mjs" ] || [ ! -f "$E2E_ROOT/deploy/kubernetes/kustomization.yaml" ]; then
		fail "tests/deploy/validate.mjs or deploy/kubernetes/kustomization.yaml is missing"
		return 1
	fi
	if [ ! -d "$E2E_ROOT/tests/deploy/node_modules" ]; then
		if ! npm ci --prefix "$E2E_ROOT/tests/deploy" --no-audit --no-fund > "$WORK/npm.log" 2>&1; then
			fail "npm ci --prefix tests/deploy failed: $(tail -n 5 "$WORK/npm.log")"
			return 1
		fi
	fi
	if ! kubectl kustomize "$E2E_ROOT/deploy/kubernetes" 2> "$WORK/kustomize.err" |
		node "$E2E_ROOT/tests/deploy/validate.mjs" --print-capabilities > "$WORK/caps.txt" 2> "$WORK/caps.err" ||
		[ "${PIPESTATUS[0]}" != 0 ]; then
		fail "kubectl kustomize deploy/kubernetes | validate.mjs --print-capabilities failed: $(cat "$WORK/kustomize.err" "$WORK/caps.err")"
		return 1
	fi
	if [ ! -s "$WORK/caps.txt" ] || grep -Evq '^[a-z_]+$' "$WORK/caps.txt"; then
		fail "validate.mjs --print-capabilities printed no capabilities, or not one lower-case name a line: $(cat "$WORK/caps.txt")"
		return 1
	fi
	cat "$WORK/caps.txt"
}

# as_nobody CAPS COMMAND...: COMMAND as uid/gid 65534 holding exactly CAPS (a list of
# lower-case names, comma separated) as ambient, inheritable, permitted and bounding.
as_nobody() {
	local caps=$1 list
	shift
	list="-all${caps:+,+${caps//,/,+}}"
	setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps="$list" --ambient-caps="$list" \
		--bounding-set="$list" "$@"
}

test_daemonset_capabilities_are_enough_and_each_is_needed() {
	local caps all cap fewer rc bin="$WORK/accessmon-nobody" run="$WORK/nobody" eff
	caps=$(daemonset_capabilities) || return
	all=$(echo "$caps" | paste -sd, -)
	cp "$AM" "$bin"
	chmod 755 "$bin"
	mkdir -p "$run"
	chown 65534:65534 "$run"
	: > "$OUT"
	: > "$ERR"
	chown 65534:65534 "$OUT" "$ERR"
	# The node's tree is root's alone: only CAP_DAC_READ_SEARCH reads it.
	if as_nobody "" cat "$AZURE_JSON" > /dev/null 2> "$WORK/nocaps.err" ||
		! grep -q "Permission denied" "$WORK/nocaps.err"; then
		fail "nobody without capabilities is not refused $AZURE_JSON: the test proves nothing ($(cat "$WORK/nocaps.err"))"
	fi
	expect_eq "$(stat -c '%U %a' "$AZURE_JSON")" "root 600" "owner and mode of azure.json"

	# Before 5.11 the kernel charges BPF maps to RLIMIT_MEMLOCK, which the
	# DaemonSet's capabilities cannot raise: there the limit is lifted first, as the
	# node's container runtime would have to (no AKS kernel is that old; the
	# monitor's error says so). Found as libbpf does, by a helper of 5.11.
	local memlock=()
	if ! bpftool feature probe kernel 2>/dev/null | grep -q bpf_ktime_get_coarse_ns; then
		echo "    this kernel charges BPF maps to RLIMIT_MEMLOCK: the monitor runs with it unlimited"
		memlock=(prlimit --memlock=unlimited:unlimited --)
	fi
	# Exactly the DaemonSet's list: ready, sees a pod's connect and open, alerts.
	# Not through a function: $! must be the monitor's pid (prlimit, setpriv exec it).
	"${memlock[@]}" setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps="-all,+${all//,/,+}" \
		--ambient-caps="-all,+${all//,/,+}" --bounding-set="-all,+${all//,/,+}" \
		"$bin" monitor --events --ready-file "$run/ready" --pods "$PODS_JSON" \
		--host-root "$NODE_ROOT" > "$OUT" 2> "$ERR" &
	MONITOR_PID=$!
	monitor_wait_ready "$run/ready" || return
	expect_eq "$(awk '/^Uid:/ { print $2 $3 }' "/proc/$MONITOR_PID/status")" 6553465534 "the monitor's uid"
	# Attached, it keeps only what reading the node's files (and this kernel's maps) needs.
	eff=$(awk '/^CapEff:/ { print $2 }' "/proc/$MONITOR_PID/status")
	kept_caps
	expect_eq "$(capsh --decode="$eff" | sed 's/.*=//' | tr , '\n' | sort | paste -sd,)" "$KEPT_NAMES" \
		"the monitor's effective capabilities once attached"
	expect_true grep -q "probes attached; dropped ${KEPT_SAID//\[0-9\]\*/0}" "$ERR"
	pod_run app "$AM_CONNECT" 127.0.0.1 9
	local connect_pid=$LAST_PID
	pod_run app cat "$AZURE_JSON" > /dev/null
	local open_pid=$LAST_PID
	wait_until 5 count_ge "$OUT" '.type == "alert"' 1
	monitor_stop
	expect_records 1 ".type == \"connect\" and .proc.pid == $connect_pid and .pod.name == \"app\" and .dst.port == 9" \
		"the pod's connect, seen as nobody"
	expect_records 1 ".type == \"open\" and .proc.pid == $open_pid and .file.path == \"$AZURE_JSON\" and .file.host_path == \"/etc/kubernetes/azure.json\" and .pod.name == \"app\"" \
		"the pod's open of root's 0600 azure.json, seen as nobody"
	expect_eq "$(alerts)" node-credential-read "alerts as nobody"
	# The monitor must open what CAP_DAC_READ_SEARCH lets it (access(2) would judge by
	# the real uid, without capabilities, and lose the node's identities).
	if grep -q "missing capability\|Permission denied\|Operation not permitted" "$ERR"; then
		fail "stderr as nobody with the DaemonSet's capabilities: $(cat "$ERR")"
	fi

	# One fewer, each in turn: exit 2, naming exactly the one missing.
	for cap in $caps; do
		fewer=$(echo "$caps" | grep -vx "$cap" | paste -sd, -)
		rm -f "$run/ready"
		as_nobody "$fewer" timeout 20 "$bin" monitor --events --ready-file "$run/ready" \
			--pods "$PODS_JSON" --host-root "$NODE_ROOT" > "$WORK/fewer.out" 2> "$WORK/fewer.err"
		rc=$?
		expect_eq "$rc" 2 "exit status without $cap"
		expect_eq "$(grep -o 'missing capability CAP_[A-Z_]*' "$WORK/fewer.err" | tr '\n' ' ')" \
			"missing capability CAP_${cap^^} " "what stderr says is missing without $cap" || cat "$WORK/fewer.err" >&2
		expect_eq "$(wc -c < "$WORK/fewer.out")" 0 "bytes on stdout without $cap"
		expect_true test ! -e "$run/ready"
	done
}

e2e_main run
