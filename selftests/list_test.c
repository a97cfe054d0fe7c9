// SPDX-License-Identifier: GPL-2.0
/*
 * list_test: EPTGATE_LIST_VMS and EPTGATE_QUERY_VM, the module-wide view
 * of the bindings, against what the test built.
 *
 * VM 1 (one vCPU) and its peer (barebones, no vCPU) are bound by this
 * process.  VM 1:
 *   view 1   memslot 0 RWX, a read-only window at PROBE_GPA onto the peer's
 *            page (named by the peer's binding fd)
 *   view 2   memslot 0 RWX, a read-only window at WIN2_GPA onto the same
 *            page through a grant of the peer, and the signed probe
 *            trampoline (tramp/good.signed) at CODE_GPA, its private pages
 *            at DATA_GPA and a doorbell at DOORBELL_GPA
 * Switching is enabled and the guest enters view 1 (lazy fills: counters
 * to compare).  The listing must show exactly that, with the counters the
 * binding fd reports; its array conventions (ENOSPC, entry_size) and its
 * refusals (no CAP_SYS_ADMIN, unknown vm_id) are checked; changes show up;
 * closed bindings go away and ids are not reused.
 *
 * If an eptgatectl binary sits next to this test (the payload puts the
 * static build there) or $EPTGATECTL names one, `eptgatectl --json list`,
 * `show` and `stats --watch` run against the live VMs and their JSON is
 * checked (well-formed, and the same facts); the JSON is printed to the
 * log between "# eptgatectl-json begin/end" lines for the host to check
 * against the schema (Documentation/eptgatectl.rst).  Its refusals
 * (without CAP_SYS_ADMIN, as nobody) must be one line and exit 1.
 */
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/capability.h>

#include "eptgate_util.h"
#include "json.h"

#define PROBE_GPA	0x10000000ULL
#define PROBE_SLOT	1
#define WIN2_GPA	0x20000000ULL
#define CODE_GPA	0x30000000ULL
#define CODE_SLOT	2
#define DATA_GPA	(CODE_GPA + EPTGATE_TRAMPOLINE_CODE_MAX)
#define DATA_SLOT	3
#define DOORBELL_GPA	0x38000000ULL

#define OWN_PATTERN	0x0101010101010101ULL
#define PEER_PATTERN	0x5050505050505050ULL

#define KEY_DESC	"eptgate-list-test-signer"

static void guest_code(void)
{
	uint64_t v;

	vmfunc_eptp(1);
	v = guest_read64(PROBE_GPA);
	vmfunc_eptp(0);
	GUEST_SYNC_ARGS(1, v, 0, 0, 0);
	GUEST_DONE();
}

static struct eptgate_vm_info *find_vm(struct eptgate_vm_info *vms,
				       uint32_t nr, uint64_t id)
{
	uint32_t i;

	for (i = 0; i < nr; i++)
		if (vms[i].vm_id == id)
			return &vms[i];
	return NULL;
}

/* Our VMs in the listing (pid == ours), in listing order: their count. */
static uint32_t our_vms(struct eptgate_vm_info *vms, uint32_t nr,
			uint64_t *ids, uint32_t max)
{
	uint32_t i, n = 0;

	for (i = 0; i < nr; i++) {
		if (vms[i].pid != getpid())
			continue;
		if (n < max)
			ids[n] = vms[i].vm_id;
		n++;
	}
	return n;
}

struct want_range {
	uint32_t view, kind, access, flags;
	uint64_t gpa, len, peer_vm_id, peer_gpa;
};

static void check_ranges(const struct eptgate_vm_detail *d,
			 const struct want_range *w, uint32_t n)
{
	uint32_t i;

	TEST_ASSERT(d->nr_ranges == n, "EPTGATE_QUERY_VM: %u ranges, expected %u",
		    d->nr_ranges, n);
	for (i = 0; i < n; i++) {
		const struct eptgate_range_info *r = &d->ranges[i];
		bool win = w[i].kind == EPTGATE_RANGE_WINDOW;

		TEST_ASSERT(r->size == sizeof(*r) && r->view == w[i].view &&
			    r->kind == w[i].kind && r->access == w[i].access &&
			    r->flags == w[i].flags && r->gpa == w[i].gpa &&
			    r->len == w[i].len &&
			    r->peer_vm_id == w[i].peer_vm_id &&
			    r->peer_gpa == w[i].peer_gpa &&
			    r->peer_pid == (win ? getpid() : 0),
			    "range %u: size %u view %u kind %u access 0x%x flags 0x%x gpa 0x%llx len 0x%llx peer %llu (pid %d) peer_gpa 0x%llx; expected view %u kind %u access 0x%x flags 0x%x gpa 0x%lx len 0x%lx peer %lu peer_gpa 0x%lx",
			    i, r->size, r->view, r->kind, r->access, r->flags,
			    r->gpa, r->len, r->peer_vm_id, r->peer_pid,
			    r->peer_gpa, w[i].view, w[i].kind, w[i].access,
			    w[i].flags, w[i].gpa, w[i].len, w[i].peer_vm_id,
			    w[i].peer_gpa);
	}
}

static void check_view_stats(int bfd, const struct eptgate_vm_detail *d)
{
	uint32_t i;

	for (i = 0; i < d->nr_views; i++) {
		const struct eptgate_view_stats *q = &d->view_stats[i];
		struct eptgate_view_stats b = eptgate_view_stats(bfd, q->view);

		TEST_ASSERT(q->view == d->views[i].view &&
			    q->size == sizeof(*q) && q->flags == 0 &&
			    q->switches == b.switches && q->exits == b.exits &&
			    q->ept_violations == b.ept_violations &&
			    q->lazy_fills == b.lazy_fills &&
			    q->fallbacks == b.fallbacks && q->zaps == b.zaps &&
			    q->event_fallbacks == b.event_fallbacks &&
			    q->doorbells == b.doorbells &&
			    q->fill_retries == b.fill_retries,
			    "view %u: counters of EPTGATE_QUERY_VM (exits %llu, lazy_fills %llu, zaps %llu) differ from EPTGATE_GET_VIEW_STATS (%llu, %llu, %llu)",
			    q->view, q->exits, q->lazy_fills, q->zaps, b.exits,
			    b.lazy_fills, b.zaps);
	}
}

/* A child that loses CAP_SYS_ADMIN (@setuid: becomes nobody) and tries. */
static void check_unprivileged(int dev, uint64_t id, bool setuid)
{
	int status;
	pid_t pid = fork();

	TEST_ASSERT(pid >= 0, "fork failed, errno: %i (%s)", errno, strerror(errno));
	if (!pid) {
		struct eptgate_vm_detail d;
		struct eptgate_info info;
		uint32_t total;
		int r;

		if (setuid) {
			if (setresgid(65534, 65534, 65534) ||
			    setresuid(65534, 65534, 65534))
				_exit(10);
		} else {
			struct __user_cap_header_struct h = {
				.version = _LINUX_CAPABILITY_VERSION_3 };
			struct __user_cap_data_struct c[2];

			if (syscall(SYS_capget, &h, c))
				_exit(11);
			c[CAP_SYS_ADMIN / 32].effective &= ~(1u << (CAP_SYS_ADMIN % 32));
			c[CAP_SYS_ADMIN / 32].permitted &= ~(1u << (CAP_SYS_ADMIN % 32));
			if (syscall(SYS_capset, &h, c))
				_exit(12);
		}
		if (__eptgate_get_info(dev, &info))
			_exit(13);
		r = __eptgate_list_vms(dev, NULL, 0, sizeof(struct eptgate_vm_info),
				       &total);
		if (r != -EPERM)
			_exit(20 + (r == -ENOSPC));
		r = __eptgate_query_vm_detail(dev, id, &d);
		if (r != -EPERM)
			_exit(30 + !r);
		_exit(0);
	}
	TEST_ASSERT(waitpid(pid, &status, 0) == pid, "waitpid");
	TEST_ASSERT(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		    "unprivileged child (%s): exit status 0x%x (10-13: could not drop privileges or GET_INFO failed; 20/21: EPTGATE_LIST_VMS not refused; 30/31: EPTGATE_QUERY_VM not refused)",
		    setuid ? "uid 65534" : "CAP_SYS_ADMIN dropped", status);
}

/* ---- eptgatectl --json ---------------------------------------------------- */

static bool find_eptgatectl(char *path, size_t len)
{
	const char *env = getenv("EPTGATECTL");
	char exe[PATH_MAX];
	ssize_t n;

	if (env) {
		snprintf(path, len, "%s", env);
		return access(path, X_OK) == 0;
	}
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n <= 0)
		return false;
	exe[n] = 0;
	snprintf(path, len, "%s/eptgatectl", dirname(exe));
	return access(path, X_OK) == 0;
}

enum tool_as { AS_ROOT, AS_NO_SYS_ADMIN, AS_NOBODY };

/*
 * Runs @tool with @args (as root, without CAP_SYS_ADMIN in its bounding
 * set, or as uid 65534); returns its stdout, malloc()ed, its exit status
 * and, if @err, its stderr.
 */
static char *run_tool_as(const char *tool, const char *const *args,
			 enum tool_as as, int *status, char **err)
{
	size_t len[2] = { 0, 0 }, cap[2] = { 65536, 4096 };
	char *buf[2] = { malloc(cap[0]), malloc(cap[1]) };
	int p[2][2], k;
	pid_t pid;
	ssize_t n;

	TEST_ASSERT(buf[0] && buf[1] && !pipe(p[0]) && !pipe(p[1]), "pipe failed");
	pid = fork();
	TEST_ASSERT(pid >= 0, "fork failed");
	if (!pid) {
		const char *argv[8] = { tool };
		int i;

		for (i = 0; args[i] && i < 6; i++)
			argv[i + 1] = args[i];
		dup2(p[0][1], 1);
		dup2(p[1][1], 2);
		close(p[0][0]);
		close(p[1][0]);
		/* the bounding set survives exec; root's capabilities do not */
		if (as == AS_NO_SYS_ADMIN && prctl(PR_CAPBSET_DROP, CAP_SYS_ADMIN))
			_exit(126);
		if (as == AS_NOBODY && (setresgid(65534, 65534, 65534) ||
					setresuid(65534, 65534, 65534)))
			_exit(126);
		execv(tool, (char *const *)argv);
		_exit(127);
	}
	close(p[0][1]);
	close(p[1][1]);
	/* stderr is small: read it after stdout's end */
	for (k = 0; k < 2; k++) {
		while ((n = read(p[k][0], buf[k] + len[k], cap[k] - len[k] - 1)) > 0) {
			len[k] += n;
			if (len[k] + 1 == cap[k]) {
				cap[k] *= 2;
				buf[k] = realloc(buf[k], cap[k]);
				TEST_ASSERT(buf[k], "realloc");
			}
		}
		buf[k][len[k]] = 0;
		close(p[k][0]);
	}
	TEST_ASSERT(waitpid(pid, status, 0) == pid, "waitpid");
	if (err)
		*err = buf[1];
	else
		free(buf[1]);
	return buf[0];
}

static char *run_tool(const char *tool, const char *const *args, int *status)
{
	return run_tool_as(tool, args, AS_ROOT, status, NULL);
}

static const struct json *json_vm(const struct json *vms, uint64_t id)
{
	size_t i;

	for (i = 0; vms && i < vms->n; i++)
		if (json_u64(json_get(vms->items[i], "vm_id")) == id)
			return vms->items[i];
	return NULL;
}

static void check_json_vm(const struct json *v, const struct eptgate_vm_info *k)
{
	const struct json *sw = json_get(v, "switching");

	TEST_ASSERT(v, "vm_id %llu not in the JSON", k->vm_id);
	TEST_ASSERT(json_u64(json_get(v, "pid")) == (uint64_t)k->pid &&
		    json_u64(json_get(v, "vcpus")) == k->nr_vcpus &&
		    json_u64(json_get(v, "views")) == k->nr_views &&
		    json_u64(json_get(v, "windows")) == k->nr_windows &&
		    json_u64(json_get(v, "trampolines")) == k->nr_trampolines &&
		    json_u64(json_get(v, "grants")) == k->nr_grants &&
		    json_u64(json_get(v, "peer_windows")) == k->nr_peer_windows &&
		    sw && sw->type == JSON_BOOL &&
		    sw->b == !!(k->flags & EPTGATE_VM_ENABLED),
		    "eptgatectl --json: vm %llu differs from EPTGATE_LIST_VMS (pid %d, %u vCPUs, %u views, %u windows)",
		    k->vm_id, k->pid, k->nr_vcpus, k->nr_views, k->nr_windows);
}

static void print_json(const char *what, const char *out)
{
	printf("# eptgatectl-json begin %s\n%s\n# eptgatectl-json end\n", what, out);
	fflush(stdout);
}

/* The human output, into the log as comments; it must succeed. */
static void print_human(const char *tool, const char *const *args)
{
	char *out, *line, *save = NULL;
	int status;

	out = run_tool(tool, args, &status);
	TEST_ASSERT(WIFEXITED(status) && !WEXITSTATUS(status) && *out,
		    "eptgatectl %s: exit status 0x%x, %zu bytes of output",
		    args[0], status, strlen(out));
	for (line = strtok_r(out, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save))
		ksft_print_msg("eptgatectl %s: %s\n", args[0], line);
	free(out);
}

/* eptgatectl --json list and show VM against the module's own answers. */
static void check_eptgatectl(const char *tool, int dev, uint64_t id,
			     uint64_t peer_id)
{
	const char *list_args[] = { "--json", "list", NULL };
	const struct json *v, *views, *ranges, *r, *peer;
	struct eptgate_vm_info *vms;
	struct eptgate_vm_detail d;
	char idbuf[32], err[128];
	const char *show_args[] = { "--json", "show", idbuf, NULL };
	struct json *doc;
	char *out;
	uint32_t nr, i, w = 0;
	int status;

	out = run_tool(tool, list_args, &status);
	print_json("list", out);
	TEST_ASSERT(WIFEXITED(status) && !WEXITSTATUS(status),
		    "eptgatectl --json list: exit status 0x%x", status);
	doc = json_parse(out, err, sizeof(err));
	TEST_ASSERT(doc, "eptgatectl --json list: not JSON: %s", err);
	TEST_ASSERT(json_u64(json_get(doc, "schema_version")) == 1,
		    "eptgatectl --json list: schema_version is not 1");
	vms = eptgate_list_vms(dev, &nr);
	TEST_ASSERT(json_get(doc, "vms") && json_get(doc, "vms")->n == nr,
		    "eptgatectl --json list: not %u VMs", nr);
	for (i = 0; i < nr; i++)
		check_json_vm(json_vm(json_get(doc, "vms"), vms[i].vm_id), &vms[i]);
	json_free(doc);
	free(out);

	snprintf(idbuf, sizeof(idbuf), "%llu", (unsigned long long)id);
	out = run_tool(tool, show_args, &status);
	print_json("show", out);
	TEST_ASSERT(WIFEXITED(status) && !WEXITSTATUS(status),
		    "eptgatectl --json show %s: exit status 0x%x", idbuf, status);
	doc = json_parse(out, err, sizeof(err));
	TEST_ASSERT(doc, "eptgatectl --json show: not JSON: %s", err);
	eptgate_query_vm_detail(dev, id, &d);
	v = json_get(doc, "vm");
	check_json_vm(v, &d.vm);
	views = json_get(doc, "views");
	TEST_ASSERT(views && views->type == JSON_ARRAY && views->n == d.nr_views,
		    "eptgatectl --json show: \"views\" is not %u views", d.nr_views);
	for (i = 0; i < d.nr_views; i++) {
		const struct json *jv = views->items[i];
		const struct json *st = json_get(jv, "stats");

		TEST_ASSERT(json_u64(json_get(jv, "view")) == d.views[i].view &&
			    json_u64(json_get(st, "exits")) == d.view_stats[i].exits &&
			    json_u64(json_get(st, "lazy_fills")) == d.view_stats[i].lazy_fills &&
			    json_get(jv, "trampoline") &&
			    (json_get(jv, "trampoline")->type == JSON_NULL) ==
			    !(d.views[i].flags & EPTGATE_VIEW_TRAMPOLINE),
			    "eptgatectl --json show: view %u differs", d.views[i].view);
		ranges = json_get(jv, "ranges");
		TEST_ASSERT(ranges && ranges->n == d.views[i].nr_ranges,
			    "eptgatectl --json show: view %u: not %u ranges",
			    d.views[i].view, d.views[i].nr_ranges);
		for (size_t j = 0; j < ranges->n; j++) {
			const struct eptgate_range_info *k = &d.ranges[w++];

			r = ranges->items[j];
			peer = json_get(r, "peer");
			TEST_ASSERT(json_u64(json_get(r, "gpa")) == k->gpa &&
				    json_u64(json_get(r, "len")) == k->len &&
				    (k->kind != EPTGATE_RANGE_WINDOW ||
				     (json_u64(json_get(peer, "vm_id")) == peer_id &&
				      json_u64(json_get(peer, "gpa")) == k->peer_gpa)),
				    "eptgatectl --json show: range 0x%llx of view %u differs",
				    k->gpa, k->view);
		}
	}
	v = json_get(doc, "vcpus");
	TEST_ASSERT(v && v->n == d.nr_vcpus && v->n &&
		    json_u64(json_get(v->items[0], "entries")) == d.vcpus[0].entries,
		    "eptgatectl --json show: \"vcpus\" differs");
	eptgate_vm_detail_free(&d);
	json_free(doc);
	free(out);
	free(vms);

	{
		const char *list[] = { "list", NULL };
		const char *show[] = { "show", idbuf, NULL };
		const char *stats[] = { "stats", NULL };

		print_human(tool, list);
		print_human(tool, show);
		print_human(tool, stats);
	}

	/* two samples of stats --json --watch, 0.2 s apart */
	{
		const char *args[] = { "--json", "stats", "--watch", "0.2",
				       "--count", "2", NULL };
		const struct json *t;
		double t0 = 0;
		char *nl;

		out = run_tool(tool, args, &status);
		print_json("stats", out);
		TEST_ASSERT(WIFEXITED(status) && !WEXITSTATUS(status),
			    "eptgatectl --json stats --watch: exit status 0x%x", status);
		nl = strchr(out, '\n');
		TEST_ASSERT(nl && nl[1] && strchr(nl + 1, '\n') &&
			    !strchr(nl + 1, '\n')[1],
			    "eptgatectl --json stats --watch 0.2 --count 2: not two lines");
		*nl = 0;
		for (i = 0; i < 2; i++) {
			doc = json_parse(i ? nl + 1 : out, err, sizeof(err));
			TEST_ASSERT(doc, "eptgatectl --json stats: sample %u not JSON: %s",
				    i + 1, err);
			t = json_get(doc, "time");
			TEST_ASSERT(t && t->type == JSON_NUMBER &&
				    json_vm(json_get(doc, "vms"), id),
				    "eptgatectl --json stats: sample %u without time or VM %lu",
				    i + 1, id);
			if (!i)
				t0 = t->d;
			else
				TEST_ASSERT(t->d - t0 >= 0.15,
					    "eptgatectl --json stats --watch 0.2: samples %.3f s apart",
					    t->d - t0);
			json_free(doc);
		}
		free(out);
	}

	/* refused: one line on stderr, exit 1, nothing on stdout */
	{
		static const struct {
			enum tool_as as;
			const char *line;
		} refusals[] = {
			{ AS_NO_SYS_ADMIN, "eptgatectl: EPTGATE_LIST_VMS: Operation not permitted (needs CAP_SYS_ADMIN)\n" },
			{ AS_NOBODY, "eptgatectl: /dev/eptgate: Permission denied (run as root)\n" },
		};
		const char *args[] = { "list", NULL };
		char *e;

		for (i = 0; i < 2; i++) {
			out = run_tool_as(tool, args, refusals[i].as, &status, &e);
			TEST_ASSERT(WIFEXITED(status) && WEXITSTATUS(status) == 1 &&
				    !*out && !strcmp(e, refusals[i].line),
				    "eptgatectl list %s: exit status 0x%x, stdout \"%s\", stderr \"%s\"; expected exit 1 and \"%s\"",
				    i ? "as uid 65534" : "without CAP_SYS_ADMIN", status,
				    out, e, refusals[i].line);
			free(out);
			free(e);
		}
	}
}

/* ---- main ----------------------------------------------------------------- */

int main(void)
{
	uint64_t slot0_gpa, slot0_len, ids[4], id, peer_id, max_id;
	struct eptgate_vm_info *vms, *a, *b, big[4];
	struct eptgate_vm_query q;
	struct eptgate_probe_vm p;
	struct eptgate_vm_detail d;
	struct eptgate_trampoline t;
	struct blob_s { void *buf; size_t len; } good, payload, cert;
	struct eptgate_info info;
	struct eptgate_range_info few[2];
	char tool[PATH_MAX];
	uint32_t nr, total, ncode, i;
	int32_t ring, key, old;
	int gfd, r, nbfd;
	struct ucall uc;
	uint8_t *code_hva;
	bool have_tool;

	eptgate_require();
	ksft_print_header();
	have_tool = find_eptgatectl(tool, sizeof(tool));
	ksft_set_plan(11);

	/* ---- build ---- */
	eptgate_probe_vm_create(&p, guest_code, PROBE_GPA, PROBE_SLOT,
				OWN_PATTERN, PEER_PATTERN, EPTGATE_RWX);
	vm_memslot0_range(p.vm, &slot0_gpa, &slot0_len);

	good.buf = eptgate_read_tramp_file("good.signed", &good.len);
	payload.buf = eptgate_read_tramp_file("unsigned", &payload.len);
	cert.buf = eptgate_read_tramp_file("signing_cert.der", &cert.len);
	ncode = (payload.len + EPTGATE_PAGE_SIZE - 1) / EPTGATE_PAGE_SIZE;
	vm_userspace_mem_region_add(p.vm, VM_MEM_SRC_ANONYMOUS, CODE_GPA,
				    CODE_SLOT, ncode, KVM_MEM_READONLY);
	code_hva = addr_gpa2hva(p.vm, CODE_GPA);
	memset(code_hva, 0, ncode * EPTGATE_PAGE_SIZE);
	memcpy(code_hva, payload.buf, payload.len);
	vm_add_ram(p.vm, DATA_SLOT, DATA_GPA,
		   EPTGATE_TRAMPOLINE_DATA_LEN / EPTGATE_PAGE_SIZE);

	ring = eptgate_keyring_serial();
	old = eptgate_keyring_find(ring, KEY_DESC);
	if (old > 0)
		eptgate_keyring_unlink(old, ring);
	key = eptgate_keyring_add_cert(ring, KEY_DESC, cert.buf, cert.len);

	TEST_ASSERT(eptgate_create_view(p.bfd) == 2, "second view is not 2");
	eptgate_set_access_slot(p.bfd, p.vm, 2, 0, EPTGATE_RWX);
	gfd = eptgate_create_grant(p.peer_bfd, PROBE_GPA, EPTGATE_PAGE_SIZE,
				   EPTGATE_RO);
	eptgate_map_window_grant(p.bfd, 2, WIN2_GPA, EPTGATE_PAGE_SIZE,
				 EPTGATE_RO, gfd, PROBE_GPA);
	t = (struct eptgate_trampoline){
		.view = 2, .blob = (uintptr_t)good.buf, .blob_len = good.len,
		.code_gpa = CODE_GPA, .data_gpa = DATA_GPA,
		.doorbell_gpa = DOORBELL_GPA,
	};
	eptgate_install_trampoline(p.bfd, &t);
	eptgate_enable(p.bfd);
	eptgate_run_expect_sync(p.vcpu, 1, &uc);
	TEST_ASSERT(uc.args[2] == PEER_PATTERN,
		    "guest read 0x%lx through the window, expected 0x%llx",
		    uc.args[2], PEER_PATTERN);

	/* 1 */
	info = eptgate_get_info(p.dev);
	TEST_ASSERT(info.caps & EPTGATE_CAP_LIST_VMS,
		    "EPTGATE_GET_INFO: caps 0x%llx without EPTGATE_CAP_LIST_VMS",
		    info.caps);
	ksft_test_result_pass("EPTGATE_CAP_LIST_VMS is set\n");

	/* 2: ENOSPC with the count, then the listing. */
	r = __eptgate_list_vms(p.dev, NULL, 0, sizeof(*vms), &total);
	TEST_ASSERT(r == -ENOSPC && total >= 2,
		    "EPTGATE_LIST_VMS with no room: rc %d, nr %u; expected -ENOSPC, nr >= 2",
		    r, total);
	vms = eptgate_list_vms(p.dev, &nr);
	for (i = 1; i < nr; i++)
		TEST_ASSERT(vms[i - 1].vm_id < vms[i].vm_id,
			    "EPTGATE_LIST_VMS: not sorted by vm_id");
	TEST_ASSERT(our_vms(vms, nr, ids, 4) == 2,
		    "EPTGATE_LIST_VMS: %u VMs of pid %d, expected 2",
		    our_vms(vms, nr, ids, 4), getpid());
	id = ids[0];		/* bound first */
	peer_id = ids[1];
	ksft_test_result_pass("EPTGATE_LIST_VMS: ENOSPC and nr %u with no room; sorted; our 2 VMs (ids %lu, %lu)\n",
			      total, id, peer_id);

	/* 3: the records */
	a = find_vm(vms, nr, id);
	b = find_vm(vms, nr, peer_id);
	TEST_ASSERT(a->size == sizeof(*a) && a->flags == EPTGATE_VM_ENABLED &&
		    a->nr_vcpus == 1 && a->nr_vcpu_stats == 1 &&
		    a->nr_views == 2 && a->nr_ranges == 7 &&
		    a->nr_windows == 2 && a->nr_trampolines == 1 &&
		    a->nr_grants == 0 && a->nr_peer_windows == 0 && !a->pad,
		    "VM %lu: flags 0x%x vcpus %u/%u views %u ranges %u windows %u trampolines %u grants %u peer_windows %u",
		    id, a->flags, a->nr_vcpus, a->nr_vcpu_stats, a->nr_views,
		    a->nr_ranges, a->nr_windows, a->nr_trampolines, a->nr_grants,
		    a->nr_peer_windows);
	TEST_ASSERT(b->flags == 0 && b->nr_vcpus == 0 && b->nr_vcpu_stats == 0 &&
		    b->nr_views == 0 && b->nr_ranges == 0 && b->nr_windows == 0 &&
		    b->nr_trampolines == 0 && b->nr_grants == 1 &&
		    b->nr_peer_windows == 2,
		    "peer VM %lu: flags 0x%x vcpus %u views %u grants %u peer_windows %u",
		    peer_id, b->flags, b->nr_vcpus, b->nr_views, b->nr_grants,
		    b->nr_peer_windows);
	free(vms);
	ksft_test_result_pass("VM records: views, ranges, windows, trampoline, grant, windows onto the peer\n");

	/* 4: the detail of VM 1 */
	eptgate_query_vm_detail(p.dev, id, &d);
	TEST_ASSERT(d.vm.vm_id == id && d.nr_views == 2 &&
		    d.views[0].view == 1 && d.views[1].view == 2 &&
		    d.views[0].flags == 0 && d.views[0].nr_ranges == 2 &&
		    d.views[1].flags == EPTGATE_VIEW_TRAMPOLINE &&
		    d.views[1].nr_ranges == 5 &&
		    d.views[1].tramp_code_gpa == CODE_GPA &&
		    d.views[1].tramp_code_len == ncode * EPTGATE_PAGE_SIZE &&
		    d.views[1].tramp_data_gpa == DATA_GPA &&
		    d.views[1].tramp_doorbell_gpa == DOORBELL_GPA,
		    "EPTGATE_QUERY_VM: views %u: [%u flags 0x%x ranges %u] [%u flags 0x%x ranges %u code 0x%llx+0x%llx data 0x%llx doorbell 0x%llx]",
		    d.nr_views, d.views[0].view, d.views[0].flags,
		    d.views[0].nr_ranges, d.views[1].view, d.views[1].flags,
		    d.views[1].nr_ranges, d.views[1].tramp_code_gpa,
		    d.views[1].tramp_code_len, d.views[1].tramp_data_gpa,
		    d.views[1].tramp_doorbell_gpa);
	{
		const struct want_range want[] = {
			{ 1, EPTGATE_RANGE_RAM, EPTGATE_RWX, 0, slot0_gpa, slot0_len, 0, 0 },
			{ 1, EPTGATE_RANGE_WINDOW, EPTGATE_RO, 0, PROBE_GPA,
			  EPTGATE_PAGE_SIZE, peer_id, PROBE_GPA },
			{ 2, EPTGATE_RANGE_RAM, EPTGATE_RWX, 0, slot0_gpa, slot0_len, 0, 0 },
			{ 2, EPTGATE_RANGE_WINDOW, EPTGATE_RO, EPTGATE_RANGE_GRANT,
			  WIN2_GPA, EPTGATE_PAGE_SIZE, peer_id, PROBE_GPA },
			{ 2, EPTGATE_RANGE_TRAMPOLINE,
			  EPTGATE_ACCESS_R | EPTGATE_ACCESS_X, 0, CODE_GPA,
			  EPTGATE_TRAMPOLINE_CODE_MAX, 0, 0 },
			{ 2, EPTGATE_RANGE_TRAMPOLINE, EPTGATE_RW, 0, DATA_GPA,
			  EPTGATE_TRAMPOLINE_DATA_LEN, 0, 0 },
			{ 2, EPTGATE_RANGE_TRAMPOLINE, EPTGATE_ACCESS_W, 0,
			  DOORBELL_GPA, EPTGATE_PAGE_SIZE, 0, 0 },
		};

		check_ranges(&d, want, 7);
	}
	check_view_stats(p.bfd, &d);
	TEST_ASSERT(d.view_stats[0].lazy_fills > 0,
		    "view 1: no lazy fills after the guest ran in it");
	{
		struct eptgate_vcpu_stats s = eptgate_vcpu_stats(p.bfd, 0);

		TEST_ASSERT(d.nr_vcpus == 1 && d.vcpus[0].vcpu_idx == 0 &&
			    d.vcpus[0].entries == s.entries &&
			    d.vcpus[0].exits == s.exits && s.entries > 0 &&
			    d.vcpus[0].exits_alt == s.exits_alt &&
			    d.vcpus[0].vmfunc_ud == s.vmfunc_ud &&
			    d.vcpus[0].view == s.view,
			    "EPTGATE_QUERY_VM: %u vCPUs, vCPU 0 entries %llu exits %llu; binding fd: entries %llu exits %llu",
			    d.nr_vcpus, d.vcpus[0].entries, d.vcpus[0].exits,
			    s.entries, s.exits);
	}
	eptgate_vm_detail_free(&d);
	ksft_test_result_pass("EPTGATE_QUERY_VM: views, trampoline, 7 ranges with their peers, counters as the binding fd has them\n");

	/* 5: the peer */
	eptgate_query_vm_detail(p.dev, peer_id, &d);
	TEST_ASSERT(d.vm.vm_id == peer_id && !d.nr_views && !d.nr_ranges &&
		    !d.nr_vcpus && d.vm.nr_peer_windows == 2,
		    "EPTGATE_QUERY_VM(peer): %u views, %u ranges, %u vCPUs",
		    d.nr_views, d.nr_ranges, d.nr_vcpus);
	eptgate_vm_detail_free(&d);
	ksft_test_result_pass("EPTGATE_QUERY_VM of the peer: nothing but the windows onto it\n");

	/* 6: one array too small: ENOSPC, every count, no record written */
	memset(few, 0xa5, sizeof(few));
	memset(big, 0xa5, sizeof(big));
	q = (struct eptgate_vm_query){
		.vm_id = id,
		.vm = { .nr = 1, .entry_size = sizeof(big[0]), .addr = (uintptr_t)big },
		.ranges = { .nr = 2, .entry_size = sizeof(few[0]), .addr = (uintptr_t)few },
		.views = { .entry_size = sizeof(struct eptgate_view_info) },
		.view_stats = { .entry_size = sizeof(struct eptgate_view_stats) },
		.vcpus = { .entry_size = sizeof(struct eptgate_vcpu_stats) },
	};
	r = __eptgate_query_vm(p.dev, &q);
	TEST_ASSERT(r == -ENOSPC && q.vm.nr == 1 && q.views.nr == 2 &&
		    q.view_stats.nr == 2 && q.ranges.nr == 7 && q.vcpus.nr == 1,
		    "EPTGATE_QUERY_VM, room for 2 ranges: rc %d, nr vm %u views %u view_stats %u ranges %u vcpus %u",
		    r, q.vm.nr, q.views.nr, q.view_stats.nr, q.ranges.nr,
		    q.vcpus.nr);
	for (i = 0; i < sizeof(few); i++)
		TEST_ASSERT(((uint8_t *)few)[i] == 0xa5 &&
			    ((uint8_t *)big)[i % sizeof(big)] == 0xa5,
			    "EPTGATE_QUERY_VM wrote a record although it failed with ENOSPC");
	ksft_test_result_pass("too small an array: ENOSPC, every nr set, no record written\n");

	/* 7: entry_size, flags, vm_id */
	memset(big, 0xa5, sizeof(big));
	r = __eptgate_list_vms(p.dev, big, 2, sizeof(big[0]) * 2, &total);
	if (r == -ENOSPC) {
		TEST_ASSERT(total > 2, "ENOSPC with nr %u", total);
		ksft_print_msg("%u VMs bound: the stride check uses the first one only\n",
			       total);
	} else {
		TEST_ASSERT(!r && total >= 2, "EPTGATE_LIST_VMS with entry_size %zu: rc %d",
			    sizeof(big[0]) * 2, r);
		TEST_ASSERT(big[0].size == sizeof(big[0]) && big[2].vm_id &&
			    big[2].size == sizeof(big[0]),
			    "records not entry_size apart (sizes %u, %u)",
			    big[0].size, big[2].size);
		for (i = 0; i < sizeof(big[0]); i++)
			TEST_ASSERT(((uint8_t *)&big[1])[i] == 0xa5 &&
				    ((uint8_t *)&big[3])[i] == 0xa5,
				    "EPTGATE_LIST_VMS wrote past its record size");
	}
	r = __eptgate_list_vms(p.dev, big, 1, 8, &total);
	TEST_ASSERT(r == -EINVAL, "entry_size 8: rc %d, expected -EINVAL", r);
	r = __eptgate_list_vms(p.dev, big, 1, 4097, &total);
	TEST_ASSERT(r == -EINVAL, "entry_size 4097: rc %d, expected -EINVAL", r);
	q = (struct eptgate_vm_query){ .vm_id = max_id = id + 1000000 };
	q.vm.entry_size = sizeof(struct eptgate_vm_info);
	q.views.entry_size = sizeof(struct eptgate_view_info);
	q.view_stats.entry_size = sizeof(struct eptgate_view_stats);
	q.ranges.entry_size = sizeof(struct eptgate_range_info);
	q.vcpus.entry_size = sizeof(struct eptgate_vcpu_stats);
	r = __eptgate_query_vm(p.dev, &q);
	TEST_ASSERT(r == -ENOENT, "vm_id %lu: rc %d, expected -ENOENT", max_id, r);
	q.vm_id = id;
	q.flags = 1;
	r = __eptgate_query_vm(p.dev, &q);
	TEST_ASSERT(r == -EINVAL, "flags 1: rc %d, expected -EINVAL", r);
	nbfd = __eptgate_ioctl(p.bfd, EPTGATE_QUERY_VM, &q);
	TEST_ASSERT(nbfd == -ENOTTY, "EPTGATE_QUERY_VM on a binding fd: rc %d", nbfd);
	ksft_test_result_pass("entry_size stride, entry_size too small or too large (EINVAL), unknown vm_id (ENOENT), flags (EINVAL), binding fd (ENOTTY)\n");

	/* 8 */
	check_unprivileged(p.dev, id, false);
	check_unprivileged(p.dev, id, true);
	ksft_test_result_pass("without CAP_SYS_ADMIN (dropped; uid 65534): EPERM, GET_INFO still answers\n");

	/* 9: eptgatectl against the live VMs */
	if (have_tool) {
		check_eptgatectl(tool, p.dev, id, peer_id);
		ksft_test_result_pass("eptgatectl --json list / show %lu / stats --watch: the same VMs, views, ranges and counters; refused without CAP_SYS_ADMIN and as nobody, one line, exit 1\n",
				      id);
	} else {
		ksft_test_result_skip("no eptgatectl next to the test\n");
	}

	/* 10: changes show */
	eptgate_unmap_window(p.bfd, 1, PROBE_GPA, EPTGATE_PAGE_SIZE);
	eptgate_disable(p.bfd);
	eptgate_destroy_view(p.bfd, 2);
	vms = eptgate_list_vms(p.dev, &nr);
	a = find_vm(vms, nr, id);
	b = find_vm(vms, nr, peer_id);
	TEST_ASSERT(a && b && a->flags == 0 && a->nr_views == 1 &&
		    a->nr_windows == 0 && a->nr_trampolines == 0 &&
		    a->nr_ranges == 1 && b->nr_peer_windows == 0 &&
		    b->nr_grants == 1,
		    "after unmap, disable, destroy: flags 0x%x views %u windows %u ranges %u, peer_windows %u",
		    a ? a->flags : 0, a ? a->nr_views : 0, a ? a->nr_windows : 0,
		    a ? a->nr_ranges : 0, b ? b->nr_peer_windows : 0);
	free(vms);
	ksft_test_result_pass("window unmapped, switching off, view 2 destroyed: the listing follows\n");

	/* 11: closed bindings go, ids are not reused */
	close(gfd);
	close(p.peer_bfd);
	close(p.bfd);
	p.bfd = eptgate_bind_vm(p.dev, p.vm);
	p.peer_bfd = -1;
	vms = eptgate_list_vms(p.dev, &nr);
	TEST_ASSERT(our_vms(vms, nr, ids, 4) == 1 && ids[0] > peer_id,
		    "after closing both bindings and binding VM 1 again: %u VMs of ours, id %lu (old ids %lu, %lu)",
		    our_vms(vms, nr, ids, 4), ids[0], id, peer_id);
	free(vms);
	close(p.bfd);
	vms = eptgate_list_vms(p.dev, &nr);
	TEST_ASSERT(our_vms(vms, nr, ids, 4) == 0, "a closed binding is still listed");
	free(vms);
	ksft_test_result_pass("closed bindings leave the listing; a new binding gets a new id\n");

	eptgate_keyring_unlink(key, ring);
	close(p.dev);
	kvm_vm_free(p.peer);
	kvm_vm_free(p.vm);
	free(good.buf);
	free(payload.buf);
	free(cert.buf);
	ksft_finished();
}
