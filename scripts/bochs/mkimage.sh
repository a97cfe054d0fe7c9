#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# mkimage.sh SERIES PAYLOAD_DIR OUTDIR -- build the initramfs and the bootable ISO.
#
# Inputs: the kernel cache made by kernel.sh ($KDIR, default <repo>/build/kernel-SERIES),
#         PAYLOAD_DIR (copied whole to /eptgate; /init runs `sh ./run.sh` there).
# Output: OUTDIR/initrd.img, OUTDIR/pvhstub.elf, OUTDIR/boot.iso, OUTDIR/cmdline
#         (OUTDIR/initramfs and OUTDIR/iso staging trees are removed unless KEEP=1).
# Env:    CMDLINE_EXTRA   appended to the kernel command line
#         LOGLEVEL        console loglevel (default 5: KERN_WARNING and worse reach the console)
#         KVM_INTEL_ARGS  parameters for insmod kvm-intel.ko
#         KFENCE          kfence.sample_interval in ms for kernels built with CONFIG_KFENCE=y
#                         (6.12; default 10, 0 = leave KFENCE off as Debian ships it)
#         WATCHDOG        guest seconds /init lets the payload run before it dumps every
#                         task's stack and powers off (default TIMEOUT - 120; 0 = off)
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
[ "$#" -eq 3 ] || { echo "usage: $0 SERIES PAYLOAD_DIR OUTDIR   (SERIES: 6.1, 6.12, 6.1-rt; see kver.sh)" >&2; exit 2; }
series=$1
payload=$2
out=$3
kdir=${KDIR:-$here/../../build/kernel-$series}
log() { echo "mkimage.sh[$series]: $*" >&2; }

[ -d "$payload" ] || { log "payload dir $payload does not exist"; exit 1; }
[ -f "$payload/run.sh" ] || log "warning: $payload/run.sh missing (the run will report not ok)"
if [ ! -s "$kdir/vmlinux" ] || [ ! -f "$kdir/abi" ]; then
	log "no kernel in $kdir: run kernel.sh $series $kdir first"
	exit 1
fi
mkdir -p "$out"
out=$(cd "$out" && pwd)

# --- kernel command line ---------------------------------------------------------------------
# nokaslr: the PVH stub loads the kernel at its link address.  cryptomgr.notests skips the
# crypto self-tests (tens of seconds under emulation).  tsc=reliable/no_timer_check/lpj avoid
# calibration against Bochs' non-realtime clock.  panic=-1: reboot at once on panic (boot.sh
# stops Bochs when it sees the reboot).
cmdline="console=ttyS0,115200 earlyprintk=serial,ttyS0,115200 nokaslr mitigations=off"
cmdline+=" tsc=reliable no_timer_check lpj=1000000 cryptomgr.notests panic=-1"
cmdline+=" panic_on_warn=0 loglevel=${LOGLEVEL:-5}"
# Bochs quirk: its corei7_haswell_4770 CPUID sets HT and reports several cores in leaf 4 but
# one logical CPU in leaf 1 (and has no leaf 0xb), so the 6.12 topology parser WARNs in
# parse_legacy() at boot.  Dropping the HT flag (parsed before the topology scan) avoids it.
case "$series" in
6.12) cmdline+=" clearcpuid=ht" ;;
esac
# KFENCE (sampling guard pages around slab objects: out-of-bounds, use-after-free) is in
# 6.12's stock config with sample_interval=0, i.e. off: a small interval samples often enough
# to catch something in a selftest run.
config=$kdir/pkg/boot/config-$(cat "$kdir/abi")
if [ "${KFENCE:-10}" != 0 ] && grep -qs '^CONFIG_KFENCE=y' "$config"; then
	cmdline+=" kfence.sample_interval=${KFENCE:-10}"
fi
# With several emulated CPUs, intel_idle's MWAIT (ECX=1, IF=0) was not woken by Bochs: 6.1-rt
# with 2 CPUs crawled, then froze with both CPUs in it.  idle=halt (HLT) ran it 10x faster.
[ "${BX_CPUS:-1}" -le 1 ] || cmdline+=" idle=halt"
[ -z "${CMDLINE_EXTRA:-}" ] || cmdline+=" $CMDLINE_EXTRA"

# --- PVH boot stub ---------------------------------------------------------------------------
gcc -m32 -march=i686 -Os -std=gnu11 -Wall -Wextra -Werror \
	-ffreestanding -fno-builtin -fno-pic -fno-pie -no-pie -fno-stack-protector \
	-fno-asynchronous-unwind-tables -fcf-protection=none -nostdlib -static \
	-Wl,-T,"$here/pvhstub.ld" -Wl,--build-id=none -Wl,--no-warn-rwx-segments \
	-o "$out/pvhstub.elf" "$here/pvhstub.S" "$here/pvhstub.c"

# --- initramfs ---------------------------------------------------------------------------------
root=$out/initramfs
rm -rf "$root"
mkdir -p "$root"/{bin,sbin,usr/bin,usr/sbin,etc,proc,sys,dev,tmp,root,lib/modules/eptgate}
cp /bin/busybox "$root/bin/busybox"
# one symlink per applet, at the path busybox itself reports (bin/sh, sbin/insmod, ...)
"$root/bin/busybox" --list-full | while read -r applet; do
	[ "$applet" = bin/busybox ] && continue
	mkdir -p "$root/$(dirname "$applet")"
	ln -sf /bin/busybox "$root/$applet"
done
install -m 0755 "$here/init" "$root/init"
for m in irqbypass kvm kvm-intel; do
	cp "$kdir/modules/$m.ko" "$root/lib/modules/eptgate/"
done
printf '%s\n' "${KVM_INTEL_ARGS:-}" >"$root/etc/kvm-intel.args"
# guest seconds, not wall seconds: the guest has no other clock.  It runs at most about as
# fast as the wall clock (ips vs. the MIPS Bochs achieves), slower with more CPUs or a busy
# host, so by default the watchdog fires before boot.sh's TIMEOUT only on an idle host.
wd=${WATCHDOG:-$(( ${TIMEOUT:-900} > 240 ? ${TIMEOUT:-900} - 120 : ${TIMEOUT:-900} / 2 ))}
printf '%s\n' "$wd" >"$root/etc/watchdog.seconds"
printf '%s\n' "${HEARTBEAT:-0}" >"$root/etc/heartbeat.seconds"
printf 'root:x:0:0:root:/root:/bin/sh\n' >"$root/etc/passwd"
printf 'root:x:0:\n' >"$root/etc/group"
mkdir -p "$root/eptgate"
cp -a "$payload/." "$root/eptgate/"
# uncompressed newc: the emulated CPU would spend seconds on a decompressor
(cd "$root" && find . -mindepth 1 -print0 | LC_ALL=C sort -z |
	cpio --null -o -H newc -R 0:0 --quiet) >"$out/initrd.img"

# --- ISO ---------------------------------------------------------------------------------------
iso=$out/iso
rm -rf "$iso"
mkdir -p "$iso/isolinux"
sysl=/usr/lib/syslinux/modules/bios
cp /usr/lib/ISOLINUX/isolinux.bin "$sysl/ldlinux.c32" "$sysl/mboot.c32" "$sysl/libcom32.c32" "$iso/isolinux/"
ln "$out/pvhstub.elf" "$iso/pvhstub.elf" 2>/dev/null || cp "$out/pvhstub.elf" "$iso/pvhstub.elf"
ln "$kdir/vmlinux" "$iso/vmlinux" 2>/dev/null || cp "$kdir/vmlinux" "$iso/vmlinux"
ln "$out/initrd.img" "$iso/initrd.img" 2>/dev/null || cp "$out/initrd.img" "$iso/initrd.img"
cat >"$iso/isolinux/isolinux.cfg" <<CFG
SERIAL 0 115200
PROMPT 0
TIMEOUT 0
DEFAULT eptgate
LABEL eptgate
  KERNEL /isolinux/mboot.c32
  APPEND /pvhstub.elf $cmdline --- /vmlinux --- /initrd.img
CFG
printf '%s\n' "$cmdline" >"$out/cmdline"
# xorriso prints a banner even with -quiet: show its stderr only when it fails
if ! xorriso -as mkisofs -quiet -o "$out/boot.iso.tmp" -R -J \
	-b isolinux/isolinux.bin -c isolinux/boot.cat \
	-no-emul-boot -boot-load-size 4 -boot-info-table "$iso" 2>"$out/xorriso.log"; then
	cat "$out/xorriso.log" >&2
	exit 1
fi
rm -f "$out/xorriso.log"
mv -f "$out/boot.iso.tmp" "$out/boot.iso"

if [ "${KEEP:-0}" != 1 ]; then
	rm -rf "$root" "$iso"
fi
log "$out/boot.iso ($(stat -c %s "$out/boot.iso") bytes, kernel $(cat "$kdir/abi"), initrd $(stat -c %s "$out/initrd.img") bytes)"
