/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the module's pure-logic files (kmod/range.c, kmod/uarg.c,
 * kmod/ept_entry.h) need from the kernel, for building them in host
 * userspace: the unit tests and the fuzzer compile the same files.
 */
#ifndef EPTGATE_TESTS_KSHIM_H
#define EPTGATE_TESTS_KSHIM_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

typedef uint64_t u64;
typedef uint32_t u32;
typedef uint16_t u16;
typedef uint8_t u8;

#ifndef BIT_ULL
#define BIT_ULL(n) (1ULL << (n))
#endif

#ifndef offsetofend
#define offsetofend(TYPE, MEMBER) \
	(offsetof(TYPE, MEMBER) + sizeof(((TYPE *)0)->MEMBER))
#endif

#endif
