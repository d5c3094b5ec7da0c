#!/usr/bin/env bash
# End to end: where it went. IMDS and WireServer requests read off the wire
# (split, pipelined, oversized, malformed), destinations named from the DNS
# answers the pod received (CNAME chains, DNS over TCP, hostile answers), from the
# TLS server name, and from service tags, with a fake DNS server and fake HTTPS
# endpoints inside the pod's own network namespace.
source "$(dirname "$0")/lib.sh"

USE_PODLIST=0
node_tree_init
pod_define client shop
pod_bundle client
pod_up client
KUBELET_ID=5a1c2b3d-1111-2222-3333-444455556666
cat > "$WORK/zone.json" <<'EOF'
{
  "kv-payments.vault.azure.net": {"A": ["127.77.0.10"]},
  "myreg.azurecr.io": {"CNAME": "myreg.privatelink.azurecr.io"},
  "myreg.privatelink.azurecr.io": {"CNAME": "r1.eastus.cloudapp.azure.com"},
  "r1.eastus.cloudapp.azure.com": {"A": ["127.77.1.5"]},
  "myreg.eastus.data.azurecr.io": {"A": ["127.77.1.6"]},
  "kv-gov.vault.usgovcloudapi.net": {"A": ["127.77.0.11"]},
  "login.microsoftonline.com": {"A": ["127.77.2.1"]},
  "tcp-only.vault.azure.net": {"A": ["127.77.0.12"]},
  "hostile.example": {"raw": "hostile"},
  "short.example": {"raw": "short"}
}
EOF
cat > "$WORK/service-tags.json" <<'EOF'
{"changeNumber": 1, "cloud": "Public", "values": [
  {"name": "AzureKeyVault.EastUS", "id": "AzureKeyVault.EastUS",
   "properties": {"region": "eastus", "systemService": "AzureKeyVault",
     "addressPrefixes": ["127.78.0.0/16", "fd00:78::/32"]}},
  {"name": "AzureCloud", "id": "AzureCloud",
   "properties": {"region": "", "systemService": "", "addressPrefixes": ["127.0.0.0/8"]}}
]}
EOF

servers_up() {
	tls_cert || { fail "openssl failed"; return 1; }
	pod_dns client "$WORK/zone.json" || return 1
	pod_serve client 169.254.169.254 80 || return 1
	pod_serve client 168.63.129.16 80 || return 1
	pod_serve client 168.63.129.16 32526 || return 1
	pod_serve client 0.0.0.0 443 "$WORK/tls.crt" "$WORK/tls.key" || return 1
}

# one_record FILTER WHAT: exactly one record matches; MATCH is set to it.
one_record() {
	MATCH=$1
	expect_records 1 "$1" "$2"
}

test_imds_token_request_names_resource_and_identity() {
	servers_up || return
	monitor_start --host-root "$NODE_ROOT" || return
	pod_run client curl -s -o /dev/null -H Metadata:true \
		"http://169.254.169.254/metadata/identity/oauth2/token?api-version=2018-02-01&resource=https%3A%2F%2Fvault.azure.net&client_id=$KUBELET_ID"
	monitor_stop
	one_record ".type == \"http\" and .proc.pid == $LAST_PID" "the token request" || return
	expect_eq "$(field "$MATCH" .imds.category)" identity-token "category"
	expect_eq "$(field "$MATCH" .imds.resource)" https://vault.azure.net "resource, percent-decoded"
	expect_eq "$(field "$MATCH" .imds.client_id)" "$KUBELET_ID" "client id"
	expect_eq "$(field "$MATCH" .imds.metadata_header)" true "Metadata header"
	expect_eq "$(field "$MATCH" .http.method)" GET "method"
	expect_eq "$(field "$MATCH" .http.path)" /metadata/identity/oauth2/token "path"
	expect_eq "$(field "$MATCH" '.http.query["api-version"]')" 2018-02-01 "api-version"
	expect_eq "$(field "$MATCH" .http.status)" 200 "status of the answer"
	expect_eq "$(field "$MATCH" .dst.service)" imds "service"
	expect_eq "$(field "$MATCH" .dst.name_source)" fixed "name source"
	expect_eq "$(field "$MATCH" .pod.name)" client "pod"
	expect_eq "$(field "$MATCH" .proc.comm)" curl "process"
	expect_records 1 ".type == \"connect\" and .proc.pid == $LAST_PID and .dst.service == \"imds\"" "the connect"
}

test_imds_paths_case_and_selectors() {
	servers_up || return
	monitor_start --host-root "$NODE_ROOT" || return
	pod_run client curl -s -o /dev/null -H Metadata:true \
		'http://169.254.169.254/METADATA/identity/oauth2/token?resource=https%3A%2F%2Fmanagement.azure.com%2F&msi_res_id=%2Fsubscriptions%2Fs%2FresourceGroups%2Frg%2Fproviders%2FMicrosoft.ManagedIdentity%2FuserAssignedIdentities%2Fid1'
	local upper=$LAST_PID
	pod_run client curl -s -o /dev/null 'http://169.254.169.254/metadata/instance?api-version=2021-02-01'
	local instance=$LAST_PID
	pod_run client curl -s -o /dev/null -H Metadata:true 'http://169.254.169.254/metadata/attested/document?api-version=2020-09-01'
	local attested=$LAST_PID
	pod_run client curl -s -o /dev/null -H Metadata:true 'http://169.254.169.254/metadata/identity/info?api-version=2018-02-01'
	local info=$LAST_PID
	pod_run client curl -s -o /dev/null -H Metadata:true 'http://169.254.169.254/metadata/identity/oauth2/token?resource=https://containerregistry.azure.net&mi_res_id=/x/y&object_id=0f0f'
	local mi=$LAST_PID
	monitor_stop
	one_record ".type == \"http\" and .proc.pid == $upper" "upper-case /METADATA" || return
	expect_eq "$(field "$MATCH" .imds.category)" identity-token "/METADATA matched case-insensitively"
	expect_eq "$(field "$MATCH" .imds.resource)" https://management.azure.com/ "resource"
	expect_eq "$(field "$MATCH" .imds.msi_res_id)" /subscriptions/s/resourceGroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id1 "msi_res_id"
	expect_eq "$(field "$MATCH" .imds.client_id)" null "no client id"
	one_record ".type == \"http\" and .proc.pid == $instance" "instance" || return
	expect_eq "$(field "$MATCH" .imds.category)" instance "instance category"
	expect_eq "$(field "$MATCH" .imds.metadata_header)" false "no Metadata header"
	expect_records 1 ".type == \"http\" and .proc.pid == $attested and .imds.category == \"attested\"" "attested"
	expect_records 1 ".type == \"http\" and .proc.pid == $info and .imds.category == \"identity-info\"" "identity info"
	one_record ".type == \"http\" and .proc.pid == $mi" "mi_res_id and object_id" || return
	expect_eq "$(field "$MATCH" .imds.msi_res_id)" /x/y "mi_res_id, the older spelling"
	expect_eq "$(field "$MATCH" .imds.object_id)" 0f0f "object id"
}

test_split_pipelined_oversized_and_malformed_requests() {
	servers_up || return
	monitor_start --host-root "$NODE_ROOT" || return
	pod_run client python3 -c '
import socket, time
def conn():
    s = socket.create_connection(("169.254.169.254", 80))
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return s
s = conn()
for part in [b"GET /metadata/identity/oauth2/tok", b"en?resource=https%3A%2F%2Fvault.azure.net&client_id=split-id HTTP/1.1\r\nHo",
             b"st: 169.254.169.254\r\nMetadata: true\r\n\r\n"]:
    s.send(part)
    time.sleep(0.05)
s.recv(4096); s.close()
s = conn()
s.send(b"GET /metadata/instance?api-version=1 HTTP/1.1\r\nMetadata: true\r\n\r\n"
       b"GET /metadata/identity/oauth2/token?resource=https%3A%2F%2Fstorage.azure.com%2F HTTP/1.1\r\nMetadata: true\r\n\r\n")
time.sleep(0.3); s.close()
s = conn()
s.send(b"GET /metadata/identity/oauth2/token?resource=https%3A%2F%2Fvault.azure.net&client_id=big-id HTTP/1.1\r\nMetadata: true\r\nX-Pad: " + b"a" * 12000 + b"\r\n\r\n")
time.sleep(0.3); s.close()
s = conn()
s.send(b"\x16\x03\x01 this is not http\r\n\r\n")
time.sleep(0.2); s.close()
'
	expect_eq "$?" 0 "client exit status"
	monitor_stop
	local pid=$LAST_PID
	one_record ".type == \"http\" and .proc.pid == $pid and .imds.client_id == \"split-id\"" "a request split across three segments" || return
	expect_eq "$(field "$MATCH" .imds.resource)" https://vault.azure.net "resource across segments"
	expect_eq "$(field "$MATCH" .imds.metadata_header)" true "header across segments"
	expect_records 1 ".type == \"http\" and .proc.pid == $pid and .imds.category == \"instance\"" "first pipelined request"
	expect_records 1 ".type == \"http\" and .proc.pid == $pid and .imds.resource == \"https://storage.azure.com/\"" "second pipelined request"
	one_record ".type == \"http\" and .proc.pid == $pid and .imds.client_id == \"big-id\"" "an oversized request" || return
	# 12 KB of header is read whole now (a head may take 64 KiB): nothing is cut.
	expect_eq "$(field "$MATCH" .http.truncated)" false "read whole"
	expect_eq "$(field "$MATCH" .imds.resource)" https://vault.azure.net "params of the oversized request"
	one_record ".type == \"http\" and .proc.pid == $pid and .http.parse_error != null" "the unparseable request is reported" || return
	# Bytes that are no request are judged at their worst: unclassified, incomplete.
	expect_eq "$(field "$MATCH" .imds.category)" unclassified "unparseable category"
	expect_eq "$(field "$MATCH" .imds.incomplete)" true "unparseable: incomplete"
}

test_wireserver_requests() {
	servers_up || return
	monitor_start --host-root "$NODE_ROOT" || return
	pod_run client curl -s -o /dev/null 'http://168.63.129.16/machine/?comp=goalstate'
	local goal=$LAST_PID
	pod_run client curl -s -o /dev/null 'http://168.63.129.16:32526/vmSettings'
	local settings=$LAST_PID
	monitor_stop
	one_record ".type == \"http\" and .proc.pid == $goal" "goal state request" || return
	expect_eq "$(field "$MATCH" .dst.service)" wireserver "service"
	expect_eq "$(field "$MATCH" .http.path)" /machine/ "path"
	expect_eq "$(field "$MATCH" .http.method)" GET "method"
	expect_records 1 ".type == \"http\" and .proc.pid == $settings and .dst.port == 32526 and .http.path == \"/vmSettings\"" "port 32526"
}

test_vault_and_registry_named_from_dns_answers() {
	servers_up || return
	monitor_start --host-root "$NODE_ROOT" || return
	pod_run client curl -sk -o /dev/null https://kv-payments.vault.azure.net/secrets/db?api-version=7.4
	expect_eq "$?" 0 "curl to the vault"
	local vault=$LAST_PID
	pod_run client curl -sk -o /dev/null https://myreg.azurecr.io/v2/
	local registry=$LAST_PID
	pod_run client curl -sk -o /dev/null https://myreg.eastus.data.azurecr.io/v2/
	local data=$LAST_PID
	pod_run client curl -sk -o /dev/null https://kv-gov.vault.usgovcloudapi.net/
	local gov=$LAST_PID
	pod_run client curl -sk -o /dev/null https://login.microsoftonline.com/tenant/oauth2/v2.0/token
	local login=$LAST_PID
	monitor_stop
	one_record ".type == \"connect\" and .proc.pid == $vault and .dst.port == 443" "the vault connect" || return
	expect_eq "$(field "$MATCH" .dst.host)" kv-payments.vault.azure.net "host"
	expect_eq "$(field "$MATCH" .dst.name_source)" dns "name source"
	expect_eq "$(field "$MATCH" .dst.service)" keyvault "service"
	expect_eq "$(field "$MATCH" .dst.resource)" kv-payments "vault"
	expect_eq "$(field "$MATCH" .dst.cloud)" public "cloud"
	expect_eq "$(field "$MATCH" .dst.ip)" 127.77.0.10 "address"
	expect_records 1 ".type == \"dns\" and .proc.pid == $vault and .dns.question == \"kv-payments.vault.azure.net\" and (.dns.answers | map(.data) | index(\"127.77.0.10\")) != null" \
		"the answer the pod received"
	one_record ".type == \"connect\" and .proc.pid == $registry and .dst.port == 443" "the registry connect" || return
	expect_eq "$(field "$MATCH" .dst.host)" myreg.azurecr.io "the name asked for, through two CNAMEs"
	expect_eq "$(field "$MATCH" .dst.service)" acr "service"
	expect_eq "$(field "$MATCH" .dst.resource)" myreg "registry"
	expect_records 1 ".type == \"connect\" and .proc.pid == $data and .dst.port == 443 and .dst.service == \"acr-data\" and .dst.resource == \"myreg\"" "data endpoint"
	expect_records 1 ".type == \"connect\" and .proc.pid == $gov and .dst.port == 443 and .dst.cloud == \"usgov\" and .dst.resource == \"kv-gov\"" "US Government vault"
	expect_records 1 ".type == \"connect\" and .proc.pid == $login and .dst.port == 443 and .dst.service == \"entra-login\"" "Entra login host"
}

test_server_name_when_dns_is_unseen() {
	servers_up || return
	monitor_start --host-root "$NODE_ROOT" || return
	# A pinned address: no DNS answer to learn from; the ClientHello names it.
	pod_run client curl -sk -o /dev/null --resolve kv-pinned.vault.azure.net:443:127.77.0.20 \
		https://kv-pinned.vault.azure.net/
	monitor_stop
	one_record ".type == \"connect\" and .proc.pid == $LAST_PID and .dst.port == 443" "the connect" || return
	expect_eq "$(field "$MATCH" .dst.host)" kv-pinned.vault.azure.net "host from SNI"
	expect_eq "$(field "$MATCH" .dst.name_source)" sni "name source"
	expect_eq "$(field "$MATCH" .dst.resource)" kv-pinned "vault"
}

test_service_tags_name_the_service_as_a_last_resort() {
	servers_up || return
	monitor_start --host-root "$NODE_ROOT" --service-tags "$WORK/service-tags.json" || return
	pod_run client curl -sk -o /dev/null https://127.78.0.5/
	local tagged=$LAST_PID
	pod_run client curl -sk -o /dev/null https://127.79.0.5/
	local untagged=$LAST_PID
	monitor_stop
	one_record ".type == \"connect\" and .proc.pid == $tagged and .dst.port == 443" "the connect" || return
	expect_eq "$(field "$MATCH" .dst.name_source)" service-tag "name source"
	expect_eq "$(field "$MATCH" .dst.service)" keyvault "service"
	expect_eq "$(field "$MATCH" .dst.service_tag)" AzureKeyVault.EastUS "tag"
	expect_eq "$(field "$MATCH" .dst.region)" eastus "region"
	expect_eq "$(field "$MATCH" .dst.host)" null "no host name"
	expect_records 1 ".type == \"connect\" and .proc.pid == $untagged and .dst.port == 443 and .dst.name_source == \"none\" and .dst.service == null" \
		"AzureCloud alone names no service"
}

test_published_service_tags_load() {
	monitor_start --host-root "$NODE_ROOT" --service-tags "$E2E_ROOT/tests/data/ServiceTags_Public.full.json.gz" || return
	monitor_stop
	expect_true grep -Eq "service tags: [0-9]{4,} prefixes" "$ERR"
}

test_dns_over_tcp_and_hostile_answers() {
	servers_up || return
	monitor_start --host-root "$NODE_ROOT" || return
	pod_run client python3 -c '
import socket, struct
def query(name):
    q = struct.pack(">HHHHHH", 7, 0x0100, 1, 0, 0, 0)
    for label in name.split("."):
        q += bytes([len(label)]) + label.encode()
    return q + b"\0" + struct.pack(">HH", 1, 1)
t = socket.create_connection(("127.0.0.53", 53))
msg = query("tcp-only.vault.azure.net")
t.sendall(struct.pack(">H", len(msg)) + msg)
n = struct.unpack(">H", t.recv(2))[0]
answer = t.recv(n); t.close()
ip = socket.inet_ntoa(answer[-4:])
try:
    socket.create_connection((ip, 443), timeout=1).close()
except OSError:
    pass
for name in ("hostile.example", "short.example"):
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    u.settimeout(1)
    u.sendto(query(name), ("127.0.0.53", 53))
    u.recv(512)
'
	expect_eq "$?" 0 "client exit status"
	monitor_stop
	one_record ".type == \"connect\" and .proc.pid == $LAST_PID and .dst.port == 443" "the connect after a TCP lookup" || return
	expect_eq "$(field "$MATCH" .dst.host)" tcp-only.vault.azure.net "named from DNS over TCP"
	expect_eq "$(field "$MATCH" .dst.name_source)" dns "name source"
	expect_records 1 ".type == \"dns\" and .proc.pid == $LAST_PID and (.dns.parse_error // \"\" | test(\"compression pointer loop\"))" \
		"a compression loop is reported"
	expect_records 1 ".type == \"dns\" and .proc.pid == $LAST_PID and (.dns.parse_error // \"\" | test(\"truncated|malformed\"))" \
		"a message cut short is reported"
}

e2e_main destinations
