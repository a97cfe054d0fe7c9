/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Validation of ioctl arguments that does not depend on kernel state:
 * sizes, flags, alignment, view ids, access bits.  Each check returns 0 or
 * a negative errno and points *why at a one-line reason for dmesg.
 *
 * Pure logic, built into the module and into the host-side unit tests and
 * the libFuzzer target (tests/fuzz_uarg.c): this is where user input
 * crosses the trust line.
 */
#ifndef EPTGATE_UARG_H
#define EPTGATE_UARG_H

/* The first published size of each argument structure. */
#define EG_SIZE_INFO_V1		offsetofend(struct eptgate_info, pages_pinned)
#define EG_SIZE_BIND_V1		offsetofend(struct eptgate_bind, pad)
#define EG_SIZE_VIEW_V1		offsetofend(struct eptgate_view, pad)
#define EG_SIZE_ACCESS_V1	offsetofend(struct eptgate_access, len)
#define EG_SIZE_WINDOW_V1	offsetofend(struct eptgate_window, peer_gpa)
#define EG_SIZE_SWITCHING_V1	offsetofend(struct eptgate_switching, flags)
#define EG_SIZE_VIEW_STATS_V1	offsetofend(struct eptgate_view_stats, fill_retries)
#define EG_SIZE_VCPU_STATS_V1	offsetofend(struct eptgate_vcpu_stats, vmfunc_ud)
#define EG_SIZE_TRAMPOLINE_V1	offsetofend(struct eptgate_trampoline, doorbell_gpa)
#define EG_SIZE_GRANT_V1	offsetofend(struct eptgate_grant, ranges)
#define EG_SIZE_GRANT_INFO_V1	offsetofend(struct eptgate_grant_info, windows_revoked)
#define EG_SIZE_REVOKE_V1	offsetofend(struct eptgate_revoke, flags)
/* Largest window: its pages are pinned and listed in one array. */
#define EG_WINDOW_MAX		BIT_ULL(30)
/* Largest argument the module copies in; larger sizes are -E2BIG. */
#define EG_SIZE_MAX		4096

int eg_check_size(u32 size, u32 min_size, const char **why);
int eg_check_flags(u32 flags, u32 known, const char **why);
int eg_check_view_id(u32 view, bool allow_default, const char **why);
int eg_check_gpa_range(u64 gpa, u64 len, const char **why);
int eg_check_access_bits(u32 access, bool x_only_ok, const char **why);

int eg_check_bind(const struct eptgate_bind *b, const char **why);
int eg_check_view(const struct eptgate_view *v, bool create, const char **why);
int eg_check_access(const struct eptgate_access *a, bool x_only_ok,
		    const char **why);
int eg_check_window(const struct eptgate_window *w, const char **why);
int eg_check_trampoline(const struct eptgate_trampoline *t, const char **why);
int eg_check_grant(const struct eptgate_grant *g, const char **why);
int eg_grant_allows(const struct eptgate_grant_range *r, u32 nr, u64 gpa,
		    u64 len, u32 access, const char **why);

#endif /* EPTGATE_UARG_H */
