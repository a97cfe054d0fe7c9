/* SPDX-License-Identifier: GPL-2.0 */
/*
 * EPT entry encoding (Intel SDM Vol. 3C, 29.3.2 "EPT Translation
 * Mechanism" and 25.6.11 "Extended-Page-Table Pointer").
 *
 * Pure functions on integers: this header is built into the module and
 * into the host-side unit tests (tests/), so both check the same code.
 * The includer provides u64/u32, bool and BIT_ULL().
 */
#ifndef EPTGATE_EPT_ENTRY_H
#define EPTGATE_EPT_ENTRY_H

#ifdef __KERNEL__
#include <linux/bits.h>
#include <asm/pgtable_types.h>	/* enum pg_level */
#else
/* The host unit tests: the kernel's enum pg_level, as x86 numbers it. */
enum { PG_LEVEL_4K = 1, PG_LEVEL_2M = 2, PG_LEVEL_1G = 3, PG_LEVEL_512G = 4 };
#endif

#define EG_EPT_R		BIT_ULL(0)
#define EG_EPT_W		BIT_ULL(1)
#define EG_EPT_X		BIT_ULL(2)
#define EG_EPT_RWX		(EG_EPT_R | EG_EPT_W | EG_EPT_X)
#define EG_EPT_MT_SHIFT		3	/* leaf memory type, bits 5:3 */
#define EG_EPT_IPAT		BIT_ULL(6)
#define EG_EPT_LEAF_LARGE	BIT_ULL(7)	/* PDE/PDPTE maps a page */
#define EG_EPT_A		BIT_ULL(8)
#define EG_EPT_D		BIT_ULL(9)
/* Bits 52-62 are ignored by the CPU: eptgate keeps its bookkeeping there. */
#define EG_EPT_SW_REF		BIT_ULL(52)	/* leaf holds a page reference */
#define EG_EPT_SW_WINDOW	BIT_ULL(53)	/* leaf maps a pinned peer page */
#define EG_EPT_SW_TRAMP		BIT_ULL(54)	/* leaf maps a trampoline page */
#define EG_EPT_ADDR_MASK	0x000ffffffffff000ULL	/* bits 51:12 */

#define EG_MT_UC		0ULL
#define EG_MT_WB		6ULL

/*
 * Levels are the kernel's enum pg_level: PG_LEVEL_4K for a page table,
 * PG_LEVEL_2M for a page directory, up to the PML4 at EG_EPT_LEVELS
 * (PG_LEVEL_512G).  Each level indexes EG_EPT_LEVEL_BITS bits of the
 * address (KVM's SPTE_LEVEL_BITS).
 */
#define EG_EPT_LEVELS		4
#define EG_EPT_LEVEL_BITS	9
#define EG_EPT_ENTRIES		512	/* 1 << EG_EPT_LEVEL_BITS */
#define EG_EPT_INDEX_MASK	(EG_EPT_ENTRIES - 1)
#define EG_PAGE_SHIFT		12
#define EG_PAGE_SIZE		BIT_ULL(EG_PAGE_SHIFT)
/* The lowest address bit the table at @level indexes. */
#define EG_EPT_LEVEL_SHIFT(level) \
	(EG_PAGE_SHIFT + EG_EPT_LEVEL_BITS * ((level) - PG_LEVEL_4K))
#define EG_HPAGE_SHIFT		EG_EPT_LEVEL_SHIFT(PG_LEVEL_2M)
#define EG_HPAGE_SIZE		BIT_ULL(EG_HPAGE_SHIFT)
/* Guest-physical addresses a 4-level EPT translates: 48 bits. */
#define EG_GPA_LIMIT		BIT_ULL(48)

/* EPTP bits 2:0 memory type, 5:3 walk length - 1, 6 A/D enable. */
#define EG_EPTP_WALK_4		(3ULL << 3)

/* Index of gpa in the table at @level (EG_EPT_LEVELS: PML4 .. PG_LEVEL_4K: PT). */
static inline unsigned int eg_ept_index(u64 gpa, int level)
{
	return (unsigned int)(gpa >> EG_EPT_LEVEL_SHIFT(level)) &
	       EG_EPT_INDEX_MASK;
}

/* Bytes one entry at @level covers. */
static inline u64 eg_ept_level_size(int level)
{
	return 1ULL << EG_EPT_LEVEL_SHIFT(level);
}

/* A non-leaf entry: full access, the CPU intersects with the leaf. */
static inline u64 eg_ept_make_table(u64 table_hpa)
{
	return (table_hpa & EG_EPT_ADDR_MASK) | EG_EPT_RWX;
}

/*
 * A leaf at PG_LEVEL_4K or PG_LEVEL_2M (@hpa 2 MiB aligned), write-back,
 * guest PAT ignored, A and D preset (so a CPU with A/D enabled never has
 * to write them; eptgate's EPTPs leave A/D off anyway).
 */
static inline u64 eg_ept_make_leaf(u64 hpa, u32 access, int level, u64 sw)
{
	u64 e = (hpa & EG_EPT_ADDR_MASK) | (access & EG_EPT_RWX) |
		(EG_MT_WB << EG_EPT_MT_SHIFT) | EG_EPT_IPAT | EG_EPT_A |
		EG_EPT_D | sw;

	if (level == PG_LEVEL_2M)
		e |= EG_EPT_LEAF_LARGE;
	return e;
}

static inline bool eg_ept_present(u64 e)
{
	return (e & EG_EPT_RWX) != 0;
}

static inline bool eg_ept_is_leaf(u64 e, int level)
{
	return level == PG_LEVEL_4K || (e & EG_EPT_LEAF_LARGE);
}

static inline u64 eg_ept_addr(u64 e)
{
	return e & EG_EPT_ADDR_MASK;
}

static inline u32 eg_ept_access(u64 e)
{
	return (u32)(e & EG_EPT_RWX);
}

/*
 * The EPTP for a view: 4-level walk, @mt the paging-structure type, no
 * accessed/dirty flags (nothing reads them; KVM's own EPTP may have them).
 */
static inline u64 eg_make_eptp(u64 root_hpa, u64 mt)
{
	return (root_hpa & EG_EPT_ADDR_MASK) | EG_EPTP_WALK_4 | mt;
}

/*
 * Whether an access combination can be encoded: write without read is an
 * EPT misconfiguration, execute-only needs IA32_VMX_EPT_VPID_CAP bit 0.
 */
static inline bool eg_access_encodable(u32 access, bool x_only_ok)
{
	if (access & ~(u32)EG_EPT_RWX)
		return false;
	if ((access & EG_EPT_W) && !(access & EG_EPT_R))
		return false;
	if (access == EG_EPT_X && !x_only_ok)
		return false;
	return true;
}

#endif /* EPTGATE_EPT_ENTRY_H */
