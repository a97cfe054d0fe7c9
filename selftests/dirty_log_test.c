// SPDX-License-Identifier: GPL-2.0
/*
 * dirty_log_test: dirty logging (KVM_MEM_LOG_DIRTY_PAGES on a memslot, as
 * live migration sets it) turns switching off and tears the views down, so
 * that no guest write escapes the dirty log through a view's own writable
 * leaves; once logging stops, switching can be enabled again.
 *
 * VM 1 has memslot 1 D (D_PAGES pages).  View 1 mirrors memslot 0 RWX and
 * D RW.
 *   stage 1: switching on; the guest writes D page WRITE_PAGE in view 1
 *            (view 1 now has a writable leaf for it) and reads it back;
 *   the host sets KVM_MEM_LOG_DIRTY_PAGES on memslot 1; stage 2 is one
 *   entry (a bare GUEST_SYNC); then, within a few seconds:
 *            GET_VIEW_STATS / SET_ACCESS / MAP_WINDOW / DESTROY_VIEW on
 *            view 1 fail with ENOENT, ENABLE and CREATE_VIEW with EBUSY;
 *   stage 3: VMFUNC(0,1) (and VMFUNC(0,0)) raise #UD, and the guest's write to D page
 *            WRITE_PAGE is in KVM_GET_DIRTY_LOG (alone);
 *   the host clears the flag: ENABLE succeeds, a new view 1 is created
 *   and set up;
 *   stage 4: VMFUNC(0,1) switches again (no #UD) and view 1 maps D;
 *   DISABLE, then logging on again: no entry sees it while switching is
 *   off, yet ENABLE must fail with EBUSY and view 1 be gone;
 *   stage 5: VMFUNC raises #UD and the write is in the dirty log.
 */
#include "eptgate_util.h"

#define D_GPA		0x10000000ULL
#define D_SLOT		1
#define D_PAGES		8
#define WRITE_PAGE	5
#define W_GPA		(D_GPA + WRITE_PAGE * EPTGATE_PAGE_SIZE)

#define PAT_1		0x1111111100000001ULL
#define PAT_3		0x3333333300000003ULL
#define PAT_4		0x4444444400000004ULL
#define PAT_5		0x5555555500000005ULL

/* How long the host waits for the views to be torn down. */
#define TEARDOWN_TIMEOUT_MS	5000

static void guest_code(void)
{
	uint64_t ud, val;

	/* 1: write through view 1. */
	ud = eptgate_guest_ud_count;
	vmfunc_eptp(1);
	guest_write64(W_GPA, PAT_1);
	val = guest_read64(W_GPA);
	vmfunc_eptp(0);
	GUEST_SYNC_ARGS(1, eptgate_guest_ud_count - ud, val, 0, 0);

	/* 2: one entry after the host started dirty logging. */
	GUEST_SYNC(2);

	/* 3: switching is off: #UD, and the write goes through KVM's EPT. */
	ud = eptgate_guest_ud_count;
	vmfunc_eptp(1);
	guest_write64(W_GPA, PAT_3);
	vmfunc_eptp(0);
	GUEST_SYNC_ARGS(3, eptgate_guest_ud_count - ud, 0, 0, 0);

	/* 4: logging stopped, switching enabled again with a new view. */
	ud = eptgate_guest_ud_count;
	vmfunc_eptp(1);
	val = guest_read64(W_GPA);
	guest_write64(W_GPA, PAT_4);
	vmfunc_eptp(0);
	GUEST_SYNC_ARGS(4, eptgate_guest_ud_count - ud, val, 0, 0);

	/* 5: logging started again while switching was disabled. */
	ud = eptgate_guest_ud_count;
	vmfunc_eptp(1);
	guest_write64(W_GPA, PAT_5);
	vmfunc_eptp(0);
	GUEST_SYNC_ARGS(5, eptgate_guest_ud_count - ud, 0, 0, 0);
	GUEST_DONE();
}

static void set_up_view(int bfd, struct kvm_vm *vm)
{
	uint32_t view = eptgate_create_view(bfd);

	TEST_ASSERT(view == 1, "CREATE_VIEW returned view %u, expected 1",
		    view);
	eptgate_set_access_slot(bfd, vm, 1, 0, EPTGATE_RWX);
	eptgate_set_access_slot(bfd, vm, 1, D_SLOT, EPTGATE_RW);
}

static void expect_errno(int r, int err, const char *what)
{
	TEST_ASSERT(r == -err,
		    "dirty logging on: %s returned %d (%s), expected -%s",
		    what, r, r < 0 ? strerror(-r) : "success",
		    err == ENOENT ? "ENOENT" : "EBUSY");
}

int main(void)
{
	unsigned long bitmap[(D_PAGES + 63) / 64];
	struct eptgate_view_stats vs;
	struct kvm_vcpu *vcpu;
	struct kvm_vm *vm;
	int dev, bfd, r, waited, i;
	uint64_t *d_hva;
	struct ucall uc;

	eptgate_require();
	ksft_print_header();
	ksft_set_plan(5);

	vm = vm_create_with_one_vcpu(&vcpu, guest_code);
	eptgate_install_ud_handler(vm, vcpu);
	d_hva = vm_add_ram(vm, D_SLOT, D_GPA, D_PAGES);
	/*
	 * Fault D in on the host: lazy fill maps only pages the host has
	 * present (it cannot fault with interrupts off), else the vCPU falls
	 * back to view 0.
	 */
	eptgate_fill64(d_hva, 0, D_PAGES * EPTGATE_PAGE_SIZE);

	dev = eptgate_open();
	bfd = eptgate_bind_vm(dev, vm);
	set_up_view(bfd, vm);
	eptgate_enable(bfd);

	eptgate_run_expect_sync(vcpu, 1, &uc);
	TEST_ASSERT(uc.args[2] == 0 && uc.args[3] == PAT_1,
		    "stage 1: %lu #UD, read back 0x%lx: view 1 did not work before dirty logging",
		    uc.args[2], uc.args[3]);
	vs = eptgate_view_stats(bfd, 1);
	TEST_ASSERT(vs.lazy_fills > 0 && vs.fallbacks == 0,
		    "stage 1: view 1 lazy fills %lu, fallbacks %lu: the write did not go through view 1",
		    (uint64_t)vs.lazy_fills, (uint64_t)vs.fallbacks);
	ksft_test_result_pass("the guest writes D through view 1 before dirty logging\n");

	/* Migration starts: dirty logging on D. */
	vm_mem_region_set_flags(vm, D_SLOT, KVM_MEM_LOG_DIRTY_PAGES);
	eptgate_run_expect_sync(vcpu, 2, &uc);
	for (waited = 0; waited < TEARDOWN_TIMEOUT_MS; waited++) {
		if (__eptgate_view_stats(bfd, 1, &vs) == -ENOENT)
			break;
		eptgate_msleep(1);
	}
	expect_errno(__eptgate_view_stats(bfd, 1, &vs), ENOENT,
		     "GET_VIEW_STATS(view 1) after one entry and 5 s");
	expect_errno(__eptgate_set_access(bfd, 1, D_GPA, EPTGATE_PAGE_SIZE,
					  EPTGATE_RO), ENOENT,
		     "SET_ACCESS(view 1)");
	expect_errno(__eptgate_map_window(bfd, 1, 0x20000000ULL,
					  EPTGATE_PAGE_SIZE, EPTGATE_RO, bfd,
					  D_GPA), ENOENT,
		     "MAP_WINDOW(view 1)");
	expect_errno(__eptgate_unmap_window(bfd, 1, 0x20000000ULL,
					    EPTGATE_PAGE_SIZE), ENOENT,
		     "MAP_WINDOW(UNMAP, view 1)");
	expect_errno(__eptgate_destroy_view(bfd, 1), ENOENT,
		     "DESTROY_VIEW(view 1)");
	expect_errno(__eptgate_enable(bfd), EBUSY, "ENABLE");
	expect_errno(__eptgate_create_view(bfd, 0), EBUSY, "CREATE_VIEW");
	ksft_test_result_pass("dirty logging on: view 1 gone after one entry (%d ms), ENABLE and CREATE_VIEW EBUSY\n",
			      waited);

	/* Nothing written to D since logging started. */
	kvm_vm_get_dirty_log(vm, D_SLOT, bitmap);
	for (i = 0; i < D_PAGES; i++)
		TEST_ASSERT(!test_bit(i, bitmap),
			    "D page %d dirty before the guest wrote to D", i);

	eptgate_run_expect_sync(vcpu, 3, &uc);
	TEST_ASSERT(uc.args[2] == 2,
		    "stage 3: VMFUNC(0,1) and VMFUNC(0,0) raised %lu #UD with dirty logging on, expected 2",
		    uc.args[2]);
	TEST_ASSERT(d_hva[WRITE_PAGE * EPTGATE_PAGE_SIZE / 8] == PAT_3,
		    "stage 3: D page %d holds 0x%lx on the host, expected the guest's 0x%llx",
		    WRITE_PAGE, d_hva[WRITE_PAGE * EPTGATE_PAGE_SIZE / 8], PAT_3);
	kvm_vm_get_dirty_log(vm, D_SLOT, bitmap);
	for (i = 0; i < D_PAGES; i++)
		TEST_ASSERT(test_bit(i, bitmap) == (i == WRITE_PAGE),
			    "stage 3: D page %d is %s in KVM_GET_DIRTY_LOG after the guest wrote page %d",
			    i, test_bit(i, bitmap) ? "dirty" : "clean",
			    WRITE_PAGE);
	ksft_test_result_pass("dirty logging on: VMFUNC(0,1) raises #UD and the guest's write is in the dirty log\n");

	/* Migration over (or cancelled): logging off. */
	vm_mem_region_set_flags(vm, D_SLOT, 0);
	r = __eptgate_enable(bfd);
	TEST_ASSERT(!r, "ENABLE after dirty logging stopped returned %d (%s), expected success",
		    r, strerror(-r));
	set_up_view(bfd, vm);

	eptgate_run_expect_sync(vcpu, 4, &uc);
	TEST_ASSERT(uc.args[2] == 0 && uc.args[3] == PAT_3,
		    "stage 4: %lu #UD, view 1 reads 0x%lx, expected no #UD and 0x%llx",
		    uc.args[2], uc.args[3], PAT_3);
	vs = eptgate_view_stats(bfd, 1);
	TEST_ASSERT(vs.lazy_fills > 0 && vs.fallbacks == 0,
		    "stage 4: new view 1 lazy fills %lu, fallbacks %lu: the guest did not use it",
		    (uint64_t)vs.lazy_fills, (uint64_t)vs.fallbacks);
	TEST_ASSERT(d_hva[WRITE_PAGE * EPTGATE_PAGE_SIZE / 8] == PAT_4,
		    "stage 4: D page %d holds 0x%lx, expected 0x%llx",
		    WRITE_PAGE, d_hva[WRITE_PAGE * EPTGATE_PAGE_SIZE / 8], PAT_4);
	ksft_test_result_pass("dirty logging off: ENABLE works, a new view 1 switches again\n");

	/*
	 * Logging starts while switching is off (no entry sees it): ENABLE
	 * must refuse and the view must go, or the write escapes the log.
	 */
	eptgate_disable(bfd);
	vm_mem_region_set_flags(vm, D_SLOT, KVM_MEM_LOG_DIRTY_PAGES);
	expect_errno(__eptgate_enable(bfd), EBUSY,
		     "ENABLE (logging started while switching was disabled)");
	/* The teardown may come from a workqueue, as after stage 2. */
	for (waited = 0; waited < TEARDOWN_TIMEOUT_MS; waited++) {
		if (__eptgate_view_stats(bfd, 1, &vs) == -ENOENT)
			break;
		eptgate_msleep(1);
	}
	expect_errno(__eptgate_view_stats(bfd, 1, &vs), ENOENT,
		     "GET_VIEW_STATS(view 1) 5 s after logging started with switching disabled");
	kvm_vm_get_dirty_log(vm, D_SLOT, bitmap);
	eptgate_run_expect_sync(vcpu, 5, &uc);
	TEST_ASSERT(uc.args[2] == 2,
		    "stage 5: VMFUNC(0,1) and VMFUNC(0,0) raised %lu #UD, expected 2",
		    uc.args[2]);
	kvm_vm_get_dirty_log(vm, D_SLOT, bitmap);
	TEST_ASSERT(test_bit(WRITE_PAGE, bitmap),
		    "stage 5: the guest's write to D page %d is not in KVM_GET_DIRTY_LOG",
		    WRITE_PAGE);
	eptgate_run_expect_done(vcpu);
	ksft_test_result_pass("dirty logging started while switching was off: ENABLE EBUSY, view gone, write logged\n");

	close(bfd);
	close(dev);
	kvm_vm_free(vm);
	ksft_finished();
}
