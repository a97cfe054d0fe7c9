#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# run.sh SERIES PAYLOAD_DIR OUTDIR -- the whole flow:
#   kernel.sh (cached in $KDIR, default <repo>/build/kernel-SERIES) -> mkimage.sh -> boot.sh
#   -> verdict.sh OUTDIR/serial.txt.   Exit status = verdict.sh's (0 = all passed, clean kernel).
# Knobs (env): BX_CPUS TIMEOUT BX_IPS BX_MEGS CMDLINE_EXTRA LOGLEVEL KVM_INTEL_ARGS KEEP KDIR
#              DEPS=1 (run deps.sh first)
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
[ "$#" -eq 3 ] || { echo "usage: $0 SERIES PAYLOAD_DIR OUTDIR   (SERIES: 6.1, 6.12, 6.1-rt; see kver.sh)" >&2; exit 2; }
series=$1
payload=$2
out=$3
export KDIR=${KDIR:-$here/../../build/kernel-$series}

[ "${DEPS:-0}" != 1 ] || "$here/deps.sh" "$series"
"$here/kernel.sh" "$series" "$KDIR"
"$here/mkimage.sh" "$series" "$payload" "$out"
boot_rc=0
"$here/boot.sh" "$out" || boot_rc=$?
[ "$boot_rc" -eq 0 ] || echo "run.sh[$series]: boot.sh exit status $boot_rc (see $out/timing.txt)" >&2
echo "run.sh[$series]: verdict for $out/serial.txt"
"$here/verdict.sh" "$out/serial.txt"
