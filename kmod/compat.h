/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The differences between the kernels eptgate builds against (Debian's
 * 6.1 and 6.12), in one place.
 */
#ifndef EPTGATE_COMPAT_H
#define EPTGATE_COMPAT_H

#include <linux/version.h>
#include <linux/mm.h>

/*
 * pin_user_pages_remote() lost its "vmas" argument in 6.5.
 */
static inline long eg_pin_user_pages_remote(struct mm_struct *mm,
					    unsigned long start,
					    unsigned long nr_pages,
					    unsigned int gup_flags,
					    struct page **pages)
{
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 5, 0)
	return pin_user_pages_remote(mm, start, nr_pages, gup_flags, pages,
				     NULL);
#else
	return pin_user_pages_remote(mm, start, nr_pages, gup_flags, pages,
				     NULL, NULL);
#endif
}

/*
 * The kvm_entry tracepoint: both Debian kernels pass force_immediate_exit
 * (Debian 6.1.192 carries the backport), upstream 6.1.0 did not.  Nothing
 * checks a probe's prototype at build or load time, so a kernel with the
 * other prototype must be listed here.
 */
#define EG_KVM_ENTRY_PROTO	struct kvm_vcpu *vcpu, bool force_immediate_exit
#define EG_KVM_ENTRY_ARGS	vcpu, force_immediate_exit

#endif /* EPTGATE_COMPAT_H */
