/* SPDX-License-Identifier: GPL-2.0 */
/* The kvm_entry/kvm_exit probes (hook.c) and their per-vCPU state. */
#ifndef EPTGATE_HOOK_H
#define EPTGATE_HOOK_H

#include <linux/kvm_types.h>

#include <linux/types.h>
#include <linux/workqueue.h>

struct eg_vm;

/* A vCPU's probe state: in eg_vm.vcpus, under eg_vm.mmu_lock. */
struct eg_vcpu {
	u64 *eptp_list;			/* EPTP list page; [0] = KVM's root */
	u32 resume_view;		/* view to re-enter in */
	u64 resume_instance;		/* that view's eg_view.instance */
	u64 resume_gen;			/* eg_vm.switch_gen at the exit */
	u32 exit_view;			/* view seen at the last exit */
	u64 seq;			/* eg_vm.hook_seq at the last slow entry */
	hpa_t root_hpa;			/* KVM's root at that entry, or INVALID_PAGE */
	u64 view_eptp;			/* a view's EPTP the entry wrote, until the exit */
	bool armed;			/* VMCS points at eptp_list, VMFUNC on */
	bool kvm_had_vmfunc;		/* KVM's own secondary-control bit */
	u32 fill_retries;		/* lazy-fill retries in a row */
	u64 entries, exits, exits_alt, vmfunc_ud;
};

int eg_hook_init(void);
void eg_hook_exit(void);
int eg_vcpu_prepare_all(struct eg_vm *vm);
void eg_vm_slots_baseline(struct eg_vm *vm);
void eg_vcpu_free_all(struct eg_vm *vm);
void eg_vm_hook_work(struct work_struct *work);
void eg_vcpu_disarm(struct eg_vm *vm, struct eg_vcpu *vs);

#endif /* EPTGATE_HOOK_H */
