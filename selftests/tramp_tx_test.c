// SPDX-License-Identifier: GPL-2.0
/*
 * tramp_tx_test: the signed trampoline (guest/trampoline, build/guest/
 * tramp.bin) end to end: VM 1's guest calls it to copy packets into a
 * virtio-net RX split ring in VM 2's memory, which this process drives as
 * VM 2's virtio-net driver would (Documentation/trampoline.rst, 6).
 *
 * VM 2 (the peer): memslot 1 at PEER_GPA holds two rings, each with its RX
 * buffers, qsize 256, VERSION_1 | EVENT_IDX:
 *   ring A at PEER_GPA          without MRG_RXBUF: 128 chains of two
 *                               descriptors (2 KiB, then 64 KiB)
 *   ring B at PEER_GPA + 10 MiB with MRG_RXBUF: 256 buffers of 2 KiB
 * Each ring region: desc table (+0), avail ring with used_event (+4 KiB),
 * used ring with avail_event (+8 KiB), a guard page (+12 KiB), then the
 * buffers, each followed by guard bytes (GUARD) that must never change.
 * VM 2 has an in-kernel LAPIC and one vCPU (its own thread) that only takes
 * interrupts: the doorbell's eventfd (efd) is also VM 2's KVM_IRQFD, routed
 * as an MSI with PEER_DB_VECTOR, so the peer's guest gets an interrupt for
 * each doorbell with no exit on its side; it counts them, and reports the
 * count when the host sends it PEER_SYNC_VECTOR (KVM_SIGNAL_MSI).
 *
 * VM 1 (the sender, one vCPU), guest-physical:
 *   memslot 0     the test's code, stacks, page tables (RW, not X, in the views)
 *   CODE_GPA      KVM_MEM_READONLY: the payload of tramp_tx.signed, zero padded
 *   DATA_GPA      16 KiB of RAM: the default view's stand-in for the
 *                 private pages (the module maps its own in the views)
 *   MBX_GPA       the mailbox page (RAM, RW in the views)
 *   PKT_GPA       the packet area (RAM, RW in the views)
 *   WINDOW_GPA    no memslot; in view 1 a window onto ring A's region, in
 *                 view 2 onto ring B's
 *   DOORBELL_GPA  no memslot: a KVM_IOEVENTFD of length 0 (efd, VM 2's
 *                 irqfd)
 * and guest-virtual, from the trampoline's base T (T_GVA): T -> CODE_GPA,
 * T + 16 KiB -> DATA_GPA, T + MBX_OFF -> MBX_GPA, T + PKT_OFF -> PKT_GPA,
 * T + WIN_OFF -> WINDOW_GPA, T + DB_OFF -> DOORBELL_GPA.
 *
 * View 1 carries the trampoline for ring A, view 2 the one for ring B (the
 * same blob, each installed with its own struct eg_tramp_params).  The
 * guest loops: GUEST_SYNC, then what the host put in gcmd (normally cli;
 * r = T(view); sti), and reports r in the next GUEST_SYNC.
 *
 * EG_TX_PACKETS in the environment overrides the packet count of test 1.
 */
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "apic.h"
#include "eptgate_util.h"
#include "eg_tramp_abi.h"
#include "eg_tx.h"
#include "tramp_tx_syms.h"

/* ---- layout ------------------------------------------------------------------ */

#define T_GVA		0x50000000ULL
#define MBX_OFF		0x8000ULL
#define PKT_OFF		0x100000ULL
#define WIN_OFF		0x1000000ULL
#define DB_OFF		0x2000000ULL

#define CODE_GPA	0x10000000ULL
#define CODE_SLOT	1
#define DATA_GPA	(CODE_GPA + EPTGATE_TRAMPOLINE_CODE_MAX)
#define DATA_SLOT	2
#define MBX_GPA		0x11000000ULL
#define MBX_SLOT	3
#define PKT_GPA		0x12000000ULL
#define PKT_SLOT	4
/*
 * The packet area: EG_TR_BATCH_MAX slots of PAT_P + 64 KiB bytes, slot j
 * prefilled with pat[0 .. PAT_P + 64 KiB): packet seq of a batch goes to
 * slot j at offset seq % PAT_P, so only its first 12 bytes (sequence
 * number, length) are written per packet, and its payload byte p (>= 12)
 * is pat[seq % PAT_P + p] (pat: pseudo-random, period PAT_P, a prime).
 */
#define PAT_P		65521U
#define SLOT_LEN	(PAT_P + EG_TX_PKT_MAX)
#define PKT_LEN		(((EG_TR_BATCH_MAX * SLOT_LEN) + 4095) & ~4095ULL)
#define WINDOW_GPA	0x20000000ULL
#define WINDOW_MAX	(10 * 1024 * 1024ULL)
#define DOORBELL_GPA	0x30000000ULL

#define PEER_GPA	0x40000000ULL
#define PEER_SLOT	1
#define PEER_LEN	(12 * 1024 * 1024ULL)
#define RING_A_GPA	PEER_GPA
#define RING_A_LEN	WINDOW_MAX
#define RING_B_GPA	(PEER_GPA + WINDOW_MAX)
#define RING_B_LEN	(2 * 1024 * 1024ULL)

/*
 * VM 2's interrupts, both MSIs to its vCPU 0 (APIC ID 0, fixed, edge): the
 * doorbell (GSI PEER_GSI, efd's irqfd), and the host's barrier, of a lower
 * priority class so that a doorbell pending in the IRR is taken first.
 */
#define PEER_MSI_ADDR		(APIC_DEFAULT_GPA | (0 << 12))
#define PEER_DB_VECTOR		0xe0
#define PEER_SYNC_VECTOR	0x40
#define PEER_GSI		24
#define PEER_WAIT_MS		2000

#define QSIZE		256
#define DESC_OFF	0x0000
#define AVAIL_OFF	0x1000
#define USED_OFF	0x2000
#define BUF_OFF		0x4000
#define SMALL_LEN	2048
#define BIG_LEN		65536
#define BIG_STRIDE	0x11000		/* 64 KiB + a 4 KiB guard */
#define NOMRG_BIG_OFF	(BUF_OFF + (QSIZE / 2) * 0x1000)
#define GUARD		0xa5

#define F_VERSION_1	(1ULL << VIRTIO_F_VERSION_1)
#define F_EVENT_IDX	(1ULL << VIRTIO_F_EVENT_IDX)
#define F_MRG_RXBUF	(1ULL << VIRTIO_NET_F_MRG_RXBUF)

#define KEY_DESC	"eptgate-tramp-tx-selftest"
#define HDR		EG_TX_HDR_LEN

static_assert(NOMRG_BIG_OFF + (QSIZE / 2) * BIG_STRIDE <= RING_A_LEN, "ring A");
static_assert(BUF_OFF + QSIZE * 0x1000 <= RING_B_LEN, "ring B");
static_assert(RING_B_GPA + RING_B_LEN <= PEER_GPA + PEER_LEN, "peer slot");
static_assert(sizeof(struct eg_tramp_mailbox) <= 4096, "mailbox");
static_assert(sizeof(struct eg_tx_stats) <= sizeof(((struct eg_tramp_mailbox *)0)->stats), "stats");

/* ---- guest ------------------------------------------------------------------- */

enum { OP_CALL = 1, OP_CALL_IRQS_ON, OP_CALL_AT, OP_VMFUNC_WRITE, OP_DONE };

struct gcmd {
	uint64_t op, view, arg0, arg1, arg2;
};

static volatile struct gcmd gcmd;

static void guest_code(void)
{
	long r = 0;

	for (;;) {
		GUEST_SYNC_ARGS(1, r, 0, 0, 0);
		switch (gcmd.op) {
		case OP_CALL: {
			long (*fn)(uint32_t) = (void *)T_GVA;

			asm volatile("cli" ::: "memory");
			r = fn(gcmd.view);
			asm volatile("sti" ::: "memory");
			break;
		}
		case OP_CALL_IRQS_ON: {
			long (*fn)(uint32_t) = (void *)T_GVA;

			asm volatile("sti" ::: "memory");
			r = fn(gcmd.view);
			break;
		}
		case OP_CALL_AT: {
			/* into the middle of the blob, in view 0 */
			long (*fn)(uint64_t, uint64_t) = (void *)(T_GVA + gcmd.arg0);

			asm volatile("cli" ::: "memory");
			r = fn(gcmd.arg1, gcmd.arg2);
			asm volatile("sti" ::: "memory");
			break;
		}
		case OP_VMFUNC_WRITE:
			/* VMFUNC from ordinary code, then a write to the window */
			vmfunc_eptp(gcmd.view);
			guest_write64(T_GVA + WIN_OFF + gcmd.arg0, gcmd.arg1);
			r = 0;
			break;
		default:
			GUEST_DONE();
		}
	}
}

/*
 * VM 2's guest: x2APIC on, then only interrupts.  It counts the doorbell's
 * (no exit), and answers each barrier with GUEST_SYNC(2, doorbell
 * interrupts, barriers), or GUEST_DONE once the host set peer_stop.
 */
static volatile uint64_t peer_db_irqs, peer_syncs, peer_stop;

static void peer_db_handler(struct ex_regs *regs __attribute__((unused)))
{
	peer_db_irqs++;
	x2apic_write_reg(APIC_EOI, 0);
}

static void peer_sync_handler(struct ex_regs *regs __attribute__((unused)))
{
	x2apic_write_reg(APIC_EOI, 0);
	if (peer_stop)
		GUEST_DONE();
	peer_syncs++;
	GUEST_SYNC_ARGS(2, peer_db_irqs, peer_syncs, 0, 0);
}

static void peer_guest_code(void)
{
	x2apic_enable();
	GUEST_SYNC_ARGS(2, peer_db_irqs, peer_syncs, 0, 0);
	for (;;)
		asm volatile("sti; hlt" ::: "memory");
}

/* ---- host: the peer's driver ---------------------------------------------------- */

struct drv {
	const char *name;
	uint32_t view;
	bool mrg;
	uint64_t gpa, len;	/* region in VM 2 == the window */
	uint8_t *hva;
	struct virtq_desc *desc;
	struct virtq_avail *avail;
	struct virtq_used *used;
	uint16_t avail_idx;	/* next avail entry the driver writes */
	uint16_t last_used;	/* next used entry the driver reads */
	/* posted entries in avail order (0xffff: a bogus head) */
	uint16_t fifo[65536];
	uint16_t fifo_head, fifo_tail;
	bool posted[QSIZE];
	uint16_t free[QSIZE];
	unsigned int nfree;
	int used_event_delay;	/* -1: do not touch used_event */
	uint64_t next_seq;	/* next packet expected */
	uint64_t delivered, bytes, used_elems, dropped;
	struct eg_tx_stats st;	/* the mailbox's counters after the last call */
	uint64_t rung;		/* doorbells of the last call (view stats) */
	struct eg_tramp_params prm;
};

static struct kvm_vm *vm, *peer;
static struct kvm_vcpu *vcpu, *peer_vcpu;
static int bfd, pbfd, efd;
static struct eg_tramp_mailbox *mbx;
static uint8_t *pkt_hva, *data_hva;
static struct drv drv_a, drv_b;
static uint8_t *pat;		/* the packets' byte pattern */
static uint8_t *expect_buf;	/* one expected packet */

static uint64_t splitmix(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ULL;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

/* Packets [force_lo, force_hi) have the lengths a test chooses. */
static uint64_t force_lo = UINT64_MAX, force_hi;
static uint32_t (*force_fn)(uint64_t seq);

/* Packet length of sequence number @seq: mostly small, up to 64 KiB. */
static uint32_t seq_len(uint64_t seq)
{
	uint64_t h = splitmix(seq), h2 = splitmix(h);
	unsigned int r = h % 1000;

	if (seq >= force_lo && seq < force_hi)
		return force_fn(seq);

	if (r < 700)
		return 60 + h2 % 69;
	if (r < 900)
		return 129 + h2 % (1514 - 129 + 1);
	if (r < 995)
		return 1515 + h2 % (9000 - 1515 + 1);
	return 9001 + h2 % (65536 - 9001 + 1);
}

/* The bytes of packet @seq (length @len): seq, len, then the pattern. */
static void make_packet(uint8_t *dst, uint64_t seq, uint32_t len)
{
	memcpy(dst, &seq, 8);
	memcpy(dst + 8, &len, 4);
	memcpy(dst + 12, pat + seq % PAT_P + 12, len - 12);
}

static uint16_t buf_len(const struct drv *d, uint16_t id)
{
	return d->mrg || !(id & 1) ? SMALL_LEN : 0;	/* 0 means BIG_LEN */
}

static uint64_t buf_off(const struct drv *d, uint16_t id)
{
	if (d->mrg)
		return BUF_OFF + (uint64_t)id * 0x1000;
	return id & 1 ? NOMRG_BIG_OFF + (uint64_t)(id / 2) * BIG_STRIDE :
			BUF_OFF + (uint64_t)(id / 2) * 0x1000;
}

static uint32_t buf_size(const struct drv *d, uint16_t id)
{
	return buf_len(d, id) ? buf_len(d, id) : BIG_LEN;
}

/* The driver's own descriptor for @id (restores a tampered one). */
static void drv_set_desc(struct drv *d, uint16_t id)
{
	struct virtq_desc *e = &d->desc[id];

	e->addr = d->gpa + buf_off(d, id);
	e->len = buf_size(d, id);
	if (d->mrg || (id & 1)) {
		e->flags = VIRTQ_DESC_F_WRITE;
		e->next = 0;
	} else {
		e->flags = VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT;
		e->next = id + 1;
	}
}

static uint16_t *used_event(struct drv *d)
{
	return &d->avail->ring[QSIZE];
}

static void drv_publish(struct drv *d)
{
	__atomic_thread_fence(__ATOMIC_RELEASE);
	*(volatile uint16_t *)&d->avail->idx = d->avail_idx;
}

/* Post head @id (or a bogus head value); drv_publish() makes it visible. */
static void drv_post_raw(struct drv *d, uint16_t id)
{
	d->avail->ring[d->avail_idx & (QSIZE - 1)] = id;
	d->avail_idx++;
	d->fifo[d->fifo_tail++] = id;
	if (id < QSIZE) {
		TEST_ASSERT(!d->posted[id], "%s: driver bug: head %u posted twice",
			    d->name, id);
		d->posted[id] = true;
	}
}

static void drv_post_free(struct drv *d, unsigned int max)
{
	while (d->nfree && max--)
		drv_post_raw(d, d->free[--d->nfree]);
	drv_publish(d);
}

static void drv_init(struct drv *d, const char *name, uint32_t view, bool mrg,
		     uint64_t gpa, uint64_t len)
{
	unsigned int i;

	memset(d, 0, sizeof(*d));
	d->name = name;
	d->view = view;
	d->mrg = mrg;
	d->gpa = gpa;
	d->len = len;
	d->hva = addr_gpa2hva(peer, gpa);
	memset(d->hva, GUARD, len);
	memset(d->hva, 0, BUF_OFF - 0x1000);
	d->desc = (void *)(d->hva + DESC_OFF);
	d->avail = (void *)(d->hva + AVAIL_OFF);
	d->used = (void *)(d->hva + USED_OFF);
	for (i = 0; i < QSIZE; i++)
		drv_set_desc(d, i);
	for (i = QSIZE; i > 0; i--)
		if (mrg || !((i - 1) & 1))
			d->free[d->nfree++] = i - 1;
	/* free[] is a stack: post in ascending order */
	drv_post_free(d, QSIZE);
	d->used_event_delay = 0;
	*used_event(d) = 0;

	d->prm = (struct eg_tramp_params){
		.version = EG_TR_ABI_VERSION,
		.qsize = QSIZE,
		.mailbox_off = MBX_OFF,
		.pkt_off = PKT_OFF,
		.pkt_len = PKT_LEN,
		.window_off = WIN_OFF,
		.doorbell_off = DB_OFF,
		.win_gpa = gpa,
		.win_len = len,
		.desc_gpa = gpa + DESC_OFF,
		.avail_gpa = gpa + AVAIL_OFF,
		.used_gpa = gpa + USED_OFF,
		.features = F_VERSION_1 | F_EVENT_IDX | (mrg ? F_MRG_RXBUF : 0),
	};
}

static uint16_t used_idx(struct drv *d)
{
	return *(volatile uint16_t *)&d->used->idx;
}

/* The next used element; checks it is the head the driver posted next. */
static struct virtq_used_elem drv_pop_used(struct drv *d)
{
	struct virtq_used_elem e = d->used->ring[d->last_used & (QSIZE - 1)];

	d->last_used++;
	d->used_elems++;
	TEST_ASSERT(e.id < QSIZE && d->posted[e.id],
		    "%s: used element %u has id %u, which the driver has not posted",
		    d->name, (uint16_t)(d->last_used - 1), e.id);
	/* bogus heads in the avail ring are consumed without a used element */
	while (d->fifo_head != d->fifo_tail && d->fifo[d->fifo_head] >= QSIZE)
		d->fifo_head++;
	TEST_ASSERT(d->fifo[d->fifo_head] == e.id,
		    "%s: used element %u has id %u, expected %u (chains out of order)",
		    d->name, (uint16_t)(d->last_used - 1), e.id,
		    d->fifo[d->fifo_head]);
	d->fifo_head++;
	d->posted[e.id] = false;
	return e;
}

static void check_hdr(struct drv *d, const uint8_t *h, uint16_t *nb)
{
	static const uint8_t zero[HDR];

	TEST_ASSERT(!memcmp(h, zero, VIRTIO_NET_HDR_V1_NUM_BUFFERS),
		    "%s: packet %lu: virtio_net_hdr_v1 not zeroed (flags 0x%x gso_type %u)",
		    d->name, d->next_seq, h[0], h[1]);
	*nb = h[10] | h[11] << 8;
}

/* The bytes of a received packet, in place: at most one piece per buffer. */
struct piece {
	const uint8_t *p;
	uint32_t n;
};

/* @n bytes at @src are payload bytes [@off, @off + @n) of packet @seq? */
static bool piece_ok(const uint8_t *src, uint32_t n, uint32_t off, uint64_t seq,
		     uint32_t len)
{
	uint8_t head[12];

	memcpy(head, &seq, 8);
	memcpy(head + 8, &len, 4);
	for (; n && off < 12; src++, off++, n--)
		if (*src != head[off])
			return false;
	return !memcmp(src, pat + seq % PAT_P + off, n);
}

/* Checks a received packet given as @np pieces (header first). */
static void check_packet(struct drv *d, const struct piece *pc, unsigned int np,
			 uint32_t total)
{
	uint32_t plen = total - HDR, elen, off, i, j;
	uint64_t seq;

	TEST_ASSERT(pc[0].n >= HDR + 12, "%s: first buffer of packet %lu holds %u bytes",
		    d->name, d->next_seq, pc[0].n);
	memcpy(&seq, pc[0].p + HDR, 8);
	TEST_ASSERT(seq == d->next_seq,
		    "%s: received packet with sequence number %lu (%u bytes), expected %lu%s",
		    d->name, seq, plen, d->next_seq,
		    seq < d->next_seq ? ": delivered twice" : ": packets lost");
	elen = seq_len(seq);
	TEST_ASSERT(plen == elen, "%s: packet %lu is %u bytes, expected %u",
		    d->name, seq, plen, elen);
	off = 0;
	for (i = 0; i < np; i++) {
		uint32_t skip = i ? 0 : HDR;

		if (!piece_ok(pc[i].p + skip, pc[i].n - skip, off, seq, elen)) {
			make_packet(expect_buf, seq, elen);
			for (j = 0; j < pc[i].n - skip &&
			     pc[i].p[skip + j] == expect_buf[off + j]; j++)
				;
			TEST_FAIL("%s: packet %lu (%u bytes) corrupt at byte %u (buffer %u of %u): 0x%02x, expected 0x%02x",
				  d->name, seq, elen, off + j, i + 1, np,
				  pc[i].p[skip + j], expect_buf[off + j]);
		}
		off += pc[i].n - skip;
	}
	d->next_seq++;
	d->delivered++;
	d->bytes += elen;
}

/*
 * Consume the used ring: every packet must be the next in sequence, intact,
 * with a clean header.  Buffers go back to the ring (@repost) or to the free
 * list.  Returns the number of packets.
 */
static unsigned int drv_consume(struct drv *d, bool repost)
{
	uint16_t end = used_idx(d);
	struct piece pc[QSIZE];
	unsigned int n = 0;

	__atomic_thread_fence(__ATOMIC_ACQUIRE);
	TEST_ASSERT((uint16_t)(end - d->last_used) <= QSIZE,
		    "%s: used->idx %u is %u ahead of the driver's %u",
		    d->name, end, (uint16_t)(end - d->last_used), d->last_used);
	while (d->last_used != end) {
		struct virtq_used_elem e = drv_pop_used(d);
		unsigned int np = 0, i;
		uint32_t got;
		uint16_t nb;

		if (!e.len) {	/* a chain the device gave back (bad, dropped) */
			d->dropped++;
			d->free[d->nfree++] = e.id;
			continue;
		}
		TEST_ASSERT(e.len > HDR + 12 && e.len <= HDR + EG_TX_PKT_MAX,
			    "%s: used element %u: len %u", d->name,
			    (uint16_t)(d->last_used - 1), e.len);
		got = e.len;
		d->free[d->nfree++] = e.id;
		if (!d->mrg) {
			TEST_ASSERT(e.len <= SMALL_LEN + BIG_LEN,
				    "%s: used len %u > the chain's %u", d->name,
				    e.len, SMALL_LEN + BIG_LEN);
			pc[np++] = (struct piece){ d->hva + buf_off(d, e.id),
						   e.len < SMALL_LEN ? e.len : SMALL_LEN };
			if (e.len > SMALL_LEN)
				pc[np++] = (struct piece){ d->hva + buf_off(d, e.id + 1),
							   e.len - SMALL_LEN };
			check_hdr(d, pc[0].p, &nb);
			TEST_ASSERT(nb == 1, "%s: packet %lu: num_buffers %u without MRG_RXBUF",
				    d->name, d->next_seq, nb);
		} else {
			TEST_ASSERT(e.len <= SMALL_LEN, "%s: used len %u > buffer %u",
				    d->name, e.len, SMALL_LEN);
			pc[np++] = (struct piece){ d->hva + buf_off(d, e.id), e.len };
			check_hdr(d, pc[0].p, &nb);
			TEST_ASSERT(nb >= 1 && (uint16_t)(end - d->last_used) >= nb - 1,
				    "%s: packet %lu: num_buffers %u, %u used elements left",
				    d->name, d->next_seq, nb,
				    (uint16_t)(end - d->last_used));
			for (i = 1; i < nb; i++) {
				e = drv_pop_used(d);
				TEST_ASSERT(e.len && e.len <= SMALL_LEN &&
					    got + e.len <= HDR + EG_TX_PKT_MAX,
					    "%s: packet %lu: buffer %u of %u has len %u",
					    d->name, d->next_seq, i + 1, nb, e.len);
				pc[np++] = (struct piece){ d->hva + buf_off(d, e.id), e.len };
				got += e.len;
				d->free[d->nfree++] = e.id;
			}
		}
		check_packet(d, pc, np, got);
		n++;
	}
	if (repost)
		drv_post_free(d, QSIZE);
	if (d->used_event_delay >= 0)
		*(volatile uint16_t *)used_event(d) = d->last_used + d->used_event_delay;
	return n;
}

/* ---- host: the sender ---------------------------------------------------------- */

struct mmio_ctx {
	bool allow;		/* window accesses expected (view 0) */
	struct drv *d;		/* reads are served from its memory */
	int fake_avail_idx;	/* >= 0: what a read of avail->idx returns */
	uint64_t reads, writes;
	uint64_t first_write;
};

static struct mmio_ctx mmio;

static void mmio_exit(void)
{
	struct kvm_run *run = vcpu->run;
	uint64_t a = run->mmio.phys_addr, len = run->mmio.len;

	TEST_ASSERT(mmio.allow && mmio.d && a >= WINDOW_GPA &&
		    a + len <= WINDOW_GPA + mmio.d->len,
		    "unexpected KVM_EXIT_MMIO: %s of %lu bytes at gpa 0x%lx",
		    run->mmio.is_write ? "write" : "read", len, a);
	if (run->mmio.is_write) {
		if (!mmio.writes++)
			mmio.first_write = a;
	} else {
		mmio.reads++;
		memcpy(run->mmio.data, mmio.d->hva + (a - WINDOW_GPA), len);
		if (mmio.fake_avail_idx >= 0 && len == 2 &&
		    a == WINDOW_GPA + AVAIL_OFF + 2) {
			uint16_t v = mmio.fake_avail_idx;

			memcpy(run->mmio.data, &v, 2);
		}
	}
}

static void report_guest_assert(struct ucall *uc)
{
	TEST_FAIL("guest: %s at %s:%ld", (const char *)uc->args[GUEST_ERROR_STRING],
		  (const char *)uc->args[GUEST_FILE], uc->args[GUEST_LINE]);
}

/* Run the guest through one command; returns what it reports. */
static long guest_op(uint64_t op, uint64_t view, uint64_t a0, uint64_t a1,
		     uint64_t a2)
{
	volatile struct gcmd *c = addr_gva2hva(vm, (vm_vaddr_t)&gcmd);
	struct ucall uc;
	uint64_t cmd;

	c->op = op;
	c->view = view;
	c->arg0 = a0;
	c->arg1 = a1;
	c->arg2 = a2;
	for (;;) {
		vcpu_run(vcpu);
		if (vcpu->run->exit_reason == KVM_EXIT_MMIO) {
			mmio_exit();
			continue;
		}
		TEST_ASSERT(vcpu->run->exit_reason == KVM_EXIT_IO,
			    "op %lu: exit reason %u (%s), expected the guest's ucall",
			    op, vcpu->run->exit_reason,
			    exit_reason_str(vcpu->run->exit_reason));
		cmd = get_ucall(vcpu, &uc);
		if (cmd == UCALL_ABORT)
			report_guest_assert(&uc);
		if (cmd == UCALL_DONE)
			return 0;
		TEST_ASSERT(cmd == UCALL_SYNC && uc.args[1] == 1,
			    "op %lu: ucall %lu, expected GUEST_SYNC(1)", op, cmd);
		return (long)uc.args[2];
	}
}

static uint64_t drain_efd(void)
{
	uint64_t v = 0;

	if (read(efd, &v, sizeof(v)) != sizeof(v)) {
		TEST_ASSERT(errno == EAGAIN, "read(eventfd): errno %d", errno);
		return 0;
	}
	return v;
}

/* ---- host: VM 2's vCPU ------------------------------------------------------------ */

static pthread_t peer_thread;
static sem_t peer_sem;			/* posted at each GUEST_SYNC of VM 2 */
static uint64_t peer_seen_irqs, peer_seen_syncs;	/* what it reported */
static uint64_t peer_sent_syncs;	/* barriers sent */
static uint64_t peer_want;		/* doorbells rung so far */
static uint64_t peer_late;		/* interrupts not yet taken at a barrier */
static double peer_secs;		/* spent in peer_check() */

static void *peer_run(void *arg __attribute__((unused)))
{
	struct ucall uc;
	uint64_t cmd;

	for (;;) {
		vcpu_run(peer_vcpu);
		TEST_ASSERT(peer_vcpu->run->exit_reason == KVM_EXIT_IO,
			    "VM 2: exit reason %u (%s), expected the guest's ucall",
			    peer_vcpu->run->exit_reason,
			    exit_reason_str(peer_vcpu->run->exit_reason));
		cmd = get_ucall(peer_vcpu, &uc);
		if (cmd == UCALL_ABORT)
			report_guest_assert(&uc);
		if (cmd == UCALL_DONE)
			return NULL;
		TEST_ASSERT(cmd == UCALL_SYNC && uc.args[1] == 2,
			    "VM 2: ucall %lu, expected GUEST_SYNC(2)", cmd);
		peer_seen_irqs = uc.args[2];
		peer_seen_syncs = uc.args[3];
		sem_post(&peer_sem);
	}
}

/* The next GUEST_SYNC of VM 2, within PEER_WAIT_MS. */
static void peer_wait_sync(const char *what)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += PEER_WAIT_MS / 1000;
	while (sem_timedwait(&peer_sem, &ts))
		TEST_ASSERT(errno == EINTR,
			    "VM 2's vCPU did not answer %s in %u ms (errno %d)",
			    what, PEER_WAIT_MS, errno);
}

static void peer_signal(uint32_t vector)
{
	struct kvm_msi msi = {
		.address_lo = PEER_MSI_ADDR,
		.data = vector,
	};
	int r = __vm_ioctl(peer, KVM_SIGNAL_MSI, &msi);

	TEST_ASSERT(r == 1, "KVM_SIGNAL_MSI vector 0x%x to VM 2: %d (errno %d), expected 1 (delivered)",
		    vector, r, errno);
}

/*
 * The doorbell interrupts VM 2's guest has taken so far, every one whose
 * MSI was in its IRR when the barrier's was sent included (higher
 * priority).  KVM's irqfd normally injects from the eventfd's wakeup, i.e.
 * before the doorbell's exit returns to VM 1.
 */
static uint64_t peer_barrier(void)
{
	peer_signal(PEER_SYNC_VECTOR);
	peer_sent_syncs++;
	peer_wait_sync("the barrier interrupt");
	TEST_ASSERT(peer_seen_syncs == peer_sent_syncs,
		    "VM 2 answered barrier %lu, expected %lu", peer_seen_syncs,
		    peer_sent_syncs);
	return peer_seen_irqs;
}

/*
 * @rung more doorbells since the last check: VM 2's guest must have taken
 * exactly one interrupt for each, and no other.  An expected one that has
 * not arrived yet (irqfd injection deferred to a work item) is waited for,
 * up to PEER_WAIT_MS.  Checked after every call, so that no two can
 * coalesce in the IRR.
 */
__attribute__((format(printf, 2, 3)))
static void peer_check(uint64_t rung, const char *fmt, ...)
{
	uint64_t want = peer_want + rung, got;
	struct timespec t0, t;
	char what[256];
	va_list ap;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		got = peer_barrier();
		clock_gettime(CLOCK_MONOTONIC, &t);
		if (got >= want)
			break;
		peer_late++;
		if ((t.tv_sec - t0.tv_sec) * 1000 +
		    (t.tv_nsec - t0.tv_nsec) / 1000000 > PEER_WAIT_MS)
			break;
		usleep(1000);
	}
	peer_secs += (t.tv_sec - t0.tv_sec) + (t.tv_nsec - t0.tv_nsec) / 1e9;
	if (got != want) {
		va_start(ap, fmt);
		vsnprintf(what, sizeof(what), fmt, ap);
		va_end(ap);
	}
	TEST_ASSERT(got <= want,
		    "%s: VM 2's guest took %lu doorbell interrupt(s), expected %lu (the doorbells rung); %lu in all, expected %lu",
		    what, got - peer_want, rung, got, want);
	TEST_ASSERT(got >= want,
		    "%s: VM 2's guest took %lu doorbell interrupt(s) in %u ms, expected %lu (the doorbells rung); %lu in all, expected %lu",
		    what, got - peer_want, PEER_WAIT_MS, rung, got, want);
	peer_want = want;
}

static void peer_start(void)
{
	TEST_ASSERT(!sem_init(&peer_sem, 0, 0), "sem_init: errno %d", errno);
	TEST_ASSERT(!pthread_create(&peer_thread, NULL, peer_run, NULL),
		    "pthread_create");
	/* its APIC is on: MSIs to it are no longer dropped */
	peer_wait_sync("with its first GUEST_SYNC");
	TEST_ASSERT(peer_seen_irqs == 0 && peer_seen_syncs == 0,
		    "VM 2's first GUEST_SYNC: %lu interrupts, %lu barriers",
		    peer_seen_irqs, peer_seen_syncs);
}

/* The guest leaves with GUEST_DONE from its next barrier interrupt. */
static void peer_stop_vcpu(void)
{
	struct timespec ts;
	int r;

	*(volatile uint64_t *)addr_gva2hva(peer, (vm_vaddr_t)&peer_stop) = 1;
	peer_signal(PEER_SYNC_VECTOR);
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += PEER_WAIT_MS / 1000;
	r = pthread_timedjoin_np(peer_thread, NULL, &ts);
	TEST_ASSERT(!r, "VM 2's vCPU thread did not stop: %d", r);
	sem_destroy(&peer_sem);
}

/* A batch in the mailbox and the packet area. */
struct batch {
	unsigned int n;
	uint64_t seq0;
	uint64_t bytes;
};

static uint64_t head_off[EG_TR_BATCH_MAX];	/* heads written in the area */
static unsigned int nheads;

static void prefill_area(void)
{
	unsigned int j;

	for (j = 0; j < EG_TR_BATCH_MAX; j++)
		memcpy(pkt_hva + (uint64_t)j * SLOT_LEN, pat, SLOT_LEN);
	nheads = 0;
}

/* Packets seq0.. (at most @max), in the mailbox and the packet area. */
static void put_batch(struct batch *b, uint64_t seq0, unsigned int max)
{
	unsigned int i;

	/* the previous heads back to the pattern */
	for (i = 0; i < nheads; i++)
		memcpy(pkt_hva + head_off[i],
		       pat + head_off[i] % SLOT_LEN, 12);
	b->n = 0;
	b->seq0 = seq0;
	b->bytes = 0;
	for (i = 0; i < max && i < EG_TR_BATCH_MAX; i++) {
		uint64_t seq = seq0 + i, off = (uint64_t)i * SLOT_LEN + seq % PAT_P;
		uint32_t len = seq_len(seq);

		memcpy(pkt_hva + off, &seq, 8);
		memcpy(pkt_hva + off + 8, &len, 4);
		head_off[i] = off;
		mbx->pkt[i].off = off;
		mbx->pkt[i].len = len;
		b->bytes += len;
		b->n++;
	}
	nheads = b->n;
	mbx->count = b->n;
	memset(mbx->status, 0x5a, sizeof(mbx->status));
}

/*
 * The same, each packet written in full at a fixed place (slot j + 64):
 * with fixed lengths, every batch touches the same pages.  Call
 * prefill_area() before put_batch() again.
 */
static void put_batch_fixed(struct batch *b, uint64_t seq0, unsigned int max)
{
	unsigned int i;

	put_batch(b, seq0, max);
	for (i = 0; i < b->n; i++) {
		mbx->pkt[i].off = (uint64_t)i * SLOT_LEN + 64;
		make_packet(pkt_hva + mbx->pkt[i].off, seq0 + i, mbx->pkt[i].len);
	}
	nheads = 0;
}

static struct eg_tx_stats read_stats(void)
{
	struct eg_tx_stats s;

	memcpy(&s, mbx->stats, sizeof(s));
	return s;
}

#define D(f)	(now.f - d->st.f)

static uint64_t view_doorbells(uint32_t view)
{
	return eptgate_view_stats(bfd, view).doorbells;
}

/*
 * Call the trampoline of @d's view on the batch in the mailbox; check the
 * result, the statuses and the counters against it, and that VM 2's guest
 * took one interrupt per doorbell (d->rung).  Returns the count.
 */
static unsigned int call_batch(struct drv *d, const struct batch *b)
{
	uint64_t db0 = view_doorbells(d->view);
	struct eg_tx_stats now;
	long r = guest_op(OP_CALL, d->view, 0, 0, 0);
	unsigned int i;

	d->rung = view_doorbells(d->view) - db0;
	TEST_ASSERT(r >= 0 && r <= b->n,
		    "%s: the trampoline returned %ld for a batch of %u (packets %lu..)",
		    d->name, r, b->n, b->seq0);
	for (i = 0; i < b->n; i++) {
		uint32_t want = i < r ? EG_TX_OK : EG_TX_PENDING;

		TEST_ASSERT(mbx->status[i] == want,
			    "%s: batch of %u returned %ld: status[%u] (packet %lu, %u bytes) is 0x%x, expected 0x%x",
			    d->name, b->n, r, i, b->seq0 + i, mbx->pkt[i].len,
			    mbx->status[i], want);
	}
	now = read_stats();
	TEST_ASSERT(D(sent) + D(err_pkt_len) + D(err_too_small) == (uint64_t)r &&
		    D(err_pkt_len) == 0 && D(err_too_small) == 0,
		    "%s: returned %ld but sent +%lu err_pkt_len +%lu err_too_small +%lu",
		    d->name, r, D(sent), D(err_pkt_len), D(err_too_small));
	TEST_ASSERT(D(bursts) == 1, "%s: bursts +%lu for one call", d->name, D(bursts));
	TEST_ASSERT(D(backpressure) == (r < b->n),
		    "%s: returned %ld of %u, backpressure +%lu", d->name, r,
		    b->n, D(backpressure));
	TEST_ASSERT(D(publishes) <= 1 && D(notifies) <= 1,
		    "%s: publishes +%lu notifies +%lu in one call", d->name,
		    D(publishes), D(notifies));
	peer_check(d->rung, "%s: a call on packets %lu.. (returned %ld, notifies +%lu)",
		   d->name, b->seq0, r, D(notifies));
	d->st = now;
	return r;
}

/* ---- test 1: 100 000 packets ------------------------------------------------- */

static void stream(struct drv *d, uint64_t npkts, bool check_kicks)
{
	uint64_t sent = 0, calls = 0, partial = 0, kicks = 0, db0, bytes = 0;
	struct eg_tx_stats st0 = d->st;
	uint64_t seq_base = d->next_seq, used0 = d->used_elems, irq0 = peer_seen_irqs;
	unsigned int stuck = 0;
	struct timespec t0, t1, ta, tb;
	double t_guest = 0, t_peer = peer_secs;
	struct batch b;

	db0 = view_doorbells(d->view);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (sent < npkts) {
		uint64_t h = splitmix(~(seq_base + sent));
		unsigned int want = h % 4 ? 64 : 1 + (h >> 8) % 64, r;
		uint16_t old = used_idx(d), uev = *used_event(d);

		if (want > npkts - sent)
			want = npkts - sent;
		put_batch(&b, seq_base + sent, want);
		clock_gettime(CLOCK_MONOTONIC, &ta);
		r = call_batch(d, &b);
		clock_gettime(CLOCK_MONOTONIC, &tb);
		t_guest += (tb.tv_sec - ta.tv_sec) + (tb.tv_nsec - ta.tv_nsec) / 1e9;
		calls++;
		if (r < b.n)
			partial++;
		/* call_batch(): VM 2's guest took d->rung interrupts */
		if (check_kicks) {
			bool need = vring_need_event(uev, used_idx(d), old);

			TEST_ASSERT(d->rung == need,
				    "%s: call %lu moved used->idx %u -> %u with used_event %u: %lu doorbells (VM 2 interrupts), expected %u",
				    d->name, calls, old, used_idx(d), uev, d->rung,
				    need);
		}
		kicks += d->rung;
		drv_consume(d, true);
		TEST_ASSERT(d->next_seq == seq_base + sent + r,
			    "%s: %u returned, but the driver received up to %lu, expected %lu",
			    d->name, r, d->next_seq, seq_base + sent + r);
		sent += r;
		bytes += (r == b.n) ? b.bytes : 0;
		if (r != b.n) {
			unsigned int i;

			for (i = 0; i < r; i++)
				bytes += mbx->pkt[i].len;
		}
		stuck = r ? 0 : stuck + 1;
		TEST_ASSERT(stuck < 3, "%s: three calls in a row sent nothing with every buffer posted",
			    d->name);
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	t_peer = peer_secs - t_peer;
	t_guest -= t_peer;	/* call_batch() waited for VM 2's interrupts */
	TEST_ASSERT(d->st.sent - st0.sent == npkts && d->st.bytes - st0.bytes == bytes,
		    "%s: counters sent +%lu bytes +%lu, expected %lu packets, %lu bytes",
		    d->name, d->st.sent - st0.sent, d->st.bytes - st0.bytes, npkts, bytes);
	TEST_ASSERT(d->st.used - st0.used == d->used_elems - used0,
		    "%s: counter used +%lu, the driver consumed %lu used elements",
		    d->name, d->st.used - st0.used, d->used_elems - used0);
	TEST_ASSERT(d->st.bursts - st0.bursts == calls,
		    "%s: bursts +%lu for %lu calls", d->name,
		    d->st.bursts - st0.bursts, calls);
	TEST_ASSERT(d->st.notifies - st0.notifies == kicks &&
		    view_doorbells(d->view) - db0 == kicks &&
		    peer_seen_irqs - irq0 == kicks,
		    "%s: notifies +%lu, view doorbells +%lu, VM 2 interrupts +%lu, summed per call %lu",
		    d->name, d->st.notifies - st0.notifies,
		    view_doorbells(d->view) - db0, peer_seen_irqs - irq0, kicks);
	TEST_ASSERT(d->st.err_avail_idx + d->st.err_head + d->st.err_next +
		    d->st.err_loop + d->st.err_indirect + d->st.err_not_write +
		    d->st.err_zero_len + d->st.err_bounds + d->st.err_ring_overlap ==
		    st0.err_avail_idx + st0.err_head + st0.err_next + st0.err_loop +
		    st0.err_indirect + st0.err_not_write + st0.err_zero_len +
		    st0.err_bounds + st0.err_ring_overlap,
		    "%s: peer error counters moved with a well-behaved driver", d->name);
	ksft_print_msg("%s: %lu packets, %lu bytes in %lu calls (%lu partial), %lu doorbells = VM 2 interrupts, %.1f s (%.1f s in the guest, %.1f s checking VM 2's interrupts)\n",
		       d->name, npkts, bytes, calls, partial, kicks,
		       (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9,
		       t_guest, t_peer);
}

static uint8_t guard_page[4096];

static void check_guard(struct drv *d, uint64_t s, uint64_t e, const char *what,
			int id)
{
	uint64_t i;

	if (!memcmp(d->hva + s, guard_page, e - s))
		return;
	for (i = s; i < e && d->hva[i] == GUARD; i++)
		;
	TEST_FAIL("%s: guard byte at peer gpa 0x%lx (%s %d) written: 0x%02x",
		  d->name, d->gpa + i, what, id, d->hva[i]);
}

/*
 * The guard page between the rings and the buffers, and the guard bytes
 * after every buffer: GUARD, never written.
 */
static void check_guards(struct drv *d)
{
	unsigned int id;

	check_guard(d, BUF_OFF - 0x1000, BUF_OFF, "guard page", 0);
	for (id = 0; id < QSIZE; id++) {
		uint64_t s = buf_off(d, id) + buf_size(d, id);
		uint64_t e = d->mrg || !(id & 1) ? s + 0x1000 - SMALL_LEN : s + 0x1000;

		check_guard(d, s, e, "after buffer", id);
	}
}

/* ---- the snapshot of VM 2's memory -------------------------------------------- */

static uint8_t *snap;

static void take_snapshot(struct drv *d)
{
	memcpy(snap, d->hva, d->len);
}

struct ival {
	uint64_t s, e;
};

static int ival_cmp(const void *a, const void *b)
{
	const struct ival *x = a, *y = b;

	return x->s < y->s ? -1 : x->s > y->s;
}

/*
 * Nothing changed since take_snapshot() but, if @posted (the driver's
 * posted[] at the time), the used ring and the buffers of the chains
 * posted then.
 */
static void check_snapshot(struct drv *d, const bool *posted, const char *what)
{
	struct ival iv[QSIZE + 2];
	unsigned int n = 0, id, k;
	uint64_t o = 0, i;

	if (posted) {
		iv[n++] = (struct ival){ USED_OFF, USED_OFF + VIRTQ_USED_BYTES(QSIZE) };
		for (id = 0; id < QSIZE; id++)
			if (posted[id] || (!d->mrg && (id & 1) && posted[id - 1]))
				iv[n++] = (struct ival){ buf_off(d, id),
							 buf_off(d, id) + buf_size(d, id) };
	}
	qsort(iv, n, sizeof(iv[0]), ival_cmp);
	iv[n++] = (struct ival){ d->len, d->len };
	for (k = 0; k < n; k++) {
		if (iv[k].s > o && memcmp(d->hva + o, snap + o, iv[k].s - o)) {
			for (i = o; d->hva[i] == snap[i]; i++)
				;
			TEST_FAIL("%s: %s: VM 2's byte at peer gpa 0x%lx changed 0x%02x -> 0x%02x (%s)",
				  d->name, what, d->gpa + i, snap[i], d->hva[i],
				  posted ? "outside the posted buffers and the used ring" :
				  "nothing may change");
		}
		if (iv[k].e > o)
			o = iv[k].e;
	}
}

/* ---- setup ----------------------------------------------------------------------- */


/* The payload of a blob signed by scripts/sign-file. */
static size_t payload_len(const uint8_t *blob, size_t len)
{
	static const char magic[] = "~Module signature appended~\n";
	const size_t mlen = sizeof(magic) - 1;
	uint32_t sig_len;

	TEST_ASSERT(len > mlen + 12 && !memcmp(blob + len - mlen, magic, mlen),
		    "tramp_tx.signed is not signed");
	memcpy(&sig_len, blob + len - mlen - 4, 4);
	sig_len = __builtin_bswap32(sig_len);
	TEST_ASSERT(sig_len < len - mlen - 12, "tramp_tx.signed: signature length %u",
		    sig_len);
	return len - mlen - 12 - sig_len;
}

static void map_gva(uint64_t off, uint64_t gpa, uint64_t len)
{
	uint64_t i;

	for (i = 0; i < len; i += 4096)
		virt_pg_map(vm, T_GVA + off + i, gpa + i);
}

static void setup_view(struct drv *d, const void *blob, size_t blob_len)
{
	struct eptgate_trampoline t = {
		.view = d->view,
		.blob = (uintptr_t)blob,
		.blob_len = blob_len,
		.code_gpa = CODE_GPA,
		.data_gpa = DATA_GPA,
		.param = (uintptr_t)&d->prm,
		.param_len = sizeof(d->prm),
		.doorbell_gpa = DOORBELL_GPA,
	};
	uint32_t v = eptgate_create_view(bfd);

	TEST_ASSERT(v == d->view, "created view %u, expected %u", v, d->view);
	/* the guest's RAM: read+write, never execute */
	eptgate_set_access_slot(bfd, vm, v, 0, EPTGATE_RW);
	eptgate_set_access_slot(bfd, vm, v, MBX_SLOT, EPTGATE_RW);
	eptgate_set_access_slot(bfd, vm, v, PKT_SLOT, EPTGATE_RW);
	eptgate_map_window(bfd, v, WINDOW_GPA, d->len, EPTGATE_RW, pbfd, d->gpa);
	eptgate_install_trampoline(bfd, &t);
}

/* ---- tests ------------------------------------------------------------------------ */

static void test_stream(uint64_t npkts)
{
	stream(&drv_a, npkts, true);
	check_guards(&drv_a);
	stream(&drv_b, npkts, true);
	check_guards(&drv_b);
	ksft_test_result_pass("%lu packets (60 B .. 64 KiB) each delivered once, in order, intact: ring A (2-descriptor chains) and ring B (MRG_RXBUF); returns, counters, doorbells add up, one interrupt in VM 2 per doorbell\n",
			      npkts);
}

/* Ring full: the driver stops reposting. */
/*
 * Send batches of 64 until one comes back short: every posted buffer is
 * used, and the device has read avail->idx (it does when the entries it
 * knows of run out).  The driver takes what arrives without reposting.
 * *seq: the next packet to send; returns the calls made, *got the packets.
 */
static unsigned int fill_ring(struct drv *d, uint64_t *seq, unsigned int *got)
{
	unsigned int r, calls = 0;
	struct batch b;

	do {
		put_batch(&b, *seq, 64);
		r = call_batch(d, &b);
		calls++;
		*got += drv_consume(d, false);
		*seq += r;
		TEST_ASSERT(calls < 64, "%s: the ring never filled up", d->name);
	} while (r == b.n);
	TEST_ASSERT(d->nfree > 0, "%s: nothing consumed", d->name);
	return calls;
}

static void ring_full(struct drv *d)
{
	unsigned int r, calls, got = 0;
	uint64_t seq = d->next_seq, bp0 = d->st.backpressure;
	struct batch b;

	drv_consume(d, true);
	calls = fill_ring(d, &seq, &got);
	/* full: another call sends nothing and leaves every packet pending */
	put_batch(&b, seq, 64);
	r = call_batch(d, &b);
	TEST_ASSERT(r == 0 || d->mrg,
		    "%s: with no buffer posted, the trampoline sent %u", d->name, r);
	seq += r;
	got += drv_consume(d, false);
	TEST_ASSERT(d->st.backpressure - bp0 >= 2,
		    "%s: backpressure +%lu over a full ring", d->name,
		    d->st.backpressure - bp0);
	TEST_ASSERT(d->next_seq == seq,
		    "%s: driver got up to %lu, the returns add up to %lu", d->name,
		    d->next_seq, seq);
	/* the driver resumes: the rest go through, nothing lost or repeated */
	drv_post_free(d, QSIZE);
	stream(d, 3 * 64, false);
	ksft_print_msg("%s: ring full after %u calls, %u packets; backpressure +%lu; resumed\n",
		       d->name, calls, got, d->st.backpressure - bp0);
}

static void test_ring_full(void)
{
	ring_full(&drv_a);
	ring_full(&drv_b);
	ksft_test_result_pass("ring full: fewer than the batch returned, the rest PENDING, backpressure counted, nothing lost or duplicated on resume\n");
}

/*
 * EVENT_IDX: the doorbell rings, and VM 2's guest takes an interrupt through
 * its irqfd, only when used_event asks.
 */
static void test_notify(void)
{
	static const int delays[] = { 0, 5, 63, 64, 100, 300, 1000, 40, 0 };
	struct drv *d = &drv_a;
	uint64_t fired = 0, calls = 0;
	unsigned int i, j;
	struct batch b;

	drv_consume(d, true);
	for (i = 0; i < sizeof(delays) / sizeof(delays[0]); i++) {
		d->used_event_delay = delays[i];
		*used_event(d) = d->last_used + delays[i];
		for (j = 0; j < 4; j++) {
			uint64_t db0 = view_doorbells(d->view), n0 = d->st.notifies;
			uint64_t irq0 = peer_seen_irqs, k;
			uint16_t old = used_idx(d), uev = *used_event(d);
			bool need;

			put_batch(&b, d->next_seq, 16 + 16 * j);
			/* waits for VM 2's interrupts, checks there is one per doorbell */
			call_batch(d, &b);
			need = vring_need_event(uev, used_idx(d), old);
			k = peer_seen_irqs - irq0;
			TEST_ASSERT(k == need && view_doorbells(d->view) - db0 == need &&
				    d->st.notifies - n0 == need,
				    "used->idx %u -> %u, used_event %u: VM 2 interrupts +%lu, view doorbells +%lu, notifies +%lu, expected %u",
				    old, used_idx(d), uev, k,
				    view_doorbells(d->view) - db0,
				    d->st.notifies - n0, need);
			fired += k;
			calls++;
			/* the driver keeps used_event where it was put */
			d->used_event_delay = -1;
			drv_consume(d, true);
		}
		d->used_event_delay = 0;
	}
	TEST_ASSERT(fired > 0 && fired < calls, "%lu doorbells in %lu calls", fired, calls);
	ksft_test_result_pass("EVENT_IDX: the peer's irqfd fired (an interrupt in VM 2's guest) exactly when used_event asked (%lu of %lu calls), view doorbells agree\n",
			      fired, calls);
}

/* A KVM statistic of the vCPU (binary stats interface). */
static int vstats_fd = -1;	/* holds the VM: closed before kvm_vm_free() */

static uint64_t vcpu_stat(const char *name)
{
	static struct kvm_stats_header h;
	static struct kvm_stats_desc *descs;
	int fd = vstats_fd;
	struct kvm_stats_desc *s;
	uint64_t v;
	unsigned int i;

	if (fd < 0) {
		fd = vstats_fd = vcpu_get_stats_fd(vcpu);
		read_stats_header(fd, &h);
		descs = read_stats_descriptors(fd, &h);
	}
	for (i = 0; i < h.num_desc; i++) {
		s = get_stats_descriptor(descs, i, &h);
		if (strcmp(s->name, name))
			continue;
		read_stat_data(fd, &h, s, &v, 1);
		return v;
	}
	TEST_FAIL("no vCPU statistic %s", name);
	return 0;
}

/*
 * No exit per batch but the doorbell.  A host interrupt that lands while the
 * vCPU is in the view is an exit too (the emulated CPU's timer ticks every
 * few milliseconds): every exit in the view beyond the doorbells must be
 * one of KVM's irq_exits of the same interval, and the view must take no
 * EPT violation (lazy fill, fallback) once warm.
 */
static uint32_t len_fixed(uint64_t seq)
{
	unsigned int j = (seq - force_lo) % EG_TR_BATCH_MAX;

	return j == EG_TR_BATCH_MAX - 1 ? 9000 : 60 + (j * 331) % 1455;
}

static void test_exits(void)
{
	struct drv *d = &drv_a;
	unsigned int i, exact = 0, rounds = 16;
	uint64_t extra = 0;
	struct batch b;

	drv_consume(d, true);
	force_lo = d->next_seq;
	force_hi = force_lo + (rounds + 2) * EG_TR_BATCH_MAX;
	force_fn = len_fixed;
	for (i = 0; i < rounds + 2; i++) {
		struct eptgate_vcpu_stats c0, c1;
		struct eptgate_view_stats v0, v1;
		uint64_t db, ex, irq0, irq, p0 = peer_seen_irqs;
		bool kick = i & 1;

		d->used_event_delay = kick ? 0 : 30000;
		*used_event(d) = d->last_used + d->used_event_delay;
		/* the same packet layout every time: the same pages */
		put_batch_fixed(&b, d->next_seq, 64);
		v0 = eptgate_view_stats(bfd, d->view);
		irq0 = vcpu_stat("irq_exits");
		c0 = eptgate_vcpu_stats(bfd, 0);
		call_batch(d, &b);
		c1 = eptgate_vcpu_stats(bfd, 0);
		irq = vcpu_stat("irq_exits") - irq0;
		v1 = eptgate_view_stats(bfd, d->view);
		db = v1.doorbells - v0.doorbells;
		ex = c1.exits_alt - c0.exits_alt;
		drv_consume(d, true);
		TEST_ASSERT(db == kick && peer_seen_irqs - p0 == kick,
			    "round %u: %lu doorbells, %lu VM 2 interrupts, expected %u",
			    i, db, peer_seen_irqs - p0, kick);
		TEST_ASSERT(c1.view == 0, "round %u: the GUEST_SYNC exit was in view %u",
			    i, c1.view);
		if (i < 2)	/* warm-up: lazy fills */
			continue;
		TEST_ASSERT(v1.ept_violations == v0.ept_violations &&
			    v1.lazy_fills == v0.lazy_fills &&
			    v1.fallbacks == v0.fallbacks,
			    "round %u: in the view: %llu EPT violations, %llu lazy fills, %llu fallbacks after the warm-up",
			    i, v1.ept_violations - v0.ept_violations,
			    v1.lazy_fills - v0.lazy_fills, v1.fallbacks - v0.fallbacks);
		TEST_ASSERT(ex >= db && ex - db <= irq,
			    "round %u: %lu exits in the view for %lu doorbells, and %lu host interrupts",
			    i, ex, db, irq);
		if (ex == db)
			exact++;
		else
			extra += ex - db;
	}
	d->used_event_delay = 0;
	prefill_area();
	TEST_ASSERT(exact > 0, "no batch without an interrupt exit in %u", rounds);
	ksft_test_result_pass("a batch of 64 takes no VM exit in the view but its doorbell (%u of %u batches exact, %lu exits for host interrupts)\n",
			      exact, rounds, extra);
}

/* A hostile guest. */
static void test_hostile_guest(void)
{
	struct drv *d = &drv_a;
	struct eptgate_view_stats v0, v1;
	struct eg_tramp_private_view {
		uint64_t canary;
		uint8_t pad0[EPTGATE_TRAMPOLINE_PARAM_OFF - 8];
		struct eg_tramp_params params;
	} *fake = (void *)data_hva;
	struct batch b;
	long r;

	drv_consume(d, true);
	check_guards(d);

	/* a: wild mailboxes */
	take_snapshot(d);
	put_batch(&b, d->next_seq, 8);
	mbx->count = EG_TR_BATCH_MAX + 1;
	r = guest_op(OP_CALL, d->view, 0, 0, 0);
	TEST_ASSERT(r == EG_TR_E_BATCH, "count %u: returned %ld, expected EG_TR_E_BATCH",
		    EG_TR_BATCH_MAX + 1, r);
	mbx->count = 0xffffffff;
	r = guest_op(OP_CALL, d->view, 0, 0, 0);
	TEST_ASSERT(r == EG_TR_E_BATCH, "count 0xffffffff: returned %ld", r);
	put_batch(&b, d->next_seq, 8);
	mbx->pkt[5].off = PKT_LEN + 1;
	r = guest_op(OP_CALL, d->view, 0, 0, 0);
	TEST_ASSERT(r == EG_TR_E_BATCH, "packet 5 at offset pkt_len + 1: returned %ld", r);
	put_batch(&b, d->next_seq, 8);
	mbx->pkt[7].off = PKT_LEN - 100;
	mbx->pkt[7].len = 101;
	r = guest_op(OP_CALL, d->view, 0, 0, 0);
	TEST_ASSERT(r == EG_TR_E_BATCH, "packet 7 one byte past the packet area: returned %ld", r);
	put_batch(&b, d->next_seq, 8);
	mbx->pkt[0].off = 0xffffffff;
	mbx->pkt[0].len = 0xffffffff;
	r = guest_op(OP_CALL, d->view, 0, 0, 0);
	TEST_ASSERT(r == EG_TR_E_BATCH, "packet 0 at 0xffffffff: returned %ld", r);
	check_snapshot(d, NULL, "wild mailbox");
	TEST_ASSERT(drv_consume(d, true) == 0, "wild mailbox: packets delivered");

	/* b: interrupts enabled */
	put_batch(&b, d->next_seq, 8);
	r = guest_op(OP_CALL_IRQS_ON, d->view, 0, 0, 0);
	TEST_ASSERT(r == EG_TR_E_IRQS_ON, "called with RFLAGS.IF set: returned %ld, expected EG_TR_E_IRQS_ON",
		    r);
	check_snapshot(d, NULL, "call with interrupts on");

	/* c: the instruction after gate 1, in view 0: not in the view */
	r = guest_op(OP_CALL_AT, 0, TRAMP_GATE1_END, 0, 0);
	TEST_ASSERT(r == EG_TR_E_NOT_IN_VIEW,
		    "a call to T + %llu (after gate 1) in view 0 returned %ld, expected EG_TR_E_NOT_IN_VIEW",
		    TRAMP_GATE1_END, r);
	check_snapshot(d, NULL, "call after gate 1 in view 0");
	peer_check(0, "hostile guest: the failed calls");

	/*
	 * d: eg_tramp_main() called directly in view 0, with made-up private
	 * pages (the guest's own DATA_GPA) holding valid parameters: it runs
	 * the read-only copy; the window is no memory in view 0, so every
	 * access exits (reads served from VM 2's memory here, writes dropped).
	 */
	memset(data_hva, 0, EPTGATE_TRAMPOLINE_DATA_LEN);
	fake->canary = EPTGATE_TRAMPOLINE_CANARY(d->view);
	fake->params = d->prm;
	put_batch(&b, d->next_seq, 2);
	mbx->pkt[0].len = mbx->pkt[1].len = 60;
	memset(&mmio, 0, sizeof(mmio));
	mmio.allow = true;
	mmio.d = d;
	/* a fresh txq starts at avail index 0: two entries to take */
	mmio.fake_avail_idx = 2;
	v0 = eptgate_view_stats(bfd, d->view);
	r = guest_op(OP_CALL_AT, 0, TRAMP_SYM_EG_TRAMP_MAIN, T_GVA + EG_TR_DATA_OFF,
		     T_GVA);
	mmio.allow = false;
	TEST_ASSERT(mmio.writes > 0,
		    "eg_tramp_main() in view 0 returned %ld without writing to the window (%lu reads)",
		    r, mmio.reads);
	check_snapshot(d, NULL, "eg_tramp_main() called in view 0");
	/*
	 * The made-up canary must go: gate 2 would find it in view 0 and
	 * leave again, forever (a guest can hang itself that way).
	 */
	memset(data_hva, 0, EPTGATE_TRAMPOLINE_DATA_LEN);
	/*
	 * Its doorbell write, if any, went straight to the ioeventfd (view 0):
	 * the mailbox holds the made-up private pages' counters, from zero.
	 */
	peer_check(read_stats().notifies,
		   "eg_tramp_main() in view 0 (its notifies: %lu)",
		   read_stats().notifies);
	ksft_print_msg("eg_tramp_main() in view 0: returned %ld; %lu window reads, %lu window writes exited (first at 0x%lx), VM 2 unchanged but for %lu interrupt(s)\n",
		       r, mmio.reads, mmio.writes, mmio.first_write,
		       read_stats().notifies);

	/* e: VMFUNC from the guest's own code, then a write to the window */
	memset(&mmio, 0, sizeof(mmio));
	mmio.allow = true;
	mmio.d = d;
	mmio.fake_avail_idx = -1;
	r = guest_op(OP_VMFUNC_WRITE, d->view, BUF_OFF, 0x4141414141414141ULL, 0);
	mmio.allow = false;
	v1 = eptgate_view_stats(bfd, d->view);
	TEST_ASSERT(mmio.writes == 1 && mmio.first_write == WINDOW_GPA + BUF_OFF,
		    "VMFUNC(1) then a write to the window: %lu MMIO writes (first at 0x%lx), expected one at 0x%llx",
		    mmio.writes, mmio.first_write, WINDOW_GPA + BUF_OFF);
	TEST_ASSERT(v1.fallbacks > v0.fallbacks,
		    "VMFUNC(1) from code that is not executable in view 1: fallbacks %lu -> %lu",
		    (uint64_t)v0.fallbacks, (uint64_t)v1.fallbacks);
	check_snapshot(d, NULL, "VMFUNC + write from guest code");
	peer_check(0, "VMFUNC + write from guest code");

	/* and the trampoline still works */
	put_batch(&b, d->next_seq, 8);
	TEST_ASSERT(call_batch(d, &b) == b.n, "a good batch after the hostile calls");
	TEST_ASSERT(drv_consume(d, true) == b.n, "a good batch after the hostile calls: not delivered");
	check_guards(d);
	ksft_test_result_pass("hostile guest: wild mailbox -> EG_TR_E_BATCH, IF set -> EG_TR_E_IRQS_ON, jumps into the blob in view 0 and VMFUNC + window write from guest code reach nothing of VM 2\n");
}

/* A hostile peer: one bad chain of each kind, then good buffers. */
enum bad { BAD_BOUNDS, BAD_NOT_WRITE, BAD_ZERO_LEN, BAD_LOOP, BAD_AVAIL_IDX,
	   BAD_HEAD, BAD_NEXT, BAD_INDIRECT, BAD_OVERLAP, BAD_NR };

static const char *const bad_name[BAD_NR] = {
	"out-of-window address", "no WRITE flag", "zero length", "a loop",
	"avail idx running ahead", "head index >= qsize", "next >= qsize",
	"INDIRECT", "buffer on the ring",
};

static uint64_t bad_counter(const struct eg_tx_stats *s, enum bad k)
{
	switch (k) {
	case BAD_BOUNDS:	return s->err_bounds;
	case BAD_NOT_WRITE:	return s->err_not_write;
	case BAD_ZERO_LEN:	return s->err_zero_len;
	case BAD_LOOP:		return s->err_loop;
	case BAD_AVAIL_IDX:	return s->err_avail_idx;
	case BAD_HEAD:		return s->err_head;
	case BAD_NEXT:		return s->err_next;
	case BAD_INDIRECT:	return s->err_indirect;
	default:		return s->err_ring_overlap;
	}
}

static uint32_t len_3000(uint64_t seq __attribute__((unused)))
{
	return 3000;
}

static void hostile_peer(struct drv *d, enum bad k)
{
	struct eg_tx_stats s0 = d->st;
	bool posted[QSIZE];
	uint16_t head;
	unsigned int r, i, n = 4, expect_r = n;
	struct batch b;
	uint64_t seq0;

	drv_consume(d, true);
	if (k == BAD_AVAIL_IDX) {
		/*
		 * The device reads avail->idx only when the entries it knows
		 * of do not cover the batch (eg_tx.c): use them all up, then
		 * repost, and publish a corrupt index below.
		 */
		uint64_t seq = d->next_seq;
		unsigned int got = 0;

		fill_ring(d, &seq, &got);
		drv_post_free(d, QSIZE);
	}
	TEST_ASSERT(d->fifo_head != d->fifo_tail, "%s: nothing posted", d->name);
	/* the next chain the device takes */
	while (d->fifo[d->fifo_head] >= QSIZE)
		d->fifo_head++;
	head = d->fifo[d->fifo_head];
	/* the bad descriptor: the chain's last one for "next", else the first */
	switch (k) {
	case BAD_BOUNDS:
		d->desc[head].addr = d->gpa + d->len - 16;	/* runs past the end */
		d->desc[head].len = 64;
		break;
	case BAD_NOT_WRITE:
		d->desc[head].flags &= ~VIRTQ_DESC_F_WRITE;
		break;
	case BAD_ZERO_LEN:
		d->desc[head].len = 0;
		break;
	case BAD_LOOP:
		/* 1-byte descriptors pointing at themselves */
		d->desc[head].len = 1;
		d->desc[head].flags = VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT;
		d->desc[head].next = head;
		expect_r = 0;
		break;
	case BAD_AVAIL_IDX:
		*(volatile uint16_t *)&d->avail->idx = d->avail_idx + QSIZE + 7;
		expect_r = 0;
		break;
	case BAD_HEAD:
		break;
	case BAD_NEXT:
		if (d->mrg) {
			d->desc[head].flags |= VIRTQ_DESC_F_NEXT;
			d->desc[head].next = QSIZE + 3;
		} else {
			d->desc[head].next = QSIZE + 3;
		}
		break;
	case BAD_INDIRECT:
		d->desc[head].flags |= VIRTQ_DESC_F_INDIRECT;
		break;
	default:
		d->desc[head].addr = d->gpa + USED_OFF;
		d->desc[head].len = 64;
		break;
	}
	if (k == BAD_HEAD) {
		/*
		 * The driver withdraws its posted entries and puts a bogus head
		 * first: repost everything behind it.
		 */
		uint16_t ids[QSIZE];
		unsigned int m = 0;

		while (d->fifo_head != d->fifo_tail) {
			uint16_t id = d->fifo[d->fifo_head++];

			if (id < QSIZE) {
				ids[m++] = id;
				d->posted[id] = false;
			}
		}
		d->avail_idx -= m;
		if (m == QSIZE) {	/* room for the bogus entry */
			d->free[d->nfree++] = ids[--m];
		}
		drv_post_raw(d, QSIZE + 9);
		for (i = 0; i < m; i++)
			drv_post_raw(d, ids[i]);
		drv_publish(d);
		head = 0xffff;
	}
	memcpy(posted, d->posted, sizeof(posted));
	take_snapshot(d);
	seq0 = d->next_seq;
	/*
	 * The first packet does not fit in a chain's first descriptor (so
	 * that "next" is followed) nor in the loop's descriptor budget.
	 */
	force_lo = seq0;
	force_hi = seq0 + 1;
	force_fn = len_3000;
	put_batch(&b, seq0, n);
	r = call_batch(d, &b);
	TEST_ASSERT(r == expect_r, "%s: %s: returned %u of %u, expected %u",
		    d->name, bad_name[k], r, n, expect_r);
	check_snapshot(d, posted, bad_name[k]);
	TEST_ASSERT(bad_counter(&d->st, k) == bad_counter(&s0, k) + 1,
		    "%s: %s: its counter went %lu -> %lu, expected +1",
		    d->name, bad_name[k], bad_counter(&s0, k), bad_counter(&d->st, k));
	{
		uint64_t want = k == BAD_AVAIL_IDX || k == BAD_HEAD ? 0 : 1;
		uint64_t dropped0 = d->dropped;

		TEST_ASSERT(d->st.chains_dropped - s0.chains_dropped == want,
			    "%s: %s: chains_dropped +%lu, expected +%lu", d->name,
			    bad_name[k], d->st.chains_dropped - s0.chains_dropped, want);
		drv_consume(d, false);
		TEST_ASSERT(d->dropped - dropped0 == want,
			    "%s: %s: %lu chains came back with len 0, expected %lu",
			    d->name, bad_name[k], d->dropped - dropped0, want);
	}
	/* back to sane: restore the descriptors, and the avail idx */
	if (head != 0xffff) {
		drv_set_desc(d, head);
		if (!d->mrg)
			drv_set_desc(d, head + 1);
	}
	if (k == BAD_AVAIL_IDX)
		drv_publish(d);
	drv_consume(d, true);
	if (r < n) {
		put_batch(&b, d->next_seq, n - r);
		TEST_ASSERT(call_batch(d, &b) == n - r, "%s: %s: the good buffers after it",
			    d->name, bad_name[k]);
		drv_consume(d, true);
	}
	TEST_ASSERT(d->next_seq == seq0 + n, "%s: %s: %lu packets received, expected %u",
		    d->name, bad_name[k], d->next_seq - seq0, n);
	check_guards(d);
}

static void test_hostile_peer(void)
{
	enum bad k;

	for (k = 0; k < BAD_NR; k++) {
		hostile_peer(&drv_a, k);
		hostile_peer(&drv_b, k);
	}
	/* and the rings still carry a stream */
	stream(&drv_a, 1000, false);
	stream(&drv_b, 1000, false);
	ksft_print_msg("ring A: chains dropped %lu; ring B: chains dropped %lu\n",
		       drv_a.st.chains_dropped, drv_b.st.chains_dropped);
	ksft_test_result_pass("hostile peer: each bad chain kind counted by its own counter, no write outside the posted buffers and the used ring, good buffers work after it\n");
}

int main(void)
{
	uint64_t npkts = 100000;
	const char *env = getenv("EG_TX_PACKETS");
	struct eptgate_counters base, now;
	struct kvm_irq_routing *routing;
	size_t blob_len, cert_len, plen;
	int32_t ring, key, old;
	uint8_t *blob, *cert, *code_hva;
	unsigned int ncode, i;
	int dev;

	eptgate_require();
	ksft_print_header();
	ksft_set_plan(6);
	if (env)
		npkts = strtoull(env, NULL, 0);

	blob = eptgate_read_tramp_file("tramp_tx.signed", &blob_len);
	cert = eptgate_read_tramp_file("signing_cert.der", &cert_len);
	plen = payload_len(blob, blob_len);
	TEST_ASSERT(plen > TRAMP_GATE2_END && plen <= EPTGATE_TRAMPOLINE_CODE_MAX,
		    "payload of %zu bytes", plen);
	ncode = (plen + 4095) / 4096;

	pat = malloc(SLOT_LEN);
	expect_buf = malloc(EG_TX_PKT_MAX);
	snap = malloc(WINDOW_MAX);
	TEST_ASSERT(pat && expect_buf && snap, "malloc");
	for (i = 0; i < SLOT_LEN; i++)
		pat[i] = splitmix(i % PAT_P) >> 56;
	memset(guard_page, GUARD, sizeof(guard_page));

	ring = eptgate_keyring_serial();
	old = eptgate_keyring_find(ring, KEY_DESC);
	if (old > 0)
		TEST_ASSERT(!eptgate_keyring_unlink(old, ring),
			    "cannot unlink key %d left in the .eptgate keyring", old);
	eptgate_read_counters(&base);

	/* VM 1 */
	vm = __vm_create_with_one_vcpu(&vcpu, 256, guest_code);
	vm_userspace_mem_region_add(vm, VM_MEM_SRC_ANONYMOUS, CODE_GPA, CODE_SLOT,
				    ncode, KVM_MEM_READONLY);
	code_hva = addr_gpa2hva(vm, CODE_GPA);
	memcpy(code_hva, blob, plen);
	data_hva = __vm_add_ram(vm, DATA_SLOT, DATA_GPA,
				EPTGATE_TRAMPOLINE_DATA_LEN / 4096);
	mbx = __vm_add_ram(vm, MBX_SLOT, MBX_GPA, 1);
	pkt_hva = __vm_add_ram(vm, PKT_SLOT, PKT_GPA, PKT_LEN / 4096);
	map_gva(0, CODE_GPA, ncode * 4096ULL);
	map_gva(EG_TR_DATA_OFF, DATA_GPA, EPTGATE_TRAMPOLINE_DATA_LEN);
	map_gva(MBX_OFF, MBX_GPA, 4096);
	map_gva(PKT_OFF, PKT_GPA, PKT_LEN);
	map_gva(WIN_OFF, WINDOW_GPA, WINDOW_MAX);
	map_gva(DB_OFF, DOORBELL_GPA, 4096);
	prefill_area();

	/* VM 2: an in-kernel LAPIC, one vCPU that takes the interrupts */
	peer = vm_create_with_one_vcpu(&peer_vcpu, peer_guest_code);
	vm_init_descriptor_tables(peer);
	vcpu_init_descriptor_tables(peer_vcpu);
	vm_install_exception_handler(peer, PEER_DB_VECTOR, peer_db_handler);
	vm_install_exception_handler(peer, PEER_SYNC_VECTOR, peer_sync_handler);
	__vm_add_ram(peer, PEER_SLOT, PEER_GPA, PEER_LEN / 4096);
	drv_init(&drv_a, "ring A (no MRG_RXBUF)", 1, false, RING_A_GPA, RING_A_LEN);
	drv_init(&drv_b, "ring B (MRG_RXBUF)", 2, true, RING_B_GPA, RING_B_LEN);

	key = eptgate_keyring_add_cert(ring, KEY_DESC, cert, cert_len);
	dev = eptgate_open();
	bfd = eptgate_bind_vm(dev, vm);
	pbfd = eptgate_bind_vm(dev, peer);
	setup_view(&drv_a, blob, blob_len);
	setup_view(&drv_b, blob, blob_len);

	efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	TEST_ASSERT(efd >= 0, "eventfd: errno %d", errno);
	vm_ioctl(vm, KVM_IOEVENTFD, (&(struct kvm_ioeventfd){
		.addr = DOORBELL_GPA, .len = 0, .fd = efd }));
	/* the same eventfd is VM 2's irqfd: an MSI to its vCPU 0 */
	peer_start();
	routing = kvm_gsi_routing_create();
	routing->entries[0] = (struct kvm_irq_routing_entry){
		.gsi = PEER_GSI,
		.type = KVM_IRQ_ROUTING_MSI,
		.u.msi = { .address_lo = PEER_MSI_ADDR, .data = PEER_DB_VECTOR },
	};
	routing->nr = 1;
	kvm_gsi_routing_write(peer, routing);
	vm_ioctl(peer, KVM_IRQFD, (&(struct kvm_irqfd){ .fd = efd, .gsi = PEER_GSI }));
	eptgate_enable(bfd);
	TEST_ASSERT(guest_op(0, 0, 0, 0, 0) == 0, "first GUEST_SYNC");

	test_stream(npkts);
	test_ring_full();
	test_notify();
	test_exits();
	test_hostile_guest();
	test_hostile_peer();

	guest_op(OP_DONE, 0, 0, 0, 0);
	peer_check(0, "at the end");
	TEST_ASSERT(drain_efd() == 0,
		    "the doorbell's eventfd holds a count: VM 2's irqfd did not consume it");
	ksft_print_msg("VM 2's guest took %lu doorbell interrupts, one per doorbell (%lu barriers, %lu of them before an interrupt was taken)\n",
		       peer_seen_irqs, peer_sent_syncs, peer_late);
	peer_stop_vcpu();
	if (vstats_fd >= 0)
		close(vstats_fd);
	close(efd);
	close(pbfd);
	close(bfd);
	close(dev);
	kvm_vm_free(peer);
	kvm_vm_free(vm);
	eptgate_wait_counters(&base, &now, 5000);
	eptgate_assert_counters(&base, &now, "after closing everything");
	TEST_ASSERT(!eptgate_keyring_unlink(key, ring), "unlinking key %d", key);
	free(blob);
	free(cert);
	ksft_finished();
}
