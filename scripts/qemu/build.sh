#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# build.sh -- build eptgate's KVM-only qemu-system-x86_64 from Debian's QEMU source.
#
#   1. build deps: apt-get install of the few packages a minimal build needs (only the
#      missing ones, checked with dpkg -s);
#   2. source: `apt-get source --download-only qemu` through a private apt configuration
#      under $B/qemu/apt (deb-src entries for the mirror(s) the machine already uses,
#      Signed-By debian-archive-keyring; /etc/apt is only read, never written);
#   3. `dpkg-source -x` (Debian's patches applied), then qemu/patches/series in order;
#   4. configure with qemu/devices-x86_64-eptgate.mak, build qemu-system-x86_64;
#   5. firmware for q35 (SeaBIOS, option ROMs) from the seabios and qemu-system-data
#      packages (apt-get download + dpkg -x, never installed).
#
# Output ($B = <repo>/build, or $EPTGATE_BUILD):
#   $B/qemu/bin/qemu-system-x86_64   $B/qemu/share/   (firmware, pass with -L)
#   $B/qemu/stamp                    cache key; equal key => nothing to do
#   $B/qemu/build.log                configure + ninja output;  $B/qemu/version
# Cache key: sha256 of this script, the devices file, the series file and every patch it
# lists.  Env: QEMU_FORCE=1 rebuilds; QEMU_JOBS (default nproc).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
top=$(cd "$here/../.." && pwd)
B=${EPTGATE_BUILD:-$top/build}
Q=$B/qemu
pdir=$top/qemu/patches
devices=$top/qemu/devices-x86_64-eptgate.mak
log() { echo "qemu/build.sh: $*" >&2; }

# --- cache key -------------------------------------------------------------------------------
patches() { sed -e 's/#.*//' -e 's/[[:space:]]*$//' -e '/^$/d' "$pdir/series"; }
key=$(
	cd "$top"
	{
		sha256sum scripts/qemu/build.sh qemu/devices-x86_64-eptgate.mak qemu/patches/series
		patches | while read -r p; do sha256sum "qemu/patches/$p"; done
	} | sha256sum | cut -d' ' -f1
)
if [ "${QEMU_FORCE:-0}" != 1 ] && [ -x "$Q/bin/qemu-system-x86_64" ] &&
	[ "$(cat "$Q/stamp" 2>/dev/null)" = "$key" ]; then
	log "up to date ($Q/bin/qemu-system-x86_64, key ${key:0:12})"
	exit 0
fi
t0=$(date +%s)
mkdir -p "$Q"
rm -f "$Q/stamp"

# --- 1. build dependencies -------------------------------------------------------------------
# Found by trying on bookworm: meson (QEMU 7.2 needs >= 0.61.5; bookworm has 1.0.1), glib,
# pixman (softmmu always links it), zlib, libfdt (x86_64-softmmu has TARGET_NEED_FDT=y in 7.2,
# for microvm, even when only q35 is built), ninja, pkg-config, python3; dpkg-dev for
# dpkg-source.
deps=(meson ninja-build pkg-config python3 libglib2.0-dev libpixman-1-dev zlib1g-dev libfdt-dev
	dpkg-dev debian-archive-keyring)
need=()
for p in "${deps[@]}"; do
	dpkg -s "$p" >/dev/null 2>&1 || need+=("$p")
done
if [ "${#need[@]}" -gt 0 ]; then
	log "installing build dependencies: ${need[*]}"
	inst() { DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >&2; }
	inst "${need[@]}" || { apt-get update -qq >&2 && inst "${need[@]}"; }
fi

# --- 2. source via a private apt configuration -----------------------------------------------
A=$Q/apt
mkdir -p "$A/sources" "$A/lists/partial" "$A/cache/archives/partial"
# deb-src twins of the machine's Debian entries (deb822 *.sources and one-line *.list files
# whose Signed-By is the Debian archive keyring, or one-line entries without options).
src_entries() {
	local f
	for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.sources /etc/apt/sources.list.d/*.list; do
		[ -f "$f" ] || continue
		case "$f" in
		*.sources)
			awk 'function flush() { if (deb && uris != "" && key ~ /debian-archive-keyring/)
					print uris "|" suites "|" comps; deb = 0; uris = suites = comps = key = "" }
				/^[[:space:]]*$/ { flush(); next }
				/^#/ { next }
				tolower($1) == "types:" { deb = ($0 ~ /[[:space:]]deb([[:space:]]|$)/) }
				tolower($1) == "uris:" { uris = $2 }
				tolower($1) == "suites:" { $1 = ""; suites = substr($0, 2) }
				tolower($1) == "components:" { $1 = ""; comps = substr($0, 2) }
				tolower($1) == "signed-by:" { key = $2 }
				END { flush() }' "$f" ;;
		*)
			awk '$1 == "deb" && ($2 !~ /^\[/ || $2 ~ /debian-archive-keyring/) {
					i = 2; if ($2 ~ /^\[/) { while ($i !~ /\]$/) i++; i++ }
					c = ""; for (j = i + 2; j <= NF; j++) c = c " " $j
					print $i "|" $(i + 1) "|" substr(c, 2) }' "$f" ;;
		esac
	done | sort -u
}
{
	src_entries | while IFS='|' read -r uris suites comps; do
		printf 'Types: deb-src\nURIs: %s\nSuites: %s\nComponents: %s\n' "$uris" "$suites" "$comps"
		printf 'Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg\n\n'
	done
} >"$A/sources/debian-src.sources"
[ -s "$A/sources/debian-src.sources" ] || { log "no Debian entry found in /etc/apt"; exit 1; }
apt_priv=(-o Dir::Etc::SourceList=/dev/null -o Dir::Etc::SourceParts="$A/sources"
	-o Dir::State::Lists="$A/lists" -o Dir::Cache="$A/cache"
	-o Dir::Cache::pkgcache= -o Dir::Cache::srcpkgcache= -o APT::Sandbox::User=root)
S=$Q/dl
mkdir -p "$S"
if ! ls "$S"/qemu_*.dsc >/dev/null 2>&1; then
	log "apt-get update (private lists in $A/lists)"
	apt-get "${apt_priv[@]}" -q update >&2
	log "apt-get source --download-only qemu"
	(cd "$S" && apt-get "${apt_priv[@]}" -q source --download-only qemu >&2)
fi
dsc=$(ls "$S"/qemu_*.dsc | sort -V | tail -n 1)
ver=$(awk '$1 == "Version:" { print $2 }' "$dsc")
log "source $(basename "$dsc") (version $ver)"

# --- 3. unpack, Debian patches (dpkg-source), eptgate patches --------------------------------
T=$Q/src
rm -rf "$T"
dpkg-source -q --no-check -x "$dsc" "$T" >&2
patches | while read -r p; do
	log "applying $p"
	patch -d "$T" -p1 -s --no-backup-if-mismatch <"$pdir/$p"
done
cp "$devices" "$T/configs/devices/x86_64-softmmu/eptgate.mak"

# --- 4. configure + build --------------------------------------------------------------------
log "configure + build (log: $Q/build.log)"
if ! (
	cd "$T"
	./configure --target-list=x86_64-softmmu \
		--without-default-features --without-default-devices \
		--with-devices-x86_64=eptgate \
		--enable-kvm --disable-tcg \
		--disable-docs --disable-install-blobs --with-git-submodules=ignore \
		--audio-drv-list="" --disable-werror \
		--with-pkgversion="Debian $ver, eptgate" &&
	ninja -C build -j "${QEMU_JOBS:-$(nproc)}" qemu-system-x86_64
) >"$Q/build.log" 2>&1; then
	tail -n 30 "$Q/build.log" >&2
	log "build failed (full log: $Q/build.log)"
	exit 1
fi
mkdir -p "$Q/bin"
install -m 0755 "$T/build/qemu-system-x86_64" "$Q/bin/qemu-system-x86_64.tmp"
mv -f "$Q/bin/qemu-system-x86_64.tmp" "$Q/bin/qemu-system-x86_64"

# --- 5. firmware (q35 + -kernel): SeaBIOS, the linuxboot/PVH option ROMs, kvmvapic ------------
F=$Q/fw
mkdir -p "$F"
for p in seabios qemu-system-data; do
	ls "$F/${p}_"*.deb >/dev/null 2>&1 || (cd "$F" && apt-get download -q "$p" >&2)
done
rm -rf "$F/x" "$Q/share"
for d in "$F"/*.deb; do dpkg -x "$d" "$F/x"; done
mkdir -p "$Q/share"
cp -L "$F/x/usr/share/seabios/bios-256k.bin" "$Q/share/"
for f in kvmvapic.bin linuxboot_dma.bin linuxboot.bin pvh.bin multiboot_dma.bin; do
	cp -L "$F/x/usr/share/qemu/$f" "$Q/share/"
done

printf '%s\n' "$ver" >"$Q/version"
printf '%s\n' "$key" >"$Q/stamp"
log "built $Q/bin/qemu-system-x86_64 (QEMU $ver) in $(($(date +%s) - t0)) s"
