#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""trimelf.py IN OUT -- shrink an x86_64 vmlinux for QEMU's -kernel (PVH ELF loader).

Every PT_LOAD segment keeps its memory size; trailing zero bytes of its file image are
dropped (p_filesz lowered, page aligned), since the loader zero-fills filesz..memsz anyway.
Section headers are dropped and the file is cut after the last byte a segment still uses.
Debian's 6.1 vmlinux shrinks from ~66 MB to ~41 MB: less to carry through the emulated
CPU's initramfs.
"""
import struct
import sys

PAGE = 4096


def main(src, dst):
    img = bytearray(open(src, 'rb').read())
    if img[:4] != b'\x7fELF' or img[4] != 2 or img[5] != 1:
        sys.exit(f'{src}: not a little-endian ELF64 file')
    phoff, = struct.unpack_from('<Q', img, 0x20)
    phentsize, phnum = struct.unpack_from('<HH', img, 0x36)
    end = phoff + phentsize * phnum
    for i in range(phnum):
        ph = phoff + i * phentsize
        ptype, _, off, _, _, filesz, memsz, _ = struct.unpack_from('<IIQQQQQQ', img, ph)
        if ptype == 1 and filesz:  # PT_LOAD
            used = len(bytes(img[off:off + filesz]).rstrip(b'\0'))
            filesz = min(filesz, -(-used // PAGE) * PAGE)
            struct.pack_into('<Q', img, ph + 0x20, filesz)
        if filesz:
            end = max(end, off + filesz)
    struct.pack_into('<Q', img, 0x28, 0)             # e_shoff
    struct.pack_into('<HHH', img, 0x3a, 0, 0, 0)     # e_shentsize, e_shnum, e_shstrndx
    with open(dst, 'wb') as f:
        f.write(img[:end])
    print(f'trimelf: {src} {len(img)} -> {dst} {end} bytes')


if __name__ == '__main__':
    if len(sys.argv) != 3:
        sys.exit('usage: trimelf.py IN OUT')
    main(sys.argv[1], sys.argv[2])
