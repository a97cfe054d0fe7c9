// SPDX-License-Identifier: GPL-2.0
/*
 * resume_view_test: a vCPU resumes in an alternate view only if it was in
 * that same view instance at its last exit and switching stayed on since.
 *
 * The probe fixture: VM 1's page P reads PATTERN_A in view 0 and, through
 * view 1's window, the peer's PATTERN_B.  In each case the guest enters
 * view 1 by VMFUNC and exits there (a ucall); while the vCPU is in
 * userspace, the host changes what view 1 means; then the guest reads P
 * without any VMFUNC.  It must read its own PATTERN_A: it is back in KVM's
 * view.
 *
 *   1. DISABLE, then ENABLE;
 *   2. DESTROY_VIEW 1, then CREATE_VIEW 1 with the same window (a new
 *      instance under the old id);
 *   3. dirty logging on a memslot (the views are torn down and switching
 *      goes off), dirty logging off again, view 1 rebuilt, ENABLE.
 *
 * A control case first: with nothing changed, the vCPU does resume in
 * view 1 (reads PATTERN_B), so the cases can tell the difference.
 */
#include "eptgate_util.h"

#define P_GPA		0x10000000ULL
#define P_SLOT		1

#define PATTERN_A	0xaaaa5555aaaa0001ULL
#define PATTERN_B	0xbbbb4444bbbb0002ULL

#define NR_CASES	4

static void guest_code(void)
{
	uint64_t c;

	for (c = 0; c < NR_CASES; c++) {
		vmfunc_eptp(1);
		GUEST_SYNC_ARGS(2 * c, guest_read64(P_GPA), 0, 0, 0);
		/* No VMFUNC here: wherever the host resumed the vCPU. */
		GUEST_SYNC_ARGS(2 * c + 1, guest_read64(P_GPA), 0, 0, 0);
		vmfunc_eptp(0);
	}
	GUEST_DONE();
}

/* View 1 as the fixture built it: memslot 0 RWX, the window over P. */
static void view1_rebuild(struct eptgate_probe_vm *p)
{
	TEST_ASSERT(eptgate_create_view(p->bfd) == 1,
		    "re-created view is not view 1");
	eptgate_set_access_slot(p->bfd, p->vm, 1, 0, EPTGATE_RWX);
	eptgate_map_window(p->bfd, 1, P_GPA, EPTGATE_PAGE_SIZE, EPTGATE_RO,
			   p->peer_bfd, P_GPA);
}

static void case_disable_enable(struct eptgate_probe_vm *p)
{
	eptgate_disable(p->bfd);
	eptgate_enable(p->bfd);
}

static void case_recreate(struct eptgate_probe_vm *p)
{
	eptgate_destroy_view(p->bfd, 1);
	view1_rebuild(p);
}

static void case_dirty_log(struct eptgate_probe_vm *p)
{
	struct eptgate_view_stats st;

	vm_mem_region_set_flags(p->vm, P_SLOT, KVM_MEM_LOG_DIRTY_PAGES);
	/* Any ioctl waits for the teardown the memslot change queued. */
	TEST_ASSERT(__eptgate_view_stats(p->bfd, 1, &st) == -ENOENT,
		    "view 1 still exists while a memslot logs dirty pages");
	vm_mem_region_set_flags(p->vm, P_SLOT, 0);
	view1_rebuild(p);
	eptgate_enable(p->bfd);
}

static const struct {
	const char *what;
	void (*change)(struct eptgate_probe_vm *p);
	uint64_t expect;
} cases[NR_CASES] = {
	{ "nothing changed: resumes in view 1", NULL, PATTERN_B },
	{ "DISABLE then ENABLE", case_disable_enable, PATTERN_A },
	{ "view 1 destroyed and created again", case_recreate, PATTERN_A },
	{ "dirty logging tore the views down", case_dirty_log, PATTERN_A },
};

int main(void)
{
	struct eptgate_probe_vm p;
	struct ucall uc;
	uint64_t c;

	eptgate_require();
	ksft_print_header();
	ksft_set_plan(NR_CASES);

	eptgate_probe_vm_create(&p, guest_code, P_GPA, P_SLOT, PATTERN_A,
				PATTERN_B, EPTGATE_RWX);
	eptgate_enable(p.bfd);

	for (c = 0; c < NR_CASES; c++) {
		eptgate_run_expect_sync(p.vcpu, 2 * c, &uc);
		TEST_ASSERT(uc.args[2] == PATTERN_B,
			    "case %lu: after VMFUNC(0,1) P read 0x%lx, expected the peer's 0x%llx",
			    c, uc.args[2], PATTERN_B);
		if (cases[c].change)
			cases[c].change(&p);
		eptgate_run_expect_sync(p.vcpu, 2 * c + 1, &uc);
		TEST_ASSERT(uc.args[2] == cases[c].expect,
			    "case %lu (%s): P read 0x%lx with no VMFUNC since the exit, expected 0x%lx (%s)",
			    c, cases[c].what, uc.args[2], cases[c].expect,
			    cases[c].expect == PATTERN_A ?
			    "own RAM: the vCPU must not resume in a view it did not enter" :
			    "the peer's page: the vCPU should resume in view 1");
		ksft_test_result_pass("%s\n", cases[c].what);
	}
	eptgate_run_expect_done(p.vcpu);
	eptgate_probe_vm_destroy(&p);
	ksft_finished();
}
