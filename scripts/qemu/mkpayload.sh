#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# mkpayload.sh OUTDIR -- the payload directory of the two-VM test for scripts/bochs/run.sh 6.1
#
# Needs: $B/qemu (scripts/qemu/build.sh) and $KDIR (scripts/bochs/kernel.sh 6.1, default
# $B/kernel-6.1: the Debian linux-image .deb, its dpkg -x tree and vmlinux).
# OUTDIR gets
#   run.sh pair.conf       the L1 script (l1run.sh) and its settings
#   qemu/bin/qemu-system-x86_64   (debug info stripped)  qemu/lib/ (its ldd libraries and
#                          ld-linux, run as ld-linux --library-path)  qemu/share/ (firmware)
#   vmlinux                the L2 kernel: Debian's vmlinux, zero tails trimmed (trimelf.py)
#   l2initrd.img           busybox-static, l2init as /init, egudp egchan egstats (static), and
#                          Debian's virtio modules exactly as packaged (signed) + modules.dep
#   eptgate.ko egpeer      the receiver's side: the module for L1's 6.1 kernel ($EPTGATE_KO),
#                          the stand-in sender (static, against patch 0002's eptgate-peer.h)
#   egkey signing_cert.der adds the trampoline's certificate ($EG_SIGNING_CERT) to the
#                          module's keyring, for the fast path's sender S
#   eptgatectl             tools/eptgatectl, static: L1 reads S's view counters
# Env: EGUDP_COUNT (datagrams A sends to B, default 1000), L2_TIMEOUT (s per QEMU, 400),
#      EPTGATE_KO (default $B/k6.1/mod-default/eptgate.ko: make module KDIR=<6.1> B=$B/k6.1);
#      EG_NET_KO EG_TRAMP_FW (into l2initrd: the fast path's sender S, and guest A),
#      EG_SIGNING_CERT (L1), EG_A_DEVICE (an extra -device of A), FAST_WAIT (s, egudp -t of S/R),
#      PAIR_PHASES ("ab fast": both pairs; one of them for a quicker look),
#      FAST_COUNT (datagrams of the fast path's first stream, default 100000)
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
top=$(cd "$here/../.." && pwd)
B=${EPTGATE_BUILD:-$top/build}
KDIR=${KDIR:-$B/kernel-6.1}
[ "$#" -eq 1 ] || { echo "usage: $0 OUTDIR" >&2; exit 2; }
O=$1
log() { echo "qemu/mkpayload.sh: $*" >&2; }

[ -x "$B/qemu/bin/qemu-system-x86_64" ] || { log "no $B/qemu: run scripts/qemu/build.sh"; exit 1; }
[ -s "$KDIR/vmlinux" ] && [ -f "$KDIR/abi" ] || { log "no kernel in $KDIR: run kernel.sh 6.1"; exit 1; }
EPTGATE_KO=${EPTGATE_KO:-$B/k6.1/mod-default/eptgate.ko}
[ -f "$EPTGATE_KO" ] || { log "no $EPTGATE_KO: make module KDIR=<6.1 kdir> B=$B/k6.1"; exit 1; }
peer_h=$B/qemu/src/include/hw/misc/eptgate-peer.h
[ -f "$peer_h" ] || { log "no $peer_h: run scripts/qemu/build.sh"; exit 1; }
kv=$(cat "$KDIR/abi")
deb=$(ls "$KDIR"/linux-image-"$kv"*.deb | head -n 1)

rm -rf "$O"
mkdir -p "$O/qemu/bin" "$O/qemu/lib" "$O/qemu/share"
O=$(cd "$O" && pwd)

# --- QEMU + libraries + firmware ---------------------------------------------------------
qb=$O/qemu/bin/qemu-system-x86_64
strip --strip-debug -o "$qb" "$B/qemu/bin/qemu-system-x86_64"
ldd "$qb" | awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\/.*ld-linux/ { print $1 }' |
	sort -u | while read -r lib; do
		cp -L "$lib" "$O/qemu/lib/"
	done
[ -e "$O/qemu/lib/ld-linux-x86-64.so.2" ] || { log "ld-linux-x86-64.so.2 not found by ldd"; exit 1; }
cp -L "$B/qemu/share/"* "$O/qemu/share/"

# --- L2 kernel -----------------------------------------------------------------------------
python3 "$here/trimelf.py" "$KDIR/vmlinux" "$O/vmlinux" >&2

# --- L2 initramfs --------------------------------------------------------------------------
R=$O/l2root
mkdir -p "$R"/{bin,proc,sys,dev,tmp} "$R/lib/modules/$kv"
cp /bin/busybox "$R/bin/busybox"
install -m 0755 "$here/l2init" "$R/init"
gcc -static -O2 -std=gnu11 -Wall -Wextra -Werror -o "$R/bin/egudp" "$here/egudp.c"
strip "$R/bin/egudp"
gcc -static -O2 -std=gnu11 -Wall -Wextra -Werror -o "$R/bin/egchan" "$here/egchan.c"
strip "$R/bin/egchan"
gcc -static -O2 -std=gnu11 -Wall -Wextra -Werror -o "$R/bin/egstats" "$here/egstats.c"
strip "$R/bin/egstats"
mods="kernel/drivers/virtio/virtio_ring.ko kernel/drivers/virtio/virtio.ko
kernel/drivers/virtio/virtio_pci_legacy_dev.ko kernel/drivers/virtio/virtio_pci_modern_dev.ko
kernel/drivers/virtio/virtio_pci.ko kernel/net/core/failover.ko kernel/drivers/net/net_failover.ko
kernel/drivers/net/virtio_net.ko"
# the expected sums come from the .deb itself, not from the dpkg -x tree we copy from
tarf=$O/.pkg.tar
dpkg-deb --fsys-tarfile "$deb" >"$tarf"
: >"$R/expected.sha256"
for m in $mods; do
	src=$KDIR/pkg/lib/modules/$kv/$m
	mkdir -p "$(dirname "$R/lib/modules/$kv/$m")"
	cp "$src" "$R/lib/modules/$kv/$m"
	sum=$(tar -xOf "$tarf" "./lib/modules/$kv/$m" | sha256sum | cut -d' ' -f1)
	printf '%s %s\n' "$sum" "$m" >>"$R/expected.sha256"
done
rm -f "$tarf"
cp "$KDIR/pkg/lib/modules/$kv/"modules.{order,builtin,builtin.modinfo} "$R/lib/modules/$kv/"
# guest A only: the sending guest's driver and its firmware, when given (EG_NET_KO,
# EG_TRAMP_FW: a built eptgate_net.ko and a signed trampoline blob)
if [ -n "${EG_NET_KO:-}" ]; then
	install -D -m 0644 "$EG_NET_KO" "$R/lib/modules/$kv/extra/eptgate_net.ko"
fi
if [ -n "${EG_TRAMP_FW:-}" ]; then
	install -D -m 0644 "$EG_TRAMP_FW" "$R/lib/firmware/eptgate/tramp.signed"
fi
depmod -b "$R" "$kv"
vn=$KDIR/pkg/lib/modules/$kv/kernel/drivers/net/virtio_net.ko
printf 'vermagic="%s" signer="%s" sig_hashalgo=%s\n' "$(modinfo -F vermagic "$vn")" \
	"$(modinfo -F signer "$vn")" "$(modinfo -F sig_hashalgo "$vn")" >"$R/expected.modinfo"
(cd "$R" && find . -mindepth 1 | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet) >"$O/l2initrd.img"
rm -rf "$R"

# --- L1 side -------------------------------------------------------------------------------
install -m 0755 "$here/l1run.sh" "$O/run.sh"
cp "$EPTGATE_KO" "$O/eptgate.ko"
gcc -static -O2 -std=gnu11 -Wall -Wextra -Werror -o "$O/egkey" "$here/egkey.c"
strip "$O/egkey"
gcc -static -O2 -std=c11 -D_POSIX_C_SOURCE=200809L -Wall -Wextra -Werror -I"$top/uapi" \
	-I"$top/tools/eptgatectl" -o "$O/eptgatectl" "$top"/tools/eptgatectl/*.c
strip "$O/eptgatectl"
if [ -n "${EG_SIGNING_CERT:-}" ]; then
	cp "$EG_SIGNING_CERT" "$O/signing_cert.der"
fi
gcc -static -O2 -std=gnu11 -Wall -Wextra -Werror -I"$top/uapi" -I"$B/qemu/src/include" \
	-o "$O/egpeer" "$here/egpeer.c"
strip "$O/egpeer"
qv=$(cat "$B/qemu/version")
cat >"$O/pair.conf" <<CONF
QEMU_VERSION='$qv'
COUNT=${EGUDP_COUNT:-1000}
L2_TIMEOUT=${L2_TIMEOUT:-400}
A_DEVICE='${EG_A_DEVICE:-}'
FAST_WAIT=${FAST_WAIT:-240}
FAST_COUNT=${FAST_COUNT:-100000}
PHASES='${PAIR_PHASES:-ab fast}'
CONF
log "$O: $(du -sh "$O" | cut -f1) (qemu $(du -sh "$O/qemu" | cut -f1), vmlinux $(stat -c %s "$O/vmlinux"), l2initrd $(stat -c %s "$O/l2initrd.img"))"
