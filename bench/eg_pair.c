// SPDX-License-Identifier: GPL-2.0
/*
 * eptgate Tx path between two processes over shared memory.
 *
 *   eg_pair run --size 64 --batch 32 [--qsize 256] [--warm 0.5] [--secs 2] [--samples 5]
 *
 * The sender (CPU 0) calls eg_tx_burst() -- guest/tx/eg_tx.c, the same
 * source the trampoline and the unit tests build -- into a virtio split RX
 * ring laid out in a memfd (the "window").  The receiver (CPU 1) is the
 * peer's virtio-net driver: it posts qsize single-descriptor buffers the
 * way Linux virtio-net does without MRG_RXBUF (one 1536-byte writable
 * buffer per chain, 64 bytes of headroom), polls the used ring, checks
 * each packet (used length, virtio_net_hdr num_buffers, a sequence number
 * in the first cache line), reposts the buffer on the avail ring (one
 * avail->idx store per poll) and, as NAPI does when it runs out of work,
 * re-enables notifications by writing used_event = its used index.
 *
 * Features: VERSION_1 + EVENT_IDX.  The doorbell is a store to a variable
 * in the sender's private memory: the cost of a real notification (an
 * ioeventfd exit) is not part of this figure; the count is reported.
 *
 * Prints one line: key=value pairs; pps is the median rate at the receiver
 * over --samples equal parts of the window (samples=, in Mpps), mean= the
 * whole window's.
 */
#include "common.h"
#include "eg_tx.h"

#define WIN_GPA		0x40000000ull	/* what the peer calls the window */
#define BUF_STRIDE	2048u
#define BUF_HEADROOM	64u
#define BUF_LEN		1536u	/* 12 + 1518, rounded: Linux's small buffer */
#define SEQ_OFF		14u	/* sequence number: after the Ethernet header */
#define POOL		128u	/* sender's source buffers (> 2 * BURST_MAX) */
#define WIN_OFF		(2u << 20)	/* window after the control block */

struct layout {
	uint64_t desc, avail, used, bufs, len;
};

static struct layout layout_of(uint32_t q)
{
	struct layout l;

	l.desc = 0;
	l.avail = VIRTQ_DESC_BYTES(q);
	/* Linux aligns the used ring to a cache line (vring_create_virtqueue) */
	l.used = (l.avail + VIRTQ_AVAIL_BYTES(q) + CL - 1) & ~(uint64_t)(CL - 1);
	l.bufs = (l.used + VIRTQ_USED_BYTES(q) + 4095) & ~4095ull;
	l.len = l.bufs + (uint64_t)q * BUF_STRIDE;
	return l;
}

static size_t region_len(uint32_t q)
{
	return WIN_OFF + ((layout_of(q).len + (2u << 20) - 1) & ~(size_t)((2u << 20) - 1));
}

/* ---------------------------------------------------------------- rx -- */

static int run_rx(int fd, uint32_t q, uint32_t size)
{
	size_t rlen = region_len(q);
	uint8_t *base = shm_map(fd, rlen), *win = base + WIN_OFF;
	struct ctl *c = (struct ctl *)base;
	struct layout l = layout_of(q);
	struct virtq_desc *desc = (struct virtq_desc *)(win + l.desc);
	struct virtq_avail *avail = (struct virtq_avail *)(win + l.avail);
	struct virtq_used *used = (struct virtq_used *)(win + l.used);
	volatile uint16_t *used_event = &avail->ring[q];
	uint8_t *bufs = win + l.bufs;
	uint16_t mask = (uint16_t)(q - 1), last_used = 0, avail_idx;
	uint64_t expect = 0, seq_err = 0, len_err = 0, polls = 0, total = 0;
	uint32_t i, want_len = EG_TX_HDR_LEN + size;

	/* The driver fills the ring before the device starts. */
	for (i = 0; i < q; i++) {
		desc[i].addr = WIN_GPA + l.bufs + (uint64_t)i * BUF_STRIDE + BUF_HEADROOM;
		desc[i].len = BUF_LEN;
		desc[i].flags = VIRTQ_DESC_F_WRITE;
		desc[i].next = 0;
		avail->ring[i] = (uint16_t)i;
	}
	avail->flags = 0;
	*used_event = 0;
	avail_idx = (uint16_t)q;
	__atomic_store_n(&avail->idx, avail_idx, __ATOMIC_RELEASE);
	c->rx_ready = 1;
	while (!c->go)
		cpu_relax();

	for (;;) {
		uint16_t ui = __atomic_load_n(&used->idx, __ATOMIC_ACQUIRE), n;

		if (ui == last_used) {
			if (c->stop && c->tx_done &&
			    __atomic_load_n(&used->idx, __ATOMIC_ACQUIRE) == last_used)
				break;
			/* out of work: ask for a notification on the next one */
			if (*used_event != last_used)
				*used_event = last_used;
			cpu_relax();
			continue;
		}
		n = (uint16_t)(ui - last_used);
		polls++;
		while (last_used != ui) {
			struct virtq_used_elem *e = &used->ring[last_used & mask];
			uint32_t id = e->id, len = e->len;
			const uint8_t *b;
			uint64_t seq;

			last_used++;
			if (id >= q) {
				len_err++;
				continue;	/* cannot repost what is not ours */
			}
			b = bufs + (uint64_t)id * BUF_STRIDE + BUF_HEADROOM;
			if (len != want_len ||
			    *(const uint16_t *)(b + VIRTIO_NET_HDR_V1_NUM_BUFFERS) != 1)
				len_err++;
			memcpy(&seq, b + EG_TX_HDR_LEN + SEQ_OFF, sizeof(seq));
			if (seq != expect)
				seq_err++;
			expect = seq + 1;
			avail->ring[avail_idx & mask] = (uint16_t)id;
			avail_idx++;
		}
		__atomic_store_n(&avail->idx, avail_idx, __ATOMIC_RELEASE);
		total += n;
		c->rx_pkts = total;
	}
	c->rx_polls = polls;
	c->rx_seq_err = seq_err;
	c->rx_len_err = len_err;
	c->rx_done = 1;
	return 0;
}

/* ---------------------------------------------------------------- tx -- */

static int run_tx(int fd, uint32_t q, uint32_t size, uint32_t batch)
{
	size_t rlen = region_len(q);
	uint8_t *base = shm_map(fd, rlen), *win = base + WIN_OFF;
	struct ctl *c = (struct ctl *)base;
	struct layout l = layout_of(q);
	static volatile uint32_t bell;
	struct eg_txq_cfg cfg = {
		.win = win, .win_gpa = WIN_GPA, .win_len = l.len,
		.desc_gpa = WIN_GPA + l.desc, .avail_gpa = WIN_GPA + l.avail,
		.used_gpa = WIN_GPA + l.used, .qsize = q,
		.features = (1ull << VIRTIO_F_VERSION_1) | (1ull << VIRTIO_F_EVENT_IDX),
		.doorbell = &bell, .doorbell_val = 1,
	};
	struct eg_txq txq;
	struct eg_tx_stats st = { 0 };
	struct eg_tx_pkt pkts[EG_TX_BURST_MAX];
	uint8_t *pool;
	uint64_t seq = 0, errors = 0;
	uint32_t pend = 0, i, k;

	if (batch < 1 || batch > EG_TX_BURST_MAX)
		return 1;
	if (eg_txq_init(&txq, &cfg) != EG_TX_INIT_OK) {
		fprintf(stderr, "eg_txq_init failed\n");
		return 1;
	}
	if (posix_memalign((void **)&pool, 4096, POOL * BUF_STRIDE))
		return 1;
	for (i = 0; i < POOL * BUF_STRIDE; i++)
		pool[i] = (uint8_t)(i * 7);
	c->tx_ready = 1;
	while (!c->go)
		cpu_relax();

	while (!c->stop) {
		/* new packets behind the ones the last call left pending */
		for (; pend < batch; pend++, seq++) {
			uint8_t *p = pool + (seq & (POOL - 1)) * BUF_STRIDE;

			memcpy(p + SEQ_OFF, &seq, sizeof(seq));
			pkts[pend].data = p;
			pkts[pend].len = size;
		}
		k = eg_tx_burst(&txq, pkts, batch, &st);
		for (i = 0; i < k; i++)
			errors += pkts[i].status != EG_TX_OK;
		if (k < batch) {
			memmove(pkts, pkts + k, (batch - k) * sizeof(pkts[0]));
			if (!k)
				cpu_relax();
		}
		pend = batch - k;
	}
	errors += st.err_pkt_len + st.err_too_small + st.err_avail_idx +
		  st.err_head + st.err_next + st.err_loop + st.err_indirect +
		  st.err_not_write + st.err_zero_len + st.err_bounds +
		  st.err_ring_overlap + st.chains_dropped;
	c->tx_pkts = st.sent;
	c->tx_calls = st.bursts;
	c->tx_backpressure = st.backpressure;
	c->tx_notifies = st.notifies;
	c->tx_errors = errors;
	__atomic_store_n(&c->tx_done, 1, __ATOMIC_RELEASE);
	return 0;
}

/* ------------------------------------------------------------- parent -- */

int main(int argc, char **argv)
{
	uint32_t size = arg_long(argc, argv, "--size", 64);
	uint32_t batch = arg_long(argc, argv, "--batch", 32);
	uint32_t q = arg_long(argc, argv, "--qsize", 256);
	struct window w = window_args(argc, argv);
	struct ctl *c;
	struct cpu_share share;
	char sbuf[SAMPLES_MAX * 12];
	double pps;
	int fd, huge;

	if (argc < 2) {
		fprintf(stderr, "usage: eg_pair run --size S --batch B [--qsize Q] [--warm s] [--secs s] [--samples n]\n");
		return 2;
	}
	if (q < 2 || q > 32768 || (q & (q - 1)) ||
	    size < SEQ_OFF + 8 || EG_TX_HDR_LEN + size > BUF_LEN) {
		fprintf(stderr, "eg_pair: bad --qsize/--size\n");
		return 2;
	}
	if (!strcmp(argv[1], "rx"))
		return run_rx(arg_long(argc, argv, "--fd", -1), q, size);
	if (!strcmp(argv[1], "tx"))
		return run_tx(arg_long(argc, argv, "--fd", -1), q, size, batch);

	fd = shm_create(region_len(q), &huge);
	c = shm_map(fd, region_len(q));
	memset(c, 0, sizeof(*c));
	pps = run_pair(c, fd, "--qsize", q, size, batch, 0, &w, &share);
	if (pps < 0)
		return 1;
	printf("path=eptgate size=%u batch=%u qsize=%u huge=%d pps=%.0f samples=%s mean=%.0f "
	       "cpu_tx=%.2f cpu_rx=%.2f "
	       "tx_pkts=%lu rx_pkts=%lu tx_calls=%lu tx_backpressure=%lu "
	       "tx_notifies=%lu rx_polls=%lu tx_errors=%lu rx_seq_err=%lu rx_len_err=%lu\n",
	       size, batch, q, huge, pps, samples_str(&share, sbuf, sizeof(sbuf)), share.mean,
	       share.tx, share.rx, c->tx_pkts, c->rx_pkts, c->tx_calls,
	       c->tx_backpressure, c->tx_notifies, c->rx_polls, c->tx_errors,
	       c->rx_seq_err, c->rx_len_err);
	return (c->tx_errors || c->rx_seq_err || c->rx_len_err ||
		c->tx_pkts != c->rx_pkts) ? 1 : 0;
}
