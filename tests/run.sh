#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Runs gmemtrace's test suites and prints one closing line
#   N passed, N failed, N skipped
# Usage: tests/run.sh unit|live|pkg|fuzz|vm|all [BUILD_DIR]
#   GMT_TESTS=PATTERN   only test binaries whose name matches (grep -E)
#   GMT_VM_KERNELS="a b"  VM rows to run (default: all rows of tests/vm/kernels.list)
#   GMT_SKIP_VM=1       leave the VM suite out of 'all'
#   GMT_SKIP_PKG=1      leave the package test (tests/pkg/test-package.sh) out of 'all'
#   GMT_FUZZ_SECONDS=N  how long the policy fuzzer runs (default 10; make fuzz: 30)
# cmocka binaries report "[  PASSED  ] N test(s)." etc.; those counts are summed.
set -u
suite=${1:-all}
OUTPUT=${2:-build}
top=$(cd "$(dirname "$0")/.." && pwd)
case "$OUTPUT" in /*) ;; *) OUTPUT="$top/$OUTPUT" ;; esac
export OUTPUT
export GMT_BIN="$OUTPUT"

pass=0 fail=0 skip=0
failed_names=""

# add a cmocka run's counts (from its log) to the totals; sets last_fail
count_cmocka() {
	local name=$1 log=$2 p f s
	p=$(sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' "$log" | tail -1)
	f=$(sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' "$log" | tail -1)
	s=$(sed -n 's/^\[  SKIPPED \] \([0-9]*\) test.*/\1/p' "$log" | tail -1)
	pass=$((pass + ${p:-0}))
	fail=$((fail + ${f:-0}))
	skip=$((skip + ${s:-0}))
	if [ -n "${f:-}" ] && [ "${f:-0}" != 0 ]; then
		failed_names="$failed_names $name"
	fi
	last_fail=${f:-0}
}

run_bins() {
	local kind=$1 bin log rc
	for bin in "$OUTPUT"/tests/${kind}_*; do
		[ -x "$bin" ] || continue
		name=$(basename "$bin")
		if [ -n "${GMT_TESTS:-}" ] && ! echo "$name" | grep -Eq "$GMT_TESTS"; then
			continue
		fi
		log="$OUTPUT/tests/$name.log"
		echo "=== $name"
		"$bin" >"$log" 2>&1
		rc=$?
		cat "$log"
		count_cmocka "$name" "$log"
		# a crash or an exit without cmocka's summary is a failure too
		if [ "$rc" != 0 ] && [ "$last_fail" = 0 ]; then
			echo "FAIL $name: exited with status $rc without reporting a failed test"
			fail=$((fail + 1))
			failed_names="$failed_names $name"
		elif ! grep -q '^\[==========\]' "$log"; then
			echo "FAIL $name: no cmocka summary (crashed?)"
			fail=$((fail + 1))
			failed_names="$failed_names $name"
		fi
	done
}

# add the counts of a runner's closing 'N passed, N failed, N skipped' line
# (from its log) to the totals; a runner without that line is one failure
count_summary() {
	local name=$1 log=$2 line p f s
	line=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$log" | tail -1)
	if [ -z "$line" ]; then
		echo "FAIL $name: the runner printed no summary"
		fail=$((fail + 1))
		failed_names="$failed_names $name"
		return
	fi
	p=$(echo "$line" | sed 's/^\([0-9]*\) passed.*/\1/')
	f=$(echo "$line" | sed 's/.* \([0-9]*\) failed.*/\1/')
	s=$(echo "$line" | sed -n 's/.* \([0-9]*\) skipped.*/\1/p')
	pass=$((pass + p))
	fail=$((fail + f))
	skip=$((skip + ${s:-0}))
	[ "$f" = 0 ] || failed_names="$failed_names $name"
}

run_vm() {
	local log="$OUTPUT/vmtest-summary.log"
	echo "=== VM suite (tests/vm/run.sh)"
	# shellcheck disable=SC2086
	"$top/tests/vm/run.sh" ${GMT_VM_KERNELS:+$(for k in $GMT_VM_KERNELS; do printf -- '--kernel %s ' "$k"; done)} \
		${GMT_TESTS:+--tests "$GMT_TESTS"} 2>&1 | tee "$log"
	count_summary vm "$log"
}

# the Debian package and make install (tests/pkg/test-package.sh): builds
# the package once from a copy of the tree
run_pkg() {
	local log="$OUTPUT/pkgtest-summary.log"
	echo "=== package (tests/pkg/test-package.sh)"
	"$top/tests/pkg/test-package.sh" "$OUTPUT" 2>&1 | tee "$log"
	count_summary pkg "$log"
}

# libFuzzer over policy parse+compile (tests/fuzz), bounded in time: one
# test, failed by a crash, a leak, undefined behaviour or a missing binary
run_fuzz() {
	local bin="$OUTPUT/fuzz/fuzz_policy" log="$OUTPUT/fuzz/fuzz_policy.log"
	local secs=${GMT_FUZZ_SECONDS:-10} work="$OUTPUT/fuzz/corpus"

	echo "=== fuzz_policy (${secs}s)"
	if [ ! -x "$bin" ]; then
		echo "FAIL fuzz_policy: $bin not built (make $bin)"
		fail=$((fail + 1))
		failed_names="$failed_names fuzz_policy"
		return
	fi
	mkdir -p "$work"
	if "$bin" -max_total_time="$secs" -timeout=10 -rss_limit_mb=1024 \
		-artifact_prefix="$OUTPUT/fuzz/" "$work" "$top/tests/fuzz/corpus" >"$log" 2>&1; then
		echo "PASS fuzz_policy: $(grep -o 'Done [0-9]* runs in [0-9]* second(s)' "$log")"
		pass=$((pass + 1))
	else
		tail -30 "$log"
		echo "FAIL fuzz_policy: see $log and $OUTPUT/fuzz/crash-*"
		fail=$((fail + 1))
		failed_names="$failed_names fuzz_policy"
	fi
}

case "$suite" in
unit) run_bins test ;;
fuzz) run_fuzz ;;
live) run_bins live ;;
pkg) run_pkg ;;
vm) run_vm ;;
all)
	run_bins test
	run_bins live
	run_fuzz
	if [ "${GMT_SKIP_PKG:-0}" = 1 ]; then
		echo "SKIP pkg: GMT_SKIP_PKG=1"
		skip=$((skip + 1))
	else
		run_pkg
	fi
	if [ "${GMT_SKIP_VM:-0}" = 1 ]; then
		echo "SKIP vm: GMT_SKIP_VM=1"
		skip=$((skip + 1))
	else
		run_vm
	fi
	;;
*)
	echo "usage: tests/run.sh unit|live|pkg|fuzz|vm|all [BUILD_DIR]" >&2
	exit 2
	;;
esac

echo
[ -n "$failed_names" ] && echo "failed:$failed_names"
echo "$pass passed, $fail failed, $skip skipped"
[ "$fail" = 0 ]
