# shellcheck shell=bash
# End-to-end test harness: fake pods on the real kernel.
#
# A fake pod is what the kubelet and containerd would leave on a node: a cgroup v2
# directory named as the kubelet names it (systemd or cgroupfs driver), a network
# namespace with lo up and the node-local addresses (169.254.169.254 for IMDS,
# 168.63.129.16 for WireServer, fd00::10) on it, and an entry in a PodList file.
# Real processes run inside it (their own cgroup and network namespace), the real
# monitor runs beside them, and the tests assert on the records it writes.
#
# Everything created is recorded and removed by the EXIT trap, also on failure.
# Test files define functions named test_*; e2e_main runs them in order.

set -u

E2E_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BUILD=${BUILD:-build}
case "$BUILD" in /*) ;; *) BUILD="$E2E_ROOT/$BUILD" ;; esac
AM="$BUILD/accessmon"
AM_OPEN="$BUILD/tests/helpers/am-open"
AM_CONNECT="$BUILD/tests/helpers/am-connect"
AM_URING_OPEN="$BUILD/tests/helpers/am-uring-open"
FAKE_HTTP="$E2E_ROOT/tests/helpers/fake_http.py"
FAKE_KUBELET="$E2E_ROOT/tests/helpers/fake_kubelet.py"
FAKE_DNS="$E2E_ROOT/tests/helpers/fake_dns.py"
CGROUP2=$(awk '$3 == "cgroup2" { print $2; exit }' /proc/mounts)
TAG="am$$"
WORK=$(mktemp -d "/tmp/accessmon-e2e.XXXXXX")
chmod 755 "$WORK"
OUT="$WORK/out.jsonl"
ERR="$WORK/err.txt"
PODS_JSON="$WORK/pods.json"
echo '{"apiVersion":"v1","kind":"PodList","items":[]}' > "$PODS_JSON"
# A fake node's root filesystem, for --host-root: containerd bundles, azure.json.
NODE_ROOT="$WORK/node"
BUNDLES="$NODE_ROOT/run/containerd/io.containerd.runtime.v2.task/k8s.io"
# monitor_start passes --pods with the PodList unless this is 0.
USE_PODLIST=1

declare -A POD_UID POD_CID POD_CGROUP POD_NETNS POD_NAMESPACE SERVERS
CREATED_CGROUPS=()
CREATED_NETNS=()
CREATED_MOUNTS=()
BACKGROUND_PIDS=()
MONITOR_PID=""
LAST_PID=""
TESTS_PASSED=0
TESTS_FAILED=0
CURRENT_FAILED=0

e2e_cleanup() {
	local pid cg ns mnt i
	if [ -n "$MONITOR_PID" ]; then
		kill -CONT "$MONITOR_PID" 2>/dev/null # a test may have stopped it
		kill -INT "$MONITOR_PID" 2>/dev/null
		wait "$MONITOR_PID" 2>/dev/null
	fi
	for pid in "${BACKGROUND_PIDS[@]}"; do
		kill "$pid" 2>/dev/null
	done
	for pid in "${BACKGROUND_PIDS[@]}"; do
		wait "$pid" 2>/dev/null
	done
	# Deepest first; a cgroup still holding processes is emptied before removal.
	for ((i = ${#CREATED_CGROUPS[@]} - 1; i >= 0; i--)); do
		cg=${CREATED_CGROUPS[$i]}
		[ -d "$cg" ] || continue
		if [ -f "$cg/cgroup.procs" ]; then
			while read -r pid; do kill -KILL "$pid" 2>/dev/null; done < "$cg/cgroup.procs"
		fi
		for _ in 1 2 3 4 5 6 7 8 9 10; do
			rmdir "$cg" 2>/dev/null && break
			sleep 0.1
		done
	done
	for ns in "${CREATED_NETNS[@]}"; do
		ip netns pids "$ns" 2>/dev/null | xargs -r kill -KILL 2>/dev/null
		ip netns del "$ns" 2>/dev/null
		rm -rf "/etc/netns/$ns"
	done
	for mnt in "${CREATED_MOUNTS[@]}"; do
		umount -l "$mnt" 2>/dev/null
	done
	rm -rf "$WORK"
}
trap e2e_cleanup EXIT
trap 'exit 130' INT TERM

# --- reporting -------------------------------------------------------------

fail() {
	echo "    FAIL: $*" >&2
	CURRENT_FAILED=1
}

# expect_eq ACTUAL EXPECTED WHAT
expect_eq() {
	if [ "$1" != "$2" ]; then
		fail "$3: got '$1', expected '$2'"
		return 1
	fi
}

# expect_true COMMAND... : the command must succeed.
expect_true() {
	if ! "$@"; then
		fail "expected success: $*"
		return 1
	fi
}

# What a kernel lacks from the start (a probe it refused: a monitor-degraded record
# and alert with cause "probes", repeated every minute) is the kernel matrix's to
# check (test_smoke.sh, tests/vm): the other suites look past it, so that what
# they expect holds on every kernel. What breaks while the monitor runs (cause
# "maps") they still see.
NOT_THE_KERNELS='select(((.type == "monitor-degraded" and .cause == "probes") or (.rule == "monitor-degraded" and .target.cause == "probes")) | not)'

# records FILTER: the monitor's output records matching a jq boolean expression.
records() {
	jq -c "$NOT_THE_KERNELS | select($1)" "$OUT"
}

# count FILE FILTER: the JSON lines of FILE matching a jq boolean expression.
count() {
	[ -f "$1" ] || { echo 0; return; }
	jq -c "$NOT_THE_KERNELS | select($2)" "$1" 2>/dev/null | wc -l
}

# count_is FILE FILTER N: exactly N lines match (for wait_until).
count_is() {
	[ "$(count "$1" "$2")" = "$3" ]
}

# count_ge FILE FILTER N: at least N lines match (for wait_until).
count_ge() {
	[ "$(count "$1" "$2")" -ge "$3" ]
}

# expect_records N FILTER WHAT
expect_records() {
	local got
	got=$(records "$2" | wc -l)
	if [ "$got" != "$1" ]; then
		fail "$3: $got records match '$2', expected $1"
		if [[ "$2" =~ proc\.pid\ ==\ ([0-9]+) ]]; then
			echo "    --- records of pid ${BASH_REMATCH[1]}:" >&2
			jq -c "select(.proc.pid == ${BASH_REMATCH[1]}) | del(.proc.ancestors, .proc.args, .cgroup)" "$OUT" >&2
		else
			echo "    --- monitor output (last 20 lines):" >&2
			tail -n 20 "$OUT" >&2
		fi
		echo "    --- monitor stderr:" >&2
		cat "$ERR" >&2
		return 1
	fi
}

# field FILTER JQ_PATH: one value from the single record matching FILTER.
field() {
	records "$1" | head -n 1 | jq -r "$2"
}

# --- fake pods -------------------------------------------------------------

new_uid() {
	cat /proc/sys/kernel/random/uuid
}

new_container_id() {
	head -c 32 /dev/urandom | sha256sum | cut -c1-64
}

mkdir_tracked() {
	local dir=$1 parent
	parent=$(dirname "$dir")
	[ -d "$parent" ] || mkdir_tracked "$parent"
	if [ ! -d "$dir" ]; then
		mkdir "$dir" || return 1
		CREATED_CGROUPS+=("$dir")
	fi
}

# pod_define NAME NAMESPACE [systemd|cgroupfs] [besteffort|burstable|guaranteed]
# Adds the pod to the PodList; pod_up creates its cgroup and network namespace.
pod_define() {
	local name=$1 namespace=$2 driver=${3:-systemd} qos=${4:-besteffort}
	local uid cid path tmp
	uid=$(new_uid)
	cid=$(new_container_id)
	if [ "$driver" = systemd ]; then
		if [ "$qos" = guaranteed ]; then
			path="kubepods.slice/kubepods-pod${uid//-/_}.slice"
		else
			path="kubepods.slice/kubepods-$qos.slice/kubepods-$qos-pod${uid//-/_}.slice"
		fi
		path="$path/cri-containerd-$cid.scope"
	else
		if [ "$qos" = guaranteed ]; then
			path="kubepods/pod$uid/$cid"
		else
			path="kubepods/$qos/pod$uid/$cid"
		fi
	fi
	POD_UID[$name]=$uid
	POD_CID[$name]=$cid
	POD_CGROUP[$name]="$CGROUP2/$path"
	POD_NETNS[$name]="$TAG-$name"
	POD_NAMESPACE[$name]=$namespace
	tmp="$WORK/pods.tmp"
	jq --arg name "$name" --arg ns "$namespace" --arg uid "$uid" --arg cid "$cid" \
		'.items += [{metadata: {name: $name, namespace: $ns, uid: $uid,
		   labels: {app: $name}},
		 spec: {serviceAccountName: "default", containers: [{name: "app"}]},
		 status: {containerStatuses: [{name: "app", containerID: ("containerd://" + $cid)}]}}]' \
		"$PODS_JSON" > "$tmp" && mv "$tmp" "$PODS_JSON"
}

pod_up() {
	local name=$1 ns=${POD_NETNS[$1]}
	mkdir_tracked "${POD_CGROUP[$name]}" || { fail "cannot create cgroup ${POD_CGROUP[$name]}"; return 1; }
	ip netns add "$ns" || { fail "cannot create netns $ns"; return 1; }
	CREATED_NETNS+=("$ns")
	ip -n "$ns" link set lo up
	ip -n "$ns" addr add 169.254.169.254/32 dev lo
	ip -n "$ns" addr add 168.63.129.16/32 dev lo
	ip -n "$ns" addr add fd00::10/128 dev lo nodad
}

# pod_run NAME COMMAND...: runs COMMAND as a process of the pod (its cgroup and
# network namespace), in the foreground; LAST_PID is its pid.
pod_run() {
	local name=$1 rc
	shift
	bash -c 'echo $$ > "$1"; echo $$ > "$2/cgroup.procs" || exit 125; ns=$3; shift 3; exec ip netns exec "$ns" "$@"' \
		_ "$WORK/last.pid" "${POD_CGROUP[$name]}" "${POD_NETNS[$name]}" "$@"
	rc=$?
	LAST_PID=$(cat "$WORK/last.pid")
	return $rc
}

# pod_cat NAME PATH...: a process of the pod reads each PATH (a cat each); their
# pids, in order, in CAT_PIDS.
pod_cat() {
	local name=$1 path
	shift
	CAT_PIDS=()
	for path in "$@"; do
		pod_run "$name" cat "$path" >/dev/null
		CAT_PIDS+=("$LAST_PID")
	done
}

# pod_serve NAME ADDRESS PORT [CERT KEY]: a fake HTTP (or HTTPS) endpoint inside the
# pod's network namespace; it keeps serving until the end of the file's tests.
pod_serve() {
	local name=$1 address=$2 port=$3 ready="$WORK/ready.$1.$3.$RANDOM"
	shift 3
	[ -n "${SERVERS["$name $address $port"]:-}" ] && return 0
	ip netns exec "${POD_NETNS[$name]}" python3 "$FAKE_HTTP" "$address" "$port" "$ready" "$@" \
		>/dev/null 2>&1 &
	BACKGROUND_PIDS+=("$!")
	for _ in $(seq 600); do
		if [ -f "$ready" ]; then
			SERVERS["$name $address $port"]=$!
			return 0
		fi
		sleep 0.05
	done
	fail "fake server $address:$port in pod $name did not start"
	return 1
}

# node_tree_init: a node root with the host's /proc and an azure.json as AKS writes it.
KUBELET_CLIENT_ID=5a1c2b3d-1111-2222-3333-444455556666
node_tree_init() {
	mkdir -p "$NODE_ROOT/etc/kubernetes" "$BUNDLES"
	ln -sfn /proc "$NODE_ROOT/proc"
	cat > "$NODE_ROOT/etc/kubernetes/azure.json" <<-EOF
	{
	    "cloud": "AzurePublicCloud",
	    "tenantId": "72f988bf-86f1-41af-91ab-2d7cd011db47",
	    "subscriptionId": "a1b2c3d4-e5f6-4711-8899-aabbccddeeff",
	    "aadClientId": "msi",
	    "aadClientSecret": "msi",
	    "resourceGroup": "MC_rg-aks_aks-test_eastus",
	    "location": "eastus",
	    "vmType": "vmss",
	    "primaryScaleSetName": "aks-nodepool1-12345678-vmss",
	    "useManagedIdentityExtension": true,
	    "userAssignedIdentityID": "$KUBELET_CLIENT_ID"
	}
	EOF
}

# victim_and_attacker: a node tree, and two running pods: victim (namespace
# payments), whose secrets the tests read, and attacker (shop), who reads them.
victim_and_attacker() {
	node_tree_init
	chmod 755 "$WORK" "$NODE_ROOT"
	pod_define victim payments
	pod_define attacker shop
	pod_bundle victim
	pod_bundle attacker
	pod_up attacker
	pod_up victim
}

# pod_bundle NAME [ENV=VALUE...]: containerd's task bundle for the pod's container,
# with the CRI annotations and the container's environment; its image is
# $BUNDLE_IMAGE when set.
pod_bundle() {
	local name=$1 dir env_json
	shift
	dir="$BUNDLES/${POD_CID[$name]}"
	mkdir -p "$dir"
	env_json=$(printf '%s\n' "PATH=/usr/bin:/bin" "$@" | jq -R . | jq -s .)
	jq -n --arg uid "${POD_UID[$name]}" --arg name "$name" --arg ns "${POD_NAMESPACE[$name]}" \
		--argjson env "$env_json" --arg image "${BUNDLE_IMAGE:-myreg.azurecr.io/app:1}" \
		'{ociVersion: "1.1.0", process: {args: ["/app"], env: $env},
		  annotations: {"io.kubernetes.cri.container-type": "container",
		    "io.kubernetes.cri.container-name": "app",
		    "io.kubernetes.cri.image-name": $image,
		    "io.kubernetes.cri.sandbox-name": $name,
		    "io.kubernetes.cri.sandbox-namespace": $ns,
		    "io.kubernetes.cri.sandbox-uid": $uid}}' > "$dir/config.json"
}

# pod_volumes NAME: the pod's volumes directory under the fake node root.
pod_volumes() {
	echo "$NODE_ROOT/var/lib/kubelet/pods/${POD_UID[$1]}/volumes"
}

# volume_write DIR STAMP FILE=CONTENT...: one atomic volume update as the kubelet
# does it: a new timestamped directory, the ..data symlink swapped to it, the
# visible names pointing through ..data, the previous timestamped directory gone.
volume_write() {
	local dir=$1 stamp=$2 old pair
	shift 2
	mkdir -p "$dir/$stamp"
	for pair in "$@"; do
		printf '%s' "${pair#*=}" > "$dir/$stamp/${pair%%=*}"
	done
	old=$(readlink "$dir/..data" 2>/dev/null)
	ln -sfn "$stamp" "$dir/..data_tmp"
	mv -T "$dir/..data_tmp" "$dir/..data"
	for pair in "$@"; do
		[ -L "$dir/${pair%%=*}" ] || ln -s "..data/${pair%%=*}" "$dir/${pair%%=*}"
	done
	if [ -n "$old" ] && [ "$old" != "$stamp" ]; then
		rm -rf "${dir:?}/$old"
	fi
}

# pod_projected NAME VOLUME FILE=CONTENT...: a projected volume (token volume).
pod_projected() {
	local name=$1 volume=$2
	shift 2
	volume_write "$(pod_volumes "$name")/kubernetes.io~projected/$volume" \
		"..$(date -u +%Y_%m_%d_%H_%M_%S).$RANDOM$RANDOM" "$@"
}

# pod_secret NAME VOLUME KEY=VALUE...: a Secret volume.
pod_secret() {
	local name=$1 volume=$2
	shift 2
	volume_write "$(pod_volumes "$name")/kubernetes.io~secret/$volume" \
		"..$(date -u +%Y_%m_%d_%H_%M_%S).$RANDOM$RANDOM" "$@"
}

# pod_csi_secret NAME VOLUME FILE CONTENT: a Secrets Store CSI volume's mount.
pod_csi_secret() {
	local dir
	dir="$(pod_volumes "$1")/kubernetes.io~csi/$2"
	mkdir -p "$dir/mount"
	echo '{"driverName":"secrets-store.csi.k8s.io","specVolID":"'"$2"'"}' > "$dir/vol_data.json"
	printf '%s' "$4" > "$dir/mount/$3"
}

# pod_down NAME: the pod goes away: bundle, processes, cgroup and network namespace.
pod_down() {
	local name=$1 cg=${POD_CGROUP[$1]} pid
	rm -rf "${BUNDLES:?}/${POD_CID[$name]}"
	if [ -f "$cg/cgroup.procs" ]; then
		while read -r pid; do kill -KILL "$pid" 2>/dev/null; done < "$cg/cgroup.procs"
	fi
	for _ in $(seq 20); do
		rmdir "$cg" 2>/dev/null && break
		sleep 0.05
	done
	ip netns del "${POD_NETNS[$name]}" 2>/dev/null
}

# host_run UNIT NETNS COMMAND...: a host process of systemd unit UNIT (its cgroup
# under system.slice), run inside the test network namespace NETNS so that nothing
# it sends leaves the test; LAST_PID is its pid.
host_run() {
	local unit=$1 ns=$2 cg="$CGROUP2/system.slice/$1"
	shift 2
	mkdir_tracked "$cg" || return 1
	bash -c 'echo $$ > "$1"; echo $$ > "$2/cgroup.procs" || exit 125; ns=$3; shift 3; exec ip netns exec "$ns" "$@"' \
		_ "$WORK/last.pid" "$cg" "$ns" "$@"
	local rc=$?
	LAST_PID=$(cat "$WORK/last.pid")
	return $rc
}

# alerts [FILTER]: the rules of the alerts written (matching FILTER), sorted, one line.
alerts() {
	jq -r "$NOT_THE_KERNELS | select(.type == \"alert\" and (${1:-true})) | .rule" "$OUT" | sort |
		tr '\n' ' ' | sed 's/ $//'
}

# pod_dns NAME ZONE_JSON: a fake DNS server at 127.0.0.53 in the pod's network
# namespace, and the pod's resolv.conf pointing at it (ip netns exec binds
# /etc/netns/<ns>/resolv.conf over /etc/resolv.conf).
pod_dns() {
	local name=$1 zone=$2 ns=${POD_NETNS[$1]} ready="$WORK/ready.dns.$1"
	mkdir -p "/etc/netns/$ns"
	printf 'nameserver 127.0.0.53\noptions timeout:2 attempts:3\n' > "/etc/netns/$ns/resolv.conf"
	ip netns exec "$ns" python3 "$FAKE_DNS" 127.0.0.53 53 "$zone" "$ready" >/dev/null 2>&1 &
	BACKGROUND_PIDS+=("$!")
	for _ in $(seq 600); do
		[ -f "$ready" ] && return 0
		sleep 0.05
	done
	fail "fake DNS server in pod $name did not start"
	return 1
}

# tls_cert: a throwaway certificate for fake HTTPS endpoints ($WORK/tls.crt, .key).
tls_cert() {
	[ -f "$WORK/tls.crt" ] && return 0
	openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=fake-azure \
		-keyout "$WORK/tls.key" -out "$WORK/tls.crt" >/dev/null 2>&1
}

# --- the monitor -----------------------------------------------------------

# monitor_start [OPTIONS...]: starts the monitor with --events and the PodList.
monitor_start() {
	local ready="$WORK/monitor.ready"
	rm -f "$ready"
	: > "$OUT"
	local -a podlist=()
	[ "$USE_PODLIST" = 1 ] && podlist=(--pods "$PODS_JSON")
	"$AM" monitor --events --ready-file "$ready" "${podlist[@]}" "$@" > "$OUT" 2> "$ERR" &
	MONITOR_PID=$!
	monitor_wait_ready "$ready"
}

# monitor_wait_ready READY_FILE: MONITOR_PID must create READY_FILE within 10 s.
monitor_wait_ready() {
	for _ in $(seq 200); do
		[ -f "$1" ] && return 0
		if ! kill -0 "$MONITOR_PID" 2>/dev/null; then
			wait "$MONITOR_PID"
			fail "monitor exited early ($?): $(cat "$ERR")"
			MONITOR_PID=""
			return 1
		fi
		sleep 0.05
	done
	fail "monitor not ready after 10 s: $(cat "$ERR")"
	return 1
}

# monitor_stop [SIGNAL]: stops the monitor; it must exit 0 and remove its ready file.
monitor_stop() {
	local signal=${1:-INT} rc
	[ -n "$MONITOR_PID" ] || return 1
	kill "-$signal" "$MONITOR_PID"
	wait "$MONITOR_PID"
	rc=$?
	MONITOR_PID=""
	expect_eq "$rc" 0 "monitor exit status after SIG$signal"
	if [ -f "$WORK/monitor.ready" ]; then
		fail "ready file still present after exit"
	fi
}

# wait_until SECONDS COMMAND...: runs COMMAND every 0.1 s until it succeeds (0), or
# fails (1) once SECONDS have passed.
wait_until() {
	local deadline=$((SECONDS + $1))
	shift
	until "$@"; do
		[ "$SECONDS" -lt "$deadline" ] || return 1
		sleep 0.1
	done
}

# free_port: a TCP port of 127.0.0.1 that nothing listens on at the moment.
free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# metric PORT SERIES: one value from the monitor's /metrics (--listen PORT); SERIES
# is the name with its labels exactly as written, e.g. 'accessmon_sink_up{sink="stdout",kind="stdout"}'.
# Prints nothing when the series is absent or nothing answers.
metric() {
	curl -s -m 2 "http://127.0.0.1:$1/metrics" | awk -v series="$2" '$1 == series { print $2 }'
}

# metric_is PORT SERIES VALUE: the series has that value (for wait_until).
metric_is() {
	[ "$(metric "$1" "$2")" = "$3" ]
}

# metric_ge PORT SERIES N: the series is there and at least N (for wait_until).
metric_ge() {
	local value
	value=$(metric "$1" "$2")
	[ -n "$value" ] && [ "$value" -ge "$3" ]
}

# expect_blind PORT DETECTION: the running monitor said, more than once, that it is
# blind to DETECTION (monitor-degraded records), alerted, and /metrics says so.
expect_blind() {
	wait_until 10 count_ge "$OUT" ".type == \"monitor-degraded\" and .state == \"degraded\" and .detection == \"$2\"" 2 ||
		fail "no repeated monitor-degraded record for $2: $(grep -v '"type":"connect' "$OUT" | tail -n 3)"
	expect_true test "$(count "$OUT" ".type == \"alert\" and .rule == \"monitor-degraded\" and .target.detection == \"$2\"")" -ge 1
	expect_eq "$(metric "$1" "accessmon_detection_blind{detection=\"$2\"}")" 1 "the blind metric of $2"
}

# expect_restored PORT DETECTION: the running monitor said it sees DETECTION again.
expect_restored() {
	wait_until 10 count_ge "$OUT" ".type == \"monitor-degraded\" and .state == \"restored\" and .detection == \"$2\"" 1 ||
		fail "no restored record for $2"
	wait_until 5 metric_is "$1" "accessmon_detection_blind{detection=\"$2\"}" 0 ||
		fail "the blind metric of $2 stays 1"
}

# rss_kb, fd_count: the running monitor's resident memory of its own (kB) and open
# descriptors. RssAnon: the heap and stacks, where a leak would be. Not VmRSS,
# which also counts the pages of the kernel's ring buffer and maps mapped into
# the monitor (RssFile): they are touched as records pass, up to the ring's
# fixed size, and that is no growth of the monitor's own.
rss_kb() {
	awk '$1 == "RssAnon:" { print $2 }' "/proc/$MONITOR_PID/status"
}
fd_count() {
	ls "/proc/$MONITOR_PID/fd" | wc -l
}

# kept_caps: what the running monitor said it kept once attached: the capability
# masks (hex, as /proc shows them) and names (as capsh decodes them). Every
# kernel: CAP_DAC_READ_SEARCH; one whose bpf(2) refuses a caller without CAP_BPF
# while kernel.unprivileged_bpf_disabled is set (before 5.19): CAP_BPF too.
kept_caps() {
	if grep -q "and CAP_BPF: this kernel's bpf(2) refuses" "$ERR"; then
		KEPT_MASK=0000008000000004
		KEPT_NAMES=cap_bpf,cap_dac_read_search
		KEPT_SAID="CAP_PERFMON, CAP_NET_ADMIN and [0-9]* other capabilities, keeping CAP_DAC_READ_SEARCH to read the node's files and CAP_BPF: "
	else
		KEPT_MASK=0000000000000004
		KEPT_NAMES=cap_dac_read_search
		KEPT_SAID="CAP_BPF, CAP_PERFMON, CAP_NET_ADMIN and [0-9]* other capabilities, keeping CAP_DAC_READ_SEARCH to read the node's files\$"
	fi
}

# --- running ---------------------------------------------------------------

e2e_require() {
	local missing=""
	[ "$(id -u)" = 0 ] || missing="$missing root"
	[ -n "$CGROUP2" ] || missing="$missing cgroup2"
	[ -x "$AM" ] || missing="$missing $AM"
	if [ -n "$missing" ]; then
		echo "e2e: cannot run, missing:$missing" >&2
		exit 1
	fi
}

e2e_main() {
	local suite=$1 test
	e2e_require
	# E2E_ONLY=REGEX runs only the tests whose names match.
	for test in $(declare -F | awk '{ print $3 }' | grep '^test_' | grep -E -- "${E2E_ONLY:-.}"); do
		CURRENT_FAILED=0
		echo "  $suite: $test"
		"$test"
		if [ -n "$MONITOR_PID" ]; then
			kill -INT "$MONITOR_PID" 2>/dev/null
			wait "$MONITOR_PID" 2>/dev/null
			MONITOR_PID=""
		fi
		# A file may check more after every test (after_test).
		if declare -F after_test >/dev/null; then
			after_test
		fi
		# E2E_KEEP=DIR keeps each test's records, for reading or for documentation.
		if [ -n "${E2E_KEEP:-}" ] && [ -f "$OUT" ]; then
			mkdir -p "$E2E_KEEP" && cp "$OUT" "$E2E_KEEP/$suite.$test.jsonl"
		fi
		if [ "$CURRENT_FAILED" = 0 ]; then
			TESTS_PASSED=$((TESTS_PASSED + 1))
			echo "  PASS $suite: $test"
		else
			TESTS_FAILED=$((TESTS_FAILED + 1))
			echo "  FAIL $suite: $test"
		fi
	done
	echo "$suite: $TESTS_PASSED passed, $TESTS_FAILED failed"
	[ "$TESTS_FAILED" = 0 ]
}
