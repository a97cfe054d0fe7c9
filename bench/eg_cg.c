// SPDX-License-Identifier: GPL-2.0
/*
 * Single-process driver of eg_tx_burst() for instruction counts under
 * valgrind --tool=callgrind --toggle-collect=eg_tx_burst.
 *
 *   eg_cg --size 64 --batch 32 --bursts 20000 [--qsize 256]
 *
 * Same ring layout, features (VERSION_1 + EVENT_IDX), buffers and sender
 * loop as eg_pair; the peer's driver is simulated in this process between
 * bursts: it takes every used element, checks it, reposts the buffer, and
 * sets used_event to its used index (so every burst also takes the
 * notification branch).  Every call finds room for the whole batch.
 * Prints packets sent, so that the script can divide.
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "eg_tx.h"

#define WIN_GPA		0x40000000ull
#define BUF_STRIDE	2048u
#define BUF_HEADROOM	64u
#define BUF_LEN		1536u
#define SEQ_OFF		14u
#define POOL		128u

static long arg(int argc, char **argv, const char *name, long def)
{
	int i;

	for (i = 1; i + 1 < argc; i++)
		if (!strcmp(argv[i], name))
			return strtol(argv[i + 1], NULL, 0);
	return def;
}

int main(int argc, char **argv)
{
	uint32_t size = arg(argc, argv, "--size", 64);
	uint32_t batch = arg(argc, argv, "--batch", 32);
	uint32_t q = arg(argc, argv, "--qsize", 256);
	long bursts = arg(argc, argv, "--bursts", 20000), b;
	uint64_t l_avail = VIRTQ_DESC_BYTES(q);
	uint64_t l_used = (l_avail + VIRTQ_AVAIL_BYTES(q) + 63) & ~63ull;
	uint64_t l_bufs = (l_used + VIRTQ_USED_BYTES(q) + 4095) & ~4095ull;
	uint64_t win_len = l_bufs + (uint64_t)q * BUF_STRIDE;
	static volatile uint32_t bell;
	struct eg_txq txq;
	struct eg_tx_stats st = { 0 };
	struct eg_tx_pkt pkts[EG_TX_BURST_MAX];
	struct virtq_desc *desc;
	struct virtq_avail *avail;
	struct virtq_used *used;
	uint8_t *win, *pool;
	uint16_t mask = (uint16_t)(q - 1), last_used = 0, avail_idx;
	uint64_t seq = 0, expect = 0, bad = 0;
	uint32_t i, k;

	if (batch < 1 || batch > EG_TX_BURST_MAX || q < batch || (q & (q - 1)) ||
	    size < SEQ_OFF + 8 || EG_TX_HDR_LEN + size > BUF_LEN)
		return 2;
	if (posix_memalign((void **)&win, 4096, win_len) ||
	    posix_memalign((void **)&pool, 4096, POOL * BUF_STRIDE))
		return 2;
	memset(win, 0, win_len);
	for (i = 0; i < POOL * BUF_STRIDE; i++)
		pool[i] = (uint8_t)(i * 7);
	desc = (struct virtq_desc *)win;
	avail = (struct virtq_avail *)(win + l_avail);
	used = (struct virtq_used *)(win + l_used);
	for (i = 0; i < q; i++) {
		desc[i].addr = WIN_GPA + l_bufs + (uint64_t)i * BUF_STRIDE + BUF_HEADROOM;
		desc[i].len = BUF_LEN;
		desc[i].flags = VIRTQ_DESC_F_WRITE;
		avail->ring[i] = (uint16_t)i;
	}
	avail_idx = (uint16_t)q;
	avail->idx = avail_idx;

	{
		struct eg_txq_cfg cfg = {
			.win = win, .win_gpa = WIN_GPA, .win_len = win_len,
			.desc_gpa = WIN_GPA, .avail_gpa = WIN_GPA + l_avail,
			.used_gpa = WIN_GPA + l_used, .qsize = q,
			.features = (1ull << VIRTIO_F_VERSION_1) |
				    (1ull << VIRTIO_F_EVENT_IDX),
			.doorbell = &bell, .doorbell_val = 1,
		};
		if (eg_txq_init(&txq, &cfg) != EG_TX_INIT_OK)
			return 2;
	}

	for (b = 0; b < bursts; b++) {
		for (i = 0; i < batch; i++, seq++) {
			uint8_t *p = pool + (seq & (POOL - 1)) * BUF_STRIDE;

			memcpy(p + SEQ_OFF, &seq, sizeof(seq));
			pkts[i].data = p;
			pkts[i].len = size;
		}
		k = eg_tx_burst(&txq, pkts, batch, &st);
		if (k != batch)
			bad++;
		for (i = 0; i < k; i++)
			bad += pkts[i].status != EG_TX_OK;
		/* the peer's driver */
		while (last_used != used->idx) {
			struct virtq_used_elem *e = &used->ring[last_used & mask];
			const uint8_t *buf = win + l_bufs + (uint64_t)e->id * BUF_STRIDE +
					     BUF_HEADROOM;
			uint64_t s;

			memcpy(&s, buf + EG_TX_HDR_LEN + SEQ_OFF, sizeof(s));
			bad += s != expect++ || e->len != EG_TX_HDR_LEN + size;
			avail->ring[avail_idx & mask] = (uint16_t)e->id;
			avail_idx++;
			last_used++;
		}
		avail->idx = avail_idx;
		avail->ring[q] = last_used;	/* used_event */
	}
	printf("size=%u batch=%u bursts=%ld packets=%lu notifies=%lu errors=%lu\n",
	       size, batch, bursts, st.sent, st.notifies, bad);
	return bad ? 1 : 0;
}
