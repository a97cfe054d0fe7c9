// SPDX-License-Identifier: GPL-2.0
/* Unit tests of a view's range bookkeeping (kmod/range.c). */
#include "kshim.h"
#include "ksft_check.h"
#include "range.h"

static struct eg_range_set s;

int main(void)
{
	int owner, i, r;
	const struct eg_range *f;

	TAP_CHECK(eg_range_insert(&s, 0x10000, 0x4000, 3, EG_RANGE_RAM, NULL) == 0, "insert [64K, 80K)");
	TAP_CHECK(eg_range_insert(&s, 0x0, 0x1000, 1, EG_RANGE_RAM, NULL) == 0, "insert [0, 4K) before it");
	TAP_CHECK(eg_range_insert(&s, 0x20000, 0x1000, 3, EG_RANGE_WINDOW, &owner) == 0, "insert a window after it");
	TAP_CHECK(s.nr == 3 && s.r[0].start == 0 && s.r[1].start == 0x10000 && s.r[2].start == 0x20000,
		  "kept sorted");
	TAP_CHECK(eg_range_insert(&s, 0x13000, 0x2000, 3, EG_RANGE_RAM, NULL) == -EEXIST, "overlap at the tail is -EEXIST");
	TAP_CHECK(eg_range_insert(&s, 0xf000, 0x2000, 3, EG_RANGE_RAM, NULL) == -EEXIST, "overlap at the head is -EEXIST");
	TAP_CHECK(eg_range_insert(&s, 0x8000, 0x20000, 3, EG_RANGE_RAM, NULL) == -EEXIST, "enclosing range is -EEXIST");
	TAP_CHECK(eg_range_insert(&s, 0x11000, 0x1000, 3, EG_RANGE_RAM, NULL) == -EEXIST, "enclosed range is -EEXIST");
	TAP_CHECK(eg_range_insert(&s, 0x14000, 0x1000, 3, EG_RANGE_RAM, NULL) == 0, "adjacent range is fine");
	TAP_CHECK(eg_range_insert(&s, 0x30000, 0, 3, EG_RANGE_RAM, NULL) == -EINVAL, "empty range is -EINVAL");
	TAP_CHECK(eg_range_insert(&s, ~0ULL - 0xfff, 0x2000, 3, EG_RANGE_RAM, NULL) == -EINVAL, "wrapping range is -EINVAL");

	f = eg_range_find(&s, 0x13fff);
	TAP_CHECK(f && f->start == 0x10000 && f->access == 3, "find inside a range");
	TAP_CHECK(eg_range_find(&s, 0x15000) == NULL, "find past the end of a range");
	TAP_CHECK(eg_range_find(&s, 0x1000) == NULL, "find in a hole");
	f = eg_range_find(&s, 0x20800);
	TAP_CHECK(f && f->kind == EG_RANGE_WINDOW && f->owner == &owner, "find a window and its owner");
	TAP_CHECK(eg_range_overlaps(&s, 0x1000, 0xf000) == false, "hole does not overlap");
	TAP_CHECK(eg_range_overlaps(&s, 0x1000, 0xf001) == true, "one byte into a range overlaps");

	TAP_CHECK(eg_range_remove(&s, 0x10000, 0x1000) == -ENOENT, "remove needs the exact length");
	TAP_CHECK(eg_range_remove(&s, 0x11000, 0x3000) == -ENOENT, "remove needs the exact start");
	TAP_CHECK(eg_range_remove(&s, 0x10000, 0x4000) == 0, "remove exact");
	TAP_CHECK(eg_range_find(&s, 0x10000) == NULL && s.nr == 3, "removed range is gone");
	TAP_CHECK(eg_range_orphan(&s, &owner, EG_RANGE_SINK, 3) &&
		  eg_range_find(&s, 0x20000)->kind == EG_RANGE_SINK &&
		  !eg_range_find(&s, 0x20000)->owner && eg_range_find(&s, 0x20fff)->access == 3 &&
		  s.nr == 3, "orphan: the window's range stays, a sink without owner");
	TAP_CHECK(!eg_range_orphan(&s, &owner, EG_RANGE_SINK, 3) && s.nr == 3,
		  "orphan of an owner with no range: false, nothing changes");
	TAP_CHECK(eg_range_insert(&s, 0x20000, 0x1000, 3, EG_RANGE_WINDOW, &owner) == -EEXIST &&
		  eg_range_remove(&s, 0x20000, 0x1000) == 0 && s.nr == 2,
		  "its addresses stay reserved until removed");

	memset(&s, 0, sizeof(s));
	for (i = 0, r = 0; i < EG_MAX_RANGES && !r; i++)
		r = eg_range_insert(&s, (u64)(EG_MAX_RANGES - i) * 0x2000, 0x1000, 1, EG_RANGE_RAM, NULL);
	TAP_CHECK(r == 0 && s.nr == EG_MAX_RANGES, "fills to capacity in reverse order");
	TAP_CHECK(eg_range_insert(&s, 0x1000000, 0x1000, 1, EG_RANGE_RAM, NULL) == -ENOSPC, "one more is -ENOSPC");
	for (i = 1, r = 1; i < (int)s.nr; i++)
		r &= s.r[i - 1].end <= s.r[i].start;
	TAP_CHECK(r, "sorted and disjoint at capacity");
	return tap_done();
}
