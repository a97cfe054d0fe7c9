/* SPDX-License-Identifier: GPL-2.0 */
/* Copying the ioctls' argument structures in and out (arg.c). */
#ifndef EPTGATE_ARG_H
#define EPTGATE_ARG_H

#include <linux/compiler_types.h>
#include <linux/types.h>

int eg_copy_arg_in(void *karg, size_t ksize, u32 min_size,
		   const void __user *uarg, const char *who);
int eg_copy_arg_out(void __user *uarg, const void *karg, size_t ksize,
		    u32 usize);

#endif /* EPTGATE_ARG_H */
