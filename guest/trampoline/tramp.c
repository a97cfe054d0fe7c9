// SPDX-License-Identifier: GPL-2.0
/*
 * The trampoline's body, in the protected view, on its private stack
 * (entry.S).  Reads the trusted parameters from its private pages, the
 * batch from the mailbox (once, bounds-checked), and sends it with the Tx
 * path (guest/tx/eg_tx.c) into the peer's RX virtqueue through the window.
 */
#include <stddef.h>
#include "eg_tramp_abi.h"
#include "eg_tx.h"
#include "layout.h"

struct eg_tramp_private {
	uint64_t canary;			/* written by the module */
	uint8_t pad0[EPTGATE_TRAMPOLINE_PARAM_OFF - 8];
	struct eg_tramp_params params;		/* written by the VMM */
	uint8_t pad1[EG_TR_PAGE_SIZE - EPTGATE_TRAMPOLINE_PARAM_OFF -
		     sizeof(struct eg_tramp_params)];
	/* page 1: the trampoline's own state */
	uint64_t lock;				/* entry.S */
	uint64_t saved_rsp;			/* entry.S */
	uint64_t ready;				/* txq set up */
	struct eg_txq txq;
	struct eg_tx_stats stats;
	struct eg_tx_pkt pkts[EG_TR_BATCH_MAX];
};

_Static_assert(offsetof(struct eg_tramp_private, lock) ==
	       EG_TR_LOCK - EG_TR_DATA_OFF, "entry.S: lock offset");
_Static_assert(offsetof(struct eg_tramp_private, saved_rsp) ==
	       EG_TR_SAVED_RSP - EG_TR_DATA_OFF, "entry.S: saved_rsp offset");
/* Pages 2 and 3 are the stack. */
_Static_assert(sizeof(struct eg_tramp_private) <=
	       EG_TR_STACK_OFF - EG_TR_DATA_OFF, "state too large");
_Static_assert(EG_TR_STACK_OFF < EG_TR_STACK_TOP, "layout.h: no stack");
_Static_assert(EG_TR_CODE_MAX == EPTGATE_TRAMPOLINE_CODE_MAX, "layout.h");
_Static_assert(EG_TR_DATA_OFF == EPTGATE_TRAMPOLINE_CODE_MAX, "layout.h");
_Static_assert(EG_TR_DATA_LEN == EPTGATE_TRAMPOLINE_DATA_LEN, "layout.h");
_Static_assert(sizeof(struct eg_tx_stats) <=
	       sizeof(((struct eg_tramp_mailbox *)0)->stats), "mailbox stats");

/* A region [off, off + len) from T that keeps clear of code and data. */
static int eg_region_ok(uint64_t off, uint64_t len)
{
	return off >= EG_TR_DATA_OFF + EG_TR_DATA_LEN && len &&
	       off + len > off && !(off & (EG_TR_PAGE_SIZE - 1));
}

static long eg_tramp_setup(struct eg_tramp_private *p, uint8_t *base,
			   const struct eg_tramp_params *prm)
{
	struct eg_txq_cfg cfg = { 0 };

	if (prm->version != EG_TR_ABI_VERSION ||
	    !eg_region_ok(prm->mailbox_off, EG_TR_PAGE_SIZE) ||
	    !eg_region_ok(prm->pkt_off, prm->pkt_len) ||
	    !eg_region_ok(prm->window_off, prm->win_len) ||
	    (prm->doorbell_off &&
	     !eg_region_ok(prm->doorbell_off, EG_TR_PAGE_SIZE)))
		return EG_TR_E_PARAMS;
	cfg.win = base + prm->window_off;
	cfg.win_gpa = prm->win_gpa;
	cfg.win_len = prm->win_len;
	cfg.desc_gpa = prm->desc_gpa;
	cfg.avail_gpa = prm->avail_gpa;
	cfg.used_gpa = prm->used_gpa;
	cfg.qsize = prm->qsize;
	cfg.features = prm->features;
	cfg.last_avail_idx = prm->last_avail_idx;
	cfg.used_idx = prm->used_idx;
	if (prm->doorbell_off) {
		cfg.doorbell = (volatile uint32_t *)(base + prm->doorbell_off);
		cfg.doorbell_val = 1;
	}
	if (eg_txq_init(&p->txq, &cfg) != EG_TX_INIT_OK)
		return EG_TR_E_PARAMS;
	p->ready = 1;
	return 0;
}

long eg_tramp_main(struct eg_tramp_private *p, uint8_t *base);
long eg_tramp_main(struct eg_tramp_private *p, uint8_t *base)
{
	const struct eg_tramp_params *prm = &p->params;
	volatile struct eg_tramp_mailbox *mb;
	const uint64_t *st = (const uint64_t *)&p->stats;
	uint32_t count, i;
	unsigned int n;
	long r;

	if (!p->ready) {
		r = eg_tramp_setup(p, base, prm);
		if (r)
			return r;
	}
	mb = (volatile struct eg_tramp_mailbox *)(base + prm->mailbox_off);
	count = mb->count;			/* read once */
	if (count > EG_TR_BATCH_MAX)
		return EG_TR_E_BATCH;
	for (i = 0; i < count; i++) {
		uint32_t off = mb->pkt[i].off, len = mb->pkt[i].len;

		if (off > prm->pkt_len || len > prm->pkt_len - off)
			return EG_TR_E_BATCH;
		p->pkts[i].data = base + prm->pkt_off + off;
		p->pkts[i].len = len;
		p->pkts[i].status = EG_TX_PENDING;
	}
	n = eg_tx_burst(&p->txq, p->pkts, count, &p->stats);
	for (i = 0; i < count; i++)
		mb->status[i] = p->pkts[i].status;
	for (i = 0; i < sizeof(p->stats) / sizeof(uint64_t); i++)
		mb->stats[i] = st[i];
	return n;
}
