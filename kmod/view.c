// SPDX-License-Identifier: GPL-2.0
/*
 * Views: creation and destruction, the own-RAM ranges they mirror, and
 * the windows that map a peer VM's memory into them.  Process context.
 * The control plane (the ioctls, eg_vm_revalidate()) runs under eg_mutex;
 * eg_zap_range_all_views() is the MMU notifier's and takes only
 * mmu_lock.  Each function asserts what it needs.
 */
#include <linux/mm.h>
#include <linux/slab.h>
#include <linux/vmalloc.h>
#include "compat.h"
#include "ept.h"
#include "ept_entry.h"
#include "grant.h"
#include "hook.h"
#include "main.h"
#include "memslot.h"
#include "peer.h"
#include "range.h"
#include "trampoline.h"
#include "view.h"
#include "vm.h"

/* EPTP-list entry @id as every vCPU should see it; mmu_lock held. */
static u64 eg_list_entry(struct eg_vm *vm, u32 id)
{
	struct eg_view *view = eg_vm_view(vm, id);

	lockdep_assert_held(&vm->mmu_lock);
	return view && !vm->suspended ? view->eptp : 0;
}

/* Fills entries 1.. of an EPTP list; mmu_lock held. */
void eg_view_fill_list(struct eg_vm *vm, u64 *list)
{
	u32 id;

	lockdep_assert_held(&vm->mmu_lock);
	for (id = 1; id < EPTGATE_MAX_VIEWS; id++)
		list[id] = eg_list_entry(vm, id);
}

/* Publishes view @id's entry in every vCPU's list; mmu_lock held. */
static void eg_view_publish(struct eg_vm *vm, u32 id)
{
	struct eg_vcpu *vs;
	unsigned long i;

	lockdep_assert_held(&vm->mmu_lock);
	id = array_index_nospec(id, EPTGATE_MAX_VIEWS);
	xa_for_each(&vm->vcpus, i, vs)
		WRITE_ONCE(vs->eptp_list[id], eg_list_entry(vm, id));
	eg_vm_hook_changed(vm);	/* while paused, the entry writes it */
}

/*
 * The id CREATE_VIEW gets: @arg->view, or the first free one if it is 0.
 * -ENOSPC or -EEXIST otherwise.
 */
int eg_view_pick_id(struct eg_vm *vm, struct eptgate_view *arg)
{
	u32 id = arg->view;

	lockdep_assert_held(&eg_mutex);
	if (!id) {
		for (id = 1; id < EPTGATE_MAX_VIEWS && vm->views[id]; id++)
			;
		if (id == EPTGATE_MAX_VIEWS)
			return eg_reject(-ENOSPC, "all views in use");
	} else if (eg_vm_view(vm, id)) {
		return eg_reject(-EEXIST, "view exists");
	}
	arg->view = id;
	return 0;
}

/* Creates view @arg->view, a free id from eg_view_pick_id(). */
int eg_view_create(struct eg_vm *vm, struct eptgate_view *arg)
{
	struct eg_view *view;
	u32 id = arg->view;

	lockdep_assert_held(&eg_mutex);
	id = array_index_nospec(id, EPTGATE_MAX_VIEWS);
	view = kzalloc(sizeof(*view), GFP_KERNEL_ACCOUNT);
	if (!view)
		return -ENOMEM;
	view->sink = alloc_page(GFP_KERNEL_ACCOUNT | __GFP_ZERO);
	view->root = eg_ept_alloc_table(GFP_KERNEL);
	if (!view->root || !view->sink) {
		if (view->root)
			eg_ept_free_tables(view->root);
		if (view->sink)
			__free_page(view->sink);
		kfree(view);
		return -ENOMEM;
	}
	atomic64_inc(&eg_counters.table_pages);	/* the sink */
	view->id = id;
	view->eptp = eg_make_eptp(__pa(view->root), eg_caps.eptp_mt);

	raw_spin_lock(&vm->mmu_lock);
	view->instance = ++vm->view_seq;
	vm->views[id] = view;
	eg_view_publish(vm, id);
	raw_spin_unlock(&vm->mmu_lock);
	arg->view = id;
	return 0;
}

static int eg_view_build_tables(struct eg_vm *vm, struct eg_view *view,
				u64 gpa, u64 len);

/*
 * Zaps own-RAM leaves of every view in [gfn_start, gfn_end).  Called by
 * the MMU notifier without eg_mutex: a view in use here is pinned by
 * view->users, and eg_view_destroy_one() waits for it.
 */
void eg_zap_range_all_views(struct eg_vm *vm, u64 gfn_start, u64 gfn_end)
{
	struct eg_view *view;
	bool last;
	u32 id;

	for (id = 1; id < EPTGATE_MAX_VIEWS; id++) {
		raw_spin_lock(&vm->mmu_lock);
		view = vm->views[id];
		if (view)
			view->users++;
		raw_spin_unlock(&vm->mmu_lock);
		if (!view)
			continue;
		eg_view_zap(vm, view, gfn_start << PAGE_SHIFT,
			    gfn_end << PAGE_SHIFT, EG_EPT_SW_REF);
		raw_spin_lock(&vm->mmu_lock);
		last = !--view->users;
		raw_spin_unlock(&vm->mmu_lock);
		/* The wait queue's lock is a spinlock_t: not under mmu_lock. */
		if (last)
			wake_up_all(&vm->view_users_wq);
	}
}

/* No zap of the notifier holds the view any more; mmu_lock not held. */
static bool eg_view_unused(struct eg_vm *vm, struct eg_view *view)
{
	bool unused;

	raw_spin_lock(&vm->mmu_lock);
	unused = !view->users;
	raw_spin_unlock(&vm->mmu_lock);
	return unused;
}

/* After its leaves are zapped and INVEPT'd; eg_mutex. */
static void eg_window_free(struct eg_window *w)
{
	lockdep_assert_held(&eg_mutex);
	mutex_lock(&w->peer->win_lock);
	list_del_rcu(&w->peer_node);
	mutex_unlock(&w->peer->win_lock);
	eg_window_forget(w);
	/* The memslot kprobe walks peer_windows under RCU. */
	synchronize_rcu();
	eg_window_unpin_all(w);
	list_del(&w->grant_node);
	kvfree(w->pages);
	kfree(w);
}

/*
 * The peer revoked @w (its grant, its binding, its process): the window's
 * addresses stay reserved in the view as a sink range, whose pages map
 * the view's sink page when touched, and the window goes (zap, INVEPT,
 * unpin).  A vCPU in the middle of the trampoline then finishes its call
 * against a ring of zeros (nothing posted: back-pressure) instead of
 * falling back into the default view half way, where its stack is not.
 * eg_mutex.
 */
void eg_window_revoke(struct eg_window *w)
{
	struct eg_vm *vm = w->owner;
	struct eg_view *view = eg_vm_view(vm, w->view);

	lockdep_assert_held(&eg_mutex);
	raw_spin_lock(&vm->mmu_lock);
	eg_range_orphan(&view->ranges, w, EG_RANGE_SINK, EG_EPT_R | EG_EPT_W);
	raw_spin_unlock(&vm->mmu_lock);
	eg_view_zap(vm, view, w->gpa, w->gpa + w->len, EG_EPT_SW_WINDOW);
	/* 4 KiB tables where 2 MiB window leaves were: the sink is 4 KiB */
	eg_view_build_tables(vm, view, w->gpa, w->len);
	eg_window_free(w);
}

/* Removes a window from its view: zap, INVEPT, unpin. */
void eg_window_unmap(struct eg_window *w)
{
	struct eg_vm *vm = w->owner;
	struct eg_view *view = eg_vm_view(vm, w->view);

	raw_spin_lock(&vm->mmu_lock);
	eg_range_remove(&view->ranges, w->gpa, w->len);
	raw_spin_unlock(&vm->mmu_lock);
	eg_view_zap(vm, view, w->gpa, w->gpa + w->len, 0);
	eg_window_free(w);
}

/*
 * Destroys a view: no vCPU can enter it any more once its list entries
 * are cleared and every vCPU has been kicked out of guest mode; then its
 * entries are zapped, INVEPT'd and released, and its tables freed.
 */
static void eg_view_destroy_one(struct eg_vm *vm, u32 id)
{
	struct eg_view *view;
	unsigned int i;

	lockdep_assert_held(&eg_mutex);
	id = array_index_nospec(id, EPTGATE_MAX_VIEWS);
	view = vm->views[id];
	raw_spin_lock(&vm->mmu_lock);
	vm->views[id] = NULL;
	eg_view_publish(vm, id);
	raw_spin_unlock(&vm->mmu_lock);
	eg_vm_kick_all(vm);
	wait_event(vm->view_users_wq, eg_view_unused(vm, view));

	/* Every leaf goes, with INVEPT, before any window page is unpinned. */
	eg_view_zap(vm, view, 0, EG_GPA_LIMIT, 0);
	eg_invept_all(view->eptp);
	for (i = 0; i < view->ranges.nr; i++) {
		struct eg_range *r = &view->ranges.r[i];

		if (r->kind == EG_RANGE_WINDOW)
			eg_window_free(r->owner);
	}
	view->ranges.nr = 0;
	eg_trampoline_free(view->tramp);
	eg_ept_free_tables(view->root);
	__free_page(view->sink);	/* its leaves went with the zap */
	atomic64_dec(&eg_counters.table_pages);
	kfree(view);
}

int eg_view_destroy(struct eg_vm *vm, u32 id)
{
	if (!eg_vm_view(vm, id))
		return eg_reject(-ENOENT, "no such view");
	/* a vCPU inside its trampoline finishes the call first */
	if (vm->enabled && !eg_vm_drain(vm, id))
		pr_warn_ratelimited("eptgate: DESTROY_VIEW: a vCPU stayed in view %u; put back in the default view\n",
				    id);
	eg_view_destroy_one(vm, id);
	return 0;
}

void eg_view_destroy_all(struct eg_vm *vm)
{
	u32 id;

	for (id = 1; id < EPTGATE_MAX_VIEWS; id++)
		if (vm->views[id])
			eg_view_destroy_one(vm, id);
}

/*
 * Builds the page tables of a RAM range, down to the 4 KiB page tables
 * (one per 2 MiB), so that lazy fill, which runs in the hook under
 * mmu_lock with interrupts off, only writes leaves and never allocates.
 * Tables stay until the view is destroyed.
 */
static int eg_view_build_tables(struct eg_vm *vm, struct eg_view *view,
				u64 gpa, u64 len)
{
	struct eg_ept_cache cache = { .nr = 0 };
	u64 addr, end = gpa + len;
	u64 *sptep;
	int r = 0;

	for (addr = gpa; addr < end;
	     addr = (addr | (EG_HPAGE_SIZE - 1)) + 1) {
		r = eg_ept_cache_topup(&cache, GFP_KERNEL_ACCOUNT);
		if (r)
			break;
		raw_spin_lock(&vm->mmu_lock);
		sptep = eg_ept_walk(view->root, addr, PG_LEVEL_4K, &cache);
		raw_spin_unlock(&vm->mmu_lock);
		if (!sptep) {
			r = eg_reject(-EEXIST, "range collides with a 2 MiB mapping");
			break;
		}
		cond_resched();
	}
	eg_ept_cache_free(&cache);
	return r;
}

int eg_view_set_access(struct eg_vm *vm, const struct eptgate_access *a)
{
	struct eg_view *view = eg_vm_view(vm, a->view);
	const struct eg_range *r;
	int ret;

	lockdep_assert_held(&eg_mutex);
	if (!view)
		return eg_reject(-ENOENT, "no such view");
	if (!a->access) {
		raw_spin_lock(&vm->mmu_lock);
		r = eg_range_find(&view->ranges, a->gpa);
		ret = r && r->kind == EG_RANGE_RAM ?
		      eg_range_remove(&view->ranges, a->gpa, a->len) : -ENOENT;
		raw_spin_unlock(&vm->mmu_lock);
		if (ret)
			return eg_reject(ret, "no RAM range starts at gpa with this length");
		eg_view_zap(vm, view, a->gpa, a->gpa + a->len, 0);
		return 0;
	}
	if (!eg_in_memslots(vm->kvm, a->gpa, a->len))
		return eg_reject(-ENOENT, "range not inside the VM's memslots");
	raw_spin_lock(&vm->mmu_lock);
	ret = eg_range_insert(&view->ranges, a->gpa, a->len, a->access,
			      EG_RANGE_RAM, NULL);
	raw_spin_unlock(&vm->mmu_lock);
	if (ret == -EEXIST)
		return eg_reject(ret, "range overlaps a range or window of the view");
	if (ret)
		return eg_reject(ret, "too many ranges in the view");
	ret = eg_view_build_tables(vm, view, a->gpa, a->len);
	if (ret) {
		raw_spin_lock(&vm->mmu_lock);
		eg_range_remove(&view->ranges, a->gpa, a->len);
		raw_spin_unlock(&vm->mmu_lock);
	}
	return ret;
}

/* Pins the peer's [peer_gpa, +len), which must lie in one memslot. */
static int eg_window_pin(struct eg_window *w)
{
	struct kvm *kvm = w->peer->kvm;
	struct kvm_memory_slot *slot;
	unsigned long hva, done = 0;
	long n;
	int idx;

	w->npages = w->len >> PAGE_SHIFT;
	idx = srcu_read_lock(&kvm->srcu);
	slot = eg_slot_covering(kvm, w->peer_gpa >> PAGE_SHIFT, w->npages);
	hva = slot ? __gfn_to_hva_memslot(slot, w->peer_gpa >> PAGE_SHIFT) : 0;
	srcu_read_unlock(&kvm->srcu, idx);
	if (!slot)
		return eg_reject(-ENOENT, "peer range not inside one memslot of the peer");
	w->peer_hva = hva;
	w->pages = kvcalloc(w->npages, sizeof(*w->pages), GFP_KERNEL_ACCOUNT);
	if (!w->pages)
		return -ENOMEM;
	if (!mmget_not_zero(kvm->mm))
		return eg_reject(-ESRCH, "peer's address space is gone");
	mmap_read_lock(kvm->mm);
	while (done < w->npages) {
		n = eg_pin_user_pages_remote(kvm->mm, hva + done * PAGE_SIZE,
					     w->npages - done,
					     FOLL_WRITE | FOLL_LONGTERM,
					     w->pages + done);
		if (n <= 0)
			break;
		done += n;
	}
	mmap_read_unlock(kvm->mm);
	mmput(kvm->mm);
	if (done < w->npages) {
		unpin_user_pages(w->pages, done);
		return eg_reject(-EFAULT, "cannot pin the peer's memory");
	}
	atomic64_add(w->npages, &eg_counters.pages_pinned);
	return 0;
}

/* Whether pages[i..i+512) are one physically contiguous, aligned 2 MiB. */
static bool eg_window_huge_at(struct eg_window *w, unsigned long i)
{
	const unsigned long n = KVM_PAGES_PER_HPAGE(PG_LEVEL_2M);
	unsigned long pfn = page_to_pfn(w->pages[i]), j;

	if (!(eg_caps.caps & EPTGATE_CAP_EPT_2M) ||
	    ((w->gpa + i * PAGE_SIZE) & (EG_HPAGE_SIZE - 1)) ||
	    (pfn & (n - 1)) || i + n > w->npages)
		return false;
	for (j = 1; j < n; j++)
		if (page_to_pfn(w->pages[i + j]) != pfn + j)
			return false;
	return true;
}

/*
 * Installs a window's leaves; the range is reserved already.  A 2 MiB leaf
 * only where nothing is mapped at the PDE yet (a table left by a former
 * RAM range stays, and the chunk gets 4 KiB leaves).
 */
static int eg_window_populate(struct eg_vm *vm, struct eg_view *view,
			      struct eg_window *w)
{
	struct eg_ept_cache cache = { .nr = 0 };
	unsigned long i = 0;
	int r = 0;

	while (i < w->npages) {
		u64 gpa = w->gpa + i * PAGE_SIZE;
		int level = eg_window_huge_at(w, i) ? PG_LEVEL_2M : PG_LEVEL_4K;
		u64 *sptep;

		r = eg_ept_cache_topup(&cache, GFP_KERNEL_ACCOUNT);
		if (r)
			break;
		raw_spin_lock(&vm->mmu_lock);
		sptep = eg_ept_walk(view->root, gpa, level, &cache);
		if (level == PG_LEVEL_2M && sptep && eg_ept_present(*sptep)) {
			level = PG_LEVEL_4K;
			sptep = eg_ept_walk(view->root, gpa, level, &cache);
		}
		if (sptep && !eg_ept_present(*sptep))
			WRITE_ONCE(*sptep,
				   eg_ept_make_leaf(page_to_phys(w->pages[i]),
						    w->access, level,
						    EG_EPT_SW_WINDOW));
		else
			sptep = NULL;
		raw_spin_unlock(&vm->mmu_lock);
		if (!sptep) {
			r = eg_reject(-EEXIST, "window collides with a mapping");
			break;
		}
		i += KVM_PAGES_PER_HPAGE(level);
	}
	eg_ept_cache_free(&cache);
	return r;
}

/* MAP_WINDOW with EPTGATE_WINDOW_UNMAP: a window, or what a revoked one left. */
int eg_view_unmap_window(struct eg_vm *vm, const struct eptgate_window *arg)
{
	struct eg_view *view = eg_vm_view(vm, arg->view);
	const struct eg_range *rg;
	struct eg_window *w;

	lockdep_assert_held(&eg_mutex);
	if (!view)
		return eg_reject(-ENOENT, "no such view");
	raw_spin_lock(&vm->mmu_lock);
	rg = eg_range_find(&view->ranges, arg->gpa);
	if (rg && rg->start == arg->gpa &&
	    rg->end == arg->gpa + arg->len && rg->kind == EG_RANGE_SINK) {
		/* what a revoked window left: its addresses go now */
		eg_range_remove(&view->ranges, arg->gpa, arg->len);
		raw_spin_unlock(&vm->mmu_lock);
		eg_view_zap(vm, view, arg->gpa, arg->gpa + arg->len, 0);
		return 0;
	}
	w = rg && rg->kind == EG_RANGE_WINDOW && rg->start == arg->gpa &&
	    rg->end == arg->gpa + arg->len ? rg->owner : NULL;
	raw_spin_unlock(&vm->mmu_lock);
	if (!w)
		return eg_reject(-ENOENT, "no window at gpa with this length");
	eg_window_unmap(w);
	return 0;
}

/*
 * MAP_WINDOW: maps @peer's range into the view, made from @grant (NULL:
 * from the peer's binding fd); binding.c found both from peer_fd.
 */
int eg_view_map_window(struct eg_vm *vm, const struct eptgate_window *arg,
		       struct eg_vm *peer, struct eg_grant *grant)
{
	struct eg_view *view = eg_vm_view(vm, arg->view);
	struct eg_window *w;
	bool busy;
	u64 seq;
	int r;

	lockdep_assert_held(&eg_mutex);
	if (!view)
		return eg_reject(-ENOENT, "no such view");
	if (peer == vm)
		return eg_reject(-EINVAL, "a window maps another VM, not the VM itself");

	w = kzalloc(sizeof(*w), GFP_KERNEL_ACCOUNT);
	if (!w)
		return -ENOMEM;
	*w = (struct eg_window){ .owner = vm, .view = arg->view,
				 .access = arg->access, .gpa = arg->gpa,
				 .len = arg->len, .peer = peer,
				 .peer_gpa = arg->peer_gpa, .grant = grant };
	w->view_ptr = view;
	INIT_LIST_HEAD(&w->peer_node);
	INIT_LIST_HEAD(&w->grant_node);
	seq = eg_peer_seq(peer, &busy);
	r = eg_window_pin(w);
	if (r) {
		kvfree(w->pages);
		kfree(w);
		return r;
	}
	mutex_lock(&peer->win_lock);
	list_add_rcu(&w->peer_node, &peer->peer_windows);
	mutex_unlock(&peer->win_lock);
	if (grant)
		list_add(&w->grant_node, &grant->windows);

	raw_spin_lock(&vm->mmu_lock);
	r = eg_range_insert(&view->ranges, w->gpa, w->len, w->access,
			    EG_RANGE_WINDOW, w);
	raw_spin_unlock(&vm->mmu_lock);
	if (r) {
		eg_window_free(w);
		return eg_reject(r, r == -EEXIST ?
				 "window overlaps a range or window of the view" :
				 "too many ranges in the view");
	}
	r = eg_window_populate(vm, view, w);
	if (r) {
		eg_window_unmap(w);
		return r;
	}
	/* Pinned during an invalidation of the peer: refill lazily. */
	if (busy)
		seq = ~0ULL;
	eg_window_settle(w, seq);
	return 0;
}

/* A peer goes away: every window of other VMs that maps it is revoked. */
void eg_view_unmap_peer_windows(struct eg_vm *peer)
{
	struct eg_window *w, *tmp;

	lockdep_assert_held(&eg_mutex);
	list_for_each_entry_safe(w, tmp, &peer->peer_windows, peer_node)
		eg_window_revoke(w);
}
