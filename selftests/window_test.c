// SPDX-License-Identifier: GPL-2.0
/*
 * window_test: a read-write window is the peer VM's memory: what VM 1
 * writes through it, VM 2 reads from its own RAM.
 *
 * VM 2 (the peer) has a vCPU and a RAM page S holding S_INIT.  View 1 of
 * VM 1 mirrors VM 1's memslot 0 RWX and maps S RW at WIN_GPA, where VM 1
 * has no RAM.  VM 2 first reads S (S_INIT, and S is now mapped in KVM's
 * EPT of VM 2); VM 1 switches to view 1, reads S_INIT through the window,
 * writes two patterns (first and last qword) and switches back; VM 2 then
 * reads both patterns from S.
 */
#include "eptgate_util.h"

#define S_GPA		0x10000000ULL	/* VM 2 memslot 1 */
#define S_SLOT		1
#define WIN_GPA		0x20000000ULL	/* VM 1: window only */

#define LAST_QWORD	(EPTGATE_PAGE_SIZE - 8)

#define S_INIT		0x1111111111111111ULL
#define PATTERN_0	0x0123456789abcdefULL
#define PATTERN_1	0xfedcba9876543210ULL

static void writer_code(void)
{
	uint64_t old;

	vmfunc_eptp(1);
	old = guest_read64(WIN_GPA);
	guest_write64(WIN_GPA, PATTERN_0);
	guest_write64(WIN_GPA + LAST_QWORD, PATTERN_1);
	vmfunc_eptp(0);
	GUEST_SYNC_ARGS(1, old, 0, 0, 0);
	GUEST_DONE();
}

static void reader_code(void)
{
	GUEST_SYNC_ARGS(1, guest_read64(S_GPA),
			guest_read64(S_GPA + LAST_QWORD), 0, 0);
	GUEST_SYNC_ARGS(2, guest_read64(S_GPA),
			guest_read64(S_GPA + LAST_QWORD), 0, 0);
	GUEST_DONE();
}

int main(void)
{
	struct kvm_vcpu *wvcpu, *rvcpu;
	struct eptgate_view_stats vs;
	struct kvm_vm *vm, *peer;
	int dev, bfd, peer_bfd;
	uint64_t *s_hva;
	struct ucall uc;
	uint32_t view;

	eptgate_require();
	ksft_print_header();
	ksft_set_plan(2);

	vm = vm_create_with_one_vcpu(&wvcpu, writer_code);
	vm_identity_map(vm, WIN_GPA, 1);

	peer = vm_create_with_one_vcpu(&rvcpu, reader_code);
	s_hva = vm_add_ram(peer, S_SLOT, S_GPA, 1);
	eptgate_fill64(s_hva, S_INIT, EPTGATE_PAGE_SIZE);

	dev = eptgate_open();
	bfd = eptgate_bind_vm(dev, vm);
	peer_bfd = eptgate_bind_vm(dev, peer);

	view = eptgate_create_view(bfd);
	TEST_ASSERT(view == 1, "first view of a new binding is %u, expected 1",
		    view);
	eptgate_set_access_slot(bfd, vm, 1, 0, EPTGATE_RWX);
	eptgate_map_window(bfd, 1, WIN_GPA, EPTGATE_PAGE_SIZE, EPTGATE_RW,
			   peer_bfd, S_GPA);
	eptgate_enable(bfd);

	eptgate_run_expect_sync(rvcpu, 1, &uc);
	TEST_ASSERT(uc.args[2] == S_INIT && uc.args[3] == S_INIT,
		    "VM 2 reads 0x%lx / 0x%lx from its page before VM 1 writes, expected 0x%llx",
		    uc.args[2], uc.args[3], S_INIT);

	eptgate_run_expect_sync(wvcpu, 1, &uc);
	TEST_ASSERT(uc.args[2] == S_INIT,
		    "VM 1 reads 0x%lx through the window, expected VM 2's 0x%llx",
		    uc.args[2], S_INIT);
	eptgate_run_expect_done(wvcpu);
	vs = eptgate_view_stats(bfd, 1);
	TEST_ASSERT(vs.fallbacks == 0,
		    "view 1 counted %lu fallbacks: the window write did not go through",
		    (uint64_t)vs.fallbacks);
	TEST_ASSERT(s_hva[0] == PATTERN_0 &&
		    s_hva[LAST_QWORD / 8] == PATTERN_1,
		    "VM 2's page holds 0x%lx / 0x%lx on the host after VM 1's writes, expected 0x%llx / 0x%llx",
		    s_hva[0], s_hva[LAST_QWORD / 8], PATTERN_0, PATTERN_1);
	ksft_test_result_pass("VM 1 reads and writes VM 2's page through an RW window\n");

	eptgate_run_expect_sync(rvcpu, 2, &uc);
	TEST_ASSERT(uc.args[2] == PATTERN_0 && uc.args[3] == PATTERN_1,
		    "VM 2 reads 0x%lx / 0x%lx from its page after VM 1's writes, expected 0x%llx / 0x%llx",
		    uc.args[2], uc.args[3], PATTERN_0, PATTERN_1);
	eptgate_run_expect_done(rvcpu);
	ksft_test_result_pass("VM 2 sees what VM 1 wrote through the window\n");

	close(peer_bfd);
	close(bfd);
	close(dev);
	kvm_vm_free(peer);
	kvm_vm_free(vm);
	ksft_finished();
}
