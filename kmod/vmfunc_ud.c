// SPDX-License-Identifier: GPL-2.0
/*
 * VMFUNC exits answered with #UD, without a host WARNING.
 *
 * Once eptgate enables VMFUNC, a guest VMFUNC that cannot complete (an
 * index with no view, an index >= 512, a leaf other than 0) exits with
 * reason 59.  kvm_intel's handle_vmfunc() then injects #UD, but on 6.12
 * only after WARN_ON_ONCE(!is_guest_mode(vcpu)): a host WARNING that any
 * guest could trigger at will, a panic with panic_on_warn.  No tracepoint
 * can stop an exit handler from running, so this is the one kprobe: for a
 * vCPU not in guest mode it does what handle_vmfunc() would do, without
 * the WARN, and returns 1 ("resume the guest") to KVM.  Nested VMFUNC
 * (L2 of an L1 hypervisor) goes to KVM untouched.
 */
#include <linux/kprobes.h>
#include <asm/ibt.h>
#include <asm/traps.h>
#include "eptgate.h"

/* A function body that only returns: where the probe sends the CPU. */
void eg_vmfunc_ret(void);
asm(".pushsection .text\n"
	".type eg_vmfunc_ret, @function\n"
	"eg_vmfunc_ret:\n"
	ASM_ENDBR "\n"
	ASM_RET "\n"
	".size eg_vmfunc_ret, . - eg_vmfunc_ret\n"
	".popsection\n");

static int eg_vmfunc_pre(struct kprobe *p, struct pt_regs *regs)
{
	struct kvm_vcpu *vcpu = (struct kvm_vcpu *)regs->di;

	if (vcpu->arch.hflags & HF_GUEST_MASK)
		return 0;
	kvm_queue_exception(vcpu, UD_VECTOR);
	regs->ax = 1;
	instruction_pointer_set(regs, (unsigned long)eg_vmfunc_ret);
	return 1;	/* execution path changed: no single-step */
}

NOKPROBE_SYMBOL(eg_vmfunc_pre);

static struct kprobe eg_vmfunc_kp = {
	.symbol_name = "handle_vmfunc",
	.pre_handler = eg_vmfunc_pre,
};

int eg_vmfunc_ud_init(void)
{
	int r = register_kprobe(&eg_vmfunc_kp);

	if (r)
		pr_err(EG_NAME ": not loading: cannot probe kvm_intel's handle_vmfunc (%d): guest VMFUNC exits would WARN\n",
		       r);
	return r;
}

void eg_vmfunc_ud_exit(void)
{
	unregister_kprobe(&eg_vmfunc_kp);
}
