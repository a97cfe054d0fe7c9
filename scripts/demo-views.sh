#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# demo-views.sh -- `make demo-views` (the first demo): boot a Debian kernel in the emulated Intel CPU,
# load kvm_intel and eptgate.ko, and run build/selftests/eptgate-demo: two
# VMs, one writing by VMFUNC through a window into the other, with the
# counters.  KERNEL=6.1 (default) or 6.12.
set -euo pipefail

top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
B=$top/build
series=${KERNEL:-6.1}
cd "$top"

scripts/deps.sh "$series" >/dev/null
abi=$(scripts/bochs/kver.sh "$series")
echo "demo: building eptgate.ko for $abi and the demo program"
kdir=$(scripts/bochs/headers.sh "$series" "$B/headers-$series" 2>/dev/null)
make -s module KDIR="$kdir" B="$B/$abi" >/dev/null
make -s selftests >/dev/null

p=$B/demo-payload-$series
rm -rf "$p" && mkdir -p "$p"
cp "$B/$abi/mod-default/eptgate.ko" "$B/selftests/eptgate-demo" "$p/"
strip --strip-debug "$p/eptgate.ko" "$p/eptgate-demo"
cat >"$p/run.sh" <<'RUN'
#!/bin/sh
n=0
insmod ./eptgate.ko && n=1
echo "$([ $n = 1 ] || echo 'not ')ok 1 - insmod eptgate.ko"
dmesg | grep 'eptgate: ready' | sed 's/^/DEMO: /'
./eptgate-demo
echo "$([ $? = 0 ] || echo 'not ')ok 2 - demo ran to completion"
rmmod eptgate
echo "$([ $? = 0 ] || echo 'not ')ok 3 - rmmod eptgate"
echo "1..3"
RUN
echo "demo: booting $abi in Bochs (emulated Haswell with VMX, EPT, VMFUNC); about 30-60 s"
rc=0
scripts/bochs/run.sh "$series" "$p" "$B/demo-$series" >"$B/demo-$series.log" 2>&1 || rc=$?
grep -a '^DEMO: ' "$B/demo-$series/serial.txt" | tr -d '\r' || true
tail -n 1 "$B/demo-$series.log"
echo "demo: full console log: $B/demo-$series/serial.txt"
exit "$rc"
