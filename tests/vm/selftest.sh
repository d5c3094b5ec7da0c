#!/bin/bash
# Shows that tests/vm works: boots every kernel that tests/vm/fetch-kernels.sh
# fetched and, in each, checks the environment that tests will rely on.
#
#   tests/vm/selftest.sh [KERNELS_DIR]     default build/vm/kernels
#
# In the guest: the kernel's release, pure cgroup v2 at /sys/fs/cgroup, bpffs
# and tracefs, the host's bpftool probing the guest kernel, a network
# namespace made and removed, python3 and curl from the host, a --sysctl
# applied, writes to the checkout staying in the guest, and a file written to
# VM_OUT, which the host then reads. Prints each kernel's boot time (qemu start
# to command start) and the total wall time; ends with "N passed, N failed".

set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
KERNELS=${1:-$ROOT/build/vm/kernels}
BOOT=$ROOT/tests/vm/boot.sh

TMP=$(mktemp -d "${TMPDIR:-/tmp}/vm-selftest.XXXXXX")
trap 'rm -rf "$TMP"' EXIT

# Runs in the guest (bash), in the checkout. Prints "ok ..." or "FAIL ..." per
# check and exits with the number of failures.
# shellcheck disable=SC2016 # expanded in the guest
GUEST='
fails=0
check() {
	local what=$1
	shift
	if out=$("$@" 2>&1); then
		echo "  ok   $what${out:+: $out}"
	else
		echo "  FAIL $what: $(echo "$out" | tail -n 3 | tr "\n" " ")"
		fails=$((fails + 1))
	fi
}
check "release $VM_RELEASE" test "$(uname -r)" = "$VM_RELEASE"
check "cgroup2 at /sys/fs/cgroup" sh -c "test \"\$(stat -fc %T /sys/fs/cgroup)\" = cgroup2fs && echo \$(cat /sys/fs/cgroup/cgroup.subtree_control)"
check "no cgroup v1 mounted" sh -c "! grep \" cgroup \" /proc/mounts"
check "bpffs at /sys/fs/bpf" test "$(stat -fc %T /sys/fs/bpf)" = bpf_fs
check "tracefs at /sys/kernel/tracing" test -e /sys/kernel/tracing/available_events
check "BTF at /sys/kernel/btf/vmlinux" test -s /sys/kernel/btf/vmlinux
check "kernel config at /boot/config-$VM_RELEASE" grep -c "^CONFIG_" "/boot/config-$VM_RELEASE"
check "bpftool feature probe kernel" sh -c "bpftool feature probe kernel >/tmp/probe 2>&1 && echo \$(grep -c \"is available\" /tmp/probe) features available"
check "ip netns add/del" sh -c "ip netns add x && ip -n x link set lo up && ip netns del x"
check "python3" python3 -c "import sys; print(sys.version.split()[0])"
check "curl" sh -c "curl --version | head -n1 | cut -d\" \" -f1-2"
check "sysctl kernel.bpf_stats_enabled=1 applied" test "$(cat /proc/sys/kernel/bpf_stats_enabled)" = 1
check "kernel.unprivileged_bpf_disabled" cat /proc/sys/kernel/unprivileged_bpf_disabled
check "hostname" hostname
check "no network device but lo" sh -c "test \"\$(ls /sys/class/net)\" = lo"
check "checkout writable in the guest only" sh -c "touch .vm-selftest-probe && test -e .vm-selftest-probe"
check "cwd is the caller'"'"'s" test "$PWD" = "$EXPECT_CWD"
check "write to VM_OUT" sh -c "uname -r >\"\$VM_OUT/release\""
exit $fails
'

passed=0
failed=0
T0=$(date +%s.%N)
summary=()
# Oldest kernel first.
for kdir in $(for r in "$KERNELS"/*/release; do [ -f "$r" ] && echo "$(cat "$r") ${r%/release}"; done |
	sort -V | cut -d' ' -f2); do
	name=$(basename "$kdir")
	release=$(cat "$kdir/release")
	out=$TMP/out-$name
	mkdir -p "$out"
	echo "== $name ($release)"
	t0=$(date +%s.%N)
	rc=0
	(cd "$ROOT" && "$BOOT" --timeout 120 --out "$out" --sysctl kernel.bpf_stats_enabled=1 \
		--env EXPECT_CWD="$ROOT" "$kdir" -- bash -c "$GUEST") 2> >(tee "$TMP/err-$name" >&2) || rc=$?
	t1=$(date +%s.%N)
	wall=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }')
	boot=$(sed -n 's/.*command started \([0-9.]*\) s after qemu.*/\1/p' "$TMP/err-$name")
	# What the guest wrote in VM_OUT is here; what it wrote in the checkout is not.
	host=ok
	[ "$(cat "$out/release" 2>/dev/null)" = "$release" ] || host="FAIL: no $out/release from the guest"
	[ ! -e "$ROOT/.vm-selftest-probe" ] || host="FAIL: the guest's write reached the host's checkout"
	echo "  host: VM_OUT/release ${host}"
	if [ "$rc" = 0 ] && [ "$host" = ok ]; then
		passed=$((passed + 1))
		result=passed
	else
		failed=$((failed + 1))
		result="FAILED (exit $rc)"
	fi
	summary+=("$(printf '%-10s %-22s boot %5s s  run %5s s  %s' "$name" "$release" "${boot:-?}" "$wall" "$result")")
done
T1=$(date +%s.%N)
[ $((passed + failed)) -gt 0 ] || { echo "no kernels in $KERNELS: run tests/vm/fetch-kernels.sh" >&2; exit 1; }
echo
echo "kernel     release                boot: qemu start to command; run: whole boot.sh"
printf '%s\n' "${summary[@]}"
echo "total wall time $(awk -v a="$T0" -v b="$T1" 'BEGIN { printf "%.1f", b - a }') s"
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
