/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What main.c defines for the whole module: the control-plane mutex, the
 * CPU's capabilities, the module-wide counters, and the name every message
 * starts with.  The locks and what each protects are listed in vm.h.
 */
#ifndef EPTGATE_MAIN_H
#define EPTGATE_MAIN_H

#include <linux/atomic.h>
#include <linux/mutex.h>
#include <linux/printk.h>
#include <linux/types.h>
#include <linux/workqueue.h>

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

/* Every control-plane operation (the lock list is in vm.h). */
extern struct mutex eg_mutex;
/* The zombies' ends (binding.c); destroyed, after they ran, at module exit. */
extern struct workqueue_struct *eg_wq;

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

#endif /* EPTGATE_MAIN_H */
