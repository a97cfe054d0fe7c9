/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The trampoline's entry and exit: the only two VMFUNC instructions of
 * the blob (the build checks that the bytes 0f 01 d4 occur exactly twice).
 *
 * The guest may reach either VMFUNC with any registers and any stack, by
 * jumping into the middle: what follows each one is safe with untrusted
 * registers.  After gate 1 nothing the guest left in a register or on its
 * stack is used: addresses are RIP-relative, the stack is the private
 * one, the batch is re-read from the mailbox.  After gate 2, if the
 * switch did not go to the default view (a jump onto gate 2 with another
 * index), the canary is still readable and the code leaves again.
 *
 *	long eg_tramp_entry(u32 view)	guest kernel, interrupts off
 */
#include "layout.h"

	.section .text.entry, "ax"
	.globl	eg_tramp_entry
	.type	eg_tramp_entry, @function
eg_tramp_entry:
	/*
	 * The guest kernel calls T+0 through a pointer: with IBT on, the
	 * target of an indirect call must be an ENDBR64 (a NOP without CET).
	 */
	endbr64
	movl	%edi, %ecx
	xorl	%eax, %eax
	vmfunc				/* gate 1: into the protected view */

	cld
	leaq	eg_tramp_entry(%rip), %rsi
	movq	EG_TR_DATA_OFF(%rsi), %rax
	shrq	$8, %rax
	movabsq	$EG_TR_CANARY_HI, %rdx
	cmpq	%rdx, %rax
	jne	.Lnot_in_view
	/* One vCPU at a time: the queue has a single producer. */
	movl	$1, %eax
	xchgq	%rax, EG_TR_LOCK(%rsi)
	testq	%rax, %rax
	jnz	.Lbusy
	movq	%rsp, EG_TR_SAVED_RSP(%rsi)
	leaq	EG_TR_STACK_TOP(%rsi), %rsp
	pushfq
	popq	%rax
	testl	$0x200, %eax		/* RFLAGS.IF */
	jnz	.Lirqs_on
	leaq	EG_TR_DATA_OFF(%rsi), %rdi
	call	eg_tramp_main		/* (private pages, T) */
	movq	%rax, %rdx
.Lunlock:
	leaq	eg_tramp_entry(%rip), %rsi
	movq	EG_TR_SAVED_RSP(%rsi), %rsp
	movq	$0, EG_TR_LOCK(%rsi)
	jmp	.Lleave
.Lirqs_on:
	movq	$-5, %rdx		/* EG_TR_E_IRQS_ON */
	jmp	.Lunlock
.Lnot_in_view:
	movq	$-1, %rdx		/* EG_TR_E_NOT_IN_VIEW */
	jmp	.Lleave
.Lbusy:
	movq	$-2, %rdx		/* EG_TR_E_BUSY */
.Lleave:
	xorl	%eax, %eax
	xorl	%ecx, %ecx
	vmfunc				/* gate 2: back to the default view */

	leaq	eg_tramp_entry(%rip), %rsi
	movq	EG_TR_DATA_OFF(%rsi), %rax
	shrq	$8, %rax
	movabsq	$EG_TR_CANARY_HI, %rcx
	cmpq	%rcx, %rax
	je	.Lleave			/* still in a view: leave again */
	movq	%rdx, %rax
	ret
	.size	eg_tramp_entry, . - eg_tramp_entry

	.section .note.GNU-stack, "", @progbits
