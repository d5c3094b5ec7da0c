#!/usr/bin/env bash
# End to end: the scenario corpus. A fake node (kubelet tree, containerd bundles,
# azure.json, the Azure CLI's identity data), actions run in fake pods, and the
# exact alerts expected: every attack gives exactly its alerts, every benign
# look-alike none, under the built-in default policy.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/scenario.sh"

# --- attacks ---------------------------------------------------------------

test_attack_kubelet_token_theft_then_vault_read() {
	net_up attacker || return
	detect_start || return
	pod_run attacker curl -s -o /dev/null -H Metadata:true "$(token https://vault.azure.net "$KUBELET_ID")"
	pod_run attacker curl -sk -o /dev/null https://kv-payments.vault.azure.net/secrets/db?api-version=7.4
	monitor_stop
	expect_eq "$(alerts)" "identity-theft-chain imds-token-request keyvault-unexpected" "alerts"
	local token='.type == "alert" and .rule == "imds-token-request"'
	expect_eq "$(field "$token" .severity)" critical "token theft severity"
	expect_eq "$(field "$token" .identity.kind)" kubelet "identity kind"
	expect_eq "$(field "$token" .identity.client_id)" "$KUBELET_ID" "identity"
	expect_eq "$(field "$token" '.identity.roles[0].role')" AcrPull "the kubelet identity's roles"
	expect_eq "$(field "$token" .pod.name)" attacker "pod"
	expect_eq "$(field "$token" .proc.exe)" /usr/bin/curl "process"
	expect_eq "$(field "$token" .target.resource)" https://vault.azure.net "target"
	expect_eq "$(field "$token" '.techniques | join(",")')" MS-TA9028,MS-TA9033 "techniques"
	expect_eq "$(field "$token" '.evidence[0].imds.client_id')" "$KUBELET_ID" "evidence"
	expect_eq "$(field "$token" .count)" 1 "count"
	local chain='.type == "alert" and .rule == "identity-theft-chain"'
	expect_eq "$(field "$chain" .severity)" critical "chain severity"
	expect_eq "$(field "$chain" '[.evidence[].type] | join(",")')" http,connect "the whole chain"
	expect_eq "$(field "$chain" .target.resource)" kv-payments "chain target"
	expect_true grep -q "asked IMDS for a token for https://vault.azure.net with the node's kubelet identity" <<< "$(field "$token" .summary)"
}

test_attack_azure_json_through_a_host_path() {
	detect_start || return
	pod_run attacker cat "$NODE_ROOT/etc/kubernetes/azure.json" >/dev/null
	monitor_stop
	expect_eq "$(alerts)" node-credential-read "alerts"
	local match='.type == "alert"'
	expect_eq "$(field "$match" .target.kind)" node-cloud-config "kind"
	expect_eq "$(field "$match" '.techniques[0]')" MS-TA9026 "technique"
	expect_eq "$(field "$match" .severity)" high "severity"
}

test_attack_foreign_workload_token_then_login() {
	net_up attacker || return
	detect_start || return
	pod_run attacker cat "$(pod_volumes checkout)/kubernetes.io~projected/azure-identity-token/azure-identity-token" >/dev/null
	pod_run attacker curl -sk -o /dev/null -X POST https://login.microsoftonline.com/t/oauth2/v2.0/token
	monitor_stop
	expect_eq "$(alerts)" "entra-login-unexpected foreign-token-read identity-theft-chain" "alerts"
	expect_eq "$(field '.type == "alert" and .rule == "foreign-token-read"' .target.owner_pod.name)" checkout "owner"
	expect_eq "$(field '.type == "alert" and .rule == "foreign-token-read"' .target.kind)" workload-identity-token "kind"
}

test_attack_registry_pull_with_a_stolen_token() {
	net_up attacker || return
	detect_start || return
	pod_run attacker curl -s -o /dev/null -H Metadata:true "$(token https://containerregistry.azure.net "$KUBELET_ID")"
	pod_run attacker curl -sk -o /dev/null -X POST https://myreg.azurecr.io/oauth2/exchange
	monitor_stop
	expect_eq "$(alerts)" "acr-unexpected identity-theft-chain imds-token-request" "alerts"
	expect_eq "$(field '.type == "alert" and .rule == "acr-unexpected"' .target.resource)" myreg "registry"
}

test_attack_wireserver_probing() {
	net_up attacker || return
	detect_start || return
	pod_run attacker curl -s -o /dev/null 'http://168.63.129.16/machine/?comp=goalstate'
	monitor_stop
	expect_eq "$(alerts)" wireserver-access "alerts"
	expect_eq "$(field '.type == "alert"' .severity)" high "severity"
}

test_attack_repeats_fold_into_one_alert() {
	net_up attacker || return
	detect_start || return
	for _ in 1 2 3; do
		pod_run attacker curl -s -o /dev/null 'http://169.254.169.254/metadata/instance?api-version=2021-02-01'
	done
	monitor_stop
	# The first at once, then the repeats folded into one with their count.
	expect_eq "$(alerts)" "imds-access imds-access" "alerts"
	expect_eq "$(jq -s '[.[] | select(.type == "alert" and .rule == "imds-access")] | last | .count' "$OUT")" 3 "folded count"
}

test_attack_theft_then_use_of_a_destination_already_counted() {
	# The pod already talks to the vault on a port nothing captures, so the kernel
	# only counts its repeats. After the token theft its next connection there is
	# reported on its own again, and the chain is seen.
	net_up attacker || return
	detect_start || return
	for _ in 1 2 3; do
		pod_run attacker curl -s -o /dev/null -m 5 https://kv-payments.vault.azure.net:8443/
	done
	pod_run attacker curl -s -o /dev/null -H Metadata:true "$(token https://vault.azure.net "$KUBELET_ID")"
	pod_run attacker curl -s -o /dev/null -m 5 https://kv-payments.vault.azure.net:8443/
	local use=$LAST_PID
	monitor_stop
	expect_eq "$(alerts)" "identity-theft-chain imds-token-request keyvault-unexpected keyvault-unexpected" "alerts"
	expect_records 1 ".type == \"connect\" and .proc.pid == $use and .dst.port == 8443 and .dst.resource == \"kv-payments\"" \
		"the use after the theft, reported on its own"
	expect_eq "$(jq -s '[.[] | select(.type == "connect-repeat" and .pod.name == "attacker" and .dst.port == 8443) | .count] | add' "$OUT")" 2 \
		"the connects before the theft, counted"
	expect_eq "$(field '.type == "alert" and .rule == "identity-theft-chain"' '.evidence[1].proc.pid')" "$use" "the chain's use"
	# The vault alert folds every connect, the counted ones too.
	expect_eq "$(jq -s '[.[] | select(.type == "alert" and .rule == "keyvault-unexpected")] | last | .count' "$OUT")" 4 \
		"the vault alert's count"
}

# --- benign look-alikes ----------------------------------------------------

test_benign_workload_identity_uses_its_own_identity() {
	net_up checkout || return
	detect_start || return
	pod_run checkout cat "$(pod_volumes checkout)/kubernetes.io~projected/azure-identity-token/azure-identity-token" >/dev/null
	pod_run checkout curl -sk -o /dev/null -X POST https://login.microsoftonline.com/t/oauth2/v2.0/token
	pod_run checkout curl -sk -o /dev/null https://kv-payments.vault.azure.net/secrets/db?api-version=7.4
	monitor_stop
	expect_eq "$(alerts)" "" "no alerts"
	expect_records 1 ".type == \"connect\" and .pod.name == \"checkout\" and .dst.resource == \"kv-payments\"" "the vault call was seen"
}

test_benign_proxy_sidecar_pod_calls_imds() {
	net_up proxied || return
	detect_start || return
	pod_run proxied curl -s -o /dev/null -H Metadata:true "$(token https://vault.azure.net "$PROXY_ID")"
	monitor_stop
	expect_eq "$(alerts)" "" "no alerts"
	expect_records 1 ".type == \"http\" and .pod.name == \"proxied\" and .imds.client_id == \"$PROXY_ID\"" "the request was seen"
}

test_benign_key_vault_csi_provider() {
	net_up aks-secrets-store-provider-azure-x7k2p || return
	detect_start || return
	pod_run aks-secrets-store-provider-azure-x7k2p curl -s -o /dev/null -H Metadata:true "$(token https://vault.azure.net "$CSI_ID")"
	pod_run aks-secrets-store-provider-azure-x7k2p curl -sk -o /dev/null https://kv-csi.vault.azure.net/secrets/s?api-version=7.4
	monitor_stop
	expect_eq "$(alerts)" "" "no alerts"
}

test_benign_kubelet_pulls_on_the_host() {
	net_up node || return
	detect_start || return
	host_run kubelet.service "$TAG-node" curl -s -o /dev/null -H Metadata:true "$(token https://containerregistry.azure.net "$KUBELET_ID")"
	local pid=$LAST_PID
	monitor_stop
	expect_eq "$(alerts)" "" "no alerts"
	expect_records 1 ".type == \"http\" and .proc.pid == $pid and .host.unit == \"kubelet.service\"" "the kubelet's request was seen"
}

test_policy_file_allows_and_overrides() {
	net_up attacker || return
	cat > "$WORK/policy.json" <<'JSON'
{"allow": [{"comment": "the shop's health checker reads instance metadata",
            "rules": ["imds-access"], "namespace": "shop", "pod_name_prefix": "attack"}],
 "severity": {"wireserver-access": "critical"}}
JSON
	detect_start --policy "$WORK/policy.json" || return
	pod_run attacker curl -s -o /dev/null 'http://169.254.169.254/metadata/instance?api-version=2021-02-01'
	pod_run attacker curl -s -o /dev/null 'http://168.63.129.16/machine/?comp=goalstate'
	monitor_stop
	expect_eq "$(alerts)" wireserver-access "alerts"
	expect_eq "$(field '.type == "alert"' .severity)" critical "overridden severity"
	echo '{"allow": [{"rules": ["no-such-rule"]}]}' > "$WORK/bad-policy.json"
	"$AM" monitor --policy "$WORK/bad-policy.json" > /dev/null 2> "$WORK/policy.err"
	expect_eq "$?" 2 "bad policy exit status"
	expect_true grep -q 'allow\[0\].rules\[0\]: unknown rule "no-such-rule"' "$WORK/policy.err"
}

test_identity_data_reload_on_sighup() {
	net_up checkout || return
	local copy="$WORK/ids-reload"
	cp -r "$IDS" "$copy"
	echo '[]' > "$copy/role-assignments.json"
	monitor_start --host-root "$NODE_ROOT" --identities "$copy" || return
	expect_true grep -q "identity data: loaded role-assignments.json (0)" "$ERR"
	pod_run checkout curl -sk -o /dev/null https://kv-payments.vault.azure.net/
	# The role assignment arrives: reloaded without a restart.
	cp "$IDS/role-assignments.json" "$copy/role-assignments.json"
	kill -HUP "$MONITOR_PID"
	sleep 0.5
	echo '[{"oops": ' > "$copy/identities.json"
	kill -HUP "$MONITOR_PID"
	sleep 0.5
	pod_run checkout curl -sk -o /dev/null https://kv-payments.vault.azure.net/secrets/x
	monitor_stop
	expect_eq "$(alerts)" keyvault-unexpected "one alert, before the reload only"
	expect_true grep -q "reloaded the configuration, identity data and policy" "$ERR"
	expect_true grep -q "identities.json:.*invalid JSON.*keeping the identity data loaded before" "$ERR"
}

test_collect_identities_script_feeds_the_monitor() {
	# A stand-in az answering from the scenario's own files, as the real one would.
	mkdir -p "$WORK/fakebin"
	cat > "$WORK/fakebin/az" <<FAKE
#!/usr/bin/env bash
case "\$*" in
"aks show"*) cat "$IDS/cluster.json" ;;
"role assignment list"*) cat "$IDS/role-assignments.json" ;;
"identity list"*) jq 'map(. + {resourceGroup: "rg-apps"})' "$IDS/identities.json" ;;
"identity federated-credential list --identity-name checkout-identity"*) cat "$IDS/federated-credentials-checkout.json" ;;
"identity federated-credential list"*) echo '[]' ;;
"resource list --resource-type Microsoft.KeyVault/vaults"*) jq 'map(select(.type == "Microsoft.KeyVault/vaults"))' "$IDS/resources.json" ;;
"resource list --resource-type Microsoft.ContainerRegistry/registries"*) jq 'map(select(.type != "Microsoft.KeyVault/vaults"))' "$IDS/resources.json" ;;
"resource list"*) echo '[]' ;;
*) echo "fake az: \$*" >&2; exit 1 ;;
esac
FAKE
	chmod +x "$WORK/fakebin/az"
	PATH="$WORK/fakebin:$PATH" "$E2E_ROOT/deploy/collect-identities.sh" -g rg -n aks-test \
		-o "$WORK/collected" 2> "$WORK/collect.err"
	expect_eq "$?" 0 "collect-identities exit status" || { cat "$WORK/collect.err" >&2; return; }
	expect_eq "$(jq -r '.kind + " " + .metadata.name' "$WORK/collected/configmap.json")" "ConfigMap accessmon-identities" "manifest"
	expect_eq "$(jq -r '.data | keys | join(" ")' "$WORK/collected/configmap.json")" \
		"cluster.json federated-credentials-aks-test-agentpool.json federated-credentials-azurekeyvaultsecretsprovider-aks-test.json federated-credentials-checkout-identity.json federated-credentials-proxied-identity.json identities.json resources.json role-assignments.json" \
		"files in the ConfigMap"
	monitor_start --host-root "$NODE_ROOT" --identities "$WORK/collected" || return
	monitor_stop
	expect_true grep -q "identity data: loaded role-assignments.json (3), identities.json (4), cluster.json, resources.json (3), federated-credentials\*.json (1)" "$ERR"
}

# Every scenario's recording replays to exactly what the live run wrote.
after_test() {
	[ -n "${SCENARIO_TRACE:-}" ] && [ -f "$SCENARIO_TRACE" ] || return 0
	"$AM" replay --events "$SCENARIO_TRACE" > "$WORK/replayed.jsonl" 2> "$WORK/replayed.err"
	if ! cmp -s "$OUT" "$WORK/replayed.jsonl"; then
		fail "the replay of this scenario differs from the live run"
		diff <(cut -c1-160 "$OUT") <(cut -c1-160 "$WORK/replayed.jsonl") | head -6 >&2
	fi
	rm -f "$SCENARIO_TRACE"
	SCENARIO_TRACE=""
}

e2e_main detection
