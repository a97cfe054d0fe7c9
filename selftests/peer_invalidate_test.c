// SPDX-License-Identifier: GPL-2.0
/*
 * peer_invalidate_test: a window follows the peer's host memory.
 *
 * VM 2 (the peer) has two RAM pages S0, S1 (memslot 1); each holds a
 * marker in its second qword.  VM 1 has two pages of its own at WIN_GPA
 * (memslot 1, "shadow", SHADOW in every qword) and view 1 maps a window
 * onto a grant of S0, S1 over them.  Every guest round: VMFUNC(0,1), read
 * both markers through the window, write the round's pattern into the
 * first qword of both pages, VMFUNC(0,0).  Between rounds the host
 * changes VM 2's memory:
 *
 *   1. nothing: VM 1 reads S0's and S1's markers, VM 2 gets the writes;
 *   2. madvise(S0, MADV_DONTNEED), as a balloon does: S0's pin is dropped
 *      at once (pages_pinned - 1); the host writes a new marker into the
 *      new S0; VM 1 reads it through the window and its write lands in
 *      the new S0 (the page was pinned again, in the view: no fallback,
 *      VM 1's shadow untouched);
 *   3. munmap(S0): the pin is dropped; the page cannot come back, so VM 1
 *      falls back to its default view after its retries (fallbacks + 1)
 *      and reads and writes its own shadow; then S0 is mapped again
 *      (MAP_FIXED, a new marker);
 *   4. VM 1 reads the new marker and writes the new S0, in the view;
 *   5. dirty logging on VM 2's memslot 1: every window leaf goes before
 *      KVM_SET_USER_MEMORY_REGION returns and the pins are dropped; VM 1
 *      falls back, VM 2's pages keep their old contents: no write bypasses
 *      the dirty log;
 *   6. dirty logging off: VM 1 shares S0 and S1 with VM 2 again;
 *   7. VM 2's memslot 1 deleted and added again over new host memory: the
 *      old pins go, and VM 1 shares the new pages, in the view.
 *
 * At the end every pin, reference and binding is gone.
 */
#include <sys/mman.h>

#include "eptgate_util.h"

#define S_GPA		0x10000000ULL	/* VM 2, memslot 1 */
#define S_SLOT		1
#define WIN_GPA		0x20000000ULL	/* VM 1, memslot 1: the shadow */
#define WIN_SLOT	1
#define PAGES		2
#define PAGE_Q		(EPTGATE_PAGE_SIZE / 8)

#define SHADOW		0x5a5a5a5a5a5a5a5aULL
#define MARK(n)		(0x4d4d000000000000ULL | (n))
#define PAT(stage)	(0x5000000000000000ULL | (stage))

/* How long the pins may take to go after a memslot change (a worker). */
#define UNPIN_WAIT_MS	5000

static void writer_code(void)
{
	uint64_t stage, m0, m1;

	for (stage = 1;; stage++) {
		vmfunc_eptp(1);
		m0 = guest_read64(WIN_GPA + 8);
		m1 = guest_read64(WIN_GPA + EPTGATE_PAGE_SIZE + 8);
		guest_write64(WIN_GPA, PAT(stage));
		guest_write64(WIN_GPA + EPTGATE_PAGE_SIZE, PAT(stage));
		vmfunc_eptp(0);
		GUEST_SYNC_ARGS(stage, m0, m1, eptgate_guest_ud_count, 0);
	}
}

struct test {
	struct kvm_vm *vm, *peer;
	struct kvm_vcpu *vcpu, *pvcpu;
	uint64_t *s, *shadow;
	int dev, bfd, pbfd, gfd;
	uint64_t fallbacks;	/* view 1's, after the last round */
};

static uint64_t pinned(struct test *t)
{
	return eptgate_get_info(t->dev).pages_pinned;
}

/* One guest round: the markers it read, in view 1 or after a fallback. */
static void run_round(struct test *t, uint64_t stage, uint64_t expect_m0,
		      uint64_t expect_m1, bool expect_fallback)
{
	struct eptgate_view_stats vs;
	struct ucall uc;

	eptgate_run_expect_sync(t->vcpu, stage, &uc);
	TEST_ASSERT(uc.args[4] == 0, "round %lu: VMFUNC raised %lu #UD",
		    stage, uc.args[4]);
	vs = eptgate_view_stats(t->bfd, 1);
	TEST_ASSERT(vs.fallbacks == t->fallbacks + expect_fallback,
		    "round %lu: view 1 counted %lu fallbacks, expected %lu%s",
		    stage, (uint64_t)vs.fallbacks,
		    t->fallbacks + expect_fallback,
		    expect_fallback ? "" :
		    " (the window page did not come back in the view)");
	t->fallbacks = vs.fallbacks;
	TEST_ASSERT(uc.args[2] == expect_m0 && uc.args[3] == expect_m1,
		    "round %lu: VM 1 read 0x%lx / 0x%lx through the window, expected 0x%lx / 0x%lx",
		    stage, uc.args[2], uc.args[3], expect_m0, expect_m1);
}

static void assert_peer(struct test *t, uint64_t stage, uint64_t s0,
			uint64_t s1)
{
	TEST_ASSERT(t->s[0] == s0 && t->s[PAGE_Q] == s1,
		    "after round %lu: VM 2's pages hold 0x%lx / 0x%lx, expected 0x%lx / 0x%lx",
		    stage, t->s[0], t->s[PAGE_Q], s0, s1);
}

static void assert_pinned(struct test *t, uint64_t expect, const char *when)
{
	uint64_t now = pinned(t);

	TEST_ASSERT(now == expect,
		    "%s: %lu peer pages pinned, expected %lu", when, now,
		    expect);
}

/* The pins go from a worker after a memslot change: poll for them. */
static bool wait_pinned(struct test *t, uint64_t expect, unsigned int ms)
{
	unsigned int i;

	for (i = 0; i < ms / 10 && pinned(t) != expect; i++)
		eptgate_msleep(10);
	return pinned(t) == expect;
}

static void setup(struct test *t)
{
	t->vm = vm_create_with_one_vcpu(&t->vcpu, writer_code);
	eptgate_install_ud_handler(t->vm, t->vcpu);
	t->shadow = vm_add_ram(t->vm, WIN_SLOT, WIN_GPA, PAGES);
	eptgate_fill64(t->shadow, SHADOW, PAGES * EPTGATE_PAGE_SIZE);

	t->peer = vm_create_with_one_vcpu(&t->pvcpu, writer_code);
	t->s = __vm_add_ram(t->peer, S_SLOT, S_GPA, PAGES);
	t->s[1] = MARK(0);
	t->s[PAGE_Q + 1] = MARK(1);

	t->dev = eptgate_open();
	t->bfd = eptgate_bind_vm(t->dev, t->vm);
	t->pbfd = eptgate_bind_vm(t->dev, t->peer);
	t->gfd = eptgate_create_grant(t->pbfd, S_GPA,
				      PAGES * EPTGATE_PAGE_SIZE, EPTGATE_RW);
	TEST_ASSERT(eptgate_create_view(t->bfd) == 1, "view 1 expected");
	eptgate_set_access_slot(t->bfd, t->vm, 1, 0, EPTGATE_RWX);
	eptgate_map_window_grant(t->bfd, 1, WIN_GPA, PAGES * EPTGATE_PAGE_SIZE,
				 EPTGATE_RW, t->gfd, S_GPA);
	eptgate_enable(t->bfd);
}

int main(void)
{
	struct eptgate_counters base, now;
	struct test t = { 0 };
	uint64_t p0;

	eptgate_require();
	ksft_print_header();
	ksft_set_plan(6);
	eptgate_read_counters(&base);
	setup(&t);
	p0 = pinned(&t);
	TEST_ASSERT(p0 == PAGES, "%lu pages pinned after MAP_WINDOW, expected %d",
		    p0, PAGES);

	run_round(&t, 1, MARK(0), MARK(1), false);
	assert_peer(&t, 1, PAT(1), PAT(1));
	ksft_test_result_pass("VM 1 shares both pages with VM 2 through the window\n");

	TEST_ASSERT(!madvise(t.s, EPTGATE_PAGE_SIZE, MADV_DONTNEED),
		    "madvise(MADV_DONTNEED) of S0: %s", strerror(errno));
	assert_pinned(&t, p0 - 1, "after MADV_DONTNEED of S0");
	TEST_ASSERT(t.s[0] == 0, "S0 holds 0x%lx after MADV_DONTNEED, expected a new, zeroed page",
		    t.s[0]);
	t.s[1] = MARK(2);
	run_round(&t, 2, MARK(2), MARK(1), false);
	assert_peer(&t, 2, PAT(2), PAT(2));
	TEST_ASSERT(t.shadow[0] == SHADOW,
		    "VM 1's own page at the window holds 0x%lx, expected 0x%llx: the write did not go through the window",
		    t.shadow[0], SHADOW);
	assert_pinned(&t, p0, "after round 2");
	ksft_test_result_pass("MADV_DONTNEED of a peer page: unpinned at once, the new page shared again in the view\n");

	TEST_ASSERT(!munmap(t.s, EPTGATE_PAGE_SIZE), "munmap(S0): %s",
		    strerror(errno));
	assert_pinned(&t, p0 - 1, "after munmap of S0");
	run_round(&t, 3, SHADOW, SHADOW, true);
	TEST_ASSERT(t.shadow[0] == PAT(3) && t.s[PAGE_Q] == PAT(2),
		    "after round 3: VM 1's shadow holds 0x%lx, S1 0x%lx, expected 0x%llx and 0x%llx (writes in the default view)",
		    t.shadow[0], t.s[PAGE_Q], PAT(3), PAT(2));
	TEST_ASSERT(mmap(t.s, EPTGATE_PAGE_SIZE, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) == t.s,
		    "mmap(S0) again: %s", strerror(errno));
	t.s[1] = MARK(4);
	run_round(&t, 4, MARK(4), MARK(1), false);
	assert_peer(&t, 4, PAT(4), PAT(4));
	assert_pinned(&t, p0, "after round 4");
	ksft_test_result_pass("munmap of a peer page: unpinned, VM 1 falls back, and shares the page mapped again\n");

	vm_mem_region_set_flags(t.peer, S_SLOT, KVM_MEM_LOG_DIRTY_PAGES);
	TEST_ASSERT(wait_pinned(&t, p0 - PAGES, UNPIN_WAIT_MS),
		    "dirty logging on VM 2: %lu peer pages still pinned after %d ms, expected %lu",
		    pinned(&t), UNPIN_WAIT_MS, p0 - PAGES);
	run_round(&t, 5, SHADOW, SHADOW, true);
	assert_peer(&t, 5, PAT(4), PAT(4));
	ksft_test_result_pass("dirty logging on the peer: the window's pages go, VM 1 falls back, no write bypasses the log\n");

	vm_mem_region_set_flags(t.peer, S_SLOT, 0);
	run_round(&t, 6, MARK(4), MARK(1), false);
	assert_peer(&t, 6, PAT(6), PAT(6));
	assert_pinned(&t, p0, "after round 6");
	ksft_test_result_pass("dirty logging off: the window shares VM 2's pages again\n");

	vm_mem_region_delete(t.peer, S_SLOT);
	t.s = __vm_add_ram(t.peer, S_SLOT, S_GPA, PAGES);
	t.s[1] = MARK(7);
	t.s[PAGE_Q + 1] = MARK(8);
	TEST_ASSERT(wait_pinned(&t, 0, UNPIN_WAIT_MS),
		    "memslot of VM 2 deleted: %lu peer pages still pinned after %d ms, expected 0",
		    pinned(&t), UNPIN_WAIT_MS);
	run_round(&t, 7, MARK(7), MARK(8), false);
	assert_peer(&t, 7, PAT(7), PAT(7));
	assert_pinned(&t, p0, "after round 7");
	ksft_test_result_pass("memslot deleted and added again over new memory: the old pins go, the window shares the new pages\n");

	close(t.gfd);
	close(t.pbfd);
	close(t.bfd);
	close(t.dev);
	kvm_vm_free(t.peer);
	kvm_vm_free(t.vm);
	if (!eptgate_wait_counters(&base, &now, UNPIN_WAIT_MS))
		eptgate_assert_counters(&base, &now, "after closing everything");
	ksft_finished();
}
