// SPDX-License-Identifier: GPL-2.0
/*
 * Memslot changes: the views pause before KVM_SET_USER_MEMORY_REGION
 * returns.
 *
 * A view mirrors guest RAM through the memslots as they were when a page
 * was filled.  When userspace deletes, moves or re-flags a memslot (dirty
 * logging for live migration), KVM may not make the vCPUs exit at all, so
 * the hook's memslot-generation check (hook.c) alone would notice only at
 * a vCPU's next exit.  No tracepoint marks a memslot change, so a kprobe on
 * kvm_arch_commit_memory_region(), which runs in the ioctl after the new
 * memslots are installed, pauses the views of a bound VM (every EPTP-list
 * entry then points at KVM's own root) and kicks its vCPUs out of guest
 * mode before the ioctl returns: from then on no vCPU runs in a view
 * until eg_vm_revalidate() has dropped what may be stale, or torn the
 * views down if a memslot now logs dirty pages.  The windows of other VMs
 * onto this VM lose their leaves here too (peer.c).
 *
 * This file also holds the pause itself (eg_vm_suspend(), which the hook
 * calls too), the revalidation work, and the dirty-logging check.
 */
#include <linux/kprobes.h>
#include "ept_entry.h"
#include "hook.h"
#include "main.h"
#include "memslot.h"
#include "peer.h"
#include "view.h"
#include "vm.h"

/*
 * Pauses the views of @vm until eg_vm_revalidate() has run for the current
 * memslots: VMFUNC then stays in KVM's view, and a vCPU in a view leaves
 * it at its next exit.  Returns whether a pause began.  mmu_lock held.
 */
bool eg_vm_suspend(struct eg_vm *vm)
{
	struct kvm *kvm = vm->kvm;
	u64 gen;
	int idx;

	lockdep_assert_held(&vm->mmu_lock);
	if (vm->dying)
		return false;
	idx = srcu_read_lock(&kvm->srcu);
	gen = kvm_memslots(kvm)->generation;
	srcu_read_unlock(&kvm->srcu, idx);
	if (gen == vm->slots_gen)
		return false;
	vm->slots_gen = gen;
	vm->suspended = true;
	eg_vm_hook_changed(vm);
	queue_work(system_wq, &vm->revalidate_work);
	return true;
}

static int eg_commit_pre(struct kprobe *p, struct pt_regs *regs)
{
	struct kvm *kvm = (struct kvm *)regs->di;
	struct eg_vm *vm;
	bool kick = false;

	rcu_read_lock();
	vm = eg_vm_lookup_rcu(kvm);
	if (vm) {
		raw_spin_lock(&vm->mmu_lock);
		kick = eg_vm_suspend(vm);
		raw_spin_unlock(&vm->mmu_lock);
		/* IPIs need interrupts on: true for an ftrace-based kprobe. */
		if (kick && !irqs_disabled()) {
			eg_vm_kick_all(vm);
			eg_peer_slots_changed(vm);
		}
	}
	rcu_read_unlock();
	return 0;
}

NOKPROBE_SYMBOL(eg_commit_pre);

static struct kprobe eg_commit_kp = {
	.symbol_name = "kvm_arch_commit_memory_region",
	.pre_handler = eg_commit_pre,
};

int eg_memslot_init(void)
{
	int r = register_kprobe(&eg_commit_kp);

	if (r)
		pr_err(EG_NAME ": not loading: cannot probe kvm_arch_commit_memory_region (%d)\n",
		       r);
	return r;
}

void eg_memslot_exit(void)
{
	unregister_kprobe(&eg_commit_kp);
}

/* Whether a memslot of the VM logs dirty pages (migration). */
bool eg_vm_logs_dirty(struct eg_vm *vm)
{
	struct kvm_memory_slot *slot;
	bool dirty = false;
	int idx, bkt;

	idx = srcu_read_lock(&vm->kvm->srcu);
	kvm_for_each_memslot(slot, bkt, kvm_memslots(vm->kvm))
		dirty |= !!(slot->flags & KVM_MEM_LOG_DIRTY_PAGES);
	srcu_read_unlock(&vm->kvm->srcu, idx);
	return dirty;
}

/*
 * Memslots changed, and memslot.c or the hook paused the views: drop every
 * own-RAM leaf, which lazy fill rebuilds from the new memslots, or, if a
 * memslot now logs dirty pages (migration), turn switching off and tear
 * the views down so that no write escapes the dirty log.
 */
void eg_vm_revalidate(struct work_struct *work)
{
	struct eg_vm *vm = container_of(work, struct eg_vm, revalidate_work);
	struct eg_vcpu *vs;
	unsigned long i;
	bool dirty;
	u64 gen;
	int idx;

	mutex_lock(&eg_mutex);
	if (READ_ONCE(vm->dying))
		goto out;
	idx = srcu_read_lock(&vm->kvm->srcu);
	gen = kvm_memslots(vm->kvm)->generation;
	srcu_read_unlock(&vm->kvm->srcu, idx);
	dirty = eg_vm_logs_dirty(vm);

	if (dirty && !vm->dirty_logging) {
		pr_info(EG_NAME ": VM of pid %d: dirty logging started: switching off, views torn down\n",
			vm->kvm->userspace_pid);
		raw_spin_lock(&vm->mmu_lock);
		vm->dirty_logging = true;
		eg_vm_switching_off(vm);
		raw_spin_unlock(&vm->mmu_lock);
		eg_vm_kick_all(vm);
		eg_view_destroy_all(vm);
	} else {
		vm->dirty_logging = dirty;
		eg_zap_range_all_views(vm, 0, EG_GPA_LIMIT >> PAGE_SHIFT);
	}
	/* Windows onto this VM lost their leaves in the memslot kprobe. */
	eg_peer_windows_unpin(vm);
	raw_spin_lock(&vm->mmu_lock);
	/* A newer change seen by the hook has queued this work again. */
	if (vm->slots_gen == gen) {
		vm->suspended = false;
		eg_vm_hook_changed(vm);
	}
	xa_for_each(&vm->vcpus, i, vs)
		eg_view_fill_list(vm, vs->eptp_list);
	raw_spin_unlock(&vm->mmu_lock);
out:
	mutex_unlock(&eg_mutex);
}
