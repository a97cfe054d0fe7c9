/* SPDX-License-Identifier: GPL-2.0 */
/*
 * eptgate internals: the objects, who owns them, and the locks.
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
 *   eg_mutex         (main.c) every control-plane operation: bind/unbind,
 *                    views, ranges, windows, enable/disable.  Taken only in
 *                    process context, never by the hook or the notifier.
 *   eg_vm.win_lock   mutex: the VM's peer_windows (windows of other VMs
 *                    onto this VM), with eg_mutex for changes; taken alone
 *                    by this VM's MMU notifier (peer.c), which zaps and
 *                    unpins window pages under it.
 *   eg_vm.mmu_lock   raw spinlock: a VM's EPT tables, range sets, view
 *                    pointers, vCPU EPTP lists, counters, enabled/dying,
 *                    and the invalidation count.
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
 *   1. dying = true under mmu_lock: the hook stops arming VMCSs and nothing
 *      queues revalidate_work, hook_work or refill_work any more, which
 *      are then cancelled;
 *   2. revoke its grants, and unmap every other window of other VMs
 *      that maps this VM (peer side);
 *   3. kick every vCPU out of guest mode and wait (KVM_REQ_TLB_FLUSH):
 *      each exit disarms its VMCS, so no VMCS points at eptgate memory;
 *   4. unhash (RCU) and synchronize_rcu(): no hook still sees the eg_vm;
 *   5. unregister the MMU notifier; zap and free views (INVEPT first);
 *   6. free vCPU state, kvm_put_kvm().
 */
#ifndef EPTGATE_H
#define EPTGATE_H

#include <linux/kvm_host.h>
#include <linux/mmu_notifier.h>
#include <linux/mutex.h>
#include <linux/nospec.h>
#include <linux/rculist.h>
#include <linux/spinlock.h>
#include <linux/xarray.h>
#include <linux/eptgate.h>

#include "ept_entry.h"
#include "range.h"

#define EG_NAME "eptgate"

/* One-line reasons for every rejected request. */
#define eg_reject(err, why)						\
	({								\
		int __err = (err);					\
									\
		pr_info_ratelimited(EG_NAME ": %s: %s (%d)\n", __func__,\
				    why, __err);			\
		__err;							\
	})

struct eg_caps {
	u64 ept_vpid_cap;	/* IA32_VMX_EPT_VPID_CAP */
	u64 vmfunc;		/* IA32_VMX_VMFUNC */
	u64 procbased2;		/* IA32_VMX_PROCBASED_CTLS2 */
	u64 caps;		/* EPTGATE_CAP_* */
	u64 eptp_mt;		/* memory type of our paging structures */
};

extern struct eg_caps eg_caps;

/* Module-wide counters (struct eptgate_info). */
struct eg_counters {
	atomic64_t bindings;
	atomic64_t table_pages;
	atomic64_t pages_ref;
	atomic64_t pages_pinned;
};

extern struct eg_counters eg_counters;

/*
 * Table pages set aside in process context, as KVM's MMU caches, so that a
 * walk under mmu_lock never allocates: the control plane fills one on the
 * stack before each walk.  The hook has none: SET_ACCESS builds the tables
 * of a RAM range at once, and lazy fill only writes leaves.
 */
struct eg_ept_cache {
	unsigned int nr;
	u64 *pages[EG_EPT_LEVELS - 1];
};

struct eg_view_stats {
	u64 switches, exits, ept_violations, lazy_fills, fallbacks, zaps;
	u64 event_fallbacks, doorbells, fill_retries;
};

/* A verified trampoline of one view (trampoline.c); eg_mutex. */
struct eg_trampoline {
	u32 view;
	unsigned int ncode;
	struct page *code[EPTGATE_TRAMPOLINE_CODE_MAX / PAGE_SIZE];
	struct page *data[EPTGATE_TRAMPOLINE_DATA_LEN / PAGE_SIZE];
	u64 code_gpa, data_gpa, doorbell_gpa;
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

struct eg_vm;

/*
 * A grant (grant.c): ranges of @vm that another process may map as
 * windows.  Owned by its file, freed at the file's release; @vm is NULL
 * once revoked.  Every field under eg_mutex.
 */
struct eg_grant {
	struct eg_vm *vm;		/* the granting VM, or NULL: revoked */
	struct list_head vm_node;	/* vm->grants */
	struct list_head windows;	/* eg_window.grant_node */
	u32 nr;
	struct eptgate_grant_range r[EPTGATE_GRANT_MAX_RANGES];
	u64 windows_revoked;
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

/* A window page a vCPU waits for (peer.c); owner's mmu_lock. */
struct eg_refill {
	struct eg_window *w;
	unsigned long index;
};

#define EG_REFILL_MAX	16

struct eg_vcpu {
	u64 *eptp_list;			/* EPTP list page; [0] = KVM's root */
	u32 resume_view;		/* view to re-enter in */
	u64 resume_instance;		/* that view's eg_view.instance */
	u64 resume_gen;			/* eg_vm.switch_gen at the exit */
	u32 exit_view;			/* view seen at the last exit */
	bool armed;			/* VMCS points at eptp_list */
	bool kvm_had_vmfunc;		/* KVM's own secondary-control bit */
	u32 fill_retries;		/* lazy-fill retries in a row */
	u64 entries, exits, exits_alt, vmfunc_ud;
};

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
};

/*
 * View @id of @vm, or NULL.  Every view id a caller gives goes through
 * here: uarg.c has checked @id < EPTGATE_MAX_VIEWS, and the clamp keeps a
 * mispredicted check from reading past the array (Spectre v1).
 */
static inline struct eg_view *eg_vm_view(struct eg_vm *vm, u32 id)
{
	return vm->views[array_index_nospec(id, EPTGATE_MAX_VIEWS)];
}

/* main.c */
extern struct mutex eg_mutex;

/* arg.c */
int eg_copy_arg_in(void *karg, size_t ksize, u32 min_size,
		   const void __user *uarg, const char *who);
int eg_copy_arg_out(void __user *uarg, const void *karg, size_t ksize,
		    u32 usize);

/* vm.c */
void eg_vm_hash_add(struct eg_vm *vm);
void eg_vm_hash_del(struct eg_vm *vm);
struct eg_vm *eg_vm_lookup_rcu(struct kvm *kvm);
int eg_vm_for_each(int (*fn)(struct eg_vm *vm, void *data), void *data);
void eg_vm_kick_all(struct eg_vm *vm);
/* Kicks of eg_vm_drain(), about 1 ms apart: 100 ms at most. */
#define EG_DRAIN_ROUNDS	100
bool eg_vm_drain(struct eg_vm *vm, u32 id);
void eg_vm_switching_off(struct eg_vm *vm);

/* binding.c */
int eg_vm_bind(int vm_fd);

/* list.c: EPTGATE_LIST_VMS, EPTGATE_QUERY_VM */
long eg_list_vms(void __user *uarg);
long eg_query_vm(void __user *uarg);

/* view.c */
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

/* grant.c */
int eg_grant_create(struct eg_vm *vm, const struct eptgate_grant *a);
struct eg_grant *eg_grant_from_fd(int fd);
void eg_vm_revoke_grants(struct eg_vm *vm);

/* What an EPT violation in a view comes to (hook.c, peer.c). */
enum eg_fill {
	/* mapped: resume in the view */
	EG_FILL_DONE,
	/* allowed, but not now: KVM's own fault handling brings the page */
	EG_FILL_RETRY,
	/* a window page is being pinned again (peer.c): resume in the view */
	EG_FILL_WAIT,
	/* the view does not allow it: fall back */
	EG_FILL_DENIED,
};

/* peer.c */
int eg_peer_invalidate(struct eg_vm *peer, unsigned long start,
		       unsigned long end, bool blockable);
enum eg_fill eg_window_fault(struct eg_vm *vm, struct kvm_vcpu *vcpu,
			     struct eg_window *w, u64 gpa, u64 qual);
void eg_peer_slots_changed(struct eg_vm *peer);
void eg_window_zap(struct eg_window *w, unsigned long first,
		   unsigned long last);
void eg_peer_windows_unpin(struct eg_vm *peer);
u64 eg_peer_seq(struct eg_vm *peer, bool *busy);
void eg_window_settle(struct eg_window *w, u64 seq);
void eg_window_forget(struct eg_window *w);
void eg_window_unpin_all(struct eg_window *w);
void eg_vm_refill_work(struct work_struct *work);

/* trampoline.c */
int eg_trampoline_init(void);
void eg_trampoline_exit(void);
int eg_trampoline_install(struct eg_vm *vm, const struct eptgate_trampoline *a);
void eg_trampoline_free(struct eg_trampoline *t);
void eg_view_zap_tramp(struct eg_vm *vm, struct eg_view *view,
		       struct eg_trampoline *t);

/* ept.c */
u64 *eg_ept_alloc_table(gfp_t gfp);
void eg_ept_free_tables(u64 *root);
int eg_ept_cache_topup(struct eg_ept_cache *c, gfp_t gfp);
void eg_ept_cache_free(struct eg_ept_cache *c);
u64 *eg_ept_walk(u64 *root, u64 gpa, int level, struct eg_ept_cache *c);
struct eg_zap_batch {
	unsigned int nr;
	struct page *pages[32];
	bool dirty[32];
};

bool eg_ept_zap(u64 *root, u64 start, u64 end, u64 only, struct eg_zap_batch *b,
		u64 *next, u64 *zapped);
void eg_zap_batch_release(struct eg_zap_batch *b);
void eg_invept_all(u64 eptp);
void eg_view_zap(struct eg_vm *vm, struct eg_view *view, u64 start, u64 end,
		 u64 only);

/* hook.c */
int eg_hook_init(void);
void eg_hook_exit(void);
int eg_vcpu_prepare_all(struct eg_vm *vm);
void eg_vm_slots_baseline(struct eg_vm *vm);
void eg_vcpu_free_all(struct eg_vm *vm);
void eg_vm_hook_work(struct work_struct *work);

/* mmu.c */
extern const struct mmu_notifier_ops eg_mmu_notifier_ops;
void eg_zap_range_all_views(struct eg_vm *vm, u64 gfn_start, u64 gfn_end);

/* memslot.c */
int eg_memslot_init(void);
void eg_memslot_exit(void);
bool eg_vm_suspend(struct eg_vm *vm);
bool eg_vm_logs_dirty(struct eg_vm *vm);
void eg_vm_revalidate(struct work_struct *work);

/*
 * The memslot holding [gfn, gfn + npages) of @kvm entirely, or NULL;
 * under kvm->srcu.
 */
static inline struct kvm_memory_slot *
eg_slot_covering(struct kvm *kvm, u64 gfn, u64 npages)
{
	struct kvm_memory_slot *slot = gfn_to_memslot(kvm, gfn);

	if (!slot || gfn + npages > slot->base_gfn + slot->npages)
		return NULL;
	return slot;
}

/* Whether [gpa, gpa + len) lies inside @kvm's memslots (any number). */
static inline bool eg_in_memslots(struct kvm *kvm, u64 gpa, u64 len)
{
	u64 gfn = gpa >> PAGE_SHIFT, end = (gpa + len) >> PAGE_SHIFT;
	bool ok = true;
	int idx;

	idx = srcu_read_lock(&kvm->srcu);
	while (ok && gfn < end) {
		struct kvm_memory_slot *slot = gfn_to_memslot(kvm, gfn);

		ok = !!slot;
		if (ok)
			gfn = slot->base_gfn + slot->npages;
	}
	srcu_read_unlock(&kvm->srcu, idx);
	return ok;
}

/* vmfunc_ud.c */
int eg_vmfunc_ud_init(void);
void eg_vmfunc_ud_exit(void);
bool eg_vmfunc_ud_ready(void);

#endif /* EPTGATE_H */
