// SPDX-License-Identifier: GPL-2.0
/*
 * event_test: an event that KVM injects while a vCPU is in an alternate
 * view is delivered in the default view: no guest handler runs in a view.
 *
 * View 1 mirrors VM 1's memslot 0 RWX, so guest code (and its #UD handler)
 * could run there.  The guest switches to view 1 and executes UD2; KVM
 * intercepts #UD and injects it, and the entry hook moves the vCPU to the
 * default view first (event_fallbacks).  The handler reads a probe page
 * that is VM 1's own RAM (PROBE_OWN) in view 0 and a window onto VM 2
 * (PROBE_PEER) in view 1: it must read PROBE_OWN.
 */
#include "eptgate_util.h"

#define PROBE_GPA	0x10000000ULL
#define PROBE_SLOT	1
#define PEER_GPA	0x10000000ULL
#define PEER_SLOT	1

#define PROBE_OWN	0x0000000000001111ULL
#define PROBE_PEER	0x0000000000002222ULL

static volatile uint64_t handler_probe, handler_calls;

static void ud2_handler(struct ex_regs *regs)
{
	const uint8_t *insn = (const uint8_t *)regs->rip;

	GUEST_ASSERT_2(insn[0] == 0x0f && insn[1] == 0x0b, insn[0], insn[1]);
	handler_probe = guest_read64(PROBE_GPA);
	handler_calls++;
	regs->rip += 2;
}

static void guest_code(void)
{
	uint64_t in_view, after;

	vmfunc_eptp(1);
	in_view = guest_read64(PROBE_GPA);
	asm volatile("ud2" ::: "memory");
	after = guest_read64(PROBE_GPA);
	GUEST_SYNC_ARGS(1, in_view, handler_probe, after, handler_calls);
	GUEST_DONE();
}

int main(void)
{
	struct eptgate_view_stats vs;
	struct kvm_vm *vm, *peer;
	struct kvm_vcpu *vcpu;
	int dev, bfd, peer_bfd;
	struct ucall uc;

	eptgate_require();
	ksft_print_header();
	ksft_set_plan(1);

	vm = vm_create_with_one_vcpu(&vcpu, guest_code);
	vm_init_descriptor_tables(vm);
	vcpu_init_descriptor_tables(vcpu);
	vm_install_exception_handler(vm, UD_VECTOR, ud2_handler);
	eptgate_fill64(vm_add_ram(vm, PROBE_SLOT, PROBE_GPA, 1), PROBE_OWN,
		       EPTGATE_PAGE_SIZE);
	peer = vm_create_barebones();
	eptgate_fill64(__vm_add_ram(peer, PEER_SLOT, PEER_GPA, 1), PROBE_PEER,
		       EPTGATE_PAGE_SIZE);

	dev = eptgate_open();
	bfd = eptgate_bind_vm(dev, vm);
	peer_bfd = eptgate_bind_vm(dev, peer);
	TEST_ASSERT(eptgate_create_view(bfd) == 1, "first view is not 1");
	eptgate_set_access_slot(bfd, vm, 1, 0, EPTGATE_RWX);
	eptgate_map_window(bfd, 1, PROBE_GPA, EPTGATE_PAGE_SIZE, EPTGATE_RO,
			   peer_bfd, PEER_GPA);
	eptgate_enable(bfd);

	eptgate_run_expect_sync(vcpu, 1, &uc);
	vs = eptgate_view_stats(bfd, 1);
	TEST_ASSERT(uc.args[2] == PROBE_PEER,
		    "probe read 0x%lx after VMFUNC(0,1), expected view 1's 0x%llx: the switch did not happen",
		    uc.args[2], PROBE_PEER);
	TEST_ASSERT(uc.args[5] == 1,
		    "the #UD handler ran %lu times, expected once", uc.args[5]);
	TEST_ASSERT(uc.args[3] == PROBE_OWN,
		    "the #UD handler read 0x%lx, expected view 0's 0x%llx%s", uc.args[3],
		    PROBE_OWN, uc.args[3] == PROBE_PEER ?
		    ": the guest's handler ran in view 1" : "");
	TEST_ASSERT(vs.event_fallbacks == 1,
		    "view 1 counted %llu event fallbacks, expected 1",
		    vs.event_fallbacks);
	TEST_ASSERT(uc.args[4] == PROBE_OWN,
		    "after the handler returned the probe read 0x%lx, expected view 0's 0x%llx",
		    uc.args[4], PROBE_OWN);
	ksft_test_result_pass("a #UD injected in view 1 runs the guest's handler in view 0 (event_fallbacks 1)\n");
	eptgate_run_expect_done(vcpu);

	close(bfd);
	close(peer_bfd);
	close(dev);
	kvm_vm_free(vm);
	kvm_vm_free(peer);
	ksft_finished();
}
