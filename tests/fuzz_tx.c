// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer target: the Tx path (guest/tx/eg_tx.c) against a hostile peer.
 * The input becomes the peer's ring (layout, descriptors, avail entries
 * and index, used_event, flags), the packets of each burst and the peer's
 * changes between bursts.  Invariants, per burst:
 *  - the only bytes of the window that change are in descriptors that are
 *    legal device-writable buffers (WRITE, not INDIRECT, non-empty, inside
 *    the window, off the ring) as the burst found them (nothing is read
 *    ahead for a later burst), and the used ring's idx and elements; the
 *    window is its own allocation, so ASan sees anything outside it;
 *  - ret <= min(n, 64) == finished packets: d(sent) + d(err_pkt_len) +
 *    d(err_too_small); statuses match; the rest are EG_TX_PENDING;
 *  - at most one publish and one notification; published used elements
 *    have valid ids and their lengths add up to the delivered packets';
 *  - every bad chain is counted once: without MRG_RXBUF, the chains
 *    returned with len 0 are as many as the chain errors counted (with it,
 *    at least as many); every consumed avail entry is a used element or a
 *    counted bad head.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "eg_tx.h"

#define CHECK(c) do { if (!(c)) abort(); } while (0)

#define WIN		16384
#define GPA		0x10000ull
#define BURSTS		8

struct rd {
	const uint8_t *d;
	size_t n, i;
};

static uint8_t g8(struct rd *r)
{
	return r->i < r->n ? r->d[r->i++] : 0;
}

static uint16_t g16(struct rd *r)
{
	uint16_t lo = g8(r);

	return (uint16_t)(lo | g8(r) << 8);
}

static uint32_t g32(struct rd *r)
{
	uint32_t lo = g16(r);

	return lo | (uint32_t)g16(r) << 16;
}

static uint64_t g64(struct rd *r)
{
	uint64_t lo = g32(r);

	return lo | (uint64_t)g32(r) << 32;
}

static uint8_t pktbuf[EG_TX_PKT_MAX];

static void on_notify(void *ctx)
{
	(*(unsigned int *)ctx)++;
}

/* A descriptor from the input: mostly near-valid, sometimes raw. */
static void put_desc(struct rd *r, struct virtq_desc *d)
{
	uint8_t f = g8(r);
	uint64_t addr = f & 0x80 ? g64(r) : GPA + g16(r) % (WIN + 64) - 32;
	uint32_t len = f & 0x40 ? g32(r) : g16(r) % 4096;

	if ((f & 0x60) == 0x20)	/* ending right at, or just around, the window's end */
		len = (uint32_t)(GPA + WIN - addr) + g8(r) % 5 - 2;

	d->addr = addr;
	d->len = len;
	d->flags = f & 7;
	d->next = g8(r);
}

static int legal_buf(const struct eg_txq *q, uint64_t addr, uint32_t len, uint16_t flags,
		     uint64_t *off)
{
	uint64_t o = addr - GPA;

	if (!(flags & VIRTQ_DESC_F_WRITE) || (flags & VIRTQ_DESC_F_INDIRECT) || !len ||
	    addr < GPA || o >= WIN || len > WIN - o)
		return 0;
	if ((o < q->desc_hi && q->desc_lo < o + len) ||
	    (o < q->avail_hi && q->avail_lo < o + len) ||
	    (o < q->used_hi && q->used_lo < o + len))
		return 0;
	*off = o;
	return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint32_t special[8] = { 0, 13, 14, 60, 1500, 65535, 65536, 65537 };
	struct rd r = { data, size, 0 };
	uint8_t *win = calloc(1, WIN), *snap = malloc(WIN), *allow = malloc(WIN);
	struct eg_tx_pkt pk[70];
	struct eg_tx_stats st;
	struct eg_txq q;
	struct eg_txq_cfg c;
	unsigned int notified = 0, qs, i, b;
	uint8_t b0 = g8(&r);
	uint16_t start;

	memset(&st, 0, sizeof(st));
	memset(&c, 0, sizeof(c));
	qs = 1u << (b0 % 7);
	c.win = win;
	c.win_gpa = GPA;
	c.win_len = WIN;
	c.qsize = qs;
	c.features = 1ull << VIRTIO_F_VERSION_1;
	if (b0 & 0x10)
		c.features |= 1ull << VIRTIO_NET_F_MRG_RXBUF;
	if (b0 & 0x20)
		c.features |= 1ull << VIRTIO_F_EVENT_IDX;
	if (b0 & 0x80) {	/* layout from the input: init must judge it */
		c.desc_gpa = GPA + g16(&r) - 64;
		c.avail_gpa = GPA + g16(&r) - 64;
		c.used_gpa = GPA + g16(&r) - 64;
		if (b0 & 0x40)
			c.qsize = g16(&r);
	} else {
		c.desc_gpa = GPA;
		c.avail_gpa = GPA + 16 * qs;
		c.used_gpa = GPA + ((16 * qs + 6 + 2 * qs + 3) & ~3u);
	}
	start = g16(&r);
	c.last_avail_idx = c.used_idx = start;
	c.notify = on_notify;
	c.notify_ctx = &notified;
	if (eg_txq_init(&q, &c) != EG_TX_INIT_OK)
		goto out;
	CHECK(q.desc_hi <= WIN && q.avail_hi <= WIN && q.used_hi <= WIN);
	qs = q.qsize;

	for (i = 0; i < qs; i++)
		put_desc(&r, &q.desc[i]);
	q.avail->flags = g8(&r) & 1;
	for (i = 0; i < qs; i++)
		q.avail->ring[i] = g8(&r);
	q.avail->ring[qs] = (uint16_t)(start + g8(&r));	/* used_event */
	q.avail->idx = (uint16_t)(start + g8(&r));
	q.used->idx = start;

	for (b = 0; b < BURSTS && r.i < r.n; b++) {
		unsigned int n = g8(&r) % 70, ret, k, lim;
		struct eg_tx_stats s0 = st;
		unsigned int nb0 = notified;
		uint16_t old = q.used_idx, a0 = q.last_avail_idx, nw;
		uint64_t chain_errs;
		uint64_t want_bytes = 0, got_bytes = 0, nonzero = 0;
		uint64_t o;

		for (k = 0; k < n; k++) {
			uint8_t sel = g8(&r);

			pk[k].data = sel == 255 ? NULL : pktbuf;
			pk[k].len = sel < 8 ? special[sel] : 14 + g16(&r) % (EG_TX_PKT_MAX - 13);
			pk[k].status = 0x55;
		}
		/* what the device may write */
		memset(allow, 0, WIN);
		for (i = 0; i < qs; i++) {
			struct virtq_desc d = q.desc[i];

			if (legal_buf(&q, d.addr, d.len, d.flags, &o))
				memset(allow + o, 1, d.len);
		}
		memset(allow + q.used_lo + 2, 1, 2 + 8ull * qs);
		if (q.event_idx)	/* avail_event: back-pressure asks */
			memset(allow + q.used_lo + 4 + 8ull * qs, 1, 2);
		memcpy(snap, win, WIN);

		ret = eg_tx_burst(&q, pk, n, &st);

		for (o = 0; o < WIN; o++)
			CHECK(win[o] == snap[o] || allow[o]);
		lim = n < EG_TX_BURST_MAX ? n : EG_TX_BURST_MAX;
		CHECK(ret <= lim);
		CHECK(st.sent - s0.sent + st.err_pkt_len - s0.err_pkt_len +
		      st.err_too_small - s0.err_too_small == ret);
		for (k = 0; k < n; k++) {
			if (k < ret) {
				CHECK(pk[k].status == EG_TX_OK || pk[k].status == EG_TX_E_PKT_LEN ||
				      pk[k].status == EG_TX_E_TOO_SMALL);
				if (pk[k].status == EG_TX_OK)
					want_bytes += EG_TX_HDR_LEN + pk[k].len;
			} else {
				CHECK(pk[k].status == (k < lim ? EG_TX_PENDING : 0x55));
			}
		}
		CHECK(st.bursts == s0.bursts + 1);
		CHECK(st.backpressure - s0.backpressure == (ret < lim));
		CHECK(st.publishes - s0.publishes <= 1 && notified - nb0 <= 1);
		CHECK(st.notifies - s0.notifies == notified - nb0);
		nw = q.used_idx;
		CHECK(st.used - s0.used == (uint16_t)(nw - old));
		CHECK((uint16_t)(nw - old) <= qs);
		CHECK(q.used->idx == nw);
		CHECK((st.publishes != s0.publishes) == (nw != old));
		for (uint16_t u = old; u != nw; u++) {
			struct virtq_used_elem e = q.used->ring[u & (qs - 1)];

			CHECK(e.id < qs);
			got_bytes += e.len;
			nonzero += e.len != 0;
		}
		CHECK(got_bytes == want_bytes);
		if (!(c.features & (1ull << VIRTIO_NET_F_MRG_RXBUF)))
			CHECK(nonzero == st.sent - s0.sent);
		CHECK(st.chains_dropped - s0.chains_dropped ==
		      (uint16_t)(nw - old) - nonzero);
		chain_errs = st.err_next - s0.err_next + st.err_loop - s0.err_loop +
			     st.err_indirect - s0.err_indirect +
			     st.err_not_write - s0.err_not_write +
			     st.err_zero_len - s0.err_zero_len + st.err_bounds - s0.err_bounds +
			     st.err_ring_overlap - s0.err_ring_overlap;
		if (c.features & (1ull << VIRTIO_NET_F_MRG_RXBUF))
			CHECK(st.chains_dropped - s0.chains_dropped >= chain_errs);
		else
			CHECK(st.chains_dropped - s0.chains_dropped == chain_errs);
		CHECK((uint16_t)(q.last_avail_idx - a0) ==
		      (uint16_t)(nw - old) + st.err_head - s0.err_head);

		/* the peer changes things before the next burst */
		for (k = g8(&r) % 5; k; k--) {
			uint8_t t = g8(&r);

			switch (t % 6) {
			case 0:
				put_desc(&r, &q.desc[g8(&r) % qs]);
				break;
			case 1:
				q.avail->ring[g8(&r) % qs] = g8(&r);
				break;
			case 2:
				q.avail->idx = (uint16_t)(q.avail->idx + g8(&r));
				break;
			case 3:
				q.avail->ring[qs] = g16(&r);
				break;
			case 4:
				q.avail->flags = g16(&r);
				break;
			default:
				q.avail->idx = (uint16_t)(q.last_avail_idx + g8(&r) % (qs + 1));
			}
		}
	}
out:
	free(win);
	free(snap);
	free(allow);
	return 0;
}
