// SPDX-License-Identifier: GPL-2.0
/*
 * The peer side of windows: a window follows the peer's host memory.
 *
 * A window pins the peer's pages, so they cannot be freed under it; but
 * the peer's process can still replace them (MADV_DONTNEED, as a balloon
 * does; munmap, mremap) and its guest then sees another page at that gpa
 * while the window would go on writing the old one.  The peer's MMU
 * notifier (mmu.c) calls eg_peer_invalidate() before such a change: the
 * windows' leaves over the range are zapped, INVEPT runs on every CPU,
 * and the old pages are unpinned, all before the host goes on.  A memslot
 * change of the peer (deleted, moved, dirty logging turned on) zaps every
 * window onto it from the memslot kprobe, before KVM_SET_USER_MEMORY_REGION
 * returns (eg_peer_slots_changed()): from then on no write through a
 * window escapes the peer's dirty log, and none reaches a page that is no
 * longer the peer's guest memory.
 *
 * A window page comes back lazily, when the owner touches it in the view.
 * The hook cannot pin another process's page (interrupts off), so it
 * queues the page on the owner (vm->refills) for eg_vm_refill_work() and
 * lets the vCPU retry the access in the view.  KVM handles the same exit
 * in its own EPT: where the window address is the owner's own RAM, KVM
 * maps that and the vCPU re-executes the access, in the view; over a hole
 * KVM would emulate the access as MMIO, so there the vCPU falls back to
 * the default view instead.  A refill pins the page the peer's memslots
 * map now (following a memslot that was deleted and added again over
 * other host memory), and maps it only if no invalidation of the peer ran
 * meanwhile (mmu_invalidate_seq, mmu_invalidate_in_progress: KVM's
 * protocol); it refuses while the peer logs dirty pages or has no memslot
 * holding the whole window, so the owner falls back then.
 */
#include <linux/sched.h>
#include "compat.h"
#include "ept.h"
#include "ept_entry.h"
#include "main.h"
#include "memslot.h"
#include "peer.h"
#include "view.h"
#include "vm.h"

/*
 * Whether an invalidation of @peer began or ended since @seq was read.
 * Called with the owner's mmu_lock held: the notifier raises
 * mmu_invalidate_in_progress before it takes that lock to zap, so a
 * refill that takes it after the zap sees the raise.
 */
static bool eg_peer_changed(struct eg_vm *peer, u64 seq)
{
	return READ_ONCE(peer->mmu_invalidate_in_progress) ||
	       READ_ONCE(peer->mmu_invalidate_seq) != seq;
}

/* @peer's invalidation sequence, and whether one is in flight. */
u64 eg_peer_seq(struct eg_vm *peer, bool *busy)
{
	u64 seq;

	raw_spin_lock(&peer->mmu_lock);
	seq = peer->mmu_invalidate_seq;
	*busy = peer->mmu_invalidate_in_progress;
	raw_spin_unlock(&peer->mmu_lock);
	return seq;
}

/*
 * Zaps window pages [first, last) of @w in its view, then INVEPT, also
 * when this call found no leaf: another zap may still be before its own.
 * The pages stay pinned.
 */
void eg_window_zap(struct eg_window *w, unsigned long first,
		   unsigned long last)
{
	eg_view_zap(w->owner, w->view_ptr, w->gpa + first * PAGE_SIZE,
		    w->gpa + last * PAGE_SIZE, EG_EPT_SW_WINDOW);
	eg_invept_all(w->view_ptr->eptp);
}

/*
 * Takes window pages [first, last) out of @w and unpins them.  Only after
 * their leaves are zapped and INVEPT'd.
 */
static void eg_window_unpin(struct eg_window *w, unsigned long first,
			    unsigned long last)
{
	struct eg_vm *vm = w->owner;
	struct page *page;
	unsigned long i;

	for (i = first; i < last; i++) {
		raw_spin_lock(&vm->mmu_lock);
		page = w->pages[i];
		w->pages[i] = NULL;
		raw_spin_unlock(&vm->mmu_lock);
		if (!page)
			continue;
		unpin_user_pages_dirty_lock(&page, 1,
					    w->access & EPTGATE_ACCESS_W);
		atomic64_dec(&eg_counters.pages_pinned);
	}
}

void eg_window_unpin_all(struct eg_window *w)
{
	eg_window_unpin(w, 0, w->npages);
}

/*
 * The peer's MMU notifier: the host range [start, end) of @peer's mm is
 * about to change.  0, or -EAGAIN when the caller may not block and a
 * window maps part of the range (unpinning may sleep).
 */
int eg_peer_invalidate(struct eg_vm *peer, unsigned long start,
		       unsigned long end, bool blockable)
{
	struct eg_window *w;

	if (list_empty_careful(&peer->peer_windows))
		return 0;
	if (!blockable) {
		bool hit = false;

		if (!mutex_trylock(&peer->win_lock))
			return -EAGAIN;
		list_for_each_entry(w, &peer->peer_windows, peer_node)
			hit |= start < w->peer_hva + w->len && end > w->peer_hva;
		mutex_unlock(&peer->win_lock);
		return hit ? -EAGAIN : 0;
	}
	mutex_lock(&peer->win_lock);
	list_for_each_entry(w, &peer->peer_windows, peer_node) {
		unsigned long lo = max(start, w->peer_hva);
		unsigned long hi = min(end, w->peer_hva + (unsigned long)w->len);

		if (lo >= hi)
			continue;
		lo = (lo - w->peer_hva) >> PAGE_SHIFT;
		hi = DIV_ROUND_UP(hi - w->peer_hva, PAGE_SIZE);
		eg_window_zap(w, lo, hi);
		eg_window_unpin(w, lo, hi);
	}
	mutex_unlock(&peer->win_lock);
	return 0;
}

/*
 * The memslots of @peer changed (memslot.c's kprobe, under
 * rcu_read_lock(), interrupts on): every window onto it loses its leaves
 * now; its pins go in @peer's revalidation, or when a page is refilled.
 */
void eg_peer_slots_changed(struct eg_vm *peer)
{
	struct eg_window *w;

	/* An invalidation, as the notifier's: refills wait for its end. */
	raw_spin_lock(&peer->mmu_lock);
	peer->mmu_invalidate_in_progress++;
	raw_spin_unlock(&peer->mmu_lock);
	list_for_each_entry_rcu(w, &peer->peer_windows, peer_node)
		eg_window_zap(w, 0, w->npages);
	raw_spin_lock(&peer->mmu_lock);
	peer->mmu_invalidate_in_progress--;
	peer->mmu_invalidate_seq++;
	raw_spin_unlock(&peer->mmu_lock);
}

/* @peer's revalidation: drops the pins its memslot change left. */
void eg_peer_windows_unpin(struct eg_vm *peer)
{
	struct eg_window *w;

	lockdep_assert_held(&eg_mutex);
	mutex_lock(&peer->win_lock);
	list_for_each_entry(w, &peer->peer_windows, peer_node) {
		eg_window_zap(w, 0, w->npages);
		eg_window_unpin_all(w);
	}
	mutex_unlock(&peer->win_lock);
}

/*
 * MAP_WINDOW, after the leaves are written: if the peer's memory changed
 * since @seq (read before the pages were pinned), the pages may be stale:
 * zap and unpin them all, and let the owner's accesses refill them.
 */
void eg_window_settle(struct eg_window *w, u64 seq)
{
	bool changed;

	raw_spin_lock(&w->owner->mmu_lock);
	changed = eg_peer_changed(w->peer, seq);
	raw_spin_unlock(&w->owner->mmu_lock);
	if (changed) {
		eg_window_zap(w, 0, w->npages);
		eg_window_unpin_all(w);
	}
}

/* Queues window page @index for eg_vm_refill_work(); mmu_lock held. */
static void eg_refill_queue(struct eg_vm *vm, struct eg_window *w,
			    unsigned long index)
{
	unsigned int i;

	lockdep_assert_held(&vm->mmu_lock);
	if (vm->dying)
		return;
	for (i = 0; i < vm->nr_refills; i++)
		if (vm->refills[i].w == w && vm->refills[i].index == index)
			break;
	if (i == vm->nr_refills && i < EG_REFILL_MAX)
		vm->refills[vm->nr_refills++] = (struct eg_refill){ w, index };
	queue_work(system_highpri_wq, &vm->refill_work);
	/* Let the worker run before this vCPU enters again (one CPU). */
	set_tsk_need_resched(current);
	set_preempt_need_resched();
}

/* A window goes (eg_mutex): no refill may name it any more. */
void eg_window_forget(struct eg_window *w)
{
	struct eg_vm *vm = w->owner;
	unsigned int i, n = 0;

	lockdep_assert_held(&eg_mutex);
	raw_spin_lock(&vm->mmu_lock);
	for (i = 0; i < vm->nr_refills; i++)
		if (vm->refills[i].w != w)
			vm->refills[n++] = vm->refills[i];
	vm->nr_refills = n;
	raw_spin_unlock(&vm->mmu_lock);
}

/**
 * eg_window_fault() - an EPT violation in a view, on a window page
 * @vm: the owner, mmu_lock held
 * @vcpu: the vCPU, in its exit
 * @w: the window the address lies in
 * @gpa: the faulting address
 * @qual: the access (EPT R/W/X bits of the exit qualification)
 *
 * Return: EG_FILL_DENIED for an access the window does not allow, or for
 * a missing page where the window address is not own RAM (the page is
 * queued all the same); EG_FILL_WAIT for a missing page over own RAM;
 * EG_FILL_DONE if the leaf is there (a stale translation).
 */
enum eg_fill eg_window_fault(struct eg_vm *vm, struct kvm_vcpu *vcpu,
			     struct eg_window *w, u64 gpa, u64 qual)
{
	struct kvm_memory_slot *slot;
	bool own_ram;
	u64 *sptep;
	int idx;

	lockdep_assert_held(&vm->mmu_lock);
	if (qual & ~(u64)w->access)
		return EG_FILL_DENIED;
	sptep = eg_ept_walk(w->view_ptr->root, gpa & PAGE_MASK, PG_LEVEL_4K,
			    NULL);
	if (sptep && eg_ept_present(*sptep))
		return EG_FILL_DONE;
	eg_refill_queue(vm, w, (gpa - w->gpa) >> PAGE_SHIFT);

	idx = srcu_read_lock(&vcpu->kvm->srcu);
	slot = gfn_to_memslot(vcpu->kvm, gpa >> PAGE_SHIFT);
	own_ram = slot && !(slot->flags & KVM_MEMSLOT_INVALID) &&
		  !((slot->flags & KVM_MEM_READONLY) && (qual & EG_EPT_W));
	srcu_read_unlock(&vcpu->kvm->srcu, idx);
	return own_ram ? EG_FILL_WAIT : EG_FILL_DENIED;
}

/*
 * Where the peer's memslots put the window now: the host address of
 * peer_gpa, or 0 if no memslot holds the whole peer range any more, or it
 * logs dirty pages (no write may bypass the log).
 */
static unsigned long eg_window_peer_hva(struct eg_window *w)
{
	struct kvm *kvm = w->peer->kvm;
	u64 gfn = w->peer_gpa >> PAGE_SHIFT;
	struct kvm_memory_slot *slot;
	unsigned long hva = 0;
	int idx;

	idx = srcu_read_lock(&kvm->srcu);
	slot = eg_slot_covering(kvm, gfn, w->npages);
	if (slot && !(slot->flags & (KVM_MEMSLOT_INVALID |
				     KVM_MEM_LOG_DIRTY_PAGES)))
		hva = __gfn_to_hva_memslot(slot, gfn);
	srcu_read_unlock(&kvm->srcu, idx);
	return hva;
}

/*
 * The peer's memslot moved to other host memory (deleted and added again):
 * the window follows it.  Every old pin goes first (they are of the old
 * memory, and the notifier must see the new range from now on).
 */
static void eg_window_rebase(struct eg_window *w, unsigned long hva)
{
	lockdep_assert_held(&eg_mutex);
	mutex_lock(&w->peer->win_lock);
	eg_window_zap(w, 0, w->npages);
	eg_window_unpin_all(w);
	w->peer_hva = hva;
	mutex_unlock(&w->peer->win_lock);
}

/* Pins the page behind window page @i at @w's host address, or NULL. */
static struct page *eg_window_pin_one(struct eg_window *w, unsigned long i)
{
	struct mm_struct *mm = w->peer->kvm->mm;
	struct page *page;
	long n;

	if (!mmget_not_zero(mm))
		return NULL;
	mmap_read_lock(mm);
	n = eg_pin_user_pages_remote(mm, w->peer_hva + i * PAGE_SIZE, 1,
				     FOLL_WRITE | FOLL_LONGTERM, &page);
	mmap_read_unlock(mm);
	mmput(mm);
	if (n != 1)
		return NULL;
	atomic64_inc(&eg_counters.pages_pinned);
	return page;
}

/* Maps window page @i again, from the peer's current page.  eg_mutex. */
static void eg_window_refill(struct eg_window *w, unsigned long i)
{
	struct eg_ept_cache cache = { .nr = 0 };
	struct eg_vm *vm = w->owner;
	u64 gpa = w->gpa + i * PAGE_SIZE, seq, *sptep;
	struct page *page, *old = NULL;
	unsigned long hva;
	bool busy;

	lockdep_assert_held(&eg_mutex);
	seq = eg_peer_seq(w->peer, &busy);
	if (busy)
		return;		/* the vCPU faults again and asks again */
	hva = eg_window_peer_hva(w);
	if (!hva)
		return;
	if (hva != w->peer_hva)
		eg_window_rebase(w, hva);
	page = eg_window_pin_one(w, i);
	if (!page)
		return;
	if (eg_ept_cache_topup(&cache, GFP_KERNEL_ACCOUNT))
		goto out;

	raw_spin_lock(&vm->mmu_lock);
	if (!eg_peer_changed(w->peer, seq)) {
		sptep = eg_ept_walk(w->view_ptr->root, gpa, PG_LEVEL_4K,
				    &cache);
		if (sptep && !eg_ept_present(*sptep)) {
			old = w->pages[i];
			w->pages[i] = page;
			page = NULL;
			WRITE_ONCE(*sptep,
				   eg_ept_make_leaf(page_to_phys(w->pages[i]),
						    w->access, PG_LEVEL_4K,
						    EG_EPT_SW_WINDOW));
			w->view_ptr->stats.lazy_fills++;
		}
	}
	raw_spin_unlock(&vm->mmu_lock);
out:
	/* @old had no leaf: it was zapped (and INVEPT'd) before. */
	if (old) {
		unpin_user_pages_dirty_lock(&old, 1, w->access & EPTGATE_ACCESS_W);
		atomic64_dec(&eg_counters.pages_pinned);
	}
	if (page) {
		unpin_user_page(page);
		atomic64_dec(&eg_counters.pages_pinned);
	}
	eg_ept_cache_free(&cache);
}

/*
 * Pins and maps again the window pages the owner's vCPUs wait for.  The
 * windows named in vm->refills are alive: a window leaves the list
 * (eg_window_forget()) before it is freed, both under eg_mutex, which is
 * held from the moment the list is taken.
 */
void eg_vm_refill_work(struct work_struct *work)
{
	struct eg_vm *vm = container_of(work, struct eg_vm, refill_work);
	struct eg_refill todo[EG_REFILL_MAX];
	unsigned int i, n;

	mutex_lock(&eg_mutex);
	raw_spin_lock(&vm->mmu_lock);
	n = vm->dying ? 0 : vm->nr_refills;
	memcpy(todo, vm->refills, n * sizeof(*todo));
	vm->nr_refills = 0;
	raw_spin_unlock(&vm->mmu_lock);
	for (i = 0; i < n; i++)
		eg_window_refill(todo[i].w, todo[i].index);
	mutex_unlock(&eg_mutex);
}
