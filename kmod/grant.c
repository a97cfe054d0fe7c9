// SPDX-License-Identifier: GPL-2.0
/*
 * Grants: the part of a VM that another process may map into its views,
 * and nothing else.  A binding fd is full control of a VM (its views, its
 * switching); a grant fd is a list of guest-physical ranges with R or RW
 * access, and passes over a UNIX socket like any fd.  EPTGATE_MAP_WINDOW
 * takes it as the peer.
 *
 * A grant ends (revocation) by EPTGATE_REVOKE_GRANT, by the release of
 * its file (every fd closed), or by the release of the granting binding:
 * every window made from it is unmapped first (zap, INVEPT, unpin).  The
 * struct lives until its file's release, so that the holder can still
 * read what happened (EPTGATE_GRANT_INFO).  Everything here runs under
 * eg_mutex.
 */
#include <linux/anon_inodes.h>
#include <linux/file.h>
#include <linux/slab.h>
#include "arg.h"
#include "grant.h"
#include "main.h"
#include "memslot.h"
#include "uarg.h"
#include "view.h"
#include "vm.h"

static const struct file_operations eg_grant_fops;

/* Returns the new grant fd. */
int eg_grant_create(struct eg_vm *vm, const struct eptgate_grant *a)
{
	struct eg_grant *g;
	u32 i;
	int fd;

	lockdep_assert_held(&eg_mutex);
	for (i = 0; i < a->nr_ranges; i++)
		if (!eg_in_memslots(vm->kvm, a->ranges[i].gpa, a->ranges[i].len))
			return eg_reject(-ENOENT, "grant range not inside the VM's memslots");
	g = kzalloc(sizeof(*g), GFP_KERNEL_ACCOUNT);
	if (!g)
		return -ENOMEM;
	g->vm = vm;
	g->nr = a->nr_ranges;
	memcpy(g->r, a->ranges, g->nr * sizeof(g->r[0]));
	INIT_LIST_HEAD(&g->windows);
	list_add(&g->vm_node, &vm->grants);
	fd = anon_inode_getfd("eptgate-grant", &eg_grant_fops, g,
			      O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		list_del(&g->vm_node);
		kfree(g);
	}
	return fd;
}

/* The grant of a grant fd, or an ERR_PTR. */
struct eg_grant *eg_grant_from_fd(int fd)
{
	struct eg_grant *g = ERR_PTR(-EBADF);
	struct file *f;

	lockdep_assert_held(&eg_mutex);
	f = fget(fd);
	if (!f)
		return g;
	g = f->f_op == &eg_grant_fops ? f->private_data : ERR_PTR(-EINVAL);
	fput(f);	/* a last fput's release runs after eg_mutex is dropped */
	return g;
}

/* Unmaps every window made from @g and detaches it from its VM. */
static void eg_grant_revoke(struct eg_grant *g)
{
	struct eg_window *w, *tmp;

	lockdep_assert_held(&eg_mutex);
	if (!g->vm)
		return;
	list_for_each_entry_safe(w, tmp, &g->windows, grant_node) {
		eg_window_revoke(w);
		g->windows_revoked++;
	}
	list_del(&g->vm_node);
	g->vm = NULL;
}

/* The granting binding goes away. */
void eg_vm_revoke_grants(struct eg_vm *vm)
{
	struct eg_grant *g, *tmp;

	lockdep_assert_held(&eg_mutex);
	list_for_each_entry_safe(g, tmp, &vm->grants, vm_node)
		eg_grant_revoke(g);
}

static int eg_grant_release(struct inode *inode, struct file *filp)
{
	struct eg_grant *g = filp->private_data;

	mutex_lock(&eg_mutex);
	eg_grant_revoke(g);
	mutex_unlock(&eg_mutex);
	kfree(g);
	return 0;
}

static int eg_ioctl_grant_info(struct eg_grant *g, void __user *uarg)
{
	struct eptgate_grant_info gi;
	struct eg_window *w;
	const char *why;
	int usize, r;

	usize = eg_copy_arg_in(&gi, sizeof(gi), EG_SIZE_GRANT_INFO_V1, uarg,
			       "GRANT_INFO");
	if (usize < 0)
		return usize;
	r = eg_check_flags(gi.flags, 0, &why);
	if (r)
		return eg_reject(r, why);
	mutex_lock(&eg_mutex);
	gi.revoked = !g->vm;
	gi.nr_ranges = g->nr;
	gi.windows = 0;
	list_for_each_entry(w, &g->windows, grant_node)
		gi.windows++;
	gi.windows_revoked = g->windows_revoked;
	mutex_unlock(&eg_mutex);
	return eg_copy_arg_out(uarg, &gi, sizeof(gi), usize);
}

static int eg_ioctl_revoke(struct eg_grant *g, void __user *uarg)
{
	struct eptgate_revoke rv;
	const char *why;
	int usize, r;

	usize = eg_copy_arg_in(&rv, sizeof(rv), EG_SIZE_REVOKE_V1, uarg,
			       "REVOKE_GRANT");
	if (usize < 0)
		return usize;
	r = eg_check_flags(rv.flags, 0, &why);
	if (r)
		return eg_reject(r, why);
	mutex_lock(&eg_mutex);
	r = g->vm ? 0 : eg_reject(-EKEYREVOKED, "the grant is revoked already");
	eg_grant_revoke(g);
	mutex_unlock(&eg_mutex);
	return r;
}

static long eg_grant_ioctl(struct file *filp, unsigned int ioctl,
			   unsigned long arg)
{
	struct eg_grant *g = filp->private_data;
	void __user *uarg = (void __user *)arg;

	switch (ioctl) {
	case EPTGATE_GRANT_INFO:
		return eg_ioctl_grant_info(g, uarg);
	case EPTGATE_REVOKE_GRANT:
		return eg_ioctl_revoke(g, uarg);
	default:
		return -ENOTTY;
	}
}

static const struct file_operations eg_grant_fops = {
	.owner = THIS_MODULE,
	.release = eg_grant_release,
	.unlocked_ioctl = eg_grant_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
	.llseek = noop_llseek,
};
