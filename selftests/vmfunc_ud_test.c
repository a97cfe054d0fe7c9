// SPDX-License-Identifier: GPL-2.0
/*
 * vmfunc_ud_test: VMFUNC(0, N) raises #UD in the guest when view N does not
 * exist or switching is not enabled, and the guest continues after it.
 *
 * Only view 1 is created.  The guest's #UD handler checks that the faulting
 * instruction is VMFUNC, counts it and skips it.
 *   stage 1: before EPTGATE_ENABLE, VMFUNC(0,1)              -> #UD
 *   stage 2: after ENABLE, VMFUNC(0,1) / VMFUNC(0,0)         -> no #UD, and
 *            a probe page reads view 1's value in between
 *   stage 3: VMFUNC(0,2), VMFUNC(0,15), VMFUNC(0,600)         -> 3 x #UD
 *   stage 4: after EPTGATE_DISABLE, VMFUNC(0,1)              -> #UD
 */
#include "eptgate_util.h"

#define PROBE_GPA	0x10000000ULL
#define PROBE_SLOT	1	/* VM 2: the same gpa and memslot */

#define PROBE_OWN	0x00000000000a0a0aULL
#define PROBE_PEER	0x000000000b0b0b0bULL

static void guest_code(void)
{
	uint64_t probe;

	vmfunc_eptp(1);
	GUEST_SYNC_ARGS(1, eptgate_guest_ud_count, 0, 0, 0);

	vmfunc_eptp(1);
	probe = guest_read64(PROBE_GPA);
	vmfunc_eptp(0);
	GUEST_SYNC_ARGS(2, eptgate_guest_ud_count, probe,
			guest_read64(PROBE_GPA), 0);

	vmfunc_eptp(2);
	vmfunc_eptp(15);
	vmfunc_eptp(600);
	GUEST_SYNC_ARGS(3, eptgate_guest_ud_count, guest_read64(PROBE_GPA), 0, 0);

	vmfunc_eptp(1);
	GUEST_SYNC_ARGS(4, eptgate_guest_ud_count, guest_read64(PROBE_GPA), 0, 0);

	GUEST_DONE();
}

int main(void)
{
	struct eptgate_vcpu_stats cs2, cs3;
	struct eptgate_probe_vm p;
	struct kvm_vcpu *vcpu;
	struct kvm_vm *vm;
	struct ucall uc;
	int bfd;

	eptgate_require();
	ksft_print_header();
	ksft_set_plan(4);

	eptgate_probe_vm_create(&p, guest_code, PROBE_GPA, PROBE_SLOT,
				PROBE_OWN, PROBE_PEER, EPTGATE_RWX);
	vm = p.vm;
	vcpu = p.vcpu;
	bfd = p.bfd;
	eptgate_install_ud_handler(vm, vcpu);

	/* Stage 1: bound, view 1 exists, switching not enabled. */
	eptgate_run_expect_sync(vcpu, 1, &uc);
	TEST_ASSERT(uc.args[2] == 1,
		    "stage 1: %lu #UD after VMFUNC(0,1) before EPTGATE_ENABLE, expected 1",
		    uc.args[2]);
	ksft_test_result_pass("VMFUNC(0,1) before EPTGATE_ENABLE raises #UD\n");

	/* Stage 2: enabled, view 1 is valid. */
	eptgate_enable(bfd);
	eptgate_run_expect_sync(vcpu, 2, &uc);
	cs2 = eptgate_vcpu_stats(bfd, 0);
	TEST_ASSERT(uc.args[2] == 1,
		    "stage 2: #UD count went from 1 to %lu on VMFUNC(0,1)/VMFUNC(0,0) with switching enabled",
		    uc.args[2]);
	TEST_ASSERT(uc.args[3] == PROBE_PEER && uc.args[4] == PROBE_OWN,
		    "stage 2: probe read 0x%lx in view 1 and 0x%lx in view 0, expected 0x%llx and 0x%llx",
		    uc.args[3], uc.args[4], PROBE_PEER, PROBE_OWN);
	ksft_test_result_pass("VMFUNC(0,1) and VMFUNC(0,0) switch without #UD once enabled\n");

	/* Stage 3: views 2 and 15 do not exist, 600 is past the EPTP list. */
	eptgate_run_expect_sync(vcpu, 3, &uc);
	cs3 = eptgate_vcpu_stats(bfd, 0);
	TEST_ASSERT(uc.args[2] == 4,
		    "stage 3: %lu #UD after VMFUNC(0,2), VMFUNC(0,15), VMFUNC(0,600), expected 3 more than 1",
		    uc.args[2]);
	TEST_ASSERT(uc.args[3] == PROBE_OWN,
		    "stage 3: probe read 0x%lx after the #UDs, expected view 0's 0x%llx",
		    uc.args[3], PROBE_OWN);
	TEST_ASSERT(cs3.vmfunc_ud - cs2.vmfunc_ud == 3,
		    "stage 3: vCPU stats vmfunc_ud +%lu, expected +3",
		    (uint64_t)(cs3.vmfunc_ud - cs2.vmfunc_ud));
	ksft_test_result_pass("VMFUNC(0,2), (0,15), (0,600) with only view 1 raise #UD, guest continues\n");

	/* Stage 4: switching disabled again. */
	eptgate_disable(bfd);
	eptgate_run_expect_sync(vcpu, 4, &uc);
	TEST_ASSERT(uc.args[2] == 5,
		    "stage 4: #UD count %lu after VMFUNC(0,1) with switching disabled, expected 5",
		    uc.args[2]);
	TEST_ASSERT(uc.args[3] == PROBE_OWN,
		    "stage 4: probe read 0x%lx, expected view 0's 0x%llx",
		    uc.args[3], PROBE_OWN);
	eptgate_run_expect_done(vcpu);
	TEST_ASSERT(eptgate_read_guest_ud_count(vm) == 5,
		    "guest #UD counter is %lu at the end, expected 5",
		    eptgate_read_guest_ud_count(vm));
	ksft_test_result_pass("VMFUNC(0,1) after EPTGATE_DISABLE raises #UD\n");

	eptgate_probe_vm_destroy(&p);
	ksft_finished();
}
