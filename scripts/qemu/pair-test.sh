#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# pair-test.sh [OUTDIR] -- two real Linux VMs (L2) under eptgate's QEMU inside the emulated CPU.
#
#   scripts/qemu/payload.sh L1 OUTDIR/payload   (cached builds) QEMU, the kernels, eptgate.ko
#                                          for L1, eptgate_net.ko, the signed trampoline
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

"$here/payload.sh" "$l1" "$out/payload"
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
