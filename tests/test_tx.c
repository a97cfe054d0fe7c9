// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests of the Tx path (guest/tx/eg_tx.c), the device side of a
 * peer's virtio-net RX split ring, against a fake peer driver: it lays out
 * the ring in a window (with guard pages around it and guard bytes around
 * every buffer), posts buffers, consumes used entries, reassembles and
 * checks packets, reposts.
 */
#include <pthread.h>
#include <signal.h>
#include <ucontext.h>
#include <sys/mman.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stddef.h>
#include "ksft_check.h"
#include "eg_tx.h"

#define GPA_BASE	0x7f00000000ull
#define GUARD		16
#define PAT		0xa5
#define QMAX		1024
#define F(bit)		(1ull << (bit))
#define PLEN		(2 * 65536)

static uint8_t P[PLEN];		/* packet contents are slices of this */

static uint64_t rs = 0x9e3779b97f4a7c15ull;
static uint64_t rnd(void)
{
	rs ^= rs << 13;
	rs ^= rs >> 7;
	rs ^= rs << 17;
	return rs;
}

static uint32_t pkt_len(uint64_t seq)
{
	uint64_t h = (seq + 1) * 0x9e3779b97f4a7c15ull;
	unsigned int r;

	h ^= h >> 29;
	r = (unsigned int)(h % 100);
	h >>= 8;
	if (seq % 997 == 0)
		return 60;
	if (seq % 991 == 0)
		return 65536;
	if (r < 60)
		return 60 + h % (1514 - 60 + 1);
	if (r < 85)
		return 1515 + h % (9018 - 1515 + 1);
	if (r < 97)
		return 9019 + h % (65536 - 9019 + 1);
	return 65536;
}

static const uint8_t *pkt_data(uint64_t seq)
{
	return P + (seq * 7919) % 65536;
}

struct rx {		/* the driver's reassembly of the packet stream */
	uint64_t next_seq, pkts, zero_len, errors;
	uint32_t got, total, bufs, num_buffers;
	uint8_t hdr[12];
};

struct peer {
	uint8_t *alloc, *win;
	uint64_t win_len, desc_off, avail_off, used_off, pool_off, tail_off;
	uint32_t qsize, slot, maxbuf;
	uint64_t features;
	struct virtq_desc *desc;
	struct virtq_avail *avail;
	struct virtq_used *used;
	/* driver-private */
	uint16_t avail_idx, last_used;
	uint16_t free_list[QMAX];
	uint32_t nfree;
	uint16_t nxt[QMAX], clen[QMAX];
	uint32_t blen[QMAX];
	uint8_t outstanding[QMAX], good[QMAX];
	uint64_t guard_errors, dup_errors, consumed;
	struct rx rx;
	struct eg_txq q;
	struct eg_tx_stats st;
	unsigned int notifies;
	volatile uint32_t doorbell;
};

static void on_notify(void *ctx)
{
	((struct peer *)ctx)->notifies++;
}

static uint64_t up(uint64_t x, uint64_t a)
{
	return (x + a - 1) & ~(a - 1);
}

static uint8_t *slot_of(struct peer *p, unsigned int i)
{
	return p->win + p->pool_off + (uint64_t)i * p->slot;
}

static uint64_t gpa_of(struct peer *p, const void *ptr)
{
	return GPA_BASE + (uint64_t)((const uint8_t *)ptr - p->win);
}

/* The queue's window and ring as the peer laid them out; no doorbell. */
static void peer_cfg(const struct peer *p, struct eg_txq_cfg *c)
{
	memset(c, 0, sizeof(*c));
	c->win = p->win;
	c->win_gpa = GPA_BASE;
	c->win_len = p->win_len;
	c->desc_gpa = GPA_BASE + p->desc_off;
	c->avail_gpa = GPA_BASE + p->avail_off;
	c->used_gpa = GPA_BASE + p->used_off;
	c->qsize = p->qsize;
	c->features = p->features;
}

/* The peer's queue set up anew from c, or bail out. */
static void peer_init_q(struct peer *p, const struct eg_txq_cfg *c)
{
	if (eg_txq_init(&p->q, c) != EG_TX_INIT_OK) {
		printf("Bail out! eg_txq_init failed\n");
		exit(1);
	}
}

static struct peer *peer_new(uint32_t qsize, uint64_t features, uint32_t maxbuf)
{
	struct peer *p = calloc(1, sizeof(*p));
	struct eg_txq_cfg c;
	unsigned int i;

	p->qsize = qsize;
	p->features = features | F(VIRTIO_F_VERSION_1);
	p->maxbuf = maxbuf;
	p->slot = (uint32_t)up(maxbuf + 2 * GUARD, 16);
	p->desc_off = 0;
	p->avail_off = VIRTQ_DESC_BYTES(qsize);
	p->used_off = up(p->avail_off + VIRTQ_AVAIL_BYTES(qsize), 4096);
	p->pool_off = up(p->used_off + VIRTQ_USED_BYTES(qsize), 4096);
	p->tail_off = p->pool_off + (uint64_t)qsize * p->slot;
	p->win_len = up(p->tail_off + 4096, 4096);
	p->alloc = aligned_alloc(4096, p->win_len + 8192);
	memset(p->alloc, PAT, p->win_len + 8192);
	p->win = p->alloc + 4096;
	memset(p->win, 0, p->pool_off);
	p->desc = (struct virtq_desc *)(p->win + p->desc_off);
	p->avail = (struct virtq_avail *)(p->win + p->avail_off);
	p->used = (struct virtq_used *)(p->win + p->used_off);
	for (i = 0; i < qsize; i++)
		p->free_list[i] = (uint16_t)(qsize - 1 - i);
	p->nfree = qsize;

	peer_cfg(p, &c);
	c.notify = on_notify;
	c.notify_ctx = p;
	c.doorbell = &p->doorbell;
	c.doorbell_val = 0x1234;
	peer_init_q(p, &c);
	return p;
}

static void peer_free(struct peer *p)
{
	free(p->alloc);
	free(p);
}

static uint16_t *used_event(struct peer *p)
{
	return &p->avail->ring[p->qsize];
}

static void avail_push(struct peer *p, uint16_t head)
{
	p->avail->ring[p->avail_idx & (p->qsize - 1)] = head;
	__atomic_thread_fence(__ATOMIC_RELEASE);
	p->avail_idx++;
	__atomic_store_n(&p->avail->idx, p->avail_idx, __ATOMIC_RELEASE);
}

/* Post a chain of k descriptors with these lengths; -1 when short of them. */
static int post_chain(struct peer *p, const uint32_t *lens, unsigned int k)
{
	uint16_t ids[QMAX];
	unsigned int j;

	if (k == 0 || k > p->nfree)
		return -1;
	for (j = 0; j < k; j++)
		ids[j] = p->free_list[--p->nfree];
	for (j = 0; j < k; j++) {
		uint16_t i = ids[j];
		struct virtq_desc *d = &p->desc[i];

		memset(slot_of(p, i), PAT, p->slot);
		p->blen[i] = lens[j];
		p->good[i] = 1;
		p->nxt[i] = j + 1 < k ? ids[j + 1] : 0xffff;
		d->addr = gpa_of(p, slot_of(p, i) + GUARD);
		d->len = lens[j];
		d->flags = VIRTQ_DESC_F_WRITE | (j + 1 < k ? VIRTQ_DESC_F_NEXT : 0);
		d->next = j + 1 < k ? ids[j + 1] : 0;
	}
	p->clen[ids[0]] = (uint16_t)k;
	p->outstanding[ids[0]] = 1;
	avail_push(p, ids[0]);
	return ids[0];
}

static int post1(struct peer *p, uint32_t len)
{
	return post_chain(p, &len, 1);
}

static int guard_ok(struct peer *p, unsigned int i)
{
	const uint8_t *s = slot_of(p, i);
	uint32_t j;

	for (j = 0; j < GUARD; j++)
		if (s[j] != PAT)
			return 0;
	for (j = GUARD + p->blen[i]; j < p->slot; j++)
		if (s[j] != PAT)
			return 0;
	return 1;
}

/* Feed len bytes of chain head into the packet stream check. */
static void rx_bytes(struct peer *p, const uint8_t *b, uint32_t n)
{
	struct rx *r = &p->rx;

	while (n && r->got < 12) {
		r->hdr[r->got++] = *b++;
		n--;
		if (r->got == 12) {
			static const uint8_t zero[10];

			r->num_buffers = r->hdr[10] | (r->hdr[11] << 8);
			if (memcmp(r->hdr, zero, 10) ||
			    (!(p->features & F(VIRTIO_NET_F_MRG_RXBUF)) && r->num_buffers != 1) ||
			    r->num_buffers == 0)
				r->errors++;
		}
	}
	if (!n)
		return;
	if (r->got + n > r->total ||
	    memcmp(b, pkt_data(r->next_seq) + (r->got - 12), n))
		r->errors++;
	r->got += n;
}

static void rx_used(struct peer *p, uint16_t head, uint32_t len)
{
	struct rx *r = &p->rx;
	int mrg = !!(p->features & F(VIRTIO_NET_F_MRG_RXBUF));
	uint16_t i = head;
	uint32_t left = len, cap = 0;

	if (len == 0) {
		r->zero_len++;
		if (r->bufs)
			r->errors++;	/* a mergeable packet's buffer went missing */
		return;
	}
	if (r->bufs == 0) {
		r->got = 0;
		r->total = 12 + pkt_len(r->next_seq);
		r->num_buffers = 0;
	}
	r->bufs++;
	for (unsigned int j = 0; j < p->clen[head]; j++, i = p->nxt[i])
		cap += p->blen[i];
	if (len > cap) {
		r->errors++;
		return;
	}
	for (i = head; left; i = p->nxt[i]) {
		uint32_t n = left < p->blen[i] ? left : p->blen[i];

		rx_bytes(p, slot_of(p, i) + GUARD, n);
		left -= n;
	}
	if (r->got == r->total) {
		if (r->bufs != r->num_buffers)
			r->errors++;
		r->pkts++;
		r->next_seq++;
		r->bufs = 0;
	} else if (!mrg || (r->got >= 12 && r->bufs >= r->num_buffers)) {
		r->errors++;
		r->bufs = 0;
	}
}

/* Consume up to max used entries: guard check, reassemble, free. */
static unsigned int consume(struct peer *p, unsigned int max, int check_rx)
{
	uint16_t idx = __atomic_load_n(&p->used->idx, __ATOMIC_ACQUIRE);
	unsigned int n = 0;

	while (p->last_used != idx && n < max) {
		struct virtq_used_elem *e = &p->used->ring[p->last_used & (p->qsize - 1)];
		uint32_t id = e->id, len = e->len;
		uint16_t i;

		p->last_used++;
		p->consumed++;
		n++;
		if (id >= p->qsize || !p->outstanding[id]) {
			p->dup_errors++;
			continue;
		}
		p->outstanding[id] = 0;
		i = (uint16_t)id;
		for (unsigned int j = 0; j < p->clen[id]; j++, i = p->nxt[i])
			if (!guard_ok(p, i))
				p->guard_errors++;
		if (check_rx)
			rx_used(p, (uint16_t)id, len);
		i = (uint16_t)id;
		for (unsigned int j = 0; j < p->clen[id]; j++) {
			uint16_t nx = p->nxt[i];

			p->free_list[p->nfree++] = i;
			i = nx;
		}
	}
	return n;
}

static int guards_ok(struct peer *p)	/* the pages either side of the window */
{
	for (uint64_t j = 0; j < 4096; j++)
		if (p->alloc[j] != PAT || p->win[p->win_len + j] != PAT)
			return 0;
	return 1;
}

static int outside_ok(struct peer *p)	/* and the window's unused tail */
{
	uint64_t j;

	if (!guards_ok(p))
		return 0;
	for (j = p->tail_off; j < p->win_len; j++)
		if (p->win[j] != PAT)
			return 0;
	return 1;
}

static uint64_t err_sum(const struct eg_tx_stats *s)
{
	return s->err_avail_idx + s->err_head + s->err_next + s->err_loop +
	       s->err_indirect + s->err_not_write + s->err_zero_len +
	       s->err_bounds + s->err_ring_overlap + s->chains_dropped +
	       s->err_pkt_len + s->err_too_small;
}

/* ---- stress: sequenced packets through a cooperative driver ---- */

enum layout { CHAINS_64K, MRG_SINGLE, MRG_CHAINS };

static void repost(struct peer *p, enum layout lay)
{
	unsigned int budget = rnd() % 4 ? p->qsize : (unsigned int)(rnd() % 8);

	while (budget--) {
		uint32_t lens[64], sum = 0;
		unsigned int k = 0;

		switch (lay) {
		case CHAINS_64K:	/* like Linux "big packets": one chain holds 64 KiB + hdr */
			while (sum < 12 + 65536) {
				uint32_t l = k == 0 && rnd() % 4 == 0 ? 1 + rnd() % 20 :
					     512 + rnd() % (4096 - 512 + 1);
				lens[k++] = l;
				sum += l;
			}
			break;
		case MRG_SINGLE:	/* mergeable, one descriptor per buffer */
			lens[k++] = rnd() % 8 == 0 ? 1 + rnd() % 16 : 64 + rnd() % (4096 - 64 + 1);
			break;
		case MRG_CHAINS:	/* mergeable, small chains */
			k = 1 + rnd() % 4;
			for (unsigned int j = 0; j < k; j++)
				lens[j] = 1 + rnd() % 2000;
			break;
		}
		if (post_chain(p, lens, k) < 0)
			break;
	}
}

static void stress(const char *name, enum layout lay, uint64_t features,
		   uint64_t npkts)
{
	struct peer *p = peer_new(256, features, 4096);
	struct eg_tx_pkt pk[EG_TX_BURST_MAX];
	uint64_t next_send = 0, bursts = 0, bad_notify = 0, bad_status = 0;
	uint64_t bp_calls = 0, ret_total = 0;
	int evidx = !!(features & F(VIRTIO_F_EVENT_IDX));

	repost(p, lay);
	while (p->rx.pkts < npkts && bursts < 50 * npkts) {
		unsigned int n = 1 + rnd() % EG_TX_BURST_MAX, r, j;
		uint16_t old, new;
		unsigned int nb = p->notifies;

		if (next_send + n > npkts)
			n = (unsigned int)(npkts - next_send);
		for (j = 0; j < n; j++) {
			pk[j].data = pkt_data(next_send + j);
			pk[j].len = pkt_len(next_send + j);
		}
		old = p->used->idx;
		r = n ? eg_tx_burst(&p->q, pk, n, &p->st) : 0;
		bursts += n != 0;
		new = p->used->idx;
		ret_total += r;
		if (r < n)
			bp_calls++;
		for (j = 0; j < n; j++)
			if (pk[j].status != (j < r ? EG_TX_OK : EG_TX_PENDING))
				bad_status++;
		next_send += r;
		if (evidx) {
			int want = new != old && vring_need_event(*used_event(p), new, old);

			bad_notify += p->notifies - nb != (unsigned int)want;
		} else {
			int want = new != old && !(p->avail->flags & VIRTQ_AVAIL_F_NO_INTERRUPT);

			bad_notify += p->notifies - nb != (unsigned int)want;
		}
		/* the driver: consume some, repost some, re-arm */
		switch (rnd() % 4) {
		case 0:
			break;			/* let the ring fill up */
		case 1:
			consume(p, 1 + rnd() % 32, 1);
			break;
		default:
			consume(p, ~0u, 1);
		}
		if (rnd() % 3)
			repost(p, lay);
		if (evidx)
			*used_event(p) = (uint16_t)(p->last_used + rnd() % 8);
		else
			p->avail->flags = rnd() % 2 ? VIRTQ_AVAIL_F_NO_INTERRUPT : 0;
	}
	consume(p, ~0u, 1);
	TAP_CHECK(p->rx.pkts == npkts && p->rx.errors == 0 && p->rx.zero_len == 0,
		  "%s: %llu packets of 60..65536 B arrive once, in order, intact (got %llu, %llu errors)",
		  name, (unsigned long long)npkts, (unsigned long long)p->rx.pkts,
		  (unsigned long long)p->rx.errors);
	TAP_CHECK(p->guard_errors == 0 && p->dup_errors == 0 && outside_ok(p),
		  "%s: no write outside posted buffers, no duplicate used id", name);
	TAP_CHECK(bad_status == 0 && ret_total == npkts && p->st.sent == npkts &&
		  err_sum(&p->st) == 0 && p->st.bursts == bursts && p->st.backpressure == bp_calls,
		  "%s: return counts and counters add up (%llu bursts, %llu back-pressured)",
		  name, (unsigned long long)bursts, (unsigned long long)bp_calls);
	TAP_CHECK(bad_notify == 0 && p->st.notifies == p->notifies &&
		  p->st.publishes <= bursts && p->st.used == p->consumed,
		  "%s: notified exactly when %s asked, at most once per burst (%u notifies)",
		  name, evidx ? "used_event" : "!NO_INTERRUPT", p->notifies);
	peer_free(p);
}

/* ---- directed tests ---- */

static unsigned int send1(struct peer *p, uint32_t len, struct eg_tx_pkt *pk)
{
	pk->data = P;
	pk->len = len;
	return eg_tx_burst(&p->q, pk, 1, &p->st);
}

/* Only posted good buffers and the used ring's idx/elements changed. */
static int writes_ok(struct peer *p, const uint8_t *snap)
{
	uint64_t o;

	for (o = 0; o < p->win_len; o++) {
		if (p->win[o] == snap[o])
			continue;
		if (o >= p->used_off + 2 && o < p->used_off + 4 + 8ull * p->qsize)
			continue;
		if (o >= p->pool_off && o < p->tail_off) {
			uint64_t i = (o - p->pool_off) / p->slot, s = (o - p->pool_off) % p->slot;

			if (p->good[i] && s >= GUARD && s < GUARD + p->blen[i])
				continue;
		}
		return 0;
	}
	return outside_ok(p);
}

struct hostile {
	const char *what;
	size_t counter;		/* offsetof in struct eg_tx_stats */
	int stops;		/* the burst stops (packet stays pending) */
	int no_used;		/* no used element for the entry */
};

#define CTR(f) offsetof(struct eg_tx_stats, f)

static const struct hostile hostiles[] = {
	{ "descriptor without WRITE", CTR(err_not_write), 0, 0 },
	{ "INDIRECT descriptor", CTR(err_indirect), 0, 0 },
	{ "zero-length descriptor", CTR(err_zero_len), 0, 0 },
	{ "address below the window", CTR(err_bounds), 0, 0 },
	{ "buffer running past the window", CTR(err_bounds), 0, 0 },
	{ "addr + len wrapping 2^64", CTR(err_bounds), 0, 0 },
	{ "length 0xffffffff", CTR(err_bounds), 0, 0 },
	{ "buffer over the descriptor table", CTR(err_ring_overlap), 0, 0 },
	{ "buffer over the avail ring", CTR(err_ring_overlap), 0, 0 },
	{ "buffer over the used ring", CTR(err_ring_overlap), 0, 0 },
	{ "next index >= qsize", CTR(err_next), 0, 0 },
	{ "two-descriptor loop", CTR(err_loop), 1, 0 },
	{ "self loop", CTR(err_loop), 1, 0 },
	{ "head index >= qsize", CTR(err_head), 0, 1 },
	{ "good first descriptor, second without WRITE", CTR(err_not_write), 0, 0 },
};

/* Hand-written bad chain at descriptors 0 (and 1); returns the head. */
static uint16_t post_bad(struct peer *p, unsigned int kind)
{
	struct virtq_desc *d0 = &p->desc[0], *d1 = &p->desc[1];
	uint64_t b0 = gpa_of(p, slot_of(p, 0) + GUARD), b1 = gpa_of(p, slot_of(p, 1) + GUARD);
	uint16_t head = 0;

	p->blen[0] = p->blen[1] = 8;
	*d0 = (struct virtq_desc){ b0, 100, VIRTQ_DESC_F_WRITE, 0 };
	switch (kind) {
	case 0: d0->flags = 0; break;
	case 1: d0->flags |= VIRTQ_DESC_F_INDIRECT; d0->len = 16; break;
	case 2: d0->len = 0; break;
	case 3: d0->addr = GPA_BASE - 16; d0->len = 64; break;
	case 4: d0->addr = GPA_BASE + p->win_len - 8; d0->len = 64; break;
	case 5: d0->addr = 0xfffffffffffffff0ull; d0->len = 0x100; break;
	case 6: d0->len = 0xffffffffu; break;
	case 7: d0->addr = GPA_BASE + p->desc_off + 32; d0->len = 64; break;
	case 8: d0->addr = GPA_BASE + p->avail_off + 2; d0->len = 2; break;
	case 9: d0->addr = GPA_BASE + p->used_off + VIRTQ_USED_BYTES(p->qsize) - 1; d0->len = 64; break;
	case 10: *d0 = (struct virtq_desc){ b0, 8, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 16 + 3 };
		p->good[0] = 1; break;
	case 11: *d0 = (struct virtq_desc){ b0, 2, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 1 };
		*d1 = (struct virtq_desc){ b1, 2, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 0 };
		p->good[0] = p->good[1] = 1; break;	/* 16 x 2 B < the packet */
	case 12: *d0 = (struct virtq_desc){ b0, 2, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 0 };
		p->good[0] = 1; break;
	case 13: head = 16 + 5;	/* where it would read, a descriptor that looks good */
		memcpy(p->win + p->desc_off + (uint64_t)head * sizeof(*d0),
		       &(struct virtq_desc){ b0, 100, VIRTQ_DESC_F_WRITE, 0 }, sizeof(*d0));
		break;
	case 14: *d0 = (struct virtq_desc){ b0, 8, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 1 };
		*d1 = (struct virtq_desc){ b1, 8, 0, 0 };
		p->good[0] = 1; break;
	}
	if (head == 0) {
		p->outstanding[0] = 1;
		p->clen[0] = 1;
		p->nxt[0] = 0xffff;
	}
	avail_push(p, head);
	return head;
}

static void test_hostile(void)
{
	for (unsigned int k = 0; k < sizeof(hostiles) / sizeof(hostiles[0]); k++) {
		const struct hostile *h = &hostiles[k];
		struct peer *p = peer_new(16, 0, 4096);
		struct eg_tx_pkt pk;
		uint8_t *snap = malloc(p->win_len);
		unsigned int r, r2 = 1;
		uint64_t *ctr = (uint64_t *)((char *)&p->st + h->counter);
		struct virtq_used_elem e0;
		int head;

		/* descriptors 0 and 1 are the bad chain's */
		p->nfree = 14;	/* the list pops 2, 3, ... */
		post_bad(p, k);
		head = post1(p, 2048);
		memcpy(snap, p->win, p->win_len);
		r = send1(p, 100, &pk);
		if (h->stops)
			r2 = send1(p, 100, &pk);
		e0 = p->used->ring[0];
		TAP_CHECK(*ctr == 1 && err_sum(&p->st) == 1 + !h->no_used && p->st.sent == 1 &&
			  pk.status == EG_TX_OK && r == !h->stops && r2 == 1,
			  "hostile: %s counted, packet %sdelivered in the next buffer", h->what,
			  h->stops ? "(burst stopped, then) " : "");
		TAP_CHECK(h->no_used ? p->used->idx == 1 && e0.id == (uint32_t)head && e0.len == 112 :
			  p->used->idx == 2 && e0.id == 0 && e0.len == 0 &&
			  p->used->ring[1].id == (uint32_t)head && p->used->ring[1].len == 112,
			  "hostile: %s: %s, then the packet", h->what,
			  h->no_used ? "no used element for the bad entry" :
				       "bad chain returned with len 0");
		TAP_CHECK(writes_ok(p, snap), "hostile: %s: no write outside posted WRITE buffers",
			  h->what);
		/* recovery: the driver takes its buffers back, posts a new one */
		consume(p, ~0u, 0);
		p->good[0] = p->good[1] = 0;
		memcpy(snap, p->win, p->win_len);
		head = post1(p, 2048);
		r = send1(p, 1514, &pk);
		TAP_CHECK(r == 1 && pk.status == EG_TX_OK && p->used->ring[(p->q.used_idx - 1) & 15].id ==
			  (uint32_t)head && p->guard_errors == 0 && p->dup_errors == 0 &&
			  *ctr == 1 && p->st.sent == 2,
			  "hostile: %s: the queue goes on with later good buffers", h->what);
		free(snap);
		peer_free(p);
	}
}

/*
 * The ring's parts need not be adjacent: a buffer in the gap between the
 * avail and the used ring is inside their span but overlaps neither, and
 * is written; one that reaches the avail ring's last byte is not.
 */
static void test_ring_gap(void)
{
	struct peer *p = peer_new(16, 0, 4096);
	uint64_t avail_end = p->avail_off + VIRTQ_AVAIL_BYTES(16), gap = up(avail_end, 64);
	uint32_t len = 12 + 100;
	struct eg_tx_pkt pk;
	unsigned int r1, r2;
	uint8_t *snap = malloc(p->win_len);
	uint64_t o;
	int others = 0;

	p->nfree = 14;	/* descriptors 0 and 1 are hand-written */
	p->desc[0] = (struct virtq_desc){ GPA_BASE + avail_end - 1, 1 + len,
					  VIRTQ_DESC_F_WRITE, 0 };
	p->desc[1] = (struct virtq_desc){ GPA_BASE + gap, len, VIRTQ_DESC_F_WRITE, 0 };
	avail_push(p, 0);
	avail_push(p, 1);
	memcpy(snap, p->win, p->win_len);
	r1 = send1(p, 100, &pk);
	for (o = 0; o < p->win_len; o++)
		others += p->win[o] != snap[o] && !(o >= gap && o < gap + len) &&
			  !(o >= p->used_off + 2 && o < p->used_off + 4 + 8ull * 16);
	TAP_CHECK(r1 == 1 && pk.status == EG_TX_OK && p->st.err_ring_overlap == 1 &&
		  p->used->idx == 2 && p->used->ring[0].id == 0 && p->used->ring[0].len == 0 &&
		  p->used->ring[1].id == 1 && p->used->ring[1].len == len,
		  "ring gap: buffer over the avail ring's last byte refused, then one in the gap "
		  "between avail and used ring delivered");
	TAP_CHECK(others == 0 && p->win[gap + 10] == 1 && !memcmp(p->win + gap + 12, P, 100) &&
		  outside_ok(p),
		  "ring gap: only the gap buffer and the used ring written");
	/* the same buffer again, now alone: the common case takes it too */
	p->desc[1].len = len;
	avail_push(p, 1);
	r2 = send1(p, 100, &pk);
	TAP_CHECK(r2 == 1 && pk.status == EG_TX_OK && p->used->idx == 3 &&
		  p->used->ring[2].id == 1 && p->st.err_ring_overlap == 1 && p->st.sent == 2,
		  "ring gap: a gap buffer on its own is delivered, nothing counted");
	free(snap);
	peer_free(p);
}

/*
 * A one-descriptor buffer one byte short of header + packet: the packet
 * fails (too small, the buffer stays posted), nothing is written past the
 * buffer; a packet one byte shorter fills it exactly.
 */
static void test_exact_fit(void)
{
	struct peer *p = peer_new(16, 0, 4096);
	struct eg_tx_pkt pk;
	unsigned int r1, r2;
	int h = post1(p, 12 + 59);

	r1 = send1(p, 60, &pk);
	TAP_CHECK(r1 == 1 && pk.status == EG_TX_E_TOO_SMALL && p->st.err_too_small == 1 &&
		  p->q.last_avail_idx == 0 && p->used->idx == 0 && guard_ok(p, (unsigned int)h),
		  "buffer one byte short of header + packet: too small, untouched, still posted");
	r2 = send1(p, 59, &pk);
	TAP_CHECK(r2 == 1 && pk.status == EG_TX_OK && p->used->idx == 1 &&
		  p->used->ring[0].id == (uint32_t)h && p->used->ring[0].len == 12 + 59 &&
		  !memcmp(slot_of(p, h) + GUARD + 12, P, 59) && guard_ok(p, (unsigned int)h),
		  "a packet one byte shorter fills it exactly, guards intact");
	peer_free(p);
}

/*
 * A head index just past the device's descriptor table, where the memory
 * holds what looks like a good descriptor (the peer's table is 16 long,
 * the device's 8): err_head, not used, and the packet goes to the next
 * entry.  The first entry of a burst and a later one.
 */
static void test_head_past_table(void)
{
	for (unsigned int k = 0; k < 2; k++) {
		struct peer *p = peer_new(16, 0, 4096);
		struct eg_tx_pkt pk[2] = { { P, 60, 0 }, { P + 60, 60, 0 } };
		struct eg_txq_cfg c;
		uint16_t bad = (uint16_t)(8 + 7 * k);	/* 8 and 15 */
		int h0, h1, clean = 1;
		unsigned int r, j;

		peer_cfg(p, &c);
		c.qsize = 8;
		peer_init_q(p, &c);
		p->desc[bad] = (struct virtq_desc){ gpa_of(p, slot_of(p, bad) + GUARD), 1000,
						    VIRTQ_DESC_F_WRITE, 0 };
		memset(slot_of(p, bad), PAT, p->slot);
		if (!k)
			avail_push(p, bad);	/* the bad entry first */
		h0 = post1(p, 1000);
		if (k)
			avail_push(p, bad);	/* the bad entry second */
		h1 = post1(p, 1000);
		r = eg_tx_burst(&p->q, pk, 2, &p->st);
		for (j = 0; j < p->slot; j++)
			clean &= slot_of(p, bad)[j] == PAT;
		TAP_CHECK(r == 2 && p->st.sent == 2 && p->st.err_head == 1 && clean &&
			  p->used->idx == 2 && p->used->ring[0].id == (uint32_t)h0 &&
			  p->used->ring[1].id == (uint32_t)h1 &&
			  !memcmp(slot_of(p, h0) + GUARD + 12, P, 60) &&
			  !memcmp(slot_of(p, h1) + GUARD + 12, P + 60, 60),
			  "head %u past an 8-entry table (entry %u), good-looking memory there: "
			  "err_head, not used", bad, k);
		peer_free(p);
	}
}

/* fn handles sig (with its siginfo) from now on; the old action in *old. */
static void catch_sig(int sig, void (*fn)(int, siginfo_t *, void *), struct sigaction *old)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_flags = SA_SIGINFO;
	sigemptyset(&sa.sa_mask);
	sa.sa_sigaction = fn;
	sigaction(sig, &sa, old);
}

/*
 * Stores that are left out: the peer's memory is made read-only around a
 * burst, and every write fault is counted (and let through: the page is
 * made writable again and the store retried).
 */
static struct {
	uint8_t *page;
	unsigned int faults;
} wp;

static void wp_segv(int sig, siginfo_t *si, void *uc)
{
	uintptr_t a = (uintptr_t)si->si_addr;

	(void)sig;
	(void)uc;
	if (a < (uintptr_t)wp.page || a >= (uintptr_t)wp.page + 4096)
		abort();
	wp.faults++;
	mprotect(wp.page, 4096, PROT_READ | PROT_WRITE);
}

/* eg_tx_burst() with the page at page read-only; returns the write faults. */
static unsigned int burst_wp(struct peer *p, uint8_t *page, struct eg_tx_pkt *pk,
			     unsigned int n, unsigned int *sent)
{
	struct sigaction old;

	catch_sig(SIGSEGV, wp_segv, &old);
	wp.page = page;
	wp.faults = 0;
	mprotect(page, 4096, PROT_READ);
	*sent = eg_tx_burst(&p->q, pk, n, &p->st);
	mprotect(page, 4096, PROT_READ | PROT_WRITE);
	sigaction(SIGSEGV, &old, NULL);
	return wp.faults;
}

/*
 * A buffer whose packet starts on a new cache line (here: a new page, the
 * header in the last 12 bytes of the page before): the header is stored
 * only when the buffer does not hold it already.  The buffer is posted
 * again after each packet; between the second and third send, the peer
 * changes num_buffers in it.  Then the same with the packet starting
 * inside the header's line: stored every time.
 */
static void test_unchanged_hdr(void)
{
	static const uint8_t want[12] = { [10] = 1 };
	struct peer *p = peer_new(16, 0, 8192);
	struct eg_tx_pkt pk;
	unsigned int f[5], r[5], k;
	uint8_t *page, *hdr;
	int h = post1(p, 1000);

	page = (uint8_t *)((uintptr_t)(slot_of(p, h) + GUARD + 12 + 4095) & ~(uintptr_t)4095);
	hdr = page - 12;
	p->desc[h].addr = gpa_of(p, hdr);
	pk = (struct eg_tx_pkt){ P, 60, 0 };
	for (k = 0; k < 4; k++) {
		if (k == 2)
			hdr[10] = 0;	/* num_buffers */
		if (k == 3)
			hdr[0] = 1;	/* flags */
		f[k] = burst_wp(p, page - 4096, &pk, 1, &r[k]);
		consume(p, 1, 0);
		avail_push(p, (uint16_t)h);
	}
	TAP_CHECK(r[0] == 1 && r[1] == 1 && r[2] == 1 && r[3] == 1 && f[0] == 1 && f[1] == 0 &&
		  f[2] == 1 && f[3] == 1 && !memcmp(hdr, want, 12) && !memcmp(page, P, 60) &&
		  p->used->idx == 4 && p->used->ring[3].len == 72 && err_sum(&p->st) == 0,
		  "header alone in its line: stored when not there (%u fault), not when there "
		  "(%u), again when the peer changed num_buffers (%u) or flags (%u); packet and "
		  "used entries right", f[0], f[1], f[2], f[3]);

	/* the packet's first bytes in the header's line: a load would only add a transfer */
	hdr = page - 8;
	p->desc[h].addr = gpa_of(p, hdr);
	memcpy(hdr, want, 12);
	f[4] = burst_wp(p, page - 4096, &pk, 1, &r[4]);
	TAP_CHECK(r[4] == 1 && f[4] == 1 && !memcmp(hdr, want, 12) && !memcmp(hdr + 12, P, 60),
		  "header sharing a line with the packet: stored even when there (%u fault)", f[4]);
	peer_free(p);
}

/*
 * Used elements already holding what the burst puts there (a driver that
 * reposts its buffers in order finds the same id and length at the same
 * place every lap) are not stored: with the page of the used ring that
 * holds them read-only, a burst of four into entries 512..515 of a
 * 1024-entry ring faults only where an element differs.
 */
static void test_unchanged_used(void)
{
	for (unsigned int bad = 0; bad < 5; bad++) {	/* 4: none differs */
		struct peer *p = peer_new(1024, 0, 2048);
		struct eg_tx_pkt pk[4];
		struct eg_txq_cfg c;
		unsigned int f, r, j, ok = 1;
		int h[4];
		uint8_t *page;

		peer_cfg(p, &c);
		c.last_avail_idx = c.used_idx = 512;
		peer_init_q(p, &c);
		p->avail_idx = 512;
		p->last_used = 512;
		for (j = 0; j < 4; j++) {
			h[j] = post1(p, 1000);
			pk[j] = (struct eg_tx_pkt){ P + 60 * j, 60, 0 };
			p->used->ring[512 + j].id = (uint32_t)h[j];
			p->used->ring[512 + j].len = j == bad ? 71 : 72;
		}
		page = (uint8_t *)((uintptr_t)&p->used->ring[512] & ~(uintptr_t)4095);
		if ((uint8_t *)&p->used->ring[516] > page + 4096 ||
		    (uint8_t *)&p->used->idx >= page) {
			printf("Bail out! used ring layout\n");
			exit(1);
		}
		f = burst_wp(p, page, pk, 4, &r);
		for (j = 0; j < 4; j++)
			ok &= p->used->ring[512 + j].id == (uint32_t)h[j] &&
			      p->used->ring[512 + j].len == 72;
		TAP_CHECK(r == 4 && ok && f == (bad < 4) && p->used->idx == 516 &&
			  consume(p, 4, 0) == 4 && p->dup_errors == 0 && err_sum(&p->st) == 0,
			  "used elements already in place, element %u differing (4: none): %u fault(s), "
			  "all four right, used->idx 516", bad, f);
		peer_free(p);
	}
}

/* A buffer ending exactly at the window's end is fine, one byte more is not. */
static void test_window_edge(void)
{
	struct peer *p = peer_new(16, 0, 4096);
	struct eg_tx_pkt pk;
	unsigned int r1, r2;

	p->desc[0] = (struct virtq_desc){ GPA_BASE + p->win_len - 100, 101, VIRTQ_DESC_F_WRITE, 0 };
	p->desc[1] = (struct virtq_desc){ GPA_BASE + p->win_len - 100, 100, VIRTQ_DESC_F_WRITE, 0 };
	avail_push(p, 0);
	r1 = send1(p, 88, &pk);
	avail_push(p, 1);
	r2 = send1(p, 88, &pk);
	TAP_CHECK(r1 == 0 && r2 == 1 && p->st.err_bounds == 1 && p->st.sent == 1 &&
		  p->used->idx == 2 && p->used->ring[0].len == 0 && p->used->ring[1].len == 100 &&
		  guards_ok(p) && !memcmp(p->win + p->win_len - 88, P, 88),
		  "window edge: buffer one byte past the end refused, exactly to the end filled");
	peer_free(p);
}

static void test_avail_idx(void)
{
	struct peer *p = peer_new(16, 0, 4096);
	struct eg_tx_pkt pk;
	unsigned int r;

	post1(p, 2048);
	p->avail->idx = (uint16_t)(p->avail_idx + 16);	/* 17 ahead of last_avail */
	r = send1(p, 100, &pk);
	TAP_CHECK(r == 0 && p->st.err_avail_idx == 1 && p->used->idx == 0 && p->notifies == 0 &&
		  pk.status == EG_TX_PENDING && p->q.last_avail_idx == 0,
		  "avail idx more than qsize ahead: counted, nothing consumed, packet pending");
	p->avail->idx = p->avail_idx;
	r = send1(p, 100, &pk);
	TAP_CHECK(r == 1 && pk.status == EG_TX_OK && p->used->idx == 1,
		  "avail idx sane again: the queue goes on");
	peer_free(p);
}

/*
 * avail->idx is read only when the entries known from the last read do
 * not cover the burst (or run out): a corrupt index is not seen while
 * known entries remain, then counted once they are used up.
 */
static void test_avail_idx_cached(void)
{
	struct peer *p = peer_new(16, 0, 4096);
	struct eg_tx_pkt pk[4];
	unsigned int r, j;

	for (j = 0; j < 4; j++) {
		post1(p, 2048);
		pk[j].data = pkt_data(j);
		pk[j].len = 60;
	}
	r = eg_tx_burst(&p->q, pk, 1, &p->st);	/* reads idx: 4 posted */
	p->avail->idx = (uint16_t)(p->avail_idx + 100);	/* corrupt */
	r += eg_tx_burst(&p->q, pk + 1, 3, &p->st);	/* 3 known: no read */
	TAP_CHECK(r == 4 && p->st.sent == 4 && p->st.err_avail_idx == 0 && p->used->idx == 4,
		  "entries known from the last avail->idx read are used without reading it again");
	r = eg_tx_burst(&p->q, pk, 1, &p->st);
	TAP_CHECK(r == 0 && p->st.err_avail_idx == 1 && pk[0].status == EG_TX_PENDING &&
		  p->q.last_avail_idx == 4,
		  "known entries used up: avail->idx read, corrupt index counted, nothing consumed");
	peer_free(p);
}

/*
 * A mergeable packet that needs more buffers than the entries known at the
 * start reads avail->idx once more; an index that went backwards behind
 * what the burst consumed is counted, never followed.
 */
static void test_avail_idx_midburst(void)
{
	struct peer *p = peer_new(16, 1ull << VIRTIO_NET_F_MRG_RXBUF, 4096);
	struct eg_tx_pkt pk;
	unsigned int r, j;

	post1(p, 1000);
	pk.data = pkt_data(0);
	pk.len = 100;
	r = eg_tx_burst(&p->q, &pk, 1, &p->st);	/* idx read: 1 posted, used */
	for (j = 0; j < 3; j++)
		post1(p, 1000);
	pk.len = 2500;	/* 2512 bytes: three buffers, more than n == 1 */
	r += eg_tx_burst(&p->q, &pk, 1, &p->st);
	TAP_CHECK(r == 2 && pk.status == EG_TX_OK && p->st.sent == 2 && p->used->idx == 4 &&
		  p->st.err_avail_idx == 0,
		  "MRG: a packet needing more entries than known reads avail->idx and completes");
	for (j = 0; j < 2; j++)
		post1(p, 1000);	/* posted: 2 more, idx 6 */
	r = eg_tx_burst(&p->q, &pk, 1, &p->st);	/* reads idx 6, needs 3 */
	TAP_CHECK(r == 0 && pk.status == EG_TX_PENDING && p->st.backpressure == 1 &&
		  p->q.last_avail_idx == 4 && p->used->idx == 4,
		  "MRG: not enough after the read: rolled back, back-pressure");
	/* entries 4, 5 known; the packet takes both, then reads idx: 5 */
	p->avail->idx = 5;	/* rewound behind what the burst consumed */
	r = eg_tx_burst(&p->q, &pk, 1, &p->st);
	TAP_CHECK(r == 0 && p->st.err_avail_idx == 1 && p->st.backpressure == 2 &&
		  p->q.last_avail_idx == 4 && p->used->idx == 4 && p->guard_errors == 0,
		  "MRG: avail->idx rewound behind what the burst consumed: counted, not followed, rolled back");
	p->avail->idx = p->avail_idx;
	post1(p, 1000);
	r = eg_tx_burst(&p->q, &pk, 1, &p->st);
	TAP_CHECK(r == 1 && pk.status == EG_TX_OK && p->st.sent == 3 && p->used->idx == 7 &&
		  p->st.err_avail_idx == 1 && p->guard_errors == 0,
		  "MRG: the index sane again: the packet goes out in three buffers");
	peer_free(p);
}

static void test_backpressure(void)
{
	struct peer *p = peer_new(16, 0, 4096);
	struct eg_tx_pkt pk[100];
	unsigned int r, j;
	int ok = 1;

	for (j = 0; j < 10; j++)
		post1(p, 2048);
	for (j = 0; j < 100; j++) {
		pk[j].data = pkt_data(j);
		pk[j].len = 60 + j;
	}
	r = eg_tx_burst(&p->q, pk, 64, &p->st);
	for (j = 0; j < 64; j++)
		ok &= pk[j].status == (j < 10 ? EG_TX_OK : EG_TX_PENDING);
	TAP_CHECK(r == 10 && ok && p->st.sent == 10 && p->st.backpressure == 1 && p->st.used == 10 &&
		  p->st.publishes == 1 && p->notifies == 1 && p->used->idx == 10,
		  "ring full after 10 of 64: returns 10, rest pending, one publish, one notify");
	r = eg_tx_burst(&p->q, pk + 10, 54, &p->st);
	TAP_CHECK(r == 0 && p->st.backpressure == 2 && p->st.publishes == 1 && p->notifies == 1,
		  "ring still full: returns 0, no publish, no notify");
	p->rx.next_seq = 0;
	for (j = 0; j < 16; j++)
		post1(p, 2048);	/* only 6 free: the driver posts what it has */
	consume(p, ~0u, 0);
	for (j = 0; j < 10; j++)
		post1(p, 2048);
	r = eg_tx_burst(&p->q, pk + 10, 90, &p->st);
	TAP_CHECK(r == 16 && p->st.sent == 26 && p->used->idx == 26 && p->st.backpressure == 3,
		  "more than 64 asked: at most 64 looked at; reposted buffers used in order");
	for (j = 0; j < 10; j++)
		post1(p, 2048);
	consume(p, ~0u, 0);
	for (j = 0; j < 16; j++)
		post1(p, 2048);
	r = eg_tx_burst(&p->q, pk + 26, 64, &p->st);
	TAP_CHECK(r == 16 && p->guard_errors == 0 && p->dup_errors == 0 &&
		  p->st.sent + p->st.err_pkt_len + p->st.err_too_small == 42,
		  "returned counts add up to sent + failed over calls");
	peer_free(p);
}

/* Back-pressure asks for a notification: avail_event = the avail index seen. */
static void test_notify_ask(void)
{
	struct peer *p = peer_new(16, F(VIRTIO_F_EVENT_IDX), 4096);
	struct peer *q = peer_new(16, 0, 4096);
	uint16_t *avail_event = (uint16_t *)&p->used->ring[p->qsize];
	uint16_t *q_avail_event = (uint16_t *)&q->used->ring[q->qsize];
	struct eg_tx_pkt pk[8];
	unsigned int r, j;

	for (j = 0; j < 8; j++) {
		pk[j].data = pkt_data(j);
		pk[j].len = 60;
	}
	for (j = 0; j < 3; j++) {
		post1(p, 2048);
		post1(q, 2048);
	}
	*avail_event = 0xffff;
	r = eg_tx_burst(&p->q, pk, 8, &p->st);
	TAP_CHECK(r == 3 && *avail_event == 3 && p->st.notify_asks == 1 && p->st.backpressure == 1,
		  "EVENT_IDX, ring full after 3: avail_event = 3 (the avail index seen), one ask (got %u, %u, %lu)",
		  r, *avail_event, (unsigned long)p->st.notify_asks);
	r = eg_tx_burst(&q->q, pk, 8, &q->st);
	TAP_CHECK(r == 3 && *q_avail_event == 0 && q->st.notify_asks == 0,
		  "no EVENT_IDX: avail_event left alone (the driver notifies on every post)");
	peer_free(p);
	peer_free(q);
}

static void test_pkt_len(void)
{
	struct peer *p = peer_new(16, 0, 4096);
	struct eg_tx_pkt pk[6] = {
		{ NULL, 100, 0 }, { P, 13, 0 }, { P, 65537, 0 }, { P, 0, 0 },
		{ P, 14, 0 }, { P, 60, 0 },
	};
	unsigned int r;

	post1(p, 2048);
	post1(p, 2048);
	r = eg_tx_burst(&p->q, pk, 6, &p->st);
	TAP_CHECK(r == 6 && p->st.err_pkt_len == 4 && p->st.sent == 2 &&
		  pk[0].status == EG_TX_E_PKT_LEN && pk[3].status == EG_TX_E_PKT_LEN &&
		  pk[4].status == EG_TX_OK && pk[5].status == EG_TX_OK && p->used->idx == 2 &&
		  p->used->ring[0].len == 12 + 14,
		  "bad packet lengths fail with err_pkt_len, the others go through, in order");
	peer_free(p);

	/* a buffer that could hold more than EG_TX_PKT_MAX */
	p = peer_new(4, 0, 70000);
	post1(p, 70000);
	post1(p, 70000);
	pk[0] = (struct eg_tx_pkt){ P, 65537, 0 };
	pk[1] = (struct eg_tx_pkt){ P, 65536, 0 };
	r = eg_tx_burst(&p->q, pk, 2, &p->st);
	TAP_CHECK(r == 2 && pk[0].status == EG_TX_E_PKT_LEN && pk[1].status == EG_TX_OK &&
		  p->used->idx == 1 && p->used->ring[0].len == 12 + 65536,
		  "65537 B fails even where a buffer could hold it; 65536 B goes");
	peer_free(p);
}

static void test_too_small(void)
{
	struct peer *p = peer_new(16, 0, 4096);
	struct eg_tx_pkt pk[3] = { { P, 1000, 0 }, { P, 60, 0 }, { P, 60, 0 } };
	uint32_t two[2] = { 40, 60 };
	unsigned int r;
	int h0, h1;

	h0 = post_chain(p, two, 2);
	h1 = post1(p, 100);
	r = eg_tx_burst(&p->q, pk, 3, &p->st);
	TAP_CHECK(r == 3 && pk[0].status == EG_TX_E_TOO_SMALL && pk[1].status == EG_TX_OK &&
		  pk[2].status == EG_TX_OK && p->st.err_too_small == 1 && p->st.sent == 2 &&
		  p->used->idx == 2 && p->used->ring[0].id == (uint32_t)h0 &&
		  p->used->ring[1].id == (uint32_t)h1 && p->st.chains_dropped == 0,
		  "no MRG_RXBUF, chain too small: packet fails (err_too_small), chain stays for the next");
	r = eg_tx_burst(&p->q, pk, 1, &p->st);
	TAP_CHECK(r == 0 && p->st.err_too_small == 1 && p->st.backpressure == 1,
		  "ring empty is back-pressure, not too-small");
	consume(p, ~0u, 0);
	TAP_CHECK(p->guard_errors == 0, "too small: guards intact");
	peer_free(p);

	p = peer_new(4, F(VIRTIO_NET_F_MRG_RXBUF), 64);
	for (int j = 0; j < 4; j++)
		post1(p, 16);
	r = send1(p, 100, pk);
	TAP_CHECK(r == 1 && pk[0].status == EG_TX_E_TOO_SMALL && p->st.err_too_small == 1 &&
		  p->used->idx == 0 && p->q.last_avail_idx == 0,
		  "MRG_RXBUF, whole ring too small: packet fails, nothing consumed");
	p->rx.next_seq = 0;
	pk[0].data = pkt_data(0);
	pk[0].len = 64 - 12;
	r = eg_tx_burst(&p->q, pk, 1, &p->st);
	TAP_CHECK(r == 1 && pk[0].status == EG_TX_OK && p->used->idx == 4 &&
		  p->win[p->pool_off + GUARD + 10] == 4,
		  "MRG_RXBUF: a packet that fits the whole ring spans 4 buffers, num_buffers 4");
	peer_free(p);
}

static void test_mrg(void)
{
	struct peer *p = peer_new(16, F(VIRTIO_NET_F_MRG_RXBUF), 4096);
	struct eg_tx_pkt pk;
	unsigned int r, n;

	/* back-pressure in the middle of a packet: rolled back */
	p->rx.next_seq = 5;	/* pkt_len(5) bytes of pkt_data(5) */
	post1(p, 1000);
	post1(p, 1000);
	pk.data = pkt_data(5);
	pk.len = 3000;
	r = eg_tx_burst(&p->q, &pk, 1, &p->st);
	TAP_CHECK(r == 0 && pk.status == EG_TX_PENDING && p->used->idx == 0 &&
		  p->q.last_avail_idx == 0 && p->q.used_idx == 0 && p->notifies == 0,
		  "MRG: ring runs out mid-packet: rolled back, nothing published, packet pending");
	post1(p, 1000);
	post1(p, 1000);
	r = eg_tx_burst(&p->q, &pk, 1, &p->st);
	TAP_CHECK(r == 1 && p->used->idx == 4 && p->used->ring[3].len == 12 &&
		  p->st.sent == 1 && p->notifies == 1,
		  "MRG: more buffers: the packet spans 4 of them");
	/* reassemble with the driver's checker (packet seq 5 has its own len) */
	p->rx.next_seq = 0;
	n = consume(p, ~0u, 0);
	TAP_CHECK(n == 4 && p->guard_errors == 0, "MRG: 4 used entries, guards intact");

	/* a bad chain in the middle: earlier buffers returned empty too */
	post1(p, 1000);
	{
		int h = p->free_list[p->nfree - 1];
		uint32_t l = 1000;

		post_chain(p, &l, 1);
		p->desc[h].flags = 0;	/* not WRITE */
		p->good[h] = 0;
	}
	post1(p, 4000);
	pk.len = 3000;
	r = eg_tx_burst(&p->q, &pk, 1, &p->st);
	TAP_CHECK(r == 1 && pk.status == EG_TX_OK && p->st.err_not_write == 1 &&
		  p->st.chains_dropped == 2 && p->used->idx == 7 &&
		  p->used->ring[4].len == 0 && p->used->ring[5].len == 0 && p->used->ring[6].len == 3012,
		  "MRG: bad chain mid-packet: it and the earlier buffer return len 0, packet in the next");
	consume(p, ~0u, 0);
	peer_free(p);

	/* header split over buffers; num_buffers lands in the 2nd and 3rd */
	p = peer_new(16, F(VIRTIO_NET_F_MRG_RXBUF), 4096);
	post1(p, 4);
	post1(p, 7);
	post1(p, 3);
	post1(p, 4000);
	pk.data = pkt_data(0);
	pk.len = pkt_len(0);
	r = eg_tx_burst(&p->q, &pk, 1, &p->st);
	consume(p, ~0u, 1);
	TAP_CHECK(r == 1 && p->rx.pkts == 1 && p->rx.errors == 0 && p->rx.num_buffers == 4 &&
		  p->guard_errors == 0,
		  "MRG: header split over 4-, 7-, 3-byte buffers, num_buffers 4 patched across them");
	peer_free(p);
}

/* The header and data of the packet starting at used element k. */
static int pkt_at(struct peer *p, unsigned int k, const uint8_t *data, uint32_t len,
		  unsigned int nbufs)
{
	static uint8_t buf[12 + EG_TX_PKT_MAX];
	uint32_t got = 0;

	for (unsigned int j = 0; j < nbufs; j++) {
		struct virtq_used_elem e = p->used->ring[(k + j) & (p->qsize - 1)];

		if (e.id >= p->qsize || got + e.len > sizeof(buf))
			return 0;
		memcpy(buf + got, slot_of(p, e.id) + GUARD, e.len);
		got += e.len;
	}
	for (unsigned int j = 0; j < 10; j++)
		if (buf[j])
			return 0;
	return got == 12 + len && buf[10] == (uint8_t)nbufs && buf[11] == (uint8_t)(nbufs >> 8) &&
	       !memcmp(buf + 12, data, len);
}

/*
 * Used elements are staged per burst (EG_TX_SHADOW, 256): more in one burst
 * go out early, in order; one mergeable packet takes at most 256 buffers.
 */
static void test_shadow(void)
{
	struct peer *p = peer_new(1024, F(VIRTIO_NET_F_MRG_RXBUF), 64);
	struct eg_tx_pkt pk[3];
	unsigned int r;
	int ok = 1;

	for (int j = 0; j < 1024; j++)
		post1(p, 64);
	for (int j = 0; j < 3; j++) {
		pk[j].data = P + 1000 * j;
		pk[j].len = 100 * 64 - 12;	/* 100 buffers each */
	}
	r = eg_tx_burst(&p->q, pk, 3, &p->st);
	for (int j = 0; j < 3; j++)
		ok &= pk[j].status == EG_TX_OK && pkt_at(p, 100 * j, P + 1000 * j, pk[j].len, 100);
	TAP_CHECK(r == 3 && ok && p->used->idx == 300 && p->st.used == 300 &&
		  p->st.publishes == 1 && p->st.sent == 3 && err_sum(&p->st) == 0,
		  "300 used elements in one burst (shadow 256): in order, intact, one publish");
	consume(p, ~0u, 0);
	TAP_CHECK(p->guard_errors == 0 && p->dup_errors == 0, "shadow: guards intact");
	peer_free(p);

	p = peer_new(1024, F(VIRTIO_NET_F_MRG_RXBUF), 64);
	for (int j = 0; j < 1024; j++)
		post1(p, 64);
	pk[0].data = P;
	pk[0].len = 300 * 64 - 12;
	/* the next two go into buffers that attempt wrote over */
	pk[1].data = P + 7;
	pk[1].len = 40;
	pk[2].data = P + 9;
	pk[2].len = 40;
	r = eg_tx_burst(&p->q, pk, 3, &p->st);
	TAP_CHECK(r == 3 && pk[0].status == EG_TX_E_TOO_SMALL && p->st.err_too_small == 1 &&
		  p->q.last_avail_idx == 2 && p->st.publishes == 1,
		  "MRG_RXBUF, a packet over more than 256 buffers: too small, nothing consumed");
	TAP_CHECK(pk[1].status == EG_TX_OK && pk[2].status == EG_TX_OK && p->used->idx == 2 &&
		  pkt_at(p, 0, P + 7, 40, 1) && pkt_at(p, 1, P + 9, 40, 1),
		  "after that attempt, the next packets in its buffers have their own headers");
	peer_free(p);

	/* 250 staged by tx_one, then 63 on the fast path in the same burst */
	{
		struct eg_tx_pkt pk64[64];

		p = peer_new(1024, F(VIRTIO_NET_F_MRG_RXBUF), 64);
		for (int j = 0; j < 1024; j++)
			post1(p, 64);
		pk64[0] = (struct eg_tx_pkt){ P, 250 * 64 - 12, 0 };
		for (int j = 1; j < 64; j++)
			pk64[j] = (struct eg_tx_pkt){ P + j, 40, 0 };
		r = eg_tx_burst(&p->q, pk64, 64, &p->st);
		ok = r == 64 && p->used->idx == 313 && pkt_at(p, 0, P, 250 * 64 - 12, 250);
		for (int j = 1; j < 64; j++)
			ok &= pk64[j].status == EG_TX_OK && pkt_at(p, 249 + j, P + j, 40, 1);
		TAP_CHECK(ok && p->st.sent == 64 && err_sum(&p->st) == 0,
			  "a 250-buffer packet, then 63 small ones in one burst: 313 elements in order");
		peer_free(p);
	}
}

/* avail->idx moved back behind entries a burst before knew of: they are not used. */
static void test_avail_idx_back(void)
{
	struct peer *p = peer_new(16, 0, 4096);
	struct eg_tx_pkt pk[4];
	unsigned int r;

	for (int j = 0; j < 4; j++) {
		post1(p, 2048);
		pk[j] = (struct eg_tx_pkt){ P, 60, 0 };
	}
	r = eg_tx_burst(&p->q, pk, 2, &p->st);	/* avail->idx 4 read */
	p->avail->idx = 2;
	r += eg_tx_burst(&p->q, pk, 4, &p->st);
	TAP_CHECK(r == 2 && p->used->idx == 2 && p->q.last_avail_idx == 2 &&
		  p->st.backpressure == 1 && pk[0].status == EG_TX_PENDING,
		  "avail idx moved back: the entries past it are not used, though seen posted");
	peer_free(p);
}

/*
 * A peer that rewrites its ring right after the device's reads, in the
 * middle of a burst.  The page holding the descriptors and the avail ring
 * is made inaccessible; each load from it faults (SIGSEGV), the handler
 * opens the page and single-steps the load (TF), and the trap after it
 * (SIGTRAP) closes the page again.  Loads of the watched avail slot and of
 * the watched descriptor's fields are counted; once the entry and all of
 * addr, len and flags have been read, the trap rewrites them all to point
 * at the burst's other buffer (a re-read would redirect the copy there).
 */
/* RFLAGS in the signal frame (glibc without _GNU_SOURCE: __gregs[17]) */
#define EFLAGS(uc)	((uc)->uc_mcontext.__gregs[17])
#define EFLAGS_TF	0x100

static struct {
	uint8_t *page;
	uintptr_t slot, desc;	/* the watched avail slot and descriptor */
	unsigned int n_slot, n_addr, n_len, n_flags, n_next, rewrites;
	uint16_t bad_head;
	uint64_t bad_addr;
	uintptr_t last;		/* the faulting address being stepped */
} ro;

static void ro_segv(int sig, siginfo_t *si, void *uc_)
{
	ucontext_t *uc = uc_;
	uintptr_t a = (uintptr_t)si->si_addr;

	(void)sig;
	if (a < (uintptr_t)ro.page || a >= (uintptr_t)ro.page + 4096)
		abort();
	ro.last = a;
	if (a >= ro.slot && a < ro.slot + 2)
		ro.n_slot++;
	else if (a >= ro.desc && a < ro.desc + 8)
		ro.n_addr++;
	else if (a >= ro.desc + 8 && a < ro.desc + 12)
		ro.n_len++;
	else if (a >= ro.desc + 12 && a < ro.desc + 14)
		ro.n_flags++;
	else if (a >= ro.desc + 14 && a < ro.desc + 16)
		ro.n_next++;
	mprotect(ro.page, 4096, PROT_READ | PROT_WRITE);
	EFLAGS(uc) |= EFLAGS_TF;	/* TF: trap after the load */
}

static void ro_trap(int sig, siginfo_t *si, void *uc_)
{
	ucontext_t *uc = uc_;
	struct virtq_desc *d = (struct virtq_desc *)ro.desc;

	(void)sig;
	(void)si;
	EFLAGS(uc) &= ~EFLAGS_TF;
	if (ro.n_slot && ro.n_addr && ro.n_len && ro.n_flags && !ro.rewrites) {
		*(uint16_t *)ro.slot = ro.bad_head;
		d->addr = ro.bad_addr;
		d->len = 4096;
		d->flags = VIRTQ_DESC_F_WRITE;
		ro.rewrites++;
	}
	mprotect(ro.page, 4096, PROT_NONE);
}

/*
 * The k-th (0 or 1) packet of a two-packet burst: its avail entry and
 * head descriptor are read once each, and what was read is what is used:
 * rewritten right after the reads, to name the other packet's buffer, the
 * packet still goes where they said when read.
 */
static void read_once_midburst(unsigned int k)
{
	struct peer *p = peer_new(16, 0, 4096);
	struct eg_tx_pkt pk[2] = { { P, 60, 0 }, { P + 60, 60, 0 } };
	struct sigaction old_segv, old_trap;
	int h[2], w, o;
	uint64_t aw;
	unsigned int r;

	h[0] = post1(p, 1000);
	h[1] = post1(p, 1000);
	w = h[k];
	o = h[!k];
	aw = p->desc[w].addr;
	memset(&ro, 0, sizeof(ro));
	ro.page = p->win;	/* descriptors and avail ring: the first page */
	ro.slot = (uintptr_t)&p->avail->ring[k];
	ro.desc = (uintptr_t)&p->desc[w];
	ro.bad_head = (uint16_t)o;
	ro.bad_addr = p->desc[o].addr;
	if ((uintptr_t)&p->avail->ring[p->qsize] >= (uintptr_t)p->win + 4096) {
		printf("Bail out! ring layout\n");
		exit(1);
	}
	catch_sig(SIGSEGV, ro_segv, &old_segv);
	catch_sig(SIGTRAP, ro_trap, &old_trap);
	mprotect(ro.page, 4096, PROT_NONE);
	r = eg_tx_burst(&p->q, pk, 2, &p->st);
	mprotect(ro.page, 4096, PROT_READ | PROT_WRITE);
	sigaction(SIGSEGV, &old_segv, NULL);
	sigaction(SIGTRAP, &old_trap, NULL);

	TAP_CHECK(r == 2 && ro.rewrites == 1 && ro.n_slot == 1 && ro.n_addr == 1 &&
		  ro.n_len == 1 && ro.n_flags == 1 && p->used->idx == 2 &&
		  p->used->ring[k].id == (uint32_t)w && p->used->ring[!k].id == (uint32_t)o &&
		  !memcmp(p->win + (aw - GPA_BASE) + 12, pk[k].data, 60) &&
		  !memcmp(p->win + (ro.bad_addr - GPA_BASE) + 12, pk[!k].data, 60) &&
		  err_sum(&p->st) == 0,
		  "packet %u of a burst, entry and descriptor rewritten right after their reads: "
		  "each read once (entry %u, addr %u, len %u, flags %u), the packet goes where they said",
		  k, ro.n_slot, ro.n_addr, ro.n_len, ro.n_flags);
	peer_free(p);
}

/*
 * One pass: an avail entry and its head descriptor are read when the
 * packet is sent, not ahead.  Rewritten between two bursts (after the
 * first burst's reads, before the second's), the packet goes where the
 * descriptor says when the second burst reads it.
 */
static void test_read_once(void)
{
	struct peer *p = peer_new(16, 0, 4096);
	struct eg_tx_pkt pk[2] = { { P, 60, 0 }, { P + 60, 60, 0 } };
	int h0, h1, h2;
	uint64_t a1;
	unsigned int r;

	h0 = post1(p, 1000);
	h1 = post1(p, 1000);
	h2 = p->free_list[p->nfree - 1];	/* not posted: its slot is spare */
	r = eg_tx_burst(&p->q, pk, 1, &p->st);
	a1 = p->desc[h1].addr;
	p->desc[h1].addr = gpa_of(p, slot_of(p, h2) + GUARD);
	r += eg_tx_burst(&p->q, pk + 1, 1, &p->st);
	TAP_CHECK(r == 2 && p->used->idx == 2 && p->used->ring[1].id == (uint32_t)h1 &&
		  !memcmp(slot_of(p, h2) + GUARD + 12, P + 60, 60) &&
		  p->win[a1 - GPA_BASE] == PAT &&
		  !memcmp(slot_of(p, h0) + GUARD + 12, P, 60) && err_sum(&p->st) == 0,
		  "descriptor rewritten before the burst that uses it: the packet goes where it says then");
	p->desc[h1].addr = a1;
	memset(slot_of(p, h2), PAT, p->slot);
	consume(p, ~0u, 0);
	TAP_CHECK(p->guard_errors == 0, "read at use: guards intact");
	peer_free(p);
	read_once_midburst(0);
}

static void test_notify(void)
{
	struct peer *p = peer_new(32, F(VIRTIO_F_EVENT_IDX), 4096);
	struct eg_tx_pkt pk[8];
	unsigned int j, a, b, c, d;

	for (j = 0; j < 32; j++)
		post1(p, 2048);
	for (j = 0; j < 8; j++) {
		pk[j].data = P;
		pk[j].len = 60;
	}
	*used_event(p) = 5;
	eg_tx_burst(&p->q, pk, 3, &p->st);
	a = p->notifies;		/* [0,3) */
	eg_tx_burst(&p->q, pk, 3, &p->st);
	b = p->notifies;		/* [3,6) holds 5 */
	eg_tx_burst(&p->q, pk, 3, &p->st);
	c = p->notifies;		/* [6,9) */
	*used_event(p) = 8;		/* already passed */
	eg_tx_burst(&p->q, pk, 1, &p->st);
	d = p->notifies;
	TAP_CHECK(a == 0 && b == 1 && c == 1 && d == 1,
		  "EVENT_IDX: notified only in the burst whose used range covers used_event");
	*used_event(p) = 10;
	eg_tx_burst(&p->q, pk, 8, &p->st);	/* [10,18) */
	TAP_CHECK(p->notifies == 2 && p->st.notifies == 2 && p->doorbell == 0x1234,
		  "EVENT_IDX: one doorbell for an 8-packet burst; doorbell value written");
	eg_tx_burst(&p->q, pk, 8, &p->st);
	TAP_CHECK(p->notifies == 2, "EVENT_IDX: used_event behind: no notification");
	peer_free(p);

	p = peer_new(32, 0, 4096);
	for (j = 0; j < 32; j++)
		post1(p, 2048);
	p->avail->flags = VIRTQ_AVAIL_F_NO_INTERRUPT;
	eg_tx_burst(&p->q, pk, 8, &p->st);
	a = p->notifies;
	p->avail->flags = 0;
	eg_tx_burst(&p->q, pk, 8, &p->st);
	b = p->notifies;
	*used_event(p) = 17;		/* ignored without EVENT_IDX */
	eg_tx_burst(&p->q, pk, 8, &p->st);
	c = p->notifies;
	eg_tx_burst(&p->q, pk, 8, &p->st);
	eg_tx_burst(&p->q, pk, 8, &p->st);	/* ring empty */
	d = p->notifies;
	TAP_CHECK(a == 0 && b == 1 && c == 2 && d == 3 && p->st.publishes == 4,
		  "no EVENT_IDX: NO_INTERRUPT honoured, else one notify per publishing burst");
	peer_free(p);
}

static void test_need_event(void)
{
	int bad = 0;

	for (unsigned int old = 0; old < 65536; old += 4093)
		for (unsigned int d = 0; d <= 300; d++)
			for (unsigned int e = 0; e < 600; e += 7) {
				uint16_t ev = (uint16_t)(old + e - 150), nw = (uint16_t)(old + d);
				int want = 0;

				for (unsigned int k = 0; k < d; k++)
					want |= (uint16_t)(old + k) == ev;
				bad += vring_need_event(ev, nw, (uint16_t)old) != want;
			}
	TAP_CHECK(bad == 0, "vring_need_event(E, new, old) == E in [old, new) mod 2^16");
}

static void test_init(void)
{
	struct peer *p = peer_new(16, 0, 4096);
	struct eg_txq q;
	struct eg_txq_cfg c;
	int r[13];

	peer_cfg(p, &c);
	r[0] = eg_txq_init(&q, &c);
#define TRY(i, field, val) do { struct eg_txq_cfg c2 = c; c2.field = val; r[i] = eg_txq_init(&q, &c2); } while (0)
	TRY(1, qsize, 12);
	TRY(2, qsize, 65536);
	TRY(3, qsize, 0);
	TRY(4, features, 0);
	TRY(5, features, F(VIRTIO_F_VERSION_1) | F(VIRTIO_F_ACCESS_PLATFORM));
	TRY(6, win_gpa, ~0ull - 4095);
	TRY(7, used_gpa, GPA_BASE + p->avail_off + 4);
	TRY(8, avail_gpa, GPA_BASE + p->avail_off + 1);
	TRY(9, desc_gpa, GPA_BASE + p->win_len - 64);
	TRY(10, win_len, 0);
	TRY(11, features, F(VIRTIO_F_VERSION_1) | F(VIRTIO_F_RING_PACKED));
	/* what Linux's virtio_net negotiates by default: indirect chains are per chain */
	TRY(12, features, F(VIRTIO_F_VERSION_1) | F(VIRTIO_F_INDIRECT_DESC) |
			  F(VIRTIO_F_EVENT_IDX) | F(VIRTIO_NET_F_MRG_RXBUF));
	TAP_CHECK(r[0] == 0 && r[1] == EG_TX_INIT_EQSIZE && r[2] == EG_TX_INIT_EQSIZE &&
		  r[3] == EG_TX_INIT_EQSIZE && r[4] == EG_TX_INIT_EFEATURE &&
		  r[5] == EG_TX_INIT_EFEATURE && r[6] == EG_TX_INIT_EWINDOW &&
		  r[7] == EG_TX_INIT_ERING && r[8] == EG_TX_INIT_ERING && r[9] == EG_TX_INIT_ERING &&
		  r[10] == EG_TX_INIT_EWINDOW && r[11] == EG_TX_INIT_EFEATURE &&
		  r[12] == EG_TX_INIT_OK,
		  "eg_txq_init rejects bad qsize, features, window, misplaced/overlapping ring; takes INDIRECT_DESC negotiated");
	peer_free(p);
}

/* A peer that rewrites its descriptors and avail ring while we send. */
struct race {
	struct peer *p;
	volatile int stop;
	volatile uint64_t writes;
};

static void *racer(void *arg)
{
	struct race *ra = arg;
	struct peer *p = ra->p;
	uint64_t x = 12345;

	while (!ra->stop) {
		unsigned int i;

		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		i = (unsigned int)(x % p->qsize);
		switch ((x >> 20) % 5) {
		case 0:
			__atomic_store_n(&p->desc[i].addr, GPA_BASE + (x >> 24) % (p->win_len + 8192) - 4096,
					 __ATOMIC_RELAXED);
			break;
		case 1:
			__atomic_store_n(&p->desc[i].len, (uint32_t)(x >> 32) % 9000, __ATOMIC_RELAXED);
			break;
		case 2:
			__atomic_store_n(&p->desc[i].flags, (uint16_t)((x >> 40) & 7), __ATOMIC_RELAXED);
			__atomic_store_n(&p->desc[i].next, (uint16_t)((x >> 44) % (p->qsize + 2)),
					 __ATOMIC_RELAXED);
			break;
		case 3:
			__atomic_store_n(&p->avail->ring[i], (uint16_t)((x >> 48) % (p->qsize + 2)),
					 __ATOMIC_RELAXED);
			break;
		default:
			/* mostly within qsize of the device, sometimes not */
			__atomic_store_n(&p->avail->idx,
					 (uint16_t)(*(volatile uint16_t *)&p->q.last_avail_idx +
						    (x >> 50) % (p->qsize + 4)), __ATOMIC_RELAXED);
		}
		ra->writes++;
	}
	return NULL;
}

static void test_race(void)
{
	struct peer *p = peer_new(64, F(VIRTIO_NET_F_MRG_RXBUF), 4096);
	struct race ra = { p, 0, 0 };
	struct eg_tx_pkt pk[32];
	pthread_t t;
	uint64_t ret = 0, bad = 0;

	for (int j = 0; j < 64; j++)
		post1(p, 4096);
	for (int j = 0; j < 32; j++) {
		pk[j].data = P;
		pk[j].len = 60 + (j * 37) % 200;
	}
	pthread_create(&t, NULL, racer, &ra);
	/* until both sides did a fair amount concurrently (bounded) */
	for (int it = 0; it < 20000 || ra.writes < 2000000 ||
			 p->st.sent + err_sum(&p->st) < 20000; it++) {
		if (it > 20000000)
			break;
		if (it % 1024 == 0)
			sched_yield();
		unsigned int r = eg_tx_burst(&p->q, pk, 1 + it % 32, &p->st);

		ret += r;
		for (unsigned int j = 0; j < r; j++)
			bad += pk[j].status == EG_TX_PENDING;
	}
	ra.stop = 1;
	pthread_join(t, NULL);
	TAP_CHECK(guards_ok(p) && bad == 0 &&
		  ret == p->st.sent + p->st.err_pkt_len + p->st.err_too_small,
		  "peer rewriting its ring concurrently: no write outside the window, counts add up "
		  "(%llu sent, %llu chain errors)", (unsigned long long)p->st.sent,
		  (unsigned long long)(err_sum(&p->st) - p->st.err_too_small));
	printf("#   avail_idx %llu head %llu next %llu loop %llu indirect %llu not_write %llu "
	       "zero_len %llu bounds %llu overlap %llu too_small %llu\n",
	       (unsigned long long)p->st.err_avail_idx, (unsigned long long)p->st.err_head,
	       (unsigned long long)p->st.err_next, (unsigned long long)p->st.err_loop,
	       (unsigned long long)p->st.err_indirect, (unsigned long long)p->st.err_not_write,
	       (unsigned long long)p->st.err_zero_len, (unsigned long long)p->st.err_bounds,
	       (unsigned long long)p->st.err_ring_overlap, (unsigned long long)p->st.err_too_small);
	peer_free(p);
}

/*
 * The descriptor budget (qsize per burst) counts the fast path's
 * descriptors too: a driver whose avail entries name descriptors of a
 * chain already walked in the burst runs it out, and the burst stops at
 * a loop error.
 */
static void test_budget(void)
{
	static const uint32_t lens[14] = { 26, 26, 26, 26, 26, 26, 26,
					   26, 26, 26, 26, 26, 26, 26 };
	struct peer *p = peer_new(16, 0, 4096);
	struct eg_tx_pkt pk[6];
	uint16_t id[14];
	unsigned int r, j;
	int h;

	h = post_chain(p, lens, 14);
	id[0] = (uint16_t)h;
	for (j = 1; j < 14; j++)
		id[j] = p->nxt[id[j - 1]];
	for (j = 1; j <= 5; j++)	/* the chain's own descriptors again */
		avail_push(p, id[j]);
	pk[0] = (struct eg_tx_pkt){ P, 14 * 26 - 12, 0 };	/* all 14 */
	for (j = 1; j < 6; j++)
		pk[j] = (struct eg_tx_pkt){ P + 100 * j, 14, 0 };
	r = eg_tx_burst(&p->q, pk, 6, &p->st);
	TAP_CHECK(r == 3 && pk[0].status == EG_TX_OK && pk[1].status == EG_TX_OK &&
		  pk[2].status == EG_TX_OK && pk[3].status == EG_TX_PENDING &&
		  p->st.sent == 3 && p->st.err_loop == 1 && p->st.chains_dropped == 1 &&
		  p->used->idx == 4 && p->used->ring[1].id == id[1] &&
		  p->used->ring[2].id == id[2] && p->used->ring[3].id == id[3] &&
		  p->used->ring[3].len == 0,
		  "14 descriptors walked, 2 on the fast path: the budget of 16 ends the burst");
	peer_free(p);
}

/* Payload bytes: fast packets, then one the fast path declines. */
static void test_bytes(void)
{
	static const uint32_t two[2] = { 2048, 2048 };
	struct peer *p = peer_new(16, 0, 4096);
	struct eg_tx_pkt pk[3] = { { P, 60, 0 }, { P + 60, 61, 0 }, { P, 3000, 0 } };
	unsigned int r;

	post1(p, 2048);
	post1(p, 2048);
	post_chain(p, two, 2);
	r = eg_tx_burst(&p->q, pk, 3, &p->st);
	TAP_CHECK(r == 3 && p->st.sent == 3 && p->st.bytes == 60 + 61 + 3000 &&
		  p->used->idx == 3 && p->used->ring[2].len == 12 + 3000,
		  "bytes: two fast packets and a chained one, 3121 in all");
	peer_free(p);
}

/* Every length the fast path's copy tells apart, 14..129 B, byte for byte. */
static void test_copy_sizes(void)
{
	struct peer *p = peer_new(128, 0, 2048);
	struct eg_tx_pkt pk[58];
	unsigned int r = 0, k;
	int ok = 1;

	for (k = 0; k < 116; k++)
		post1(p, 2048);
	for (k = 0; k < 116; k++) {
		pk[k % 58] = (struct eg_tx_pkt){ P + 3 * k, 14 + k, 0 };
		if (k % 58 == 57)
			r += eg_tx_burst(&p->q, pk, 58, &p->st);
	}
	for (k = 0; k < 116; k++)
		ok &= pkt_at(p, k, P + 3 * k, 14 + k, 1);
	TAP_CHECK(r == 116 && ok && p->used->idx == 116 && err_sum(&p->st) == 0,
		  "packets of 14..129 B: each intact after its header");
	consume(p, ~0u, 0);
	TAP_CHECK(p->guard_errors == 0, "packets of 14..129 B: guards intact");
	peer_free(p);
}

/* The same for the second entry of a burst. */
static void test_read_once_second(void)
{
	read_once_midburst(1);
}

/*
 * Entries withdrawn after a burst saw them posted (avail->idx 4 read by
 * the burst before) and reposted behind a bogus head: used in the driver's new
 * order, the bogus head counted.
 */
static void test_withdrawn(void)
{
	struct peer *p = peer_new(16, 0, 4096);
	struct eg_tx_pkt pk[2] = { { P, 60, 0 }, { P + 60, 60, 0 } };
	int h[4];
	unsigned int r, j;

	for (j = 0; j < 4; j++)
		h[j] = post1(p, 1000);
	r = eg_tx_burst(&p->q, pk, 2, &p->st);	/* avail->idx 4 read */
	p->avail->ring[2] = 16 + 9;
	p->avail->ring[3] = (uint16_t)h[2];
	p->avail->ring[4] = (uint16_t)h[3];
	p->avail->idx = 5;
	r += eg_tx_burst(&p->q, pk, 2, &p->st);
	TAP_CHECK(r == 4 && p->st.err_head == 1 && p->q.last_avail_idx == 5 &&
		  p->used->idx == 4 && p->used->ring[2].id == (uint32_t)h[2] &&
		  p->used->ring[3].id == (uint32_t)h[3] && p->st.chains_dropped == 0,
		  "entries withdrawn, reposted behind a bogus head: its order, err_head");
	peer_free(p);
}

int main(void)
{
	for (unsigned int i = 0; i < PLEN; i++)
		P[i] = (uint8_t)(rnd() >> 24);
	test_init();
	test_need_event();
	test_pkt_len();
	test_backpressure();
	test_notify_ask();
	test_too_small();
	test_mrg();
	test_shadow();
	test_read_once();
	test_read_once_second();
	test_withdrawn();
	test_budget();
	test_bytes();
	test_copy_sizes();
	test_avail_idx_back();
	test_notify();
	test_avail_idx();
	test_avail_idx_cached();
	test_avail_idx_midburst();
	test_window_edge();
	test_head_past_table();
	test_exact_fit();
	test_unchanged_hdr();
	test_unchanged_used();
	test_ring_gap();
	test_hostile();
	test_race();
	stress("no MRG_RXBUF, 64 KiB chains", CHAINS_64K, 0, 100000);
	stress("MRG_RXBUF + EVENT_IDX, 1-descriptor buffers", MRG_SINGLE,
	       F(VIRTIO_NET_F_MRG_RXBUF) | F(VIRTIO_F_EVENT_IDX), 100000);
	stress("MRG_RXBUF, chained buffers", MRG_CHAINS, F(VIRTIO_NET_F_MRG_RXBUF), 100000);
	stress("no MRG_RXBUF + EVENT_IDX, 64 KiB chains", CHAINS_64K, F(VIRTIO_F_EVENT_IDX), 20000);
	return tap_done();
}
