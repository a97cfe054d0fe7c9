// SPDX-License-Identifier: GPL-2.0
/*
 * huge_window_test: a window onto 2 MiB of physically contiguous peer
 * memory (a hugetlb page) is mapped by one 2 MiB EPT leaf; the same window
 * onto ordinary 4 KiB pages by a page table of 4 KiB leaves.  Either way
 * VM 1 reads what VM 2's memory holds at both ends of the window.
 *
 * What tells the leaf size apart: GET_INFO's table_pages.  In a new view
 * (only its PML4), mapping a window at WIN_GPA (1 GiB, 2 MiB aligned)
 * needs a PDPT and a PD, plus a page table for 4 KiB leaves.
 */
#include "eptgate_util.h"

#define WIN_GPA		0x40000000ULL
#define HUGE_GPA	0x10000000ULL	/* VM 2, 2 MiB aligned */
#define HUGE_SLOT	1
#define HPAGE		(2ULL << 20)
#define NPAGES		(HPAGE / EPTGATE_PAGE_SIZE)
#define PAT_LO		0x1122334455667788ULL
#define PAT_HI		0x8877665544332211ULL

static void reader_code(void)
{
	vmfunc_eptp(1);
	GUEST_SYNC_ARGS(1, guest_read64(WIN_GPA),
			guest_read64(WIN_GPA + HPAGE - 8), 0, 0);
	vmfunc_eptp(0);
	GUEST_DONE();
}

static uint64_t table_pages(int dev)
{
	return eptgate_get_info(dev).table_pages;
}

/* Maps the window onto a peer slot of @src; returns the table pages used. */
static uint64_t map_and_read(int dev, enum vm_mem_backing_src_type src,
			     const char *what)
{
	struct kvm_vm *vm, *peer;
	struct kvm_vcpu *vcpu;
	int bfd, peer_bfd;
	uint64_t before, used, *hva;
	struct ucall uc;

	vm = vm_create_with_one_vcpu(&vcpu, reader_code);
	vm_identity_map(vm, WIN_GPA, NPAGES);
	peer = vm_create_barebones();
	vm_userspace_mem_region_add(peer, src, HUGE_GPA, HUGE_SLOT, NPAGES, 0);
	hva = addr_gpa2hva(peer, HUGE_GPA);
	hva[0] = PAT_LO;
	hva[HPAGE / 8 - 1] = PAT_HI;

	bfd = eptgate_bind_vm(dev, vm);
	peer_bfd = eptgate_bind_vm(dev, peer);
	TEST_ASSERT(eptgate_create_view(bfd) == 1, "first view is not 1");
	before = table_pages(dev);
	eptgate_map_window(bfd, 1, WIN_GPA, HPAGE, EPTGATE_RO, peer_bfd,
			   HUGE_GPA);
	used = table_pages(dev) - before;
	eptgate_set_access_slot(bfd, vm, 1, 0, EPTGATE_RWX);
	eptgate_enable(bfd);
	eptgate_run_expect_sync(vcpu, 1, &uc);
	TEST_ASSERT(uc.args[2] == PAT_LO && uc.args[3] == PAT_HI,
		    "%s: VM 1 reads 0x%lx / 0x%lx at the window's ends, expected 0x%llx / 0x%llx",
		    what, uc.args[2], uc.args[3], PAT_LO, PAT_HI);
	eptgate_run_expect_done(vcpu);
	close(bfd);
	close(peer_bfd);
	kvm_vm_free(vm);
	kvm_vm_free(peer);
	return used;
}

static void reserve_hugepages(void)
{
	FILE *f = fopen("/proc/sys/vm/nr_hugepages", "w");

	TEST_ASSERT(f, "cannot open /proc/sys/vm/nr_hugepages: %s",
		    strerror(errno));
	fprintf(f, "4\n");
	fclose(f);
}

int main(void)
{
	uint64_t used;
	int dev;

	eptgate_require();
	ksft_print_header();
	dev = eptgate_open();
	if (!(eptgate_get_info(dev).caps & EPTGATE_CAP_EPT_2M)) {
		ksft_exit_skip("CPU has no 2 MiB EPT pages\n");
	}
	ksft_set_plan(2);
	reserve_hugepages();

	used = map_and_read(dev, VM_MEM_SRC_ANONYMOUS_HUGETLB, "hugetlb peer");
	TEST_ASSERT(used == 2,
		    "hugetlb peer: the window took %lu table pages, expected 2 (PDPT, PD: one 2 MiB leaf)",
		    used);
	ksft_test_result_pass("a window onto a 2 MiB hugetlb page is one 2 MiB leaf, VM 1 reads both ends\n");

	used = map_and_read(dev, VM_MEM_SRC_ANONYMOUS, "4 KiB peer");
	TEST_ASSERT(used == 3,
		    "4 KiB peer: the window took %lu table pages, expected 3 (PDPT, PD, PT of 4 KiB leaves)",
		    used);
	ksft_test_result_pass("a window onto 4 KiB pages is a page table of 4 KiB leaves, VM 1 reads both ends\n");
	close(dev);
	ksft_finished();
}
