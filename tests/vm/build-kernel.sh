#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# Build the conversion kernel (KVM_SW_PROTECTED_VM, KVM built in, BTF, BPF
# LSM, kprobes) the VM suite's sw-protected-7.3 row boots, for machines that
# do not have ../shared/kernels/sw-protected-7.3. Same recipe as its BUILD.md:
# Debian's linux-source-7.3 (trixie-backports), x86_64_defconfig +
# kvm_guest.config + tests/vm/sw-protected.config, olddefconfig, bzImage.
# Result: $GMT_CACHE/kernels/sw-protected-7.3-built/{bzImage,config}.
# About 22 minutes on 2 cores.
set -eu

# shellcheck disable=SC2034 # read by lib.sh
GMT_PROG="build-kernel"
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/vm/lib.sh
. "$here/lib.sh"

usage() {
	cat <<EOF
usage: tests/vm/build-kernel.sh [--configure-only] [--jobs N] [--force]

  --configure-only  fetch and configure the source, check the config, stop
  --jobs N          parallel make jobs (default: nproc)
  --force           rebuild even if the cache already holds the kernel

Output: $GMT_CACHE/kernels/sw-protected-7.3-built/bzImage and config
(GMT_CACHE, default ~/.cache/gmemtrace; the source and the build tree are
kept in \$GMT_CACHE/kernels/src so a second build is incremental).
EOF
}

configure_only=0
jobs=$(nproc 2>/dev/null || echo 2)
force=0
while [ $# -gt 0 ]; do
	case $1 in
	--configure-only) configure_only=1 ;;
	--jobs) [ $# -ge 2 ] || gmt_die "--jobs needs a number"; jobs=$2; shift ;;
	--jobs=*) jobs=${1#*=} ;;
	--force) force=1 ;;
	-h | --help) usage; exit 0 ;;
	*) usage >&2; gmt_die "unknown argument '$1'" ;;
	esac
	shift
done
case $jobs in '' | *[!0-9]*) gmt_die "--jobs wants a number, got '$jobs'" ;; esac

NAME=sw-protected-7.3
SRC_PKG=linux-source-7.3
SUITE=trixie-backports
FRAGMENT=$here/sw-protected.config
OUT=$GMT_CACHE/kernels/$NAME-built
SRCDIR=$GMT_CACHE/kernels/src

[ -r "$FRAGMENT" ] || gmt_die "missing the config fragment $FRAGMENT"
if [ "$configure_only" = 0 ] && [ "$force" = 0 ] && [ -f "$OUT/bzImage" ]; then
	echo "build-kernel: $OUT/bzImage is already built (--force rebuilds)"
	exit 0
fi

# ---- build dependencies ---------------------------------------------------
# package:command pairs; pahole (dwarves) is what makes CONFIG_DEBUG_INFO_BTF
# possible, without it olddefconfig silently drops BTF
deps="make:make gcc:gcc flex:flex bison:bison bc:bc libssl-dev: libelf-dev: dwarves:pahole xz-utils:xz"
missing=""
for d in $deps; do
	pkg=${d%%:*} cmd=${d#*:}
	if [ -n "$cmd" ]; then
		command -v "$cmd" >/dev/null 2>&1 && continue
	elif dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q ' installed$'; then
		continue
	fi
	missing="$missing $pkg"
done
if [ -n "$missing" ]; then
	if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
		gmt_die "missing build dependencies:$missing (install them as root: apt-get install$missing)"
	fi
	echo "build-kernel: installing build dependencies:$missing"
	# the system's own sources: these come from the host's distribution
	export DEBIAN_FRONTEND=noninteractive
	# shellcheck disable=SC2086 # a list of package names
	apt-get install -y -qq --no-install-recommends $missing >/dev/null ||
		{ apt-get update -qq && apt-get install -y -qq --no-install-recommends $missing >/dev/null; } ||
		gmt_die "apt-get install$missing failed"
fi

# ---- the source -----------------------------------------------------------
gmt_apt_init || gmt_die "apt-get and dpkg-deb are needed to fetch $SRC_PKG"
mkdir -p "$SRCDIR"
gmt_apt_update || true
version=$(apt-cache "${GMT_APT[@]}" madison "$SRC_PKG" 2>/dev/null |
	awk -F'|' -v s=" $SUITE/" 'index($3, s) { gsub(/ /, "", $2); print $2 }' |
	sort -V | tail -n 1)
if [ -z "$version" ]; then
	# apt unreachable: the newest source already unpacked will do
	tree=$(find "$SRCDIR" -maxdepth 2 -name .complete -path '*/linux-source-*' 2>/dev/null |
		sort -V | tail -n 1)
	[ -n "$tree" ] || gmt_die "$SRC_PKG is not in $SUITE (apt lists in $GMT_APT_DIR) and no source is cached in $SRCDIR"
	tree=$(dirname "$tree")
	version=${tree##*/linux-source-}
	echo "build-kernel: apt gave no $SRC_PKG; using the cached $tree"
fi
tree=$SRCDIR/linux-source-$version
if [ ! -e "$tree/.complete" ]; then
	tmp=$(mktemp -d "$SRCDIR/.fetch.XXXXXX")
	trap 'rm -rf "$tmp"' EXIT
	echo "build-kernel: fetching $SRC_PKG $version from $SUITE"
	gmt_apt_download "$tmp" "$SRC_PKG/$SUITE" || gmt_die "apt-get download $SRC_PKG/$SUITE failed"
	dpkg-deb -x "$tmp"/*.deb "$tmp/x"
	tarball=$(find "$tmp/x/usr/src" -maxdepth 1 -name 'linux-source-*.tar.*' | head -n 1)
	[ -n "$tarball" ] || gmt_die "no linux-source tarball in the $SRC_PKG package"
	echo "build-kernel: unpacking ${tarball##*/} (about a minute)"
	mkdir -p "$tmp/src"
	tar -xf "$tarball" -C "$tmp/src"
	top=$(find "$tmp/src" -mindepth 1 -maxdepth 1 -type d | head -n 1)
	[ -f "$top/Makefile" ] || gmt_die "unexpected layout in ${tarball##*/}"
	rm -rf "$tree"
	mv "$top" "$tree"
	touch "$tree/.complete"
	rm -rf "$tmp"
	trap - EXIT
fi
echo "build-kernel: source $tree"

# ---- configure ------------------------------------------------------------
build=$SRCDIR/build-$NAME-$version
mkdir -p "$build"
echo "build-kernel: configuring in $build"
make -s -C "$tree" O="$build" x86_64_defconfig
make -s -C "$tree" O="$build" kvm_guest.config
(cd "$build" && "$tree/scripts/kconfig/merge_config.sh" -m -O "$build" "$build/.config" "$FRAGMENT" >/dev/null)
make -s -C "$tree" O="$build" olddefconfig

# Every fragment line must survive olddefconfig: a missing dependency (pahole
# for BTF, say) drops options without a word.
bad=""
while IFS= read -r line; do
	case $line in CONFIG_*=*) ;; *) continue ;; esac
	opt=${line%%=*} val=${line#*=}
	if [ "$val" = n ]; then
		grep -q "^$opt=" "$build/.config" && bad="$bad $opt(want n, got $(grep "^$opt=" "$build/.config"))"
	else
		grep -qxF "$line" "$build/.config" || bad="$bad $opt(want $val, got $(grep "^$opt=" "$build/.config" || echo unset))"
	fi
done <"$FRAGMENT"
[ -z "$bad" ] || gmt_die "the configured kernel lacks:$bad"
echo "build-kernel: config OK: every option of ${FRAGMENT##*/} is set"

# the kernel shipped in ../shared, when there, should come from the same config
shared=$(cd "$here/../.." && pwd)/../shared/kernels/$NAME/config
if [ -r "$shared" ]; then
	if diff -q <(grep -v '^CONFIG_\(CC_VERSION_TEXT\|GCC_VERSION\|LD_VERSION\|PAHOLE_VERSION\|AS_VERSION\)=' "$shared" | grep '^CONFIG_') \
		<(grep -v '^CONFIG_\(CC_VERSION_TEXT\|GCC_VERSION\|LD_VERSION\|PAHOLE_VERSION\|AS_VERSION\)=' "$build/.config" | grep '^CONFIG_') >/dev/null; then
		echo "build-kernel: config matches $shared"
	else
		echo "build-kernel: note: config differs from $shared (other compiler or source?)"
	fi
fi

if [ "$configure_only" = 1 ]; then
	echo "build-kernel: --configure-only: stopping before the build"
	exit 0
fi

# ---- build ----------------------------------------------------------------
echo "build-kernel: building bzImage with $jobs jobs (about 22 minutes on 2 cores)"
start=$(date +%s)
make -s -C "$tree" O="$build" -j"$jobs" bzImage
mkdir -p "$GMT_CACHE/kernels"
tmp=$(mktemp -d "$GMT_CACHE/kernels/.built.XXXXXX")
cp "$build/arch/x86/boot/bzImage" "$tmp/bzImage"
cp "$build/.config" "$tmp/config"
echo "$SRC_PKG $version ($SUITE), $(date -u +%Y-%m-%dT%H:%MZ)" >"$tmp/source"
rm -rf "$OUT"
mv "$tmp" "$OUT"
echo "build-kernel: done in $(($(date +%s) - start)) s: $OUT/bzImage"
