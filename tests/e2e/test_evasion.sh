#!/usr/bin/env bash
# End to end: the evasion corpus. A pod that has read accessmon's source tries to
# talk past it: token requests for the node's kubelet identity encoded every way
# IMDS accepts, hidden behind padding, pipelined, split, on a connection older
# than the monitor; packets to IMDS that are no connect(2); raw and packet
# sockets; Key Vault reached under another name. Each case is a row of a table:
# the command, run in the pod with real clients (curl, Python sockets), and the
# alert it must raise, with its identity and severity.
#
# IMDS and WireServer here live in a namespace of their own ("metal"), reached
# from the pod over a veth as on a node, so that the pod's packets to them leave
# from the pod's own address.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/scenario.sh"

EVADE="$E2E_ROOT/tests/helpers/evade.py"
METAL_NETNS="$TAG-metal"
VAULT=https://vault.azure.net

# The evader pod: its cgroup, its network namespace with a veth to "metal", DNS
# and the fake HTTPS endpoints of the scenario (127.77.0.0/16 on its loopback).
pod_define evader shop
pod_bundle evader
evader_up() {
	local ns=${POD_NETNS[evader]} ready="$WORK/ready.metal"
	mkdir_tracked "${POD_CGROUP[evader]}" || return 1
	ip netns add "$ns" && CREATED_NETNS+=("$ns") || return 1
	ip netns add "$METAL_NETNS" && CREATED_NETNS+=("$METAL_NETNS") || return 1
	ip -n "$ns" link set lo up
	ip -n "$METAL_NETNS" link set lo up
	ip -n "$ns" link add ev0 type veth peer name ev1 netns "$METAL_NETNS" || return 1
	ip -n "$ns" addr add 10.201.0.2/24 dev ev0
	ip -n "$ns" link set ev0 up
	ip -n "$METAL_NETNS" addr add 10.201.0.1/24 dev ev1
	ip -n "$METAL_NETNS" link set ev1 up
	ip -n "$METAL_NETNS" addr add 169.254.169.254/32 dev lo
	ip -n "$METAL_NETNS" addr add 168.63.129.16/32 dev lo
	ip -n "$ns" route add 169.254.169.254/32 via 10.201.0.1
	ip -n "$ns" route add 168.63.129.16/32 via 10.201.0.1
	FAKE_HTTP_KEEPALIVE=1 ip netns exec "$METAL_NETNS" python3 "$FAKE_HTTP" 169.254.169.254 80 "$ready" \
		>/dev/null 2>&1 &
	BACKGROUND_PIDS+=("$!")
	wait_until 30 test -f "$ready" || { fail "the fake IMDS did not start"; return 1; }
	tls_cert || { fail "openssl failed"; return 1; }
	pod_dns evader "$WORK/zone.json" || return 1
	pod_serve evader 0.0.0.0 443 "$WORK/tls.crt" "$WORK/tls.key" || return 1
}
evader_up || fail "the evader pod's network could not be set up"

# The token request for the kubelet identity, for a path and a query.
kubelet_query="api-version=2018-02-01&resource=https%3A%2F%2Fvault.azure.net&client_id=$KUBELET_ID"
token_path="/metadata/identity/oauth2/token?$kubelet_query"

# The table: NAME | COMMAND (in the pod) | what is expected of the token alert.
# "kubelet": rule imds-token-request, the kubelet identity, resource vault.azure.net,
# critical. "worst": the same rule judged at its worst (incomplete), critical.
TOKEN_CASES=(
	"plain|curl -s -o /dev/null -H Metadata:true http://169.254.169.254$token_path|kubelet"
	"dot segments and empty segments|curl -s -o /dev/null --path-as-is -H Metadata:true http://169.254.169.254//metadata/./identity/x/..//oauth2/token/?$kubelet_query|kubelet"
	"percent-encoded slashes and case|curl -s -o /dev/null --path-as-is -H Metadata:true http://169.254.169.254/METADATA/Identity%2Foauth2%2FTOKEN?$kubelet_query|kubelet"
	"parameter names in another case|curl -s -o /dev/null -H Metadata:true http://169.254.169.254/metadata/identity/oauth2/token?api-version=2018-02-01&Resource=https%3A%2F%2Fvault.azure.net&Client_ID=$KUBELET_ID|kubelet"
	"percent-encoded parameter name|curl -s -o /dev/null -H Metadata:true http://169.254.169.254/metadata/identity/oauth2/token?api-version=2018-02-01&%72esource=https%3A%2F%2Fvault.azure.net&client%5Fid=$KUBELET_ID|kubelet"
	"a selector twice|curl -s -o /dev/null -H Metadata:true http://169.254.169.254/metadata/identity/oauth2/token?api-version=2018-02-01&resource=https%3A%2F%2Fvault.azure.net&client_id=$CHECKOUT_ID&client_id=$KUBELET_ID|kubelet ambiguous"
	"pipelined behind a 4 KiB padded request|python3 $EVADE pipeline 169.254.169.254 $token_path 4096|kubelet"
	"keep-alive behind a 40 KiB padded request|python3 $EVADE keepalive 169.254.169.254 $token_path 40000|kubelet"
	"a byte a segment|python3 $EVADE split 169.254.169.254 $token_path|kubelet"
	"behind a 900 KB body that spends the pod's capture budget|python3 $EVADE bodypad 169.254.169.254 $token_path 900000|worst"
	"a request line of 3 KiB|python3 $EVADE longline 169.254.169.254 $token_path 3000|kubelet"
	"absolute-form request target|python3 $EVADE absolute 169.254.169.254 $token_path|kubelet"
	"a SYN from a raw socket|python3 $EVADE rawsyn 169.254.169.254 80 10.201.0.2|worst"
)

# token_case NAME COMMAND EXPECT: runs one row under its own monitor.
token_case() {
	local name=$1 command=$2 expect=$3 alert
	monitor_start --host-root "$NODE_ROOT" --identities "$IDS" || return
	# shellcheck disable=SC2086 # the command is a row of words
	pod_run evader $command > "$WORK/case.out" 2>&1 || echo "    ($name: the client exited $?: $(head -c 300 "$WORK/case.out"))"
	monitor_stop
	alert='.type == "alert" and .rule == "imds-token-request" and .pod.name == "evader"'
	if [ "$(count "$OUT" "$alert")" -lt 1 ]; then
		fail "$name: no imds-token-request alert; alerts: $(alerts '.pod.name == "evader"')"
		return
	fi
	alert="$alert and .severity == \"critical\""
	expect_eq "$(count "$OUT" "$alert")" 1 "$name: critical imds-token-request alerts" || return
	case "$expect" in
	kubelet*)
		expect_eq "$(field "$alert" .identity.kind)" kubelet "$name: identity"
		expect_eq "$(field "$alert" .identity.client_id)" "$KUBELET_ID" "$name: client id"
		expect_eq "$(field "$alert" .target.resource)" "$VAULT" "$name: resource"
		expect_eq "$(field "$alert" .target.incomplete)" false "$name: incomplete"
		expect_eq "$(field "$alert" .target.outcome)" answered "$name: outcome"
		[ "$expect" = "kubelet ambiguous" ] && expect_eq "$(field "$alert" .target.ambiguous)" true "$name: ambiguous"
		;;
	worst)
		expect_eq "$(field "$alert" .target.incomplete)" true "$name: judged at its worst"
		expect_eq "$(field "$alert" .identity.kind)" node-system "$name: the node's default identity, at worst"
		;;
	esac
}

test_every_encoding_of_a_kubelet_token_request() {
	local row name rest command expect
	for row in "${TOKEN_CASES[@]}"; do
		name=${row%%|*}
		rest=${row#*|}
		command=${rest%|*}
		expect=${rest##*|}
		echo "    case: $name"
		token_case "$name" "$command" "$expect"
	done
}

# connect_early NAME PATH: a client in the evader pod connects to IMDS now and asks
# for PATH once "$WORK/NAME.go" exists; CLIENT_PID is its pid.
connect_early() {
	local ready="$WORK/$1.ready"
	rm -f "$ready" "$WORK/$1.go"
	bash -c 'echo $$ > "$1/cgroup.procs" || exit 125; ns=$2; shift 2; exec ip netns exec "$ns" "$@"' \
		_ "${POD_CGROUP[evader]}" "${POD_NETNS[evader]}" python3 "$EVADE" waiting 169.254.169.254 \
		"$2" "$ready" "$WORK/$1.go" > "$WORK/$1.out" 2>&1 &
	CLIENT_PID=$!
	BACKGROUND_PIDS+=("$CLIENT_PID")
	wait_until 30 test -f "$ready" || { fail "the client did not connect"; return 1; }
}

# ask_now NAME: the early client asks, and is done.
ask_now() {
	touch "$WORK/$1.go"
	wait "$CLIENT_PID" || fail "the client exited $?: $(cat "$WORK/$1.out")"
}

test_a_connection_older_than_the_monitor() {
	local alert
	connect_early old "$token_path" || return
	monitor_start --host-root "$NODE_ROOT" --identities "$IDS" || return
	ask_now old
	monitor_stop
	expect_records 1 '.type == "connect" and .dst.existing == true and .pod.name == "evader" and .dst.service == "imds"' \
		"the connection, reported as existing" || return
	alert='.type == "alert" and .rule == "imds-token-request" and .pod.name == "evader"'
	expect_eq "$(field "$alert" .severity)" critical "severity"
	expect_eq "$(field "$alert" .identity.kind)" kubelet "identity"
	expect_eq "$(field "$alert" .target.resource)" "$VAULT" "resource"
}

# An allowed agent's long-lived connection stays quiet across a restart: the
# connection is reported, and alerts only where a new one would.
test_an_existing_connection_alerts_only_where_a_new_one_would() {
	connect_early agent "/metadata/instance?api-version=2021-02-01" || return
	cat > "$WORK/allow-evader.json" <<'EOF'
{"allow": [{"comment": "an agent of the shop reads instance metadata", "rules": ["imds-access"], "namespace": "shop", "pod_name_prefix": "evader"}]}
EOF
	monitor_start --host-root "$NODE_ROOT" --identities "$IDS" --policy "$WORK/allow-evader.json" || return
	ask_now agent
	monitor_stop
	expect_records 1 '.type == "connect" and .dst.existing == true and .pod.name == "evader"' "the existing connection"
	expect_eq "$(alerts '.pod.name == "evader"')" "" "alerts for an allowed agent's connection"
}

# Packets to IMDS that are no TCP connect, and the sockets that make them.
test_packets_to_imds_and_raw_sockets() {
	monitor_start --host-root "$NODE_ROOT" --identities "$IDS" || return
	pod_run evader python3 "$EVADE" udp 169.254.169.254 80 || fail "udp client exited $?"
	local udp=$LAST_PID
	pod_run evader python3 "$EVADE" icmp 169.254.169.254 || fail "icmp client exited $?"
	local icmp=$LAST_PID
	pod_run evader python3 "$EVADE" packet || fail "packet client exited $?"
	local packet=$LAST_PID
	monitor_stop
	# A datagram the send hook saw is one alert, with its process; not again as a packet.
	expect_eq "$(count "$OUT" '.type == "alert" and .rule == "imds-access" and .target.protocol == "udp" and .pod.name == "evader"')" 1 \
		"UDP to IMDS alerts, once"
	expect_eq "$(field '.type == "alert" and .target.protocol == "udp" and .pod.name == "evader"' .proc.pid)" "$udp" \
		"UDP: the sender"
	# A raw socket's packet: the pod from the packet's cgroup.
	expect_eq "$(count "$OUT" '.type == "alert" and .rule == "imds-access" and .target.protocol == "icmp" and .pod.name == "evader"')" 1 \
		"ICMP to IMDS alerts"
	expect_eq "$(count "$OUT" ".type == \"alert\" and .rule == \"raw-socket\" and .proc.pid == $icmp and .severity == \"medium\"")" 1 \
		"the raw ICMP socket alerts, medium"
	expect_eq "$(count "$OUT" ".type == \"alert\" and .rule == \"raw-socket\" and .proc.pid == $packet and .severity == \"high\"")" 1 \
		"the packet socket alerts, high"
	expect_records 1 ".type == \"socket\" and .proc.pid == $packet and .socket.family == \"packet\"" "the packet socket's record"
}

# Key Vault under another name: the server name wins, and a mismatch alerts.
test_tls_names_the_vault_however_it_is_reached() {
	monitor_start --host-root "$NODE_ROOT" --identities "$IDS" || return
	pod_run evader curl -sk -o /dev/null --connect-to kv-payments.vault.azure.net:443:myreg.azurecr.io:443 \
		https://kv-payments.vault.azure.net/secrets/db?api-version=7.4
	local fronted=$LAST_PID
	pod_run evader python3 "$EVADE" hello-split kv-payments.vault.azure.net 127.77.0.10 || fail "hello-split exited $?"
	local split=$LAST_PID
	pod_run evader python3 "$EVADE" no-sni kv-payments.vault.azure.net || fail "no-sni exited $?"
	local nosni=$LAST_PID
	pod_run evader curl -sk -o /dev/null --connect-to example.com:443:kv-payments.vault.azure.net:443 \
		https://example.com/secrets/db?api-version=7.4
	local elsewhere=$LAST_PID
	monitor_stop
	expect_eq "$(count "$OUT" ".type == \"alert\" and .rule == \"tls-name-mismatch\" and .proc.pid == $fronted")" 1 \
		"a vault's name over a registry's address alerts"
	# (Later contacts of the pod with the same vault fold into this alert.)
	expect_true test "$(count "$OUT" ".type == \"alert\" and .rule == \"keyvault-unexpected\" and .proc.pid == $fronted")" -ge 1
	# A vault's address asked for some other site: still the vault, and a mismatch.
	expect_eq "$(field ".type == \"connect\" and .proc.pid == $elsewhere and .dst.port == 443" .dst.service)" keyvault \
		"a vault's address, whatever server name is asked of it"
	expect_eq "$(field ".type == \"connect\" and .proc.pid == $elsewhere and .dst.port == 443" .dst.sni)" example.com \
		"the server name asked, kept"
	expect_eq "$(count "$OUT" ".type == \"alert\" and .rule == \"tls-name-mismatch\" and .proc.pid == $elsewhere")" 1 \
		"another site's name sent to a vault's address alerts"
	# The vault, named from its server name however the hello came, or from the
	# pod's own DNS answer when the hello names nothing.
	expect_eq "$(field ".type == \"connect\" and .proc.pid == $split and .dst.port == 443" .dst.service)" keyvault \
		"a split ClientHello still names the vault"
	expect_eq "$(field ".type == \"connect\" and .proc.pid == $split and .dst.port == 443" .dst.name_source)" sni \
		"from its server name"
	expect_eq "$(field ".type == \"connect\" and .proc.pid == $nosni and .dst.port == 443" .dst.service)" keyvault \
		"TLS without a server name, to the vault's address, is the vault"
	expect_eq "$(field ".type == \"connect\" and .proc.pid == $nosni and .dst.port == 443" .dst.name_source)" dns \
		"named by the pod's own DNS answer"
	expect_true test "$(count "$OUT" '.type == "alert" and .rule == "keyvault-unexpected" and .pod.name == "evader"')" -ge 1
}

e2e_main evasion
