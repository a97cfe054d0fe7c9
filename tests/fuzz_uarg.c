// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer target: the ioctl argument checks (kmod/uarg.c) and a view's
 * range set (kmod/range.c), which is where userspace input ends up.
 * Invariants: whatever the checks accept is encodable and in bounds; the
 * range set stays sorted, disjoint and equal to a reference model.
 */
#include "kshim.h"
#include <linux/eptgate.h>
#include <stdlib.h>
#include "ept_entry.h"
#include "range.h"
#include "uarg.h"

#define CHECK(c) do { if (!(c)) abort(); } while (0)

static void fuzz_checks(const u8 *d, size_t n)
{
	struct eptgate_access a;
	struct eptgate_window w;
	const char *why = NULL;

	if (n >= sizeof(a)) {
		memcpy(&a, d, sizeof(a));
		if (eg_check_access(&a, d[0] & 1, &why) == 0) {
			CHECK(a.view >= 1 && a.view < EPTGATE_MAX_VIEWS);
			CHECK(a.len && !((a.gpa | a.len) & 0xfff));
			CHECK(a.gpa + a.len <= EG_GPA_LIMIT && a.gpa + a.len > a.gpa);
			CHECK(!a.access || eg_access_encodable(a.access, d[0] & 1));
		} else {
			CHECK(why && why[0]);
		}
	}
	if (n >= sizeof(w)) {
		memcpy(&w, d, sizeof(w));
		why = NULL;
		if (eg_check_window(&w, &why) == 0 && !(w.flags & EPTGATE_WINDOW_UNMAP)) {
			CHECK(w.access == EPTGATE_ACCESS_R ||
			      w.access == (EPTGATE_ACCESS_R | EPTGATE_ACCESS_W));
			CHECK(!((w.gpa | w.len | w.peer_gpa) & 0xfff) && w.len);
			CHECK(w.peer_gpa + w.len <= EG_GPA_LIMIT);
		} else if (why) {
			CHECK(why[0]);
		}
	}
}

/* What a grant accepts is R or RW, in bounds; a window it allows is inside. */
static void fuzz_grant(const u8 *d, size_t n)
{
	struct eptgate_grant g;
	const char *why = NULL;
	u64 gpa, len;
	u32 i, access;

	if (n < sizeof(g) + 20)
		return;
	memcpy(&g, d, sizeof(g));
	if (eg_check_grant(&g, &why)) {
		CHECK(why && why[0]);
		return;
	}
	CHECK(g.nr_ranges >= 1 && g.nr_ranges <= EPTGATE_GRANT_MAX_RANGES);
	for (i = 0; i < g.nr_ranges; i++) {
		CHECK(g.ranges[i].access == EPTGATE_ACCESS_R ||
		      g.ranges[i].access == (EPTGATE_ACCESS_R | EPTGATE_ACCESS_W));
		CHECK(g.ranges[i].gpa + g.ranges[i].len <= EG_GPA_LIMIT);
	}
	memcpy(&gpa, d + sizeof(g), 8);
	memcpy(&len, d + sizeof(g) + 8, 8);
	memcpy(&access, d + sizeof(g) + 16, 4);
	gpa &= EG_GPA_LIMIT - 1;
	len &= EG_GPA_LIMIT - 1;
	if (!len || gpa + len > EG_GPA_LIMIT)
		return;
	if (eg_grant_allows(g.ranges, g.nr_ranges, gpa, len, access, &why))
		return;
	for (i = 0; i < g.nr_ranges; i++)
		if (gpa >= g.ranges[i].gpa &&
		    gpa + len <= g.ranges[i].gpa + g.ranges[i].len &&
		    !(access & ~g.ranges[i].access))
			break;
	CHECK(i < g.nr_ranges);
}

static void fuzz_trampoline(const u8 *d, size_t n)
{
	struct eptgate_trampoline t;
	const char *why = NULL;

	if (n < sizeof(t))
		return;
	memcpy(&t, d, sizeof(t));
	if (eg_check_trampoline(&t, &why) == 0) {
		CHECK(t.view >= 1 && t.view < EPTGATE_MAX_VIEWS && !t.flags && !t.pad);
		CHECK(t.blob_len && t.blob_len <= EPTGATE_TRAMPOLINE_BLOB_MAX);
		CHECK(t.param_len <= EPTGATE_TRAMPOLINE_PARAM_MAX);
		CHECK(!((t.code_gpa | t.data_gpa | t.doorbell_gpa) & 0xfff));
		CHECK(t.code_gpa + EPTGATE_TRAMPOLINE_CODE_MAX <= EG_GPA_LIMIT);
		CHECK(t.data_gpa + EPTGATE_TRAMPOLINE_DATA_LEN <= EG_GPA_LIMIT);
		/* code (its most), data and doorbell are disjoint */
		CHECK(t.code_gpa + EPTGATE_TRAMPOLINE_CODE_MAX <= t.data_gpa ||
		      t.data_gpa + EPTGATE_TRAMPOLINE_DATA_LEN <= t.code_gpa);
		if (t.doorbell_gpa)
			CHECK((t.doorbell_gpa + 4096 <= t.code_gpa ||
			       t.code_gpa + EPTGATE_TRAMPOLINE_CODE_MAX <= t.doorbell_gpa) &&
			      (t.doorbell_gpa + 4096 <= t.data_gpa ||
			       t.data_gpa + EPTGATE_TRAMPOLINE_DATA_LEN <= t.doorbell_gpa));
	} else {
		CHECK(why && why[0]);
	}
}

/* Range set against a page-granular model over a 256-page space. */
static void fuzz_ranges(const u8 *d, size_t n)
{
	static struct eg_range_set s;
	u16 model[256];
	size_t i;
	unsigned int j;

	memset(&s, 0, sizeof(s));
	memset(model, 0, sizeof(model));
	for (i = 0; i + 3 <= n; i += 3) {
		u64 start = d[i + 1], len = d[i + 2] % 16;
		bool ins = d[i] & 1, free_ = true;
		int r;

		for (j = start; j < start + len && j < 256; j++)
			free_ &= !model[j];
		if (ins) {
			r = eg_range_insert(&s, start << 12, len << 12, 1, EG_RANGE_RAM, NULL);
			if (!len || start + len > 256) {
				if (r == 0)
					eg_range_remove(&s, start << 12, len << 12);
				continue;
			}
			if (free_)
				CHECK(r == 0 || (r == -ENOSPC && s.nr == EG_MAX_RANGES));
			else
				CHECK(r == -EEXIST);
			if (r == 0)
				for (j = start; j < start + len; j++)
					model[j] = (u16)(start + 1);
		} else {
			/* ranges are tagged start + 1 in the model */
			bool exact = len && start + len <= 256 &&
				     model[start] == start + 1 &&
				     model[start + len - 1] == start + 1 &&
				     (start + len == 256 || model[start + len] != start + 1);
			r = eg_range_remove(&s, start << 12, len << 12);
			if (r == 0) {
				CHECK(exact);
				for (j = start; j < start + len; j++)
					model[j] = 0;
			}
		}
		for (j = 1; j < s.nr; j++)
			CHECK(s.r[j - 1].end <= s.r[j].start);
		for (j = 0; j < 256; j++)
			CHECK(!!eg_range_find(&s, (u64)j << 12) == !!model[j]);
	}
}

int LLVMFuzzerTestOneInput(const u8 *d, size_t n);
int LLVMFuzzerTestOneInput(const u8 *d, size_t n)
{
	fuzz_checks(d, n);
	fuzz_trampoline(d, n);
	fuzz_grant(d, n);
	fuzz_ranges(d, n);
	return 0;
}
