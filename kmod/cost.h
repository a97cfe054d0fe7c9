/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the hook costs a VM entry + exit pair: a debug count, off unless
 * asked for, of the hash look-ups, VM-wide locks and VMCS accesses that
 * eptgate adds, per CPU, read and reset through debugfs
 * (/sys/kernel/debug/eptgate/hook_cost; Documentation/design.rst, "The
 * hook's cost per exit").  Off, each count is one patched-out jump.
 */
#ifndef EPTGATE_COST_H
#define EPTGATE_COST_H

#include <linux/jump_label.h>
#include <linux/percpu.h>

enum eg_cost {
	EG_COST_ENTRY,		/* entry probe calls */
	EG_COST_EXIT,		/* exit probe calls */
	EG_COST_LOOKUP,		/* eg_vm_lookup_rcu(): a hash look-up */
	EG_COST_LOCK,		/* eg_vm.mmu_lock taken by a probe */
	EG_COST_VMREAD,
	EG_COST_VMWRITE,
	EG_COST_NR,
};

struct eg_cost_cpu {
	u64 n[EG_COST_NR];
};

DECLARE_STATIC_KEY_FALSE(eg_cost_on);
DECLARE_PER_CPU(struct eg_cost_cpu, eg_cost_cpu);

static __always_inline void eg_cost_count(enum eg_cost what)
{
	if (static_branch_unlikely(&eg_cost_on))
		this_cpu_inc(eg_cost_cpu.n[what]);
}

void eg_cost_init(void);
void eg_cost_exit(void);

#endif /* EPTGATE_COST_H */
