/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * The trampoline's ABI: how the guest calls it, where it finds its
 * memory, and the mailbox.  Shared by the blob (guest/trampoline), the
 * guest side that calls it (the selftests), and the VMM that installs it
 * (EPTGATE_INSTALL_TRAMPOLINE).  See Documentation/trampoline.rst.
 *
 * Guest-virtual layout, from the trampoline's base T (its first byte):
 *
 *   T + 0                       code: the blob.  Default view: the guest's
 *                               own copy; protected view: the module's
 *                               verified copy (execute+read).
 *   T + EG_TR_DATA_OFF          private pages (EPTGATE_TRAMPOLINE_DATA_LEN):
 *                               canary, trusted parameters, state, stack;
 *                               mapped only in the protected view.
 *   T + params.mailbox_off      the mailbox page (guest RAM)
 *   T + params.pkt_off          the packet area (guest RAM), pkt_len bytes
 *   T + params.window_off       the window onto the peer's memory
 *   T + params.doorbell_off     the doorbell page (0: none)
 *
 * Call (guest kernel, interrupts off):  long eg_tramp_entry(u32 view)
 * Returns the number of packets of the mailbox batch that are finished
 * (each with its status), or a negative EG_TR_E_* code.
 */
#ifndef EPTGATE_TRAMP_ABI_H
#define EPTGATE_TRAMP_ABI_H

/* the guest driver (guest/linux) includes these in the kernel */
#ifdef __KERNEL__
#include <linux/types.h>
#else
#include <stdint.h>
#endif
#include <linux/eptgate.h>
#include <linux/eptgate_tramp.h>
#include "layout.h"

/* The trusted parameters the VMM installs: uapi/linux/eptgate_tramp.h. */
#define EG_TR_BATCH_MAX		64

/* Negative results. */
#define EG_TR_E_NOT_IN_VIEW	(-1)	/* canary mismatch: VMFUNC did not switch */
#define EG_TR_E_BUSY		(-2)	/* another vCPU is in the trampoline */
#define EG_TR_E_BATCH		(-3)	/* mailbox batch out of bounds */
#define EG_TR_E_PARAMS		(-4)	/* trusted parameters are unusable */
#define EG_TR_E_IRQS_ON		(-5)	/* called with interrupts enabled */

/* The mailbox: the guest writes the batch, the trampoline the results. */
struct eg_tramp_mailbox {
	uint32_t count;		/* packets, <= EG_TR_BATCH_MAX */
	uint32_t pad;
	struct {
		uint32_t off;	/* into the packet area */
		uint32_t len;
	} pkt[EG_TR_BATCH_MAX];
	uint32_t status[EG_TR_BATCH_MAX];	/* out: EG_TX_OK, EG_TX_E_... */
	uint64_t stats[32];	/* out: struct eg_tx_stats, as u64s */
};

#endif /* EPTGATE_TRAMP_ABI_H */
