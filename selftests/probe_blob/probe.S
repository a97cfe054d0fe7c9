/* SPDX-License-Identifier: GPL-2.0 */
/*
 * probe.S: the trampoline of trampoline_test, a flat position-independent
 * blob (probe.ld, objcopy -O binary), signed at build time.
 *
 * The guest calls it at the code GVA, with the data GVA at code +
 * PROBE_CODE_MAX (the test maps them so): in view 1 the module's copy,
 * with the private data page; in view 0 the read-only copy of the same
 * bytes, with the guest's own RAM at the data GVA.  Arguments:
 *   rdi  result array (PROBE_RES_NR qwords, see probe.h)
 *   rsi  doorbell GVA, or 0
 * It stores the canary (data qword 0), its marker, the first parameter
 * qword and its call count (kept in the private data page), then, if rsi
 * is set, writes the doorbell and stores the canary again, which proves
 * it went on running in the view after the doorbell exit.  Clobbers rax.
 * Only RIP-relative addressing: the blob runs wherever it is mapped.
 */
#include "probe.h"

	.text
	.globl	probe_start
probe_start:
	movq	probe_start + PROBE_CODE_MAX(%rip), %rax
	movq	%rax, 8 * PROBE_RES_CANARY(%rdi)
	movabsq	$PROBE_MARKER_MODULE, %rax
	movq	%rax, 8 * PROBE_RES_MARKER(%rdi)
	movq	probe_start + PROBE_CODE_MAX + PROBE_PARAM_OFF(%rip), %rax
	movq	%rax, 8 * PROBE_RES_PARAM(%rdi)
	incq	probe_start + PROBE_CODE_MAX + PROBE_COUNT_OFF(%rip)
	movq	probe_start + PROBE_CODE_MAX + PROBE_COUNT_OFF(%rip), %rax
	movq	%rax, 8 * PROBE_RES_COUNT(%rdi)
	testq	%rsi, %rsi
	jz	1f
	movl	$PROBE_DOORBELL_VALUE, (%rsi)
	movq	probe_start + PROBE_CODE_MAX(%rip), %rax
	movq	%rax, 8 * PROBE_RES_AFTER_DB(%rdi)
1:
	ret
	.globl	probe_end
probe_end:
