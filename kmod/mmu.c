// SPDX-License-Identifier: GPL-2.0
/*
 * Coherence with the host's memory: an MMU notifier on the bound VM's mm,
 * as KVM's own.  Before the host unmaps, migrates, swaps, balloons away
 * or MADV_DONTNEEDs a page of guest RAM, every view's leaf for it is
 * zapped and INVEPT'd and the view's page reference dropped; lazy fill
 * maps the new page on the next access.  While an invalidation is in
 * progress the hook does not fill (it could fetch the old page).
 *
 * The same notifier is the peer side of other VMs' windows onto this VM
 * (peer.c).  Callbacks take mmu_lock and win_lock, never eg_mutex:
 * mmu_notifier_unregister() is called under eg_mutex and waits for them.
 */
#include "mmu.h"
#include "peer.h"
#include "view.h"
#include "vm.h"

/* Zaps the views' own-RAM leaves for the host range [start, end). */
static void eg_mmu_zap_hva(struct eg_vm *vm, unsigned long start,
			   unsigned long end)
{
	struct kvm *kvm = vm->kvm;
	struct kvm_memory_slot *slot;
	int idx, bkt;

	idx = srcu_read_lock(&kvm->srcu);
	kvm_for_each_memslot(slot, bkt, kvm_memslots(kvm)) {
		unsigned long s_start = slot->userspace_addr;
		unsigned long s_end = s_start + (slot->npages << PAGE_SHIFT);
		unsigned long lo = max(start, s_start), hi = min(end, s_end);
		u64 first, last;

		if (lo >= hi)
			continue;
		first = hva_to_gfn_memslot(lo, slot);
		last = hva_to_gfn_memslot(hi - 1, slot);
		eg_zap_range_all_views(vm, first, last + 1);
	}
	srcu_read_unlock(&kvm->srcu, idx);
}

static int eg_mn_invalidate_range_start(struct mmu_notifier *mn,
					const struct mmu_notifier_range *range)
{
	struct eg_vm *vm = container_of(mn, struct eg_vm, mn);

	int r;

	raw_spin_lock(&vm->mmu_lock);
	vm->mmu_invalidate_in_progress++;
	raw_spin_unlock(&vm->mmu_lock);
	eg_mmu_zap_hva(vm, range->start, range->end);
	/* The same range in other VMs' windows onto this VM (peer.c). */
	r = eg_peer_invalidate(vm, range->start, range->end,
			       mmu_notifier_range_blockable(range));
	if (r) {
		/* No invalidate_range_end() follows a failed start. */
		raw_spin_lock(&vm->mmu_lock);
		vm->mmu_invalidate_in_progress--;
		raw_spin_unlock(&vm->mmu_lock);
	}
	return r;
}

static void eg_mn_invalidate_range_end(struct mmu_notifier *mn,
				       const struct mmu_notifier_range *range)
{
	struct eg_vm *vm = container_of(mn, struct eg_vm, mn);

	raw_spin_lock(&vm->mmu_lock);
	vm->mmu_invalidate_in_progress--;
	vm->mmu_invalidate_seq++;
	raw_spin_unlock(&vm->mmu_lock);
}

/* The mm goes away (its owner exits): no vCPU can run again. */
static void eg_mn_release(struct mmu_notifier *mn, struct mm_struct *mm)
{
	struct eg_vm *vm = container_of(mn, struct eg_vm, mn);

	eg_mmu_zap_hva(vm, 0, ULONG_MAX);
	raw_spin_lock(&vm->mmu_lock);
	eg_vm_zombie_end(vm);
	raw_spin_unlock(&vm->mmu_lock);
}

const struct mmu_notifier_ops eg_mmu_notifier_ops = {
	.invalidate_range_start = eg_mn_invalidate_range_start,
	.invalidate_range_end = eg_mn_invalidate_range_end,
	.release = eg_mn_release,
};
