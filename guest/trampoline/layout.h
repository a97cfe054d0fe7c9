/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Offsets in the trampoline's private pages, for entry.S and tramp.c
 * (tramp.c checks them against struct eg_tramp_private).  All relative to
 * the trampoline's base T: the private pages start at EG_TR_DATA_OFF.
 */
#ifndef EPTGATE_TRAMP_LAYOUT_H
#define EPTGATE_TRAMP_LAYOUT_H

#define EG_TR_DATA_OFF		16384	/* EPTGATE_TRAMPOLINE_CODE_MAX */
#define EG_TR_DATA_LEN		16384	/* EPTGATE_TRAMPOLINE_DATA_LEN */
#define EG_TR_STATE_OFF		(EG_TR_DATA_OFF + 4096)
#define EG_TR_LOCK		(EG_TR_STATE_OFF + 0)
#define EG_TR_SAVED_RSP		(EG_TR_STATE_OFF + 8)
#define EG_TR_STACK_TOP		(EG_TR_DATA_OFF + EG_TR_DATA_LEN)
/* EPTGATE_TRAMPOLINE_CANARY(view) >> 8 */
#define EG_TR_CANARY_HI		0x45505447415445

#endif
