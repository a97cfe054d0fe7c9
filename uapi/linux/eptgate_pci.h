/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * The eptgate-pci device: what QEMU's device (qemu/patches) and the guest
 * driver (guest/linux) agree on.  See Documentation/qemu.rst, "The
 * eptgate-pci device".
 *
 * BAR 0: registers (32-bit MMIO, EG_PCI_REG_*), an exit per access: the
 *        control path only.
 * BAR 2: 64-bit prefetchable memory, the trampoline's T-relative layout,
 *        T = the BAR's base:
 *
 *   EG_PCI_CODE_OFF      code, EPTGATE_TRAMPOLINE_CODE_MAX: a read-only
 *                        memslot (KVM_MEM_READONLY) that QEMU fills with
 *                        the payload of the installed blob
 *   EG_PCI_DATA_OFF      private pages, EPTGATE_TRAMPOLINE_DATA_LEN: the
 *                        module's in the protected view, plain RAM (a
 *                        stand-in) in the default view
 *   EG_PCI_MAILBOX_OFF   mailbox, RAM (struct eg_tramp_mailbox)
 *   EG_PCI_STATUS_OFF    status page, RAM written by QEMU only
 *                        (struct eg_pci_status): the fast path reads it
 *                        without an exit
 *   EG_PCI_BLOB_OFF      staging for the signed blob, RAM,
 *                        EPTGATE_TRAMPOLINE_BLOB_MAX
 *   EG_PCI_PKT_OFF       packet area, RAM, EG_PCI_PKT_LEN
 *                        (EG_PCI_PKT_SLOTS slots of EG_PCI_PKT_SLOT bytes)
 *   EG_PCI_DOORBELL_OFF  doorbell page: a write is the peer's interrupt
 *                        (a length-0 ioeventfd)
 *   EG_PCI_WINDOW_OFF    the window onto the peer's memory,
 *                        EG_PCI_REG_WINDOW_LEN MiB: in the default view
 *                        RAM of the sender's own (allocated lazily, used
 *                        only by a trampoline that fell back), so that a
 *                        vCPU whose window page is pinned again retries
 *                        in the view (Documentation/api.rst, 3.5)
 *
 * The BAR's size is a power of two >= EG_PCI_WINDOW_OFF + window length.
 * The guest maps all of it, contiguous and executable (the code must be;
 * the view decides what really is).
 */
#ifndef _UAPI_LINUX_EPTGATE_PCI_H
#define _UAPI_LINUX_EPTGATE_PCI_H

#include <linux/types.h>

#define EG_PCI_VENDOR_ID	0x1af4
#define EG_PCI_DEVICE_ID	0x10f0	/* experimental range, pci-ids.rst */
#define EG_PCI_REVISION		1

#define EG_PCI_REG_BAR		0
#define EG_PCI_MEM_BAR		2

/* BAR 2 offsets */
#define EG_PCI_CODE_OFF		0x00000
#define EG_PCI_DATA_OFF		0x04000		/* EG_TR_DATA_OFF */
#define EG_PCI_MAILBOX_OFF	0x08000
#define EG_PCI_STATUS_OFF	0x09000
#define EG_PCI_BLOB_OFF		0x10000
#define EG_PCI_PKT_OFF		0x20000
#define EG_PCI_PKT_SLOT		2048
#define EG_PCI_PKT_SLOTS	64		/* EG_TR_BATCH_MAX */
#define EG_PCI_PKT_LEN		(EG_PCI_PKT_SLOT * EG_PCI_PKT_SLOTS)
#define EG_PCI_DOORBELL_OFF	0x40000
#define EG_PCI_WINDOW_OFF	0x100000

/* BAR 0 registers, 32 bits each */
#define EG_PCI_REG_MAGIC	0x00	/* ro: EG_PCI_MAGIC */
#define EG_PCI_REG_VERSION	0x04	/* ro: EG_PCI_VERSION */
#define EG_PCI_REG_WINDOW_LEN	0x08	/* ro: window length, MiB */
#define EG_PCI_REG_BLOB_LEN	0x0c	/* rw: bytes of the blob staged */
#define EG_PCI_REG_CMD		0x10	/* wo: EG_PCI_CMD_* */
#define EG_PCI_REG_RESULT	0x14	/* ro: last command's result, -errno */
#define EG_PCI_REG_STATE	0x18	/* ro: EG_PCI_STATE_* (as the page) */

#define EG_PCI_MAGIC		0x45505447	/* "EPTG" */
#define EG_PCI_VERSION		1

/*
 * Commands.  INSTALL: QEMU reads REG_BLOB_LEN bytes from the staging
 * area, keeps the blob, fills the code memslot with its payload, and
 * installs it (EPTGATE_INSTALL_TRAMPOLINE) whenever the link comes up;
 * REG_RESULT is 0 or the -errno of a malformed blob at once, and the
 * module's verdict shows in the status page's install_errno.  STOP: the
 * guest is done with the device (its driver unbinds); the view goes.
 */
#define EG_PCI_CMD_INSTALL	1
#define EG_PCI_CMD_STOP		2

/* eg_pci_status.state */
#define EG_PCI_STATE_DOWN	0	/* no peer, or no trampoline */
#define EG_PCI_STATE_UP		1	/* the view is ready: call it */

/*
 * The status page: QEMU writes it with the vCPUs free to run, so the
 * guest reads gen, then the fields, then gen again (a seqcount: odd while
 * QEMU writes).  Any change of the link bumps gen by 2.
 */
struct eg_pci_status {
	__u32 gen;
	__u32 state;		/* EG_PCI_STATE_* */
	__u32 view;		/* the view to call the trampoline with */
	__s32 install_errno;	/* 0, or the module's -errno for the blob */
	__u8 peer_mac[6];	/* the receiver's virtio-net MAC */
	__u16 mtu;		/* the largest frame the peer's buffers take */
	__u64 links_up;		/* times the link came up */
	__u64 links_down;	/* times it went down (peer gone, reset) */
};

#endif /* _UAPI_LINUX_EPTGATE_PCI_H */
