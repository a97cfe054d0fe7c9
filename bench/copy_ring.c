// SPDX-License-Identifier: GPL-2.0
/*
 * The machine's limit for "copy a packet into shared memory, another
 * core reads it": a minimal single-producer/single-consumer ring between
 * two processes, no validation, no descriptors.
 *
 *   copy_ring run --size 64 [--batch 32] [--slots 256] [--warm 0.5] [--secs 2] [--samples 5]
 *                 [--prefetch 1]
 *
 * Slots are packed, 12 + size bytes each (76 B for 64 B packets: the
 * virtio-net header and the packet).  The producer (CPU 0) waits for room
 * for a whole batch, copies the 12-byte header and the packet (with its
 * sequence number, as eg_pair's sender writes it) into each slot and
 * publishes the producer index once per batch.  The consumer (CPU 1) reads
 * the sequence number in each slot's first cache line, checks it and
 * publishes the consumer index once per poll.  Same work division as
 * eg_pair, minus everything virtio.
 *
 * --prefetch 1: the producer first prefetches the batch's slots for
 * writing (PREFETCHW), as eg_tx_burst() did with its used elements until
 * 2026-12-03.  The minimal ring is the reference of the targets; this
 * variant shows how much of the limit is the coherence latency that
 * prefetching hides.
 */
#include "common.h"

#define HDR		12u
#define SEQ_OFF		14u
#define POOL		128u
#define SRC_STRIDE	2048u

struct ring {
	volatile uint32_t prod;
	char pad0[CL - 4];
	volatile uint32_t cons;
	char pad1[CL - 4];
	uint8_t slots[];
};

static size_t region_len(uint32_t slots, uint32_t size)
{
	size_t n = 4096 + sizeof(struct ring) + (size_t)slots * (HDR + size);

	return (n + (2u << 20) - 1) & ~(size_t)((2u << 20) - 1);
}

static int run_rx(int fd, uint32_t slots, uint32_t size)
{
	size_t rlen = region_len(slots, size);
	uint8_t *base = shm_map(fd, rlen);
	struct ctl *c = (struct ctl *)base;
	struct ring *r = (struct ring *)(base + 4096);
	uint32_t cons = 0, stride = HDR + size;
	uint64_t expect = 0, seq_err = 0, polls = 0;

	c->rx_ready = 1;
	while (!c->go)
		cpu_relax();
	for (;;) {
		uint32_t prod = __atomic_load_n(&r->prod, __ATOMIC_ACQUIRE);

		if (prod == cons) {
			if (c->stop && c->tx_done &&
			    __atomic_load_n(&r->prod, __ATOMIC_ACQUIRE) == cons)
				break;
			cpu_relax();
			continue;
		}
		polls++;
		for (; cons != prod; cons++) {
			const uint8_t *s = r->slots + (size_t)(cons & (slots - 1)) * stride;
			uint64_t seq;

			memcpy(&seq, s + HDR + SEQ_OFF, sizeof(seq));
			if (seq != expect)
				seq_err++;
			expect = seq + 1;
		}
		__atomic_store_n(&r->cons, cons, __ATOMIC_RELEASE);
		c->rx_pkts = expect;
	}
	c->rx_polls = polls;
	c->rx_seq_err = seq_err;
	c->rx_done = 1;
	return 0;
}

static inline void prefetchw(const void *p)
{
	__asm__ __volatile__("prefetchw %0" : : "m"(*(const uint8_t *)p));
}

static int run_tx(int fd, uint32_t slots, uint32_t size, uint32_t batch,
		  int prefetch)
{
	size_t rlen = region_len(slots, size);
	uint8_t *base = shm_map(fd, rlen), *pool;
	struct ctl *c = (struct ctl *)base;
	struct ring *r = (struct ring *)(base + 4096);
	uint32_t prod = 0, cons = 0, stride = HDR + size, i;
	static const uint8_t hdr[HDR] = { [10] = 1 };	/* num_buffers = 1 */
	uint64_t seq = 0, calls = 0, full = 0;

	if (posix_memalign((void **)&pool, 4096, POOL * SRC_STRIDE))
		return 1;
	for (i = 0; i < POOL * SRC_STRIDE; i++)
		pool[i] = (uint8_t)(i * 7);
	c->tx_ready = 1;
	while (!c->go)
		cpu_relax();
	while (!c->stop) {
		calls++;
		if (slots - (prod - cons) < batch) {
			cons = __atomic_load_n(&r->cons, __ATOMIC_ACQUIRE);
			if (slots - (prod - cons) < batch) {
				full++;
				cpu_relax();
				continue;
			}
		}
		if (prefetch) {
			size_t ring_bytes = (size_t)slots * stride;
			size_t o = (size_t)(prod & (slots - 1)) * stride;

			for (i = 0; i < batch * stride; i += CL)
				prefetchw(r->slots + (o + i) % ring_bytes);
		}
		for (i = 0; i < batch; i++, seq++, prod++) {
			uint8_t *s = r->slots + (size_t)(prod & (slots - 1)) * stride;
			uint8_t *p = pool + (seq & (POOL - 1)) * SRC_STRIDE;

			memcpy(p + SEQ_OFF, &seq, sizeof(seq));
			memcpy(s, hdr, HDR);
			memcpy(s + HDR, p, size);
		}
		__atomic_store_n(&r->prod, prod, __ATOMIC_RELEASE);
	}
	c->tx_pkts = seq;
	c->tx_calls = calls;
	c->tx_backpressure = full;
	__atomic_store_n(&c->tx_done, 1, __ATOMIC_RELEASE);
	return 0;
}

int main(int argc, char **argv)
{
	uint32_t size = arg_long(argc, argv, "--size", 64);
	uint32_t batch = arg_long(argc, argv, "--batch", 32);
	uint32_t slots = arg_long(argc, argv, "--slots", 256);
	struct window w = window_args(argc, argv);
	int prefetch = !!arg_long(argc, argv, "--prefetch", 0);
	struct ctl *c;
	struct cpu_share share;
	char sbuf[SAMPLES_MAX * 12];
	double pps;
	int fd, huge;

	if (argc < 2) {
		fprintf(stderr, "usage: copy_ring run --size S [--batch B] [--slots N]\n");
		return 2;
	}
	if (slots < 2 || (slots & (slots - 1)) || !batch || batch > slots ||
	    size < SEQ_OFF + 8 || size > SRC_STRIDE) {
		fprintf(stderr, "copy_ring: bad arguments\n");
		return 2;
	}
	if (!strcmp(argv[1], "rx"))
		return run_rx(arg_long(argc, argv, "--fd", -1), slots, size);
	if (!strcmp(argv[1], "tx"))
		return run_tx(arg_long(argc, argv, "--fd", -1), slots, size, batch,
			      prefetch);

	fd = shm_create(region_len(slots, size), &huge);
	c = shm_map(fd, region_len(slots, size));
	memset(c, 0, 4096 + sizeof(struct ring));
	pps = run_pair(c, fd, "--slots", slots, size, batch, prefetch, &w, &share);
	if (pps < 0)
		return 1;
	printf("path=copyring size=%u batch=%u slots=%u slot_bytes=%u prefetch=%d huge=%d pps=%.0f "
	       "samples=%s mean=%.0f cpu_tx=%.2f cpu_rx=%.2f "
	       "tx_pkts=%lu rx_pkts=%lu tx_calls=%lu tx_full=%lu rx_polls=%lu rx_seq_err=%lu\n",
	       size, batch, slots, HDR + size, prefetch, huge, pps,
	       samples_str(&share, sbuf, sizeof(sbuf)), share.mean, share.tx, share.rx,
	       c->tx_pkts, c->rx_pkts,
	       c->tx_calls, c->tx_backpressure, c->rx_polls, c->rx_seq_err);
	return (c->rx_seq_err || c->tx_pkts != c->rx_pkts) ? 1 : 0;
}
