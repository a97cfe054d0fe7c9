#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# libvirt-check.sh -- the libvirt domain XMLs of the eptgate pair (libvirt/*.xml) against
# libvirt's own domain schema (virt-xml-validate, Debian's libvirt-clients, with xmllint
# from libxml2-utils), as TAP.  Also: each XML's eptgate device properties exist in the
# QEMU patches, and broken copies (a misspelt <qemu:override> element, a <qemu:arg>
# without its namespace, a property type libvirt does not know) must fail to validate:
# the check can fail.  Nothing is defined in a libvirt daemon.
set -uo pipefail

top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$top" || exit 1
command -v virt-xml-validate >/dev/null || { echo "Bail out! no virt-xml-validate: scripts/deps.sh"; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
n=0
failed=0
result() {	# result RC DESCRIPTION
	n=$((n + 1))
	if [ "$1" = 0 ]; then
		echo "ok $n - $2"
	else
		echo "not ok $n - $2"
		failed=$((failed + 1))
	fi
}

for x in libvirt/*.xml; do
	out=$(virt-xml-validate "$x" domain 2>&1)
	result $? "$x validates against libvirt's domain schema${out:+: ${out//$'\n'/ }}"
done

# the properties the XMLs set exist in the patches (DEFINE_PROP_*("name", ...))
for p in mq eptgate; do
	grep -q "name='$p'" libvirt/eptgate-receiver.xml &&
		{ [ "$p" = mq ] || grep -q "DEFINE_PROP_[A-Z]*(\"$p\"" qemu/patches/0003-*.patch; }
	result $? "receiver: virtio-net-pci property '$p' is set and exists"
done
for p in chardev window-size; do
	grep -q "eptgate-pci,.*$p=" libvirt/eptgate-sender.xml &&
		grep -q "\"$p\"" qemu/patches/0004-*.patch
	result $? "sender: eptgate-pci property '$p' is set and exists in patch 0004"
done
# both ends name the same socket
s1=$(grep -o 'path=[^,]*' libvirt/eptgate-receiver.xml)
s2=$(grep -o 'path=[^,]*' libvirt/eptgate-sender.xml)
[ -n "$s1" ] && [ "$s1" = "$s2" ]
result $? "receiver and sender name the same peer socket (${s1:-none})"

# broken copies must not validate
sed 's/qemu:frontend>/qemu:frontnd>/' libvirt/eptgate-receiver.xml >"$tmp/b1.xml"
sed "s/ xmlns:qemu='[^']*'//" libvirt/eptgate-sender.xml >"$tmp/b2.xml"
sed "s/type='bool'/type='boolean'/" libvirt/eptgate-receiver.xml >"$tmp/b3.xml"
for b in b1 b2 b3; do
	! cmp -s "$tmp/$b.xml" libvirt/eptgate-receiver.xml && ! cmp -s "$tmp/$b.xml" libvirt/eptgate-sender.xml &&
		! virt-xml-validate "$tmp/$b.xml" domain >/dev/null 2>&1
	result $? "a broken copy ($b) fails to validate"
done
echo "1..$n"
[ "$failed" = 0 ]
