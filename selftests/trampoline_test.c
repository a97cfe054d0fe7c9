// SPDX-License-Identifier: GPL-2.0
/*
 * trampoline_test: EPTGATE_INSTALL_TRAMPOLINE end to end.
 *
 * The blobs are made at build time (selftests/Makefile, tramp/probe.S,
 * guest/sign/) and read from tramp/ next to this binary (or
 * $EPTGATE_TRAMP_DIR).  The test adds the good key's certificate to the
 * module's .eptgate keyring with add_key(2) (the emulated machine has no
 * keyctl), and removes it at the end.
 *
 * VM 1's memory:
 *   memslot 0    the test's code, stacks, page tables: RWX in view 1
 *   CODE_GPA     memslot 1, 8 pages: the guest's own copy of the code
 *                pages (a decoy routine returning PROBE_MARKER_GUEST, then
 *                int3) and of the data pages (DATA_PATTERN); in view 1 the
 *                module maps its verified copy of probe.bin X+R at CODE_GPA
 *                and its private data pages R+W at DATA_GPA = CODE_GPA +
 *                16 KiB (where probe.S looks for the canary)
 *   EXTRA_GPA    memslot 2, 4 pages: a RAM range of view 1 that a failed
 *                install must leave alone
 *   DOORBELL_GPA not RAM: the doorbell page, a KVM_IOEVENTFD (len 0)
 * Guest virtual = guest physical throughout.
 *
 * The guest calls the code page in view 0 (the decoy must run), then in
 * view 1 (the probe must run and see the canary and the parameters), rings
 * the doorbell from the probe (the eventfd must fire and the probe must go
 * on in view 1), writes the code page in view 1 (falls back to view 0 and
 * lands in its own copy) and calls the probe again.
 */
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "eptgate_util.h"
#include "../tramp/probe.h"

#define CODE_GPA	0x10000000ULL
#define CODE_SLOT	1
#define DATA_GPA	(CODE_GPA + EPTGATE_TRAMPOLINE_CODE_MAX)
#define CODE_PAGES	((EPTGATE_TRAMPOLINE_CODE_MAX + EPTGATE_TRAMPOLINE_DATA_LEN) / 4096)
#define EXTRA_GPA	0x30000000ULL
#define EXTRA_SLOT	2
#define EXTRA_LEN	EPTGATE_TRAMPOLINE_DATA_LEN
#define DOORBELL_GPA	0x20000000ULL

#define DATA_PATTERN	0xda7ada7ada7ada7aULL
#define PARAM0		0x5041524d30313233ULL	/* "PARM0123" */
#define PARAM1		0x0123456789abcdefULL
/* Offset in the code page the guest writes to in view 1. */
#define WRITE_OFF	0x800
#define WRITE_VAL	0x5752495445434f44ULL	/* "WRITECOD" */

#define KEY_DESC	"eptgate-selftest-signer"

static_assert(PROBE_CODE_MAX == EPTGATE_TRAMPOLINE_CODE_MAX, "probe.h");
static_assert(PROBE_PARAM_OFF == EPTGATE_TRAMPOLINE_PARAM_OFF, "probe.h");
static_assert(DATA_GPA + EPTGATE_TRAMPOLINE_DATA_LEN ==
	      CODE_GPA + CODE_PAGES * 4096, "layout");

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
	uint64_t in_view, after;

	/* 1: view 0 - the guest's own copy at CODE_GPA. */
	clear_res();
	call_code(0);
	GUEST_SYNC_ARGS(1, res[PROBE_RES_CANARY], res[PROBE_RES_MARKER],
			guest_read64(DATA_GPA), 0);

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

	/* 4: a write to the code page in view 1 falls back to view 0. */
	vmfunc_eptp(1);
	in_view = guest_read64(CODE_GPA + WRITE_OFF);
	guest_write64(CODE_GPA + WRITE_OFF, WRITE_VAL);
	after = guest_read64(CODE_GPA + WRITE_OFF);
	GUEST_SYNC_ARGS(4, in_view, after, 0, 0);

	/* 5: the verified copy still runs in view 1, unchanged. */
	clear_res();
	vmfunc_eptp(1);
	call_code(0);
	GUEST_SYNC_ARGS(5, res[PROBE_RES_CANARY], res[PROBE_RES_MARKER],
			res[PROBE_RES_COUNT], guest_read64(CODE_GPA + WRITE_OFF));

	GUEST_DONE();
}

/* ---- host ------------------------------------------------------------------ */

#define MARKER_MODULE	((unsigned long long)PROBE_MARKER_MODULE)
#define MARKER_GUEST	((unsigned long long)PROBE_MARKER_GUEST)

struct blob {
	const char *name;
	void *buf;
	size_t len;
};

static char tramp_dir[PATH_MAX];

static void find_tramp_dir(void)
{
	const char *env = getenv("EPTGATE_TRAMP_DIR");
	char exe[PATH_MAX];
	ssize_t n;

	if (env) {
		snprintf(tramp_dir, sizeof(tramp_dir), "%s", env);
		return;
	}
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	TEST_ASSERT(n > 0, "readlink(/proc/self/exe) failed, errno: %i (%s)",
		    errno, strerror(errno));
	exe[n] = 0;
	snprintf(tramp_dir, sizeof(tramp_dir), "%s/tramp", dirname(exe));
}

static void load(struct blob *b, const char *name)
{
	char path[PATH_MAX + 64];

	snprintf(path, sizeof(path), "%s/%s", tramp_dir, name);
	b->name = name;
	b->buf = eptgate_read_file(path, &b->len);
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
		    !r ? " - the blob was accepted (see dmesg)" : " (dmesg says why)");
}

/*
 * The guest's own bytes at CODE_GPA: "movq $0, (%rdi); movabs
 * $MARKER_GUEST, %rax; mov %rax, 8(%rdi); ret", then int3 up to
 * EPTGATE_TRAMPOLINE_CODE_MAX: a vCPU that fell back to view 0 in the
 * middle of the probe stops on #BP instead of running on.
 */
static void write_decoy(uint8_t *p)
{
	static const uint8_t head[] = { 0x48, 0xc7, 0x07, 0, 0, 0, 0,
					0x48, 0xb8 };
	static const uint8_t tail[] = { 0x48, 0x89, 0x47, 0x08, 0xc3 };
	uint64_t marker = PROBE_MARKER_GUEST;
	size_t off = 0;

	memset(p, 0xcc, EPTGATE_TRAMPOLINE_CODE_MAX);
	memcpy(p + off, head, sizeof(head));
	off += sizeof(head);
	memcpy(p + off, &marker, sizeof(marker));
	off += sizeof(marker);
	memcpy(p + off, tail, sizeof(tail));
}

static void check_view(int bfd, uint32_t expect, int stage)
{
	struct eptgate_vcpu_stats cs = eptgate_vcpu_stats(bfd, 0);

	TEST_ASSERT(cs.view == expect,
		    "stage %d: the vCPU's last exit (the ucall) was in view %u, expected view %u",
		    stage, cs.view, expect);
}

int main(void)
{
	struct blob good, unsig, flipped, wrongkey, truncated, oversized, cert;
	struct eptgate_view_stats st2, st3, st4, st5;
	struct eptgate_counters base, now;
	struct eptgate_trampoline t;
	uint64_t slot0_gpa, slot0_len, ev;
	uint8_t *code_hva, *big;
	struct kvm_vcpu *vcpu;
	int32_t ring, key, old;
	struct kvm_vm *vm;
	int dev, bfd, efd, r;
	struct ucall uc;
	uint32_t view;

	eptgate_require();
	ksft_print_header();
	ksft_set_plan(17);

	find_tramp_dir();
	load(&good, "good.signed");
	load(&unsig, "unsigned");
	load(&flipped, "flipped");
	load(&wrongkey, "wrongkey.signed");
	load(&truncated, "truncated");
	load(&oversized, "oversized.signed");
	load(&cert, "signing_cert.der");

	ring = eptgate_keyring_serial();
	/* A key left behind by an earlier run that died. */
	old = eptgate_keyring_find(ring, KEY_DESC);
	if (old > 0)
		TEST_ASSERT(!eptgate_keyring_unlink(old, ring),
			    "cannot unlink key %d left in the .eptgate keyring", old);

	eptgate_read_counters(&base);

	vm = vm_create_with_one_vcpu(&vcpu, guest_code);
	vm_init_descriptor_tables(vm);
	vcpu_init_descriptor_tables(vcpu);
	code_hva = vm_add_ram(vm, CODE_SLOT, CODE_GPA, CODE_PAGES);
	write_decoy(code_hva);
	eptgate_fill64(code_hva + EPTGATE_TRAMPOLINE_CODE_MAX, DATA_PATTERN,
		       EPTGATE_TRAMPOLINE_DATA_LEN);
	vm_add_ram(vm, EXTRA_SLOT, EXTRA_GPA, EXTRA_LEN / 4096);
	vm_identity_map(vm, DOORBELL_GPA, 1);
	vm_memslot0_range(vm, &slot0_gpa, &slot0_len);
	TEST_ASSERT(slot0_len >= 0x10000 + EPTGATE_TRAMPOLINE_CODE_MAX,
		    "memslot 0 is only 0x%lx bytes", slot0_len);

	dev = eptgate_open();
	bfd = eptgate_bind_vm(dev, vm);
	view = eptgate_create_view(bfd);
	TEST_ASSERT(view == 1, "first view of a new binding is %u, expected 1",
		    view);
	eptgate_set_access_slot(bfd, vm, 1, 0, EPTGATE_RWX);
	eptgate_set_access(bfd, 1, EXTRA_GPA, EXTRA_LEN, EPTGATE_RW);

	/* 1: the keyring decides. */
	t = tramp_args(&good, 1);
	expect_install(bfd, &t, ENOKEY,
		       "good blob before its certificate is in the keyring");
	key = eptgate_keyring_add_cert(ring, KEY_DESC, cert.buf, cert.len);
	ksft_test_result_pass("good blob refused (ENOKEY) until its certificate is in .eptgate (key %d, keyring %d)\n",
			      key, ring);

	/* 2-8: bad blobs and arguments, each with its own errno. */
	t = tramp_args(&unsig, 1);
	expect_install(bfd, &t, ENODATA, "unsigned payload");
	ksft_test_result_pass("unsigned payload: ENODATA\n");

	t = tramp_args(&truncated, 1);
	expect_install(bfd, &t, EBADMSG, "truncated signature");
	ksft_test_result_pass("truncated signature: EBADMSG\n");

	t = tramp_args(&wrongkey, 1);
	expect_install(bfd, &t, ENOKEY, "signed by a key not in .eptgate");
	ksft_test_result_pass("signer not in the keyring: ENOKEY\n");

	t = tramp_args(&flipped, 1);
	expect_install(bfd, &t, EKEYREJECTED, "one payload bit flipped");
	ksft_test_result_pass("one payload bit flipped: EKEYREJECTED\n");

	t = tramp_args(&oversized, 1);
	expect_install(bfd, &t, EFBIG, "properly signed 20 KiB payload");
	ksft_test_result_pass("payload of %zu bytes (> 16 KiB), properly signed: EFBIG\n",
			      oversized.len);

	big = calloc(1, EPTGATE_TRAMPOLINE_BLOB_MAX + 1);
	TEST_ASSERT(big, "calloc failed");
	memcpy(big, good.buf, good.len);
	t = tramp_args(&good, 1);
	t.blob = (uintptr_t)big;
	t.blob_len = EPTGATE_TRAMPOLINE_BLOB_MAX + 1;
	expect_install(bfd, &t, EFBIG, "blob_len = 64 KiB + 1");
	free(big);
	ksft_test_result_pass("blob_len 64 KiB + 1: EFBIG\n");

	t = tramp_args(&good, 2);
	expect_install(bfd, &t, ENOENT, "view 2, which does not exist");
	ksft_test_result_pass("no such view: ENOENT\n");

	/* 9: overlaps; a failed install leaves the view's ranges alone. */
	t = tramp_args(&good, 1);
	t.code_gpa = slot0_gpa + 0x10000;
	t.data_gpa = CODE_GPA + EPTGATE_TRAMPOLINE_CODE_MAX;
	t.doorbell_gpa = 0;
	expect_install(bfd, &t, EEXIST, "code pages inside view 1's RAM range of memslot 0");
	t = tramp_args(&good, 1);
	t.data_gpa = EXTRA_GPA;
	expect_install(bfd, &t, EEXIST, "data pages exactly on view 1's RAM range at EXTRA_GPA");
	/* The range that made it fail is the caller's: it must still be there. */
	r = __eptgate_set_access(bfd, 1, EXTRA_GPA, EXTRA_LEN, EPTGATE_RW);
	TEST_ASSERT(r == -EEXIST,
		    "after an install failed on view 1's RAM range [0x%llx, +0x%x), setting that range again returned %d (%s), expected -EEXIST: the failed install removed the caller's range",
		    EXTRA_GPA, EXTRA_LEN, r, errname(-r));
	t = tramp_args(&good, 1);
	t.doorbell_gpa = EXTRA_GPA + EPTGATE_PAGE_SIZE;
	expect_install(bfd, &t, EEXIST, "doorbell page inside view 1's RAM range at EXTRA_GPA");
	r = __eptgate_set_access(bfd, 1, EXTRA_GPA, EXTRA_LEN, 0);
	TEST_ASSERT(!r, "removing view 1's RAM range [0x%llx, +0x%x) after the failed installs: %d (%s), expected success",
		    EXTRA_GPA, EXTRA_LEN, r, errname(-r));
	eptgate_set_access(bfd, 1, EXTRA_GPA, EXTRA_LEN, EPTGATE_RW);
	ksft_test_result_pass("overlap with a RAM range: EEXIST, the range stays\n");

	/* 10: the good blob; only one per view. */
	t = tramp_args(&good, 1);
	eptgate_install_trampoline(bfd, &t);
	t = tramp_args(&good, 1);
	expect_install(bfd, &t, EEXIST, "second install on view 1");
	ksft_test_result_pass("good blob (%zu bytes) installed after the rejections; a second install: EEXIST\n",
			      good.len);

	efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	TEST_ASSERT(efd >= 0, "eventfd failed, errno: %i (%s)", errno,
		    strerror(errno));
	vm_ioctl(vm, KVM_IOEVENTFD, (&(struct kvm_ioeventfd){
		.addr = DOORBELL_GPA, .len = 0, .fd = efd }));
	eptgate_enable(bfd);

	/* 11: view 0 runs the guest's own bytes. */
	eptgate_run_expect_sync(vcpu, 1, &uc);
	check_view(bfd, 0, 1);
	TEST_ASSERT(uc.args[3] == MARKER_GUEST,
		    "stage 1: the code at 0x%llx in view 0 returned marker 0x%lx, expected the guest's own 0x%llx%s",
		    CODE_GPA, uc.args[3], MARKER_GUEST,
		    uc.args[3] == MARKER_MODULE ? " (the module's copy runs in view 0)" : "");
	TEST_ASSERT(uc.args[2] == 0,
		    "stage 1: the guest's own routine left 0x%lx as canary, expected 0", uc.args[2]);
	TEST_ASSERT(uc.args[4] == DATA_PATTERN,
		    "stage 1: DATA_GPA reads 0x%lx in view 0, expected the guest's own 0x%llx%s",
		    uc.args[4], DATA_PATTERN,
		    uc.args[4] == EPTGATE_TRAMPOLINE_CANARY(1) ? " (the private data page leaks into view 0)" : "");
	ksft_test_result_pass("view 0: the guest's own copy runs and its own data is at DATA_GPA\n");

	/* 12: view 1 runs the module's copy: canary, parameters, data. */
	eptgate_run_expect_sync(vcpu, 2, &uc);
	check_view(bfd, 1, 2);
	st2 = eptgate_view_stats(bfd, 1);
	TEST_ASSERT(uc.args[3] == MARKER_MODULE,
		    "stage 2: the code at 0x%llx in view 1 returned marker 0x%lx, expected the signed probe's 0x%llx%s",
		    CODE_GPA, uc.args[3], MARKER_MODULE,
		    uc.args[3] == MARKER_GUEST ? " (the guest's copy runs in view 1)" : "");
	TEST_ASSERT(uc.args[2] == EPTGATE_TRAMPOLINE_CANARY(1),
		    "stage 2: the probe read 0x%lx at data qword 0, expected the canary 0x%llx",
		    uc.args[2], EPTGATE_TRAMPOLINE_CANARY(1));
	TEST_ASSERT(uc.args[4] == PARAM0,
		    "stage 2: the probe read 0x%lx at data + %d, expected the first parameter 0x%llx",
		    uc.args[4], EPTGATE_TRAMPOLINE_PARAM_OFF, PARAM0);
	TEST_ASSERT(uc.args[5] == 1,
		    "stage 2: the probe's call count in the private data page is %lu, expected 1",
		    uc.args[5]);
	TEST_ASSERT(*(uint64_t *)(code_hva + EPTGATE_TRAMPOLINE_CODE_MAX + PROBE_COUNT_OFF) == DATA_PATTERN,
		    "stage 2: the guest's own memory at DATA_GPA + %d holds 0x%lx, expected 0x%llx: the probe's private page is not private",
		    PROBE_COUNT_OFF,
		    *(uint64_t *)(code_hva + EPTGATE_TRAMPOLINE_CODE_MAX + PROBE_COUNT_OFF),
		    DATA_PATTERN);
	TEST_ASSERT(read(efd, &ev, sizeof(ev)) < 0 && errno == EAGAIN,
		    "stage 2: the doorbell eventfd fired without a doorbell write");
	ksft_test_result_pass("view 1: the verified copy runs, reads canary 0x%lx and parameter 0x%lx from its private page\n",
			      uc.args[2], uc.args[4]);

	/* 13: the doorbell. */
	eptgate_run_expect_sync(vcpu, 3, &uc);
	check_view(bfd, 1, 3);
	st3 = eptgate_view_stats(bfd, 1);
	ev = 0;
	r = read(efd, &ev, sizeof(ev));
	TEST_ASSERT(r == sizeof(ev) && ev == 1,
		    "stage 3: reading the doorbell eventfd: rc %d errno %d, count %lu, expected one signal",
		    r, r < 0 ? errno : 0, ev);
	TEST_ASSERT(uc.args[2] == EPTGATE_TRAMPOLINE_CANARY(1) &&
		    uc.args[3] == MARKER_MODULE,
		    "stage 3: after the doorbell the probe stored canary 0x%lx marker 0x%lx, expected 0x%llx 0x%llx: it did not go on in view 1",
		    uc.args[2], uc.args[3], EPTGATE_TRAMPOLINE_CANARY(1),
		    MARKER_MODULE);
	TEST_ASSERT(uc.args[4] == 2,
		    "stage 3: call count %lu, expected 2", uc.args[4]);
	TEST_ASSERT(st3.doorbells == st2.doorbells + 1 && st3.doorbells == 1,
		    "stage 3: view 1 doorbells %lu -> %lu, expected 0 -> 1",
		    (uint64_t)st2.doorbells, (uint64_t)st3.doorbells);
	TEST_ASSERT(st3.fallbacks == st2.fallbacks,
		    "stage 3: view 1 fallbacks %lu -> %lu, expected no change across the doorbell",
		    (uint64_t)st2.fallbacks, (uint64_t)st3.fallbacks);
	ksft_test_result_pass("doorbell: eventfd signalled once, the probe went on in view 1 (doorbells %lu, fallbacks unchanged)\n",
			      (uint64_t)st3.doorbells);

	/* 14: the code pages are not writable in the view. */
	eptgate_run_expect_sync(vcpu, 4, &uc);
	check_view(bfd, 0, 4);
	st4 = eptgate_view_stats(bfd, 1);
	TEST_ASSERT(uc.args[2] == 0,
		    "stage 4: code page + 0x%x reads 0x%lx in view 1, expected the module copy's 0 (the payload is %zu bytes)",
		    WRITE_OFF, uc.args[2], unsig.len);
	TEST_ASSERT(uc.args[3] == WRITE_VAL,
		    "stage 4: code page + 0x%x reads 0x%lx after the write, expected 0x%llx in view 0",
		    WRITE_OFF, uc.args[3], WRITE_VAL);
	TEST_ASSERT(*(uint64_t *)(code_hva + WRITE_OFF) == WRITE_VAL,
		    "stage 4: the guest's own copy holds 0x%lx at + 0x%x, expected the write 0x%llx",
		    *(uint64_t *)(code_hva + WRITE_OFF), WRITE_OFF, WRITE_VAL);
	TEST_ASSERT(st4.fallbacks == st3.fallbacks + 1,
		    "stage 4: view 1 fallbacks %lu -> %lu, expected +1 for the write to the code page",
		    (uint64_t)st3.fallbacks, (uint64_t)st4.fallbacks);
	ksft_test_result_pass("write to the code page in view 1: falls back to view 0 and lands in the guest's own copy\n");

	/* 15: the verified copy again. */
	eptgate_run_expect_sync(vcpu, 5, &uc);
	check_view(bfd, 1, 5);
	st5 = eptgate_view_stats(bfd, 1);
	TEST_ASSERT(uc.args[3] == MARKER_MODULE &&
		    uc.args[2] == EPTGATE_TRAMPOLINE_CANARY(1),
		    "stage 5: the code in view 1 returned marker 0x%lx canary 0x%lx, expected 0x%llx 0x%llx",
		    uc.args[3], uc.args[2], MARKER_MODULE,
		    EPTGATE_TRAMPOLINE_CANARY(1));
	TEST_ASSERT(uc.args[4] == 3, "stage 5: call count %lu, expected 3",
		    uc.args[4]);
	TEST_ASSERT(uc.args[5] == 0,
		    "stage 5: code page + 0x%x reads 0x%lx in view 1, expected 0: the guest's write reached the module's copy",
		    WRITE_OFF, uc.args[5]);
	TEST_ASSERT(st5.doorbells == 1,
		    "stage 5: view 1 doorbells %lu, expected 1", (uint64_t)st5.doorbells);
	eptgate_run_expect_done(vcpu);
	ksft_test_result_pass("after the write the verified copy still runs in view 1, unchanged\n");

	/* 16: the trampoline goes with its view. */
	eptgate_destroy_view(bfd, 1);
	TEST_ASSERT(eptgate_create_view(bfd) == 1, "view 1 not free again");
	t = tramp_args(&good, 1);
	eptgate_install_trampoline(bfd, &t);
	ksft_test_result_pass("view destroyed with its trampoline; a new view 1 takes a new one\n");

	/* 17: nothing left behind. */
	close(efd);
	close(bfd);
	close(dev);
	kvm_vm_free(vm);
	TEST_ASSERT(eptgate_wait_counters(&base, &now, 5000),
		    "counters not back at the baseline 5 s after closing everything");
	eptgate_assert_counters(&base, &now, "after closing everything");
	r = eptgate_keyring_unlink(key, ring);
	TEST_ASSERT(!r, "unlinking key %d from keyring %d: %d (%s)", key, ring,
		    r, errname(-r));
	ksft_test_result_pass("GET_INFO counters back at the baseline; key unlinked\n");

	free(good.buf);
	free(unsig.buf);
	free(flipped.buf);
	free(wrongkey.buf);
	free(truncated.buf);
	free(oversized.buf);
	free(cert.buf);
	ksft_finished();
}
