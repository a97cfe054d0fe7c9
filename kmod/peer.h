/* SPDX-License-Identifier: GPL-2.0 */
/* The peer side of windows (peer.c): invalidation, refill. */
#ifndef EPTGATE_PEER_H
#define EPTGATE_PEER_H

#include <linux/types.h>
#include <linux/workqueue.h>

struct eg_vm;
struct eg_window;
struct kvm_vcpu;

/* What an EPT violation in a view comes to (hook.c, peer.c). */
enum eg_fill {
	/* mapped: resume in the view */
	EG_FILL_DONE,
	/* allowed, but not now: KVM's own fault handling brings the page */
	EG_FILL_RETRY,
	/* a window page is being pinned again (peer.c): resume in the view */
	EG_FILL_WAIT,
	/* the view does not allow it: fall back */
	EG_FILL_DENIED,
};

int eg_peer_invalidate(struct eg_vm *peer, unsigned long start,
		       unsigned long end, bool blockable);
enum eg_fill eg_window_fault(struct eg_vm *vm, struct kvm_vcpu *vcpu,
			     struct eg_window *w, u64 gpa, u64 qual);
void eg_peer_slots_changed(struct eg_vm *peer);
void eg_window_zap(struct eg_window *w, unsigned long first,
		   unsigned long last);
void eg_peer_windows_unpin(struct eg_vm *peer);
u64 eg_peer_seq(struct eg_vm *peer, bool *busy);
void eg_window_settle(struct eg_window *w, u64 seq);
void eg_window_forget(struct eg_window *w);
void eg_window_unpin_all(struct eg_window *w);
void eg_vm_refill_work(struct work_struct *work);

#endif /* EPTGATE_PEER_H */
