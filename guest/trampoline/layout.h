/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The trampoline's page offsets, the one place they are written: for
 * tramp.c (which checks them against struct eg_tramp_private and the
 * uapi), entry.S and tramp.ld (run through the C preprocessor by the
 * Makefile).  Plain #defines of integer expressions only, without C
 * suffixes or casts, so that C, the assembler and the linker script can
 * all read them.  All relative to the trampoline's base T.
 *
 *   T + 0                   the blob (at most EG_TR_CODE_MAX bytes)
 *   T + EG_TR_DATA_OFF      private page 0: canary, trusted parameters
 *   T + EG_TR_STATE_OFF     private page 1: the trampoline's own state
 *   T + EG_TR_STACK_OFF     private pages 2 and 3: the stack, down from
 *                           EG_TR_STACK_TOP
 */
#ifndef EPTGATE_TRAMP_LAYOUT_H
#define EPTGATE_TRAMP_LAYOUT_H

#define EG_TR_PAGE_SIZE		4096
#define EG_TR_CODE_MAX		16384	/* EPTGATE_TRAMPOLINE_CODE_MAX */
#define EG_TR_DATA_OFF		EG_TR_CODE_MAX
#define EG_TR_DATA_LEN		16384	/* EPTGATE_TRAMPOLINE_DATA_LEN */
#define EG_TR_STATE_OFF		(EG_TR_DATA_OFF + 1 * EG_TR_PAGE_SIZE)
#define EG_TR_LOCK		(EG_TR_STATE_OFF + 0)
#define EG_TR_SAVED_RSP		(EG_TR_STATE_OFF + 8)
#define EG_TR_STACK_OFF		(EG_TR_DATA_OFF + 2 * EG_TR_PAGE_SIZE)
#define EG_TR_STACK_TOP		(EG_TR_DATA_OFF + EG_TR_DATA_LEN)
/* EPTGATE_TRAMPOLINE_CANARY(view) >> 8 */
#define EG_TR_CANARY_HI		0x45505447415445

#endif
