#!/bin/bash
# deps.sh [SERIES...] -- make sure the Debian packages the Bochs harness needs are present.
#
# Idempotent: packages are checked with `dpkg -s`; apt-get (update + install) runs only when
# something is missing.  SERIES (6.1 and/or 6.12, default: both) selects which
# linux-headers-<abi> packages are wanted as well (the ABI comes from kver.sh).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

wanted=(
	bochs bochsbios vgabios          # the emulator, its BIOS and VGA BIOS
	bochs-term                       # the only headless display library (no "nogui" in Debian)
	busybox-static                   # initramfs userland
	isolinux syslinux-common         # ISO boot loader + mboot.c32
	xorriso                          # ISO creation
	cpio xz-utils zstd               # initramfs, kernel payload / module decompression
	gcc libc6-dev binutils           # the PVH stub (gcc -m32 -ffreestanding) and test programs
	bc util-linux coreutils          # timing arithmetic, script(1), timeout(1)
)

series=("$@")
[ "${#series[@]}" -gt 0 ] || series=(6.1 6.12)
for s in "${series[@]}"; do
	if abi=$("$here/kver.sh" "$s") && [ -n "$abi" ]; then
		wanted+=("linux-headers-$abi")
	else
		echo "deps.sh: warning: no kernel ABI known for series $s" >&2
	fi
done

missing=()
for p in "${wanted[@]}"; do
	dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done

if [ "${#missing[@]}" -eq 0 ]; then
	exit 0
fi

echo "deps.sh: installing: ${missing[*]}" >&2
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
