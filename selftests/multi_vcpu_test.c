// SPDX-License-Identifier: GPL-2.0
/*
 * multi_vcpu_test: the current view is per vCPU.  vCPUs of one VM sit in
 * different views at the same time and each reads its own view's memory.
 *
 * VM 1 has NR_VCPUS vCPUs, run from separate threads, and views 1 and 2,
 * both mirroring memslot 0 RWX.  A probe page reads PROBE_OWN (VM 1 RAM)
 * in view 0, and a window onto one of two VM 2 pages in views 1 and 2
 * (PROBE_V1, PROBE_V2).  vCPU i switches to view i % 3 and reads the probe,
 * then waits in that view until every vCPU has switched (a counter in
 * memslot 0, which all views share), reads the probe again, waits until
 * all have read, and switches back to view 0.  Each vCPU must read its own
 * view's value both times.
 *
 * The second read follows a spin that may be interrupted by host exits, so
 * the guest repeats VMFUNC(0, view) before it: this test is about views
 * being per vCPU, not about the view surviving exits.
 */
#include <pthread.h>

#include "eptgate_util.h"

#define NR_VCPUS	4
#define NR_VIEWS	3		/* 0, 1, 2 */

#define PROBE_GPA	0x10000000ULL
#define PROBE_SLOT	1
#define PEER_GPA	0x10000000ULL	/* VM 2 memslot 1, 2 pages */
#define PEER_SLOT	1

#define PROBE_OWN	0x0000000000001000ULL
#define PROBE_V1	0x0000000000001001ULL
#define PROBE_V2	0x0000000000001002ULL

/* Bound on guest spin iterations before declaring a lost vCPU. */
#define SPIN_MAX	(1ULL << 28)

static const uint64_t probe_value[NR_VIEWS] = {
	PROBE_OWN, PROBE_V1, PROBE_V2,
};

/* Guest memory (memslot 0, mirrored RWX in every view). */
static volatile uint64_t arrived;
static volatile uint64_t departed;

static void guest_wait_all(volatile uint64_t *counter, uint64_t idx)
{
	uint64_t spins = 0;

	__atomic_add_fetch(counter, 1, __ATOMIC_SEQ_CST);
	while (__atomic_load_n(counter, __ATOMIC_SEQ_CST) < NR_VCPUS) {
		asm volatile("pause" ::: "memory");
		GUEST_ASSERT_2(++spins < SPIN_MAX, idx, *counter);
	}
}

static void guest_code(uint64_t idx)
{
	uint32_t view = idx % NR_VIEWS;
	uint64_t first, second;

	vmfunc_eptp(view);
	first = guest_read64(PROBE_GPA);
	guest_wait_all(&arrived, idx);

	vmfunc_eptp(view);
	second = guest_read64(PROBE_GPA);
	guest_wait_all(&departed, idx);

	vmfunc_eptp(0);
	GUEST_SYNC_ARGS(1, idx, view, first, second);
	GUEST_DONE();
}

struct vcpu_thread {
	pthread_t thread;
	struct kvm_vcpu *vcpu;
	struct ucall uc;
};

static void *vcpu_thread_fn(void *arg)
{
	struct vcpu_thread *t = arg;

	eptgate_run_expect_sync(t->vcpu, 1, &t->uc);
	eptgate_run_expect_done(t->vcpu);
	return NULL;
}

int main(void)
{
	struct vcpu_thread threads[NR_VCPUS];
	struct kvm_vcpu *vcpus[NR_VCPUS];
	struct kvm_vm *vm, *peer;
	int dev, bfd, peer_bfd;
	uint64_t *peer_hva;
	uint32_t v;
	int i, r;

	eptgate_require();
	ksft_print_header();
	ksft_set_plan(2);

	vm = vm_create_with_vcpus(NR_VCPUS, guest_code, vcpus);
	for (i = 0; i < NR_VCPUS; i++)
		vcpu_args_set(vcpus[i], 1, (uint64_t)i);
	eptgate_fill64(vm_add_ram(vm, PROBE_SLOT, PROBE_GPA, 1), PROBE_OWN,
		       EPTGATE_PAGE_SIZE);

	peer = vm_create_barebones();
	peer_hva = __vm_add_ram(peer, PEER_SLOT, PEER_GPA, 2);
	eptgate_fill64(peer_hva, PROBE_V1, EPTGATE_PAGE_SIZE);
	eptgate_fill64(peer_hva + EPTGATE_PAGE_SIZE / 8, PROBE_V2,
		       EPTGATE_PAGE_SIZE);

	dev = eptgate_open();
	bfd = eptgate_bind_vm(dev, vm);
	peer_bfd = eptgate_bind_vm(dev, peer);

	for (v = 1; v < NR_VIEWS; v++) {
		uint32_t id = eptgate_create_view(bfd);

		TEST_ASSERT(id == v, "view %u of a new binding got id %u", v, id);
		eptgate_set_access_slot(bfd, vm, v, 0, EPTGATE_RWX);
		eptgate_map_window(bfd, v, PROBE_GPA, EPTGATE_PAGE_SIZE,
				   EPTGATE_RO, peer_bfd,
				   PEER_GPA + (v - 1) * EPTGATE_PAGE_SIZE);
	}
	eptgate_enable(bfd);

	for (i = 0; i < NR_VCPUS; i++) {
		threads[i].vcpu = vcpus[i];
		r = pthread_create(&threads[i].thread, NULL, vcpu_thread_fn,
				   &threads[i]);
		TEST_ASSERT(!r, "pthread_create for vCPU %d: %s", i, strerror(r));
	}
	for (i = 0; i < NR_VCPUS; i++) {
		r = pthread_join(threads[i].thread, NULL);
		TEST_ASSERT(!r, "pthread_join for vCPU %d: %s", i, strerror(r));
	}

	for (i = 0; i < NR_VCPUS; i++) {
		struct ucall *uc = &threads[i].uc;
		uint64_t view = i % NR_VIEWS;

		TEST_ASSERT(uc->args[2] == (uint64_t)i && uc->args[3] == view,
			    "vCPU %d reported index %lu view %lu, expected %d / %lu",
			    i, uc->args[2], uc->args[3], i, view);
		TEST_ASSERT(uc->args[4] == probe_value[view],
			    "vCPU %d in view %lu read 0x%lx from the probe, expected 0x%lx",
			    i, view, uc->args[4], probe_value[view]);
		TEST_ASSERT(uc->args[5] == probe_value[view],
			    "vCPU %d in view %lu read 0x%lx from the probe while all vCPUs were in their views, expected 0x%lx",
			    i, view, uc->args[5], probe_value[view]);
	}
	ksft_test_result_pass("%d vCPUs in views 0/1/2 concurrently each read their own view's probe value\n",
			      NR_VCPUS);

	for (i = 0; i < NR_VCPUS; i++) {
		struct eptgate_vcpu_stats cs = eptgate_vcpu_stats(bfd, i);

		TEST_ASSERT(cs.entries > 0 && cs.exits > 0,
			    "vCPU %d: hook saw %lu entries / %lu exits, expected > 0",
			    i, (uint64_t)cs.entries, (uint64_t)cs.exits);
		TEST_ASSERT(cs.view == 0,
			    "vCPU %d: last exit in view %u, expected 0", i, cs.view);
	}
	ksft_test_result_pass("per-vCPU stats: every vCPU entered through the hook and ended in view 0\n");

	close(peer_bfd);
	close(bfd);
	close(dev);
	kvm_vm_free(peer);
	kvm_vm_free(vm);
	ksft_finished();
}
