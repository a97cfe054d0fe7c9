// SPDX-License-Identifier: GPL-2.0
/*
 * grant_test: a receiver VM in one process grants a page to a sender VM in
 * another, over a UNIX socket, and takes it back.
 *
 * The child is the receiver's VMM: its own VM with page P (PATTERN_B),
 * its own binding, and a read-only grant of P that it sends with
 * SCM_RIGHTS.  The parent is the sender's VMM: its VM has its own P
 * (PATTERN_A), and view 1 maps a window onto the child's P from the
 * grant.  The guest reads P in view 1 (VMFUNC) on every round.
 *
 *   1. the window reads the receiver's page;
 *   2. the receiver revokes (EPTGATE_REVOKE_GRANT on its copy): the
 *      window is gone: its address reads the view's sink (zeros), not the
 *      receiver's page, until the sender unmaps what is left (then it
 *      reads its own page, falling back); the pins are released, the
 *      sender sees it in GRANT_INFO and MAP_WINDOW with the grant fails
 *      with EKEYREVOKED;
 *   3. a second grant, whose every fd is then closed: the same;
 *   4. a third grant, and the receiver's process exits (its binding goes
 *      away): the same.
 */
#include <sys/socket.h>
#include <sys/wait.h>

#include "eptgate_util.h"

#define P_GPA		0x10000000ULL
#define P_SLOT		1

#define PATTERN_A	0xaaaa5555aaaa0001ULL
#define PATTERN_B	0xbbbb4444bbbb0002ULL

enum { CMD_GRANT = 'g', CMD_REVOKE = 'r', CMD_CLOSE = 'c', CMD_EXIT = 'x' };

static void guest_code(void)
{
	uint64_t round, v;

	for (round = 0;; round++) {
		vmfunc_eptp(1);
		v = guest_read64(P_GPA);
		vmfunc_eptp(0);
		GUEST_SYNC_ARGS(round, v, 0, 0, 0);
	}
}

/* ---- the receiver (child) ----------------------------------------------- */

static void receiver(int sock)
{
	struct kvm_vm *vm = vm_create_barebones();
	int dev, bfd, gfd = -1;
	char cmd;

	eptgate_fill64(__vm_add_ram(vm, P_SLOT, P_GPA, 1), PATTERN_B,
		       EPTGATE_PAGE_SIZE);
	dev = eptgate_open();
	bfd = eptgate_bind_vm(dev, vm);
	while (read(sock, &cmd, 1) == 1) {
		switch (cmd) {
		case CMD_GRANT:
			gfd = eptgate_create_grant(bfd, P_GPA, EPTGATE_PAGE_SIZE,
						   EPTGATE_RO);
			eptgate_send_fd(sock, gfd);
			continue;	/* the fd is the answer */
		case CMD_REVOKE:
			eptgate_revoke_grant(gfd);
			break;
		case CMD_CLOSE:
			close(gfd);
			break;
		case CMD_EXIT:
			_exit(0);	/* the binding goes with the process */
		}
		TEST_ASSERT(write(sock, &cmd, 1) == 1, "receiver: write failed");
	}
	_exit(1);
}

static void ask(int sock, char cmd)
{
	char ack;

	TEST_ASSERT(write(sock, &cmd, 1) == 1, "write to the receiver failed");
	TEST_ASSERT(read(sock, &ack, 1) == 1 && ack == cmd,
		    "the receiver did not acknowledge '%c'", cmd);
}

/* ---- the sender (parent) ------------------------------------------------- */

struct sender {
	struct kvm_vm *vm;
	struct kvm_vcpu *vcpu;
	int dev, bfd, sock;
	uint64_t round;
	int64_t pins0;		/* FOLL_PIN balance before any window */
};

/* One guest round: what it read at P in view 1. */
static uint64_t guest_round(struct sender *s)
{
	struct ucall uc;

	eptgate_run_expect_sync(s->vcpu, s->round++, &uc);
	return uc.args[2];
}

static int receive_grant(struct sender *s)
{
	char cmd = CMD_GRANT;

	TEST_ASSERT(write(s->sock, &cmd, 1) == 1, "write to the receiver failed");
	return eptgate_recv_fd(s->sock);
}

/* The window onto the receiver's P, and the guest reads through it. */
static void map_and_read(struct sender *s, int gfd, const char *which)
{
	struct eptgate_grant_info gi;
	uint64_t v;

	eptgate_map_window_grant(s->bfd, 1, P_GPA, EPTGATE_PAGE_SIZE,
				 EPTGATE_RO, gfd, P_GPA);
	v = guest_round(s);
	TEST_ASSERT(v == PATTERN_B,
		    "%s: view 1 read 0x%lx at P, expected the receiver's 0x%llx",
		    which, v, PATTERN_B);
	gi = eptgate_grant_info(gfd);
	TEST_ASSERT(!gi.revoked && gi.windows == 1,
		    "%s: GRANT_INFO revoked %u windows %llu, expected 0 and 1",
		    which, gi.revoked, (unsigned long long)gi.windows);
}

/*
 * After the grant ended: no window, no pin; P reads the view's sink until
 * the sender unmaps the revoked range, then its own page.
 */
static void expect_sink(struct sender *s, const char *how)
{
	uint64_t v = guest_round(s);

	TEST_ASSERT(v == 0,
		    "after %s: view 1 read 0x%lx at P, expected 0: the sink of a revoked window (the receiver's page must be gone)",
		    how, v);
	eptgate_unmap_window(s->bfd, 1, P_GPA, EPTGATE_PAGE_SIZE);
	v = guest_round(s);
	TEST_ASSERT(v == PATTERN_A,
		    "after %s and UNMAP of the revoked range: view 1 read 0x%lx at P, expected the sender's own 0x%llx",
		    how, v, PATTERN_A);
}

static void expect_ended(struct sender *s, int gfd, const char *how)
{
	struct eptgate_grant_info gi = eptgate_grant_info(gfd);
	int r;

	TEST_ASSERT(gi.revoked && !gi.windows && gi.windows_revoked == 1,
		    "after %s: GRANT_INFO revoked %u windows %llu windows_revoked %llu, expected 1, 0, 1",
		    how, gi.revoked, (unsigned long long)gi.windows,
		    (unsigned long long)gi.windows_revoked);
	expect_sink(s, how);
	r = __eptgate_map_window_grant(s->bfd, 1, P_GPA, EPTGATE_PAGE_SIZE,
				       EPTGATE_RO, gfd, P_GPA);
	TEST_ASSERT(r == -EKEYREVOKED,
		    "after %s: MAP_WINDOW with the grant returned %d, expected -EKEYREVOKED",
		    how, r);
	TEST_ASSERT(eptgate_foll_pins() == s->pins0,
		    "after %s: FOLL_PIN balance %ld, expected %ld (the receiver's page is still pinned)",
		    how, (long)eptgate_foll_pins(), (long)s->pins0);
}

int main(void)
{
	struct sender s = { .round = 0 };
	int sv[2], gfd, status;
	uint64_t v;
	pid_t pid;

	eptgate_require();
	ksft_print_header();
	ksft_set_plan(4);

	TEST_ASSERT(!socketpair(AF_UNIX, SOCK_STREAM, 0, sv),
		    "socketpair failed, errno: %i (%s)", errno, strerror(errno));
	pid = fork();
	TEST_ASSERT(pid >= 0, "fork failed, errno: %i (%s)", errno,
		    strerror(errno));
	if (!pid) {
		close(sv[0]);
		receiver(sv[1]);
	}
	close(sv[1]);
	s.sock = sv[0];

	s.vm = vm_create_with_one_vcpu(&s.vcpu, guest_code);
	eptgate_fill64(vm_add_ram(s.vm, P_SLOT, P_GPA, 1), PATTERN_A,
		       EPTGATE_PAGE_SIZE);
	s.dev = eptgate_open();
	s.bfd = eptgate_bind_vm(s.dev, s.vm);
	TEST_ASSERT(eptgate_create_view(s.bfd) == 1, "first view is not 1");
	eptgate_set_access_slot(s.bfd, s.vm, 1, 0, EPTGATE_RWX);
	eptgate_enable(s.bfd);
	v = guest_round(&s);
	TEST_ASSERT(v == PATTERN_A, "no window yet: view 1 read 0x%lx, expected 0x%llx",
		    v, PATTERN_A);
	s.pins0 = eptgate_foll_pins();

	gfd = receive_grant(&s);
	map_and_read(&s, gfd, "grant from another process");
	ksft_test_result_pass("a window from a grant passed over SCM_RIGHTS reads the receiver's page\n");

	ask(s.sock, CMD_REVOKE);
	expect_ended(&s, gfd, "the receiver's REVOKE_GRANT");
	close(gfd);
	ksft_test_result_pass("REVOKE_GRANT by the receiver: window unpinned, its address the sink until unmapped, EKEYREVOKED\n");

	gfd = receive_grant(&s);
	map_and_read(&s, gfd, "second grant");
	ask(s.sock, CMD_CLOSE);		/* the receiver's copy ... */
	v = guest_round(&s);
	TEST_ASSERT(v == PATTERN_B,
		    "the receiver closed its fd of the grant, the sender still has one: view 1 read 0x%lx, expected 0x%llx",
		    v, PATTERN_B);
	close(gfd);			/* ... and the sender's: the last one */
	expect_sink(&s, "every fd of the grant closed");
	TEST_ASSERT(eptgate_foll_pins() == s.pins0,
		    "every fd of the grant closed: FOLL_PIN balance %ld, expected %ld",
		    (long)eptgate_foll_pins(), (long)s.pins0);
	ksft_test_result_pass("closing every fd of a grant unmaps and unpins its window\n");

	gfd = receive_grant(&s);
	map_and_read(&s, gfd, "third grant");
	TEST_ASSERT(write(s.sock, &(char){ CMD_EXIT }, 1) == 1,
		    "write to the receiver failed");
	TEST_ASSERT(waitpid(pid, &status, 0) == pid && WIFEXITED(status) &&
		    !WEXITSTATUS(status),
		    "the receiver exited with status 0x%x", status);
	expect_ended(&s, gfd, "the receiver's exit");
	close(gfd);
	ksft_test_result_pass("the receiver's exit revokes its grant\n");

	close(s.sock);
	close(s.bfd);
	close(s.dev);
	kvm_vm_free(s.vm);
	ksft_finished();
}
