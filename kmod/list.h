/* SPDX-License-Identifier: GPL-2.0 */
/* EPTGATE_LIST_VMS and EPTGATE_QUERY_VM (list.c). */
#ifndef EPTGATE_LIST_H
#define EPTGATE_LIST_H

#include <linux/compiler_types.h>

long eg_list_vms(void __user *uarg);
long eg_query_vm(void __user *uarg);

#endif /* EPTGATE_LIST_H */
