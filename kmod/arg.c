// SPDX-License-Identifier: GPL-2.0
/*
 * The ioctls' argument structures in and out of userspace: the size rule
 * of Documentation/api.rst (a short, older structure is zero-extended; a
 * longer one must have zeros past what the module knows).  The checks on
 * the values are uarg.c's.
 */
#include <linux/uaccess.h>
#include <linux/eptgate.h>
#include "arg.h"
#include "main.h"
#include "uarg.h"

/*
 * Copies an argument structure in: checks its size field, zero-extends a
 * short (older) one and rejects a longer one with nonzero unknown bytes.
 * Returns the caller's size or a negative errno.
 */
int eg_copy_arg_in(void *karg, size_t ksize, u32 min_size,
		   const void __user *uarg, const char *who)
{
	const char *why = NULL;
	u32 usize;
	int r;

	if (get_user(usize, (const u32 __user *)uarg))
		return -EFAULT;
	r = eg_check_size(usize, min_size, &why);
	if (r) {
		pr_info_ratelimited(EG_NAME ": %s: %s (%d)\n", who, why, r);
		return r;
	}
	r = copy_struct_from_user(karg, ksize, uarg, usize);
	if (r == -E2BIG)
		pr_info_ratelimited(EG_NAME ": %s: unknown nonzero fields past the known size (%d)\n",
				    who, r);
	return r ? r : (int)usize;
}

int eg_copy_arg_out(void __user *uarg, const void *karg, size_t ksize,
		    u32 usize)
{
	return copy_to_user(uarg, karg, min_t(size_t, ksize, usize)) ?
	       -EFAULT : 0;
}
