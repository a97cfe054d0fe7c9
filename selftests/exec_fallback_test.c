// SPDX-License-Identifier: GPL-2.0
/*
 * exec_fallback_test: fetching code from a page that is not executable in
 * the current view puts the vCPU back into the default view, where the
 * instruction re-executes and the guest carries on.
 *
 * View 1 mirrors VM 1's memslot 0 (code, stack, page tables) RW, no X.
 * After VMFUNC(0, 1) the next instruction fetch cannot succeed in view 1.
 * The guest then reads a probe page that is VM 1 RAM (PROBE_OWN) in view 0
 * and a window onto a VM 2 page (PROBE_PEER) in view 1: it must read
 * PROBE_OWN and reach GUEST_DONE, and view 1 must count a fallback.
 */
#include "eptgate_util.h"

#define PROBE_GPA	0x10000000ULL
#define PROBE_SLOT	1	/* VM 2: the same gpa and memslot */

#define PROBE_OWN	0x000000000000e0e0ULL
#define PROBE_PEER	0x00000000000f0f0fULL

static void guest_code(void)
{
	uint64_t probe;

	GUEST_SYNC(0);
	vmfunc_eptp(1);
	probe = guest_read64(PROBE_GPA);
	GUEST_SYNC_ARGS(1, probe, 0, 0, 0);
	GUEST_DONE();
}

int main(void)
{
	struct eptgate_view_stats vs0, vs1;
	struct eptgate_vcpu_stats cs;
	struct eptgate_probe_vm p;
	struct kvm_vcpu *vcpu;
	struct ucall uc;
	int bfd;

	eptgate_require();
	ksft_print_header();
	ksft_set_plan(1);

	eptgate_probe_vm_create(&p, guest_code, PROBE_GPA, PROBE_SLOT,
				PROBE_OWN, PROBE_PEER, EPTGATE_RW);
	vcpu = p.vcpu;
	bfd = p.bfd;
	eptgate_enable(bfd);

	eptgate_run_expect_sync(vcpu, 0, &uc);
	vs0 = eptgate_view_stats(bfd, 1);

	eptgate_run_expect_sync(vcpu, 1, &uc);
	vs1 = eptgate_view_stats(bfd, 1);
	cs = eptgate_vcpu_stats(bfd, 0);
	TEST_ASSERT(uc.args[2] == PROBE_OWN,
		    "probe read 0x%lx after VMFUNC(0,1) into a non-executable view, expected view 0's 0x%llx%s",
		    uc.args[2], PROBE_OWN,
		    uc.args[2] == PROBE_PEER ? " (the guest executed code in view 1)" : "");
	TEST_ASSERT(vs1.fallbacks > vs0.fallbacks,
		    "view 1 fallbacks %lu -> %lu, expected an increment",
		    (uint64_t)vs0.fallbacks, (uint64_t)vs1.fallbacks);
	TEST_ASSERT(vs1.ept_violations > vs0.ept_violations,
		    "view 1 ept_violations %lu -> %lu, expected an increment",
		    (uint64_t)vs0.ept_violations, (uint64_t)vs1.ept_violations);
	TEST_ASSERT(cs.view == 0,
		    "vCPU stats say the last exit was in view %u, expected 0",
		    cs.view);
	eptgate_run_expect_done(vcpu);
	ksft_test_result_pass("instruction fetch from a non-X view falls back to view 0 (fallbacks +%lu), guest reaches GUEST_DONE\n",
			      (uint64_t)(vs1.fallbacks - vs0.fallbacks));

	eptgate_probe_vm_destroy(&p);
	ksft_finished();
}
