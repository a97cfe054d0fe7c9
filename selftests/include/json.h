/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A small JSON reader for the selftests: enough to check what eptgatectl
 * --json prints (RFC 8259; numbers are kept as unsigned/signed 64-bit
 * integers when they are integers, strings are decoded but \u escapes
 * outside ASCII are kept as '?').
 */
#ifndef SELFTEST_JSON_H
#define SELFTEST_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum json_type { JSON_NULL, JSON_BOOL, JSON_NUMBER, JSON_STRING, JSON_ARRAY,
		 JSON_OBJECT };

struct json {
	enum json_type type;
	bool b;
	bool is_int, negative;	/* JSON_NUMBER: an integer (u64 or -s64) */
	uint64_t u;		/* magnitude of an integer */
	double d;
	char *s;		/* JSON_STRING */
	size_t n;		/* JSON_ARRAY, JSON_OBJECT: members */
	struct json **items;	/* values */
	char **keys;		/* JSON_OBJECT: their names */
};

/* Parses all of @text; NULL on error, with a reason in @err. */
struct json *json_parse(const char *text, char *err, size_t errlen);
void json_free(struct json *j);

/* Member @key of object @j, or NULL (also if @j is NULL or no object). */
const struct json *json_get(const struct json *j, const char *key);
/* A non-negative integer's value; UINT64_MAX if @j is not one. */
uint64_t json_u64(const struct json *j);

#endif /* SELFTEST_JSON_H */
