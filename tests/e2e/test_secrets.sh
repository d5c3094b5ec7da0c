#!/usr/bin/env bash
# End to end: secret files. The node's secrets discovered under a fake kubelet
# tree laid out as the kubelet writes it, and every way a pod can open one: bind
# mounts in a private mount namespace, relative paths, symlinks, /proc/<pid>/root,
# io_uring, failed attempts, and tokens rotated while user space is not looking.
source "$(dirname "$0")/lib.sh"

USE_PODLIST=0
node_tree_init
mkdir -p "$NODE_ROOT/etc/kubernetes/certs" "$NODE_ROOT/var/lib/kubelet/pki"
echo 'client-key' > "$NODE_ROOT/etc/kubernetes/certs/client.key"
chmod 600 "$NODE_ROOT/etc/kubernetes/certs/client.key"
echo 'apiVersion: v1' > "$NODE_ROOT/var/lib/kubelet/kubeconfig"
echo 'not a secret' > "$NODE_ROOT/etc/kubernetes/unrelated.txt"
chmod 755 "$WORK" "$NODE_ROOT"

pod_define victim payments
pod_define attacker shop
pod_define late batch
pod_bundle victim
pod_bundle attacker
pod_up attacker
pod_up victim
SA_VOLUME=kube-api-access-7xk2p
pod_projected victim "$SA_VOLUME" token=victim-sa-token ca.crt=cluster-ca namespace=payments
pod_projected victim azure-identity-token azure-identity-token=victim-wi-token
pod_secret victim db-credentials password=hunter2
pod_csi_secret victim secrets-store-inline kv-api-key s3cr3t
VICTIM_SA="/var/lib/kubelet/pods/${POD_UID[victim]}/volumes/kubernetes.io~projected/$SA_VOLUME"
VICTIM_WI="/var/lib/kubelet/pods/${POD_UID[victim]}/volumes/kubernetes.io~projected/azure-identity-token"

# expect_one_open PID KIND HOST_PATH OWNER: exactly one open record by PID.
expect_one_open() {
	local match=".type == \"open\" and .proc.pid == $1"
	expect_records 1 "$match" "one open record from pid $1" || return 1
	expect_eq "$(field "$match" .file.kind)" "$2" "kind"
	expect_eq "$(field "$match" .file.host_path)" "$3" "host path"
	expect_eq "$(field "$match" '.file.owner_pod.name // "none"')" "$4" "owner pod"
	expect_eq "$(field "$match" .pod.name)" attacker "opener's pod"
}

test_foreign_token_through_a_bind_mount_in_a_private_mount_namespace() {
	mkdir -p "$WORK/attacker-mnt"
	monitor_start --host-root "$NODE_ROOT" || return
	# A hostPath-like view of the victim's volume, in the attacker's own mount namespace.
	pod_run attacker unshare -m --propagation private sh -c \
		'mount --bind "$1" "$2" && exec cat "$2/token"' _ "$NODE_ROOT$VICTIM_SA" "$WORK/attacker-mnt" >/dev/null
	monitor_stop
	expect_one_open "$LAST_PID" service-account-token "$VICTIM_SA/token" victim || return
	expect_eq "$(field ".proc.pid == $LAST_PID" .file.path)" "$WORK/attacker-mnt/token" "path as named"
	expect_eq "$(field ".proc.pid == $LAST_PID" .file.owner_pod.namespace)" payments "owner namespace"
	expect_eq "$(field ".proc.pid == $LAST_PID" .file.owner_pod.uid)" "${POD_UID[victim]}" "owner uid"
}

test_azure_json_by_relative_path_symlink_and_proc_root() {
	mkdir -p "$WORK/links"
	ln -sfn "$NODE_ROOT/etc/kubernetes/azure.json" "$WORK/links/cloud.json"
	monitor_start --host-root "$NODE_ROOT" || return
	pod_run attacker sh -c 'cd "$1" && exec cat ./azure.json' _ "$NODE_ROOT/etc/kubernetes" >/dev/null
	local relative=$LAST_PID
	pod_run attacker cat "$WORK/links/cloud.json" >/dev/null
	local symlink=$LAST_PID
	pod_run attacker sh -c 'exec cat "/proc/$$/root$1"' _ "$NODE_ROOT/etc/kubernetes/azure.json" >/dev/null
	local proc_root=$LAST_PID
	monitor_stop
	expect_one_open "$relative" node-cloud-config /etc/kubernetes/azure.json none
	expect_eq "$(field ".proc.pid == $relative" .file.path)" ./azure.json "relative path as named"
	expect_one_open "$symlink" node-cloud-config /etc/kubernetes/azure.json none
	expect_one_open "$proc_root" node-cloud-config /etc/kubernetes/azure.json none
	expect_eq "$(field ".proc.pid == $proc_root" '.file.path | startswith("/proc/")')" true "path through /proc/<pid>/root"
}

test_io_uring_open_of_a_workload_identity_token() {
	monitor_start --host-root "$NODE_ROOT" || return
	expect_true grep -q "secrets watched;\?" "$ERR"
	pod_run attacker "$AM_URING_OPEN" "$NODE_ROOT$VICTIM_WI/azure-identity-token" >/dev/null
	expect_eq "$?" 0 "io_uring open succeeded"
	monitor_stop
	expect_one_open "$LAST_PID" workload-identity-token "$VICTIM_WI/azure-identity-token" victim || return
	expect_eq "$(field ".proc.pid == $LAST_PID" .file.syscall)" io_uring "syscall"
}

test_rotation_is_caught_before_user_space_sees_it() {
	monitor_start --host-root "$NODE_ROOT" || return
	sleep 0.3
	# User space is stopped: only the kernel's directory match can see the new token.
	kill -STOP "$MONITOR_PID"
	pod_projected victim "$SA_VOLUME" token=rotated-sa-token ca.crt=cluster-ca namespace=payments
	pod_run attacker cat "$NODE_ROOT$VICTIM_SA/token" >/dev/null
	local pid=$LAST_PID
	pod_run attacker cat "$NODE_ROOT$VICTIM_SA/ca.crt" >/dev/null
	local ca_pid=$LAST_PID
	kill -CONT "$MONITOR_PID"
	sleep 0.3
	monitor_stop
	expect_one_open "$pid" service-account-token "$VICTIM_SA/token" victim || return
	expect_eq "$(field ".proc.pid == $pid" .file.inode)" "$(stat -L -c %i "$NODE_ROOT$VICTIM_SA/token")" "the new token's inode"
	expect_records 0 ".proc.pid == $ca_pid and .type == \"open\"" "ca.crt next to the token is not a secret"
}

test_secret_and_csi_volumes() {
	monitor_start --host-root "$NODE_ROOT" || return
	pod_run attacker cat "$(pod_volumes victim)/kubernetes.io~secret/db-credentials/password" >/dev/null
	local secret=$LAST_PID
	pod_run attacker cat "$(pod_volumes victim)/kubernetes.io~csi/secrets-store-inline/mount/kv-api-key" >/dev/null
	local csi=$LAST_PID
	monitor_stop
	expect_one_open "$secret" secret-volume \
		"/var/lib/kubelet/pods/${POD_UID[victim]}/volumes/kubernetes.io~secret/db-credentials/password" victim
	expect_one_open "$csi" csi-secret \
		"/var/lib/kubelet/pods/${POD_UID[victim]}/volumes/kubernetes.io~csi/secrets-store-inline/mount/kv-api-key" victim
}

test_failed_attempts_are_reported_with_their_error() {
	monitor_start --host-root "$NODE_ROOT" || return
	# Denied: an unprivileged process in the pod probes the node's TLS key.
	pod_run attacker setpriv --reuid=65534 --regid=65534 --clear-groups \
		"$AM_OPEN" openat "$NODE_ROOT/etc/kubernetes/certs/client.key" >/dev/null
	local denied=$LAST_PID
	# Not found after deletion: the kubelet's kubeconfig is gone, someone looks for it.
	rm -f "$NODE_ROOT/var/lib/kubelet/kubeconfig"
	pod_run attacker "$AM_OPEN" openat "$NODE_ROOT/var/lib/kubelet/kubeconfig" >/dev/null
	local gone=$LAST_PID
	pod_run attacker "$AM_OPEN" openat "$NODE_ROOT/etc/kubernetes/no-such-file" >/dev/null
	local unrelated=$LAST_PID
	monitor_stop
	echo 'apiVersion: v1' > "$NODE_ROOT/var/lib/kubelet/kubeconfig"
	expect_one_open "$denied" node-tls-key /etc/kubernetes/certs/client.key none || return
	expect_eq "$(field ".proc.pid == $denied" .file.error)" EACCES "error"
	expect_eq "$(field ".proc.pid == $denied" .proc.uid)" 65534 "opener's uid"
	expect_one_open "$gone" kubelet-credentials /var/lib/kubelet/kubeconfig none || return
	expect_eq "$(field ".proc.pid == $gone" .file.error)" ENOENT "error"
	expect_eq "$(field ".proc.pid == $gone" .file.result)" -2 "result"
	expect_records 0 ".proc.pid == $unrelated and .type == \"open\"" "a missing unwatched file"
}

test_unrelated_files_report_nothing() {
	monitor_start --host-root "$NODE_ROOT" || return
	pod_run attacker cat /etc/hostname "$NODE_ROOT/etc/kubernetes/unrelated.txt" \
		"$NODE_ROOT$VICTIM_SA/namespace" >/dev/null
	local files=$LAST_PID
	# Listing a volume opens its directories, never a secret: no record either.
	pod_run attacker find "$(pod_volumes victim)" "$NODE_ROOT/etc/kubernetes/certs" -ls >/dev/null
	local listing=$LAST_PID
	pod_run attacker python3 -c 'import os, sys; [os.close(os.open(d, os.O_RDONLY)) for d in sys.argv[1:]]' \
		"$NODE_ROOT$VICTIM_SA" "$NODE_ROOT$VICTIM_SA/..data" "$(pod_volumes victim)/kubernetes.io~secret/db-credentials/..data"
	monitor_stop
	expect_records 0 ".proc.pid == $files and .type == \"open\"" "unwatched files"
	expect_records 0 ".proc.pid == $listing and .type == \"open\"" "directories listed"
	expect_records 0 ".proc.pid == $LAST_PID and .type == \"open\"" "directories opened"
}

test_new_pod_volumes_are_watched_within_a_second() {
	monitor_start --host-root "$NODE_ROOT" || return
	pod_bundle late
	pod_secret late api-key key=late-secret
	sleep 1.5
	pod_run attacker cat "$(pod_volumes late)/kubernetes.io~secret/api-key/key" >/dev/null
	monitor_stop
	expect_one_open "$LAST_PID" secret-volume \
		"/var/lib/kubelet/pods/${POD_UID[late]}/volumes/kubernetes.io~secret/api-key/key" late
}

test_text_format_names_kind_and_owner() {
	monitor_start --host-root "$NODE_ROOT" --format text || return
	pod_run attacker cat "$NODE_ROOT$VICTIM_WI/azure-identity-token" >/dev/null
	monitor_stop
	expect_true grep -Eq "open +pod=shop/attacker container=app pid=$LAST_PID .* kind=workload-identity-token owner=payments/victim read result=[0-9]+" "$OUT"
}

# The monitor learns where secrets are from names and (dev, inode) alone: it never
# opens one. The only files of the node it reads are azure.json (the node's
# identity; the client secret in it is never kept), the CSI volumes'
# vol_data.json and containerd's bundles. Run under strace, every file it opens
# under the node root is one of those.
test_the_monitor_opens_no_secret_file() {
	local log="$WORK/strace.log" tracer monitor opened path bad=0
	rm -f "$WORK/monitor.ready"
	strace -f -qq -y -e trace=open,openat,openat2,creat,open_by_handle_at -o "$log" \
		"$AM" monitor --events --host-root "$NODE_ROOT" --ready-file "$WORK/monitor.ready" \
		> "$OUT" 2> "$ERR" &
	tracer=$!
	BACKGROUND_PIDS+=("$tracer")
	# A bound, not a timing: strace stops the monitor at each of its syscalls, and
	# under emulation (the kernel matrix) its start takes well over 20 s.
	wait_until 180 test -f "$WORK/monitor.ready" || { fail "the monitor under strace did not start: $(cat "$ERR")"; return; }
	pod_secret victim late-credentials password=hunter3
	sleep 2.5 # discovery runs every second: the new volume is found, twice over
	pod_run attacker cat "$NODE_ROOT$VICTIM_SA/token" "$(pod_volumes victim)/kubernetes.io~secret/late-credentials/password" >/dev/null
	monitor=$(pgrep -P "$tracer" -x accessmon)
	kill -INT "$monitor"
	wait "$tracer"
	# Not vacuous: the secrets were watched, and files were opened.
	expect_records 2 ".proc.pid == $LAST_PID and .type == \"open\"" "the attacker's reads, seen"
	expect_true grep -q 'azure.json' "$log"
	# Every file (not directory) opened under the node root, resolved by strace.
	opened=$(grep -v O_DIRECTORY "$log" | grep -v '= -1' | sed -n 's/.*) = [0-9]*<\(.*\)>$/\1/p' | sort -u)
	while read -r path; do
		case "$path" in
		"$NODE_ROOT"/etc/kubernetes/azure.json | "$NODE_ROOT"/run/containerd/*/config.json) ;;
		"$NODE_ROOT"/var/lib/kubelet/pods/*/volumes/kubernetes.io~csi/*/vol_data.json) ;;
		"$NODE_ROOT"/*)
			fail "the monitor opened $path"
			bad=1
			;;
		esac
	done <<< "$opened"
	expect_eq "$bad" 0 "secret files the monitor opened"
}

e2e_main secrets
