/* SPDX-License-Identifier: GPL-2.0 */
/*
 * eptgate PVH boot stub -- 32-bit entry.
 *
 * A multiboot (v1) loader (syslinux mboot.c32) enters stub_entry in flat 32-bit protected
 * mode with EAX = 0x2BADB002 and EBX = the multiboot information block.  We install our own
 * flat GDT, switch to our own stack and call stub_main(magic, info), which loads the kernel
 * and returns the physical address of the hvm_start_info block.  The PVH entry ABI wants
 * exactly that in EBX, with paging off and flat 32-bit segments, which is what we have.
 */
#define MB1_HEADER_MAGIC	0x1BADB002
#define MB1_PAGE_ALIGN		(1 << 0)	/* modules on 4 KiB boundaries */
#define MB1_MEMORY_INFO		(1 << 1)	/* we need mem_* and the memory map */
#define MB1_FLAGS		(MB1_PAGE_ALIGN | MB1_MEMORY_INFO)

#define SEL_CODE	0x08
#define SEL_DATA	0x10

	.section .mb1hdr, "a"
	.p2align 2
mb1_header:
	.long	MB1_HEADER_MAGIC
	.long	MB1_FLAGS
	.long	-(MB1_HEADER_MAGIC + MB1_FLAGS)

	.text
	.code32
	.globl	stub_entry
	.type	stub_entry, @function
stub_entry:
	cli
	cld
	lgdt	gdt_ptr
	ljmp	$SEL_CODE, $.Lreload
.Lreload:
	movl	$SEL_DATA, %ecx		/* EAX/EBX still hold the loader's magic and info */
	movw	%cx, %ds
	movw	%cx, %es
	movw	%cx, %fs
	movw	%cx, %gs
	movw	%cx, %ss

	/* do not trust the loader to have zeroed .bss (stack, start_info, ...) */
	movl	%eax, %edx
	movl	$__bss_start, %edi
	movl	$__stub_end, %ecx
	subl	%edi, %ecx
	xorl	%eax, %eax
	rep stosb
	movl	%edx, %eax
	movl	$boot_stack_top, %esp
	xorl	%ebp, %ebp

	pushl	%ebx
	pushl	%eax
	call	stub_main		/* returns &hvm_start_info, never fails back */
	addl	$8, %esp

	movl	%eax, %ebx
	movl	pvh_entry_point, %ecx
	xorl	%eax, %eax
	xorl	%edx, %edx
	xorl	%esi, %esi
	xorl	%edi, %edi
	jmp	*%ecx
	.size	stub_entry, . - stub_entry

	.section .rodata
	.p2align 3
gdt:
	.quad	0				/* null */
	.quad	0x00cf9a000000ffff		/* 0x08: code, base 0, 4 GiB, 32-bit, r/x */
	.quad	0x00cf92000000ffff		/* 0x10: data, base 0, 4 GiB, r/w */
gdt_end:
gdt_ptr:
	.word	gdt_end - gdt - 1
	.long	gdt

	.bss
	.p2align 4
boot_stack:
	.skip	16384
boot_stack_top:

	.section .note.GNU-stack, "", @progbits
