// SPDX-License-Identifier: GPL-2.0
/*
 * eptgate-demo: two VMs.  VM 1 (the sender) switches into its view 1 with
 * VMFUNC, writes a message into a ring that lives in VM 2's memory (view
 * 1 maps it as a window) and switches back, with no VM exit; VM 2 (the
 * receiver) reads the ring from its own RAM.  The host prints, round by
 * round, what both guests report and the module's counters.
 *
 * Built with the selftests (the KVM selftests library runs the guests);
 * runs where /dev/kvm and /dev/eptgate exist: in the emulated CPU of
 * `make demo`, or natively on an Intel host with eptgate.ko loaded.
 */
#include "eptgate_util.h"

#define RING_GPA	0x10000000ULL	/* VM 2: memslot 1, one page */
#define RING_SLOT	1
#define WIN_GPA		0x20000000ULL	/* VM 1: the window, view 1 only */
#define ROUNDS		10
#define PER_ROUND	100
#define NSLOTS		63

/* The ring, one page: a producer count and 63 slots of 64 bytes. */
struct ring {
	uint64_t produced;
	uint64_t pad[7];
	struct {
		uint64_t seq;
		char text[56];
	} slot[NSLOTS];
};

static void sender_code(void)
{
	volatile struct ring *r = (volatile struct ring *)WIN_GPA;
	uint64_t seq = 0, switches = 0;
	int round, i, j;

	for (round = 1; round <= ROUNDS; round++) {
		for (i = 0; i < PER_ROUND; i++, seq++) {
			volatile char *t;

			vmfunc_eptp(1);		/* into the protected view */
			switches++;
			t = r->slot[seq % NSLOTS].text;
			for (j = 0; j < 8; j++)
				t[j] = "message "[j];
			t[8] = '0' + (char)(seq / 100 % 10);
			t[9] = '0' + (char)(seq / 10 % 10);
			t[10] = '0' + (char)(seq % 10);
			t[11] = 0;
			r->slot[seq % NSLOTS].seq = seq;
			r->produced = seq + 1;
			vmfunc_eptp(0);		/* back to the default view */
			switches++;
		}
		GUEST_SYNC_ARGS(round, seq, switches, 0, 0);
	}
	GUEST_DONE();
}

static void receiver_code(void)
{
	volatile struct ring *r = (volatile struct ring *)RING_GPA;
	uint64_t last;

	for (;;) {
		last = r->produced;
		GUEST_SYNC_ARGS(1, last, last ? r->slot[(last - 1) % NSLOTS].seq : 0,
				0, 0);
	}
}

int main(void)
{
	struct eptgate_vcpu_stats before, after;
	struct kvm_vcpu *svcpu, *rvcpu;
	struct eptgate_view_stats vst;
	struct kvm_vm *sender, *receiver;
	uint64_t total_exits = 0, total_switches = 0;
	int dev, sbfd, rbfd, round;
	struct ring *ring;
	struct ucall uc;
	uint32_t view;

	eptgate_require();
	dev = eptgate_open();
	receiver = vm_create_with_one_vcpu(&rvcpu, receiver_code);
	ring = vm_add_ram(receiver, RING_SLOT, RING_GPA, 1);
	memset(ring, 0, sizeof(*ring));
	sender = vm_create_with_one_vcpu(&svcpu, sender_code);
	vm_init_descriptor_tables(sender);
	vcpu_init_descriptor_tables(svcpu);
	virt_map(sender, WIN_GPA, WIN_GPA, 1);

	sbfd = eptgate_bind_vm(dev, sender);
	rbfd = eptgate_bind_vm(dev, receiver);
	view = eptgate_create_view(sbfd);
	eptgate_set_access_all(sbfd, sender, view, EPTGATE_RWX);
	eptgate_map_window(sbfd, view, WIN_GPA, EPTGATE_PAGE_SIZE, EPTGATE_RW,
			   rbfd, RING_GPA);
	eptgate_enable(sbfd);

	printf("DEMO: sender VM writes into the receiver VM's ring through view %u (window at gpa %#llx -> receiver gpa %#llx)\n",
	       view, WIN_GPA, RING_GPA);
	printf("DEMO: %5s %9s %10s %12s %13s %12s %10s\n", "round", "messages",
	       "VMFUNCs", "sender exits", "exits in view", "recv. count",
	       "recv. seq");
	for (round = 1; round <= ROUNDS; round++) {
		uint64_t seq, switches;

		before = eptgate_vcpu_stats(sbfd, svcpu->id);
		TEST_ASSERT(eptgate_run(svcpu, &uc) == UCALL_SYNC,
			    "sender: expected GUEST_SYNC");
		after = eptgate_vcpu_stats(sbfd, svcpu->id);
		seq = uc.args[2];
		switches = uc.args[3];
		total_exits += after.exits - before.exits;
		TEST_ASSERT(eptgate_run(rvcpu, &uc) == UCALL_SYNC,
			    "receiver: expected GUEST_SYNC");
		printf("DEMO: %5d %9llu %10llu %12llu %13llu %12llu %10llu\n",
		       round, (unsigned long long)seq,
		       (unsigned long long)(switches - total_switches),
		       (unsigned long long)(after.exits - before.exits),
		       (unsigned long long)(after.exits_alt - before.exits_alt),
		       (unsigned long long)uc.args[2],
		       (unsigned long long)uc.args[3]);
		total_switches = switches;
		TEST_ASSERT(uc.args[2] == seq && uc.args[3] == seq - 1,
			    "receiver saw %llu messages (last seq %llu), sender wrote %llu",
			    (unsigned long long)uc.args[2],
			    (unsigned long long)uc.args[3],
			    (unsigned long long)seq);
	}
	eptgate_run_expect_done(svcpu);
	vst = eptgate_view_stats(sbfd, view);
	printf("DEMO: %d messages, %llu VMFUNC view switches, %llu sender VM exits in all: %d GUEST_SYNCs, %llu lazy fills of view %u, %llu in KVM's own view on the first run\n",
	       ROUNDS * PER_ROUND, (unsigned long long)total_switches,
	       (unsigned long long)total_exits, ROUNDS,
	       (unsigned long long)vst.lazy_fills, view,
	       (unsigned long long)(total_exits - ROUNDS - vst.lazy_fills));
	printf("DEMO: view %u: exits %llu, EPT violations %llu, lazy fills %llu, fallbacks %llu\n",
	       view, (unsigned long long)vst.exits,
	       (unsigned long long)vst.ept_violations,
	       (unsigned long long)vst.lazy_fills,
	       (unsigned long long)vst.fallbacks);
	printf("DEMO: receiver's last message: \"%s\" (seq %llu)\n",
	       ring->slot[(ring->produced - 1) % NSLOTS].text,
	       (unsigned long long)ring->slot[(ring->produced - 1) % NSLOTS].seq);
	close(sbfd);
	close(rbfd);
	kvm_vm_free(sender);
	kvm_vm_free(receiver);
	close(dev);
	printf("DEMO: done\n");
	return 0;
}
