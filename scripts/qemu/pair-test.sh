#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# pair-test.sh [OUTDIR] -- two real Linux VMs (L2) under eptgate's QEMU inside the emulated CPU.
#
#   scripts/qemu/build.sh                  (cached) eptgate's qemu-system-x86_64
#   scripts/bochs/kernel.sh 6.1 $KDIR      (cached) the Debian 6.1 kernel package + vmlinux
#   make module (6.1 headers, B=$B/k6.1)   eptgate.ko for L1 (the receiver's QEMU binds B)
#   make guest-linux guest                 eptgate_net.ko and tramp.bin, signed with a key of
#                                          the test's own ($B/qemu-pair-key) for the fast path
#   scripts/qemu/mkpayload.sh OUTDIR/payload
#   scripts/bochs/run.sh 6.1 OUTDIR/payload OUTDIR/bochs     boot L1, run the pair, verdict
#                                          (PAIR_L1=6.12: L1 is Debian's 6.12, the module built
#                                          for it; the L2 guests stay Debian 6.1)
# The TAP results are on L1's console, OUTDIR/bochs/serial.txt (timed: serial.timed);
# verdict.sh's last line "N passed, N failed" is printed last but for the timing summary.
# Exit status: verdict.sh's.  Default OUTDIR: <repo>/build/qemu-pair.
# Env: EGUDP_COUNT L2_TIMEOUT (mkpayload.sh), TIMEOUT BX_MEGS ... (scripts/bochs/run.sh)
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
top=$(cd "$here/../.." && pwd)
B=${EPTGATE_BUILD:-$top/build}
# L1 runs PAIR_L1 (6.1 or 6.12) with eptgate.ko built for it; the L2 guests are Debian 6.1
l1=${PAIR_L1:-6.1}
export KDIR=${KDIR:-$B/kernel-6.1}
out=${1:-$B/qemu-pair}
mkdir -p "$out"

"$here/build.sh"
"$top/scripts/bochs/kernel.sh" 6.1 "$KDIR"
"$top/scripts/bochs/kernel.sh" "$l1" "$B/kernel-$l1"
# resolved: kbuild finds objtool relative to the real tree (build/headers-* may be a symlink)
kdir61=$(readlink -f "$("$top/scripts/bochs/headers.sh" 6.1 "$B/headers-6.1")")
kdirl1=$(readlink -f "$("$top/scripts/bochs/headers.sh" "$l1" "$B/headers-$l1")")
make -s -C "$top" module KDIR="$kdirl1" B="$B/k$l1" >/dev/null
export EPTGATE_KO=$B/k$l1/mod-default/eptgate.ko
# the fast path's sender: eptgate_net.ko for L2, and the trampoline signed with a key of the
# pair test's own (made once), whose certificate L1 adds to eptgate's keyring
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
"$here/mkpayload.sh" "$out/payload"
t0=$(date +%s)
rc=0
# the in-guest watchdog: make check exports WATCHDOG=300 for the selftest runs, too short
# for this payload (the fast pair alone is ~300 guest s): PAIR_WATCHDOG, or TIMEOUT - 120
to=${TIMEOUT:-1500}
KDIR=$B/kernel-$l1 TIMEOUT=$to WATCHDOG=${PAIR_WATCHDOG:-$((to - 120))} \
	"$top/scripts/bochs/run.sh" "$l1" "$out/payload" "$out/bochs" || rc=$?
t1=$(date +%s)

# wall seconds (since Bochs started) of the milestones, from boot.sh's serial.timed
first() { awk -v p="$1" 'index($0, p) { print $1; exit }' "$out/bochs/serial.timed" 2>/dev/null; }
{
	echo "pair-test: wall seconds since Bochs start (whole run.sh: $((t1 - t0)) s)"
	printf '  %-28s %s\n' "L1 payload begin" "$(first 'EPTGATE PAYLOAD BEGIN')"
	for r in A B; do
		printf '  %-28s %s\n' "$r: qemu start" "$(first "# $r: L1 qemu $r start")" \
			"$r: L2 /init" "$(first "# $r: L2 $r /init")" \
			"$r: ping done" "$(first "# $r: L2 $r ping done")" \
			"$r: qemu exit" "$(first "# $r: L1 qemu $r exit")"
	done
	printf '  %-28s %s\n' "L1 done" "$(first '=== EPTGATE DONE')"
} | tee "$out/timing.txt"
exit "$rc"
