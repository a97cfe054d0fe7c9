// SPDX-License-Identifier: GPL-2.0
/* Unit tests of ioctl argument validation (kmod/uarg.c). */
#include "kshim.h"
#include "ksft_check.h"
#include <linux/eptgate.h>
#include "ept_entry.h"
#include "uarg.h"

static const char *why;

static struct eptgate_access acc(u32 view, u64 gpa, u64 len, u32 access)
{
	struct eptgate_access a = { .size = sizeof(a), .view = view, .gpa = gpa,
				    .len = len, .access = access };
	return a;
}

static struct eptgate_window win(u64 gpa, u64 len, u64 peer_gpa, u32 access)
{
	struct eptgate_window w = { .size = sizeof(w), .view = 1, .gpa = gpa,
				    .len = len, .peer_gpa = peer_gpa,
				    .access = access, .peer_fd = 3 };
	return w;
}

int main(void)
{
	struct eptgate_access a;
	struct eptgate_window w;
	struct eptgate_view v = { .size = sizeof(v) };
	struct eptgate_bind b = { .size = sizeof(b), .vm_fd = 3 };

	TAP_CHECK(eg_check_size(8, EG_SIZE_VIEW_V1, &why) == -EINVAL, "size below v1 is -EINVAL");
	TAP_CHECK(eg_check_size(EG_SIZE_VIEW_V1, EG_SIZE_VIEW_V1, &why) == 0, "size v1 is fine");
	TAP_CHECK(eg_check_size(EG_SIZE_VIEW_V1 + 8, EG_SIZE_VIEW_V1, &why) == 0, "larger size is fine (zeroes checked on copy)");
	TAP_CHECK(eg_check_size(8192, EG_SIZE_VIEW_V1, &why) == -E2BIG, "size over a page is -E2BIG");
	TAP_CHECK(EG_SIZE_ACCESS_V1 == 32 && EG_SIZE_WINDOW_V1 == 48 && EG_SIZE_INFO_V1 == 80,
		  "v1 layouts: access 32, window 48, info 80 bytes");

	TAP_CHECK(eg_check_bind(&b, &why) == 0, "bind: plain is fine");
	b.flags = 1;
	TAP_CHECK(eg_check_bind(&b, &why) == -EINVAL, "bind: unknown flag is -EINVAL");
	b.flags = 0; b.pad = 1;
	TAP_CHECK(eg_check_bind(&b, &why) == -EINVAL, "bind: nonzero pad is -EINVAL");

	TAP_CHECK(eg_check_view(&v, true, &why) == 0, "create view 0 = any id");
	TAP_CHECK(eg_check_view(&v, false, &why) == -EINVAL, "destroy view 0 (KVM's) is -EINVAL");
	v.view = EPTGATE_MAX_VIEWS;
	TAP_CHECK(eg_check_view(&v, true, &why) == -EINVAL, "view id 16 is -EINVAL");
	v.view = EPTGATE_MAX_VIEWS - 1;
	TAP_CHECK(eg_check_view(&v, false, &why) == 0, "view id 15 is fine");
	v.pad = 2;
	TAP_CHECK(eg_check_view(&v, false, &why) == -EINVAL, "view: nonzero pad is -EINVAL");

	a = acc(1, 0x1000, 0x2000, EPTGATE_ACCESS_R | EPTGATE_ACCESS_W);
	TAP_CHECK(eg_check_access(&a, false, &why) == 0, "access: RW on aligned range");
	a = acc(1, 0x1001, 0x1000, 1);
	TAP_CHECK(eg_check_access(&a, false, &why) == -EINVAL, "access: unaligned gpa");
	a = acc(1, 0x1000, 0x800, 1);
	TAP_CHECK(eg_check_access(&a, false, &why) == -EINVAL, "access: unaligned len");
	a = acc(1, 0x1000, 0, 1);
	TAP_CHECK(eg_check_access(&a, false, &why) == -EINVAL, "access: empty range");
	a = acc(1, EG_GPA_LIMIT - 0x1000, 0x2000, 1);
	TAP_CHECK(eg_check_access(&a, false, &why) == -EINVAL, "access: range past 48 bits");
	a = acc(1, 0xfffffffffffff000ULL, 0x2000, 1);
	TAP_CHECK(eg_check_access(&a, false, &why) == -EINVAL, "access: wrapping range");
	a = acc(1, 0x1000, 0x1000, EPTGATE_ACCESS_W);
	TAP_CHECK(eg_check_access(&a, false, &why) == -EINVAL, "access: W without R");
	a = acc(1, 0x1000, 0x1000, 8);
	TAP_CHECK(eg_check_access(&a, false, &why) == -EINVAL, "access: unknown bit");
	a = acc(1, 0x1000, 0x1000, EPTGATE_ACCESS_X);
	TAP_CHECK(eg_check_access(&a, false, &why) == -EINVAL, "access: X-only without capability");
	TAP_CHECK(eg_check_access(&a, true, &why) == 0, "access: X-only with capability");
	a = acc(1, 0x1000, 0x1000, 0);
	TAP_CHECK(eg_check_access(&a, false, &why) == 0, "access 0 (remove) is valid");
	a = acc(0, 0x1000, 0x1000, 1);
	TAP_CHECK(eg_check_access(&a, false, &why) == -EINVAL, "access on view 0 is -EINVAL");
	a.view = 1; a.flags = 4;
	TAP_CHECK(eg_check_access(&a, false, &why) == -EINVAL, "access: unknown flag");

	w = win(0x100000, 0x2000, 0x3000, EPTGATE_ACCESS_R | EPTGATE_ACCESS_W);
	TAP_CHECK(eg_check_window(&w, &why) == 0, "window: RW");
	w = win(0x100000, 0x2000, 0x3000, EPTGATE_ACCESS_R | EPTGATE_ACCESS_X);
	TAP_CHECK(eg_check_window(&w, &why) == -EINVAL, "window: X is refused");
	w = win(0x100000, 0x2000, 0x3000, 0);
	TAP_CHECK(eg_check_window(&w, &why) == -EINVAL, "window: no access is refused");
	w = win(0x100000, (1ULL << 30) + 0x1000, 0x3000, EPTGATE_ACCESS_R);
	TAP_CHECK(eg_check_window(&w, &why) == -EINVAL, "window: more than 1 GiB is refused");
	w = win(0x100000, 1ULL << 30, 0x3000, EPTGATE_ACCESS_R);
	TAP_CHECK(eg_check_window(&w, &why) == 0, "window: 1 GiB is fine");
	w = win(0x100000, 0x2000, 0x3800, EPTGATE_ACCESS_R);
	TAP_CHECK(eg_check_window(&w, &why) == -EINVAL, "window: unaligned peer gpa");
	w = win(0x100000, 0x2000, 0, 0);
	w.flags = EPTGATE_WINDOW_UNMAP;
	TAP_CHECK(eg_check_window(&w, &why) == 0, "window: unmap needs no access or peer");
	w.flags = 4;
	TAP_CHECK(eg_check_window(&w, &why) == -EINVAL, "window: unknown flag");
	w = win(0x100000, 0x2000, 0x3000, EPTGATE_ACCESS_R);
	w.flags = EPTGATE_WINDOW_PEER_BINDING;
	TAP_CHECK(eg_check_window(&w, &why) == 0, "window: a binding fd as peer, with its flag");
	w = win(0x100000, 0x2000, 0x3000, EPTGATE_ACCESS_R);
	w.pad = 1;
	TAP_CHECK(eg_check_window(&w, &why) == -EINVAL, "window: nonzero pad");
	{
		struct eptgate_trampoline t = { .size = sizeof(t), .view = 1,
			.blob_len = 100, .code_gpa = 0x100000, .data_gpa = 0x104000 };

		TAP_CHECK(eg_check_trampoline(&t, &why) == 0, "trampoline: code then data, adjacent");
		t.data_gpa = 0x103000;
		TAP_CHECK(eg_check_trampoline(&t, &why) == -EINVAL, "trampoline: data inside the code's 16 KiB");
		t.data_gpa = 0x104000; t.doorbell_gpa = 0x107000;
		TAP_CHECK(eg_check_trampoline(&t, &why) == -EINVAL, "trampoline: doorbell inside the data pages");
		t.doorbell_gpa = 0x200000; t.blob_len = EPTGATE_TRAMPOLINE_BLOB_MAX + 1;
		TAP_CHECK(eg_check_trampoline(&t, &why) == -EFBIG, "trampoline: blob over 64 KiB is -EFBIG");
		t.blob_len = 0;
		TAP_CHECK(eg_check_trampoline(&t, &why) == -EINVAL, "trampoline: empty blob");
		t.blob_len = 100; t.param_len = EPTGATE_TRAMPOLINE_PARAM_MAX + 1;
		TAP_CHECK(eg_check_trampoline(&t, &why) == -EINVAL, "trampoline: parameters over the limit");
		t.param_len = 8; t.code_gpa = 0x100800;
		TAP_CHECK(eg_check_trampoline(&t, &why) == -EINVAL, "trampoline: unaligned code");
	}
	{
		struct eptgate_grant g = { .size = sizeof(g), .nr_ranges = 2,
			.ranges = { { .gpa = 0x100000, .len = 0x4000,
				      .access = EPTGATE_ACCESS_R },
				    { .gpa = 0x200000, .len = 0x2000,
				      .access = EPTGATE_ACCESS_R | EPTGATE_ACCESS_W } } };
		const struct eptgate_grant_range *r = g.ranges;

		TAP_CHECK(EG_SIZE_GRANT_V1 == 16 + 24 * EPTGATE_GRANT_MAX_RANGES,
			  "grant v1 layout: 16 + 24 bytes a range");
		TAP_CHECK(eg_check_grant(&g, &why) == 0, "grant: an R and an RW range");
		g.ranges[1].access = EPTGATE_ACCESS_R | EPTGATE_ACCESS_X;
		TAP_CHECK(eg_check_grant(&g, &why) == -EINVAL, "grant: X is refused");
		g.ranges[1].access = EPTGATE_ACCESS_W;
		TAP_CHECK(eg_check_grant(&g, &why) == -EINVAL, "grant: W without R is refused");
		g.ranges[1].access = EPTGATE_ACCESS_R;
		g.ranges[1].len = 0;
		TAP_CHECK(eg_check_grant(&g, &why) == -EINVAL, "grant: an empty range is refused");
		g.ranges[1].len = 0x2000;
		g.nr_ranges = 0;
		TAP_CHECK(eg_check_grant(&g, &why) == -EINVAL, "grant: no range is refused");
		g.nr_ranges = EPTGATE_GRANT_MAX_RANGES + 1;
		TAP_CHECK(eg_check_grant(&g, &why) == -EINVAL, "grant: too many ranges");
		g.ranges[1].access = EPTGATE_ACCESS_R | EPTGATE_ACCESS_W;

		TAP_CHECK(eg_grant_allows(r, 2, 0x101000, 0x3000, EPTGATE_ACCESS_R, &why) == 0,
			  "grant allows: the tail of a range, read-only");
		TAP_CHECK(eg_grant_allows(r, 2, 0x101000, 0x4000, EPTGATE_ACCESS_R, &why) == -EACCES,
			  "grant allows: not past the end of a range");
		TAP_CHECK(eg_grant_allows(r, 2, 0x0ff000, 0x2000, EPTGATE_ACCESS_R, &why) == -EACCES,
			  "grant allows: not before the start of a range");
		TAP_CHECK(eg_grant_allows(r, 2, 0x100000, 0x1000,
					  EPTGATE_ACCESS_R | EPTGATE_ACCESS_W, &why) == -EACCES,
			  "grant allows: no write through a read-only range");
		TAP_CHECK(eg_grant_allows(r, 2, 0x200000, 0x2000,
					  EPTGATE_ACCESS_R | EPTGATE_ACCESS_W, &why) == 0,
			  "grant allows: write through an RW range");
		TAP_CHECK(eg_grant_allows(r, 2, 0x104000, 0x1000, EPTGATE_ACCESS_R, &why) == -EACCES,
			  "grant allows: not the gap between two ranges");
	}
	TAP_CHECK(why && why[0], "every rejection has a reason");
	return tap_done();
}
