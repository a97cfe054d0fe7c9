#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# dkms-check.sh -- `make check`'s DKMS test: `dkms build` of eptgate's DKMS source tree
# (scripts/dkms/mksrc.sh) against the unpacked headers of both Debian kernels, with DKMS'
# trees under build/dkms: nothing goes into /usr/src, /var/lib/dkms or /lib/modules.
# Checks that each build gives an eptgate.ko whose vermagic is that kernel's.
set -euo pipefail

top=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
D=${EPTGATE_BUILD:-$top/build}/dkms
ver=$("$top/scripts/dkms/mksrc.sh" "$D/src")
rm -rf "$D/tree" "$D/install"
mkdir -p "$D/tree" "$D/install"
state() { { ls -AR /var/lib/dkms /lib/modules /usr/src 2>/dev/null || true; } | sha256sum; }
before=$(state)
rc=0
for s in 6.1 6.12; do
	abi=$("$top/scripts/bochs/kver.sh" "$s")
	kdir=$("$top/scripts/bochs/headers.sh" "$s" "$top/build/headers-$s" 2>/dev/null)
	if ! dkms build -m eptgate -v "$ver" -k "$abi" --kernelsourcedir "$kdir" \
		--dkmstree "$D/tree" --sourcetree "$D/src" --installtree "$D/install"; then
		echo "dkms-check: dkms build for $abi failed"
		rc=1
		continue
	fi
	ko=$D/tree/eptgate/$ver/$abi/$(uname -m)/module/eptgate.ko
	vm=$(modinfo -F vermagic "$ko" 2>/dev/null | cut -d' ' -f1)
	if [ "$vm" != "$abi" ]; then
		echo "dkms-check: $ko has vermagic '$vm', expected $abi"
		rc=1
	else
		echo "dkms-check: eptgate $ver built by dkms for $abi: $ko"
	fi
done
after=$(state)
if [ "$before" != "$after" ]; then
	echo "dkms-check: /var/lib/dkms, /lib/modules or /usr/src changed"
	rc=1
fi
exit $rc
