// SPDX-License-Identifier: GPL-2.0
/*
 * eptgate Tx path: device side of a peer's virtio-net RX split virtqueue.
 *
 * One source for the trampoline blob (freestanding, PIE, no libc, no
 * relocations) and for the host unit tests, fuzzer and benchmark.
 *
 * Trust.  Everything in the window (ring and buffers) belongs to the peer
 * and may change at any moment, concurrently.  Each peer field is loaded
 * exactly once (volatile) into a local, validated, and only the local is
 * used afterwards.  The device state (last_avail_idx, used_idx) lives in
 * struct eg_txq (trusted memory); the used ring is only ever written,
 * never read.
 *
 * Per burst:
 *   1. avail->idx is read at most once (read_avail_idx()): at the start
 *      when what it said last time (avail_end) does not cover n packets'
 *      worth of entries, otherwise only if those run out (mergeable
 *      packets take several).  It is a line the driver writes on every
 *      refill: each read costs a cross-core transfer.  More than qsize
 *      ahead of where the burst started, or behind what the burst has
 *      consumed: the ring is corrupt, err_avail_idx, and the burst goes
 *      on with the entries known to be posted.
 *   1b. Claim the lines the burst will write (prepare_bufs(),
 *      prefetch_used(); and at the end the next burst's buffers): the
 *      header is written ahead into each valid posted head buffer, the
 *      used elements are prefetched -- see there: the one place that
 *      reads peer fields a second time, deciding only that early header.
 *   2. Packets in order.  A packet is hdr(12) ++ data, written as one byte
 *      stream over a chain's descriptors, continuing into further chains
 *      only with VIRTIO_NET_F_MRG_RXBUF (then num_buffers is patched into
 *      the first chain's header before publishing).
 *   3. Used elements are written as chains complete; used->idx is stored
 *      once, after a write barrier; then a full barrier, then used_event
 *      (or avail->flags) is read once and the doorbell rung at most once.
 *
 * Error policy (the peer's ring is hostile):
 *   - Bad chain (head index >= qsize; next >= qsize; INDIRECT; no WRITE;
 *     zero length; outside the window or wrapping; overlapping the ring
 *     itself; loop): counted by kind.  The avail entry is consumed and,
 *     when the head index is valid, returned in the used ring with len 0
 *     (no buffer leaks in the driver; a used length shorter than the
 *     header is a dropped short frame to virtio-net).  With MRG_RXBUF the
 *     packet's earlier buffers in this attempt are returned with len 0 as
 *     well.  The packet itself is not failed: it goes on to the next chain.
 *     Nothing is delivered twice: a packet is only counted once a chain
 *     with its full length is in the used ring.
 *   - Loop: no more than qsize descriptors are walked per burst (a sane
 *     driver's outstanding chains are disjoint and used entries are only
 *     published at the end of the burst, so it never needs more).  When
 *     the budget runs out the chain is returned as a loop error and the
 *     burst stops; the packet stays pending.  This also bounds the work a
 *     hostile peer can cause to O(qsize) per burst (plus the rolled-back
 *     retries of failed packets, at most EG_TX_BURST_MAX of them).
 *   - Back-pressure: no (more) avail entries.  A half-written mergeable
 *     packet is rolled back (device-private indices reset; nothing of it
 *     was published) and the burst returns; the packet is resent later.
 *   - Too small (a packet error): without MRG_RXBUF, a valid chain that
 *     cannot hold hdr + packet; with MRG_RXBUF, the packet ran out of
 *     buffers after walking every descriptor of the ring.  The attempt is
 *     rolled back (the chain stays posted for the next packet) and the
 *     packet fails with err_too_small.
 *   - Bad packet length from the sender: fails with err_pkt_len before
 *     the ring is touched.
 */
#include "eg_tx.h"

typedef __SIZE_TYPE__ eg_size_t;

/* Used elements per 64-byte cache line. */
#define EG_USED_PER_LINE	(L1_CACHE_BYTES / sizeof(struct virtq_used_elem))

/* x86 TSO: loads are not reordered with loads, stores not with stores. */
#define eg_barrier()	__asm__ __volatile__("" ::: "memory")
#define eg_rmb()	eg_barrier()
#define eg_wmb()	eg_barrier()

/* Store-load ordering needs a serialising op: a locked no-op on our stack. */
static inline void eg_mb(void)
{
	__asm__ __volatile__("lock; orl $0, (%%rsp)" ::: "memory", "cc");
}

#if defined(__SANITIZE_ADDRESS__)
#define EG_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define EG_ASAN 1
#endif
#endif

#ifdef EG_ASAN
/* Inline asm is invisible to ASan: check the ranges explicitly. */
void __asan_loadN(const void *p, eg_size_t n);
void __asan_storeN(void *p, eg_size_t n);
#endif

/*
 * The packet copy.  From 8 to EG_COPY_SMALL bytes, 8-byte moves, the last
 * one overlapping the one before: measured +9 % at 64 B over rep movsb,
 * whose start-up dominates such a copy on this kind of machine.  Shorter
 * (a piece of a packet in a small descriptor) or longer, rep movsb.
 */
#define EG_COPY_SMALL	128

static inline void eg_copy(void *dst, const void *src, eg_size_t n)
{
#ifdef EG_ASAN
	__asan_loadN(src, n);
	__asan_storeN(dst, n);
#endif
	if (n >= 8 && n <= EG_COPY_SMALL) {
		uint8_t *d = dst;
		const uint8_t *s = src;
		eg_size_t k;
		uint64_t t;

		for (k = 0; k + 8 <= n; k += 8) {
			__builtin_memcpy(&t, s + k, 8);
			__builtin_memcpy(d + k, &t, 8);
		}
		if (k < n) {
			__builtin_memcpy(&t, s + n - 8, 8);
			__builtin_memcpy(d + n - 8, &t, 8);
		}
		return;
	}
	__asm__ __volatile__("rep movsb"
			     : "+D"(dst), "+S"(src), "+c"(n)
			     :
			     : "memory");
}

/*
 * A hint that the line holding p is about to be written: fetch it in a
 * writable state now, so that the store does not wait for its own
 * ownership transfer.  Never faults, never changes memory (SDM,
 * PREFETCHW); executes as a NOP where it is not supported.
 */
static inline void eg_prefetchw(const void *p)
{
	__asm__ __volatile__("prefetchw %0" : : "m"(*(const uint8_t *)p));
}

/*
 * Features whose negotiation changes what the ring means in a way eg_tx
 * does not implement.  VIRTIO_F_INDIRECT_DESC is not among them: it is
 * negotiated for the whole device (Linux's virtio_net takes it whenever
 * offered), a driver uses it per chain, and an indirect chain on this
 * queue is a bad chain, counted (err_indirect) and returned with length 0.
 * Linux never posts one on an RX queue with mergeable buffers.
 */
#define EG_MASK_REJECT ((1ull << VIRTIO_F_ACCESS_PLATFORM) |		\
			(1ull << VIRTIO_F_RING_PACKED) |		\
			(1ull << VIRTIO_F_IN_ORDER) |			\
			(1ull << VIRTIO_NET_F_HASH_REPORT))

/*
 * [off, off + len) inside a window of win_len bytes, off being the offset
 * from the window's start (wrapped, so huge, when the address is below).
 */
static inline int in_window(uint64_t win_len, uint64_t off, uint64_t len)
{
	return off < win_len && len <= win_len - off;
}

/* [gpa, gpa + len) inside the window (len > 0)?  Offset in *off. */
static inline int win_off(uint64_t win_gpa, uint64_t win_len, uint64_t gpa,
			  uint64_t len, uint64_t *off)
{
	uint64_t o = gpa - win_gpa;

	if (gpa < win_gpa || !in_window(win_len, o, len))
		return 0;
	*off = o;
	return 1;
}

static inline int overlaps(uint64_t a_lo, uint64_t a_hi, uint64_t b_lo,
			   uint64_t b_hi)
{
	return a_lo < b_hi && b_lo < a_hi;
}

int eg_txq_init(struct eg_txq *q, const struct eg_txq_cfg *c)
{
	uint64_t dlo, alo, ulo, dn, an, un;
	uint32_t n = c->qsize;

	if (!c->win || !c->win_len || c->win_gpa + c->win_len <= c->win_gpa ||
	    (uintptr_t)c->win + c->win_len <= (uintptr_t)c->win ||
	    (((uintptr_t)c->win | c->win_gpa) & 15))
		return EG_TX_INIT_EWINDOW;
	if (!n || n > VIRTQ_MAX_SIZE || (n & (n - 1)))
		return EG_TX_INIT_EQSIZE;
	if (!(c->features & (1ull << VIRTIO_F_VERSION_1)) ||
	    (c->features & EG_MASK_REJECT))
		return EG_TX_INIT_EFEATURE;
	dn = VIRTQ_DESC_BYTES(n);
	an = VIRTQ_AVAIL_BYTES(n);
	un = VIRTQ_USED_BYTES(n);
	if ((c->desc_gpa & (VRING_DESC_ALIGN_SIZE - 1)) ||
	    (c->avail_gpa & (VRING_AVAIL_ALIGN_SIZE - 1)) ||
	    (c->used_gpa & (VRING_USED_ALIGN_SIZE - 1)) ||
	    !win_off(c->win_gpa, c->win_len, c->desc_gpa, dn, &dlo) ||
	    !win_off(c->win_gpa, c->win_len, c->avail_gpa, an, &alo) ||
	    !win_off(c->win_gpa, c->win_len, c->used_gpa, un, &ulo) ||
	    overlaps(dlo, dlo + dn, alo, alo + an) ||
	    overlaps(dlo, dlo + dn, ulo, ulo + un) ||
	    overlaps(alo, alo + an, ulo, ulo + un))
		return EG_TX_INIT_ERING;

	q->win = c->win;
	q->win_gpa = c->win_gpa;
	q->win_len = c->win_len;
	q->desc = (struct virtq_desc *)(q->win + dlo);
	q->avail = (struct virtq_avail *)(q->win + alo);
	q->used = (struct virtq_used *)(q->win + ulo);
	q->desc_lo = dlo;
	q->desc_hi = dlo + dn;
	q->avail_lo = alo;
	q->avail_hi = alo + an;
	q->used_lo = ulo;
	q->used_hi = ulo + un;
	q->ring_lo = dlo < alo ? (dlo < ulo ? dlo : ulo) : (alo < ulo ? alo : ulo);
	q->ring_hi = dlo + dn > alo + an ? dlo + dn : alo + an;
	if (ulo + un > q->ring_hi)
		q->ring_hi = ulo + un;
	q->qsize = n;
	q->mask = (uint16_t)(n - 1);
	q->features = c->features;
	q->event_idx = !!(c->features & (1ull << VIRTIO_F_EVENT_IDX));
	q->mrg_rxbuf = !!(c->features & (1ull << VIRTIO_NET_F_MRG_RXBUF));
	q->last_avail_idx = c->last_avail_idx;
	q->avail_end = c->last_avail_idx;	/* nothing known to be posted */
	q->pf_end = c->last_avail_idx;
	q->used_idx = c->used_idx;
	q->doorbell = c->doorbell;
	q->doorbell_val = c->doorbell_val;
	q->notify = c->notify;
	q->notify_ctx = c->notify_ctx;
	return EG_TX_INIT_OK;
}

/* Per-burst scratch (on the private stack). */
struct burst {
	uint16_t start;		/* last_avail_idx when the burst began */
	uint16_t end;		/* entries [.., end) are known to be posted */
	uint8_t fresh;		/* avail->idx was read in this burst */
	uint8_t bad_idx;	/* ... and was insane (counted once) */
	uint32_t budget;	/* descriptors that may still be walked */
};

/*
 * Read avail->idx (at most once per burst).  A sane driver's index is at
 * most qsize ahead of the burst's start and not behind what the burst has
 * consumed; anything else is counted (once a burst) and ignored, and the
 * burst keeps the entries it already knew of.  Returns whether b->end
 * moved.
 */
static int read_avail_idx(struct eg_txq *q, struct burst *b,
			  struct eg_tx_stats *st)
{
	uint16_t end, ahead, done;

	if (b->fresh)
		return 0;
	b->fresh = 1;
	end = vq_ld16(&q->avail->idx);
	eg_rmb();	/* avail->idx before the entries it covers */
	ahead = (uint16_t)(end - b->start);
	done = (uint16_t)(q->last_avail_idx - b->start);
	if (ahead > q->qsize || ahead < done) {
		st->err_avail_idx += !b->bad_idx;
		b->bad_idx = 1;
		return 0;
	}
	q->avail_end = end;
	if (end == b->end)
		return 0;
	b->end = end;
	return 1;
}

/* The packet as a byte stream: header, then data. */
struct stream {
	const uint8_t *data;
	uint32_t total;		/* EG_TX_HDR_LEN + len */
	uint32_t off;		/* bytes written so far in this attempt */
	uint8_t *nb[2];		/* where num_buffers' two bytes went */
};

/*
 * The header: no offloads (flags 0, GSO_NONE, no checksum), num_buffers 1
 * (patched for a mergeable packet once its buffers are counted).
 */
static inline uint8_t hdr_byte(uint32_t k)
{
	return k == VIRTIO_NET_HDR_V1_NUM_BUFFERS ? 1 : 0;
}

static inline void hdr_store(uint8_t *dst)
{
	uint64_t lo = 0;
	uint32_t hi = 1u << 16;	/* bytes 10-11: num_buffers = 1 */

	_Static_assert(VIRTIO_NET_HDR_V1_NUM_BUFFERS == 10 &&
		       EG_TX_HDR_LEN == 12, "virtio_net_hdr_v1 layout");
	__builtin_memcpy(dst, &lo, sizeof(lo));
	__builtin_memcpy(dst + 8, &hi, sizeof(hi));
}

static void emit(struct stream *s, uint8_t *dst, uint32_t n)
{
	if (s->off < EG_TX_HDR_LEN) {
		uint32_t h = EG_TX_HDR_LEN - s->off, j;

		if (h > n)
			h = n;
		if (h == EG_TX_HDR_LEN) {
			/* two stores of constants */
			hdr_store(dst);
			s->nb[0] = dst + VIRTIO_NET_HDR_V1_NUM_BUFFERS;
			s->nb[1] = dst + VIRTIO_NET_HDR_V1_NUM_BUFFERS + 1;
		} else {
			/* header split over descriptors */
			for (j = 0; j < h; j++) {
				uint32_t k = s->off + j;

				dst[j] = hdr_byte(k);
				if (k == VIRTIO_NET_HDR_V1_NUM_BUFFERS)
					s->nb[0] = dst + j;
				else if (k == VIRTIO_NET_HDR_V1_NUM_BUFFERS + 1)
					s->nb[1] = dst + j;
			}
		}
		s->off += h;
		dst += h;
		n -= h;
	}
	if (n) {
		eg_copy(dst, s->data + (s->off - EG_TX_HDR_LEN), n);
		s->off += n;
	}
}

/*
 * A descriptor the device may write through: writable, not indirect,
 * 1 <= len, [off, off + len) inside the window (off = addr - win_gpa,
 * wrapped if addr is below the window).  One test per rule on the good
 * path; bad_desc() works out the kind of error only on the bad one.
 */
static inline int desc_usable(const struct eg_txq *q, uint16_t flags,
			      uint32_t len, uint64_t off)
{
	return (flags & (VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_INDIRECT)) ==
	       VIRTQ_DESC_F_WRITE && len && in_window(q->win_len, off, len);
}

/*
 * Does [off, off + len) (inside the window) overlap a part of the ring?
 * Against the span of all three first: a buffer clear of it (every one a
 * sane driver posts) costs two compares.
 */
static inline int in_ring(const struct eg_txq *q, uint64_t off, uint32_t len)
{
	uint64_t end = off + len;

	return overlaps(off, end, q->ring_lo, q->ring_hi) &&
	       (overlaps(off, end, q->desc_lo, q->desc_hi) ||
		overlaps(off, end, q->avail_lo, q->avail_hi) ||
		overlaps(off, end, q->used_lo, q->used_hi));
}

/* Count a descriptor that failed desc_usable(), by kind. */
static void bad_desc(uint16_t flags, uint32_t len, struct eg_tx_stats *st)
{
	if (flags & VIRTQ_DESC_F_INDIRECT)
		st->err_indirect++;
	else if (!(flags & VIRTQ_DESC_F_WRITE))
		st->err_not_write++;
	else if (!len)
		st->err_zero_len++;
	else
		st->err_bounds++;
}

/* fill_chain() results */
#define CH_DONE		0	/* the stream ended inside this chain */
#define CH_END		1	/* the chain ended first (all of it written) */
#define CH_BAD		2	/* validation error, counted */
#define CH_LOOP		3	/* descriptor budget exhausted, counted */

/*
 * Write the stream from s->off into the chain at head (a valid index),
 * validating each descriptor as it is reached.  *written: bytes written
 * into this chain.  *walked: descriptors visited.
 */
static int fill_chain(const struct eg_txq *q, struct burst *b, uint16_t head,
		      struct stream *s, uint32_t *written, uint32_t *walked,
		      struct eg_tx_stats *st)
{
	uint16_t idx = head;
	uint32_t w = 0;

	for (;;) {
		const struct virtq_desc *d;
		uint64_t addr, off;
		uint32_t len, n;
		uint16_t flags, next;

		if (!b->budget) {
			st->err_loop++;
			return CH_LOOP;
		}
		b->budget--;
		(*walked)++;
		d = &q->desc[idx];
		addr = vq_ld64(&d->addr);
		len = vq_ld32(&d->len);
		flags = vq_ld16(&d->flags);
		next = vq_ld16(&d->next);

		off = addr - q->win_gpa;	/* wraps if addr is below */
		if (!desc_usable(q, flags, len, off)) {
			bad_desc(flags, len, st);
			return CH_BAD;
		}
		if (in_ring(q, off, len)) {
			st->err_ring_overlap++;
			return CH_BAD;
		}
		n = s->total - s->off;
		if (n > len)
			n = len;
		emit(s, q->win + off, n);
		w += n;
		*written = w;
		if (s->off == s->total)
			return CH_DONE;
		if (!(flags & VIRTQ_DESC_F_NEXT))
			return CH_END;
		if (next >= q->qsize) {
			st->err_next++;
			return CH_BAD;
		}
		idx = next;
	}
}

static inline void put_used(struct eg_txq *q, uint16_t id, uint32_t len)
{
	struct virtq_used_elem *e = &q->used->ring[q->used_idx & q->mask];

	vq_st32(&e->id, id);
	vq_st32(&e->len, len);
	q->used_idx++;
}

/* A packet the sender may send: data, and a length virtio-net carries. */
static inline int pkt_ok(const struct eg_tx_pkt *p)
{
	return p->data && p->len >= EG_TX_PKT_MIN && p->len <= EG_TX_PKT_MAX;
}

/*
 * The common case, in plain sight: the next avail entry is known to be
 * posted and its head descriptor alone holds header and packet.  Writes
 * the packet, its used element, and returns 1.  Anything else -- a bad
 * packet length, an invalid or short descriptor, a chain, the descriptor
 * budget spent, no entry known -- returns 0 having changed nothing, and
 * tx_one() starts from the same state, reading the peer's fields again:
 * no decision is made on values read by both.
 */
static inline int tx_fast(struct eg_txq *q, struct burst *b,
			  struct eg_tx_pkt *p, struct eg_tx_stats *st)
{
	uint32_t len = p->len, dlen;
	const struct virtq_desc *d;
	uint16_t head, flags;
	uint64_t off;
	uint8_t *dst;

	if (q->last_avail_idx == b->end || !b->budget || !pkt_ok(p))
		return 0;
	head = vq_ld16(&q->avail->ring[q->last_avail_idx & q->mask]);
	if (head >= q->qsize)
		return 0;
	d = &q->desc[head];
	off = vq_ld64(&d->addr) - q->win_gpa;
	dlen = vq_ld32(&d->len);
	flags = vq_ld16(&d->flags);
	if (!desc_usable(q, flags, dlen, off) || dlen < EG_TX_HDR_LEN + len ||
	    in_ring(q, off, dlen))
		return 0;
	b->budget--;
	dst = q->win + off;
	hdr_store(dst);		/* num_buffers 1: also right for MRG_RXBUF */
	eg_copy(dst + EG_TX_HDR_LEN, p->data, len);
	put_used(q, head, EG_TX_HDR_LEN + len);
	q->last_avail_idx++;
	p->status = EG_TX_OK;
	st->sent++;
	st->bytes += len;
	return 1;
}

/* tx_one() results */
#define PK_DONE		0	/* delivered or failed: next packet */
#define PK_STOP		1	/* not sent, untouched: stop the burst */

/*
 * Everything tx_fast() declines: chains, mergeable packets over several
 * buffers, bad chains, back-pressure.  Kept out of line so that the burst
 * loop around tx_fast() stays small.
 */
static __attribute__((noinline)) int tx_one(struct eg_txq *q, struct burst *b,
					    struct eg_tx_pkt *p,
					    struct eg_tx_stats *st)
{
	struct stream s;
	uint32_t len = p->len, j;

	if (!pkt_ok(p)) {
		p->status = EG_TX_E_PKT_LEN;
		st->err_pkt_len++;
		return PK_DONE;
	}
	s.data = p->data;
	s.total = EG_TX_HDR_LEN + len;

	for (;;) {	/* one attempt per iteration; bad chains restart it */
		uint16_t avail0 = q->last_avail_idx, used0 = q->used_idx;
		uint32_t budget0 = b->budget, walked = 0, nbufs = 0;
		int r = CH_END, bad_head = -1;

		s.off = 0;
		s.nb[0] = s.nb[1] = 0;
		while (r == CH_END) {
			uint32_t written = 0;
			uint16_t head;

			if (q->last_avail_idx == b->end &&
			    !read_avail_idx(q, b, st)) {
				/* out of buffers: undo this attempt */
				q->last_avail_idx = avail0;
				q->used_idx = used0;
				if (walked >= q->qsize) {
					/* the whole ring cannot hold it */
					b->budget = budget0;
					p->status = EG_TX_E_TOO_SMALL;
					st->err_too_small++;
					return PK_DONE;
				}
				return PK_STOP;
			}
			head = vq_ld16(&q->avail->ring[q->last_avail_idx & q->mask]);
			q->last_avail_idx++;
			if (head >= q->qsize) {
				st->err_head++;
				r = CH_BAD;
				break;
			}
			r = fill_chain(q, b, head, &s, &written, &walked, st);
			if (r == CH_END && !q->mrg_rxbuf) {
				/* one chain must hold it: leave it posted */
				q->last_avail_idx = avail0;
				b->budget = budget0;
				p->status = EG_TX_E_TOO_SMALL;
				st->err_too_small++;
				return PK_DONE;
			}
			if (r == CH_BAD || r == CH_LOOP) {
				bad_head = head;
				break;
			}
			put_used(q, head, written);
			nbufs++;
		}
		if (r == CH_DONE) {
			if (q->mrg_rxbuf) {
				/* nbufs <= qsize <= 32768; both bytes were written */
				*s.nb[0] = (uint8_t)nbufs;
				*s.nb[1] = (uint8_t)(nbufs >> 8);
			}
			p->status = EG_TX_OK;
			st->sent++;
			st->bytes += len;
			return PK_DONE;
		}
		/*
		 * Bad chain: it and this attempt's earlier buffers (mergeable)
		 * go back with len 0; the packet starts over on the next one.
		 */
		for (j = used0; (uint16_t)j != q->used_idx; j++)
			vq_st32(&q->used->ring[j & q->mask].len, 0);
		st->chains_dropped += nbufs;
		if (bad_head >= 0) {
			put_used(q, (uint16_t)bad_head, 0);
			st->chains_dropped++;
		}
		if (r == CH_LOOP)
			return PK_STOP;
	}
}

static void publish(struct eg_txq *q, uint16_t old, struct eg_tx_stats *st)
{
	uint16_t new = q->used_idx;
	int kick;

	if (new == old)
		return;
	eg_wmb();	/* buffers and used elements before the index */
	vq_st16(&q->used->idx, new);
	st->publishes++;
	st->used += (uint16_t)(new - old);
	eg_mb();	/* the index store before the used_event/flags load */
	if (q->event_idx)
		kick = vring_need_event(vq_ld16(&q->avail->ring[q->qsize]), new, old);
	else
		kick = !(vq_ld16(&q->avail->flags) & VIRTQ_AVAIL_F_NO_INTERRUPT);
	if (kick) {
		st->notifies++;
		if (q->doorbell)
			*q->doorbell = q->doorbell_val;
		if (q->notify)
			q->notify(q->notify_ctx);
	}
}

/*
 * Claiming lines ahead.  The lines a burst writes are in the peer's
 * cache: it read each buffer, used element and used->idx since the last
 * lap.  Written one after the other, each store would wait for its own
 * cross-core ownership transfer; claimed ahead, the transfers overlap with
 * other work.
 *
 * The buffers are claimed by writing the header into them: a posted
 * buffer is the device's to write until it is returned, the header is the
 * same constant for every packet (num_buffers 1, patched later for a
 * mergeable packet), and a store, unlike a prefetch, is sure to leave the
 * line owned by this core (PREFETCHW on a line this core holds shared
 * measured no better than nothing).  The decision to write is made here,
 * on this pass's own reads of the avail entry and the head descriptor,
 * with the same checks as every other write (desc_usable(), in_ring());
 * the pass decides nothing else: tx_fast() and tx_one() read the entry and
 * the descriptor again and write the header again.  A peer that rewrites
 * its ring in between gains a header in a buffer it had posted.
 */

/*
 * The buffers of up to n posted chains from last_avail_idx (as far as
 * end): the header into each valid head buffer of at least a header's
 * length, and a prefetch of the line after it (the rest of a 64-byte
 * packet; measured +10 % at 64 B, the driver's core fetches lines in
 * pairs).  Invalid entries are left for tx_one() to count.
 */
static void prepare_bufs(struct eg_txq *q, uint16_t end, unsigned int n)
{
	uint16_t a = q->last_avail_idx, stop = (uint16_t)(a + n);

	/* [a, a + n) and [a, end) both from a: the nearer end is the stop */
	if ((uint16_t)(end - a) < n)
		stop = end;
	/* not again what the last call did (q->pf_end, between a and stop) */
	if ((uint16_t)(q->pf_end - a) <= (uint16_t)(stop - a))
		a = q->pf_end;
	q->pf_end = stop;
	for (; a != stop; a++) {
		uint16_t head = vq_ld16(&q->avail->ring[a & q->mask]), flags;
		const struct virtq_desc *d;
		uint32_t dlen;
		uint64_t off;

		if (head >= q->qsize)
			continue;
		d = &q->desc[head];
		off = vq_ld64(&d->addr) - q->win_gpa;
		dlen = vq_ld32(&d->len);
		flags = vq_ld16(&d->flags);
		if (!desc_usable(q, flags, dlen, off) || dlen < EG_TX_HDR_LEN ||
		    in_ring(q, off, dlen))
			continue;
		hdr_store(q->win + off);
		if (dlen > L1_CACHE_BYTES)
			eg_prefetchw(q->win + off + L1_CACHE_BYTES);
	}
}

/*
 * Back-pressure: have the driver notify the device when it posts again.
 * With VIRTIO_F_EVENT_IDX, avail_event (after the used elements) = the
 * avail index the burst last read, so the driver's next post past it
 * notifies (2.7.10); without it the driver notifies on every post, eg_tx
 * never setting VIRTQ_USED_F_NO_NOTIFY.  A post between that read and the
 * store may not have seen it: avail->idx is read again after a full
 * barrier (the driver has one between its avail->idx store and its
 * avail_event load).  Returns whether entries came meanwhile.
 */
static int want_notify(struct eg_txq *q, struct burst *b,
		       struct eg_tx_stats *st)
{
	if (!q->event_idx)
		return 0;
	vq_st16((eg_le16 *)&q->used->ring[q->qsize], b->end);
	st->notify_asks++;
	eg_mb();	/* avail_event before the avail->idx load */
	b->fresh = 0;
	return read_avail_idx(q, b, st);
}

/* The used elements n packets will take, and used->idx. */
static void prefetch_used(const struct eg_txq *q, unsigned int n)
{
	unsigned int k;

	for (k = 0; k < n; k += EG_USED_PER_LINE)
		eg_prefetchw(&q->used->ring[(uint16_t)(q->used_idx + k) & q->mask]);
	eg_prefetchw(&q->used->idx);
}

unsigned int eg_tx_burst(struct eg_txq *q, struct eg_tx_pkt *pkts,
			 unsigned int n, struct eg_tx_stats *st)
{
	uint16_t old = q->used_idx;
	struct burst b;
	unsigned int i = 0, j;
	int asked = 0;

	st->bursts++;
	if (n > EG_TX_BURST_MAX)
		n = EG_TX_BURST_MAX;
	b.budget = q->qsize;
	b.start = q->last_avail_idx;
	b.end = q->avail_end;
	b.fresh = 0;
	b.bad_idx = 0;
	if ((uint16_t)(b.end - b.start) < n)
		read_avail_idx(q, &b, st);
	prepare_bufs(q, b.end, n);
	prefetch_used(q, n);
again:
	for (; i < n; i++) {
		if (tx_fast(q, &b, &pkts[i], st))
			continue;
		if (tx_one(q, &b, &pkts[i], st) == PK_STOP)
			break;
	}
	/* the ring ran out: ask for a notification, once, and look again */
	if (i < n && !asked) {
		asked = 1;
		if (want_notify(q, &b, st))
			goto again;
	}
	if (i < n)
		st->backpressure++;
	publish(q, old, st);
	/*
	 * The next burst's buffers, as far as they are known, so that their
	 * transfers overlap with whatever the caller does until then (not
	 * used->idx: the peer is about to read it).  Measured at 64 B
	 * batch 32, as a prefetch: +30 % when the cores are far apart (round
	 * trip ~320 ns), +4 % when they are close (~65 ns); writing the
	 * header instead of prefetching: another +8 % when close.
	 */
	prepare_bufs(q, q->avail_end, n);
	for (j = i; j < n; j++)
		pkts[j].status = EG_TX_PENDING;
	return i;
}
