// SPDX-License-Identifier: GPL-2.0
/*
 * late_vcpu_test: a vCPU created after EPTGATE_ENABLE gets its state and
 * can switch views.
 *
 * The hook runs under a raw spinlock with interrupts off and allocates
 * nothing there (PREEMPT_RT): the first entry of a vCPU that has no state
 * queues a work item, and the vCPU runs in KVM's view until that work has
 * made its state.  The test adds vCPU 1 to the probe fixture after ENABLE,
 * runs it (an exit per round, so that the work can run) until
 * GET_VCPU_STATS knows it, then lets the guest VMFUNC into view 1: it must
 * read the peer's page through the window, and the hook must have counted
 * its entries.
 */
#include "eptgate_util.h"

#define P_GPA		0x10000000ULL
#define P_SLOT		1

#define PATTERN_A	0xaaaa5555aaaa0001ULL
#define PATTERN_B	0xbbbb4444bbbb0002ULL

#define WAIT_MS		5000

static uint64_t go;

static void guest_vcpu0(void)
{
	GUEST_DONE();
}

static void guest_late(void)
{
	uint64_t in_view1;

	while (!READ_ONCE(go))
		GUEST_SYNC(0);
	vmfunc_eptp(1);
	in_view1 = guest_read64(P_GPA);
	vmfunc_eptp(0);
	GUEST_SYNC_ARGS(1, in_view1, guest_read64(P_GPA), 0, 0);
	GUEST_DONE();
}

int main(void)
{
	struct eptgate_vcpu_stats st;
	struct eptgate_probe_vm p;
	struct kvm_vcpu *late;
	unsigned int ms = 0;
	struct ucall uc;
	int r;

	eptgate_require();
	ksft_print_header();
	ksft_set_plan(2);

	eptgate_probe_vm_create(&p, guest_vcpu0, P_GPA, P_SLOT, PATTERN_A,
				PATTERN_B, EPTGATE_RWX);
	eptgate_enable(p.bfd);
	eptgate_run_expect_done(p.vcpu);

	late = vm_vcpu_add(p.vm, 1, guest_late);
	r = __eptgate_vcpu_stats(p.bfd, late->id, &st);
	TEST_ASSERT(r == -ENOENT,
		    "GET_VCPU_STATS of a vCPU that never entered returned %d, expected -ENOENT",
		    r);
	do {
		eptgate_run_expect_sync(late, 0, &uc);
		r = __eptgate_vcpu_stats(p.bfd, late->id, &st);
		if (r)
			eptgate_msleep(1);
	} while (r && ++ms < WAIT_MS);
	TEST_ASSERT(!r,
		    "vCPU %u, added after ENABLE, still has no eptgate state after %u rounds (%d ms): the hook's work item did not run",
		    late->id, ms, WAIT_MS);
	ksft_test_result_pass("vCPU added after ENABLE has its state after %u round(s)\n",
			      ms + 1);

	go = 1;
	sync_global_to_guest(p.vm, go);
	eptgate_run_expect_sync(late, 1, &uc);
	TEST_ASSERT(uc.args[2] == PATTERN_B && uc.args[3] == PATTERN_A,
		    "late vCPU read 0x%lx in view 1 and 0x%lx in view 0, expected the peer's 0x%llx and its own 0x%llx",
		    uc.args[2], uc.args[3], PATTERN_B, PATTERN_A);
	st = eptgate_vcpu_stats(p.bfd, late->id);
	TEST_ASSERT(st.entries >= 1,
		    "late vCPU: the hook counted %lu entries", (unsigned long)st.entries);
	eptgate_run_expect_done(late);
	ksft_test_result_pass("late vCPU switches into view 1 and back (%lu entries counted)\n",
			      (unsigned long)st.entries);

	eptgate_probe_vm_destroy(&p);
	ksft_finished();
}
