#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# Boot each kernel of tests/vm/kernels.list in qemu with an initramfs holding
# the static gmemtrace binaries, the live tests and tests/vm/in-vm-suite.sh,
# and collect the results from the serial log. See docs/vmtest.md.
set -eu

# shellcheck disable=SC2034 # read by lib.sh
GMT_PROG=vmtest
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
# shellcheck source=tests/vm/lib.sh
. "$here/lib.sh"

usage() {
	cat <<EOF
usage: tests/vm/run.sh [--kernel NAME]... [--tests PATTERN] [--timeout S] [--keep] [--list]

  --kernel NAME    run only this row of tests/vm/kernels.list (repeatable,
                   or comma separated); default: every row
  --tests PATTERN  run only checks and live tests whose name matches this
                   extended regex (e.g. 'live_convert', 'expect_')
  --timeout S      seconds per kernel for boot + suite (overrides the matrix)
  --keep           keep the initramfs and a re-run command in \$OUTPUT/vmtest
  --list           print the matrix rows and exit

environment: OUTPUT (build dir, default build), GMT_CACHE (kernel cache,
default ~/.cache/gmemtrace), VM_KERNELS / TESTS (as --kernel / --tests),
GMT_VM_ACCEL=auto|kvm|tcg, GMT_VM_TCG_THREAD=single|multi, GMT_VM_MEM (2G),
GMT_VM_SMP (2), GMT_VM_ICOUNT (qemu -icount, e.g. shift=0: TCG only), GMT_TEST_TIMEOUT (per live binary, default half the row timeout),
GMT_SHARED_KERNELS (default <repo>/../shared/kernels),
GMT_VM_ALLOW_MISSING=1 (boot even without the static binaries).
Exit status: 0 if nothing failed, 1 if anything failed, 2 on usage or setup errors.
EOF
}

want_kernels=""
tests=${GMT_TESTS:-${TESTS:-}}
timeout_override=""
keep=0
list_only=0
while [ $# -gt 0 ]; do
	case $1 in
	--kernel) [ $# -ge 2 ] || gmt_die "--kernel needs a name"; want_kernels="$want_kernels $2"; shift ;;
	--kernel=*) want_kernels="$want_kernels ${1#*=}" ;;
	--tests) [ $# -ge 2 ] || gmt_die "--tests needs a pattern"; tests=$2; shift ;;
	--tests=*) tests=${1#*=} ;;
	--timeout) [ $# -ge 2 ] || gmt_die "--timeout needs seconds"; timeout_override=$2; shift ;;
	--timeout=*) timeout_override=${1#*=} ;;
	--keep) keep=1 ;;
	--list) list_only=1 ;;
	-h | --help) usage; exit 0 ;;
	*) usage >&2; gmt_die "unknown argument '$1'" ;;
	esac
	shift
done
# the environment (make vmtest VM_KERNELS=...) only when no --kernel was given
[ -n "$(echo "$want_kernels" | tr -d ' ,')" ] || want_kernels=${GMT_VM_KERNELS:-${VM_KERNELS:-}}
case $timeout_override in
'' | *[!0-9]*) [ -z "$timeout_override" ] || gmt_die "--timeout wants whole seconds, got '$timeout_override'" ;;
esac

OUTPUT=${OUTPUT:-$repo/build}
case $OUTPUT in /*) ;; *) OUTPUT=$PWD/$OUTPUT ;; esac
MATRIX=${GMT_VM_MATRIX:-$here/kernels.list}
SHARED_KERNELS=${GMT_SHARED_KERNELS:-$repo/../shared/kernels}
ACCEL=${GMT_VM_ACCEL:-auto}
VM_MEM=${GMT_VM_MEM:-2G}
VM_SMP=${GMT_VM_SMP:-2}
# qemu 7.2's multi-threaded TCG races with the guest kernel's int3 code
# patching (jump labels): "Oops: int3" in about 1 boot of 3 here. One TCG
# thread is as fast on 2 host cores and did not crash once.
TCG_THREAD=${GMT_VM_TCG_THREAD:-single}
# the splats that fail a row even when every test passed
SPLAT_RE='WARNING:|BUG:|KASAN|Call Trace|RCU stall|general protection|Kernel panic|Oops:'

# ---- the matrix -----------------------------------------------------------
[ -r "$MATRIX" ] || gmt_die "cannot read the matrix $MATRIX"
row_name=() row_source=() row_timeout=() row_expect=()
while read -r name source tmo rest; do
	case $name in '' | '#'*) continue ;; esac
	case $tmo in '' | *[!0-9]*) gmt_die "$MATRIX: row '$name': timeout '$tmo' is not a number" ;; esac
	row_name+=("$name") row_source+=("$source") row_timeout+=("$tmo") row_expect+=("$rest")
done <"$MATRIX"
[ ${#row_name[@]} -gt 0 ] || gmt_die "$MATRIX has no rows"

if [ "$list_only" = 1 ]; then
	for i in "${!row_name[@]}"; do
		printf '%-18s %4s s  %s\n    %s\n' "${row_name[$i]}" "${row_timeout[$i]}" \
			"${row_expect[$i]}" "${row_source[$i]}"
	done
	exit 0
fi

selected=()
if [ -n "$(echo "$want_kernels" | tr -d ' ,')" ]; then
	for k in $(echo "$want_kernels" | tr ',' ' '); do
		found=""
		for i in "${!row_name[@]}"; do
			[ "${row_name[$i]}" = "$k" ] && found=$i
		done
		[ -n "$found" ] || gmt_die "no kernel row '$k' in $MATRIX (rows: ${row_name[*]})"
		case " ${selected[*]} " in *" $found "*) continue ;; esac
		selected+=("$found")
	done
else
	selected=("${!row_name[@]}")
fi

# every suite the matrix names goes into the private sources.list, so running
# one row does not rewrite (and invalidate) the lists of the others
for s in "${row_source[@]}"; do
	case $s in apt:*:*) s=${s#apt:}; GMT_APT_SUITES="$GMT_APT_SUITES ${s%%:*}" ;; esac
done
# shellcheck disable=SC2086 # split on purpose
GMT_APT_SUITES=$(printf '%s\n' $GMT_APT_SUITES | sort -u | tr '\n' ' ' | sed 's/ $//')

# ---- the payload: static binaries and live tests --------------------------
missing=""
for b in gmemtrace gmem-workload; do
	[ -x "$OUTPUT/static/$b" ] || missing="$missing $OUTPUT/static/$b"
done
if [ -n "$missing" ]; then
	if [ "${GMT_VM_ALLOW_MISSING:-0}" != 1 ]; then
		gmt_die "missing the static binaries the VMs run:$missing
  build them with: make OUTPUT=${OUTPUT#"$repo"/} static
  (or set GMT_VM_ALLOW_MISSING=1 to boot anyway; checks that need them skip)"
	fi
	gmt_log "vm: warning: missing$missing (GMT_VM_ALLOW_MISSING=1: their checks will skip)"
fi

VMOUT=$OUTPUT/vmtest
mkdir -p "$VMOUT"
WORK=$(mktemp -d "$VMOUT/work.XXXXXX")
cleanup() { [ "$keep" = 1 ] || rm -rf "$WORK"; }
trap cleanup EXIT
trap 'exit 130' INT TERM

skip_all=""
for t in qemu-system-x86_64 cpio gzip; do
	command -v "$t" >/dev/null 2>&1 || skip_all="$skip_all $t"
done
BUSYBOX=${GMT_BUSYBOX:-$(command -v busybox 2>/dev/null || true)}
[ -n "$BUSYBOX" ] || skip_all="$skip_all busybox"
[ -z "$skip_all" ] || skip_all="missing tools:$skip_all (scripts/install-deps.sh installs them)"

# Copy an ELF and, when it is dynamically linked, its shared libraries and
# interpreter at the paths the loader looks for them.
copy_elf() { # src dst root
	local lib
	install -m 0755 "$1" "$2"
	readelf -l "$1" 2>/dev/null | grep -q 'program interpreter' || return 0
	for lib in $(ldd "$1" | awk '/=> not found/ { print "MISSING:" $1; next }
		$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }'); do
		case $lib in MISSING:*) gmt_die "$1 needs ${lib#MISSING:}, which ldd cannot find" ;; esac
		[ -e "$3$lib" ] && continue
		mkdir -p "$3$(dirname "$lib")"
		cp -L "$lib" "$3$lib"
	done
}

# The part of the initramfs every kernel shares.
build_common() { # root
	local r=$1 p f
	mkdir -p "$r"/{bin,sbin,usr/bin,usr/sbin,etc,root,proc,sys,dev,tmp,run} "$r"/gmt/{bin,tests,modules}
	copy_elf "$BUSYBOX" "$r/bin/busybox" "$r"
	for p in $("$BUSYBOX" --list-full); do
		case $p in */*) [ -e "$r/$p" ] || ln -s /bin/busybox "$r/$p" ;; esac
	done
	echo 'root:x:0:0:root:/root:/bin/sh' >"$r/etc/passwd"
	echo 'root:x:0:' >"$r/etc/group"
	install -m 0755 "$here/init.sh" "$r/init"
	install -m 0755 "$here/in-vm-suite.sh" "$r/gmt/suite.sh"
	for f in "$OUTPUT"/static/*; do
		if [ -f "$f" ] && [ -x "$f" ]; then copy_elf "$f" "$r/gmt/bin/${f##*/}" "$r"; fi
	done
	NLIVE=0
	for f in "$OUTPUT"/tests/live_*; do
		if [ ! -f "$f" ] || [ ! -x "$f" ]; then continue; fi
		copy_elf "$f" "$r/gmt/tests/${f##*/}" "$r"
		NLIVE=$((NLIVE + 1))
	done
}

mkcpio() { # root out
	(cd "$1" && find . | cpio -o -H newc --quiet | gzip -1) >"$2"
}

# ---- kernels --------------------------------------------------------------
# resolve_* set KDIR (vmlinuz, config, modules/, modules.order) and KDESC,
# or SKIP_REASON.

# Pick the newest complete cache entry of a row (used when apt cannot help).
cached_kernel() { # name
	local d best=""
	for d in "$GMT_CACHE/kernels/$1"-*/; do
		if [ ! -e "$d/.complete" ] || [ "$(cat "$d/row" 2>/dev/null)" != "$1" ]; then continue; fi
		best=$(printf '%s\n%s\n' "$best" "${d%/}" | sed '/^$/d' | sort -V | tail -n 1)
	done
	printf '%s' "$best"
}

# Keep what the VM needs from extracted packages: the kernel, its config and
# the KVM modules with their dependencies, decompressed, in load order; and
# vhost_net (with tun, vhost, ...) where the kernel has it as a module, so the
# policy hook is shown to leave vhost's 0xAF ioctls alone (live_enforce_rules);
# vfio-pci and vfio_iommu_type1 likewise, for rows with an emulated IOMMU
# (machine=iommu: a device bound to vfio-pci on a kernel without in-place
# conversion). HARVEST_VERSION says what a cache entry holds: an entry
# harvested by an older runner (2: before vfio, 1: before vhost_net) is
# fetched again, so a cache never hides what a test needs.
HARVEST_VERSION=3
harvest() { # extracted-root dest
	local x=$1 d=$2 f m dep todo order="" ko
	f=$(find "$x/boot" "$x/usr/lib/modules" "$x/lib/modules" -maxdepth 2 \
		\( -name 'vmlinuz-*' -o -name 'vmlinuz' -o -name 'vmlinuz.unsigned' \) 2>/dev/null | head -n 1)
	[ -n "$f" ] || { echo "no vmlinuz in the packages"; return 1; }
	cp "$f" "$d/vmlinuz"
	f=$(find "$x/boot" "$x/usr/lib/modules" "$x/lib/modules" -maxdepth 2 \
		\( -name 'config-*' -o -name config \) 2>/dev/null | head -n 1)
	[ -z "$f" ] || cp "$f" "$d/config"
	mkdir -p "$d/modules"
	# depth-first over modinfo's depends= so dependencies load first
	todo="kvm-amd kvm-intel vhost_net vfio-pci vfio_iommu_type1"
	visit() {
		local name=$1 file dep
		case " $order " in *" $name "*) return 0 ;; esac
		file=$(find "$x" -name "$name.ko*" -o -name "$(echo "$name" | tr _ -).ko*" | head -n 1)
		[ -n "$file" ] || return 1
		for dep in $(modinfo -F depends "$file" | tr ',' ' '); do
			visit "$dep" || { echo "module $dep (needed by $name) not in the packages"; return 1; }
		done
		gmt_unpack_ko "$file" "$d/modules/$name.ko"
		order="$order $name"
	}
	for m in $todo; do
		ko=$(find "$x" -name "$m.ko*" | head -n 1)
		[ -n "$ko" ] || continue
		visit "$m" || return 1
	done
	# shellcheck disable=SC2086 # one module per line
	printf '%s\n' $order >"$d/modules.order"
	if grep -qs '^CONFIG_KVM=m' "$d/config" && [ -z "$order" ]; then
		echo "KVM is modular but kvm.ko is not in the packages"
		return 1
	fi
	return 0
}

resolve_apt() { # name spec
	local name=$1 spec=${2#apt:} suite pkgs first pick prefix suffix wild version
	local dir tmp p exact req=() opt=() why cached offline
	suite=${spec%%:*} pkgs=${spec#*:}
	IFS=, read -ra plist <<<"$pkgs"
	first=${plist[0]%\?}
	why=""
	if ! gmt_apt_init; then
		why="apt-get/dpkg-deb not available"
	else
		offline=""
		gmt_apt_update || offline="apt unreachable and "
		pick=$(gmt_apt_newest "$first")
		[ -n "$pick" ] || why="${offline}no package matches $first in $suite"
	fi
	if [ -z "$why" ]; then
		prefix=${first%%\**} suffix=${first#*\*}
		wild=${pick#"$prefix"} wild=${wild%"$suffix"}
		version=$(apt-cache "${GMT_APT[@]}" madison "$pick" 2>/dev/null |
			awk -F'|' -v s=" $suite/" 'index($3, s) { gsub(/ /, "", $2); print $2 }' |
			sort -V | tail -n 1)
		[ -n "$version" ] || why="$pick is not in $suite"
	fi
	if [ -z "$why" ]; then
		dir=$GMT_CACHE/kernels/$name-$version
		if [ -e "$dir/.complete" ] &&
			[ "$(cat "$dir/harvest" 2>/dev/null)" = "$HARVEST_VERSION" ]; then
			KDIR=$dir KDESC="$(cat "$dir/source") (cached)"
			return 0
		fi
		for p in "${plist[@]}"; do
			exact=${p%\?} exact=${exact/\*/$wild}
			case $p in *\?) opt+=("$exact/$suite") ;; *) req+=("$exact/$suite") ;; esac
		done
		gmt_log "vm: $name: fetching ${req[*]}${opt[*]+ ${opt[*]}} ($version)"
		mkdir -p "$GMT_CACHE/kernels"
		tmp=$(mktemp -d "$GMT_CACHE/kernels/.fetch.XXXXXX")
		mkdir -p "$tmp/debs" "$tmp/x" "$tmp/k"
		if ! gmt_apt_download "$tmp/debs" "${req[@]}" >"$tmp/download.log" 2>&1; then
			why="apt-get download failed: $(grep -m1 '^E:' "$tmp/download.log" || tail -n 1 "$tmp/download.log")"
		else
			for p in "${opt[@]}"; do
				gmt_apt_download "$tmp/debs" "$p" >>"$tmp/download.log" 2>&1 ||
					gmt_log "vm: $name: optional package $p not fetched"
			done
			for p in "$tmp"/debs/*.deb; do dpkg-deb -x "$p" "$tmp/x"; done
			if why=$(harvest "$tmp/x" "$tmp/k"); then
				why=""
				(cd "$tmp/debs" && ls -- *.deb) | sed 's/\.deb$//' | tr '\n' ' ' |
					sed "s/ $//; s|^|$suite: |" >"$tmp/k/source"
				echo "$name" >"$tmp/k/row"
				echo "$HARVEST_VERSION" >"$tmp/k/harvest"
				touch "$tmp/k/.complete"
				rm -rf "$dir"
				mv "$tmp/k" "$dir"
			fi
		fi
		rm -rf "$tmp"
		if [ -z "$why" ]; then
			KDIR=$dir KDESC=$(cat "$dir/source")
			return 0
		fi
	fi
	cached=$(cached_kernel "$name")
	if [ -n "$cached" ]; then
		gmt_log "vm: $name: $why; using the cached $(basename "$cached")"
		KDIR=$cached KDESC="$(cat "$cached/source") (cached)"
		return 0
	fi
	SKIP_REASON="$why, and nothing cached in $GMT_CACHE/kernels"
	return 1
}

resolve_dir() { # name spec
	local d k
	for d in "$SHARED_KERNELS/${2#dir:}" "$GMT_CACHE/kernels/${2#dir:}-built"; do
		for k in bzImage vmlinuz; do
			if [ -f "$d/$k" ]; then
				KDIR=$(cd "$d" && pwd) KIMAGE=$k KDESC="$KDIR/$k"
				return 0
			fi
		done
	done
	SKIP_REASON="no kernel in $SHARED_KERNELS/${2#dir:} or $GMT_CACHE/kernels/${2#dir:}-built (build it: make vmtest-kernel)"
	return 1
}

# ---- qemu -----------------------------------------------------------------
# a row's machine= profile: extra qemu devices and kernel command line.
# iommu: an emulated Intel IOMMU (interrupt remapping needs the split
# irqchip) and qemu's edu PCI device for vfio-pci to take (BUILD.md of
# inplace-v8-7.2: VFIO type1 DMA mappings blocking conversions)
machine_args() { # profile -> MACHINE, MACHINE_DEV array, MACHINE_APPEND
	MACHINE=q35 MACHINE_DEV=() MACHINE_APPEND=""
	case $1 in
	'') ;;
	iommu)
		MACHINE=q35,kernel-irqchip=split
		# shellcheck disable=SC2054 # the commas are qemu's, inside one argument
		MACHINE_DEV=(-device intel-iommu,intremap=on -device edu)
		# no_timer_check: on a loaded host the emulated timer can miss
		# check_timer()'s window, and with interrupt remapping on that is a
		# panic ("timer doesn't work through Interrupt-remapped IO-APIC"),
		# seen once in 6 boots here, not a fallback
		MACHINE_APPEND=" intel_iommu=on no_timer_check"
		;;
	*) gmt_die "$MATRIX: unknown machine profile '$1' (known: iommu)" ;;
	esac
}

qemu_cmd() { # vmlinuz initrd accel [machine profile] -> QEMU array
	machine_args "${4:-}"
	QEMU=(qemu-system-x86_64 -machine "$MACHINE" -cpu max -m "$VM_MEM" -smp "$VM_SMP"
		-nographic -no-reboot -nic none "${MACHINE_DEV[@]}" -kernel "$1" -initrd "$2"
		-append "console=ttyS0 panic=-1 rdinit=/init$MACHINE_APPEND")
	if [ "$3" = kvm ]; then QEMU+=(-enable-kvm); else QEMU+=(-accel "tcg,thread=$TCG_THREAD"); fi
	# a guest clock of executed instructions (bench_policy: immune to host load)
	if [ "$3" != kvm ] && [ -n "${GMT_VM_ICOUNT:-}" ]; then QEMU+=(-icount "$GMT_VM_ICOUNT"); fi
}

# the value of KEY= among a row's expectations (machine=, tests=)
row_key() { # expectations key
	local kv
	for kv in $1; do
		[ "${kv%%=*}" = "$2" ] && { echo "${kv#*=}"; return 0; }
	done
	return 0
}

# KVM only when a real boot with it works (on some hosts -enable-kvm aborts or
# hangs with -cpu max): a tiny initramfs that prints a marker and powers off.
probe_kvm() { # vmlinuz
	local r=$WORK/probe
	if [ ! -r /dev/kvm ] || [ ! -w /dev/kvm ]; then echo "no usable /dev/kvm"; return 1; fi
	mkdir -p "$r/bin"
	copy_elf "$BUSYBOX" "$r/bin/busybox" "$r"
	ln -s busybox "$r/bin/sh"
	printf '#!/bin/sh\n/bin/busybox echo GMT_KVM_PROBE_OK\n/bin/busybox poweroff -f\n' >"$r/init"
	chmod 755 "$r/init"
	mkcpio "$r" "$WORK/probe.cpio.gz"
	qemu_cmd "$1" "$WORK/probe.cpio.gz" kvm
	timeout -k 5 60 "${QEMU[@]}" </dev/null >"$WORK/probe.log" 2>&1 || true
	grep -q GMT_KVM_PROBE_OK "$WORK/probe.log" && return 0
	echo "probe boot with -enable-kvm failed: $(grep -m1 -i 'error\|fail' "$WORK/probe.log" || echo timeout)"
	return 1
}

# ---- run ------------------------------------------------------------------
total_p=0 total_f=0 total_s=0
failures=()
declare -A KD KI KS
if [ -z "$skip_all" ]; then
	build_common "$WORK/common"
	mkcpio "$WORK/common" "$WORK/common.cpio.gz"
	gmt_log "vm: payload: $(cd "$WORK/common/gmt/bin" && echo *) + $NLIVE live test binaries from $OUTPUT"
	[ "$NLIVE" -gt 0 ] || gmt_log "vm: note: no $OUTPUT/tests/live_* binaries: only the expectation checks run"
fi

first_image=""
for i in "${selected[@]}"; do
	name=${row_name[$i]}
	KDIR="" KIMAGE=vmlinuz KDESC="" SKIP_REASON=""
	if [ -n "$skip_all" ]; then
		SKIP_REASON=$skip_all
	else
		case ${row_source[$i]} in
		apt:*:*) resolve_apt "$name" "${row_source[$i]}" || true ;;
		dir:*) resolve_dir "$name" "${row_source[$i]}" || true ;;
		*) SKIP_REASON="unknown source '${row_source[$i]}' in $MATRIX" ;;
		esac
	fi
	KD[$name]=$KDIR KI[$name]=$KIMAGE KS[$name]=$SKIP_REASON
	if [ -n "$KDIR" ]; then
		gmt_log "vm: $name: $KDESC"
		[ -n "$first_image" ] || first_image=$KDIR/$KIMAGE
	fi
done

if [ -n "$first_image" ]; then
	case $ACCEL in
	tcg) ;;
	kvm) ;;
	auto)
		if why=$(probe_kvm "$first_image"); then ACCEL=kvm; else
			ACCEL=tcg
			gmt_log "vm: accel tcg ($why)"
		fi
		;;
	*) gmt_die "GMT_VM_ACCEL must be auto, kvm or tcg, not '$ACCEL'" ;;
	esac
	gmt_log "vm: accel $ACCEL, $VM_SMP vCPUs, $VM_MEM"
fi

for i in "${selected[@]}"; do
	name=${row_name[$i]}
	if [ -n "${KS[$name]}" ]; then
		echo "SKIP vm $name: ${KS[$name]}"
		total_s=$((total_s + 1))
		continue
	fi
	kdir=${KD[$name]}
	tmo=${timeout_override:-${row_timeout[$i]}}
	log=$VMOUT/$name.log

	# the per-kernel part of the initramfs, appended as a second archive
	k=$WORK/k-$name
	rm -rf "$k"
	mkdir -p "$k/gmt/modules"
	if [ -s "$kdir/modules.order" ]; then
		cp "$kdir/modules.order" "$k/gmt/modules.order"
		cp "$kdir"/modules/*.ko "$k/gmt/modules/"
	fi
	[ ! -f "$kdir/config" ] || cp "$kdir/config" "$k/gmt/kernel.config"
	machine=$(row_key "${row_expect[$i]}" machine)
	# the row's own test filter (a short row), unless --tests/TESTS says
	row_tests=${tests:-$(row_key "${row_expect[$i]}" tests)}
	{
		printf 'export GMT_KERNEL=%s GMT_ACCEL=%s\n' "$name" "$ACCEL"
		printf 'export GMT_TESTS=%q\n' "$row_tests"
		# one hung binary must not eat the whole row's time
		printf 'export GMT_TEST_TIMEOUT=%s\n' "${GMT_TEST_TIMEOUT:-$((tmo / 2))}"
		for kv in ${row_expect[$i]}; do
			case ${kv%%=*} in machine | tests) continue ;; esac
			key=$(echo "${kv%%=*}" | tr 'a-z-' 'A-Z_')
			printf 'export GMT_EXPECT_%s=%q\n' "$key" "${kv#*=}"
		done
	} >"$k/gmt/env"
	# shellcheck disable=SC2086 # one key=value per line
	printf '%s\n' ${row_expect[$i]} | { grep -Ev '^(machine|tests)=' || true; } >"$k/gmt/expect"
	mkcpio "$k" "$WORK/k-$name.cpio.gz"
	initrd=$WORK/$name.initrd.gz
	cat "$WORK/common.cpio.gz" "$WORK/k-$name.cpio.gz" >"$initrd"

	qemu_cmd "$kdir/${KI[$name]}" "$initrd" "$ACCEL" "$machine"
	if [ "$keep" = 1 ]; then
		cp "$initrd" "$VMOUT/$name.initrd.gz"
		qemu_cmd "$kdir/${KI[$name]}" "$VMOUT/$name.initrd.gz" "$ACCEL" "$machine"
		printf '%q ' "${QEMU[@]}" >"$VMOUT/$name.cmd"
		echo >>"$VMOUT/$name.cmd"
		qemu_cmd "$kdir/${KI[$name]}" "$initrd" "$ACCEL" "$machine"
	fi

	gmt_log "vm: $name: booting (timeout $tmo s, log $log)"
	start=$(date +%s.%N)
	qrc=0
	timeout -k 10 "$tmo" "${QEMU[@]}" </dev/null >"$log" 2>&1 || qrc=$?
	wall=$(echo "$start $(date +%s.%N)" | awk '{ printf "%.1f", $2 - $1 }')

	# the serial log has CRLF line ends
	clean=$WORK/$name.clean
	tr -d '\r' <"$log" >"$clean"
	counts=$(grep -aE '^[0-9]+ passed, [0-9]+ failed, [0-9]+ skipped$' "$clean" | tail -n 1 || true)
	if [ -z "$counts" ]; then
		# no closing line (timeout, crash): count what the suite got through
		counts=$(awk '/^PASS / { p++ } /^FAIL / { f++ } /^SKIP / { s++ }
			/^=== .*: [0-9]+ passed, [0-9]+ failed, [0-9]+ skipped/ {
				sub(/^=== .*: /, ""); p += $1; f += $3; s += $5 }
			END { printf "%d passed, %d failed, %d skipped", p, f, s }' "$clean")
		complete=0
	else
		complete=1
	fi
	read -r p _ f _ s _ <<<"${counts//,/}"
	sentinel=$(grep -aoE 'GMT_VM_RC=[0-9]+' "$clean" | tail -n 1 || true)
	problems=()
	if [ "$qrc" = 124 ] || [ "$qrc" = 137 ]; then
		problems+=("timed out after $tmo s")
	elif [ -z "$sentinel" ]; then
		problems+=("no GMT_VM_RC sentinel (qemu exit $qrc): the VM crashed or the suite never ran")
	fi
	if [ -n "$sentinel" ] && [ "$complete" = 0 ]; then
		problems+=("the suite printed no 'N passed, N failed, N skipped' line")
	fi
	if [ -n "$sentinel" ] && [ "${sentinel#*=}" != 0 ] && [ "$f" = 0 ]; then
		problems+=("suite exit status ${sentinel#*=} with no failed test")
	fi
	splats=$(grep -aE "$SPLAT_RE" "$clean" | head -n 5 || true)
	[ -z "$splats" ] || problems+=("kernel splat in the log")

	# the suite's own verdict lines, then the row's problems
	grep -aE '^(PASS|FAIL|SKIP|PRECONDITION MET) |^=== .*: [0-9]+ passed|^\[  (FAILED  \] [^0-9]|ERROR   \])' "$clean" |
		awk '!seen[$0]++ { print "  " $0 }' || true
	# kept for the closing list: CI shows only the tail of a long run
	while IFS= read -r line; do
		failures+=("$name: $line")
	done < <(grep -aE '^FAIL |^=== .*: [0-9]+ passed, [1-9][0-9]* failed|^\[  FAILED  \] [^0-9]' "$clean" |
		awk '!seen[$0]++' || true)
	for pr in ${problems[@]+"${problems[@]}"}; do
		echo "  FAIL vm $name: $pr"
		failures+=("$name: FAIL vm $name: $pr")
		f=$((f + 1))
	done
	if [ -n "$splats" ]; then
		printf '%s\n' "$splats" | sed 's/^/    | /'
	fi
	if [ "$f" != 0 ] && [ "$complete" = 0 ]; then
		echo "  last lines of $log:"
		tail -n 15 "$clean" | sed 's/^/    | /'
	fi
	echo "vm $name: $p passed, $f failed, $s skipped ($wall s)"
	[ "$f" = 0 ] || echo "  log: $log"
	total_p=$((total_p + p)) total_f=$((total_f + f)) total_s=$((total_s + s))
done

if [ ${#failures[@]} -gt 0 ]; then
	echo "what failed, by row (each row's log is build/vmtest/ROW.log):"
	printf '  %s\n' "${failures[@]}" | cut -c1-300
fi
echo "$total_p passed, $total_f failed, $total_s skipped"
[ "$total_f" = 0 ]
