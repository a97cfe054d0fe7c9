// SPDX-License-Identifier: GPL-2.0-only
/*
 * Cases for scripts/lint/nospec.py.  Each subscript on a line marked
 * "flag" must be reported, and no other.  Not compiled.
 */

static struct eg_view *bare(struct eg_vm *vm, u32 id)
{
	return vm->views[id];	/* flag */
}

static struct eg_view *from_arg(struct eg_vm *vm, struct eptgate_view *arg)
{
	return vm->views[arg->view];	/* flag */
}

static void clamped_after(struct eg_vm *vm, u32 id)
{
	vm->views[id] = NULL;	/* flag */
	id = array_index_nospec(id, EPTGATE_MAX_VIEWS);
}

static void other_var_clamped(struct eg_vm *vm, u32 id, u32 j)
{
	j = array_index_nospec(j, EPTGATE_MAX_VIEWS);
	WRITE_ONCE(vs->eptp_list[id], 0);	/* flag */
}

static void loop_bound_not_constant(struct eg_vm *vm, u32 n)
{
	u32 id;

	for (id = 1; id < n; id++)
		vm->views[id] = NULL;	/* flag */
}

static void after_the_loop(struct eg_vm *vm)
{
	u32 id;

	for (id = 1; id < EPTGATE_MAX_VIEWS; id++)
		;
	vm->views[id] = NULL;	/* flag */
}

static void a_comment_without_reason(struct eg_vm *vm, u32 id)
{
	/* nospec: */
	vm->views[id] = NULL;	/* flag */
}

/* good: none of these is reported */

static struct eg_view *literal(struct eg_vm *vm)
{
	return vm->views[0];
}

static struct eg_view *clamp_inline(struct eg_vm *vm, u32 id)
{
	return vm->views[array_index_nospec(id, EPTGATE_MAX_VIEWS)];
}

static void clamped_before(struct eg_vm *vm, u32 id)
{
	id = array_index_nospec(id, EPTGATE_MAX_VIEWS);
	vm->views[id] = NULL;
	WRITE_ONCE(vs->eptp_list[id], 0);
}

static void loops(struct eg_vm *vm, u64 *list)
{
	u32 id;

	for (id = 1; id < EPTGATE_MAX_VIEWS; id++)
		list[id] = vm->views[id] ? 1 : 0;
	for (id = 1; id < EPTGATE_MAX_VIEWS && vm->views[id]; id++)
		;
	for (id = 1; id < EPTGATE_MAX_VIEWS; id++) {
		if (vm->views[id])
			vm->views[id]->stats.zaps = 0;
	}
}

static void kernel_made(struct eg_vm *vm, struct eg_vcpu *vs)
{
	/* nospec: resume_view is the kernel's */
	vm->views[vs->resume_view] = NULL;
	vm->views[vs->resume_view] = NULL;	/* nospec: the kernel's */
}

static void string_and_comment(void)
{
	pr_info("views[id]\n");
	/* vm->views[id] in a comment */
}
