// SPDX-License-Identifier: GPL-2.0
/*
 * trampoline_test: EPTGATE_INSTALL_TRAMPOLINE end to end.
 *
 * The blobs are made at build time (selftests/Makefile, probe_blob/probe.S,
 * guest/sign/) and read from tramp/ next to this binary (or
 * $EPTGATE_TRAMP_DIR).  The test adds the good key's certificate to the
 * module's .eptgate keyring with add_key(2) (the emulated machine has no
 * keyctl), and removes it at the end.
 *
 * VM 1's memory (Documentation/trampoline.rst, "The gates": the default
 * view runs the same bytes as the view, from a read-only memslot):
 *   memslot 0    the test's code, stacks, page tables: RWX in view 1
 *   CODE_GPA     memslot 1, KVM_MEM_READONLY, the payload's pages: the
 *                probe (probe.bin, the signed blob's payload) zero-padded
 *                to whole pages, written by the host.  In view 1 the
 *                module maps its verified copy X+R there.
 *   DATA_GPA     memslot 2, EPTGATE_TRAMPOLINE_DATA_LEN of ordinary RAM
 *                (DATA_PATTERN) at CODE_GPA + 16 KiB, where probe.S looks
 *                for the canary; in view 1 the module's private pages R+W
 *   RWCOPY_GPA   memslot 3, 8 writable pages: the same payload at + 0 and
 *                RAM at + 16 KiB (a default-view copy the guest could write)
 *   EXTRA_GPA    memslot 4, 4 pages: a RAM range of view 1 that a failed
 *                install must leave alone
 *   DOORBELL_GPA not RAM: the doorbell page, a KVM_IOEVENTFD (len 0)
 *   NOMEM_GPA    not RAM, no memslot
 * Guest virtual = guest physical throughout.
 *
 * The guest calls the code page in view 0 (the read-only copy of the
 * probe runs and finds the guest's own RAM, not the canary, at DATA_GPA),
 * then in view 1 (the module's copy: canary and parameters), rings the
 * doorbell from the probe (the eventfd must fire and the probe must go on
 * in view 1), writes a VMFUNC over the code's first bytes in view 0 (the
 * read-only memslot: KVM_EXIT_MMIO, the write is dropped, the code still
 * runs) and in view 1 (not writable there: falls back to view 0, then the
 * same MMIO exit), and calls the probe in view 1 again.
 */
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include "eptgate_util.h"
#include "../probe_blob/probe.h"

#define CODE_GPA	0x10000000ULL
#define CODE_SLOT	1
#define DATA_GPA	(CODE_GPA + EPTGATE_TRAMPOLINE_CODE_MAX)
#define DATA_SLOT	2
#define DATA_PAGES	(EPTGATE_TRAMPOLINE_DATA_LEN / 4096)
#define RWCOPY_GPA	0x18000000ULL
#define RWCOPY_SLOT	3
#define RWCOPY_PAGES	((EPTGATE_TRAMPOLINE_CODE_MAX + EPTGATE_TRAMPOLINE_DATA_LEN) / 4096)
#define EXTRA_GPA	0x30000000ULL
#define EXTRA_SLOT	4
/* RAM from the payload's last page up to DATA_GPA, if the payload is short. */
#define GAP_SLOT	5
#define EXTRA_LEN	EPTGATE_TRAMPOLINE_DATA_LEN
#define DOORBELL_GPA	0x20000000ULL
#define NOMEM_GPA	0x38000000ULL

#define DATA_PATTERN	0xda7ada7ada7ada7aULL
#define PARAM0		0x5041524d30313233ULL	/* "PARM0123" */
#define PARAM1		0x0123456789abcdefULL
/*
 * What the guest writes over the first qword of the code: a VMFUNC
 * (0f 01 d4) and int3s, the guest planting its own gate.
 */
#define WRITE_VAL	0xccccccccccd4010fULL

#define KEY_DESC	"eptgate-selftest-signer"

/* The module's reasons (kmod/trampoline.c) for the default-view checks. */
#define R_CODE	"code_gpa is not in a read-only memslot in the default view"
#define R_DIFF	"the default view's copy differs from the verified payload"
#define R_DATA	"data_gpa is not RAM in the default view"
#define R_MM	"install the trampoline from the VM's own process"

static_assert(PROBE_CODE_MAX == EPTGATE_TRAMPOLINE_CODE_MAX, "probe.h");
static_assert(PROBE_PARAM_OFF == EPTGATE_TRAMPOLINE_PARAM_OFF, "probe.h");

/* ---- guest ----------------------------------------------------------------- */

static volatile uint64_t res[PROBE_RES_NR];

static void clear_res(void)
{
	int i;

	for (i = 0; i < PROBE_RES_NR; i++)
		res[i] = 0;
}

/* Call the code at CODE_GPA like a function, below the red zone. */
static void call_code(uint64_t doorbell)
{
	asm volatile("sub $128, %%rsp\n\t"
		     "call *%[fn]\n\t"
		     "add $128, %%rsp"
		     : : [fn] "r"(CODE_GPA), "D"(res), "S"(doorbell)
		     : "rax", "memory", "cc");
}

static void guest_code(void)
{
	uint64_t before, after;

	/* 1: view 0 - the read-only copy, with the guest's RAM at DATA_GPA. */
	clear_res();
	call_code(0);
	GUEST_SYNC_ARGS(1, res[PROBE_RES_CANARY], res[PROBE_RES_MARKER],
			res[PROBE_RES_PARAM], res[PROBE_RES_COUNT]);

	/* 2: view 1 - the module's verified copy. */
	clear_res();
	vmfunc_eptp(1);
	call_code(0);
	GUEST_SYNC_ARGS(2, res[PROBE_RES_CANARY], res[PROBE_RES_MARKER],
			res[PROBE_RES_PARAM], res[PROBE_RES_COUNT]);

	/* 3: the probe rings the doorbell and goes on in view 1. */
	clear_res();
	vmfunc_eptp(1);
	call_code(DOORBELL_GPA);
	GUEST_SYNC_ARGS(3, res[PROBE_RES_AFTER_DB], res[PROBE_RES_MARKER],
			res[PROBE_RES_COUNT], 0);

	/*
	 * 4: view 0 - a write to the read-only memslot exits to the host
	 * (KVM_EXIT_MMIO), which drops it; the code is unchanged and runs.
	 */
	vmfunc_eptp(0);
	before = guest_read64(CODE_GPA);
	guest_write64(CODE_GPA, WRITE_VAL);
	after = guest_read64(CODE_GPA);
	clear_res();
	call_code(0);
	GUEST_SYNC_ARGS(4, before, after, res[PROBE_RES_MARKER],
			res[PROBE_RES_COUNT]);

	/*
	 * 5: view 1 - the code page is not writable: the write falls back to
	 * view 0 and hits the read-only memslot (KVM_EXIT_MMIO).
	 */
	vmfunc_eptp(1);
	before = guest_read64(CODE_GPA);
	guest_write64(CODE_GPA, WRITE_VAL);
	after = guest_read64(CODE_GPA);
	GUEST_SYNC_ARGS(5, before, after, 0, 0);

	/* 6: the verified copy still runs in view 1, unchanged. */
	clear_res();
	vmfunc_eptp(1);
	call_code(0);
	GUEST_SYNC_ARGS(6, res[PROBE_RES_CANARY], res[PROBE_RES_MARKER],
			res[PROBE_RES_COUNT], guest_read64(CODE_GPA));

	GUEST_DONE();
}

/* ---- host ------------------------------------------------------------------ */

#define MARKER_MODULE	((unsigned long long)PROBE_MARKER_MODULE)
#define CANARY1		((unsigned long long)EPTGATE_TRAMPOLINE_CANARY(1))

struct blob {
	const char *name;
	void *buf;
	size_t len;
};

static void load(struct blob *b, const char *name)
{
	b->name = name;
	b->buf = eptgate_read_tramp_file(name, &b->len);
}

static struct eptgate_trampoline tramp_args(const struct blob *b,
					    uint32_t view)
{
	static const uint64_t params[2] = { PARAM0, PARAM1 };

	return (struct eptgate_trampoline){
		.view = view,
		.blob = (uintptr_t)b->buf,
		.blob_len = b->len,
		.code_gpa = CODE_GPA,
		.data_gpa = DATA_GPA,
		.param = (uintptr_t)params,
		.param_len = sizeof(params),
		.doorbell_gpa = DOORBELL_GPA,
	};
}

static const char *errname(int e)
{
	switch (e) {
	case 0:		return "success";
	case ENODATA:	return "ENODATA";
	case EBADMSG:	return "EBADMSG";
	case ENOKEY:	return "ENOKEY";
	case EKEYREJECTED: return "EKEYREJECTED";
	case EFBIG:	return "EFBIG";
	case EEXIST:	return "EEXIST";
	case ENOENT:	return "ENOENT";
	case EINVAL:	return "EINVAL";
	case ENOMEM:	return "ENOMEM";
	case EFAULT:	return "EFAULT";
	default:	return strerror(e);
	}
}

/* INSTALL_TRAMPOLINE must fail with exactly @err. */
static void expect_install(int bfd, struct eptgate_trampoline *t, int err,
			   const char *what)
{
	int r = __eptgate_install_trampoline(bfd, t);

	TEST_ASSERT(r == -err,
		    "%s: EPTGATE_INSTALL_TRAMPOLINE returned %d (%s), expected -%s%s",
		    what, r, errname(-r), errname(err),
		    !r ? " - the trampoline was accepted (see dmesg)" : " (dmesg says why)");
}

/* The module's counters, on the test's open /dev/eptgate fd. */
static uint64_t table_pages(int dev)
{
	return eptgate_get_info(dev).table_pages;
}

/* Payload pages of the probe, and the probe itself (probe.bin). */
static const struct blob *payload;
static uint64_t ncode;
static uint64_t gap_gpa, gap_pages;

/* /dev/kmsg at its end (or -1): the module's reasons for a refusal. */
static int kmsg = -1;

/*
 * The module's reason for the refusal just made: if it logged one, it
 * must contain @reason.  (Reasons are rate limited, and /dev/kmsg may be
 * missing: then the errno and the rest are all there is to check.)
 */
static void check_reason(const char *what, const char *reason)
{
	char line[512];

	if (!eptgate_kmsg_find(kmsg, "eg_trampoline_install: ", line,
			       sizeof(line))) {
		if (kmsg >= 0)
			ksft_print_msg("%s: no eg_trampoline_install line in the kernel log (rate limited?)\n",
				       what);
		return;
	}
	TEST_ASSERT(strstr(line, reason),
		    "%s: the module says \"%s\", expected the reason \"%s\"",
		    what, line, reason);
}

/* A RAM range of view 1 can be set at [@gpa, +@len) unless it is not RAM. */
static void check_range_free(int bfd, uint64_t gpa, uint64_t len,
			     const char *what)
{
	int r = __eptgate_set_access(bfd, 1, gpa, len, EPTGATE_RO);

	if (r == -ENOENT)	/* not inside the memslots: nothing to probe */
		return;
	TEST_ASSERT(!r, "%s: after the refusal, a RAM range of view 1 at [0x%lx, +0x%lx) returned %d (%s), expected success: the refused install left a reservation",
		    what, gpa, len, r, errname(-r));
	eptgate_set_access(bfd, 1, gpa, len, 0);
}

/*
 * An install refused before it reserved anything: -@err, for @reason;
 * the pages it allocated are freed again (table_pages as before), and
 * view 1 has nothing at the code and data addresses it was given, nor at
 * CODE_GPA and DATA_GPA.
 */
static void expect_refused(int dev, int bfd, struct eptgate_trampoline *t,
			   int err, const char *what, const char *reason)
{
	uint64_t before = table_pages(dev), after;

	if (kmsg >= 0)
		lseek(kmsg, 0, SEEK_END);
	expect_install(bfd, t, err, what);
	check_reason(what, reason);
	after = table_pages(dev);
	TEST_ASSERT(after == before,
		    "%s: table_pages %lu before the refused install, %lu after: the refused trampoline's pages were not freed",
		    what, before, after);
	check_range_free(bfd, t->code_gpa, ncode * EPTGATE_PAGE_SIZE, what);
	check_range_free(bfd, t->data_gpa, EPTGATE_TRAMPOLINE_DATA_LEN, what);
	check_range_free(bfd, CODE_GPA, ncode * EPTGATE_PAGE_SIZE, what);
	check_range_free(bfd, DATA_GPA, EPTGATE_TRAMPOLINE_DATA_LEN, what);
}

static void check_view(int bfd, uint32_t expect, int stage)
{
	struct eptgate_vcpu_stats cs = eptgate_vcpu_stats(bfd, 0);

	TEST_ASSERT(cs.view == expect,
		    "stage %d: the vCPU's last exit (the ucall) was in view %u, expected view %u",
		    stage, cs.view, expect);
}

/* The host's view of the read-only copy must still be the payload, padded. */
static void check_ro_copy(const uint8_t *code_hva, const char *when)
{
	uint64_t i;

	TEST_ASSERT(!memcmp(code_hva, payload->buf, payload->len),
		    "%s: the read-only memslot at 0x%llx no longer holds the payload",
		    when, CODE_GPA);
	for (i = payload->len; i < ncode * EPTGATE_PAGE_SIZE; i++)
		TEST_ASSERT(!code_hva[i],
			    "%s: padding byte 0x%lx of the read-only memslot is 0x%x, expected 0",
			    when, i, code_hva[i]);
}

/*
 * Run to the guest's 8-byte write of WRITE_VAL at CODE_GPA, which must
 * exit as KVM_EXIT_MMIO (a write to a KVM_MEM_READONLY memslot).  The
 * next KVM_RUN completes it, i.e. drops it.
 */
static void expect_code_write_mmio(struct kvm_vcpu *vcpu, int stage)
{
	struct kvm_run *run = vcpu->run;

	vcpu_run(vcpu);
	TEST_ASSERT(run->exit_reason == KVM_EXIT_MMIO,
		    "stage %d: exit reason %u (%s) at the guest's write to the code page, expected KVM_EXIT_MMIO (a write to the read-only memslot)%s",
		    stage, run->exit_reason, exit_reason_str(run->exit_reason),
		    run->exit_reason == KVM_EXIT_IO ?
			": the write did not exit, so it went to writable memory" : "");
	TEST_ASSERT(run->mmio.phys_addr == CODE_GPA && run->mmio.is_write &&
		    run->mmio.len == 8 &&
		    !memcmp(run->mmio.data, &(uint64_t){ WRITE_VAL }, 8),
		    "stage %d: MMIO exit at gpa 0x%llx len %u is_write %u data 0x%lx, expected the 8-byte write of 0x%llx at 0x%llx",
		    stage, (unsigned long long)run->mmio.phys_addr, run->mmio.len,
		    run->mmio.is_write, *(uint64_t *)run->mmio.data, WRITE_VAL,
		    CODE_GPA);
}

/*
 * INSTALL_TRAMPOLINE from a child process (another mm): -errno.  The
 * guest's memory is MADV_DONTFORK (main()), as a VMM's is: fork() must not
 * write-protect it for copy-on-write in this process (with the module of
 * 1017f3d, view 1's lazy fills then fell back to view 0 for good on pages
 * the guest only reads or executes; 02ef9a0 maps them read-only instead).
 */
static int install_from_child(int bfd, struct eptgate_trampoline *t)
{
	int status;
	pid_t pid = fork();

	TEST_ASSERT(pid >= 0, "fork failed, errno: %i (%s)", errno,
		    strerror(errno));
	if (!pid)
		_exit(-__eptgate_install_trampoline(bfd, t) & 0xff);
	TEST_ASSERT(waitpid(pid, &status, 0) == pid && WIFEXITED(status),
		    "the child that installs the trampoline did not exit normally (status 0x%x)",
		    status);
	return -WEXITSTATUS(status);
}

/*
 * What the cases share: the blobs, the VM with its memslots, the binding
 * and the counters one case leaves for the next.  The cases run in order,
 * one TAP result each; a failed assertion ends the program.
 */
struct fixture {
	struct blob good, unsig, flipped, wrongkey, truncated, oversized, cert;
	struct eptgate_counters base;
	struct kvm_vm *vm;
	struct kvm_vcpu *vcpu;
	uint8_t *code_hva;
	uint64_t *data_hva;
	uint64_t first;		/* the payload's first qword */
	uint64_t tables;	/* EPT table pages the install made (case 14) */
	struct eptgate_view_stats st;	/* view 1's, at the previous stage */
	int32_t ring, key;
	int dev, bfd, efd;
};

static void setup(struct fixture *f)
{
	uint8_t *rw_hva;
	uint32_t view;
	int32_t old;

	load(&f->good, "good.signed");
	load(&f->unsig, "unsigned");
	load(&f->flipped, "flipped");
	load(&f->wrongkey, "wrongkey.signed");
	load(&f->truncated, "truncated");
	load(&f->oversized, "oversized.signed");
	load(&f->cert, "signing_cert.der");

	/* "unsigned" is probe.bin: the payload the good blob signs. */
	payload = &f->unsig;
	TEST_ASSERT(f->unsig.len && f->unsig.len <= EPTGATE_TRAMPOLINE_CODE_MAX &&
		    f->good.len > f->unsig.len &&
		    !memcmp(f->good.buf, f->unsig.buf, f->unsig.len),
		    "tramp/unsigned (%zu bytes) is not the payload of tramp/good.signed (%zu bytes)",
		    f->unsig.len, f->good.len);
	ncode = (f->unsig.len + EPTGATE_PAGE_SIZE - 1) / EPTGATE_PAGE_SIZE;
	memcpy(&f->first, f->unsig.buf, f->unsig.len < 8 ? f->unsig.len : 8);

	f->ring = eptgate_keyring_serial();
	/* A key left behind by an earlier run that died. */
	old = eptgate_keyring_find(f->ring, KEY_DESC);
	if (old > 0)
		TEST_ASSERT(!eptgate_keyring_unlink(old, f->ring),
			    "cannot unlink key %d left in the .eptgate keyring", old);

	eptgate_read_counters(&f->base);
	kmsg = eptgate_kmsg_open();

	f->vm = vm_create_with_one_vcpu(&f->vcpu, guest_code);
	vm_init_descriptor_tables(f->vm);
	vcpu_init_descriptor_tables(f->vcpu);
	/* The read-only copy: the host writes it through its own mapping. */
	vm_userspace_mem_region_add(f->vm, VM_MEM_SRC_ANONYMOUS, CODE_GPA,
				    CODE_SLOT, ncode, KVM_MEM_READONLY);
	vm_identity_map(f->vm, CODE_GPA, ncode);
	f->code_hva = addr_gpa2hva(f->vm, CODE_GPA);
	memset(f->code_hva, 0, ncode * EPTGATE_PAGE_SIZE);
	memcpy(f->code_hva, f->unsig.buf, f->unsig.len);
	f->data_hva = vm_add_ram(f->vm, DATA_SLOT, DATA_GPA, DATA_PAGES);
	eptgate_fill64(f->data_hva, DATA_PATTERN, EPTGATE_TRAMPOLINE_DATA_LEN);
	rw_hva = vm_add_ram(f->vm, RWCOPY_SLOT, RWCOPY_GPA, RWCOPY_PAGES);
	memcpy(rw_hva, f->unsig.buf, f->unsig.len);
	vm_add_ram(f->vm, EXTRA_SLOT, EXTRA_GPA, EXTRA_LEN / 4096);
	gap_gpa = CODE_GPA + ncode * EPTGATE_PAGE_SIZE;
	gap_pages = (DATA_GPA - gap_gpa) / EPTGATE_PAGE_SIZE;
	if (gap_pages)
		vm_add_ram(f->vm, GAP_SLOT, gap_gpa, gap_pages);
	vm_identity_map(f->vm, DOORBELL_GPA, 1);
	vm_guest_memory_dontfork(f->vm);

	f->dev = eptgate_open();
	f->bfd = eptgate_bind_vm(f->dev, f->vm);
	view = eptgate_create_view(f->bfd);
	TEST_ASSERT(view == 1, "first view of a new binding is %u, expected 1",
		    view);
	eptgate_set_access_slot(f->bfd, f->vm, 1, 0, EPTGATE_RWX);
	eptgate_set_access(f->bfd, 1, EXTRA_GPA, EXTRA_LEN, EPTGATE_RW);
}

/* 1: the keyring decides. */
static void test_keyring(struct fixture *f)
{
	struct eptgate_trampoline t = tramp_args(&f->good, 1);

	expect_install(f->bfd, &t, ENOKEY,
		       "good blob before its certificate is in the keyring");
	f->key = eptgate_keyring_add_cert(f->ring, KEY_DESC, f->cert.buf,
					  f->cert.len);
	ksft_test_result_pass("good blob refused (ENOKEY) until its certificate is in .eptgate (key %d, keyring %d)\n",
			      f->key, f->ring);
}

/* 2-8: bad blobs and arguments, each with its own errno. */
static void expect_blob(struct fixture *f, const struct blob *b, int err,
			const char *what)
{
	struct eptgate_trampoline t = tramp_args(b, 1);

	expect_install(f->bfd, &t, err, what);
}

static void test_unsigned(struct fixture *f)
{
	expect_blob(f, &f->unsig, ENODATA, "unsigned payload");
	ksft_test_result_pass("unsigned payload: ENODATA\n");
}

static void test_truncated(struct fixture *f)
{
	expect_blob(f, &f->truncated, EBADMSG, "truncated signature");
	ksft_test_result_pass("truncated signature: EBADMSG\n");
}

static void test_wrong_key(struct fixture *f)
{
	expect_blob(f, &f->wrongkey, ENOKEY, "signed by a key not in .eptgate");
	ksft_test_result_pass("signer not in the keyring: ENOKEY\n");
}

static void test_flipped(struct fixture *f)
{
	expect_blob(f, &f->flipped, EKEYREJECTED, "one payload bit flipped");
	ksft_test_result_pass("one payload bit flipped: EKEYREJECTED\n");
}

static void test_oversized(struct fixture *f)
{
	expect_blob(f, &f->oversized, EFBIG, "properly signed 20 KiB payload");
	ksft_test_result_pass("payload of %zu bytes (> 16 KiB), properly signed: EFBIG\n",
			      f->oversized.len);
}

static void test_blob_len_max(struct fixture *f)
{
	struct eptgate_trampoline t;
	uint8_t *big;

	big = calloc(1, EPTGATE_TRAMPOLINE_BLOB_MAX + 1);
	TEST_ASSERT(big, "calloc failed");
	memcpy(big, f->good.buf, f->good.len);
	t = tramp_args(&f->good, 1);
	t.blob = (uintptr_t)big;
	t.blob_len = EPTGATE_TRAMPOLINE_BLOB_MAX + 1;
	expect_install(f->bfd, &t, EFBIG, "blob_len = 64 KiB + 1");
	free(big);
	ksft_test_result_pass("blob_len 64 KiB + 1: EFBIG\n");
}

static void test_no_view(struct fixture *f)
{
	struct eptgate_trampoline t = tramp_args(&f->good, 2);

	expect_install(f->bfd, &t, ENOENT, "view 2, which does not exist");
	ksft_test_result_pass("no such view: ENOENT\n");
}

/* 9-12: the default view's copy and private pages (EINVAL). */
static void test_code_not_ro(struct fixture *f)
{
	struct eptgate_trampoline t;

	t = tramp_args(&f->good, 1);
	t.code_gpa = RWCOPY_GPA;
	t.data_gpa = RWCOPY_GPA + EPTGATE_TRAMPOLINE_CODE_MAX;
	expect_refused(f->dev, f->bfd, &t, EINVAL,
		       "code_gpa in an ordinary (writable) memslot holding the payload",
		       R_CODE);
	t = tramp_args(&f->good, 1);
	t.code_gpa = NOMEM_GPA;
	expect_refused(f->dev, f->bfd, &t, EINVAL, "code_gpa in no memslot",
		       R_CODE);
	ksft_test_result_pass("code_gpa in a writable memslot, or in none: EINVAL, nothing left behind\n");
}

static void test_ro_copy_differs(struct fixture *f)
{
	uint8_t *code_hva = f->code_hva;
	struct eptgate_trampoline t;
	uint8_t save;

	save = code_hva[16];
	code_hva[16] ^= 0x01;
	t = tramp_args(&f->good, 1);
	expect_refused(f->dev, f->bfd, &t, EINVAL,
		       "the read-only copy with payload byte 16 changed", R_DIFF);
	code_hva[16] = save;
	if (f->unsig.len % EPTGATE_PAGE_SIZE) {
		code_hva[f->unsig.len] = 0x90;
		t = tramp_args(&f->good, 1);
		expect_refused(f->dev, f->bfd, &t, EINVAL,
			       "the read-only copy with a non-zero byte right after the payload",
			       R_DIFF);
		code_hva[f->unsig.len] = 0;
	}
	code_hva[ncode * EPTGATE_PAGE_SIZE - 1] = 0xcc;
	t = tramp_args(&f->good, 1);
	expect_refused(f->dev, f->bfd, &t, EINVAL,
		       "the read-only copy with a non-zero last byte in its last page",
		       R_DIFF);
	code_hva[ncode * EPTGATE_PAGE_SIZE - 1] = 0;
	check_ro_copy(code_hva, "after restoring the read-only copy");
	ksft_test_result_pass("read-only copy differs (one payload byte, non-zero padding): EINVAL, nothing left behind\n");
}

static void test_data_not_ram(struct fixture *f)
{
	struct eptgate_trampoline t;

	t = tramp_args(&f->good, 1);
	t.data_gpa = NOMEM_GPA;
	expect_refused(f->dev, f->bfd, &t, EINVAL, "data_gpa in no memslot",
		       R_DATA);
	t = tramp_args(&f->good, 1);
	t.data_gpa = DATA_GPA + EPTGATE_PAGE_SIZE;
	expect_refused(f->dev, f->bfd, &t, EINVAL,
		       "data_gpa's last page past the end of its memslot", R_DATA);
	ksft_test_result_pass("data_gpa not RAM in the default view (no memslot, or one page past it): EINVAL, nothing left behind\n");
}

static void test_other_mm(struct fixture *f)
{
	struct eptgate_trampoline t = tramp_args(&f->good, 1);
	uint64_t tp0;
	int r;

	tp0 = table_pages(f->dev);
	if (kmsg >= 0)
		lseek(kmsg, 0, SEEK_END);
	r = install_from_child(f->bfd, &t);
	TEST_ASSERT(r == -EINVAL,
		    "EPTGATE_INSTALL_TRAMPOLINE from a child process (another mm) returned %d (%s), expected -EINVAL%s",
		    r, errname(-r),
		    !r ? ": the trampoline was installed from a process that is not the VM's" : "");
	TEST_ASSERT(table_pages(f->dev) == tp0,
		    "table_pages %lu before the child's refused install, %lu after",
		    tp0, table_pages(f->dev));
	check_reason("install from a child process", R_MM);
	ksft_test_result_pass("install from another process: EINVAL\n");
}

/* 13: overlaps; a failed install leaves the view's ranges alone. */
static void test_overlaps(struct fixture *f)
{
	struct eptgate_trampoline t;
	int bfd = f->bfd, r;

	eptgate_set_access(bfd, 1, CODE_GPA, ncode * EPTGATE_PAGE_SIZE,
			   EPTGATE_RO);
	t = tramp_args(&f->good, 1);
	expect_install(bfd, &t, EEXIST, "code pages on view 1's RAM range at CODE_GPA");
	r = __eptgate_set_access(bfd, 1, CODE_GPA, ncode * EPTGATE_PAGE_SIZE,
				 EPTGATE_RO);
	TEST_ASSERT(r == -EEXIST,
		    "after an install failed on view 1's RAM range at CODE_GPA, setting that range again returned %d (%s), expected -EEXIST: the failed install removed the caller's range",
		    r, errname(-r));
	eptgate_set_access(bfd, 1, CODE_GPA, ncode * EPTGATE_PAGE_SIZE, 0);
	t = tramp_args(&f->good, 1);
	t.data_gpa = EXTRA_GPA;
	expect_install(bfd, &t, EEXIST, "data pages exactly on view 1's RAM range at EXTRA_GPA");
	/* The range that made it fail is the caller's: it must still be there. */
	r = __eptgate_set_access(bfd, 1, EXTRA_GPA, EXTRA_LEN, EPTGATE_RW);
	TEST_ASSERT(r == -EEXIST,
		    "after an install failed on view 1's RAM range [0x%llx, +0x%x), setting that range again returned %d (%s), expected -EEXIST: the failed install removed the caller's range",
		    EXTRA_GPA, EXTRA_LEN, r, errname(-r));
	t = tramp_args(&f->good, 1);
	t.doorbell_gpa = EXTRA_GPA + EPTGATE_PAGE_SIZE;
	expect_install(bfd, &t, EEXIST, "doorbell page inside view 1's RAM range at EXTRA_GPA");
	r = __eptgate_set_access(bfd, 1, EXTRA_GPA, EXTRA_LEN, 0);
	TEST_ASSERT(!r, "removing view 1's RAM range [0x%llx, +0x%x) after the failed installs: %d (%s), expected success",
		    EXTRA_GPA, EXTRA_LEN, r, errname(-r));
	eptgate_set_access(bfd, 1, EXTRA_GPA, EXTRA_LEN, EPTGATE_RW);
	/* The code area is CODE_MAX long, whatever the payload's length. */
	if (gap_pages) {
		eptgate_set_access(bfd, 1, gap_gpa, EPTGATE_PAGE_SIZE, EPTGATE_RW);
		t = tramp_args(&f->good, 1);
		expect_install(bfd, &t, EEXIST,
			       "RAM range between the payload's last page and code_gpa + EPTGATE_TRAMPOLINE_CODE_MAX");
		eptgate_set_access(bfd, 1, gap_gpa, EPTGATE_PAGE_SIZE, 0);
	}
	ksft_test_result_pass("overlap with a RAM range (also past the payload, inside CODE_MAX: %lu pages): EEXIST, the range stays\n",
			      gap_pages);
}

/* 14: the good blob, counted in table_pages; only one per view. */
static void test_install(struct fixture *f)
{
	struct eptgate_trampoline t;
	int dev = f->dev, bfd = f->bfd, r;
	uint64_t tp0, tp1, tables;

	tp0 = table_pages(dev);
	t = tramp_args(&f->good, 1);
	eptgate_install_trampoline(bfd, &t);
	tp1 = table_pages(dev);
	TEST_ASSERT(tp1 >= tp0 + ncode + DATA_PAGES,
		    "table_pages %lu -> %lu at install, expected at least +%lu (%lu payload pages + %u private pages)",
		    tp0, tp1, ncode + DATA_PAGES, ncode, DATA_PAGES);
	tables = tp1 - tp0 - ncode - DATA_PAGES;
	/* At most PDPT + PD + PT for each of the two 2 MiB regions touched. */
	TEST_ASSERT(tables <= 6,
		    "table_pages %lu -> %lu at install: %lu pages beyond the %lu trampoline pages, expected at most 6 EPT tables",
		    tp0, tp1, tables, ncode + DATA_PAGES);
	if (gap_pages) {
		r = __eptgate_set_access(bfd, 1, gap_gpa + (gap_pages - 1) * EPTGATE_PAGE_SIZE,
					 EPTGATE_PAGE_SIZE, EPTGATE_RW);
		TEST_ASSERT(r == -EEXIST,
			    "with the trampoline installed, a RAM range on the last page before data_gpa (0x%lx) returned %d (%s), expected -EEXIST: the code area is reserved up to EPTGATE_TRAMPOLINE_CODE_MAX",
			    (uint64_t)(gap_gpa + (gap_pages - 1) * EPTGATE_PAGE_SIZE),
			    r, errname(-r));
	}
	t = tramp_args(&f->good, 1);
	expect_install(bfd, &t, EEXIST, "second install on view 1");
	TEST_ASSERT(table_pages(dev) == tp1,
		    "table_pages %lu after the refused second install, expected %lu",
		    table_pages(dev), tp1);
	f->tables = tables;
	ksft_test_result_pass("good blob (%zu bytes) installed after the rejections: table_pages +%lu (%lu code + %u private + %lu EPT tables); a second install: EEXIST\n",
			      f->good.len, tp1 - tp0, ncode, DATA_PAGES, tables);
}

/* Before the guest runs: the doorbell's ioeventfd, and switching on. */
static void start_guest(struct fixture *f)
{
	f->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	TEST_ASSERT(f->efd >= 0, "eventfd failed, errno: %i (%s)", errno,
		    strerror(errno));
	vm_ioctl(f->vm, KVM_IOEVENTFD, (&(struct kvm_ioeventfd){
		.addr = DOORBELL_GPA, .len = 0, .fd = f->efd }));
	eptgate_enable(f->bfd);
}

/* 15: view 0 runs the read-only copy, on the guest's own RAM. */
static void test_view0_ro_copy(struct fixture *f)
{
	uint64_t *data_hva = f->data_hva;
	struct ucall uc;

	start_guest(f);
	eptgate_run_expect_sync(f->vcpu, 1, &uc);
	check_view(f->bfd, 0, 1);
	TEST_ASSERT(uc.args[3] == MARKER_MODULE,
		    "stage 1: the code at 0x%llx in view 0 returned marker 0x%lx, expected the probe's 0x%llx (the read-only copy)",
		    CODE_GPA, uc.args[3], MARKER_MODULE);
	TEST_ASSERT(uc.args[2] == DATA_PATTERN,
		    "stage 1: the probe in view 0 read 0x%lx at DATA_GPA, expected the guest's own 0x%llx%s",
		    uc.args[2], DATA_PATTERN,
		    uc.args[2] == CANARY1 ? " (the private page leaks into view 0)" : "");
	TEST_ASSERT(uc.args[4] == DATA_PATTERN,
		    "stage 1: the probe in view 0 read 0x%lx at DATA_GPA + %d, expected the guest's own 0x%llx%s",
		    uc.args[4], EPTGATE_TRAMPOLINE_PARAM_OFF, DATA_PATTERN,
		    uc.args[4] == PARAM0 ? " (the parameters leak into view 0)" : "");
	TEST_ASSERT(uc.args[5] == DATA_PATTERN + 1 &&
		    data_hva[PROBE_COUNT_OFF / 8] == DATA_PATTERN + 1,
		    "stage 1: the probe's count in view 0 is 0x%lx, the guest's RAM at DATA_GPA + %d holds 0x%lx, expected both 0x%llx (its increment of the guest's own qword)",
		    uc.args[5], PROBE_COUNT_OFF, data_hva[PROBE_COUNT_OFF / 8],
		    DATA_PATTERN + 1);
	ksft_test_result_pass("view 0: the read-only copy runs and finds the guest's own RAM at DATA_GPA, no canary\n");
}

/* 16: view 1 runs the module's copy: canary, parameters, data. */
static void test_view1_verified(struct fixture *f)
{
	uint64_t *data_hva = f->data_hva;
	struct ucall uc;
	uint64_t ev;

	eptgate_run_expect_sync(f->vcpu, 2, &uc);
	check_view(f->bfd, 1, 2);
	f->st = eptgate_view_stats(f->bfd, 1);
	TEST_ASSERT(uc.args[3] == MARKER_MODULE,
		    "stage 2: the code at 0x%llx in view 1 returned marker 0x%lx, expected the signed probe's 0x%llx",
		    CODE_GPA, uc.args[3], MARKER_MODULE);
	TEST_ASSERT(uc.args[2] == CANARY1,
		    "stage 2: the probe read 0x%lx at data qword 0, expected the canary 0x%llx%s",
		    uc.args[2], CANARY1,
		    uc.args[2] == DATA_PATTERN ? " (it sees the guest's RAM: not in view 1)" : "");
	TEST_ASSERT(uc.args[4] == PARAM0,
		    "stage 2: the probe read 0x%lx at data + %d, expected the first parameter 0x%llx",
		    uc.args[4], EPTGATE_TRAMPOLINE_PARAM_OFF, PARAM0);
	TEST_ASSERT(uc.args[5] == 1,
		    "stage 2: the probe's call count in the private data page is %lu, expected 1",
		    uc.args[5]);
	TEST_ASSERT(data_hva[0] == DATA_PATTERN &&
		    data_hva[PROBE_COUNT_OFF / 8] == DATA_PATTERN + 1,
		    "stage 2: the guest's own memory at DATA_GPA holds 0x%lx, at + %d 0x%lx, expected 0x%llx and 0x%llx: the probe's private page is not private",
		    data_hva[0], PROBE_COUNT_OFF, data_hva[PROBE_COUNT_OFF / 8],
		    DATA_PATTERN, DATA_PATTERN + 1);
	TEST_ASSERT(read(f->efd, &ev, sizeof(ev)) < 0 && errno == EAGAIN,
		    "stage 2: the doorbell eventfd fired without a doorbell write");
	ksft_test_result_pass("view 1: the verified copy runs, reads canary 0x%lx and parameter 0x%lx from its private page\n",
			      uc.args[2], uc.args[4]);
}

/* 17: the doorbell. */
static void test_doorbell(struct fixture *f)
{
	struct eptgate_view_stats st2 = f->st, st3;
	struct ucall uc;
	uint64_t ev;
	int r;

	eptgate_run_expect_sync(f->vcpu, 3, &uc);
	check_view(f->bfd, 1, 3);
	st3 = eptgate_view_stats(f->bfd, 1);
	ev = 0;
	r = read(f->efd, &ev, sizeof(ev));
	TEST_ASSERT(r == sizeof(ev) && ev == 1,
		    "stage 3: reading the doorbell eventfd: rc %d errno %d, count %lu, expected one signal",
		    r, r < 0 ? errno : 0, ev);
	TEST_ASSERT(uc.args[2] == CANARY1 && uc.args[3] == MARKER_MODULE,
		    "stage 3: after the doorbell the probe stored canary 0x%lx marker 0x%lx, expected 0x%llx 0x%llx: it did not go on in view 1",
		    uc.args[2], uc.args[3], CANARY1, MARKER_MODULE);
	TEST_ASSERT(uc.args[4] == 2,
		    "stage 3: call count %lu, expected 2", uc.args[4]);
	TEST_ASSERT(st3.doorbells == st2.doorbells + 1 && st3.doorbells == 1,
		    "stage 3: view 1 doorbells %lu -> %lu, expected 0 -> 1",
		    (uint64_t)st2.doorbells, (uint64_t)st3.doorbells);
	TEST_ASSERT(st3.fallbacks == st2.fallbacks,
		    "stage 3: view 1 fallbacks %lu -> %lu, expected no change across the doorbell",
		    (uint64_t)st2.fallbacks, (uint64_t)st3.fallbacks);
	f->st = st3;
	ksft_test_result_pass("doorbell: eventfd signalled once, the probe went on in view 1 (doorbells %lu, fallbacks unchanged)\n",
			      (uint64_t)st3.doorbells);
}

/* 18: a write to the read-only copy in view 0. */
static void test_write_view0(struct fixture *f)
{
	struct eptgate_view_stats st3 = f->st, st4;
	uint64_t first = f->first;
	struct ucall uc;

	expect_code_write_mmio(f->vcpu, 4);
	check_view(f->bfd, 0, 4);
	check_ro_copy(f->code_hva, "stage 4, at the MMIO exit");
	eptgate_run_expect_sync(f->vcpu, 4, &uc);
	check_view(f->bfd, 0, 4);
	st4 = eptgate_view_stats(f->bfd, 1);
	TEST_ASSERT(uc.args[2] == first && uc.args[3] == first,
		    "stage 4: the code's first qword reads 0x%lx before and 0x%lx after the guest's write in view 0, expected the probe's 0x%lx both times",
		    uc.args[2], uc.args[3], first);
	TEST_ASSERT(uc.args[4] == MARKER_MODULE &&
		    uc.args[5] == DATA_PATTERN + 2,
		    "stage 4: after the write the code in view 0 returned marker 0x%lx count 0x%lx, expected 0x%llx 0x%llx",
		    uc.args[4], uc.args[5], MARKER_MODULE, DATA_PATTERN + 2);
	TEST_ASSERT(st4.fallbacks == st3.fallbacks,
		    "stage 4: view 1 fallbacks %lu -> %lu, expected no change (the write was in view 0)",
		    (uint64_t)st3.fallbacks, (uint64_t)st4.fallbacks);
	check_ro_copy(f->code_hva, "stage 4");
	f->st = st4;
	ksft_test_result_pass("write to the code in view 0: KVM_EXIT_MMIO (read-only memslot), dropped; the read-only copy still runs\n");
}

/* 19: the code page is not writable in view 1. */
static void test_write_view1(struct fixture *f)
{
	struct eptgate_view_stats st4 = f->st, st5;
	uint64_t first = f->first;
	struct ucall uc;

	expect_code_write_mmio(f->vcpu, 5);
	st5 = eptgate_view_stats(f->bfd, 1);
	TEST_ASSERT(st5.fallbacks == st4.fallbacks + 1,
		    "stage 5: view 1 fallbacks %lu -> %lu at the write to the code page, expected +1",
		    (uint64_t)st4.fallbacks, (uint64_t)st5.fallbacks);
	check_ro_copy(f->code_hva, "stage 5, at the MMIO exit");
	eptgate_run_expect_sync(f->vcpu, 5, &uc);
	check_view(f->bfd, 0, 5);
	TEST_ASSERT(uc.args[2] == first,
		    "stage 5: the code's first qword reads 0x%lx in view 1, expected the module copy's 0x%lx",
		    uc.args[2], first);
	TEST_ASSERT(uc.args[3] == first,
		    "stage 5: the code's first qword reads 0x%lx after the write (in view 0), expected 0x%lx",
		    uc.args[3], first);
	check_ro_copy(f->code_hva, "stage 5");
	f->st = st5;
	ksft_test_result_pass("write to the code page in view 1: falls back to view 0, KVM_EXIT_MMIO on the read-only memslot, dropped\n");
}

/* 20: the verified copy again. */
static void test_verified_again(struct fixture *f)
{
	struct eptgate_view_stats st6;
	struct ucall uc;

	eptgate_run_expect_sync(f->vcpu, 6, &uc);
	check_view(f->bfd, 1, 6);
	st6 = eptgate_view_stats(f->bfd, 1);
	TEST_ASSERT(uc.args[3] == MARKER_MODULE && uc.args[2] == CANARY1,
		    "stage 6: the code in view 1 returned marker 0x%lx canary 0x%lx, expected 0x%llx 0x%llx",
		    uc.args[3], uc.args[2], MARKER_MODULE, CANARY1);
	TEST_ASSERT(uc.args[4] == 3, "stage 6: call count %lu, expected 3",
		    uc.args[4]);
	TEST_ASSERT(uc.args[5] == f->first,
		    "stage 6: the code's first qword reads 0x%lx in view 1, expected 0x%lx: the guest's write reached the module's copy",
		    uc.args[5], f->first);
	TEST_ASSERT(st6.doorbells == 1,
		    "stage 6: view 1 doorbells %lu, expected 1", (uint64_t)st6.doorbells);
	eptgate_run_expect_done(f->vcpu);
	f->st = st6;
	ksft_test_result_pass("after the writes the verified copy still runs in view 1, unchanged\n");
}

/* 21: the trampoline goes with its view. */
static void test_view_destroy(struct fixture *f)
{
	uint64_t tp2, tp3, tp4, freed;
	struct eptgate_trampoline t;
	int dev = f->dev, bfd = f->bfd;

	tp2 = table_pages(dev);
	eptgate_destroy_view(bfd, 1);
	tp3 = table_pages(dev);
	TEST_ASSERT(tp3 + ncode + DATA_PAGES + f->tables <= tp2,
		    "table_pages %lu -> %lu when view 1 was destroyed, expected at least -%lu (its trampoline's pages and the tables its install made)",
		    tp2, tp3, ncode + DATA_PAGES + f->tables);
	freed = tp2 - tp3;
	TEST_ASSERT(eptgate_create_view(bfd) == 1, "view 1 not free again");
	tp3 = table_pages(dev);
	t = tramp_args(&f->good, 1);
	eptgate_install_trampoline(bfd, &t);
	tp4 = table_pages(dev);
	TEST_ASSERT(tp4 >= tp3 + ncode + DATA_PAGES &&
		    tp4 <= tp3 + ncode + DATA_PAGES + 6,
		    "table_pages %lu -> %lu at the second view's install, expected +%lu and at most 6 EPT tables more",
		    tp3, tp4, ncode + DATA_PAGES);
	ksft_test_result_pass("view destroyed with its trampoline (table_pages -%lu); a new view 1 takes a new one (+%lu)\n",
			      freed, tp4 - tp3);
}

/* 22: nothing left behind. */
static void test_nothing_left(struct fixture *f)
{
	struct eptgate_counters now;
	int r;

	close(f->efd);
	close(f->bfd);
	close(f->dev);
	kvm_vm_free(f->vm);
	if (kmsg >= 0)
		close(kmsg);
	/* Names the first counter that differs if they never come back. */
	eptgate_wait_counters(&f->base, &now, 5000);
	eptgate_assert_counters(&f->base, &now, "5 s after closing everything");
	r = eptgate_keyring_unlink(f->key, f->ring);
	TEST_ASSERT(!r, "unlinking key %d from keyring %d: %d (%s)", f->key,
		    f->ring, r, errname(-r));
	ksft_test_result_pass("GET_INFO counters back at the baseline; key unlinked\n");
}

static void free_blobs(struct fixture *f)
{
	free(f->good.buf);
	free(f->unsig.buf);
	free(f->flipped.buf);
	free(f->wrongkey.buf);
	free(f->truncated.buf);
	free(f->oversized.buf);
	free(f->cert.buf);
}

/* In this order: each case starts from the state the one before left. */
static void (*const cases[])(struct fixture *f) = {
	test_keyring,
	test_unsigned,
	test_truncated,
	test_wrong_key,
	test_flipped,
	test_oversized,
	test_blob_len_max,
	test_no_view,
	test_code_not_ro,
	test_ro_copy_differs,
	test_data_not_ram,
	test_other_mm,
	test_overlaps,
	test_install,
	test_view0_ro_copy,
	test_view1_verified,
	test_doorbell,
	test_write_view0,
	test_write_view1,
	test_verified_again,
	test_view_destroy,
	test_nothing_left,
};

int main(void)
{
	static struct fixture f;
	unsigned int i;

	eptgate_require();
	ksft_print_header();
	ksft_set_plan(ARRAY_SIZE(cases));

	setup(&f);
	for (i = 0; i < ARRAY_SIZE(cases); i++)
		cases[i](&f);
	free_blobs(&f);
	ksft_finished();
}
