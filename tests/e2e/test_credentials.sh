#!/usr/bin/env bash
# End to end: a credential is matched by its own identity, wherever its names
# are, and the pod's spec says which files are credentials. Each case is a way an
# attacker who has read our code would reach another pod's secret: a hard link
# made before the monitor started (outside the volume, or inside it under another
# name, then open_by_handle_at of the real token), an item six directories deep,
# a token under a name the spec gives it (Istio's istio-token), and a token
# rotated into a volume that is its own tmpfs while user space is stopped.
source "$(dirname "$0")/lib.sh"

victim_and_attacker

# pod_as NAME SERVICE_ACCOUNT IMAGE: the pod runs as SERVICE_ACCOUNT, its
# container from IMAGE, on the host's network (as AKS's node plugins do).
pod_as() {
	local tmp="$WORK/pods.tmp"
	jq --arg uid "${POD_UID[$1]}" --arg sa "$2" --arg image "$3" '
		(.items[] | select(.metadata.uid == $uid) | .spec) |=
		  (.serviceAccountName = $sa | .hostNetwork = true | .containers[0].image = $image)' \
		"$PODS_JSON" > "$tmp" && mv "$tmp" "$PODS_JSON"
	BUNDLE_IMAGE=$3 pod_bundle "$1"
	pod_up "$1"
}
# The Azure Disk CSI node plugin as its public manifest deploys it
# (kubernetes-sigs/azuredisk-csi-driver deploy/csi-azuredisk-node.yaml), and
# look-alikes: the same image in another namespace, another image with its
# service account, another service account with its image.
DISK_IMAGE=mcr.microsoft.com/oss/v2/kubernetes-csi/azuredisk-csi:v1.31.5
pod_define disk-node kube-system
pod_as disk-node csi-azuredisk-node-sa "$DISK_IMAGE"
pod_define disk-elsewhere shop
pod_as disk-elsewhere csi-azuredisk-node-sa "$DISK_IMAGE"
pod_define disk-image kube-system
pod_as disk-image csi-azuredisk-node-sa docker.io/attacker/azuredisk-csi:v1.31.5
pod_define disk-account kube-system
pod_as disk-account default "$DISK_IMAGE"
SA_VOLUME=kube-api-access-9q8rt
MESH_VOLUME=istio-token
DEEP_VOLUME=deep-config
TMPFS_VOLUME=kube-api-access-tmpfs
DEEP_ITEM=a/b/c/d/e/f/item

# The victim's spec: a service account volume, Istio's token volume (a token and
# a configMap's root certificate), a Secret whose one item is six levels deep,
# and a second token volume the kubelet would mount as tmpfs.
spec_volumes() {
	local tmp="$WORK/pods.tmp"
	jq --arg uid "${POD_UID[victim]}" --arg sa "$SA_VOLUME" --arg mesh "$MESH_VOLUME" \
		--arg deep "$DEEP_VOLUME" --arg item "$DEEP_ITEM" --arg tmpfs "$TMPFS_VOLUME" '
		(.items[] | select(.metadata.uid == $uid) | .spec.volumes) = [
		  {name: $sa, projected: {sources: [
		    {serviceAccountToken: {expirationSeconds: 3607, path: "token"}},
		    {configMap: {name: "kube-root-ca.crt", items: [{key: "ca.crt", path: "ca.crt"}]}},
		    {downwardAPI: {items: [{path: "namespace",
		      fieldRef: {fieldPath: "metadata.namespace"}}]}}]}},
		  {name: $mesh, projected: {sources: [
		    {serviceAccountToken: {audience: "istio-ca", expirationSeconds: 43200,
		      path: "istio-token"}},
		    {configMap: {name: "istio-ca-root-cert",
		      items: [{key: "root-cert.pem", path: "root-cert.pem"}]}}]}},
		  {name: $deep, secret: {secretName: "db", items: [{key: "password", path: $item}]}},
		  {name: $tmpfs, projected: {sources: [
		    {serviceAccountToken: {path: "token"}}]}}]' \
		"$PODS_JSON" > "$tmp" && mv "$tmp" "$PODS_JSON"
}
spec_volumes

VOLUMES=$(pod_volumes victim)
HOST_VOLUMES="/var/lib/kubelet/pods/${POD_UID[victim]}/volumes"
pod_projected victim "$SA_VOLUME" token=victim-sa-token ca.crt=cluster-ca namespace=payments
pod_projected victim "$MESH_VOLUME" istio-token=victim-mesh-token root-cert.pem=mesh-ca
mkdir -p "$VOLUMES/kubernetes.io~secret/$DEEP_VOLUME"
# The kubelet's writer: the item inside the timestamped directory, its top name through ..data.
DEEP_STAMP="..2026_12_03_10_00_00.1"
mkdir -p "$VOLUMES/kubernetes.io~secret/$DEEP_VOLUME/$DEEP_STAMP/${DEEP_ITEM%/*}"
printf 'hunter2' > "$VOLUMES/kubernetes.io~secret/$DEEP_VOLUME/$DEEP_STAMP/$DEEP_ITEM"
ln -sfn "$DEEP_STAMP" "$VOLUMES/kubernetes.io~secret/$DEEP_VOLUME/..data"
ln -sfn "..data/a" "$VOLUMES/kubernetes.io~secret/$DEEP_VOLUME/a"
# A volume on a tmpfs of its own, as the kubelet mounts secret and projected volumes.
TMPFS_DIR="$VOLUMES/kubernetes.io~projected/$TMPFS_VOLUME"
mkdir -p "$TMPFS_DIR"
mount -t tmpfs -o size=1m tmpfs "$TMPFS_DIR" && CREATED_MOUNTS+=("$TMPFS_DIR")
pod_projected victim "$TMPFS_VOLUME" token=tmpfs-token-1

SA_TOKEN="$VOLUMES/kubernetes.io~projected/$SA_VOLUME/token"
# The node's other credentials: the VM agent's managed identity settings, the
# kubelet's certificate store and its bootstrap kubeconfig.
mkdir -p "$NODE_ROOT/var/lib/waagent" "$NODE_ROOT/var/lib/kubelet/pki"
echo '{"client_id":"msi"}' > "$NODE_ROOT/var/lib/waagent/ManagedIdentity-Settings"
echo 'pem' > "$NODE_ROOT/var/lib/kubelet/pki/kubelet-client-2026-12-01-10-00-00.pem"
ln -sfn kubelet-client-2026-12-01-10-00-00.pem "$NODE_ROOT/var/lib/kubelet/pki/kubelet-client-current.pem"
echo 'token: abcdef.0123456789abcdef' > "$NODE_ROOT/var/lib/kubelet/bootstrap-kubeconfig"
# Hard links made before the monitor starts: one outside the volume, one inside
# it under an innocent name (the real file is in the timestamped directory).
mkdir -p "$WORK/loot"
chmod 777 "$WORK/loot"
ln "$(readlink -f "$SA_TOKEN")" "$WORK/loot/notes.txt"
ln "$(readlink -f "$SA_TOKEN")" "$(dirname "$(readlink -f "$SA_TOKEN")")/.cache"

# expect_foreign PID KIND HOST_PATH: one open record by PID of the victim's KIND at
# HOST_PATH, from the attacker pod, and a foreign-token-read alert naming both.
expect_foreign() {
	local match=".type == \"open\" and .proc.pid == $1"
	expect_records 1 "$match" "one open record from pid $1" || return 1
	expect_eq "$(field "$match" .file.kind)" "$2" "kind"
	expect_eq "$(field "$match" .file.host_path)" "$3" "host path"
	expect_eq "$(field "$match" '.file.owner_pod.name // "none"')" victim "owner pod"
	expect_eq "$(field "$match" .pod.name)" attacker "opener's pod"
	expect_records 1 ".type == \"alert\" and .rule == \"foreign-token-read\" and .proc.pid == $1" \
		"a foreign-token-read alert for pid $1"
}

test_a_hard_link_outside_the_volume_made_before_start() {
	monitor_start --host-root "$NODE_ROOT" || return
	pod_run attacker cat "$WORK/loot/notes.txt" >/dev/null
	monitor_stop
	expect_foreign "$LAST_PID" service-account-token "$HOST_VOLUMES/kubernetes.io~projected/$SA_VOLUME/token" ||
		return
	expect_eq "$(field ".type == \"open\" and .proc.pid == $LAST_PID" .file.path)" "$WORK/loot/notes.txt" \
		"path as named"
}

test_open_by_handle_at_of_a_linked_token() {
	monitor_start --host-root "$NODE_ROOT" || return
	pod_run attacker "$AM_OPEN" handle "$NODE_ROOT" "$SA_TOKEN" >/dev/null
	expect_eq "$?" 0 "open_by_handle_at succeeded"
	monitor_stop
	expect_foreign "$LAST_PID" service-account-token "$HOST_VOLUMES/kubernetes.io~projected/$SA_VOLUME/token" ||
		return
	expect_eq "$(field ".type == \"open\" and .proc.pid == $LAST_PID" .file.syscall)" open_by_handle_at "syscall"
}

test_a_hard_link_inside_the_volume_under_another_name() {
	monitor_start --host-root "$NODE_ROOT" || return
	pod_run attacker cat "$(dirname "$(readlink -f "$SA_TOKEN")")/.cache" >/dev/null
	monitor_stop
	expect_foreign "$LAST_PID" service-account-token "$HOST_VOLUMES/kubernetes.io~projected/$SA_VOLUME/token"
}

test_an_item_six_directories_deep() {
	monitor_start --host-root "$NODE_ROOT" || return
	pod_run attacker cat "$VOLUMES/kubernetes.io~secret/$DEEP_VOLUME/$DEEP_ITEM" >/dev/null
	monitor_stop
	expect_foreign "$LAST_PID" secret-volume "$HOST_VOLUMES/kubernetes.io~secret/$DEEP_VOLUME/$DEEP_ITEM"
}

test_a_token_under_the_name_the_spec_gives_it() {
	monitor_start --host-root "$NODE_ROOT" || return
	# The configMap's certificate beside it is no credential, and the victim's own read is no theft.
	pod_cat attacker "$VOLUMES/kubernetes.io~projected/$MESH_VOLUME/istio-token" \
		"$VOLUMES/kubernetes.io~projected/$MESH_VOLUME/root-cert.pem"
	local token=${CAT_PIDS[0]} cert=${CAT_PIDS[1]}
	pod_cat victim "$VOLUMES/kubernetes.io~projected/$MESH_VOLUME/istio-token"
	local own=${CAT_PIDS[0]}
	monitor_stop
	expect_foreign "$token" service-account-token \
		"$HOST_VOLUMES/kubernetes.io~projected/$MESH_VOLUME/istio-token" || return
	expect_records 0 ".proc.pid == $cert" "the mesh's root certificate is not a credential"
	expect_records 1 ".type == \"open\" and .proc.pid == $own" "the victim's own read is seen"
	expect_records 0 ".type == \"alert\" and .proc.pid == $own" "and raises nothing"
}

test_a_tmpfs_volume_rotated_deep_while_user_space_is_stopped() {
	[ "${#CREATED_MOUNTS[@]}" -gt 0 ] || { fail "could not mount a tmpfs volume"; return; }
	monitor_start --host-root "$NODE_ROOT" || return
	sleep 0.3
	kill -STOP "$MONITOR_PID"
	# New inodes, a new timestamped directory, one file three levels down: only the
	# volume's device can tell them now.
	pod_projected victim "$TMPFS_VOLUME" token=tmpfs-token-2
	mkdir -p "$(readlink -f "$TMPFS_DIR/..data")/x/y/z"
	printf 'deep' > "$(readlink -f "$TMPFS_DIR/..data")/x/y/z/deep-token"
	pod_cat attacker "$TMPFS_DIR/token" "$(readlink -f "$TMPFS_DIR/..data")/x/y/z/deep-token"
	local top=${CAT_PIDS[0]} deep=${CAT_PIDS[1]}
	kill -CONT "$MONITOR_PID"
	sleep 0.3
	monitor_stop
	expect_foreign "$top" service-account-token "$HOST_VOLUMES/kubernetes.io~projected/$TMPFS_VOLUME/token" ||
		return
	expect_eq "$(field ".type == \"open\" and .proc.pid == $top" .file.inode)" \
		"$(stat -L -c %i "$TMPFS_DIR/token")" "the new token's inode"
	expect_records 1 ".type == \"open\" and .proc.pid == $deep" "a file three levels down the tmpfs volume"
}

# expect_node PID KIND HOST_PATH: one open record by PID of the node's KIND, and a
# node-credential-read alert.
expect_node() {
	local match=".type == \"open\" and .proc.pid == $1"
	expect_records 1 "$match" "one open record from pid $1" || return 1
	expect_eq "$(field "$match" .file.kind)" "$2" "kind"
	expect_eq "$(field "$match" .file.host_path)" "$3" "host path"
	expect_records 1 ".type == \"alert\" and .rule == \"node-credential-read\" and .proc.pid == $1" \
		"a node-credential-read alert for pid $1"
}

test_the_nodes_other_credentials() {
	monitor_start --host-root "$NODE_ROOT" || return
	pod_cat attacker "$NODE_ROOT/var/lib/waagent/ManagedIdentity-Settings" \
		"$NODE_ROOT/var/lib/kubelet/pki/kubelet-client-current.pem" \
		"$NODE_ROOT/var/lib/kubelet/bootstrap-kubeconfig"
	local msi=${CAT_PIDS[0]} pki=${CAT_PIDS[1]} bootstrap=${CAT_PIDS[2]}
	monitor_stop
	expect_node "$msi" managed-identity-settings /var/lib/waagent/ManagedIdentity-Settings
	# Through the kubelet's symlink: the file it names.
	expect_node "$pki" node-tls-key /var/lib/kubelet/pki/kubelet-client-2026-12-01-10-00-00.pem
	expect_node "$bootstrap" kubelet-credentials /var/lib/kubelet/bootstrap-kubeconfig
}

test_a_certificate_the_kubelet_rotates_in_while_user_space_is_stopped() {
	monitor_start --host-root "$NODE_ROOT" || return
	sleep 0.3
	kill -STOP "$MONITOR_PID"
	# A new file in a flat credential directory: matched by its one parent.
	echo 'new pem' > "$NODE_ROOT/var/lib/kubelet/pki/kubelet-client-2026-12-03-10-00-00.pem"
	pod_run attacker cat "$NODE_ROOT/var/lib/kubelet/pki/kubelet-client-2026-12-03-10-00-00.pem" >/dev/null
	local pid=$LAST_PID
	kill -CONT "$MONITOR_PID"
	sleep 0.3
	monitor_stop
	rm -f "$NODE_ROOT/var/lib/kubelet/pki/kubelet-client-2026-12-03-10-00-00.pem"
	expect_node "$pid" node-tls-key /var/lib/kubelet/pki/kubelet-client-2026-12-03-10-00-00.pem
}

# Writing another pod's secret is tampering, not theft; writing its own is not judged.
test_a_write_into_another_pods_secret_is_tampering() {
	monitor_start --host-root "$NODE_ROOT" || return
	pod_run attacker "$AM_OPEN" write "$VOLUMES/kubernetes.io~secret/$DEEP_VOLUME/$DEEP_ITEM" >/dev/null
	local foreign=$LAST_PID
	pod_run victim "$AM_OPEN" write "$VOLUMES/kubernetes.io~secret/$DEEP_VOLUME/$DEEP_ITEM" >/dev/null
	local own=$LAST_PID
	monitor_stop
	expect_records 1 ".type == \"alert\" and .rule == \"secret-tampering\" and .proc.pid == $foreign" \
		"a secret-tampering alert for the attacker's write" || return
	expect_records 0 ".type == \"alert\" and .rule == \"foreign-token-read\" and .proc.pid == $foreign" \
		"no theft for a write-only open"
	expect_eq "$(field ".type == \"alert\" and .proc.pid == $foreign" .target.access)" write "alert's access"
	expect_records 1 ".type == \"open\" and .proc.pid == $own" "the victim's own write is seen"
	expect_records 0 ".type == \"alert\" and .proc.pid == $own" "and raises nothing"
}

# What AKS itself does is silent, and seen; the same access by a look-alike alerts.
test_the_disk_csi_node_plugin_reads_the_nodes_credentials_silently() {
	local name pids=()
	monitor_start --host-root "$NODE_ROOT" || return
	for name in disk-node disk-elsewhere disk-image disk-account; do
		pod_cat "$name" "$NODE_ROOT/etc/kubernetes/azure.json" \
			"$NODE_ROOT/var/lib/waagent/ManagedIdentity-Settings"
		pids+=("${CAT_PIDS[@]}")
	done
	monitor_stop
	local pid i=0
	for pid in "${pids[@]}"; do
		expect_records 1 ".type == \"open\" and .proc.pid == $pid" "the open of pid $pid is seen" || return
		if [ "$i" -lt 2 ]; then
			expect_records 0 ".type == \"alert\" and .proc.pid == $pid" "the disk plugin's read (pid $pid) is allowed"
		else
			expect_records 1 ".type == \"alert\" and .rule == \"node-credential-read\" and .proc.pid == $pid" \
				"a look-alike's read (pid $pid, $(field ".type == \"open\" and .proc.pid == $pid" .pod.name)) alerts"
		fi
		i=$((i + 1))
	done
}

e2e_main credentials
