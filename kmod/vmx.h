/* SPDX-License-Identifier: GPL-2.0 */
/*
 * VMCS access for the hook, which runs inside kvm_intel's vmx_vcpu_run()
 * where the vCPU's VMCS is current on this CPU, and INVEPT.  kvm_intel's
 * own accessors are private to it, so eptgate has its own.
 */
#ifndef EPTGATE_VMX_H
#define EPTGATE_VMX_H

#include <asm/vmx.h>
#include <asm/asm.h>
#include "cost.h"

/* VMREAD: 0 if the field cannot be read (VMfail), which the hook treats
 * as "not ours to touch".
 */
static __always_inline u64 eg_vmread(unsigned long field)
{
	u64 value;
	bool fail;

	eg_cost_count(EG_COST_VMREAD);
	asm volatile("vmread %[field], %[value]"
		     : [value] "=rm"(value), "=@ccbe"(fail)
		     : [field] "r"(field)
		     : "memory");
	return fail ? 0 : value;
}

void eg_vmwrite_error(unsigned long field, u64 value);

/* A VMWRITE; a failure is reported once, as KVM's vmwrite_error() does. */
static __always_inline void eg_vmwrite(unsigned long field, u64 value)
{
	bool fail;

	eg_cost_count(EG_COST_VMWRITE);
	asm volatile("vmwrite %[value], %[field]"
		     : "=@ccbe"(fail)
		     : [field] "r"(field), [value] "rm"(value)
		     : "memory");
	if (unlikely(fail))
		eg_vmwrite_error(field, value);
}

/*
 * INVEPT of @type (<asm/vmx.h>'s VMX_EPT_EXTENT_CONTEXT or _GLOBAL); a
 * CPU that is not in VMX operation (#UD) is skipped through the exception
 * table: it cannot hold EPT-derived translations either.
 */
static inline void eg_invept(unsigned long type, u64 eptp)
{
	struct {
		u64 eptp, gpa;
	} operand = { eptp, 0 };

	asm volatile("1: invept %[op], %[type]\n"
		     "2:\n"
		     _ASM_EXTABLE(1b, 2b)
		     :
		     : [op] "m"(operand), [type] "r"(type)
		     : "cc", "memory");
}

#endif /* EPTGATE_VMX_H */
