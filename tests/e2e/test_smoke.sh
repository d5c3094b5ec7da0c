#!/usr/bin/env bash
# End to end, one event per probe family, on whatever kernel runs it: the host's,
# or each kernel of the VM matrix (tests/vm/run.sh boots them and runs this file).
#
# One monitor run sees: TCP connects (IPv4 and IPv6) and a UDP send, an IMDS token
# request read off the wire with its answer's status, a DNS answer naming a vault
# reached over TLS with its server name, a watched file opened by open, openat,
# openat2 and io_uring, a token rotated in while user space is stopped, exec and
# exit (the executable and arguments of a process started after the monitor), a
# pod cgroup created after the monitor, repeat counts read from the kernel
# (volume control), the capability drop, and the kernel's maps written and read
# after it (a pod's volume that appears after start is watched). Then the map
# access of a kernel whose bpf(2) refuses a caller without CAP_BPF.
#
# SMOKE_OUT=DIR: also writes DIR/records.txt, what was seen with everything that
# changes from run to run (pids, times, ids, inodes) taken out, sorted, so the VM
# matrix can compare each kernel's with the host's; and DIR/degraded.txt, the
# detections the monitor says it is blind to on this kernel.
source "$(dirname "$0")/lib.sh"

USE_PODLIST=1
node_tree_init
chmod 755 "$WORK" "$NODE_ROOT"
KUBELET_ID=$KUBELET_CLIENT_ID
SYSCTL=/proc/sys/kernel/unprivileged_bpf_disabled
SYSCTL_BEFORE=$(cat "$SYSCTL" 2>/dev/null || echo "")
cat > "$WORK/zone.json" <<'EOF'
{"kv-smoke.vault.azure.net": {"A": ["127.77.0.10"]}}
EOF

# The sysctl as it was, whatever a test did to it.
restore_sysctl() {
	if [ -n "$SYSCTL_BEFORE" ] && [ "$(cat "$SYSCTL")" != "$SYSCTL_BEFORE" ]; then
		echo "$SYSCTL_BEFORE" > "$SYSCTL" 2>/dev/null
	fi
}
trap 'restore_sysctl; e2e_cleanup' EXIT

pod_define client smoke
pod_up client
pod_projected client kube-api-access-smoke token=client-sa-token ca.crt=ca namespace=smoke
CLIENT_SA="/var/lib/kubelet/pods/${POD_UID[client]}/volumes/kubernetes.io~projected/kube-api-access-smoke"
AZURE_JSON="$NODE_ROOT/etc/kubernetes/azure.json"

# The normalized view of a record: what must be the same on every kernel.
NORMALIZE='
def who: (.pod.namespace // "host") + "/" + (.pod.name // "-");
def prog: (.proc.exe // "?") | split("/") | last;
if .type == "connect" or .type == "send" then
  "\(.type) \(who) \(prog) -> \(.dst.ip):\(.dst.port)/\(.dst.proto) service=\(.dst.service) host=\(.dst.host) via=\(.dst.name_source)"
elif .type == "connect-repeat" then
  "connect-repeat \(who) -> \(.dst.ip):\(.dst.port)/\(.dst.proto)"
elif .type == "http" then
  "http \(who) \(.http.method) \(.http.path) status=\(.http.status) imds=\(.imds.category) resource=\(.imds.resource) client_id=\(.imds.client_id)"
elif .type == "dns" then
  "dns \(who) \(.dns.question) -> \([.dns.answers[]?.data] | join(","))"
elif .type == "open" then
  "open \(who) \(prog) \(.file.syscall) \(.file.kind) \(.file.host_path) owner=\(.file.owner_pod.name) access=\(.file.access) error=\(.file.error)"
elif .type == "alert" then
  "alert \(.rule) \(.severity) \(who)"
else empty end'

test_every_probe_family() {
	local tls_pid curl_pid dns_pid v6 udp open openat openat2 uring rotated exec_pid late_pid
	local sum eff kept
	tls_cert || { fail "openssl failed"; return; }
	pod_dns client "$WORK/zone.json" || return
	pod_serve client 169.254.169.254 80 || return
	pod_serve client 0.0.0.0 443 "$WORK/tls.crt" "$WORK/tls.key" || return
	monitor_start --host-root "$NODE_ROOT" --repeat-window 60 || return

	# Attached: the start lines say what this kernel gave, and what is kept.
	expect_true grep -Fq "accessmon: kernel $(uname -r): " "$ERR" || cat "$ERR" >&2
	expect_true grep -Eq "accessmon: kernel .*: [0-9]+ of the [0-9]+ probes it needs attached" "$ERR"
	eff=$(awk '/^CapEff:/ { print $2 }' "/proc/$MONITOR_PID/status")
	if grep -q "keeping CAP_DAC_READ_SEARCH to read the node's files and CAP_BPF: this kernel's bpf(2) refuses" "$ERR"; then
		kept=cap_bpf,cap_dac_read_search
	else
		kept=cap_dac_read_search
	fi
	expect_eq "$(capsh --decode="$eff" | sed 's/.*=//' | tr , '\n' | sort | paste -sd,)" "$kept" \
		"the monitor's capabilities once attached"

	# Connections: TCP over IPv4 and IPv6, a UDP send.
	pod_run client "$AM_CONNECT" 127.0.0.1 9
	pod_run client "$AM_CONNECT" fd00::10 9
	v6=$LAST_PID
	pod_run client python3 -c 'import socket; socket.socket(socket.AF_INET, socket.SOCK_DGRAM).sendto(b"x", ("127.0.0.1", 5353))'
	udp=$LAST_PID
	# The wire: an IMDS token request and its answer, a DNS answer, a TLS server name.
	pod_run client curl -s -o /dev/null -H Metadata:true \
		"http://169.254.169.254/metadata/identity/oauth2/token?api-version=2018-02-01&resource=https%3A%2F%2Fvault.azure.net&client_id=$KUBELET_ID"
	curl_pid=$LAST_PID
	pod_run client curl -sk -o /dev/null https://kv-smoke.vault.azure.net/secrets/x
	dns_pid=$LAST_PID
	pod_run client curl -sk -o /dev/null --resolve kv-pinned.vault.azure.net:443:127.77.0.11 \
		https://kv-pinned.vault.azure.net/
	tls_pid=$LAST_PID
	# Opens: every syscall the probes hook, and io_uring.
	pod_run client "$AM_OPEN" open "$AZURE_JSON" >/dev/null
	open=$LAST_PID
	pod_run client "$AM_OPEN" openat "$AZURE_JSON" >/dev/null
	openat=$LAST_PID
	pod_run client "$AM_OPEN" openat2 "$AZURE_JSON" >/dev/null
	openat2=$LAST_PID
	pod_run client "$AM_URING_OPEN" "$AZURE_JSON" >/dev/null
	uring=$LAST_PID
	# A token rotated in while user space is stopped: only the kernel's directory match sees it.
	kill -STOP "$MONITOR_PID"
	pod_projected client kube-api-access-smoke token=rotated-token ca.crt=ca namespace=smoke
	pod_run client cat "$NODE_ROOT$CLIENT_SA/token" >/dev/null
	rotated=$LAST_PID
	kill -CONT "$MONITOR_PID"
	# A process started now: its exec names it. A pod made now: its cgroup names it.
	pod_run client sh -c 'exec "$1" 127.0.0.1 10' _ "$AM_CONNECT"
	exec_pid=$LAST_PID
	pod_define late smoke
	pod_bundle late
	pod_up late
	pod_secret late late-secret password=late
	pod_run late "$AM_CONNECT" 127.0.0.1 11
	late_pid=$LAST_PID
	# After the capability drop: the kernel's maps are written (the new volume is
	# watched) and read (the repeat counts of 49 connects after the first).
	sleep 1.5
	pod_run late cat "$(pod_volumes late)/kubernetes.io~secret/late-secret/password" >/dev/null
	local late_read=$LAST_PID
	pod_run client "$AM_CONNECT" 127.0.0.1 12 50
	local busy=$LAST_PID
	wait_until 10 count_ge "$OUT" ".type == \"connect-repeat\" and .dst.port == 12" 1
	sleep 1.5
	monitor_stop

	expect_records 1 ".type == \"connect\" and .proc.pid == $v6 and .dst.ip == \"fd00::10\" and .pod.name == \"client\"" "an IPv6 connect"
	expect_records 1 ".type == \"send\" and .proc.pid == $udp and .dst.port == 5353 and .dst.proto == \"udp\"" "a UDP send"
	expect_records 1 ".type == \"http\" and .proc.pid == $curl_pid and .imds.category == \"identity-token\" and .imds.client_id == \"$KUBELET_ID\" and .imds.resource == \"https://vault.azure.net\" and .http.status == 200" \
		"the IMDS token request and its status"
	expect_records 1 ".type == \"dns\" and .proc.pid == $dns_pid and .dns.question == \"kv-smoke.vault.azure.net\" and .dns.answers[0].data == \"127.77.0.10\"" \
		"the DNS answer"
	expect_records 1 ".type == \"connect\" and .proc.pid == $dns_pid and .dst.service == \"keyvault\" and .dst.resource == \"kv-smoke\" and .dst.name_source == \"dns\"" \
		"the vault named from DNS"
	expect_records 1 ".type == \"connect\" and .proc.pid == $tls_pid and .dst.host == \"kv-pinned.vault.azure.net\" and .dst.name_source == \"sni\"" \
		"the vault named from its TLS server name"
	expect_records 1 ".type == \"open\" and .proc.pid == $open and .file.syscall == \"open\" and .file.kind == \"node-cloud-config\"" "open(2)"
	expect_records 1 ".type == \"open\" and .proc.pid == $openat and .file.syscall == \"openat\"" "openat(2)"
	expect_records 1 ".type == \"open\" and .proc.pid == $openat2 and .file.syscall == \"openat2\"" "openat2(2)"
	expect_records 1 ".type == \"open\" and .proc.pid == $uring and .file.syscall == \"io_uring\" and .pod.name == \"client\"" "io_uring"
	expect_records 1 ".type == \"open\" and .proc.pid == $rotated and .file.kind == \"service-account-token\" and .file.owner_pod.name == \"client\"" \
		"a token rotated in while user space was stopped"
	expect_records 1 ".type == \"connect\" and .proc.pid == $exec_pid and .proc.exe == \"$AM_CONNECT\" and .proc.ancestors[0].replaced_by_exec == true" \
		"exec: the executable of a process started after the monitor"
	expect_records 1 ".type == \"connect\" and .proc.pid == $late_pid and .pod.name == \"late\" and (.cgroup.path | test(\"pod\"))" \
		"a pod cgroup made after the monitor"
	expect_records 1 ".type == \"open\" and .proc.pid == $late_read and .file.kind == \"secret-volume\" and .file.owner_pod.name == \"late\"" \
		"a volume watched after the capability drop"
	expect_records 1 ".type == \"connect\" and .proc.pid == $busy and .dst.port == 12" "the first of 50 connects"
	sum=$(jq -s "[.[] | select(.type == \"connect-repeat\" and .dst.port == 12) | .count] | add // 0" "$OUT")
	expect_eq "$sum" 49 "repeats read from the kernel after the drop"
	expect_true grep -q '"rule":"node-credential-read"' "$OUT"
	expect_true grep -q '"rule":"imds-token-request"' "$OUT"

	if [ -n "${SMOKE_OUT:-}" ]; then
		mkdir -p "$SMOKE_OUT"
		# The pods' own records (the harness runs on the host), pod uids out.
		jq -r "select(.pod != null) | $NORMALIZE" "$OUT" | sed -E 's|/pods/[0-9a-f-]+/|/pods/UID/|g' |
			sort -u > "$SMOKE_OUT/records.txt"
		jq -r 'select(.type == "monitor-degraded") | "\(.state) \(.detection)"' "$OUT" | sort -u \
			> "$SMOKE_OUT/degraded.txt"
		cp "$ERR" "$SMOKE_OUT/stderr.txt"
	fi
}

# Where this kernel's bpf(2) refuses every command to a caller without CAP_BPF
# while kernel.unprivileged_bpf_disabled is set (Linux before 5.19, Ubuntu 22.04's
# 5.15 among them; Debian's 5.10 here), the monitor keeps CAP_BPF; when the
# sysctl is raised only after the monitor dropped it, the watch set is refused and
# the monitor says so in the stream until it is lowered again. Where it does not
# (5.19 and later), CAP_BPF goes, and the maps work under the sysctl all the same.
test_map_access_when_unprivileged_bpf_is_disabled() {
	local port
	if [ -z "$SYSCTL_BEFORE" ] || [ "$SYSCTL_BEFORE" = 1 ]; then
		fail "kernel.unprivileged_bpf_disabled is '$SYSCTL_BEFORE': cannot be set for this test"
		return
	fi
	echo 2 > "$SYSCTL"
	port=$(free_port)
	monitor_start --host-root "$NODE_ROOT" --listen "$port" --degraded-interval 2 || return
	if grep -q "keeping CAP_DAC_READ_SEARCH to read the node's files and CAP_BPF: this kernel's bpf(2) refuses" "$ERR"; then
		echo "    this kernel refuses a caller without CAP_BPF: kept, and then raised after the drop"
		monitor_stop
		: > "$OUT"
		echo 0 > "$SYSCTL"
		monitor_start --host-root "$NODE_ROOT" --listen "$port" --degraded-interval 2 || return
		expect_true grep -q "keeping CAP_DAC_READ_SEARCH to read the node's files\$" "$ERR"
		echo 2 > "$SYSCTL"
		pod_secret client raised password=raised
		expect_blind "$port" secret-files
		expect_true grep -q '"cause":"maps".*kernel.unprivileged_bpf_disabled is 2 now: restart the monitor' "$OUT"
		echo 0 > "$SYSCTL"
		expect_restored "$port" secret-files
		pod_run client cat "$(pod_volumes client)/kubernetes.io~secret/raised/password" >/dev/null
		local read_pid=$LAST_PID
		sleep 0.5
		monitor_stop
		expect_records 1 ".type == \"open\" and .proc.pid == $read_pid and .file.kind == \"secret-volume\"" \
			"the volume refused while the sysctl was raised, watched once it was lowered"
	else
		echo "    this kernel lets the maps be used without CAP_BPF: dropped, and they work under the sysctl"
		expect_true grep -q "keeping CAP_DAC_READ_SEARCH to read the node's files\$" "$ERR"
		pod_secret client unraised password=x
		sleep 1.5
		pod_run client cat "$(pod_volumes client)/kubernetes.io~secret/unraised/password" >/dev/null
		local read_pid=$LAST_PID
		sleep 0.5
		expect_eq "$(metric "$port" 'accessmon_detection_blind{detection="secret-files"}')" 0 "the blind metric"
		monitor_stop
		expect_records 1 ".type == \"open\" and .proc.pid == $read_pid" "a volume watched after the drop, the sysctl at 2"
		expect_records 0 '.type == "monitor-degraded" and .detection == "secret-files"' "no blind secret files"
	fi
	restore_sysctl
}

e2e_main smoke
