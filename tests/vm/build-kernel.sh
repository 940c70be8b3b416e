#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# Build the kernels of the VM suite's dir: rows, for machines that do not
# have them in ../shared/kernels. Same recipes as their BUILD.md:
#   sw-protected-7.3  Debian's linux-source-7.3 (trixie-backports),
#                     x86_64_defconfig + kvm_guest.config + sw-protected.config
#   inplace-v8-7.2    Debian's linux-source-7.2 (trixie-backports) with patches
#                     01-25 of "guest_memfd: In-place conversion support" v8
#                     (<20260618-gmem-inplace-conversion-v8-0-9d2959357853@google.com>),
#                     x86_64_defconfig + kvm_guest.config + inplace-v8-7.2.config
# then olddefconfig and bzImage. Result: $GMT_CACHE/kernels/<name>-built/
# {bzImage,config}. About 22 minutes per kernel on 2 cores.
set -eu

# shellcheck disable=SC2034 # read by lib.sh
GMT_PROG="build-kernel"
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/vm/lib.sh
. "$here/lib.sh"

usage() {
	cat <<EOF
usage: tests/vm/build-kernel.sh [--kernel NAME] [--patches DIR] [--configure-only]
                                [--jobs N] [--force]

  --kernel NAME     sw-protected-7.3 or inplace-v8-7.2 (repeatable, or a comma
                    list; default: both)
  --patches DIR     inplace-v8-7.2: the series' patches 01-25 and their
                    'series' file (default: ../shared/kernels/inplace-v8-7.2/patches
                    when present, else fetched from lore.kernel.org by
                    Message-Id, which needs a network)
  --configure-only  fetch and configure the source, check the config, stop
  --jobs N          parallel make jobs (default: nproc)
  --force           rebuild even if the cache already holds the kernel

Output: $GMT_CACHE/kernels/<name>-built/bzImage and config
(GMT_CACHE, default ~/.cache/gmemtrace; the source and the build tree are
kept in \$GMT_CACHE/kernels/src so a second build is incremental).
EOF
}

configure_only=0
jobs=$(nproc 2>/dev/null || echo 2)
force=0
kernels=""
patches_dir=""
while [ $# -gt 0 ]; do
	case $1 in
	--kernel) [ $# -ge 2 ] || gmt_die "--kernel needs a name"; kernels="$kernels ${2//,/ }"; shift ;;
	--kernel=*) kernels="$kernels $(echo "${1#*=}" | tr ',' ' ')" ;;
	--patches) [ $# -ge 2 ] || gmt_die "--patches needs a directory"; patches_dir=$2; shift ;;
	--patches=*) patches_dir=${1#*=} ;;
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

SRCDIR=$GMT_CACHE/kernels/src
SHARED=$(cd "$here/../.." && pwd)/../shared/kernels
# The series, as posted: Message-Id of patch N is v8-N-9d2959357853@google.com
V8_MSGID_FMT='20260618-gmem-inplace-conversion-v8-%d-9d2959357853@google.com'

# Patches 01-25 of v8 into $1 (a directory with a 'series' file): from
# --patches, from ../shared, or from lore by Message-Id.
v8_patches() { # destdir
	local d=$1 n id src
	for src in "$patches_dir" "$SHARED/inplace-v8-7.2/patches"; do
		if [ -n "$src" ] && [ -r "$src/series" ]; then
			echo "build-kernel: patches from $src"
			cp "$src"/* "$d/"
			return 0
		fi
	done
	[ -z "$patches_dir" ] || gmt_die "--patches $patches_dir has no 'series' file"
	command -v curl >/dev/null 2>&1 || gmt_die "no local patches and no curl to fetch them: give --patches DIR"
	echo "build-kernel: fetching patches 01-25 of the v8 series from lore.kernel.org by Message-Id"
	: >"$d/series"
	for n in $(seq 1 25); do
		# shellcheck disable=SC2059 # the format is ours
		id=$(printf "$V8_MSGID_FMT" "$n")
		if ! curl -fsSL --max-time 60 "https://lore.kernel.org/all/$id/raw" -o "$d/$(printf '%04d' "$n").patch"; then
			gmt_die "cannot fetch <$id> from lore.kernel.org (no network here?). Without a network, give the
  patches with --patches DIR (../shared/kernels/inplace-v8-7.2/patches has them, with a 'series' file)"
		fi
		printf '%04d.patch\n' "$n" >>"$d/series"
	done
	FETCHED=1
}

# Apply the series to a copy of the pristine tree. Patches from a directory
# are diffs between successive trees and apply as they are. Fetched ones are
# the posted mails: their Documentation/ hunks are left out (as in BUILD.md),
# and 02 (a Kconfig symbol rename) is applied as that rename over the files
# it names, which gives the posted lines.
v8_apply() { # tree patchdir
	local t=$1 d=$2 p f
	while IFS= read -r p; do
		[ -n "$p" ] || continue
		if [ "${FETCHED:-0}" = 1 ] && [ "$p" = 0002.patch ]; then
			for f in $(grep -E '^\+\+\+ b/' "$d/$p" | sed 's|^+++ b/||'); do
				sed -i 's/KVM_GENERIC_MEMORY_ATTRIBUTES/KVM_VM_MEMORY_ATTRIBUTES/g' "$t/$f"
			done
			continue
		fi
		if [ "${FETCHED:-0}" = 1 ]; then
			awk '/^diff --git a\/Documentation\// { skip = 1; next }
				/^diff --git / { skip = 0 } !skip' "$d/$p" >"$d/$p.code"
			p=$p.code
		fi
		patch -s -p1 -d "$t" <"$d/$p" || gmt_die "patch ${p%.code} does not apply to ${t##*/}"
	done <"$d/series"
}

build_one() { # name
NAME=$1
PATCHED=""
case $NAME in
sw-protected-7.3) SRC_PKG=linux-source-7.3 FRAGMENT=$here/sw-protected.config ;;
inplace-v8-7.2) SRC_PKG=linux-source-7.2 FRAGMENT=$here/inplace-v8-7.2.config PATCHED=inplace-v8 ;;
*) gmt_die "no recipe for kernel '$NAME' (known: sw-protected-7.3 inplace-v8-7.2)" ;;
esac
SUITE=trixie-backports
OUT=$GMT_CACHE/kernels/$NAME-built

[ -r "$FRAGMENT" ] || gmt_die "missing the config fragment $FRAGMENT"
if [ "$configure_only" = 0 ] && [ "$force" = 0 ] && [ -f "$OUT/bzImage" ]; then
	echo "build-kernel: $OUT/bzImage is already built (--force rebuilds)"
	return 0
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
if [ -n "$PATCHED" ]; then
	ptree=$tree+$PATCHED
	if [ ! -e "$ptree/.complete" ]; then
		rm -rf "$ptree" "$ptree.tmp"
		echo "build-kernel: copying the tree and applying the $PATCHED series"
		cp -a "$tree" "$ptree.tmp"
		rm -f "$ptree.tmp/.complete"
		pd=$(mktemp -d "$SRCDIR/.patches.XXXXXX")
		FETCHED=0
		v8_patches "$pd"
		v8_apply "$ptree.tmp" "$pd"
		rm -rf "$pd"
		mv "$ptree.tmp" "$ptree"
		touch "$ptree/.complete"
	fi
	tree=$ptree
fi

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
shared=$SHARED/$NAME/config
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
	return 0
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
}

for k in ${kernels:-sw-protected-7.3 inplace-v8-7.2}; do
	build_one "$k"
done
