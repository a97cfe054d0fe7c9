#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""sync-uapi.py -- rewrite patch 0002's copies of uapi/linux/eptgate*.h.

qemu/patches/0002-*.patch carries uapi/linux/eptgate.h, eptgate_pci.h, eptgate_tramp.h
verbatim as new files under linux-headers/linux/ (send-check.sh fails if
they differ).  After a change of the uapi headers, run this: each copy's
hunk, its index line and the diffstat are regenerated; nothing else of the
patch changes.  Exit 1 if the patch does not have the expected shape.
"""
import glob
import hashlib
import os
import re
import sys

top = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
patch = glob.glob(os.path.join(top, 'qemu/patches/0002-*.patch'))
if len(patch) != 1:
    sys.exit('sync-uapi.py: expected one qemu/patches/0002-*.patch')
patch = patch[0]
lines = open(patch).read().split('\n')


def blob_id(data):
    return hashlib.sha1(b'blob %d\0' % len(data) + data).hexdigest()[:7]


for h in ('eptgate.h', 'eptgate_pci.h', 'eptgate_tramp.h'):
    path = 'linux-headers/linux/' + h
    data = open(os.path.join(top, 'uapi/linux', h), 'rb').read()
    body = data.decode().split('\n')
    if body[-1] == '':
        body.pop()
    else:
        sys.exit('sync-uapi.py: uapi/linux/%s does not end in a newline' % h)
    start = lines.index('diff --git a/%s b/%s' % (path, path))
    end = start + 1
    while end < len(lines) and not (lines[end].startswith('diff --git') or lines[end] == '-- '):
        end += 1
    hunk = ['diff --git a/%s b/%s' % (path, path), 'new file mode 100644',
            'index 0000000..%s' % blob_id(data), '--- /dev/null', '+++ b/' + path,
            '@@ -0,0 +1,%d @@' % len(body)] + ['+' + l for l in body]
    lines[start:end] = hunk

# recompute the diffstat: counts and plus bars as git formats them (no deletions)
stat = [(i, re.match(r'^ (\S+)(\s*)\| +(\d+)', l)) for i, l in enumerate(lines)]
stat = [(i, m) for i, m in stat if m and i < 30]
counts = {}
for i, m in stat:
    p = m.group(1)
    s = lines.index('diff --git a/%s b/%s' % (p, p))
    n = 0
    for l in lines[s + 1:]:
        if l.startswith('diff --git') or l == '-- ':
            break
        if l.startswith('+') and not l.startswith('+++ '):
            n += 1
    counts[i] = (p, n)
width = max(len(p) for p, _ in counts.values())
total = sum(n for _, n in counts.values())
maxn = max(n for _, n in counts.values())
numw = len(str(maxn))
# git format-patch: --stat width 72, bars scaled as diff.c's scale_linear()
barmax = 72 - (width + numw + 6)
for i, (p, n) in counts.items():
    bar = n if maxn <= barmax else (1 + n * (barmax - 1) // maxn if n else 0)
    lines[i] = ' %-*s | %*d %s' % (width, p, numw, n, '+' * bar)
for i, l in enumerate(lines[:40]):
    if re.match(r'^ \d+ files? changed', l):
        lines[i] = ' %d files changed, %d insertions(+)' % (len(counts), total)
open(patch, 'w').write('\n'.join(lines))
