/* SPDX-License-Identifier: GPL-2.0 */
/* Trampolines (trampoline.c): signed code, private pages and doorbell of a view. */
#ifndef EPTGATE_TRAMPOLINE_H
#define EPTGATE_TRAMPOLINE_H

#include <linux/mm_types.h>
#include <linux/types.h>
#include <linux/eptgate.h>

struct eg_vm;
struct eg_view;

/* A verified trampoline of one view (trampoline.c); eg_mutex. */
struct eg_trampoline {
	u32 view;
	unsigned int ncode;
	struct page *code[EPTGATE_TRAMPOLINE_CODE_MAX / PAGE_SIZE];
	struct page *data[EPTGATE_TRAMPOLINE_DATA_LEN / PAGE_SIZE];
	u64 code_gpa, data_gpa, doorbell_gpa;
};

/* The gpa ranges a trampoline reserves in its view: code, private, doorbell. */
#define EG_TRAMP_RANGES	3

int eg_trampoline_init(void);
void eg_trampoline_exit(void);
int eg_trampoline_install(struct eg_vm *vm, const struct eptgate_trampoline *a);
void eg_trampoline_free(struct eg_trampoline *t);
void eg_view_zap_tramp(struct eg_vm *vm, struct eg_view *view,
		       struct eg_trampoline *t);

#endif /* EPTGATE_TRAMPOLINE_H */
