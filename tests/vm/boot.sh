#!/bin/bash
# Boots another kernel in qemu and runs a command in it, against this host's
# own userland.
#
#   tests/vm/boot.sh [options] KERNEL_DIR -- COMMAND [ARG...]
#
# KERNEL_DIR is one of tests/vm/fetch-kernels.sh's (build/vm/kernels/bookworm).
# The guest mounts this host's / read-only over 9p with a tmpfs overlay on top,
# so every host program is there at its own path, the checkout too (writes
# stay in the guest). It gets /proc, /sys, /dev, pure cgroup v2, bpffs,
# tracefs, debugfs, tmpfs /tmp and /run, lo up, a hostname and no network
# device at all, then runs COMMAND as root in the caller's working directory.
#
# COMMAND's stdout and stderr stream to ours (over two serial ports of their
# own: kernel messages stay on the console), and its exit status is ours.
#
# Options:
#   --timeout SECONDS    COMMAND's time limit in the guest (default 300); the
#                        host kills qemu if the guest is not done BOOT_GRACE
#                        (120, VM_BOOT_GRACE) seconds after that
#   --out DIR            an existing host directory, shared writable with the
#                        guest at /vmout ($VM_OUT); default a scratch one
#   --sysctl KEY=VALUE   set before COMMAND (repeatable); kernel defaults
#                        otherwise
#   --env NAME[=VALUE]   pass a variable to COMMAND (repeatable; NAME alone
#                        passes ours). COMMAND gets PATH, HOME=/root,
#                        VM_OUT, VM_KERNEL (the suite), VM_RELEASE and these.
#   --append ARGS        more kernel command line
#   --console FILE       keep the guest's console (kernel messages) in FILE
#   --verbose            kernel messages at every level, streamed to stderr
#   --bzimage            boot vmlinuz, not vmlinux (see below)
#   --quiet              no "vm[...]:" lines of our own, but errors
#   --mem MB, --smp N    guest size (default 2048, 2)
#
# Exit status: COMMAND's; 124 when it ran out of time in the guest; 125 when
# the guest failed (panic, hang, setup error), with one line saying so and the
# tail of the console; 2 for a usage error.
#
# The kernel booted is KERNEL_DIR/vmlinux when there is one: qemu starts it
# at its PVH entry, skipping the 4-5 s that decompressing vmlinuz takes under
# TCG. The kernel then runs at its link address (no KASLR) and skips the
# real-mode setup; --bzimage boots vmlinuz the usual way.
#
# TCG only, never KVM: /dev/kvm on our machines cannot run a guest kernel (see
# shared KERNEL-HOOKS.md, "Other kernels").

set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
TIMEOUT=300
BOOT_GRACE=${VM_BOOT_GRACE:-120}
OUT=""
SYSCTLS=""
ENVS=()
APPEND=""
CONSOLE=""
VERBOSE=0
BZIMAGE=0
QUIET=0
MEM=2048
SMP=2

usage() {
	sed -n '2,/^$/{s/^# \{0,1\}//;p}' "${BASH_SOURCE[0]}" >&2
	exit 2
}
die() {
	echo "boot.sh: $*" >&2
	exit 2
}

while [ $# -gt 0 ]; do
	case $1 in
	--timeout) TIMEOUT=${2:?}; shift 2 ;;
	--out) OUT=${2:?}; shift 2 ;;
	--sysctl) SYSCTLS+="${2:?}"$'\n'; shift 2 ;;
	--env) ENVS+=("${2:?}"); shift 2 ;;
	--append) APPEND+=" ${2:?}"; shift 2 ;;
	--console) CONSOLE=${2:?}; shift 2 ;;
	--verbose) VERBOSE=1; shift ;;
	--bzimage) BZIMAGE=1; shift ;;
	--quiet) QUIET=1; shift ;;
	--mem) MEM=${2:?}; shift 2 ;;
	--smp) SMP=${2:?}; shift 2 ;;
	-h | --help) usage ;;
	--) die "KERNEL_DIR missing before --" ;;
	-*) die "unknown option $1" ;;
	*) break ;;
	esac
done
if [ $# -lt 3 ] || [ "$2" != -- ]; then
	usage
fi
KDIR=$(cd "$1" 2>/dev/null && pwd) || die "no kernel directory $1"
shift 2
[[ $TIMEOUT =~ ^[1-9][0-9]*$ ]] || die "--timeout takes whole seconds, 1 or more"
[ -z "$OUT" ] || [ -d "$OUT" ] || die "--out $OUT: no such directory (create it first)"
[ -z "$OUT" ] || OUT=$(cd "$OUT" && pwd)
while IFS= read -r s; do
	[ -z "$s" ] || [[ $s =~ ^[a-zA-Z0-9_.-]+=[^\'\\]*$ ]] || die "--sysctl $s: want KEY=VALUE"
done <<<"$SYSCTLS"
for f in vmlinuz release config modules.order; do
	[ -f "$KDIR/$f" ] || die "$KDIR has no $f (run tests/vm/fetch-kernels.sh)"
done
for tool in qemu-system-x86_64 busybox; do
	command -v "$tool" >/dev/null || die "missing $tool (make deps installs qemu-system-x86, busybox-static)"
done
BUSYBOX=$(command -v busybox)
# The guest's stage 1 has only busybox: it must not need a libc.
case $(ldd "$BUSYBOX" 2>&1 || true) in
*"not a dynamic"*) ;;
*) die "$BUSYBOX is not static (package busybox-static)" ;;
esac

KERNEL=$KDIR/vmlinux
[ "$BZIMAGE" = 0 ] && [ -f "$KERNEL" ] || KERNEL=$KDIR/vmlinuz
NAME=$(basename "$KDIR")
RELEASE=$(cat "$KDIR/release")
say() { [ "$QUIET" = 1 ] || echo "vm[$NAME]: $*" >&2; }
# A guest failure: one line naming the kernel, then the console's tail.
guest_failed() {
	echo "vm[$NAME]: $RELEASE: $*" >&2
	if [ -s "$TMP/console.log" ]; then
		echo "vm[$NAME]: last console lines:" >&2
		tail -n 25 "$TMP/console.log" | tr -d '\r' | sed 's/^/  | /' >&2
	fi
	exit 125
}

# --- Scratch space, cleaned whatever happens ---------------------------------

TMP=$(mktemp -d "${TMPDIR:-/tmp}/vm-boot.XXXXXX")
PIDS=()
# shellcheck disable=SC2317 # called by the trap
cleanup() {
	local pid
	for pid in "${PIDS[@]}"; do
		kill "$pid" 2>/dev/null || true
	done
	# Readers still blocked opening a FIFO (qemu never started) let go.
	for f in "$TMP"/*.fifo; do
		[ -p "$f" ] && { exec 3<>"$f"; exec 3>&-; }
	done 2>/dev/null
	wait 2>/dev/null || true
	[ -z "$CONSOLE" ] || [ ! -f "$TMP/console.log" ] || cp "$TMP/console.log" "$CONSOLE"
	rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
mkdir "$TMP/ctl"
[ -n "$OUT" ] || { OUT=$TMP/out; mkdir "$OUT"; }

# --- The initramfs, cached beside the kernel ---------------------------------

# Rebuilt when init.sh, busybox or the modules change. Built in a scratch
# directory and renamed into place: two boots at once do not see half of one.
initramfs() {
	local key cached stage m
	key=$(cat "$HERE/init.sh" "$BUSYBOX" "$KDIR/config" "$KDIR/modules.order" "$KDIR"/modules/*.ko 2>/dev/null |
		sha256sum | cut -c1-16)
	cached=$KDIR/initramfs-$key.cpio
	if [ ! -f "$cached" ]; then
		stage=$TMP/initramfs
		mkdir -p "$stage/bin" "$stage/modules" "$stage/proc" "$stage/sys" "$stage/dev"
		cp "$BUSYBOX" "$stage/bin/busybox"
		ln -s busybox "$stage/bin/sh"
		cp "$HERE/init.sh" "$stage/init"
		chmod 0755 "$stage/init"
		cp "$KDIR/modules.order" "$KDIR/config" "$stage/"
		while read -r m; do
			cp "$KDIR/modules/$m" "$stage/modules/"
		done <"$KDIR/modules.order"
		# Uncompressed: the kernel unpacks it faster than it would inflate it.
		(cd "$stage" && find . | LC_ALL=C sort | busybox cpio -o -H newc -R 0:0 2>/dev/null) \
			>"$TMP/initramfs.cpio"
		rm -rf "$stage"
		# Kept beside the kernel when we may write there; older ones go.
		if mv "$TMP/initramfs.cpio" "$cached" 2>/dev/null; then
			for m in "$KDIR"/initramfs-*.cpio; do
				[ "$m" = "$cached" ] || rm -f "$m"
			done
		else
			cached=$TMP/initramfs.cpio
		fi
	fi
	echo "$cached"
}
INITRD=$(initramfs)

# --- What the guest is told --------------------------------------------------

# Single-quoted for the guest's busybox sh.
sq() { printf "'%s'" "${1//\'/\'\\\'\'}"; }
CWD=$(pwd)
TMPFS=yes
case $CWD/ in /tmp/*) TMPFS=no ;; esac
{
	echo "VM_NAME=$(sq "$NAME")"
	echo "VM_HOSTNAME=$(sq "vm-$NAME")"
	echo "VM_TIMEOUT=$TIMEOUT"
	echo "VM_TMPFS=$TMPFS"
	echo "VM_SYSCTLS=$(sq "$SYSCTLS")"
} >"$TMP/ctl/settings"
# The command, for the host's bash in the guest: printf %q quotes for bash.
{
	echo "cd -- $(printf %q "$CWD") || exit 125"
	echo "export HOME=/root VM_OUT=/vmout VM_KERNEL=$(printf %q "$NAME") VM_RELEASE=$(printf %q "$RELEASE")"
	for e in "${ENVS[@]}"; do
		case $e in
		*=*) echo "export $(printf %q "${e%%=*}")=$(printf %q "${e#*=}")" ;;
		*) [ -z "${!e+x}" ] || echo "export $(printf %q "$e")=$(printf %q "${!e}")" ;;
		esac
	done
	printf 'exec'
	printf ' %q' "$@"
	echo
} >"$TMP/ctl/cmd.sh"

# --- qemu ----------------------------------------------------------------------

# The command's stdout and stderr arrive on FIFOs; cat copies them to ours as
# they come. (A qemu "file" chardev on our own stdout would truncate it if it
# were a file, and a "stdio" one would take the terminal over.)
mkfifo "$TMP/out.fifo" "$TMP/err.fifo"
cat "$TMP/out.fifo" &
PIDS+=($!)
cat "$TMP/err.fifo" >&2 &
PIDS+=($!)

LOGLEVEL=4
[ "$VERBOSE" = 0 ] || LOGLEVEL=8
: >"$TMP/console.log"
# -nodefaults: no VGA, no default NIC, no default serial or monitor; what the
# guest has is listed here. No network device at all: nothing leaves the
# guest. Three serial ports: ttyS0 the console (kernel messages), ttyS1 and
# ttyS2 the command's stdout and stderr. Three 9p shares: the host's root
# (read-only; multidevs=remap keeps inode numbers of different host
# filesystems apart), the control directory and the result directory.
# shellcheck disable=SC2054 # qemu's commas
QEMU=(
	qemu-system-x86_64 -accel tcg,thread=single -cpu max -smp "$SMP" -m "$MEM"
	-nodefaults -no-user-config -display none -no-reboot -nic none
	-kernel "$KERNEL" -initrd "$INITRD"
	-append "console=ttyS0 panic=-1 loglevel=$LOGLEVEL cgroup_no_v1=all random.trust_cpu=on 8250.nr_uarts=4$APPEND"
	-chardev "file,id=con,path=$TMP/console.log" -serial chardev:con
	-chardev "file,id=out,path=$TMP/out.fifo" -serial chardev:out
	-chardev "file,id=err,path=$TMP/err.fifo" -serial chardev:err
	-fsdev "local,id=hostroot,path=/,security_model=none,readonly=on,multidevs=remap"
	-device virtio-9p-pci,fsdev=hostroot,mount_tag=hostroot
	-fsdev "local,id=vmctl,path=$TMP/ctl,security_model=none"
	-device virtio-9p-pci,fsdev=vmctl,mount_tag=vmctl
	-fsdev "local,id=vmout,path=$OUT,security_model=none,multidevs=remap"
	-device virtio-9p-pci,fsdev=vmout,mount_tag=vmout
)
LIMIT=$((TIMEOUT + BOOT_GRACE))
T0=$(date +%s.%N)
timeout --kill-after=5 "$LIMIT" "${QEMU[@]}" </dev/null >"$TMP/qemu.log" 2>&1 &
QEMU_PID=$!
PIDS+=("$QEMU_PID")
TAIL_PID=""
if [ "$VERBOSE" = 1 ]; then
	tail -n +1 -f --pid="$QEMU_PID" "$TMP/console.log" | tr -d '\r' | sed -u 's/^/  | /' >&2 &
	TAIL_PID=$!
	PIDS+=("$TAIL_PID")
fi
# Says when the command starts: boot time, and the BPF sysctl it runs under.
(
	while [ ! -e "$TMP/ctl/started" ]; do
		kill -0 "$QEMU_PID" 2>/dev/null || exit 0
		sleep 0.1
	done
	sleep 0.1
	T1=$(date +%s.%N)
	got() { sed -n "s/^$1=//p" "$TMP/ctl/started"; }
	say "$(got release): command started $(awk -v a="$T0" -v b="$T1" 'BEGIN { printf "%.1f", b - a }') s" \
		"after qemu (guest uptime $(got uptime) s);" \
		"kernel.unprivileged_bpf_disabled=$(got unprivileged_bpf_disabled)"
) &
PIDS+=($!)

QEMU_RC=0
wait "$QEMU_PID" || QEMU_RC=$?
T2=$(date +%s.%N)
WALL=$(awk -v a="$T0" -v b="$T2" 'BEGIN { printf "%.1f", b - a }')
# Let the copies finish: qemu is gone, so the FIFOs reach their end.
for pid in "${PIDS[@]:0:2}" $TAIL_PID; do
	wait "$pid" 2>/dev/null || true
done

if [ -f "$TMP/ctl/status" ]; then
	read -r RC ELAPSED <"$TMP/ctl/status"
	if [ "$RC" = 124 ] || { [ "$RC" = 137 ] && awk -v e="$ELAPSED" -v t="$TIMEOUT" 'BEGIN { exit !(e >= t) }'; }; then
		echo "vm[$NAME]: $RELEASE: the command timed out after $TIMEOUT s" >&2
		exit 124
	fi
	say "$RELEASE: exit $RC after $ELAPSED s; $WALL s in all"
	exit "$RC"
fi
[ ! -s "$TMP/ctl/error" ] || guest_failed "guest setup failed: $(head -n1 "$TMP/ctl/error")"
if [ "$QEMU_RC" = 124 ] || [ "$QEMU_RC" = 137 ]; then
	guest_failed "the guest hung: no result after $LIMIT s (--timeout $TIMEOUT + $BOOT_GRACE s to boot)"
fi
PANIC=$(grep -a -m1 'Kernel panic' "$TMP/console.log" | tr -d '\r' || true)
[ -z "$PANIC" ] || guest_failed "kernel panic: ${PANIC#*\] }"
[ "$QEMU_RC" = 0 ] || guest_failed "qemu failed (exit $QEMU_RC): $(head -n1 "$TMP/qemu.log")"
guest_failed "the guest stopped without a result after $WALL s"
