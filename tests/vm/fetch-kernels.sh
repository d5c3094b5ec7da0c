#!/bin/bash
# Fetches Debian's standard amd64 kernels, for booting in qemu (tests/vm/boot.sh).
#
#   tests/vm/fetch-kernels.sh [DIR]        DIR defaults to build/vm/kernels
#
# For each suite it resolves the kernel that the suite's linux-image-amd64
# metapackage currently depends on, downloads that package and keeps only what
# a VM needs:
#
#   DIR/<suite>/vmlinuz        the kernel
#   DIR/<suite>/vmlinux        the same, uncompressed (ELF): qemu boots it
#                              through its PVH entry, without the 4-5 s that
#                              decompressing vmlinuz takes under TCG
#   DIR/<suite>/config         its /boot/config-*
#   DIR/<suite>/release        its release string (uname -r)
#   DIR/<suite>/modules/*.ko   the modules that mount a 9p share over virtio and
#                              an overlay, with their dependencies, uncompressed
#                              (the guest's busybox insmod reads only plain .ko)
#   DIR/<suite>/modules.order  the order in which to insmod them
#   DIR/<suite>/source         metapackage version, package, mirror (the cache key)
#
# Suites: bullseye (5.10), bookworm (6.1), and 6.12 from trixie, or from
# bookworm-backports when trixie is not reachable. VM_SUITES="bookworm ..."
# picks fewer. The standard flavour, never `cloud`: the cloud kernel has no 9p.
#
# apt-get runs with a configuration of its own under DIR/.apt/<suite>: its own
# sources.list, lists, cache and (empty) dpkg status, and none of the system's
# apt.conf.d (whose hooks, e.g. cache cleaners, must not run on our behalf). The
# system's apt sources and state are only read, to learn its Debian mirrors;
# packages are verified with the system's Debian archive keyring.
#
# Mirrors: the Debian and Debian-security URIs of the system's own sources, or
# VM_DEBIAN_MIRROR and VM_DEBIAN_SECURITY_MIRROR. Checked 2026-12: bullseye
# (LTS until 2026-08) is still on the main mirror, its last kernel updates in
# bullseye-security on the security mirror. Debian moves retired releases to
# its archive host (not reachable from our machines): when bullseye leaves the
# main mirror, set VM_DEBIAN_ARCHIVE_MIRROR to that archive's /debian URI (and
# VM_DEBIAN_ARCHIVE_SECURITY_MIRROR if its security archive is not the
# sibling /debian-security); it is tried after the main mirror.
#
# Idempotent: a suite whose metapackage version has not changed is left as it
# is (an `apt-get update` that finds nothing new takes a second or two).
#
# Exit status: 0 when every suite has a kernel; 1 on a usage or setup error;
# otherwise the sum of 2 (bullseye), 4 (bookworm), 8 (trixie / 6.12) for the
# suites that have none. Each failed suite is named on one line on stderr.

set -Eeuo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
DIR=${1:-$ROOT/build/vm/kernels}
SUITES=${VM_SUITES:-bullseye bookworm trixie}
KEYRING=/usr/share/keyrings/debian-archive-keyring.gpg
# What the guest's /init loads: 9p over virtio (the host's root and the result
# share) and overlay (a writable root over the read-only share). Their
# dependencies (virtio, virtio_ring, netfs, fscache, ...) are found by modprobe.
MODULES=${VM_MODULES:-virtio_pci 9pnet_virtio 9p overlay}

say() { printf 'fetch-kernels: %s\n' "$*" >&2; }
die() { say "$*"; exit 1; }

for tool in apt-get apt-cache dpkg-deb depmod modprobe xz zstd flock; do
	command -v "$tool" >/dev/null || die "missing $tool (make deps installs kmod, xz-utils, zstd)"
done
[ -r "$KEYRING" ] || die "missing $KEYRING (package debian-archive-keyring)"

mkdir -p "$DIR"
DIR=$(cd "$DIR" && pwd)
# Two fetches at once (make -j, two terminals) would share the apt state.
exec 9>"$DIR/.lock"
flock 9

TMP=$(mktemp -d "$DIR/.tmp.XXXXXX")
trap 'rm -rf "$TMP"' EXIT
trap 'exit 130' INT TERM

# --- Mirrors ----------------------------------------------------------------

# Prints "URI SUITE" for every Debian source of the system, one-line
# sources.list and deb822 .sources alike. Read-only.
system_sources() {
	local f
	for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
		[ -r "$f" ] || continue
		# deb [options] URI SUITE COMPONENT...
		sed -e 's/#.*//' -e 's/\[[^]]*\]//' "$f" | awk '$1 == "deb" { print $2, $3 }'
	done
	for f in /etc/apt/sources.list.d/*.sources; do
		[ -r "$f" ] || continue
		# Stanzas separated by blank lines; URIs: and Suites: may list several.
		awk '
			function flush() {
				if (types ~ /(^| )deb( |$)/ && enabled != "no")
					for (i = 1; i <= nu; i++) for (j = 1; j <= ns; j++) print u[i], s[j]
				types = ""; enabled = ""; nu = 0; ns = 0
			}
			/^[ \t]*#/ { next }
			/^[ \t]*$/ { flush(); next }
			{ key = tolower($1) }
			key == "types:"   { types = $0; sub(/^[^:]*:[ \t]*/, "", types) }
			key == "enabled:" { enabled = tolower($2) }
			key == "uris:"    { for (i = 2; i <= NF; i++) u[++nu] = $i }
			key == "suites:"  { for (i = 2; i <= NF; i++) s[++ns] = $i }
			END { flush() }' "$f"
	done
}

# The system's main Debian mirror: a source whose suite is a plain release or
# -updates/-backports, not -security (which lives on another tree).
main_mirror() {
	system_sources | awk '$2 !~ /-security$/ && $1 ~ /\/debian\/?$/ { sub(/\/$/, "", $1); print $1; exit }'
}
security_mirror() {
	system_sources | awk '$2 ~ /-security$/ { sub(/\/$/, "", $1); print $1; exit }'
}

MIRROR=${VM_DEBIAN_MIRROR:-$(main_mirror)}
SECURITY=${VM_DEBIAN_SECURITY_MIRROR:-$(security_mirror)}
[ -n "$MIRROR" ] || die "no Debian mirror in the system's apt sources; set VM_DEBIAN_MIRROR"
[ -n "$SECURITY" ] || SECURITY=${MIRROR%/debian}/debian-security
ARCHIVE=${VM_DEBIAN_ARCHIVE_MIRROR:-}
ARCHIVE_SECURITY=${VM_DEBIAN_ARCHIVE_SECURITY_MIRROR:-${ARCHIVE:+${ARCHIVE%/debian}/debian-security}}

# Candidate sources for a suite, one set per line, the first that works wins:
# "URI SUITE" pairs separated by ';'. The security suite carries the newest
# kernel of a stable release.
candidates() {
	case $1 in
	bullseye | bookworm | trixie)
		echo "$MIRROR $1; $SECURITY $1-security"
		[ -z "$ARCHIVE" ] || echo "$ARCHIVE $1; $ARCHIVE_SECURITY $1-security"
		;;
	bookworm-backports)
		echo "$MIRROR bookworm-backports"
		;;
	*) return 1 ;;
	esac
}

# --- Private apt ------------------------------------------------------------

# Writes the private configuration of one suite, and prints its path.
# APT_CONFIG is read before anything else, so Dir::Etc::parts set here keeps
# the system's apt.conf.d out (an -o option would come too late for that).
apt_setup() {
	local a=$DIR/.apt/$1
	mkdir -p "$a/etc/apt.conf.d" "$a/etc/preferences.d" "$a/etc/sources.list.d" \
		"$a/state/lists/partial" "$a/cache/archives/partial" "$a/log"
	[ -e "$a/state/status" ] || : >"$a/state/status"
	cat >"$a/apt.conf" <<-EOF
		Dir::Etc "$a/etc";
		Dir::Etc::main "/dev/null";
		Dir::Etc::parts "$a/etc/apt.conf.d";
		Dir::Etc::sourcelist "$a/etc/sources.list";
		Dir::Etc::sourceparts "$a/etc/sources.list.d";
		Dir::Etc::preferences "/dev/null";
		Dir::Etc::preferencesparts "$a/etc/preferences.d";
		Dir::State "$a/state";
		Dir::State::status "$a/state/status";
		Dir::Cache "$a/cache";
		Dir::Log "$a/log";
		APT::Architecture "amd64";
		APT::Architectures { "amd64"; };
		Acquire::Languages "none";
		Acquire::GzipIndexes "true";
		Dir::Cache::pkgcache "";
		Dir::Cache::srcpkgcache "";
		Acquire::Retries "1";
		Acquire::http::Timeout "20";
		Acquire::https::Timeout "20";
		APT::Sandbox::User "root";
	EOF
	echo "$a/apt.conf"
}

# Points the suite's private apt at one candidate set and updates its lists.
# Fails on any index that could not be fetched (--error-on=any): a suite half
# reachable is not reachable.
apt_update() {
	local conf=$1 set=$2 a pair uri suite pairs
	a=$(dirname "$conf")
	: >"$a/etc/sources.list"
	IFS=';' read -ra pairs <<<"$set"
	for pair in "${pairs[@]}"; do
		read -r uri suite <<<"$pair"
		echo "deb [signed-by=$KEYRING] $uri $suite main" >>"$a/etc/sources.list"
	done
	APT_CONFIG=$conf apt-get -q update --error-on=any >"$a/log/update.log" 2>&1
}

# The metapackage's candidate version and the image package it depends on.
resolve() {
	APT_CONFIG=$1 apt-cache show --no-all-versions linux-image-amd64 2>/dev/null | awk '
		/^Version:/ { v = $2 }
		/^Depends:/ { sub(/^Depends:[ \t]*/, ""); split($0, d, /[ ,(|]+/); p = d[1] }
		END { if (v != "" && p ~ /^linux-image-/) print v, p; else exit 1 }'
}

# --- Extraction -------------------------------------------------------------

# Unpacks one image package into OUT (which must not exist yet).
extract() {
	local deb=$1 release=$2 out=$3 x=$TMP/x base mod name
	rm -rf "$x"
	mkdir -p "$x" "$out/modules"
	dpkg-deb -x "$deb" "$x"
	# trixie ships its modules under /usr/lib/modules (merged /usr).
	base=$x
	[ -d "$x/lib/modules/$release" ] || base=$x/usr
	[ -f "$x/boot/vmlinuz-$release" ] || { say "$deb has no /boot/vmlinuz-$release"; exit 1; }
	cp "$x/boot/vmlinuz-$release" "$out/vmlinuz"
	cp "$x/boot/config-$release" "$out/config"
	echo "$release" >"$out/release"
	extract_vmlinux "$out/vmlinuz" "$out/vmlinux"
	# The package ships no modules.dep (its postinst runs depmod): make one,
	# then let modprobe list what to insmod, dependencies first. Built-in
	# modules come out as "builtin NAME" and need nothing.
	depmod -b "$base" "$release"
	: >"$out/modules.order"
	# shellcheck disable=SC2086 # MODULES is a list
	modprobe -d "$base" -S "$release" -a --show-depends $MODULES >"$TMP/deps" 2>"$TMP/deps.err" || {
		say "$release: $(head -n1 "$TMP/deps.err")"
		exit 1
	}
	while read -r kind mod _; do
		[ "$kind" = insmod ] || continue
		name=$(basename "$mod")
		name=${name%%.ko*}.ko
		grep -qxF "$name" "$out/modules.order" && continue
		case $mod in
		*.ko) cp "$mod" "$out/modules/$name" ;;
		*.ko.xz) xz -dc "$mod" >"$out/modules/$name" ;;
		*.ko.zst) zstd -qdc "$mod" >"$out/modules/$name" ;;
		*.ko.gz) gzip -dc "$mod" >"$out/modules/$name" ;;
		*) say "$mod: unknown module compression"; exit 1 ;;
		esac
		echo "$name" >>"$out/modules.order"
	done <"$TMP/deps"
	rm -rf "$x"
}

# Unpacks the ELF kernel that a bzImage carries. Its setup header says where
# the compressed payload is (payload_offset at 0x248, payload_length at 0x24c,
# after the (setup_sects + 1) sectors of real-mode code); the payload's magic
# says how it is compressed. xz and zstd payloads end with 4 bytes of their
# own (the uncompressed size), which the tools would take for a broken second
# stream: they are cut off. Without PVH support (CONFIG_PVH) the ELF is of no
# use to qemu, and none is kept.
extract_vmlinux() {
	local bz=$1 out=$2 sects off len magic
	grep -q '^CONFIG_PVH=y' "$(dirname "$out")/config" || return 0
	u32() { od -An -tu4 -j "$1" -N4 "$bz" | tr -d ' '; }
	sects=$(od -An -tu1 -j $((0x1f1)) -N1 "$bz" | tr -d ' ')
	[ "$sects" != 0 ] || sects=4
	off=$(((sects + 1) * 512 + $(u32 $((0x248)))))
	len=$(u32 $((0x24c)))
	payload() { dd if="$bz" iflag=skip_bytes,count_bytes skip="$off" count="$1" bs=64K status=none; }
	magic=$(od -An -tx1 -j "$off" -N4 "$bz" | tr -d ' ')
	case $magic in
	fd377a58) payload $((len - 4)) | xz -dc >"$out" ;;
	28b52ffd) payload $((len - 4)) | zstd -qdc >"$out" ;;
	1f8b*) payload "$len" | gzip -dc >"$out" ;;
	*) say "$bz: payload compressed as $magic, not unpacked: boot.sh boots vmlinuz"; return 0 ;;
	esac
	[ "$(od -An -tx1 -N4 "$out" | tr -d ' ')" = 7f454c46 ] || { say "$bz: payload is not ELF"; exit 1; }
}

# --- One suite --------------------------------------------------------------

# Brings DIR/<suite> up to date, or exits 1 when the suite cannot be had.
# Runs in a subshell of its own (see the loop below).
fetch_suite() {
	local suite=$1 conf set reached="" meta version pkg release out stamp
	conf=$(apt_setup "$suite")
	while IFS= read -r set; do
		if apt_update "$conf" "$set"; then
			reached=$set
			break
		fi
	done < <(candidates "$suite")
	out=$DIR/$suite
	if [ -z "$reached" ]; then
		local why
		why=$(grep -m1 -E '^(E|W): ' "$DIR/.apt/$suite/log/update.log" | cut -c1-160 || true)
		if [ -f "$out/source" ]; then
			say "$suite: unreachable, keeping $(cat "$out/release") (${why:-no detail})"
			return 0
		fi
		say "$suite: UNREACHABLE: ${why:-no detail} (log: $DIR/.apt/$suite/log/update.log)"
		exit 1
	fi
	meta=$(resolve "$conf") || { say "$suite: no linux-image-amd64 in ${reached%% *}"; exit 1; }
	read -r version pkg <<<"$meta"
	release=${pkg#linux-image-}
	stamp="$version $pkg ${reached%% *}"
	if [ -f "$out/source" ] && [ "$(cat "$out/source")" = "$stamp" ] && [ -f "$out/vmlinuz" ]; then
		say "$suite: $release up to date"
		return 0
	fi
	say "$suite: fetching $pkg (linux-image-amd64 $version) from ${reached%% *}"
	rm -f "$TMP"/*.deb
	(cd "$TMP" && APT_CONFIG=$conf apt-get -q download "$pkg" >"$DIR/.apt/$suite/log/download.log" 2>&1) || {
		say "$suite: download of $pkg failed: $(grep -m1 '^E: ' "$DIR/.apt/$suite/log/download.log" || true)"
		exit 1
	}
	rm -rf "$out.new"
	extract "$TMP/${pkg}"_*.deb "$release" "$out.new"
	echo "$stamp" >"$out.new/source"
	rm -f "$TMP"/*.deb
	# Replace the old kernel only once the new one is complete.
	rm -rf "$out.old"
	[ ! -e "$out" ] || mv "$out" "$out.old"
	mv "$out.new" "$out"
	rm -rf "$out.old"
	say "$suite: $release ready ($(wc -l <"$out/modules.order") modules: $(tr '\n' ' ' <"$out/modules.order"))"
}

# Each suite runs in a subshell of its own, started in the background and
# waited for: called from an `if`, errexit would be off for everything it runs
# and an unexpected failure would go unnoticed. The ERR trap names it.
start_suite() {
	(
		SUITE=$1
		trap 'say "$SUITE: failed: line $LINENO: $BASH_COMMAND"' ERR
		trap 'rm -rf "$DIR/$SUITE.new"' EXIT
		fetch_suite "$SUITE"
	) &
}

status=0
for suite in $SUITES; do
	case $suite in
	bullseye) bit=2 ;;
	bookworm) bit=4 ;;
	trixie | bookworm-backports) bit=8 ;;
	*) die "unknown suite $suite (bullseye, bookworm, trixie, bookworm-backports)" ;;
	esac
	start_suite "$suite"
	if wait $!; then
		continue
	fi
	# 6.12: trixie first, then bookworm-backports, which carries the same kernel.
	if [ "$suite" = trixie ]; then
		say "trixie: trying bookworm-backports for 6.12"
		start_suite bookworm-backports
		if wait $!; then
			continue
		fi
	fi
	status=$((status | bit))
done
exit "$status"
