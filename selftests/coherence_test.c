// SPDX-License-Identifier: GPL-2.0
/*
 * coherence_test: a view that mirrors a guest page follows the host when
 * the page behind it changes: after madvise(MADV_DONTNEED) of the page's
 * host mapping (MMU notifier), and after its memslot is deleted and added
 * again with other memory at the same gpa (memslot generation), the guest
 * reads the same, new, data in view 1 and in view 0.
 *
 * VM 1 has page P (memslot 1, alone) and page M (memslot 2, M_OWN).  View
 * 1 mirrors memslot 0 RWX and P RW, and maps a window onto a page of VM 2
 * holding M_PEER at M: the value read at M tells which view the guest
 * really was in (a view paused by a memslot change still "switches", but
 * to KVM's EPT).  Every guest round: VMFUNC(0,1), read M and P, VMFUNC(0,0),
 * read P.
 *
 *   1. P = PAT_A: view 1 reads PAT_A (lazy fill takes a reference on P);
 *   2. madvise(P, MADV_DONTNEED): view 1's leaf is zapped (zaps +1,
 *      pages_ref -1); the host writes PAT_B into the fresh page: both views
 *      read PAT_B, and view 1 filled P again;
 *   3. memslot 1 deleted and added again at the same gpa with a new host
 *      page holding PAT_C; the old page stays mapped (no MMU notifier
 *      event): by the next entry the views are revalidated (every own-RAM
 *      leaf zapped exactly once, pages_ref back to the baseline), then both
 *      views read PAT_C.  Without the notifier or the revalidation, view 1 would keep
 *      reading the old page (PAT_A, PAT_B);
 *   5. the same with switching disabled around the memslot change (when
 *      the hook does not watch memslots): after ENABLE both views read
 *      the new page's PAT_D, not the PAT_C page view 1 mapped before.
 */
#include <sys/mman.h>

#include "eptgate_util.h"

#define P_GPA		0x10000000ULL
#define P_SLOT		1
#define M_GPA		0x10200000ULL
#define M_SLOT		2
#define PEER_GPA	0x10000000ULL
#define PEER_SLOT	1

#define PAT_A		0xaaaaaaaa0000000aULL
#define PAT_B		0xbbbbbbbb0000000bULL
#define PAT_C		0xcccccccc0000000cULL
#define PAT_D		0xdddddddd0000000dULL
#define M_OWN		0x00000000000a0a0aULL
#define M_PEER		0x000000000b0b0b0bULL

/* Rounds of stage 4 the host allows before the views are back. */
#define RESUME_TRIES	2000

/* The same code and stack pages in view 1 every round. */
static void guest_code(void)
{
	uint64_t m, p1, p0, stage;

	for (stage = 1;; stage++) {
		if (stage == 3) {
			/* One entry that sees the new memslots, nothing else. */
			GUEST_SYNC(3);
			continue;
		}
		vmfunc_eptp(1);
		m = guest_read64(M_GPA);
		p1 = guest_read64(P_GPA);
		vmfunc_eptp(0);
		p0 = guest_read64(P_GPA);
		GUEST_SYNC_ARGS(stage < 4 ? stage : 4, m, p1, p0,
				eptgate_guest_ud_count);
	}
}

struct reading {
	uint64_t m, p1, p0;
};

static struct reading run_stage(struct kvm_vcpu *vcpu, uint64_t stage)
{
	struct ucall uc;

	eptgate_run_expect_sync(vcpu, stage, &uc);
	TEST_ASSERT(uc.args[5] == 0,
		    "stage %lu: VMFUNC raised %lu #UD", stage, uc.args[5]);
	return (struct reading){ uc.args[2], uc.args[3], uc.args[4] };
}

static void assert_reading(struct reading r, uint64_t expect,
			   const char *stage)
{
	TEST_ASSERT(r.m == M_PEER,
		    "%s: M reads 0x%lx after VMFUNC(0,1), expected view 1's 0x%llx: not in view 1",
		    stage, r.m, M_PEER);
	TEST_ASSERT(r.p1 == expect && r.p0 == expect,
		    "%s: P reads 0x%lx in view 1 and 0x%lx in view 0, expected 0x%lx in both%s",
		    stage, r.p1, r.p0, expect,
		    r.p1 != expect && r.p0 == expect ? " (view 1 kept the old page)" : "");
}

/*
 * Run rounds until VMFUNC(0,1) really reaches view 1 (views paused by a
 * memslot change come back from a workqueue): P must read @expect in both
 * views in every round.  Returns the number of paused rounds.
 */
static int read_in_both_views(struct kvm_vcpu *vcpu, uint64_t expect,
			      const char *stage)
{
	struct reading r = { 0 };
	int i;

	for (i = 0; i < RESUME_TRIES; i++) {
		r = run_stage(vcpu, 4);
		TEST_ASSERT(r.p1 == expect && r.p0 == expect,
			    "%s, round %d (M 0x%lx): P reads 0x%lx after VMFUNC(0,1) and 0x%lx in view 0, expected 0x%lx in both%s",
			    stage, i, r.m, r.p1, r.p0, expect,
			    r.p1 != expect && r.p0 == expect ? " (view 1 kept the old page)" : "");
		if (r.m == M_PEER)
			break;
		TEST_ASSERT(r.m == M_OWN, "%s: M reads 0x%lx, neither view's value",
			    stage, r.m);
		eptgate_msleep(1);
	}
	assert_reading(r, expect, stage);
	return i;
}

static uint64_t pages_ref(int dev)
{
	return eptgate_get_info(dev).pages_ref;
}

int main(void)
{
	uint64_t ref_base, ref1, ref2, zaps, fills;
	struct eptgate_view_stats vs;
	struct kvm_vm *vm, *peer;
	struct kvm_vcpu *vcpu;
	int dev, bfd, peer_bfd, i;
	uint64_t *p_hva, *p_new, *p_new2;
	struct reading r;

	eptgate_require();
	ksft_print_header();
	ksft_set_plan(4);

	vm = vm_create_with_one_vcpu(&vcpu, guest_code);
	eptgate_install_ud_handler(vm, vcpu);
	p_hva = vm_add_ram(vm, P_SLOT, P_GPA, 1);
	eptgate_fill64(p_hva, PAT_A, EPTGATE_PAGE_SIZE);
	eptgate_fill64(vm_add_ram(vm, M_SLOT, M_GPA, 1), M_OWN,
		       EPTGATE_PAGE_SIZE);

	peer = vm_create_barebones();
	eptgate_fill64(__vm_add_ram(peer, PEER_SLOT, PEER_GPA, 1), M_PEER,
		       EPTGATE_PAGE_SIZE);

	dev = eptgate_open();
	ref_base = pages_ref(dev);
	bfd = eptgate_bind_vm(dev, vm);
	peer_bfd = eptgate_bind_vm(dev, peer);
	TEST_ASSERT(eptgate_create_view(bfd) == 1,
		    "first view of a new binding is not 1");
	eptgate_set_access_slot(bfd, vm, 1, 0, EPTGATE_RWX);
	eptgate_set_access_slot(bfd, vm, 1, P_SLOT, EPTGATE_RW);
	eptgate_map_window(bfd, 1, M_GPA, EPTGATE_PAGE_SIZE, EPTGATE_RO,
			   peer_bfd, PEER_GPA);
	eptgate_enable(bfd);

	/* 1: view 1 maps P on first use. */
	r = run_stage(vcpu, 1);
	assert_reading(r, PAT_A, "stage 1");
	vs = eptgate_view_stats(bfd, 1);
	ref1 = pages_ref(dev);
	TEST_ASSERT(vs.lazy_fills > 0 && ref1 > ref_base,
		    "stage 1: %lu lazy fills, pages_ref %lu (baseline %lu): view 1 did not map P",
		    (uint64_t)vs.lazy_fills, ref1, ref_base);

	/* 2: the host drops P's page and faults in a new one. */
	zaps = vs.zaps;
	fills = vs.lazy_fills;
	TEST_ASSERT(!madvise(p_hva, EPTGATE_PAGE_SIZE, MADV_DONTNEED),
		    "madvise(MADV_DONTNEED) failed, errno: %i (%s)", errno,
		    strerror(errno));
	vs = eptgate_view_stats(bfd, 1);
	TEST_ASSERT(vs.zaps == zaps + 1,
		    "MADV_DONTNEED of P: view 1 zaps %lu -> %lu, expected one more (P's leaf)",
		    zaps, (uint64_t)vs.zaps);
	TEST_ASSERT(pages_ref(dev) == ref1 - 1,
		    "MADV_DONTNEED of P: pages_ref %lu -> %lu, expected one less",
		    ref1, pages_ref(dev));
	TEST_ASSERT(p_hva[0] == 0,
		    "P reads 0x%lx on the host after MADV_DONTNEED, expected a new zero page",
		    p_hva[0]);
	eptgate_fill64(p_hva, PAT_B, EPTGATE_PAGE_SIZE);

	r = run_stage(vcpu, 2);
	assert_reading(r, PAT_B, "stage 2 (after MADV_DONTNEED)");
	vs = eptgate_view_stats(bfd, 1);
	TEST_ASSERT(vs.lazy_fills > fills,
		    "stage 2: lazy fills %lu -> %lu: view 1 did not map P's new page",
		    fills, (uint64_t)vs.lazy_fills);
	TEST_ASSERT(pages_ref(dev) == ref1,
		    "stage 2: pages_ref %lu, expected %lu as after stage 1 (P mapped again)",
		    pages_ref(dev), ref1);
	ksft_test_result_pass("after MADV_DONTNEED of P both views read the host's new page\n");

	/*
	 * 3: memslot 1 deleted and added again over a new page; the old page
	 * stays mapped, so only the memslot change can tell view 1.
	 */
	p_new = mmap(NULL, EPTGATE_PAGE_SIZE, PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	TEST_ASSERT(p_new != MAP_FAILED, "mmap failed");
	eptgate_fill64(p_new, PAT_C, EPTGATE_PAGE_SIZE);
	zaps = vs.zaps;
	fills = vs.lazy_fills;
	ref2 = pages_ref(dev);
	vm_set_user_memory_region(vm, P_SLOT, 0, P_GPA, 0, p_hva);
	vm_set_user_memory_region(vm, P_SLOT, 0, P_GPA, EPTGATE_PAGE_SIZE,
				  p_new);
	eptgate_run_expect_sync(vcpu, 3, &(struct ucall){ 0 });
	/*
	 * The revalidation, triggered by the memslot change or at the latest
	 * by this entry, runs from a workqueue: wait for it.
	 */
	for (i = 0; i < 5000 && pages_ref(dev) != ref_base; i++)
		eptgate_msleep(1);
	vs = eptgate_view_stats(bfd, 1);
	TEST_ASSERT(pages_ref(dev) == ref_base,
		    "memslot change: pages_ref %lu 5 s after the next entry, expected the baseline %lu (every own-RAM leaf dropped)",
		    pages_ref(dev), ref_base);
	TEST_ASSERT(vs.zaps - zaps == ref2 - ref_base,
		    "memslot change: view 1 zapped %lu leaves, expected all %lu own-RAM leaves",
		    (uint64_t)(vs.zaps - zaps), ref2 - ref_base);
	ksft_test_result_pass("memslot change: view 1's own-RAM leaves dropped by the next entry (%lu zaps)\n",
			      (uint64_t)(vs.zaps - zaps));

	/*
	 * 4: until the views are back, VMFUNC(0,1) stays in view 0 (M reads
	 * M_OWN); P must read PAT_C either way.
	 */
	i = read_in_both_views(vcpu, PAT_C,
			       "stage 4 (after deleting and re-adding P's memslot)");
	vs = eptgate_view_stats(bfd, 1);
	TEST_ASSERT(vs.lazy_fills > fills && pages_ref(dev) > ref_base,
		    "stage 4: lazy fills %lu -> %lu, pages_ref %lu: view 1 did not map the new P",
		    fills, (uint64_t)vs.lazy_fills, pages_ref(dev));
	ksft_test_result_pass("after deleting and re-adding P's memslot both views read the new memory (%d paused rounds)\n",
			      i);

	/*
	 * 5: the same while switching is off (the hook does not watch the
	 * memslots then): DISABLE, memslot 1 over a third page holding PAT_D
	 * (the PAT_C page stays mapped), ENABLE: both views read PAT_D.
	 */
	p_new2 = mmap(NULL, EPTGATE_PAGE_SIZE, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	TEST_ASSERT(p_new2 != MAP_FAILED, "mmap failed");
	eptgate_fill64(p_new2, PAT_D, EPTGATE_PAGE_SIZE);
	eptgate_disable(bfd);
	vm_set_user_memory_region(vm, P_SLOT, 0, P_GPA, 0, p_new);
	vm_set_user_memory_region(vm, P_SLOT, 0, P_GPA, EPTGATE_PAGE_SIZE,
				  p_new2);
	eptgate_enable(bfd);
	i = read_in_both_views(vcpu, PAT_D,
			       "stage 5 (P's memslot changed while switching was disabled)");
	ksft_test_result_pass("P's memslot changed while switching was off: both views read the new memory after ENABLE (%d paused rounds)\n",
			      i);

	close(peer_bfd);
	close(bfd);
	TEST_ASSERT(pages_ref(dev) == ref_base,
		    "pages_ref %lu after closing the bindings, expected %lu",
		    pages_ref(dev), ref_base);
	close(dev);
	kvm_vm_free(peer);
	kvm_vm_free(vm);
	munmap(p_new, EPTGATE_PAGE_SIZE);
	munmap(p_new2, EPTGATE_PAGE_SIZE);
	ksft_finished();
}
