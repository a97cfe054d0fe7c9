/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Shared helpers of the two-process benchmarks (eptgate pair, copy ring):
 * a memfd that both processes map, a launcher that forks the two sides
 * pinned with taskset, and a control block with start/stop flags and the
 * receiver's packet counter.
 *
 *   parent: memfd -> fork+exec "taskset -c 1 self <rx-mode> --fd N ..."
 *                    fork+exec "taskset -c 0 self <tx-mode> --fd N ..."
 *           waits for both ready, sets go, sleeps the warm-up, samples the
 *           receiver's counter, sleeps the measurement window, samples it
 *           again, sets stop, waits for both, prints one result line.
 */
#ifndef EPTGATE_BENCH_COMMON_H
#define EPTGATE_BENCH_COMMON_H

#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define CL 64

/* One cache line per writer so that the sides never share a written line. */
struct ctl {
	/* written by the parent */
	volatile uint32_t go;
	volatile uint32_t stop;
	char pad0[CL - 8];
	/* written by the receiver */
	volatile uint64_t rx_pkts;
	volatile uint32_t rx_ready;
	volatile uint32_t rx_done;
	uint64_t rx_polls;	/* polls that found work */
	uint64_t rx_seq_err;	/* out-of-order / missing / duplicated */
	uint64_t rx_len_err;	/* used length or header not as expected */
	char pad1[CL - 40];
	/* written by the sender */
	volatile uint32_t tx_ready;
	volatile uint32_t tx_done;
	uint64_t tx_pkts;
	uint64_t tx_calls;
	uint64_t tx_backpressure;
	uint64_t tx_notifies;
	uint64_t tx_errors;	/* anything not EG_TX_OK, or a peer error */
	char pad2[CL - 48];
};

_Static_assert(sizeof(struct ctl) == 3 * CL, "ctl is three cache lines");

static inline void cpu_relax(void)
{
	__builtin_ia32_pause();
}

static inline double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static inline void sleep_s(double s)
{
	struct timespec ts = { (time_t)s, (long)((s - (time_t)s) * 1e9) };

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

static inline void die(const char *what)
{
	perror(what);
	exit(2);
}

/*
 * A shared region: 2 MiB hugepages when the pool has them (as DPDK and a
 * VM's memory would), 4 KiB pages otherwise.  *huge tells which.
 */
static inline int shm_create(size_t len, int *huge)
{
	int fd = memfd_create("eg-bench", MFD_HUGETLB);

	*huge = 1;
	if (fd >= 0 && ftruncate(fd, len) == 0) {
		void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED |
			       MAP_POPULATE, fd, 0);
		if (p != MAP_FAILED) {
			munmap(p, len);
			return fd;
		}
	}
	if (fd >= 0)
		close(fd);
	*huge = 0;
	fd = memfd_create("eg-bench", 0);
	if (fd < 0 || ftruncate(fd, len))
		die("memfd");
	return fd;
}

static inline void *shm_map(int fd, size_t len)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
		       MAP_SHARED | MAP_POPULATE, fd, 0);

	if (p == MAP_FAILED)
		die("mmap");
	return p;
}

/* fork + exec "taskset -c cpu self args..." (the memfd is inherited). */
static inline pid_t launch(const char *self, int cpu, char **args)
{
	char cpus[16], *argv[64];
	pid_t pid;
	int i = 0, j;

	snprintf(cpus, sizeof(cpus), "%d", cpu);
	argv[i++] = "taskset";
	argv[i++] = "-c";
	argv[i++] = cpus;
	argv[i++] = (char *)self;
	for (j = 0; args[j] && i < 63; j++)
		argv[i++] = args[j];
	argv[i] = NULL;
	pid = fork();
	if (pid < 0)
		die("fork");
	if (!pid) {
		int dn = open("/dev/null", 0);

		if (dn >= 0)
			dup2(dn, 0);	/* taskset's own output stays on stdout */
		execvp("taskset", argv);
		perror("exec taskset");
		_exit(127);
	}
	return pid;
}

/* utime + stime of a process, in seconds (0 if unreadable). */
static inline double proc_cpu_s(pid_t pid)
{
	char path[64], buf[1024], *p;
	unsigned long ut = 0, st = 0;
	FILE *f;
	int n;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	f = fopen(path, "r");
	if (!f)
		return 0;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n > 0 ? n : 0] = 0;
	p = strrchr(buf, ')');	/* fields after "(comm)": 3 is state */
	if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu",
			 &ut, &st) != 2)
		return 0;
	return (double)(ut + st) / sysconf(_SC_CLK_TCK);
}

/*
 * Share of the measurement window each side really had a CPU (busy
 * pollers: 1.0 unless something else ran on their CPU).
 */
#define SAMPLES_MAX	16

/* The measuring window: the same options for every two-process program. */
struct window {
	double warm;	/* --warm: seconds before measuring */
	double secs;	/* --secs: seconds measured */
	int samples;	/* --samples: equal parts of it, the figure their median */
};

struct cpu_share {
	double tx, rx;
	/* the window's rate in equal parts, as DPDK's per-second Rx-pps */
	int nsamples;
	double samples[SAMPLES_MAX];
	double mean;	/* over the whole window */
};

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* "a,b,c" of the samples in Mpps, into buf */
static inline const char *samples_str(const struct cpu_share *s, char *buf,
				      size_t len)
{
	size_t o = 0;
	int i;

	buf[0] = 0;
	for (i = 0; i < s->nsamples && o < len; i++)
		o += snprintf(buf + o, len - o, "%s%.2f", i ? "," : "",
			      s->samples[i] / 1e6);
	return buf;
}

/*
 * Drive a run: wait for both sides, warm up, measure w->samples equal
 * parts of w->secs.  Returns their median rate in packets per second at the
 * receiver (one part on the host's other side of a vCPU move does not
 * move it; DPDK's figure is a median of 1-s samples too), or a negative
 * value on failure; share->samples[] and share->mean (the whole window)
 * give the rest.
 */
static inline double drive(struct ctl *c, pid_t rx, pid_t tx,
			   const struct window *w, struct cpu_share *share)
{
	double t0, ts, deadline = now_s() + 10, ctx0, crx0, sorted[SAMPLES_MAX];
	uint64_t p0, ps;
	int st, ok = 1, i, n = w->samples;

	if (n < 1 || n > SAMPLES_MAX)
		n = 1;
	share->nsamples = n;
	while (!(c->rx_ready && c->tx_ready)) {
		if (now_s() > deadline || waitpid(-1, &st, WNOHANG) > 0) {
			fprintf(stderr, "bench: a side did not start\n");
			kill(rx, SIGKILL);
			kill(tx, SIGKILL);
			while (wait(NULL) > 0)
				;
			return -1;
		}
		usleep(1000);
	}
	c->go = 1;
	sleep_s(w->warm);
	ctx0 = proc_cpu_s(tx);
	crx0 = proc_cpu_s(rx);
	p0 = ps = c->rx_pkts;
	t0 = ts = now_s();
	for (i = 0; i < n; i++) {
		uint64_t pe;
		double te;

		sleep_s(w->secs / n);
		pe = c->rx_pkts;
		te = now_s();
		share->samples[i] = (pe - ps) / (te - ts);
		ps = pe;
		ts = te;
	}
	share->mean = (ps - p0) / (ts - t0);
	share->tx = (proc_cpu_s(tx) - ctx0) / (ts - t0);
	share->rx = (proc_cpu_s(rx) - crx0) / (ts - t0);
	c->stop = 1;
	if (waitpid(tx, &st, 0) < 0 || !WIFEXITED(st) || WEXITSTATUS(st))
		ok = 0;
	if (waitpid(rx, &st, 0) < 0 || !WIFEXITED(st) || WEXITSTATUS(st))
		ok = 0;
	if (!ok) {
		fprintf(stderr, "bench: a side failed\n");
		return -1;
	}
	memcpy(sorted, share->samples, n * sizeof(sorted[0]));
	qsort(sorted, n, sizeof(sorted[0]), cmp_double);
	return sorted[(n - 1) / 2];
}

/*
 * The parent's part of a run: start this very program as "rx" on CPU 1
 * and "tx" on CPU 0 over the shared region @fd (@ring_opt names the ring
 * size option, "--qsize" or "--slots"; the sender also gets "--prefetch
 * @prefetch"), then drive() them.
 */
static inline double run_pair(struct ctl *c, int fd, const char *ring_opt,
			      uint32_t ring, uint32_t size, uint32_t batch,
			      int prefetch, const struct window *w,
			      struct cpu_share *share)
{
	char sz[16], bt[16], rg[16], fds[16], opt[16], pf[16], self[4096];
	char *rx_args[] = { "rx", "--fd", fds, "--size", sz, opt, rg, NULL };
	char *tx_args[] = { "tx", "--fd", fds, "--size", sz, opt, rg,
			    "--batch", bt, "--prefetch", pf, NULL };
	pid_t rx, tx;

	snprintf(sz, sizeof(sz), "%u", size);
	snprintf(bt, sizeof(bt), "%u", batch);
	snprintf(pf, sizeof(pf), "%d", prefetch);
	snprintf(rg, sizeof(rg), "%u", ring);
	snprintf(fds, sizeof(fds), "%d", fd);
	snprintf(opt, sizeof(opt), "%s", ring_opt);
	if (!realpath("/proc/self/exe", self))
		die("realpath");
	rx = launch(self, 1, rx_args);
	tx = launch(self, 0, tx_args);
	return drive(c, rx, tx, w, share);
}

/* "--name value" from argv, or def. */
static inline long arg_long(int argc, char **argv, const char *name, long def)
{
	int i;

	for (i = 1; i + 1 < argc; i++)
		if (!strcmp(argv[i], name))
			return strtol(argv[i + 1], NULL, 0);
	return def;
}

static inline double arg_double(int argc, char **argv, const char *name,
				double def)
{
	int i;

	for (i = 1; i + 1 < argc; i++)
		if (!strcmp(argv[i], name))
			return strtod(argv[i + 1], NULL);
	return def;
}

/* --warm 0.5 --secs 2 --samples 5 unless given */
static inline struct window window_args(int argc, char **argv)
{
	struct window w = {
		.warm = arg_double(argc, argv, "--warm", 0.5),
		.secs = arg_double(argc, argv, "--secs", 2.0),
		.samples = (int)arg_long(argc, argv, "--samples", 5),
	};

	return w;
}

#endif
