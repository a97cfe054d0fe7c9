// SPDX-License-Identifier: GPL-2.0
/*
 * The EPT builder of alternate views: 4-level tables, 4 KiB leaves for
 * lazily filled own RAM, 2 MiB leaves for windows backed by contiguous
 * peer memory.  Entry encoding is in ept_entry.h (shared with the unit
 * tests).  Walks and zaps run under eg_vm.mmu_lock and never allocate
 * (tables come from an eg_ept_cache filled beforehand, or were built when
 * the range was set); zaps clear leaves only: table memory is freed only
 * at the view's destruction, after the INVEPT that follows its last use.
 *
 * INVEPT on every CPU (eg_invept_all()) is here too, and eg_view_zap(),
 * which zaps a view's range in batches of EG_ZAP_BATCH referenced leaves:
 * it takes mmu_lock for each batch and drops it for the INVEPT, since the
 * hook spins on that lock with interrupts off.
 */
#include <linux/mm.h>
#include <linux/gfp.h>
#include <linux/smp.h>
#include <asm/vmx.h>
#include "ept.h"
#include "ept_entry.h"
#include "main.h"
#include "view.h"
#include "vm.h"
#include "vmx.h"

/*
 * ept_entry.h has its own copy of the encoding (the host unit tests build
 * it without the kernel's headers): tie it to KVM's.
 */
static_assert(EG_EPT_R == VMX_EPT_READABLE_MASK);
static_assert(EG_EPT_W == VMX_EPT_WRITABLE_MASK);
static_assert(EG_EPT_X == VMX_EPT_EXECUTABLE_MASK);
static_assert(EG_EPT_MT_SHIFT == VMX_EPT_MT_EPTE_SHIFT);
static_assert(EG_EPT_IPAT == VMX_EPT_IPAT_BIT);
static_assert(EG_EPT_A == VMX_EPT_ACCESS_BIT);
static_assert(EG_EPT_D == VMX_EPT_DIRTY_BIT);
static_assert(EG_MT_WB == VMX_EPTP_MT_WB && EG_MT_UC == VMX_EPTP_MT_UC);
static_assert(EG_EPTP_WALK_4 == VMX_EPTP_PWL_4);
/* ... and the table geometry to the kernel's and KVM's. */
static_assert(EG_PAGE_SHIFT == PAGE_SHIFT);
static_assert(EG_EPT_ENTRIES == PTRS_PER_PTE);
static_assert(BIT(EG_EPT_LEVEL_BITS) == EG_EPT_ENTRIES);
static_assert(EG_EPT_LEVELS == PG_LEVEL_512G);
static_assert(KVM_HPAGE_SHIFT(PG_LEVEL_2M) == EG_HPAGE_SHIFT);
/* The exit qualification's access bits are the EPT R/W/X bits. */
static_assert(EG_EPT_R == EPT_VIOLATION_ACC_READ);
static_assert(EG_EPT_W == EPT_VIOLATION_ACC_WRITE);
static_assert(EG_EPT_X == EPT_VIOLATION_ACC_INSTR);

u64 *eg_ept_alloc_table(gfp_t gfp)
{
	struct page *page = alloc_page(gfp | __GFP_ZERO | __GFP_ACCOUNT);

	if (!page)
		return NULL;
	atomic64_inc(&eg_counters.table_pages);
	return page_address(page);
}

static void eg_ept_free_table(u64 *table)
{
	free_page((unsigned long)table);
	atomic64_dec(&eg_counters.table_pages);
}

static void eg_ept_free_level(u64 *table, int level)
{
	int i;

	for (i = 0; i < EG_EPT_ENTRIES && level > PG_LEVEL_4K; i++) {
		u64 e = table[i];

		if (eg_ept_present(e) && !eg_ept_is_leaf(e, level))
			eg_ept_free_level(__va(eg_ept_addr(e)), level - 1);
	}
	eg_ept_free_table(table);
}

/* Frees the table pages; leaves must have been zapped. */
void eg_ept_free_tables(u64 *root)
{
	if (root)
		eg_ept_free_level(root, EG_EPT_LEVELS);
}

int eg_ept_cache_topup(struct eg_ept_cache *c, gfp_t gfp)
{
	while (c->nr < ARRAY_SIZE(c->pages)) {
		u64 *t = eg_ept_alloc_table(gfp);

		if (!t)
			return -ENOMEM;
		c->pages[c->nr++] = t;
	}
	return 0;
}

void eg_ept_cache_free(struct eg_ept_cache *c)
{
	while (c->nr)
		eg_ept_free_table(c->pages[--c->nr]);
}

/*
 * The entry that maps @gpa at @level (PG_LEVEL_4K or _2M), taking missing
 * tables from @c (NULL: none).  NULL when a table is missing and @c has
 * none left, or when a larger leaf is in the way.  A full cache always
 * suffices for one walk.
 */
u64 *eg_ept_walk(u64 *root, u64 gpa, int level, struct eg_ept_cache *c)
{
	u64 *table = root;
	int l;

	for (l = EG_EPT_LEVELS; l > level; l--) {
		u64 *e = &table[eg_ept_index(gpa, l)];

		if (!eg_ept_present(*e)) {
			u64 *t;

			if (!c || !c->nr)
				return NULL;
			t = c->pages[--c->nr];
			WRITE_ONCE(*e, eg_ept_make_table(__pa(t)));
		} else if (eg_ept_is_leaf(*e, l)) {
			return NULL;
		}
		table = __va(eg_ept_addr(*e));
	}
	return &table[eg_ept_index(gpa, level)];
}

static bool eg_ept_zap_level(u64 *table, int level, u64 base, u64 start,
			     u64 end, u64 only, struct eg_zap_batch *b,
			     u64 *next, u64 *zapped)
{
	u64 size = eg_ept_level_size(level);
	unsigned int i = start > base ? eg_ept_index(start, level) : 0;

	for (; i < EG_EPT_ENTRIES; i++) {
		u64 addr = base + i * size;
		u64 e = table[i];

		if (addr >= end)
			break;
		if (!eg_ept_present(e))
			continue;
		if (!eg_ept_is_leaf(e, level)) {
			if (!eg_ept_zap_level(__va(eg_ept_addr(e)), level - 1,
					      addr, start, end, only, b, next,
					      zapped))
				return false;
			continue;
		}
		if (only && !(e & only))
			continue;
		if ((e & EG_EPT_SW_REF) && b->nr == ARRAY_SIZE(b->pages)) {
			*next = max(addr, start);
			return false;
		}
		WRITE_ONCE(table[i], 0);
		(*zapped)++;
		if (e & EG_EPT_SW_REF) {
			b->pages[b->nr] = pfn_to_page(eg_ept_addr(e) >> PAGE_SHIFT);
			b->dirty[b->nr] = e & EG_EPT_W;
			b->nr++;
		}
	}
	return true;
}

/*
 * Clears the leaves mapping [start, end) (only those with a bit of @only
 * set, if @only is nonzero).  Pages whose reference a leaf
 * held go into @b, to be released by eg_zap_batch_release() after INVEPT.
 * Returns false when @b is full; *next is where to continue.
 */
bool eg_ept_zap(u64 *root, u64 start, u64 end, u64 only,
		struct eg_zap_batch *b, u64 *next, u64 *zapped)
{
	*next = end;
	return eg_ept_zap_level(root, EG_EPT_LEVELS, 0, start, end, only, b,
				next, zapped);
}

/* Drops the references collected by eg_ept_zap(); after INVEPT only. */
void eg_zap_batch_release(struct eg_zap_batch *b)
{
	unsigned int i;

	for (i = 0; i < b->nr; i++) {
		if (b->dirty[i])
			set_page_dirty(b->pages[i]);
		put_page(b->pages[i]);
		atomic64_dec(&eg_counters.pages_ref);
	}
	b->nr = 0;
}

static void eg_invept_one(void *info)
{
	u64 eptp = *(u64 *)info;

	if (eg_caps.caps & EPTGATE_CAP_INVEPT_SINGLE)
		eg_invept(VMX_EPT_EXTENT_CONTEXT, eptp);
	else
		eg_invept(VMX_EPT_EXTENT_GLOBAL, 0);
}

/*
 * Invalidates what any CPU caches from a view's EPT.  Translations are
 * tagged with the EPTP, and a vCPU may have run in the view on any CPU.
 * Never called with mmu_lock held (the hook spins on it, interrupts off).
 */
void eg_invept_all(u64 eptp)
{
	on_each_cpu(eg_invept_one, &eptp, 1);
}

/*
 * Zaps [start, end) of a view, INVEPTs and releases the zapped pages, in
 * batches so that mmu_lock is never held across the INVEPT IPI.
 */
void eg_view_zap(struct eg_vm *vm, struct eg_view *view, u64 start, u64 end,
		 u64 only)
{
	struct eg_zap_batch b = { .nr = 0 };
	bool done;

	do {
		u64 next, zapped = 0;

		raw_spin_lock(&vm->mmu_lock);
		done = eg_ept_zap(view->root, start, end, only, &b, &next,
				  &zapped);
		view->stats.zaps += zapped;
		raw_spin_unlock(&vm->mmu_lock);
		if (zapped)
			eg_invept_all(view->eptp);
		eg_zap_batch_release(&b);
		start = next;
	} while (!done);
}
