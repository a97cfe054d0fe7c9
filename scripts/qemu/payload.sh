#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# payload.sh L1SERIES PAYLOAD_DIR -- what the two-VM tests (pair-test.sh, chain-test.sh) carry
# into the emulated CPU, built (each step cached) and packed by mkpayload.sh into PAYLOAD_DIR:
#
#   scripts/qemu/build.sh                  eptgate's qemu-system-x86_64
#   scripts/bochs/kernel.sh 6.1 $KDIR      the Debian 6.1 kernel of the L2 guests
#   scripts/bochs/kernel.sh L1SERIES       ... and L1's (6.1 or 6.12)
#   make module (L1's headers)             eptgate.ko for L1 (B/kL1SERIES)
#   make guest-linux guest                 eptgate_net.ko and tramp.bin, the trampoline signed
#                                          with a key of the tests' own ($B/qemu-pair-key,
#                                          made once), whose certificate L1 adds to the keyring
# Env: KDIR (default $B/kernel-6.1), EPTGATE_BUILD (B), SIGN_FILE, and mkpayload.sh's.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
top=$(cd "$here/../.." && pwd)
B=${EPTGATE_BUILD:-$top/build}
[ "$#" -eq 2 ] || { echo "usage: $0 L1SERIES PAYLOAD_DIR" >&2; exit 2; }
l1=$1
export KDIR=${KDIR:-$B/kernel-6.1}

"$here/build.sh"
"$top/scripts/bochs/kernel.sh" 6.1 "$KDIR"
"$top/scripts/bochs/kernel.sh" "$l1" "$B/kernel-$l1"
# the 6.1 headers' linux-kbuild has sign-file; resolved paths: kbuild finds objtool
# relative to the real tree (build/headers-* may be a symlink)
"$top/scripts/bochs/headers.sh" 6.1 "$B/headers-6.1" >/dev/null
kdirl1=$(readlink -f "$("$top/scripts/bochs/headers.sh" "$l1" "$B/headers-$l1")")
make -s -C "$top" module KDIR="$kdirl1" B="$B/k$l1" >/dev/null
export EPTGATE_KO=$B/k$l1/mod-default/eptgate.ko
make -s -C "$top" guest-linux B="$B" >/dev/null
make -s -C "$top" guest B="$B" >/dev/null
keys=$B/qemu-pair-key
[ -s "$keys/signing_key.pem" ] ||
	EPTGATE_KEY_CN="eptgate pair-test key" "$top/guest/sign/eptgate-keygen" "$keys" >/dev/null
export SIGN_FILE=${SIGN_FILE:-$B/headers-6.1/root/usr/lib/linux-kbuild-6.1/scripts/sign-file}
"$top/guest/sign/eptgate-sign" "$keys/signing_key.pem" "$keys/signing_cert.der" \
	"$B/guest/tramp.bin" "$keys/tramp.signed" >/dev/null
export EG_NET_KO=$B/guest-linux/eptgate_net.ko EG_TRAMP_FW=$keys/tramp.signed
export EG_SIGNING_CERT=$keys/signing_cert.der
"$here/mkpayload.sh" "$2"
