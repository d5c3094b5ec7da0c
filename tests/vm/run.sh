#!/bin/bash
# The kernel matrix: the monitor on every kernel Debian's archive offers, in
# qemu, against the host.
#
#   tests/vm/run.sh smoke|full [SUITE...]     SUITE: bullseye bookworm trixie
#
# Fetches the kernels (tests/vm/fetch-kernels.sh), runs the smoke on the host for
# reference, then boots each kernel and runs tests/vm/guest.sh in it. Checks,
# per kernel: its suites passed, and the records of the smoke are the host's
# (tests/e2e/test_smoke.sh, SMOKE_OUT). Writes build/vm/results/<mode>/matrix.md,
# a table of kernel against feature, and ends with "vm: N passed, N failed".
#
# VM_TIMEOUT: seconds a guest may run (default 600 smoke, 5400 full). VM_JOBS:
# guests at a time (default: the host's CPUs).
set -u
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$ROOT"
BUILD=${BUILD:-build}
mode=${1:-smoke}
shift
case "$mode" in
smoke) timeout=${VM_TIMEOUT:-600} ;;
full) timeout=${VM_TIMEOUT:-5400} ;;
*)
	echo "usage: tests/vm/run.sh smoke|full [SUITE...]" >&2
	exit 2
	;;
esac
KERNELS=$BUILD/vm/kernels
RESULTS=$BUILD/vm/results/$mode
passed=0
failed=0

check() { # check OK WHAT
	if [ "$1" = 0 ]; then
		passed=$((passed + 1))
		echo "  PASS vm: $2"
	else
		failed=$((failed + 1))
		echo "  FAIL vm: $2"
	fi
}

# A Debian mirror that cannot be reached is not the monitor's failure, but the
# matrix did not run: that fails, loudly.
mkdir -p "$BUILD/vm"
tests/vm/fetch-kernels.sh "$KERNELS" > "$BUILD/vm/fetch.log" 2>&1
rc=$?
if [ "$rc" != 0 ]; then
	grep -E 'UNREACHABLE|error|failed' "$BUILD/vm/fetch.log" | head -n 5
	check 1 "fetching the kernels (tests/vm/fetch-kernels.sh exit $rc; $BUILD/vm/fetch.log)"
fi
suites=("$@")
if [ ${#suites[@]} = 0 ]; then
	for dir in "$KERNELS"/*/; do
		[ -f "$dir/release" ] && suites+=("$(basename "$dir")")
	done
fi
rm -rf "$RESULTS"
mkdir -p "$RESULTS/host"

echo "host $(uname -r): the smoke, for reference"
SMOKE_OUT="$RESULTS/host/smoke" BUILD=$BUILD bash tests/e2e/test_smoke.sh > "$RESULTS/host/smoke.log" 2>&1
grep -q '^smoke: [0-9]* passed, 0 failed$' "$RESULTS/host/smoke.log"
check $? "the smoke on the host's $(uname -r)"

# One kernel: boots it and runs the guest's suites; its exit status into $out/rc.
boot_one() {
	local suite=$1 out="$RESULTS/$1"
	mkdir -p "$out"
	tests/vm/boot.sh --quiet --timeout "$timeout" --out "$out" --env BUILD="$BUILD" \
		--console "$out/console.log" "$KERNELS/$suite" -- bash tests/vm/guest.sh "$mode" \
		> "$out/guest.log" 2>&1
	echo $? > "$out/rc"
}

# VM_JOBS kernels at a time (default: one a host CPU; each guest runs its CPUs in
# turn on one host thread), then each kernel's results in order.
jobs=${VM_JOBS:-$(nproc)}
running=0
for suite in "${suites[@]}"; do
	echo "$suite $(cat "$KERNELS/$suite/release" 2>/dev/null || echo "?"): $mode"
	boot_one "$suite" &
	running=$((running + 1))
	if [ "$running" -ge "$jobs" ]; then
		wait -n
		running=$((running - 1))
	fi
done
wait
for suite in "${suites[@]}"; do
	out="$RESULTS/$suite"
	release=$(cat "$KERNELS/$suite/release" 2>/dev/null || echo "?")
	rc=$(cat "$out/rc" 2>/dev/null || echo 125)
	echo "$suite $release:"
	sed 's/^/    /' "$out/guest.log"
	check "$rc" "$mode on $suite $release (exit $rc)"
	if diff -u "$RESULTS/host/smoke/records.txt" "$out/smoke/records.txt" > "$out/records.diff" 2>&1; then
		check 0 "the smoke's records on $suite are the host's"
	else
		sed 's/^/    /' "$out/records.diff" | head -n 30
		check 1 "the smoke's records on $suite are the host's"
	fi
done

# The table, kernel against feature: what the monitor said on each kernel, and
# which probe family's records its smoke produced (each a line of records.txt).
features=(
	"TCP connect, IPv4|am-connect -> 127.0.0.1:9/tcp"
	"TCP connect, IPv6|am-connect -> fd00::10:9/tcp"
	"UDP send|python3 -> 127.0.0.1:5353/udp"
	"IMDS token request and status|^http .*status=200 imds=identity-token"
	"DNS answer|^dns .* -> 127.77.0.10"
	"TLS server name|via=sni"
	"open(2)|am-open open "
	"openat(2)|am-open openat "
	"openat2(2)|am-open openat2 "
	"io_uring open|am-uring-open io_uring "
	"token rotated while user space stopped|cat openat service-account-token"
	"exec: a new process's executable|^connect smoke/client am-connect -> 127.0.0.1:10/"
	"a pod's cgroup made after start|^connect smoke/late "
	"repeat counts read after the drop|^connect-repeat "
	"watch set written after the drop|^open smoke/late cat openat secret-volume"
	"alerts (IMDS theft, azure.json read)|^alert imds-token-request"
)
dirs=("$RESULTS/host")
for suite in "${suites[@]}"; do dirs+=("$RESULTS/$suite"); done
row() { # row LABEL CELLS...
	local label=$1 cell
	shift
	printf '| %s |' "$label"
	for cell in "$@"; do printf ' %s |' "$cell"; done
	printf '\n'
}
said() { # said DIR PATTERN YES NO: from the monitor's stderr on that kernel
	if grep -q "$2" "$1/smoke/stderr.txt" 2>/dev/null; then echo "$3"; else echo "$4"; fi
}
{
	header=()
	for dir in "${dirs[@]}"; do
		header+=("$(sed -n 's/^accessmon: kernel \([^:]*\):.*/\1/p' "$dir/smoke/stderr.txt" 2>/dev/null | head -n 1)")
	done
	row "feature" "${header[@]}"
	row "---" "${header[@]/*/---}"
	cells=()
	for dir in "${dirs[@]}"; do
		cells+=("$(sed -n 's/.*: \([0-9]* of the [0-9]*\) probes it needs attached/\1/p' "$dir/smoke/stderr.txt" 2>/dev/null | head -n 1)")
	done
	row "probes attached" "${cells[@]}"
	cells=()
	for dir in "${dirs[@]}"; do cells+=("$(said "$dir" "opens seen by the syscalls" "syscall tracepoints" "raw sys_exit")"); done
	row "opens seen by" "${cells[@]}"
	cells=()
	for dir in "${dirs[@]}"; do cells+=("$(said "$dir" "and CAP_BPF: " "CAP_DAC_READ_SEARCH, CAP_BPF" "CAP_DAC_READ_SEARCH")"); done
	row "kept after attach" "${cells[@]}"
	cells=()
	for dir in "${dirs[@]}"; do
		blind=$(sed -n 's/^degraded //p' "$dir/smoke/degraded.txt" 2>/dev/null | paste -sd, | sed 's/,/, /g')
		cells+=("${blind:-nothing}")
	done
	row "blind to (monitor-degraded)" "${cells[@]}"
	for feature in "${features[@]}"; do
		cells=()
		for dir in "${dirs[@]}"; do
			if grep -Eq -- "${feature#*|}" "$dir/smoke/records.txt" 2>/dev/null; then cells+=(yes); else cells+=(NO); fi
		done
		row "${feature%%|*}" "${cells[@]}"
	done
	cells=()
	for dir in "${dirs[@]}"; do
		cells+=("$(grep -q "PASS smoke: test_map_access_when_unprivileged_bpf_is_disabled" "$dir"/smoke.log 2>/dev/null && echo yes || echo NO)")
	done
	row "maps with unprivileged_bpf_disabled=2 (raised after the drop: said)" "${cells[@]}"
	cells=()
	for dir in "${dirs[@]}"; do
		if [ "$dir" = "$RESULTS/host" ]; then
			cells+=("$(sed -n 's/^smoke: \(.*\)$/\1/p' "$dir/smoke.log" | tail -n 1)")
		else
			cells+=("$(grep -E '^[a-z]+: [0-9]+ passed' "$dir/guest.log" | awk '{p += $2; f += $4} END {print p " passed, " f " failed"}')")
		fi
	done
	row "$mode tests" "${cells[@]}"
} > "$RESULTS/matrix.md"
cat "$RESULTS/matrix.md"
echo "vm: $passed passed, $failed failed"
[ "$failed" = 0 ]
