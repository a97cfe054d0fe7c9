// SPDX-License-Identifier: GPL-2.0
/*
 * eptgatectl's data source on /dev/eptgate: EPTGATE_GET_INFO,
 * EPTGATE_LIST_VMS and EPTGATE_QUERY_VM (Documentation/api.rst).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "eptgatectl.h"

/* Records EPTGATE_QUERY_VM can return at most; ENOSPC grows them anyway. */
#define DEV_RANGES	(EPTGATE_MAX_VIEWS * 64)
#define DEV_VCPUS	64

struct dev {
	const char *path;
	int fd;
};

static int dev_open(struct dev *d, const char **what)
{
	if (d->fd >= 0)
		return 0;
	d->fd = open(d->path, O_RDONLY | O_CLOEXEC);
	if (d->fd < 0) {
		*what = d->path;
		return -errno;
	}
	return 0;
}

static int dev_ioctl(struct dev *d, unsigned long cmd, void *arg,
		     const char *name, const char **what)
{
	int r = dev_open(d, what);

	if (r)
		return r;
	if (ioctl(d->fd, cmd, arg) < 0) {
		*what = name;
		return -errno;
	}
	return 0;
}

static int dev_get_info(void *ctx, struct eptgate_info *info, const char **what)
{
	memset(info, 0, sizeof(*info));
	info->size = sizeof(*info);
	return dev_ioctl(ctx, EPTGATE_GET_INFO, info, "EPTGATE_GET_INFO", what);
}

static int dev_list_vms(void *ctx, struct eptgate_vm_info **vms, uint32_t *nr,
			const char **what)
{
	struct eptgate_vm_list l;
	uint32_t room = 16;
	int r, tries;

	*vms = NULL;
	for (tries = 0; tries < 16; tries++) {
		free(*vms);
		*vms = calloc(room, sizeof(**vms));
		if (!*vms)
			return -ENOMEM;
		l = (struct eptgate_vm_list){
			.size = sizeof(l),
			.vms = { .nr = room, .entry_size = sizeof(**vms),
				 .addr = (uintptr_t)*vms },
		};
		r = dev_ioctl(ctx, EPTGATE_LIST_VMS, &l, "EPTGATE_LIST_VMS", what);
		if (r != -ENOSPC)
			break;
		room = l.vms.nr + 16;	/* more may be bound meanwhile */
	}
	if (r) {
		free(*vms);
		*vms = NULL;
		return r;
	}
	*nr = l.vms.nr;
	return 0;
}

static struct eptgate_array array(void *buf, uint32_t nr, size_t esize)
{
	return (struct eptgate_array){ .nr = nr, .entry_size = esize,
				       .addr = (uintptr_t)buf };
}

static int dev_query_vm(void *ctx, uint64_t vm_id, struct ectl_vm *vm,
			const char **what)
{
	uint32_t nranges = DEV_RANGES, nvcpus = DEV_VCPUS;
	struct eptgate_vm_query q;
	int r, tries;

	memset(vm, 0, sizeof(*vm));
	for (tries = 0; tries < 16; tries++) {
		ectl_vm_free(vm);
		vm->ranges = calloc(nranges, sizeof(*vm->ranges));
		vm->vcpus = calloc(nvcpus, sizeof(*vm->vcpus));
		if (!vm->ranges || !vm->vcpus) {
			ectl_vm_free(vm);
			return -ENOMEM;
		}
		q = (struct eptgate_vm_query){
			.size = sizeof(q),
			.vm_id = vm_id,
			.vm = array(&vm->info, 1, sizeof(vm->info)),
			.views = array(vm->views, EPTGATE_MAX_VIEWS,
				       sizeof(vm->views[0])),
			.view_stats = array(vm->view_stats, EPTGATE_MAX_VIEWS,
					    sizeof(vm->view_stats[0])),
			.ranges = array(vm->ranges, nranges, sizeof(*vm->ranges)),
			.vcpus = array(vm->vcpus, nvcpus, sizeof(*vm->vcpus)),
		};
		r = dev_ioctl(ctx, EPTGATE_QUERY_VM, &q, "EPTGATE_QUERY_VM", what);
		if (r != -ENOSPC)
			break;
		if (q.ranges.nr > nranges)
			nranges = q.ranges.nr;
		if (q.vcpus.nr > nvcpus)
			nvcpus = q.vcpus.nr + 16;
	}
	if (r) {
		ectl_vm_free(vm);
		return r;
	}
	vm->nr_views = q.views.nr < q.view_stats.nr ? q.views.nr : q.view_stats.nr;
	vm->nr_ranges = q.ranges.nr;
	vm->nr_vcpus = q.vcpus.nr;
	return 0;
}

static double dev_now(void *ctx)
{
	struct timespec ts;

	(void)ctx;
	clock_gettime(CLOCK_REALTIME, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static bool dev_sleep(void *ctx, double seconds)
{
	struct timespec ts = { .tv_sec = (time_t)seconds,
			       .tv_nsec = (long)((seconds - (time_t)seconds) * 1e9) };

	(void)ctx;
	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
	return true;
}

void ectl_dev_source(struct ectl_source *src, const char *path)
{
	static struct dev d;

	d.path = path;
	d.fd = -1;
	*src = (struct ectl_source){
		.ctx = &d,
		.get_info = dev_get_info,
		.list_vms = dev_list_vms,
		.query_vm = dev_query_vm,
		.now = dev_now,
		.sleep = dev_sleep,
	};
}
