#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# run.sh of the chain-test payload (scripts/qemu/chain-test.sh): runs in L1, the Debian 6.1
# kernel inside the emulated CPU with kvm-intel loaded, as `cd /eptgate && sh ./run.sh`.
# A service chain of three L2 guests, A -> B -> C, with eptgate's QEMU (patch 0008: B's
# QEMU is receiver and sender on one binding):
#
#   A: virtio-net (dgram to B's first NIC: the way back) + eptgate-pci -> B's socket
#   B: virtio-net mq=on,eptgate=egr (A's trampoline writes its RX queue; server socket)
#      + virtio-net (dgram to C's NIC: eg0's lower, the way back) + eptgate-pci -> C's socket
#   C: virtio-net mq=on,eptgate=egr (B's trampoline writes its RX queue; server socket)
#
# A sends a counted egudp stream to C; B forwards it with net.ipv4.ip_forward=1.  While the
# chain is up, L1 reads `eptgatectl --json list` and `--json show` and checks the two links
# (A's view has a window onto B, B's view a window onto C, B one binding with both roles)
# and their counters.  L2 consoles are relayed live as "# A: ..." lines and kept in
# /tmp/CA.log, /tmp/CB.log, /tmp/CC.log.
P=$(pwd)
. ./pair.conf          # QEMU_VERSION (mkpayload.sh)
. ./chain.conf         # CHAIN_COUNT CHAIN_WAIT CHAIN_L2_TIMEOUT CHAIN_FWD
QD=$P/qemu
Q="$QD/lib/ld-linux-x86-64.so.2 --library-path $QD/lib $QD/bin/qemu-system-x86_64 -L $QD/share"
up() { read -r u _ </proc/uptime; echo "$u"; }
n=0
tap() { # tap STATUS TEXT
	n=$((n + 1))
	if [ "$1" = 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; fi
}
IDS_A="castock caload calink caping casend capath caunload"
IDS_B="cbstock cbchan cbload cblink cbrecv cbfwd cbunload"
IDS_C="ccstock ccchan ccrecv ccq"
# 4 in L1, 18 from the guests, 7 from eptgatectl, 1 for the QEMUs' exits
echo "1..30"

v=$($Q -version 2>&1 | head -n 1)
echo "$v" | grep -q "Debian $QEMU_VERSION"
tap $? "qemu runs in L1: $v"
[ -c /dev/kvm ]
tap $? "/dev/kvm in L1"
eg_mod=$(insmod ./eptgate.ko 2>&1 && [ -c /dev/eptgate ] && echo ok)
[ "$eg_mod" = ok ]
tap $? "eptgate.ko loaded in L1 and /dev/eptgate exists (${eg_mod:-no output})"
key=$(./egkey ./signing_cert.der 2>&1)
tap $? "the trampoline's signing certificate is in eptgate's keyring (key ${key:-?})"

ip link set lo up
L2CMD="console=ttyS0 loglevel=5 mitigations=off tsc=reliable no_timer_check lpj=1000000"
L2CMD="$L2CMD cryptomgr.notests panic=-1 reboot=t 8250.nr_uarts=1 initcall_blacklist=cmos_init"
L2CMD="$L2CMD rcupdate.rcu_expedited=1 eg.count=$CHAIN_COUNT eg.wait=$CHAIN_WAIT eg.fwd=$CHAIN_FWD"
AMAC=52:54:00:00:02:0a BMAC=52:54:00:00:02:0b BLMAC=52:54:00:00:03:0a CMAC=52:54:00:00:03:0b
L2CMD="$L2CMD eg.amac=$AMAC eg.bmac=$BMAC eg.blmac=$BLMAC eg.cmac=$CMAC"
SB=/tmp/egCB.sock SC=/tmp/egCC.sock
dgram() { # dgram ID LOCALPORT PEERPORT: a -netdev on L1's loopback
	echo "dgram,id=$1,local.type=inet,local.host=127.0.0.1,local.port=$2,remote.type=inet,remote.host=127.0.0.1,remote.port=$3"
}
cguest() { # cguest ROLE DEVICE-ARGS...
	role=$1
	shift
	echo "L1 qemu $role start uptime=$(up)"
	timeout "$CHAIN_L2_TIMEOUT" $Q -M q35 -accel kvm -cpu host,pmu=off -m 128 -nodefaults \
		-no-user-config -display none -monitor none -serial stdio -no-reboot \
		-kernel "$P/vmlinux" -initrd "$P/l2initrd.img" "$@" \
		-append "$L2CMD eg.role=$role" </dev/null 2>&1
	echo "L1 qemu $role exit $? uptime=$(up)"
}
relay() { # relay ROLE: console lines -> /tmp/ROLE.log and "# ROLE: " diagnostics
	tr -d '\r' | while IFS= read -r l; do
		echo "$l" >>"/tmp/$1.log"
		echo "# $1: $l"
	done
}
rm -f /tmp/CA.log /tmp/CB.log /tmp/CC.log "$SB" "$SC"
echo "# chain start uptime=$(up)"
cguest CC -netdev "$(dgram n0 10032 10023)" \
	-chardev "socket,id=egr,path=$SC,server=on,wait=off" \
	-device "virtio-net-pci,netdev=n0,mac=$CMAC,romfile=,mq=on,eptgate=egr" | relay CC &
pc=$!
cguest CB -netdev "$(dgram n0 10021 10012)" -netdev "$(dgram n1 10023 10032)" \
	-chardev "socket,id=egr,path=$SB,server=on,wait=off" \
	-device "virtio-net-pci,netdev=n0,mac=$BMAC,romfile=,mq=on,eptgate=egr" \
	-device "virtio-net-pci,netdev=n1,mac=$BLMAC,romfile=" \
	-chardev "socket,id=egs,path=$SC,reconnect=1" \
	-device "eptgate-pci,chardev=egs" | relay CB &
pb=$!
cguest CA -netdev "$(dgram n0 10012 10021)" \
	-device "virtio-net-pci,netdev=n0,mac=$AMAC,romfile=" \
	-chardev "socket,id=egs,path=$SB,reconnect=1" \
	-device "eptgate-pci,chardev=egs" | relay CA &
pa=$!

# --- while the chain is up: eptgatectl's view of the three VMs -----------------------------
pid_of() { # pid_of ROLE: the QEMU process (not its timeout) of that role
	for d in /proc/[0-9]*; do
		c=$(tr '\0' ' ' <"$d/cmdline" 2>/dev/null)
		case "$c" in timeout*) continue ;; esac
		echo "$c" | grep -q "eg[.]role=$1 " && echo "${d#/proc/}"
	done | head -n 1
}
i=0
while [ $i -lt $((CHAIN_L2_TIMEOUT * 2)) ] && ! grep -q '^L2 CA stream done' /tmp/CA.log 2>/dev/null &&
	! grep -q '^L2 CA done' /tmp/CA.log 2>/dev/null; do
	i=$((i + 1)); sleep 0.5
done
echo "# chain: A's stream is done uptime=$(up)"
apid=$(pid_of CA) bpid=$(pid_of CB) cpid=$(pid_of CC)
./eptgatectl --json list >/tmp/ectl.list 2>&1
# field PID KEY [LIST]: a number of that QEMU's VM in list's JSON ({"vm_id": N, "pid": P, ...})
field() { [ -n "$1" ] && tr '{' '\n' <"${3:-/tmp/ectl.list}" | grep "\"pid\": *$1[,}]" | sed -n "s/.*\"$2\": *\([0-9]*\).*/\1/p" | head -n 1; }
vm_of() { field "$1" vm_id "$2"; }
avm=$(vm_of "$apid") bvm=$(vm_of "$bpid") cvm=$(vm_of "$cpid")
for vm in $avm $bvm $cvm; do
	./eptgatectl --json show "$vm" >"/tmp/ectl.show.$vm" 2>&1
	./eptgatectl show "$vm" >"/tmp/ectl.human.$vm" 2>&1
done
sed 's/^/EGCTL: /' /tmp/ectl.list
for vm in $avm $bvm $cvm; do sed "s/^/EGCTL $vm: /" "/tmp/ectl.human.$vm"; done
# wpeer VM KEY: KEY (vm_id or pid) of the peer of VM's window ranges, one line each
wpeer() { tr '{' '\n' <"/tmp/ectl.show.$1" 2>/dev/null | sed -n '/"kind": *"window"/,/"via"/p' | sed -n "s/.*\"$2\": *\([0-9]*\).*/\1/p"; }
# vstat VM KEY: that counter of VM's first view
vstat() { sed -n "s/.*\"stats\": *{[^}]*\"$2\": *\([0-9]*\).*/\1/p" "/tmp/ectl.show.$1" 2>/dev/null | head -n 1; }
echo "# chain: A pid ${apid:-?} vm ${avm:-?}, B pid ${bpid:-?} vm ${bvm:-?}, C pid ${cpid:-?} vm ${cvm:-?}"

# C goes first (A stays 45 s, B 60 s after the stream): B's receiving side must stay
i=0
while [ $i -lt 240 ] && ! grep -q '^L1 qemu CC exit' /tmp/CC.log 2>/dev/null; do
	i=$((i + 1)); sleep 0.5
done
./eptgatectl --json list >/tmp/ectl.list2 2>&1
sed 's/^/EGCTL after C: /' /tmp/ectl.list2
apid2=$(pid_of CA)

wait $pa
wait $pb
wait $pc
echo "# chain end uptime=$(up)"

# --- the guests' results (18) --------------------------------------------------------------
pick() { # pick WHO ID FILE: the TAP result of the first "L2TAP ID ok|fail TEXT" line
	l=$(grep -a "^L2TAP $2 " "$3" 2>/dev/null | head -n 1)
	case "$l" in
	"L2TAP $2 ok "*) tap 0 "$1: $2: ${l#"L2TAP $2 ok "}" ;;
	"L2TAP $2 fail "*) tap 1 "$1: $2: ${l#"L2TAP $2 fail "}" ;;
	*) tap 1 "$1: $2: no result" ;;
	esac
}
for id in $IDS_A; do pick A "$id" /tmp/CA.log; done
for id in $IDS_B; do pick B "$id" /tmp/CB.log; done
for id in $IDS_C; do pick C "$id" /tmp/CC.log; done

# --- eptgatectl (6) ------------------------------------------------------------------------
[ -n "$avm" ] && [ -n "$bvm" ] && [ -n "$cvm" ] && [ "$avm" != "$bvm" ] && [ "$bvm" != "$cvm" ]
tap $? "eptgatectl --json list: the three QEMUs' VMs are bound: A ${avm:-?} (pid ${apid:-?}), B ${bvm:-?} (pid ${bpid:-?}), C ${cvm:-?} (pid ${cpid:-?})"
aw=$(wpeer "$avm" vm_id | tr '\n' ' ') awp=$(wpeer "$avm" pid | tr '\n' ' ')
[ -n "$bvm" ] && [ "$aw" = "$bvm " ] && [ "$awp" = "$bpid " ]
tap $? "eptgatectl --json show $avm (A): one window, onto B: peer vm_id ${aw:-none}pid ${awp:-none}(B: vm ${bvm:-?} pid ${bpid:-?})"
bw=$(wpeer "$bvm" vm_id | tr '\n' ' ') bwp=$(wpeer "$bvm" pid | tr '\n' ' ')
[ -n "$cvm" ] && [ "$bw" = "$cvm " ] && [ "$bwp" = "$cpid " ]
tap $? "eptgatectl --json show $bvm (B): one window, onto C: peer vm_id ${bw:-none}pid ${bwp:-none}(C: vm ${cvm:-?} pid ${cpid:-?})"
# B: one binding for both roles: its view (window onto C) and its grant (A's window onto it)
bv=$(field "$bpid" views) bg=$(field "$bpid" grants) bp=$(field "$bpid" peer_windows)
cg=$(field "$cpid" grants) cp=$(field "$cpid" peer_windows) av=$(field "$apid" views)
[ "$bv" = 1 ] && [ "$bg" = 1 ] && [ "$bp" = 1 ] && [ "$cg" = 1 ] && [ "$cp" = 1 ] && [ "$av" = 1 ]
tap $? "eptgatectl --json list: B has 1 view, 1 grant, 1 window of another VM onto it (views $bv grants $bg peer_windows $bp); C grants $cg, mapped by $cp; A views $av"
ab=$(vstat "$avm" doorbells) as=$(vstat "$avm" switches) ae=$(vstat "$avm" exits)
[ "${ab:-0}" -gt 0 ] 2>/dev/null
tap $? "A's view counters: doorbells ${ab:-?} (> 0), switches ${as:-?}, exits ${ae:-?}"
bb=$(vstat "$bvm" doorbells) bs=$(vstat "$bvm" switches) be=$(vstat "$bvm" exits)
[ "${bb:-0}" -gt 0 ] 2>/dev/null
tap $? "B's view counters: doorbells ${bb:-?} (> 0), switches ${bs:-?}, exits ${be:-?}"

# C gone: B's grant to A and A's window onto B are still there
L2=/tmp/ectl.list2
bg2=$(field "$bpid" grants $L2) bp2=$(field "$bpid" peer_windows $L2)
aw2=$(field "$apid" windows $L2) cvm2=$(vm_of "$cpid" $L2)
[ -n "$apid2" ] && [ -z "$cvm2" ] && [ "$bg2" = 1 ] && [ "$bp2" = 1 ] && [ "$aw2" = 1 ]
tap $? "C's QEMU gone (C bound: ${cvm2:-no}; A still running: ${apid2:+yes}): B keeps its grant to A (grants ${bg2:-?}, peer_windows ${bp2:-?}) and A its window (${aw2:-?})"

# --- the QEMUs (1) -------------------------------------------------------------------------
ea=$(sed -n 's/^L1 qemu CA exit \([0-9]*\).*/\1/p' /tmp/CA.log)
eb=$(sed -n 's/^L1 qemu CB exit \([0-9]*\).*/\1/p' /tmp/CB.log)
ec=$(sed -n 's/^L1 qemu CC exit \([0-9]*\).*/\1/p' /tmp/CC.log)
errs=$(cat /tmp/CA.log /tmp/CB.log /tmp/CC.log | grep -a -c 'qemu-system-x86_64: .*eptgate')
[ "$ea" = 0 ] && [ "$eb" = 0 ] && [ "$ec" = 0 ] && [ "$errs" = 0 ]
tap $? "A, B and C powered off (qemu exit status A=$ea B=$eb C=$ec), eptgate error lines of the QEMUs: $errs"
