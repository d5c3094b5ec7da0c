#!/usr/bin/env bash
# End to end: pod churn. 500 fake pods are created and deleted in batches while
# a process in each connects and opens its secrets. Every event is named with
# the pod whose process made it, none is missed, and once the churn is over the
# monitor is back where it began: pods, cgroups, watched secrets and processes
# in its caches, its memory and its file descriptors.
#
# A fake pod here is what lib.sh's pod_define, pod_bundle, pod_up, pod_projected
# and pod_secret make, written in bulk (those helpers start a dozen processes a
# pod; 500 pods would take a minute): its pod slice and container scope cgroups
# (systemd driver, besteffort), a network namespace of its own with lo up,
# containerd's task bundle naming it (no PodList: the monitor reads a PodList
# only at start), and a projected token volume and a Secret volume laid out as
# the kubelet writes them. Its workload is one process (am-pod-workload) that
# connects to a server in the pod's network namespace and opens its token and
# its Secret's file.
source "$(dirname "$0")/lib.sh"

USE_PODLIST=0
node_tree_init
AM_POD_WORKLOAD="$BUILD/tests/helpers/am-pod-workload"
CHURN_PODS=${CHURN_PODS:-500}
CHURN_BATCH=${CHURN_BATCH:-50}
# The first half of the churn warms the monitor up, and what is measured after is
# growth beyond it. Some growth is by design: the output cache keeps the JSON of
# the processes and cgroups that records name in 2048 and 1024 slots (chosen by
# pid and cgroup id), allocated as slots are first used, so it fills while
# new pids and cgroups arrive (about 1 MiB in the first 100 pods here, 200 KiB
# in the next 400, 120 KiB in the second 250).
CHURN_WARMUP=${CHURN_WARMUP:-250}
CHURN_NAMESPACE="churn-$TAG"
WORKLOAD_PORT=8080
SA_VOLUME=kube-api-access-churn
SECRET_VOLUME=db-credentials
# --pod-grace: deleted pods and removed cgroups are forgotten after 2 s, not 60.
GRACE_S=2
# Watch set entries a pod adds: each volume's directory, its token or key file,
# and the token volume's ca.crt and namespace, declared as public so the kernel
# skips them by identity.
WATCHED_PER_POD=6
# Heap growth allowed from after the warm-up to after the whole churn, read from
# accessmon_heap_bytes (malloc's bytes in use). A pod brings an inventory entry
# (names, a container, a label), its containerd bundle, two cgroup entries with
# their paths, a dozen processes (the workload, ip, ln, subshells) with their
# arguments and four watch entries with theirs: over 3 KiB in all. Were that
# kept for each of the 250 pods after the warm-up, the heap would grow by
# 750 KiB, and by 500 KiB were two thirds of it kept; the output cache's slots
# still filling take a little. RssAnon is printed too but not judged: the
# monitor sees the whole node, and a burst of records from other tests running
# at the same time leaves pages with the allocator that are not a leak (700 kB
# once in CI).
HEAP_GROWTH_MAX_KB=512
# The host's own cgroups and processes come and go while the test runs (other
# tests, timers, this test's own curl and jq): the cgroup cache is compared with
# the host's count at that moment, the process cache with the host's processes
# and those that exited within the process cache's 5 s (and its 1 s expiry
# tick), each within this much. The churn made 1000 cgroups and thousands of
# processes (500 workloads, and ip, ln and subshells for every pod).
CGROUP_SLACK=10
PROCESS_SLACK=20

declare -A POD_SLICE POD_NETNS_AT
EXPECTED="$WORK/expected.tsv" # workload pid, pod uid, pod name
: > "$EXPECTED"

# churn_define NAME: a pod's names, uid, container id and cgroup paths.
churn_define() {
	local name=$1 uid cid="" slice
	read -r uid < /proc/sys/kernel/random/uuid
	while [ ${#cid} -lt 64 ]; do
		cid+=$(printf '%04x' "$RANDOM")
	done
	slice="$CGROUP2/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod${uid//-/_}.slice"
	POD_UID[$name]=$uid
	POD_CID[$name]=$cid
	POD_SLICE[$name]=$slice
	POD_CGROUP[$name]="$slice/cri-containerd-$cid.scope"
	POD_NETNS[$name]="$TAG-$name"
	POD_NAMESPACE[$name]=$CHURN_NAMESPACE
}

# volume_paths NAME: the pod's token and Secret file as the node has them.
token_path() {
	echo "$(pod_volumes "$1")/kubernetes.io~projected/$SA_VOLUME/token"
}
secret_path() {
	echo "$(pod_volumes "$1")/kubernetes.io~secret/$SECRET_VOLUME/password"
}

# churn_up NAME...: the pods appear: cgroups, network namespaces, bundles, volumes.
churn_up() {
	local name dirs=() stamp projected secret at staged="$WORK/staged"
	stamp="..$(date -u +%Y_%m_%d_%H_%M_%S).$RANDOM"
	for name in "$@"; do
		dirs+=("${POD_SLICE[$name]}" "${POD_CGROUP[$name]}")
		CREATED_CGROUPS+=("${POD_SLICE[$name]}" "${POD_CGROUP[$name]}")
	done
	mkdir "${dirs[@]}" || { fail "cannot create the cgroups of $*"; return 1; }
	dirs=()
	for name in "$@"; do
		ip netns add "${POD_NETNS[$name]}" || { fail "cannot create netns ${POD_NETNS[$name]}"; return 1; }
		CREATED_NETNS+=("${POD_NETNS[$name]}")
		at=("${!CREATED_NETNS[@]}")
		POD_NETNS_AT[$name]=${at[-1]}
		ip -n "${POD_NETNS[$name]}" link set lo up
		dirs+=("$BUNDLES/${POD_CID[$name]}"
			"$staged/${POD_UID[$name]}/volumes/kubernetes.io~projected/$SA_VOLUME/$stamp"
			"$staged/${POD_UID[$name]}/volumes/kubernetes.io~secret/$SECRET_VOLUME/$stamp")
	done
	mkdir -p "${dirs[@]}" "$NODE_ROOT/var/lib/kubelet/pods"
	for name in "$@"; do
		# As lib.sh's pod_bundle writes it.
		printf '{"ociVersion":"1.1.0","process":{"args":["/app"],"env":["PATH=/usr/bin:/bin"]},"annotations":{"io.kubernetes.cri.container-type":"container","io.kubernetes.cri.container-name":"app","io.kubernetes.cri.image-name":"myreg.azurecr.io/app:1","io.kubernetes.cri.sandbox-name":"%s","io.kubernetes.cri.sandbox-namespace":"%s","io.kubernetes.cri.sandbox-uid":"%s"}}\n' \
			"$name" "${POD_NAMESPACE[$name]}" "${POD_UID[$name]}" > "$BUNDLES/${POD_CID[$name]}/config.json"
		# As lib.sh's volume_write lays a volume out: ..data and the names through
		# it. Written aside and moved in whole, so that writing them is no open of
		# a watched file (an alert, kept for its fold: memory this test would
		# have made itself).
		projected="$staged/${POD_UID[$name]}/volumes/kubernetes.io~projected/$SA_VOLUME"
		secret="$staged/${POD_UID[$name]}/volumes/kubernetes.io~secret/$SECRET_VOLUME"
		printf 'token-of-%s' "$name" > "$projected/$stamp/token"
		printf 'cluster-ca' > "$projected/$stamp/ca.crt"
		printf '%s' "$CHURN_NAMESPACE" > "$projected/$stamp/namespace"
		printf 'password-of-%s' "$name" > "$secret/$stamp/password"
		ln -s "$stamp" "$projected/..data"
		ln -s "$stamp" "$secret/..data"
		ln -s ..data/token ..data/ca.crt ..data/namespace "$projected/"
		ln -s ..data/password "$secret/"
	done
	mv "$staged/"* "$NODE_ROOT/var/lib/kubelet/pods/"
}

# churn_down NAME...: the pods go: bundles and volumes, processes, cgroups, netns.
# The volumes are moved out of the node's tree and removed once the monitor has
# stopped watching them (empty_trash): removing them opens their directories, an
# alert each while they are watched.
churn_down() {
	local name dirs=() gone=() volumes=() cg pid
	mkdir -p "$WORK/trash"
	for name in "$@"; do
		gone+=("$BUNDLES/${POD_CID[$name]}")
		volumes+=("$NODE_ROOT/var/lib/kubelet/pods/${POD_UID[$name]}")
		cg=${POD_CGROUP[$name]}
		if [ -f "$cg/cgroup.procs" ]; then
			while read -r pid; do kill -KILL "$pid" 2>/dev/null; done < "$cg/cgroup.procs"
		fi
		dirs+=("$cg" "${POD_SLICE[$name]}")
	done
	rm -rf "${gone[@]}"
	mv "${volumes[@]}" "$WORK/trash/"
	for _ in $(seq 20); do
		rmdir "${dirs[@]}" 2>/dev/null && break
		sleep 0.05
	done
	for name in "$@"; do
		ip netns del "${POD_NETNS[$name]}"
		unset "CREATED_NETNS[${POD_NETNS_AT[$name]}]"
	done
}

# empty_trash: removes the volumes of deleted pods, once no longer watched.
empty_trash() {
	rm -rf "$WORK/trash"
}

# churn_run NAME...: each pod's workload, all at once; waits for them.
churn_run() {
	local name pid pids=() rc=0
	for name in "$@"; do
		bash -c 'echo $$ > "$1/cgroup.procs" || exit 125; ns=$2; shift 2; exec ip netns exec "$ns" "$@"' \
			_ "${POD_CGROUP[$name]}" "${POD_NETNS[$name]}" \
			"$AM_POD_WORKLOAD" "$WORKLOAD_PORT" "$(token_path "$name")" "$(secret_path "$name")" &
		pids+=("$!")
		printf '%s\t%s\t%s\n' "$!" "${POD_UID[$name]}" "$name" >> "$EXPECTED"
	done
	for pid in "${pids[@]}"; do
		wait "$pid" || rc=$?
	done
	if [ "$rc" != 0 ]; then
		echo "    a workload of pods $1.. exited $rc" >&2
		return 1
	fi
}

# host_cgroups, host_processes: the host's own counts, for what the caches should hold.
host_cgroups() {
	find "$CGROUP2" -type d | wc -l
}
host_processes() {
	ls -d /proc/[0-9]* | wc -l
}

# snapshot: /metrics once, so the series read from it are of one moment.
snapshot() {
	curl -s -m 2 "http://127.0.0.1:$PORT/metrics" > "$WORK/metrics.txt"
}
# snap SERIES: a value from the last snapshot.
snap() {
	awk -v series="$1" '$1 == series { print $2 }' "$WORK/metrics.txt"
}

# at_base: the monitor's pods, watched secrets and cgroups are what they were
# before the churn, give or take what the host itself did meanwhile, and so are
# its file descriptors (for wait_until; says why in $WHY).
at_base() {
	local pods watched cgroups host_cg want_cg fds
	snapshot
	pods=$(snap accessmon_pods)
	watched=$(snap accessmon_watched_secrets)
	cgroups=$(snap accessmon_cgroups)
	host_cg=$(host_cgroups)
	fds=$(fd_count)
	want_cg=$((BASE_CGROUPS + host_cg - BASE_HOST_CGROUPS))
	WHY="pods $pods (base $BASE_PODS), watched secrets $watched (base $BASE_WATCHED), cgroups $cgroups (base $BASE_CGROUPS; the host's $BASE_HOST_CGROUPS then, $host_cg now: want $want_cg), fds $fds (base $BASE_FDS)"
	[ "$pods" = "$BASE_PODS" ] && [ "$watched" = "$BASE_WATCHED" ] &&
		[ "${cgroups:-0}" -le $((want_cg + CGROUP_SLACK)) ] && [ "${cgroups:-0}" -ge $((want_cg - CGROUP_SLACK)) ] &&
		[ "$fds" = "$BASE_FDS" ]
}

# processes_expired: the process cache holds the host's processes and those that
# exited in the last 7 s, no more: the churn's are gone. Looked at every second
# for up to 20 s, the exits counted over the 7 s before each look.
processes_expired() {
	local exits=() processes live recent t
	for ((t = 0; t < 20; t++)); do
		snapshot
		exits+=("$(snap 'accessmon_records_total{type="exit"}')")
		processes=$(snap accessmon_processes)
		live=$(host_processes)
		if [ "$t" -ge 7 ]; then
			recent=$((exits[t] - exits[t - 7]))
			if [ "$processes" -le $((live + recent + PROCESS_SLACK)) ]; then
				echo "    process cache: $processes processes; the host runs $live, $recent exited in the last 7 s"
				return 0
			fi
		fi
		sleep 1
	done
	fail "the process cache holds $processes processes, more than the host's $live and the $recent that exited in the last 7 s"
}

# watching N: the watch set holds the base and N pods' volumes.
watching() {
	[ "$(metric "$PORT" accessmon_watched_secrets)" = $((BASE_WATCHED + WATCHED_PER_POD * $1)) ]
}

# churn FROM TO: pods FROM..TO-1, a batch at a time; each batch comes up while
# the previous one's workloads run and goes while the next one's do.
churn() {
	local from=$1 to=$2 i name batch=() previous=()
	for ((i = from; i < to; i++)); do
		churn_define "p$i"
		batch+=("p$i")
		if [ ${#batch[@]} = "$CHURN_BATCH" ] || [ $((i + 1)) = "$to" ]; then
			churn_up "${batch[@]}" || return 1
			wait_until 10 watching $((${#batch[@]} + ${#previous[@]})) ||
				{ fail "volumes of pods ${batch[0]}.. not watched: $(metric "$PORT" accessmon_watched_secrets) entries"; return 1; }
			# Only this batch and the previous one are watched now.
			empty_trash
			churn_run "${batch[@]}" &
			local running=$!
			[ ${#previous[@]} = 0 ] || churn_down "${previous[@]}"
			wait "$running" || fail "workloads of ${batch[0]}.."
			previous=("${batch[@]}")
			batch=()
			echo "    $((i + 1)) pods: heap $(heap_kb) kB, RssAnon $(rss_kb) kB, $(fd_count) fds, $((SECONDS - STARTED)) s"
		fi
	done
	churn_down "${previous[@]}"
	wait_until 10 watching 0 || { fail "volumes still watched: $(metric "$PORT" accessmon_watched_secrets) entries"; return 1; }
	empty_trash
}

# heap_kb: malloc's bytes in use in the monitor, in kB.
heap_kb() {
	local bytes
	bytes=$(metric "$PORT" accessmon_heap_bytes)
	[ -n "$bytes" ] || { fail "no accessmon_heap_bytes in /metrics"; echo 999999999; return; }
	echo $((bytes / 1024))
}

# metrics_up: /metrics answers.
metrics_up() {
	[ -n "$(metric "$PORT" accessmon_pods)" ]
}

test_500_pods_come_and_go() {
	local rss_warm rss_end heap_warm heap_end fds_warm churned
	PORT=$(free_port)
	mkdir_tracked "$CGROUP2/kubepods.slice/kubepods-besteffort.slice" || return
	monitor_start --host-root "$NODE_ROOT" --listen "$PORT" --pod-grace "$GRACE_S" || return
	wait_until 5 metrics_up || { fail "no /metrics"; return; }
	sleep 1
	snapshot
	BASE_PODS=$(snap accessmon_pods)
	BASE_WATCHED=$(snap accessmon_watched_secrets)
	BASE_CGROUPS=$(snap accessmon_cgroups)
	BASE_HOST_CGROUPS=$(host_cgroups)
	BASE_FDS=$(fd_count)
	STARTED=$SECONDS
	echo "    base: $BASE_PODS pods, $BASE_WATCHED watched secrets, $BASE_CGROUPS cgroups, $BASE_FDS fds, RssAnon $(rss_kb) kB"

	churn 0 "$CHURN_WARMUP" || return
	wait_until 15 at_base || fail "after the warm-up, not back to base: $WHY"
	processes_expired
	rss_warm=$(rss_kb)
	heap_warm=$(heap_kb)
	fds_warm=$(fd_count)
	echo "    after the warm-up ($CHURN_WARMUP pods, $((SECONDS - STARTED)) s): heap $heap_warm kB, RssAnon $rss_warm kB, $fds_warm fds"

	churn "$CHURN_WARMUP" "$CHURN_PODS" || return
	churned=$SECONDS
	wait_until 15 at_base || fail "after the churn, not back to base: $WHY"
	echo "    $((SECONDS - churned)) s after the churn: $WHY"
	processes_expired
	rss_end=$(rss_kb)
	heap_end=$(heap_kb)
	echo "    after $CHURN_PODS pods ($((churned - STARTED)) s of churn): heap $heap_end kB, $((heap_end - heap_warm)) kB more than after the warm-up; RssAnon $rss_end kB ($((rss_end - rss_warm)) kB more); $(fd_count) fds"
	expect_true test $((heap_end - heap_warm)) -le "$HEAP_GROWTH_MAX_KB" ||
		fail "the heap grew by $((heap_end - heap_warm)) kB after the warm-up, more than $HEAP_GROWTH_MAX_KB"
	expect_eq "$(fd_count)" "$fds_warm" "file descriptors after the churn"
	# The monitor sees the whole host: a burst elsewhere may overflow its ring
	# buffer. What matters here is that no record of the churn is missing, which
	# check_attribution counts; the loss is said in case it did.
	echo "    events lost by the monitor (the whole host's): $(metric "$PORT" accessmon_events_lost_total)"
	monitor_stop
	check_attribution
}

# check_attribution: every workload's connect and two opens, each exactly once and
# named with the workload's own pod; nothing else from the churned pods.
check_attribution() {
	local report
	expect_eq "$(wc -l < "$EXPECTED")" "$CHURN_PODS" "workloads run"
	# One line per record of a workload or from a churned pod: pid, the pod uid its
	# arguments name (the test's key, with the pid: pids are reused), what it
	# was, and the pod the monitor named.
	jq -r --arg ns "$CHURN_NAMESPACE" --arg comm am-pod-workload '
		select((.type == "connect" or .type == "open" or .type == "connect-repeat")
		       and (.proc.comm == $comm or .pod.namespace == $ns))
		| [.proc.pid,
		   ((.proc.args // [])[2] // "" | capture("pods/(?<u>[^/]+)/volumes").u // "none"),
		   (if .type == "open" then "open:" + .file.kind
		    else .type + ":" + .dst.ip + ":" + (.dst.port | tostring) end),
		   (.pod.uid // "none"), (.pod.name // "none"), (.pod.namespace // "none"),
		   (.pod.container // "none"),
		   (.file.owner_pod.uid // "-"), (.file.owner_pod.name // "-")] | @tsv' "$OUT" > "$WORK/seen.tsv"
	report=$(awk -F'\t' -v ns="$CHURN_NAMESPACE" -v port="$WORKLOAD_PORT" '
		FNR == NR { name[$1 "\t" $2] = $3; next }
		{
			key = $1 "\t" $2
			if (!(key in name)) { print "record of no workload: " $0; next }
			seen[key "\t" $3]++
			if ($4 != $2 || $5 != name[key] || $6 != ns || $7 != "app")
				print "misattributed: pid " $1 " of pod " name[key] " (" $2 ") named " $6 "/" $5 " (" $4 ") container " $7
			if ($3 ~ /^open:/ && ($8 != $2 || $9 != name[key]))
				print "wrong owner: pid " $1 " of pod " name[key] " opened a file of " $9 " (" $8 ")"
		}
		END {
			for (key in name) {
				n = split("connect:127.0.0.1:" port " open:service-account-token open:secret-volume", what, " ")
				for (i = 1; i <= n; i++)
					if (seen[key "\t" what[i]] != 1)
						print "pid " key " (" name[key] "): " (seen[key "\t" what[i]] + 0) " " what[i] " records, expected 1"
				for (w in seen) {
					split(w, parts, "\t")
					if (parts[1] "\t" parts[2] == key && parts[3] != what[1] && parts[3] != what[2] && parts[3] != what[3])
						print "pid " key " (" name[key] "): unexpected " parts[3]
				}
			}
		}' "$EXPECTED" "$WORK/seen.tsv")
	if [ -n "$report" ]; then
		fail "$(echo "$report" | wc -l) problems in the records of $CHURN_PODS pods' workloads:"
		echo "$report" | head -n 20 >&2
		return
	fi
	echo "    $(wc -l < "$WORK/seen.tsv") records of $CHURN_PODS workloads, each named with its own pod"
}

e2e_main churn
