/* SPDX-License-Identifier: GPL-2.0 */
/* A minimal TAP producer for the host-side unit tests. */
#ifndef EPTGATE_TESTS_TAP_H
#define EPTGATE_TESTS_TAP_H

#include <stdio.h>

static int tap_n, tap_failed;

#define TAP_CHECK(cond, ...)						\
	do {								\
		int ok_ = !!(cond);					\
		tap_n++;						\
		if (!ok_)						\
			tap_failed++;					\
		printf("%sok %d - ", ok_ ? "" : "not ", tap_n);		\
		printf(__VA_ARGS__);					\
		printf("\n");						\
		if (!ok_)						\
			printf("#   failed: %s (%s:%d)\n", #cond,	\
			       __FILE__, __LINE__);			\
	} while (0)

static inline int tap_done(void)
{
	printf("1..%d\n", tap_n);
	return tap_failed ? 1 : 0;
}

#endif
