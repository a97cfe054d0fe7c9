/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Views (view.c): an alternate EPT hierarchy of a bound VM, its own-RAM
 * ranges, and the windows that map a peer VM's memory into it.
 */
#ifndef EPTGATE_VIEW_H
#define EPTGATE_VIEW_H

#include <linux/list.h>
#include <linux/mm_types.h>
#include <linux/types.h>
#include <linux/eptgate.h>

#include "range.h"

struct eg_vm;
struct eg_grant;
struct eg_trampoline;

struct eg_view_stats {
	u64 switches, exits, ept_violations, lazy_fills, fallbacks, zaps;
	u64 event_fallbacks, doorbells, fill_retries;
};

struct eg_view {
	u32 id;
	u64 instance;			/* unique per eg_vm: eg_vm.view_seq */
	u64 eptp;			/* eg_make_eptp(root) */
	u64 *root;			/* PML4 page */
	struct eg_range_set ranges;	/* RAM ranges and windows */
	struct eg_view_stats stats;	/* under mmu_lock */
	unsigned int users;		/* MMU-notifier zaps in flight, mmu_lock */
	struct eg_trampoline *tramp;	/* set under mmu_lock, or NULL */
	/*
	 * A zeroed page of the module's, from creation to destruction: what
	 * the addresses of a window whose peer revoked it map (RW, lazily),
	 * so that a vCPU inside the trampoline finishes its call instead of
	 * falling back in the middle of it.  Its leaves hold no reference.
	 */
	struct page *sink;
};

/*
 * A window.  Created and freed under eg_mutex; on its peer's peer_windows
 * under eg_mutex and the peer's win_lock (the peer's MMU notifier walks
 * the list with win_lock only).  pages[i] is the pinned peer page behind
 * window page i, or NULL: never pinned yet, or unpinned after the peer's
 * host page went away (peer.c); a pointer leaves the array only under
 * the owner's mmu_lock, and is unpinned by whoever took it, after the
 * INVEPT that follows the zap of its leaf.
 */
struct eg_window {
	struct eg_vm *owner;		/* the VM whose view maps it */
	struct eg_view *view_ptr;	/* outlives the window */
	u32 view;
	u32 access;
	u64 gpa, len;
	struct eg_vm *peer;
	u64 peer_gpa;
	unsigned long peer_hva;		/* peer_gpa in the peer's mm, at pin */
	struct list_head peer_node;	/* peer->peer_windows, RCU */
	struct eg_grant *grant;		/* made from, or NULL (binding) */
	struct list_head grant_node;	/* grant->windows, eg_mutex */
	unsigned long npages;
	struct page **pages;		/* pinned with FOLL_PIN, or NULL */
};

int eg_view_pick_id(struct eg_vm *vm, struct eptgate_view *arg);
int eg_view_create(struct eg_vm *vm, struct eptgate_view *arg);
int eg_view_destroy(struct eg_vm *vm, u32 id);
void eg_view_destroy_all(struct eg_vm *vm);
int eg_view_set_access(struct eg_vm *vm, const struct eptgate_access *a);
int eg_view_map_window(struct eg_vm *vm, const struct eptgate_window *arg,
		       struct eg_vm *peer, struct eg_grant *grant);
int eg_view_unmap_window(struct eg_vm *vm, const struct eptgate_window *arg);
void eg_view_unmap_peer_windows(struct eg_vm *peer);
void eg_window_unmap(struct eg_window *w);
void eg_window_revoke(struct eg_window *w);
void eg_view_fill_list(struct eg_vm *vm, u64 *list);
void eg_zap_range_all_views(struct eg_vm *vm, u64 gfn_start, u64 gfn_end);

#endif /* EPTGATE_VIEW_H */
