// SPDX-License-Identifier: GPL-2.0
/*
 * hook_cost_test: what the hook adds to a VM entry + exit pair, counted
 * by the module (debugfs eptgate/hook_cost: hash look-ups, VM-wide locks,
 * VMREADs and VMWRITEs), for
 *   1. a VM that is not bound, beside a bound one: one look-up, nothing else;
 *   2. a bound VM with switching off: no lock, no VMCS access;
 *   3. a bound VM with switching on, in its default view, steady state:
 *      no lock and at most two VMCS accesses per pair (one on 6.1, where
 *      KVM's own controls have VMFUNC; two on 6.12: the secondary
 *      controls are read at entry, as KVM may have rewritten them);
 *   4. the same vCPU running its loop inside view 1 (information: every
 *      exit in a view takes the slow path).
 * Each round is ROUND_EXITS CPUID exits (handled in the kernel: the vCPU
 * does not leave KVM_RUN) and a ucall; the round measured for 3 is the
 * one after the round that armed the VMCS.  Counts are printed per pair.
 */
#include <sys/mount.h>
#include "eptgate_util.h"

#define P_GPA		0x10000000ULL
#define P_SLOT		1
#define PATTERN_A	0xaaaa5555aaaa0001ULL
#define PATTERN_B	0xbbbb4444bbbb0002ULL

#define ROUND_EXITS	4000
#define COST_PATH	"/sys/kernel/debug/eptgate/hook_cost"

struct cost {
	uint64_t entries, exits, lookups, locks, vmreads, vmwrites;
};

static uint64_t in_view;	/* the guest's loop runs in view 1 */

static void guest_exits(void)
{
	uint32_t i, a, b, c, d;

	for (i = 0; i < ROUND_EXITS; i++) {
		a = 0;
		c = 0;
		asm volatile("cpuid" : "+a"(a), "=b"(b), "+c"(c), "=d"(d));
	}
}

static void guest_code(void)
{
	for (;;) {
		if (READ_ONCE(in_view)) {
			vmfunc_eptp(1);
			guest_exits();
			vmfunc_eptp(0);
		} else {
			guest_exits();
		}
		GUEST_SYNC(1);
	}
}

static void cost_write(const char *v)
{
	int fd = open(COST_PATH, O_WRONLY);

	TEST_ASSERT(fd >= 0, "open %s: %s", COST_PATH, strerror(errno));
	TEST_ASSERT(write(fd, v, 1) == 1, "write %s to %s: %s", v, COST_PATH,
		    strerror(errno));
	close(fd);
}

static struct cost cost_read(void)
{
	struct cost c = { 0 };
	char name[32];
	unsigned long long v;
	FILE *f = fopen(COST_PATH, "r");

	TEST_ASSERT(f, "open %s: %s", COST_PATH, strerror(errno));
	while (fscanf(f, "%31s %llu", name, &v) == 2) {
		if (!strcmp(name, "entries"))
			c.entries = v;
		else if (!strcmp(name, "exits"))
			c.exits = v;
		else if (!strcmp(name, "lookups"))
			c.lookups = v;
		else if (!strcmp(name, "locks"))
			c.locks = v;
		else if (!strcmp(name, "vmreads"))
			c.vmreads = v;
		else if (!strcmp(name, "vmwrites"))
			c.vmwrites = v;
	}
	fclose(f);
	return c;
}

/* One round of @vcpu, counted from zero; sanity of the pair count. */
static struct cost cost_round(struct kvm_vcpu *vcpu, const char *what)
{
	struct ucall uc;
	struct cost c;

	cost_write("1");
	eptgate_run_expect_sync(vcpu, 1, &uc);
	c = cost_read();
	cost_write("0");
	TEST_ASSERT(c.exits >= ROUND_EXITS && c.entries >= ROUND_EXITS,
		    "%s: %lu entries, %lu exits counted for a round of %u CPUID exits: the probes did not count",
		    what, (unsigned long)c.entries, (unsigned long)c.exits,
		    ROUND_EXITS);
	ksft_print_msg("%s: per entry+exit pair: %.3f look-ups, %.3f locks, %.3f VMREADs, %.3f VMWRITEs (%lu exits)\n",
		       what, (double)c.lookups / c.exits,
		       (double)c.locks / c.exits, (double)c.vmreads / c.exits,
		       (double)c.vmwrites / c.exits, (unsigned long)c.exits);
	return c;
}

/* At most @per_pair of @n per exit, and at most @extra in the round. */
static bool cost_within(uint64_t n, uint64_t exits, unsigned int per_pair,
			unsigned int extra)
{
	return n <= exits * per_pair + extra;
}

static void cost_debugfs(void)
{
	if (access(COST_PATH, F_OK))
		mount("debugfs", "/sys/kernel/debug", "debugfs", 0, NULL);
	if (access(COST_PATH, W_OK))
		ksft_exit_skip("%s not there (no debugfs): %s\n", COST_PATH,
			       strerror(errno));
}

int main(void)
{
	struct eptgate_probe_vm p;
	struct kvm_vcpu *uvcpu;
	struct kvm_vm *unbound;
	struct ucall uc;
	struct cost c;

	eptgate_require();
	ksft_print_header();
	cost_debugfs();
	ksft_set_plan(4);

	eptgate_probe_vm_create(&p, guest_code, P_GPA, P_SLOT, PATTERN_A,
				PATTERN_B, EPTGATE_RWX);
	unbound = vm_create_with_one_vcpu(&uvcpu, guest_code);

	/* warm-up: KVM's own EPT faults of the first touches */
	eptgate_run_expect_sync(uvcpu, 1, &uc);
	c = cost_round(uvcpu, "unbound VM");
	TEST_ASSERT(c.lookups <= c.exits + 1 && !c.locks && !c.vmreads &&
		    !c.vmwrites,
		    "unbound VM: %lu look-ups, %lu locks, %lu VMREADs, %lu VMWRITEs for %lu exits: expected one look-up per pair and nothing else",
		    (unsigned long)c.lookups, (unsigned long)c.locks,
		    (unsigned long)c.vmreads, (unsigned long)c.vmwrites,
		    (unsigned long)c.exits);
	ksft_test_result_pass("unbound VM: one look-up per pair, no lock, no VMCS access\n");

	eptgate_run_expect_sync(p.vcpu, 1, &uc);
	c = cost_round(p.vcpu, "bound VM, switching off");
	TEST_ASSERT(!c.locks && !c.vmreads && !c.vmwrites,
		    "bound VM with switching off: %lu locks, %lu VMREADs, %lu VMWRITEs for %lu exits: expected none",
		    (unsigned long)c.locks, (unsigned long)c.vmreads,
		    (unsigned long)c.vmwrites, (unsigned long)c.exits);
	ksft_test_result_pass("bound VM, switching off: no lock, no VMCS access\n");

	eptgate_enable(p.bfd);
	cost_round(p.vcpu, "bound VM, switching on, first round (arming)");
	c = cost_round(p.vcpu, "bound VM, switching on, default view");
	TEST_ASSERT(cost_within(c.vmreads + c.vmwrites, c.exits, 2, 0) &&
		    cost_within(c.locks, c.exits, 0, 2),
		    "bound VM in its default view: %lu VMREADs + %lu VMWRITEs and %lu locks for %lu exits: expected at most 2 VMCS accesses per pair and no lock in the steady state",
		    (unsigned long)c.vmreads, (unsigned long)c.vmwrites,
		    (unsigned long)c.locks, (unsigned long)c.exits);
	ksft_test_result_pass("bound VM, switching on, default view: %.2f VMCS accesses per pair, %lu locks in %lu exits\n",
			      (double)(c.vmreads + c.vmwrites) / c.exits,
			      (unsigned long)c.locks, (unsigned long)c.exits);

	in_view = 1;
	sync_global_to_guest(p.vm, in_view);
	cost_round(p.vcpu, "bound VM, switching on, loop in view 1");
	ksft_test_result_pass("bound VM, loop in view 1: counted (the slow path, information)\n");

	kvm_vm_free(unbound);
	eptgate_probe_vm_destroy(&p);
	ksft_finished();
}
