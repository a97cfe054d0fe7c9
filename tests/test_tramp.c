// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests of the trampoline's body (guest/trampoline/tramp.c), built
 * for the host with the same Tx path: the trusted parameters, the
 * mailbox checks, the results written back.  A heap buffer stands for the
 * guest-virtual region from the trampoline's base T.
 */
#include <stdlib.h>
#include <string.h>
#include "ksft_check.h"
#include "eg_tramp_abi.h"
#include "eg_tx.h"

long eg_tramp_main(void *private, uint8_t *base);

#define QSIZE		8
#define MAILBOX_OFF	0x8000
#define PKT_OFF		0x9000
#define PKT_LEN		0x4000
#define WINDOW_OFF	0x10000
#define WIN_GPA		0x40000000ULL
#define WIN_LEN		0x8000
#define DESC_OFF	0x0
#define AVAIL_OFF	0x1000
#define USED_OFF	0x2000
#define BUF_OFF		0x3000
#define BUF_LEN		2048
#define REGION		(WINDOW_OFF + WIN_LEN)

static uint8_t *base;

static struct eg_tramp_params *params(void)
{
	return (void *)(base + EG_TR_DATA_OFF + EPTGATE_TRAMPOLINE_PARAM_OFF);
}

static struct eg_tramp_mailbox *mailbox(void)
{
	return (void *)(base + MAILBOX_OFF);
}

/* A fresh region: private pages zeroed, parameters, a ring with n buffers. */
static void setup(unsigned int nbufs)
{
	struct eg_tramp_params *p;
	uint8_t *win;
	struct virtq_desc *desc;
	struct virtq_avail *avail;
	unsigned int i;

	memset(base, 0, REGION);
	p = params();
	p->version = EG_TR_ABI_VERSION;
	p->qsize = QSIZE;
	p->mailbox_off = MAILBOX_OFF;
	p->pkt_off = PKT_OFF;
	p->pkt_len = PKT_LEN;
	p->window_off = WINDOW_OFF;
	p->win_gpa = WIN_GPA;
	p->win_len = WIN_LEN;
	p->desc_gpa = WIN_GPA + DESC_OFF;
	p->avail_gpa = WIN_GPA + AVAIL_OFF;
	p->used_gpa = WIN_GPA + USED_OFF;
	p->features = 1ULL << VIRTIO_F_VERSION_1;
	win = base + WINDOW_OFF;
	desc = (void *)(win + DESC_OFF);
	avail = (void *)(win + AVAIL_OFF);
	for (i = 0; i < nbufs; i++) {
		desc[i].addr = WIN_GPA + BUF_OFF + (uint64_t)i * BUF_LEN;
		desc[i].len = BUF_LEN;
		desc[i].flags = VIRTQ_DESC_F_WRITE;
		avail->ring[i] = (uint16_t)i;
	}
	avail->idx = (uint16_t)nbufs;
}

static long call(void)
{
	return eg_tramp_main(base + EG_TR_DATA_OFF, base);
}

static void batch(uint32_t count, uint32_t len)
{
	struct eg_tramp_mailbox *mb = mailbox();
	uint32_t i;

	mb->count = count;
	for (i = 0; i < count && i < EG_TR_BATCH_MAX; i++) {
		mb->pkt[i].off = i * 64;
		mb->pkt[i].len = len;
		memset(base + PKT_OFF + i * 64, 0xa0 + (int)i, len);
	}
}

int main(void)
{
	struct virtq_used *used;
	long r;

	base = aligned_alloc(4096, REGION);
	if (!base)
		return 1;

	setup(4);
	params()->version = 7;
	batch(1, 60);
	TAP_CHECK(call() == EG_TR_E_PARAMS, "unknown parameter version: EG_TR_E_PARAMS");

	setup(4);
	params()->mailbox_off = EG_TR_DATA_OFF;
	batch(1, 60);
	TAP_CHECK(call() == EG_TR_E_PARAMS, "mailbox over the private pages: EG_TR_E_PARAMS");

	setup(4);
	params()->window_off = 0x1000;
	TAP_CHECK(call() == EG_TR_E_PARAMS, "window over the code: EG_TR_E_PARAMS");

	setup(4);
	batch(3, 60);
	r = call();
	used = (void *)(base + WINDOW_OFF + USED_OFF);
	TAP_CHECK(r == 3, "three packets, four buffers: 3 finished (got %ld)", r);
	TAP_CHECK(mailbox()->status[0] == EG_TX_OK && mailbox()->status[2] == EG_TX_OK,
		  "their status is EG_TX_OK in the mailbox");
	TAP_CHECK(used->idx == 3 && used->ring[1].len == 60 + EG_TX_HDR_LEN,
		  "used index 3, each element 60 B + the 12 B header");
	TAP_CHECK(base[WINDOW_OFF + BUF_OFF + BUF_LEN + EG_TX_HDR_LEN] == 0xa1,
		  "the second packet's bytes are in the second buffer");
	TAP_CHECK(mailbox()->stats[0] == 3, "the mailbox has the counters (sent = 3)");

	batch(3, 60);
	r = call();
	TAP_CHECK(r == 1, "three more, one buffer left: back-pressure, 1 finished (got %ld)", r);
	TAP_CHECK(mailbox()->status[1] == EG_TX_PENDING, "the others stay pending");

	batch(EG_TR_BATCH_MAX + 1, 60);
	TAP_CHECK(call() == EG_TR_E_BATCH, "65 packets: EG_TR_E_BATCH");
	batch(1, 60);
	mailbox()->pkt[0].off = PKT_LEN - 10;
	TAP_CHECK(call() == EG_TR_E_BATCH, "a packet that runs past the packet area: EG_TR_E_BATCH");
	mailbox()->pkt[0].off = 16;
	mailbox()->pkt[0].len = 0xfffffff8u;
	TAP_CHECK(call() == EG_TR_E_BATCH, "offset + length that wraps: EG_TR_E_BATCH");
	TAP_CHECK(used->idx == 4, "no refused batch touched the ring");

	/*
	 * A ring that was written before (the link came up again): the
	 * device starts where the parameters say, at entry 5 of 8 buffers.
	 */
	setup(8);
	params()->last_avail_idx = 5;
	params()->used_idx = 5;
	used->idx = 5;
	batch(2, 60);
	r = call();
	TAP_CHECK(r == 2 && used->idx == 7 && used->ring[5].id == 5 && used->ring[6].id == 6 &&
		  base[WINDOW_OFF + BUF_OFF + 5 * BUF_LEN + EG_TX_HDR_LEN] == 0xa0 &&
		  base[WINDOW_OFF + BUF_OFF + EG_TX_HDR_LEN] == 0,
		  "the ring's base from the parameters: avail entries 5, 6 taken, used index 5 -> 7 (got %ld, %u)",
		  r, used->idx);
	free(base);
	return tap_done();
}
