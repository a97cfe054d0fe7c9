#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# check.sh -- what `make check` runs.  Every stage counts as passed or
# failed; TAP output of the unit tests and of the selftests in the
# emulated CPU counts line by line.  The last line is "N passed, N failed".
#
# Environment: CHECK_FUZZ_SECONDS (per fuzz target, default 20), CHECK_KERNELS (default
# "6.1 6.12"), BX_CPUS (emulated CPUs, default 1).
set -uo pipefail

top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
B=$top/build
L=$B/check
mkdir -p "$L"
cd "$top" || exit 1
kernels=${CHECK_KERNELS:-6.1 6.12}
pass=0
fail=0

stage() {	# stage NAME COMMAND...: one result, log in $L/NAME.log
	local name=$1
	shift
	if "$@" >"$L/$name.log" 2>&1; then
		pass=$((pass + 1))
		echo "ok - $name"
	else
		fail=$((fail + 1))
		echo "not ok - $name (log: $L/$name.log)"
		tail -n 15 "$L/$name.log" | sed 's/^/#   /'
	fi
}

tap() {	# tap NAME LOG: count TAP result lines of a log
	local p f
	p=$(grep -cE '^ok [0-9]+' "$2")
	f=$(grep -cE '^not ok [0-9]+' "$2")
	pass=$((pass + p))
	fail=$((fail + f))
	echo "# $1: $p passed, $f failed"
	grep -E '^not ok [0-9]+' "$2" | sed 's/^/#   /'
}

finish() {
	echo "$pass passed, $fail failed"
	[ "$fail" = 0 ]
	exit
}

# shellcheck disable=SC2086 # one word per series
stage deps scripts/deps.sh $kernels || true
if [ "$fail" != 0 ]; then
	finish
fi

make -s unit >"$L/unit.log" 2>&1
unit_rc=$?
tap unit "$L/unit.log"
[ "$unit_rc" = 0 ] || { fail=$((fail + 1)); echo "not ok - unit tests build/run"; }

stage fuzz make -s fuzz FUZZ_SECONDS="${CHECK_FUZZ_SECONDS:-20}"
stage trampoline-blob make -s guest
stage lint make -s lint

for s in $kernels; do
	abi=$(scripts/bochs/kver.sh "$s")
	# headers unpacked under build/ by deps.sh (headers.sh; cached: prints the KDIR)
	kdir=$(scripts/bochs/headers.sh "$s" "$B/headers-$s" 2>/dev/null)
	stage "module-$s" make -s module KDIR="$kdir" B="$B/$abi"
done
stage selftests-build make -s selftests

# The emulated machines: one per kernel, in parallel (one core each).
pids=()
for s in $kernels; do
	abi=$(scripts/bochs/kver.sh "$s")
	p=$B/payload-$s
	rm -rf "$p" && mkdir -p "$p/selftests"
	cp "$B/$abi/mod-default/eptgate.ko" "$p/" 2>/dev/null
	make -s -C selftests payload O="$B/selftests" DEST="$p/selftests" >/dev/null 2>&1
	cp scripts/payload-run.sh "$p/run.sh"
	scripts/bochs/run.sh "$s" "$p" "$B/bochs-$s" >"$L/bochs-$s.log" 2>&1 &
	pids+=($!)
done
for pid in "${pids[@]}"; do
	wait "$pid"
done
for s in $kernels; do
	line=$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$L/bochs-$s.log" | tail -n 1)
	if [ -z "$line" ]; then
		fail=$((fail + 1))
		echo "not ok - emulated CPU run on $s produced no verdict (log: $L/bochs-$s.log)"
		tail -n 20 "$L/bochs-$s.log" | sed 's/^/#   /'
		continue
	fi
	p=${line%% passed*}
	f=${line#*, }
	f=${f%% failed}
	pass=$((pass + p))
	fail=$((fail + f))
	echo "# kernel $s in the emulated CPU: $line (serial log: $B/bochs-$s/serial.txt)"
	grep -E '^not ok|^verdict|FAIL' "$L/bochs-$s.log" | head -n 40 | sed 's/^/#   /'
done
finish
