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
	int r = eg_check_flags(w->flags, EPTGATE_WINDOW_UNMAP |
			       EPTGATE_WINDOW_PEER_BINDING, why);

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

static bool eg_overlap(u64 a, u64 alen, u64 b, u64 blen)
{
	return a < b + blen && b < a + alen;
}

int eg_check_trampoline(const struct eptgate_trampoline *t, const char **why)
{
	int r = eg_check_flags(t->flags, 0, why);

	if (!r)
		r = eg_check_view_id(t->view, false, why);
	if (!r && t->pad) {
		*why = "nonzero padding";
		r = -EINVAL;
	}
	if (r)
		return r;
	if (!t->blob_len) {
		*why = "empty blob";
		return -EINVAL;
	}
	if (t->blob_len > EPTGATE_TRAMPOLINE_BLOB_MAX) {
		*why = "blob larger than EPTGATE_TRAMPOLINE_BLOB_MAX";
		return -EFBIG;
	}
	if (t->param_len > EPTGATE_TRAMPOLINE_PARAM_MAX) {
		*why = "parameters larger than EPTGATE_TRAMPOLINE_PARAM_MAX";
		return -EINVAL;
	}
	r = eg_check_gpa_range(t->code_gpa, EPTGATE_TRAMPOLINE_CODE_MAX, why);
	if (!r)
		r = eg_check_gpa_range(t->data_gpa, EPTGATE_TRAMPOLINE_DATA_LEN,
				       why);
	if (!r && t->doorbell_gpa)
		r = eg_check_gpa_range(t->doorbell_gpa, EG_PAGE_SIZE, why);
	if (r)
		return r;
	/* The code may take up to CODE_MAX: keep that much clear. */
	if (eg_overlap(t->code_gpa, EPTGATE_TRAMPOLINE_CODE_MAX, t->data_gpa,
		       EPTGATE_TRAMPOLINE_DATA_LEN) ||
	    (t->doorbell_gpa &&
	     (eg_overlap(t->doorbell_gpa, EG_PAGE_SIZE, t->code_gpa,
			 EPTGATE_TRAMPOLINE_CODE_MAX) ||
	      eg_overlap(t->doorbell_gpa, EG_PAGE_SIZE, t->data_gpa,
			 EPTGATE_TRAMPOLINE_DATA_LEN)))) {
		*why = "code, data and doorbell pages overlap";
		return -EINVAL;
	}
	return 0;
}

int eg_check_grant(const struct eptgate_grant *g, const char **why)
{
	int r = eg_check_flags(g->flags, 0, why);
	u32 i;

	if (!r && g->pad) {
		*why = "nonzero padding";
		r = -EINVAL;
	}
	if (!r && (!g->nr_ranges || g->nr_ranges > EPTGATE_GRANT_MAX_RANGES)) {
		*why = "nr_ranges not in 1 .. EPTGATE_GRANT_MAX_RANGES";
		r = -EINVAL;
	}
	for (i = 0; !r && i < g->nr_ranges; i++) {
		const struct eptgate_grant_range *gr = &g->ranges[i];

		r = eg_check_gpa_range(gr->gpa, gr->len, why);
		if (!r && gr->pad) {
			*why = "nonzero padding in a range";
			r = -EINVAL;
		}
		if (!r && gr->access != EPTGATE_ACCESS_R &&
		    gr->access != (EPTGATE_ACCESS_R | EPTGATE_ACCESS_W)) {
			*why = "grant access must be R or RW";
			r = -EINVAL;
		}
	}
	return r;
}

/*
 * Whether a grant's ranges @r[0 .. @nr) allow a window onto [@gpa, +@len)
 * with @access: it must lie inside one range, with no more access.
 * @gpa and @len are checked already (eg_check_window()).
 */
int eg_grant_allows(const struct eptgate_grant_range *r, u32 nr, u64 gpa,
		    u64 len, u32 access, const char **why)
{
	bool inside = false;
	u32 i;

	for (i = 0; i < nr; i++) {
		if (gpa < r[i].gpa || gpa + len > r[i].gpa + r[i].len)
			continue;
		inside = true;
		if (!(access & ~r[i].access))
			return 0;
	}
	*why = inside ? "window asks more access than the grant gives" :
			"window not inside one range of the grant";
	return -EACCES;
}
