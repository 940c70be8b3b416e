#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# Install what gmemtrace needs to build, test and run its VM suite, from
# Debian's packages. Idempotent: does nothing when everything is present.
# Usage: scripts/install-deps.sh [--check]   (--check: only report, exit 1 if missing)
set -eu

# build (also debian/control's Build-Depends), unit tests, the Debian package
# and its test (tests/pkg: dpkg-buildpackage, which checks for build-essential;
# no fakeroot: Rules-Requires-Root: no; lintian, systemd-analyze,
# unshare/setpriv from util-linux, python3 for PR_SET_MDWE), a real Prometheus
# and promtool for live_export (prometheus), the VM suite; libclang-rt-14-dev:
# libFuzzer and the sanitizers of tests/fuzz
PKGS="make gcc clang llvm libbpf-dev bpftool libelf-dev libdw-dev zlib1g-dev libzstd-dev
liblzma-dev libbz2-dev libyaml-dev libclang-rt-14-dev
libjson-c-dev libcmocka-dev liburing-dev libmicrohttpd-dev pkg-config prometheus
help2man build-essential dpkg-dev debhelper lintian systemd util-linux python3
qemu-system-x86 busybox-static cpio gzip xz-utils kmod"

missing=""
for p in $PKGS; do
	st=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
	case "$st" in
	*" installed") ;;
	*) missing="$missing $p" ;;
	esac
done

if [ -z "$missing" ]; then
	echo "install-deps: all build and test dependencies are installed"
	exit 0
fi
if [ "${1:-}" = "--check" ]; then
	echo "install-deps: missing packages:$missing" >&2
	exit 1
fi
if [ "$(id -u)" != 0 ]; then
	echo "install-deps: missing packages:$missing" >&2
	echo "install-deps: run as root (sudo make deps) to install them" >&2
	exit 1
fi
echo "install-deps: installing:$missing"
export DEBIAN_FRONTEND=noninteractive
# an empty or stale package list finds nothing: refresh once
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing >/dev/null
echo "install-deps: done"
