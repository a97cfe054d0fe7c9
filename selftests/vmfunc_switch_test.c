// SPDX-License-Identifier: GPL-2.0
/*
 * vmfunc_switch_test: VMFUNC(0, 1) switches the vCPU into view 1 and
 * VMFUNC(0, 0) back, with no VM exit.
 *
 * VM 1 has a RAM page P (pattern A).  View 1 mirrors VM 1's memslot 0 RWX
 * and maps, at P's address, a window onto a page of VM 2 (pattern B).  The
 * guest reads P in view 1 and in view 0 between two ucalls: it must see B
 * then A, and the hook must see exactly one exit (the second ucall), none
 * of them in an alternate view.
 *
 * Round 1 is a warm-up: the first touches of pages may take EPT violations
 * (KVM's own lazily built EPT, eptgate's lazy fills).  Later rounds must be
 * exit-free, but a host interrupt can still land inside any round, so the
 * test requires at least one clean round out of ROUNDS - 1 rather than all.
 */
#include "eptgate_util.h"

#define P_GPA		0x10000000ULL	/* VM 1: page P, memslot 1 */
#define P_SLOT		1		/* VM 2: the page behind the window */

#define PATTERN_A	0xaaaa5555aaaa0001ULL
#define PATTERN_B	0xbbbb4444bbbb0002ULL

#define ROUNDS		8

static void guest_code(void)
{
	uint64_t in_view1, in_view0;
	uint64_t round;

	GUEST_SYNC(0);
	for (round = 1; round <= ROUNDS; round++) {
		vmfunc_eptp(1);
		in_view1 = guest_read64(P_GPA);
		vmfunc_eptp(0);
		in_view0 = guest_read64(P_GPA);
		GUEST_SYNC_ARGS(round, in_view1, in_view0, 0, 0);
	}
	GUEST_DONE();
}

int main(void)
{
	struct eptgate_vcpu_stats cs0, cs1;
	struct eptgate_view_stats vs0, vs1;
	struct eptgate_probe_vm p;
	uint64_t round, clean = 0;
	struct kvm_vcpu *vcpu;
	struct ucall uc;
	int bfd;

	eptgate_require();
	ksft_print_header();
	ksft_set_plan(3);

	eptgate_probe_vm_create(&p, guest_code, P_GPA, P_SLOT, PATTERN_A,
				PATTERN_B, EPTGATE_RWX);
	vcpu = p.vcpu;
	bfd = p.bfd;
	eptgate_enable(bfd);

	eptgate_run_expect_sync(vcpu, 0, &uc);
	cs0 = eptgate_vcpu_stats(bfd, 0);
	vs0 = eptgate_view_stats(bfd, 1);

	for (round = 1; round <= ROUNDS; round++) {
		uint64_t d_entries, d_exits, d_alt, d_view1_exits;

		eptgate_run_expect_sync(vcpu, round, &uc);
		cs1 = eptgate_vcpu_stats(bfd, 0);
		vs1 = eptgate_view_stats(bfd, 1);

		TEST_ASSERT(uc.args[2] == PATTERN_B,
			    "round %lu: P read 0x%lx in view 1, expected the peer's 0x%llx (window not used: was VMFUNC(0,1) a no-op?)",
			    round, uc.args[2], PATTERN_B);
		TEST_ASSERT(uc.args[3] == PATTERN_A,
			    "round %lu: P read 0x%lx after VMFUNC(0,0), expected VM 1's own 0x%llx",
			    round, uc.args[3], PATTERN_A);
		TEST_ASSERT(cs1.view == 0,
			    "round %lu: vCPU stats say the last exit was in view %u, expected 0",
			    round, cs1.view);

		d_entries = cs1.entries - cs0.entries;
		d_exits = cs1.exits - cs0.exits;
		d_alt = cs1.exits_alt - cs0.exits_alt;
		d_view1_exits = vs1.exits - vs0.exits;

		TEST_ASSERT(d_exits >= 1 && d_entries >= 1,
			    "round %lu: hook saw %lu entries / %lu exits between two ucalls, expected >= 1 (is the hook counting?)",
			    round, d_entries, d_exits);
		/* Only view 1 exists: the two counters describe the same exits. */
		TEST_ASSERT(d_alt == d_view1_exits,
			    "round %lu: vCPU exits_alt +%lu but view 1 exits +%lu",
			    round, d_alt, d_view1_exits);

		ksft_print_msg("round %lu: entries +%lu exits +%lu exits_alt +%lu view1 exits +%lu lazy_fills +%lu ept_violations +%lu\n",
			       round, d_entries, d_exits, d_alt, d_view1_exits,
			       vs1.lazy_fills - vs0.lazy_fills,
			       vs1.ept_violations - vs0.ept_violations);

		if (round > 1 && d_exits == 1 && d_entries == 1 && d_alt == 0 &&
		    d_view1_exits == 0)
			clean++;

		cs0 = cs1;
		vs0 = vs1;
	}
	eptgate_run_expect_done(vcpu);

	ksft_test_result_pass("view 1 reads the peer's page through the window, view 0 reads own RAM (%d rounds)\n",
			      ROUNDS);
	ksft_test_result_pass("vCPU exits_alt agrees with view 1 exits\n");
	TEST_ASSERT(clean >= 1,
		    "no round out of %d had exactly one exit and no exit in view 1: VMFUNC does not switch exit-free",
		    ROUNDS - 1);
	ksft_test_result_pass("VMFUNC round trip without a VM exit (%lu/%d clean rounds)\n",
			      clean, ROUNDS - 1);

	eptgate_probe_vm_destroy(&p);
	ksft_finished();
}
