#!/bin/bash
# check.sh [OUTDIR] -- `make check-qemu`: eptgate's QEMU build, then the two-VM pair test.
#   1. scripts/qemu/build.sh builds (or finds cached) qemu-system-x86_64
#   2. a second build.sh is a no-op (cache hit) in under 2 s
#   3. scripts/qemu/pair-test.sh: the verdict of the emulated run (its TAP counts)
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
t0=$(date +%s.%N)
"$here/build.sh" 2>/dev/null
st=$?
dt=$(echo "$(date +%s.%N) - $t0" | bc)
[ "$st" = 0 ] && [ "$(echo "$dt < 2" | bc)" = 1 ]
result $? "second build.sh is a cache hit ($(printf '%.2f' "$dt") s)"

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
