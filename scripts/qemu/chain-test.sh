#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# chain-test.sh [OUTDIR] -- a service chain of three L2 VMs, A -> B -> C, under eptgate's
# QEMU inside the emulated CPU (Documentation/operations.rst, "A service chain").
#
#   A (eptgate-pci + eptgate_net) sends a counted egudp stream to C through its fast path
#   into B's stock virtio_net (the eptgate queue pair); B forwards it with the kernel's IP
#   forwarding out through its own eptgate-pci + eptgate_net into C's stock virtio_net.
#   B's QEMU is receiver and sender at once: one binding shared by both devices (patch 0008).
#
# Builds and packs the pair test's payload (payload.sh: QEMU, the 6.1 kernel, eptgate.ko,
# eptgate_net.ko, the signed trampoline; cached), then
# replaces its run.sh with chain-l1run.sh and appends to its l2initrd.img a cpio whose /init
# is chain-l2init (the kernel unpacks concatenated archives in order; a later member
# replaces an earlier one), and boots L1 in Bochs: scripts/bochs/run.sh 6.1 OUTDIR/payload
# OUTDIR/bochs.  TAP on L1's console (OUTDIR/bochs/serial.txt), judged by verdict.sh.
# Exit status: verdict.sh's.  Default OUTDIR: <repo>/build/qemu-chain.
# Env: CHAIN_COUNT (datagrams, default 5000), CHAIN_WAIT (egudp -t, s, 300), CHAIN_FWD (B's
#      net.ipv4.ip_forward, default 1; 0 must make the test fail), CHAIN_L2_TIMEOUT (s per
#      QEMU, 900), TIMEOUT (Bochs, 1500), BX_MEGS (L1 RAM, default 1536 here)
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
top=$(cd "$here/../.." && pwd)
B=${EPTGATE_BUILD:-$top/build}
export KDIR=${KDIR:-$B/kernel-6.1}
out=${1:-$B/qemu-chain}
mkdir -p "$out"

"$here/payload.sh" 6.1 "$out/payload"

# the chain's L1 script and L2 /init on top of the pair test's payload
P=$out/payload
install -m 0755 "$here/chain-l1run.sh" "$P/run.sh"
cat >"$P/chain.conf" <<CONF
CHAIN_COUNT=${CHAIN_COUNT:-5000}
CHAIN_WAIT=${CHAIN_WAIT:-300}
CHAIN_FWD=${CHAIN_FWD:-1}
CHAIN_L2_TIMEOUT=${CHAIN_L2_TIMEOUT:-900}
CONF
ov=$out/l2overlay
rm -rf "$ov" && mkdir -p "$ov"
install -m 0755 "$here/chain-l2init" "$ov/init"
(cd "$ov" && echo init | cpio -o -H newc -R 0:0 --quiet) >>"$P/l2initrd.img"
rm -rf "$ov"

t0=$(date +%s)
rc=0
to=${TIMEOUT:-1500}
KDIR=$KDIR TIMEOUT=$to WATCHDOG=${CHAIN_WATCHDOG:-$((to - 120))} BX_MEGS=${BX_MEGS:-1536} \
	"$top/scripts/bochs/run.sh" 6.1 "$P" "$out/bochs" || rc=$?
t1=$(date +%s)

# wall seconds (since Bochs started) of the milestones, from boot.sh's serial.timed
first() { awk -v p="$1" 'index($0, p) { print $1; exit }' "$out/bochs/serial.timed" 2>/dev/null; }
{
	echo "chain-test: wall seconds since Bochs start (whole run.sh: $((t1 - t0)) s)"
	printf '  %-28s %s\n' "L1 payload begin" "$(first 'EPTGATE PAYLOAD BEGIN')"
	for r in CA CB CC; do
		printf '  %-28s %s\n' "$r: qemu start" "$(first "# $r: L1 qemu $r start")" \
			"$r: L2 /init" "$(first "# $r: L2 $r /init")" \
			"$r: done" "$(first "# $r: L2 $r done")" \
			"$r: qemu exit" "$(first "# $r: L1 qemu $r exit")"
	done
	printf '  %-28s %s\n' "A: stream done" "$(first '# CA: L2 CA stream done')"
	printf '  %-28s %s\n' "L1 done" "$(first '=== EPTGATE DONE')"
} | tee "$out/timing.txt"
exit "$rc"
