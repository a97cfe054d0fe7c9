/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * The trampoline's trusted parameters: what a VMM passes as "param" to
 * EPTGATE_INSTALL_TRAMPOLINE for eptgate's own trampoline
 * (guest/trampoline, Documentation/trampoline.rst).  The module copies
 * them into the view's private pages at EPTGATE_TRAMPOLINE_PARAM_OFF and
 * does not read them; the trampoline checks them before its first use.
 * The rest of the trampoline's ABI (the mailbox, the results) is between
 * the guest and the trampoline: guest/trampoline/eg_tramp_abi.h.
 */
#ifndef _UAPI_LINUX_EPTGATE_TRAMP_H
#define _UAPI_LINUX_EPTGATE_TRAMP_H

#include <linux/types.h>

#define EG_TR_ABI_VERSION	1

/*
 * Offsets are from the trampoline's base T, page aligned; every region
 * lies inside the guest's mapping of T.  The ring is the peer's
 * virtio-net RX split ring, in the peer's guest-physical addresses, all
 * inside [win_gpa, win_gpa + win_len), which the view's window at
 * T + window_off maps.
 */
struct eg_tramp_params {
	__u32 version;		/* EG_TR_ABI_VERSION */
	__u32 qsize;		/* the peer's RX queue size */
	__u64 mailbox_off;
	__u64 pkt_off;		/* the packet area ... */
	__u64 pkt_len;		/* ... and its length */
	__u64 window_off;
	__u64 doorbell_off;	/* 0: no doorbell */
	__u64 win_gpa;		/* what the window maps */
	__u64 win_len;
	__u64 desc_gpa;
	__u64 avail_gpa;
	__u64 used_gpa;
	__u64 features;		/* negotiated by the peer's driver */
	/*
	 * The device's state at the first call: the next avail entry to
	 * take and the next used entry to write.  0 for a ring the peer's
	 * driver has just set up; for a ring that was written before, the
	 * used->idx it published last (what was taken and not published is
	 * taken again).
	 */
	__u16 last_avail_idx;
	__u16 used_idx;
	__u32 pad;		/* 0 */
};

#endif /* _UAPI_LINUX_EPTGATE_TRAMP_H */
