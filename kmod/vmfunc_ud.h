/* SPDX-License-Identifier: GPL-2.0 */
/* VMFUNC exits answered with #UD (vmfunc_ud.c). */
#ifndef EPTGATE_VMFUNC_UD_H
#define EPTGATE_VMFUNC_UD_H

#include <linux/types.h>

int eg_vmfunc_ud_init(void);
void eg_vmfunc_ud_exit(void);
bool eg_vmfunc_ud_ready(void);

#endif /* EPTGATE_VMFUNC_UD_H */
