// SPDX-License-Identifier: GPL-2.0
/*
 * lazy_fill_test: a view maps the guest's RAM lazily, even pages the host
 * has not faulted in yet.  The first access in the view finds no host
 * page; the vCPU stays in the view while KVM faults the page in on its
 * side (a write fault: a new writable page), and the access is retried
 * there (fill_retries) — without leaving the view.  (A *read* of a page
 * never written is the one case that falls back after the retries: the
 * host then maps the shared zero page, which cannot be looked up without
 * sleeping; Documentation/design.rst, known limits.)
 *
 * Which view the guest is in: a probe page, a window onto VM 2 in view 1
 * (PROBE_PEER) over VM 1's own RAM (PROBE_OWN) in view 0.
 */
#include "eptgate_util.h"

#define FRESH_GPA	0x10000000ULL	/* VM 1 memslot 1: never touched */
#define FRESH_SLOT	1
#define PROBE_GPA	0x10200000ULL	/* VM 1 memslot 2: the probe */
#define PROBE_SLOT	2
#define PEER_GPA	0x10000000ULL	/* VM 2 memslot 1 */
#define PEER_SLOT	1

#define PROBE_OWN	0x0000000000000aaaULL
#define PROBE_PEER	0x0000000000000bbbULL
#define WRITTEN		0x5555666677778888ULL

static void guest_code(void)
{
	uint64_t before, read, after;

	vmfunc_eptp(1);
	before = guest_read64(PROBE_GPA);
	guest_write64(FRESH_GPA + 8, WRITTEN);	/* no host page yet */
	read = guest_read64(FRESH_GPA);
	after = guest_read64(PROBE_GPA);
	vmfunc_eptp(0);
	GUEST_SYNC_ARGS(1, before, read, after, guest_read64(FRESH_GPA + 8));
	GUEST_DONE();
}

int main(void)
{
	struct eptgate_view_stats st;
	struct kvm_vm *vm, *peer;
	struct kvm_vcpu *vcpu;
	uint64_t *fresh, *probe, *peer_page;
	int dev, bfd, peer_bfd;
	struct ucall uc;

	eptgate_require();
	ksft_print_header();
	ksft_set_plan(2);

	vm = vm_create_with_one_vcpu(&vcpu, guest_code);
	fresh = vm_add_ram(vm, FRESH_SLOT, FRESH_GPA, 1);
	probe = vm_add_ram(vm, PROBE_SLOT, PROBE_GPA, 1);
	probe[0] = PROBE_OWN;
	peer = vm_create_barebones();
	peer_page = __vm_add_ram(peer, PEER_SLOT, PEER_GPA, 1);
	peer_page[0] = PROBE_PEER;

	dev = eptgate_open();
	bfd = eptgate_bind_vm(dev, vm);
	peer_bfd = eptgate_bind_vm(dev, peer);
	TEST_ASSERT(eptgate_create_view(bfd) == 1, "first view is not 1");
	eptgate_set_access_slot(bfd, vm, 1, 0, EPTGATE_RWX);
	eptgate_set_access(bfd, 1, FRESH_GPA, EPTGATE_PAGE_SIZE, EPTGATE_RW);
	eptgate_map_window(bfd, 1, PROBE_GPA, EPTGATE_PAGE_SIZE, EPTGATE_RO,
			   peer_bfd, PEER_GPA);
	eptgate_enable(bfd);

	eptgate_run_expect_sync(vcpu, 1, &uc);
	st = eptgate_view_stats(bfd, 1);
	ksft_print_msg("view 1: EPT violations %llu, lazy fills %llu, fill retries %llu, fallbacks %llu\n",
		       st.ept_violations, st.lazy_fills, st.fill_retries,
		       st.fallbacks);
	TEST_ASSERT(uc.args[2] == PROBE_PEER && uc.args[4] == PROBE_PEER,
		    "probe read 0x%lx before and 0x%lx after the fresh page's accesses, expected 0x%llx (view 1) both times: the vCPU left the view",
		    uc.args[2], uc.args[4], PROBE_PEER);
	TEST_ASSERT(st.fallbacks == 0,
		    "view 1 counted %llu fallbacks for accesses it allows",
		    st.fallbacks);
	TEST_ASSERT(st.fill_retries >= 1,
		    "view 1 counted no fill retry although the page had no host page at the first access");
	TEST_ASSERT(uc.args[3] == 0,
		    "the rest of the new page reads 0x%lx in view 1, expected 0",
		    uc.args[3]);
	ksft_test_result_pass("a page with no host page yet is filled in the view after KVM's own fault (%llu retries), no fallback\n",
			      st.fill_retries);

	TEST_ASSERT(fresh[1] == WRITTEN && uc.args[5] == WRITTEN,
		    "the write in view 1 reads 0x%lx on the host and 0x%lx in view 0, expected 0x%llx: it did not reach the page KVM maps",
		    fresh[1], uc.args[5], WRITTEN);
	ksft_test_result_pass("the write in the view lands in the page KVM faulted in, seen by the host and in view 0\n");
	eptgate_run_expect_done(vcpu);

	close(bfd);
	close(peer_bfd);
	close(dev);
	kvm_vm_free(vm);
	kvm_vm_free(peer);
	ksft_finished();
}
