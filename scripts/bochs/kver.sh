#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# kver.sh SERIES -- print the Debian kernel ABI name (e.g. 6.1.0-56-amd64, 6.12.117+deb12-amd64)
# that the harness boots and that out-of-tree modules must be built against.
#
#   6.1 : the ABI linux-headers-amd64 depends on
#   6.12: the newest linux-headers-6.12.*+deb12-amd64
#   6.1-rt: the PREEMPT_RT flavour of 6.1 (what linux-headers-rt-amd64 depends on, e.g.
#         6.1.0-56-rt-amd64: the same ABI number as 6.1's)
# All come from apt-cache alone: no headers need to be installed (headers.sh unpacks them
# under build/ instead).
#
# apt-cache costs ~0.7-1.7 s here (no pkgcache.bin), so the answer is memoized in
# $EPTGATE_BUILD/.kver-SERIES (default build dir: <repo>/build) and reused while it is newer
# than the apt lists.  KVER_NOCACHE=1 bypasses the memo.
set -euo pipefail

usage() { echo "usage: $0 6.1|6.12|6.1-rt" >&2; exit 2; }
[ "$#" -eq 1 ] || usage

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
build=${EPTGATE_BUILD:-$here/../../build}
memo=$build/.kver-$1

memo_fresh() {
	local ref
	[ "${KVER_NOCACHE:-0}" != 1 ] && [ -s "$memo" ] || return 1
	for ref in /var/lib/apt/lists; do
		[ ! -e "$ref" ] || [ "$memo" -nt "$ref" ] || return 1
	done
}

case "$1" in 6.1 | 6.12 | 6.1-rt) ;; *) usage ;; esac
if memo_fresh; then
	cat "$memo"
	exit 0
fi

abi=
case "$1" in
6.1)
	abi=$(apt-cache depends linux-headers-amd64 2>/dev/null |
		sed -n 's/^ *Depends: linux-headers-\(6\.1\.[0-9][0-9]*-[0-9][0-9]*-amd64\)$/\1/p' |
		head -n 1) || true
	;;
6.1-rt)
	abi=$(apt-cache depends linux-headers-rt-amd64 2>/dev/null |
		sed -n 's/^ *Depends: linux-headers-\(6\.1\.[0-9][0-9]*-[0-9][0-9]*-rt-amd64\)$/\1/p' |
		head -n 1) || true
	;;
6.12)
	abi=$(apt-cache pkgnames linux-headers-6.12. 2>/dev/null |
		sed -n 's/^linux-headers-\(6\.12\.[0-9][0-9]*+deb12-amd64\)$/\1/p' |
		sort -V | tail -n 1) || true
	;;
*)
	usage
	;;
esac

if [ -z "$abi" ]; then
	echo "kver.sh: cannot determine the kernel ABI for series $1" >&2
	exit 1
fi
printf '%s\n' "$abi"
# best effort memo (atomic rename: parallel callers never see a partial file)
if [ "${KVER_NOCACHE:-0}" != 1 ] && mkdir -p "$build" 2>/dev/null &&
	tmp=$(mktemp "$memo.XXXXXX" 2>/dev/null); then
	if printf '%s\n' "$abi" >"$tmp" && chmod 644 "$tmp" && mv -f "$tmp" "$memo"; then :; else rm -f "$tmp"; fi
fi
