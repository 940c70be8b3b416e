#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# The demo: what this kernel allows, then gmemtrace tracing and measuring the
# built-in KVM workload (real VMs, real guest_memfd, real conversion ioctls).
# Usage: scripts/demo.sh [BUILD_DIR]
set -eu
B=${1:-build}
if [ "$(id -u)" != 0 ]; then
	echo "demo: run as root (BPF and /dev/kvm need it): sudo make demo" >&2
	exit 3
fi
if [ ! -e /dev/kvm ]; then
	echo "demo: /dev/kvm is missing: load KVM (modprobe kvm_amd or kvm_intel) first" >&2
	exit 3
fi

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

step "gmemtrace features: what this kernel lets gmemtrace do"
"$B/gmemtrace" features

step "gmemtrace trace: every conversion of 2 VMs, through all three uAPIs"
"$B/gmemtrace" trace -- "$B/gmem-workload" --vms 2 --conversions 4 --punch 2 \
	--json-out /dev/null

step "gmemtrace trace -f json: the same as NDJSON (first records)"
"$B/gmemtrace" trace -f json -- "$B/gmem-workload" --conversions 1 --uapi g1 \
	--json-out /dev/null | head -n 6

step "gmemtrace stat -H: per-VM rates, percentiles and histograms (aggregated in the kernel)"
"$B/gmemtrace" stat -H 1 -- "$B/gmem-workload" --vms 2 --conversions 2000 --uapi g1 \
	--json-out /dev/null
