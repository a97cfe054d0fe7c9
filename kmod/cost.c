// SPDX-License-Identifier: GPL-2.0
/*
 * The hook's cost counters (cost.h).  Writing 1 to hook_cost zeroes the
 * counters and starts counting, 0 stops it; reading prints the sums over
 * every CPU, one "name value" line each.  The counts are not exact while
 * they are being zeroed on a CPU that counts at that moment: a test
 * starts counting, lets the vCPU run, and reads.
 */
#include <linux/debugfs.h>
#include <linux/seq_file.h>
#include <linux/uaccess.h>
#include "cost.h"
#include "main.h"

DEFINE_STATIC_KEY_FALSE(eg_cost_on);
DEFINE_PER_CPU(struct eg_cost_cpu, eg_cost_cpu);

static const char * const eg_cost_names[EG_COST_NR] = {
	[EG_COST_ENTRY] = "entries",
	[EG_COST_EXIT] = "exits",
	[EG_COST_LOOKUP] = "lookups",
	[EG_COST_LOCK] = "locks",
	[EG_COST_VMREAD] = "vmreads",
	[EG_COST_VMWRITE] = "vmwrites",
};

static struct dentry *eg_cost_dir;
static DEFINE_MUTEX(eg_cost_mutex);	/* the key and the zeroing */

static int eg_cost_show(struct seq_file *m, void *v)
{
	u64 sum[EG_COST_NR] = {};
	int cpu, i;

	for_each_possible_cpu(cpu)
		for (i = 0; i < EG_COST_NR; i++)
			sum[i] += READ_ONCE(per_cpu(eg_cost_cpu, cpu).n[i]);
	seq_printf(m, "counting %d\n", static_key_enabled(&eg_cost_on));
	for (i = 0; i < EG_COST_NR; i++)
		seq_printf(m, "%s %llu\n", eg_cost_names[i], sum[i]);
	return 0;
}

static int eg_cost_open(struct inode *inode, struct file *file)
{
	return single_open(file, eg_cost_show, NULL);
}

static ssize_t eg_cost_write(struct file *file, const char __user *buf,
			     size_t len, loff_t *ppos)
{
	bool on;
	int cpu, r;

	r = kstrtobool_from_user(buf, len, &on);
	if (r)
		return r;
	mutex_lock(&eg_cost_mutex);
	if (on) {
		static_branch_disable(&eg_cost_on);
		for_each_possible_cpu(cpu)
			memset(per_cpu_ptr(&eg_cost_cpu, cpu), 0,
			       sizeof(struct eg_cost_cpu));
		static_branch_enable(&eg_cost_on);
	} else {
		static_branch_disable(&eg_cost_on);
	}
	mutex_unlock(&eg_cost_mutex);
	return len;
}

static const struct file_operations eg_cost_fops = {
	.owner = THIS_MODULE,
	.open = eg_cost_open,
	.read = seq_read,
	.llseek = seq_lseek,
	.release = single_release,
	.write = eg_cost_write,
};

/* A debug interface: its absence (no debugfs) is not an error. */
void eg_cost_init(void)
{
	eg_cost_dir = debugfs_create_dir(EG_NAME, NULL);
	debugfs_create_file("hook_cost", 0600, eg_cost_dir, NULL,
			    &eg_cost_fops);
}

void eg_cost_exit(void)
{
	debugfs_remove_recursive(eg_cost_dir);
	static_branch_disable(&eg_cost_on);
}
