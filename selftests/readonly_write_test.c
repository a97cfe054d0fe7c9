// SPDX-License-Identifier: GPL-2.0
/*
 * readonly_write_test: a write to a page that is read-only in the current
 * view puts the vCPU back into the default view and re-executes there.
 *
 * Case 1, own RAM: view 1 mirrors VM 1's memslot 0 RWX and its data page D
 * R only.  After VMFUNC(0, 1) the guest writes D: the write must land in D
 * (re-executed in view 0), view 1's "fallbacks" must grow, and the guest
 * must then be in view 0.  A probe page tells the views apart: VM 1 RAM
 * holding PROBE_OWN in view 0, a window onto a VM 2 page holding PROBE_PEER
 * in view 1.
 *
 * Case 2, window: view 1 also maps a VM 2 page R only at W_GPA, where VM 1
 * has no memory.  The guest's write there falls back to view 0, which has
 * nothing at W_GPA, so KVM_RUN returns KVM_EXIT_MMIO for W_GPA, and the
 * VM 2 page is unchanged.
 */
#include "eptgate_util.h"

#define PROBE_GPA	0x10000000ULL	/* VM 1 memslot 1 / window in view 1 */
#define PROBE_SLOT	1
#define D_GPA		0x10002000ULL	/* VM 1 memslot 2, R only in view 1 */
#define D_SLOT		2
#define W_GPA		0x20000000ULL	/* not RAM in VM 1; R-only window */

#define PEER_GPA	0x10000000ULL	/* VM 2 memslot 1, 2 pages */
#define PEER_SLOT	1
#define PEER_PROBE_GPA	(PEER_GPA)
#define PEER_W_GPA	(PEER_GPA + EPTGATE_PAGE_SIZE)

#define PROBE_OWN	0x0000000000000a11ULL
#define PROBE_PEER	0x00000000000b0b22ULL
#define D_OLD		0xd0d0d0d0d0d0d0d0ULL
#define D_NEW		0x1234567812345678ULL
#define W_PATTERN	0xc3c3c3c3c3c3c3c3ULL
#define W_NEW		0x5a5a5a5a00000001ULL

static void guest_code(void)
{
	uint64_t before, after, wval;

	GUEST_SYNC(0);

	/* Case 1: own RAM, read-only in view 1. */
	vmfunc_eptp(1);
	before = guest_read64(PROBE_GPA);
	guest_write64(D_GPA, D_NEW);
	after = guest_read64(PROBE_GPA);
	GUEST_SYNC_ARGS(1, before, after, guest_read64(D_GPA), 0);

	/* Case 2: read-only window. */
	vmfunc_eptp(1);
	before = guest_read64(PROBE_GPA);
	wval = guest_read64(W_GPA);
	guest_write64(W_GPA, W_NEW);		/* -> KVM_EXIT_MMIO */
	after = guest_read64(PROBE_GPA);
	GUEST_SYNC_ARGS(2, before, after, wval, 0);

	GUEST_DONE();
}

static void check_page(const uint64_t *p, uint64_t pattern, const char *what)
{
	uint64_t i;

	for (i = 0; i < EPTGATE_PAGE_SIZE / sizeof(*p); i++)
		TEST_ASSERT(p[i] == pattern,
			    "%s: qword %lu is 0x%lx, expected 0x%lx (unchanged)",
			    what, i, p[i], pattern);
}

int main(void)
{
	struct eptgate_view_stats vs0, vs1, vs2;
	struct eptgate_vcpu_stats cs;
	uint64_t *d_hva, *peer_hva;
	struct kvm_vm *vm, *peer;
	struct kvm_vcpu *vcpu;
	struct kvm_run *run;
	int dev, bfd, peer_bfd;
	struct ucall uc;
	uint32_t view;

	eptgate_require();
	ksft_print_header();
	ksft_set_plan(2);

	vm = vm_create_with_one_vcpu(&vcpu, guest_code);
	run = vcpu->run;
	eptgate_fill64(vm_add_ram(vm, PROBE_SLOT, PROBE_GPA, 1), PROBE_OWN,
		       EPTGATE_PAGE_SIZE);
	d_hva = vm_add_ram(vm, D_SLOT, D_GPA, 1);
	eptgate_fill64(d_hva, D_OLD, EPTGATE_PAGE_SIZE);
	vm_identity_map(vm, W_GPA, 1);

	peer = vm_create_barebones();
	peer_hva = __vm_add_ram(peer, PEER_SLOT, PEER_GPA, 2);
	eptgate_fill64(peer_hva, PROBE_PEER, EPTGATE_PAGE_SIZE);
	eptgate_fill64(peer_hva + EPTGATE_PAGE_SIZE / 8, W_PATTERN,
		       EPTGATE_PAGE_SIZE);

	dev = eptgate_open();
	bfd = eptgate_bind_vm(dev, vm);
	peer_bfd = eptgate_bind_vm(dev, peer);

	view = eptgate_create_view(bfd);
	TEST_ASSERT(view == 1, "first view of a new binding is %u, expected 1",
		    view);
	eptgate_set_access_slot(bfd, vm, 1, 0, EPTGATE_RWX);
	eptgate_set_access_slot(bfd, vm, 1, D_SLOT, EPTGATE_RO);
	eptgate_map_window(bfd, 1, PROBE_GPA, EPTGATE_PAGE_SIZE, EPTGATE_RO,
			   peer_bfd, PEER_PROBE_GPA);
	eptgate_map_window(bfd, 1, W_GPA, EPTGATE_PAGE_SIZE, EPTGATE_RO,
			   peer_bfd, PEER_W_GPA);
	eptgate_enable(bfd);

	eptgate_run_expect_sync(vcpu, 0, &uc);
	vs0 = eptgate_view_stats(bfd, 1);

	/* Case 1 */
	eptgate_run_expect_sync(vcpu, 1, &uc);
	vs1 = eptgate_view_stats(bfd, 1);
	cs = eptgate_vcpu_stats(bfd, 0);
	TEST_ASSERT(uc.args[2] == PROBE_PEER,
		    "case 1: probe read 0x%lx after VMFUNC(0,1), expected view 1's 0x%llx: the guest never reached view 1",
		    uc.args[2], PROBE_PEER);
	TEST_ASSERT(uc.args[3] == PROBE_OWN,
		    "case 1: probe read 0x%lx after the write to read-only D, expected view 0's 0x%llx: no fallback to the default view",
		    uc.args[3], PROBE_OWN);
	TEST_ASSERT(d_hva[0] == D_NEW,
		    "case 1: D holds 0x%lx on the host, expected the guest's write 0x%llx",
		    d_hva[0], D_NEW);
	TEST_ASSERT(uc.args[4] == D_NEW,
		    "case 1: guest reads D back as 0x%lx, expected 0x%llx",
		    uc.args[4], D_NEW);
	TEST_ASSERT(vs1.fallbacks > vs0.fallbacks,
		    "case 1: view 1 fallbacks %lu -> %lu, expected an increment",
		    (uint64_t)vs0.fallbacks, (uint64_t)vs1.fallbacks);
	TEST_ASSERT(cs.view == 0,
		    "case 1: vCPU stats say the last exit was in view %u, expected 0",
		    cs.view);
	ksft_test_result_pass("write to an R-only own page in view 1 falls back to view 0 and lands (fallbacks +%lu)\n",
			      (uint64_t)(vs1.fallbacks - vs0.fallbacks));

	/* Case 2 */
	vcpu_run(vcpu);
	TEST_ASSERT(run->exit_reason == KVM_EXIT_MMIO,
		    "case 2: exit reason %u (%s) after writing an R-only window page, expected KVM_EXIT_MMIO",
		    run->exit_reason, exit_reason_str(run->exit_reason));
	TEST_ASSERT(run->mmio.phys_addr == W_GPA && run->mmio.is_write &&
		    run->mmio.len == 8,
		    "case 2: MMIO exit at gpa 0x%llx len %u is_write %u, expected an 8-byte write at 0x%llx",
		    (unsigned long long)run->mmio.phys_addr, run->mmio.len,
		    run->mmio.is_write, W_GPA);
	TEST_ASSERT(!memcmp(run->mmio.data, &(uint64_t){ W_NEW }, 8),
		    "case 2: MMIO data is not the guest's value 0x%llx", W_NEW);
	check_page(peer_hva + EPTGATE_PAGE_SIZE / 8, W_PATTERN,
		   "case 2: VM 2's page behind the R-only window");
	vs2 = eptgate_view_stats(bfd, 1);
	TEST_ASSERT(vs2.fallbacks > vs1.fallbacks,
		    "case 2: view 1 fallbacks %lu -> %lu, expected an increment",
		    (uint64_t)vs1.fallbacks, (uint64_t)vs2.fallbacks);

	/* Complete the (discarded) MMIO write; the guest goes on in view 0. */
	eptgate_run_expect_sync(vcpu, 2, &uc);
	TEST_ASSERT(uc.args[2] == PROBE_PEER,
		    "case 2: probe read 0x%lx after VMFUNC(0,1), expected view 1's 0x%llx",
		    uc.args[2], PROBE_PEER);
	TEST_ASSERT(uc.args[4] == W_PATTERN,
		    "case 2: window read 0x%lx in view 1, expected VM 2's 0x%llx",
		    uc.args[4], W_PATTERN);
	TEST_ASSERT(uc.args[3] == PROBE_OWN,
		    "case 2: probe read 0x%lx after the MMIO exit, expected view 0's 0x%llx",
		    uc.args[3], PROBE_OWN);
	check_page(peer_hva + EPTGATE_PAGE_SIZE / 8, W_PATTERN,
		   "case 2 (after resuming): VM 2's page behind the R-only window");
	eptgate_run_expect_done(vcpu);
	ksft_test_result_pass("write to an R-only window page falls back: KVM_EXIT_MMIO at 0x%llx, peer page unchanged\n",
			      W_GPA);

	close(peer_bfd);
	close(bfd);
	close(dev);
	kvm_vm_free(peer);
	kvm_vm_free(vm);
	ksft_finished();
}
