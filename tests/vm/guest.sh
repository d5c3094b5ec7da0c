#!/bin/bash
# Runs in a guest of the kernel matrix (tests/vm/run.sh boots it): the
# end-to-end suites on this kernel, each suite's output in $VM_OUT/<suite>.log,
# the smoke's normalized records in $VM_OUT/smoke/.
#
#   tests/vm/guest.sh smoke|full
#
# smoke: tests/e2e/test_smoke.sh, one event per probe family.
# full:  the smoke and the suites that touch every probe: connects, UDP,
#        packets, the ring buffer's loss count and wakeups (foundation,
#        destinations), secret files and io_uring (secrets), volume control
#        (volume), detection end to end (detection), and the capability drop as
#        the DaemonSet runs it (run). The suites left out test the collector, not
#        the kernel (attribution, trace, faults, hostile, churn, soak): under
#        software emulation each test takes a minute (a jq takes 0.45 s, the
#        monitor 2-3 s to attach), and they would add hours.
#
# Prints "<suite>: N passed, N failed" per suite; exits non-zero if any failed.
set -u
cd "$(dirname "$0")/../.."
mode=${1:-smoke}
out=${VM_OUT:-/tmp/vm-out}
mkdir -p "$out"
case "$mode" in
smoke) suites="smoke" ;;
full) suites="smoke foundation secrets destinations volume detection run" ;;
*)
	echo "usage: tests/vm/guest.sh smoke|full" >&2
	exit 2
	;;
esac
status=0
for suite in $suites; do
	log="$out/$suite.log"
	SMOKE_OUT="$out/smoke" BUILD=${BUILD:-build} timeout 1800 bash "tests/e2e/test_$suite.sh" > "$log" 2>&1
	result=$(sed -n "s/^$suite: \([0-9]* passed, [0-9]* failed\)$/\1/p" "$log" | tail -n 1)
	echo "$suite: ${result:-0 passed, 1 failed}"
	case "$result" in
	*" 0 failed") ;;
	*)
		status=1
		grep -E '^ +FAIL' "$log" | head -n 20
		;;
	esac
done
exit $status
