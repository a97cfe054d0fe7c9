/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The differences between the kernels eptgate builds against (Debian's
 * 6.1 and 6.12), in one place.  Kbuild detects features in the headers
 * (see Kbuild) rather than comparing version numbers, since distribution
 * kernels carry backports.
 */
#ifndef EPTGATE_COMPAT_H
#define EPTGATE_COMPAT_H

#include <linux/kvm_host.h>
#include <linux/mm.h>
#include <linux/tracepoint.h>

/* pin_user_pages_remote() lost its "vmas" argument in 6.5. */
static inline long eg_pin_user_pages_remote(struct mm_struct *mm,
					    unsigned long start,
					    unsigned long nr_pages,
					    unsigned int gup_flags,
					    struct page **pages)
{
#ifdef EG_PIN_REMOTE_HAS_VMAS
	return pin_user_pages_remote(mm, start, nr_pages, gup_flags, pages,
				     NULL, NULL);
#else
	return pin_user_pages_remote(mm, start, nr_pages, gup_flags, pages,
				     NULL);
#endif
}

/*
 * KVM's tracepoints, declared here (DECLARE_TRACE, no CREATE_TRACE_POINTS)
 * so that the module imports only __tracepoint_kvm_entry/_exit.  Both
 * Debian kernels pass force_immediate_exit to kvm_entry (Debian 6.1.192
 * carries the backport; upstream 6.1.0 did not).  Nothing checks a probe's
 * prototype at build or load time: a kernel with another prototype must
 * be handled here.
 */
DECLARE_TRACE(kvm_entry,
	      TP_PROTO(struct kvm_vcpu *vcpu, bool force_immediate_exit),
	      TP_ARGS(vcpu, force_immediate_exit));
DECLARE_TRACE(kvm_exit,
	      TP_PROTO(struct kvm_vcpu *vcpu, u32 isa),
	      TP_ARGS(vcpu, isa));

#endif /* EPTGATE_COMPAT_H */
