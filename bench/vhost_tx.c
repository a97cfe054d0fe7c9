// SPDX-License-Identifier: GPL-2.0
/*
 * The like-for-like baseline: one vhost-user backend, two Tx functions,
 * the same receiver.
 *
 *   vhost_tx <EAL options> -- --mode vhost|eg --socket PATH --size 64 [--batch 32]
 *
 * A vhost-user server (DPDK's librte_vhost: rte_vhost_driver_register,
 * _callback_register, _start) that a net_virtio_user dpdk-testpmd, rxonly
 * on the other CPU, connects to.  Once the library reports the device
 * running, the main lcore sends on the receiver's RX ring (vring 0) with
 *
 *   --mode vhost  rte_vhost_enqueue_burst(), DPDK's own Tx function;
 *   --mode eg     eg_tx_burst() (guest/tx/eg_tx.c, linked in as the bench
 *                 builds it: the trampoline's flags), on the ring and the
 *                 memory the library was given: the window is the memory
 *                 table's region that holds the ring (host address,
 *                 guest-physical address, size), the ring parts are
 *                 translated from the library's vring addresses to
 *                 guest-physical ones with the same table, the state
 *                 (last avail index, used index) is the library's, the
 *                 features the negotiated ones, the doorbell
 *                 rte_vhost_vring_call().
 *
 * Both modes run the same loop over the same packets: a pool of POOL
 * prepared mbufs (Ethernet + IPv4 + UDP, --size bytes, a sequence number in
 * the UDP payload written before each send), the batch topped up behind
 * what the last call left pending.  In --mode eg the packet array points
 * at the very mbufs' data.  The TSC is read (lfence; rdtsc) right before
 * and right after each call; the sums give cycles per packet inside it.
 *
 * The backend disables the features eg_tx refuses (eg_txq_init():
 * ACCESS_PLATFORM, RING_PACKED, IN_ORDER, HASH_REPORT) for both modes, so
 * that both senders write the same ring as negotiated.
 *
 * It starts sending on SIGUSR2 (bench/run.sh sends it once the receiver
 * forwards: no packet goes before the receiver counts), prints "Tx-pps: N"
 * once a second (as testpmd's stats do), and one line "vhost_tx:
 * key=value ..." when told to stop sending (SIGUSR1) or to quit (SIGINT,
 * SIGTERM).  After SIGUSR1 it stays connected until told to quit, so that
 * the receiver's counters can be seen to hold every packet sent, no more
 * (testpmd rxonly checks no content).
 */
#include "common.h"	/* arg_long() */

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_cycles.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_pause.h>
#include <rte_vhost.h>

/*
 * rte_vhost.h brings Linux's <linux/virtio_net.h> and
 * <linux/virtio_ring.h>, which have a struct virtio_net_hdr_v1 and a
 * vring_need_event() of their own; eg_tx.h's (the same layout, the same
 * test) are renamed in this file only.  eg_tx.c itself is built apart,
 * unchanged.
 */
#define virtio_net_hdr_v1 eg_virtio_net_hdr_v1
#define vring_need_event eg_vring_need_event
#include "eg_tx.h"

_Static_assert(EG_TX_HDR_LEN == 12, "the VERSION_1 virtio-net header is 12 bytes");

#define POOL		128u	/* prepared mbufs, > 2 * EG_TX_BURST_MAX */
#define SEQ_OFF		42u	/* the sequence number: first bytes of UDP payload */
#define PKT_MIN		64u
#define PKT_MAX		1518u
#define RXQ		0	/* the driver's first RX queue is vring 0 */

/* What eg_txq_init() refuses (EG_TX_INIT_EFEATURE): never offered. */
#define EG_REFUSED	((1ull << VIRTIO_F_ACCESS_PLATFORM) |			\
			 (1ull << VIRTIO_F_RING_PACKED) |			\
			 (1ull << VIRTIO_F_IN_ORDER) |				\
			 (1ull << VIRTIO_NET_F_HASH_REPORT))

static volatile sig_atomic_t quit, stop_tx, go;

/*
 * The device's state, shared with the library's event thread.  Protocol
 * (all sequentially consistent): destroy_device() clears running, a
 * message's handling sets hold (pre_msg()), then either waits for parked;
 * the main loop sets parked only after it has seen running clear or hold
 * set, outside any Tx call, and before it resumes clears parked and looks
 * at both again.  So no call is under way, nor starts, until the library
 * is done (it may unmap the memory meanwhile).
 */
static int running, hold, parked = 1, dev_vid = -1, new_devices;
static uint64_t guest_kicks;	/* the library's eventfd writes to the driver */

static int new_device(int vid)
{
	__atomic_store_n(&dev_vid, vid, __ATOMIC_SEQ_CST);
	__atomic_add_fetch(&new_devices, 1, __ATOMIC_SEQ_CST);
	__atomic_store_n(&running, 1, __ATOMIC_SEQ_CST);
	return 0;
}

static void destroy_device(int vid)
{
	(void)vid;
	__atomic_store_n(&running, 0, __ATOMIC_SEQ_CST);
	while (!__atomic_load_n(&parked, __ATOMIC_SEQ_CST))
		rte_pause();
}

static void guest_notified(int vid)
{
	(void)vid;
	__atomic_add_fetch(&guest_kicks, 1, __ATOMIC_RELAXED);
}

/*
 * Every vhost-user message is handled with the sender parked: it may
 * remap the memory (SET_MEM_TABLE: the library unmaps the old mapping
 * without telling the application) or move the ring.  The library's own
 * enqueue is under its queue lock meanwhile; eg_tx_burst() has none, so
 * the sender stops and, after the message, sets eg_tx up again from the
 * library's state (both modes do the same).
 */
static enum rte_vhost_msg_result pre_msg(int vid, void *msg)
{
	(void)vid;
	(void)msg;
	__atomic_store_n(&hold, 1, __ATOMIC_SEQ_CST);
	while (!__atomic_load_n(&parked, __ATOMIC_SEQ_CST))
		rte_pause();
	return RTE_VHOST_MSG_RESULT_NOT_HANDLED;
}

static enum rte_vhost_msg_result post_msg(int vid, void *msg)
{
	(void)vid;
	(void)msg;
	__atomic_store_n(&hold, 0, __ATOMIC_SEQ_CST);
	return RTE_VHOST_MSG_RESULT_NOT_HANDLED;
}

static const struct rte_vhost_user_extern_ops msg_ops = {
	.pre_msg_handle = pre_msg,
	.post_msg_handle = post_msg,
};

static int new_connection(int vid)
{
	return rte_vhost_extern_callback_register(vid, &msg_ops, NULL);
}

static const struct rte_vhost_device_ops ops = {
	.new_device = new_device,
	.destroy_device = destroy_device,
	.new_connection = new_connection,
	.guest_notified = guest_notified,
};

static void on_signal(int sig)
{
	if (sig == SIGUSR1)
		stop_tx = 1;
	else if (sig == SIGUSR2)
		go = 1;
	else
		quit = 1;
}

static inline uint64_t tsc(void)
{
	__builtin_ia32_lfence();	/* not before the work before it is done */
	return __builtin_ia32_rdtsc();
}

/* ------------------------------------------------------------ packets -- */

static uint16_t csum16(const uint8_t *p, unsigned int n)
{
	uint32_t s = 0;
	unsigned int i;

	for (i = 0; i + 1 < n; i += 2)
		s += (uint32_t)p[i] << 8 | p[i + 1];
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* Ethernet, IPv4 (198.18.0.1 -> .2), UDP port 9, a byte pattern. */
static void make_packet(uint8_t *p, uint32_t size)
{
	static const uint8_t eth[14] = { 2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 0x08, 0x00 };
	static const uint8_t ip[20] = { 0x45, 0, 0, 0, 0, 0, 0x40, 0, 64, 17, 0, 0,
					198, 18, 0, 1, 198, 18, 0, 2 };
	uint32_t i;

	for (i = 0; i < size; i++)
		p[i] = (uint8_t)(i * 7);
	memcpy(p, eth, sizeof(eth));
	memcpy(p + 14, ip, sizeof(ip));
	put16(p + 16, (uint16_t)(size - 14));
	put16(p + 24, csum16(p + 14, 20));
	put16(p + 34, 9);
	put16(p + 36, 9);
	put16(p + 38, (uint16_t)(size - 34));
	put16(p + 40, 0);	/* no UDP checksum */
}

/* ---------------------------------------------------- eg_tx on the ring -- */

struct eg_side {
	struct eg_txq q;
	struct eg_tx_stats st;
	int have_q;
	int vid;
	/* the state last handed back, and how often the library had another */
	int handed;
	uint16_t hand_avail, hand_used;
	int hand_diff;
};

static void eg_kick(void *ctx)
{
	rte_vhost_vring_call(((struct eg_side *)ctx)->vid, RXQ);
}

/* The memory table's region that holds [hva, hva + len), or NULL. */
static const struct rte_vhost_mem_region *region_of(const struct rte_vhost_memory *m,
						    uint64_t hva, uint64_t len)
{
	uint32_t i;

	for (i = 0; i < m->nregions; i++) {
		const struct rte_vhost_mem_region *r = &m->regions[i];

		if (hva >= r->host_user_addr && len <= r->size &&
		    hva - r->host_user_addr <= r->size - len)
			return r;
	}
	return NULL;
}

/*
 * eg_txq_init() on vring RXQ as the library knows it.  Returns 0, or -1
 * with a reason printed.
 */
static int eg_setup(struct eg_side *e, int vid, uint64_t features)
{
	struct rte_vhost_memory *mem = NULL;
	struct rte_vhost_vring vr;
	const struct rte_vhost_mem_region *r;
	uint16_t last_avail, last_used;
	uint64_t d, a, u, lo;
	struct eg_txq_cfg cfg;
	uint32_t i;
	int rc;

	if (rte_vhost_get_mem_table(vid, &mem) || rte_vhost_get_vhost_vring(vid, RXQ, &vr) ||
	    rte_vhost_get_vring_base(vid, RXQ, &last_avail, &last_used)) {
		fprintf(stderr, "vhost_tx: no memory table / vring / vring base\n");
		free(mem);
		return -1;
	}
	d = (uint64_t)(uintptr_t)vr.desc;
	a = (uint64_t)(uintptr_t)vr.avail;
	u = (uint64_t)(uintptr_t)vr.used;
	for (i = 0; i < mem->nregions; i++)
		fprintf(stderr, "vhost_tx: region %u: gpa 0x%lx uva 0x%lx size 0x%lx\n", i,
			(unsigned long)mem->regions[i].guest_phys_addr,
			(unsigned long)mem->regions[i].guest_user_addr,
			(unsigned long)mem->regions[i].size);
	/* the window: the region holding the ring (eg_tx has one window) */
	lo = d < a ? (d < u ? d : u) : (a < u ? a : u);
	r = region_of(mem, d, VIRTQ_DESC_BYTES(vr.size));
	if (!r || region_of(mem, a, VIRTQ_AVAIL_BYTES(vr.size)) != r ||
	    region_of(mem, u, VIRTQ_USED_BYTES(vr.size)) != r) {
		fprintf(stderr, "vhost_tx: the ring is not in one memory region\n");
		free(mem);
		return -1;
	}
	memset(&cfg, 0, sizeof(cfg));
	cfg.win = (void *)(uintptr_t)r->host_user_addr;
	cfg.win_gpa = r->guest_phys_addr;
	cfg.win_len = r->size;
	cfg.desc_gpa = d - r->host_user_addr + r->guest_phys_addr;
	cfg.avail_gpa = a - r->host_user_addr + r->guest_phys_addr;
	cfg.used_gpa = u - r->host_user_addr + r->guest_phys_addr;
	cfg.qsize = vr.size;
	cfg.features = features;
	cfg.last_avail_idx = last_avail;
	cfg.used_idx = last_used;
	cfg.notify = eg_kick;
	cfg.notify_ctx = e;
	e->vid = vid;
	if (e->handed && (last_avail != e->hand_avail || last_used != e->hand_used)) {
		fprintf(stderr, "vhost_tx: the library's vring base %u/%u is not the %u/%u handed back\n",
			last_avail, last_used, e->hand_avail, e->hand_used);
		e->hand_diff++;
	}
	rc = eg_txq_init(&e->q, &cfg);
	fprintf(stderr, "vhost_tx: eg_txq_init: %d: window gpa 0x%lx len 0x%lx (region %ld of %u), "
		"desc/avail/used gpa 0x%lx/0x%lx/0x%lx (ring at +0x%lx), qsize %u, "
		"last_avail %u used %u, features 0x%lx\n", rc,
		(unsigned long)cfg.win_gpa, (unsigned long)cfg.win_len,
		(long)(r - mem->regions), mem->nregions, (unsigned long)cfg.desc_gpa,
		(unsigned long)cfg.avail_gpa, (unsigned long)cfg.used_gpa,
		(unsigned long)(lo - r->host_user_addr), vr.size, last_avail, last_used,
		(unsigned long)features);
	free(mem);
	if (rc != EG_TX_INIT_OK)
		return -1;
	e->have_q = 1;
	return 0;
}

/* Hand the ring state back to the library (for GET_VRING_BASE). */
static void eg_park(struct eg_side *e)
{
	if (!e->have_q)
		return;
	rte_vhost_set_vring_base(e->vid, RXQ, e->q.last_avail_idx, e->q.used_idx);
	e->handed = 1;
	e->hand_avail = e->q.last_avail_idx;
	e->hand_used = e->q.used_idx;
	e->have_q = 0;
}

static uint64_t eg_errors(const struct eg_tx_stats *st)
{
	return st->err_pkt_len + st->err_too_small + st->err_avail_idx +
	       st->err_head + st->err_next + st->err_loop + st->err_indirect +
	       st->err_not_write + st->err_zero_len + st->err_bounds +
	       st->err_ring_overlap + st->chains_dropped;
}

/* ---------------------------------------------------------------- main -- */

/* "--name value" from argv (argv[0] the program's name), or NULL */
static const char *arg_str(int argc, char **argv, const char *name)
{
	int i;

	for (i = 1; i + 1 < argc; i++)
		if (!strcmp(argv[i], name))
			return argv[i + 1];
	return NULL;
}

int main(int argc, char **argv)
{
	struct rte_mbuf *pool[POOL], *mb[EG_TX_BURST_MAX];
	struct eg_tx_pkt pk[EG_TX_BURST_MAX];
	static struct eg_side eg;
	struct rte_mempool *mp;
	const char *mode, *sock;
	uint64_t hz, seq = 0, sent = 0, calls = 0, cyc = 0, full_calls = 0, full_cyc = 0;
	uint64_t features = 0, t_print, sent_print = 0, t0, t1;
	uint32_t size, batch, pend = 0, i, k;
	int use_eg, n, vid = -1, rc = 0, gen = 0, resumes = 0;

	n = rte_eal_init(argc, argv);
	if (n < 0) {
		fprintf(stderr, "vhost_tx: rte_eal_init failed\n");
		return 2;
	}
	argc -= n;
	argv += n;
	mode = arg_str(argc, argv, "--mode");
	sock = arg_str(argc, argv, "--socket");
	size = (uint32_t)arg_long(argc, argv, "--size", 64);
	batch = (uint32_t)arg_long(argc, argv, "--batch", 32);
	if (!mode || !sock || (strcmp(mode, "vhost") && strcmp(mode, "eg")) ||
	    size < PKT_MIN || size > PKT_MAX || batch < 1 || batch > EG_TX_BURST_MAX) {
		fprintf(stderr, "usage: vhost_tx <EAL options> -- --mode vhost|eg --socket PATH "
			"--size %u..%u [--batch 1..%u]\n", PKT_MIN, PKT_MAX, EG_TX_BURST_MAX);
		return 2;
	}
	use_eg = !strcmp(mode, "eg");
	hz = rte_get_tsc_hz();

	mp = rte_pktmbuf_pool_create("vhost_tx", 2 * POOL - 1, 0, 0,
				     RTE_MBUF_DEFAULT_BUF_SIZE, rte_socket_id());
	if (!mp) {
		fprintf(stderr, "vhost_tx: mbuf pool: %s\n", rte_strerror(rte_errno));
		return 2;
	}
	for (i = 0; i < POOL; i++) {
		uint8_t *p;

		pool[i] = rte_pktmbuf_alloc(mp);
		p = pool[i] ? (uint8_t *)rte_pktmbuf_append(pool[i], (uint16_t)size) : NULL;
		if (!p) {
			fprintf(stderr, "vhost_tx: mbuf %u\n", i);
			return 2;
		}
		make_packet(p, size);
	}

	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGUSR1, on_signal);
	signal(SIGUSR2, on_signal);
	if (rte_vhost_driver_register(sock, 0) ||
	    rte_vhost_driver_disable_features(sock, EG_REFUSED) ||
	    rte_vhost_driver_callback_register(sock, &ops) ||
	    rte_vhost_driver_start(sock)) {
		fprintf(stderr, "vhost_tx: vhost-user server on %s failed\n", sock);
		return 2;
	}
	fprintf(stderr, "vhost_tx: mode %s, size %u, batch %u, listening on %s, tsc %.0f MHz\n",
		mode, size, batch, sock, hz / 1e6);

	t_print = tsc();
	while (!quit && !stop_tx) {
		if (!go || !__atomic_load_n(&running, __ATOMIC_SEQ_CST) ||
		    __atomic_load_n(&hold, __ATOMIC_SEQ_CST)) {
			if (!__atomic_load_n(&parked, __ATOMIC_SEQ_CST)) {
				eg_park(&eg);
				__atomic_store_n(&parked, 1, __ATOMIC_SEQ_CST);
			}
			usleep(100);
			continue;
		}
		if (__atomic_load_n(&parked, __ATOMIC_SEQ_CST)) {
			__atomic_store_n(&parked, 0, __ATOMIC_SEQ_CST);
			if (!__atomic_load_n(&running, __ATOMIC_SEQ_CST) ||
			    __atomic_load_n(&hold, __ATOMIC_SEQ_CST))
				continue;
			vid = __atomic_load_n(&dev_vid, __ATOMIC_SEQ_CST);
			gen = __atomic_load_n(&new_devices, __ATOMIC_SEQ_CST);
			rte_vhost_get_negotiated_features(vid, &features);
			/*
			 * Both senders poll: the driver need not kick after each
			 * refill.  As DPDK's net_vhost does for every vring
			 * (rte_eth_vhost.c, new_device()): used->flags gets
			 * NO_NOTIFY, which eg_tx never writes.  A sender that
			 * waits for the driver's notification when the ring is
			 * full needs it clear; this loop polls instead.
			 */
			if (rte_vhost_enable_guest_notification(vid, RXQ, 0))
				fprintf(stderr, "vhost_tx: guest notifications stay on\n");
			resumes++;
			fprintf(stderr, "vhost_tx: device %d running (start %d, resume %d), features 0x%lx\n",
				vid, gen, resumes, (unsigned long)features);
			if (use_eg && eg_setup(&eg, vid, features)) {
				rc = 1;
				break;
			}
			t_print = tsc();
			sent_print = sent;
		}
		/* new packets behind the ones the last call left pending */
		for (; pend < batch; pend++, seq++) {
			struct rte_mbuf *m = pool[seq & (POOL - 1)];
			uint8_t *p = rte_pktmbuf_mtod(m, uint8_t *);

			memcpy(p + SEQ_OFF, &seq, sizeof(seq));
			mb[pend] = m;
			pk[pend].data = p;
			pk[pend].len = size;
		}
		t0 = tsc();
		if (use_eg)
			k = eg_tx_burst(&eg.q, pk, batch, &eg.st);
		else
			k = rte_vhost_enqueue_burst(vid, RXQ, mb, (uint16_t)batch);
		t1 = tsc();
		cyc += t1 - t0;
		calls++;
		sent += k;
		if (k == batch) {
			full_cyc += t1 - t0;
			full_calls++;
		} else {
			memmove(mb, mb + k, (batch - k) * sizeof(mb[0]));
			memmove(pk, pk + k, (batch - k) * sizeof(pk[0]));
			if (!k)
				rte_pause();
		}
		pend = batch - k;
		if (t1 - t_print >= hz) {
			printf("  Tx-pps: %12.0f\n", (double)(sent - sent_print) * hz / (t1 - t_print));
			fflush(stdout);
			t_print = t1;
			sent_print = sent;
		}
	}
	if (!__atomic_load_n(&parked, __ATOMIC_SEQ_CST)) {
		eg_park(&eg);
		__atomic_store_n(&parked, 1, __ATOMIC_SEQ_CST);
	}
	if (use_eg && eg.st.sent != sent)
		rc = 1;
	printf("vhost_tx: mode=%s size=%u batch=%u tx_pkts=%lu tx_calls=%lu full_calls=%lu "
	       "cyc_pkt=%.1f cyc_pkt_full=%.1f tsc_mhz=%.0f features=0x%lx version_1=%d "
	       "mrg_rxbuf=%d event_idx=%d indirect_desc=%d in_order=%d packed=%d "
	       "starts=%d resumes=%d base_diff=%d kicks=%lu eg_kicks=%lu errors=%lu\n",
	       mode, size, batch, (unsigned long)sent, (unsigned long)calls,
	       (unsigned long)full_calls, sent ? (double)cyc / sent : 0.0,
	       full_calls ? (double)full_cyc / (full_calls * batch) : 0.0, hz / 1e6,
	       (unsigned long)features, !!(features & (1ull << VIRTIO_F_VERSION_1)),
	       !!(features & (1ull << VIRTIO_NET_F_MRG_RXBUF)),
	       !!(features & (1ull << VIRTIO_F_EVENT_IDX)),
	       !!(features & (1ull << VIRTIO_F_INDIRECT_DESC)),
	       !!(features & (1ull << VIRTIO_F_IN_ORDER)),
	       !!(features & (1ull << VIRTIO_F_RING_PACKED)),
	       gen, resumes, eg.hand_diff, (unsigned long)__atomic_load_n(&guest_kicks, __ATOMIC_RELAXED),
	       (unsigned long)eg.st.notifies, (unsigned long)eg_errors(&eg.st));
	fflush(stdout);
	if (eg_errors(&eg.st))
		rc = 1;
	/* stay connected until told to quit: the receiver drains the ring */
	while (!quit)
		usleep(10000);
	rte_vhost_driver_unregister(sock);
	for (i = 0; i < POOL; i++)
		rte_pktmbuf_free(pool[i]);
	rte_eal_cleanup();
	return rc;
}
