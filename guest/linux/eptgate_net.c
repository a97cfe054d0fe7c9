// SPDX-License-Identifier: GPL-2.0
/*
 * eptgate_net: the sending guest's side of the eptgate fast path.
 *
 * Binds to QEMU's eptgate-pci device (uapi/linux/eptgate_pci.h), hands it
 * the signed trampoline (request_firmware()), and is a point-to-point
 * Ethernet device whose frames are copied into the peer's virtio-net RX
 * ring by calling the trampoline (Documentation/trampoline.rst), with no
 * VM exit but the doorbell.  Tx only: the peer answers on its own path.
 * See Documentation/guest.rst.
 */
#include <linux/debugfs.h>
#include <linux/etherdevice.h>
#include <linux/ethtool.h>
#include <linux/firmware.h>
#include <linux/if_arp.h>
#include <linux/interrupt.h>
#include <linux/kdebug.h>
#include <linux/module.h>
#include <linux/netdevice.h>
#include <linux/pci.h>
#include <linux/rtnetlink.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/timer.h>
#include <linux/vmalloc.h>
#include <linux/workqueue.h>
#include <asm/trapnr.h>
#include <linux/eptgate.h>
#include <linux/eptgate_pci.h>
#include "eg_tramp_abi.h"
#include "eg_tx.h"

#define EG_DRV_NAME	"eptgate_net"
#define EG_LINK_POLL	(HZ / 10)	/* status page poll */
#define EG_RETRY	1		/* jiffies: a busy trampoline, or no MSI */
#define EG_SPACE_WAIT	HZ		/* back-pressure without a space interrupt */

static char *firmware = "eptgate/tramp.signed";
module_param(firmware, charp, 0444);
MODULE_PARM_DESC(firmware, "signed trampoline blob, a request_firmware() name");

static char *lower = "";
module_param(lower, charp, 0444);
MODULE_PARM_DESC(lower, "interface for what the fast path does not carry (broadcast, multicast, everything while it is down), e.g. eth0; empty: dropped and counted");

static bool space_irq = true;
module_param(space_irq, bool, 0444);
MODULE_PARM_DESC(space_irq, "wake a queue stopped by back-pressure on the receiver's kick (the device's MSI 0); off: retried every jiffy");

/* Driver counters: the first part of `ethtool -S`. */
struct eg_counters {
	u64 tx_packets;		/* delivered (EG_TX_OK) */
	u64 tx_bytes;
	u64 calls;		/* trampoline calls */
	u64 backpressure;	/* calls that finished fewer than the batch */
	u64 retries;		/* retry timer flushes */
	u64 queue_stops;
	u64 err_pkt_len;	/* per-packet EG_TX_E_PKT_LEN */
	u64 err_too_small;	/* per-packet EG_TX_E_TOO_SMALL */
	u64 err_status;		/* per-packet status the driver does not know */
	u64 call_not_in_view;	/* EG_TR_E_NOT_IN_VIEW */
	u64 call_busy;		/* EG_TR_E_BUSY: retried */
	u64 call_batch;		/* EG_TR_E_BATCH */
	u64 call_params;	/* EG_TR_E_PARAMS */
	u64 call_irqs_on;	/* EG_TR_E_IRQS_ON */
	u64 call_other;		/* any other result, or more than the batch */
	u64 drop_call_failed;	/* frames of a failed call */
	u64 drop_no_link;	/* frames while the status page says DOWN */
	u64 drop_runt;		/* shorter than an Ethernet header */
	u64 drop_oversize;	/* longer than a slot or the peer's MTU */
	u64 vmfunc_ud;		/* VMFUNC #UD in the trampoline (view gone) */
	u64 link_up;		/* fast path up transitions */
	u64 link_down;		/* fast path down transitions */
	u64 fallback_packets;	/* frames handed to the lower device */
	u64 fallback_bytes;
	u64 fallback_no_link;	/* ... because the fast path was down */
	u64 fallback_multicast;	/* ... because not unicast to the peer */
	u64 fallback_errors;	/* dev_queue_xmit() on the lower said no */
	u64 drop_no_lower;	/* no fast path and no lower device */
	u64 drop_no_peer;	/* unicast with no peer MAC known yet */
	u64 space_irqs;		/* the receiver posted buffers (MSI 0) */
	u64 space_wakes;	/* ... and the queue went on after it */
	u64 retry_wakes;	/* the queue went on after a retry timer */
};

static const char eg_counter_names[][ETH_GSTRING_LEN] = {
	"tx_packets", "tx_bytes", "calls", "backpressure", "retries",
	"queue_stops", "err_pkt_len", "err_too_small", "err_status",
	"call_not_in_view", "call_busy", "call_batch", "call_params",
	"call_irqs_on", "call_other", "drop_call_failed", "drop_no_link",
	"drop_runt", "drop_oversize", "vmfunc_ud", "link_up", "link_down",
	"fallback_packets", "fallback_bytes", "fallback_no_link",
	"fallback_multicast", "fallback_errors", "drop_no_lower",
	"drop_no_peer", "space_irqs", "space_wakes", "retry_wakes",
};

static_assert(ARRAY_SIZE(eg_counter_names) * sizeof(u64) ==
	      sizeof(struct eg_counters));

/* The mailbox's struct eg_tx_stats, in order, prefixed "tramp_". */
static const char eg_tx_stat_names[][ETH_GSTRING_LEN] = {
	"tramp_sent", "tramp_bytes", "tramp_used", "tramp_bursts",
	"tramp_publishes", "tramp_notifies", "tramp_backpressure",
	"tramp_err_pkt_len", "tramp_err_too_small", "tramp_err_avail_idx",
	"tramp_err_head", "tramp_err_next", "tramp_err_loop",
	"tramp_err_indirect", "tramp_err_not_write", "tramp_err_zero_len",
	"tramp_err_bounds", "tramp_err_ring_overlap", "tramp_chains_dropped",
	"tramp_notify_asks",
};

static_assert(ARRAY_SIZE(eg_tx_stat_names) * sizeof(u64) ==
	      sizeof(struct eg_tx_stats));
static_assert(sizeof(struct eg_tx_stats) <=
	      sizeof(((struct eg_tramp_mailbox *)0)->stats));
static_assert(sizeof(struct eg_tramp_mailbox) <=
	      EG_PCI_STATUS_OFF - EG_PCI_MAILBOX_OFF);
static_assert(EG_PCI_PKT_SLOTS <= EG_TR_BATCH_MAX);

/* The status page, last read consistently. */
static const char eg_link_names[][ETH_GSTRING_LEN] = {
	"status_state", "status_view", "status_install_errno",
	"status_mtu", "status_links_up", "status_links_down",
};

#define EG_NSTATS (ARRAY_SIZE(eg_counter_names) + \
		   ARRAY_SIZE(eg_tx_stat_names) + ARRAY_SIZE(eg_link_names))

struct eg_link {
	u32 gen;
	u32 state;
	u32 view;
	s32 install_errno;
	u8 peer_mac[ETH_ALEN];
	u16 mtu;
	u64 links_up;
	u64 links_down;
};

struct eg_net {
	struct pci_dev *pdev;
	struct net_device *ndev;
	void __iomem *regs;		/* BAR 0 */
	u8 *t;				/* BAR 2, executable: T */
	size_t t_len;
	const struct firmware *fw;
	struct eg_tramp_mailbox *mb;
	const struct eg_pci_status *st;
	u8 *pkt;			/* the packet area */

	/* lock: the slots, the mailbox, the counters, link; irqs off */
	spinlock_t lock;
	u32 head;			/* first pending slot */
	u32 pending;			/* slots [head, head + pending) */
	u16 len[EG_PCI_PKT_SLOTS];
	struct eg_link link;
	struct eg_counters c;
	struct eg_tx_stats tx;		/* the mailbox's, after the last call */

	struct timer_list retry;
	int irq;			/* the space interrupt, or -1: none */
	struct delayed_work link_work;
	bool stopping;
	bool fast_up;			/* link_work's last view of the link */
	s32 install_errno_seen;
	struct notifier_block die_nb;

	/*
	 * The lower device (module parameter "lower"): a reference held
	 * from NETDEV_REGISTER (or probe) until NETDEV_UNREGISTER (or
	 * remove); read under RCU in xmit, written under rtnl.
	 */
	struct net_device __rcu *lower;
	struct notifier_block netdev_nb;

	struct dentry *dbg;		/* debugfs: wild_mailbox */
	u32 wild_case;			/* the last wild call: its case, */
	long wild_result;		/* ... and what the trampoline said */
};

typedef long (*eg_tramp_fn)(u32 view);

/*
 * The status page is written by QEMU while this vCPU runs: a seqcount
 * (gen odd while written).  False if no stable copy was seen.
 */
static bool eg_read_status(const struct eg_pci_status *st, struct eg_link *l)
{
	int tries;

	for (tries = 0; tries < 1000; tries++) {
		u32 gen = READ_ONCE(st->gen);

		if (gen & 1) {
			cpu_relax();
			continue;
		}
		smp_rmb();	/* gen before the fields (QEMU: fields, then gen) */
		l->state = READ_ONCE(st->state);
		l->view = READ_ONCE(st->view);
		l->install_errno = READ_ONCE(st->install_errno);
		memcpy(l->peer_mac, (const void *)st->peer_mac, ETH_ALEN);
		l->mtu = READ_ONCE(st->mtu);
		l->links_up = READ_ONCE(st->links_up);
		l->links_down = READ_ONCE(st->links_down);
		smp_rmb();	/* the fields before gen again */
		if (READ_ONCE(st->gen) == gen) {
			l->gen = gen;
			return true;
		}
	}
	return false;
}

static bool eg_link_up(const struct eg_link *l)
{
	return l->state == EG_PCI_STATE_UP && is_valid_ether_addr(l->peer_mac);
}

/* Frames still in slots that will not be sent: counted, never silent. */
static void eg_drop_pending(struct eg_net *en, u64 *counter)
{
	*counter += en->pending;
	en->head = (en->head + en->pending) % EG_PCI_PKT_SLOTS;
	en->pending = 0;
}

static void eg_count_result(struct eg_net *en, long r)
{
	switch (r) {
	case EG_TR_E_NOT_IN_VIEW:
		en->c.call_not_in_view++;
		break;
	case EG_TR_E_BUSY:
		en->c.call_busy++;
		break;
	case EG_TR_E_BATCH:
		en->c.call_batch++;
		break;
	case EG_TR_E_PARAMS:
		en->c.call_params++;
		break;
	case EG_TR_E_IRQS_ON:
		en->c.call_irqs_on++;
		break;
	default:
		en->c.call_other++;
		break;
	}
}

/* Frames wait in their slots: the queue stops until a flush sends them. */
static void eg_hold(struct eg_net *en, unsigned long delay)
{
	lockdep_assert_held(&en->lock);
	if (!netif_queue_stopped(en->ndev)) {
		netif_stop_queue(en->ndev);
		en->c.queue_stops++;
	}
	mod_timer(&en->retry, jiffies + delay);
}

/*
 * Send the pending slots as one batch.  Called with en->lock held (so
 * with interrupts off, as the trampoline requires).  Returns true if
 * frames remain pending (back-pressure: the retry timer is armed).
 */
static bool eg_flush(struct eg_net *en)
{
	struct eg_tramp_mailbox *mb = en->mb;
	eg_tramp_fn fn = (eg_tramp_fn)en->t;
	u32 n = en->pending, i;
	long r;

	if (!n)
		return false;
	if (!eg_read_status(en->st, &en->link) || !eg_link_up(&en->link)) {
		eg_drop_pending(en, &en->c.drop_no_link);
		mod_delayed_work(system_wq, &en->link_work, 0);
		return false;
	}
	WRITE_ONCE(mb->count, n);
	for (i = 0; i < n; i++) {
		u32 s = (en->head + i) % EG_PCI_PKT_SLOTS;

		WRITE_ONCE(mb->pkt[i].off, s * EG_PCI_PKT_SLOT);
		WRITE_ONCE(mb->pkt[i].len, en->len[s]);
	}
	en->c.calls++;
	r = fn(en->link.view);
	memcpy(&en->tx, (const void *)mb->stats, sizeof(en->tx));

	if (r == EG_TR_E_BUSY) {
		eg_count_result(en, r);
		eg_hold(en, EG_RETRY);
		return true;
	}
	if (r < 0 || r > n) {
		eg_count_result(en, r);
		eg_drop_pending(en, &en->c.drop_call_failed);
		if (r == EG_TR_E_NOT_IN_VIEW)
			mod_delayed_work(system_wq, &en->link_work, 0);
		return false;
	}
	for (i = 0; i < r; i++) {
		u32 s = (en->head + i) % EG_PCI_PKT_SLOTS;

		switch (READ_ONCE(mb->status[i])) {
		case EG_TX_OK:
			en->c.tx_packets++;
			en->c.tx_bytes += en->len[s];
			break;
		case EG_TX_E_PKT_LEN:
			en->c.err_pkt_len++;
			break;
		case EG_TX_E_TOO_SMALL:
			en->c.err_too_small++;
			break;
		default:
			en->c.err_status++;
			break;
		}
	}
	en->head = (en->head + r) % EG_PCI_PKT_SLOTS;
	en->pending -= r;
	if (!en->pending)
		return false;
	en->c.backpressure++;
	/*
	 * The receiver's ring is full.  The trampoline has asked its driver
	 * to notify when it posts again (avail_event); that kick reaches us
	 * as the space interrupt, which flushes.  The timer only backs it up
	 * (a lost interrupt, a device without MSI).
	 */
	eg_hold(en, en->irq >= 0 ? EG_SPACE_WAIT : EG_RETRY);
	return true;
}

/*
 * A hostile guest's calls, for the pair test (debugfs wild_mailbox):
 * mailboxes no honest driver writes.  The trampoline must refuse each
 * one whole (EG_TR_E_BATCH) before it writes anything into the peer.
 */
struct eg_wild {
	u32 count;
	u32 off[2], len[2];
};

static const struct eg_wild eg_wild_cases[] = {
	{ U32_MAX, },					/* count far out */
	{ EG_TR_BATCH_MAX + 1, { 0, 0 }, { 64, 64 } },	/* one past the array */
	{ 1, { EG_PCI_PKT_LEN }, { 64 } },		/* past the packet area */
	{ 1, { EG_PCI_PKT_LEN - 32 }, { 64 } },		/* across its end */
	{ 1, { 0 }, { U32_MAX } },			/* a length that wraps */
	{ 2, { 0, U32_MAX - 63 }, { 64, 64 } },		/* a good one, then wild */
};

/* One call with eg_wild_cases[@k]: the trampoline's result, or -EAGAIN. */
static long eg_wild_call(struct eg_net *en, unsigned int k)
{
	const struct eg_wild *w = &eg_wild_cases[k];
	struct eg_tramp_mailbox *mb = en->mb;
	unsigned long flags;
	long r = -EAGAIN;
	unsigned int i;

	spin_lock_irqsave(&en->lock, flags);
	if (en->pending || !eg_read_status(en->st, &en->link) ||
	    !eg_link_up(&en->link))
		goto out;
	WRITE_ONCE(mb->count, w->count);
	for (i = 0; i < ARRAY_SIZE(w->off); i++) {
		WRITE_ONCE(mb->pkt[i].off, w->off[i]);
		WRITE_ONCE(mb->pkt[i].len, w->len[i]);
	}
	en->c.calls++;
	r = ((eg_tramp_fn)en->t)(en->link.view);
	memcpy(&en->tx, (const void *)mb->stats, sizeof(en->tx));
	eg_count_result(en, r);
	WRITE_ONCE(mb->count, 0);
out:
	spin_unlock_irqrestore(&en->lock, flags);
	return r;
}

/* Writing N (1-based) makes call N of eg_wild_cases[]; -EAGAIN: no link. */
static ssize_t eg_wild_write(struct file *f, const char __user *buf,
			     size_t len, loff_t *ppos)
{
	struct eg_net *en = file_inode(f)->i_private;
	unsigned int k;
	long r;
	int ret;

	ret = kstrtouint_from_user(buf, len, 0, &k);
	if (ret)
		return ret;
	if (!k || k > ARRAY_SIZE(eg_wild_cases))
		return -EINVAL;
	r = eg_wild_call(en, k - 1);
	if (r == -EAGAIN)
		return r;
	WRITE_ONCE(en->wild_case, k);
	WRITE_ONCE(en->wild_result, r);
	return len;
}

/* "CASE RESULT\n" of the last call; "CASES" cases exist. */
static ssize_t eg_wild_read(struct file *f, char __user *buf, size_t len,
			    loff_t *ppos)
{
	struct eg_net *en = file_inode(f)->i_private;
	char line[48];
	int n;

	n = scnprintf(line, sizeof(line), "%u %ld %zu\n",
		      READ_ONCE(en->wild_case), READ_ONCE(en->wild_result),
		      ARRAY_SIZE(eg_wild_cases));
	return simple_read_from_buffer(buf, len, ppos, line, n);
}

static const struct file_operations eg_wild_fops = {
	.owner = THIS_MODULE,
	.open = simple_open,
	.read = eg_wild_read,
	.write = eg_wild_write,
	.llseek = default_llseek,
};

static struct dentry *eg_debugfs;	/* <debugfs>/eptgate_net */

/* The space interrupt: the receiver posted buffers; send what waits. */
static irqreturn_t eg_space_irq(int irq, void *data)
{
	struct eg_net *en = data;
	unsigned long flags;

	spin_lock_irqsave(&en->lock, flags);
	en->c.space_irqs++;
	if (en->pending && !eg_flush(en) && netif_running(en->ndev) &&
	    netif_queue_stopped(en->ndev) && !en->stopping) {
		del_timer(&en->retry);	/* its backup is not needed */
		netif_wake_queue(en->ndev);
		en->c.space_wakes++;
	}
	spin_unlock_irqrestore(&en->lock, flags);
	return IRQ_HANDLED;
}

static void eg_retry_timer(struct timer_list *t)
{
	struct eg_net *en = from_timer(en, t, retry);
	unsigned long flags;

	spin_lock_irqsave(&en->lock, flags);
	en->c.retries++;
	if (!eg_flush(en) && netif_running(en->ndev) &&
	    netif_queue_stopped(en->ndev) && !en->stopping) {
		netif_wake_queue(en->ndev);
		en->c.retry_wakes++;
	}
	spin_unlock_irqrestore(&en->lock, flags);
}

/*
 * What the fast path does not carry goes to the lower device as it is,
 * with the peer's MAC as its destination if it is unicast (eg0 does no
 * ARP: the peer is the one receiver).  Called with en->lock held, which
 * it drops: dev_queue_xmit() may take the lower device's locks.  xmit
 * runs under rcu_read_lock_bh() (__dev_queue_xmit()).
 */
static netdev_tx_t eg_xmit_lower(struct eg_net *en, struct sk_buff *skb,
				 u64 *reason, unsigned long flags)
	__releases(&en->lock)
{
	struct net_device *lower = rcu_dereference_bh(en->lower);
	u32 len = skb->len;

	lockdep_assert_held(&en->lock);
	if (!lower) {
		en->c.drop_no_lower++;
		goto drop;
	}
	if (is_unicast_ether_addr(skb->data)) {
		if (!is_valid_ether_addr(en->link.peer_mac)) {
			en->c.drop_no_peer++;
			goto drop;
		}
		/* a clone's header is shared: write a copy of our own */
		if (skb_ensure_writable(skb, ETH_HLEN)) {
			en->c.fallback_errors++;
			goto drop;
		}
		ether_addr_copy(skb->data, en->link.peer_mac);
	}
	(*reason)++;
	spin_unlock_irqrestore(&en->lock, flags);

	skb->dev = lower;
	if (dev_queue_xmit(skb) != NET_XMIT_SUCCESS) {
		spin_lock_irqsave(&en->lock, flags);
		en->c.fallback_errors++;
		spin_unlock_irqrestore(&en->lock, flags);
		return NETDEV_TX_OK;
	}
	spin_lock_irqsave(&en->lock, flags);
	en->c.fallback_packets++;
	en->c.fallback_bytes += len;
	spin_unlock_irqrestore(&en->lock, flags);
	return NETDEV_TX_OK;

drop:
	spin_unlock_irqrestore(&en->lock, flags);
	dev_kfree_skb_any(skb);
	return NETDEV_TX_OK;
}

static netdev_tx_t eg_start_xmit(struct sk_buff *skb, struct net_device *ndev)
{
	struct eg_net *en = netdev_priv(ndev);
	unsigned long flags;
	u32 s, len = skb->len;
	u8 *slot;

	spin_lock_irqsave(&en->lock, flags);
	if (len < ETH_HLEN) {
		en->c.drop_runt++;
		goto out;
	}
	/* skb->data is the Ethernet header, linear (dev_hard_header()) */
	if (!is_unicast_ether_addr(skb->data))
		return eg_xmit_lower(en, skb, &en->c.fallback_multicast, flags);
	if (!eg_link_up(&en->link))
		return eg_xmit_lower(en, skb, &en->c.fallback_no_link, flags);
	if (len > EG_PCI_PKT_SLOT ||
	    (en->link.mtu && len > ETH_HLEN + en->link.mtu)) {
		en->c.drop_oversize++;
		goto out;
	}
	/* the queue is stopped whenever all slots are pending */
	if (WARN_ON_ONCE(en->pending == EG_PCI_PKT_SLOTS)) {
		en->c.drop_oversize++;
		goto out;
	}
	s = (en->head + en->pending) % EG_PCI_PKT_SLOTS;
	slot = en->pkt + s * EG_PCI_PKT_SLOT;
	/* no SG/CSUM/GSO features: the stack gave a finished frame */
	if (skb_copy_bits(skb, 0, slot, len)) {
		en->c.drop_runt++;
		goto out;
	}
	/* point to point: every frame goes to the one receiver */
	ether_addr_copy(slot, en->link.peer_mac);
	en->len[s] = len;
	en->pending++;
	if (!netdev_xmit_more() || en->pending == EG_PCI_PKT_SLOTS)
		eg_flush(en);
	if (en->pending == EG_PCI_PKT_SLOTS && !netif_queue_stopped(ndev)) {
		netif_stop_queue(ndev);
		en->c.queue_stops++;
	}
out:
	spin_unlock_irqrestore(&en->lock, flags);
	dev_consume_skb_any(skb);
	return NETDEV_TX_OK;
}

/* Carrier and MTU follow the status page; process context, for rtnl. */
static void eg_link_work(struct work_struct *w)
{
	struct eg_net *en = container_of(to_delayed_work(w), struct eg_net,
					 link_work);
	struct net_device *ndev = en->ndev;
	struct net_device *lower_dev;
	unsigned long flags;
	struct eg_link l;
	bool up, carrier;

	if (!eg_read_status(en->st, &l))
		goto again;
	up = eg_link_up(&l);
	rcu_read_lock();
	lower_dev = rcu_dereference(en->lower);
	carrier = up || (lower_dev && netif_carrier_ok(lower_dev));
	rcu_read_unlock();
	if (l.install_errno != en->install_errno_seen) {
		en->install_errno_seen = l.install_errno;
		if (l.install_errno)
			netdev_err(ndev, "eptgate refused the trampoline %s: %pe\n",
				   firmware, ERR_PTR(l.install_errno));
	}
	if (up == en->fast_up && carrier == netif_carrier_ok(ndev) &&
	    l.gen == en->link.gen)
		goto again;

	rtnl_lock();
	if (ndev->reg_state != NETREG_REGISTERED) {
		rtnl_unlock();
		return;
	}
	if (up && l.mtu >= ETH_MIN_MTU) {
		ndev->max_mtu = min_t(u32, l.mtu, EG_PCI_PKT_SLOT - ETH_HLEN);
		if (ndev->mtu > ndev->max_mtu)
			dev_set_mtu(ndev, ndev->max_mtu);
	}
	lower_dev = rtnl_dereference(en->lower);
	spin_lock_irqsave(&en->lock, flags);
	en->link = l;
	if (!up)
		eg_drop_pending(en, &en->c.drop_no_link);
	if (up && !en->fast_up) {
		en->c.link_up++;
		netdev_info(ndev, "link up: view %u, peer %pM, mtu %u\n",
			    l.view, l.peer_mac, l.mtu);
	} else if (!up && en->fast_up) {
		en->c.link_down++;
		netdev_info(ndev, "link down%s%s\n",
			    lower_dev ? ": falling back to " : "",
			    lower_dev ? lower_dev->name : "");
	}
	en->fast_up = up;
	if (carrier && !netif_carrier_ok(ndev))
		netif_carrier_on(ndev);
	else if (!carrier && netif_carrier_ok(ndev))
		netif_carrier_off(ndev);
	if (netif_running(ndev) && netif_queue_stopped(ndev) && !en->pending)
		netif_wake_queue(ndev);
	spin_unlock_irqrestore(&en->lock, flags);
	rtnl_unlock();
again:
	if (!READ_ONCE(en->stopping))
		queue_delayed_work(system_wq, &en->link_work, EG_LINK_POLL);
}

static int eg_open(struct net_device *ndev)
{
	struct eg_net *en = netdev_priv(ndev);

	netif_start_queue(ndev);
	mod_delayed_work(system_wq, &en->link_work, 0);
	return 0;
}

static int eg_stop(struct net_device *ndev)
{
	struct eg_net *en = netdev_priv(ndev);
	unsigned long flags;

	/* no xmit runs now (dev_deactivate); with nothing pending the
	 * retry timer does not re-arm, so del_timer_sync() is final
	 */
	netif_stop_queue(ndev);
	spin_lock_irqsave(&en->lock, flags);
	eg_drop_pending(en, &en->c.drop_no_link);
	spin_unlock_irqrestore(&en->lock, flags);
	del_timer_sync(&en->retry);
	return 0;
}

static void eg_get_stats64(struct net_device *ndev,
			   struct rtnl_link_stats64 *s)
{
	struct eg_net *en = netdev_priv(ndev);
	unsigned long flags;

	spin_lock_irqsave(&en->lock, flags);
	/* both paths; ethtool -S tells them apart */
	s->tx_packets = en->c.tx_packets + en->c.fallback_packets;
	s->tx_bytes = en->c.tx_bytes + en->c.fallback_bytes;
	s->tx_errors = en->c.err_pkt_len + en->c.err_too_small +
		       en->c.err_status + en->c.fallback_errors;
	s->tx_dropped = en->c.drop_call_failed + en->c.drop_no_link +
			en->c.drop_runt + en->c.drop_oversize +
			en->c.drop_no_lower + en->c.drop_no_peer;
	s->tx_carrier_errors = en->c.drop_no_link;
	spin_unlock_irqrestore(&en->lock, flags);
}

static const struct net_device_ops eg_netdev_ops = {
	.ndo_open = eg_open,
	.ndo_stop = eg_stop,
	.ndo_start_xmit = eg_start_xmit,
	.ndo_get_stats64 = eg_get_stats64,
	.ndo_set_mac_address = eth_mac_addr,
	.ndo_validate_addr = eth_validate_addr,
};

static int eg_get_sset_count(struct net_device *ndev, int sset)
{
	return sset == ETH_SS_STATS ? EG_NSTATS : -EOPNOTSUPP;
}

static void eg_get_strings(struct net_device *ndev, u32 sset, u8 *data)
{
	if (sset != ETH_SS_STATS)
		return;
	memcpy(data, eg_counter_names, sizeof(eg_counter_names));
	data += sizeof(eg_counter_names);
	memcpy(data, eg_tx_stat_names, sizeof(eg_tx_stat_names));
	data += sizeof(eg_tx_stat_names);
	memcpy(data, eg_link_names, sizeof(eg_link_names));
}

static void eg_get_ethtool_stats(struct net_device *ndev,
				 struct ethtool_stats *stats, u64 *data)
{
	struct eg_net *en = netdev_priv(ndev);
	unsigned long flags;
	struct eg_link l;

	spin_lock_irqsave(&en->lock, flags);
	memcpy(data, &en->c, sizeof(en->c));
	data += sizeof(en->c) / sizeof(u64);
	memcpy(data, &en->tx, sizeof(en->tx));
	data += sizeof(en->tx) / sizeof(u64);
	spin_unlock_irqrestore(&en->lock, flags);
	if (!eg_read_status(en->st, &l))
		memset(&l, 0, sizeof(l));
	*data++ = l.state;
	*data++ = l.view;
	*data++ = -l.install_errno;	/* a positive errno */
	*data++ = l.mtu;
	*data++ = l.links_up;
	*data++ = l.links_down;
}

static void eg_get_drvinfo(struct net_device *ndev,
			   struct ethtool_drvinfo *info)
{
	struct eg_net *en = netdev_priv(ndev);

	strscpy(info->driver, EG_DRV_NAME, sizeof(info->driver));
	strscpy(info->bus_info, pci_name(en->pdev), sizeof(info->bus_info));
	strscpy(info->fw_version, firmware, sizeof(info->fw_version));
}

static const struct ethtool_ops eg_ethtool_ops = {
	.get_drvinfo = eg_get_drvinfo,
	.get_link = ethtool_op_get_link,
	.get_sset_count = eg_get_sset_count,
	.get_strings = eg_get_strings,
	.get_ethtool_stats = eg_get_ethtool_stats,
};

/*
 * A VMFUNC whose view is gone (the link went down between the status
 * read and the call) raises #UD with the vCPU still in the default view.
 * Skipping that VMFUNC is then exactly "no switch": the trampoline sees
 * no canary and returns EG_TR_E_NOT_IN_VIEW instead of the guest oopsing.
 * Only the trampoline's code range, only a real VMFUNC there.
 */
static int eg_die_notify(struct notifier_block *nb, unsigned long val,
			 void *data)
{
	struct eg_net *en = container_of(nb, struct eg_net, die_nb);
	struct die_args *args = data;
	struct pt_regs *regs = args->regs;
	unsigned long ip = instruction_pointer(regs);
	unsigned long t = (unsigned long)en->t;
	const u8 *p;

	if (val != DIE_TRAP || args->trapnr != X86_TRAP_UD || user_mode(regs) ||
	    ip < t || ip + 3 > t + EG_PCI_DATA_OFF)
		return NOTIFY_DONE;
	p = (const u8 *)ip;
	if (p[0] != 0x0f || p[1] != 0x01 || p[2] != 0xd4)
		return NOTIFY_DONE;
	/* the faulting CPU is inside eg_flush(), holding en->lock */
	en->c.vmfunc_ud++;
	instruction_pointer_set(regs, ip + 3);
	return NOTIFY_STOP;
}

/*
 * vmap_pfn() maps with pgprot_nx(), whatever it is asked for; the code
 * pages at T must be executable, and are made read-only + executable in
 * place (x86's lookup_address(): the walk of init_mm is not exported
 * otherwise).  Nothing touched them through the new mapping yet, so no TLB
 * entry can allow more than the new PTEs; a stale NX one could only cause
 * a spurious fault, which x86 resolves against the PTE.
 */
static int eg_code_mkexec(void *t)
{
	unsigned long a = (unsigned long)t;
	unsigned int level;
	pte_t *pte;

	for (; a < (unsigned long)t + EPTGATE_TRAMPOLINE_CODE_MAX; a += PAGE_SIZE) {
		pte = lookup_address(a, &level);
		if (!pte || level != PG_LEVEL_4K || !pte_present(*pte))
			return -EFAULT;
		set_pte(pte, pte_mkexec(pte_wrprotect(*pte)));
	}
	return 0;
}

static int eg_map_bar(struct eg_net *en)
{
	struct pci_dev *pdev = en->pdev;
	resource_size_t start = pci_resource_start(pdev, EG_PCI_MEM_BAR);
	unsigned long *pfns;
	unsigned int i, n;
	int ret;

	en->t_len = pci_resource_len(pdev, EG_PCI_MEM_BAR);
	n = en->t_len >> PAGE_SHIFT;
	pfns = kvmalloc_array(n, sizeof(*pfns), GFP_KERNEL);
	if (!pfns)
		return -ENOMEM;
	for (i = 0; i < n; i++)
		pfns[i] = PHYS_PFN(start) + i;
	en->t = vmap_pfn(pfns, n, PAGE_KERNEL);
	kvfree(pfns);
	if (!en->t) {
		dev_err(&pdev->dev, "vmap_pfn of BAR %d (%u pages) failed\n",
			EG_PCI_MEM_BAR, n);
		return -ENOMEM;
	}
	ret = eg_code_mkexec(en->t);
	if (ret) {
		dev_err(&pdev->dev, "making the code at T executable: %pe\n",
			ERR_PTR(ret));
		vunmap(en->t);
		en->t = NULL;
		return ret;
	}
	en->mb = (struct eg_tramp_mailbox *)(en->t + EG_PCI_MAILBOX_OFF);
	en->st = (const struct eg_pci_status *)(en->t + EG_PCI_STATUS_OFF);
	en->pkt = en->t + EG_PCI_PKT_OFF;
	return 0;
}

/* The BARs and registers of a version-1 eptgate-pci, or -ENODEV. */
static int eg_check_device(struct eg_net *en)
{
	struct device *dev = &en->pdev->dev;
	struct pci_dev *pdev = en->pdev;

	if (!(pci_resource_flags(pdev, EG_PCI_REG_BAR) & IORESOURCE_MEM) ||
	    pci_resource_len(pdev, EG_PCI_REG_BAR) < EG_PCI_REG_STATE + 4) {
		dev_err(dev, "no register BAR %d (an eptgate-pci without registers?)\n",
			EG_PCI_REG_BAR);
		return -ENODEV;
	}
	if (!(pci_resource_flags(pdev, EG_PCI_MEM_BAR) & IORESOURCE_MEM)) {
		dev_err(dev, "no memory BAR %d\n", EG_PCI_MEM_BAR);
		return -ENODEV;
	}
	return 0;
}

static int eg_check_regs(struct eg_net *en)
{
	struct device *dev = &en->pdev->dev;
	u64 need, have;
	u32 v;

	v = ioread32(en->regs + EG_PCI_REG_MAGIC);
	if (v != EG_PCI_MAGIC) {
		dev_err(dev, "bad magic %#x, expected %#x\n", v, EG_PCI_MAGIC);
		return -ENODEV;
	}
	v = ioread32(en->regs + EG_PCI_REG_VERSION);
	if (v != EG_PCI_VERSION) {
		dev_err(dev, "device version %u, this driver knows %u\n", v,
			EG_PCI_VERSION);
		return -ENODEV;
	}
	v = ioread32(en->regs + EG_PCI_REG_WINDOW_LEN);
	need = EG_PCI_WINDOW_OFF + ((u64)v << 20);
	have = pci_resource_len(en->pdev, EG_PCI_MEM_BAR);
	if (!v || have < need) {
		dev_err(dev, "BAR %d is %llu bytes, the layout with a %u MiB window needs %llu\n",
			EG_PCI_MEM_BAR, have, v, need);
		return -ENODEV;
	}
	return 0;
}

static int eg_install(struct eg_net *en)
{
	struct device *dev = &en->pdev->dev;
	size_t max = min_t(size_t, EPTGATE_TRAMPOLINE_BLOB_MAX,
			   EG_PCI_PKT_OFF - EG_PCI_BLOB_OFF);
	int ret;
	s32 r;

	ret = request_firmware(&en->fw, firmware, dev);
	if (ret) {
		dev_err(dev, "request_firmware(%s): %pe\n", firmware,
			ERR_PTR(ret));
		return ret;
	}
	if (!en->fw->size || en->fw->size > max) {
		dev_err(dev, "%s is %zu bytes, the staging area takes 1..%zu\n",
			firmware, en->fw->size, max);
		return -EFBIG;
	}
	memcpy(en->t + EG_PCI_BLOB_OFF, en->fw->data, en->fw->size);
	iowrite32(en->fw->size, en->regs + EG_PCI_REG_BLOB_LEN);
	iowrite32(EG_PCI_CMD_INSTALL, en->regs + EG_PCI_REG_CMD);
	r = ioread32(en->regs + EG_PCI_REG_RESULT);
	if (r) {
		dev_err(dev, "the device refused %s (%zu bytes): %pe\n",
			firmware, en->fw->size, ERR_PTR(r < 0 ? r : -EIO));
		return r < 0 ? r : -EIO;
	}
	dev_info(dev, "%s staged (%zu bytes)\n", firmware, en->fw->size);
	return 0;
}

/*
 * The lower device is found by name, whenever a device of that name is
 * registered (or renamed to it) while there is none, and let go when it
 * is unregistered; its carrier changes eg0's (link_work).  Under rtnl.
 */
static int eg_netdev_event(struct notifier_block *nb, unsigned long event,
			   void *ptr)
{
	struct net_device *dev = netdev_notifier_info_to_dev(ptr);
	struct eg_net *en = container_of(nb, struct eg_net, netdev_nb);
	struct net_device *cur = rtnl_dereference(en->lower);

	ASSERT_RTNL();
	if (dev == en->ndev)
		return NOTIFY_DONE;
	switch (event) {
	case NETDEV_REGISTER:
	case NETDEV_CHANGENAME:
		if (cur || !*lower || strcmp(dev->name, lower) ||
		    dev->type != ARPHRD_ETHER)
			break;
		dev_hold(dev);
		rcu_assign_pointer(en->lower, dev);
		netdev_info(en->ndev, "lower device %s\n", dev->name);
		mod_delayed_work(system_wq, &en->link_work, 0);
		break;
	case NETDEV_UNREGISTER:
		if (dev != cur)
			break;
		RCU_INIT_POINTER(en->lower, NULL);
		synchronize_net();	/* no xmit holds it any more */
		dev_put(dev);
		netdev_info(en->ndev, "lower device %s gone\n", dev->name);
		mod_delayed_work(system_wq, &en->link_work, 0);
		break;
	case NETDEV_UP:
	case NETDEV_DOWN:
	case NETDEV_CHANGE:
		if (dev == cur)
			mod_delayed_work(system_wq, &en->link_work, 0);
		break;
	}
	return NOTIFY_DONE;
}

static void eg_free_irq(struct eg_net *en)
{
	if (en->irq < 0)
		return;
	free_irq(en->irq, en);
	pci_free_irq_vectors(en->pdev);
	en->irq = -1;
}

static void eg_free(struct eg_net *en)
{
	if (en->t)
		vunmap(en->t);
	release_firmware(en->fw);
	if (en->regs)
		pci_iounmap(en->pdev, en->regs);
	pci_release_regions(en->pdev);
	pci_disable_device(en->pdev);
}

static int eg_probe(struct pci_dev *pdev, const struct pci_device_id *id)
{
	struct net_device *ndev;
	struct eg_net *en;
	int ret;

	ndev = alloc_etherdev(sizeof(*en));
	if (!ndev)
		return -ENOMEM;
	SET_NETDEV_DEV(ndev, &pdev->dev);
	en = netdev_priv(ndev);
	en->pdev = pdev;
	en->ndev = ndev;
	spin_lock_init(&en->lock);
	timer_setup(&en->retry, eg_retry_timer, 0);
	INIT_DELAYED_WORK(&en->link_work, eg_link_work);

	ret = pci_enable_device(pdev);
	if (ret) {
		dev_err(&pdev->dev, "pci_enable_device: %pe\n", ERR_PTR(ret));
		goto err_free_netdev;
	}
	ret = eg_check_device(en);
	if (ret)
		goto err_disable;
	ret = pci_request_regions(pdev, EG_DRV_NAME);
	if (ret) {
		dev_err(&pdev->dev, "BARs busy: %pe\n", ERR_PTR(ret));
		goto err_disable;
	}
	en->regs = pci_iomap(pdev, EG_PCI_REG_BAR, 0);
	if (!en->regs) {
		dev_err(&pdev->dev, "pci_iomap of BAR %d failed\n",
			EG_PCI_REG_BAR);
		ret = -ENOMEM;
		goto err_release;
	}
	ret = eg_check_regs(en);
	if (ret)
		goto err_release;
	ret = eg_map_bar(en);
	if (ret)
		goto err_release;
	ret = eg_install(en);
	if (ret)
		goto err_release;
	/* MSI is a memory write of the device's: bus mastering */
	pci_set_master(pdev);
	en->irq = -1;
	if (space_irq && pci_alloc_irq_vectors(pdev, 1, 1, PCI_IRQ_MSI) == 1) {
		ret = request_irq(pci_irq_vector(pdev, 0), eg_space_irq, 0,
				  EG_DRV_NAME, en);
		if (!ret)
			en->irq = pci_irq_vector(pdev, 0);
		else
			pci_free_irq_vectors(pdev);
	}
	if (en->irq < 0)
		dev_warn(&pdev->dev, "%s: back-pressure is retried every jiffy\n",
			 space_irq ? "no MSI" : "space_irq=0");

	strscpy(ndev->name, "eg%d", sizeof(ndev->name));
	ndev->netdev_ops = &eg_netdev_ops;
	ndev->ethtool_ops = &eg_ethtool_ops;
	ndev->flags |= IFF_NOARP;
	/* no offloads: the stack completes checksums and segments */
	ndev->features = 0;
	ndev->hw_features = 0;
	ndev->min_mtu = ETH_MIN_MTU;
	ndev->max_mtu = EG_PCI_PKT_SLOT - ETH_HLEN;
	if (eg_read_status(en->st, &en->link) && en->link.mtu >= ETH_MIN_MTU)
		ndev->mtu = min_t(u32, en->link.mtu, ndev->max_mtu);
	en->link.state = EG_PCI_STATE_DOWN;	/* the work decides */
	en->link.gen = ~0u;
	eth_hw_addr_random(ndev);
	netif_carrier_off(ndev);

	en->die_nb.notifier_call = eg_die_notify;
	ret = register_die_notifier(&en->die_nb);
	if (ret)
		goto err_stop;
	ret = register_netdev(ndev);
	if (ret) {
		dev_err(&pdev->dev, "register_netdev: %pe\n", ERR_PTR(ret));
		goto err_die;
	}
	pci_set_drvdata(pdev, en);
	/* replays NETDEV_REGISTER of the devices there already */
	en->netdev_nb.notifier_call = eg_netdev_event;
	ret = register_netdevice_notifier(&en->netdev_nb);
	if (ret) {
		dev_err(&pdev->dev, "register_netdevice_notifier: %pe\n",
			ERR_PTR(ret));
		goto err_unregister;
	}
	queue_delayed_work(system_wq, &en->link_work, 0);
	en->dbg = debugfs_create_dir(pci_name(pdev), eg_debugfs);
	debugfs_create_file("wild_mailbox", 0600, en->dbg, en, &eg_wild_fops);
	netdev_info(ndev, "eptgate-pci %s: BAR %d %zu KiB mapped at T\n",
		    pci_name(pdev), EG_PCI_MEM_BAR, en->t_len >> 10);
	return 0;

err_unregister:
	WRITE_ONCE(en->stopping, true);
	unregister_netdev(ndev);
	cancel_delayed_work_sync(&en->link_work);
err_die:
	unregister_die_notifier(&en->die_nb);
err_stop:
	eg_free_irq(en);
	iowrite32(EG_PCI_CMD_STOP, en->regs + EG_PCI_REG_CMD);
err_release:
	eg_free(en);
	goto err_free_netdev;
err_disable:
	pci_disable_device(pdev);
err_free_netdev:
	free_netdev(ndev);
	return ret;
}

static void eg_remove(struct pci_dev *pdev)
{
	struct eg_net *en = pci_get_drvdata(pdev);
	struct net_device *ndev = en->ndev;

	debugfs_remove_recursive(en->dbg);	/* no wild call after */
	WRITE_ONCE(en->stopping, true);
	unregister_netdev(ndev);	/* eg_stop: no frame pending after */
	/* replays NETDEV_UNREGISTER: the lower device's reference goes */
	unregister_netdevice_notifier(&en->netdev_nb);
	cancel_delayed_work_sync(&en->link_work);
	eg_free_irq(en);
	del_timer_sync(&en->retry);
	iowrite32(EG_PCI_CMD_STOP, en->regs + EG_PCI_REG_CMD);
	unregister_die_notifier(&en->die_nb);
	eg_free(en);
	free_netdev(ndev);
}

static const struct pci_device_id eg_pci_ids[] = {
	{ PCI_DEVICE(EG_PCI_VENDOR_ID, EG_PCI_DEVICE_ID) },
	{ }
};
MODULE_DEVICE_TABLE(pci, eg_pci_ids);

static struct pci_driver eg_pci_driver = {
	.name = EG_DRV_NAME,
	.id_table = eg_pci_ids,
	.probe = eg_probe,
	.remove = eg_remove,
};

static int __init eg_init(void)
{
	int ret;

	eg_debugfs = debugfs_create_dir(EG_DRV_NAME, NULL);
	ret = pci_register_driver(&eg_pci_driver);
	if (ret)
		debugfs_remove_recursive(eg_debugfs);
	return ret;
}
module_init(eg_init);

static void __exit eg_exit(void)
{
	pci_unregister_driver(&eg_pci_driver);
	debugfs_remove_recursive(eg_debugfs);
}
module_exit(eg_exit);

MODULE_DESCRIPTION("eptgate fast path: the sending guest's netdev");
MODULE_LICENSE("GPL");
MODULE_FIRMWARE("eptgate/tramp.signed");
