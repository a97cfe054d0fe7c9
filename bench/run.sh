#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# make bench: eptgate's Tx path (guest/tx/eg_tx.c, the same source as the
# trampoline and the unit tests) against DPDK vhost-user -> virtio-user,
# DPDK memif and a plain copy ring, sender on CPU 0, receiver on CPU 1,
# all in one run; eg_tx_burst() and rte_vhost_enqueue_burst() into the
# same virtio-user receiver (vhost_tx.c); plus instructions per packet
# from callgrind.
# Prints one table and writes it to build/bench/results.txt.
# A benchmark, not a test: exits 0 whatever the figures, non-zero only
# when something failed to run (or delivered wrong data).
#
# Knobs (environment): SECS (eptgate/copy-ring window, s), WARM (s),
# SAMPLES (parts of that window; the figure is their median),
# DPDK_SAMPLES (1-s testpmd samples kept), ROUNDS (near-state rounds of
# the 64 B batch 32 comparison wanted), MAX_ROUNDS (rounds at most),
# NEAR_LO/NEAR_HI (core round trip, ns, of the near state), QSIZE (256 or
# 1024), SIZES, BATCHES, SAME_SIZES (sizes besides 64 B of the
# same-receiver pair).
set -u -o pipefail

TOP=$(cd "$(dirname "$0")/.." && pwd)
B=$TOP/build/bench
HUGE=$B/huge
SECS=${SECS:-2.5}
WARM=${WARM:-0.5}
DPDK_SAMPLES=${DPDK_SAMPLES:-3}
DPDK_SKIP=2		# first non-zero 1-s samples dropped (start, partial second)
ROUNDS=${ROUNDS:-5}
MAX_ROUNDS=${MAX_ROUNDS:-12}
SAMPLES=${SAMPLES:-5}
NEAR_LO=${NEAR_LO:-45}
NEAR_HI=${NEAR_HI:-150}
QSIZE=${QSIZE:-256}
SIZES=${SIZES:-"64 256 1500"}
BATCHES=${BATCHES:-"1 8 32 64"}
SAME_SIZES=${SAME_SIZES:-1500}	# the same-receiver pair, besides 64 B (rounds)
CG_BURSTS=${CG_BURSTS:-20000}
NR_HUGE=600		# 2 MiB pages: two testpmd (~64 MiB each) + memfd windows

mkdir -p "$B"
LOG=$B/bench.log
: > "$LOG"
log() { echo "$*" >> "$LOG"; }
say() { echo "bench: $*" >&2; log "# $*"; }
fail() { echo "bench: FAILED: $*" >&2; log "FAILED: $*"; FAILED=$((FAILED + 1)); }
FAILED=0
BAD_DATA=0	# wrong data at a receiver: never retried away

# ------------------------------------------------------------ packages --
need=()
for p in gcc make valgrind util-linux dpdk dpdk-dev librte-net-memif23 \
	 librte-net-vhost23 librte-net-virtio23 pkgconf; do
	dpkg -s "$p" >/dev/null 2>&1 || need+=("$p")
done
if [ ${#need[@]} -gt 0 ]; then
	say "installing ${need[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -q >>"$LOG" 2>&1
	apt-get install -y -q "${need[@]}" >>"$LOG" 2>&1 || {
		echo "bench: apt-get install ${need[*]} failed (see $LOG)" >&2; exit 1; }
fi
for t in taskset valgrind callgrind_annotate dpdk-testpmd gcc pkg-config; do
	command -v $t >/dev/null || { echo "bench: $t missing" >&2; exit 1; }
done

# --------------------------------------------------------------- build --
# eg_tx.c is compiled exactly as for the trampoline (plus -g), once, and
# linked into both the two-process bench and the callgrind driver.
say "building"
# The Makefile passes its trampoline flags (TRAMP_CFLAGS) as EG_TX_CFLAGS.
TX_FLAGS="${EG_TX_CFLAGS:-"-std=gnu11 -Wall -Wextra -Werror -O2 -ffreestanding \
	-fno-builtin -nostdlib -fPIE -fvisibility=hidden -mno-red-zone \
	-mgeneral-regs-only -fno-stack-protector -fno-asynchronous-unwind-tables \
	-fcf-protection=none -Iguest/tx"} -g"
CFLAGS="-std=gnu11 -Wall -Wextra -Werror -O2 -g -I$TOP/guest/tx"
(
	set -e
	cd "$TOP"
	log "eg_tx.c: gcc $TX_FLAGS"
	gcc $TX_FLAGS -c -o "$B/eg_tx.o" "$TOP/guest/tx/eg_tx.c"
	gcc $CFLAGS -o "$B/eg_pair" "$TOP/bench/eg_pair.c" "$B/eg_tx.o"
	gcc $CFLAGS -o "$B/eg_cg" "$TOP/bench/eg_cg.c" "$B/eg_tx.o"
	gcc $CFLAGS -o "$B/copy_ring" "$TOP/bench/copy_ring.c"
	gcc $CFLAGS -pthread -o "$B/c2c" "$TOP/bench/c2c.c"
	# the same-receiver sender: a vhost-user backend on Debian's librte_vhost
	gcc $CFLAGS $(pkg-config --cflags libdpdk) -o "$B/vhost_tx" "$TOP/bench/vhost_tx.c" \
		"$B/eg_tx.o" $(pkg-config --libs libdpdk)
) >>"$LOG" 2>&1 || { echo "bench: build failed (see $LOG)" >&2; tail -20 "$LOG" >&2; exit 1; }

# ----------------------------------------------------------- hugepages --
HP=/proc/sys/vm/nr_hugepages
HP_ORIG=$(cat $HP)
MOUNTED=0
PIDS=()
cleanup() {
	local p
	for p in "${PIDS[@]}"; do kill -KILL "$p" 2>/dev/null; done
	if [ $MOUNTED = 1 ]; then
		umount "$HUGE" 2>/dev/null || { sleep 1; umount "$HUGE"; }
		rmdir "$HUGE" 2>/dev/null
	fi
	[ "$(cat $HP)" != "$HP_ORIG" ] && echo "$HP_ORIG" > $HP 2>/dev/null
	rm -f "$B"/vhost.sock "$B"/memif.sock
}
trap cleanup EXIT
trap 'exit 130' INT TERM

[ "$HP_ORIG" -lt $NR_HUGE ] && echo $NR_HUGE > $HP
mkdir -p "$HUGE"
if ! mountpoint -q "$HUGE"; then
	mount -t hugetlbfs -o pagesize=2M nodev "$HUGE" || { echo "bench: hugetlbfs mount failed" >&2; exit 1; }
	MOUNTED=1
fi
log "nr_hugepages: $HP_ORIG -> $(cat $HP)"

# ---------------------------------------------- other load on the CPUs --
# Busy share of each CPU over one second before we start anything.
cpu_busy() {
	local a b
	a=$(grep -E '^cpu[01] ' /proc/stat); sleep 1; b=$(grep -E '^cpu[01] ' /proc/stat)
	paste <(echo "$a") <(echo "$b") | awk '{
		n = (NF - 2) / 2; t0 = t1 = 0
		for (i = 2; i <= 1 + n; i++) { t0 += $i }
		for (i = 3 + n; i <= 2 + 2 * n; i++) { t1 += $i }
		idle0 = $5 + $6; idle1 = $(5 + n + 1) + $(6 + n + 1)
		dt = t1 - t0; printf "%s %.0f%%  ", $1, dt ? 100 * (1 - (idle1 - idle0) / dt) : 0 }'
}
LOAD_BEFORE=$(cpu_busy)
C2C_BEFORE=$("$B/c2c" 2>>"$LOG" || echo "?")

# ------------------------------------------------------- machine state --
# This kind of machine is a VM whose two vCPUs the host places at different
# distances, for seconds to minutes at a time; the core-to-core round trip
# (c2c, ~50 ms) tells which: "s" siblings (< NEAR_LO ns, one physical core),
# "n" near (the usual state; the copy ring then runs at about the issue's
# reference 33 Mpps), "f" far (> NEAR_HI ns: every cross-core line costs
# ~5x, the copy ring falls to ~9 Mpps).  Every measurement of the 64 B
# comparison is bracketed by two probes.
probe() {
	local v
	v=$("$B/c2c" 2>>"$LOG") || v=999
	echo "${v:-999}"
}
rt_class() {
	awk -v v="$1" -v lo="$NEAR_LO" -v hi="$NEAR_HI" \
		'BEGIN { print (v < lo ? "s" : v <= hi ? "n" : "f") }'
}
# Before a round, wait (at most 20 s; 120 s in the whole run) for the near state.
NEAR_BUDGET=${NEAR_BUDGET:-120}
wait_near() {
	local t0=$SECONDS v
	while [ $NEAR_BUDGET -gt 0 ] && [ $((SECONDS - t0)) -lt 20 ]; do
		v=$(probe)
		[ "$(rt_class "$v")" = n ] && break
		sleep 1
		NEAR_BUDGET=$((NEAR_BUDGET - 1))
	done
	log "wait_near: $((SECONDS - t0)) s, round trip ${v:-?} ns"
}

# ------------------------------------------------------------- runners --
declare -A MPPS NOTE CPU RT
SHORT_CPU=0.95	# a side that had its CPU less than this share: re-measured once

# Wait (at most 20 s) until CPU 0 and 1 are idle (< 10 % busy over 0.3 s):
# other work on them collapses every figure.
WAIT_BUDGET=${WAIT_BUDGET:-60}	# seconds of waiting for idle CPUs, whole run
RETRY_BUDGET=${RETRY_BUDGET:-6}	# re-measurements for lack of CPU, whole run
wait_quiet() {
	local t0=$SECONDS a b busy
	while [ $WAIT_BUDGET -gt 0 ]; do
		a=$(grep -E '^cpu[01] ' /proc/stat); sleep 0.3; b=$(grep -E '^cpu[01] ' /proc/stat)
		busy=$(paste <(echo "$a") <(echo "$b") | awk '{
			n = (NF - 2) / 2; t0 = t1 = 0
			for (i = 2; i <= 1 + n; i++) t0 += $i
			for (i = 3 + n; i <= 2 + 2 * n; i++) t1 += $i
			d = t1 - t0; idle = ($(5 + n + 1) + $(6 + n + 1)) - ($5 + $6)
			if (d && 100 * (1 - idle / d) > m) m = 100 * (1 - idle / d) } END { printf "%d", m }')
		[ "$busy" -lt 10 ] && break
		[ $((SECONDS - t0)) -ge 1 ] && { WAIT_BUDGET=$((WAIT_BUDGET - SECONDS + t0)); t0=$SECONDS; }
	done
	[ $WAIT_BUDGET -le 0 ] && log "no more waiting for idle CPUs (budget spent)"
	return 0
}
# cpu_short SHARE: true when a side lacked its CPU and a retry is left
cpu_short() {
	awk -v c="$1" -v m=$SHORT_CPU 'BEGIN { exit !(c < m) }' && [ $RETRY_BUDGET -gt 0 ] &&
		RETRY_BUDGET=$((RETRY_BUDGET - 1))
}

# kv "key=value ..." key -> value
kv() { tr ' ' '\n' <<<"$1" | sed -n "s/^$2=//p"; }

# pair PROGRAM KEY ARGS...: eg_pair or copy_ring, re-measured once when a
# side did not have its CPU for the whole window.
run_pair() {
	local prog=$1 key=$2 out pps rc try cpu
	shift 2
	for try in 1 2; do
		wait_quiet
		out=$("$B/$prog" run "$@" --warm "$WARM" --secs "$SECS" --samples "$SAMPLES" 2>>"$LOG")
		rc=$?
		log "$key $out"
		pps=$(kv "$out" pps)
		if [ $rc != 0 ] || [ -z "$pps" ]; then
			fail "$prog $* (rc $rc): $out"; MPPS[$key]=ERR; return 1
		fi
		cpu=$(awk -v a="$(kv "$out" cpu_tx)" -v b="$(kv "$out" cpu_rx)" \
			'BEGIN { printf "%.2f", a < b ? a : b }')
		[ $try = 2 ] && break
		cpu_short "$cpu" || break
		log "$key: a side had its CPU only $cpu of the window: once more"
	done
	CPU[$key]=$cpu
	LAST=$out
	MPPS[$key]=$(awk -v p="$pps" 'BEGIN { printf "%.3f", p / 1e6 }')
}

# eptgate SIZE BATCH KEY
run_eg() {
	run_pair eg_pair "$3" --size "$1" --batch "$2" --qsize "$QSIZE" || return
	NOTE[$3]=$(awk -v o="$LAST" 'BEGIN {
		n = split(o, kv, " "); for (i = 1; i <= n; i++) { split(kv[i], x, "="); v[x[1]] = x[2] }
		printf "%.1f pkt/call, %.0f%% calls short, %.2f kicks/call, %.1f pkt/poll",
			v["tx_pkts"] / v["tx_calls"], 100 * v["tx_backpressure"] / v["tx_calls"],
			v["tx_notifies"] / v["tx_calls"], v["rx_pkts"] / (v["rx_polls"] ? v["rx_polls"] : 1) }')
}

# copyring SIZE KEY [PREFETCH]
run_ring() {
	run_pair copy_ring "$2" --size "$1" --batch 32 --slots 256 --prefetch "${3:-0}" || return
	NOTE[$2]="256 slots of $((12 + $1)) B, memcpy"
	[ "${3:-0}" = 1 ] && NOTE[$2]+=", the batch's slots prefetched for writing"
}

median() { sort -g | awk '{ a[NR] = $1 } END { if (NR) print a[int((NR + 1) / 2)] }'; }

# utime + stime of a process in seconds
pcpu() { awk -v hz="$(getconf CLK_TCK)" '{ sub(/.*\) /, ""); print ($12 + $13) / hz }' "/proc/$1/stat" 2>/dev/null || echo 0; }

# Once more when testpmd died during start-up (it happens on a loaded
# machine) or a side did not have its CPU for the whole window (logged).
run_dpdk() {
	local m n c y z
	if ! run_dpdk_once "$@"; then
		log "$3: failed, once more"
		FAILED=$((FAILED - 1))
		run_dpdk_once "$@"
	elif cpu_short "${CPU[$3]}"; then
		log "$3: a side had its CPU only ${CPU[$3]} of the window: once more"
		m=${MPPS[$3]} n=${NOTE[$3]} c=${CPU[$3]} y=${CYC[$3]:-} z=${CYCF[$3]:-}
		if ! run_dpdk_once "$@"; then	# keep the first one
			FAILED=$((FAILED - 1))
			MPPS[$3]=$m NOTE[$3]=$n CPU[$3]=$c CYC[$3]=$y CYCF[$3]=$z
		fi
	fi
}

# testpmd KIND SIZE KEY: KIND vhost (net_vhost txonly CPU 0 -> net_virtio_user
# rxonly CPU 1) or memif (server txonly CPU 0 -> client rxonly CPU 1); or
# vlib / veg: vhost_tx (CPU 0) with rte_vhost_enqueue_burst() / eg_tx_burst()
# into the same net_virtio_user rxonly (CPU 1), measured the same way.
declare -A CYC CYCF	# key -> TSC cycles per packet inside the Tx call (all calls, full ones)
SAME_FEATURES=""	# what virtio-user negotiated with vhost_tx (its first run)
run_dpdk_once() {
	local kind=$1 size=$2 key=$3 srv_vdev cli_vdev sock cli_extra="" t0 n s
	local common="--no-pci --huge-dir=$HUGE"
	local tpmd="--burst=32 --stats-period 1 --auto-start --total-num-mbufs=32768"
	local srv=(dpdk-testpmd --lcores 0@0,1@0 $common --file-prefix=egb-srv)
	if [ $kind = vlib ] || [ $kind = veg ]; then
		sock=$B/vhost.sock
		cli_vdev="net_virtio_user0,path=$sock,queues=1"
		cli_extra="--single-file-segments"
		local m=vhost
		[ $kind = veg ] && m=eg
		srv=("$B/vhost_tx" --lcores 0@0 $common --file-prefix=egb-srv -- --mode $m
		     --socket "$sock" --size "$size" --batch 32)
	elif [ $kind = vhost ]; then
		sock=$B/vhost.sock
		srv_vdev="net_vhost0,iface=$sock,queues=1"
		cli_vdev="net_virtio_user0,path=$sock,queues=1"
		cli_extra="--single-file-segments"
	else
		sock=$B/memif.sock
		srv_vdev="net_memif0,role=server,socket=$sock,socket-abstract=no"
		cli_vdev="net_memif0,role=client,socket=$sock,socket-abstract=no"
	fi
	wait_quiet
	rm -f "$sock"
	local slog=$B/$key.srv.log clog=$B/$key.cli.log c0s=0 c0c=0 w0=0 c1s c1c w1 go=0
	rm -f "$slog" "$clog"	# an earlier run's lines would pass for this one's
	if [ -n "${srv_vdev:-}" ]; then
		srv+=(--vdev "$srv_vdev" -- --forward-mode=txonly --txpkts="$size" $tpmd)
	else
		go=1	# vhost_tx: sends from SIGUSR2 on, once the receiver forwards
	fi
	"${srv[@]}" </dev/null >"$slog" 2>&1 &
	local spid=$!
	PIDS+=($spid)
	t0=$SECONDS
	while [ ! -S "$sock" ] && [ $((SECONDS - t0)) -lt 20 ] && kill -0 $spid 2>/dev/null; do
		sleep 0.1
	done
	local cpid=""
	if [ -S "$sock" ]; then
		dpdk-testpmd --lcores 0@1,1@1 $common --file-prefix=egb-cli $cli_extra \
			--vdev "$cli_vdev" -- --forward-mode=rxonly $tpmd </dev/null >"$clog" 2>&1 &
		cpid=$!
		PIDS+=($cpid)
		t0=$SECONDS
		while kill -0 $cpid 2>/dev/null && [ $((SECONDS - t0)) -lt 40 ]; do
			if [ $go = 1 ] && grep -qa 'Rx-pps:' "$clog" 2>/dev/null; then
				kill -USR2 $spid 2>/dev/null; go=2
			fi
			n=$(grep -a 'Rx-pps:' "$clog" 2>/dev/null | awk '$2 > 0' | wc -l)
			if [ "$n" -ge $DPDK_SKIP ] && [ $w0 = 0 ]; then
				c0s=$(pcpu $spid); c0c=$(pcpu $cpid); w0=$(date +%s.%N)
			fi
			[ "$n" -ge $((DPDK_SKIP + DPDK_SAMPLES)) ] && break
			sleep 0.2
		done
		c1s=$(pcpu $spid); c1c=$(pcpu $cpid); w1=$(date +%s.%N)
		CPU[$key]=$(awk -v a="$c0s" -v b="$c1s" -v c="$c0c" -v d="$c1c" -v t0="$w0" -v t1="$w1" \
			'BEGIN { if (t0 == 0) { print 0; exit } x = (b - a) / (t1 - t0); y = (d - c) / (t1 - t0)
				 printf "%.2f", x < y ? x : y }')
	fi
	local sum="" rxp=""
	if [ $go = 2 ]; then
		# vhost_tx stops sending, stays connected; the receiver must then
		# count every packet sent, no more (it checks no content)
		kill -USR1 $spid 2>/dev/null
		t0=$SECONDS
		while [ $((SECONDS - t0)) -lt 8 ]; do
			sum=$(grep -a '^vhost_tx: mode=' "$slog" 2>/dev/null | tail -1)
			rxp=$(grep -a 'RX-packets:.*RX-missed:' "$clog" 2>/dev/null | tail -1 | awk '{ print $2 }')
			[ -n "$sum" ] && [ "$rxp" = "$(kv "$sum" tx_pkts)" ] && break
			sleep 0.3
		done
	fi
	local p
	for p in $cpid $spid; do kill -INT "$p" 2>/dev/null; done
	for p in $cpid $spid; do
		t0=$SECONDS
		while kill -0 "$p" 2>/dev/null && [ $((SECONDS - t0)) -lt 5 ]; do sleep 0.1; done
		kill -0 "$p" 2>/dev/null && kill -KILL "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	PIDS=()
	rm -f "$sock"
	s=$(grep -a 'Rx-pps:' "$clog" 2>/dev/null | awk '$2 > 0 { print $2 }' |
		sed -n "$((DPDK_SKIP + 1)),$((DPDK_SKIP + DPDK_SAMPLES))p")
	log "$key samples: $(echo $s)"
	if [ "$(wc -w <<<"$s")" -lt "$DPDK_SAMPLES" ]; then
		fail "testpmd $kind $size B: too few Rx-pps samples (see $slog, $clog)"
		MPPS[$key]=ERR; return 1
	fi
	MPPS[$key]=$(tr ' ' '\n' <<<"$s" | median | awk '{ printf "%.3f", $1 / 1e6 }')
	local txd
	txd=$(grep -a 'Tx-pps:' "$slog" | awk '$2 > 0 { print $2 }' |
		sed -n "$((DPDK_SKIP + 1)),$((DPDK_SKIP + DPDK_SAMPLES))p" | median)
	NOTE[$key]=$(awk -v t="${txd:-0}" -v s="$(echo $s)" \
		'BEGIN { printf "median of 1-s Rx-pps %s; sender Tx-pps %.1f M", s, t / 1e6 }')
	[ $go = 0 ] && return 0
	log "$key sender: $sum; receiver RX-packets $rxp"
	same_check "$key" "$size" "$sum" "$rxp" "$clog"
}

# same_check KEY SIZE SUMMARY RX-PACKETS CLIENT-LOG: vhost_tx's figures
# into the notes; a failure when the receiver's counters do not hold
# exactly the packets sent (count, bytes, no RX-errors) or eg_tx counted
# an error.
same_check() {
	local key=$1 size=$2 sum=$3 rxp=$4 clog=$5 tx rxb rxe
	tx=$(kv "$sum" tx_pkts)
	rxb=$(grep -a 'RX-packets:.*RX-missed:' "$clog" | tail -1 | awk '{ print $6 }')
	rxe=$(grep -a 'RX-errors:' "$clog" | tail -1 | awk '{ print $2 }')
	if [ -z "$sum" ] || [ -z "$tx" ]; then
		fail "vhost_tx $key: no summary (see $B/$key.srv.log)"
		MPPS[$key]=ERR; return 1
	fi
	CYC[$key]=$(kv "$sum" cyc_pkt)
	CYCF[$key]=$(kv "$sum" cyc_pkt_full)
	[ -z "$SAME_FEATURES" ] && SAME_FEATURES=$(awk -v o="$sum" 'BEGIN {
		n = split(o, kv, " "); for (i = 1; i <= n; i++) { split(kv[i], x, "="); v[x[1]] = x[2] }
		printf "%s (VERSION_1 %s, MRG_RXBUF %s, EVENT_IDX %s, INDIRECT_DESC %s, IN_ORDER %s, RING_PACKED %s)",
			v["features"], v["version_1"], v["mrg_rxbuf"], v["event_idx"], v["indirect_desc"],
			v["in_order"], v["packed"] }')
	NOTE[$key]+=$(awk -v o="$sum" -v r="$rxp" 'BEGIN {
		n = split(o, kv, " "); for (i = 1; i <= n; i++) { split(kv[i], x, "="); v[x[1]] = x[2] }
		printf "; %s TSC cyc/pkt in the call (%s in calls that sent all %d, %.0f%% of calls); kicks %d; receiver counted %s of %s sent; %d resumes (%d with another vring base)",
			v["cyc_pkt"], v["cyc_pkt_full"], v["batch"], 100 * v["full_calls"] / (v["tx_calls"] ? v["tx_calls"] : 1),
			v["kicks"], r, v["tx_pkts"], v["resumes"], v["base_diff"] }')
	if [ "$rxp" != "$tx" ] || [ "$rxb" != "$((tx * size))" ] || [ "${rxe:-1}" != 0 ] ||
	   [ "$(kv "$sum" errors)" != 0 ] || [ "$tx" = 0 ]; then
		BAD_DATA=$((BAD_DATA + 1))
		cp "$B/$key.srv.log" "$B/$key.bad.srv.log"; cp "$clog" "$B/$key.bad.cli.log"	# kept apart from a retry's
		fail "vhost_tx $key: receiver counted $rxp packets, $rxb bytes, ${rxe:-?} errors of $tx sent ($size B); eg errors $(kv "$sum" errors)"
		MPPS[$key]=ERR; return 1
	fi
}

# ------------------------------------------------------------ the runs --
say "measuring (9 to 15 minutes on an idle machine; load on CPU 0/1 before: $LOAD_BEFORE)"
T_START=$SECONDS
STAMP=$(date -u '+%Y-%m-%d %H:%M UTC')

# 1. The comparison that counts: 64 B batch 32, interleaved rounds, the
#    order rotated each round.  Each measurement carries the state of its
#    two probes, each ratio the state of its two measurements (near: all
#    four probes near).  Rounds go on until each target's ratio has ROUNDS
#    near samples, or MAX_ROUNDS were run.  The prefetching copy ring
#    (ringpf) is information, not a target's reference.  veg and vlib are
#    the same-receiver pair (vhost_tx.c), their ratio taken between them.
ORDER=(eg ring vhost memif ringpf veg vlib)
KEYS=(eg-64-32 ring-64 vhost-64 memif-64 ringpf-64 veg-64 vlib-64)
declare -A RTC	# measurement key -> the classes of its two probes ("nn", "nf", ...)
# pair_class KEY1 KEY2 -> n | f | s | m
pair_class() {
	case "${RTC[$1]:-f}${RTC[$2]:-f}" in
	*f*) echo f ;;
	nnnn) echo n ;;
	ssss) echo s ;;
	*) echo m ;;
	esac
}
near_pairs() {	# BASELINE-KEY [NUMERATOR-KEY] -> rounds so far with a near ratio
	local r n=0
	for ((r = 1; r <= NR; r++)); do
		[ "$(pair_class "${2:-eg-64-32}-r$r" "$1-r$r")" = n ] && n=$((n + 1))
	done
	echo $n
}
NR=0
while [ $NR -lt "$MAX_ROUNDS" ]; do
	if [ $NR -gt 0 ] && [ "$(near_pairs vhost-64)" -ge "$ROUNDS" ] &&
	   [ "$(near_pairs memif-64)" -ge "$ROUNDS" ] && [ "$(near_pairs ring-64)" -ge "$ROUNDS" ] &&
	   [ "$(near_pairs vlib-64 veg-64)" -ge "$ROUNDS" ]; then
		break
	fi
	r=$((NR + 1))
	wait_near
	for ((i = 0; i < ${#ORDER[@]}; i++)); do
		j=$(((i + r - 1) % ${#ORDER[@]}))
		k="${KEYS[$j]}-r$r"
		p0=$(probe)
		case ${ORDER[$j]} in
		eg) run_eg 64 32 "$k" ;;
		ring) run_ring 64 "$k" ;;
		ringpf) run_ring 64 "$k" 1 ;;
		vhost) run_dpdk vhost 64 "$k" ;;
		memif) run_dpdk memif 64 "$k" ;;
		veg) run_dpdk veg 64 "$k" ;;
		vlib) run_dpdk vlib 64 "$k" ;;
		esac
		p1=$(probe)
		RT[$k]="$p0/$p1"
		RTC[$k]="$(rt_class "$p0")$(rt_class "$p1")"
	done
	NR=$r
	log "round $r: $(for k in "${KEYS[@]}"; do printf '%s %s %s; ' "$k" "${RT[$k-r$r]}" "${RTC[$k-r$r]}"; done)"
done
# A path's 64 B figure: the median of its near measurements when there are
# at least three (the state the issue's reference figures describe), else
# of all; every measurement is listed in the notes with its state.
for k in "${KEYS[@]}"; do
	vals="" all="" nn=0 rs=""
	for ((r = 1; r <= NR; r++)); do
		[ "${RTC[$k-r$r]}" = nn ] && { vals+="${MPPS[$k-r$r]} "; rs+="$r "; nn=$((nn + 1)); }
		all+="${MPPS[$k-r$r]}($(tr -d / <<<"${RTC[$k-r$r]}")) "
	done
	what="median of its $nn near measurements"
	if [ $nn -lt 3 ]; then
		vals=$(for ((r = 1; r <= NR; r++)); do echo "${MPPS[$k-r$r]}"; done)
		rs=$(seq 1 $NR)
		what="median of all $NR (fewer than 3 near)"
	fi
	if grep -q ERR <<<"$vals"; then
		MPPS[$k]=ERR
	else
		MPPS[$k]=$(tr ' ' '\n' <<<"$vals" | grep . | median)
	fi
	# cycles in the Tx call (same-receiver pair): over the same measurements
	if [ -n "${CYC[$k-r1]:-}" ]; then
		CYC[$k]=$(for r in $rs; do echo "${CYC[$k-r$r]:-}"; done | grep . | median)
		CYCF[$k]=$(for r in $rs; do echo "${CYCF[$k-r$r]:-}"; done | grep . | median)
	fi
	CPU[$k]=$(for ((r = 1; r <= NR; r++)); do echo "${CPU[$k-r$r]:-1}"; done | sort -g | head -1)
	NOTE[$k]="$what; all (probe states): $all; round 1: ${NOTE[$k-r1]:-}"
done

# 2. The rest of the matrix, each size's baselines next to its eptgate
#    runs, once each; the state around each is in its notes.
probed() {	# KEY CMD...: run CMD, note the round trips around it
	local k=$1 p0 p1
	shift
	p0=$(probe)
	"$@"
	p1=$(probe)
	RTC[$k]="$(rt_class "$p0")$(rt_class "$p1")"
	NOTE[$k]="${NOTE[$k]:-}; round trip $p0/$p1 ns (${RTC[$k]})"
}
for s in $SIZES; do
	if [ "$s" != 64 ]; then
		probed "ring-$s" run_ring "$s" "ring-$s"
	fi
	for b in $BATCHES; do
		[ "$s" = 64 ] && [ "$b" = 32 ] && continue
		probed "eg-$s-$b" run_eg "$s" "$b" "eg-$s-$b"
	done
	if [ "$s" != 64 ]; then
		probed "vhost-$s" run_dpdk vhost "$s" "vhost-$s"
		probed "memif-$s" run_dpdk memif "$s" "memif-$s"
		if grep -qw -- "$s" <<<"$SAME_SIZES"; then
			probed "veg-$s" run_dpdk veg "$s" "veg-$s"
			probed "vlib-$s" run_dpdk vlib "$s" "vlib-$s"
		fi
	fi
done
LOAD_AFTER=$(cpu_busy)
C2C_AFTER=$("$B/c2c" 2>>"$LOG" || echo "?")

# 3. Instructions per packet (callgrind), sender only.
declare -A IR IRX
for s in 64 1500; do
	out=$(cd "$B" && valgrind --tool=callgrind --toggle-collect=eg_tx_burst \
		--dump-instr=yes --callgrind-out-file="$B/callgrind-$s.out" \
		./eg_cg --size "$s" --batch 32 --bursts "$CG_BURSTS" 2>>"$LOG")
	rc=$?
	log "callgrind $s: $out"
	tot=$(sed -n 's/^totals: *\([0-9]*\).*/\1/p' "$B/callgrind-$s.out" 2>/dev/null)
	pk=$(sed -n 's/.*packets=\([0-9]*\).*/\1/p' <<<"$out")
	if [ $rc != 0 ] || [ -z "$tot" ] || [ -z "$pk" ] || [ "$pk" = 0 ]; then
		fail "callgrind $s B"; IR[$s]=ERR; IRX[$s]=ERR; continue
	fi
	IR[$s]=$(awk -v t="$tot" -v p="$pk" 'BEGIN { printf "%.1f", t / p }')
	# valgrind counts each byte iteration of "rep movsb" as an instruction:
	# eg_copy() in eg_tx.c copies a packet longer than EG_COPY_SMALL with
	# it (check that it still does), shorter ones with 8-byte moves
	small=$(sed -n 's/^#define EG_COPY_SMALL[[:space:]]*\([0-9]*\).*/\1/p' "$TOP/guest/tx/eg_tx.c")
	if [ "$(objdump -d "$B/eg_tx.o" | grep -c 'rep movsb')" -gt 0 ] && [ "$s" -gt "${small:-0}" ]; then
		IRX[$s]=$(awk -v t="$tot" -v p="$pk" -v s="$s" 'BEGIN { printf "%.1f", t / p - s + 1 }')
	else
		IRX[$s]=${IR[$s]}
	fi
	callgrind_annotate --auto=yes --show-percs=no "$B/callgrind-$s.out" \
		> "$B/callgrind-$s.txt" 2>/dev/null
done

# ------------------------------------------------------------ the table --
ratio() {	# num den -> "x.xx" or "n/a"
	awk -v a="$1" -v b="$2" 'BEGIN { if (a + 0 > 0 && b + 0 > 0) printf "%.2f", a / b; else print "n/a" }'
}
verdict() {	# value target
	awk -v v="$1" -v t="$2" 'BEGIN { if (v == "n/a") print "n/a"; else print (v + 0 >= t ? "PASS" : "MISS") }'
}
# row LABEL SIZE BATCH KEY
row() {
	local m=${MPPS[$4]:--} c=${CPU[$4]:-} mark=""
	[ -n "$c" ] && awk -v c="$c" -v t=$SHORT_CPU 'BEGIN { exit !(c < t) }' && mark="!"
	printf '%-34s %6s %5s %9s %8s %5s  %s\n' "$1" "$2" "$3" "$m$mark" \
		"$(nspp "${MPPS[$4]:-0}")" "${c:--}" "${NOTE[$4]:-}"
}
pct_or_x() {	# ratio, target -> "1.23x" or "45%"
	awk -v r="$1" -v t="$2" 'BEGIN { if (r == "n/a") printf "n/a"; else if (t ~ /%$/ || t == "-") printf "%.0f%%", 100 * r; else printf "%.2fx", r }'
}
nspp() { awk -v m="$1" 'BEGIN { if (m + 0 > 0) printf "%.1f", 1000 / m; else print "-" }'; }

R=$B/results.txt
{
	echo "eptgate Tx path benchmark: $STAMP, $(nproc) CPUs ($(grep -m1 'model name' /proc/cpuinfo | sed 's/.*: //')), Linux $(uname -r), DPDK $(dpkg-query -W -f '${Version}' dpdk), $(gcc --version | head -1)"
	echo "All figures are from this ONE run on this machine.  Runs drift about +-15 %: only ratios within this run mean anything."
	echo "Sender pinned to CPU 0, receiver to CPU 1 (taskset).  Mpps at the receiver; ns/pkt = 1000 / Mpps (inverse throughput)."
	echo "Busy share of the CPUs from other processes: before $LOAD_BEFORE| after $LOAD_AFTER(nothing of ours running)."
	echo "Core-to-core round trip (one cache line, CPU 0 <-> 1): ${C2C_BEFORE} ns before, ${C2C_AFTER} ns after: every two-core figure scales with it."
	echo "Each measurement waits for both CPUs to be idle first; one where a side had its CPU less than $SHORT_CPU of the window"
	echo "  is measured once more, and marked '!' if it still was (the cpu column: the smaller share of the two sides)."
	if awk -v l="$LOAD_BEFORE $LOAD_AFTER" 'BEGIN { n = split(l, a, " "); for (i = 2; i <= n; i += 2) if (a[i] + 0 > 10) exit 0; exit 1 }'; then
		echo "WARNING: other processes were using CPU 0/1: every figure is depressed and ratios are unreliable."
	fi
	echo "eptgate: eg_tx_burst() from guest/tx/eg_tx.c (built with the trampoline's flags) into a virtio split RX ring, q$QSIZE,"
	echo "  VERSION_1 + EVENT_IDX, one 1536 B buffer per chain; the receiver checks length, num_buffers and a sequence number, reposts, sets used_event."
	echo "  One pass per packet: avail entry and head descriptor read once, checked, header and packet written; a header"
	echo "  alone in its cache line, and a used element, are not stored when they hold the value already (no prefetch)."
	echo "same rx: vhost_tx.c, a vhost-user backend (librte_vhost) on CPU 0, sends with eg_tx_burst() or rte_vhost_enqueue_burst()"
	echo "  into the same receiver, net_virtio_user testpmd rxonly on CPU 1, on the ring and memory the library was given;"
	echo "  same packets (prepared mbufs), batch 32; Mpps = the receiver's Rx-pps as for the DPDK rows.  Negotiated features:"
	echo "  ${SAME_FEATURES:-?}; IN_ORDER (refused by eg_tx) disabled for both."
	echo "  testpmd rxonly checks no content: the check is that its RX-packets/RX-bytes equal what was sent, RX-errors 0."
	echo
	printf '%-34s %6s %5s %9s %8s %5s  %s\n' "path" "pkt B" "batch" "Mpps" "ns/pkt" "cpu" "notes"
	printf '%-34s %6s %5s %9s %8s %5s  %s\n' "----" "-----" "-----" "----" "------" "---" "-----"
	for s in $SIZES; do
		for b in $BATCHES; do
			row "eptgate eg_tx_burst (2 processes)" "$s" "$b" "eg-$s-$b"
		done
		row "copy ring (machine limit)" "$s" 32 "ring-$s"
		[ "$s" = 64 ] && row "copy ring, prefetched (information)" "$s" 32 "ringpf-$s"
		row "DPDK vhost-user -> virtio-user" "$s" 32 "vhost-$s"
		row "DPDK memif server -> client" "$s" 32 "memif-$s"
		if [ -n "${MPPS[veg-$s]:-}${MPPS[vlib-$s]:-}" ]; then
			row "same rx: eptgate eg_tx_burst" "$s" 32 "veg-$s"
			row "same rx: rte_vhost_enqueue_burst" "$s" 32 "vlib-$s"
		fi
	done
	echo
	# Each round's ratio is taken within the round (its measurements are
	# seconds apart); the verdict uses the median of the near ones.
	echo "Ratios at 64 B batch 32, each taken within one round (measurements seconds apart), with the state of the two"
	echo "  measurements (n near: all four probes ${NEAR_LO}-${NEAR_HI} ns; f far: a probe over ${NEAR_HI} ns; s siblings; m mixed)."
	echo "  Median and verdict (informational) over the near ratios when there are at least 3, else over all; then per state."
	printf '  %-30s %-44s %8s   %-8s %s\n' "" "rounds" "median" "target" "verdict"
	# NAME|NUMERATOR|DENOMINATOR|TARGET|TARGET-LABEL
	for pair in "eptgate / vhost-user|eg-64-32|vhost-64|2|2x" "eptgate / memif|eg-64-32|memif-64|1.5|1.5x" \
		    "eptgate / copy ring|eg-64-32|ring-64|0.75|75%" "eptgate / prefetched ring|eg-64-32|ringpf-64|0|-" \
		    "same rx: eg_tx / vhost enqueue|veg-64|vlib-64|2|2x"; do
		IFS='|' read -r name num den tv tl <<<"$pair"
		set -- "$name" "$den" "$tv" "$tl"
		perp="" near="" alls="" far="" sib="" mix=""
		for ((r = 1; r <= NR; r++)); do
			x=$(ratio "${MPPS[$num-r$r]:-}" "${MPPS[$2-r$r]:-}")
			c=$(pair_class "$num-r$r" "$2-r$r")
			perp+="$(pct_or_x "$x" "$4")$c "
			alls+="$x "
			case $c in
			n) near+="$x " ;; f) far+="$x " ;; s) sib+="$x " ;; *) mix+="$x " ;;
			esac
		done
		used=$near basis="$(wc -w <<<"$near") near"
		if [ "$(wc -w <<<"$near")" -lt 3 ]; then used=$alls basis="all $NR"; fi
		med=$(tr ' ' '\n' <<<"$used" | grep -E '^[0-9.]+$' | median)
		[ -z "$med" ] && med=n/a
		if [ "$4" = - ]; then
			printf '  %-30s %-44s %8s   %s\n' "$name" "$perp" "$(pct_or_x "$med" "$4")" \
				"(information: the copy ring with its slots prefetched for writing)"
		else
			printf '  %-30s %-44s %8s   %-8s %s\n' "$name" "$perp" "$(pct_or_x "$med" "$4")" \
				">= $4" "$(verdict "$med" "$3") (over $basis)"
		fi
		bystate=""
		for st in "near:$near" "far:$far" "siblings:$sib" "mixed:$mix"; do
			v=${st#*:}
			m=$(tr ' ' '\n' <<<"$v" | grep -E '^[0-9.]+$' | median)
			[ -n "$m" ] && bystate+="${st%%:*} $(pct_or_x "$m" "$4") ($(wc -w <<<"$v")), "
		done
		printf '  %-30s %s\n' "" "median by state: ${bystate%, }"
	done
	printf '  %-30s eg_tx_burst %s, rte_vhost_enqueue_burst %s (calls that sent all 32: %s, %s): enqueue / eg_tx %sx, %sx\n' \
		"same rx: TSC cyc/pkt in call" "${CYC[veg-64]:-n/a}" "${CYC[vlib-64]:-n/a}" \
		"${CYCF[veg-64]:-n/a}" "${CYCF[vlib-64]:-n/a}" \
		"$(ratio "${CYC[vlib-64]:-}" "${CYC[veg-64]:-}")" "$(ratio "${CYCF[vlib-64]:-}" "${CYCF[veg-64]:-}")"
	printf '  %-30s %s\n' "" "(the medians over the measurements the rates are the medians of)"
	if [ "$(wc -w <<<"$SAME_SIZES")" -gt 0 ]; then
		printf '  %s\n' "Same receiver at other sizes, batch 32 (one measurement each; probe states around each):"
	fi
	for s in $SAME_SIZES; do
		grep -qw -- "$s" <<<"$SIZES" || continue
		x=$(ratio "${MPPS[veg-$s]:-}" "${MPPS[vlib-$s]:-}")
		if [ "$s" = 1500 ]; then
			tgt=">= 1.2x  $(verdict "$x" 1.2)"
		else
			tgt="(information)"
		fi
		printf '  at %4s B: eg_tx / vhost enqueue %sx  %s (states %s, %s); TSC cyc/pkt in the call %s / %s (full calls %s / %s)\n' \
			"$s" "$x" "$tgt" "${RTC[veg-$s]:-?}" "${RTC[vlib-$s]:-?}" \
			"${CYC[veg-$s]:-n/a}" "${CYC[vlib-$s]:-n/a}" "${CYCF[veg-$s]:-n/a}" "${CYCF[vlib-$s]:-n/a}"
	done
	for s in $SIZES; do
		[ "$s" = 64 ] && continue
		printf '  at %4s B batch 32: eptgate / vhost-user %sx, / memif %sx, / copy ring %s\n' "$s" \
			"$(ratio "${MPPS[eg-$s-32]:-}" "${MPPS[vhost-$s]:-}")" \
			"$(ratio "${MPPS[eg-$s-32]:-}" "${MPPS[memif-$s]:-}")" \
			"$(ratio "${MPPS[eg-$s-32]:-}" "${MPPS[ring-$s]:-}")"
	done
	echo
	echo "Instructions per packet in eg_tx_burst (valgrind --tool=callgrind --toggle-collect=eg_tx_burst, sender only,"
	echo "  $CG_BURSTS bursts, consumer simulated in-process between bursts; repeatable):"
	echo "  callgrind counts each byte of the packet copy's 'rep movsb' (packets over ${small:-?} B) as one instruction, so the second figure takes them out."
	printf '  %-18s %10s Ir/pkt   %10s Ir/pkt without the rep-movsb byte iterations\n' "64 B batch 32" "${IR[64]}" "${IRX[64]}"
	printf '  %-18s %10s Ir/pkt   %10s Ir/pkt without the rep-movsb byte iterations\n' "1500 B batch 32" "${IR[1500]}" "${IRX[1500]}"
	echo "  per-line profile: build/bench/callgrind-64.txt, build/bench/callgrind-1500.txt"
	echo
	echo "Elapsed: $((SECONDS - T_START)) s.  Raw lines: build/bench/bench.log."
} > "$R"
cat "$R"
FAILED=$((FAILED + BAD_DATA))
[ $FAILED = 0 ] || { echo "bench: some measurements failed (see $LOG)" >&2; exit 1; }
exit 0
