#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# The Debian package and make install, end to end, from a copy of the tree
# (the working tree's build/ is not touched):
#   - dpkg-buildpackage -us -uc -b builds the .deb (one build: ~20 s to
#     3 min depending on the host)
#   - lintian reports no error (warnings are printed)
#   - the .deb's contents, conffile, dependencies, unit not enabled
#   - dpkg -x into a scratch root: <root>/usr/sbin/gmemtrace features
#     prints what BUILD_DIR/gmemtrace features prints (root)
#   - the same under an emulation of gmemtrace-export.service's sandbox
#     (read-only /sys without tracefs, the capability bounding set,
#     no_new_privs, PR_SET_MDWE for MemoryDenyWriteExecute), plus a trace
#     of gmem-workload under it (root, /dev/kvm)
#   - systemd-analyze verify of the installed unit (ExecStart must exist in
#     the scratch root, Documentation= must resolve)
#   - make install DESTDIR=tmp / make uninstall DESTDIR=tmp leave no file
# Prints PASS/FAIL/SKIP lines and closes with 'N passed, N failed, N skipped'
# (tests/run.sh adds that line to its totals).
# Usage: tests/pkg/test-package.sh [BUILD_DIR]   GMT_KEEP_TMP=1 keeps the temp dir
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
OUTPUT=${1:-${OUTPUT:-build}}
case "$OUTPUT" in /*) ;; *) OUTPUT="$top/$OUTPUT" ;; esac

pass=0 fail=0 skip=0
ok() { echo "PASS $1"; pass=$((pass + 1)); }
ko() { echo "FAIL $1: $2"; fail=$((fail + 1)); }
sk() { echo "SKIP $1: $2"; skip=$((skip + 1)); }
finish() {
	echo
	echo "$pass passed, $fail failed, $skip skipped"
	[ "$fail" = 0 ]
	exit
}

started=$(date +%s)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/gmt-pkg.XXXXXX")
if [ "${GMT_KEEP_TMP:-0}" = 1 ]; then
	echo "pkg: keeping $tmp"
else
	trap 'rm -rf "$tmp"' EXIT
fi
is_root=0
[ "$(id -u)" = 0 ] && is_root=1
has_kvm=0
[ -c /dev/kvm ] && has_kvm=1

# Nothing of the caller's make or build setup may leak into the copy's
# builds: tests/run.sh exports OUTPUT (the working tree's build/), make
# exports MAKEFLAGS
clean_env() {
	env -u OUTPUT -u GMT_BIN -u MAKEFLAGS -u MAKELEVEL -u MFLAGS -u CFLAGS \
		-u CPPFLAGS -u LDFLAGS -u DESTDIR -u PREFIX "$@"
}

missing=""
for t in dpkg-buildpackage dh lintian systemd-analyze dpkg-deb unshare setpriv; do
	command -v "$t" >/dev/null 2>&1 || missing="$missing $t"
done
if [ -n "$missing" ]; then
	sk package "missing tools:$missing (make deps installs them)"
	finish
fi

# --- the copy: tracked and untracked-but-not-ignored files (uncommitted
# edits included), or everything but build/ and .git without git
version=$(cd "$top" && dpkg-parsechangelog -S Version 2>/dev/null)
src="$tmp/gmemtrace-${version:-0}"
mkdir -p "$src"
stamp="$tmp/stamp"
touch "$stamp"
if git -C "$top" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
	(cd "$top" && git ls-files -z -co --exclude-standard |
		while IFS= read -r -d '' f; do [ -e "$f" ] && printf '%s\0' "$f"; done |
		tar --null -T - -cf -) | tar -C "$src" -xf -
else
	(cd "$top" && tar --exclude=./build --exclude=./.git -cf - .) | tar -C "$src" -xf -
fi

# --- 1. the package build
t0=$(date +%s)
(cd "$src" && clean_env dpkg-buildpackage -us -uc -b) >"$tmp/build.log" 2>&1
rc=$?
deb=$(find "$tmp" -maxdepth 1 -name "gmemtrace_*.deb" | head -1)
if [ "$rc" = 0 ] && [ -n "$deb" ]; then
	ok "dpkg-buildpackage -us -uc -b: $(basename "$deb") in $(($(date +%s) - t0)) s"
else
	tail -40 "$tmp/build.log"
	ko dpkg-buildpackage "exit status $rc (log above)"
	deb=""
fi

if [ -n "$deb" ]; then
	# --- 2. lintian: no errors
	lintian --fail-on error "$deb" >"$tmp/lintian.log" 2>&1
	rc=$?
	grep -v 'running with root privileges' "$tmp/lintian.log" | sed 's/^/  lintian: /'
	if [ "$rc" = 0 ] && ! grep -q '^E:' "$tmp/lintian.log"; then
		ok "lintian: no errors ($(grep -c '^W:' "$tmp/lintian.log") warnings)"
	else
		ko lintian "errors reported (above)"
	fi

	# --- 3. contents, conffile, dependencies, the unit not enabled
	root="$tmp/root"
	mkdir -p "$root"
	dpkg -x "$deb" "$root"
	dpkg-deb -e "$deb" "$tmp/control"
	bad=""
	for f in usr/sbin/gmemtrace usr/bin/gmem-workload usr/share/man/man8/gmemtrace.8.gz \
		usr/share/man/man1/gmem-workload.1.gz \
		lib/systemd/system/gmemtrace-export.service etc/default/gmemtrace \
		usr/share/doc/gmemtrace/copyright usr/share/doc/gmemtrace/README.md.gz \
		usr/share/doc/gmemtrace/examples/gmemtrace.default; do
		[ -e "$root/$f" ] || bad="$bad missing:/$f"
	done
	[ -x "$root/usr/sbin/gmemtrace" ] || bad="$bad not-executable:/usr/sbin/gmemtrace"
	grep -qx /etc/default/gmemtrace "$tmp/control/conffiles" 2>/dev/null ||
		bad="$bad /etc/default/gmemtrace-not-a-conffile"
	grep -q '^ExecStart=/usr/sbin/gmemtrace export ' "$root/lib/systemd/system/gmemtrace-export.service" ||
		bad="$bad ExecStart-not-/usr/sbin/gmemtrace-export"
	dpkg-deb -f "$deb" Depends | grep -q libbpf || bad="$bad Depends-without-libbpf"
	# dh_installsystemd --no-enable --no-start: postinst enables only a unit
	# that was enabled before an upgrade (inside 'debian-installed'), and
	# starts nothing
	if grep -q 'deb-systemd-helper.* enable' "$tmp/control/postinst" 2>/dev/null &&
		! grep -q "deb-systemd-helper debian-installed 'gmemtrace-export.service'" "$tmp/control/postinst"; then
		bad="$bad postinst-enables-the-unit-on-install"
	fi
	if grep -q 'deb-systemd-invoke' "$tmp/control/postinst" 2>/dev/null; then
		bad="$bad postinst-starts-the-unit"
	fi
	if [ -z "$bad" ]; then
		ok "package contents: binaries, man page, docs, unit, /etc/default/gmemtrace (conffile); unit not enabled"
	else
		dpkg-deb -c "$deb"
		ko "package contents" "$bad"
	fi

	# --- 4. gmemtrace features from the scratch root = from BUILD_DIR
	if [ "$is_root" != 1 ]; then
		sk "features from the package" "needs root"
	elif [ ! -x "$OUTPUT/gmemtrace" ]; then
		sk "features from the package" "no $OUTPUT/gmemtrace to compare with (make)"
	else
		LC_ALL=C "$root/usr/sbin/gmemtrace" features >"$tmp/features.pkg" 2>&1
		rc=$?
		LC_ALL=C "$OUTPUT/gmemtrace" features >"$tmp/features.build" 2>&1
		if [ "$rc" = 0 ] && cmp -s "$tmp/features.pkg" "$tmp/features.build"; then
			ok "<root>/usr/sbin/gmemtrace features: exit 0, $(wc -l <"$tmp/features.pkg") lines, identical to $OUTPUT/gmemtrace features"
		else
			diff "$tmp/features.build" "$tmp/features.pkg" | head -30
			ko "features from the package" "exit status $rc or output differs from $OUTPUT (diff above)"
		fi
	fi

	# --- 5. the unit's sandbox, emulated (no systemd as PID 1 needed):
	# ProtectKernelTunables (read-only /sys, tracefs unmounted so that
	# gmemtrace mounts it), CapabilityBoundingSet, NoNewPrivileges,
	# MemoryDenyWriteExecute (PR_SET_MDWE, Linux 6.3+, inherited by exec)
	if [ "$is_root" != 1 ]; then
		sk "features in the unit's sandbox" "needs root"
	else
		cat >"$tmp/sandbox.sh" <<'EOF'
set -e
mount --make-rprivate /
mount --rbind -o ro=recursive /sys /sys
for i in 1 2 3; do
	[ -e /sys/kernel/tracing/events ] || break
	umount /sys/kernel/tracing 2>/dev/null || true
done
if [ -e /sys/kernel/tracing/events ]; then echo "sandbox: cannot unmount tracefs"; exit 99; fi
if touch /sys/kernel/.gmt-rw 2>/dev/null; then echo "sandbox: /sys is writable"; exit 99; fi
exec setpriv --no-new-privs --inh-caps=-all \
	--bounding-set=-all,+bpf,+perfmon,+sys_admin,+sys_resource,+dac_read_search "$@"
EOF
		cat >"$tmp/mdwe.py" <<'EOF'
import ctypes, os, sys
libc = ctypes.CDLL(None, use_errno=True)
if libc.prctl(65, 1, 0, 0, 0) != 0:  # PR_SET_MDWE, PR_MDWE_REFUSE_EXEC_GAIN
    sys.exit("PR_SET_MDWE: " + os.strerror(ctypes.get_errno()))
os.execvp(sys.argv[1], sys.argv[1:])
EOF
		mdwe=""
		if command -v python3 >/dev/null &&
			python3 "$tmp/mdwe.py" true 2>/dev/null; then
			mdwe="python3 $tmp/mdwe.py"
		fi
		# shellcheck disable=SC2086
		LC_ALL=C unshare -m sh "$tmp/sandbox.sh" $mdwe "$root/usr/sbin/gmemtrace" features \
			>"$tmp/features.sandbox" 2>&1
		rc=$?
		what="read-only /sys, tracefs mounted by gmemtrace, bounding set, no_new_privs${mdwe:+, MDWE}"
		if [ "$rc" = 0 ] && cmp -s "$tmp/features.sandbox" "$tmp/features.pkg"; then
			ok "features in the unit's sandbox ($what): identical"
		else
			diff "$tmp/features.pkg" "$tmp/features.sandbox" | head -30
			ko "features in the unit's sandbox" "exit status $rc or output differs (diff above)"
		fi
		[ -n "$mdwe" ] || sk "MemoryDenyWriteExecute emulation" "PR_SET_MDWE not available (Linux < 6.3 or no python3)"
		if [ "$has_kvm" = 1 ]; then
			# the same trace outside and inside: the same conversions
			wl="$root/usr/bin/gmem-workload --conversions 2"
			# shellcheck disable=SC2086
			LC_ALL=C "$root/usr/sbin/gmemtrace" trace -f json -- $wl >"$tmp/trace.plain" 2>/dev/null
			# shellcheck disable=SC2086
			LC_ALL=C unshare -m sh "$tmp/sandbox.sh" $mdwe "$root/usr/sbin/gmemtrace" \
				trace -f json -- $wl >"$tmp/trace.sandbox" 2>"$tmp/trace.sandbox.err"
			rc=$?
			n=$(grep -c '"event":"convert"' "$tmp/trace.sandbox")
			n0=$(grep -c '"event":"convert"' "$tmp/trace.plain")
			if [ "$rc" = 0 ] && [ "$n" -gt 0 ] && [ "$n" = "$n0" ]; then
				ok "trace of gmem-workload in the unit's sandbox: exit 0, $n conversions as outside it"
			else
				tail -5 "$tmp/trace.sandbox.err"
				ko "trace in the unit's sandbox" "exit status $rc, $n conversions ($n0 outside it)"
			fi
		else
			sk "trace in the unit's sandbox" "no /dev/kvm"
		fi
	fi

	# --- 6. systemd-analyze verify on the installed unit (in the scratch
	# root: ExecStart's binary must exist there; Documentation=man: found
	# through MANPATH). Dependencies such as sysinit.target are not in the
	# scratch root: --recursive-errors=no. Any message is a failure (an
	# unknown key is only printed).
	MANPATH="$root/usr/share/man" systemd-analyze verify --recursive-errors=no --root="$root" \
		/lib/systemd/system/gmemtrace-export.service >"$tmp/verify.log" 2>&1
	rc=$?
	if [ "$rc" = 0 ] && [ ! -s "$tmp/verify.log" ]; then
		score=$(systemd-analyze security --offline=yes --root="$root" \
			/lib/systemd/system/gmemtrace-export.service 2>/dev/null |
			sed -n 's/.*Overall exposure level for [^:]*: //p')
		ok "systemd-analyze verify gmemtrace-export.service (package): clean; security exposure ${score:-?}"
	else
		cat "$tmp/verify.log"
		ko "systemd-analyze verify (package)" "exit status $rc or messages (above)"
	fi
fi

# --- 7. make install / make uninstall into a DESTDIR (the package build
# left the copy built: nothing is recompiled). A policy file stands in for
# docs/policies/ (issue 10) when the tree has none yet.
dest="$tmp/destdir"
mkdir -p "$src/docs/policies"
[ -n "$(ls -A "$src/docs/policies")" ] || echo "# stand-in policy" >"$src/docs/policies/example.policy"
policies=$(cd "$src/docs/policies" && find . -type f | sed 's|^\./||' | sort)
if clean_env make -C "$src" -s install DESTDIR="$dest" >"$tmp/install.log" 2>&1; then
	bad=""
	for f in sbin/gmemtrace bin/gmem-workload share/man/man8/gmemtrace.8 share/man/man1/gmem-workload.1 \
		lib/systemd/system/gmemtrace-export.service share/doc/gmemtrace/README.md \
		share/doc/gmemtrace/examples/gmemtrace.default; do
		[ -e "$dest/usr/local/$f" ] || bad="$bad missing:$f"
	done
	for f in $policies; do
		[ -e "$dest/usr/local/share/doc/gmemtrace/examples/policies/$f" ] || bad="$bad missing:policies/$f"
	done
	other=$(cd "$dest" && find . -not -type d | grep -v '^\./usr/local/' | head -3)
	[ -z "$other" ] || bad="$bad outside-PREFIX:$other"
	if [ -z "$bad" ]; then
		ok "make install DESTDIR: $(cd "$dest" && find . -not -type d | wc -l) files under /usr/local"
	else
		ko "make install DESTDIR" "$bad"
	fi
	MANPATH="$dest/usr/local/share/man" systemd-analyze verify --recursive-errors=no --root="$dest" \
		/usr/local/lib/systemd/system/gmemtrace-export.service >"$tmp/verify2.log" 2>&1
	rc=$?
	if [ "$rc" = 0 ] && [ ! -s "$tmp/verify2.log" ] &&
		grep -q '^ExecStart=/usr/local/sbin/gmemtrace ' "$dest/usr/local/lib/systemd/system/gmemtrace-export.service"; then
		ok "systemd-analyze verify gmemtrace-export.service (make install, ExecStart=/usr/local/sbin/gmemtrace): clean"
	else
		cat "$tmp/verify2.log"
		ko "systemd-analyze verify (make install)" "exit status $rc or messages (above)"
	fi
	if clean_env make -C "$src" -s uninstall DESTDIR="$dest" >>"$tmp/install.log" 2>&1; then
		left=$(cd "$dest" && find . -not -type d)
		owndir=$(cd "$dest" && find . -path '*gmemtrace*')
		if [ -z "$left" ] && [ -z "$owndir" ]; then
			ok "make uninstall DESTDIR: no file left, no gmemtrace directory left"
		else
			ko "make uninstall DESTDIR" "left behind: $left $owndir"
		fi
	else
		cat "$tmp/install.log"
		ko "make uninstall DESTDIR" "failed (log above)"
	fi
else
	cat "$tmp/install.log"
	ko "make install DESTDIR" "failed (log above)"
fi

# --- 8. the working tree's build/ was not touched
if [ -d "$OUTPUT" ] && [ -n "$(find "$OUTPUT" -newer "$stamp" -not -name '*.log' -print -quit)" ]; then
	ko "working tree untouched" "files in $OUTPUT changed during the test"
else
	ok "working tree untouched ($OUTPUT not written)"
fi

echo "pkg: $(($(date +%s) - started)) s"
finish
