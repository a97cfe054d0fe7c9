#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# kernel.sh SERIES OUTDIR -- fetch and unpack the Debian kernel that the Bochs harness boots.
# SERIES: 6.1, 6.12 or 6.1-rt (PREEMPT_RT; kver.sh gives the ABI).
#
# OUTDIR (e.g. <repo>/build/kernel-6.1) ends up holding
#   linux-image-<abi>*.deb   the package, `apt-get download`ed (never installed)
#   pkg/                     its `dpkg -x` tree (boot/vmlinuz-<abi>, lib/modules/<abi>/...)
#   vmlinux                  the uncompressed ELF carried inside vmlinuz (booted via PVH)
#   modules/{irqbypass,kvm,kvm-intel}.ko   decompressed, module signature stripped
#   abi                      the ABI name, written last (marks a complete cache)
# A second call with everything in place does nothing.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
[ "$#" -eq 2 ] || { echo "usage: $0 SERIES OUTDIR   (SERIES: 6.1, 6.12, 6.1-rt; see kver.sh)" >&2; exit 2; }
series=$1
out=$2
abi=$("$here/kver.sh" "$series")
mods=(virt/lib/irqbypass arch/x86/kvm/kvm arch/x86/kvm/kvm-intel)

cache_complete() {
	local m
	[ -f "$out/abi" ] && [ "$(cat "$out/abi")" = "$abi" ] && [ -s "$out/vmlinux" ] || return 1
	for m in "${mods[@]}"; do
		[ -s "$out/modules/${m##*/}.ko" ] || return 1
	done
}
if cache_complete; then
	exit 0
fi

log() { echo "kernel.sh[$series]: $*" >&2; }
mkdir -p "$out"
out=$(cd "$out" && pwd)
rm -f "$out/abi"

# --- 1. the package ------------------------------------------------------------------------
find_deb() {
	local f
	for f in "$out"/linux-image-"$abi"_*.deb "$out"/linux-image-"$abi"-unsigned_*.deb; do
		[ -s "$f" ] && { printf '%s\n' "$f"; return 0; }
	done
	return 1
}
if ! deb=$(find_deb); then
	for pkg in "linux-image-$abi" "linux-image-$abi-unsigned"; do
		log "apt-get download $pkg"
		# (as root, apt warns that the download runs unsandboxed: harmless)
		if (cd "$out" && apt-get download -q "$pkg" >&2); then
			deb=$(find_deb) && break
		fi
	done
	deb=$(find_deb) || { log "could not download linux-image-$abi or linux-image-$abi-unsigned"; exit 1; }
fi
log "package $(basename "$deb")"

# --- 2. unpack (only into OUTDIR; nothing touches the host's /boot or /lib/modules) ---------
if [ ! -f "$out/pkg/boot/vmlinuz-$abi" ] || [ ! -d "$out/pkg/lib/modules/$abi" ]; then
	rm -rf "$out/pkg"
	dpkg -x "$deb" "$out/pkg"
fi
vmlinuz=$out/pkg/boot/vmlinuz-$abi
[ -f "$vmlinuz" ] || { log "no boot/vmlinuz-$abi in $(basename "$deb")"; exit 1; }

# --- 3. vmlinux out of the bzImage ---------------------------------------------------------
# x86 boot protocol: setup_sects (u8 @0x1f1; 0 means 4) gives the size of the real-mode part,
# (setup_sects+1)*512 bytes; payload_offset/payload_length (u32 @0x248/@0x24c) locate the
# compressed kernel inside the protected-mode part.  The compressor output carries a trailing
# 4-byte little-endian uncompressed size, which we cut off before decompressing.
le32() { od -An -tu4 -j "$2" -N4 "$1" | tr -d ' '; }
u8() { od -An -tu1 -j "$2" -N1 "$1" | tr -d ' '; }
extract_vmlinux() {
	local img=$1 dst=$2 sects pm off len magic tmp
	[ "$(dd if="$img" bs=1 skip=514 count=4 status=none)" = HdrS ] || { log "$img: not a bzImage"; return 1; }
	sects=$(u8 "$img" $((0x1f1)))
	[ "$sects" -ne 0 ] || sects=4
	pm=$(((sects + 1) * 512))
	off=$((pm + $(le32 "$img" $((0x248)))))
	len=$(le32 "$img" $((0x24c)))
	magic=$(od -An -tx1 -j "$off" -N4 "$img" | tr -d ' ')
	tmp=$dst.tmp
	case "$magic" in
	fd377a58) set -- xz -dc ;;     # XZ
	28b52ffd) set -- zstd -dcq ;;  # zstd
	1f8b08*) set -- gzip -dc ;;    # gzip
	*) log "$img: unknown payload compression (magic $magic)"; return 1 ;;
	esac
	dd if="$img" bs=1M iflag=skip_bytes,count_bytes skip="$off" count=$((len - 4)) status=none | "$@" >"$tmp"
	[ "$(od -An -tx1 -N5 "$tmp" | tr -d ' ')" = 7f454c4602 ] || { log "payload is not an ELF64"; rm -f "$tmp"; return 1; }
	mv -f "$tmp" "$dst"
}
if [ ! -s "$out/vmlinux" ]; then
	log "extracting vmlinux from $(basename "$vmlinuz")"
	extract_vmlinux "$vmlinuz" "$out/vmlinux"
fi

# --- 4. kvm modules: decompress + strip the appended signature ------------------------------
# signed module layout: <ELF> <signature sig_len bytes> <struct module_signature, 12 bytes,
# sig_len big-endian in the last 4> "~Module signature appended~\n" (28 bytes)
strip_signature() {
	local f=$1 size siglen
	tail -c 28 "$f" | cmp -s - <(printf '~Module signature appended~\n') || return 0
	size=$(stat -c %s "$f")
	siglen=$(od -An -tu1 -j $((size - 32)) -N4 "$f" | awk '{ print (($1 * 256 + $2) * 256 + $3) * 256 + $4 }')
	truncate -s $((size - 28 - 12 - siglen)) "$f"
}
mkdir -p "$out/modules"
kdir=$out/pkg/lib/modules/$abi/kernel
for m in "${mods[@]}"; do
	dst=$out/modules/${m##*/}.ko
	src=
	for f in "$kdir/$m.ko" "$kdir/$m.ko.xz" "$kdir/$m.ko.zst" "$kdir/$m.ko.gz"; do
		[ -f "$f" ] && { src=$f; break; }
	done
	[ -n "$src" ] || { log "missing $m.ko* in the package"; exit 1; }
	case "$src" in
	*.xz) xz -dc "$src" >"$dst.tmp" ;;
	*.zst) zstd -dcq "$src" >"$dst.tmp" ;;
	*.gz) gzip -dc "$src" >"$dst.tmp" ;;
	*) cp "$src" "$dst.tmp" ;;
	esac
	strip_signature "$dst.tmp"
	mv -f "$dst.tmp" "$dst"
done

printf '%s\n' "$abi" >"$out/abi"
log "ready: $out (vmlinux $(stat -c %s "$out/vmlinux") bytes)"
