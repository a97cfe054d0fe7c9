#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# deps.sh [SERIES...] -- make sure the Debian packages the Bochs harness needs are present,
# and the kernel headers of each SERIES (default: 6.1 6.12) are unpacked under the build dir.
#
# Idempotent: packages are checked with `dpkg -s`; apt-get (update + install) runs only when
# something is missing.  No kernel package is ever installed: headers.sh `dpkg -x`es the
# headers into $EPTGATE_BUILD/headers-SERIES (default <repo>/build), kernel.sh the images.
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
	gcc-12 pahole                    # what the headers' kbuild calls (CC=gcc-12; BTF on 6.12)
)
build=${EPTGATE_BUILD:-$here/../../build}
series=("$@")
[ "${#series[@]}" -gt 0 ] || series=(6.1 6.12)

missing=()
for p in "${wanted[@]}"; do
	dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done

if [ "${#missing[@]}" -gt 0 ]; then
	echo "deps.sh: installing: ${missing[*]}" >&2
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

for s in "${series[@]}"; do
	"$here/headers.sh" "$s" "$build/headers-$s" >/dev/null
done
