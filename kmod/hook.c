// SPDX-License-Identifier: GPL-2.0
/*
 * The hook: probes on KVM's kvm_entry and kvm_exit tracepoints, which run
 * inside kvm_intel's vmx_vcpu_run() with the vCPU's VMCS current and
 * interrupts off, right before VM entry and right after VM exit.
 *
 * The VMCS of a vCPU is "armed" (VMFUNC enabled, EPTP_LIST_ADDRESS at
 * the vCPU's list, leaf 0 on) from the first entry with switching on
 * until switching goes off or the binding goes: the hardware reads the
 * list only in guest mode, and every entry of the VMCS passes the entry
 * probe first, which keeps the list's entry 0 at KVM's root.  EPT_POINTER
 * is a view's only between an entry that resumes in it and the next exit,
 * which puts KVM's own root back: KVM always handles an exit in its root.
 * A VMCS armed when its binding is released is disarmed by the exit of a
 * kick, by release itself through vcpu_load() when the vCPU is outside
 * KVM_RUN, or at the vCPU's next entry, the eg_vm kept until then
 * (binding.c, "zombie").
 *
 * Cost per entry + exit pair (Documentation/design.rst, "The hook's cost
 * per exit"; counted by cost.h): a VM that is not bound pays one hash
 * look-up; a bound vCPU in its default view with nothing changed since
 * its last slow entry (eg_vm.hook_seq) takes no lock and reads only the
 * EPTP at its exit (and the secondary controls at its entry where KVM's
 * own have no VMFUNC bit, 6.12).  Everything else takes mmu_lock.
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
#include "cost.h"
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
	vs->seq = U64_MAX;	/* not a hook_seq yet: the first entry is slow */
	vs->root_hpa = INVALID_PAGE;
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

/* The EPTP's address bits (SDM 25.6.11): where its root table is. */
#define EG_EPTP_ADDR_MASK	GENMASK_ULL(51, 12)

/*
 * What the entry probe found for the vCPU it ran for, kept for the exit
 * probe of the same VM entry: both run on this CPU with interrupts off
 * in between (vmx_vcpu_run()), so the exit pays no second look-up.  The
 * eg_vm and its eg_vcpu stay valid until that exit probe has run: release
 * unhashes the eg_vm, waits for RCU and then kicks every vCPU out of
 * guest mode (eg_vm_free_locked()) before it frees anything.  A failed
 * entry has no exit probe; the next entry on this CPU overwrites it.
 */
struct eg_hook_stash {
	struct kvm_vcpu *vcpu;
	struct eg_vm *vm;
	struct eg_vcpu *vs;
};

static DEFINE_PER_CPU(struct eg_hook_stash, eg_hook_stash);

/* A probe takes @vm's mmu_lock. */
static void eg_hook_lock(struct eg_vm *vm)
{
	eg_cost_count(EG_COST_LOCK);
	raw_spin_lock(&vm->mmu_lock);
}

/*
 * Arms the current VMCS for @vs: VMFUNC enabled, leaf 0 (EPTP switching)
 * on, the list at @vs's page.  It stays armed across exits while
 * switching is on; eg_vcpu_disarm() undoes it.  mmu_lock held.
 */
static void eg_vcpu_arm(struct eg_vm *vm, struct eg_vcpu *vs)
{
	u64 sec = eg_vmread(SECONDARY_VM_EXEC_CONTROL);

	lockdep_assert_held(&vm->mmu_lock);
	vs->kvm_had_vmfunc = sec & SECONDARY_EXEC_ENABLE_VMFUNC;
	if (!vs->kvm_had_vmfunc)
		eg_vmwrite(SECONDARY_VM_EXEC_CONTROL,
			   sec | SECONDARY_EXEC_ENABLE_VMFUNC);
	eg_vmwrite(EPTP_LIST_ADDRESS, __pa(vs->eptp_list));
	eg_vmwrite(VM_FUNCTION_CONTROL, VMX_VMFUNC_EPTP_SWITCHING);
	vs->armed = true;
	vm->nr_armed++;
}

/*
 * Gives the current VMCS back to KVM as it set it up: KVM's root, leaf 0
 * off, KVM's own secondary controls.  The last disarm of a VM whose
 * binding is gone (a zombie, eg_vm_release_locked()) lets it be freed.
 * mmu_lock held.
 */
void eg_vcpu_disarm(struct eg_vm *vm, struct eg_vcpu *vs)
{
	lockdep_assert_held(&vm->mmu_lock);
	if (vs->view_eptp && eg_vmread(EPT_POINTER) == vs->view_eptp)
		eg_vmwrite(EPT_POINTER, vs->eptp_list[0]);
	vs->view_eptp = 0;
	eg_vmwrite(VM_FUNCTION_CONTROL, 0);
	if (!vs->kvm_had_vmfunc)
		eg_vmwrite(SECONDARY_VM_EXEC_CONTROL,
			   eg_vmread(SECONDARY_VM_EXEC_CONTROL) &
			   ~SECONDARY_EXEC_ENABLE_VMFUNC);
	vs->armed = false;
	if (!--vm->nr_armed)
		eg_vm_zombie_end(vm);
}

/*
 * Whether this entry needs nothing from the hook, which then takes no
 * lock: nothing the hook acts on changed since this vCPU's last entry
 * under mmu_lock (eg_vm.hook_seq), and, when armed, the vCPU resumes in
 * the default view, KVM kept its root and our VMFUNC bit.  KVM writes
 * EPT_POINTER only from its MMU's root (kvm_mmu_load_pgd()), so an
 * unchanged vcpu->arch.mmu->root.hpa is an unchanged EPT_POINTER; the
 * slow path checks that the two agreed when it last read the field, and
 * leaves root_hpa invalid when they did not.  Every field read here is
 * this vCPU's own, but hook_seq.
 */
static bool eg_entry_fast(struct eg_vm *vm, struct eg_vcpu *vs,
			  struct kvm_vcpu *vcpu)
{
	if (vs->seq != READ_ONCE(vm->hook_seq))
		return false;
	if (!vs->armed)
		return true;
	if (vs->resume_view || vs->view_eptp ||
	    READ_ONCE(vcpu->arch.mmu->root.hpa) != vs->root_hpa)
		return false;
	/* Without KVM's own bit, a write of KVM's may have dropped ours. */
	return vs->kvm_had_vmfunc ||
	       (eg_vmread(SECONDARY_VM_EXEC_CONTROL) &
		SECONDARY_EXEC_ENABLE_VMFUNC);
}

/* KVM's root now: EPT_POINTER, unless a failed entry left a view's. */
static u64 eg_entry_root(struct eg_vcpu *vs, u64 cur)
{
	return vs->view_eptp && cur == vs->view_eptp ? vs->eptp_list[0] : cur;
}

static void eg_entry_slow(struct eg_vm *vm, struct eg_vcpu *vs,
			  struct kvm_vcpu *vcpu)
{
	u64 cur, root, sec;
	u32 id, view;

	eg_hook_lock(vm);
	if (!vm->enabled || vm->dying)
		goto disarm;
	eg_vm_suspend(vm);
	cur = eg_vmread(EPT_POINTER);
	if (!cur)
		goto disarm;	/* not running on EPT: nothing to switch */
	root = eg_entry_root(vs, cur);
	vs->view_eptp = 0;
	vs->eptp_list[0] = root;
	vs->root_hpa = (root & EG_EPTP_ADDR_MASK) == vcpu->arch.mmu->root.hpa ?
		       vcpu->arch.mmu->root.hpa : INVALID_PAGE;
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
	if (view) {
		/* nospec: eg_vcpu_resume_view()'s */
		vs->view_eptp = vm->views[view]->eptp;
		eg_vmwrite(EPT_POINTER, vs->view_eptp);
	} else if (cur != root) {
		eg_vmwrite(EPT_POINTER, root);
	}

	if (!vs->armed) {
		eg_vcpu_arm(vm, vs);
	} else if (!vs->kvm_had_vmfunc) {
		sec = eg_vmread(SECONDARY_VM_EXEC_CONTROL);
		if (!(sec & SECONDARY_EXEC_ENABLE_VMFUNC))
			eg_vmwrite(SECONDARY_VM_EXEC_CONTROL,
				   sec | SECONDARY_EXEC_ENABLE_VMFUNC);
	}
	goto out;
disarm:
	if (vs->armed)
		eg_vcpu_disarm(vm, vs);
out:
	vs->seq = vm->hook_seq;
	raw_spin_unlock(&vm->mmu_lock);
}

static void eg_on_entry(void *data, struct kvm_vcpu *vcpu,
			bool force_immediate_exit)
{
	struct eg_hook_stash *st = this_cpu_ptr(&eg_hook_stash);
	struct eg_vcpu *vs = NULL;
	struct eg_vm *vm = NULL;

	eg_cost_count(EG_COST_ENTRY);
	rcu_read_lock();
	if (!eg_vcpu_nested(vcpu))
		vm = eg_vm_lookup_rcu(vcpu->kvm);
	if (vm) {
		eg_cost_count(EG_COST_LOOKUP);
		vs = xa_load(&vm->vcpus, vcpu->vcpu_idx);
	}
	st->vcpu = vcpu;
	st->vm = vm;
	st->vs = vs;
	if (vs) {
		WRITE_ONCE(vs->entries, vs->entries + 1);
		if (!eg_entry_fast(vm, vs, vcpu))
			eg_entry_slow(vm, vs, vcpu);
	} else if (vm && READ_ONCE(vm->enabled)) {
		eg_hook_lock(vm);
		eg_vm_queue_hook_work(vm);	/* created after ENABLE */
		raw_spin_unlock(&vm->mmu_lock);
	}
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

/* An exit that is not the default view's steady state; mmu_lock taken. */
static void eg_exit_slow(struct eg_vm *vm, struct eg_vcpu *vs,
			 struct kvm_vcpu *vcpu, u64 eptp)
{
	u32 reason, id, resume = 0;

	eg_hook_lock(vm);
	id = eptp == vs->eptp_list[0] ? 0 : eg_view_of(vm, eptp);
	if (id) {
		/* nospec: eg_view_of()'s: a loop over the views */
		struct eg_view *view = vm->views[id];

		reason = (u16)eg_vmread(VM_EXIT_REASON);
		vs->exits_alt++;
		view->stats.exits++;
		if (id != vs->resume_view)
			view->stats.switches++;
		resume = eg_exit_policy(vm, vcpu, vs, id, reason);
	}
	vs->exit_view = id;
	eg_vcpu_set_resume(vm, vs, resume);
	eg_vm_suspend(vm);

	/* KVM handles the exit in its own root. */
	if (eptp != vs->eptp_list[0])
		eg_vmwrite(EPT_POINTER, vs->eptp_list[0]);
	vs->view_eptp = 0;
	if (!vm->enabled || vm->dying)
		eg_vcpu_disarm(vm, vs);
	raw_spin_unlock(&vm->mmu_lock);
}

/*
 * An exit of a vCPU with eptgate state.  The steady state -- armed, in
 * the default view, nothing changed -- costs one VMREAD (the EPTP: the
 * guest may have switched) and no lock; the VMCS stays armed.
 */
static void eg_exit_vcpu(struct eg_vm *vm, struct eg_vcpu *vs,
			 struct kvm_vcpu *vcpu)
{
	u64 eptp;

	WRITE_ONCE(vs->exits, vs->exits + 1);
	if (!vs->armed)
		return;
	eptp = eg_vmread(EPT_POINTER);
	if (eptp == vs->eptp_list[0] && !vs->view_eptp && !vs->resume_view &&
	    vs->seq == READ_ONCE(vm->hook_seq)) {
		if (vs->exit_view)
			WRITE_ONCE(vs->exit_view, 0);
		return;
	}
	eg_exit_slow(vm, vs, vcpu, eptp);
}

static void eg_on_exit(void *data, struct kvm_vcpu *vcpu, u32 isa)
{
	struct eg_hook_stash *st = this_cpu_ptr(&eg_hook_stash);
	struct eg_vcpu *vs;
	struct eg_vm *vm;

	eg_cost_count(EG_COST_EXIT);
	if (likely(st->vcpu == vcpu)) {
		st->vcpu = NULL;
		if (st->vs)
			eg_exit_vcpu(st->vm, st->vs, vcpu);
		return;
	}
	/* No entry probe before this exit: the hook was just attached. */
	if (eg_vcpu_nested(vcpu))
		return;
	rcu_read_lock();
	vm = eg_vm_lookup_rcu(vcpu->kvm);
	vs = vm ? xa_load(&vm->vcpus, vcpu->vcpu_idx) : NULL;
	if (vs)
		eg_exit_vcpu(vm, vs, vcpu);
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
