#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Runs two gmem-workload binaries on the same command lines and diffs what
# they print (stdout, stderr, exit status), with the fields that differ from
# run to run masked: pids and tids, inodes, addresses, clocks and latencies.
# For a refactoring that must not change behaviour.
#   tests/workload_compare.sh OLD_BINARY NEW_BINARY
# Needs /dev/kvm for the runs that create VMs (as root); prints one line a
# case and exits 1 if any differs.
set -u
old=$1 new=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0 n=0

# "key":number -> "key":X for the keys that vary; the human summary's
# pid, ns and ino numbers likewise; the version (git describe)
mask() {
	sed -E \
	  -e 's/"(pid|tid|gmem_ino|userspace_addr|exit_ns|reenter_ns|run_ns|conversion_ns|elapsed_ns|total_ns|ns_per_call|ns|min|p50|p90|p99|max|mean)":-?[0-9.]+/"\1":X/g' \
	  -e 's/(pid|ino|ready|holding|unpinned) [0-9]+/\1 X/g' \
	  -e 's/[0-9.]+ ns/X ns/g; s/\([0-9.]+ ns each\)/(X ns each)/g; s/ns: .*/ns: X/' \
	  -e 's/"version":"[^"]*"/"version":X/; s/^gmem-workload [0-9a-z.-]+$/gmem-workload X/' \
	  -e "s|$tmp/[a-z]+|TMP|g"
}

run() {
	local bin=$1 tag=$2; shift 2
	(cd "$tmp" && "$bin" "$@" >"$tmp/$tag.out" 2>"$tmp/$tag.err"; echo "rc $?" >>"$tmp/$tag.err")
	[ -f "$tmp/wl.json" ] && cat "$tmp/wl.json" >>"$tmp/$tag.out" && rm -f "$tmp/wl.json"
	sed -i "s|$bin|BIN|g" "$tmp/$tag.err"
	mask <"$tmp/$tag.out" >"$tmp/$tag.m"
	mask <"$tmp/$tag.err" >>"$tmp/$tag.m"
}

check() {
	n=$((n + 1))
	run "$old" old "$@"
	run "$new" new "$@"
	if cmp -s "$tmp/old.m" "$tmp/new.m"; then
		echo "same    $*"
	else
		echo "DIFFERS $*"
		diff "$tmp/old.m" "$tmp/new.m" | head -20
		fail=1
	fi
}

# parsing only
check --help
check --usage
check --version
check --size 0
check --bogus
check stray
check --pin 1 --pin-offset 100
check --pin-offset 4096
check --gmem-size 1M --pin 1 --pin-offset 1M
check --range 1:0
check --oracle-wait
check --guest-fault
check --guest 1 --bench
check --scenario block-retry
check --pin-pages 1,1
check --vms 5000
check --guest-timeout 90000
check --guest-unpin-retry
# runs
check --json
check
check --vms 3 --uapi g1 --dir private --conversions 20 --json
check --vms 2 --uapi g2,g3 --dir shared --size 12 --conversions 5 --json
check --pin 4 --pin-offset 8K --uapi g3 --dir private --touch --allocate 3 --punch 2 --json
check --pin 4 --touch --allocate 3 --punch 2 --vcpu
check --guest 8 --guest-fault --json
check --guest 8 --guest-fault
check --guest 4 --uapi all --conversions 2 --max-calls 5 --json
check --guest 3 --no-calls --json
check --guest 2 --guest-abandon --json
check --guest 3 --pin-pages 0 --guest-unpin-retry --uapi g3 --json
check --in-place --pin-pages 1,3-4 --scenario block-retry --fresh-pages 6 --json
check --in-place --oracle 20 --seed 7 --pin-pages 2 --gmem-size 64K --json
check --oracle 10 --gmem-size 64K --json
check --bench --uapi g1 --conversions 100
check --gmem-create-storm 100 --json
check --gmem-create-storm 100
check --vm-type default --gmem-flags 0 --vcpu --json
check --vm-type 99 --json
check --json-out wl.json --conversions 3
check --json-out - --conversions 3
check --hold 1 --json --conversions 1
check --comm 'a\tb' --json --conversions 1
echo "$n cases, $([ $fail = 0 ] && echo all same || echo some differ)"
exit $fail
