// SPDX-License-Identifier: GPL-2.0
/*
 * eptgatectl's output: a table or a few lines for humans, or one JSON
 * document on one line (schema: Documentation/eptgatectl.schema.json).
 * Numbers in JSON are integers (counters and addresses may exceed 2^53).
 */
#include <inttypes.h>
#include <string.h>

#include "eptgatectl.h"

/* ---- a JSON writer ------------------------------------------------------- */

struct jw {
	FILE *f;
	int depth;
	bool first[16];
};

static void jw_key(struct jw *w, const char *key)
{
	if (!w->first[w->depth])
		fputc(',', w->f);
	w->first[w->depth] = false;
	if (key)
		fprintf(w->f, "\"%s\":", key);	/* keys are ours: no escaping */
}

static void jw_open(struct jw *w, const char *key, char c)
{
	jw_key(w, key);
	fputc(c, w->f);
	w->first[++w->depth] = true;
}

static void jw_close(struct jw *w, char c)
{
	fputc(c, w->f);
	w->depth--;
	if (!w->depth)
		fputc('\n', w->f);
}

static void jw_u64(struct jw *w, const char *key, uint64_t v)
{
	jw_key(w, key);
	fprintf(w->f, "%" PRIu64, v);
}

static void jw_i64(struct jw *w, const char *key, int64_t v)
{
	jw_key(w, key);
	fprintf(w->f, "%" PRId64, v);
}

static void jw_bool(struct jw *w, const char *key, bool v)
{
	jw_key(w, key);
	fputs(v ? "true" : "false", w->f);
}

static void jw_null(struct jw *w, const char *key)
{
	jw_key(w, key);
	fputs("null", w->f);
}

/* Strings are ours too (names, access letters): plain ASCII. */
static void jw_str(struct jw *w, const char *key, const char *s)
{
	jw_key(w, key);
	fprintf(w->f, "\"%s\"", s);
}

static void jw_begin(struct jw *w, FILE *f)
{
	memset(w, 0, sizeof(*w));
	w->f = f;
	w->first[0] = true;
	jw_open(w, NULL, '{');
	jw_u64(w, "schema_version", ECTL_SCHEMA_VERSION);
}

/* ---- names --------------------------------------------------------------- */

static const struct {
	uint64_t bit;
	const char *name;
} cap_names[] = {
	{ EPTGATE_CAP_EPT, "ept" },
	{ EPTGATE_CAP_VMFUNC_EPTP, "vmfunc_eptp" },
	{ EPTGATE_CAP_VE, "ve" },
	{ EPTGATE_CAP_EPT_4LEVEL, "ept_4level" },
	{ EPTGATE_CAP_EPT_5LEVEL, "ept_5level" },
	{ EPTGATE_CAP_EPT_2M, "ept_2m" },
	{ EPTGATE_CAP_EPT_AD, "ept_ad" },
	{ EPTGATE_CAP_EPT_X_ONLY, "ept_x_only" },
	{ EPTGATE_CAP_INVEPT_SINGLE, "invept_single" },
	{ EPTGATE_CAP_EPT_WB, "ept_wb" },
	{ EPTGATE_CAP_LIST_VMS, "list_vms" },
};

static const char *kind_name(uint32_t kind)
{
	switch (kind) {
	case EPTGATE_RANGE_RAM:		return "ram";
	case EPTGATE_RANGE_WINDOW:	return "window";
	case EPTGATE_RANGE_TRAMPOLINE:	return "trampoline";
	case EPTGATE_RANGE_REVOKED:	return "revoked";
	default:			return "unknown";
	}
}

static void access_str(uint32_t a, char s[4])
{
	s[0] = a & EPTGATE_ACCESS_R ? 'r' : '-';
	s[1] = a & EPTGATE_ACCESS_W ? 'w' : '-';
	s[2] = a & EPTGATE_ACCESS_X ? 'x' : '-';
	s[3] = 0;
}

/* "on", "off", with ",paused", ",dirty-log", ",dying" */
static const char *state_str(uint32_t flags, char *buf, size_t len)
{
	snprintf(buf, len, "%s%s%s%s", flags & EPTGATE_VM_ENABLED ? "on" : "off",
		 flags & EPTGATE_VM_SUSPENDED ? ",paused" : "",
		 flags & EPTGATE_VM_DIRTY_LOG ? ",dirty-log" : "",
		 flags & EPTGATE_VM_DYING ? ",dying" : "");
	return buf;
}

static const char *plural(uint64_t n)
{
	return n == 1 ? "" : "s";
}

/* ---- caps ---------------------------------------------------------------- */

void ectl_print_caps(FILE *f, const struct eptgate_info *info, bool json)
{
	size_t i;

	if (json) {
		struct jw w;

		jw_begin(&w, f);
		jw_u64(&w, "api_version", info->api_version);
		jw_u64(&w, "max_views", info->max_views);
		jw_open(&w, "caps", '[');
		for (i = 0; i < sizeof(cap_names) / sizeof(cap_names[0]); i++)
			if (info->caps & cap_names[i].bit)
				jw_str(&w, NULL, cap_names[i].name);
		jw_close(&w, ']');
		jw_u64(&w, "caps_raw", info->caps);
		jw_u64(&w, "vmx_ept_vpid_cap", info->vmx_ept_vpid_cap);
		jw_u64(&w, "vmx_vmfunc", info->vmx_vmfunc);
		jw_u64(&w, "vmx_procbased2", info->vmx_procbased2);
		jw_open(&w, "counters", '{');
		jw_u64(&w, "bindings", info->bindings);
		jw_u64(&w, "table_pages", info->table_pages);
		jw_u64(&w, "pages_ref", info->pages_ref);
		jw_u64(&w, "pages_pinned", info->pages_pinned);
		jw_close(&w, '}');
		jw_close(&w, '}');
		return;
	}
	fprintf(f, "api version:   %u\n", info->api_version);
	fprintf(f, "view ids:      %u (1..%u alternate)\n", info->max_views,
		info->max_views - 1);
	fprintf(f, "caps:          0x%" PRIx64, (uint64_t)info->caps);
	for (i = 0; i < sizeof(cap_names) / sizeof(cap_names[0]); i++)
		if (info->caps & cap_names[i].bit)
			fprintf(f, " %s", cap_names[i].name);
	fputc('\n', f);
	fprintf(f, "IA32_VMX_EPT_VPID_CAP:    0x%016" PRIx64 "\n",
		(uint64_t)info->vmx_ept_vpid_cap);
	fprintf(f, "IA32_VMX_VMFUNC:          0x%016" PRIx64 "\n",
		(uint64_t)info->vmx_vmfunc);
	fprintf(f, "IA32_VMX_PROCBASED_CTLS2: 0x%016" PRIx64 "\n",
		(uint64_t)info->vmx_procbased2);
	fprintf(f, "bindings %" PRIu64 ", table pages %" PRIu64
		", own-RAM pages referenced %" PRIu64 ", peer pages pinned %" PRIu64 "\n",
		(uint64_t)info->bindings, (uint64_t)info->table_pages,
		(uint64_t)info->pages_ref, (uint64_t)info->pages_pinned);
}

/* ---- list ---------------------------------------------------------------- */

static void json_vm_info(struct jw *w, const char *key,
			 const struct eptgate_vm_info *v)
{
	jw_open(w, key, '{');
	jw_u64(w, "vm_id", v->vm_id);
	jw_i64(w, "pid", v->pid);
	jw_bool(w, "switching", v->flags & EPTGATE_VM_ENABLED);
	jw_bool(w, "suspended", v->flags & EPTGATE_VM_SUSPENDED);
	jw_bool(w, "dirty_logging", v->flags & EPTGATE_VM_DIRTY_LOG);
	jw_bool(w, "dying", v->flags & EPTGATE_VM_DYING);
	jw_u64(w, "vcpus", v->nr_vcpus);
	jw_u64(w, "vcpus_with_stats", v->nr_vcpu_stats);
	jw_u64(w, "views", v->nr_views);
	jw_u64(w, "ranges", v->nr_ranges);
	jw_u64(w, "windows", v->nr_windows);
	jw_u64(w, "trampolines", v->nr_trampolines);
	jw_u64(w, "grants", v->nr_grants);
	jw_u64(w, "peer_windows", v->nr_peer_windows);
	jw_close(w, '}');
}

void ectl_print_list(FILE *f, const struct eptgate_vm_info *vms, uint32_t nr,
		     bool json)
{
	int sw = (int)strlen("SWITCHING");
	char st[48];
	uint32_t i;

	if (json) {
		struct jw w;

		jw_begin(&w, f);
		jw_open(&w, "vms", '[');
		for (i = 0; i < nr; i++)
			json_vm_info(&w, NULL, &vms[i]);
		jw_close(&w, ']');
		jw_close(&w, '}');
		return;
	}
	if (!nr) {
		fputs("no VM is bound\n", f);
		return;
	}
	/* the SWITCHING column as wide as its longest state */
	for (i = 0; i < nr; i++) {
		int len = (int)strlen(state_str(vms[i].flags, st, sizeof(st)));

		if (len > sw)
			sw = len;
	}
	fprintf(f, "%-6s %-8s %-*s %5s %5s %6s %7s %5s %6s %9s\n", "VM", "PID",
		sw, "SWITCHING", "VCPUS", "VIEWS", "RANGES", "WINDOWS", "TRAMP",
		"GRANTS", "MAPPED-BY");
	for (i = 0; i < nr; i++) {
		const struct eptgate_vm_info *v = &vms[i];

		fprintf(f, "%-6" PRIu64 " %-8d %-*s %5u %5u %6u %7u %5u %6u %9u\n",
			(uint64_t)v->vm_id, v->pid, sw,
			state_str(v->flags, st, sizeof(st)),
			v->nr_vcpus, v->nr_views, v->nr_ranges, v->nr_windows,
			v->nr_trampolines, v->nr_grants, v->nr_peer_windows);
	}
}

/* ---- show ---------------------------------------------------------------- */

static void json_view_stats(struct jw *w, const struct eptgate_view_stats *s)
{
	jw_u64(w, "switches", s->switches);
	jw_u64(w, "exits", s->exits);
	jw_u64(w, "ept_violations", s->ept_violations);
	jw_u64(w, "lazy_fills", s->lazy_fills);
	jw_u64(w, "fallbacks", s->fallbacks);
	jw_u64(w, "zaps", s->zaps);
	jw_u64(w, "event_fallbacks", s->event_fallbacks);
	jw_u64(w, "doorbells", s->doorbells);
	jw_u64(w, "fill_retries", s->fill_retries);
}

static void json_vcpu(struct jw *w, const struct eptgate_vcpu_stats *c)
{
	jw_open(w, NULL, '{');
	jw_u64(w, "vcpu_idx", c->vcpu_idx);
	jw_u64(w, "view", c->view);
	jw_u64(w, "entries", c->entries);
	jw_u64(w, "exits", c->exits);
	jw_u64(w, "exits_alt", c->exits_alt);
	jw_u64(w, "vmfunc_ud", c->vmfunc_ud);
	jw_close(w, '}');
}

static void json_range(struct jw *w, const struct eptgate_range_info *r)
{
	char acc[4];

	access_str(r->access, acc);
	jw_open(w, NULL, '{');
	jw_str(w, "kind", kind_name(r->kind));
	jw_u64(w, "gpa", r->gpa);
	jw_u64(w, "len", r->len);
	jw_str(w, "access", acc);
	if (r->kind == EPTGATE_RANGE_WINDOW) {
		jw_open(w, "peer", '{');
		jw_u64(w, "vm_id", r->peer_vm_id);
		jw_i64(w, "pid", r->peer_pid);
		jw_u64(w, "gpa", r->peer_gpa);
		jw_str(w, "via", r->flags & EPTGATE_RANGE_GRANT ? "grant" : "binding");
		jw_close(w, '}');
	} else {
		jw_null(w, "peer");
	}
	jw_close(w, '}');
}

static void human_view_stats(FILE *f, const char *indent,
			     const struct eptgate_view_stats *s)
{
	fprintf(f, "%sswitches %" PRIu64 ", exits %" PRIu64 ", ept_violations %" PRIu64
		", lazy_fills %" PRIu64 ", fallbacks %" PRIu64 ", zaps %" PRIu64
		",\n%sevent_fallbacks %" PRIu64 ", doorbells %" PRIu64
		", fill_retries %" PRIu64 "\n", indent,
		(uint64_t)s->switches, (uint64_t)s->exits,
		(uint64_t)s->ept_violations, (uint64_t)s->lazy_fills,
		(uint64_t)s->fallbacks, (uint64_t)s->zaps, indent,
		(uint64_t)s->event_fallbacks, (uint64_t)s->doorbells,
		(uint64_t)s->fill_retries);
}

static void human_vcpu(FILE *f, const struct eptgate_vcpu_stats *c)
{
	fprintf(f, "vCPU %u: in view %u at its last exit; entries %" PRIu64
		", exits %" PRIu64 ", exits_alt %" PRIu64 ", vmfunc_ud %" PRIu64 "\n",
		c->vcpu_idx, c->view, (uint64_t)c->entries, (uint64_t)c->exits,
		(uint64_t)c->exits_alt, (uint64_t)c->vmfunc_ud);
}

void ectl_print_show(FILE *f, const struct ectl_vm *vm, bool json)
{
	const struct eptgate_vm_info *v = &vm->info;
	uint32_t i, j, k = 0;
	char st[48], acc[4];

	if (json) {
		struct jw w;

		jw_begin(&w, f);
		json_vm_info(&w, "vm", v);
		jw_open(&w, "views", '[');
		for (i = 0; i < vm->nr_views; i++) {
			const struct eptgate_view_info *vi = &vm->views[i];

			jw_open(&w, NULL, '{');
			jw_u64(&w, "view", vi->view);
			if (vi->flags & EPTGATE_VIEW_TRAMPOLINE) {
				jw_open(&w, "trampoline", '{');
				jw_u64(&w, "code_gpa", vi->tramp_code_gpa);
				jw_u64(&w, "code_len", vi->tramp_code_len);
				jw_u64(&w, "data_gpa", vi->tramp_data_gpa);
				if (vi->tramp_doorbell_gpa)
					jw_u64(&w, "doorbell_gpa", vi->tramp_doorbell_gpa);
				else
					jw_null(&w, "doorbell_gpa");
				jw_close(&w, '}');
			} else {
				jw_null(&w, "trampoline");
			}
			jw_open(&w, "stats", '{');
			json_view_stats(&w, &vm->view_stats[i]);
			jw_close(&w, '}');
			jw_open(&w, "ranges", '[');
			for (j = 0; j < vm->nr_ranges; j++)
				if (vm->ranges[j].view == vi->view)
					json_range(&w, &vm->ranges[j]);
			jw_close(&w, ']');
			jw_close(&w, '}');
		}
		jw_close(&w, ']');
		jw_open(&w, "vcpus", '[');
		for (i = 0; i < vm->nr_vcpus; i++)
			json_vcpu(&w, &vm->vcpus[i]);
		jw_close(&w, ']');
		jw_close(&w, '}');
		return;
	}
	fprintf(f, "VM %" PRIu64 ": pid %d, switching %s, %u vCPU%s, %u view%s, %u grant%s, %u window%s of other VMs onto it\n",
		(uint64_t)v->vm_id, v->pid, state_str(v->flags, st, sizeof(st)),
		v->nr_vcpus, plural(v->nr_vcpus), v->nr_views, plural(v->nr_views),
		v->nr_grants, plural(v->nr_grants), v->nr_peer_windows,
		plural(v->nr_peer_windows));
	for (i = 0; i < vm->nr_views; i++) {
		const struct eptgate_view_info *vi = &vm->views[i];

		fprintf(f, "view %u: %u range%s", vi->view, vi->nr_ranges,
			plural(vi->nr_ranges));
		if (vi->flags & EPTGATE_VIEW_TRAMPOLINE) {
			fprintf(f, ", trampoline: code 0x%" PRIx64 " (%" PRIu64
				" bytes), data 0x%" PRIx64, (uint64_t)vi->tramp_code_gpa,
				(uint64_t)vi->tramp_code_len, (uint64_t)vi->tramp_data_gpa);
			if (vi->tramp_doorbell_gpa)
				fprintf(f, ", doorbell 0x%" PRIx64,
					(uint64_t)vi->tramp_doorbell_gpa);
		}
		fputc('\n', f);
		for (j = 0; j < vm->nr_ranges; j++) {
			const struct eptgate_range_info *r = &vm->ranges[j];

			if (r->view != vi->view)
				continue;
			k++;
			access_str(r->access, acc);
			fprintf(f, "  0x%012" PRIx64 "-0x%012" PRIx64 " %-10s %s",
				(uint64_t)r->gpa, (uint64_t)(r->gpa + r->len - 1),
				kind_name(r->kind), acc);
			if (r->kind == EPTGATE_RANGE_WINDOW)
				fprintf(f, "  -> VM %" PRIu64 " (pid %d) 0x%" PRIx64 " by %s",
					(uint64_t)r->peer_vm_id, r->peer_pid,
					(uint64_t)r->peer_gpa,
					r->flags & EPTGATE_RANGE_GRANT ? "grant" : "binding");
			fputc('\n', f);
		}
		human_view_stats(f, "  ", &vm->view_stats[i]);
	}
	for (i = 0; i < vm->nr_vcpus; i++)
		human_vcpu(f, &vm->vcpus[i]);
	if (v->nr_vcpus > vm->nr_vcpus)
		fprintf(f, "(%u vCPU%s without eptgate state: switching never enabled while they ran)\n",
			v->nr_vcpus - vm->nr_vcpus, plural(v->nr_vcpus - vm->nr_vcpus));
}

/* ---- stats --------------------------------------------------------------- */

void ectl_print_stats(FILE *f, const struct ectl_vm *vms, uint32_t nr,
		      double now, bool json)
{
	uint32_t i, j;

	if (json) {
		struct jw w;

		jw_begin(&w, f);
		jw_key(&w, "time");
		fprintf(f, "%.3f", now);
		jw_open(&w, "vms", '[');
		for (i = 0; i < nr; i++) {
			jw_open(&w, NULL, '{');
			jw_u64(&w, "vm_id", vms[i].info.vm_id);
			jw_i64(&w, "pid", vms[i].info.pid);
			jw_bool(&w, "switching", vms[i].info.flags & EPTGATE_VM_ENABLED);
			jw_open(&w, "views", '[');
			for (j = 0; j < vms[i].nr_views; j++) {
				jw_open(&w, NULL, '{');
				jw_u64(&w, "view", vms[i].views[j].view);
				json_view_stats(&w, &vms[i].view_stats[j]);
				jw_close(&w, '}');
			}
			jw_close(&w, ']');
			jw_open(&w, "vcpus", '[');
			for (j = 0; j < vms[i].nr_vcpus; j++)
				json_vcpu(&w, &vms[i].vcpus[j]);
			jw_close(&w, ']');
			jw_close(&w, '}');
		}
		jw_close(&w, ']');
		jw_close(&w, '}');
		return;
	}
	if (!nr) {
		fputs("no VM is bound\n", f);
		return;
	}
	for (i = 0; i < nr; i++) {
		const struct ectl_vm *vm = &vms[i];

		fprintf(f, "VM %" PRIu64 " (pid %d), switching %s\n",
			(uint64_t)vm->info.vm_id, vm->info.pid,
			vm->info.flags & EPTGATE_VM_ENABLED ? "on" : "off");
		if (vm->nr_views)
			fprintf(f, "  %4s %10s %10s %10s %10s %9s %8s %8s %9s %8s\n",
				"VIEW", "SWITCHES", "EXITS", "EPT_VIOL", "LAZY_FILL",
				"FALLBACK", "ZAPS", "EVT_FB", "DOORBELLS", "RETRIES");
		for (j = 0; j < vm->nr_views; j++) {
			const struct eptgate_view_stats *s = &vm->view_stats[j];

			fprintf(f, "  %4u %10" PRIu64 " %10" PRIu64 " %10" PRIu64 " %10" PRIu64
				" %9" PRIu64 " %8" PRIu64 " %8" PRIu64 " %9" PRIu64 " %8" PRIu64 "\n",
				vm->views[j].view, (uint64_t)s->switches,
				(uint64_t)s->exits, (uint64_t)s->ept_violations,
				(uint64_t)s->lazy_fills, (uint64_t)s->fallbacks,
				(uint64_t)s->zaps, (uint64_t)s->event_fallbacks,
				(uint64_t)s->doorbells, (uint64_t)s->fill_retries);
		}
		if (vm->nr_vcpus)
			fprintf(f, "  %4s %4s %12s %12s %12s %10s\n", "VCPU", "VIEW",
				"ENTRIES", "EXITS", "EXITS_ALT", "VMFUNC_UD");
		for (j = 0; j < vm->nr_vcpus; j++) {
			const struct eptgate_vcpu_stats *c = &vm->vcpus[j];

			fprintf(f, "  %4u %4u %12" PRIu64 " %12" PRIu64 " %12" PRIu64
				" %10" PRIu64 "\n", c->vcpu_idx, c->view,
				(uint64_t)c->entries, (uint64_t)c->exits,
				(uint64_t)c->exits_alt, (uint64_t)c->vmfunc_ud);
		}
	}
}
