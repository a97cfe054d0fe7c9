// SPDX-License-Identifier: GPL-2.0
/*
 * The hook: probes on KVM's kvm_entry and kvm_exit tracepoints, which run
 * inside kvm_intel's vmx_vcpu_run() with the vCPU's VMCS current and
 * interrupts off, right before VM entry and right after VM exit.
 *
 * The VMCS of a vCPU is "armed" (VMFUNC enabled, EPTP_LIST_ADDRESS at
 * eptgate's list, possibly EPT_POINTER at a view) only between the entry
 * probe and the next exit probe.  The exit probe always disarms it and
 * puts KVM's own root back.  So whenever KVM looks at or changes the
 * VMCS, and whenever the vCPU is outside guest mode, the VMCS is KVM's
 * own; eptgate memory can be freed once every vCPU has been kicked out of
 * guest mode (eg_vm_kick_all()).
 *
 * Exit policy, for a vCPU found in an alternate view at an exit:
 *   EPT violation on own RAM the view allows -> lazy fill, resume in view
 *   EPT violation on a window page the peer's
 *   host took away, over own RAM             -> refill queued, resume in view
 *   any other EPT violation, EPT misconfig  -> resume in the default view
 *   anything else                           -> resume in the view
 * and at entry, an event about to be injected always goes to the default
 * view, so that no guest handler runs in an alternate view.
 *
 * A vCPU in guest mode (nested, L2 running) runs on KVM's vmcs02: the
 * hook leaves it alone.  Views apply to L1 only.
 */
#include <linux/tracepoint.h>
#include <linux/slab.h>
#include "compat.h"
#include "ept.h"
#include "ept_entry.h"
#include "hook.h"
#include "main.h"
#include "memslot.h"
#include "peer.h"
#include "range.h"
#include "trampoline.h"
#include "view.h"
#include "vm.h"
#include "vmx.h"

/* EPT-violation exit qualification, bits 2:0: the access (R, W, X). */
#define EG_EPT_QUAL_ACCESS	(EPT_VIOLATION_ACC_READ | EPT_VIOLATION_ACC_WRITE | \
				 EPT_VIOLATION_ACC_INSTR)

static bool eg_vcpu_nested(struct kvm_vcpu *vcpu)
{
	return vcpu->arch.hflags & HF_GUEST_MASK;
}

static struct eg_vcpu *eg_vcpu_new(gfp_t gfp)
{
	struct eg_vcpu *vs = kzalloc(sizeof(*vs), gfp);

	if (!vs)
		return NULL;
	vs->eptp_list = (u64 *)get_zeroed_page(gfp);
	if (!vs->eptp_list) {
		kfree(vs);
		return NULL;
	}
	atomic64_inc(&eg_counters.table_pages);
	return vs;
}

static void eg_vcpu_free(struct eg_vcpu *vs)
{
	free_page((unsigned long)vs->eptp_list);
	atomic64_dec(&eg_counters.table_pages);
	kfree(vs);
}

/*
 * ENABLE, and eg_vm_hook_work() for vCPUs created after it: state for
 * every vCPU that has none.  The list is filled before the state is
 * published with xa_store() (which may allocate: not under mmu_lock);
 * eg_mutex keeps every other writer of the lists (view create and
 * destroy, revalidation) out in between.
 */
int eg_vcpu_prepare_all(struct eg_vm *vm)
{
	struct kvm_vcpu *vcpu;
	struct eg_vcpu *vs;
	unsigned long i;

	lockdep_assert_held(&eg_mutex);
	kvm_for_each_vcpu(i, vcpu, vm->kvm) {
		if (xa_load(&vm->vcpus, vcpu->vcpu_idx))
			continue;
		vs = eg_vcpu_new(GFP_KERNEL_ACCOUNT);
		if (!vs)
			return -ENOMEM;
		raw_spin_lock(&vm->mmu_lock);
		eg_view_fill_list(vm, vs->eptp_list);
		raw_spin_unlock(&vm->mmu_lock);
		if (xa_err(xa_store(&vm->vcpus, vcpu->vcpu_idx, vs,
				    GFP_KERNEL_ACCOUNT))) {
			eg_vcpu_free(vs);
			return -ENOMEM;
		}
	}
	return 0;
}

/* ENABLE: the memslot generation the views match from now on. */
void eg_vm_slots_baseline(struct eg_vm *vm)
{
	int idx;

	idx = srcu_read_lock(&vm->kvm->srcu);
	raw_spin_lock(&vm->mmu_lock);
	if (!vm->suspended)
		vm->slots_gen = kvm_memslots(vm->kvm)->generation;
	raw_spin_unlock(&vm->mmu_lock);
	srcu_read_unlock(&vm->kvm->srcu, idx);
}

/* After every vCPU has been kicked out of guest mode. */
void eg_vcpu_free_all(struct eg_vm *vm)
{
	struct eg_vcpu *vs;
	unsigned long i;

	xa_for_each(&vm->vcpus, i, vs)
		eg_vcpu_free(vs);
	xa_destroy(&vm->vcpus);
}

/*
 * What the hook needs but cannot do under mmu_lock with interrupts off:
 * state (a page, an xa_store()) for a vCPU created after ENABLE, which
 * runs in KVM's view until then.  Queued by the hook; release cancels it
 * once dying is set, after which nothing queues it.
 */
void eg_vm_hook_work(struct work_struct *work)
{
	struct eg_vm *vm = container_of(work, struct eg_vm, hook_work);

	mutex_lock(&eg_mutex);
	if (!READ_ONCE(vm->dying) && vm->enabled)
		eg_vcpu_prepare_all(vm);
	mutex_unlock(&eg_mutex);
}

/* Asks eg_vm_hook_work() to run; mmu_lock held. */
static void eg_vm_queue_hook_work(struct eg_vm *vm)
{
	lockdep_assert_held(&vm->mmu_lock);
	if (!vm->dying)
		queue_work(system_wq, &vm->hook_work);
}

/*
 * The binding of @vcpu's VM with its mmu_lock taken, or NULL: not bound,
 * or a nested guest (L2) runs on KVM's vmcs02.  Under rcu_read_lock().
 */
static struct eg_vm *eg_hook_lock_vm(struct kvm_vcpu *vcpu)
{
	struct eg_vm *vm;

	if (eg_vcpu_nested(vcpu))
		return NULL;
	vm = eg_vm_lookup_rcu(vcpu->kvm);
	if (vm)
		raw_spin_lock(&vm->mmu_lock);
	return vm;
}

/*
 * Records the view @vs resumes in after this exit: the view instance, and
 * the switching generation it belongs to.  mmu_lock held.
 */
static void eg_vcpu_set_resume(struct eg_vm *vm, struct eg_vcpu *vs, u32 id)
{
	lockdep_assert_held(&vm->mmu_lock);
	if (!vm->enabled || vm->dying)
		id = 0;
	vs->resume_view = id;
	/* nospec: @id is a view the kernel found (eg_view_of, resume_view) */
	vs->resume_instance = id ? vm->views[id]->instance : 0;
	vs->resume_gen = vm->switch_gen;
}

/*
 * The view @vs may resume in at this entry, or 0: only the same view
 * instance it was in at its last exit, with switching on ever since and
 * the views not paused.  A view destroyed and created again under the
 * same id is another instance.  mmu_lock held.
 */
static u32 eg_vcpu_resume_view(struct eg_vm *vm, struct eg_vcpu *vs)
{
	u32 id = vs->resume_view;
	struct eg_view *view = eg_vm_view(vm, id);

	lockdep_assert_held(&vm->mmu_lock);
	if (!id || vm->suspended || vs->resume_gen != vm->switch_gen ||
	    !view || view->instance != vs->resume_instance)
		return 0;
	return id;
}

/* Which view an EPTP belongs to: 0 for KVM's root or anything unknown. */
static u32 eg_view_of(struct eg_vm *vm, u64 eptp)
{
	u32 id;

	for (id = 1; id < EPTGATE_MAX_VIEWS; id++)
		if (vm->views[id] && vm->views[id]->eptp == eptp)
			return id;
	return 0;
}

/*
 * A VMWRITE failed (VMfailValid; the VM-instruction error says why).  The
 * hook writes fields it read or that KVM set up, so this is a bug of ours:
 * it is reported once, as KVM's vmwrite_error() does, and the entry goes on.
 */
noinline void eg_vmwrite_error(unsigned long field, u64 value)
{
	pr_warn_once("eptgate: VMWRITE of field 0x%lx (value 0x%llx) failed: VM-instruction error %llu\n",
		     field, value, eg_vmread(VM_INSTRUCTION_ERROR));
}

static void eg_on_entry(void *data, struct kvm_vcpu *vcpu,
			bool force_immediate_exit)
{
	struct eg_vcpu *vs;
	struct eg_vm *vm;
	u64 root, sec;
	u32 id, view;

	rcu_read_lock();
	vm = eg_hook_lock_vm(vcpu);
	if (!vm)
		goto out;
	vs = xa_load(&vm->vcpus, vcpu->vcpu_idx);
	if (!vs) {
		if (vm->enabled)
			eg_vm_queue_hook_work(vm);	/* created after ENABLE */
		goto unlock;
	}
	vs->entries++;
	if (!vm->enabled || vm->dying)
		goto unlock;
	eg_vm_suspend(vm);

	root = eg_vmread(EPT_POINTER);
	if (!root)
		goto unlock;	/* not running on EPT: nothing to switch */
	/* After a failed entry in a view, EPT_POINTER is still the view's. */
	if (vs->armed && eg_view_of(vm, root))
		root = vs->eptp_list[0];
	vs->eptp_list[0] = root;
	if (vm->suspended) {
		/* VMFUNC still succeeds but stays in the default view. */
		for (id = 1; id < EPTGATE_MAX_VIEWS; id++)
			vs->eptp_list[id] = vm->views[id] ? root : 0;
	}

	view = eg_vcpu_resume_view(vm, vs);
	if (view && (eg_vmread(VM_ENTRY_INTR_INFO_FIELD) & INTR_INFO_VALID_MASK)) {
		/* nospec: @view is eg_vcpu_resume_view()'s, as below */
		vm->views[view]->stats.event_fallbacks++;
		view = 0;
	}
	eg_vcpu_set_resume(vm, vs, view);
	if (view)	/* nospec: eg_vcpu_resume_view()'s */
		eg_vmwrite(EPT_POINTER, vm->views[view]->eptp);

	sec = eg_vmread(SECONDARY_VM_EXEC_CONTROL);
	/*
	 * Still armed: the last VM entry failed (VMfail), which returns
	 * before kvm_exit.  The VMFUNC bit may be ours from then.
	 */
	if (!vs->armed)
		vs->kvm_had_vmfunc = sec & SECONDARY_EXEC_ENABLE_VMFUNC;
	if (!vs->kvm_had_vmfunc)
		eg_vmwrite(SECONDARY_VM_EXEC_CONTROL,
			   sec | SECONDARY_EXEC_ENABLE_VMFUNC);
	eg_vmwrite(EPTP_LIST_ADDRESS, __pa(vs->eptp_list));
	eg_vmwrite(VM_FUNCTION_CONTROL, VMX_VMFUNC_EPTP_SWITCHING);
	vs->armed = true;
unlock:
	raw_spin_unlock(&vm->mmu_lock);
out:
	rcu_read_unlock();
}

/* Retries of one vCPU before it falls back (a page that never comes). */
#define EG_FILL_RETRIES		16
/*
 * ... and while a window page is pinned again by a worker (peer.c), which
 * the vCPU lets run before it enters again.
 */
#define EG_FILL_WAITS		1024

/*
 * A leaf is there but lacks what the access needs (filled read-only from
 * a shared page, or by another vCPU for a read).  If the host now maps
 * the same page writable, widen the leaf in place (no INVEPT needed to
 * add rights); if it maps another page, the MMU notifier zaps this leaf.
 */
static enum eg_fill eg_fill_upgrade(u64 *sptep, unsigned long hva, u64 qual,
				    u32 access)
{
	u64 e = *sptep;
	struct page *page;
	bool same;

	if ((eg_ept_access(e) & qual) == qual)
		return EG_FILL_DONE;	/* a stale translation: retry */
	if (!(e & EG_EPT_SW_REF) ||
	    get_user_pages_fast_only(hva, 1, FOLL_WRITE, &page) != 1)
		return EG_FILL_RETRY;
	same = page_to_phys(page) == eg_ept_addr(e);
	put_page(page);
	if (!same)
		return EG_FILL_RETRY;
	WRITE_ONCE(*sptep, (e & ~(u64)EG_EPT_RWX) | access);
	return EG_FILL_DONE;
}

/*
 * A page of a revoked window (eg_window_revoke()): the view's sink page,
 * read+write, without a reference (the view owns the page).  The tables
 * are the window's: nothing is allocated.  mmu_lock held.
 */
static enum eg_fill eg_sink_fill(struct eg_view *view,
				 const struct eg_range *r, u64 gpa, u64 qual)
{
	u64 *sptep;

	if (qual & ~(u64)r->access)
		return EG_FILL_DENIED;
	sptep = eg_ept_walk(view->root, gpa & PAGE_MASK, PG_LEVEL_4K, NULL);
	if (!sptep)
		return EG_FILL_DENIED;
	if (!eg_ept_present(*sptep))
		WRITE_ONCE(*sptep, eg_ept_make_leaf(page_to_phys(view->sink),
						    r->access, PG_LEVEL_4K, 0));
	return EG_FILL_DONE;
}

/*
 * Lazy fill: an EPT violation on own RAM that the view allows.  Takes a
 * reference on the page the VM's mm maps at the gfn's hva, without
 * sleeping (interrupts are off), and maps it.  The MMU notifier zaps it
 * again before the host reuses the page.  When the host page is not
 * there yet (never touched, swapped out, copy-on-write), KVM's handling
 * of this same exit faults it in, in its own view, and the access is
 * retried in the view.  mmu_lock held.
 */
static enum eg_fill eg_lazy_fill(struct eg_vm *vm, struct kvm_vcpu *vcpu,
				 struct eg_view *view)
{
	u64 gpa = eg_vmread(GUEST_PHYSICAL_ADDRESS);
	u64 qual = eg_vmread(EXIT_QUALIFICATION) & EG_EPT_QUAL_ACCESS;
	struct kvm *kvm = vcpu->kvm;
	const struct eg_range *r = eg_range_find(&view->ranges, gpa);
	struct kvm_memory_slot *slot;
	unsigned long hva = 0;
	struct page *page;
	u32 access;
	u64 *sptep;
	int idx;

	lockdep_assert_held(&vm->mmu_lock);
	if (r && r->kind == EG_RANGE_WINDOW)
		return eg_window_fault(vm, vcpu, r->owner, gpa, qual);
	if (r && r->kind == EG_RANGE_SINK)
		return eg_sink_fill(view, r, gpa, qual);
	if (!r || r->kind != EG_RANGE_RAM || (qual & ~(u64)r->access))
		return EG_FILL_DENIED;
	if (current->mm != kvm->mm)
		return EG_FILL_DENIED;
	access = r->access;
	idx = srcu_read_lock(&kvm->srcu);
	slot = gfn_to_memslot(kvm, gpa >> PAGE_SHIFT);
	if (slot && !(slot->flags & KVM_MEMSLOT_INVALID)) {
		hva = __gfn_to_hva_memslot(slot, gpa >> PAGE_SHIFT);
		if (slot->flags & KVM_MEM_READONLY)
			access &= ~EG_EPT_W;
	}
	srcu_read_unlock(&kvm->srcu, idx);
	if (!hva || (qual & ~(u64)access))
		return EG_FILL_DENIED;
	if (vm->mmu_invalidate_in_progress)
		return EG_FILL_RETRY;
	/* SET_ACCESS built the tables: the walk allocates nothing. */
	sptep = eg_ept_walk(view->root, gpa & PAGE_MASK, PG_LEVEL_4K, NULL);
	if (!sptep)
		return EG_FILL_DENIED;
	if (eg_ept_present(*sptep))
		return eg_fill_upgrade(sptep, hva, qual, access);
	if (get_user_pages_fast_only(hva, 1,
				     (access & EG_EPT_W) ? FOLL_WRITE : 0,
				     &page) != 1) {
		/*
		 * The host maps the page read-only for now (the zero page,
		 * copy-on-write, KSM): a read or a fetch may map it
		 * read-only; a write comes back here once KVM has broken
		 * the sharing (and the MMU notifier has zapped this leaf).
		 */
		if (!(access & EG_EPT_W) || (qual & EG_EPT_W) ||
		    get_user_pages_fast_only(hva, 1, 0, &page) != 1)
			return EG_FILL_RETRY;
		access &= ~EG_EPT_W;
	}
	WRITE_ONCE(*sptep, eg_ept_make_leaf(page_to_phys(page), access,
					    PG_LEVEL_4K, EG_EPT_SW_REF));
	atomic64_inc(&eg_counters.pages_ref);
	return EG_FILL_DONE;
}

/* The view to resume in after an exit taken in view @id; mmu_lock held. */
static u32 eg_exit_policy(struct eg_vm *vm, struct kvm_vcpu *vcpu,
			  struct eg_vcpu *vs, u32 id, u32 reason)
{
	/* nospec: @id is eg_view_of()'s, from the exit's EPTP */
	struct eg_view *view = vm->views[id];

	lockdep_assert_held(&vm->mmu_lock);
	switch (reason) {
	case EXIT_REASON_EPT_VIOLATION:
		view->stats.ept_violations++;
		switch (eg_lazy_fill(vm, vcpu, view)) {
		case EG_FILL_DONE:
			view->stats.lazy_fills++;
			vs->fill_retries = 0;
			return id;
		case EG_FILL_RETRY:
			if (vs->fill_retries++ < EG_FILL_RETRIES) {
				view->stats.fill_retries++;
				return id;
			}
			break;
		case EG_FILL_WAIT:
			if (vs->fill_retries++ < EG_FILL_WAITS) {
				view->stats.fill_retries++;
				return id;
			}
			break;
		case EG_FILL_DENIED:
			break;
		}
		vs->fill_retries = 0;
		break;
	case EXIT_REASON_EPT_MISCONFIG:
		/* The doorbell: KVM's fast MMIO path signals the ioeventfd. */
		if (view->tramp && view->tramp->doorbell_gpa &&
		    (eg_vmread(GUEST_PHYSICAL_ADDRESS) & PAGE_MASK) ==
		    view->tramp->doorbell_gpa) {
			view->stats.doorbells++;
			return id;
		}
		break;
	case EXIT_REASON_TRIPLE_FAULT:
	case EXIT_REASON_INIT_SIGNAL:
	case EXIT_REASON_SIPI_SIGNAL:
		break;
	default:
		return id;
	}
	view->stats.fallbacks++;
	return 0;
}

static void eg_on_exit(void *data, struct kvm_vcpu *vcpu, u32 isa)
{
	struct eg_vcpu *vs;
	struct eg_vm *vm;
	u32 reason, id, resume = 0;
	u64 eptp;

	rcu_read_lock();
	vm = eg_hook_lock_vm(vcpu);
	if (!vm)
		goto out;
	vs = xa_load(&vm->vcpus, vcpu->vcpu_idx);
	if (!vs)
		goto unlock;
	vs->exits++;
	if (!vs->armed)
		goto unlock;

	reason = (u16)eg_vmread(VM_EXIT_REASON);
	eptp = eg_vmread(EPT_POINTER);
	id = eptp == vs->eptp_list[0] ? 0 : eg_view_of(vm, eptp);
	if (reason == EXIT_REASON_VMFUNC)
		vs->vmfunc_ud++;
	if (id) {
		/* nospec: eg_view_of()'s: a loop over the views */
		struct eg_view *view = vm->views[id];

		vs->exits_alt++;
		view->stats.exits++;
		if (id != vs->resume_view)
			view->stats.switches++;
		resume = eg_exit_policy(vm, vcpu, vs, id, reason);
	}
	vs->exit_view = id;
	eg_vcpu_set_resume(vm, vs, resume);
	eg_vm_suspend(vm);

	/* Disarm: the VMCS is KVM's own again until the next entry. */
	if (eptp != vs->eptp_list[0])
		eg_vmwrite(EPT_POINTER, vs->eptp_list[0]);
	eg_vmwrite(VM_FUNCTION_CONTROL, 0);
	if (!vs->kvm_had_vmfunc)
		eg_vmwrite(SECONDARY_VM_EXEC_CONTROL,
			   eg_vmread(SECONDARY_VM_EXEC_CONTROL) &
			   ~SECONDARY_EXEC_ENABLE_VMFUNC);
	vs->armed = false;
unlock:
	raw_spin_unlock(&vm->mmu_lock);
out:
	rcu_read_unlock();
}

int eg_hook_init(void)
{
	int r;

	r = register_trace_kvm_entry(eg_on_entry, NULL);
	if (r) {
		pr_err(EG_NAME ": cannot attach to tracepoint kvm_entry (%d)\n", r);
		return r;
	}
	r = register_trace_kvm_exit(eg_on_exit, NULL);
	if (r) {
		pr_err(EG_NAME ": cannot attach to tracepoint kvm_exit (%d)\n", r);
		unregister_trace_kvm_entry(eg_on_entry, NULL);
		tracepoint_synchronize_unregister();
	}
	return r;
}

void eg_hook_exit(void)
{
	unregister_trace_kvm_exit(eg_on_exit, NULL);
	unregister_trace_kvm_entry(eg_on_entry, NULL);
	tracepoint_synchronize_unregister();
}
