# shellcheck shell=bash
# The scenario node shared by the detection and trace tests: a fake node (kubelet
# tree, containerd bundles, azure.json, the Azure CLI's identity data), an
# attacker pod, a workload identity pod, a proxy-sidecar pod, the Key Vault CSI
# provider, and a network namespace for host processes. Sourced after lib.sh.

USE_PODLIST=1
node_tree_init
KUBELET_ID=$KUBELET_CLIENT_ID
CSI_ID=c5d6e7f8-0000-1111-2222-333344445555
CHECKOUT_ID=0e1f2a3b-4c5d-6e7f-8091-a2b3c4d5e6f7
PROXY_ID=1a2b3c4d-5e6f-7081-92a3-b4c5d6e7f809
SUB=/subscriptions/a1b2c3d4-e5f6-4711-8899-aabbccddeeff
RG="$SUB/resourceGroups/rg-apps"

# The pods: an attacker, a workload identity pod, a proxy-sidecar pod, the Key
# Vault CSI provider, and the node itself (a netns for host processes).
pod_define attacker shop
pod_define checkout payments
pod_define proxied payments
pod_define aks-secrets-store-provider-azure-x7k2p kube-system
for pod in attacker checkout proxied aks-secrets-store-provider-azure-x7k2p; do
	pod_up "$pod"
done
pod_bundle attacker
pod_bundle checkout "AZURE_CLIENT_ID=$CHECKOUT_ID" "AZURE_TENANT_ID=t" \
	"AZURE_FEDERATED_TOKEN_FILE=/var/run/secrets/azure/tokens/azure-identity-token"
pod_bundle proxied "AZURE_CLIENT_ID=$PROXY_ID"
# The provider as AKS's add-on deploys it: its service account and MCR image.
CSI_PROVIDER_IMAGE=mcr.microsoft.com/oss/v2/azure/secrets-store/provider-azure:v1.6.2
BUNDLE_IMAGE=$CSI_PROVIDER_IMAGE pod_bundle aks-secrets-store-provider-azure-x7k2p
# Service accounts and annotations come from the PodList.
tmp="$WORK/pods.tmp"
jq '(.items[] | select(.metadata.name == "checkout") | .spec.serviceAccountName) = "checkout"
  | (.items[] | select(.metadata.name == "checkout") | .metadata.labels["azure.workload.identity/use"]) = "true"
  | (.items[] | select(.metadata.name == "proxied") | .metadata.annotations) = {"azure.workload.identity/inject-proxy-sidecar": "true"}
  | (.items[] | select(.metadata.name == "proxied") | .metadata.labels["azure.workload.identity/use"]) = "true"
  | (.items[] | select(.metadata.name == "aks-secrets-store-provider-azure-x7k2p") | .spec) |=
      (.serviceAccountName = "csi-secrets-store-provider-azure" | .containers[0].image = $image)' \
	--arg image "$CSI_PROVIDER_IMAGE" \
	"$PODS_JSON" > "$tmp" && mv "$tmp" "$PODS_JSON"
pod_projected checkout azure-identity-token azure-identity-token=checkout-wi-token
pod_define node kube-node
ip netns add "$TAG-node" && CREATED_NETNS+=("$TAG-node")
POD_NETNS[node]="$TAG-node"
ip -n "$TAG-node" link set lo up
ip -n "$TAG-node" addr add 169.254.169.254/32 dev lo
ip -n "$TAG-node" addr add 168.63.129.16/32 dev lo

# The Azure CLI's view of the cluster, as `az ... -o json` prints it.
IDS="$WORK/identities"
mkdir -p "$IDS"
cat > "$IDS/identities.json" <<JSON
[{"name": "aks-test-agentpool", "clientId": "$KUBELET_ID", "principalId": "kubelet-principal",
  "id": "$SUB/resourceGroups/MC_rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/aks-test-agentpool", "tenantId": "t"},
 {"name": "azurekeyvaultsecretsprovider-aks-test", "clientId": "$CSI_ID", "principalId": "csi-principal",
  "id": "$SUB/resourceGroups/MC_rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/azurekeyvaultsecretsprovider-aks-test"},
 {"name": "checkout-identity", "clientId": "$CHECKOUT_ID", "principalId": "checkout-principal",
  "id": "$RG/providers/Microsoft.ManagedIdentity/userAssignedIdentities/checkout-identity"},
 {"name": "proxied-identity", "clientId": "$PROXY_ID", "principalId": "proxied-principal",
  "id": "$RG/providers/Microsoft.ManagedIdentity/userAssignedIdentities/proxied-identity"}]
JSON
cat > "$IDS/role-assignments.json" <<JSON
[{"principalId": "kubelet-principal", "principalType": "ServicePrincipal", "roleDefinitionName": "AcrPull",
  "roleDefinitionId": "$SUB/providers/Microsoft.Authorization/roleDefinitions/7f951dda-4ed3-4680-a7ca-43fe172d538d",
  "scope": "$RG/providers/Microsoft.ContainerRegistry/registries/myreg"},
 {"principalId": "csi-principal", "principalType": "ServicePrincipal", "roleDefinitionName": "Key Vault Secrets User",
  "roleDefinitionId": "$SUB/providers/Microsoft.Authorization/roleDefinitions/4633458b-17de-408a-b874-0445c86b69e6",
  "scope": "$RG/providers/Microsoft.KeyVault/vaults/kv-csi"},
 {"principalId": "checkout-principal", "principalType": "ServicePrincipal",
  "roleDefinitionId": "$SUB/providers/Microsoft.Authorization/roleDefinitions/4633458b-17de-408a-b874-0445c86b69e6",
  "scope": "$RG"}]
JSON
cat > "$IDS/federated-credentials-checkout.json" <<JSON
[{"id": "$RG/providers/Microsoft.ManagedIdentity/userAssignedIdentities/checkout-identity/federatedIdentityCredentials/checkout",
  "name": "checkout", "issuer": "https://oidc.example/", "subject": "system:serviceaccount:payments:checkout",
  "audiences": ["api://AzureADTokenExchange"]}]
JSON
cat > "$IDS/resources.json" <<JSON
[{"name": "kv-payments", "type": "Microsoft.KeyVault/vaults", "id": "$RG/providers/Microsoft.KeyVault/vaults/kv-payments"},
 {"name": "kv-csi", "type": "Microsoft.KeyVault/vaults", "id": "$RG/providers/Microsoft.KeyVault/vaults/kv-csi"},
 {"name": "myreg", "type": "Microsoft.ContainerRegistry/registries", "id": "$RG/providers/Microsoft.ContainerRegistry/registries/myreg"}]
JSON
cat > "$IDS/cluster.json" <<JSON
{"name": "aks-test", "identityProfile": {"kubeletidentity": {"clientId": "$KUBELET_ID", "objectId": "kubelet-principal"}},
 "addonProfiles": {"azureKeyvaultSecretsProvider": {"enabled": true, "identity": {"clientId": "$CSI_ID", "objectId": "csi-principal"}}}}
JSON
cat > "$WORK/zone.json" <<'JSON'
{"kv-payments.vault.azure.net": {"A": ["127.77.0.10"]},
 "kv-csi.vault.azure.net": {"A": ["127.77.0.11"]},
 "myreg.azurecr.io": {"CNAME": "myreg.privatelink.azurecr.io"},
 "myreg.privatelink.azurecr.io": {"A": ["127.77.1.5"]},
 "login.microsoftonline.com": {"A": ["127.77.2.1"]}}
JSON

net_up() {
	local pod
	tls_cert || { fail "openssl failed"; return 1; }
	for pod in "$@"; do
		pod_dns "$pod" "$WORK/zone.json" || return 1
		pod_serve "$pod" 169.254.169.254 80 || return 1
		pod_serve "$pod" 168.63.129.16 80 || return 1
		pod_serve "$pod" 0.0.0.0 443 "$WORK/tls.crt" "$WORK/tls.key" || return 1
	done
}

# detect_start [OPTIONS]: the monitor on the scenario node, recording a trace
# (SCENARIO_TRACE) so that every scenario can be replayed and compared.
detect_start() {
	SCENARIO_TRACE="$WORK/scenario-$RANDOM$RANDOM.am"
	monitor_start --host-root "$NODE_ROOT" --identities "$IDS" --record "$SCENARIO_TRACE" "$@"
}

token() { # token RESOURCE [CLIENT_ID]
	echo "http://169.254.169.254/metadata/identity/oauth2/token?api-version=2018-02-01&resource=$1${2:+&client_id=$2}"
}

