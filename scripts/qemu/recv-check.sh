#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# recv-check.sh QEMU SHAREDIR SRCDIR -- host checks of the receiver's virtio-net property "eptgate"
# (qemu/patches/0003-*) with the qtest accelerator (no KVM here): the property's validation
# at realize, the realized device, and the peer socket's HELLO both ways (egpeer, built here
# against patch 0002's eptgate-peer.h, as the pair test's L1 uses it).
# Prints "ok - TEXT" / "FAIL - TEXT" lines (check.sh counts them); exit 0 iff none failed.
set -uo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
top=$(cd "$here/../.." && pwd)
[ "$#" -eq 3 ] || { echo "usage: $0 QEMU SHAREDIR SRCDIR (the patched QEMU source)" >&2; exit 2; }
Q=$1
src=$3/include
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
QA=(-L "$2" -M q35 -accel qtest -nodefaults -display none)
CHR="-chardev socket,id=eg,path=$tmp/eg.sock,server=on,wait=off"
failed=0
check() { # check STATUS TEXT
	if [ "$1" = 0 ]; then echo "ok - $2"; else echo "FAIL - $2"; failed=1; fi
}
# refuse OPTS PATTERN: realize fails (exit status 1) with a message matching PATTERN
refuse() {
	local msg st
	msg=$("$Q" "${QA[@]}" -monitor none $CHR -device "virtio-net-pci,romfile=,$1" </dev/null 2>&1)
	st=$?
	[ "$st" = 1 ] && echo "$msg" | grep -q -- "$2"
	check $? "virtio-net-pci,$1 is refused: ${msg##*: }"
}

"$Q" -device virtio-net-pci,help 2>&1 | grep -q 'eptgate=<str>' &&
	"$Q" -device virtio-net-pci,help 2>&1 | grep -q 'eptgate-path=<str>'
check $? "virtio-net-pci has properties eptgate and eptgate-path"
refuse "eptgate=eg,eptgate-path=/dev/null" "eptgate needs mq=on"
refuse "mq=on,ctrl_vq=off,eptgate=eg,eptgate-path=/dev/null" "eptgate needs mq=on (and ctrl_vq=on)"
refuse "mq=on,packed=on,eptgate=eg,eptgate-path=/dev/null" "eptgate needs packed=off"
refuse "mq=on,rss=on,eptgate=eg,eptgate-path=/dev/null" "eptgate needs rss=off and hash=off"
refuse "mq=on,hash=on,eptgate=eg,eptgate-path=/dev/null" "eptgate needs rss=off and hash=off"
refuse "eptgate-path=/dev/null" "eptgate-path needs eptgate=CHARDEV"
refuse "mq=on,eptgate=eg,eptgate-path=/nonexistent/eptgate" "Could not open '/nonexistent/eptgate': No such file"
refuse "mq=on,eptgate=nosuchchardev,eptgate-path=/dev/null" "nosuchchardev"

# realized: 2 queue pairs + ctrl + config = 6 MSI-X vectors by default; the peer socket
gcc -static -O2 -std=gnu11 -Wall -Wextra -Werror -I"$top/uapi" -I"$src" \
	-o "$tmp/egpeer" "$here/egpeer.c"
check $? "egpeer builds against $src/hw/misc/eptgate-peer.h"
# the monitor's input: wait for the socket, run egpeer (HELLO both ways; no guest, so no
# RING_UP: its "ringup" fails by design), a sender with a wrong role, then info qtree
{
	for _ in $(seq 50); do [ -S "$tmp/eg.sock" ] && break; sleep 0.1; done
	"$tmp/egpeer" "$tmp/eg.sock" 2 52:54:00:12:34:56 >"$tmp/egpeer.out" 2>&1
	python3 -c 'import socket, struct, sys, time
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1])
s.sendall(struct.pack("<IIII", 1, 8, 1, 2)); time.sleep(0.5)' "$tmp/eg.sock"
	printf 'info qtree\nquit\n'
} | "$Q" "${QA[@]}" -S -monitor stdio $CHR \
	-device virtio-net-pci,romfile=,mq=on,eptgate=eg,eptgate-path=/dev/null >"$tmp/qemu.out" 2>&1
st=$?
grep -q 'eptgate = "eg"' "$tmp/qemu.out" && grep -q 'vectors = 6 ' "$tmp/qemu.out"
check $? "mq=on,eptgate=eg,eptgate-path=/dev/null realizes (exit $st), 6 MSI-X vectors by default"
l=$(grep '^EGPEER hello ' "$tmp/egpeer.out")
[ "${l#EGPEER hello ok }" != "$l" ]
check $? "egpeer and the receiver exchange HELLO: ${l:-no result}"
l=$(grep -a 'HELLO with version' "$tmp/qemu.out" | tr -d '\r')
[ -n "$l" ]
check $? "a HELLO with the receiver's role is refused: ${l:-no message}"
exit $failed
