/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The host unit tests' one check, printed as TAP by the kernel's
 * tools/testing/selftests/kselftest.h: that of Debian's linux-source-6.1,
 * which the Makefile extracts under build/ (as it does checkpatch.pl), so
 * nothing of it is in this repository.  The tests count their checks as
 * they go: the plan comes at the end, which TAP allows.
 */
#ifndef EPTGATE_TESTS_KSFT_CHECK_H
#define EPTGATE_TESTS_KSFT_CHECK_H

#include "kselftest.h"

/*
 * One TAP line: "ok N - ..." if @cond holds, else "not ok N - ..." and a
 * "#   failed: COND (FILE:LINE)" line.  @fmt is a string literal.
 */
#define TAP_CHECK(cond, fmt, ...)					\
	do {								\
		int ok_ = !!(cond);					\
		ksft_test_result(ok_, "- " fmt "\n", ##__VA_ARGS__);	\
		if (!ok_)						\
			ksft_print_msg("  failed: %s (%s:%d)\n", #cond,	\
				       __FILE__, __LINE__);		\
	} while (0)

/* The plan, the totals, and exit: 0 if every check passed, else 1. */
static inline int tap_done(void)
{
	ksft_set_plan(ksft_test_num());
	ksft_finished();
	return KSFT_FAIL;	/* not reached: ksft_finished() exits */
}

#endif
