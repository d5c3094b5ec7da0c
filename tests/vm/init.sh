#!/bin/sh
# The guest's /init (busybox sh), put in the initramfs by tests/vm/boot.sh with
# a static busybox and the kernel's modules (tests/vm/fetch-kernels.sh).
#
# Stage 1, PID 1 in the initramfs: load the modules, mount the host's root
# (9p, read-only) under a writable overlay, give it what a node has (/proc,
# /sys, /dev, cgroup v2, bpffs, tracefs, tmpfs /tmp and /run, loopback, a
# hostname), apply the caller's sysctls, and switch_root into it.
#
# Stage 2, `init run`, PID 1 in the host's root: run the command with its
# output on ttyS1 and ttyS2 (the host's stdout and stderr; the kernel's
# messages stay on ttyS0), leave its exit status in the control share, and
# power off.
#
# boot.sh talks to us through the control share (9p tag vmctl, at /run/vm/ctl
# in the new root): `settings` (sourced: VM_NAME, VM_HOSTNAME, VM_TIMEOUT,
# VM_SYSCTLS, VM_TMPFS), `cmd.sh` (the command, run by the host's bash). We
# answer in it with `started` (uptime when the command starts, and the sysctls
# in force), `status` ("EXIT SECONDS") or `error` (why the guest gave up).
#
# Not bash: busybox ash, since stage 1 has nothing else.

BB=/bin/busybox
CTL=/newroot/run/vm/ctl

log() { echo "vm-init: $*" >/dev/console; }

# Leaves a reason for boot.sh when the control share is there, and powers off.
fail() {
	log "FAILED: $*"
	[ -d "$CTL" ] && echo "$*" >"$CTL/error"
	$BB sync
	$BB poweroff -f
	sleep 60
}

# 9p msize: bigger messages, far fewer round trips through the emulated
# virtqueue. 256 KiB is under every kernel's virtio limit (5.10's is ~500 KiB).
P9="trans=virtio,version=9p2000.L,msize=262144"

stage1() {
	PATH=/bin
	$BB --install -s /bin
	mount -t proc proc /proc
	mount -t sysfs sysfs /sys
	mount -t devtmpfs devtmpfs /dev
	# The initramfs has no /dev/console node: the kernel started us with no
	# stdio. devtmpfs has one.
	exec </dev/console >/dev/console 2>&1

	while read -r m; do
		insmod "/modules/$m" || fail "insmod $m failed"
	done </modules.order

	# The host's / read-only; writes land in a tmpfs above it. cache=loose:
	# the guest keeps what it read (the tree does not change under a test);
	# host programs start 2-3 times faster than with cache=none (6.1: python3
	# 1.1 s rather than 3.1 s the first time, 0.4 s rather than 0.7 s after).
	mkdir -p /lower /upper /newroot
	mount -t 9p -o "$P9,cache=loose,ro" hostroot /lower || fail "cannot mount the host's root (9p)"
	mount -t tmpfs -o mode=0755 tmpfs /upper
	mkdir /upper/data /upper/work
	mount -t overlay overlay -o lowerdir=/lower,upperdir=/upper/data,workdir=/upper/work /newroot ||
		fail "cannot mount the overlay on the host's root"

	# /run first: the control share lives in it.
	mount -t tmpfs -o mode=0755,nosuid,nodev tmpfs /newroot/run
	mkdir -p /newroot/run/vm/ctl
	mount -t 9p -o "$P9,cache=none" vmctl "$CTL" || fail "cannot mount the control share"
	[ -r "$CTL/settings" ] || fail "no settings in the control share"
	. "$CTL/settings"
	cp $BB /init /newroot/run/vm/

	# What a node has.
	for d in proc sys dev; do
		mount --move "/$d" "/newroot/$d"
	done
	R=/newroot
	mkdir -p $R/dev/pts $R/dev/shm
	mount -t devpts -o gid=5,mode=620,ptmxmode=666 devpts $R/dev/pts
	mount -t tmpfs -o mode=1777,nosuid,nodev tmpfs $R/dev/shm
	# What udev and systemd would add: bash's process substitution needs /dev/fd.
	ln -sf /proc/self/fd $R/dev/fd
	ln -sf /proc/self/fd/0 $R/dev/stdin
	ln -sf /proc/self/fd/1 $R/dev/stdout
	ln -sf /proc/self/fd/2 $R/dev/stderr
	# Pure cgroup v2 (cgroup_no_v1=all on the command line), as systemd mounts
	# it, with every controller enabled for children as on a node.
	mount -t cgroup2 -o nsdelegate,memory_recursiveprot cgroup2 $R/sys/fs/cgroup 2>/dev/null ||
		mount -t cgroup2 cgroup2 $R/sys/fs/cgroup || fail "cannot mount cgroup2"
	for c in $(cat $R/sys/fs/cgroup/cgroup.controllers); do
		echo "+$c" >$R/sys/fs/cgroup/cgroup.subtree_control 2>/dev/null || log "controller $c not enabled"
	done
	mount -t bpf bpf $R/sys/fs/bpf || fail "cannot mount bpffs"
	[ -d $R/sys/kernel/tracing ] && mount -t tracefs tracefs $R/sys/kernel/tracing
	[ -d $R/sys/kernel/debug ] && mount -t debugfs debugfs $R/sys/kernel/debug
	[ -d $R/sys/kernel/security ] && mount -t securityfs securityfs $R/sys/kernel/security
	# /tmp as tmpfs, unless the caller works under /tmp on the host (it would
	# hide the checkout): then /tmp stays the host's, writable in the overlay.
	[ "$VM_TMPFS" = no ] || mount -t tmpfs -o mode=1777,nosuid,nodev tmpfs $R/tmp
	# The kernel's config where bpftool and libbpf (__kconfig) look for it.
	mkdir -p $R/boot
	cp /config "$R/boot/config-$(uname -r)"
	mkdir -p $R/vmout
	mount -t 9p -o "$P9,cache=none" vmout $R/vmout || fail "cannot mount the result share"

	hostname "$VM_HOSTNAME"
	ip link set lo up || fail "cannot bring lo up"
	# The kernel's defaults, but for what the caller asked (KEY=VALUE lines).
	echo "$VM_SYSCTLS" | while IFS='=' read -r key value; do
		[ -n "$key" ] || continue
		f=$R/proc/sys/$(echo "$key" | tr . /)
		echo "$value" >"$f" 2>/dev/null || { echo "sysctl $key=$value: cannot write $f" >"$CTL/error"; break; }
		log "sysctl $key=$(cat "$f")"
	done
	[ -e "$CTL/error" ] && fail "$(cat "$CTL/error")"

	exec switch_root /newroot /run/vm/busybox sh /run/vm/init run
	fail "switch_root failed"
}

stage2() {
	BB=/run/vm/busybox
	CTL=/run/vm/ctl
	. $CTL/settings
	# Raw ttys: no \n -> \r\n, no echo; bytes go out as the command wrote them.
	for t in ttyS1 ttyS2; do
		$BB stty -F /dev/$t raw -echo -echoe -echok 2>/dev/null || fail "cannot set up /dev/$t"
	done
	start=$($BB cut -d' ' -f1 /proc/uptime)
	{
		echo "uptime=$start"
		echo "release=$($BB uname -r)"
		echo "unprivileged_bpf_disabled=$($BB cat /proc/sys/kernel/unprivileged_bpf_disabled 2>/dev/null || echo none)"
	} >$CTL/started.tmp
	$BB mv $CTL/started.tmp $CTL/started
	# A clean environment (the kernel gives PID 1 some of its own), the host's
	# programs, and the time limit: SIGTERM at VM_TIMEOUT, SIGKILL 10 s later.
	# coreutils' timeout puts the command in a process group of its own and
	# signals all of it.
	$BB env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
		/usr/bin/timeout --kill-after=10 "$VM_TIMEOUT" /bin/bash $CTL/cmd.sh \
		</dev/null >/dev/ttyS1 2>/dev/ttyS2
	rc=$?
	end=$($BB cut -d' ' -f1 /proc/uptime)
	elapsed=$($BB awk -v a="$start" -v b="$end" 'BEGIN { printf "%.1f", b - a }')
	echo "$rc $elapsed" >$CTL/status.tmp
	$BB mv $CTL/status.tmp $CTL/status
	$BB sync
	$BB umount /vmout 2>/dev/null
	$BB poweroff -f
	sleep 60
}

case "${1:-}" in
run) stage2 ;;
*) stage1 ;;
esac
