// SPDX-License-Identifier: GPL-2.0
/*
 * eptgatectl's commands: caps, list, show VM, stats [--watch].  Exit
 * status 0 on success, 1 when the module refused or is not there, 2 for a
 * bad command line; every error is one line on stderr, "eptgatectl: ...".
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "eptgatectl.h"

#define EXIT_USAGE	2

static const char usage[] =
	"usage: eptgatectl [--json] [--device PATH] COMMAND\n"
	"  caps                       what the module and the CPU offer\n"
	"  list                       the bound VMs\n"
	"  show VM                    one VM: views, ranges, windows, trampoline, counters\n"
	"  stats [--watch [SECONDS]] [--count N] [VM...]\n"
	"                             counters of every (or each named) VM\n"
	"  help                       this text\n"
	"--json (-j): one JSON document per line (Documentation/eptgatectl.rst)\n";

void ectl_vm_free(struct ectl_vm *vm)
{
	free(vm->ranges);
	free(vm->vcpus);
	vm->ranges = NULL;
	vm->vcpus = NULL;
}

/* The one-line error of a failed source call; returns EXIT_FAILURE. */
static int report(FILE *err, const char *what, int r)
{
	const char *hint = "";

	if (what[0] == '/') {	/* the device: opening it failed */
		if (r == -ENOENT || r == -ENXIO || r == -ENODEV)
			hint = " (is eptgate.ko loaded?)";
		else if (r == -EACCES || r == -EPERM)
			hint = " (run as root)";
	} else if (!strcmp(what, "EPTGATE_LIST_VMS") ||
		   !strcmp(what, "EPTGATE_QUERY_VM")) {
		if (r == -EPERM)
			hint = " (needs CAP_SYS_ADMIN)";
		else if (r == -ENOTTY)
			hint = " (the loaded eptgate.ko cannot list: too old?)";
	}
	fprintf(err, "eptgatectl: %s: %s%s\n", what, strerror(-r), hint);
	return EXIT_FAILURE;
}

static int bad_usage(FILE *err, const char *fmt, const char *arg)
{
	fputs("eptgatectl: ", err);
	fprintf(err, fmt, arg);
	fputs("; try 'eptgatectl help'\n", err);
	return EXIT_USAGE;
}

static bool parse_u64(const char *s, uint64_t *v)
{
	char *end;

	if (!s || *s < '0' || *s > '9')
		return false;
	errno = 0;
	*v = strtoull(s, &end, 0);
	return !errno && !*end;
}

static bool parse_seconds(const char *s, double *v)
{
	char *end;
	double d;

	if (!s || !*s)
		return false;
	d = strtod(s, &end);
	if (*end || !(d > 0 && d <= 86400))
		return false;
	*v = d;
	return true;
}

static int cmd_caps(const struct ectl_source *src, bool json, FILE *out,
		    FILE *err)
{
	struct eptgate_info info;
	const char *what = "";
	int r = src->get_info(src->ctx, &info, &what);

	if (r)
		return report(err, what, r);
	ectl_print_caps(out, &info, json);
	return 0;
}

static int cmd_list(const struct ectl_source *src, bool json, FILE *out,
		    FILE *err)
{
	struct eptgate_vm_info *vms;
	const char *what = "";
	uint32_t nr;
	int r = src->list_vms(src->ctx, &vms, &nr, &what);

	if (r)
		return report(err, what, r);
	ectl_print_list(out, vms, nr, json);
	free(vms);
	return 0;
}

static int query(const struct ectl_source *src, uint64_t id, struct ectl_vm *vm,
		 FILE *err)
{
	const char *what = "";
	int r = src->query_vm(src->ctx, id, vm, &what);

	if (r == -ENOENT && !strcmp(what, "EPTGATE_QUERY_VM")) {
		fprintf(err, "eptgatectl: VM %llu: no such VM is bound\n",
			(unsigned long long)id);
		return EXIT_FAILURE;
	}
	return r ? report(err, what, r) : 0;
}

static int cmd_show(const struct ectl_source *src, int argc, char **argv,
		    bool json, FILE *out, FILE *err)
{
	struct ectl_vm vm;
	uint64_t id;
	int r;

	if (argc != 1)
		return bad_usage(err, "%s", "show takes one VM id");
	if (!parse_u64(argv[0], &id))
		return bad_usage(err, "'%s' is not a VM id", argv[0]);
	r = query(src, id, &vm, err);
	if (r)
		return r;
	ectl_print_show(out, &vm, json);
	ectl_vm_free(&vm);
	return 0;
}

/* One sample: the named VMs (@ids), or every VM (@nids 0). */
static int stats_sample(const struct ectl_source *src, const uint64_t *ids,
			int nids, bool json, FILE *out, FILE *err)
{
	struct eptgate_vm_info *vms = NULL;
	struct ectl_vm *detail;
	const char *what = "";
	uint32_t nr = 0, n = 0, i;
	int r = 0;

	if (!nids) {
		r = src->list_vms(src->ctx, &vms, &nr, &what);
		if (r)
			return report(err, what, r);
	} else {
		nr = nids;
	}
	detail = calloc(nr ? nr : 1, sizeof(*detail));
	if (!detail) {
		free(vms);
		return report(err, "memory", -ENOMEM);
	}
	for (i = 0; i < nr && !r; i++) {
		uint64_t id = nids ? ids[i] : vms[i].vm_id;

		what = "";
		r = src->query_vm(src->ctx, id, &detail[n], &what);
		if (!r)
			n++;
		else if (r == -ENOENT && !nids && !strcmp(what, "EPTGATE_QUERY_VM"))
			r = 0;	/* unbound since the listing */
		else if (r == -ENOENT && !strcmp(what, "EPTGATE_QUERY_VM"))
			r = query(src, id, &detail[n], err);
		else
			r = report(err, what, r);
	}
	if (!r)
		ectl_print_stats(out, detail, n, src->now(src->ctx), json);
	for (i = 0; i < n; i++)
		ectl_vm_free(&detail[i]);
	free(detail);
	free(vms);
	return r;
}

static int cmd_stats(const struct ectl_source *src, int argc, char **argv,
		     bool json, FILE *out, FILE *err)
{
	uint64_t *ids = calloc(argc ? argc : 1, sizeof(*ids)), count = 0, n;
	double interval = 1;
	bool watch = false;
	int nids = 0, i, r = 0;

	if (!ids)
		return report(err, "memory", -ENOMEM);
	for (i = 0; i < argc; i++) {
		if (!strcmp(argv[i], "--watch") || !strcmp(argv[i], "-w")) {
			watch = true;
			if (i + 1 < argc && parse_seconds(argv[i + 1], &interval))
				i++;
		} else if (!strcmp(argv[i], "--count") || !strcmp(argv[i], "-c")) {
			if (!parse_u64(i + 1 < argc ? argv[i + 1] : NULL, &count) ||
			    !count) {
				free(ids);
				return bad_usage(err, "%s", "--count takes a number of samples > 0");
			}
			i++;
		} else if (parse_u64(argv[i], &ids[nids])) {
			nids++;
		} else {
			free(ids);
			return bad_usage(err, "stats: unknown argument '%s'", argv[i]);
		}
	}
	if (!watch && !count)
		count = 1;
	for (n = 0; !count || n < count; n++) {
		if (n && !src->sleep(src->ctx, interval))
			break;
		if (watch && !json)
			fprintf(out, "%s--- sample %llu (every %g s) ---\n", n ? "\n" : "",
				(unsigned long long)n + 1, interval);
		r = stats_sample(src, ids, nids, json, out, err);
		fflush(out);
		if (r)
			break;
	}
	free(ids);
	return r;
}

int ectl_main(int argc, char **argv, const struct ectl_source *src,
	      FILE *out, FILE *err)
{
	const char *cmd = NULL;
	char **rest = NULL;
	bool json = false;
	int i, nrest = 0, r;

	rest = calloc(argc + 1, sizeof(*rest));
	if (!rest)
		return report(err, "memory", -ENOMEM);
	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--json") || !strcmp(argv[i], "-j"))
			json = true;
		else if (!cmd && (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")))
			cmd = "help";
		else if (!cmd && argv[i][0] == '-') {
			free(rest);
			return bad_usage(err, "unknown option '%s'", argv[i]);
		} else if (!cmd)
			cmd = argv[i];
		else
			rest[nrest++] = argv[i];
	}
	if (!cmd || !strcmp(cmd, "help")) {
		fputs(usage, cmd ? out : err);
		free(rest);
		return cmd ? 0 : EXIT_USAGE;
	}
	if (!strcmp(cmd, "caps") || !strcmp(cmd, "list")) {
		if (nrest) {
			r = bad_usage(err, "%s takes no arguments", cmd);
		} else {
			r = cmd[0] == 'c' ? cmd_caps(src, json, out, err) :
					    cmd_list(src, json, out, err);
		}
	} else if (!strcmp(cmd, "show")) {
		r = cmd_show(src, nrest, rest, json, out, err);
	} else if (!strcmp(cmd, "stats")) {
		r = cmd_stats(src, nrest, rest, json, out, err);
	} else {
		r = bad_usage(err, "unknown command '%s'", cmd);
	}
	free(rest);
	if (fflush(out) && !r) {
		fprintf(err, "eptgatectl: write error: %s\n", strerror(errno));
		r = EXIT_FAILURE;
	}
	return r;
}
