// SPDX-License-Identifier: GPL-2.0
/*
 * eptgate: alternate EPT views for KVM guests, switched by VMFUNC leaf 0
 * without a VM exit, on a stock kvm_intel.
 *
 * This file: the capability probe, /dev/eptgate and module init/exit.
 * The layout of the rest: binding.c (bindings and their ioctls), vm.c
 * (the bound VMs' hash, kick), view.c (views, ranges, windows), ept.c
 * (EPT tables, INVEPT), hook.c (kvm_entry/kvm_exit probes and the exit
 * policy), mmu.c (coherence with the host's memory), peer.c (the peer
 * side of windows), vmfunc_ud.c (VMFUNC exits answered with #UD),
 * memslot.c (memslot changes), trampoline.c (signed code in a view),
 * grant.c (grants), list.c (the module-wide listing), arg.c (argument
 * copy-in/out).  Each file calls only files below it: binding.c and
 * main.c at the top, ept.c, range.c and uarg.c at the bottom.
 */
#include <linux/module.h>
#include <linux/miscdevice.h>
#include <linux/fs.h>
#include <asm/cpufeature.h>
#include <asm/msr.h>
#include <asm/vmx.h>
#include <linux/eptgate.h>
#include "arg.h"
#include "binding.h"
#include "cost.h"
#include "ept_entry.h"
#include "hook.h"
#include "list.h"
#include "main.h"
#include "memslot.h"
#include "trampoline.h"
#include "uarg.h"
#include "vmfunc_ud.h"

/* Serializes the control plane (vm.h lists what it protects). */
DEFINE_MUTEX(eg_mutex);
struct eg_caps eg_caps;
struct eg_counters eg_counters;
struct workqueue_struct *eg_wq;

/* IA32_VMX_EPT_VPID_CAP bits (SDM Vol. 3D, A.10): <asm/vmx.h>'s VMX_EPT_*. */
/* Allowed-1 settings of secondary controls are the MSR's high half. */
#define EG_CTLS2_EPT		BIT_ULL(32 + 1)
#define EG_CTLS2_VMFUNC		BIT_ULL(32 + 13)
#define EG_CTLS2_VE		BIT_ULL(32 + 18)
#define EG_PROCBASED_CTLS2_ON	BIT_ULL(32 + 31)

/*
 * Reads the VMX capability MSRs.  eptgate refuses to load where it could
 * not work: no VMX, no EPT, no VMFUNC EPTP switching, no 4-level walk, no
 * INVEPT.  Returns 0 or -ENODEV with the reason in *why.
 */
static int eg_probe_caps(const char **why)
{
	u64 ctls, ept, c = 0;

	if (!boot_cpu_has(X86_FEATURE_VMX)) {
		*why = "CPU has no VMX";
		return -ENODEV;
	}
	if (rdmsrl_safe(MSR_IA32_VMX_PROCBASED_CTLS, &ctls) ||
	    !(ctls & EG_PROCBASED_CTLS2_ON) ||
	    rdmsrl_safe(MSR_IA32_VMX_PROCBASED_CTLS2, &eg_caps.procbased2)) {
		*why = "CPU has no VMX secondary controls";
		return -ENODEV;
	}
	if (!(eg_caps.procbased2 & EG_CTLS2_EPT) ||
	    rdmsrl_safe(MSR_IA32_VMX_EPT_VPID_CAP, &eg_caps.ept_vpid_cap)) {
		*why = "CPU has no EPT";
		return -ENODEV;
	}
	ept = eg_caps.ept_vpid_cap;
	if (!(eg_caps.procbased2 & EG_CTLS2_VMFUNC) ||
	    rdmsrl_safe(MSR_IA32_VMX_VMFUNC, &eg_caps.vmfunc) ||
	    !(eg_caps.vmfunc & VMX_VMFUNC_EPTP_SWITCHING)) {
		*why = "CPU has no VMFUNC EPTP switching";
		return -ENODEV;
	}
	if (!(ept & VMX_EPT_PAGE_WALK_4_BIT) || !(ept & (VMX_EPTP_WB_BIT | VMX_EPTP_UC_BIT))) {
		*why = "CPU has no 4-level EPT with WB or UC paging structures";
		return -ENODEV;
	}
	if (!(ept & VMX_EPT_INVEPT_BIT) ||
	    !(ept & (VMX_EPT_EXTENT_CONTEXT_BIT | VMX_EPT_EXTENT_GLOBAL_BIT))) {
		*why = "CPU has no INVEPT";
		return -ENODEV;
	}
	c = EPTGATE_CAP_EPT | EPTGATE_CAP_VMFUNC_EPTP | EPTGATE_CAP_EPT_4LEVEL;
	if (ept & VMX_EPT_PAGE_WALK_5_BIT)
		c |= EPTGATE_CAP_EPT_5LEVEL;
	if (ept & VMX_EPT_2MB_PAGE_BIT)
		c |= EPTGATE_CAP_EPT_2M;
	if (ept & VMX_EPT_AD_BIT)
		c |= EPTGATE_CAP_EPT_AD;
	if (ept & VMX_EPT_EXECUTE_ONLY_BIT)
		c |= EPTGATE_CAP_EPT_X_ONLY;
	if (ept & VMX_EPT_EXTENT_CONTEXT_BIT)
		c |= EPTGATE_CAP_INVEPT_SINGLE;
	if (ept & VMX_EPTP_WB_BIT)
		c |= EPTGATE_CAP_EPT_WB;
	/* #VE is a secondary control (bit 18), not an EPT capability. */
	if (eg_caps.procbased2 & EG_CTLS2_VE)
		c |= EPTGATE_CAP_VE;
	eg_caps.caps = c;
	eg_caps.eptp_mt = (ept & VMX_EPTP_WB_BIT) ? EG_MT_WB : EG_MT_UC;
	return 0;
}

static long eg_get_info(void __user *uarg)
{
	struct eptgate_info info;
	const char *why;
	int usize, r;

	usize = eg_copy_arg_in(&info, sizeof(info), EG_SIZE_INFO_V1, uarg,
			       "GET_INFO");
	if (usize < 0)
		return usize;
	r = eg_check_flags(info.flags, 0, &why);
	if (r)
		return eg_reject(r, why);
	info.api_version = EPTGATE_API_VERSION;
	info.max_views = EPTGATE_MAX_VIEWS;
	info.caps = eg_caps.caps | EPTGATE_CAP_LIST_VMS;
	info.vmx_ept_vpid_cap = eg_caps.ept_vpid_cap;
	info.vmx_vmfunc = eg_caps.vmfunc;
	info.vmx_procbased2 = eg_caps.procbased2;
	info.bindings = atomic64_read(&eg_counters.bindings);
	info.table_pages = atomic64_read(&eg_counters.table_pages);
	info.pages_ref = atomic64_read(&eg_counters.pages_ref);
	info.pages_pinned = atomic64_read(&eg_counters.pages_pinned);
	return eg_copy_arg_out(uarg, &info, sizeof(info), usize);
}

static long eg_bind(void __user *uarg)
{
	struct eptgate_bind b;
	const char *why;
	int usize, r;

	usize = eg_copy_arg_in(&b, sizeof(b), EG_SIZE_BIND_V1, uarg, "BIND_VM");
	if (usize < 0)
		return usize;
	r = eg_check_bind(&b, &why);
	if (r)
		return eg_reject(r, why);
	return eg_vm_bind(b.vm_fd);
}

static long eg_dev_ioctl(struct file *filp, unsigned int ioctl,
			 unsigned long arg)
{
	void __user *uarg = (void __user *)arg;

	switch (ioctl) {
	case EPTGATE_GET_INFO:
		return eg_get_info(uarg);
	case EPTGATE_BIND_VM:
		return eg_bind(uarg);
	case EPTGATE_LIST_VMS:
		return eg_list_vms(uarg);
	case EPTGATE_QUERY_VM:
		return eg_query_vm(uarg);
	default:
		return -ENOTTY;
	}
}

static const struct file_operations eg_dev_fops = {
	.owner = THIS_MODULE,
	.unlocked_ioctl = eg_dev_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
	.llseek = noop_llseek,
};

static struct miscdevice eg_miscdev = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = EG_NAME,
	.fops = &eg_dev_fops,
	.mode = 0600,
};

static int __init eg_init(void)
{
	const char *why = NULL;
	int r;

	r = eg_probe_caps(&why);
	if (r) {
		pr_err(EG_NAME ": not loading: %s\n", why);
		return r;
	}
	eg_wq = alloc_workqueue(EG_NAME, 0, 0);
	if (!eg_wq)
		return -ENOMEM;
	r = eg_trampoline_init();
	if (r)
		goto err_wq;
	eg_cost_init();
	r = eg_vmfunc_ud_init();
	if (r)
		goto err_tramp;
	r = eg_memslot_init();
	if (r)
		goto err_ud;
	r = eg_hook_init();
	if (r)
		goto err_memslot;
	r = misc_register(&eg_miscdev);
	if (r)
		goto err_hook;
	pr_info(EG_NAME ": ready: caps %#llx, EPT/VPID cap %#llx, VMFUNC %#llx\n",
		eg_caps.caps, eg_caps.ept_vpid_cap, eg_caps.vmfunc);
	return 0;

err_hook:
	eg_hook_exit();
err_memslot:
	eg_memslot_exit();
err_ud:
	eg_vmfunc_ud_exit();
err_tramp:
	eg_cost_exit();
	eg_trampoline_exit();
err_wq:
	destroy_workqueue(eg_wq);
	return r;
}

/*
 * Every binding file holds a module reference, and so does a released VM
 * kept until its last armed VMCS is disarmed (binding.c): no binding
 * exists here and every VMCS has been disarmed.
 */
static void __exit eg_exit(void)
{
	misc_deregister(&eg_miscdev);
	eg_hook_exit();
	eg_memslot_exit();
	eg_vmfunc_ud_exit();
	eg_cost_exit();
	eg_trampoline_exit();
	destroy_workqueue(eg_wq);
	WARN_ON(atomic64_read(&eg_counters.table_pages) ||
		atomic64_read(&eg_counters.pages_ref) ||
		atomic64_read(&eg_counters.pages_pinned));
	pr_info(EG_NAME ": unloaded\n");
}

module_init(eg_init);
module_exit(eg_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("Alternate EPT views for KVM guests, switched by VMFUNC");
MODULE_SOFTDEP("pre: kvm-intel");
