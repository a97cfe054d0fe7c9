#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# headers.sh SERIES OUTDIR -- fetch and unpack the Debian kernel headers of SERIES into OUTDIR,
# without installing them, and print the KDIR to build out-of-tree modules against.
#
# Why: linux-headers-6.12.*+deb12-amd64 depends on linux-image-6.12.*, so `apt-get install`
# of the headers puts a kernel into the host's /boot and runs mkinitramfs.  Instead, the
# headers package and what it Depends on among linux-headers-* (the -common tree) and
# linux-kbuild-* (fixdep, modpost... host binaries built for Debian 12) are
# `apt-get download`ed and `dpkg -x`ed into one root, so that the packages' relative
# symlinks (scripts -> ../../lib/linux-kbuild-X.Y/scripts, ...) resolve inside it.
#
# OUTDIR (e.g. <repo>/build/headers-6.12) ends up holding
#   debs/*.deb      the packages (never installed)
#   root/           the union of their `dpkg -x` trees
#   kdir            the KDIR, root/usr/src/linux-headers-<abi>, written last (marks a
#                   complete cache)
# A second call with everything in place only prints the KDIR.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
[ "$#" -eq 2 ] || { echo "usage: $0 SERIES OUTDIR   (SERIES: see kver.sh)" >&2; exit 2; }
series=$1
out=$2
abi=$("$here/kver.sh" "$series")
log() { echo "headers.sh[$series]: $*" >&2; }

mkdir -p "$out"
out=$(cd "$out" && pwd)
kdir=$out/root/usr/src/linux-headers-$abi
if [ -f "$out/kdir" ] && [ "$(cat "$out/kdir")" = "$kdir" ] && [ -f "$kdir/Makefile" ]; then
	printf '%s\n' "$kdir"
	exit 0
fi
rm -f "$out/kdir"

# The headers package and its linux-headers-* / linux-kbuild-* dependencies.  The others
# (linux-image-* for 6.12, linux-base, gcc-12, linux-compiler-gcc-12-x86) are not needed to
# build a module, or are host tools deps.sh installs.
top=linux-headers-$abi
pkgs=("$top")
while read -r dep; do
	pkgs+=("$dep")
done < <(apt-cache depends "$top" 2>/dev/null |
	sed -n 's/^ *|\{0,1\}Depends: \(linux-\(headers\|kbuild\)-[^ <>]*\)$/\1/p' | sort -u)
[ "${#pkgs[@]}" -ge 2 ] || { log "apt-cache knows no dependencies of $top (apt-get update?)"; exit 1; }

mkdir -p "$out/debs"
for p in "${pkgs[@]}"; do
	compgen -G "$out/debs/${p}_*.deb" >/dev/null && continue
	log "apt-get download $p"
	# (as root, apt warns that the download runs unsandboxed: harmless)
	(cd "$out/debs" && apt-get download -q "$p" >&2) || { log "could not download $p"; exit 1; }
done

# --- unpack into one root (only under OUTDIR; nothing touches the host's /usr or /lib) ---
rm -rf "$out/root"
mkdir -p "$out/root"
for p in "${pkgs[@]}"; do
	for f in "$out/debs/${p}"_*.deb; do
		dpkg -x "$f" "$out/root"
	done
done
[ -f "$kdir/Makefile" ] || { log "no usr/src/linux-headers-$abi/Makefile in the packages"; exit 1; }
# The arch tree's Makefile is one absolute line, "include /usr/src/linux-headers-<x>-common/
# Makefile": point it into the root (the -common Makefile finds its srctree by itself).
sed -i "s|^include /usr/src/|include $out/root/usr/src/|" "$kdir/Makefile"
! grep -q '/usr/src/' <(grep -v "$out/root/" "$kdir/Makefile") ||
	{ log "$kdir/Makefile still refers to the host's /usr/src"; exit 1; }
# lib/modules/<abi>/{build,source} are absolute links to the host's /usr/src: drop them
rm -rf "$out/root/lib/modules"
# every tool kbuild runs must be reachable through the symlinks
for t in scripts/basic/fixdep scripts/mod/modpost; do
	[ -x "$kdir/$t" ] || { log "$kdir/$t missing or dangling"; exit 1; }
done

printf '%s\n' "$kdir" >"$out/kdir"
log "ready: $kdir"
printf '%s\n' "$kdir"
