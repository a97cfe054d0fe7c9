#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# check.sh [OUTDIR] -- `make check-qemu`: eptgate's QEMU build, then the two-VM pair test.
#   1. scripts/qemu/build.sh builds (or finds cached) qemu-system-x86_64
#   2. a second build.sh is a no-op (cache hit: the binary is not rebuilt)
#   3. eptgate-pci (qemu/patches) realizes / fails to realize on this host (-accel qtest);
#      recv-check.sh: virtio-net-pci's eptgate property (patch 0003), same accelerator
#   3b. scripts/qemu/send-check.sh: the sender's BARs, registers, INSTALL (-accel qtest)
#   4. scripts/qemu/pair-test.sh: the verdicts of the emulated runs (their TAP counts), L1 on
#      6.1 (both pairs) and on 6.12 (the fast pair), side by side
# Last line: "N passed, N failed"; exit 0 iff nothing failed.
set -uo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
top=$(cd "$here/../.." && pwd)
out=${1:-${EPTGATE_BUILD:-$top/build}/qemu-pair}
pass=0
fail=0
result() { # result STATUS TEXT
	if [ "$1" = 0 ]; then pass=$((pass + 1)); echo "check-qemu: ok - $2"
	else fail=$((fail + 1)); echo "check-qemu: FAIL - $2"; fi
}

t0=$(date +%s.%N)
"$here/build.sh"
result $? "scripts/qemu/build.sh ($(printf '%.1f' "$(echo "$(date +%s.%N) - $t0" | bc)") s)"
Q="${EPTGATE_BUILD:-$top/build}/qemu/bin/qemu-system-x86_64"
before=$(stat -c %Y.%i "$Q" 2>/dev/null)
"$here/build.sh" 2>/dev/null
st=$?
[ "$st" = 0 ] && [ -n "$before" ] && [ "$(stat -c %Y.%i "$Q" 2>/dev/null)" = "$before" ]
result $? "second build.sh is a cache hit (qemu-system-x86_64 not rebuilt)"

# the eptgate-pci device (qemu/patches/0001-*) on this host, with the qtest accelerator (no
# KVM here): realize opens "path" and reports a failure through errp
QA=(-L "${EPTGATE_BUILD:-$top/build}/qemu/share" -M q35 -accel qtest -nodefaults -display none)
"$Q" -device eptgate-pci,help 2>&1 | grep -q 'path=<str>'
result $? "qemu has device eptgate-pci with a path property"
msg=$("$Q" "${QA[@]}" -device eptgate-pci,path=/nonexistent/eptgate </dev/null 2>&1)
st=$?
[ "$st" = 1 ] && echo "$msg" | grep -q "Could not open '/nonexistent/eptgate'"
result $? "eptgate-pci with a missing path fails to realize: ${msg##*qemu-system-x86_64: }"
msg=$(printf 'info pci\nquit\n' | "$Q" "${QA[@]}" -monitor stdio -device eptgate-pci,path=/dev/null 2>&1)
st=$?
[ "$st" = 0 ] && echo "$msg" | grep -q 'PCI device 1af4:10f0'
result $? "eptgate-pci with path=/dev/null realizes (1af4:10f0 in info pci)"

# the receiver's virtio-net property eptgate (qemu/patches/0003-*): scripts/qemu/recv-check.sh
while IFS= read -r l; do
	case "$l" in
	"ok - "*) result 0 "${l#ok - }" ;;
	"FAIL - "*) result 1 "${l#FAIL - }" ;;
	*) echo "$l" ;;
	esac
done < <("$here/recv-check.sh" "$Q" "${EPTGATE_BUILD:-$top/build}/qemu/share" \
	"${EPTGATE_BUILD:-$top/build}/qemu/src" 2>&1)
# the sender's device (qemu/patches/0004-*): BARs, registers, INSTALL (send-check.sh)
"$here/send-check.sh" "$Q" 2>&1 | tee "${EPTGATE_BUILD:-$top/build}/send-check.log"
counts=$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "${EPTGATE_BUILD:-$top/build}/send-check.log" | tail -n 1)
if [ -n "$counts" ]; then
	set -- $counts
	pass=$((pass + $1))
	fail=$((fail + $3))
else
	result 1 "send-check.sh gave no verdict"
fi

# The pair test with L1 on 6.1 (both pairs) and with L1 on 6.12 (the fast pair), each with
# a first stream of FAST_COUNT (100000) datagrams, at the same time: each is one Bochs, one host core.  The
# second starts once the first's payload is made (they share the driver, blob and key builds).
out12=$out-6.12
rm -rf "$out/payload/pair.conf"
mkdir -p "$out" "$out12"
"$here/pair-test.sh" "$out" >"$out/pair-test.log" 2>&1 &
p61=$!
i=0
while [ $i -lt 1200 ] && [ ! -s "$out/payload/pair.conf" ] && kill -0 "$p61" 2>/dev/null; do
	i=$((i + 1)); sleep 0.5
done
PAIR_L1=6.12 PAIR_PHASES=fast "$here/pair-test.sh" "$out12" \
	>"$out12/pair-test.log" 2>&1 &
p612=$!
wait "$p61"
st61=$?
wait "$p612"
st612=$?
for run in "6.1:$out:$st61" "6.12:$out12:$st612"; do
	IFS=: read -r k dir st <<<"$run"
	cat "$dir/pair-test.log"
	counts=$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$dir/pair-test.log" | tail -n 1)
	if [ -n "$counts" ]; then
		set -- $counts
		pass=$((pass + $1))
		fail=$((fail + $3))
		[ "$st" = 0 ] || [ "$3" != 0 ] || fail=$((fail + 1))
	else
		result 1 "pair test (L1 $k) gave no verdict (exit status $st, log $dir/pair-test.log)"
	fi
done
echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
