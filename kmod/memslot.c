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
 */
#include <linux/kprobes.h>
#include "eptgate.h"

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
