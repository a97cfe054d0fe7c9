#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# check.sh -- what `make check` runs.  Every stage counts as passed or
# failed; TAP output of the unit tests and of the selftests in the
# emulated CPU counts line by line.  The last line is "N passed, N failed".
#
# Environment: CHECK_FUZZ_SECONDS (per fuzz target, default 20), CHECK_KERNELS (the emulated
# runs, default "6.1 6.12 6.1-rt:2"; `make check-smp`: "6.1:2 6.1-rt:2"), CHECK_JOBS (runs at a time, default: host cores), BX_CPUS
# (emulated CPUs of a run given without :N, default 1), TIMEOUT and WATCHDOG (per run: wall
# and guest seconds, default 900 and 300; boot.sh, mkimage.sh).
#
# CHECK_KERNELS is a list of runs SERIES[:CPUS]: "6.1-rt:2" boots the PREEMPT_RT kernel
# with 2 emulated CPUs.  A run's files are build/bochs-NAME, build/payload-NAME and
# build/check/bochs-NAME.log, NAME being SERIES, or SERIES-Ncpu when :N is given.
set -uo pipefail

top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
B=$top/build
L=$B/check
mkdir -p "$L"
cd "$top" || exit 1
pass=0
fail=0

# the runs, and the kernel series they need (each once)
runs=()	# "SERIES CPUS NAME"
series=()
for spec in ${CHECK_KERNELS:-6.1 6.12 6.1-rt:2}; do
	s=${spec%%:*}
	cpus=${BX_CPUS:-1}
	name=$s
	if [ "$spec" != "$s" ]; then
		cpus=${spec#*:}
		name=$s-${cpus}cpu
	fi
	case "$cpus" in
	'' | *[!0-9]* | 0) echo "check.sh: bad run '$spec' in CHECK_KERNELS (SERIES[:CPUS])" >&2; exit 2 ;;
	esac
	runs+=("$s $cpus $name")
	case " ${series[*]} " in *" $s "*) ;; *) series+=("$s") ;; esac
done

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

stage deps scripts/deps.sh "${series[@]}" || true
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
# every reST file of the tree as docutils reads it, warnings included
stage docs bash -c 'for f in $(git ls-files "*.rst"); do rst2html --strict "$f" >/dev/null || exit 1; done'
# Spectre v1: view-id subscripts in kmod/ clamped (and the lint fails on a mutant)
scripts/lint/nospec-check.sh >"$L/nospec.log" 2>&1
nospec_rc=$?
tap nospec "$L/nospec.log"
[ "$nospec_rc" = 0 ] || [ "$(grep -c '^not ok' "$L/nospec.log")" != 0 ] ||
	{ fail=$((fail + 1)); echo "not ok - nospec-check.sh (log: $L/nospec.log)"; }
stage guest-linux make -s guest-linux

for s in "${series[@]}"; do
	abi=$(scripts/bochs/kver.sh "$s")
	# headers unpacked under build/ by deps.sh (headers.sh; cached: prints the KDIR)
	kdir=$(scripts/bochs/headers.sh "$s" "$B/headers-$s" 2>/dev/null)
	stage "module-$s" make -s module KDIR="$kdir" B="$B/$abi"
done
stage selftests-build make -s selftests
# eptgatectl (-Werror) and its man page, installed into a scratch DESTDIR
stage eptgatectl-install bash -c 'rm -rf "$1" && make -s install DESTDIR="$1" PREFIX=/usr &&
	test -x "$1/usr/sbin/eptgatectl" && test -s "$1/usr/share/man/man8/eptgatectl.8" &&
	{ "$1/usr/sbin/eptgatectl" --device /nonexistent list 2>&1; [ $? = 1 ]; }' _ "$B/install-check"
stage dkms scripts/dkms/dkms-check.sh
# the pair's libvirt domain XMLs against libvirt's schema (one result per TAP line)
scripts/libvirt-check.sh >"$L/libvirt.log" 2>&1
libvirt_rc=$?
tap libvirt "$L/libvirt.log"
[ "$libvirt_rc" = 0 ] || [ "$(grep -c '^not ok' "$L/libvirt.log")" != 0 ] ||
	{ fail=$((fail + 1)); echo "not ok - libvirt-check.sh (log: $L/libvirt.log)"; }

# The emulated machines.  Bochs is single threaded whatever BX_CPUS is: CHECK_JOBS runs at a
# time (one per host core), the most emulated CPUs (the longest run) first.
jobs=${CHECK_JOBS:-$(nproc)}
# The whole payload takes ~120-150 guest seconds: a stall shows its stacks after 300.
export WATCHDOG=${WATCHDOG:-300}
export HEARTBEAT=${HEARTBEAT:-60}
mapfile -t order < <(printf '%s\n' "${runs[@]}" | sort -s -k2,2nr)
running=0
for r in "${order[@]}"; do
	read -r s cpus name <<<"$r"
	abi=$(scripts/bochs/kver.sh "$s")
	p=$B/payload-$name
	rm -rf "$p" && mkdir -p "$p/selftests"
	cp "$B/$abi/mod-default/eptgate.ko" "$p/" 2>/dev/null
	make -s -C selftests payload O="$B/selftests" DEST="$p/selftests" >/dev/null 2>&1
	cp scripts/payload-run.sh "$p/run.sh"
	if [ "$running" -ge "$jobs" ]; then
		wait -n || true
		running=$((running - 1))
	fi
	echo "# emulated run $name: kernel $abi, $cpus CPU(s), started $(date +%T)"
	( export BX_CPUS=$cpus
	  start=$SECONDS
	  scripts/bochs/run.sh "$s" "$p" "$B/bochs-$name" >"$L/bochs-$name.log" 2>&1
	  echo "run.sh[$name]: whole run $((SECONDS - start)) s wall" >>"$L/bochs-$name.log" ) &
	running=$((running + 1))
done
wait
# verdict WHAT LOG SUMMARY: add the last "N passed, N failed" line of LOG to the totals (no such
# line: one failure), print WHAT with it and SUMMARY, and the failures the log names.
verdict() {
	local what=$1 log=$2 summary=$3 line p f
	line=$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$log" | tail -n 1)
	if [ -z "$line" ]; then
		fail=$((fail + 1))
		echo "not ok - $what produced no verdict (log: $log)"
		tail -n 20 "$log" | sed 's/^/#   /'
		return
	fi
	p=${line%% passed*}
	f=${line#*, }
	f=${f%% failed}
	pass=$((pass + p))
	fail=$((fail + f))
	echo "# $what: $line ($summary)"
	grep -E '^not ok|^verdict|FAIL' "$log" | head -n 40 | sed 's/^/#   /'
}

for r in "${runs[@]}"; do
	read -r s cpus name <<<"$r"
	verdict "kernel $s, $cpus CPU(s), in the emulated CPU" "$L/bochs-$name.log" \
		"$(grep -o 'whole run .*' "$L/bochs-$name.log"); serial log: $B/bochs-$name/serial.txt"
done

# What eptgatectl --json printed against the live VMs of list_test, against the schema
# (list_test itself checks the contents, inside the emulated machine).
for r in "${runs[@]}"; do
	read -r s cpus name <<<"$r"
	stage "eptgatectl-json-$name" python3 scripts/json-schema-check.py \
		Documentation/eptgatectl.schema.json --serial "$B/bochs-$name/serial.txt" --min 4
done

# eptgate's QEMU (Documentation/qemu.rst): its build, and two L2 Linux VMs with Debian's stock
# virtio_net inside the emulated CPU (6.1).  CHECK_QEMU=0 leaves it out.
if [ "${CHECK_QEMU:-1}" != 0 ]; then
	start=$SECONDS
	scripts/qemu/check.sh >"$L/qemu.log" 2>&1
	verdict "QEMU build and two-VM pair test" "$L/qemu.log" \
		"$((SECONDS - start)) s wall; log: $L/qemu.log"
fi
finish
