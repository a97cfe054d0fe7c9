/* SPDX-License-Identifier: GPL-2.0 */
/*
 * eptgate Tx path: the device side of one of the peer's virtio-net RX
 * queues (VIRTIO 1.x split ring), written through a window onto the peer's
 * memory.  Freestanding C: the same source is linked into the trampoline
 * blob (-ffreestanding -fno-builtin -nostdlib -fPIE) and built in host
 * userspace for the unit tests, the fuzzer and the benchmark.  No libc, no
 * global state, no allocation; all state is in struct eg_txq, which must
 * live in memory the peer cannot write (the protected view's private
 * data), as must the stats and the packet array.
 *
 * Policy in short (details in eg_tx.c):
 *  - eg_tx_burst() returns how many packets, from the front of pkts[], it
 *    is done with.  Each of those has .status == EG_TX_OK (delivered
 *    exactly once, in order) or a packet error (EG_TX_E_PKT_LEN,
 *    EG_TX_E_TOO_SMALL) with its counter incremented.  pkts[ret..n) were
 *    not touched: back-pressure (no peer RX buffer), resend them later.
 *  - A bad chain from the peer never fails a packet and is never silently
 *    swallowed: it is counted by kind, consumed, and returned in the used
 *    ring with len 0 (the driver drops it as a short frame and frees or
 *    reposts the buffer), and the packet goes to the next chain.
 *  - The used index is published once per burst; the peer is notified at
 *    most once per burst, as VIRTIO_F_EVENT_IDX / NO_INTERRUPT ask.
 */
#ifndef EPTGATE_GUEST_TX_EG_TX_H
#define EPTGATE_GUEST_TX_EG_TX_H

/* the guest driver (guest/linux) includes these in the kernel */
#ifdef __KERNEL__
#include <linux/types.h>
#else
#include <stdint.h>
#endif
#include "vring.h"

#define EG_TX_BURST_MAX		64	/* packets per eg_tx_burst() call */
#define EG_TX_PKT_MIN		14	/* an Ethernet header */
#define EG_TX_PKT_MAX		65536	/* 64 KiB, virtio_net_hdr_v1 extra */
#define EG_TX_HDR_LEN		((uint32_t)sizeof(struct virtio_net_hdr_v1))

/* eg_txq_init() results. */
#define EG_TX_INIT_OK		0
#define EG_TX_INIT_EWINDOW	(-1)	/* window null, empty, wraps, unaligned,
					 * longer than EG_TX_WIN_MAX */
#define EG_TX_WIN_MAX		(1ull << 57)	/* x86-64's largest address space */
#define EG_TX_INIT_EQSIZE	(-2)	/* not a power of 2 in 1..32768 */
#define EG_TX_INIT_ERING	(-3)	/* ring part misaligned, outside, overlapping */
#define EG_TX_INIT_EFEATURE	(-4)	/* needs VERSION_1; no indirect/packed/... */

/* Per-packet result in struct eg_tx_pkt.status. */
#define EG_TX_OK		0
#define EG_TX_E_PKT_LEN		1	/* len outside EG_TX_PKT_MIN..MAX, or no data */
#define EG_TX_E_TOO_SMALL	2	/* no MRG_RXBUF and the chain cannot hold it,
					 * or MRG_RXBUF and the whole ring cannot */
#define EG_TX_PENDING		0xffffffffu	/* not looked at (back-pressure) */

struct eg_tx_pkt {
	const void *data;
	uint32_t len;
	uint32_t status;	/* out: EG_TX_OK, EG_TX_E_*, or EG_TX_PENDING */
};

/*
 * Counters, added to by eg_tx_burst().  For each call:
 *   ret == d(sent) + d(err_pkt_len) + d(err_too_small)
 * Chain errors (err_avail_idx .. err_ring_overlap) never fail a packet.
 */
struct eg_tx_stats {
	uint64_t sent;		/* packets delivered */
	uint64_t bytes;		/* their payload bytes (without the header) */
	uint64_t used;		/* used elements published (incl. len-0 returns) */
	uint64_t bursts;	/* calls */
	uint64_t publishes;	/* used index stores (at most one per call) */
	uint64_t notifies;	/* doorbells rung (at most one per call) */
	uint64_t backpressure;	/* calls that stopped early for lack of buffers */
	/* packet errors: the packet is failed, no chain is consumed */
	uint64_t err_pkt_len;
	uint64_t err_too_small;
	/* peer errors */
	uint64_t err_avail_idx;	/* avail->idx moved more than qsize: burst stops */
	uint64_t err_head;	/* head index >= qsize: entry skipped, no used elem */
	uint64_t err_next;	/* next index >= qsize */
	uint64_t err_loop;	/* more descriptors walked in a burst than qsize */
	uint64_t err_indirect;	/* VIRTQ_DESC_F_INDIRECT (not supported) */
	uint64_t err_not_write;	/* descriptor without VIRTQ_DESC_F_WRITE */
	uint64_t err_zero_len;	/* descriptor of length 0 */
	uint64_t err_bounds;	/* addr/len outside the window or wrapping */
	uint64_t err_ring_overlap; /* buffer overlaps the ring itself */
	uint64_t chains_dropped; /* chains returned with len 0 (bad, or a
				  * mergeable packet's earlier buffers) */
	uint64_t notify_asks;	/* avail_event set: the ring ran out */
};

/* Setup; everything here is trusted (comes from the host, not the peer). */
struct eg_txq_cfg {
	void *win;		/* the window as this code sees it */
	uint64_t win_gpa;	/* peer-physical address win stands for */
	uint64_t win_len;	/* bytes */
	uint64_t desc_gpa, avail_gpa, used_gpa;
	uint32_t qsize;		/* power of 2, <= 32768 */
	uint64_t features;	/* negotiated by the peer's driver */
	uint16_t last_avail_idx; /* device state at handover (0 after reset) */
	uint16_t used_idx;
	/* Doorbell: either or both; called at most once per burst. */
	volatile uint32_t *doorbell;	/* stored doorbell_val to */
	uint32_t doorbell_val;
	void (*notify)(void *ctx);	/* set at run time: no relocation */
	void *notify_ctx;
};

struct eg_txq {
	uint8_t *win;
	uint64_t win_gpa, win_len;
	/* ring parts, as window pointers and as window offsets [lo, hi) */
	struct virtq_desc *desc;
	struct virtq_avail *avail;
	struct virtq_used *used;
	uint64_t desc_lo, desc_hi, avail_lo, avail_hi, used_lo, used_hi;
	uint64_t ring_lo, ring_hi;	/* the span of all three */
	/* the window after the ring: a buffer there needs one range check */
	uint64_t tail_gpa, tail_len;
	uint8_t *tail;
	uint32_t qsize;
	uint16_t mask;
	uint8_t event_idx, mrg_rxbuf;	/* the features it looks at */
	/* device-private state: never read back from the peer's ring */
	uint16_t last_avail_idx;
	uint16_t avail_end;	/* avail->idx as last read and validated */
	uint16_t used_idx;	/* == the peer-visible used->idx between calls */
	volatile uint32_t *doorbell;
	uint32_t doorbell_val;
	void (*notify)(void *ctx);
	void *notify_ctx;
};

int eg_txq_init(struct eg_txq *q, const struct eg_txq_cfg *cfg);

/*
 * Deliver up to n (<= EG_TX_BURST_MAX; more are not looked at) packets in
 * order.  Returns how many from the front of pkts[] are finished (see
 * above); sets their .status, leaves the others EG_TX_PENDING.
 */
unsigned int eg_tx_burst(struct eg_txq *q, struct eg_tx_pkt *pkts,
			 unsigned int n, struct eg_tx_stats *st);

#endif
