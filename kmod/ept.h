/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The EPT builder of alternate views (ept.c): table allocation, walk, zap,
 * free, and INVEPT on every CPU.  The entry encoding is ept_entry.h's.
 */
#ifndef EPTGATE_EPT_H
#define EPTGATE_EPT_H

#include <linux/gfp.h>
#include <linux/mm_types.h>
#include <linux/types.h>

#include "ept_entry.h"

struct eg_vm;
struct eg_view;

/*
 * Table pages set aside in process context, as KVM's MMU caches, so that a
 * walk under mmu_lock never allocates: the control plane fills one on the
 * stack before each walk.  The hook has none: SET_ACCESS builds the tables
 * of a RAM range at once, and lazy fill only writes leaves.
 */
struct eg_ept_cache {
	unsigned int nr;
	u64 *pages[EG_EPT_LEVELS - 1];
};

/* Referenced leaves one zap clears before mmu_lock is dropped for INVEPT. */
#define EG_ZAP_BATCH	32

/* The pages whose reference the zapped leaves held, until after INVEPT. */
struct eg_zap_batch {
	unsigned int nr;
	struct page *pages[EG_ZAP_BATCH];
	bool dirty[EG_ZAP_BATCH];
};

u64 *eg_ept_alloc_table(gfp_t gfp);
void eg_ept_free_tables(u64 *root);
int eg_ept_cache_topup(struct eg_ept_cache *c, gfp_t gfp);
void eg_ept_cache_free(struct eg_ept_cache *c);
u64 *eg_ept_walk(u64 *root, u64 gpa, int level, struct eg_ept_cache *c);
bool eg_ept_zap(u64 *root, u64 start, u64 end, u64 only, struct eg_zap_batch *b,
		u64 *next, u64 *zapped);
void eg_zap_batch_release(struct eg_zap_batch *b);
void eg_invept_all(u64 eptp);
void eg_view_zap(struct eg_vm *vm, struct eg_view *view, u64 start, u64 end,
		 u64 only);

#endif /* EPTGATE_EPT_H */
