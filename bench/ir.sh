#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# make bench-ir: instructions per packet of eg_tx_burst() under callgrind
# only (the last part of make bench, in seconds, on a busy machine too:
# instruction counts do not depend on the load).  eg_tx.c is compiled with
# the trampoline's flags (EG_TX_CFLAGS from the Makefile) plus -g.
#   SIZES (64 1500), BATCH (32), CG_BURSTS (20000)
set -u -o pipefail
TOP=$(cd "$(dirname "$0")/.." && pwd)
B=$TOP/build/bench
SIZES=${SIZES:-"64 1500"}
BATCH=${BATCH:-32}
CG_BURSTS=${CG_BURSTS:-20000}
mkdir -p "$B"
TX_FLAGS="${EG_TX_CFLAGS:-"-std=gnu11 -Wall -Wextra -Werror -O2 -ffreestanding \
	-fno-builtin -nostdlib -fPIE -fvisibility=hidden -mno-red-zone \
	-mgeneral-regs-only -fno-stack-protector -fno-asynchronous-unwind-tables \
	-fcf-protection=none -Iguest/tx"} -g"
cd "$TOP" || exit 1
gcc $TX_FLAGS -c -o "$B/eg_tx-ir.o" guest/tx/eg_tx.c || exit 1
gcc -std=gnu11 -Wall -Wextra -Werror -O2 -g -Iguest/tx -o "$B/eg_cg" \
	bench/eg_cg.c "$B/eg_tx-ir.o" || exit 1
small=$(sed -n 's/^#define EG_COPY_SMALL[[:space:]]*\([0-9]*\).*/\1/p' guest/tx/eg_tx.c)
reps=$(objdump -d "$B/eg_tx-ir.o" | grep -c 'rep movsb')
printf '%-6s %5s %10s %12s\n' size batch Ir/packet "w/o rep-movsb"
rc=0
for s in $SIZES; do
	out=$(cd "$B" && valgrind --tool=callgrind --toggle-collect=eg_tx_burst \
		--dump-instr=yes --callgrind-out-file="$B/callgrind-$s.out" \
		./eg_cg --size "$s" --batch "$BATCH" --bursts "$CG_BURSTS" 2>/dev/null) || rc=1
	tot=$(sed -n 's/^totals: *\([0-9]*\).*/\1/p' "$B/callgrind-$s.out")
	pk=$(sed -n 's/.*packets=\([0-9]*\).*/\1/p' <<<"$out")
	[ -n "$tot" ] && [ -n "$pk" ] && [ "$pk" != 0 ] || { echo "ir: $s B failed" >&2; rc=1; continue; }
	ir=$(awk -v t="$tot" -v p="$pk" 'BEGIN { printf "%.1f", t / p }')
	irx=$ir
	if [ "$reps" -gt 0 ] && [ "$s" -gt "${small:-0}" ]; then
		irx=$(awk -v t="$tot" -v p="$pk" -v s="$s" 'BEGIN { printf "%.1f", t / p - s + 1 }')
	fi
	printf '%-6s %5s %10s %12s\n' "$s" "$BATCH" "$ir" "$irx"
	callgrind_annotate --auto=yes --show-percs=no "$B/callgrind-$s.out" \
		> "$B/callgrind-$s.txt" 2>/dev/null
done
exit $rc
