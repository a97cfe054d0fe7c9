/* SPDX-License-Identifier: GPL-2.0 */
/* Grants (grant.c): ranges of a VM that another process may map as windows. */
#ifndef EPTGATE_GRANT_H
#define EPTGATE_GRANT_H

#include <linux/list.h>
#include <linux/types.h>
#include <linux/eptgate.h>

struct eg_vm;

/*
 * A grant (grant.c): ranges of @vm that another process may map as
 * windows.  Owned by its file, freed at the file's release; @vm is NULL
 * once revoked.  Every field under eg_mutex.
 */
struct eg_grant {
	struct eg_vm *vm;		/* the granting VM, or NULL: revoked */
	struct list_head vm_node;	/* vm->grants */
	struct list_head windows;	/* eg_window.grant_node */
	u32 nr;
	struct eptgate_grant_range r[EPTGATE_GRANT_MAX_RANGES];
	u64 windows_revoked;
};

int eg_grant_create(struct eg_vm *vm, const struct eptgate_grant *a);
struct eg_grant *eg_grant_from_fd(int fd);
void eg_vm_revoke_grants(struct eg_vm *vm);

#endif /* EPTGATE_GRANT_H */
