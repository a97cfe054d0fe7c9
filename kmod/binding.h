/* SPDX-License-Identifier: GPL-2.0 */
/* Bindings (binding.c): EPTGATE_BIND_VM and the binding fd. */
#ifndef EPTGATE_BINDING_H
#define EPTGATE_BINDING_H

int eg_vm_bind(int vm_fd);

#endif /* EPTGATE_BINDING_H */
