// SPDX-License-Identifier: GPL-2.0
/*
 * eptgate selftests: helpers around the /dev/eptgate ioctls.
 */
#include <dirent.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#include <linux/keyctl.h>

#include "eptgate_util.h"
#include "ucall_common.h"


void eptgate_require(void)
{
	if (access(KVM_DEV_PATH, R_OK | W_OK))
		ksft_exit_skip("%s not available (errno %d: %s)\n",
			       KVM_DEV_PATH, errno, strerror(errno));
	if (access(EPTGATE_DEVICE, R_OK | W_OK))
		ksft_exit_skip("%s not available (errno %d: %s): is eptgate.ko loaded?\n",
			       EPTGATE_DEVICE, errno, strerror(errno));
}

int __eptgate_open(void)
{
	int fd = open(EPTGATE_DEVICE, O_RDWR | O_CLOEXEC);

	return fd < 0 ? -errno : fd;
}

int eptgate_open(void)
{
	int fd = __eptgate_open();

	TEST_ASSERT(fd >= 0, EPTGATE_IOCTL_ERROR("open", fd, "%s", EPTGATE_DEVICE));
	return fd;
}

int __eptgate_get_info(int dev, struct eptgate_info *info)
{
	memset(info, 0, sizeof(*info));
	info->size = sizeof(*info);
	return __eptgate_ioctl(dev, EPTGATE_GET_INFO, info);
}

struct eptgate_info eptgate_get_info(int dev)
{
	struct eptgate_info info;
	int r = __eptgate_get_info(dev, &info);

	TEST_ASSERT(!r, EPTGATE_IOCTL_ERROR("EPTGATE_GET_INFO", r, "dev %d", dev));
	TEST_ASSERT(info.api_version == EPTGATE_API_VERSION,
		    "EPTGATE_GET_INFO: api_version %u, expected %u",
		    info.api_version, EPTGATE_API_VERSION);
	return info;
}

int __eptgate_bind_vm_fd(int dev, int vm_fd)
{
	struct eptgate_bind b = {
		.size = sizeof(b),
		.vm_fd = vm_fd,
	};

	return __eptgate_ioctl(dev, EPTGATE_BIND_VM, &b);
}

int __eptgate_bind_vm(int dev, struct kvm_vm *vm)
{
	return __eptgate_bind_vm_fd(dev, vm->fd);
}

int eptgate_bind_vm(int dev, struct kvm_vm *vm)
{
	int bfd = __eptgate_bind_vm(dev, vm);

	TEST_ASSERT(bfd >= 0, EPTGATE_IOCTL_ERROR("EPTGATE_BIND_VM", bfd,
						  "vm_fd %d", vm->fd));
	return bfd;
}

int __eptgate_create_view(int bfd, uint32_t view)
{
	struct eptgate_view v = {
		.size = sizeof(v),
		.view = view,
	};
	int r = __eptgate_ioctl(bfd, EPTGATE_CREATE_VIEW, &v);

	return r < 0 ? r : (int)v.view;
}

uint32_t eptgate_create_view(int bfd)
{
	int r = __eptgate_create_view(bfd, 0);

	TEST_ASSERT(r > 0, EPTGATE_IOCTL_ERROR("EPTGATE_CREATE_VIEW", r,
					       "bfd %d, view 0", bfd));
	TEST_ASSERT(r < EPTGATE_MAX_VIEWS,
		    "EPTGATE_CREATE_VIEW returned view id %d, outside 1..%d",
		    r, EPTGATE_MAX_VIEWS - 1);
	return r;
}

int __eptgate_destroy_view(int bfd, uint32_t view)
{
	struct eptgate_view v = {
		.size = sizeof(v),
		.view = view,
	};

	return __eptgate_ioctl(bfd, EPTGATE_DESTROY_VIEW, &v);
}

void eptgate_destroy_view(int bfd, uint32_t view)
{
	int r = __eptgate_destroy_view(bfd, view);

	TEST_ASSERT(!r, EPTGATE_IOCTL_ERROR("EPTGATE_DESTROY_VIEW", r,
					    "bfd %d, view %u", bfd, view));
}

int __eptgate_set_access(int bfd, uint32_t view, uint64_t gpa, uint64_t len,
			 uint32_t access)
{
	struct eptgate_access a = {
		.size = sizeof(a),
		.view = view,
		.access = access,
		.gpa = gpa,
		.len = len,
	};

	return __eptgate_ioctl(bfd, EPTGATE_SET_ACCESS, &a);
}

void eptgate_set_access(int bfd, uint32_t view, uint64_t gpa, uint64_t len,
			uint32_t access)
{
	int r = __eptgate_set_access(bfd, view, gpa, len, access);

	TEST_ASSERT(!r, EPTGATE_IOCTL_ERROR("EPTGATE_SET_ACCESS", r,
					    "bfd %d, view %u, gpa 0x%lx, len 0x%lx, access 0x%x",
					    bfd, view, gpa, len, access));
}

/* EPTGATE_MAP_WINDOW naming the peer by @peer_fd, a grant or (@flags) a binding. */
static int map_window(int bfd, uint32_t flags, uint32_t view, uint64_t gpa,
		      uint64_t len, uint32_t access, int peer_fd,
		      uint64_t peer_gpa)
{
	struct eptgate_window w = {
		.size = sizeof(w),
		.flags = flags,
		.view = view,
		.access = access,
		.gpa = gpa,
		.len = len,
		.peer_fd = peer_fd,
		.peer_gpa = peer_gpa,
	};

	return __eptgate_ioctl(bfd, EPTGATE_MAP_WINDOW, &w);
}

int __eptgate_map_window(int bfd, uint32_t view, uint64_t gpa, uint64_t len,
			 uint32_t access, int peer_bfd, uint64_t peer_gpa)
{
	return map_window(bfd, EPTGATE_WINDOW_PEER_BINDING, view, gpa, len,
			  access, peer_bfd, peer_gpa);
}

int __eptgate_map_window_grant(int bfd, uint32_t view, uint64_t gpa,
			       uint64_t len, uint32_t access, int grant_fd,
			       uint64_t peer_gpa)
{
	return map_window(bfd, 0, view, gpa, len, access, grant_fd, peer_gpa);
}

void eptgate_map_window_grant(int bfd, uint32_t view, uint64_t gpa,
			      uint64_t len, uint32_t access, int grant_fd,
			      uint64_t peer_gpa)
{
	int r = __eptgate_map_window_grant(bfd, view, gpa, len, access,
					   grant_fd, peer_gpa);

	TEST_ASSERT(!r, EPTGATE_IOCTL_ERROR("EPTGATE_MAP_WINDOW", r,
					    "bfd %d, view %u, gpa 0x%lx, len 0x%lx, access 0x%x, grant fd %d, peer_gpa 0x%lx",
					    bfd, view, gpa, len, access, grant_fd,
					    peer_gpa));
}

int __eptgate_create_grant(int bfd, uint32_t nr,
			   const struct eptgate_grant_range *ranges)
{
	struct eptgate_grant g = { .size = sizeof(g), .nr_ranges = nr };

	TEST_ASSERT(nr <= EPTGATE_GRANT_MAX_RANGES, "%u grant ranges", nr);
	memcpy(g.ranges, ranges, nr * sizeof(*ranges));
	return __eptgate_ioctl(bfd, EPTGATE_CREATE_GRANT, &g);
}

int eptgate_create_grant(int bfd, uint64_t gpa, uint64_t len, uint32_t access)
{
	struct eptgate_grant_range r = { .gpa = gpa, .len = len,
					 .access = access };
	int fd = __eptgate_create_grant(bfd, 1, &r);

	TEST_ASSERT(fd >= 0, EPTGATE_IOCTL_ERROR("EPTGATE_CREATE_GRANT", fd,
						 "bfd %d, gpa 0x%lx, len 0x%lx, access 0x%x",
						 bfd, gpa, len, access));
	return fd;
}

int __eptgate_grant_info(int gfd, struct eptgate_grant_info *gi)
{
	memset(gi, 0, sizeof(*gi));
	gi->size = sizeof(*gi);
	return __eptgate_ioctl(gfd, EPTGATE_GRANT_INFO, gi);
}

struct eptgate_grant_info eptgate_grant_info(int gfd)
{
	struct eptgate_grant_info gi;
	int r = __eptgate_grant_info(gfd, &gi);

	TEST_ASSERT(!r, EPTGATE_IOCTL_ERROR("EPTGATE_GRANT_INFO", r, "grant fd %d", gfd));
	return gi;
}

int __eptgate_revoke_grant(int gfd)
{
	struct eptgate_revoke rv = { .size = sizeof(rv) };

	return __eptgate_ioctl(gfd, EPTGATE_REVOKE_GRANT, &rv);
}

void eptgate_revoke_grant(int gfd)
{
	int r = __eptgate_revoke_grant(gfd);

	TEST_ASSERT(!r, EPTGATE_IOCTL_ERROR("EPTGATE_REVOKE_GRANT", r, "grant fd %d", gfd));
}

void eptgate_send_fd(int sock, int fd)
{
	char byte = 'g', cbuf[CMSG_SPACE(sizeof(int))] = { 0 };
	struct iovec iov = { .iov_base = &byte, .iov_len = 1 };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1,
			      .msg_control = cbuf,
			      .msg_controllen = sizeof(cbuf) };
	struct cmsghdr *c = CMSG_FIRSTHDR(&msg);

	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &fd, sizeof(int));
	TEST_ASSERT(sendmsg(sock, &msg, 0) == 1,
		    "sendmsg(SCM_RIGHTS fd %d) failed, errno: %i (%s)", fd,
		    errno, strerror(errno));
}

int eptgate_recv_fd(int sock)
{
	char byte, cbuf[CMSG_SPACE(sizeof(int))] = { 0 };
	struct iovec iov = { .iov_base = &byte, .iov_len = 1 };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1,
			      .msg_control = cbuf,
			      .msg_controllen = sizeof(cbuf) };
	struct cmsghdr *c;
	int fd;

	TEST_ASSERT(recvmsg(sock, &msg, 0) == 1,
		    "recvmsg(SCM_RIGHTS) failed, errno: %i (%s)", errno,
		    strerror(errno));
	c = CMSG_FIRSTHDR(&msg);
	TEST_ASSERT(c && c->cmsg_level == SOL_SOCKET &&
		    c->cmsg_type == SCM_RIGHTS &&
		    c->cmsg_len == CMSG_LEN(sizeof(int)),
		    "recvmsg: no SCM_RIGHTS fd in the message");
	memcpy(&fd, CMSG_DATA(c), sizeof(int));
	return fd;
}

void eptgate_map_window(int bfd, uint32_t view, uint64_t gpa, uint64_t len,
			uint32_t access, int peer_bfd, uint64_t peer_gpa)
{
	int r = __eptgate_map_window(bfd, view, gpa, len, access, peer_bfd, peer_gpa);

	TEST_ASSERT(!r, EPTGATE_IOCTL_ERROR("EPTGATE_MAP_WINDOW", r,
					    "bfd %d, view %u, gpa 0x%lx, len 0x%lx, access 0x%x, peer_fd %d, peer_gpa 0x%lx",
					    bfd, view, gpa, len, access, peer_bfd,
					    peer_gpa));
}

int __eptgate_unmap_window(int bfd, uint32_t view, uint64_t gpa, uint64_t len)
{
	struct eptgate_window w = {
		.size = sizeof(w),
		.flags = EPTGATE_WINDOW_UNMAP,
		.view = view,
		.gpa = gpa,
		.len = len,
		.peer_fd = -1,
	};

	return __eptgate_ioctl(bfd, EPTGATE_MAP_WINDOW, &w);
}

void eptgate_unmap_window(int bfd, uint32_t view, uint64_t gpa, uint64_t len)
{
	int r = __eptgate_unmap_window(bfd, view, gpa, len);

	TEST_ASSERT(!r, EPTGATE_IOCTL_ERROR("EPTGATE_MAP_WINDOW", r,
					    "UNMAP, bfd %d, view %u, gpa 0x%lx, len 0x%lx",
					    bfd, view, gpa, len));
}

int __eptgate_enable(int bfd)
{
	struct eptgate_switching s = { .size = sizeof(s) };

	return __eptgate_ioctl(bfd, EPTGATE_ENABLE, &s);
}

void eptgate_enable(int bfd)
{
	int r = __eptgate_enable(bfd);

	TEST_ASSERT(!r, EPTGATE_IOCTL_ERROR("EPTGATE_ENABLE", r, "bfd %d", bfd));
}

int __eptgate_disable(int bfd)
{
	struct eptgate_switching s = { .size = sizeof(s) };

	return __eptgate_ioctl(bfd, EPTGATE_DISABLE, &s);
}

void eptgate_disable(int bfd)
{
	int r = __eptgate_disable(bfd);

	TEST_ASSERT(!r, EPTGATE_IOCTL_ERROR("EPTGATE_DISABLE", r, "bfd %d", bfd));
}

int __eptgate_view_stats(int bfd, uint32_t view, struct eptgate_view_stats *st)
{
	memset(st, 0, sizeof(*st));
	st->size = sizeof(*st);
	st->view = view;
	return __eptgate_ioctl(bfd, EPTGATE_GET_VIEW_STATS, st);
}

struct eptgate_view_stats eptgate_view_stats(int bfd, uint32_t view)
{
	struct eptgate_view_stats st;
	int r = __eptgate_view_stats(bfd, view, &st);

	TEST_ASSERT(!r, EPTGATE_IOCTL_ERROR("EPTGATE_GET_VIEW_STATS", r,
					    "bfd %d, view %u", bfd, view));
	return st;
}

int __eptgate_vcpu_stats(int bfd, uint32_t vcpu_idx, struct eptgate_vcpu_stats *st)
{
	memset(st, 0, sizeof(*st));
	st->size = sizeof(*st);
	st->vcpu_idx = vcpu_idx;
	return __eptgate_ioctl(bfd, EPTGATE_GET_VCPU_STATS, st);
}

struct eptgate_vcpu_stats eptgate_vcpu_stats(int bfd, uint32_t vcpu_idx)
{
	struct eptgate_vcpu_stats st;
	int r = __eptgate_vcpu_stats(bfd, vcpu_idx, &st);

	TEST_ASSERT(!r, EPTGATE_IOCTL_ERROR("EPTGATE_GET_VCPU_STATS", r,
					    "bfd %d, vcpu_idx %u", bfd, vcpu_idx));
	return st;
}

int __eptgate_install_trampoline(int bfd, struct eptgate_trampoline *t)
{
	t->size = sizeof(*t);
	return __eptgate_ioctl(bfd, EPTGATE_INSTALL_TRAMPOLINE, t);
}

void eptgate_install_trampoline(int bfd, struct eptgate_trampoline *t)
{
	int r = __eptgate_install_trampoline(bfd, t);

	TEST_ASSERT(!r, EPTGATE_IOCTL_ERROR("EPTGATE_INSTALL_TRAMPOLINE", r,
					    "bfd %d, view %u, blob_len %llu, code 0x%llx, data 0x%llx, doorbell 0x%llx",
					    bfd, t->view,
					    (unsigned long long)t->blob_len,
					    (unsigned long long)t->code_gpa,
					    (unsigned long long)t->data_gpa,
					    (unsigned long long)t->doorbell_gpa));
}

/* ---- the .eptgate keyring ------------------------------------------------- */

#define EPTGATE_KEYRING_PARAM	"/sys/module/eptgate/parameters/keyring"

int32_t eptgate_keyring_serial(void)
{
	long serial = 0;
	FILE *f = fopen(EPTGATE_KEYRING_PARAM, "r");

	TEST_ASSERT(f, "fopen(%s) failed, errno: %i (%s): module without a keyring?",
		    EPTGATE_KEYRING_PARAM, errno, strerror(errno));
	TEST_ASSERT(fscanf(f, "%ld", &serial) == 1 && serial > 0,
		    "%s does not hold a key serial (read %ld)",
		    EPTGATE_KEYRING_PARAM, serial);
	fclose(f);
	return (int32_t)serial;
}

int32_t eptgate_keyring_add_cert(int32_t ring, const char *desc,
				 const void *der, size_t len)
{
	long key = syscall(__NR_add_key, "asymmetric", desc, der, len, ring);

	TEST_ASSERT(key > 0, "add_key(\"asymmetric\", \"%s\", %zu bytes of X.509, keyring %d) failed, errno: %i (%s)",
		    desc, len, ring, errno, strerror(errno));
	return (int32_t)key;
}

int32_t eptgate_keyring_find(int32_t ring, const char *desc)
{
	long key = syscall(__NR_keyctl, KEYCTL_SEARCH, ring, "asymmetric",
			   desc, 0);

	return key < 0 ? -errno : (int32_t)key;
}

int eptgate_keyring_unlink(int32_t key, int32_t ring)
{
	long r = syscall(__NR_keyctl, KEYCTL_UNLINK, key, ring);

	return r < 0 ? -errno : 0;
}

/*
 * Reads file @name of the signed blobs: $EPTGATE_TRAMP_DIR, else tramp/
 * next to the test binary (where `make -C selftests payload` puts them).
 */
void *eptgate_read_tramp_file(const char *name, size_t *len)
{
	const char *env = getenv("EPTGATE_TRAMP_DIR");
	char exe[PATH_MAX], path[2 * PATH_MAX + 16];
	ssize_t n;

	if (env) {
		snprintf(path, sizeof(path), "%s/%s", env, name);
	} else {
		n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
		TEST_ASSERT(n > 0, "readlink(/proc/self/exe) failed, errno: %i (%s)",
			    errno, strerror(errno));
		exe[n] = 0;
		snprintf(path, sizeof(path), "%s/tramp/%s", dirname(exe), name);
	}
	return eptgate_read_file(path, len);
}

void *eptgate_read_file(const char *path, size_t *len)
{
	struct stat st;
	ssize_t n;
	void *buf;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	TEST_ASSERT(fd >= 0, "open(%s) failed, errno: %i (%s)", path, errno,
		    strerror(errno));
	TEST_ASSERT(!fstat(fd, &st), "fstat(%s) failed, errno: %i (%s)",
		    path, errno, strerror(errno));
	buf = malloc(st.st_size ? st.st_size : 1);
	TEST_ASSERT(buf, "malloc(%ld) failed", (long)st.st_size);
	n = read(fd, buf, st.st_size);
	TEST_ASSERT(n == st.st_size, "read(%s): %zd of %ld bytes, errno: %i (%s)",
		    path, n, (long)st.st_size, errno, strerror(errno));
	close(fd);
	*len = st.st_size;
	return buf;
}

/* ---- the kernel log --------------------------------------------------------- */

int eptgate_kmsg_open(void)
{
	int fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);

	if (fd >= 0 && lseek(fd, 0, SEEK_END) < 0) {
		close(fd);
		fd = -1;
	}
	return fd;
}

bool eptgate_kmsg_find(int fd, const char *needle, char *line, size_t len)
{
	char rec[1024];
	bool found = false;
	const char *msg;
	ssize_t n;

	if (fd < 0)
		return false;
	for (;;) {
		n = read(fd, rec, sizeof(rec) - 1);
		if (n < 0 && errno == EPIPE)	/* overwritten: go on */
			continue;
		if (n <= 0)
			break;
		rec[n] = 0;
		/* "prio,seq,usec,flags;text\n" and continuation lines */
		msg = strchr(rec, ';');
		msg = msg ? msg + 1 : rec;
		if (!strstr(msg, needle))
			continue;
		snprintf(line, len, "%.*s", (int)strcspn(msg, "\n"), msg);
		found = true;
	}
	return found;
}

/* ---- host-side helpers ---------------------------------------------------- */

void vm_memslot_range(struct kvm_vm *vm, uint32_t slot, uint64_t *gpa,
		      uint64_t *len)
{
	struct userspace_mem_region *region = memslot2region(vm, slot);

	*gpa = region->region.guest_phys_addr;
	*len = region->region.memory_size;
}

void eptgate_set_access_slot(int bfd, struct kvm_vm *vm, uint32_t view,
			     uint32_t slot, uint32_t access)
{
	uint64_t gpa, len;

	vm_memslot_range(vm, slot, &gpa, &len);
	eptgate_set_access(bfd, view, gpa, len, access);
}

void eptgate_set_access_all(int bfd, struct kvm_vm *vm, uint32_t view,
			    uint32_t access)
{
	struct userspace_mem_region *region;
	int bkt;

	hash_for_each(vm->regions.slot_hash, bkt, region, slot_node)
		eptgate_set_access(bfd, view, region->region.guest_phys_addr,
				   region->region.memory_size, access);
}

void *__vm_add_ram(struct kvm_vm *vm, uint32_t slot, uint64_t gpa,
		   uint64_t npages)
{
	vm_userspace_mem_region_add(vm, VM_MEM_SRC_ANONYMOUS, gpa, slot,
				    npages, 0);
	return addr_gpa2hva(vm, gpa);
}

void *vm_add_ram(struct kvm_vm *vm, uint32_t slot, uint64_t gpa,
		 uint64_t npages)
{
	void *hva = __vm_add_ram(vm, slot, gpa, npages);

	virt_map(vm, gpa, gpa, npages);
	return hva;
}

void vm_guest_memory_dontfork(struct kvm_vm *vm)
{
	struct userspace_mem_region *region;
	int bkt;

	hash_for_each(vm->regions.slot_hash, bkt, region, slot_node) {
		TEST_ASSERT(!madvise(region->mmap_start, region->mmap_size,
				     MADV_DONTFORK),
			    "madvise(MADV_DONTFORK) of memslot %u failed, errno: %i (%s)",
			    region->region.slot, errno, strerror(errno));
		if (region->mmap_alias)
			TEST_ASSERT(!madvise(region->mmap_alias,
					     region->mmap_size, MADV_DONTFORK),
				    "madvise(MADV_DONTFORK) of memslot %u's alias failed, errno: %i (%s)",
				    region->region.slot, errno, strerror(errno));
	}
}

static void report_guest_assert(struct kvm_vcpu *vcpu, struct ucall *uc)
{
	TEST_FAIL("vCPU %u: %s at %s:%ld, args: 0x%lx 0x%lx 0x%lx 0x%lx",
		  vcpu->id, (const char *)uc->args[GUEST_ERROR_STRING],
		  (const char *)uc->args[GUEST_FILE], uc->args[GUEST_LINE],
		  GUEST_ASSERT_ARG(*uc, 0), GUEST_ASSERT_ARG(*uc, 1),
		  GUEST_ASSERT_ARG(*uc, 2), GUEST_ASSERT_ARG(*uc, 3));
}

uint64_t eptgate_run(struct kvm_vcpu *vcpu, struct ucall *uc)
{
	struct kvm_run *run = vcpu->run;
	uint64_t cmd;

	vcpu_run(vcpu);
	TEST_ASSERT(run->exit_reason == KVM_EXIT_IO,
		    "vCPU %u: unexpected exit reason %u (%s), expected a ucall (KVM_EXIT_IO)%s0x%llx",
		    vcpu->id, run->exit_reason, exit_reason_str(run->exit_reason),
		    run->exit_reason == KVM_EXIT_MMIO ? " - MMIO at gpa " : " - ",
		    run->exit_reason == KVM_EXIT_MMIO ?
			(unsigned long long)run->mmio.phys_addr : 0ULL);

	cmd = get_ucall(vcpu, uc);
	if (cmd == UCALL_ABORT)
		report_guest_assert(vcpu, uc);
	TEST_ASSERT(cmd != UCALL_UNHANDLED,
		    "vCPU %u: unhandled exception, vector %lu at rip 0x%lx",
		    vcpu->id, uc->args[0], uc->args[1]);
	TEST_ASSERT(cmd == UCALL_SYNC || cmd == UCALL_DONE,
		    "vCPU %u: unexpected ucall %lu (I/O port 0x%x)", vcpu->id,
		    cmd, run->io.port);
	return cmd;
}

void eptgate_run_expect_sync(struct kvm_vcpu *vcpu, uint64_t stage,
			     struct ucall *uc)
{
	uint64_t cmd = eptgate_run(vcpu, uc);

	TEST_ASSERT(cmd == UCALL_SYNC,
		    "vCPU %u: expected GUEST_SYNC(%lu), got ucall %lu (%s)",
		    vcpu->id, stage, cmd, cmd == UCALL_DONE ? "GUEST_DONE" : "?");
	TEST_ASSERT(uc->args[1] == stage,
		    "vCPU %u: expected GUEST_SYNC(%lu), got GUEST_SYNC(%lu)",
		    vcpu->id, stage, uc->args[1]);
}

void eptgate_run_expect_done(struct kvm_vcpu *vcpu)
{
	struct ucall uc;
	uint64_t cmd = eptgate_run(vcpu, &uc);

	TEST_ASSERT(cmd == UCALL_DONE,
		    "vCPU %u: expected GUEST_DONE, got ucall %lu (stage %lu)",
		    vcpu->id, cmd, uc.args[1]);
}

void eptgate_install_ud_handler(struct kvm_vm *vm, struct kvm_vcpu *vcpu)
{
	vm_init_descriptor_tables(vm);
	vcpu_init_descriptor_tables(vcpu);
	vm_install_exception_handler(vm, UD_VECTOR, eptgate_guest_ud_handler);
}

void eptgate_fill64(void *hva, uint64_t pattern, uint64_t len)
{
	uint64_t *p = hva;
	uint64_t i;

	for (i = 0; i < len / sizeof(*p); i++)
		p[i] = pattern;
}

void eptgate_probe_vm_create(struct eptgate_probe_vm *p, void *guest_code,
			     uint64_t probe_gpa, uint32_t probe_slot,
			     uint64_t own_pattern, uint64_t peer_pattern,
			     uint32_t ram_access)
{
	uint32_t view;

	p->vm = vm_create_with_one_vcpu(&p->vcpu, guest_code);
	eptgate_fill64(vm_add_ram(p->vm, probe_slot, probe_gpa, 1), own_pattern,
		       EPTGATE_PAGE_SIZE);

	p->peer = vm_create_barebones();
	eptgate_fill64(__vm_add_ram(p->peer, probe_slot, probe_gpa, 1),
		       peer_pattern, EPTGATE_PAGE_SIZE);

	p->dev = eptgate_open();
	p->bfd = eptgate_bind_vm(p->dev, p->vm);
	p->peer_bfd = eptgate_bind_vm(p->dev, p->peer);

	view = eptgate_create_view(p->bfd);
	TEST_ASSERT(view == 1, "first view of a new binding is %u, expected 1",
		    view);
	eptgate_set_access_slot(p->bfd, p->vm, 1, 0, ram_access);
	eptgate_map_window(p->bfd, 1, probe_gpa, EPTGATE_PAGE_SIZE, EPTGATE_RO,
			   p->peer_bfd, probe_gpa);
}

void eptgate_probe_vm_destroy(struct eptgate_probe_vm *p)
{
	close(p->peer_bfd);
	close(p->bfd);
	close(p->dev);
	kvm_vm_free(p->peer);
	kvm_vm_free(p->vm);
}

/* ---- leak checks ------------------------------------------------------------ */

struct eptgate_info eptgate_get_info_fresh(void)
{
	struct eptgate_info info;
	int dev = eptgate_open();

	info = eptgate_get_info(dev);
	close(dev);
	return info;
}

/* Value of "name value" line @key in @path, or false if absent. */
static bool read_keyed_value(const char *path, const char *key, char sep,
			     int64_t *val)
{
	size_t klen = strlen(key);
	char line[256];
	bool found = false;
	FILE *f = fopen(path, "r");

	TEST_ASSERT(f, "fopen(%s) failed, errno: %i (%s)", path, errno,
		    strerror(errno));
	while (!found && fgets(line, sizeof(line), f)) {
		if (strncmp(line, key, klen) || line[klen] != sep)
			continue;
		*val = strtoll(line + klen + 1, NULL, 10);
		found = true;
	}
	fclose(f);
	return found;
}

int64_t eptgate_foll_pins(void)
{
	int64_t acquired, released;
	int fd;

	/* Fold every CPU's pending deltas into the global counters. */
	fd = open("/proc/sys/vm/stat_refresh", O_WRONLY);
	TEST_ASSERT(fd >= 0, "open(/proc/sys/vm/stat_refresh) failed, errno: %i (%s)",
		    errno, strerror(errno));
	TEST_ASSERT(write(fd, "1\n", 2) == 2,
		    "write(/proc/sys/vm/stat_refresh) failed, errno: %i (%s)",
		    errno, strerror(errno));
	close(fd);
	TEST_ASSERT(read_keyed_value("/proc/vmstat", "nr_foll_pin_acquired", ' ',
				     &acquired) &&
		    read_keyed_value("/proc/vmstat", "nr_foll_pin_released", ' ',
				     &released),
		    "/proc/vmstat has no nr_foll_pin_acquired / nr_foll_pin_released");
	return acquired - released;
}

uint64_t eptgate_meminfo_kb(const char *field)
{
	int64_t kb;

	TEST_ASSERT(read_keyed_value("/proc/meminfo", field, ':', &kb),
		    "/proc/meminfo has no %s", field);
	return kb;
}

long eptgate_module_refcnt(void)
{
	long refcnt = -1;
	FILE *f = fopen("/sys/module/eptgate/refcnt", "r");

	if (!f)
		return -1;
	if (fscanf(f, "%ld", &refcnt) != 1)
		refcnt = -1;
	fclose(f);
	return refcnt;
}

long eptgate_kvm_vm_count(void)
{
	DIR *d = opendir("/sys/kernel/debug/kvm");
	struct dirent *e;
	long n = 0;

	if (!d)
		return -1;
	/* One directory per VM, named "<pid>-<fd>". */
	while ((e = readdir(d)))
		if (e->d_type == DT_DIR && strchr(e->d_name, '-'))
			n++;
	closedir(d);
	return n;
}

void eptgate_read_counters(struct eptgate_counters *c)
{
	struct eptgate_info info = eptgate_get_info_fresh();

	c->bindings = info.bindings;
	c->table_pages = info.table_pages;
	c->pages_ref = info.pages_ref;
	c->pages_pinned = info.pages_pinned;
	c->foll_pins = eptgate_foll_pins();
	/* After the device fd of eptgate_get_info_fresh() is closed. */
	c->module_refcnt = eptgate_module_refcnt();
	c->kvm_vms = eptgate_kvm_vm_count();
}

/* Name of the first field where @a and @b differ, or NULL. */
static const char *counters_differ(const struct eptgate_counters *a,
				   const struct eptgate_counters *b)
{
	if (a->bindings != b->bindings)
		return "bindings";
	if (a->table_pages != b->table_pages)
		return "table_pages";
	if (a->pages_ref != b->pages_ref)
		return "pages_ref";
	if (a->pages_pinned != b->pages_pinned)
		return "pages_pinned";
	if (a->foll_pins != b->foll_pins)
		return "nr_foll_pin_acquired - nr_foll_pin_released";
	if (a->module_refcnt != b->module_refcnt)
		return "eptgate module refcnt";
	if (a->kvm_vms != b->kvm_vms)
		return "live KVM VMs";
	return NULL;
}

void eptgate_assert_counters(const struct eptgate_counters *base,
			     const struct eptgate_counters *now,
			     const char *when)
{
	const char *field = counters_differ(base, now);

	TEST_ASSERT(!field,
		    "%s: %s differs from the baseline\n"
		    "  baseline: bindings %lu table_pages %lu pages_ref %lu pages_pinned %lu foll_pins %ld refcnt %ld vms %ld\n"
		    "  now:      bindings %lu table_pages %lu pages_ref %lu pages_pinned %lu foll_pins %ld refcnt %ld vms %ld",
		    when, field,
		    base->bindings, base->table_pages, base->pages_ref,
		    base->pages_pinned, base->foll_pins, base->module_refcnt,
		    base->kvm_vms,
		    now->bindings, now->table_pages, now->pages_ref,
		    now->pages_pinned, now->foll_pins, now->module_refcnt,
		    now->kvm_vms);
}

bool eptgate_wait_counters(const struct eptgate_counters *base,
			   struct eptgate_counters *now, unsigned int timeout_ms)
{
	unsigned int waited = 0;

	for (;;) {
		eptgate_read_counters(now);
		if (!counters_differ(base, now))
			return true;
		if (waited >= timeout_ms)
			return false;
		eptgate_msleep(10);
		waited += 10;
	}
}

void eptgate_msleep(unsigned int ms)
{
	struct timespec ts = { .tv_sec = ms / 1000,
			       .tv_nsec = (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

/* ---- guest-side ----------------------------------------------------------- */

volatile uint64_t eptgate_guest_ud_count;

uint64_t eptgate_read_guest_ud_count(struct kvm_vm *vm)
{
	return *(uint64_t *)addr_gva2hva(vm, (vm_vaddr_t)&eptgate_guest_ud_count);
}

void eptgate_guest_ud_handler(struct ex_regs *regs)
{
	const uint8_t *insn = (const uint8_t *)regs->rip;

	GUEST_ASSERT_4(insn[0] == 0x0f && insn[1] == 0x01 && insn[2] == 0xd4,
		       regs->rip, insn[0], insn[1], insn[2]);
	eptgate_guest_ud_count++;
	regs->rip += VMFUNC_INSN_LEN;
}

/* ---- the module-wide listing ------------------------------------------------ */

int __eptgate_list_vms(int dev, void *vms, uint32_t nr, uint32_t entry_size,
		       uint32_t *total)
{
	struct eptgate_vm_list l = {
		.size = sizeof(l),
		.vms = { .nr = nr, .entry_size = entry_size,
			 .addr = (uintptr_t)vms },
	};
	int r = __eptgate_ioctl(dev, EPTGATE_LIST_VMS, &l);

	if (total)
		*total = l.vms.nr;
	return r;
}

struct eptgate_vm_info *eptgate_list_vms(int dev, uint32_t *nr)
{
	struct eptgate_vm_info *vms = NULL;
	uint32_t room = 0, total;
	int r, tries;

	for (tries = 0; tries < 8; tries++) {
		r = __eptgate_list_vms(dev, vms, room, sizeof(*vms), &total);
		if (r != -ENOSPC)
			break;
		room = total;
		free(vms);
		vms = calloc(room ? room : 1, sizeof(*vms));
		TEST_ASSERT(vms, "calloc(%u VM records)", room);
	}
	TEST_ASSERT(!r, EPTGATE_IOCTL_ERROR("EPTGATE_LIST_VMS", r, "dev %d", dev));
	*nr = total;
	return vms;
}

int __eptgate_query_vm(int dev, struct eptgate_vm_query *q)
{
	q->size = sizeof(*q);
	return __eptgate_ioctl(dev, EPTGATE_QUERY_VM, q);
}

static struct eptgate_array detail_array(void *buf, uint32_t nr, size_t esize)
{
	return (struct eptgate_array){ .nr = nr, .entry_size = esize,
				       .addr = (uintptr_t)buf };
}

int __eptgate_query_vm_detail(int dev, uint64_t vm_id,
			      struct eptgate_vm_detail *d)
{
	struct eptgate_vm_query q = { .vm_id = vm_id };
	int r;

	memset(d, 0, sizeof(*d));
	d->ranges = calloc(EPTGATE_DETAIL_MAX_RANGES, sizeof(*d->ranges));
	d->vcpus = calloc(EPTGATE_DETAIL_MAX_VCPUS, sizeof(*d->vcpus));
	TEST_ASSERT(d->ranges && d->vcpus, "calloc for EPTGATE_QUERY_VM");
	q.vm = detail_array(&d->vm, 1, sizeof(d->vm));
	q.views = detail_array(d->views, EPTGATE_MAX_VIEWS, sizeof(d->views[0]));
	q.view_stats = detail_array(d->view_stats, EPTGATE_MAX_VIEWS,
				    sizeof(d->view_stats[0]));
	q.ranges = detail_array(d->ranges, EPTGATE_DETAIL_MAX_RANGES,
				sizeof(d->ranges[0]));
	q.vcpus = detail_array(d->vcpus, EPTGATE_DETAIL_MAX_VCPUS,
			       sizeof(d->vcpus[0]));
	r = __eptgate_query_vm(dev, &q);
	if (!r) {
		TEST_ASSERT(q.vm.nr == 1 && q.views.nr == q.view_stats.nr,
			    "EPTGATE_QUERY_VM: %u VM records, %u views but %u view counters",
			    q.vm.nr, q.views.nr, q.view_stats.nr);
		d->nr_views = q.views.nr;
		d->nr_ranges = q.ranges.nr;
		d->nr_vcpus = q.vcpus.nr;
	}
	return r;
}

void eptgate_query_vm_detail(int dev, uint64_t vm_id,
			     struct eptgate_vm_detail *d)
{
	int r = __eptgate_query_vm_detail(dev, vm_id, d);

	TEST_ASSERT(!r, EPTGATE_IOCTL_ERROR("EPTGATE_QUERY_VM", r, "vm_id %lu",
					    vm_id));
}

void eptgate_vm_detail_free(struct eptgate_vm_detail *d)
{
	free(d->ranges);
	free(d->vcpus);
	d->ranges = NULL;
	d->vcpus = NULL;
}
