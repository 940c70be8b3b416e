# SPDX-License-Identifier: GPL-2.0-only
# shellcheck shell=bash
# Helpers shared by tests/vm/run.sh and tests/vm/build-kernel.sh (sourced, bash).
#
# Debian packages come through a private apt configuration kept in the cache:
# its own sources.list, lists and package cache, so the system's sources,
# lists and /var/cache/apt are never touched.

GMT_CACHE=${GMT_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/gmemtrace}
GMT_APT_DIR=$GMT_CACHE/apt
# refresh the private package lists at most this often (hours)
GMT_APT_MAX_AGE=${GMT_APT_MAX_AGE:-12}
# suites the private configuration lists (the matrix and build-kernel.sh use these)
GMT_APT_SUITES=${GMT_APT_SUITES:-"trixie trixie-backports"}

gmt_log() { printf '%s\n' "$*" >&2; }
gmt_die() { printf '%s: error: %s\n' "${GMT_PROG:-vmtest}" "$*" >&2; exit 2; }

# The Debian archive to use: $GMT_DEBIAN_MIRROR, else the one the system
# already uses when it is Debian (a local mirror may be the only way out),
# else deb.debian.org.
gmt_debian_mirror() {
	local uri=""
	if [ -n "${GMT_DEBIAN_MIRROR:-}" ]; then
		printf '%s\n' "$GMT_DEBIAN_MIRROR"
		return
	fi
	if grep -qs '^ID=debian' /etc/os-release; then
		if [ -r /etc/apt/sources.list.d/debian.sources ]; then
			uri=$(awk '/^URIs:/ { print $2; exit }' /etc/apt/sources.list.d/debian.sources)
		fi
		if [ -z "$uri" ] && [ -r /etc/apt/sources.list ]; then
			uri=$(awk '$1 == "deb" && $0 !~ /security/ {
				for (i = 2; i <= NF; i++) if ($i ~ /^[a-z]+:\/\//) { print $i; exit } }' \
				/etc/apt/sources.list)
		fi
	fi
	printf '%s\n' "${uri:-http://deb.debian.org/debian}"
}

# Sets GMT_APT (an array of apt options) and writes the private sources.list.
gmt_apt_init() {
	local mirror keyring="" suite
	command -v apt-get >/dev/null 2>&1 || return 1
	command -v dpkg-deb >/dev/null 2>&1 || return 1
	mkdir -p "$GMT_APT_DIR/lists/partial" "$GMT_APT_DIR/cache/archives/partial"
	mirror=$(gmt_debian_mirror)
	[ -r /usr/share/keyrings/debian-archive-keyring.gpg ] &&
		keyring=" [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg]"
	{
		for suite in $GMT_APT_SUITES; do
			printf 'deb%s %s %s main\n' "$keyring" "$mirror" "$suite"
		done
	} >"$GMT_APT_DIR/sources.list.new"
	# a changed mirror or suite list invalidates the lists
	if ! cmp -s "$GMT_APT_DIR/sources.list.new" "$GMT_APT_DIR/sources.list"; then
		mv "$GMT_APT_DIR/sources.list.new" "$GMT_APT_DIR/sources.list"
		rm -f "$GMT_APT_DIR/updated.stamp"
	else
		rm -f "$GMT_APT_DIR/sources.list.new"
	fi
	GMT_APT=(-o "Dir::Etc::sourcelist=$GMT_APT_DIR/sources.list"
		-o "Dir::Etc::sourceparts=-"
		-o "Dir::State::Lists=$GMT_APT_DIR/lists"
		-o "Dir::Cache=$GMT_APT_DIR/cache"
		-o "Acquire::Retries=1"
		-o "Acquire::http::Timeout=20"
		-o "Acquire::https::Timeout=20")
	# root's cache dir is not readable by apt's _apt sandbox user
	[ "$(id -u)" = 0 ] && GMT_APT+=(-o "APT::Sandbox::User=root")
	return 0
}

# Refresh the private lists when older than GMT_APT_MAX_AGE hours (or when
# forced with GMT_APT_UPDATE=1). Returns non-zero when apt is unreachable;
# callers then fall back to old lists or to what the cache holds.
GMT_APT_TRIED=""
gmt_apt_update() {
	local stamp=$GMT_APT_DIR/updated.stamp
	[ -n "$GMT_APT_TRIED" ] && [ "$GMT_APT_TRIED" = ok ] && return 0
	[ -n "$GMT_APT_TRIED" ] && return 1
	if [ "${GMT_APT_UPDATE:-0}" != 1 ] && [ -e "$stamp" ] &&
		[ -n "$(find "$stamp" -mmin -$((GMT_APT_MAX_AGE * 60)))" ]; then
		GMT_APT_TRIED=ok
		return 0
	fi
	gmt_log "vm: refreshing Debian package lists ($GMT_APT_SUITES) in $GMT_APT_DIR"
	if timeout 300 apt-get "${GMT_APT[@]}" -qq update >"$GMT_APT_DIR/update.log" 2>&1 &&
		! grep -Eq 'Failed to fetch|index files failed' "$GMT_APT_DIR/update.log"; then
		touch "$stamp"
		GMT_APT_TRIED=ok
		return 0
	fi
	gmt_log "vm: apt-get update failed (see $GMT_APT_DIR/update.log); using what is cached"
	GMT_APT_TRIED=failed
	return 1
}

# gmt_apt_newest GLOB: the newest package name matching GLOB (shell glob on
# the name, '*' standing for the version part) in the private lists.
gmt_apt_newest() {
	local glob=$1 prefix=${1%%\**} name
	apt-cache "${GMT_APT[@]}" pkgnames "$prefix" 2>/dev/null |
		while IFS= read -r name; do
			# shellcheck disable=SC2053 # the glob is meant to match
			[[ $name == $glob ]] && printf '%s\n' "$name"
		done | sort -V | tail -n 1
}

# gmt_apt_version NAME: the newest version of package NAME in the lists.
gmt_apt_version() {
	apt-cache "${GMT_APT[@]}" show "$1" 2>/dev/null |
		awk '/^Version:/ { print $2 }' | sort -V | tail -n 1
}

# gmt_apt_download DIR NAME...: download packages into DIR.
gmt_apt_download() {
	local dir=$1
	shift
	(cd "$dir" && timeout 900 apt-get "${GMT_APT[@]}" -qq download "$@")
}

# Decompress a kernel module (.ko, .ko.xz, .ko.zst, .ko.gz) to OUT.
gmt_unpack_ko() {
	case $1 in
	*.ko.xz) xz -dc "$1" >"$2" ;;
	*.ko.zst) zstd -qdc "$1" >"$2" ;;
	*.ko.gz) gzip -dc "$1" >"$2" ;;
	*.ko) cp "$1" "$2" ;;
	*) return 1 ;;
	esac
}
