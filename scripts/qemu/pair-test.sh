#!/bin/bash
# pair-test.sh [OUTDIR] -- two real Linux VMs (L2) under eptgate's QEMU inside the emulated CPU.
#
#   scripts/qemu/build.sh                  (cached) eptgate's qemu-system-x86_64
#   scripts/bochs/kernel.sh 6.1 $KDIR      (cached) the Debian 6.1 kernel package + vmlinux
#   make module (6.1 headers, B=$B/k6.1)   eptgate.ko for L1 (the receiver's QEMU binds B)
#   scripts/qemu/mkpayload.sh OUTDIR/payload
#   scripts/bochs/run.sh 6.1 OUTDIR/payload OUTDIR/bochs     boot L1, run the pair, verdict
# The TAP results are on L1's console, OUTDIR/bochs/serial.txt (timed: serial.timed);
# verdict.sh's last line "N passed, N failed" is printed last but for the timing summary.
# Exit status: verdict.sh's.  Default OUTDIR: <repo>/build/qemu-pair.
# Env: EGUDP_COUNT L2_TIMEOUT (mkpayload.sh), TIMEOUT BX_MEGS ... (scripts/bochs/run.sh)
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
top=$(cd "$here/../.." && pwd)
B=${EPTGATE_BUILD:-$top/build}
export KDIR=${KDIR:-$B/kernel-6.1}
out=${1:-$B/qemu-pair}
mkdir -p "$out"

"$here/build.sh"
"$top/scripts/bochs/kernel.sh" 6.1 "$KDIR"
# resolved: kbuild finds objtool relative to the real tree (build/headers-6.1 may be a symlink)
kdir61=$(readlink -f "$("$top/scripts/bochs/headers.sh" 6.1 "$B/headers-6.1")")
make -s -C "$top" module KDIR="$kdir61" B="$B/k6.1" >/dev/null
export EPTGATE_KO=$B/k6.1/mod-default/eptgate.ko
"$here/mkpayload.sh" "$out/payload"
t0=$(date +%s)
rc=0
TIMEOUT=${TIMEOUT:-1500} "$top/scripts/bochs/run.sh" 6.1 "$out/payload" "$out/bochs" || rc=$?
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
