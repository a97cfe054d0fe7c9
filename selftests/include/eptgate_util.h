/* SPDX-License-Identifier: GPL-2.0 */
/*
 * eptgate selftests: helpers around the /dev/eptgate ioctls, in the style
 * of the KVM selftests library (tools/testing/selftests/kvm/lib/kvm_util.c).
 *
 * Every ioctl has two helpers:
 *   __eptgate_xxx()  returns the ioctl's result: >= 0 on success, -errno on
 *                    failure (errno is left set as well);
 *   eptgate_xxx()    asserts success, naming the ioctl, errno and arguments.
 */
#ifndef SELFTEST_EPTGATE_UTIL_H
#define SELFTEST_EPTGATE_UTIL_H

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/ioctl.h>

#include "kvm_util.h"
#include "processor.h"
#include "kselftest.h"

#include <linux/eptgate.h>

#define EPTGATE_PAGE_SIZE	4096ULL

/* Architectural exception vector of #UD (the 6.1 library has no name). */
#ifndef UD_VECTOR
#define UD_VECTOR	6
#endif

#define EPTGATE_RWX	(EPTGATE_ACCESS_R | EPTGATE_ACCESS_W | EPTGATE_ACCESS_X)
#define EPTGATE_RW	(EPTGATE_ACCESS_R | EPTGATE_ACCESS_W)
#define EPTGATE_RO	EPTGATE_ACCESS_R

/*
 * Raw ioctl on an eptgate fd: the argument type must match the size encoded
 * in the command.  Returns the ioctl's result, or -errno.
 */
#define __eptgate_ioctl(fd, cmd, arg)					\
({									\
	static_assert(sizeof(*(arg)) == _IOC_SIZE(cmd), "");		\
	int __r = ioctl((fd), (cmd), (arg));				\
	__r < 0 ? -errno : __r;						\
})

/*
 * The message of every failed wrapper, as KVM_IOCTL_ERROR() of kvm_util.h:
 *   TEST_ASSERT(!r, EPTGATE_IOCTL_ERROR("EPTGATE_XXX", r, "bfd %d", bfd));
 * prints "EPTGATE_XXX(bfd 5) failed, rc: -22 errno: 22 (Invalid argument)".
 * @_name and @_args are string literals; @_args formats the arguments that
 * follow it.  errno is read where the assertion is made.
 */
#define EPTGATE_IOCTL_ERROR(_name, _ret, _args, ...)			\
	_name "(" _args ") failed, rc: %i errno: %i (%s)", ##__VA_ARGS__,	\
	(int)(_ret), errno, strerror(errno)

/* Skip (KSFT_SKIP, exit 4) unless /dev/kvm and /dev/eptgate are present. */
void eptgate_require(void);

/* /dev/eptgate */
int __eptgate_open(void);
int eptgate_open(void);

int __eptgate_get_info(int dev, struct eptgate_info *info);
struct eptgate_info eptgate_get_info(int dev);

int __eptgate_bind_vm_fd(int dev, int vm_fd);
int __eptgate_bind_vm(int dev, struct kvm_vm *vm);
int eptgate_bind_vm(int dev, struct kvm_vm *vm);

/* Binding fd */
int __eptgate_create_view(int bfd, uint32_t view);
uint32_t eptgate_create_view(int bfd);

int __eptgate_destroy_view(int bfd, uint32_t view);
void eptgate_destroy_view(int bfd, uint32_t view);

int __eptgate_set_access(int bfd, uint32_t view, uint64_t gpa, uint64_t len,
			 uint32_t access);
void eptgate_set_access(int bfd, uint32_t view, uint64_t gpa, uint64_t len,
			uint32_t access);

int __eptgate_map_window(int bfd, uint32_t view, uint64_t gpa, uint64_t len,
			 uint32_t access, int peer_bfd, uint64_t peer_gpa);
void eptgate_map_window(int bfd, uint32_t view, uint64_t gpa, uint64_t len,
			uint32_t access, int peer_bfd, uint64_t peer_gpa);

/*
 * A window onto a grant (EPTGATE_CREATE_GRANT) of the peer; the two above
 * name the peer by its binding fd (EPTGATE_WINDOW_PEER_BINDING).
 */
int __eptgate_map_window_grant(int bfd, uint32_t view, uint64_t gpa,
			       uint64_t len, uint32_t access, int grant_fd,
			       uint64_t peer_gpa);
void eptgate_map_window_grant(int bfd, uint32_t view, uint64_t gpa,
			      uint64_t len, uint32_t access, int grant_fd,
			      uint64_t peer_gpa);

int __eptgate_unmap_window(int bfd, uint32_t view, uint64_t gpa, uint64_t len);
void eptgate_unmap_window(int bfd, uint32_t view, uint64_t gpa, uint64_t len);

int __eptgate_enable(int bfd);
void eptgate_enable(int bfd);

int __eptgate_disable(int bfd);
void eptgate_disable(int bfd);

int __eptgate_view_stats(int bfd, uint32_t view, struct eptgate_view_stats *st);
struct eptgate_view_stats eptgate_view_stats(int bfd, uint32_t view);

int __eptgate_vcpu_stats(int bfd, uint32_t vcpu_idx, struct eptgate_vcpu_stats *st);
struct eptgate_vcpu_stats eptgate_vcpu_stats(int bfd, uint32_t vcpu_idx);

/* Grants: __eptgate_create_grant() returns the grant fd or -errno. */
int __eptgate_create_grant(int bfd, uint32_t nr,
			   const struct eptgate_grant_range *ranges);
int eptgate_create_grant(int bfd, uint64_t gpa, uint64_t len, uint32_t access);

int __eptgate_grant_info(int gfd, struct eptgate_grant_info *gi);
struct eptgate_grant_info eptgate_grant_info(int gfd);

int __eptgate_revoke_grant(int gfd);
void eptgate_revoke_grant(int gfd);

/* One fd over a UNIX socket (SCM_RIGHTS), as a VMM passes a grant. */
void eptgate_send_fd(int sock, int fd);
int eptgate_recv_fd(int sock);

/* @t->size is set here; the rest is the caller's. */
int __eptgate_install_trampoline(int bfd, struct eptgate_trampoline *t);
void eptgate_install_trampoline(int bfd, struct eptgate_trampoline *t);

/* ---- the .eptgate keyring (trampoline signers) ---------------------------- */

/* Serial of the module's keyring, /sys/module/eptgate/parameters/keyring. */
int32_t eptgate_keyring_serial(void);

/*
 * add_key(2) of an X.509 certificate (DER) as an "asymmetric" key named
 * @desc into keyring @ring, as `keyctl padd asymmetric DESC RING < der`
 * does.  Returns the key's serial; fails the test on error.
 */
int32_t eptgate_keyring_add_cert(int32_t ring, const char *desc,
				 const void *der, size_t len);

/* The serial of asymmetric key @desc linked in @ring, or -errno. */
int32_t eptgate_keyring_find(int32_t ring, const char *desc);

/* keyctl(KEYCTL_UNLINK, @key, @ring): 0 or -errno. */
int eptgate_keyring_unlink(int32_t key, int32_t ring);

/* A whole file, malloc()ed; fails the test if it cannot be read. */
void *eptgate_read_file(const char *path, size_t *len);
void *eptgate_read_tramp_file(const char *name, size_t *len);

/* ---- the kernel log: the module's one-line reasons --------------------- */

/*
 * /dev/kmsg opened non-blocking and positioned at its end, or -1 if the
 * system has none.  eptgate_kmsg_find() then reads every record logged
 * since (the previous call) and copies the last one that contains
 * @needle into @line; false if there is none (or @fd is -1).  The
 * module's reasons are rate limited (pr_info_ratelimited): a missing line
 * is not proof of anything.
 */
int eptgate_kmsg_open(void);
bool eptgate_kmsg_find(int fd, const char *needle, char *line, size_t len);

/* ---- host-side helpers on kvm_util VMs ---------------------------------- */

/* Guest-physical range [*gpa, *gpa + *len) of memslot @slot of @vm. */
void vm_memslot_range(struct kvm_vm *vm, uint32_t slot, uint64_t *gpa,
		      uint64_t *len);

/* Memslot 0: the test binary, page tables, stacks, descriptor tables. */
static inline void vm_memslot0_range(struct kvm_vm *vm, uint64_t *gpa,
				     uint64_t *len)
{
	vm_memslot_range(vm, 0, gpa, len);
}

/* EPTGATE_SET_ACCESS of the whole of memslot @slot in @view. */
void eptgate_set_access_slot(int bfd, struct kvm_vm *vm, uint32_t view,
			     uint32_t slot, uint32_t access);

/* EPTGATE_SET_ACCESS of every RAM memslot of @vm in @view. */
void eptgate_set_access_all(int bfd, struct kvm_vm *vm, uint32_t view,
			    uint32_t access);

/*
 * Add @npages of anonymous RAM at @gpa as memslot @slot.  Returns the host
 * mapping.  __vm_add_ram() does not touch the guest's page tables (use it
 * for VMs without vCPUs, e.g. vm_create_barebones() peers); vm_add_ram()
 * also identity-maps the pages in the guest (gva == gpa).
 */
void *__vm_add_ram(struct kvm_vm *vm, uint32_t slot, uint64_t gpa,
		   uint64_t npages);
void *vm_add_ram(struct kvm_vm *vm, uint32_t slot, uint64_t gpa,
		 uint64_t npages);

/*
 * madvise(MADV_DONTFORK) on the host memory of every memslot of @vm, as
 * QEMU does for guest RAM: a fork() then neither copies it nor
 * write-protects it for copy-on-write in this process.
 */
void vm_guest_memory_dontfork(struct kvm_vm *vm);

/* Identity-map (gva == gpa) @npages at @gpa, which need not be RAM. */
static inline void vm_identity_map(struct kvm_vm *vm, uint64_t gpa,
				   unsigned int npages)
{
	virt_map(vm, gpa, gpa, npages);
}

/*
 * Run @vcpu until its next exit and decode the ucall.  Fails the test on a
 * non-ucall exit or a guest assertion (printing the guest's message, file,
 * line and arguments).  Returns UCALL_SYNC or UCALL_DONE.
 */
uint64_t eptgate_run(struct kvm_vcpu *vcpu, struct ucall *uc);

/* eptgate_run() and assert GUEST_SYNC(@stage) / GUEST_DONE(). */
void eptgate_run_expect_sync(struct kvm_vcpu *vcpu, uint64_t stage,
			     struct ucall *uc);
void eptgate_run_expect_done(struct kvm_vcpu *vcpu);

/* Install eptgate_guest_ud_handler() as the #UD handler of @vm / @vcpu. */
void eptgate_install_ud_handler(struct kvm_vm *vm, struct kvm_vcpu *vcpu);

/* ---- the "probe" fixture: a VM, a peer and a window over a probe page ---- */

/*
 * VM 1 (@vm, one vCPU @vcpu) has one page of its own RAM at @probe_gpa
 * (memslot @probe_slot, identity-mapped) filled with @own_pattern.  The
 * peer (@peer, a barebones VM without vCPUs) has one RAM page at the same
 * gpa and memslot number, filled with @peer_pattern.  @dev is /dev/eptgate,
 * @bfd and @peer_bfd the two bindings.  View 1 of VM 1 has memslot 0 with
 * @ram_access and, over @probe_gpa, a read-only window onto the peer's
 * page: the probe reads @own_pattern in view 0 and @peer_pattern in view 1.
 */
struct eptgate_probe_vm {
	struct kvm_vm *vm, *peer;
	struct kvm_vcpu *vcpu;
	int dev, bfd, peer_bfd;
};

/*
 * Build the fixture above; fails the test on any error (including a first
 * view whose id is not 1).  Switching is left disabled: EPTGATE_ENABLE is
 * the caller's (eptgate_enable(p->bfd)), so a test can run the guest first.
 */
void eptgate_probe_vm_create(struct eptgate_probe_vm *p, void *guest_code,
			     uint64_t probe_gpa, uint32_t probe_slot,
			     uint64_t own_pattern, uint64_t peer_pattern,
			     uint32_t ram_access);

/* Close the three fds and free both VMs. */
void eptgate_probe_vm_destroy(struct eptgate_probe_vm *p);

/* ---- leak checks: module, pin and VM counters ---------------------------- */

/*
 * What must come back to its value once every binding is gone: the
 * module's EPTGATE_GET_INFO counters (read on a /dev/eptgate fd opened for
 * the occasion: an open device fd holds a module reference), the system's
 * FOLL_PIN balance (/proc/vmstat nr_foll_pin_acquired - released, after
 * folding the per-CPU deltas through /proc/sys/vm/stat_refresh), the
 * module's reference count and the number of live KVM VMs (directories in
 * /sys/kernel/debug/kvm; -1 where debugfs is not mounted).
 */
struct eptgate_counters {
	uint64_t bindings;
	uint64_t table_pages;
	uint64_t pages_ref;
	uint64_t pages_pinned;
	int64_t foll_pins;	/* nr_foll_pin_acquired - nr_foll_pin_released */
	long module_refcnt;	/* /sys/module/eptgate/refcnt, -1 if absent */
	long kvm_vms;		/* live VMs in debugfs, -1 if unknown */
};

void eptgate_read_counters(struct eptgate_counters *c);

/*
 * Assert that @now equals @base in every field, naming the first field
 * that differs and @when ("after closing X").
 */
void eptgate_assert_counters(const struct eptgate_counters *base,
			     const struct eptgate_counters *now,
			     const char *when);

/* Poll (up to @timeout_ms) until the counters equal @base; true if so. */
bool eptgate_wait_counters(const struct eptgate_counters *base,
			   struct eptgate_counters *now, unsigned int timeout_ms);

/* EPTGATE_GET_INFO on a /dev/eptgate fd opened and closed for the call. */
struct eptgate_info eptgate_get_info_fresh(void);

/* FOLL_PIN balance of the system (see struct eptgate_counters). */
int64_t eptgate_foll_pins(void);

/* A /proc/meminfo field in KiB (e.g. "MemFree"); fails the test if absent. */
uint64_t eptgate_meminfo_kb(const char *field);

/* Module reference count of eptgate (-1 if the module is not loaded). */
long eptgate_module_refcnt(void);

/* Live KVM VMs (debugfs directories), -1 if debugfs is not available. */
long eptgate_kvm_vm_count(void);

/* Sleep @ms milliseconds. */
void eptgate_msleep(unsigned int ms);

/* ---- guest-side helpers ------------------------------------------------- */

/*
 * VMFUNC leaf 0 (EPTP switching) to EPTP-list entry @index.
 * The instruction is 0f 01 d4.
 */
#define VMFUNC_INSN_LEN	3

static inline void vmfunc_eptp(uint32_t index)
{
	asm volatile("vmfunc" : : "a"(0), "c"(index) : "memory");
}

static inline uint64_t guest_read64(uint64_t gva)
{
	return *(volatile uint64_t *)gva;
}

static inline void guest_write64(uint64_t gva, uint64_t val)
{
	*(volatile uint64_t *)gva = val;
}

/*
 * #UD handler for the guest: asserts that the faulting instruction is
 * VMFUNC, counts it in eptgate_guest_ud_count and skips it.
 */
extern volatile uint64_t eptgate_guest_ud_count;
void eptgate_guest_ud_handler(struct ex_regs *regs);

/* Host side: @vm's copy of eptgate_guest_ud_count. */
uint64_t eptgate_read_guest_ud_count(struct kvm_vm *vm);

/* A page's worth of a 64-bit pattern, for host-side fills and checks. */
void eptgate_fill64(void *hva, uint64_t pattern, uint64_t len);

/* ---- the module-wide listing (EPTGATE_LIST_VMS, EPTGATE_QUERY_VM) ------- */

/*
 * EPTGATE_LIST_VMS into @vms, room for @nr records of @entry_size bytes.
 * Returns 0 or -errno; *@total is the nr the module wrote back.
 */
int __eptgate_list_vms(int dev, void *vms, uint32_t nr, uint32_t entry_size,
		       uint32_t *total);
/* Every bound VM, malloc()ed, by vm_id; *@nr set.  Asserts success. */
struct eptgate_vm_info *eptgate_list_vms(int dev, uint32_t *nr);

int __eptgate_query_vm(int dev, struct eptgate_vm_query *q);

/* EPTGATE_QUERY_VM with room for everything a VM can have. */
struct eptgate_vm_detail {
	struct eptgate_vm_info vm;
	uint32_t nr_views, nr_ranges, nr_vcpus;
	struct eptgate_view_info views[EPTGATE_MAX_VIEWS];
	struct eptgate_view_stats view_stats[EPTGATE_MAX_VIEWS];
	struct eptgate_range_info *ranges;
	struct eptgate_vcpu_stats *vcpus;
};

#define EPTGATE_DETAIL_MAX_RANGES	(EPTGATE_MAX_VIEWS * 64)
#define EPTGATE_DETAIL_MAX_VCPUS	1024

/* Returns 0 or -errno; @d's arrays are malloc()ed (eptgate_vm_detail_free). */
int __eptgate_query_vm_detail(int dev, uint64_t vm_id,
			      struct eptgate_vm_detail *d);
void eptgate_query_vm_detail(int dev, uint64_t vm_id,
			     struct eptgate_vm_detail *d);
void eptgate_vm_detail_free(struct eptgate_vm_detail *d);

#endif /* SELFTEST_EPTGATE_UTIL_H */
