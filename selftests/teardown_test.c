// SPDX-License-Identifier: GPL-2.0
/*
 * teardown_test: whatever the order in which a VM fd, its binding fd, the
 * peer VM and the peer's binding fd are closed, and whoever closes them
 * (the owner, a racing vCPU, process exit), eptgate gives back everything:
 * its own counters (bindings, table_pages, pages_ref, pages_pinned), the
 * system's FOLL_PIN balance, its module reference count and the KVM VMs it
 * held, and the module can be unloaded and loaded again afterwards.
 *
 * Each iteration builds VM 1 (one vCPU, #UD handler) and VM 2 (the peer,
 * one RAM page P holding PEER_PATTERN), binds both, gives VM 1 a view 1
 * mirroring its memslot 0 RWX with a read-only window onto P at WIN_GPA
 * (no RAM of VM 1 there), enables switching and runs VM 1's vCPU: the
 * guest loops VMFUNC(0,1) / read WIN_GPA / VMFUNC(0,0), so lazy fills and
 * the window are in use.  Then the four files are closed in one of the 24
 * orders (iteration i uses permutation i % 24); after every close that
 * leaves a binding fd open, delete_module("eptgate") must fail with
 * EWOULDBLOCK (the errno of an unload refused because the module is in
 * use); at the end every counter must be back at the baseline.  Every
 * RELOAD_EVERY-th iteration the module is then unloaded and loaded again
 * (delete_module / finit_module of EPTGATE_KO, default ../eptgate.ko next
 * to this program's directory) and /dev/eptgate must come back.
 *
 * Then:
 *   (a) closed mid-use: a thread runs the vCPU while the main thread closes
 *       the binding fds (both orders); the guest must keep running (its
 *       VMFUNCs now raise #UD, which its handler skips) and the counters
 *       must be at the baseline once both bindings are closed;
 *   (b) owner exits: a child process builds and runs the same setup and
 *       exits without closing anything, or is SIGKILLed while its vCPU runs;
 *       the counters must be back at the baseline after waitpid().
 */
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "eptgate_util.h"

#define ITERATIONS	100
#define RELOAD_EVERY	10
#define NR_PERMS	24

#define WIN_GPA		0x20000000ULL	/* VM 1: window only, no RAM */
#define PEER_GPA	0x10000000ULL	/* VM 2 memslot 1 */
#define PEER_SLOT	1
#define PEER_PATTERN	0x7ea2d0e17ea2d0e1ULL

/* VMFUNC / read / VMFUNC rounds between two ucalls. */
#define GUEST_ROUNDS	16

/* How long the main thread waits for the guest to make progress. */
#define PROGRESS_TIMEOUT_MS	30000
/* MemFree may move by this much over the whole test (page cache, slabs). */
#define MEMFREE_SLACK_KB	(32 * 1024)

/* ---- guest ----------------------------------------------------------------- */

/* Guest memory (memslot 0), read by the host through addr_gva2hva(). */
static volatile uint64_t g_rounds;	/* completed rounds */
static volatile uint64_t g_ok;		/* window read PEER_PATTERN in view 1 */
static volatile uint64_t g_ud;		/* VMFUNC(0,1) raised #UD */
static volatile uint64_t g_other;	/* read something else */

static void guest_code(void)
{
	uint64_t i, ud, val;

	for (;;) {
		for (i = 0; i < GUEST_ROUNDS; i++) {
			ud = eptgate_guest_ud_count;
			vmfunc_eptp(1);
			if (eptgate_guest_ud_count == ud) {
				/*
				 * In view 1, unless the view went away
				 * right after the switch: then this is an
				 * MMIO read in view 0.
				 */
				val = guest_read64(WIN_GPA);
				vmfunc_eptp(0);
				if (val == PEER_PATTERN)
					g_ok++;
				else
					g_other++;
			} else {
				g_ud++;
			}
			g_rounds++;
		}
		GUEST_SYNC_ARGS(1, g_rounds, g_ok, g_ud, g_other);
	}
}

/* ---- host: one setup ------------------------------------------------------- */

struct setup {
	struct kvm_vm *vm1, *vm2;
	struct kvm_vcpu *vcpu;
	int bfd1, bfd2;
	volatile uint64_t *rounds, *ok, *ud, *other;
};

static void setup_create(struct setup *s)
{
	uint64_t *p;
	int dev;

	s->vm1 = vm_create_with_one_vcpu(&s->vcpu, guest_code);
	eptgate_install_ud_handler(s->vm1, s->vcpu);
	vm_identity_map(s->vm1, WIN_GPA, 1);
	s->rounds = addr_gva2hva(s->vm1, (vm_vaddr_t)&g_rounds);
	s->ok = addr_gva2hva(s->vm1, (vm_vaddr_t)&g_ok);
	s->ud = addr_gva2hva(s->vm1, (vm_vaddr_t)&g_ud);
	s->other = addr_gva2hva(s->vm1, (vm_vaddr_t)&g_other);

	s->vm2 = vm_create_barebones();
	p = __vm_add_ram(s->vm2, PEER_SLOT, PEER_GPA, 1);
	eptgate_fill64(p, PEER_PATTERN, EPTGATE_PAGE_SIZE);

	dev = eptgate_open();
	s->bfd1 = eptgate_bind_vm(dev, s->vm1);
	s->bfd2 = eptgate_bind_vm(dev, s->vm2);
	close(dev);	/* the binding fds hold the module by themselves */

	TEST_ASSERT(eptgate_create_view(s->bfd1) == 1,
		    "first view of a new binding is not 1");
	eptgate_set_access_slot(s->bfd1, s->vm1, 1, 0, EPTGATE_RWX);
	eptgate_map_window(s->bfd1, 1, WIN_GPA, EPTGATE_PAGE_SIZE, EPTGATE_RO,
			   s->bfd2, PEER_GPA);
	eptgate_enable(s->bfd1);
}

/* Run the vCPU for two ucalls: every round switches and reads the window. */
static void setup_run(struct setup *s, const struct eptgate_counters *base)
{
	struct eptgate_info info;
	struct ucall uc;
	int i;

	for (i = 0; i < 2; i++)
		eptgate_run_expect_sync(s->vcpu, 1, &uc);
	TEST_ASSERT(uc.args[3] == 2 * GUEST_ROUNDS && uc.args[4] == 0 &&
		    uc.args[5] == 0,
		    "guest: %lu of %lu rounds read the window (%lu #UD, %lu other values), expected all",
		    uc.args[3], uc.args[2], uc.args[4], uc.args[5]);

	info = eptgate_get_info_fresh();
	TEST_ASSERT(info.bindings == base->bindings + 2 &&
		    info.pages_pinned == base->pages_pinned + 1 &&
		    info.pages_ref > base->pages_ref &&
		    info.table_pages > base->table_pages,
		    "in use: bindings %lu pinned %lu ref %lu tables %lu, expected %lu, %lu, more than %lu, more than %lu",
		    (uint64_t)info.bindings, (uint64_t)info.pages_pinned,
		    (uint64_t)info.pages_ref, (uint64_t)info.table_pages,
		    base->bindings + 2, base->pages_pinned + 1,
		    base->pages_ref, base->table_pages);
	TEST_ASSERT(eptgate_foll_pins() == base->foll_pins + 1,
		    "in use: FOLL_PIN balance %ld, expected %ld (the window's page)",
		    eptgate_foll_pins(), base->foll_pins + 1);
}

/* ---- module unload / load ------------------------------------------------ */

static char ko_path[PATH_MAX];

static void find_module_file(void)
{
	const char *env = getenv("EPTGATE_KO");
	char exe[PATH_MAX];
	ssize_t n;

	if (env && *env) {
		snprintf(ko_path, sizeof(ko_path), "%s", env);
		return;
	}
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	TEST_ASSERT(n > 0, "readlink(/proc/self/exe) failed, errno: %i (%s)",
		    errno, strerror(errno));
	exe[n] = '\0';
	snprintf(ko_path, sizeof(ko_path), "%s/../eptgate.ko", dirname(exe));
}

static int sys_delete_module(const char *name)
{
	return syscall(__NR_delete_module, name, O_NONBLOCK) ? -errno : 0;
}

/* delete_module must be refused: a binding fd holds the module. */
static void assert_unload_refused(const char *when)
{
	int r = sys_delete_module("eptgate");

	TEST_ASSERT(r == -EWOULDBLOCK,
		    "%s: delete_module(eptgate) returned %d (%s) with a binding fd open, expected -EWOULDBLOCK (module in use)",
		    when, r, r ? strerror(-r) : "unloaded!");
	TEST_ASSERT(eptgate_module_refcnt() > 0,
		    "%s: module refcnt %ld with a binding fd open",
		    when, eptgate_module_refcnt());
}

static void reload_module(void)
{
	struct eptgate_info info;
	int fd, r;

	r = sys_delete_module("eptgate");
	TEST_ASSERT(!r, "delete_module(eptgate) with no fd open failed: %d (%s)",
		    r, strerror(-r));
	TEST_ASSERT(access(EPTGATE_DEVICE, F_OK) && errno == ENOENT,
		    "%s still exists after delete_module", EPTGATE_DEVICE);
	TEST_ASSERT(eptgate_module_refcnt() == -1,
		    "/sys/module/eptgate still exists after delete_module");

	fd = open(ko_path, O_RDONLY | O_CLOEXEC);
	TEST_ASSERT(fd >= 0, "open(%s) failed, errno: %i (%s)", ko_path,
		    errno, strerror(errno));
	r = syscall(__NR_finit_module, fd, "", 0);
	TEST_ASSERT(!r, "finit_module(%s) failed, errno: %i (%s)", ko_path,
		    errno, strerror(errno));
	close(fd);

	TEST_ASSERT(!access(EPTGATE_DEVICE, R_OK | W_OK),
		    "%s missing after loading the module again, errno: %i (%s)",
		    EPTGATE_DEVICE, errno, strerror(errno));
	info = eptgate_get_info_fresh();
	TEST_ASSERT(!info.bindings && !info.table_pages && !info.pages_ref &&
		    !info.pages_pinned,
		    "reloaded module: bindings %lu table_pages %lu pages_ref %lu pages_pinned %lu, expected all 0",
		    (uint64_t)info.bindings, (uint64_t)info.table_pages,
		    (uint64_t)info.pages_ref, (uint64_t)info.pages_pinned);
}

/* ---- the 24 orders --------------------------------------------------------- */

enum obj { VM1, BFD1, VM2, BFD2, NR_OBJS };
static const char *const obj_name[NR_OBJS] = {
	"VM 1 (kvm_vm_free)", "VM 1's binding fd",
	"VM 2 (kvm_vm_free)", "VM 2's binding fd",
};

/* Permutation @k (0..23) of the four objects, in the factorial number system. */
static void permutation(unsigned int k, enum obj order[NR_OBJS])
{
	enum obj pool[NR_OBJS] = { VM1, BFD1, VM2, BFD2 };
	unsigned int n = NR_OBJS, i, j, f;

	for (i = 0; i < NR_OBJS; i++, n--) {
		for (f = 1, j = 2; j < n; j++)
			f *= j;
		j = k / f;
		k %= f;
		order[i] = pool[j];
		memmove(&pool[j], &pool[j + 1], (n - j - 1) * sizeof(pool[0]));
	}
}

static void close_obj(struct setup *s, enum obj o)
{
	switch (o) {
	case VM1:
		kvm_vm_free(s->vm1);
		s->vm1 = NULL;
		break;
	case BFD1:
		TEST_ASSERT(!close(s->bfd1), "close(VM 1's binding fd) failed");
		s->bfd1 = -1;
		break;
	case VM2:
		kvm_vm_free(s->vm2);
		s->vm2 = NULL;
		break;
	case BFD2:
		TEST_ASSERT(!close(s->bfd2), "close(VM 2's binding fd) failed");
		s->bfd2 = -1;
		break;
	default:
		TEST_FAIL("bad object %d", o);
	}
}

/* The baseline with @open_vms more VMs alive (their fds still open). */
static void expect_vms(struct eptgate_counters *expect,
		       const struct eptgate_counters *base, long open_vms)
{
	*expect = *base;
	if (expect->kvm_vms >= 0)
		expect->kvm_vms += open_vms;
}

static void one_order(unsigned int iter, const struct eptgate_counters *base)
{
	struct eptgate_counters now, expect;
	enum obj order[NR_OBJS];
	struct setup s;
	char when[160];
	int i;

	permutation(iter % NR_PERMS, order);
	setup_create(&s);
	setup_run(&s, base);
	assert_unload_refused("before closing anything");

	for (i = 0; i < NR_OBJS; i++) {
		close_obj(&s, order[i]);
		snprintf(when, sizeof(when),
			 "iteration %u, order %s / %s / %s / %s, after closing %s",
			 iter, obj_name[order[0]], obj_name[order[1]],
			 obj_name[order[2]], obj_name[order[3]],
			 obj_name[order[i]]);
		if (s.bfd1 >= 0 || s.bfd2 >= 0) {
			assert_unload_refused(when);
			continue;
		}
		/*
		 * Both bindings closed: the module holds nothing, whether or
		 * not a VM fd is still open (a VM fd is not the module's).
		 */
		expect_vms(&expect, base, !!s.vm1 + !!s.vm2);
		eptgate_read_counters(&now);
		eptgate_assert_counters(&expect, &now, when);
	}
}

/* ---- (a) binding fds closed while the vCPU runs ---------------------------- */

static atomic_bool vcpu_stop;
static atomic_ulong vcpu_mmio_exits;

static void sigusr1(int sig)
{
	(void)sig;
}

static void *vcpu_thread(void *arg)
{
	struct kvm_vcpu *vcpu = arg;
	struct kvm_run *run = vcpu->run;
	struct ucall uc;
	int r;

	while (!atomic_load(&vcpu_stop)) {
		r = __vcpu_run(vcpu);
		if (r < 0 && errno == EINTR)
			continue;	/* interrupted by the stop signal */
		TEST_ASSERT(!r, "KVM_RUN failed mid-use, errno: %i (%s)", errno,
			    strerror(errno));
		if (run->exit_reason == KVM_EXIT_MMIO) {
			/*
			 * The view went away between the guest's VMFUNC and
			 * its read: view 0 has no RAM at WIN_GPA.
			 */
			TEST_ASSERT(run->mmio.phys_addr == WIN_GPA && !run->mmio.is_write,
				    "unexpected MMIO %s at 0x%llx",
				    run->mmio.is_write ? "write" : "read",
				    (unsigned long long)run->mmio.phys_addr);
			atomic_fetch_add(&vcpu_mmio_exits, 1);
			continue;
		}
		TEST_ASSERT(run->exit_reason == KVM_EXIT_IO,
			    "vCPU exit reason %u (%s) mid-use, expected a ucall",
			    run->exit_reason, exit_reason_str(run->exit_reason));
		switch (get_ucall(vcpu, &uc)) {
		case UCALL_SYNC:
			break;
		case UCALL_ABORT:
			TEST_FAIL("guest: %s at %s:%ld",
				  (const char *)uc.args[GUEST_ERROR_STRING],
				  (const char *)uc.args[GUEST_FILE],
				  uc.args[GUEST_LINE]);
			break;
		default:
			TEST_FAIL("unexpected ucall %lu mid-use", uc.cmd);
		}
	}
	return NULL;
}

/* Wait until *@counter exceeds @than, or fail naming @what. */
static void wait_guest(volatile uint64_t *counter, uint64_t than,
		       const char *what, const struct setup *s)
{
	unsigned int waited = 0;

	while (*counter <= than) {
		TEST_ASSERT(waited < PROGRESS_TIMEOUT_MS,
			    "guest stopped making progress: waiting for %s (rounds %lu ok %lu ud %lu other %lu)",
			    what, *s->rounds, *s->ok, *s->ud, *s->other);
		eptgate_msleep(5);
		waited += 5;
	}
}

static void close_mid_use(bool vm1_first, const struct eptgate_counters *base)
{
	struct eptgate_counters now, expect;
	pthread_t thread;
	struct setup s;
	uint64_t rounds;
	int r;

	setup_create(&s);
	atomic_store(&vcpu_stop, false);
	atomic_store(&vcpu_mmio_exits, 0);
	r = pthread_create(&thread, NULL, vcpu_thread, s.vcpu);
	TEST_ASSERT(!r, "pthread_create failed: %d", r);

	wait_guest(s.ok, 4 * GUEST_ROUNDS, "switches through view 1", &s);
	close_obj(&s, vm1_first ? BFD1 : BFD2);
	rounds = *s.rounds;
	wait_guest(s.rounds, rounds + 2 * GUEST_ROUNDS,
		   "rounds after the first binding fd is closed", &s);
	close_obj(&s, vm1_first ? BFD2 : BFD1);
	rounds = *s.rounds;
	wait_guest(s.rounds, rounds + 2 * GUEST_ROUNDS,
		   "rounds after both binding fds are closed", &s);
	/* Switching is gone with the binding: VMFUNC now raises #UD. */
	wait_guest(s.ud, 0, "a #UD from VMFUNC(0,1) without a binding", &s);

	atomic_store(&vcpu_stop, true);
	s.vcpu->run->immediate_exit = 1;
	pthread_kill(thread, SIGUSR1);
	r = pthread_join(thread, NULL);
	TEST_ASSERT(!r, "pthread_join failed: %d", r);
	s.vcpu->run->immediate_exit = 0;

	TEST_ASSERT(*s.ok >= 4 * GUEST_ROUNDS && *s.ud > 0,
		    "guest: %lu rounds, %lu window reads, %lu #UD, %lu other values",
		    *s.rounds, *s.ok, *s.ud, *s.other);
	ksft_print_msg("closed %s mid-use: guest %lu rounds, %lu window reads, %lu #UD, %lu other reads, %lu MMIO exits\n",
		       vm1_first ? "VM 1's then VM 2's binding" :
				   "VM 2's then VM 1's binding",
		       *s.rounds, *s.ok, *s.ud, *s.other,
		       atomic_load(&vcpu_mmio_exits));

	expect_vms(&expect, base, 2);	/* both VM fds are still open */
	eptgate_read_counters(&now);
	eptgate_assert_counters(&expect, &now,
				"both bindings closed while the vCPU ran");
	kvm_vm_free(s.vm1);
	kvm_vm_free(s.vm2);
	eptgate_read_counters(&now);
	eptgate_assert_counters(base, &now,
				"VMs freed after the mid-use close");
}

/* ---- (b) the owner exits --------------------------------------------------- */

static void child_exit(bool killed, int ready_fd)
{
	struct setup s;
	pthread_t thread;

	if (!killed) {
		struct eptgate_counters base;

		eptgate_read_counters(&base);
		setup_create(&s);
		setup_run(&s, &base);
		_exit(0);	/* closes nothing itself */
	}
	setup_create(&s);
	atomic_store(&vcpu_stop, false);
	TEST_ASSERT(!pthread_create(&thread, NULL, vcpu_thread, s.vcpu),
		    "pthread_create failed");
	wait_guest(s.ok, 4 * GUEST_ROUNDS, "switches through view 1", &s);
	TEST_ASSERT(write(ready_fd, "r", 1) == 1, "write(ready pipe) failed");
	for (;;)
		pause();	/* SIGKILLed by the parent */
}

static void owner_exits(bool killed, const struct eptgate_counters *base)
{
	struct eptgate_counters now;
	int fds[2], status;
	pid_t pid;
	char c;

	TEST_ASSERT(!pipe(fds), "pipe failed");
	pid = fork();
	TEST_ASSERT(pid >= 0, "fork failed, errno: %i (%s)", errno,
		    strerror(errno));
	if (!pid) {
		close(fds[0]);
		child_exit(killed, fds[1]);
	}
	close(fds[1]);
	if (killed) {
		TEST_ASSERT(read(fds[0], &c, 1) == 1,
			    "child died before its guest ran in view 1");
		kill(pid, SIGKILL);
	}
	close(fds[0]);
	TEST_ASSERT(waitpid(pid, &status, 0) == pid, "waitpid failed");
	if (killed)
		TEST_ASSERT(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL,
			    "child status 0x%x, expected killed by SIGKILL",
			    status);
	else
		TEST_ASSERT(WIFEXITED(status) && !WEXITSTATUS(status),
			    "child status 0x%x, expected exit 0 (its assertions failed?)",
			    status);
	TEST_ASSERT(eptgate_wait_counters(base, &now, 5000),
		    "counters not back at the baseline 5 s after the owner %s",
		    killed ? "was killed" : "exited");
	eptgate_assert_counters(base, &now, killed ?
				"after the owner was killed mid-run" :
				"after the owner exited");
}

/* ---- main -------------------------------------------------------------------- */

int main(void)
{
	struct eptgate_counters base, now;
	uint64_t memfree0, memfree1;
	unsigned int iter, reloads = 0;
	struct sigaction sa = { .sa_handler = sigusr1 };
	bool can_reload;

	eptgate_require();
	ksft_print_header();
	ksft_set_plan(5);

	/* No SA_RESTART: the signal makes KVM_RUN return -EINTR. */
	TEST_ASSERT(!sigaction(SIGUSR1, &sa, NULL), "sigaction failed");

	find_module_file();
	can_reload = !access(ko_path, R_OK);
	if (!can_reload)
		ksft_print_msg("%s not readable: no unload/reload (set EPTGATE_KO)\n",
			       ko_path);

	eptgate_read_counters(&base);
	memfree0 = eptgate_meminfo_kb("MemFree");
	ksft_print_msg("baseline: bindings %lu table_pages %lu pages_ref %lu pages_pinned %lu foll_pins %ld refcnt %ld vms %ld MemFree %lu kB\n",
		       base.bindings, base.table_pages, base.pages_ref,
		       base.pages_pinned, base.foll_pins, base.module_refcnt,
		       base.kvm_vms, memfree0);
	TEST_ASSERT(!base.bindings, "%lu bindings before the test: a previous test leaked",
		    base.bindings);

	for (iter = 0; iter < ITERATIONS; iter++) {
		one_order(iter, &base);
		eptgate_read_counters(&now);
		eptgate_assert_counters(&base, &now, "end of an iteration");
		if (can_reload && iter % RELOAD_EVERY == RELOAD_EVERY - 1) {
			reload_module();
			reloads++;
			eptgate_read_counters(&base);
		}
	}
	ksft_test_result_pass("%u setups closed in all 24 orders: counters back at the baseline, unload refused while bound\n",
			      ITERATIONS);
	if (can_reload)
		ksft_test_result_pass("module unloaded and loaded again %u times after everything was closed\n",
				      reloads);
	else
		ksft_test_result_skip("module file %s not found\n", ko_path);

	close_mid_use(true, &base);
	close_mid_use(false, &base);
	ksft_test_result_pass("binding fds closed while the vCPU switches: guest runs on, counters back\n");

	owner_exits(false, &base);
	owner_exits(true, &base);
	ksft_test_result_pass("owner exits or is killed without closing: counters back after waitpid\n");

	memfree1 = eptgate_meminfo_kb("MemFree");
	ksft_print_msg("MemFree %lu kB at the start, %lu kB at the end\n",
		       memfree0, memfree1);
	TEST_ASSERT(memfree1 + MEMFREE_SLACK_KB >= memfree0,
		    "MemFree fell by %lu kB over the test (slack %u kB)",
		    memfree0 - memfree1, MEMFREE_SLACK_KB);
	ksft_test_result_pass("MemFree within %u kB of the start\n",
			      MEMFREE_SLACK_KB);
	ksft_finished();
}
