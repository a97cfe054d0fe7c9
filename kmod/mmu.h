/* SPDX-License-Identifier: GPL-2.0 */
/* The MMU notifier on a bound VM's mm (mmu.c). */
#ifndef EPTGATE_MMU_H
#define EPTGATE_MMU_H

#include <linux/mmu_notifier.h>

extern const struct mmu_notifier_ops eg_mmu_notifier_ops;

#endif /* EPTGATE_MMU_H */
