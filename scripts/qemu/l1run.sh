#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# run.sh of the pair-test payload (scripts/qemu/mkpayload.sh): runs in L1, the Debian 6.1
# kernel inside the emulated CPU with kvm-intel loaded, as `cd /eptgate && sh ./run.sh`.
# Boots two L2 guests A and B with eptgate's QEMU (q35, virtio-net-pci each, joined by a
# -netdev dgram pair on L1's loopback), and turns their "L2TAP" lines into TAP here.
# The receiver's side (results 15-24): eptgate.ko is loaded, B's virtio-net-pci has
# mq=on,eptgate=eg (patch 0003), and egpeer, a stand-in sender in L1, checks B's QEMU
# on its peer socket while B's init changes its queues (EGPEER lines).
# The fast path (results 25-59), after A and B: S has eptgate-pci (patch 0005) and
# loads eptgate_net.ko; R runs Debian's virtio_net with the eptgate queue pair; S's
# counted UDP stream goes through the trampoline into R's RX queue.
# L2 consoles are relayed live as "# A: ..." / "# B: ..." lines (verdict.sh still sees
# kernel splats in them) and kept in /tmp/A.log, /tmp/B.log.
P=$(pwd)
. ./pair.conf          # QEMU_VERSION COUNT L2_TIMEOUT A_DEVICE FAST_WAIT FAST_COUNT PHASES
QD=$P/qemu
Q="$QD/lib/ld-linux-x86-64.so.2 --library-path $QD/lib $QD/bin/qemu-system-x86_64 -L $QD/share"
up() { read -r u _ </proc/uptime; echo "$u"; }
n=0
tap() { # tap STATUS TEXT
	n=$((n + 1))
	if [ "$1" = 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; fi
}
L2IDS_A="mods stock sig ping send"
L2IDS_B="mods stock sig ping recv"
EG_L2IDS_B="chan irq"
EG_IDS="hello ringup grant rings down1 up2 down2"
EG_SOCK=/tmp/egB.sock
F_IDS_S="fload flink fping fsend fpath fdown fup2 fsend2 fsendbp fbp fkill fsend4 ffall fwild fwildtx fsend5 funload"
F_IDS_R="mods stock sig fchan rping frecv firq frecv2 frecvbp"
# results: 4 always, 20 for the A/B pair, 35 for the fast path (PHASES)
plan=4
case " $PHASES " in *" ab "*) plan=$((plan + 20)) ;; esac
case " $PHASES " in *" fast "*) plan=$((plan + 35)) ;; esac
echo "1..$plan"

# --- 1-3: the QEMU binary and KVM in L1 --------------------------------------------------
v=$($Q -version 2>&1 | head -n 1)
echo "$v" | grep -q "Debian $QEMU_VERSION"
tap $? "qemu runs in L1: $v"
$Q -machine help 2>&1 | grep -q '^q35 ' && $Q -device help 2>&1 | grep -q '"virtio-net-pci"'
tap $? "qemu has machine q35 and device virtio-net-pci"
[ -c /dev/kvm ]
tap $? "/dev/kvm in L1"
# the receiver's QEMU binds its VM to /dev/eptgate (result 15, printed after the 14)
eg_mod=$(insmod ./eptgate.ko 2>&1 && [ -c /dev/eptgate ] && echo ok)

# --- the pair ----------------------------------------------------------------------------
ip link set lo up
L2CMD="console=ttyS0 loglevel=5 mitigations=off tsc=reliable no_timer_check lpj=1000000"
L2CMD="$L2CMD cryptomgr.notests panic=-1 reboot=t 8250.nr_uarts=1 initcall_blacklist=cmos_init"
L2CMD="$L2CMD rcupdate.rcu_expedited=1 eg.count=$COUNT"
guest() { # guest ROLE IP PEER LOCALPORT PEERPORT MACSUFFIX [DEVICE]
	extra=${7:+-device $7}
	echo "L1 qemu $1 start uptime=$(up)"
	# B is the eptgate receiver: one queue pair more, its peer socket (egpeer connects)
	egchr= egdev= egarg=
	[ "$1" = B ] && egchr="-chardev socket,id=eg,path=$EG_SOCK,server=on,wait=off" &&
		egdev=",mq=on,eptgate=eg" && egarg="eg.eptgate=1"
	timeout "$L2_TIMEOUT" $Q -M q35 -accel kvm -cpu host,pmu=off -m 128 -nodefaults \
		-no-user-config -display none -monitor none -serial stdio -no-reboot \
		-kernel "$P/vmlinux" -initrd "$P/l2initrd.img" $egchr \
		-netdev "dgram,id=n0,local.type=inet,local.host=127.0.0.1,local.port=$4,remote.type=inet,remote.host=127.0.0.1,remote.port=$5" \
		-device "virtio-net-pci,netdev=n0,mac=52:54:00:00:00:$6,romfile=$egdev" \
		$extra \
		-append "$L2CMD eg.role=$1 eg.ip=$2 eg.peer=$3 $egarg" </dev/null 2>&1
	echo "L1 qemu $1 exit $? uptime=$(up)"
}
relay() { # relay ROLE: console lines -> /tmp/ROLE.log and "# ROLE: " diagnostics
	tr -d '\r' | while IFS= read -r l; do
		echo "$l" >>"/tmp/$1.log"
		echo "# $1: $l"
	done
}
rm -f /tmp/A.log /tmp/B.log /tmp/egpeer.log "$EG_SOCK"
# PHASES (pair.conf): "ab fast" runs both; a developer may run one (the other's results fail)
case " $PHASES " in *" ab "*)
echo "# pair start uptime=$(up)"
./egpeer "$EG_SOCK" "$L2_TIMEOUT" 52:54:00:00:00:0b 2>&1 | relay egpeer &
pe=$!
guest A 10.0.0.1 10.0.0.2 10001 10002 0a "$A_DEVICE" | relay A &
pa=$!
guest B 10.0.0.2 10.0.0.1 10002 10001 0b | relay B &
pb=$!
wait $pa
wait $pb
wait $pe
echo "# pair end uptime=$(up)"
esac

# --- the fast path: S (eptgate-pci + eptgate_net) sends into R (stock virtio_net) ----------
# R's virtio-net has the eptgate queue pair and listens on its peer socket; S's eptgate-pci
# connects to it (and again, reconnect=1, whichever QEMU starts first).  S's eth0 and R's
# netdev are joined by a dgram pair: the way back for egudp's ACKs (see l2init).
key=$(./egkey ./signing_cert.der 2>&1)
key_st=$?
fguest() { # fguest ROLE IP PEER LOCALPORT PEERPORT MACSUFFIX PEERMACSUFFIX DEVICE-ARGS...
	role=$1 ip=$2 peer=$3 lp=$4 pp=$5 mac=$6 pmac=$7
	shift 7
	xa=	# S's second UART: L1's word in the hostile-guest case
	[ "$role" = S ] && xa="8250.nr_uarts=2"
	echo "L1 qemu $role start uptime=$(up)"
	timeout "$FAST_L2_TIMEOUT" $Q -M q35 -accel kvm -cpu host,pmu=off -m 128 -nodefaults \
		-no-user-config -display none -monitor none -serial stdio -no-reboot \
		-kernel "$P/vmlinux" -initrd "$P/l2initrd.img" "$@" \
		-netdev "dgram,id=n0,local.type=inet,local.host=127.0.0.1,local.port=$lp,remote.type=inet,remote.host=127.0.0.1,remote.port=$pp" \
		-append "$L2CMD $xa eg.role=$role eg.ip=$ip eg.peer=$peer eg.peermac=52:54:00:00:01:$pmac eg.wait=$FAST_WAIT eg.fcount=$FAST_COUNT" \
		</dev/null 2>&1
	echo "L1 qemu $role exit $? uptime=$(up)"
}
FS=/tmp/egR.sock
FAST_L2_TIMEOUT=$((L2_TIMEOUT + FAST_COUNT / 500))	# S sends FAST_COUNT more datagrams
rm -f /tmp/S.log /tmp/R.log /tmp/R2.log "$FS"
case " $PHASES " in *" fast "*)
echo "# fast pair start uptime=$(up)"
rguest() { # rguest ROLE [QEMU-ARGS]: the receiver, R or R2 (the same VM started again)
	role=$1
	shift
	fguest "$role" 10.0.1.2 10.0.1.1 10012 10011 0b 0a "$@" \
		-trace 'virtio_net_eptgate_ring_*' \
		-chardev "socket,id=eg,path=$FS,server=on,wait=off" \
		-device "virtio-net-pci,netdev=n0,mac=52:54:00:00:01:0b,romfile=,mq=on,eptgate=eg"
}
rguest R | relay R &
pr=$!
# S's ttyS1: L1 writes SC.in, drains what S echoes on SC.out
SC=/tmp/Sctl
rm -f "$SC.in" "$SC.out" /tmp/R2.ram
mkfifo "$SC.in" "$SC.out"
cat "$SC.out" >/dev/null &
exec 4<>"$SC.in"
fguest S 10.0.1.1 10.0.1.2 10011 10012 0a 0b \
	-serial "pipe:$SC" \
	-chardev "socket,id=eg,path=$FS,reconnect=1" \
	-device "virtio-net-pci,netdev=n0,mac=52:54:00:00:01:0a,romfile=" \
	-device "eptgate-pci,chardev=eg" | relay S &
ps=$!
# after S's first stream: its VM's counters, by eptgatectl (R waits 6 s before its view goes)
pid_of() { # pid_of PATTERN: the QEMU process (not its timeout) whose command line matches
	for d in /proc/[0-9]*; do
		c=$(tr '\0' ' ' <"$d/cmdline" 2>/dev/null)
		case "$c" in timeout*) continue ;; esac
		echo "$c" | grep -q "$1" && echo "${d#/proc/}"
	done | head -n 1
}
i=0
while [ $i -lt "$L2_TIMEOUT" ] && ! grep -q '^L2 S stream1 done' /tmp/S.log 2>/dev/null; do
	i=$((i + 1)); sleep 0.5
done
spid=$(pid_of 'eg[.]role=S ')
./eptgatectl --json list >/tmp/ectl.list 2>&1
svm=$(tr '{' '\n' </tmp/ectl.list | grep "\"pid\": *$spid[,}]" | sed -n 's/.*"vm_id": *\([0-9]*\).*/\1/p' | head -n 1)
./eptgatectl show "${svm:-0}" >/tmp/ectl.show 2>&1
sed 's/^/EGCTL: /' /tmp/ectl.list /tmp/ectl.show
# after eptgatectl (R's view goes 6 s after the stream; a walk of /proc is slow in L1):
# R's QEMU, at hand when the back-pressure stream starts
rpid=$(pid_of 'eg[.]role=R eg')
# show's view counters: "switches N, exits N, ..." and "event_fallbacks N, doorbells N, ..."
vexits=$(sed -n 's/^ *switches [0-9]*, exits \([0-9]*\),.*/\1/p' /tmp/ectl.show | head -n 1)
vbells=$(sed -n 's/.*event_fallbacks [0-9]*, doorbells \([0-9]*\),.*/\1/p' /tmp/ectl.show | head -n 1)
scalls=$(sed -n 's/^L2 S stream1 done calls=\([0-9]*\).*/\1/p' /tmp/S.log)
# S's back-pressure stream: stop R's QEMU (SIGSTOP, its vCPUs with it) for 3 s, 2 s into it
i=0
while [ $i -lt "$L2_TIMEOUT" ] && ! grep -q '^L2 S bp start' /tmp/S.log 2>/dev/null; do
	i=$((i + 1)); sleep 0.5
done
sleep 2
rstop=1
if [ -n "$rpid" ] && kill -STOP "$rpid"; then
	echo "# fast pair: R's QEMU (pid $rpid) stopped uptime=$(up)"
	sleep 3
	kill -CONT "$rpid" && rstop=0
	echo "# fast pair: R's QEMU continued uptime=$(up)"
fi
# R's third stream: kill its QEMU in the middle, then start it again as R2
i=0
while [ $i -lt "$L2_TIMEOUT" ] && ! grep -q '^L2 R stream3' /tmp/R.log 2>/dev/null; do
	i=$((i + 1)); sleep 1
done
sleep 3
# L1's busybox has no pkill: the processes whose command line names role R (timeout, QEMU)
for d in /proc/[0-9]*; do
	tr '\0' ' ' <"$d/cmdline" 2>/dev/null | grep -q 'eg[.]role=R eg' && kill -9 "${d#/proc/}"
done
echo "# fast pair: R's QEMU killed (kill -9) uptime=$(up)"
# what S's VM does meanwhile (diagnostics): its counters every 5 s for 30 s
( for i in 1 2 3 4 5 6; do
	sleep 5
	./eptgatectl show "${svm:-0}" 2>&1 | sed "s/^/EGCTL+$((i * 5))s: /"
done ) &
wait $pr
# R2's RAM is a file of L1's (a shared memory backend, as vhost-user needs): L1 hashes it
rguest R2 -object memory-backend-file,id=ram,size=128M,mem-path=/tmp/R2.ram,share=on \
	-machine memory-backend=ram | relay R2 &
pr2=$!
# the hostile guest: S's wild mailboxes while R2 is stopped; R2's RAM hashed around them
waitline() { # waitline FILE TEXT: up to L2_TIMEOUT s for a console line
	i=0
	while [ $i -lt "$L2_TIMEOUT" ] && ! grep -q "^$2" "$1" 2>/dev/null; do
		i=$((i + 1)); sleep 1
	done
	grep -q "^$2" "$1" 2>/dev/null
}
h0= h1= h2= r2pid=
if waitline /tmp/S.log 'L2 S wild ready'; then
	r2pid=$(pid_of 'eg[.]role=R2 ')
	[ -n "$r2pid" ] && kill -STOP "$r2pid" && h0=$(md5sum </tmp/R2.ram)
	echo "# fast pair: R2 (pid ${r2pid:-?}) stopped, its RAM ${h0%% *} uptime=$(up)"
	echo go >&4
	waitline /tmp/S.log 'L2 S wild done' && h1=$(md5sum </tmp/R2.ram)
	echo go >&4
	waitline /tmp/S.log 'L2 S wild frame sent' && h2=$(md5sum </tmp/R2.ram)
	echo "# fast pair: R2's RAM after the wild calls ${h1%% *}, after a frame ${h2%% *} uptime=$(up)"
fi
[ -n "$r2pid" ] && kill -CONT "$r2pid"
echo go >&4
wait $pr2
wait $ps
echo "# fast pair end uptime=$(up)"
esac

# --- 4: the module in L1 ----------------------------------------------------------------
[ "$eg_mod" = ok ]
tap $? "eptgate.ko loaded in L1 and /dev/eptgate exists (${eg_mod:-no output})"
# pick WHO TAG ID FILE: the TAP result of the first "TAG ID ok|fail TEXT" line of FILE
pick() {
	l=$(grep -a "^$2 $3 " "$4" 2>/dev/null | head -n 1)
	case "$l" in
	"$2 $3 ok "*) tap 0 "$1: $3: ${l#"$2 $3 ok "}" ;;
	"$2 $3 fail "*) tap 1 "$1: $3: ${l#"$2 $3 fail "}" ;;
	*) tap 1 "$1: $3: no result" ;;
	esac
}

# --- the A/B pair: the guests' results, clean exits, the receiver's side (patch 0003) ------
case " $PHASES " in *" ab "*)
for r in A B; do
	[ $r = A ] && ids=$L2IDS_A || ids=$L2IDS_B
	for id in $ids; do
		l=$(grep -a "^L2TAP $id " "/tmp/$r.log" 2>/dev/null | head -n 1)
		case "$l" in
		"L2TAP $id ok "*) tap 0 "$r: $id: ${l#L2TAP $id ok }" ;;
		"L2TAP $id fail "*) tap 1 "$r: $id: ${l#L2TAP $id fail }" ;;
		*) tap 1 "$r: $id: no result from the guest" ;;
		esac
	done
done
ea=$(sed -n 's/^L1 qemu A exit \([0-9]*\).*/\1/p' /tmp/A.log)
eb=$(sed -n 's/^L1 qemu B exit \([0-9]*\).*/\1/p' /tmp/B.log)
[ "$ea" = 0 ] && [ "$eb" = 0 ]
tap $? "both guests powered off, qemu exit status A=$ea B=$eb"

for id in $EG_L2IDS_B; do pick B L2TAP "$id" /tmp/B.log; done
for id in $EG_IDS; do pick egpeer EGPEER "$id" /tmp/egpeer.log; done
;; esac

# --- the fast path (35) ------------------------------------------------------------------
case " $PHASES " in *" fast "*)
[ "$key_st" = 0 ]
tap $? "the trampoline's signing certificate is in eptgate's keyring (key ${key:-?})"
for id in $F_IDS_S; do pick S L2TAP "$id" /tmp/S.log; done
for id in $F_IDS_R; do pick R L2TAP "$id" /tmp/R.log; done
pick R2 L2TAP frecv4 /tmp/R2.log
# R's QEMU: each RING_UP with the doorbell as a KVM irqfd (trace virtio_net_eptgate_ring_up)
ups=$(grep -a -c 'virtio_net_eptgate_ring_up' /tmp/R.log)
irqfds=$(grep -a -c 'virtio_net_eptgate_ring_up.*KVM irqfd 1 ' /tmp/R.log)
[ "$ups" -ge 2 ] && [ "$irqfds" = "$ups" ]
tap $? "R's QEMU linked its eptgate RX queue $ups times, $irqfds with the sender's doorbell as a KVM irqfd: $(grep -a -m 1 'virtio_net_eptgate_ring_up' /tmp/R.log | sed 's/^.*virtio_net_eptgate_ring_up/ring_up/')"
[ "$rstop" = 0 ]
tap $? "L1 stopped R's QEMU (pid ${rpid:-?}) for 3 s during S's back-pressure stream, then continued it"
pick R2 L2TAP frecv5 /tmp/R2.log
[ -n "$h0" ] && [ "$h0" = "$h1" ]
tap $? "R2's 128 MiB of RAM, stopped, unchanged by S's wild mailboxes (md5 ${h0%% *} -> ${h1%% *})"
[ -n "$h1" ] && [ -n "$h2" ] && [ "$h1" != "$h2" ]
tap $? "and changed by one frame S sent through the fast path (md5 -> ${h2%% *}): the hash sees writes"
[ -n "$vexits" ] && [ -n "$scalls" ] && [ "$vbells" -gt 0 ] 2>/dev/null &&
	[ "$vexits" -le $((vbells + scalls / 10)) ]
tap $? "eptgatectl show VM ${svm:-?} (S, pid ${spid:-?}): ${vexits:-?} exits in view 1 for ${scalls:-?} trampoline calls and ${vbells:-?} doorbells: no exit per batch but the doorbells"
es=$(sed -n 's/^L1 qemu S exit \([0-9]*\).*/\1/p' /tmp/S.log)
er=$(sed -n 's/^L1 qemu R exit \([0-9]*\).*/\1/p' /tmp/R.log)
er2=$(sed -n 's/^L1 qemu R2 exit \([0-9]*\).*/\1/p' /tmp/R2.log)
errs=$(grep -a -c 'qemu-system-x86_64: eptgate-pci' /tmp/S.log)
[ "$es" = 0 ] && [ "$er" = 137 ] && [ "$er2" = 0 ] && [ "$errs" = 0 ]
tap $? "S and R2 powered off (qemu exit status S=$es R2=$er2), R was killed (R=$er), eptgate-pci error lines of S's QEMU: $errs"
;; esac
