/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A bound VM (struct eg_vm), and eptgate's objects, who owns them, and
 * the locks: this is the one lock list (Documentation/design.rst, 8.2,
 * points here).
 *
 * Objects
 *   struct eg_vm     one bound KVM VM; created by EPTGATE_BIND_VM, owned by
 *                    the binding file, freed in eg_vm_release().
 *   struct eg_view   an alternate view (EPT hierarchy) of one eg_vm.
 *   struct eg_window a peer VM's memory mapped into a view; it lives in
 *                    the view's range set and on the peer's peer_windows.
 *   struct eg_vcpu   per-vCPU hook state: the EPTP list page and counters.
 *
 * Locks, outermost first
 *   eg_vmfunc_lock   mutex (vmfunc_ud.c): the handle_vmfunc kprobe and
 *                    whether it is placed.  Taken by module init/exit, the
 *                    module notifier and EPTGATE_BIND_VM (before eg_mutex,
 *                    and released at once).
 *   eg_mutex         mutex (main.c): every control-plane operation of
 *                    every binding: bind/release, views, ranges, windows,
 *                    trampolines, grants, enable/disable, and the works
 *                    (revalidation, hook_work, refill_work).  Taken only
 *                    in process context, never by the probes, the kprobes
 *                    or the MMU notifier (mmu_notifier_unregister() is
 *                    called under it and waits for the notifier's
 *                    callbacks).  The two statistics ioctls do not take
 *                    it; every binding ioctl first waits for a pending
 *                    revalidation (flush_work()).
 *   eg_vm.win_lock   mutex: the VM's peer_windows (windows of other VMs
 *                    onto this VM), with eg_mutex for changes; taken alone
 *                    by this VM's MMU notifier (peer.c), which zaps and
 *                    unpins window pages under it.
 *   eg_vm.mmu_lock   raw spinlock: a VM's EPT tables, range sets, view
 *                    pointers, vCPU EPTP lists and probe state, counters,
 *                    enabled/dying/suspended, the memslot generation seen,
 *                    the views' users, the refills, and the invalidation
 *                    count.
 *                    Taken by the hook (with interrupts off, inside
 *                    vmx_vcpu_run), by the MMU notifier, the memslot
 *                    kprobe and the control plane.  Raw because the hook
 *                    cannot sleep, PREEMPT_RT included: held only for
 *                    bounded work that neither allocates nor takes a
 *                    spinlock_t (no xa_store(), no wake_up(), no page
 *                    freed); what the hook cannot do under it,
 *                    eg_vm.hook_work does.  Never held across an IPI:
 *                    INVEPT on other CPUs is sent after dropping it,
 *                    because the hook spins on it with interrupts off.
 *   RCU              the hash of bound VMs (vm.c): the probes and the
 *                    memslot kprobe look up and use an eg_vm inside a
 *                    read-side section; release unhashes it and calls
 *                    synchronize_rcu() before freeing anything.  Also
 *                    eg_vm.peer_windows for the memslot kprobe.
 *
 * Reference counts
 *   eg_vm holds a KVM reference (kvm_get_kvm) from bind to release, and an
 *   MMU notifier registration on the VM's mm.  A window pins the peer's
 *   pages (FOLL_PIN); the peer's eg_vm stays valid while the window exists
 *   because releasing the peer first unmaps every window on its
 *   peer_windows list (under eg_mutex).  A grant holds no reference: its
 *   granter's release revokes it (grant->vm = NULL), its windows are on
 *   its list while they exist, and the grant file's release revokes and
 *   frees it.  An own-RAM leaf (EG_EPT_SW_REF)
 *   holds one page reference from get_user_pages_fast_only(), dropped
 *   exactly once, after the INVEPT that follows its zap.
 *
 * A view is freed under eg_mutex, after it is unpublished, every vCPU has
 *   been kicked out of it, and no MMU-notifier zap uses it (eg_view.users).
 *
 * Teardown order (eg_vm_release)
 *   1. dying = true under mmu_lock (hook_seq bumped): the hook stops arming
 *      VMCSs and nothing queues revalidate_work, hook_work or refill_work
 *      any more, which are then cancelled;
 *   2. revoke its grants, and unmap every other window of other VMs
 *      that maps this VM (peer side);
 *   3. disarm every VMCS (eg_vm_disarm_all()): kick every vCPU out of guest
 *      mode and wait (KVM_REQ_TLB_FLUSH), each exit disarming its VMCS, and
 *      disarm the vCPUs outside KVM_RUN through vcpu_load(), for up to
 *      EG_DISARM_ROUNDS rounds.  If a VMCS is still armed (a vCPU halted in
 *      KVM_RUN) the eg_vm becomes a zombie: its views are freed, the rest
 *      kept with a module reference until the hook disarms the last armed
 *      VMCS at its vCPU's next entry or the mm goes (eg_vm_zombie_end(),
 *      zombie_work on eg_wq goes on with 4.);
 *   4. unhash (RCU), synchronize_rcu() and kick again: no probe still uses
 *      the eg_vm (the exit probe's per-CPU stash, hook.c);
 *   5. unregister the MMU notifier; zap and free views (INVEPT first);
 *   6. free vCPU state, kvm_put_kvm().
 */
#ifndef EPTGATE_VM_H
#define EPTGATE_VM_H

#include <linux/kvm_host.h>
#include <linux/mmu_notifier.h>
#include <linux/mutex.h>
#include <linux/nospec.h>
#include <linux/spinlock.h>
#include <linux/wait.h>
#include <linux/workqueue.h>
#include <linux/xarray.h>
#include <linux/eptgate.h>

struct eg_view;
struct eg_window;

/* A window page a vCPU waits for (peer.c); owner's mmu_lock. */
struct eg_refill {
	struct eg_window *w;
	unsigned long index;
};

/* Window pages the vCPUs of one VM can wait for at once (peer.c). */
#define EG_REFILL_MAX	16

struct eg_vm {
	struct kvm *kvm;		/* reference held */
	/* Both set at bind, before the eg_vm is hashed, then constant. */
	u64 id;				/* module-wide, from 1 (list.c) */
	struct pid *pid;		/* the binder's process, reference held */
	struct hlist_node hnode;	/* eg_vm_hash: RCU, eg_mutex */
	/*
	 * Windows mapping this VM: changed under eg_mutex and win_lock,
	 * walked under either, or under RCU (memslot kprobe); a window is
	 * freed after synchronize_rcu().
	 */
	struct list_head peer_windows;
	struct mutex win_lock;		/* peer_windows, see above */
	struct list_head grants;	/* eg_grant.vm_node, eg_mutex */
	struct mmu_notifier mn;		/* registered from bind to release */

	raw_spinlock_t mmu_lock;	/* see the lock list above */
	struct eg_view *views[EPTGATE_MAX_VIEWS];	/* [0] unused */
	struct xarray vcpus;		/* vcpu_idx -> eg_vcpu */
	bool enabled;
	bool dying;
	/*
	 * Bumped by every change the hook acts on at an entry (enabled,
	 * dying, suspended, switch_gen): a vCPU that saw the same value at
	 * its last slow entry takes the lock-free path (hook.c).
	 */
	u64 hook_seq;
	unsigned int nr_armed;		/* vCPUs whose VMCS is armed */
	bool zombie;			/* released, some VMCS still armed */
	bool zombie_queued;		/* zombie_work queued (once) */
	u64 switch_gen;			/* bumped by every switching off */
	u64 view_seq;			/* last eg_view.instance handed out */
	long mmu_invalidate_in_progress;
	u64 mmu_invalidate_seq;		/* bumped at every invalidation end */
	unsigned int nr_refills;	/* window pages its vCPUs wait for */
	struct eg_refill refills[EG_REFILL_MAX];
	u64 slots_gen;			/* memslot generation seen */
	bool suspended;			/* memslots changed: views paused */
	bool dirty_logging;		/* a memslot logs dirty pages */
	wait_queue_head_t view_users_wq;	/* eg_view.users drops to 0 */
	struct work_struct revalidate_work;
	struct work_struct hook_work;	/* eg_vm_hook_work() */
	struct work_struct refill_work;	/* eg_vm_refill_work() */
	struct work_struct zombie_work;	/* eg_vm_zombie_work(), on eg_wq */
};

/* Something the hook acts on at an entry changed; mmu_lock held. */
static inline void eg_vm_hook_changed(struct eg_vm *vm)
{
	lockdep_assert_held(&vm->mmu_lock);
	WRITE_ONCE(vm->hook_seq, vm->hook_seq + 1);
}

/*
 * View @id of @vm, or NULL.  Every view id a caller gives goes through
 * here: uarg.c has checked @id < EPTGATE_MAX_VIEWS, and the clamp keeps a
 * mispredicted check from reading past the array (Spectre v1).
 */
static inline struct eg_view *eg_vm_view(struct eg_vm *vm, u32 id)
{
	return vm->views[array_index_nospec(id, EPTGATE_MAX_VIEWS)];
}

/* The hash of bound VMs (vm.c): 2^EG_VM_HASH_BITS buckets. */
#define EG_VM_HASH_BITS	6

void eg_vm_hash_add(struct eg_vm *vm);
void eg_vm_hash_del(struct eg_vm *vm);
struct eg_vm *eg_vm_lookup_rcu(struct kvm *kvm);
int eg_vm_for_each(int (*fn)(struct eg_vm *vm, void *data), void *data);
void eg_vm_kick_all(struct eg_vm *vm);
/* Kicks of eg_vm_drain(), about EG_DRAIN_US apart: 100 ms at most. */
#define EG_DRAIN_ROUNDS	100
#define EG_DRAIN_US	1000
/* Rounds of release's disarming, EG_DRAIN_US apart (binding.c). */
#define EG_DISARM_ROUNDS	20
bool eg_vm_drain(struct eg_vm *vm, u32 id);
void eg_vm_switching_off(struct eg_vm *vm);
void eg_vm_zombie_end(struct eg_vm *vm);

#endif /* EPTGATE_VM_H */
