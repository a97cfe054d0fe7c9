#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# send-check.sh QEMU -- host-side checks of the sender's eptgate-pci device (qemu/patches/0004-*)
# under -accel qtest (no KVM needed): BAR sizes, subregion offsets (info mtree), registers,
# refused window-size values, INSTALL of a signed trampoline blob (payload in the code ROM),
# malformed blobs, STOP; and that patch 0002's linux-headers equal uapi/linux/.
# Prints "send-check: ok - ..." / "send-check: FAIL - ..." lines, last line "N passed, N failed";
# exit 0 iff nothing failed.  Env: EPTGATE_BUILD (scratch: $B/send-check), SIGN_FILE, QEMU_SHARE (firmware dir),
# TRAMP_BIN (default build/guest/tramp.bin, made with `make guest` when missing).
set -uo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
top=$(cd "$here/../.." && pwd)
B=${EPTGATE_BUILD:-$top/build}
Q=${1:-$B/qemu/bin/qemu-system-x86_64}
W=$B/send-check
mkdir -p "$W"
pass=0
fail=0
result() { # result STATUS TEXT
	if [ "$1" = 0 ]; then pass=$((pass + 1)); echo "send-check: ok - $2"
	else fail=$((fail + 1)); echo "send-check: FAIL - $2"; fi
}
# sign-file: $SIGN_FILE, else the harness's unpacked kbuild (build/headers-6.1), else
# eptgate-sign's own search
for f in "$B"/headers-6.1/root/usr/lib/linux-kbuild-6.1/scripts/sign-file \
	/work/main/build/headers-6.1/root/usr/lib/linux-kbuild-6.1/scripts/sign-file; do
	[ -n "${SIGN_FILE:-}" ] || [ ! -x "$f" ] || export SIGN_FILE=$f
done
QA=(-L "${QEMU_SHARE:-$B/qemu/share}" -M q35 -accel qtest -nodefaults -display none -m 128)

# --- 0002's header copies equal the uapi headers ------------------------------------------
for h in eptgate.h eptgate_pci.h eptgate_tramp.h; do
	python3 - "$top"/qemu/patches/0002-*.patch "linux-headers/linux/$h" >"$W/$h" <<'PY'
import sys
lines = open(sys.argv[1]).read().split('\n')
hdr = 'diff --git a/%s b/%s' % (sys.argv[2], sys.argv[2])
i = lines.index(hdr)
while not lines[i].startswith('@@'):
    i += 1
out = []
for l in lines[i + 1:]:
    if l.startswith('diff --git') or l == '-- ':
        break
    if l.startswith('+'):
        out.append(l[1:])
sys.stdout.write('\n'.join(out) + '\n')
PY
	cmp -s "$W/$h" "$top/uapi/linux/$h"
	result $? "qemu/patches/0002 linux-headers/linux/$h equals uapi/linux/$h"
done

# --- window-size refused at realize ---------------------------------------------------------
bad() { # bad VALUE EXPECTED-MESSAGE-PART
	local msg st
	msg=$("$Q" "${QA[@]}" -device "eptgate-pci,path=/dev/null,window-size=$1" </dev/null 2>&1)
	st=$?
	[ "$st" = 1 ] && echo "$msg" | grep -q "$2"
	result $? "window-size=$1 refused: ${msg##*qemu-system-x86_64: }"
}
bad 0 "is not a non-zero multiple of 1 MiB"
bad 1572864 "is not a non-zero multiple of 1 MiB"
bad 32G "makes BAR 2 larger than 2^35 bytes"

# --- signed blobs -----------------------------------------------------------------------------
TB=${TRAMP_BIN:-$top/build/guest/tramp.bin}
[ -f "$TB" ] || make -C "$top" guest >/dev/null 2>&1
if [ ! -f "$W/keys/signing_key.pem" ]; then
	EPTGATE_KEY_CN="eptgate send-check key" "$top/guest/sign/eptgate-keygen" "$W/keys" >/dev/null 2>&1
fi
"$top/guest/sign/eptgate-sign" "$W/keys/signing_key.pem" "$W/keys/signing_cert.der" \
	"$TB" "$W/tramp.signed" >/dev/null 2>&1
result $? "signed $TB with guest/sign/eptgate-sign"
n=$(wc -c <"$W/tramp.signed")
head -c $((n - 10)) "$W/tramp.signed" >"$W/cut.signed"     # trailer's magic cut
cp "$TB" "$W/unsigned"
{ cat "$TB"; head -c 20000 /dev/zero; } >"$W/big.bin"        # payload > CODE_MAX
"$top/guest/sign/eptgate-sign" "$W/keys/signing_key.pem" "$W/keys/signing_cert.der" \
	"$W/big.bin" "$W/big.signed" >/dev/null 2>&1

# --- the qtest session -------------------------------------------------------------------------
python3 - "$Q" "$W" "$TB" "$top/uapi/linux/eptgate_pci.h" "${QA[@]}" <<'PY' | tee "$W/qtest.out"
import subprocess, sys, re, os, socket, time
q, w, tb, hdr = sys.argv[1:5]
qa = sys.argv[5:]
defs = {}
for m in re.finditer(r'#define\s+(EG_PCI_\w+)\s+(\(?[0-9xa-fA-F *A-Z_]+\)?)', open(hdr).read()):
    try:
        defs[m.group(1)] = eval(m.group(2), {}, defs)
    except Exception:
        pass
D = defs
BAR0, BAR2 = 0xfebf0000, 0x100000000
res = []
def ok(c, t):
    res.append(c)
    print('send-check: %s - %s' % ('ok' if c else 'FAIL', t), flush=True)

p = subprocess.Popen([q] + qa + ['-qtest', 'stdio', '-qtest-log', '/dev/null', '-monitor',
                     'unix:%s/mon.sock,server=on,wait=off' % w, '-device',
                     'eptgate-pci,path=/dev/null,addr=4.0'],
                     stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                     stderr=open(os.path.join(w, 'qtest.err'), 'w'), text=True)
def cmd(c):
    p.stdin.write(c + '\n'); p.stdin.flush()
    while True:
        l = p.stdout.readline()
        if not l:
            raise SystemExit('qemu exited')
        if l.startswith('OK') or l.startswith('FAIL') or l.startswith('ERR'):
            return l.split()
def cfg_w(off, v):
    cmd('outl 0xcf8 0x%x' % (0x80000000 | (4 << 11) | off)); cmd('outl 0xcfc 0x%x' % v)
def cfg_r(off):
    cmd('outl 0xcf8 0x%x' % (0x80000000 | (4 << 11) | off)); return int(cmd('inl 0xcfc')[1], 16)
def hmp(c):
    m = socket.socket(socket.AF_UNIX)
    m.connect(os.path.join(w, 'mon.sock'))
    m.sendall((c + '\n').encode())
    out = b''
    m.settimeout(2)
    try:
        while True:
            d = m.recv(65536)
            if not d:
                break
            out += d
            if out.count(b'(qemu)') >= 2:
                break
    except socket.timeout:
        pass
    m.close()
    return out.decode(errors='replace').replace('\r', '')
def program():
    cfg_w(0x10, BAR0); cfg_w(0x18, BAR2 & 0xffffffff); cfg_w(0x1c, BAR2 >> 32)
    cfg_w(0x04, 0x2)
def rl(a):
    return int(cmd('readl 0x%x' % a)[1], 16)
def wl(a, v):
    cmd('writel 0x%x 0x%x' % (a, v))
def s32(v):
    return v - (1 << 32) if v & 0x80000000 else v

ok(cfg_r(0) == (D['EG_PCI_DEVICE_ID'] << 16 | D['EG_PCI_VENDOR_ID']), 'config space id 1af4:10f0')
ok(cfg_r(8) & 0xff == D['EG_PCI_REVISION'], 'revision EG_PCI_REVISION')
# BAR sizes
cfg_w(0x10, 0xffffffff); b0 = cfg_r(0x10)
ok(((~(b0 & ~0xf)) & 0xffffffff) + 1 == 4096, 'BAR 0 is 4 KiB of memory (0x%x)' % b0)
cfg_w(0x18, 0xffffffff); cfg_w(0x1c, 0xffffffff)
lo, hi = cfg_r(0x18), cfg_r(0x1c)
size = ((~((hi << 32) | (lo & ~0xf))) & ((1 << 64) - 1)) + 1
ok(lo & 0xf == 0xc, 'BAR 2 is 64-bit prefetchable memory (flags 0x%x)' % (lo & 0xf))
ok(size == 256 << 20, 'BAR 2 is 256 MiB for window-size 128M (%d)' % size)
program()
mt = hmp('info mtree')
for r in ('0000000100000000-0000000100003fff (prio 0, rom): eptgate-code',
          '0000000100004000-0000000100007fff (prio 0, ram): eptgate-data',
          '0000000100008000-0000000100008fff (prio 0, ram): eptgate-mailbox',
          '0000000100009000-0000000100009fff (prio 0, ram): eptgate-status',
          '0000000100010000-000000010001ffff (prio 0, ram): eptgate-blob',
          '0000000100020000-000000010003ffff (prio 0, ram): eptgate-pkt',
          '0000000100040000-0000000100040fff (prio 0, i/o): eptgate-doorbell',
          '0000000100100000-00000001080fffff (prio 0, ram): eptgate-window',
          '0000000100000000-000000010fffffff (prio 1, i/o): eptgate-bar2',
          '00000000febf0000-00000000febf0fff (prio 1, i/o): eptgate-regs'):
    ok(r in mt, 'info mtree: %s' % r)
# registers
ok(rl(BAR0 + D['EG_PCI_REG_MAGIC']) == D['EG_PCI_MAGIC'], 'REG_MAGIC is EG_PCI_MAGIC')
ok(rl(BAR0 + D['EG_PCI_REG_VERSION']) == D['EG_PCI_VERSION'], 'REG_VERSION is EG_PCI_VERSION')
ok(rl(BAR0 + D['EG_PCI_REG_WINDOW_LEN']) == 128, 'REG_WINDOW_LEN is 128 (MiB)')
ok(rl(BAR0 + D['EG_PCI_REG_STATE']) == D['EG_PCI_STATE_DOWN'], 'REG_STATE is DOWN')
wl(BAR0 + D['EG_PCI_REG_BLOB_LEN'], 1234)
ok(rl(BAR0 + D['EG_PCI_REG_BLOB_LEN']) == 1234, 'REG_BLOB_LEN is read-write')
# status page: gen even, state DOWN
st = cmd('read 0x%x 8' % (BAR2 + D['EG_PCI_STATUS_OFF']))[1]
gen = int.from_bytes(bytes.fromhex(st[2:10]), 'little')
ok(gen % 2 == 0 and gen > 0 and st[10:18] == '00000000',
   'status page: gen %d even, state DOWN' % gen)
# RAM regions are writable at their offsets
for name in ('DATA', 'MAILBOX', 'BLOB', 'PKT', 'WINDOW'):
    a = BAR2 + D['EG_PCI_%s_OFF' % name]
    wl(a, 0x5a5a0000 | len(name))
    ok(rl(a) == 0x5a5a0000 | len(name), 'BAR 2 + EG_PCI_%s_OFF is RAM' % name)
wl(BAR2 + D['EG_PCI_DOORBELL_OFF'], 1)
ok(rl(BAR2 + D['EG_PCI_DOORBELL_OFF']) == 0, 'doorbell page ignores writes, reads 0')

def install(path, n=None):
    data = open(path, 'rb').read()
    cmd('write 0x%x 0x%x 0x%s' % (BAR2 + D['EG_PCI_BLOB_OFF'], len(data), data.hex()))
    wl(BAR0 + D['EG_PCI_REG_BLOB_LEN'], len(data) if n is None else n)
    wl(BAR0 + D['EG_PCI_REG_CMD'], D['EG_PCI_CMD_INSTALL'])
    return s32(rl(BAR0 + D['EG_PCI_REG_RESULT']))
def code(n):
    return bytes.fromhex(cmd('read 0x%x 0x%x' % (BAR2 + D['EG_PCI_CODE_OFF'], n))[1][2:])

payload = open(tb, 'rb').read()
r = install(os.path.join(w, 'tramp.signed'))
ok(r == 0, 'INSTALL of a signed tramp.bin: RESULT %d' % r)
ok(code(16384) == payload + bytes(16384 - len(payload)),
   'code ROM holds the %d-byte payload, zeroes after it' % len(payload))
wl(BAR2 + D['EG_PCI_CODE_OFF'], 0xffffffff)
ok(code(4) == payload[:4], 'code ROM ignores guest writes')
for f, e, t in (('cut.signed', -74, 'magic cut (EBADMSG)'),
                ('unsigned', -74, 'unsigned (EBADMSG)'),
                ('big.signed', -27, 'payload > CODE_MAX (EFBIG)')):
    r = install(os.path.join(w, f))
    ok(r == e, 'INSTALL of %s blob: RESULT %d' % (t, r))
r = install(os.path.join(w, 'tramp.signed'), 0)
ok(r == -22, 'INSTALL with BLOB_LEN 0: RESULT %d (EINVAL)' % r)
r = install(os.path.join(w, 'tramp.signed'), 65537)
ok(r == -27, 'INSTALL with BLOB_LEN > BLOB_MAX: RESULT %d (EFBIG)' % r)
ok(code(len(payload)) == payload, 'refused INSTALLs leave the installed payload')
wl(BAR0 + D['EG_PCI_REG_CMD'], D['EG_PCI_CMD_STOP'])
ok(s32(rl(BAR0 + D['EG_PCI_REG_RESULT'])) == 0 and code(16384) == bytes(16384),
   'STOP: RESULT 0, code ROM zeroed')
r = install(os.path.join(w, 'tramp.signed'))
hmp('system_reset')
time.sleep(1)
program()
ok(r == 0 and code(16384) == bytes(16384), 'device reset zeroes the code ROM')
# closing qtest's stdin does not end QEMU 7.2: quit through the monitor
hmp('quit')
try:
    p.wait(timeout=20)
except subprocess.TimeoutExpired:
    p.kill(); p.wait()
err = open(os.path.join(w, 'qtest.err')).read()
ok(err.count('eptgate-pci: INSTALL:') == 5, 'each refusal error_report()s one line (%d)'
   % err.count('eptgate-pci: INSTALL:'))
sys.exit(0 if all(res) else 1)
PY
st=${PIPESTATUS[0]}
pass=$((pass + $(grep -c '^send-check: ok - ' "$W/qtest.out")))
fail=$((fail + $(grep -c '^send-check: FAIL - ' "$W/qtest.out")))
[ "$st" = 0 ]
result $? "qtest session ended with status 0 (QEMU's stderr: $W/qtest.err)"

echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
