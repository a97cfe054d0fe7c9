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
#include <linux/kvm_host.h>
#include <linux/module.h>
#include <asm/ibt.h>
#include <asm/traps.h>
#include "hook.h"
#include "main.h"
#include "vm.h"
#include "vmfunc_ud.h"

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
	struct eg_vcpu *vs = NULL;
	struct eg_vm *vm;

	if (vcpu->arch.hflags & HF_GUEST_MASK)
		return 0;
	/*
	 * Counted here, not in the exit probe, which reads no exit reason:
	 * with switching enabled only (api.rst), i.e. with the VMCS armed.
	 */
	rcu_read_lock();
	vm = eg_vm_lookup_rcu(vcpu->kvm);
	if (vm)
		vs = xa_load(&vm->vcpus, vcpu->vcpu_idx);
	if (vs && READ_ONCE(vs->armed))
		WRITE_ONCE(vs->vmfunc_ud, vs->vmfunc_ud + 1);
	rcu_read_unlock();
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

/* Whether the probe is placed; eg_vmfunc_lock. */
static bool eg_vmfunc_armed;
static DEFINE_MUTEX(eg_vmfunc_lock);	/* eg_vmfunc_kp, eg_vmfunc_armed */

static int eg_vmfunc_arm(void)
{
	int r;

	eg_vmfunc_kp.addr = NULL;	/* resolve handle_vmfunc anew */
	eg_vmfunc_kp.flags = 0;
	r = register_kprobe(&eg_vmfunc_kp);
	eg_vmfunc_armed = !r;
	return r;
}

static void eg_vmfunc_disarm(void)
{
	if (eg_vmfunc_armed)
		unregister_kprobe(&eg_vmfunc_kp);
	eg_vmfunc_armed = false;
}

/* Binding a VM needs the probe: without it a guest could WARN the host. */
bool eg_vmfunc_ud_ready(void)
{
	bool armed;

	mutex_lock(&eg_vmfunc_lock);
	armed = eg_vmfunc_armed;
	mutex_unlock(&eg_vmfunc_lock);
	return armed;
}

/*
 * kvm_intel can be unloaded and loaded again while eptgate stays (no VM
 * exists then: each holds a reference on kvm_intel): place the probe on
 * the new handle_vmfunc.
 */
static int eg_vmfunc_module_event(struct notifier_block *nb,
				  unsigned long state, void *data)
{
	struct module *mod = data;

	if (strcmp(mod->name, "kvm_intel"))
		return NOTIFY_DONE;
	mutex_lock(&eg_vmfunc_lock);
	if (state == MODULE_STATE_GOING)
		eg_vmfunc_disarm();
	else if (state == MODULE_STATE_LIVE && !eg_vmfunc_armed &&
		 eg_vmfunc_arm())
		pr_err(EG_NAME ": cannot probe the new kvm_intel's handle_vmfunc: binding refused\n");
	mutex_unlock(&eg_vmfunc_lock);
	return NOTIFY_DONE;
}

static struct notifier_block eg_vmfunc_module_nb = {
	.notifier_call = eg_vmfunc_module_event,
};

int eg_vmfunc_ud_init(void)
{
	int r;

	mutex_lock(&eg_vmfunc_lock);
	r = eg_vmfunc_arm();
	mutex_unlock(&eg_vmfunc_lock);
	if (r) {
		pr_err(EG_NAME ": not loading: cannot probe kvm_intel's handle_vmfunc (%d): guest VMFUNC exits would WARN\n",
		       r);
		return r;
	}
	r = register_module_notifier(&eg_vmfunc_module_nb);
	if (r)
		eg_vmfunc_ud_exit();
	return r;
}

void eg_vmfunc_ud_exit(void)
{
	unregister_module_notifier(&eg_vmfunc_module_nb);
	mutex_lock(&eg_vmfunc_lock);
	eg_vmfunc_disarm();
	mutex_unlock(&eg_vmfunc_lock);
}
