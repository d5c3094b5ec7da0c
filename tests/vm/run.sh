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
# VM_TIMEOUT: seconds a guest may run (default 600 smoke, 5400 full).
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

for suite in "${suites[@]}"; do
	out="$RESULTS/$suite"
	mkdir -p "$out"
	release=$(cat "$KERNELS/$suite/release" 2>/dev/null || echo "?")
	echo "$suite $release: $mode"
	tests/vm/boot.sh --quiet --timeout "$timeout" --out "$out" --env BUILD="$BUILD" \
		--console "$out/console.log" "$KERNELS/$suite" -- bash tests/vm/guest.sh "$mode" \
		> "$out/guest.log" 2>&1
	rc=$?
	sed 's/^/    /' "$out/guest.log"
	check "$rc" "$mode on $suite $release (exit $rc)"
	if diff -u "$RESULTS/host/smoke/records.txt" "$out/smoke/records.txt" > "$out/records.diff" 2>&1; then
		check 0 "the smoke's records on $suite are the host's"
	else
		sed 's/^/    /' "$out/records.diff" | head -n 30
		check 1 "the smoke's records on $suite are the host's"
	fi
done

# The table: what each kernel gave, from what the monitor said on it.
cell_probes() { sed -n 's/.*: \([0-9]* of the [0-9]*\) probes it needs attached/\1/p' "$1" | head -n 1; }
{
	echo "| kernel | probes attached | opens seen by | io_uring opens | kept after attach | blind to | $mode |"
	echo "|---|---|---|---|---|---|---|"
	for dir in "$RESULTS/host" "${suites[@]/#/$RESULTS/}"; do
		err="$dir/smoke/stderr.txt"
		[ -f "$err" ] || continue
		name=$(sed -n 's/^accessmon: kernel \([^:]*\):.*/\1/p' "$err" | head -n 1)
		hook="raw sys_exit"
		grep -q "opens seen by the syscalls" "$err" && hook="syscall tracepoints"
		uring=no
		grep -q " io_uring " "$dir/smoke/records.txt" 2>/dev/null && uring=yes
		kept=CAP_DAC_READ_SEARCH
		grep -q "and CAP_BPF: " "$err" && kept="CAP_DAC_READ_SEARCH, CAP_BPF"
		blind=$(paste -sd, "$dir/smoke/degraded.txt" | sed 's/degraded //g; s/,/, /g')
		if [ "$dir" = "$RESULTS/host" ]; then
			result=$(sed -n 's/^smoke: \(.*\)$/\1/p' "$dir/smoke.log" | tail -n 1)
		else
			result=$(grep -E '^[a-z]+: [0-9]+ passed' "$dir/guest.log" | awk '{p += $2; f += $4} END {print p " passed, " f " failed"}')
		fi
		echo "| $name | $(cell_probes "$err") | $hook | $uring | $kept | ${blind:-nothing} | $result |"
	done
} > "$RESULTS/matrix.md"
cat "$RESULTS/matrix.md"
echo "vm: $passed passed, $failed failed"
[ "$failed" = 0 ]
