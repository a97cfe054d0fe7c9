// SPDX-License-Identifier: GPL-2.0
/*
 * release_halted_test: a binding released while its vCPU sits halted in
 * KVM_RUN.
 *
 * The hook leaves a vCPU's VMCS armed (VMFUNC on, the EPTP list at
 * eptgate's page) across exits while switching is on.  Release disarms
 * every vCPU it can reach -- those in guest mode at their exit, those
 * outside KVM_RUN through vcpu_load() -- but a halted vCPU holds its own
 * mutex in KVM_RUN: its eg_vm becomes a zombie, kept until the vCPU's
 * next entry disarms it before the guest runs.
 *
 * The vCPU switches into view 1 and back (armed), then halts with
 * interrupts off in KVM_RUN on a thread.  The binding is closed: the
 * module must say it kept the VM (kmsg) and still count it.  A signal
 * ends KVM_RUN, KVM_SET_MP_STATE makes the vCPU runnable, and it runs
 * again: VMFUNC(0, 1) must now raise #UD and leave it reading its own
 * RAM, and the zombie must be gone (bindings and table pages back to
 * what the peer alone holds).
 */
#include <pthread.h>
#include <signal.h>
#include "eptgate_util.h"

#define P_GPA		0x10000000ULL
#define P_SLOT		1
#define PATTERN_A	0xaaaa5555aaaa0001ULL
#define PATTERN_B	0xbbbb4444bbbb0002ULL

#define HALT_WAIT_MS	500
#define END_WAIT_MS	5000

static void guest_code(void)
{
	uint64_t in_view1;

	vmfunc_eptp(1);
	in_view1 = guest_read64(P_GPA);
	vmfunc_eptp(0);
	GUEST_SYNC_ARGS(1, in_view1, eptgate_guest_ud_count, 0, 0);
	asm volatile("cli; hlt");
	vmfunc_eptp(1);
	GUEST_SYNC_ARGS(2, guest_read64(P_GPA), eptgate_guest_ud_count, 0, 0);
	GUEST_DONE();
}

static struct kvm_vcpu *halted_vcpu;
static int halted_errno;

static void on_signal(int sig __attribute__((unused)))
{
}

/* KVM_RUN until a signal ends it: the vCPU halts inside. */
static void *run_halted(void *arg __attribute__((unused)))
{
	int r = __vcpu_run(halted_vcpu);

	halted_errno = r < 0 ? errno : 0;
	return NULL;
}

int main(void)
{
	struct kvm_mp_state mp = { .mp_state = KVM_MP_STATE_RUNNABLE };
	struct sigaction sa = { .sa_handler = on_signal };
	struct eptgate_info before, kept, info;
	struct eptgate_probe_vm p;
	unsigned int ms = 0;
	char line[256];
	struct ucall uc;
	pthread_t t;
	int kmsg;

	eptgate_require();
	ksft_print_header();
	ksft_set_plan(3);
	TEST_ASSERT(!sigaction(SIGUSR1, &sa, NULL), "sigaction: %s",
		    strerror(errno));

	eptgate_probe_vm_create(&p, guest_code, P_GPA, P_SLOT, PATTERN_A,
				PATTERN_B, EPTGATE_RWX);
	eptgate_install_ud_handler(p.vm, p.vcpu);
	eptgate_enable(p.bfd);
	eptgate_run_expect_sync(p.vcpu, 1, &uc);
	TEST_ASSERT(uc.args[2] == PATTERN_B && uc.args[3] == 0,
		    "before release: read 0x%lx in view 1 with %lu #UD, expected the peer's 0x%llx and none",
		    uc.args[2], uc.args[3], PATTERN_B);
	before = eptgate_get_info(p.dev);

	halted_vcpu = p.vcpu;
	TEST_ASSERT(!pthread_create(&t, NULL, run_halted, NULL),
		    "pthread_create failed");
	eptgate_msleep(HALT_WAIT_MS);
	kmsg = eptgate_kmsg_open();
	close(p.bfd);
	p.bfd = -1;
	TEST_ASSERT(eptgate_kmsg_find(kmsg, "vCPU(s) in KVM_RUN", line,
				      sizeof(line)),
		    "release of a VM whose vCPU halts in KVM_RUN: no \"vCPU(s) in KVM_RUN\" line in the kernel log: was it freed under an armed VMCS?");
	kept = eptgate_get_info(p.dev);
	TEST_ASSERT(kept.bindings == before.bindings,
		    "released VM with an armed, halted vCPU: %lu bindings counted, expected %lu (kept until the vCPU runs)",
		    (unsigned long)kept.bindings, (unsigned long)before.bindings);
	ksft_test_result_pass("release keeps the VM while its halted vCPU's VMCS is armed\n");

	TEST_ASSERT(!pthread_kill(t, SIGUSR1), "pthread_kill failed");
	pthread_join(t, NULL);
	TEST_ASSERT(halted_errno == EINTR,
		    "KVM_RUN of the halted vCPU ended with errno %d, expected EINTR",
		    halted_errno);
	vcpu_ioctl(p.vcpu, KVM_SET_MP_STATE, &mp);
	eptgate_run_expect_sync(p.vcpu, 2, &uc);
	TEST_ASSERT(uc.args[2] == PATTERN_A && uc.args[3] == 1,
		    "after release: VMFUNC(0,1) read 0x%lx with %lu #UD, expected its own 0x%llx and one #UD",
		    uc.args[2], uc.args[3], PATTERN_A);
	ksft_test_result_pass("the vCPU's next entry is disarmed: VMFUNC(0,1) raises #UD\n");

	do {
		info = eptgate_get_info(p.dev);
		if (info.bindings == before.bindings - 1)
			break;
		eptgate_msleep(1);
	} while (++ms < END_WAIT_MS);
	/* what is left of the kept VM: its vCPU's EPTP-list page */
	TEST_ASSERT(info.bindings == before.bindings - 1 &&
		    info.table_pages + 1 == kept.table_pages,
		    "%u ms after the last disarm: %lu bindings and %lu table pages, expected %lu and %lu: the kept VM was not freed",
		    ms, (unsigned long)info.bindings,
		    (unsigned long)info.table_pages,
		    (unsigned long)before.bindings - 1,
		    (unsigned long)kept.table_pages - 1);
	eptgate_run_expect_done(p.vcpu);
	ksft_test_result_pass("the kept VM is freed after its last disarm (%u ms)\n",
			      ms);

	close(kmsg);
	eptgate_probe_vm_destroy(&p);
	ksft_finished();
}
