#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# demo.sh -- `make demo`: two Linux VMs on one host, packets between them through eptgate.
#
# Inside the emulated Intel CPU (Bochs: VMX, EPT, VMFUNC) L1 runs Debian's 6.1 kernel with
# kvm_intel and eptgate.ko, and eptgate's QEMU (Debian's 7.2 + qemu/patches) starts two L2
# Debian 6.1 VMs: R, whose virtio-net has the eptgate queue pair and runs Debian's stock
# virtio_net, and S, with the eptgate-pci device and guest/linux's eptgate_net.ko.  S sends
# counted UDP streams to R over eg0: the signed trampoline copies them into R's RX ring from
# S's protected view, with no VM exit but the doorbell.  Then R turns its queue pair off and
# on, and L1 kills R's QEMU mid-stream and starts it again: S falls back to eth0, and the
# fast path comes back.  This is the pair test's fast path (scripts/qemu/pair-test.sh,
# PAIR_PHASES=fast); the first run builds QEMU (about 5 minutes), a run takes 4 to 6.
set -euo pipefail

top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
B=${EPTGATE_BUILD:-$top/build}
out=$B/demo-pair
cd "$top"

scripts/deps.sh 6.1 >/dev/null
echo "demo: eptgate's QEMU: $(scripts/qemu/build.sh 2>&1 | tail -n 1)"
echo "demo: booting Debian 6.1 in the emulated CPU; L1 starts R and S under eptgate's QEMU (a few minutes)"
rc=0
mkdir -p "$out"
PAIR_PHASES=fast FAST_COUNT=${FAST_COUNT:-20000} scripts/qemu/pair-test.sh "$out" >"$out.log" 2>&1 || rc=$?
con=$out/bochs/serial.txt
show() { # show PATTERN PREFIX: matching console lines, prefixed
	grep -a -- "$1" "$con" 2>/dev/null | tr -d '\r' | sed "s/^/$2/" || true
}
echo
echo "== what each VM saw (L2TAP lines of S, R and the restarted R2)"
show '^# \(S\|R\|R2\): L2TAP \(f\|rping\|mods\|stock\)' '  '
echo
echo "== S: ethtool -S eg0 (non-zero counters)"
show '^# S: L2 S ethtool -S eg0: ' '  ' | sed 's/# S: L2 S ethtool -S eg0: //' | tr ' ' '\n' |
	paste -d' ' - - | sed 's/^/    /'
echo
echo "== L1: eptgate and the QEMUs"
show '^EGCTL: ' '  '
show '^# fast pair' '  '
echo
echo "demo: $(tail -n 3 "$out.log" | grep -E 'passed|failed' | tail -n 1)"
echo "demo: the whole console: $con; the run's log: $out.log"
exit "$rc"
