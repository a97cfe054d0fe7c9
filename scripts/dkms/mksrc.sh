#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# mksrc.sh DIR -- lay out eptgate's DKMS source tree DIR/eptgate-VERSION (Kbuild, kmod/,
# uapi/ and dkms.conf with the version filled in); prints VERSION.
set -euo pipefail

top=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
ver=$(cat "$top/scripts/dkms/VERSION")
out=$1/eptgate-$ver
rm -rf "$out"
mkdir -p "$out"
cp -r "$top/Kbuild" "$top/kmod" "$top/uapi" "$out/"
sed "s/@VERSION@/$ver/" "$top/scripts/dkms/dkms.conf.in" >"$out/dkms.conf"
echo "$ver"
