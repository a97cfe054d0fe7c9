/* SPDX-License-Identifier: GPL-2.0 */
/*
 * eptgatectl: what is bound to eptgate, from outside the VMMs.
 *
 * The commands (cmd.c) read through a data source (struct ectl_source):
 * the module's /dev/eptgate ioctls (dev.c), or a fake one in the host
 * unit test (tests/test_eptgatectl.c).  format.c prints what they read,
 * for humans or as JSON (Documentation/eptgatectl.rst, the schema in
 * Documentation/eptgatectl.schema.json).
 */
#ifndef EPTGATECTL_H
#define EPTGATECTL_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <linux/eptgate.h>

#define ECTL_SCHEMA_VERSION	1

/* One VM in detail: EPTGATE_QUERY_VM's records. */
struct ectl_vm {
	struct eptgate_vm_info info;
	uint32_t nr_views, nr_ranges, nr_vcpus;
	struct eptgate_view_info views[EPTGATE_MAX_VIEWS];
	struct eptgate_view_stats view_stats[EPTGATE_MAX_VIEWS];
	struct eptgate_range_info *ranges;	/* malloc()ed */
	struct eptgate_vcpu_stats *vcpus;	/* malloc()ed */
};

/*
 * Where the facts come from.  Every call returns 0 or -errno; @what is
 * set to the name of what failed (for the one-line error).
 */
struct ectl_source {
	void *ctx;
	int (*get_info)(void *ctx, struct eptgate_info *info, const char **what);
	/* *@vms malloc()ed, by vm_id */
	int (*list_vms)(void *ctx, struct eptgate_vm_info **vms, uint32_t *nr,
			const char **what);
	int (*query_vm)(void *ctx, uint64_t vm_id, struct ectl_vm *vm,
			const char **what);
	/* seconds since the epoch (the "time" of stats --json) */
	double (*now)(void *ctx);
	/* waits @seconds; false to stop watching */
	bool (*sleep)(void *ctx, double seconds);
};

void ectl_vm_free(struct ectl_vm *vm);

/* cmd.c: the whole command line; returns the exit status. */
int ectl_main(int argc, char **argv, const struct ectl_source *src,
	      FILE *out, FILE *err);

/* dev.c: the real source on /dev/eptgate (opened at the first call). */
void ectl_dev_source(struct ectl_source *src, const char *path);

/* format.c */
void ectl_print_caps(FILE *f, const struct eptgate_info *info, bool json);
void ectl_print_list(FILE *f, const struct eptgate_vm_info *vms, uint32_t nr,
		     bool json);
void ectl_print_show(FILE *f, const struct ectl_vm *vm, bool json);
void ectl_print_stats(FILE *f, const struct ectl_vm *vms, uint32_t nr,
		      double now, bool json);

#endif /* EPTGATECTL_H */
