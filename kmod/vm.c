// SPDX-License-Identifier: GPL-2.0
/*
 * The bound VMs: the hash the probes find a struct eg_vm in, and what is
 * done to all the vCPUs of one (kick, drain, switching off).  The binding
 * fd, its ioctls and its release are binding.c's.  Lifetime and teardown
 * order are described in vm.h.
 */
#include <linux/delay.h>
#include <linux/hashtable.h>
#include "cost.h"
#include "hook.h"
#include "main.h"
#include "vm.h"

/* kvm -> eg_vm; writers hold eg_mutex, the hook reads under RCU. */
static DEFINE_HASHTABLE(eg_vm_hash, EG_VM_HASH_BITS);
/* Last eg_vm.id handed out; eg_mutex. */
static u64 eg_vm_seq;

/* Gives @vm its id and makes it visible to the probes; eg_mutex held. */
void eg_vm_hash_add(struct eg_vm *vm)
{
	lockdep_assert_held(&eg_mutex);
	vm->id = ++eg_vm_seq;
	hash_add_rcu(eg_vm_hash, &vm->hnode, (unsigned long)vm->kvm);
}

/* The probes stop finding @vm after an RCU grace period; eg_mutex held. */
void eg_vm_hash_del(struct eg_vm *vm)
{
	lockdep_assert_held(&eg_mutex);
	hash_del_rcu(&vm->hnode);
}

struct eg_vm *eg_vm_lookup_rcu(struct kvm *kvm)
{
	struct eg_vm *vm;

	eg_cost_count(EG_COST_LOOKUP);
	hash_for_each_possible_rcu(eg_vm_hash, vm, hnode, (unsigned long)kvm)
		if (vm->kvm == kvm)
			return vm;
	return NULL;
}

/*
 * Calls @fn for every bound VM, until it returns nonzero, which is then
 * returned; eg_mutex held (no VM is bound or unbound meanwhile).
 */
int eg_vm_for_each(int (*fn)(struct eg_vm *vm, void *data), void *data)
{
	struct eg_vm *vm;
	int bkt, r;

	lockdep_assert_held(&eg_mutex);
	hash_for_each(eg_vm_hash, bkt, vm, hnode) {
		r = fn(vm, data);
		if (r)
			return r;
	}
	return 0;
}

/*
 * Forces every vCPU of the VM out of guest mode and waits until it is
 * out: each has passed its exit probe, which disarms the VMCS of a
 * disabled or dying binding and sees any change (hook_seq) at once.  A KVM_REQ_TLB_FLUSH
 * request is exactly that (KVM_REQUEST_WAIT: an IPI to every vCPU in
 * guest mode, acknowledged once it has exited).  Not
 * kvm_flush_remote_tlbs(), which under Hyper-V may flush without a kick.
 */
void eg_vm_kick_all(struct eg_vm *vm)
{
	kvm_make_all_cpus_request(vm->kvm, KVM_REQ_TLB_FLUSH);
}

/* Whether a vCPU was in view @id (0: in any view) at its last exit. */
static bool eg_vm_in_view(struct eg_vm *vm, u32 id)
{
	struct eg_vcpu *vs;
	unsigned long idx;
	bool in = false;

	raw_spin_lock(&vm->mmu_lock);
	xa_for_each(&vm->vcpus, idx, vs)
		in |= id ? vs->exit_view == id : vs->exit_view != 0;
	raw_spin_unlock(&vm->mmu_lock);
	return in;
}

/**
 * eg_vm_drain() - wait until no vCPU is inside view @id (0: any view)
 * @vm: the VM, switching on
 * @id: the view
 *
 * Kicks the vCPUs out of guest mode, round after round, until none was in
 * the view at its exit.  A vCPU found there resumes in it (the exit
 * policy keeps it), finishes the trampoline and leaves by its own VMFUNC;
 * forcing it into the default view in the middle of a call would resume
 * it where the trampoline's stack and state are not.  A guest that stays
 * in (or keeps entering) the view is let go after EG_DRAIN_ROUNDS.
 *
 * Return: true if no vCPU was in the view at the end.  eg_mutex held.
 */
bool eg_vm_drain(struct eg_vm *vm, u32 id)
{
	unsigned int round;

	lockdep_assert_held(&eg_mutex);
	for (round = 0; round < EG_DRAIN_ROUNDS; round++) {
		eg_vm_kick_all(vm);
		if (!eg_vm_in_view(vm, id))
			return true;
		usleep_range(EG_DRAIN_US / 2, EG_DRAIN_US);
	}
	return false;
}

/*
 * Turns switching off.  A vCPU out of guest mode keeps the view it would
 * resume in, and nothing kicks it; bumping switch_gen makes that view
 * stale, so that it resumes in KVM's view even after a later ENABLE: a
 * vCPU re-enters a view only through its own VMFUNC.  mmu_lock held.
 */
void eg_vm_switching_off(struct eg_vm *vm)
{
	lockdep_assert_held(&vm->mmu_lock);
	vm->enabled = false;
	vm->switch_gen++;
	eg_vm_hook_changed(vm);
}

/* Queues the zombie's end, once; mmu_lock held. */
void eg_vm_zombie_end(struct eg_vm *vm)
{
	lockdep_assert_held(&vm->mmu_lock);
	if (vm->zombie && !vm->zombie_queued) {
		vm->zombie_queued = true;
		queue_work(eg_wq, &vm->zombie_work);
	}
}
