// SPDX-License-Identifier: GPL-2.0
/*
 * The module-wide, read-only view of the bindings: EPTGATE_LIST_VMS and
 * EPTGATE_QUERY_VM on /dev/eptgate (Documentation/api.rst, 2.15, 2.16).
 * They need no binding fd, so they are for CAP_SYS_ADMIN only: they tell
 * who runs VMs and where their views and windows are.
 *
 * Locking: the records are gathered under eg_mutex, which every change of
 * a binding, view, range, window, trampoline or grant holds, and each
 * VM's state (flags, counters, range sets, vCPU state) under its
 * mmu_lock, into kernel buffers allocated beforehand; they are copied to
 * the caller once both are dropped.  Nothing here changes any state.
 */
#include <linux/capability.h>
#include <linux/mm.h>
#include <linux/pid.h>
#include <linux/slab.h>
#include <linux/sort.h>
#include <linux/uaccess.h>
#include "arg.h"
#include "grant.h"
#include "hook.h"
#include "list.h"
#include "main.h"
#include "range.h"
#include "trampoline.h"
#include "uarg.h"
#include "view.h"
#include "vm.h"

/* The first published sizes of the structures of this file. */
#define EG_SIZE_VM_LIST_V1	offsetofend(struct eptgate_vm_list, vms)
#define EG_SIZE_VM_QUERY_V1	offsetofend(struct eptgate_vm_query, vcpus)
#define EG_SIZE_VM_INFO_V1	offsetofend(struct eptgate_vm_info, pad)
#define EG_SIZE_VIEW_INFO_V1	offsetofend(struct eptgate_view_info, tramp_doorbell_gpa)
#define EG_SIZE_RANGE_INFO_V1	offsetofend(struct eptgate_range_info, peer_gpa)

/* Most ranges a VM can have: every alternate view full. */
#define EG_LIST_MAX_RANGES	((EPTGATE_MAX_VIEWS - 1) * EG_MAX_RANGES)

/*
 * One result array: what the caller gave (@a), and the kernel's records.
 * @max records fit in @buf (at most a.nr); @n is how many exist, counted
 * past @max too.
 */
struct eg_out {
	struct eptgate_array *a;
	size_t ksize;		/* the kernel's sizeof(record) */
	u32 max;
	u32 n;
	void *buf;
};

/* The next record to fill, or NULL if the buffer is full; counts it. */
static void *eg_out_next(struct eg_out *o)
{
	void *rec = o->n < o->max ? o->buf + o->n * o->ksize : NULL;

	o->n++;
	return rec;
}

static int eg_out_check(const struct eptgate_array *a, u32 min_entry,
			const char **why)
{
	if (a->entry_size < min_entry) {
		*why = "entry_size smaller than the first layout of the record";
		return -EINVAL;
	}
	if (a->entry_size > EG_SIZE_MAX) {
		*why = "entry_size larger than a page";
		return -EINVAL;
	}
	return 0;
}

/* Allocates room for min(a->nr, @limit) records. */
static int eg_out_alloc(struct eg_out *o, struct eptgate_array *a,
			size_t ksize, u32 limit)
{
	o->a = a;
	o->ksize = ksize;
	o->n = 0;
	o->max = min(a->nr, limit);
	o->buf = NULL;
	if (!o->max)
		return 0;
	o->buf = kvcalloc(o->max, ksize, GFP_KERNEL_ACCOUNT);
	return o->buf ? 0 : -ENOMEM;
}

static void eg_out_free(struct eg_out *o)
{
	kvfree(o->buf);
	o->buf = NULL;
}

/* Whether every record of @o fits in the caller's buffer. */
static bool eg_out_fits(const struct eg_out *o)
{
	return o->n <= o->a->nr;
}

/*
 * Writes the records to the caller's buffer, entry_size apart, each
 * min(entry_size, ksize) bytes long with its size field saying so, and
 * sets a->nr.  Only called when eg_out_fits().
 */
static int eg_out_copy(struct eg_out *o)
{
	u32 len = min_t(u32, o->a->entry_size, o->ksize), i;
	u64 addr = o->a->addr;

	for (i = 0; i < o->n; i++) {
		void *rec = o->buf + i * o->ksize;

		*(u32 *)rec = len;	/* every record starts with its size */
		if (copy_to_user(u64_to_user_ptr(addr), rec, len))
			return -EFAULT;
		addr += o->a->entry_size;
	}
	o->a->nr = o->n;
	return 0;
}

/* The summary of @vm; eg_mutex held, takes mmu_lock. */
static void eg_vm_fill_info(struct eg_vm *vm, struct eptgate_vm_info *info)
{
	struct eg_grant *g;
	struct eg_window *w;
	struct eg_vcpu *vs;
	unsigned long idx;
	u32 id, i;

	lockdep_assert_held(&eg_mutex);
	memset(info, 0, sizeof(*info));
	info->vm_id = vm->id;
	info->pid = pid_vnr(vm->pid);
	info->nr_vcpus = atomic_read(&vm->kvm->online_vcpus);
	list_for_each_entry(g, &vm->grants, vm_node)
		info->nr_grants++;
	list_for_each_entry(w, &vm->peer_windows, peer_node)
		info->nr_peer_windows++;

	raw_spin_lock(&vm->mmu_lock);
	if (vm->enabled)
		info->flags |= EPTGATE_VM_ENABLED;
	if (vm->suspended)
		info->flags |= EPTGATE_VM_SUSPENDED;
	if (vm->dirty_logging)
		info->flags |= EPTGATE_VM_DIRTY_LOG;
	if (vm->dying)
		info->flags |= EPTGATE_VM_DYING;
	xa_for_each(&vm->vcpus, idx, vs)
		info->nr_vcpu_stats++;
	for (id = 1; id < EPTGATE_MAX_VIEWS; id++) {
		struct eg_view *view = vm->views[id];

		if (!view)
			continue;
		info->nr_views++;
		info->nr_ranges += view->ranges.nr;
		for (i = 0; i < view->ranges.nr; i++)
			if (view->ranges.r[i].kind == EG_RANGE_WINDOW)
				info->nr_windows++;
		if (view->tramp)
			info->nr_trampolines++;
	}
	raw_spin_unlock(&vm->mmu_lock);
}

static int eg_list_one(struct eg_vm *vm, void *data)
{
	struct eptgate_vm_info *info = eg_out_next(data);

	if (info)
		eg_vm_fill_info(vm, info);
	return 0;
}

static int eg_count_one(struct eg_vm *vm, void *data)
{
	(*(u32 *)data)++;
	return 0;
}

static int eg_vm_info_cmp(const void *a, const void *b)
{
	const struct eptgate_vm_info *x = a, *y = b;

	return x->vm_id < y->vm_id ? -1 : x->vm_id > y->vm_id;
}

long eg_list_vms(void __user *uarg)
{
	struct eptgate_vm_list l;
	struct eg_out o;
	const char *why;
	u32 count = 0;
	int usize, r;

	if (!capable(CAP_SYS_ADMIN))
		return eg_reject(-EPERM, "needs CAP_SYS_ADMIN");
	usize = eg_copy_arg_in(&l, sizeof(l), EG_SIZE_VM_LIST_V1, uarg,
			       "LIST_VMS");
	if (usize < 0)
		return usize;
	r = eg_check_flags(l.flags, 0, &why);
	if (!r)
		r = eg_out_check(&l.vms, EG_SIZE_VM_INFO_V1, &why);
	if (r)
		return eg_reject(r, why);

	mutex_lock(&eg_mutex);
	eg_vm_for_each(eg_count_one, &count);
	r = eg_out_alloc(&o, &l.vms, sizeof(struct eptgate_vm_info), count);
	if (!r)
		eg_vm_for_each(eg_list_one, &o);
	mutex_unlock(&eg_mutex);
	if (r)
		return r;

	if (eg_out_fits(&o)) {
		sort(o.buf, o.n, o.ksize, eg_vm_info_cmp, NULL);
		r = eg_out_copy(&o);
	} else {
		l.vms.nr = o.n;
		r = -ENOSPC;
	}
	eg_out_free(&o);
	if (r != -EFAULT) {
		int w = eg_copy_arg_out(uarg, &l, sizeof(l), usize);

		r = r ? r : w;
	}
	return r;
}

struct eg_find {
	u64 id;
	struct eg_vm *vm;
};

static int eg_match_id(struct eg_vm *vm, void *data)
{
	struct eg_find *f = data;

	if (vm->id != f->id)
		return 0;
	f->vm = vm;
	return 1;
}

/* The bound VM of id @id, or NULL; eg_mutex held. */
static struct eg_vm *eg_vm_by_id(u64 id)
{
	struct eg_find f = { .id = id };

	lockdep_assert_held(&eg_mutex);
	eg_vm_for_each(eg_match_id, &f);
	return f.vm;
}

enum { EG_Q_VM, EG_Q_VIEWS, EG_Q_VIEW_STATS, EG_Q_RANGES, EG_Q_VCPUS, EG_Q_NR };

static void eg_fill_view(struct eg_view *view, struct eptgate_view_info *vi,
			 struct eptgate_view_stats *st)
{
	struct eg_trampoline *t = view->tramp;

	if (vi) {
		vi->view = view->id;
		vi->nr_ranges = view->ranges.nr;
		if (t) {
			vi->flags = EPTGATE_VIEW_TRAMPOLINE;
			vi->tramp_code_gpa = t->code_gpa;
			vi->tramp_code_len = (u64)t->ncode * PAGE_SIZE;
			vi->tramp_data_gpa = t->data_gpa;
			vi->tramp_doorbell_gpa = t->doorbell_gpa;
		}
	}
	if (st) {
		st->view = view->id;
		st->switches = view->stats.switches;
		st->exits = view->stats.exits;
		st->ept_violations = view->stats.ept_violations;
		st->lazy_fills = view->stats.lazy_fills;
		st->fallbacks = view->stats.fallbacks;
		st->zaps = view->stats.zaps;
		st->event_fallbacks = view->stats.event_fallbacks;
		st->doorbells = view->stats.doorbells;
		st->fill_retries = view->stats.fill_retries;
	}
}

static void eg_fill_range(struct eg_view *view, const struct eg_range *r,
			  struct eptgate_range_info *ri)
{
	static const u32 kinds[] = {
		[EG_RANGE_RAM] = EPTGATE_RANGE_RAM,
		[EG_RANGE_WINDOW] = EPTGATE_RANGE_WINDOW,
		[EG_RANGE_TRAMP] = EPTGATE_RANGE_TRAMPOLINE,
		[EG_RANGE_SINK] = EPTGATE_RANGE_REVOKED,
	};

	ri->view = view->id;
	ri->kind = r->kind < ARRAY_SIZE(kinds) ? kinds[r->kind] : 0;
	ri->access = r->access;	/* EPT R/W/X: the EPTGATE_ACCESS_* bits */
	ri->gpa = r->start;
	ri->len = r->end - r->start;
	if (r->kind == EG_RANGE_WINDOW) {
		const struct eg_window *w = r->owner;

		ri->peer_vm_id = w->peer->id;
		ri->peer_pid = pid_vnr(w->peer->pid);
		ri->peer_gpa = w->peer_gpa + (r->start - w->gpa);
		if (w->grant)
			ri->flags |= EPTGATE_RANGE_GRANT;
	}
}

/* Views, their counters and ranges, vCPUs of @vm; eg_mutex held. */
static void eg_query_fill(struct eg_vm *vm, struct eg_out *o)
{
	struct eg_vcpu *vs;
	unsigned long idx;
	u32 id, i;

	lockdep_assert_held(&eg_mutex);
	raw_spin_lock(&vm->mmu_lock);
	for (id = 1; id < EPTGATE_MAX_VIEWS; id++) {
		struct eg_view *view = vm->views[id];

		if (!view)
			continue;
		eg_fill_view(view, eg_out_next(&o[EG_Q_VIEWS]),
			     eg_out_next(&o[EG_Q_VIEW_STATS]));
		for (i = 0; i < view->ranges.nr; i++) {
			struct eptgate_range_info *ri =
				eg_out_next(&o[EG_Q_RANGES]);

			if (ri)
				eg_fill_range(view, &view->ranges.r[i], ri);
		}
	}
	xa_for_each(&vm->vcpus, idx, vs) {
		struct eptgate_vcpu_stats *st = eg_out_next(&o[EG_Q_VCPUS]);

		if (!st)
			continue;
		st->vcpu_idx = idx;
		st->view = vs->exit_view;
		st->entries = vs->entries;
		st->exits = vs->exits;
		st->exits_alt = vs->exits_alt;
		st->vmfunc_ud = vs->vmfunc_ud;
	}
	raw_spin_unlock(&vm->mmu_lock);
}

long eg_query_vm(void __user *uarg)
{
	static const struct {
		size_t ksize;
		u32 min_entry;
		u32 limit;
	} kind[EG_Q_NR] = {
		[EG_Q_VM] = { sizeof(struct eptgate_vm_info),
			      EG_SIZE_VM_INFO_V1, 1 },
		[EG_Q_VIEWS] = { sizeof(struct eptgate_view_info),
				 EG_SIZE_VIEW_INFO_V1, EPTGATE_MAX_VIEWS - 1 },
		[EG_Q_VIEW_STATS] = { sizeof(struct eptgate_view_stats),
				      EG_SIZE_VIEW_STATS_V1,
				      EPTGATE_MAX_VIEWS - 1 },
		[EG_Q_RANGES] = { sizeof(struct eptgate_range_info),
				  EG_SIZE_RANGE_INFO_V1, EG_LIST_MAX_RANGES },
		[EG_Q_VCPUS] = { sizeof(struct eptgate_vcpu_stats),
				 EG_SIZE_VCPU_STATS_V1, KVM_MAX_VCPUS },
	};
	struct eptgate_vm_query q;
	struct eptgate_array *a[EG_Q_NR];
	struct eg_out o[EG_Q_NR] = {};
	struct eptgate_vm_info *info;
	struct eg_vm *vm;
	bool fits = true;
	const char *why;
	int usize, r, k;

	if (!capable(CAP_SYS_ADMIN))
		return eg_reject(-EPERM, "needs CAP_SYS_ADMIN");
	usize = eg_copy_arg_in(&q, sizeof(q), EG_SIZE_VM_QUERY_V1, uarg,
			       "QUERY_VM");
	if (usize < 0)
		return usize;
	a[EG_Q_VM] = &q.vm;
	a[EG_Q_VIEWS] = &q.views;
	a[EG_Q_VIEW_STATS] = &q.view_stats;
	a[EG_Q_RANGES] = &q.ranges;
	a[EG_Q_VCPUS] = &q.vcpus;
	r = eg_check_flags(q.flags, 0, &why);
	for (k = 0; !r && k < EG_Q_NR; k++)
		r = eg_out_check(a[k], kind[k].min_entry, &why);
	if (r)
		return eg_reject(r, why);

	for (k = 0; !r && k < EG_Q_NR; k++)
		r = eg_out_alloc(&o[k], a[k], kind[k].ksize, kind[k].limit);
	if (r)
		goto out;

	mutex_lock(&eg_mutex);
	vm = eg_vm_by_id(q.vm_id);
	if (vm) {
		info = eg_out_next(&o[EG_Q_VM]);
		if (info)
			eg_vm_fill_info(vm, info);
		eg_query_fill(vm, o);
	}
	mutex_unlock(&eg_mutex);
	if (!vm) {
		r = eg_reject(-ENOENT, "no VM with this vm_id");
		goto out;
	}

	for (k = 0; k < EG_Q_NR; k++)
		fits &= eg_out_fits(&o[k]);
	for (k = 0; !r && k < EG_Q_NR; k++) {
		if (fits)
			r = eg_out_copy(&o[k]);
		else
			a[k]->nr = o[k].n;
	}
	if (!r && !fits)
		r = -ENOSPC;
	if (r != -EFAULT) {
		int w = eg_copy_arg_out(uarg, &q, sizeof(q), usize);

		r = r ? r : w;
	}
out:
	for (k = 0; k < EG_Q_NR; k++)
		eg_out_free(&o[k]);
	return r;
}
