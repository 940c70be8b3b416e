#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# The suite run inside each test VM (copied to /gmt/suite.sh, run by /init
# under busybox sh). First the row's expectation checks (GMT_EXPECT_*, see
# tests/vm/kernels.list), then every /gmt/tests/live_* binary. The checks are
# preconditions, not tests: one that holds is not counted as a pass, one that
# does not is a failure (the row no longer describes its kernel). cmocka
# binaries count what their summaries report.
# Ends with "N passed, N failed, N skipped"; exit status 1 iff anything failed.
set -eu

GMT_TESTS=${GMT_TESTS:-}
GMT_TEST_TIMEOUT=${GMT_TEST_TIMEOUT:-300}
GMT_BIN=${GMT_BIN:-/gmt/bin}
export GMT_BIN GMT_IN_VM=1 GMT_KERNEL="${GMT_KERNEL:-unknown}"
# cmocka summaries are parsed below: keep its plain format
export CMOCKA_MESSAGE_OUTPUT=stdout

npass=0 nfail=0 nskip=0 npre=0
pass() { npre=$((npre + 1)); echo "PRECONDITION MET $1"; }
fail() { nfail=$((nfail + 1)); echo "FAIL $1: $2"; }
skip() { nskip=$((nskip + 1)); echo "SKIP $1: $2"; }

# --tests PATTERN (an extended regex) selects checks and binaries by name
selected() { [ -z "$GMT_TESTS" ] || printf '%s\n' "$1" | grep -Eq -- "$GMT_TESTS"; }

# expect KEY: the row's value for KEY (gmem, lsm...), empty when not given
expect() {
	_v=""
	eval "_v=\${GMT_EXPECT_$(echo "$1" | tr '[:lower:]' '[:upper:]'):-}"
	printf '%s' "$_v"
}

# run_check NAME KEY FUNC: run FUNC when selected and KEY has an expectation
run_check() {
	selected "$1" || return 0
	if [ -z "$(expect "$2")" ]; then
		skip "$1" "no $2= expectation for this kernel"
		return 0
	fi
	"$3" "$1" "$(expect "$2")"
}

check_kvm_dev() { # name want
	if [ -c /dev/kvm ]; then have=yes; else have=no; fi
	[ "$2" = no ] || [ "$2" = module ] || [ "$2" = builtin ] || [ "$2" = yes ] ||
		{ fail "$1" "unknown kvm=$2"; return 0; }
	want=yes
	[ "$2" = no ] && want=no
	if [ "$have" = "$want" ]; then pass "$1"; else fail "$1" "/dev/kvm present: $have, expected $want"; fi
}

check_kvm_kind() { # name module|builtin|no
	# /sys/module/kvm/initstate exists only for a loadable module
	if [ -e /sys/module/kvm/initstate ]; then
		have=module
	elif [ -d /sys/module/kvm ]; then
		have=builtin
	else
		have=no
	fi
	case $2 in
	yes) want=$have; [ "$have" != no ] || want=yes ;;
	*) want=$2 ;;
	esac
	if [ "$have" = "$want" ]; then pass "$1"; else fail "$1" "kvm is $have, expected $2"; fi
}

check_lsm() { # name yes|no
	if [ ! -r /sys/kernel/security/lsm ]; then
		if [ "$2" = no ]; then pass "$1"; else fail "$1" "/sys/kernel/security/lsm unreadable"; fi
		return 0
	fi
	lsms=$(cat /sys/kernel/security/lsm)
	case ",$lsms," in *,bpf,*) have=yes ;; *) have=no ;; esac
	if [ "$have" = "$2" ]; then pass "$1"; else fail "$1" "bpf in LSM list '$lsms': $have, expected $2"; fi
}

check_btf() { # name yes|no
	# fentry/fexit attach by BTF id: vmlinux BTF is the prerequisite visible without a loader
	if [ -r /sys/kernel/btf/vmlinux ]; then have=yes; else have=no; fi
	if [ "$have" = "$2" ]; then pass "$1"; else fail "$1" "/sys/kernel/btf/vmlinux present: $have, expected $2"; fi
}

check_kprobe() { # name yes|no
	ev=/sys/kernel/tracing/kprobe_events
	have=no
	# a real probe, not just the file: kprobe_events exists without working kprobes on some configs
	if [ -w "$ev" ] && echo 'p:gmt_vm_probe vfs_read' >>"$ev" 2>/dev/null; then
		have=yes
		echo '-:gmt_vm_probe' >>"$ev" 2>/dev/null || true
	fi
	if [ "$have" = "$2" ]; then pass "$1"; else fail "$1" "kprobe on vfs_read works: $have, expected $2"; fi
}

# Per-VM attributes (G1 conversions): CONFIG_KVM_GENERIC_MEMORY_ATTRIBUTES,
# renamed CONFIG_KVM_VM_MEMORY_ATTRIBUTES by the in-place conversion series
# (v8 02/46, <20260618-gmem-inplace-conversion-v8-2-9d2959357853@google.com>).
# The kernel's own config (from the .deb or beside the bzImage) must agree
# with the row: catches a matrix row that no longer describes its kernel.
check_kconfig() { # name (any)
	cfg=/gmt/kernel.config
	if [ ! -r "$cfg" ]; then
		skip "$1" "no kernel config shipped for this kernel"
		return 0
	fi
	bad=""
	for pair in "kvm:CONFIG_KVM" "gmem:CONFIG_KVM_GUEST_MEMFD|CONFIG_KVM_PRIVATE_MEM" \
		"private:CONFIG_KVM_SW_PROTECTED_VM" \
		"conversions:CONFIG_KVM_GENERIC_MEMORY_ATTRIBUTES|CONFIG_KVM_VM_MEMORY_ATTRIBUTES" \
		"fentry:CONFIG_DEBUG_INFO_BTF" "lsm:CONFIG_BPF_LSM" "kprobe:CONFIG_KPROBES"; do
		key=${pair%%:*} opts=${pair#*:}
		want=$(expect "$key")
		[ -n "$want" ] || continue
		val=$(grep -E "^($opts)=" "$cfg" | sed 's/^[^=]*=//' | sort | tail -n 1)
		case $val in y) have=builtin ;; m) have=module ;; *) have=no ;; esac
		case $want in
		yes) [ "$have" != no ] || bad="$bad $key=$want but $opts unset;" ;;
		no) [ "$have" = no ] || bad="$bad $key=$want but $opts=$val;" ;;
		module | builtin) [ "$have" = "$want" ] || bad="$bad $key=$want but $opts=${val:-unset};" ;;
		esac
	done
	if [ -z "$bad" ]; then pass "$1"; else fail "$1" "${bad# }"; fi
}

# KVM_CREATE_GUEST_MEMFD, private memory and conversions are probed once by
# the real workload (static, from $OUTPUT/static; docs/gmem-workload.md):
# one VM of the best type, its guest_memfd, 4 to-private G1 conversions.
WL_RC=""
workload_probe() {
	[ -n "$WL_RC" ] && return 0
	WL_RC=0
	"$GMT_BIN/gmem-workload" --json --no-calls --uapi g1 --dir private --conversions 4 \
		>/tmp/gmem-workload.json 2>/tmp/gmem-workload.err || WL_RC=$?
	# its JSON is compact ("key":value); a plain grep is enough here
	WL_VM_TYPES=$(grep -o '"vm_types": *[0-9]*' /tmp/gmem-workload.json | grep -o '[0-9]*$' || true)
	WL_GMEM_RET=$(grep -o '"create_gmem_ret": *-*[0-9]*' /tmp/gmem-workload.json | head -n 1 |
		grep -o '[-0-9]*$' || true)
	WL_G1=$(grep -o '"set_memory_attributes": *{"calls": *[0-9]*, *"returns": *{[^}]*}' \
		/tmp/gmem-workload.json | sed 's/.*"returns": *//' || true)
	echo "gmem-workload: rc=$WL_RC vm_types=${WL_VM_TYPES:-?} create_gmem_ret=${WL_GMEM_RET:-?} G1 returns=${WL_G1:-?}"
}

# workload_ok NAME: run the probe; fail NAME (and return 1) when it did not give an answer
workload_ok() {
	if [ ! -x "$GMT_BIN/gmem-workload" ]; then
		skip "$1" "$GMT_BIN/gmem-workload not in the initramfs (build it: make static)"
		return 1
	fi
	workload_probe
	if [ "$WL_RC" != 0 ]; then
		fail "$1" "gmem-workload exited with $WL_RC: $(head -c 200 /tmp/gmem-workload.err)"
		return 1
	fi
	return 0
}

check_gmem() { # name yes|no
	workload_ok "$1" || return 0
	case $WL_GMEM_RET in
	'') fail "$1" "no create_gmem_ret in gmem-workload's JSON"; return 0 ;;
	-*) have=no ;;
	*) have=yes ;;
	esac
	if [ "$have" = "$2" ]; then pass "$1"; else
		fail "$1" "KVM_CREATE_GUEST_MEMFD returned $WL_GMEM_RET, expected it to work: $2"
	fi
}

check_private() { # name yes|no
	workload_ok "$1" || return 0
	[ -n "$WL_VM_TYPES" ] || { fail "$1" "no vm_types in gmem-workload's JSON"; return 0; }
	# KVM_CAP_VM_TYPES bit 1: KVM_X86_SW_PROTECTED_VM (private guest_memfd memory)
	if [ $((WL_VM_TYPES & 2)) != 0 ]; then have=yes; else have=no; fi
	if [ "$have" = "$2" ]; then pass "$1"; else
		fail "$1" "KVM_CAP_VM_TYPES=$WL_VM_TYPES (SW_PROTECTED_VM: $have), expected $2"
	fi
}

check_conversions() { # name yes|no
	workload_ok "$1" || return 0
	[ -n "$WL_G1" ] || { fail "$1" "no set_memory_attributes summary in gmem-workload's JSON"; return 0; }
	# yes: every to-private KVM_SET_MEMORY_ATTRIBUTES returned 0; no: none did
	case $WL_G1 in
	*,*) case $WL_G1 in *'"0":'*) have=partly ;; *) have=no ;; esac ;;
	'{"0":'*) have=yes ;;
	*) have=no ;;
	esac
	if [ "$have" = "$2" ]; then pass "$1"; else
		fail "$1" "KVM_SET_MEMORY_ATTRIBUTES to private returned $WL_G1, expected conversions=$2"
	fi
}

# G3 (KVM_SET_MEMORY_ATTRIBUTES2 on the guest_memfd, in place): the
# workload's own G3 conversions on a memslot bound to the guest_memfd's mmap
check_g3() { # name yes|no
	[ -x "$GMT_BIN/gmem-workload" ] || { skip "$1" "no gmem-workload"; return 0; }
	rc=0
	"$GMT_BIN/gmem-workload" --json --in-place --uapi g3 --dir alternate --conversions 4 \
		--gmem-size 64K >/tmp/g3.json 2>/tmp/g3.err || rc=$?
	r=$(grep -o '"set_memory_attributes2": *{"calls": *[0-9]*, *"returns": *{[^}]*}' /tmp/g3.json |
		sed 's/.*"returns": *//' || true)
	gate=$(cat /sys/module/kvm/parameters/gmem_in_place_conversion 2>/dev/null || echo absent)
	echo "gmem-workload g3: rc=$rc returns=${r:-?} kvm.gmem_in_place_conversion=$gate"
	case $r in '{"0":'*[0-9]'}') case $r in *,*) have=partly ;; *) have=yes ;; esac ;; *) have=no ;; esac
	if [ "$2" = yes ] && [ "$gate" != Y ]; then
		fail "$1" "kvm.gmem_in_place_conversion is $gate, expected Y"
	elif [ "$have" = "$2" ]; then pass "$1"; else
		fail "$1" "KVM_SET_MEMORY_ATTRIBUTES2 returned $r (rc $rc), expected g3=$2"
	fi
}

# EAGAIN: page 5 pinned by io_uring refuses a conversion of the whole file
# at error_offset 0x5000; released, the retry converts (BUILD.md's case)
check_eagain() { # name yes|no
	[ -x "$GMT_BIN/gmem-workload" ] || { skip "$1" "no gmem-workload"; return 0; }
	rc=0
	"$GMT_BIN/gmem-workload" --json --in-place --conversions 0 --gmem-size 64K \
		--pin-pages 5 --scenario block-retry >/tmp/eagain.json 2>/tmp/eagain.err || rc=$?
	# top-level keys are one per line; the scenario's steps in order
	steps=$(grep '^"scenario"' /tmp/eagain.json || true)
	first=$(printf '%s' "$steps" | grep -o '"ret":-*[0-9]*,"error_offset":[0-9a-z]*' | head -n 1)
	second=$(printf '%s' "$steps" | grep -o '"ret":-*[0-9]*' | sed -n 2p)
	echo "gmem-workload block-retry: rc=$rc first: ${first:-?} retry: ${second:-?}"
	if [ "$first" = '"ret":-11,"error_offset":20480' ] && [ "$second" = '"ret":0' ]; then
		have=yes
	else
		have=no
	fi
	if [ "$have" = "$2" ]; then pass "$1"; else
		fail "$1" "pinned page 5: first ${first:-none}, retry ${second:-none}; expected eagain=$2"
	fi
}

# device DMA: page 5 mapped for the edu device's DMA through VFIO type1,
# then through iommufd (where the row does not say iommufd=no), refuses the
# conversion at 0x5000 until unmapped; on a kernel without in-place
# conversion (g3=no) the mapping itself must work
check_vfio() { # name yes|no
	[ -x "$GMT_BIN/gmem-workload" ] || { skip "$1" "no gmem-workload"; return 0; }
	have=yes why="" hows=vfio
	[ "${GMT_EXPECT_IOMMUFD:-}" = no ] || hows="vfio iommufd"
	for how in $hows; do
		rc=0
		if [ "${GMT_EXPECT_G3:-}" = no ]; then
			"$GMT_BIN/gmem-workload" --json --conversions 0 --gmem-size 64K \
				--pin 1 --pin-offset 0x5000 --pin-with $how \
				>/tmp/dma-$how.json 2>/tmp/dma-$how.err || rc=$?
			mapped=$(grep -o '"dma_map_ret":[-0-9a-z]*' /tmp/dma-$how.json || true)
			echo "gmem-workload --pin-with $how (map only): rc=$rc ${mapped:-no dma_map_ret} $(cat /tmp/dma-$how.err)"
			if [ "$rc" != 0 ] || [ "$mapped" != '"dma_map_ret":0' ]; then
				have=no why="$why $how: rc $rc, ${mapped:-no dma_map_ret};"
			fi
			continue
		fi
		"$GMT_BIN/gmem-workload" --json --in-place --conversions 0 --gmem-size 64K \
			--pin-pages 5 --pin-with $how --scenario block-retry \
			>/tmp/dma-$how.json 2>/tmp/dma-$how.err || rc=$?
		steps=$(grep '^"scenario"' /tmp/dma-$how.json || true)
		first=$(printf '%s' "$steps" | grep -o '"ret":-*[0-9]*,"error_offset":[0-9a-z]*' | head -n 1)
		second=$(printf '%s' "$steps" | grep -o '"ret":-*[0-9]*' | sed -n 2p)
		echo "gmem-workload --pin-with $how block-retry: rc=$rc first: ${first:-?} retry: ${second:-?} $(cat /tmp/dma-$how.err)"
		if [ "$rc" != 0 ] || [ "$first" != '"ret":-11,"error_offset":20480' ] ||
			[ "$second" != '"ret":0' ]; then
			have=no why="$why $how: rc $rc, first ${first:-none}, retry ${second:-none};"
		fi
	done
	if [ "$have" = "$2" ]; then pass "$1"; else
		fail "$1" "DMA-mapped page 5:${why:- as expected}; expected vfio=$2"
	fi
}

check_attr_tp() { # name yes|no
	if [ -d /sys/kernel/tracing/events/kvm/kvm_vm_set_mem_attributes ]; then have=yes; else have=no; fi
	if [ "$have" = "$2" ]; then pass "$1"; else
		fail "$1" "tracepoint kvm:kvm_vm_set_mem_attributes present: $have, expected $2"
	fi
}

run_check expect_kvm_dev kvm check_kvm_dev
run_check expect_kvm_kind kvm check_kvm_kind
run_check expect_lsm lsm check_lsm
run_check expect_btf fentry check_btf
run_check expect_kprobe kprobe check_kprobe
selected expect_kconfig && check_kconfig expect_kconfig
run_check expect_gmem gmem check_gmem
run_check expect_private private check_private
run_check expect_conversions conversions check_conversions
run_check expect_g3 g3 check_g3
run_check expect_eagain eagain check_eagain
run_check expect_attr_tracepoint attr_tracepoint check_attr_tp
run_check expect_vfio vfio check_vfio

# sum_summary FILE WORD: total N of cmocka's "[  WORD  ] N test(s)" lines
sum_summary() {
	awk -v w="$2" '
		$0 ~ "^\\[ *" w " *\\] [0-9]+ test\\(s\\)" {
			sub("^\\[ *" w " *\\] ", ""); n += $1 }
		END { print n + 0 }' "$1"
}

run_live() { # path
	name=${1##*/}
	out=/tmp/$name.out
	echo "=== $name"
	t0=$(cut -d' ' -f1 /proc/uptime)
	# output streams to the console (lost if the VM dies otherwise); the
	# status comes back through a file since a pipeline hides it
	{
		rc=0
		timeout "$GMT_TEST_TIMEOUT" "$1" 2>&1 || rc=$?
		echo "$rc" >/tmp/live.rc
	} | tee "$out"
	rc=$(cat /tmp/live.rc)
	p=$(sum_summary "$out" PASSED)
	f=$(sum_summary "$out" FAILED)
	s=$(sum_summary "$out" SKIPPED)
	# cmocka's PASSED count excludes skipped tests; its exit status counts failures
	if [ "$rc" != 0 ] && [ "$f" = 0 ]; then
		case $rc in
		124 | 143) echo "FAIL $name: timed out after $GMT_TEST_TIMEOUT s" ;;
		*) echo "FAIL $name: exit status $rc, no failed test reported (crash?)" ;;
		esac
		f=1
	elif [ "$rc" = 0 ] && [ $((p + f + s)) = 0 ]; then
		echo "FAIL $name: exit status 0 but no cmocka summary"
		f=1
	fi
	secs=$(awk -v a="$t0" '{ printf "%.1f", $1 - a }' /proc/uptime)
	echo "=== $name: $p passed, $f failed, $s skipped (rc=$rc, $secs s)"
	npass=$((npass + p)) nfail=$((nfail + f)) nskip=$((nskip + s))
}

found=0
for t in /gmt/tests/live_*; do
	[ -x "$t" ] || continue
	found=1
	selected "${t##*/}" || continue
	run_live "$t"
done
[ "$found" = 1 ] || echo "note: no live test binaries in /gmt/tests"

echo "preconditions met: $npre (not counted as passes)"
echo "$npass passed, $nfail failed, $nskip skipped"
[ "$nfail" = 0 ]
