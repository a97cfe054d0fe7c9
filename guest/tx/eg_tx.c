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
 * struct eg_txq (trusted memory).  Two things are read that the device
 * only writes: a used element, and the header of a buffer whose packet
 * starts on the next cache line; each only to skip storing the value it
 * already holds (hdr_put(), used_put()), a load deciding nothing else.
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
 *   2. Packets in order.  A packet is hdr(12) ++ data, written as one byte
 *      stream over a chain's descriptors, continuing into further chains
 *      only with VIRTIO_NET_F_MRG_RXBUF (then num_buffers is patched into
 *      the first chain's header before publishing).  The fast path
 *      (fast_run()) takes a packet that fits the head buffer of the next
 *      entry in one pass: it reads the avail entry and the head
 *      descriptor once, validates them, writes header and packet and
 *      stages the used element.  Anything it declines goes to tx_one(),
 *      which reads the ring itself, decides only on its own reads and
 *      counts what is bad; the fast path counts nothing.
 *   3. Used elements are staged as chains complete in a private shadow
 *      array (struct burst), never in the peer's ring: a rollback is one
 *      index reset.  publish() writes them out in order, stores used->idx
 *      once, after a write barrier; then a full barrier, then used_event
 *      (or avail->flags) is read once and the doorbell rung at most once.
 *      The used ring is written only there, each element at most once
 *      (not when it holds the value already), and only with its final
 *      value.
 *
 * Error policy (the peer's ring is hostile):
 *   - Bad chain (head index >= qsize; next >= qsize; INDIRECT; no WRITE;
 *     zero length; outside the window or wrapping; overlapping the ring
 *     itself; loop): counted by kind.  The avail entry is consumed and,
 *     when the head index is valid, returned in the used ring with len 0
 *     (no buffer leaks in the driver; a used length shorter than the
 *     header is a dropped short frame to virtio-net).  With MRG_RXBUF the
 *     packet's earlier buffers in this attempt are returned with len 0 as
 *     well (their staged lengths are zeroed before anything is written).
 *     The packet itself is not failed: it goes on to the next chain.
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
 * The packet copy.  From 8 to EG_COPY_SMALL bytes, general-register moves
 * (the trampoline has no vector registers) without a loop: two or four
 * blocks, the second half's overlapping the first's; rep movsb's start-up
 * costs more than such a copy (bench/README.rst).  Shorter (a piece of a
 * packet in a small descriptor) or longer, rep movsb.
 */
#define EG_COPY_SMALL	128

#define EG_INLINE	inline __attribute__((always_inline))

static EG_INLINE void eg_mov8(uint8_t *d, const uint8_t *s)
{
	uint64_t t;

	__builtin_memcpy(&t, s, 8);
	__builtin_memcpy(d, &t, 8);
}

static EG_INLINE void eg_mov16(uint8_t *d, const uint8_t *s)
{
	uint64_t t0, t1;

	__builtin_memcpy(&t0, s, 8);
	__builtin_memcpy(&t1, s + 8, 8);
	__builtin_memcpy(d, &t0, 8);
	__builtin_memcpy(d + 8, &t1, 8);
}

static EG_INLINE void eg_mov32(uint8_t *d, const uint8_t *s)
{
	eg_mov16(d, s);
	eg_mov16(d + 16, s + 16);
}

/* 8 <= n <= 64: two blocks of 32, 16 or 8 bytes, the second overlapping */
static EG_INLINE void eg_copy_64(uint8_t *d, const uint8_t *s, eg_size_t n)
{
	if (n >= 32) {
		eg_mov32(d, s);
		eg_mov32(d + n - 32, s + n - 32);
	} else if (n >= 16) {
		eg_mov16(d, s);
		eg_mov16(d + n - 16, s + n - 16);
	} else {
		eg_mov8(d, s);
		eg_mov8(d + n - 8, s + n - 8);
	}
}

static EG_INLINE void eg_copy(void *dst, const void *src, eg_size_t n)
{
#ifdef EG_ASAN
	__asan_loadN(src, n);
	__asan_storeN(dst, n);
#endif
	if (n - 8 <= EG_COPY_SMALL - 8) {
		uint8_t *d = dst;
		const uint8_t *s = src;

		if (n > 64) {
			eg_mov32(d, s);
			eg_mov32(d + 32, s + 32);
			eg_mov32(d + n - 64, s + n - 64);
			eg_mov32(d + n - 32, s + n - 32);
		} else {
			eg_copy_64(d, s, n);
		}
		return;
	}
	__asm__ __volatile__("rep movsb"
			     : "+D"(dst), "+S"(src), "+c"(n)
			     :
			     : "memory");
}

/*
 * The fast path's copy: a whole packet, so n >= EG_TX_PKT_MIN (> 8), to
 * buf + EG_TX_HDR_LEN, the common sizes first.  ASan sees these moves
 * itself.
 */
static EG_INLINE void eg_copy_pkt(uint8_t *buf, const uint8_t *s, uint32_t n)
{
	uint8_t *d = buf + EG_TX_HDR_LEN;

	_Static_assert(EG_TX_PKT_MIN >= 8, "eg_copy_pkt: at least one 8-byte move");
	if (n - 33 < 32) {
		/* 33..64: two blocks of 32, the second overlapping, from the end */
		const uint8_t *se = s + n;
		uint8_t *de = buf + n;

		eg_mov32(d, s);
		eg_mov32(de + EG_TX_HDR_LEN - 32, se - 32);
	} else if (n < 33) {
		eg_copy_64(d, s, n);
	} else {
		eg_copy(d, s, n);	/* its first test is n <= EG_COPY_SMALL */
	}
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

	if (!c->win || !c->win_len || c->win_len > EG_TX_WIN_MAX ||
	    c->win_gpa + c->win_len <= c->win_gpa ||
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
	q->tail_gpa = q->win_gpa + q->ring_hi;
	q->tail_len = q->win_len - q->ring_hi;
	q->tail = q->win + q->ring_hi;
	q->qsize = n;
	q->mask = (uint16_t)(n - 1);
	q->event_idx = !!(c->features & (1ull << VIRTIO_F_EVENT_IDX));
	q->mrg_rxbuf = !!(c->features & (1ull << VIRTIO_NET_F_MRG_RXBUF));
	q->last_avail_idx = c->last_avail_idx;
	q->avail_end = c->last_avail_idx;	/* nothing known to be posted */
	q->used_idx = c->used_idx;
	q->doorbell = c->doorbell;
	q->doorbell_val = c->doorbell_val;
	q->notify = c->notify;
	q->notify_ctx = c->notify_ctx;
	return EG_TX_INIT_OK;
}

/*
 * Used elements staged per burst.  A burst stages at most one per avail
 * entry it consumes, so at most qsize; publish() writes them all out.  When
 * the array fills up mid-burst, the elements of finished packets are
 * written out early (flush_shadow(); used->idx still waits for publish()):
 * only one packet's attempt must fit, so a mergeable packet takes at most
 * EG_TX_SHADOW buffers (more: err_too_small, as when the ring cannot hold
 * it).  DPDK's vhost stages its used elements the same way.
 */
#define EG_TX_SHADOW	256

/* Per-burst scratch (on the private stack). */
struct burst {
	uint16_t start;		/* last_avail_idx when the burst began */
	uint16_t end;		/* entries [.., end) are known to be posted */
	uint8_t fresh;		/* avail->idx was read in this burst */
	uint8_t bad_idx;	/* ... and was insane (counted once) */
	uint32_t budget;	/* descriptors that may still be walked */
	uint32_t cnt;		/* staged elements: shadow[0, cnt) */
	/* id | len << 32; shadow[k] goes to used ring entry q->used_idx + k */
	uint64_t shadow[EG_TX_SHADOW];
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

#define EG_HDR_LO	0ull		/* bytes 0-7 */
#define EG_HDR_HI	0x10000u	/* bytes 8-11: num_buffers (10-11) = 1 */

static inline void hdr_store(uint8_t *dst)
{
	uint64_t lo = EG_HDR_LO;
	uint32_t hi = EG_HDR_HI;

	_Static_assert(VIRTIO_NET_HDR_V1_NUM_BUFFERS == 10 &&
		       EG_TX_HDR_LEN == 12, "virtio_net_hdr_v1 layout");
	__builtin_memcpy(dst, &lo, sizeof(lo));
	__builtin_memcpy(dst + 8, &hi, sizeof(hi));
}

/*
 * The header into a buffer at dst, the packet following it, unless the
 * buffer holds it already.  When the packet starts on a new cache line,
 * the header's line holds nothing else of this packet, and a driver that
 * recycles its buffers (DPDK's virtio PMD: headroom 128 - 12) finds there
 * the last packet's header, the same bytes; left alone, the line stays
 * shared and the driver's read of num_buffers hits its own cache instead
 * of waiting for the line from the sender's core.  Otherwise the line is
 * written anyway (the packet's first bytes), and a load first would only
 * add a transfer.
 */
static inline void hdr_put(uint8_t *dst)
{
	uint64_t lo;
	uint32_t hi;

	if ((uintptr_t)(dst + EG_TX_HDR_LEN) & (L1_CACHE_BYTES - 1)) {
		hdr_store(dst);
		return;
	}
	__builtin_memcpy(&lo, dst, sizeof(lo));
	__builtin_memcpy(&hi, dst + 8, sizeof(hi));
	if (lo != EG_HDR_LO || hi != EG_HDR_HI)
		hdr_store(dst);
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
enum {
	CH_DONE,	/* the stream ended inside this chain */
	CH_END,		/* the chain ended first (all of it written) */
	CH_BAD,		/* validation error, counted */
	CH_LOOP,	/* descriptor budget exhausted, counted */
};

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

/* Stage a used element (there is room: see tx_one() and eg_tx_burst()). */
static inline void put_used(struct burst *b, uint16_t id, uint32_t len)
{
	b->shadow[b->cnt++] = id | (uint64_t)len << 32;
}

/*
 * A used element, stored unless it holds that value already: a driver
 * that reposts its buffers in the order it took them gets the same id
 * and length at the same place on every lap, and a line not written
 * stays shared (see hdr_put()).  The load is the element's only read,
 * and decides nothing but the store.
 */
static EG_INLINE void used_put(struct virtq_used_elem *dst, uint64_t v)
{
	if (vq_ld64_a4(dst) != v)
		vq_st64_a4(dst, v);
}

/*
 * Write out the first k staged elements into the used ring, at q->used_idx
 * (not published: used->idx is publish()'s).  The ring is written in at
 * most two runs, to its end and from its start.
 */
static EG_INLINE void write_used(struct eg_txq *q, const uint64_t *src,
				 uint32_t k)
{
	uint32_t pos = q->used_idx & q->mask;
	struct virtq_used_elem *ring = q->used->ring;
	const uint64_t *end = src + k;

	q->used_idx = (uint16_t)(q->used_idx + k);
	while (src != end) {
		struct virtq_used_elem *dst = ring + pos;
		uint32_t run = q->qsize - pos;
		const uint64_t *stop;

		if (run > (uint32_t)(end - src))
			run = (uint32_t)(end - src);
		stop = src + run;
		if (run & 1)
			used_put(dst++, *src++);
		if (run & 2) {
			used_put(dst, src[0]);
			used_put(dst + 1, src[1]);
			src += 2;
			dst += 2;
		}
		for (; src != stop; src += 4, dst += 4) {
			used_put(dst, src[0]);
			used_put(dst + 1, src[1]);
			used_put(dst + 2, src[2]);
			used_put(dst + 3, src[3]);
		}
		pos = 0;
	}
}

/* Mid-burst: the first k staged elements out early, the rest moved down. */
static void flush_shadow(struct eg_txq *q, struct burst *b, uint32_t k)
{
	uint32_t j;

	write_used(q, b->shadow, k);
	for (j = k; j < b->cnt; j++)
		b->shadow[j - k] = b->shadow[j];
	b->cnt -= k;
}

/* A packet the sender may send: data, and a length virtio-net carries. */
static inline int pkt_ok(const struct eg_tx_pkt *p)
{
	return p->data && p->len >= EG_TX_PKT_MIN && p->len <= EG_TX_PKT_MAX;
}

/*
 * Undo a mergeable packet's attempt: its entries stay posted, its staged
 * elements go.
 */
static void undo(struct eg_txq *q, struct burst *b, uint16_t avail0,
		 uint32_t used0)
{
	q->last_avail_idx = avail0;
	b->cnt = used0;
}

/* tx_one() results */
enum {
	PK_DONE,	/* delivered or failed: next packet */
	PK_STOP,	/* not sent, untouched: stop the burst */
};

/*
 * Everything the fast path (fast_run()) declines: chains, mergeable
 * packets over several buffers, bad chains, bad packets, back-pressure.
 * Reads the avail entries and descriptors itself (what the fast path read
 * decides nothing here) and counts every bad one.  Kept out of line so
 * that the burst loop stays small.
 */
static __attribute__((noinline)) int tx_one(struct eg_txq *q, struct burst *b,
					    struct eg_tx_pkt *p,
					    struct eg_tx_stats *st)
{
	struct stream s;
	uint32_t len = p->len, j, budget0;

	if (!pkt_ok(p)) {
		p->status = EG_TX_E_PKT_LEN;
		st->err_pkt_len++;
		return PK_DONE;
	}
	s.data = p->data;
	s.total = EG_TX_HDR_LEN + len;

	for (;;) {	/* one attempt per iteration; bad chains restart it */
		uint16_t avail0 = q->last_avail_idx;
		uint32_t used0 = b->cnt, walked = 0, nbufs = 0;
		int r = CH_END, bad_head = -1;

		budget0 = b->budget;

		s.off = 0;
		s.nb[0] = s.nb[1] = 0;
		while (r == CH_END) {
			uint32_t written = 0;
			uint16_t head;

			if (q->last_avail_idx == b->end &&
			    !read_avail_idx(q, b, st)) {
				/* out of buffers: undo this attempt */
				undo(q, b, avail0, used0);
				if (walked >= q->qsize)
					goto too_small;	/* the whole ring cannot hold it */
				return PK_STOP;
			}
			if (b->cnt == EG_TX_SHADOW) {
				/* finished packets' elements out; this attempt stays */
				if (!used0) {
					undo(q, b, avail0, used0);
					goto too_small;
				}
				flush_shadow(q, b, used0);
				used0 = 0;
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
				b->cnt = used0;
				goto too_small;
			}
			if (r == CH_BAD || r == CH_LOOP) {
				bad_head = head;
				break;
			}
			put_used(b, head, written);
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
		for (j = used0; j < b->cnt; j++)
			b->shadow[j] &= 0xffffffffu;
		st->chains_dropped += nbufs;
		if (bad_head >= 0) {
			if (b->cnt == EG_TX_SHADOW)
				flush_shadow(q, b, b->cnt);
			put_used(b, (uint16_t)bad_head, 0);
			st->chains_dropped++;
		}
		if (r == CH_LOOP)
			return PK_STOP;
	}
too_small:
	b->budget = budget0;
	p->status = EG_TX_E_TOO_SMALL;
	st->err_too_small++;
	return PK_DONE;
}

static void publish(struct eg_txq *q, struct burst *b, uint16_t old,
		    struct eg_tx_stats *st)
{
	uint16_t new;
	int kick;

	write_used(q, b->shadow, b->cnt);
	b->cnt = 0;
	new = q->used_idx;
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
 * Back-pressure: have the driver notify the device when it posts again.
 * With VIRTIO_F_EVENT_IDX, avail_event (after the used elements) = the
 * avail index the burst last read, so the driver's next post past it
 * notifies (2.7.10); without it the driver notifies on every post, eg_tx
 * never setting used->flags' NO_NOTIFY (2.7.8).  A post between that read
 * and the store may not have seen it: avail->idx is read again after a full
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

/*
 * The fast path, in one pass: packets from p, at most m of them, on the
 * entries from a (m within the entries known to be posted and the
 * descriptor budget: a fast packet takes one entry and one descriptor).
 * For each, the avail entry and the head descriptor's addr, len and flags
 * are read once into locals, and only those are used: the head is an index
 * (< qsize), the descriptor writable and not indirect, long enough for
 * header and packet, and the whole of it inside the tail (the window after
 * the ring, so off the ring: one range check).  Then header and packet are
 * written and the used element staged at sh[].  It stops at anything else
 * -- a bad packet length, a bad entry, a buffer too short, one outside the
 * tail -- and returns how many packets went; tx_one() reads that entry
 * again and decides (and counts) on its own reads.  Out of line, its state
 * in registers: the copy's byte stores may alias any memory, so state kept
 * in q or b would be reloaded after every packet.
 */
static __attribute__((noinline)) uint32_t fast_run(const struct eg_txq *q,
						   uint16_t a,
						   struct eg_tx_pkt *p,
						   uint32_t m, uint64_t *sh,
						   uint64_t *bytes)
{
	const eg_le16 *ring = q->avail->ring;
	const struct virtq_desc *desc = q->desc;
	uint64_t tail_gpa = q->tail_gpa, tail_len = q->tail_len;
	uint8_t *tail = q->tail;
	uint16_t mask = q->mask;	/* qsize - 1 */
	uint32_t nbytes = 0, i;	/* nbytes <= EG_TX_BURST_MAX * EG_TX_PKT_MAX */

	for (i = 0; i < m; i++, p++) {
		uint32_t len = p->len, dlen;
		const uint8_t *src = p->data;
		const struct virtq_desc *d;
		uint16_t head, flags;
		uint64_t addr, x;
		uint8_t *buf;

		/* EG_TX_PKT_MIN <= len <= EG_TX_PKT_MAX, and data */
		if (len - EG_TX_PKT_MIN > EG_TX_PKT_MAX - EG_TX_PKT_MIN || !src)
			break;
		head = vq_ld16(&ring[(uint16_t)(a + i) & mask]);
		if (head > mask)
			break;
		d = &desc[head];
		addr = vq_ld64(&d->addr);
		dlen = vq_ld32(&d->len);
		flags = vq_ld16(&d->flags);
		if ((flags & (VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_INDIRECT)) !=
		    VIRTQ_DESC_F_WRITE || dlen < EG_TX_HDR_LEN + len)
			break;
		/* x + dlen cannot wrap: x < tail_len <= EG_TX_WIN_MAX */
		x = addr - tail_gpa;
		if (x >= tail_len || x + dlen > tail_len)
			break;
		buf = tail + x;
		hdr_put(buf);
		eg_copy_pkt(buf, src, len);
		sh[i] = head | (uint64_t)(EG_TX_HDR_LEN + len) << 32;
		p->status = EG_TX_OK;
		nbytes += len;
	}
	*bytes += nbytes;
	return i;
}

unsigned int eg_tx_burst(struct eg_txq *q, struct eg_tx_pkt *pkts,
			 unsigned int n, struct eg_tx_stats *st)
{
	uint16_t old = q->used_idx;
	struct eg_tx_pkt *p, *pend;
	struct burst b;
	uint64_t bytes = 0;
	unsigned int i;
	int asked = 0;

	st->bursts++;
	if (n > EG_TX_BURST_MAX)
		n = EG_TX_BURST_MAX;
	b.budget = q->qsize;
	b.start = q->last_avail_idx;
	b.end = q->avail_end;
	b.fresh = 0;
	b.bad_idx = 0;
	b.cnt = 0;
	if ((uint16_t)(b.end - b.start) < n)
		read_avail_idx(q, &b, st);
	p = pkts;
	pend = pkts + n;
again:
	while (p != pend) {
		uint16_t a = q->last_avail_idx;
		uint32_t m = (uint16_t)(b.end - a), k;

		if (m > b.budget)
			m = b.budget;
		if (m > (uint32_t)(pend - p))
			m = (uint32_t)(pend - p);
		k = fast_run(q, a, p, m, b.shadow + b.cnt, &bytes);
		p += k;
		a = (uint16_t)(a + k);
		q->last_avail_idx = a;
		b.cnt += k;
		b.budget -= k;
		st->sent += k;
		if (p == pend)
			break;
		/* the slow path */
		if (tx_one(q, &b, p, st) == PK_STOP)
			break;
		p++;
		/* room for the rest of the burst on the fast path */
		if (b.cnt > EG_TX_SHADOW - EG_TX_BURST_MAX)
			flush_shadow(q, &b, b.cnt);
	}
	/* the ring ran out: ask for a notification, once, and look again */
	if (p != pend && !asked) {
		asked = 1;
		/* a spent budget (a loop) stays spent: not counted again */
		if (want_notify(q, &b, st) && b.budget)
			goto again;
	}
	st->bytes += bytes;
	if (p != pend)
		st->backpressure++;
	publish(q, &b, old, st);
	i = (unsigned int)(p - pkts);
	for (; p != pend; p++)
		p->status = EG_TX_PENDING;
	return i;
}
