#!/usr/bin/env bash
# Collects the identity data accessmon reads with --identities, for one AKS
# cluster, with the Azure CLI; writes the files into a directory and a ConfigMap
# manifest (JSON, which kubectl applies as it does YAML) that the DaemonSet mounts.
#
#   deploy/collect-identities.sh -g RESOURCE_GROUP -n CLUSTER [-o DIR] [--namespace NS]
#   kubectl apply --server-side -f DIR/configmap.json
#
# (--server-side: a client-side apply also stores the whole ConfigMap in an
# annotation limited to 256 KiB, which a large subscription's data exceeds.)
# Needs az (logged in, with read access to the cluster's subscription) and jq.
# Re-run it when identities or role assignments change; the monitor picks the new
# data up on SIGHUP (or a restart) without losing events.
set -euo pipefail

usage() {
	sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'
	exit "${1:-0}"
}

group="" cluster="" out="identities" namespace="accessmon"
while [ $# -gt 0 ]; do
	case "$1" in
	-g | --resource-group) group=$2; shift 2 ;;
	-n | --name) cluster=$2; shift 2 ;;
	-o | --out) out=$2; shift 2 ;;
	--namespace) namespace=$2; shift 2 ;;
	-h | --help) usage 0 ;;
	*) echo "collect-identities: unknown option '$1'; see --help" >&2; exit 2 ;;
	esac
done
if [ -z "$group" ] || [ -z "$cluster" ]; then
	echo "collect-identities: -g RESOURCE_GROUP and -n CLUSTER are required; see --help" >&2
	exit 2
fi
for tool in az jq; do
	command -v "$tool" >/dev/null || { echo "collect-identities: $tool is not installed" >&2; exit 1; }
done

mkdir -p "$out"
echo "collecting $cluster in $group into $out/" >&2
az aks show -g "$group" -n "$cluster" -o json > "$out/cluster.json"
az role assignment list --all -o json > "$out/role-assignments.json"
az identity list -o json > "$out/identities.json"
# Federated credentials: one list per user-assigned identity.
rm -f "$out"/federated-credentials-*.json
jq -r '.[] | [.name, .resourceGroup] | @tsv' "$out/identities.json" |
	while IFS=$'\t' read -r name rg; do
		az identity federated-credential list --identity-name "$name" -g "$rg" -o json \
			> "$out/federated-credentials-$name.json"
	done
# Vaults, managed HSMs and registries: their resource ids, for role scopes.
{
	az resource list --resource-type Microsoft.KeyVault/vaults -o json
	az resource list --resource-type Microsoft.KeyVault/managedHSMs -o json
	az resource list --resource-type Microsoft.ContainerRegistry/registries -o json
} | jq -s 'add | map({name, type, id})' > "$out/resources.json"

jq -n --arg ns "$namespace" '
	{apiVersion: "v1", kind: "ConfigMap",
	 metadata: {name: "accessmon-identities", namespace: $ns,
	            labels: {"app.kubernetes.io/name": "accessmon"}},
	 data: $files}' \
	--argjson files "$(cd "$out" && for f in *.json; do
		[ "$f" = configmap.json ] && continue
		jq -n --arg k "$f" --rawfile v "$f" '{($k): $v}'
	done | jq -s 'add // {}')" > "$out/configmap.json"
# The API server refuses a ConfigMap over 1 MiB (data and metadata together).
size=$(wc -c < "$out/configmap.json")
if [ "$size" -gt 1000000 ]; then
	echo "collect-identities: warning: $out/configmap.json is $size bytes, more than a ConfigMap" \
		"may hold (1 MiB): the role assignments are the usual cause" >&2
fi
echo "wrote $out/configmap.json: kubectl apply --server-side -f $out/configmap.json" >&2
