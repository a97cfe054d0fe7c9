// SPDX-License-Identifier: GPL-2.0
/*
 * eptgate PVH boot stub.
 *
 * Booting a Debian bzImage under Bochs spends ~100 s of wall time in the XZ/zstd
 * decompressor.  This stub skips it: a multiboot loader (isolinux + mboot.c32) loads us plus
 * two modules, the *uncompressed* vmlinux ELF and the initrd:
 *
 *	KERNEL mboot.c32
 *	APPEND pvhstub.elf <kernel command line> --- vmlinux --- initrd.img
 *
 * We copy the vmlinux PT_LOAD segments to their physical addresses, describe memory map,
 * command line, initrd and ACPI RSDP in a struct hvm_start_info, and enter the kernel at the
 * address published by its XEN_ELFNOTE_PHYS32_ENTRY note (CONFIG_PVH=y) -- the same entry a
 * PVH-capable VMM (Xen, QEMU -kernel, Firecracker) uses.  The kernel runs at its link-time
 * physical address, so the command line needs `nokaslr`.
 *
 * Runs with paging off in flat 32-bit protected mode; no libc.
 */
#include <stddef.h>
#include <stdint.h>

/* ---- external interfaces -------------------------------------------------------------- */

#define MB1_LOADER_MAGIC	0x2BADB002u
#define MB1_INFO_CMDLINE	(1u << 2)
#define MB1_INFO_MODS		(1u << 3)
#define MB1_INFO_MMAP		(1u << 6)

struct mb1_info {
	uint32_t flags;
	uint32_t mem_lower, mem_upper;
	uint32_t boot_device;
	uint32_t cmdline;
	uint32_t mods_count, mods_addr;
	uint32_t syms[4];
	uint32_t mmap_length, mmap_addr;
};

struct mb1_module {
	uint32_t mod_start, mod_end;	/* [start, end) */
	uint32_t string;
	uint32_t reserved;
};

/* one memory map record; `size` does not count itself */
struct mb1_mmap {
	uint32_t size;
	uint64_t base;
	uint64_t length;
	uint32_t type;			/* same numbering as E820: 1 = RAM */
} __attribute__((packed));

/* xen/include/public/arch-x86/hvm/start_info.h */
#define HVM_START_MAGIC		0x336ec578u

struct hvm_start_info {
	uint32_t magic;
	uint32_t version;		/* 1: memmap fields are valid */
	uint32_t flags;
	uint32_t nr_modules;
	uint64_t modlist_paddr;
	uint64_t cmdline_paddr;
	uint64_t rsdp_paddr;
	uint64_t memmap_paddr;
	uint32_t memmap_entries;
	uint32_t reserved;
};

struct hvm_modlist_entry {
	uint64_t paddr;
	uint64_t size;
	uint64_t cmdline_paddr;
	uint64_t reserved;
};

struct hvm_memmap_table_entry {
	uint64_t addr;
	uint64_t size;
	uint32_t type;
	uint32_t reserved;
};

_Static_assert(sizeof(struct hvm_start_info) == 56, "hvm_start_info ABI");
_Static_assert(sizeof(struct hvm_modlist_entry) == 32, "hvm_modlist_entry ABI");
_Static_assert(sizeof(struct hvm_memmap_table_entry) == 24, "hvm_memmap_table_entry ABI");
_Static_assert(sizeof(struct mb1_mmap) == 24, "multiboot mmap record");

/* the few ELF64 bits we need */
struct elf64_ehdr {
	uint8_t ident[16];
	uint16_t type, machine;
	uint32_t version;
	uint64_t entry, phoff, shoff;
	uint32_t flags;
	uint16_t ehsize, phentsize, phnum, shentsize, shnum, shstrndx;
};

struct elf64_phdr {
	uint32_t type, flags;
	uint64_t offset, vaddr, paddr, filesz, memsz, align;
};

struct elf_note {
	uint32_t namesz, descsz, type;
};

#define PT_LOAD			1
#define PT_NOTE			4
#define EM_X86_64		62
#define XEN_ELFNOTE_PHYS32_ENTRY 18

/* ---- state handed to the kernel ------------------------------------------------------ */

#define MAX_E820		128

static struct hvm_start_info start_info __attribute__((aligned(8)));
static struct hvm_modlist_entry initrd_entry __attribute__((aligned(8)));
static struct hvm_memmap_table_entry e820[MAX_E820] __attribute__((aligned(8)));
static char kernel_cmdline[2048];

uint32_t pvh_entry_point;		/* read by stub_entry after stub_main returns */

extern char __stub_start[], __stub_end[];

uint32_t stub_main(uint32_t magic, const struct mb1_info *mbi);

/* ---- COM1 console (the BIOS / isolinux already programmed 115200 8N1) ------------------ */

static inline void outb(uint16_t port, uint8_t val)
{
	__asm__ volatile("outb %0, %1" : : "a"(val), "Nd"(port));
}

static inline uint8_t inb(uint16_t port)
{
	uint8_t val;

	__asm__ volatile("inb %1, %0" : "=a"(val) : "Nd"(port));
	return val;
}

static void con_char(char c)
{
	/* wait for THR empty, but never forever (no UART -> still boot) */
	for (unsigned int spin = 0; spin < 1000000; spin++)
		if (inb(0x3f8 + 5) & 0x20)
			break;
	outb(0x3f8, (uint8_t)c);
}

static void con_str(const char *s)
{
	for (; *s; s++) {
		if (*s == '\n')
			con_char('\r');
		con_char(*s);
	}
}

static void con_hex(uint64_t v)
{
	char buf[19];
	int i = 18;

	buf[i] = 0;
	do {
		buf[--i] = "0123456789abcdef"[v & 15];
		v >>= 4;
	} while (v);
	buf[--i] = 'x';
	buf[--i] = '0';
	con_str(&buf[i]);
}

static __attribute__((noreturn)) void fatal(const char *why)
{
	con_str("eptgate-pvhstub: FATAL: ");
	con_str(why);
	con_str("\n");
	for (;;)
		__asm__ volatile("cli; hlt");
}

/* ---- memory helpers (also satisfy compiler-generated calls) ---------------------------- */

void *memset(void *dst, int c, size_t n)
{
	void *d = dst;

	__asm__ volatile("rep stosb" : "+D"(d), "+c"(n) : "a"(c) : "memory");
	return dst;
}

void *memmove(void *dst, const void *src, size_t n)
{
	uintptr_t d = (uintptr_t)dst, s = (uintptr_t)src;

	if (d == s || n == 0)
		return dst;
	if (d < s || d >= s + n) {
		/* forward: dwords, then the tail */
		size_t dw = n >> 2, tail = n & 3;
		void *dp = dst;
		const void *sp = src;

		__asm__ volatile("rep movsl" : "+D"(dp), "+S"(sp), "+c"(dw) : : "memory");
		__asm__ volatile("rep movsb" : "+D"(dp), "+S"(sp), "+c"(tail) : : "memory");
	} else {
		/* destination overlaps the end of the source: copy backwards */
		void *dp = (char *)dst + n - 1;
		const void *sp = (const char *)src + n - 1;

		__asm__ volatile("std; rep movsb; cld" : "+D"(dp), "+S"(sp), "+c"(n) : : "memory");
	}
	return dst;
}

void *memcpy(void *dst, const void *src, size_t n)
{
	return memmove(dst, src, n);
}

/* ---- helpers ----------------------------------------------------------------------------- */

static uint64_t align_up(uint64_t v, uint64_t a)
{
	return (v + a - 1) & ~(a - 1);
}

static int ranges_overlap(uint64_t a0, uint64_t a1, uint64_t b0, uint64_t b1)
{
	return a0 < b1 && b0 < a1;
}

/* is [start, end) inside one RAM (type 1) entry of the e820 copy? */
static int is_ram(uint64_t start, uint64_t end, uint32_t entries)
{
	for (uint32_t i = 0; i < entries; i++)
		if (e820[i].type == 1 && start >= e820[i].addr &&
		    end <= e820[i].addr + e820[i].size)
			return 1;
	return 0;
}

static uint32_t copy_memory_map(const struct mb1_info *mbi)
{
	uint32_t n = 0, at = mbi->mmap_addr, stop = mbi->mmap_addr + mbi->mmap_length;

	while (at < stop && n < MAX_E820) {
		const struct mb1_mmap *r = (const struct mb1_mmap *)at;

		e820[n].addr = r->base;
		e820[n].size = r->length;
		e820[n].type = r->type;
		e820[n].reserved = 0;
		n++;
		at += r->size + sizeof(r->size);
	}
	return n;
}

static int rsdp_valid(const uint8_t *p)
{
	static const char sig[8] = "RSD PTR ";
	uint8_t sum = 0;

	for (int i = 0; i < 8; i++)
		if (p[i] != (uint8_t)sig[i])
			return 0;
	for (int i = 0; i < 20; i++)	/* ACPI 1.0 checksum covers the first 20 bytes */
		sum += p[i];
	return sum == 0;
}

/* ACPI spec 5.2.5.1: first KiB of the EBDA, then the BIOS area 0xE0000-0xFFFFF, 16-byte steps */
static uint32_t find_rsdp(void)
{
	uint16_t seg;

	/* BDA word 0x40e = EBDA segment; read via asm (a constant address looks like NULL+x to gcc) */
	__asm__ volatile("movw 0x40e, %0" : "=r"(seg));
	uint32_t ebda = (uint32_t)seg << 4;

	if (ebda >= 0x80000 && ebda < 0xa0000)
		for (uint32_t a = ebda; a < ebda + 1024; a += 16)
			if (rsdp_valid((const uint8_t *)a))
				return a;
	for (uint32_t a = 0xe0000; a < 0x100000; a += 16)
		if (rsdp_valid((const uint8_t *)a))
			return a;
	return 0;
}

/*
 * The multiboot command line starts with our own file name; drop that first word when it
 * looks like a path rather than a kernel parameter.
 */
static void take_cmdline(const struct mb1_info *mbi)
{
	const char *c = "";
	size_t n = 0;

	if (mbi->flags & MB1_INFO_CMDLINE)
		c = (const char *)mbi->cmdline;
	while (*c == ' ')
		c++;
	const char *w = c;
	int has_eq = 0;

	while (*w && *w != ' ')
		has_eq |= *w++ == '=';
	if (!has_eq && w != c)
		for (c = w; *c == ' '; c++)
			;
	while (c[n] && n < sizeof(kernel_cmdline) - 1) {
		kernel_cmdline[n] = c[n];
		n++;
	}
	kernel_cmdline[n] = 0;
}

struct kernel_layout {
	uint64_t lo, hi;	/* physical range covered by the PT_LOAD segments */
	uint32_t entry;		/* PVH 32-bit entry */
};

static const struct elf64_phdr *phdr(const uint8_t *img, const struct elf64_ehdr *eh, int i)
{
	return (const struct elf64_phdr *)(img + eh->phoff + (uint32_t)i * eh->phentsize);
}

/* find the Xen PHYS32_ENTRY note inside one PT_NOTE segment */
static uint32_t pvh_note(const uint8_t *p, const uint8_t *end)
{
	while (p + sizeof(struct elf_note) <= end) {
		const struct elf_note *n = (const struct elf_note *)p;
		const uint8_t *name = p + sizeof(*n);
		const uint8_t *desc = name + align_up(n->namesz, 4);

		if (n->type == XEN_ELFNOTE_PHYS32_ENTRY && n->namesz == 4 &&
		    name[0] == 'X' && name[1] == 'e' && name[2] == 'n' && name[3] == 0 &&
		    n->descsz >= 4)
			return *(const uint32_t *)desc;	/* a .quad on x86-64: low half */
		p = desc + align_up(n->descsz, 4);
	}
	return 0;
}

static void inspect_kernel(const uint8_t *img, uint32_t size, struct kernel_layout *k)
{
	const struct elf64_ehdr *eh = (const struct elf64_ehdr *)img;

	if (size < sizeof(*eh) || img[0] != 0x7f || img[1] != 'E' || img[2] != 'L' ||
	    img[3] != 'F' || img[4] != 2 || eh->machine != EM_X86_64)
		fatal("module 0 is not an x86-64 ELF (want the uncompressed vmlinux)");
	if (eh->phoff + (uint64_t)eh->phnum * eh->phentsize > size)
		fatal("vmlinux program headers lie outside the module");

	k->lo = ~0ull;
	k->hi = 0;
	k->entry = 0;
	for (int i = 0; i < eh->phnum; i++) {
		const struct elf64_phdr *ph = phdr(img, eh, i);

		if (ph->type == PT_LOAD && ph->memsz) {
			if (ph->offset + ph->filesz > size)
				fatal("vmlinux segment lies outside the module (truncated file?)");
			if (ph->paddr < k->lo)
				k->lo = ph->paddr;
			if (ph->paddr + ph->memsz > k->hi)
				k->hi = ph->paddr + ph->memsz;
		} else if (ph->type == PT_NOTE && ph->offset + ph->filesz <= size && !k->entry) {
			k->entry = pvh_note(img + ph->offset, img + ph->offset + ph->filesz);
		}
	}
	if (k->hi == 0)
		fatal("vmlinux has no PT_LOAD segment");
	if (k->hi > 0xffffffffull)
		fatal("vmlinux loads above 4 GiB");
	if (!k->entry)
		fatal("vmlinux has no XEN_ELFNOTE_PHYS32_ENTRY note (needs CONFIG_PVH=y)");
}

static void load_segments(const uint8_t *img)
{
	const struct elf64_ehdr *eh = (const struct elf64_ehdr *)img;

	for (int i = 0; i < eh->phnum; i++) {
		const struct elf64_phdr *ph = phdr(img, eh, i);
		uint8_t *dst = (uint8_t *)(uintptr_t)ph->paddr;

		if (ph->type != PT_LOAD || !ph->memsz)
			continue;
		memmove(dst, img + ph->offset, (size_t)ph->filesz);
		if (ph->memsz > ph->filesz)
			memset(dst + ph->filesz, 0, (size_t)(ph->memsz - ph->filesz));
	}
}

uint32_t stub_main(uint32_t magic, const struct mb1_info *mbi)
{
	struct kernel_layout k;
	uint32_t start[2] = { 0, 0 }, size[2] = { 0, 0 }, nmods, entries;
	uint64_t free_at;

	con_str("eptgate-pvhstub: start\n");
	if (magic != MB1_LOADER_MAGIC)
		fatal("not entered by a multiboot loader");
	if (!(mbi->flags & MB1_INFO_MODS) || mbi->mods_count < 1)
		fatal("no modules: want `--- vmlinux [--- initrd]`");
	if (!(mbi->flags & MB1_INFO_MMAP))
		fatal("the loader passed no memory map");

	entries = copy_memory_map(mbi);
	take_cmdline(mbi);

	const struct mb1_module *mods = (const struct mb1_module *)mbi->mods_addr;

	nmods = mbi->mods_count < 2 ? mbi->mods_count : 2;
	for (uint32_t i = 0; i < nmods; i++) {
		start[i] = mods[i].mod_start;
		size[i] = mods[i].mod_end - mods[i].mod_start;
	}

	/* headers and notes are read where the loader put the module */
	inspect_kernel((const uint8_t *)start[0], size[0], &k);
	if (ranges_overlap(k.lo, k.hi, (uintptr_t)__stub_start, (uintptr_t)__stub_end))
		fatal("the kernel load range covers the stub itself");

	/*
	 * Anything the kernel's load range would clobber moves to free memory above every
	 * module, the stub and the kernel; sources never overlap that area.
	 */
	free_at = k.hi;
	for (uint32_t i = 0; i < mbi->mods_count; i++)
		if (mods[i].mod_end > free_at)
			free_at = mods[i].mod_end;
	free_at = align_up(free_at, 2u << 20);
	for (uint32_t i = 0; i < nmods; i++) {
		if (!ranges_overlap(k.lo, k.hi, start[i], start[i] + size[i]))
			continue;
		if (!is_ram(free_at, free_at + size[i], entries))
			fatal("not enough RAM to move a module out of the kernel's way");
		memmove((void *)(uintptr_t)free_at, (const void *)start[i], size[i]);
		start[i] = (uint32_t)free_at;
		free_at = align_up(free_at + size[i], 4096);
	}
	if (!is_ram(k.lo, k.hi, entries))
		fatal("the kernel load range is not RAM");

	load_segments((const uint8_t *)start[0]);

	start_info.magic = HVM_START_MAGIC;
	start_info.version = 1;
	start_info.flags = 0;
	start_info.cmdline_paddr = (uintptr_t)kernel_cmdline;
	start_info.rsdp_paddr = find_rsdp();
	start_info.memmap_paddr = (uintptr_t)e820;
	start_info.memmap_entries = entries;
	if (nmods > 1 && size[1]) {
		initrd_entry.paddr = start[1];
		initrd_entry.size = size[1];
		start_info.nr_modules = 1;
		start_info.modlist_paddr = (uintptr_t)&initrd_entry;
	}
	pvh_entry_point = k.entry;

	con_str("eptgate-pvhstub: kernel ");
	con_hex(k.lo);
	con_str("-");
	con_hex(k.hi);
	con_str(" initrd ");
	con_hex(nmods > 1 ? start[1] : 0);
	con_str("+");
	con_hex(size[1]);
	con_str(" rsdp ");
	con_hex(start_info.rsdp_paddr);
	con_str(" e820 ");
	con_hex(entries);
	con_str("\neptgate-pvhstub: cmdline: ");
	con_str(kernel_cmdline);
	con_str("\neptgate-pvhstub: entering the kernel at ");
	con_hex(k.entry);
	con_str("\n");
	return (uint32_t)(uintptr_t)&start_info;
}
