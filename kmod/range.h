/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Range bookkeeping of a view: the guest-physical ranges it mirrors from
 * the VM's own RAM and the windows that map a peer's memory.  A sorted,
 * fixed-capacity array of disjoint ranges, so that the exit hook can look
 * an address up in O(log n) without allocating.
 *
 * Pure logic, built into the module and into the host-side unit tests and
 * fuzzer.  Callers serialize (the module: eg_mutex for writers, and
 * eg_vm.mmu_lock for every access from the hook).
 */
#ifndef EPTGATE_RANGE_H
#define EPTGATE_RANGE_H

#define EG_MAX_RANGES	64

enum eg_range_kind {
	EG_RANGE_RAM = 1,	/* mirror of the VM's own RAM */
	EG_RANGE_WINDOW,	/* a peer's memory, see struct eg_window */
	EG_RANGE_TRAMP,		/* trampoline pages, see struct eg_trampoline */
	EG_RANGE_SINK,		/* a revoked window: maps the view's sink page */
};

struct eg_range {
	u64 start;		/* gpa, page aligned */
	u64 end;		/* exclusive */
	u32 access;		/* EPT R/W/X */
	u32 kind;		/* enum eg_range_kind */
	void *owner;		/* EG_RANGE_WINDOW: the struct eg_window */
};

struct eg_range_set {
	unsigned int nr;
	struct eg_range r[EG_MAX_RANGES];
};

/* 0, -EINVAL (empty or wrapping), -EEXIST (overlap) or -ENOSPC. */
int eg_range_insert(struct eg_range_set *s, u64 start, u64 len, u32 access,
		    u32 kind, void *owner);
/* Removes the range that starts at @start and is @len long: 0 or -ENOENT. */
int eg_range_remove(struct eg_range_set *s, u64 start, u64 len);
/* The range containing @gpa, or NULL. */
const struct eg_range *eg_range_find(const struct eg_range_set *s, u64 gpa);
/*
 * The range owned by @owner keeps its place with kind @kind, no owner and
 * the access bits of @access_mask only: true, or false if there is none.
 */
bool eg_range_orphan(struct eg_range_set *s, const void *owner, u32 kind,
		     u32 access_mask);
/* Whether [start, start + len) overlaps any range. */
bool eg_range_overlaps(const struct eg_range_set *s, u64 start, u64 len);

#endif /* EPTGATE_RANGE_H */
