#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# gmemtrace export's cost (docs/bench.md, "export"): (1) CPU of one scrape
# with 1000 VMs' series (4 x 250 short-lived VMs, 6 rows each, kept by a
# long --expire; a pause between batches lets the slots of gone VMs be
# recycled: the kernel counts 256 live VMs at most), from gmemtrace's utime+stime over 20 scrapes; (2) lost
# conversions while scraping every second under a hot conversion loop.
# Usage: [UAPI=g1] bench/export_scrape.sh [BUILD_DIR]   (root, /dev/kvm; UAPI=g1: 2 rows
# a VM, as a VMM using one UAPI has, instead of all 6)
set -eu
B=$(cd "${1:-build}" && pwd)
T=$(mktemp -d)
trap 'kill $EXP 2>/dev/null || true; rm -rf "$T"' EXIT
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
URL=http://127.0.0.1:$PORT/metrics
cpu_ticks() { awk '{print $14 + $15}' /proc/"$1"/stat; }
wait_file() { i=0; while [ ! -e "$1" ] && [ $i -lt 600 ]; do sleep 0.1; i=$((i+1)); done; }

# (1) 1000 VMs' series
"$B"/gmemtrace export --listen=127.0.0.1:"$PORT" --expire 3600 -- sh -c "
	for i in 1 2 3 4; do $B/gmem-workload --vms 250 --conversions 2 --uapi ${UAPI:-all} --no-calls >/dev/null; sleep 2; done
	touch $T/loaded; sleep 120" 2>"$T/exp1.err" &
EXP=$!
wait_file "$T/loaded"
curl -sf "$URL" >"$T/expo" 
vms=$(awk '/^gmemtrace_exported_vms /{print $2}' "$T/expo")
lines=$(grep -vc '^#' "$T/expo")
hz=$(getconf CLK_TCK)
t0=$(cpu_ticks $EXP); s0=$(date +%s.%N)
for i in $(seq 20); do curl -sf "$URL" >/dev/null; done
t1=$(cpu_ticks $EXP); s1=$(date +%s.%N)
echo "export: $vms VMs with series, $lines samples ($(wc -c <"$T/expo") bytes) per scrape"
awk -v a="$t0" -v b="$t1" -v hz="$hz" -v s0="$s0" -v s1="$s1" 'BEGIN {
	printf "export: %.1f ms of gmemtrace CPU per scrape (20 scrapes), %.1f ms wall each\n",
	       (b - a) * 1000 / hz / 20, (s1 - s0) * 1000 / 20 }'
kill "$EXP"; wait "$EXP" || true

# (2) scraping every second under a hot conversion loop
"$B"/gmemtrace export --listen=127.0.0.1:"$PORT" --linger 2 -- \
	"$B"/gmem-workload --uapi g1 --conversions 1000000 --no-calls --json-out "$T/wl.json" \
	>/dev/null 2>"$T/exp2.err" &
EXP=$!
n=0
while kill -0 $EXP 2>/dev/null; do
	curl -sf "$URL" >"$T/last.tmp" 2>/dev/null && mv "$T/last.tmp" "$T/last" && n=$((n+1))
	sleep 1
done
wl=$(python3 -c "import json,sys; s=json.load(open('$T/wl.json'))['summary']['set_memory_attributes']; print(s['calls'])")
seen=$(awk '/^gmemtrace_conversions_total\{/{s+=$2} END{print s+0}' "$T/last")
drops=$(awk '/^gmemtrace_ringbuf_drops_total /{print $2}' "$T/last")
unc=$(awk '/kind="conversions_not_counted"/{print $2}' "$T/last")
echo "export under load: $n scrapes; workload $wl conversions, exported $seen; ring buffer drops $drops, not counted $unc"
[ "$wl" = "$seen" ] && [ "$drops" = 0 ] && [ "$unc" = 0 ]
