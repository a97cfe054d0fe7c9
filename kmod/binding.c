// SPDX-License-Identifier: GPL-2.0
/*
 * Bindings: one struct eg_vm per bound KVM VM, reached by userspace
 * through a binding fd (this file: bind, the binding ioctls, release) and
 * by the hook through the hash of vm.c.  Lifetime and teardown order are
 * described in vm.h.
 */
#include <linux/anon_inodes.h>
#include <linux/delay.h>
#include <linux/file.h>
#include <linux/slab.h>
#include "arg.h"
#include "binding.h"
#include "grant.h"
#include "hook.h"
#include "main.h"
#include "memslot.h"
#include "mmu.h"
#include "peer.h"
#include "trampoline.h"
#include "uarg.h"
#include "view.h"
#include "vm.h"
#include "vmfunc_ud.h"

static const struct file_operations eg_vm_fops;
static long eg_vm_ioctl(struct file *filp, unsigned int ioctl,
			unsigned long arg);

/* The eg_vm of a binding fd; the caller holds eg_mutex. */
static struct eg_vm *eg_vm_from_fd(int fd)
{
	struct eg_vm *vm = ERR_PTR(-EBADF);
	struct file *f;

	lockdep_assert_held(&eg_mutex);
	f = fget(fd);

	if (!f)
		return vm;
	vm = f->f_op == &eg_vm_fops ? f->private_data : ERR_PTR(-EINVAL);
	fput(f);	/* release needs eg_mutex, which the caller holds */
	return vm;
}

/*
 * Disarms the VMCS of every vCPU outside KVM_RUN: with the vCPU's mutex,
 * vcpu_load() makes its VMCS current on this CPU, as KVM's own vCPU
 * ioctls do.  A vCPU inside KVM_RUN (halted, or between two entries)
 * keeps its VMCS armed until its next entry, where the hook disarms it
 * before the guest runs (the eg_vm is dying).  So does a vCPU whose L2
 * runs: its armed VMCS (vmcs01) is not the current one.  eg_mutex held.
 */
static void eg_vm_disarm_idle(struct eg_vm *vm)
{
	struct kvm_vcpu *vcpu;
	struct eg_vcpu *vs;
	unsigned long i;

	lockdep_assert_held(&eg_mutex);
	kvm_for_each_vcpu(i, vcpu, vm->kvm) {
		vs = xa_load(&vm->vcpus, vcpu->vcpu_idx);
		if (!vs || !READ_ONCE(vs->armed) ||
		    !mutex_trylock(&vcpu->mutex))
			continue;
		vcpu_load(vcpu);
		raw_spin_lock(&vm->mmu_lock);
		if (vs->armed && !(vcpu->arch.hflags & HF_GUEST_MASK))
			eg_vcpu_disarm(vm, vs);
		raw_spin_unlock(&vm->mmu_lock);
		vcpu_put(vcpu);
		mutex_unlock(&vcpu->mutex);
	}
}

/* The end of a release, once no VMCS points at the eg_vm's lists. */
static void eg_vm_free_locked(struct eg_vm *vm)
{
	lockdep_assert_held(&eg_mutex);
	eg_vm_hash_del(vm);
	synchronize_rcu();
	/* An exit probe may still use what its entry probe found (hook.c). */
	eg_vm_kick_all(vm);

	mmu_notifier_unregister(&vm->mn, vm->kvm->mm);
	eg_view_destroy_all(vm);
	eg_vcpu_free_all(vm);
	kvm_put_kvm(vm->kvm);
	put_pid(vm->pid);
	atomic64_dec(&eg_counters.bindings);
	kfree(vm);
}

/*
 * A zombie's end: its last armed VMCS was disarmed, or its mm went away
 * (no vCPU can run again).  Queued once (zombie_queued), on eg_wq, which
 * module exit destroys: the module reference is dropped last.
 */
static void eg_vm_zombie_work(struct work_struct *work)
{
	struct eg_vm *vm = container_of(work, struct eg_vm, zombie_work);

	mutex_lock(&eg_mutex);
	eg_vm_free_locked(vm);
	mutex_unlock(&eg_mutex);
	module_put(THIS_MODULE);
}

/*
 * Disarms every vCPU it can: those in guest mode at their exit (the kick),
 * those outside KVM_RUN here.  One between two entries inside KVM_RUN
 * soon enters (and disarms) or leaves KVM_RUN, hence the rounds; one that
 * stays is halted.  Returns how many VMCSs are still armed.
 */
static unsigned int eg_vm_disarm_all(struct eg_vm *vm)
{
	unsigned int round, armed;

	lockdep_assert_held(&eg_mutex);
	for (round = 0;; round++) {
		eg_vm_kick_all(vm);
		eg_vm_disarm_idle(vm);
		raw_spin_lock(&vm->mmu_lock);
		armed = vm->nr_armed;
		raw_spin_unlock(&vm->mmu_lock);
		if (!armed || round == EG_DISARM_ROUNDS)
			return armed;
		usleep_range(EG_DRAIN_US / 2, EG_DRAIN_US);
	}
}

static void eg_vm_release_locked(struct eg_vm *vm)
{
	unsigned int armed;

	eg_vm_revoke_grants(vm);
	eg_view_unmap_peer_windows(vm);

	eg_vm_disarm_all(vm);
	raw_spin_lock(&vm->mmu_lock);
	armed = vm->nr_armed;
	vm->zombie = armed;
	raw_spin_unlock(&vm->mmu_lock);
	if (!armed) {
		eg_vm_free_locked(vm);
		return;
	}
	/*
	 * A zombie: still hashed, its vCPU state kept, so that the hook
	 * disarms each VMCS left armed before its guest runs again; the
	 * views go now (no armed vCPU enters one before it is disarmed).
	 */
	__module_get(THIS_MODULE);
	eg_view_destroy_all(vm);
	pr_info(EG_NAME ": VM of pid %d released with %u vCPU(s) in KVM_RUN: freed at their next entry or when the process exits\n",
		vm->kvm->userspace_pid, armed);
}

static int eg_vm_release(struct inode *inode, struct file *filp)
{
	struct eg_vm *vm = filp->private_data;

	raw_spin_lock(&vm->mmu_lock);
	vm->dying = true;
	eg_vm_switching_off(vm);
	raw_spin_unlock(&vm->mmu_lock);
	cancel_work_sync(&vm->revalidate_work);
	cancel_work_sync(&vm->hook_work);
	cancel_work_sync(&vm->refill_work);

	mutex_lock(&eg_mutex);
	eg_vm_release_locked(vm);
	mutex_unlock(&eg_mutex);
	return 0;
}

static const struct file_operations eg_vm_fops = {
	.owner = THIS_MODULE,
	.release = eg_vm_release,
	.unlocked_ioctl = eg_vm_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
	.llseek = noop_llseek,
};

static struct kvm *eg_get_kvm_from_fd(int vm_fd)
{
	struct kvm *kvm;
	struct file *f;

	f = fget(vm_fd);
	if (!f)
		return ERR_PTR(eg_reject(-EBADF, "vm_fd is not an open file (or is O_PATH)"));
	if (!file_is_kvm(f)) {
		fput(f);
		return ERR_PTR(eg_reject(-EINVAL, "vm_fd is not a KVM VM fd"));
	}
	kvm = f->private_data;
	kvm_get_kvm(kvm);
	fput(f);
	return kvm;
}

int eg_vm_bind(int vm_fd)
{
	struct eg_vm *vm;
	struct kvm *kvm;
	struct file *file;
	int fd, r;

	if (!eg_vmfunc_ud_ready())
		return eg_reject(-ENODEV, "kvm_intel's handle_vmfunc is not probed");
	kvm = eg_get_kvm_from_fd(vm_fd);
	if (IS_ERR(kvm))
		return PTR_ERR(kvm);
	/*
	 * As KVM refuses VM ioctls from another mm: a binding is the VM's
	 * own process's (its MMU notifier, lazy fills and trampoline install
	 * are about that mm).  Another process gets a grant, not a binding.
	 */
	if (kvm->mm != current->mm) {
		kvm_put_kvm(kvm);
		return eg_reject(-EPERM, "caller is not the VM's own process");
	}

	vm = kzalloc(sizeof(*vm), GFP_KERNEL_ACCOUNT);
	if (!vm) {
		kvm_put_kvm(kvm);
		return -ENOMEM;
	}
	vm->kvm = kvm;
	raw_spin_lock_init(&vm->mmu_lock);
	xa_init(&vm->vcpus);
	INIT_LIST_HEAD(&vm->peer_windows);
	INIT_LIST_HEAD(&vm->grants);
	INIT_WORK(&vm->revalidate_work, eg_vm_revalidate);
	INIT_WORK(&vm->hook_work, eg_vm_hook_work);
	INIT_WORK(&vm->zombie_work, eg_vm_zombie_work);
	INIT_WORK(&vm->refill_work, eg_vm_refill_work);
	mutex_init(&vm->win_lock);
	init_waitqueue_head(&vm->view_users_wq);
	vm->mn.ops = &eg_mmu_notifier_ops;

	mutex_lock(&eg_mutex);
	rcu_read_lock();
	r = eg_vm_lookup_rcu(kvm) ? -EEXIST : 0;
	rcu_read_unlock();
	if (r) {
		r = eg_reject(r, "VM is already bound");
		goto err;
	}
	if (!mmget_not_zero(kvm->mm)) {
		r = eg_reject(-ESRCH, "VM's address space is gone");
		goto err;
	}
	r = mmu_notifier_register(&vm->mn, kvm->mm);
	mmput(kvm->mm);
	if (r) {
		r = eg_reject(r, "cannot register an MMU notifier");
		goto err;
	}

	fd = get_unused_fd_flags(O_CLOEXEC);
	if (fd < 0) {
		r = fd;
		goto err_mn;
	}
	file = anon_inode_getfile("eptgate-vm", &eg_vm_fops, vm, O_RDWR);
	if (IS_ERR(file)) {
		put_unused_fd(fd);
		r = PTR_ERR(file);
		goto err_mn;
	}
	vm->pid = get_task_pid(current, PIDTYPE_TGID);
	eg_vm_hash_add(vm);
	atomic64_inc(&eg_counters.bindings);
	mutex_unlock(&eg_mutex);
	fd_install(fd, file);
	return fd;

err_mn:
	mmu_notifier_unregister(&vm->mn, kvm->mm);
err:
	mutex_unlock(&eg_mutex);
	kvm_put_kvm(kvm);
	kfree(vm);
	return r;
}

static int eg_ioctl_view(struct eg_vm *vm, void __user *uarg, bool create)
{
	struct eptgate_view v;
	const char *why;
	int usize, r;

	usize = eg_copy_arg_in(&v, sizeof(v), EG_SIZE_VIEW_V1, uarg,
			       create ? "CREATE_VIEW" : "DESTROY_VIEW");
	if (usize < 0)
		return usize;
	r = eg_check_view(&v, create, &why);
	if (r)
		return eg_reject(r, why);
	if (!create)
		return eg_view_destroy(vm, v.view);
	r = eg_view_pick_id(vm, &v);
	if (r)
		return r;
	if (eg_vm_logs_dirty(vm))
		return eg_reject(-EBUSY, "dirty logging is on (migration)");
	r = eg_view_create(vm, &v);
	if (r)
		return r;
	return eg_copy_arg_out(uarg, &v, sizeof(v), usize);
}

static int eg_ioctl_access(struct eg_vm *vm, void __user *uarg)
{
	struct eptgate_access a;
	const char *why;
	int usize, r;

	usize = eg_copy_arg_in(&a, sizeof(a), EG_SIZE_ACCESS_V1, uarg,
			       "SET_ACCESS");
	if (usize < 0)
		return usize;
	r = eg_check_access(&a, eg_caps.caps & EPTGATE_CAP_EPT_X_ONLY, &why);
	if (r)
		return eg_reject(r, why);
	return eg_view_set_access(vm, &a);
}

/*
 * The VM a window maps, from peer_fd: a grant that allows the range and
 * the access (*@grant set), or with EPTGATE_WINDOW_PEER_BINDING a binding
 * (*@grant NULL).  An ERR_PTR, with the reason logged, otherwise.
 */
static struct eg_vm *eg_window_peer(const struct eptgate_window *arg,
				    struct eg_grant **grant)
{
	struct eg_vm *peer;
	const char *why;
	int r;

	*grant = NULL;
	if (arg->flags & EPTGATE_WINDOW_PEER_BINDING) {
		peer = eg_vm_from_fd(arg->peer_fd);
		if (IS_ERR(peer))
			eg_reject((int)PTR_ERR(peer), "peer_fd is not a binding fd");
		return peer;
	}
	*grant = eg_grant_from_fd(arg->peer_fd);
	if (IS_ERR(*grant))
		return ERR_PTR(eg_reject((int)PTR_ERR(*grant),
					 "peer_fd is not a grant fd"));
	if (!(*grant)->vm)
		return ERR_PTR(eg_reject(-EKEYREVOKED, "the grant is revoked"));
	r = eg_grant_allows((*grant)->r, (*grant)->nr, arg->peer_gpa, arg->len,
			    arg->access, &why);
	if (r)
		return ERR_PTR(eg_reject(r, why));
	return (*grant)->vm;
}

static int eg_ioctl_window(struct eg_vm *vm, void __user *uarg)
{
	struct eptgate_window w;
	struct eg_grant *grant;
	struct eg_vm *peer;
	const char *why;
	int usize, r;

	usize = eg_copy_arg_in(&w, sizeof(w), EG_SIZE_WINDOW_V1, uarg,
			       "MAP_WINDOW");
	if (usize < 0)
		return usize;
	r = eg_check_window(&w, &why);
	if (r)
		return eg_reject(r, why);
	if (w.flags & EPTGATE_WINDOW_UNMAP)
		return eg_view_unmap_window(vm, &w);
	if (!eg_vm_view(vm, w.view))
		return eg_reject(-ENOENT, "no such view");
	peer = eg_window_peer(&w, &grant);
	if (IS_ERR(peer))
		return PTR_ERR(peer);
	return eg_view_map_window(vm, &w, peer, grant);
}

static int eg_ioctl_switching(struct eg_vm *vm, void __user *uarg, bool on)
{
	struct eptgate_switching s;
	const char *why;
	int usize, r;

	usize = eg_copy_arg_in(&s, sizeof(s), EG_SIZE_SWITCHING_V1, uarg,
			       on ? "ENABLE" : "DISABLE");
	if (usize < 0)
		return usize;
	r = eg_check_flags(s.flags, 0, &why);
	if (r)
		return eg_reject(r, why);
	if (on) {
		if (eg_vm_logs_dirty(vm))
			return eg_reject(-EBUSY, "dirty logging is on (migration)");
		r = eg_vcpu_prepare_all(vm);
		if (r)
			return r;
		eg_vm_slots_baseline(vm);
	}
	/* a vCPU inside the trampoline finishes its call first */
	if (!on && vm->enabled && !eg_vm_drain(vm, 0))
		pr_warn_ratelimited("eptgate: DISABLE: a vCPU stayed in a view for %u ms; put back in the default view\n",
				    EG_DRAIN_ROUNDS);
	raw_spin_lock(&vm->mmu_lock);
	if (on) {
		vm->enabled = true;
		eg_vm_hook_changed(vm);
	} else {
		eg_vm_switching_off(vm);
	}
	raw_spin_unlock(&vm->mmu_lock);
	if (!on)
		eg_vm_kick_all(vm);	/* back to the default view now */
	return 0;
}

static int eg_ioctl_view_stats(struct eg_vm *vm, void __user *uarg)
{
	struct eptgate_view_stats st;
	struct eg_view *view;
	const char *why;
	int usize, r;

	usize = eg_copy_arg_in(&st, sizeof(st), EG_SIZE_VIEW_STATS_V1, uarg,
			       "GET_VIEW_STATS");
	if (usize < 0)
		return usize;
	r = eg_check_flags(st.flags, 0, &why);
	if (!r && st.pad) {
		why = "nonzero padding";
		r = -EINVAL;
	}
	if (!r)
		r = eg_check_view_id(st.view, false, &why);
	if (r)
		return eg_reject(r, why);
	raw_spin_lock(&vm->mmu_lock);
	view = eg_vm_view(vm, st.view);
	if (view) {
		st.switches = view->stats.switches;
		st.exits = view->stats.exits;
		st.ept_violations = view->stats.ept_violations;
		st.lazy_fills = view->stats.lazy_fills;
		st.fallbacks = view->stats.fallbacks;
		st.zaps = view->stats.zaps;
		st.event_fallbacks = view->stats.event_fallbacks;
		st.doorbells = view->stats.doorbells;
		st.fill_retries = view->stats.fill_retries;
	}
	raw_spin_unlock(&vm->mmu_lock);
	if (!view)
		return eg_reject(-ENOENT, "no such view");
	return eg_copy_arg_out(uarg, &st, sizeof(st), usize);
}

static int eg_ioctl_vcpu_stats(struct eg_vm *vm, void __user *uarg)
{
	struct eptgate_vcpu_stats st;
	struct eg_vcpu *vs;
	const char *why;
	int usize, r;

	usize = eg_copy_arg_in(&st, sizeof(st), EG_SIZE_VCPU_STATS_V1, uarg,
			       "GET_VCPU_STATS");
	if (usize < 0)
		return usize;
	r = eg_check_flags(st.flags, 0, &why);
	if (r)
		return eg_reject(r, why);
	raw_spin_lock(&vm->mmu_lock);
	vs = xa_load(&vm->vcpus, st.vcpu_idx);
	if (vs) {
		st.view = vs->exit_view;
		st.entries = vs->entries;
		st.exits = vs->exits;
		st.exits_alt = vs->exits_alt;
		st.vmfunc_ud = vs->vmfunc_ud;
	}
	raw_spin_unlock(&vm->mmu_lock);
	if (!vs)
		return eg_reject(-ENOENT, "vCPU has not entered with switching enabled");
	return eg_copy_arg_out(uarg, &st, sizeof(st), usize);
}

static int eg_ioctl_grant(struct eg_vm *vm, void __user *uarg)
{
	struct eptgate_grant g;
	const char *why;
	int usize, r;

	usize = eg_copy_arg_in(&g, sizeof(g), EG_SIZE_GRANT_V1, uarg,
			       "CREATE_GRANT");
	if (usize < 0)
		return usize;
	r = eg_check_grant(&g, &why);
	if (r)
		return eg_reject(r, why);
	return eg_grant_create(vm, &g);
}

static int eg_ioctl_trampoline(struct eg_vm *vm, void __user *uarg)
{
	struct eptgate_trampoline t;
	const char *why;
	int usize, r;

	usize = eg_copy_arg_in(&t, sizeof(t), EG_SIZE_TRAMPOLINE_V1, uarg,
			       "INSTALL_TRAMPOLINE");
	if (usize < 0)
		return usize;
	r = eg_check_trampoline(&t, &why);
	if (r)
		return eg_reject(r, why);
	return eg_trampoline_install(vm, &t);
}

static long eg_vm_ioctl(struct file *filp, unsigned int ioctl,
			unsigned long arg)
{
	struct eg_vm *vm = filp->private_data;
	void __user *uarg = (void __user *)arg;
	long r;

	/*
	 * A memslot change queued a revalidation: let it finish, so that
	 * every ioctl sees views that match the memslots (and none while a
	 * memslot logs dirty pages).
	 */
	flush_work(&vm->revalidate_work);

	if (ioctl == EPTGATE_GET_VIEW_STATS)
		return eg_ioctl_view_stats(vm, uarg);
	if (ioctl == EPTGATE_GET_VCPU_STATS)
		return eg_ioctl_vcpu_stats(vm, uarg);

	mutex_lock(&eg_mutex);
	switch (ioctl) {
	case EPTGATE_CREATE_VIEW:
		r = eg_ioctl_view(vm, uarg, true);
		break;
	case EPTGATE_DESTROY_VIEW:
		r = eg_ioctl_view(vm, uarg, false);
		break;
	case EPTGATE_SET_ACCESS:
		r = eg_ioctl_access(vm, uarg);
		break;
	case EPTGATE_MAP_WINDOW:
		r = eg_ioctl_window(vm, uarg);
		break;
	case EPTGATE_ENABLE:
		r = eg_ioctl_switching(vm, uarg, true);
		break;
	case EPTGATE_DISABLE:
		r = eg_ioctl_switching(vm, uarg, false);
		break;
	case EPTGATE_INSTALL_TRAMPOLINE:
		r = eg_ioctl_trampoline(vm, uarg);
		break;
	case EPTGATE_CREATE_GRANT:
		r = eg_ioctl_grant(vm, uarg);
		break;
	default:
		r = -ENOTTY;
	}
	mutex_unlock(&eg_mutex);
	return r;
}
