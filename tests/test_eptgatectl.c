// SPDX-License-Identifier: GPL-2.0
/*
 * eptgatectl's commands and output on a fake data source: the human
 * output against fixed texts, the exit statuses and one-line errors, and
 * the JSON written to files (argv[1]) for scripts/json-schema-check.py
 * (the Makefile's unit target runs it on them).
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "eptgatectl.h"
#include "ksft_check.h"

/* ---- the fake source -------------------------------------------------------- */

struct fake {
	int open_err;		/* every call fails: the device cannot be opened */
	int list_err;		/* EPTGATE_LIST_VMS fails */
	uint32_t nr;		/* VMs: 0, 1 or 2 of the two below */
	unsigned int sleeps;
	double slept;
	double t;
};

static const struct eptgate_info fake_info = {
	.size = sizeof(struct eptgate_info), .api_version = 1, .max_views = 16,
	.caps = EPTGATE_CAP_EPT | EPTGATE_CAP_VMFUNC_EPTP | EPTGATE_CAP_EPT_4LEVEL |
		EPTGATE_CAP_EPT_2M | EPTGATE_CAP_INVEPT_SINGLE | EPTGATE_CAP_EPT_WB |
		EPTGATE_CAP_LIST_VMS,
	.vmx_ept_vpid_cap = 0xf0106334141ULL, .vmx_vmfunc = 1,
	.vmx_procbased2 = 0x3ffff00000000ULL,
	.bindings = 2, .table_pages = 37, .pages_ref = 12, .pages_pinned = 2,
};

static const struct eptgate_vm_info fake_vms[2] = {
	{ .size = sizeof(struct eptgate_vm_info), .flags = EPTGATE_VM_ENABLED,
	  .vm_id = 7, .pid = 4242, .nr_vcpus = 2, .nr_vcpu_stats = 1,
	  .nr_views = 2, .nr_ranges = 5, .nr_windows = 2, .nr_trampolines = 1 },
	{ .size = sizeof(struct eptgate_vm_info),
	  .flags = EPTGATE_VM_SUSPENDED | EPTGATE_VM_DIRTY_LOG, .vm_id = 9,
	  .pid = 0, .nr_grants = 1, .nr_peer_windows = 2 },
};

static const struct eptgate_view_info fake_views[2] = {
	{ .view = 1, .nr_ranges = 2 },
	{ .view = 2, .flags = EPTGATE_VIEW_TRAMPOLINE, .nr_ranges = 3,
	  .tramp_code_gpa = 0x30000000, .tramp_code_len = 4096,
	  .tramp_data_gpa = 0x30004000, .tramp_doorbell_gpa = 0x38000000 },
};

static const struct eptgate_range_info fake_ranges[5] = {
	{ .view = 1, .kind = EPTGATE_RANGE_RAM, .access = 7, .gpa = 0,
	  .len = 0x100000 },
	{ .view = 1, .kind = EPTGATE_RANGE_WINDOW, .access = 1, .gpa = 0x10000000,
	  .len = 0x1000, .peer_vm_id = 9, .peer_pid = 0, .peer_gpa = 0x10000000 },
	{ .view = 2, .kind = EPTGATE_RANGE_WINDOW, .access = 3,
	  .flags = EPTGATE_RANGE_GRANT, .gpa = 0x20000000, .len = 0x200000,
	  .peer_vm_id = 9, .peer_gpa = 0x40000000 },
	{ .view = 2, .kind = EPTGATE_RANGE_TRAMPOLINE, .access = 5,
	  .gpa = 0x30000000, .len = 0x4000 },
	{ .view = 2, .kind = EPTGATE_RANGE_TRAMPOLINE, .access = 3,
	  .gpa = 0x30004000, .len = 0x4000 },
};

static const struct eptgate_vcpu_stats fake_vcpu = {
	.vcpu_idx = 0, .view = 1, .entries = 1000, .exits = 999,
	.exits_alt = 40, .vmfunc_ud = 1,
};

static int f_info(void *ctx, struct eptgate_info *info, const char **what)
{
	struct fake *f = ctx;

	if (f->open_err) {
		*what = "/dev/eptgate";
		return -f->open_err;
	}
	*info = fake_info;
	return 0;
}

static int f_list(void *ctx, struct eptgate_vm_info **vms, uint32_t *nr,
		  const char **what)
{
	struct fake *f = ctx;

	if (f->open_err || f->list_err) {
		*what = f->open_err ? "/dev/eptgate" : "EPTGATE_LIST_VMS";
		return -(f->open_err ? f->open_err : f->list_err);
	}
	*vms = calloc(2, sizeof(**vms));
	memcpy(*vms, fake_vms, f->nr * sizeof(**vms));
	*nr = f->nr;
	return 0;
}

static int f_query(void *ctx, uint64_t id, struct ectl_vm *vm, const char **what)
{
	struct fake *f = ctx;
	int k;

	memset(vm, 0, sizeof(*vm));
	if (f->open_err || f->list_err) {
		*what = f->open_err ? "/dev/eptgate" : "EPTGATE_QUERY_VM";
		return -(f->open_err ? f->open_err : f->list_err);
	}
	k = id == 7 ? 0 : id == 9 ? 1 : -1;
	if (k < 0 || (uint32_t)k >= f->nr) {
		*what = "EPTGATE_QUERY_VM";
		return -ENOENT;
	}
	vm->info = fake_vms[k];
	vm->ranges = calloc(5, sizeof(*vm->ranges));
	vm->vcpus = calloc(1, sizeof(*vm->vcpus));
	if (k == 0) {
		uint64_t tick = f->sleeps * 10;

		vm->nr_views = 2;
		memcpy(vm->views, fake_views, sizeof(fake_views));
		vm->view_stats[0] = (struct eptgate_view_stats){
			.view = 1, .switches = 3 + tick, .exits = 40 + tick,
			.ept_violations = 12, .lazy_fills = 11, .fallbacks = 1,
			.zaps = 2, .event_fallbacks = 0, .doorbells = 0,
			.fill_retries = 0 };
		vm->view_stats[1] = (struct eptgate_view_stats){
			.view = 2, .doorbells = 5 };
		vm->nr_ranges = 5;
		memcpy(vm->ranges, fake_ranges, sizeof(fake_ranges));
		vm->nr_vcpus = 1;
		vm->vcpus[0] = fake_vcpu;
		vm->vcpus[0].entries += tick;
	}
	return 0;
}

static double f_now(void *ctx)
{
	return ((struct fake *)ctx)->t;
}

static bool f_sleep(void *ctx, double s)
{
	struct fake *f = ctx;

	f->sleeps++;
	f->slept += s;
	f->t += s;
	return true;
}

/* ---- running a command -------------------------------------------------------- */

struct result {
	int status;
	char *out, *err;
	size_t outlen, errlen;
};

static struct result run(struct fake *f, const char *cmdline)
{
	struct ectl_source src = { .ctx = f, .get_info = f_info,
				   .list_vms = f_list, .query_vm = f_query,
				   .now = f_now, .sleep = f_sleep };
	char *copy = strdup(cmdline), *argv[16] = { "eptgatectl" }, *tok;
	struct result r = { 0 };
	FILE *out, *err;
	int argc = 1;

	for (tok = strtok(copy, " "); tok && argc < 15; tok = strtok(NULL, " "))
		argv[argc++] = tok;
	out = open_memstream(&r.out, &r.outlen);
	err = open_memstream(&r.err, &r.errlen);
	r.status = ectl_main(argc, argv, &src, out, err);
	fclose(out);
	fclose(err);
	free(copy);
	return r;
}

static void result_free(struct result *r)
{
	free(r->out);
	free(r->err);
}

static const char *json_dir;

/* Writes @r's stdout to json_dir/@name, for the schema check. */
static void save_json(const struct result *r, const char *name)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s.json", json_dir, name);
	f = fopen(path, "w");
	if (!f) {
		perror(path);
		exit(1);
	}
	fputs(r->out, f);
	fclose(f);
}

static unsigned int lines(const char *s)
{
	unsigned int n = 0;

	for (; *s; s++)
		n += *s == '\n';
	return n;
}

static void expect(struct fake *f, const char *cmdline, int status,
		   const char *out, const char *err)
{
	struct result r = run(f, cmdline);
	bool ok = r.status == status && !strcmp(r.out, out) && !strcmp(r.err, err);

	TAP_CHECK(ok, "eptgatectl %s: exit %d, the expected output", cmdline, status);
	if (!ok)
		printf("#   exit %d\n# --- stdout:\n%s# --- stderr:\n%s# ---\n",
		       r.status, r.out, r.err);
	result_free(&r);
}

static const char caps_txt[] =
	"api version:   1\n"
	"view ids:      16 (1..15 alternate)\n"
	"caps:          0x10000032b ept vmfunc_eptp ept_4level ept_2m invept_single ept_wb list_vms\n"
	"IA32_VMX_EPT_VPID_CAP:    0x00000f0106334141\n"
	"IA32_VMX_VMFUNC:          0x0000000000000001\n"
	"IA32_VMX_PROCBASED_CTLS2: 0x0003ffff00000000\n"
	"bindings 2, table pages 37, own-RAM pages referenced 12, peer pages pinned 2\n";

static const char list_txt[] =
	"VM     PID      SWITCHING            VCPUS VIEWS RANGES WINDOWS TRAMP GRANTS MAPPED-BY\n"
	"7      4242     on                       2     2      5       2     1      0         0\n"
	"9      0        off,paused,dirty-log     0     0      0       0     0      1         2\n";

static const char show_txt[] =
	"VM 7: pid 4242, switching on, 2 vCPUs, 2 views, 0 grants, 0 windows of other VMs onto it\n"
	"view 1: 2 ranges\n"
	"  0x000000000000-0x0000000fffff ram        rwx\n"
	"  0x000010000000-0x000010000fff window     r--  -> VM 9 (pid 0) 0x10000000 by binding\n"
	"  switches 3, exits 40, ept_violations 12, lazy_fills 11, fallbacks 1, zaps 2,\n"
	"  event_fallbacks 0, doorbells 0, fill_retries 0\n"
	"view 2: 3 ranges, trampoline: code 0x30000000 (4096 bytes), data 0x30004000, doorbell 0x38000000\n"
	"  0x000020000000-0x0000201fffff window     rw-  -> VM 9 (pid 0) 0x40000000 by grant\n"
	"  0x000030000000-0x000030003fff trampoline r-x\n"
	"  0x000030004000-0x000030007fff trampoline rw-\n"
	"  switches 0, exits 0, ept_violations 0, lazy_fills 0, fallbacks 0, zaps 0,\n"
	"  event_fallbacks 0, doorbells 5, fill_retries 0\n"
	"vCPU 0: in view 1 at its last exit; entries 1000, exits 999, exits_alt 40, vmfunc_ud 1\n"
	"(1 vCPU without eptgate state: switching never enabled while they ran)\n";

static const char stats_txt[] =
	"VM 7 (pid 4242), switching on\n"
	"  VIEW   SWITCHES      EXITS   EPT_VIOL  LAZY_FILL  FALLBACK     ZAPS   EVT_FB DOORBELLS  RETRIES\n"
	"     1          3         40         12         11         1        2        0         0        0\n"
	"     2          0          0          0          0         0        0        0         5        0\n"
	"  VCPU VIEW      ENTRIES        EXITS    EXITS_ALT  VMFUNC_UD\n"
	"     0    1         1000          999           40          1\n"
	"VM 9 (pid 0), switching off\n";

/* The same facts as list_txt and show_txt, as JSON. */
static const char list_json[] =
	"{\"schema_version\":1,\"vms\":[{\"vm_id\":7,\"pid\":4242,\"switching\":true,\"sus"
	"pended\":false,\"dirty_logging\":false,\"dying\":false,\"vcpus\":2,\"vcpus_wit"
	"h_stats\":1,\"views\":2,\"ranges\":5,\"windows\":2,\"trampolines\":1,\"grants\":0"
	",\"peer_windows\":0},{\"vm_id\":9,\"pid\":0,\"switching\":false,\"suspended\":tr"
	"ue,\"dirty_logging\":true,\"dying\":false,\"vcpus\":0,\"vcpus_with_stats\":0,\""
	"views\":0,\"ranges\":0,\"windows\":0,\"trampolines\":0,\"grants\":1,\"peer_windo"
	"ws\":2}]}"
	"\n";

static const char show_json[] =
	"{\"schema_version\":1,\"vm\":{\"vm_id\":7,\"pid\":4242,\"switching\":true,\"suspe"
	"nded\":false,\"dirty_logging\":false,\"dying\":false,\"vcpus\":2,\"vcpus_with_"
	"stats\":1,\"views\":2,\"ranges\":5,\"windows\":2,\"trampolines\":1,\"grants\":0,\""
	"peer_windows\":0},\"views\":[{\"view\":1,\"trampoline\":null,\"stats\":{\"switch"
	"es\":3,\"exits\":40,\"ept_violations\":12,\"lazy_fills\":11,\"fallbacks\":1,\"za"
	"ps\":2,\"event_fallbacks\":0,\"doorbells\":0,\"fill_retries\":0},\"ranges\":[{\""
	"kind\":\"ram\",\"gpa\":0,\"len\":1048576,\"access\":\"rwx\",\"peer\":null},{\"kind\":"
	"\"window\",\"gpa\":268435456,\"len\":4096,\"access\":\"r--\",\"peer\":{\"vm_id\":9,\""
	"pid\":0,\"gpa\":268435456,\"via\":\"binding\"}}]},{\"view\":2,\"trampoline\":{\"co"
	"de_gpa\":805306368,\"code_len\":4096,\"data_gpa\":805322752,\"doorbell_gpa\":"
	"939524096},\"stats\":{\"switches\":0,\"exits\":0,\"ept_violations\":0,\"lazy_fi"
	"lls\":0,\"fallbacks\":0,\"zaps\":0,\"event_fallbacks\":0,\"doorbells\":5,\"fill_"
	"retries\":0},\"ranges\":[{\"kind\":\"window\",\"gpa\":536870912,\"len\":2097152,\""
	"access\":\"rw-\",\"peer\":{\"vm_id\":9,\"pid\":0,\"gpa\":1073741824,\"via\":\"grant\""
	"}},{\"kind\":\"trampoline\",\"gpa\":805306368,\"len\":16384,\"access\":\"r-x\",\"pe"
	"er\":null},{\"kind\":\"trampoline\",\"gpa\":805322752,\"len\":16384,\"access\":\"r"
	"w-\",\"peer\":null}]}],\"vcpus\":[{\"vcpu_idx\":0,\"view\":1,\"entries\":1000,\"ex"
	"its\":999,\"exits_alt\":40,\"vmfunc_ud\":1}]}"
	"\n";

int main(int argc, char **argv)
{
	struct fake f = { .nr = 2, .t = 1700000000.25 };
	struct result r;

	if (argc != 2) {
		fprintf(stderr, "usage: %s JSON_OUTPUT_DIR\n", argv[0]);
		return 2;
	}
	json_dir = argv[1];
	mkdir(json_dir, 0755);

	/* human output */
	expect(&f, "caps", 0, caps_txt, "");
	expect(&f, "list", 0, list_txt, "");
	expect(&f, "show 7", 0, show_txt, "");
	expect(&f, "show 0x7", 0, show_txt, "");
	expect(&f, "stats", 0, stats_txt, "");
	f.nr = 0;
	expect(&f, "list", 0, "no VM is bound\n", "");
	expect(&f, "stats", 0, "no VM is bound\n", "");
	f.nr = 2;

	/* errors: one line, "eptgatectl: ...", exit 1 or 2, nothing on stdout */
	expect(&f, "show 99", 1, "", "eptgatectl: VM 99: no such VM is bound\n");
	expect(&f, "stats 7 99", 1, "", "eptgatectl: VM 99: no such VM is bound\n");
	expect(&f, "show", 2, "", "eptgatectl: show takes one VM id; try 'eptgatectl help'\n");
	expect(&f, "show vm7", 2, "", "eptgatectl: 'vm7' is not a VM id; try 'eptgatectl help'\n");
	expect(&f, "frobnicate", 2, "", "eptgatectl: unknown command 'frobnicate'; try 'eptgatectl help'\n");
	expect(&f, "--frob list", 2, "", "eptgatectl: unknown option '--frob'; try 'eptgatectl help'\n");
	expect(&f, "list extra", 2, "", "eptgatectl: list takes no arguments; try 'eptgatectl help'\n");
	expect(&f, "stats --count 0", 2, "", "eptgatectl: --count takes a number of samples > 0; try 'eptgatectl help'\n");
	expect(&f, "stats --bogus", 2, "", "eptgatectl: stats: unknown argument '--bogus'; try 'eptgatectl help'\n");
	f.open_err = ENOENT;
	expect(&f, "list", 1, "", "eptgatectl: /dev/eptgate: No such file or directory (is eptgate.ko loaded?)\n");
	expect(&f, "--json caps", 1, "", "eptgatectl: /dev/eptgate: No such file or directory (is eptgate.ko loaded?)\n");
	f.open_err = EACCES;
	expect(&f, "show 7", 1, "", "eptgatectl: /dev/eptgate: Permission denied (run as root)\n");
	f.open_err = 0;
	f.list_err = EPERM;
	expect(&f, "-j list", 1, "", "eptgatectl: EPTGATE_LIST_VMS: Operation not permitted (needs CAP_SYS_ADMIN)\n");
	f.list_err = ENOTTY;
	expect(&f, "stats", 1, "", "eptgatectl: EPTGATE_LIST_VMS: Inappropriate ioctl for device (the loaded eptgate.ko cannot list: too old?)\n");
	f.list_err = 0;
	r = run(&f, "help");
	TAP_CHECK(!r.status && strstr(r.out, "usage: eptgatectl") && !*r.err,
		  "eptgatectl help: usage on stdout, exit 0");
	result_free(&r);
	r = run(&f, "");
	TAP_CHECK(r.status == 2 && !*r.out && strstr(r.err, "usage: eptgatectl"),
		  "eptgatectl with no command: usage on stderr, exit 2");
	result_free(&r);

	/* --watch */
	r = run(&f, "stats --watch 0.5 --count 3 7");
	TAP_CHECK(!r.status && f.sleeps == 3 - 1 && f.slept == 1.0 &&
		  strstr(r.out, "--- sample 1 (every 0.5 s) ---\nVM 7") &&
		  strstr(r.out, "\n\n--- sample 3 (every 0.5 s) ---\n") &&
		  strstr(r.out, "     1         23         60") && !strstr(r.out, "VM 9"),
		  "stats --watch 0.5 --count 3 7: three samples of VM 7, 0.5 s apart, counters moving");
	result_free(&r);

	/* JSON: one line per document, saved for the schema check */
	f.sleeps = 0;
	r = run(&f, "--json caps");
	TAP_CHECK(!r.status && lines(r.out) == 1 && r.out[0] == '{' &&
		  strstr(r.out, "\"caps\":[\"ept\",\"vmfunc_eptp\",\"ept_4level\",\"ept_2m\",\"invept_single\",\"ept_wb\",\"list_vms\"]"),
		  "--json caps: one line, the cap names");
	save_json(&r, "caps");
	result_free(&r);
	expect(&f, "list --json", 0, list_json, "");
	expect(&f, "show 7 --json", 0, show_json, "");
	r = run(&f, "list --json");
	TAP_CHECK(!r.status && lines(r.out) == 1 &&
		  strstr(r.out, "{\"vm_id\":9,\"pid\":0,\"switching\":false,\"suspended\":true,\"dirty_logging\":true,"),
		  "list --json: one line, VM 9 suspended with dirty logging");
	save_json(&r, "list");
	result_free(&r);
	r = run(&f, "-j show 7");
	TAP_CHECK(!r.status && lines(r.out) == 1 &&
		  strstr(r.out, "{\"kind\":\"window\",\"gpa\":536870912,\"len\":2097152,\"access\":\"rw-\",\"peer\":{\"vm_id\":9,\"pid\":0,\"gpa\":1073741824,\"via\":\"grant\"}}") &&
		  strstr(r.out, "\"trampoline\":{\"code_gpa\":805306368,\"code_len\":4096,\"data_gpa\":805322752,\"doorbell_gpa\":939524096}") &&
		  strstr(r.out, "\"view\":1,\"trampoline\":null"),
		  "--json show 7: one line, the grant window and the trampoline");
	save_json(&r, "show");
	result_free(&r);
	r = run(&f, "-j show 9");
	TAP_CHECK(!r.status && strstr(r.out, "\"views\":[],\"vcpus\":[]}"),
		  "--json show 9: no views, no vCPUs");
	save_json(&r, "show-empty");
	result_free(&r);
	r = run(&f, "stats --json --watch --count 2");
	TAP_CHECK(!r.status && lines(r.out) == 2 && f.slept == 1.0 + 1.0 &&
		  strstr(r.out, "{\"schema_version\":1,\"time\":1700000001.250,\"vms\":[{\"vm_id\":7,") &&
		  strstr(r.out, "\n{\"schema_version\":1,\"time\":1700000002.250,"),
		  "stats --json --watch --count 2: two documents, 1 s apart, with their time");
	save_json(&r, "stats");
	result_free(&r);
	f.nr = 0;
	r = run(&f, "list -j");
	TAP_CHECK(!r.status && !strcmp(r.out, "{\"schema_version\":1,\"vms\":[]}\n"),
		  "list --json with no VM: an empty array");
	save_json(&r, "list-empty");
	result_free(&r);
	return tap_done();
}
