// SPDX-License-Identifier: GPL-2.0
/*
 * negative_args_test: every malformed request to /dev/eptgate and to a
 * binding fd fails with the documented errno, and leaves the state usable.
 *
 * Each check is one TAP line.  Results are collected first and printed
 * with the plan afterwards, so the plan does not have to be counted by
 * hand; a failing setup step (TEST_ASSERT) still aborts the program.
 */
#include <sys/stat.h>
#include <sys/wait.h>

#include "eptgate_util.h"

#define RAM_GPA		0x10000000ULL	/* memslot 1: 16 pages, past memslot 0 */
#define RAM_PAGES	16
#define RAM2_GPA	0x10200000ULL	/* memslot 2: 4 pages, gap before it */
#define RAM2_PAGES	4
#define NOT_RAM_GPA	0x40000000ULL

#define PEER_GPA	0x100000ULL
#define PEER_PAGES	4

#define PG		EPTGATE_PAGE_SIZE

#define MAX_CHECKS	256

static struct {
	bool ok;
	char desc[240];
} results[MAX_CHECKS];
static int nr_results;

static void __attribute__((format(printf, 2, 3)))
record(bool ok, const char *fmt, ...)
{
	va_list ap;

	TEST_ASSERT(nr_results < MAX_CHECKS, "too many checks");
	results[nr_results].ok = ok;
	va_start(ap, fmt);
	vsnprintf(results[nr_results].desc, sizeof(results[0].desc), fmt, ap);
	va_end(ap);
	nr_results++;
}

static const char *errname(int err)
{
	const char *s = err ? strerrorname_np(err) : "success";

	return s ? s : "?";
}

/* @r is a __eptgate_*() result: expect -@err (0 means success). */
#define EXPECT(r, err, what, ...)					\
do {									\
	int __r = (r), __e = (err);					\
	bool __ok = __e ? __r == -__e : __r >= 0;			\
									\
	record(__ok, what " -> %s%s%s", ##__VA_ARGS__, errname(__e),	\
	       __ok ? "" : ", got ",					\
	       __ok ? "" : (__r < 0 ? errname(-__r) : "success"));	\
} while (0)

/* Either of two errnos is acceptable (the ABI does not pin one down). */
#define EXPECT2(r, err1, err2, what, ...)				\
do {									\
	int __r = (r);							\
	bool __ok = __r == -(err1) || __r == -(err2);			\
									\
	record(__ok, what " -> %s or %s%s%s", ##__VA_ARGS__,		\
	       errname(err1), errname(err2), __ok ? "" : ", got ",	\
	       __ok ? "" : (__r < 0 ? errname(-__r) : "success"));	\
} while (0)

/* A raw ioctl whose argument size differs from the command's. */
static int raw_ioctl(int fd, unsigned long cmd, void *arg)
{
	int r = ioctl(fd, cmd, arg);

	return r < 0 ? -errno : r;
}

/*
 * The header every argument starts with (size, flags) and its pad field:
 * for each ioctl, which malformed values of them are refused with EINVAL.
 * check_header() takes a valid argument and tries each row's values, one
 * field changed at a time: the flags value, pad = 1 (at pad_off, 0 when
 * the argument has no pad), then each size below the first layout.  A row
 * is one TAP line per value, as the hand-written checks it replaces were.
 */
enum {
	H_GET_INFO, H_BIND_VM, H_CREATE_VIEW, H_DESTROY_VIEW, H_SET_ACCESS,
	H_MAP_WINDOW, H_CREATE_GRANT, H_GRANT_INFO, H_REVOKE_GRANT, H_ENABLE,
	H_DISABLE, H_VIEW_STATS, H_VCPU_STATS,
};

static const struct bad_header {
	const char *what;
	unsigned long cmd;	/* its size is the valid argument's */
	size_t pad_off;		/* 0: no pad */
	uint32_t bad_flags;
	const char *flags_note;
	bool returns_fd;	/* a wrong success is an fd, to be closed */
	unsigned int nr_sizes;
	uint32_t sizes[2];
} headers[] = {
#define HDR(_what, ...)	{ #_what, EPTGATE_##_what, __VA_ARGS__ }
#define PAD(_type)	offsetof(struct eptgate_##_type, pad)
#define LESS(_type, _n)	(sizeof(struct eptgate_##_type) - (_n))
	/*                 ioctl            pad               flags            fd     sizes */
	[H_GET_INFO]     = HDR(GET_INFO,        0,                1, "",           false, 2, { 0, LESS(info, 8) }),
	[H_BIND_VM]      = HDR(BIND_VM,         PAD(bind),        1, "",           true,  1, { LESS(bind, 4) }),
	[H_CREATE_VIEW]  = HDR(CREATE_VIEW,     PAD(view),        1, "",           false, 1, { LESS(view, 4) }),
	[H_DESTROY_VIEW] = HDR(DESTROY_VIEW,    PAD(view),        1, "",           false, 1, { 4 }),
	[H_SET_ACCESS]   = HDR(SET_ACCESS,      0,                1, "",           false, 1, { LESS(access, 8) }),
	[H_MAP_WINDOW]   = HDR(MAP_WINDOW,      PAD(window),      4, " (unknown)", false, 1, { LESS(window, 8) }),
	[H_CREATE_GRANT] = HDR(CREATE_GRANT,    PAD(grant),       1, "",           true,  1, { 8 }),
	[H_GRANT_INFO]   = HDR(GRANT_INFO,      0,                1, "",           false, 0, { 0 }),
	[H_REVOKE_GRANT] = HDR(REVOKE_GRANT,    0,                1, "",           false, 0, { 0 }),
	[H_ENABLE]       = HDR(ENABLE,          0,                1, "",           false, 1, { 4 }),
	[H_DISABLE]      = HDR(DISABLE,         0,                1, "",           false, 1, { 4 }),
	[H_VIEW_STATS]   = HDR(GET_VIEW_STATS,  PAD(view_stats),  1, "",           false, 1, { 8 }),
	[H_VCPU_STATS]   = HDR(GET_VCPU_STATS,  0,                1, "",           false, 1, { 8 }),
#undef LESS
#undef PAD
#undef HDR
};

/* @valid with the u32 at @off set to @val must be refused with EINVAL. */
static void try_header(int fd, const struct bad_header *h, const void *valid,
		       size_t off, const char *field, uint32_t val,
		       const char *note)
{
	static uint64_t arg[4096 / sizeof(uint64_t)];
	size_t len = _IOC_SIZE(h->cmd);
	int r;

	TEST_ASSERT(len <= sizeof(arg) && off + sizeof(val) <= len,
		    "%s: %s at %zu of a %zu-byte argument", h->what, field,
		    off, len);
	memcpy(arg, valid, len);
	memcpy((uint8_t *)arg + off, &val, sizeof(val));
	r = raw_ioctl(fd, h->cmd, arg);
	if (r > 0 && h->returns_fd)
		close(r);
	EXPECT(r, EINVAL, "%s %s=%u%s", h->what, field, val, note);
}

static void check_header(int fd, unsigned int which, const void *valid)
{
	const struct bad_header *h = &headers[which];
	unsigned int i;

	_Static_assert(offsetof(struct eptgate_revoke, size) == 0 &&
		       offsetof(struct eptgate_revoke, flags) == 4,
		       "every argument starts with size, flags");
	try_header(fd, h, valid, 4, "flags", h->bad_flags, h->flags_note);
	if (h->pad_off)
		try_header(fd, h, valid, h->pad_off, "pad", 1, "");
	for (i = 0; i < h->nr_sizes; i++)
		try_header(fd, h, valid, 0, "size", h->sizes[i],
			   " (< first layout)");
}

static void check_info(int dev)
{
	struct eptgate_info info;
	struct {
		struct eptgate_info info;
		uint64_t tail[2];
	} big;
	static uint8_t huge[2 * 4096 + 64];

	memset(&info, 0, sizeof(info));
	info.size = sizeof(info);
	check_header(dev, H_GET_INFO, &info);

	memset(&big, 0, sizeof(big));
	big.info.size = sizeof(big);
	EXPECT(raw_ioctl(dev, EPTGATE_GET_INFO, &big), 0,
	       "GET_INFO size=%zu (larger, zero tail)", sizeof(big));
	record(big.info.api_version == EPTGATE_API_VERSION &&
	       big.info.max_views == EPTGATE_MAX_VIEWS &&
	       !big.tail[0] && !big.tail[1],
	       "GET_INFO larger size: api_version %u (want %u), max_views %u (want %u), tail untouched",
	       big.info.api_version, EPTGATE_API_VERSION,
	       big.info.max_views, EPTGATE_MAX_VIEWS);

	memset(&big, 0, sizeof(big));
	big.info.size = sizeof(big);
	big.tail[1] = 1;
	EXPECT2(raw_ioctl(dev, EPTGATE_GET_INFO, &big), EINVAL, E2BIG,
		"GET_INFO larger size with a nonzero unknown byte");

	memset(huge, 0, sizeof(huge));
	*(uint32_t *)huge = sizeof(huge);
	EXPECT2(raw_ioctl(dev, EPTGATE_GET_INFO, huge), EINVAL, E2BIG,
		"GET_INFO size=%zu (> PAGE_SIZE)", sizeof(huge));

	info = eptgate_get_info(dev);
	record(info.max_views == EPTGATE_MAX_VIEWS &&
	       (info.caps & EPTGATE_CAP_EPT) &&
	       (info.caps & EPTGATE_CAP_VMFUNC_EPTP),
	       "GET_INFO: max_views %u, caps 0x%llx include EPT and VMFUNC_EPTP",
	       info.max_views, (unsigned long long)info.caps);
}

/* An O_PATH fd for the file behind @fd. */
static int open_path_of(int fd)
{
	char path[64];
	int pfd;

	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	pfd = open(path, O_PATH);
	TEST_ASSERT(pfd >= 0, "open(%s, O_PATH): %s", path, strerror(errno));
	return pfd;
}

/*
 * BIND_VM of @vm from a forked child: the child has the VM fd but not the
 * VM's mm.  Returns the child's __eptgate_bind_vm_fd() result.
 */
static int bind_from_child(int dev, struct kvm_vm *vm)
{
	int status;
	pid_t pid;

	vm_guest_memory_dontfork(vm);
	pid = fork();
	TEST_ASSERT(pid >= 0, "fork: %s", strerror(errno));
	if (!pid)
		_exit(-__eptgate_bind_vm_fd(dev, vm->fd) & 0xff);
	TEST_ASSERT(waitpid(pid, &status, 0) == pid && WIFEXITED(status),
		    "the binding child did not exit normally (status 0x%x)",
		    status);
	return -WEXITSTATUS(status);
}

static void check_bind(int dev, struct kvm_vm *vm, struct kvm_vcpu *vcpu)
{
	struct eptgate_bind b;
	int pipefd[2], fd, closed_fd;

	memset(&b, 0, sizeof(b));
	b.size = sizeof(b);
	b.vm_fd = vm->fd;
	check_header(dev, H_BIND_VM, &b);

	TEST_ASSERT(!pipe(pipefd), "pipe: %s", strerror(errno));
	EXPECT(__eptgate_bind_vm_fd(dev, pipefd[0]), EINVAL, "BIND_VM vm_fd=pipe");
	close(pipefd[0]);
	close(pipefd[1]);

	fd = open("/dev/null", O_RDWR);
	TEST_ASSERT(fd >= 0, "open /dev/null: %s", strerror(errno));
	EXPECT(__eptgate_bind_vm_fd(dev, fd), EINVAL, "BIND_VM vm_fd=/dev/null");
	close(fd);

	fd = open(KVM_DEV_PATH, O_RDWR);
	TEST_ASSERT(fd >= 0, "open %s: %s", KVM_DEV_PATH, strerror(errno));
	EXPECT(__eptgate_bind_vm_fd(dev, fd), EINVAL,
	       "BIND_VM vm_fd=/dev/kvm system fd");
	close(fd);

	EXPECT(__eptgate_bind_vm_fd(dev, dev), EINVAL,
	       "BIND_VM vm_fd=/dev/eptgate fd");

	closed_fd = open("/dev/null", O_RDONLY);
	TEST_ASSERT(closed_fd >= 0, "open /dev/null: %s", strerror(errno));
	close(closed_fd);
	EXPECT(__eptgate_bind_vm_fd(dev, closed_fd), EBADF,
	       "BIND_VM vm_fd=%d (closed)", closed_fd);
	EXPECT(__eptgate_bind_vm_fd(dev, -1), EBADF, "BIND_VM vm_fd=-1");

	/* A vCPU fd is a KVM fd but not a VM. */
	EXPECT(__eptgate_bind_vm_fd(dev, vcpu->fd), EINVAL,
	       "BIND_VM vm_fd=KVM vCPU fd");

	/* The VM's own file, reopened O_PATH: no access to the VM. */
	fd = open_path_of(vm->fd);
	EXPECT(__eptgate_bind_vm_fd(dev, fd), EBADF,
	       "BIND_VM vm_fd=O_PATH fd of the VM");
	close(fd);

	EXPECT(bind_from_child(dev, vm), EPERM,
	       "BIND_VM from a child forked after KVM_CREATE_VM (another mm)");
}

static void check_views(int bfd)
{
	struct eptgate_view v;
	uint32_t i;
	int r;

	memset(&v, 0, sizeof(v));
	v.size = sizeof(v);
	check_header(bfd, H_CREATE_VIEW, &v);
	EXPECT(__eptgate_create_view(bfd, EPTGATE_MAX_VIEWS), EINVAL,
	       "CREATE_VIEW view=%d", EPTGATE_MAX_VIEWS);
	EXPECT(__eptgate_create_view(bfd, 0xffffffffu), EINVAL,
	       "CREATE_VIEW view=0xffffffff");

	for (i = 1; i < EPTGATE_MAX_VIEWS; i++) {
		r = __eptgate_create_view(bfd, 0);
		if (r != (int)i)
			break;
	}
	record(i == EPTGATE_MAX_VIEWS,
	       "CREATE_VIEW view=0 x%d returns ids 1..%d in order (stopped at %u with %d)",
	       EPTGATE_MAX_VIEWS - 1, EPTGATE_MAX_VIEWS - 1, i,
	       i == EPTGATE_MAX_VIEWS ? 0 : r);
	EXPECT(__eptgate_create_view(bfd, 0), ENOSPC,
	       "CREATE_VIEW view=0 with %d views", EPTGATE_MAX_VIEWS - 1);

	EXPECT(__eptgate_destroy_view(bfd, 5), 0, "DESTROY_VIEW 5");
	EXPECT(__eptgate_destroy_view(bfd, 5), ENOENT, "DESTROY_VIEW 5 again");
	r = __eptgate_create_view(bfd, 0);
	record(r == 5, "CREATE_VIEW view=0 reuses the lowest free id 5 (got %d)", r);
	EXPECT(__eptgate_create_view(bfd, 3), EEXIST, "CREATE_VIEW view=3 (exists)");

	for (i = 2; i < EPTGATE_MAX_VIEWS; i++)
		eptgate_destroy_view(bfd, i);

	memset(&v, 0, sizeof(v));
	v.size = sizeof(v);
	v.view = 1;
	check_header(bfd, H_DESTROY_VIEW, &v);
	EXPECT(__eptgate_destroy_view(bfd, 0), EINVAL, "DESTROY_VIEW view=0");
	EXPECT(__eptgate_destroy_view(bfd, EPTGATE_MAX_VIEWS), EINVAL,
	       "DESTROY_VIEW view=%d", EPTGATE_MAX_VIEWS);
	EXPECT(__eptgate_destroy_view(bfd, 0xffffffffu), EINVAL,
	       "DESTROY_VIEW view=0xffffffff");
	EXPECT(__eptgate_destroy_view(bfd, 7), ENOENT,
	       "DESTROY_VIEW view=7 (not created)");

	r = __eptgate_create_view(bfd, 4);
	record(r == 4, "CREATE_VIEW view=4 (explicit free id) returns 4 (got %d)", r);
	EXPECT(__eptgate_destroy_view(bfd, 4), 0, "DESTROY_VIEW 4");
}

/* View 1 exists on @bfd. */
static void check_access(int bfd)
{
	struct eptgate_access a;

	memset(&a, 0, sizeof(a));
	a.size = sizeof(a);
	a.view = 1;
	a.access = EPTGATE_RW;
	a.gpa = RAM_GPA;
	a.len = PG;
	check_header(bfd, H_SET_ACCESS, &a);

	EXPECT(__eptgate_set_access(bfd, 0, RAM_GPA, PG, EPTGATE_RW), EINVAL,
	       "SET_ACCESS view=0");
	EXPECT(__eptgate_set_access(bfd, EPTGATE_MAX_VIEWS, RAM_GPA, PG, EPTGATE_RW),
	       EINVAL, "SET_ACCESS view=%d", EPTGATE_MAX_VIEWS);
	EXPECT(__eptgate_set_access(bfd, 2, RAM_GPA, PG, EPTGATE_RW), ENOENT,
	       "SET_ACCESS view=2 (not created)");

	EXPECT(__eptgate_set_access(bfd, 1, RAM_GPA + 0x800, PG, EPTGATE_RW),
	       EINVAL, "SET_ACCESS gpa unaligned");
	EXPECT(__eptgate_set_access(bfd, 1, RAM_GPA, PG + 8, EPTGATE_RW),
	       EINVAL, "SET_ACCESS len unaligned");
	EXPECT(__eptgate_set_access(bfd, 1, RAM_GPA, 0, EPTGATE_RW),
	       EINVAL, "SET_ACCESS len=0");
	EXPECT(__eptgate_set_access(bfd, 1, RAM_GPA, PG, EPTGATE_ACCESS_W),
	       EINVAL, "SET_ACCESS access=W (W without R)");
	EXPECT(__eptgate_set_access(bfd, 1, RAM_GPA, PG,
				    EPTGATE_ACCESS_W | EPTGATE_ACCESS_X),
	       EINVAL, "SET_ACCESS access=WX (W without R)");
	EXPECT(__eptgate_set_access(bfd, 1, RAM_GPA, PG, EPTGATE_RO | 0x8),
	       EINVAL, "SET_ACCESS access=R|0x8 (unknown bit)");
	EXPECT(__eptgate_set_access(bfd, 1, RAM_GPA, PG, EPTGATE_RO | 0x80000000u),
	       EINVAL, "SET_ACCESS access=R|0x80000000 (unknown bit)");

	EXPECT(__eptgate_set_access(bfd, 1, NOT_RAM_GPA, PG, EPTGATE_RW),
	       ENOENT, "SET_ACCESS gpa outside memslots");
	EXPECT(__eptgate_set_access(bfd, 1, RAM_GPA + (RAM_PAGES - 1) * PG,
				    2 * PG, EPTGATE_RW),
	       ENOENT, "SET_ACCESS range straddling the end of a memslot");
	EXPECT(__eptgate_set_access(bfd, 1, RAM_GPA, RAM2_GPA + PG - RAM_GPA,
				    EPTGATE_RW),
	       ENOENT, "SET_ACCESS range spanning the hole between two memslots");
	EXPECT2(__eptgate_set_access(bfd, 1, ~0xfffULL, 2 * PG, EPTGATE_RW),
		EINVAL, ENOENT, "SET_ACCESS gpa + len wraps around");

	EXPECT(__eptgate_set_access(bfd, 1, RAM_GPA, 2 * PG, EPTGATE_RW), 0,
	       "SET_ACCESS [RAM, +2 pages) RW");
	EXPECT(__eptgate_set_access(bfd, 1, RAM_GPA + PG, 2 * PG, EPTGATE_RO),
	       EEXIST, "SET_ACCESS overlapping the end of an existing range");
	EXPECT(__eptgate_set_access(bfd, 1, RAM_GPA, 2 * PG, EPTGATE_RW),
	       EEXIST, "SET_ACCESS same range again");
	EXPECT(__eptgate_set_access(bfd, 1, RAM_GPA, 8 * PG, EPTGATE_RW),
	       EEXIST, "SET_ACCESS range containing an existing range");
	EXPECT(__eptgate_set_access(bfd, 1, RAM_GPA + 2 * PG, PG, EPTGATE_RO),
	       0, "SET_ACCESS adjacent range R");
	EXPECT(__eptgate_set_access(bfd, 1, RAM_GPA, 2 * PG, 0), 0,
	       "SET_ACCESS access=0 removes the range");
	EXPECT(__eptgate_set_access(bfd, 1, RAM_GPA, 2 * PG, EPTGATE_RWX), 0,
	       "SET_ACCESS on the removed range again (RWX)");
	EXPECT(__eptgate_set_access(bfd, 1, RAM2_GPA, RAM2_PAGES * PG,
				    EPTGATE_RWX), 0,
	       "SET_ACCESS a whole second memslot");
}

/* View 1 of @bfd has SET_ACCESS ranges at [RAM_GPA, +3 pages). */
static void check_window(int bfd, int peer_bfd)
{
	struct eptgate_window w;
	const uint64_t wgpa = NOT_RAM_GPA;
	int pipefd[2], closed_fd;

	memset(&w, 0, sizeof(w));
	w.size = sizeof(w);
	w.view = 1;
	w.access = EPTGATE_RW;
	w.gpa = wgpa;
	w.len = PG;
	w.peer_fd = peer_bfd;
	w.peer_gpa = PEER_GPA;

	/*
	 * The valid argument has flags 0: with a binding fd that alone is
	 * refused (the check after the table), and the pad and size rows
	 * are tried on it, as they were before the table.
	 */
	check_header(bfd, H_MAP_WINDOW, &w);
	EXPECT(__eptgate_ioctl(bfd, EPTGATE_MAP_WINDOW, &w), EINVAL,
	       "MAP_WINDOW peer_fd=binding fd without EPTGATE_WINDOW_PEER_BINDING");

	EXPECT(__eptgate_map_window(bfd, 0, wgpa, PG, EPTGATE_RW, peer_bfd, PEER_GPA),
	       EINVAL, "MAP_WINDOW view=0");
	EXPECT(__eptgate_map_window(bfd, EPTGATE_MAX_VIEWS, wgpa, PG, EPTGATE_RW,
				    peer_bfd, PEER_GPA),
	       EINVAL, "MAP_WINDOW view=%d", EPTGATE_MAX_VIEWS);
	EXPECT(__eptgate_map_window(bfd, 2, wgpa, PG, EPTGATE_RW, peer_bfd, PEER_GPA),
	       ENOENT, "MAP_WINDOW view=2 (not created)");
	EXPECT(__eptgate_map_window(bfd, 1, wgpa, PG, EPTGATE_RWX, peer_bfd, PEER_GPA),
	       EINVAL, "MAP_WINDOW access=RWX (X not allowed)");
	EXPECT(__eptgate_map_window(bfd, 1, wgpa, PG, EPTGATE_ACCESS_W, peer_bfd,
				    PEER_GPA),
	       EINVAL, "MAP_WINDOW access=W (W without R)");
	EXPECT(__eptgate_map_window(bfd, 1, wgpa, PG, EPTGATE_RO | 0x10, peer_bfd,
				    PEER_GPA),
	       EINVAL, "MAP_WINDOW access=R|0x10 (unknown bit)");
	EXPECT(__eptgate_map_window(bfd, 1, wgpa + 8, PG, EPTGATE_RW, peer_bfd,
				    PEER_GPA),
	       EINVAL, "MAP_WINDOW gpa unaligned");
	EXPECT(__eptgate_map_window(bfd, 1, wgpa, PG, EPTGATE_RW, peer_bfd,
				    PEER_GPA + 8),
	       EINVAL, "MAP_WINDOW peer_gpa unaligned");
	EXPECT(__eptgate_map_window(bfd, 1, wgpa, 0, EPTGATE_RW, peer_bfd, PEER_GPA),
	       EINVAL, "MAP_WINDOW len=0");
	EXPECT(__eptgate_map_window(bfd, 1, wgpa, PG, EPTGATE_RW, peer_bfd,
				    NOT_RAM_GPA),
	       ENOENT, "MAP_WINDOW peer range outside the peer's memslots");
	EXPECT(__eptgate_map_window(bfd, 1, wgpa, (PEER_PAGES + 1) * PG, EPTGATE_RW,
				    peer_bfd, PEER_GPA),
	       ENOENT, "MAP_WINDOW peer range straddling the end of a peer memslot");

	TEST_ASSERT(!pipe(pipefd), "pipe: %s", strerror(errno));
	EXPECT(__eptgate_map_window(bfd, 1, wgpa, PG, EPTGATE_RW, pipefd[0], PEER_GPA),
	       EINVAL, "MAP_WINDOW peer_fd=pipe");
	close(pipefd[0]);
	close(pipefd[1]);
	closed_fd = open("/dev/null", O_RDONLY);
	TEST_ASSERT(closed_fd >= 0, "open /dev/null: %s", strerror(errno));
	close(closed_fd);
	EXPECT(__eptgate_map_window(bfd, 1, wgpa, PG, EPTGATE_RW, closed_fd, PEER_GPA),
	       EBADF, "MAP_WINDOW peer_fd=%d (closed)", closed_fd);

	EXPECT(__eptgate_map_window(bfd, 1, RAM_GPA + PG, PG, EPTGATE_RW, peer_bfd,
				    PEER_GPA),
	       EEXIST, "MAP_WINDOW over a SET_ACCESS range of the same view");

	EXPECT(__eptgate_map_window(bfd, 1, wgpa, 2 * PG, EPTGATE_RW, peer_bfd,
				    PEER_GPA),
	       0, "MAP_WINDOW [NOT_RAM, +2 pages) RW");
	EXPECT(__eptgate_map_window(bfd, 1, wgpa + PG, 2 * PG, EPTGATE_RO, peer_bfd,
				    PEER_GPA),
	       EEXIST, "MAP_WINDOW overlapping an existing window");
	EXPECT(__eptgate_set_access(bfd, 1, RAM_GPA + 8 * PG, PG, EPTGATE_RW), 0,
	       "SET_ACCESS on free RAM next to windows");
	EXPECT(__eptgate_map_window(bfd, 1, RAM_GPA + 9 * PG, PG, EPTGATE_RO,
				    peer_bfd, PEER_GPA),
	       0, "MAP_WINDOW overlaying own RAM not covered by SET_ACCESS");
	EXPECT(__eptgate_set_access(bfd, 1, RAM_GPA + 9 * PG, PG, EPTGATE_RW),
	       EEXIST, "SET_ACCESS over a window of the same view");
	EXPECT(__eptgate_unmap_window(bfd, 1, wgpa, 2 * PG), 0,
	       "MAP_WINDOW UNMAP of the window");
	EXPECT(__eptgate_map_window(bfd, 1, wgpa, PG, EPTGATE_RO, peer_bfd, PEER_GPA),
	       0, "MAP_WINDOW again after unmapping");
}

/* A one-range grant argument over the peer's memslot 1. */
static struct eptgate_grant grant_arg(uint64_t gpa, uint64_t len, uint32_t access)
{
	struct eptgate_grant g;

	memset(&g, 0, sizeof(g));
	g.size = sizeof(g);
	g.nr_ranges = 1;
	g.ranges[0].gpa = gpa;
	g.ranges[0].len = len;
	g.ranges[0].access = access;
	return g;
}

#define EXPECT_GRANT(g, err, what, ...)					\
do {									\
	int __fd = __eptgate_ioctl(peer_bfd, EPTGATE_CREATE_GRANT, &(g));	\
									\
	EXPECT(__fd, err, what, ##__VA_ARGS__);				\
	if (__fd >= 0)							\
		close(__fd);						\
} while (0)

/* Grants of the peer (memslot 1: PEER_GPA, PEER_PAGES) into view 1 of @bfd. */
static void check_grants(int dev, int bfd, int peer_bfd)
{
	const uint64_t wgpa = NOT_RAM_GPA + 16 * PG;
	struct eptgate_grant_info gi;
	struct eptgate_revoke rv;
	struct eptgate_grant g;
	int gfd, own_gfd;

	g = grant_arg(PEER_GPA, PG, EPTGATE_RO);
	check_header(peer_bfd, H_CREATE_GRANT, &g);
	g.nr_ranges = 0;
	EXPECT_GRANT(g, EINVAL, "CREATE_GRANT nr_ranges=0");
	g.nr_ranges = EPTGATE_GRANT_MAX_RANGES + 1;
	EXPECT_GRANT(g, EINVAL, "CREATE_GRANT nr_ranges=%d", EPTGATE_GRANT_MAX_RANGES + 1);
	g = grant_arg(PEER_GPA, PG, EPTGATE_RWX);
	EXPECT_GRANT(g, EINVAL, "CREATE_GRANT access=RWX (no X in a grant)");
	g = grant_arg(PEER_GPA, PG, EPTGATE_ACCESS_W);
	EXPECT_GRANT(g, EINVAL, "CREATE_GRANT access=W (W without R)");
	g = grant_arg(PEER_GPA, PG, 0);
	EXPECT_GRANT(g, EINVAL, "CREATE_GRANT access=0");
	g = grant_arg(PEER_GPA + 8, PG, EPTGATE_RO);
	EXPECT_GRANT(g, EINVAL, "CREATE_GRANT gpa unaligned");
	g = grant_arg(PEER_GPA, 0, EPTGATE_RO);
	EXPECT_GRANT(g, EINVAL, "CREATE_GRANT len=0");
	g = grant_arg(PEER_GPA, PG, EPTGATE_RO);
	g.ranges[0].pad = 1;
	EXPECT_GRANT(g, EINVAL, "CREATE_GRANT range pad=1");
	g = grant_arg(PEER_GPA, (PEER_PAGES + 1) * PG, EPTGATE_RO);
	EXPECT_GRANT(g, ENOENT, "CREATE_GRANT range past the peer's memslot");
	EXPECT(__eptgate_ioctl(dev, EPTGATE_CREATE_GRANT, &g), ENOTTY,
	       "CREATE_GRANT on /dev/eptgate");

	gfd = eptgate_create_grant(peer_bfd, PEER_GPA, 2 * PG, EPTGATE_RO);
	EXPECT(__eptgate_map_window_grant(bfd, 1, wgpa, PG, EPTGATE_RO, gfd,
					  PEER_GPA + 2 * PG),
	       EACCES, "MAP_WINDOW outside the grant's range");
	EXPECT(__eptgate_map_window_grant(bfd, 1, wgpa, 3 * PG, EPTGATE_RO, gfd,
					  PEER_GPA),
	       EACCES, "MAP_WINDOW straddling the end of the grant's range");
	EXPECT(__eptgate_map_window_grant(bfd, 1, wgpa, PG, EPTGATE_RW, gfd,
					  PEER_GPA),
	       EACCES, "MAP_WINDOW RW on a read-only grant");
	EXPECT(__eptgate_map_window_grant(bfd, 1, wgpa, PG, EPTGATE_RO, gfd,
					  PEER_GPA + PG),
	       0, "MAP_WINDOW inside the grant, read-only");
	EXPECT(__eptgate_grant_info(gfd, &gi), 0, "GRANT_INFO");
	EXPECT(gi.windows == 1 && !gi.revoked && gi.nr_ranges == 1 ? 0 : -1, 0,
	       "GRANT_INFO: 1 window, not revoked (got %llu, %u)",
	       (unsigned long long)gi.windows, gi.revoked);
	memset(&gi, 0, sizeof(gi));
	gi.size = sizeof(gi);
	check_header(gfd, H_GRANT_INFO, &gi);
	memset(&rv, 0, sizeof(rv));
	rv.size = sizeof(rv);
	check_header(gfd, H_REVOKE_GRANT, &rv);
	EXPECT(__eptgate_create_view(gfd, 0), ENOTTY,
	       "CREATE_VIEW on a grant fd");
	EXPECT(__eptgate_grant_info(bfd, &gi), ENOTTY, "GRANT_INFO on a binding fd");
	EXPECT(__eptgate_revoke_grant(gfd), 0, "REVOKE_GRANT");
	EXPECT(__eptgate_revoke_grant(gfd), EKEYREVOKED, "REVOKE_GRANT again");
	EXPECT(__eptgate_grant_info(gfd, &gi), 0, "GRANT_INFO after REVOKE_GRANT");
	EXPECT(gi.revoked && !gi.windows && gi.windows_revoked == 1 ? 0 : -1, 0,
	       "GRANT_INFO after revocation: revoked, 0 windows, 1 revoked (got %u, %llu, %llu)",
	       gi.revoked, (unsigned long long)gi.windows,
	       (unsigned long long)gi.windows_revoked);
	EXPECT(__eptgate_map_window_grant(bfd, 1, wgpa, PG, EPTGATE_RO, gfd,
					  PEER_GPA),
	       EKEYREVOKED, "MAP_WINDOW with a revoked grant");
	EXPECT(__eptgate_unmap_window(bfd, 1, wgpa, PG), 0,
	       "MAP_WINDOW UNMAP of the range a revoked window left (its sink)");
	EXPECT(__eptgate_unmap_window(bfd, 1, wgpa, PG), ENOENT,
	       "MAP_WINDOW UNMAP of it again");
	close(gfd);

	own_gfd = eptgate_create_grant(bfd, RAM_GPA, PG, EPTGATE_RO);
	EXPECT(__eptgate_map_window_grant(bfd, 1, wgpa, PG, EPTGATE_RO, own_gfd,
					  RAM_GPA),
	       EINVAL, "MAP_WINDOW with a grant of the VM itself");
	close(own_gfd);
}

static void check_switching_and_stats(int bfd)
{
	struct eptgate_switching s;
	struct eptgate_view_stats vs;
	struct eptgate_vcpu_stats cs;

	memset(&s, 0, sizeof(s));
	s.size = sizeof(s);
	check_header(bfd, H_ENABLE, &s);
	check_header(bfd, H_DISABLE, &s);
	EXPECT(__eptgate_enable(bfd), 0, "ENABLE");
	EXPECT(__eptgate_disable(bfd), 0, "DISABLE");

	memset(&vs, 0, sizeof(vs));
	vs.size = sizeof(vs);
	vs.view = 1;
	check_header(bfd, H_VIEW_STATS, &vs);
	EXPECT(__eptgate_view_stats(bfd, EPTGATE_MAX_VIEWS, &vs), EINVAL,
	       "GET_VIEW_STATS view=%d", EPTGATE_MAX_VIEWS);
	EXPECT(__eptgate_view_stats(bfd, 0, &vs), EINVAL,
	       "GET_VIEW_STATS view=0 (KVM's own view has no stats)");
	EXPECT(__eptgate_view_stats(bfd, 1, &vs), 0, "GET_VIEW_STATS view=1");

	memset(&cs, 0, sizeof(cs));
	cs.size = sizeof(cs);
	check_header(bfd, H_VCPU_STATS, &cs);
	EXPECT(__eptgate_vcpu_stats(bfd, 0, &cs), 0, "GET_VCPU_STATS vcpu 0");
	EXPECT2(__eptgate_vcpu_stats(bfd, 1, &cs), EINVAL, ENOENT,
		"GET_VCPU_STATS vcpu 1 of a 1-vCPU VM");
}

static void guest_code(void)
{
	GUEST_DONE();
}

int main(void)
{
	struct kvm_vm *vm, *peer;
	struct kvm_vcpu *vcpu;
	int dev, bfd, peer_bfd, i;
	uint32_t view;

	eptgate_require();

	dev = eptgate_open();
	vm = vm_create_with_one_vcpu(&vcpu, guest_code);
	__vm_add_ram(vm, 1, RAM_GPA, RAM_PAGES);
	__vm_add_ram(vm, 2, RAM2_GPA, RAM2_PAGES);
	peer = vm_create_barebones();
	__vm_add_ram(peer, 1, PEER_GPA, PEER_PAGES);

	check_info(dev);
	check_bind(dev, vm, vcpu);

	bfd = eptgate_bind_vm(dev, vm);
	peer_bfd = eptgate_bind_vm(dev, peer);
	check_views(bfd);

	/* check_views() leaves exactly view 1 in place. */
	view = eptgate_create_view(bfd);
	TEST_ASSERT(view == 2, "with only view 1 left, CREATE_VIEW returned %u, expected 2",
		    view);
	eptgate_destroy_view(bfd, view);
	check_access(bfd);
	check_window(bfd, peer_bfd);
	check_grants(dev, bfd, peer_bfd);
	check_switching_and_stats(bfd);

	EXPECT(__eptgate_destroy_view(bfd, 1), 0,
	       "DESTROY_VIEW 1 with ranges and a window in it");

	close(peer_bfd);
	close(bfd);
	close(dev);
	kvm_vm_free(peer);
	kvm_vm_free(vm);

	ksft_print_header();
	ksft_set_plan(nr_results);
	for (i = 0; i < nr_results; i++) {
		if (results[i].ok)
			ksft_test_result_pass("%s\n", results[i].desc);
		else
			ksft_test_result_fail("%s\n", results[i].desc);
	}
	ksft_finished();
}
