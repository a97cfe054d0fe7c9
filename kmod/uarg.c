// SPDX-License-Identifier: GPL-2.0
/*
 * Argument validation that depends on nothing but the argument (uarg.h).
 */
#ifdef __KERNEL__
#include <linux/errno.h>
#include <linux/stddef.h>
#include <linux/types.h>
#endif
#include <linux/eptgate.h>
#include "ept_entry.h"
#include "uarg.h"

int eg_check_size(u32 size, u32 min_size, const char **why)
{
	if (size < min_size) {
		*why = "argument size smaller than the first ABI version";
		return -EINVAL;
	}
	if (size > EG_SIZE_MAX) {
		*why = "argument size larger than a page";
		return -E2BIG;
	}
	return 0;
}

int eg_check_flags(u32 flags, u32 known, const char **why)
{
	if (flags & ~known) {
		*why = "unknown flags";
		return -EINVAL;
	}
	return 0;
}

int eg_check_view_id(u32 view, bool allow_default, const char **why)
{
	if (view >= EPTGATE_MAX_VIEWS || (view == 0 && !allow_default)) {
		*why = "view id out of range";
		return -EINVAL;
	}
	return 0;
}

int eg_check_gpa_range(u64 gpa, u64 len, const char **why)
{
	if (!len) {
		*why = "empty range";
		return -EINVAL;
	}
	if ((gpa | len) & (EG_PAGE_SIZE - 1)) {
		*why = "range not 4 KiB aligned";
		return -EINVAL;
	}
	if (gpa >= EG_GPA_LIMIT || len > EG_GPA_LIMIT - gpa) {
		*why = "range beyond the 48-bit guest-physical space";
		return -EINVAL;
	}
	return 0;
}

int eg_check_access_bits(u32 access, bool x_only_ok, const char **why)
{
	if (access & ~EPTGATE_ACCESS_MASK) {
		*why = "unknown access bits";
		return -EINVAL;
	}
	if (!eg_access_encodable(access, x_only_ok)) {
		*why = "access not encodable in EPT (W without R, or X-only unsupported)";
		return -EINVAL;
	}
	return 0;
}

int eg_check_bind(const struct eptgate_bind *b, const char **why)
{
	int r = eg_check_flags(b->flags, 0, why);

	if (r)
		return r;
	if (b->pad) {
		*why = "nonzero padding";
		return -EINVAL;
	}
	return 0;
}

int eg_check_view(const struct eptgate_view *v, bool create, const char **why)
{
	int r = eg_check_flags(v->flags, 0, why);

	if (r)
		return r;
	if (v->pad) {
		*why = "nonzero padding";
		return -EINVAL;
	}
	if (create && v->view == 0)
		return 0;	/* lowest free id */
	return eg_check_view_id(v->view, false, why);
}

int eg_check_access(const struct eptgate_access *a, bool x_only_ok,
		    const char **why)
{
	int r = eg_check_flags(a->flags, 0, why);

	if (!r)
		r = eg_check_view_id(a->view, false, why);
	if (!r)
		r = eg_check_gpa_range(a->gpa, a->len, why);
	if (!r)
		r = eg_check_access_bits(a->access, x_only_ok, why);
	return r;
}

int eg_check_window(const struct eptgate_window *w, const char **why)
{
	int r = eg_check_flags(w->flags, EPTGATE_WINDOW_UNMAP, why);

	if (!r)
		r = eg_check_view_id(w->view, false, why);
	if (!r && w->pad) {
		*why = "nonzero padding";
		r = -EINVAL;
	}
	if (!r)
		r = eg_check_gpa_range(w->gpa, w->len, why);
	if (r || (w->flags & EPTGATE_WINDOW_UNMAP))
		return r;
	if (w->len > EG_WINDOW_MAX) {
		*why = "window larger than 1 GiB";
		return -EINVAL;
	}
	r = eg_check_gpa_range(w->peer_gpa, w->len, why);
	if (!r)
		r = eg_check_access_bits(w->access, false, why);
	if (!r && (!w->access || (w->access & EPTGATE_ACCESS_X))) {
		*why = "window access must be R or RW";
		r = -EINVAL;
	}
	return r;
}
