#!/usr/bin/env bash
# End to end: who did it. Pods named from containerd bundles alone (no PodList),
# the kubelet's /pods over HTTPS, process ancestry and short-lived processes, pods
# deleted before their last event is read, host systemd units, the node's
# identities and `accessmon inventory`, and sources that break.
source "$(dirname "$0")/lib.sh"

USE_PODLIST=0
node_tree_init
WI_CLIENT_ID=0e1f2a3b-4c5d-6e7f-8091-a2b3c4d5e6f7
WI_TENANT_ID=72f988bf-86f1-41af-91ab-2d7cd011db47
WI_TOKEN=/var/run/secrets/azure/tokens/azure-identity-token

pod_define shell-pod shop
pod_define wi-pod payments
pod_define short-pod batch
pod_define doomed-pod batch cgroupfs besteffort
pod_define kubelet-pod web
pod_define inventory-pod tools
pod_define early-pod shop

test_bundle_pod_created_after_start_with_ancestry() {
	monitor_start --host-root "$NODE_ROOT" || return
	# The pod appears while the monitor runs, named only by containerd's bundle.
	pod_define_up_with_bundle shell-pod || return
	pod_serve shell-pod 169.254.169.254 80 || return
	pod_run shell-pod /bin/sh -c 'curl -s -o /dev/null -H Metadata:true "http://169.254.169.254/metadata/instance?api-version=2021-02-01"; true'
	local sh_pid=$LAST_PID
	# sh exec'ing curl: one process that ran sh, then curl.
	pod_run shell-pod /bin/sh -c 'exec curl -s -o /dev/null http://169.254.169.254/metadata/versions'
	local exec_pid=$LAST_PID
	monitor_stop
	local curl=".type == \"connect\" and .proc.ppid == $sh_pid and .proc.comm == \"curl\""
	expect_records 1 "$curl" "curl forked by sh" || return
	expect_eq "$(field "$curl" .pod.name)" shell-pod "pod name from the bundle"
	expect_eq "$(field "$curl" .pod.namespace)" shop "namespace from the bundle"
	expect_eq "$(field "$curl" .pod.container)" app "container name from the bundle"
	expect_eq "$(field "$curl" .proc.exe)" /usr/bin/curl "exe"
	expect_eq "$(field "$curl" '.proc.args | join(" ")')" \
		'curl -s -o /dev/null -H Metadata:true http://169.254.169.254/metadata/instance?api-version=2021-02-01' "args"
	expect_eq "$(field "$curl" '.proc.ancestors[0].pid')" "$sh_pid" "parent in ancestry"
	expect_eq "$(field "$curl" '.proc.ancestors[0].comm')" sh "parent comm"
	expect_eq "$(field "$curl" '.proc.ancestors[0].exe')" /bin/sh "parent exe"
	# The chain stops at the container's init: nothing from outside the pod.
	expect_eq "$(field "$curl" '.proc.ancestors | length')" 1 "ancestors within the container"
	expect_true grep -q '"start_time":"20' <<< "$(records "$curl")"
	local execed=".type == \"connect\" and .proc.pid == $exec_pid"
	expect_records 1 "$execed" "curl exec'd in place of sh" || return
	expect_eq "$(field "$execed" .proc.exe)" /usr/bin/curl "exe after exec"
	expect_eq "$(field "$execed" '.proc.ancestors[0] | [.pid, .comm, .exe, .replaced_by_exec] | join(" ")')" \
		"$exec_pid sh /bin/sh true" "the sh it replaced"
}

# In a DaemonSet the monitor has its own cgroup namespace, and /proc/PID/cgroup
# of every other process reads "0::/../../...". A process that was running before
# the monitor started must still be placed in its pod's cgroup (so it stays in
# its children's ancestry), from inside such a namespace.
test_process_started_before_the_monitor_from_a_cgroup_namespace() {
	pod_define_up_with_bundle early-pod || return
	pod_serve early-pod 169.254.169.254 80 || return
	# A shell in the pod, started first; it forks curl once the monitor runs.
	local go="$WORK/early.go"
	rm -f "$go"
	bash -c 'echo $$ > "$1/cgroup.procs"; ns=$2; go=$3; exec ip netns exec "$ns" /bin/sh -c "while [ ! -f $go ]; do sleep 0.05; done; curl -s -o /dev/null http://169.254.169.254/metadata/versions; true"' \
		_ "${POD_CGROUP[early-pod]}" "${POD_NETNS[early-pod]}" "$go" &
	local early=$!
	BACKGROUND_PIDS+=("$early")
	# The monitor in a namespace rooted at a cgroup of its own, as a container's is.
	local own="$CGROUP2/$TAG-monitor"
	mkdir_tracked "$own" || return
	local ready="$WORK/monitor.ready"
	rm -f "$ready"
	bash -c 'echo $$ > "$1/cgroup.procs"; shift; mnt=$1; shift; exec unshare -C -m sh -c "mkdir -p $mnt && mount -t cgroup2 none $mnt && exec \"\$@\"" _ "$@"' \
		_ "$own" "$WORK/cgmnt" "$AM" monitor --events --ready-file "$ready" --host-root "$NODE_ROOT" \
		--cgroup-root "$CGROUP2" > "$OUT" 2> "$ERR" &
	MONITOR_PID=$!
	monitor_wait_ready "$ready" || return
	expect_true grep -q "in a cgroup namespace rooted at /$TAG-monitor" "$ERR"
	touch "$go"
	wait "$early"
	monitor_stop
	local curl=".type == \"connect\" and .proc.ppid == $early"
	expect_records 1 "$curl" "curl forked by the early shell" || return
	expect_eq "$(field "$curl" .pod.name)" early-pod "pod"
	# Placed in the pod's cgroup from /proc, the shell is the container's own ancestor.
	expect_eq "$(field "$curl" '.proc.ancestors[0].pid')" "$early" "the early shell in the ancestry"
	expect_eq "$(field "$curl" '.proc.ancestors[0].comm')" sh "its comm"
}

# pod_define_up_with_bundle NAME [ENV...]: cgroup, network namespace and bundle.
pod_define_up_with_bundle() {
	local name=$1
	shift
	pod_bundle "$name" "$@"
	pod_up "$name"
}

test_workload_identity_from_container_env() {
	monitor_start --host-root "$NODE_ROOT" || return
	pod_define_up_with_bundle wi-pod "AZURE_CLIENT_ID=$WI_CLIENT_ID" "AZURE_TENANT_ID=$WI_TENANT_ID" \
		"AZURE_FEDERATED_TOKEN_FILE=$WI_TOKEN" "AZURE_AUTHORITY_HOST=https://login.microsoftonline.com/" || return
	pod_run wi-pod "$AM_CONNECT" 169.254.169.254 80
	monitor_stop
	local match=".type == \"connect\" and .proc.pid == $LAST_PID"
	expect_records 1 "$match" "connect from the workload identity pod" || return
	expect_eq "$(field "$match" .pod.workload_identity.client_id)" "$WI_CLIENT_ID" "client id"
	expect_eq "$(field "$match" .pod.workload_identity.tenant_id)" "$WI_TENANT_ID" "tenant id"
	expect_eq "$(field "$match" .pod.workload_identity.token_file)" "$WI_TOKEN" "token file"
	expect_records 1 ".type == \"connect\" and .proc.pid == $LAST_PID and .pod.name == \"wi-pod\" and .host == null" "pod, not host"
}

test_short_lived_process_keeps_its_own_name() {
	monitor_start --host-root "$NODE_ROOT" || return
	pod_define_up_with_bundle short-pod || return
	local -a pids=()
	for i in 1 2 3 4 5; do
		pod_run short-pod "$AM_CONNECT" 169.254.169.254 "808$i"
		pids+=("$LAST_PID")
	done
	monitor_stop
	local pid
	for pid in "${pids[@]}"; do
		local match=".type == \"connect\" and .proc.pid == $pid"
		expect_records 1 "$match" "connect from short-lived pid $pid" || continue
		expect_eq "$(field "$match" .proc.exe)" "$AM_CONNECT" "its own exe, not its parent's"
		expect_eq "$(field "$match" '.proc.args[0]')" "$AM_CONNECT" "its own args"
		expect_eq "$(field "$match" .proc.comm)" am-connect "comm"
		expect_eq "$(field "$match" .pod.name)" short-pod "pod"
	done
}

test_pod_deleted_before_its_last_event_is_read() {
	monitor_start --host-root "$NODE_ROOT" || return
	pod_define_up_with_bundle doomed-pod || return
	pod_run doomed-pod "$AM_CONNECT" 169.254.169.254 80
	local first=$LAST_PID
	sleep 0.3
	# The monitor reads nothing while stopped: the pod is gone before it sees the event.
	kill -STOP "$MONITOR_PID"
	pod_run doomed-pod "$AM_CONNECT" 169.254.169.254 81
	local last=$LAST_PID
	pod_down doomed-pod
	sleep 2.5
	kill -CONT "$MONITOR_PID"
	sleep 0.5
	monitor_stop
	expect_records 1 ".type == \"connect\" and .proc.pid == $first and .pod.name == \"doomed-pod\"" "event while the pod lived"
	expect_records 1 ".type == \"connect\" and .proc.pid == $last and .pod.name == \"doomed-pod\" and .pod.namespace == \"batch\" and .pod.container == \"app\"" \
		"event read after the pod was deleted"
}

make_kubelet_cert() {
	openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=fake-kubelet \
		-addext "subjectAltName=IP:127.0.0.1" \
		-keyout "$WORK/kubelet.key" -out "$WORK/kubelet.crt" >/dev/null 2>&1
}

# kubelet_serve: a fake kubelet on a free loopback port; KUBELET_URL is its address.
kubelet_serve() {
	local ready="$WORK/kubelet.ready" port
	[ -f "$WORK/kubelet.crt" ] || make_kubelet_cert || { fail "openssl failed"; return 1; }
	echo "sa-token-$RANDOM$RANDOM" > "$WORK/kubelet.token"
	port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
	rm -f "$ready" "$ready.requests"
	python3 "$FAKE_KUBELET" 127.0.0.1 "$port" "$WORK/kubelet.crt" "$WORK/kubelet.key" \
		"$WORK/kubelet.token" "$WORK/kubelet-pods.json" "$ready" >/dev/null 2>&1 &
	BACKGROUND_PIDS+=("$!")
	KUBELET_PID=$!
	for _ in $(seq 600); do
		[ -f "$ready" ] && break
		sleep 0.05
	done
	[ -f "$ready" ] || { fail "fake kubelet did not start"; return 1; }
	KUBELET_URL="https://127.0.0.1:$port"
}

test_kubelet_pods_over_https() {
	pod_bundle kubelet-pod
	jq --arg uid "${POD_UID[kubelet-pod]}" --arg cid "${POD_CID[kubelet-pod]}" \
		'.items += [{metadata: {name: "kubelet-pod", namespace: "web", uid: $uid,
		   labels: {app: "storefront", "azure.workload.identity/use": "true"}},
		 spec: {serviceAccountName: "storefront-sa", hostNetwork: false, containers: [{name: "app"}]},
		 status: {containerStatuses: [{name: "app", containerID: ("containerd://" + $cid)}]}}]' \
		<<< '{"kind":"PodList","items":[]}' > "$WORK/kubelet-pods.json"
	kubelet_serve || return
	rm -rf "${BUNDLES:?}/${POD_CID[kubelet-pod]}"
	# No containerd: the kubelet is the only source of names here.
	monitor_start --host-root "$NODE_ROOT" --no-containerd --kubelet-url "$KUBELET_URL" \
		--kubelet-ca-file "$WORK/kubelet.crt" --kubelet-token-file "$WORK/kubelet.token" \
		--kubelet-interval 1 || return
	pod_up kubelet-pod || return
	pod_run kubelet-pod "$AM_CONNECT" 169.254.169.254 80
	monitor_stop
	local match=".type == \"connect\" and .proc.pid == $LAST_PID"
	expect_records 1 "$match" "connect from the kubelet-named pod" || return
	expect_eq "$(field "$match" .pod.name)" kubelet-pod "name from the kubelet"
	expect_eq "$(field "$match" .pod.service_account)" storefront-sa "service account"
	expect_eq "$(field "$match" .pod.host_network)" false "hostNetwork"
	expect_eq "$(field "$match" .pod.labels.app)" storefront "labels"
	expect_eq "$(field "$match" '.pod.workload_identity != null')" true "workload identity label"
	expect_eq "$(grep -c '^/pods$' "$WORK/kubelet.ready.requests")" "$(grep -c . "$WORK/kubelet.ready.requests")" \
		"only /pods is asked for"
	expect_true grep -q "pods known" "$ERR"
	if grep -q "sa-token" "$ERR" "$OUT"; then
		fail "the service account token appeared in the monitor's output"
	fi
}

test_kubelet_failures_are_reported_and_survived() {
	kubelet_serve || return
	echo '{"kind":"PodList","items":[' > "$WORK/kubelet-pods.json"
	echo "wrong-token" > "$WORK/bad.token"
	monitor_start --host-root "$NODE_ROOT" --kubelet-url "$KUBELET_URL" \
		--kubelet-ca-file "$WORK/kubelet.crt" --kubelet-token-file "$WORK/bad.token" \
		--kubelet-interval 1 || return
	sleep 1.5
	# The token is fixed (rotated, as the kubelet rotates it): the next poll uses it.
	cp "$WORK/kubelet.token" "$WORK/bad.token"
	sleep 2.5
	pod_run shell-pod "$AM_CONNECT" 169.254.169.254 80 2>/dev/null
	monitor_stop
	expect_true grep -q "kubelet $KUBELET_URL/pods: HTTP 401" "$ERR"
	expect_true grep -Eq "kubelet $KUBELET_URL/pods:1:[0-9]+: invalid JSON" "$ERR"
	expect_eq "$(grep -c "HTTP 401" "$ERR")" 1 "a repeated failure is said once"
	# Without a kubelet, containerd still names the pod, and events still flow.
	expect_records 1 ".type == \"connect\" and .proc.pid == $LAST_PID and .pod.name == \"shell-pod\"" "events after kubelet failures"
}

test_host_process_named_by_systemd_unit() {
	local unit="$CGROUP2/system.slice/accessmon-e2e-$TAG.service"
	mkdir_tracked "$unit" || return
	monitor_start --host-root "$NODE_ROOT" || return
	bash -c 'echo $$ > "$1/cgroup.procs"; echo $$ > "$2"; exec "$3" 127.0.0.1 9' _ "$unit" "$WORK/unit.pid" "$AM_CONNECT"
	local pid
	pid=$(cat "$WORK/unit.pid")
	monitor_stop
	expect_records 1 ".type == \"connect\" and .proc.pid == $pid and .pod == null and .host.unit == \"accessmon-e2e-$TAG.service\" and .host.slice == \"system.slice\"" \
		"host process attributed to its unit"
}

test_inventory_shows_the_node() {
	pod_define_up_with_bundle inventory-pod "AZURE_CLIENT_ID=$WI_CLIENT_ID" || return
	cat > "$WORK/aks.json" <<-EOF
	{"name": "aks-test",
	 "identity": {"type": "SystemAssigned", "principalId": "cp-principal"},
	 "identityProfile": {"kubeletidentity": {"clientId": "$KUBELET_CLIENT_ID",
	   "objectId": "7d6c5b4a-0000-1111-2222-333344445555",
	   "resourceId": "/subscriptions/a1b2c3d4-e5f6-4711-8899-aabbccddeeff/resourcegroups/MC_rg-aks_aks-test_eastus/providers/Microsoft.ManagedIdentity/userAssignedIdentities/aks-test-agentpool"}},
	 "addonProfiles": {"azureKeyvaultSecretsProvider": {"enabled": true, "identity": {
	   "clientId": "c5d6e7f8-0000-1111-2222-333344445555", "objectId": "csi-object",
	   "resourceId": "/subscriptions/a1b2c3d4-e5f6-4711-8899-aabbccddeeff/resourcegroups/MC_rg-aks_aks-test_eastus/providers/Microsoft.ManagedIdentity/userAssignedIdentities/azurekeyvaultsecretsprovider-aks-test"}}}}
	EOF
	mkdir -p "$BUNDLES/badbundle"
	echo '{"annotations": {"io.kubernetes.cri.sandbox-uid": nope}}' > "$BUNDLES/badbundle/config.json"
	"$AM" inventory --host-root "$NODE_ROOT" --cluster "$WORK/aks.json" > "$WORK/inventory.json" 2> "$WORK/inventory.err"
	expect_eq "$?" 0 "inventory exit status"
	local inv="$WORK/inventory.json"
	expect_eq "$(jq -r '.node.identities[] | select(.kind == "kubelet") | .client_id' "$inv")" "$KUBELET_CLIENT_ID" "kubelet client id from azure.json"
	expect_eq "$(jq -r '.node.identities[] | select(.kind == "kubelet") | .object_id' "$inv")" 7d6c5b4a-0000-1111-2222-333344445555 "kubelet object id from az aks show"
	expect_eq "$(jq -r '.node.identities[] | select(.kind == "addon") | .name' "$inv")" azureKeyvaultSecretsProvider "add-on identity"
	expect_eq "$(jq -r '.node.uses_service_principal' "$inv")" false "managed identity node"
	expect_eq "$(jq -r '.node.scale_set' "$inv")" aks-nodepool1-12345678-vmss "scale set"
	expect_eq "$(jq -r --arg uid "${POD_UID[inventory-pod]}" '.pods[] | select(.uid == $uid) | .name' "$inv")" inventory-pod "pod listed"
	expect_eq "$(jq -r --arg uid "${POD_UID[inventory-pod]}" '.pods[] | select(.uid == $uid) | .workload_identity.client_id' "$inv")" "$WI_CLIENT_ID" "pod workload identity"
	expect_eq "$(jq -r --arg uid "${POD_UID[inventory-pod]}" '.pods[] | select(.uid == $uid) | .containers[0].id' "$inv")" "${POD_CID[inventory-pod]}" "container id"
	expect_true grep -Eq "badbundle/config.json:1:[0-9]+: invalid JSON near" "$WORK/inventory.err"
	if grep -q '"msi"' "$inv" && jq -e '.. | objects | has("aadClientSecret")' "$inv" >/dev/null 2>&1; then
		fail "azure.json's secret field leaked into the inventory"
	fi
	"$AM" inventory --host-root "$NODE_ROOT" --cluster "$WORK/aks.json" --format text > "$WORK/inventory.txt" 2>/dev/null
	expect_true grep -q "^pod tools/inventory-pod uid=${POD_UID[inventory-pod]} workload-identity=$WI_CLIENT_ID" "$WORK/inventory.txt"
	expect_true grep -q "identity kind=kubelet name=kubelet client-id=$KUBELET_CLIENT_ID" "$WORK/inventory.txt"
	rm -rf "$BUNDLES/badbundle"
}

test_malformed_node_sources_keep_the_monitor_running() {
	local broken="$WORK/broken-node"
	mkdir -p "$broken/etc/kubernetes" "$broken/run/containerd/io.containerd.runtime.v2.task/k8s.io/bad"
	ln -sfn /proc "$broken/proc"
	printf '{"tenantId": "t",\n "aadClientId": msi}\n' > "$broken/etc/kubernetes/azure.json"
	echo 'not json' > "$broken/run/containerd/io.containerd.runtime.v2.task/k8s.io/bad/config.json"
	monitor_start --host-root "$broken" || return
	bash -c 'echo $$ > "$1"; exec "$2" 127.0.0.1 9' _ "$WORK/host.pid" "$AM_CONNECT"
	monitor_stop
	expect_true grep -q "$broken/etc/kubernetes/azure.json:2:17: invalid JSON" "$ERR"
	expect_true grep -q "skipping a containerd bundle: $broken/run/containerd/io.containerd.runtime.v2.task/k8s.io/bad/config.json:1:" "$ERR"
	expect_records 1 ".proc.pid == $(cat "$WORK/host.pid")" "events flow despite broken sources"
}

e2e_main attribution
