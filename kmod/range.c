// SPDX-License-Identifier: GPL-2.0
/*
 * Range bookkeeping of a view (see range.h).  Built into the module and,
 * through tests/kshim.h, into the host-side unit tests and fuzzer.
 */
#ifdef __KERNEL__
#include <linux/errno.h>
#include <linux/string.h>
#include <linux/types.h>
#endif
#include "range.h"

/* Index of the first range whose end is above @gpa (binary search). */
static unsigned int eg_range_lower_bound(const struct eg_range_set *s, u64 gpa)
{
	unsigned int lo = 0, hi = s->nr;

	while (lo < hi) {
		unsigned int mid = lo + (hi - lo) / 2;

		if (s->r[mid].end <= gpa)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

bool eg_range_overlaps(const struct eg_range_set *s, u64 start, u64 len)
{
	unsigned int i = eg_range_lower_bound(s, start);

	return i < s->nr && s->r[i].start < start + len;
}

const struct eg_range *eg_range_find(const struct eg_range_set *s, u64 gpa)
{
	unsigned int i = eg_range_lower_bound(s, gpa);

	if (i < s->nr && s->r[i].start <= gpa)
		return &s->r[i];
	return NULL;
}

bool eg_range_orphan(struct eg_range_set *s, const void *owner, u32 kind,
		     u32 access_mask)
{
	unsigned int i;

	for (i = 0; i < s->nr; i++) {
		if (s->r[i].owner != owner)
			continue;
		s->r[i].kind = kind;
		s->r[i].owner = NULL;
		s->r[i].access &= access_mask;
		return true;
	}
	return false;
}

int eg_range_insert(struct eg_range_set *s, u64 start, u64 len, u32 access,
		    u32 kind, void *owner)
{
	unsigned int i;

	if (!len || start + len < start)
		return -EINVAL;
	if (eg_range_overlaps(s, start, len))
		return -EEXIST;
	if (s->nr == EG_MAX_RANGES)
		return -ENOSPC;
	i = eg_range_lower_bound(s, start);
	memmove(&s->r[i + 1], &s->r[i], (s->nr - i) * sizeof(s->r[0]));
	s->r[i] = (struct eg_range){ .start = start, .end = start + len,
				     .access = access, .kind = kind,
				     .owner = owner };
	s->nr++;
	return 0;
}

int eg_range_remove(struct eg_range_set *s, u64 start, u64 len)
{
	unsigned int i = eg_range_lower_bound(s, start);

	if (i == s->nr || s->r[i].start != start || s->r[i].end != start + len)
		return -ENOENT;
	memmove(&s->r[i], &s->r[i + 1], (s->nr - i - 1) * sizeof(s->r[0]));
	s->nr--;
	return 0;
}
