#!/bin/bash
# check.sh [OUTDIR] -- `make check-qemu`: eptgate's QEMU build, then the two-VM pair test.
#   1. scripts/qemu/build.sh builds (or finds cached) qemu-system-x86_64
#   2. a second build.sh is a no-op (cache hit: the binary is not rebuilt)
#   3. eptgate-pci (qemu/patches) realizes / fails to realize on this host (-accel qtest);
#      recv-check.sh: virtio-net-pci's eptgate property (patch 0003), same accelerator
#   3b. scripts/qemu/send-check.sh: the sender's BARs, registers, INSTALL (-accel qtest)
#   4. scripts/qemu/pair-test.sh: the verdict of the emulated run (its TAP counts)
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

mkdir -p "$out"
"$here/pair-test.sh" "$out" 2>&1 | tee "$out/pair-test.log"
st=${PIPESTATUS[0]}
counts=$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$out/pair-test.log" | tail -n 1)
if [ -n "$counts" ]; then
	set -- $counts
	pass=$((pass + $1))
	fail=$((fail + $3))
	[ "$st" = 0 ] || [ "$3" != 0 ] || fail=$((fail + 1))
else
	result 1 "pair test gave no verdict (exit status $st, log $out/pair-test.log)"
fi
echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
