#!/usr/bin/env bash
# Deployment checks: the Kubernetes manifests (deploy/kubernetes) rendered by
# kubectl's kustomize and validated against the Kubernetes API schemas and what
# accessmon promises (validate.mjs); proof that the validator rejects broken
# copies; the image (deploy/Dockerfile): its packages exist in Debian, it is
# multi-stage and unprivileged, and its build step works on the build context
# it gets, without .git, and yields a binary the runtime stage can run.
#
#   tests/deploy/run.sh
#
# Needs node (18 or later) and npm, kubectl (1.20 or later); no root, no
# cluster, no network but the npm registry on first run (npm ci). Environment:
#   KUBECTL=PATH      the kubectl to render with (default: kubectl on PATH)
#   KUBECTL_OLD=PATH  also render with this (older) kubectl and compare
#   DEPLOY_SKIP_BUILD=1  skip building the image's binary from its context
set -u
cd "$(dirname "$0")/../.." || exit 1
HERE=tests/deploy
SUITE=deploy
KUBECTL=${KUBECTL:-kubectl}
WORK=$(mktemp -d "/tmp/accessmon-deploy.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
trap 'exit 130' INT TERM
RENDERED="$WORK/rendered.yaml"
TESTS_PASSED=0
TESTS_FAILED=0
TESTS_SKIPPED=0
CURRENT_FAILED=0
SKIP_REASON=""

# --- reporting (the e2e suites' format: tests/run.sh reads the last line) ----

fail() {
	echo "    FAIL: $*" >&2
	CURRENT_FAILED=1
}

skip() {
	SKIP_REASON=$*
}

# run_test NAME: runs the function NAME and reports it.
run_test() {
	CURRENT_FAILED=0
	SKIP_REASON=""
	echo "  $SUITE: $1"
	"$1"
	if [ -n "$SKIP_REASON" ] && [ "$CURRENT_FAILED" = 0 ]; then
		TESTS_SKIPPED=$((TESTS_SKIPPED + 1))
		echo "  SKIP $SUITE: $1 ($SKIP_REASON)"
	elif [ "$CURRENT_FAILED" = 0 ]; then
		TESTS_PASSED=$((TESTS_PASSED + 1))
		echo "  PASS $SUITE: $1"
	else
		TESTS_FAILED=$((TESTS_FAILED + 1))
		echo "  FAIL $SUITE: $1"
	fi
}

# validate [ARGS...] < STREAM: runs the validator; its output in $WORK/validate.out.
validate() {
	node "$HERE/validate.mjs" "$@" > "$WORK/validate.out" 2> "$WORK/validate.err"
}

show() {
	sed 's/^/    | /' "$1" >&2
}

# --- setup ----------------------------------------------------------------

test_node_dependencies_install() {
	local major
	if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
		fail "node and npm are needed: apt-get install nodejs npm (Node.js 18 or later)"
		return
	fi
	major=$(node -p 'process.versions.node.split(".")[0]')
	if [ "$major" -lt 18 ]; then
		fail "Node.js $(node --version) is too old: 18 or later is needed"
		return
	fi
	# npm ci installs exactly package-lock.json; again only when the lock changed.
	if [ ! -f "$HERE/node_modules/.package-lock.json" ] ||
		[ "$HERE/package-lock.json" -nt "$HERE/node_modules/.package-lock.json" ]; then
		if ! (cd "$HERE" && npm ci --no-audit --no-fund) > "$WORK/npm.log" 2>&1; then
			fail "npm ci in $HERE failed:"
			show "$WORK/npm.log"
			return
		fi
	fi
	(cd "$HERE" && node --input-type=module -e '
		await import("kubernetes-models/apps/v1");
		await import("@kubernetes/client-node/dist/gen/models/all.js");
		await import("yaml");') 2> "$WORK/import.err" ||
		{ fail "the validator's modules do not load:"; show "$WORK/import.err"; }
}

# --- manifests ------------------------------------------------------------

test_kustomize_renders() {
	if ! command -v "$KUBECTL" >/dev/null; then
		fail "no kubectl ('$KUBECTL'): install kubectl 1.20 or later (Debian: apt-get install kubernetes-client; or https://kubernetes.io/docs/tasks/tools/), or set KUBECTL=PATH"
		return
	fi
	if ! "$KUBECTL" kustomize deploy/kubernetes > "$RENDERED" 2> "$WORK/kustomize.err"; then
		fail "$KUBECTL kustomize deploy/kubernetes failed:"
		show "$WORK/kustomize.err"
		return
	fi
	# kubectl 1.27+ warns about deprecated kustomization fields on stderr.
	if [ -s "$WORK/kustomize.err" ]; then
		fail "kustomize warned:"
		show "$WORK/kustomize.err"
	fi
}

need_rendered() {
	[ -s "$RENDERED" ] || { fail "nothing rendered (see test_kustomize_renders)"; return 1; }
}

test_manifests_are_valid() {
	need_rendered || return
	if ! validate < "$RENDERED" || [ -s "$WORK/validate.out" ]; then
		fail "the rendered manifests have problems:"
		show "$WORK/validate.out"
		show "$WORK/validate.err"
	fi
}

test_optional_manifests_are_valid() {
	local file
	for file in deploy/kubernetes/optional/*.yaml; do
		[ -e "$file" ] || continue
		validate --schema-only "$file" || { fail "$file:"; show "$WORK/validate.out"; }
	done
}

test_print_capabilities() {
	local got
	need_rendered || return
	validate --print-capabilities < "$RENDERED" || { fail "--print-capabilities failed"; show "$WORK/validate.err"; return; }
	got=$(sort "$WORK/validate.out" | tr '\n' ' ')
	[ "$got" = "bpf dac_read_search net_admin perfmon " ] ||
		fail "--print-capabilities printed '$got', expected bpf dac_read_search net_admin perfmon (one a line)"
}

test_print_config() {
	need_rendered || return
	validate --print-config < "$RENDERED" || { fail "--print-config failed"; show "$WORK/validate.err"; return; }
	cmp -s "$WORK/validate.out" deploy/kubernetes/config.json ||
		fail "--print-config does not print deploy/kubernetes/config.json as it is"
}

# breakage NAME SED_SCRIPT EXPECTED: a copy of the rendered stream broken by
# SED_SCRIPT, which the validator must reject with a line containing EXPECTED.
# The copies are validated together (one node start-up, not one each).
BROKEN_FILES=()
BROKEN_NAMES=()
BROKEN_EXPECTED=()
breakage() {
	local name=$1 script=$2 expected=$3 file="$WORK/broken-${#BROKEN_FILES[@]}.yaml"
	sed "$script" "$RENDERED" > "$file"
	if cmp -s "$file" "$RENDERED"; then
		fail "$name: the breakage '$script' changed nothing: the manifests changed, update this test"
		return
	fi
	BROKEN_FILES+=("$file")
	BROKEN_NAMES+=("$name")
	BROKEN_EXPECTED+=("$expected")
}

test_validator_rejects_broken_copies() {
	local c='DaemonSet accessmon: spec.template.spec.containers[0]'
	need_rendered || return
	breakage "a wrong type" 's/privileged: false/privileged: "no"/' \
		"$c.securityContext.privileged: must be boolean"
	breakage "an unknown field" 's/readinessProbe:/readinesProbe:/' \
		"$c.readinesProbe: unknown field"
	breakage "a missing required field" '/^ *path: \/proc$/d' \
		"hostPath: must have required property path"
	breakage "an unknown kind" 's/^kind: ServiceAccount$/kind: ServiceAcount/' \
		"ServiceAcount accessmon: no schema for apiVersion v1 kind ServiceAcount"
	breakage "an added capability" 's/^\( *\)- BPF$/&\n\1- SYS_ADMIN/' \
		"$c.securityContext.capabilities.add: must add exactly BPF, PERFMON, NET_ADMIN, DAC_READ_SEARCH (extra: SYS_ADMIN)"
	breakage "a missing capability" '/^ *- PERFMON$/d' \
		"(missing: PERFMON)"
	breakage "a privileged container" 's/privileged: false/privileged: true/' \
		"$c.securityContext.privileged: the container must not be privileged"
	breakage "a writable hostPath mount" '/mountPath: \/host\/proc$/,/readOnly: true/ s/readOnly: true/readOnly: false/' \
		"hostPath /proc must be mounted readOnly"
	breakage "a mount of an undefined volume" '/mountPath: \/host\/proc$/,/name:/ s/name: host-proc$/name: host-prok/' \
		"volume host-prok is not defined in volumes"
	breakage "a toleration with a key only" 's/^\( *\)- operator: Exists$/\1- key: example.com\/gpu\n\1  operator: Exists/' \
		"spec.template.spec.tolerations: must tolerate every taint"
	breakage "another priority class" 's/priorityClassName: system-node-critical/priorityClassName: system-cluster-critical/' \
		"spec.template.spec.priorityClassName: must be system-node-critical"
	breakage "a CPU limit" 's/^\( *\)memory: 256Mi$/&\n\1cpu: "1"/' \
		"$c.resources.limits.cpu: must not be set"
	breakage "probes on another port than listen" 's/"listen": "0.0.0.0:9464"/"listen": "0.0.0.0:9999"/' \
		"$c.readinessProbe.httpGet.port: 9464 is not the port config.json listens on (9999)"
	breakage "a loopback listen" 's/"listen": "0.0.0.0:9464"/"listen": "9464"/' \
		"is loopback only: the kubelet's probes cannot reach it"
	breakage "a config.json that is not JSON" 's/"sink": \["stdout"\]/"sink": ["stdout"/' \
		"not valid JSON"
	breakage "a host root the mounts do not follow" 's|"host-root": "/host"|"host-root": "/node"|' \
		"the node's /proc is mounted at /host/proc, but config.json \"host-root\" \"/node\" reads it at /node/proc"
	breakage "nodes/proxy in the default role" 's|- nodes/pods|- nodes/proxy|' \
		"grants get on nodes/proxy: the monitor needs only get on nodes/pods"
	# shellcheck disable=SC2016 # $(NODE_IP) is Kubernetes' syntax, not the shell's
	breakage "an undefined variable in args" 's/\$(NODE_IP)/$(NODE_ADDRESS)/' \
		"refers to \$(NODE_ADDRESS), which env does not define"
	breakage "a namespace without the privileged level" '/pod-security.kubernetes.io\/enforce: privileged/d' \
		"must be privileged: hostPath volumes and added capabilities fail the baseline level"

	local i file
	validate "${BROKEN_FILES[@]}"
	for i in "${!BROKEN_FILES[@]}"; do
		file=${BROKEN_FILES[$i]}
		grep -F -- "$file: " "$WORK/validate.out" | sed "s|^$file: ||" > "$WORK/broken.out"
		if [ ! -s "$WORK/broken.out" ]; then
			fail "${BROKEN_NAMES[$i]}: accepted"
		elif ! grep -qF -- "${BROKEN_EXPECTED[$i]}" "$WORK/broken.out"; then
			fail "${BROKEN_NAMES[$i]}: rejected, but without '${BROKEN_EXPECTED[$i]}':"
			show "$WORK/broken.out"
		fi
	done
}

# deploy/README.md's ways of setting the image, as written there: sed on the
# rendered stream, and an overlay that also adds a policy file.
test_readme_sed_sets_the_image() {
	need_rendered || return
	sed "s|image: accessmon:latest|image: REGISTRY.azurecr.io/accessmon:TAG|" "$RENDERED" > "$WORK/sed.yaml"
	grep -q '^ *image: REGISTRY.azurecr.io/accessmon:TAG$' "$WORK/sed.yaml" ||
		fail "the README's sed does not find 'image: accessmon:latest' in the rendered DaemonSet"
}

# The minor version of a kubectl: 32 for v1.32.4, empty if it does not say.
kubectl_minor() {
	"$1" version --client -o json 2>/dev/null | node -e '
		let s = ""; process.stdin.on("data", (d) => (s += d)).on("end", () => {
			try { console.log(parseInt(JSON.parse(s).clientVersion.minor, 10) || ""); } catch { console.log(""); }
		});'
}

test_readme_overlay_renders() {
	local overlay="$WORK/my-accessmon" base minor
	need_rendered || return
	minor=$(kubectl_minor "$KUBECTL")
	# Directories in resources: need kustomize v2.1 (kubectl 1.21); deploy/README.md says so.
	if [ -n "$minor" ] && [ "$minor" -lt 21 ]; then
		skip "$KUBECTL is 1.$minor: overlays need kubectl 1.21 or later"
		return
	fi
	mkdir -p "$overlay"
	base=$(realpath --relative-to="$overlay" deploy/kubernetes)
	cat > "$overlay/kustomization.yaml" <<-EOF
		resources:
		  - $base
		images:
		  - name: accessmon
		    newName: myacr.azurecr.io/accessmon
		    newTag: "1.2.3"
		configMapGenerator:
		  - name: accessmon-config
		    behavior: replace
		    files:
		      - config.json
		      - policy.json
		patches:
		  - path: policy-mount.yaml
	EOF
	cat > "$overlay/policy-mount.yaml" <<-EOF
		apiVersion: apps/v1
		kind: DaemonSet
		metadata:
		  name: accessmon
		  namespace: accessmon
		spec:
		  template:
		    spec:
		      containers:
		        - name: accessmon
		          volumeMounts:
		            - name: config
		              mountPath: /etc/accessmon/policy.json
		              subPath: policy.json
		              readOnly: true
	EOF
	sed 's|^  "sink": \(.*\)$|  "sink": \1,\n  "policy": "/etc/accessmon/policy.json"|' deploy/kubernetes/config.json > "$overlay/config.json"
	echo '{"allow": [], "severity": {"wireserver-access": "critical"}}' > "$overlay/policy.json"
	if ! "$KUBECTL" kustomize "$overlay" > "$WORK/overlay.yaml" 2> "$WORK/overlay.err"; then
		fail "rendering the README's overlay failed:"
		show "$WORK/overlay.err"
		return
	fi
	grep -q '^ *image: myacr.azurecr.io/accessmon:1.2.3$' "$WORK/overlay.yaml" ||
		fail "the overlay's image is not in the DaemonSet"
	grep -q '^ *"policy": "/etc/accessmon/policy.json"$' "$WORK/overlay.yaml" ||
		fail "the overlay's config.json is not the one rendered"
	validate "$WORK/overlay.yaml" || { fail "the overlay's output has problems:"; show "$WORK/validate.out"; }
	# Without the mount, the policy the config names is nowhere in the pod.
	sed -i '/^patches:/,$d' "$overlay/kustomization.yaml"
	"$KUBECTL" kustomize "$overlay" > "$WORK/overlay.yaml" 2> "$WORK/overlay.err"
	validate "$WORK/overlay.yaml"
	grep -qF '"policy" "/etc/accessmon/policy.json" is not in any volume mount' "$WORK/validate.out" ||
		{ fail "a policy that is not mounted is not reported:"; show "$WORK/validate.out"; }
}

# collect-identities.sh, with an az that answers from here: it writes a ConfigMap
# the API accepts, named and placed as the DaemonSet mounts it.
test_collect_identities_writes_the_mounted_configmap() {
	local bin="$WORK/bin" out="$WORK/identities" name namespace
	need_rendered || return
	command -v jq >/dev/null || { skip "no jq here (collect-identities.sh needs it)"; return; }
	mkdir -p "$bin"
	cat > "$bin/az" <<-'EOF'
		#!/bin/sh
		# az as collect-identities.sh calls it, answering with small fixed documents.
		case "$*" in
		"aks show"*) echo '{"name": "aks-test", "identityProfile": {"kubeletidentity": {"clientId": "5a1c2b3d-1111-2222-3333-444455556666"}}}' ;;
		"role assignment list"*) echo '[{"principalId": "p1", "roleDefinitionName": "AcrPull", "scope": "/subscriptions/s/resourceGroups/rg/providers/Microsoft.ContainerRegistry/registries/myreg"}]' ;;
		"identity list"*) echo '[{"name": "checkout", "resourceGroup": "rg-apps", "clientId": "c1", "principalId": "p2"}]' ;;
		"identity federated-credential list"*) echo '[{"name": "checkout", "subject": "system:serviceaccount:payments:checkout"}]' ;;
		"resource list"*) echo '[]' ;;
		*) echo "fake az: unexpected: $*" >&2; exit 1 ;;
		esac
	EOF
	chmod +x "$bin/az"
	if ! PATH="$bin:$PATH" bash deploy/collect-identities.sh -g rg -n aks-test -o "$out" > "$WORK/collect.log" 2>&1; then
		fail "collect-identities.sh failed:"
		show "$WORK/collect.log"
		return
	fi
	validate --schema-only "$out/configmap.json" || { fail "its ConfigMap has problems:"; show "$WORK/validate.out"; }
	name=$(jq -r .metadata.name "$out/configmap.json")
	namespace=$(jq -r .metadata.namespace "$out/configmap.json")
	grep -q "^ *name: $name\$" "$RENDERED" ||
		fail "it writes ConfigMap $name, which the DaemonSet does not mount"
	[ "$namespace" = accessmon ] || fail "it writes to namespace $namespace, not accessmon"
	[ "$(jq -r '.data | keys | join(" ")' "$out/configmap.json")" = \
		"cluster.json federated-credentials-checkout.json identities.json resources.json role-assignments.json" ] ||
		fail "its ConfigMap holds $(jq -r '.data | keys | join(" ")' "$out/configmap.json")"
}

test_older_kubectl_renders_the_same() {
	need_rendered || return
	if [ -z "${KUBECTL_OLD:-}" ]; then
		skip "set KUBECTL_OLD=PATH to render with an older kubectl too"
		return
	fi
	if ! "$KUBECTL_OLD" kustomize deploy/kubernetes > "$WORK/old.yaml" 2> "$WORK/old.err"; then
		fail "$KUBECTL_OLD kustomize failed:"
		show "$WORK/old.err"
		return
	fi
	# Kustomize versions hash generated names differently; nothing else may differ.
	if ! diff <(sed 's/accessmon-config-[a-z0-9]*/accessmon-config-HASH/' "$RENDERED") \
		<(sed 's/accessmon-config-[a-z0-9]*/accessmon-config-HASH/' "$WORK/old.yaml") > "$WORK/old.diff"; then
		fail "$KUBECTL_OLD renders something else:"
		show "$WORK/old.diff"
	fi
}

# --- the image ------------------------------------------------------------

DOCKERFILE=deploy/Dockerfile

# The Dockerfile's instructions, one a line, continuations joined, comments
# dropped, each prefixed with its stage number (1 = the first FROM).
dockerfile_lines() {
	awk '
		/^[ \t]*#/ { next }
		{
			line = buf $0
			if (sub(/\\[ \t]*$/, "", line)) { buf = line " "; next }
			buf = ""
			if (line ~ /^[ \t]*$/) next
			if (toupper(line) ~ /^[ \t]*FROM[ \t]/) stage++
			gsub(/[ \t]+/, " ", line)
			print stage + 0 "\t" line
		}' "$DOCKERFILE"
}

# apt_packages STAGE: the packages the stage's apt-get install commands name.
apt_packages() {
	dockerfile_lines | awk -F'\t' -v stage="$1" '
		$1 == stage && $2 ~ /apt-get( [^ ]*)* install/ {
			n = split($2, words, " ")
			taking = 0
			for (i = 1; i <= n; i++) {
				if (!taking) { if (words[i] == "install") taking = 1; continue }
				if (words[i] == "&&" || words[i] == ";" || words[i] ~ /;$/) { taking = 0; continue }
				if (words[i] ~ /^-/ || words[i] == "") continue
				print words[i]
			}
		}' | sort -u
}

stage_count() {
	dockerfile_lines | awk -F'\t' 'toupper($2) ~ /^FROM / { n++ } END { print n + 0 }'
}

test_dockerfile_is_multi_stage() {
	local stages final_from build_name
	stages=$(stage_count)
	[ "$stages" -ge 2 ] || { fail "$DOCKERFILE has $stages stage(s): build and runtime must be separate"; return; }
	# FROM IMAGE AS NAME: the stage's name is the last word.
	build_name=$(dockerfile_lines | awk -F'\t' '$1 == 1 && toupper($2) ~ /^FROM .* AS / { n = split($2, w, " "); print w[n] }')
	[ -n "$build_name" ] || { fail "the first stage has no name (FROM IMAGE AS build)"; return; }
	final_from=$(dockerfile_lines | awk -F'\t' -v s="$stages" '$1 == s && toupper($2) ~ /^FROM / { print $2 }')
	case "$final_from" in
	*debian:bookworm-slim*) ;;
	*) fail "the runtime stage is '$final_from', expected FROM debian:bookworm-slim" ;;
	esac
	dockerfile_lines | awk -F'\t' -v s="$stages" '$1 == s' | grep -q -- "COPY --from=$build_name " ||
		fail "the runtime stage copies nothing from the build stage '$build_name'"
	if apt_packages "$stages" | grep -Eq '^(gcc.*|clang.*|llvm.*|make|.*-dev)$'; then
		fail "the runtime stage installs build tools: $(apt_packages "$stages" | grep -E '^(gcc.*|clang.*|llvm.*|make|.*-dev)$' | tr '\n' ' ')"
	fi
}

test_dockerfile_runtime_is_unprivileged() {
	local stages user
	stages=$(stage_count)
	user=$(dockerfile_lines | awk -F'\t' -v s="$stages" '$1 == s && toupper($2) ~ /^USER / { u = $2 } END { print u }')
	user=${user#USER }
	case "${user%%:*}" in
	"") fail "the runtime stage sets no USER: it would run as root by default" ;;
	0 | root) fail "the runtime stage's USER is $user: root by default" ;;
	esac
	dockerfile_lines | awk -F'\t' -v s="$stages" '$1 == s { print $2 }' | grep -qx 'ENTRYPOINT \["/usr/local/bin/accessmon"\]' ||
		fail "the runtime stage's ENTRYPOINT is not [\"/usr/local/bin/accessmon\"]"
}

test_dockerfile_packages_exist_in_debian() {
	local stage package candidates count=0 packages
	if ! command -v apt-cache >/dev/null; then
		skip "no apt-cache here"
		return
	fi
	for stage in $(seq 1 "$(stage_count)"); do
		# One apt-cache call (each costs a second): "PACKAGE CANDIDATE" lines.
		mapfile -t packages < <(apt_packages "$stage")
		[ ${#packages[@]} -gt 0 ] || continue
		candidates=$(apt-cache policy "${packages[@]}" 2>/dev/null |
			awk '/^[^ ].*:$/ { name = substr($0, 1, length($0) - 1) } /^ *Candidate:/ { print name, $2 }')
		for package in "${packages[@]}"; do
			count=$((count + 1))
			case "$(awk -v p="$package" '$1 == p { print $2 }' <<< "$candidates")" in
			"" | "(none)") fail "stage $stage installs $package, which Debian does not have (apt-cache policy: no candidate)" ;;
			esac
		done
	done
	[ "$count" -gt 0 ] || fail "found no apt-get install in $DOCKERFILE"
}

# The build stage installs what the Makefile says building needs.
test_dockerfile_installs_the_makefile_build_packages() {
	local makefile_list dockerfile_list
	# shellcheck disable=SC2016 # $(BUILD_PACKAGES) is make's
	makefile_list=$(echo 'accessmon-print-build-packages: ; @echo $(BUILD_PACKAGES)' |
		make -s --no-print-directory -f Makefile -f - accessmon-print-build-packages | tr ' ' '\n' | sed '/^$/d' | sort -u)
	dockerfile_list=$(apt_packages 1)
	if [ -z "$makefile_list" ]; then
		fail "could not read BUILD_PACKAGES from the Makefile"
	elif [ "$makefile_list" != "$dockerfile_list" ]; then
		fail "the build stage's packages differ from the Makefile's BUILD_PACKAGES:"
		diff <(echo "$makefile_list") <(echo "$dockerfile_list") | sed -n 's/^</    Makefile only:/p; s/^>/    Dockerfile only:/p' >&2
	fi
}

# dockerfile_breakage NAME CHECK SED_SCRIPT EXPECTED: CHECK, run on a copy of the
# Dockerfile broken by SED_SCRIPT, must fail saying EXPECTED.
dockerfile_breakage() {
	local name=$1 check=$2 script=$3 expected=$4 broken="$WORK/Dockerfile.broken"
	sed "$script" "$DOCKERFILE" > "$broken"
	if cmp -s "$broken" "$DOCKERFILE"; then
		fail "$name: the breakage '$script' changed nothing: the Dockerfile changed, update this test"
		return
	fi
	if (DOCKERFILE=$broken CURRENT_FAILED=0 && "$check" 2> "$WORK/check.err" && [ "$CURRENT_FAILED" = 0 ]); then
		fail "$name: $check accepted it"
	elif ! grep -qF -- "$expected" "$WORK/check.err"; then
		fail "$name: $check failed, but without '$expected':"
		show "$WORK/check.err"
	fi
}

test_dockerfile_checks_reject_broken_copies() {
	dockerfile_breakage "a package Debian does not have" test_dockerfile_packages_exist_in_debian \
		's/libcjson1/libcjson9/' "installs libcjson9, which Debian does not have"
	dockerfile_breakage "a root runtime" test_dockerfile_runtime_is_unprivileged \
		's/^USER 65534:65534$/USER root/' "the runtime stage's USER is root"
	dockerfile_breakage "no USER" test_dockerfile_runtime_is_unprivileged \
		'/^USER /d' "the runtime stage sets no USER"
	dockerfile_breakage "one stage" test_dockerfile_is_multi_stage \
		'/^FROM debian:bookworm-slim$/d' "has 1 stage(s)"
	dockerfile_breakage "build tools at runtime" test_dockerfile_is_multi_stage \
		's/libcurl4 ca-certificates/libcurl4 ca-certificates gcc/' "the runtime stage installs build tools: gcc"
	dockerfile_breakage "a build package missing" test_dockerfile_installs_the_makefile_build_packages \
		's/ bpftool / /' "Makefile only: bpftool"
}

# What `docker build .` sends: the tree minus .dockerignore. Only plain paths and
# top-level globs are used there, which tar's anchored excludes read alike.
copy_build_context() {
	local destination=$1 pattern excludes=()
	while read -r pattern; do
		case "$pattern" in
		"" | "#"*) continue ;;
		*'!'* | *'**'* | /*)
			fail ".dockerignore pattern '$pattern' is beyond what this test reads; keep plain paths"
			return 1
			;;
		esac
		excludes+=("--exclude=./${pattern%/}")
	done < .dockerignore
	tar --anchored "${excludes[@]}" -cf - . | tar -xf - -C "$destination"
}

test_image_binary_builds_from_the_context() {
	local context="$WORK/context" command source binary missing=() package lib real closure runtime_packages
	if [ "${DEPLOY_SKIP_BUILD:-0}" = 1 ]; then
		skip "DEPLOY_SKIP_BUILD=1"
		return
	fi
	[ -f .dockerignore ] || { fail "no .dockerignore: build/ and .git would be sent to the build"; return; }
	for package in $(apt_packages 1); do
		dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'ok installed' || missing+=("$package")
	done
	if [ ${#missing[@]} -gt 0 ]; then
		skip "build packages not installed here: ${missing[*]}"
		return
	fi
	mkdir -p "$context"
	copy_build_context "$context" || return
	for path in .git build; do
		[ ! -e "$context/$path" ] || fail "$path is in the build context: add it to .dockerignore"
	done
	# The build stage's make line, as it is in the Dockerfile, writing to our
	# directory instead of /out.
	command=$(dockerfile_lines | awk -F'\t' '$1 == 1 && $2 ~ /^RUN make / { sub(/^RUN /, "", $2); print $2 }')
	source=$(dockerfile_lines | awk -F'\t' -v s="$(stage_count)" '$1 == s && $2 ~ /^COPY --from=/ { split($2, w, " "); print w[3] }')
	case "$command" in
	*DESTDIR=/out*) ;;
	*) fail "the build stage has no 'RUN make ... DESTDIR=/out' line: update this test"; return ;;
	esac
	case "$source" in
	/out/*) ;;
	*) fail "the runtime stage does not COPY --from the build stage's /out: update this test"; return ;;
	esac
	if ! (cd "$context" && VERSION=deploy-check sh -c "${command//DESTDIR=\/out/DESTDIR=$WORK/out}") \
		> "$WORK/build.log" 2>&1; then
		fail "the build stage's '$command' fails on the build context:"
		tail -n 30 "$WORK/build.log" | sed 's/^/    | /' >&2
		return
	fi
	binary="$WORK/out${source#/out}"
	[ -x "$binary" ] || { fail "the build wrote no $source"; return; }
	[ "$("$binary" version)" = "accessmon deploy-check" ] ||
		fail "'accessmon version' says '$("$binary" version)', expected the VERSION build argument"
	# Every library it links must come with the runtime stage's packages.
	mapfile -t runtime_packages < <(apt_packages "$(stage_count)")
	closure=$(apt-cache depends --recurse --no-recommends --no-suggests --no-conflicts --no-breaks \
		--no-replaces --no-enhances "${runtime_packages[@]}" 2>/dev/null | grep -v '^[ <]' | sort -u)
	for lib in $(ldd "$binary" | awk '$2 == "=>" && $3 ~ /^\// { print $3 }'); do
		# dpkg knows a file by the path its package ships it under: /lib or /usr/lib.
		real=$(readlink -f "$lib")
		package=$(dpkg -S "$real" "$(dirname "$lib")/$(basename "$real")" 2>/dev/null | head -n 1 | cut -d: -f1)
		if [ -z "$package" ]; then
			fail "$lib belongs to no Debian package here"
		elif ! grep -qx "$package" <<< "$closure"; then
			fail "the binary needs $lib ($package), which the runtime stage does not install"
		fi
	done
}

# --- main -----------------------------------------------------------------

run_test test_node_dependencies_install
run_test test_kustomize_renders
run_test test_manifests_are_valid
run_test test_optional_manifests_are_valid
run_test test_print_capabilities
run_test test_print_config
run_test test_validator_rejects_broken_copies
run_test test_readme_sed_sets_the_image
run_test test_readme_overlay_renders
run_test test_collect_identities_writes_the_mounted_configmap
run_test test_older_kubectl_renders_the_same
run_test test_dockerfile_is_multi_stage
run_test test_dockerfile_runtime_is_unprivileged
run_test test_dockerfile_packages_exist_in_debian
run_test test_dockerfile_installs_the_makefile_build_packages
run_test test_dockerfile_checks_reject_broken_copies
run_test test_image_binary_builds_from_the_context

if [ "$TESTS_SKIPPED" -gt 0 ]; then
	echo "$SUITE: $TESTS_SKIPPED skipped"
fi
echo "$SUITE: $TESTS_PASSED passed, $TESTS_FAILED failed"
[ "$TESTS_FAILED" = 0 ]
