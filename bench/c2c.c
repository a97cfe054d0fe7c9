// SPDX-License-Identifier: GPL-2.0
/*
 * Core-to-core round trip between CPU 0 and CPU 1: one cache line passed
 * back and forth (ping-pong), median of 5 runs.  A diagnostic of the
 * machine's state for the benchmark's header: every two-core figure
 * scales with it, and on a shared host it moves (the vCPUs' placement).
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define ROUNDS 100000

static volatile uint64_t line[8] __attribute__((aligned(64)));

static void pin(int cpu)
{
	cpu_set_t s;

	CPU_ZERO(&s);
	CPU_SET(cpu, &s);
	if (sched_setaffinity(0, sizeof(s), &s)) {
		perror("sched_setaffinity");
		exit(2);
	}
}

static void *pong(void *arg)
{
	uint64_t i;

	(void)arg;
	pin(1);
	for (i = 1; i <= 6ull * ROUNDS; i++) {
		while (line[0] != 2 * i - 1)
			__builtin_ia32_pause();
		line[0] = 2 * i;
	}
	return NULL;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

int main(void)
{
	struct timespec a, b;
	double ns[6];
	pthread_t t;
	uint64_t i = 1;
	int r;

	pin(0);
	if (pthread_create(&t, NULL, pong, NULL))
		return 2;
	for (r = 0; r < 6; r++) {	/* the first is a warm-up */
		uint64_t end = i + ROUNDS;

		clock_gettime(CLOCK_MONOTONIC, &a);
		for (; i < end; i++) {
			line[0] = 2 * i - 1;
			while (line[0] != 2 * i)
				__builtin_ia32_pause();
		}
		clock_gettime(CLOCK_MONOTONIC, &b);
		ns[r] = ((b.tv_sec - a.tv_sec) * 1e9 + (b.tv_nsec - a.tv_nsec)) / ROUNDS;
	}
	pthread_join(t, NULL);
	qsort(ns + 1, 5, sizeof(ns[0]), cmp);
	printf("%.0f\n", ns[3]);
	return 0;
}
