/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Memslot changes (memslot.c): the kprobe, the pause of the views, their
 * revalidation, the dirty-logging check; and two queries on KVM's
 * memslots, inline.
 */
#ifndef EPTGATE_MEMSLOT_H
#define EPTGATE_MEMSLOT_H

#include <linux/kvm_host.h>
#include <linux/workqueue.h>

struct eg_vm;

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

#endif /* EPTGATE_MEMSLOT_H */
