// SPDX-License-Identifier: GPL-2.0
/*
 * A small JSON reader for the selftests (json.h).  Recursive descent;
 * nesting is limited to 64 levels.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"

struct parser {
	const char *p;
	const char *start;
	char *err;
	size_t errlen;
	int depth;
};

static struct json *fail(struct parser *ps, const char *why)
{
	if (ps->err && !ps->err[0])
		snprintf(ps->err, ps->errlen, "%s at offset %zu", why,
			 (size_t)(ps->p - ps->start));
	return NULL;
}

static void skip_ws(struct parser *ps)
{
	while (*ps->p == ' ' || *ps->p == '\t' || *ps->p == '\n' ||
	       *ps->p == '\r')
		ps->p++;
}

static struct json *new_json(enum json_type type)
{
	struct json *j = calloc(1, sizeof(*j));

	if (j)
		j->type = type;
	return j;
}

static char *parse_string_raw(struct parser *ps)
{
	size_t cap = 16, len = 0;
	char *s = malloc(cap);

	if (!s || *ps->p != '"')
		goto bad;
	ps->p++;
	for (;;) {
		char c = *ps->p++;

		if (!c || (unsigned char)c < 0x20)
			goto bad;
		if (c == '"')
			break;
		if (c == '\\') {
			c = *ps->p++;
			switch (c) {
			case '"': case '\\': case '/': break;
			case 'b': c = '\b'; break;
			case 'f': c = '\f'; break;
			case 'n': c = '\n'; break;
			case 'r': c = '\r'; break;
			case 't': c = '\t'; break;
			case 'u': {
				unsigned int v = 0, i;

				for (i = 0; i < 4; i++) {
					char h = *ps->p++;

					v <<= 4;
					if (h >= '0' && h <= '9')
						v |= h - '0';
					else if (h >= 'a' && h <= 'f')
						v |= h - 'a' + 10;
					else if (h >= 'A' && h <= 'F')
						v |= h - 'A' + 10;
					else
						goto bad;
				}
				c = v < 0x80 ? (char)v : '?';
				break;
			}
			default:
				goto bad;
			}
		}
		if (len + 2 > cap) {
			char *t = realloc(s, cap *= 2);

			if (!t)
				goto bad;
			s = t;
		}
		s[len++] = c;
	}
	s[len] = 0;
	return s;
bad:
	free(s);
	fail(ps, "bad string");
	return NULL;
}

static struct json *parse_value(struct parser *ps);

static bool add_member(struct json *j, char *key, struct json *v)
{
	struct json **items = realloc(j->items, (j->n + 1) * sizeof(*items));
	char **keys;

	if (!items)
		return false;
	j->items = items;
	if (j->type == JSON_OBJECT) {
		keys = realloc(j->keys, (j->n + 1) * sizeof(*keys));
		if (!keys)
			return false;
		j->keys = keys;
		j->keys[j->n] = key;
	}
	j->items[j->n++] = v;
	return true;
}

static struct json *parse_container(struct parser *ps, bool object)
{
	struct json *j = new_json(object ? JSON_OBJECT : JSON_ARRAY), *v;
	char close = object ? '}' : ']';
	char *key = NULL;

	if (!j)
		return fail(ps, "out of memory");
	ps->p++;
	skip_ws(ps);
	if (*ps->p == close) {
		ps->p++;
		return j;
	}
	for (;;) {
		skip_ws(ps);
		if (object) {
			key = parse_string_raw(ps);
			if (!key)
				goto bad;
			if (json_get(j, key)) {
				free(key);
				fail(ps, "duplicate key");
				goto bad;
			}
			skip_ws(ps);
			if (*ps->p++ != ':') {
				free(key);
				fail(ps, "':' expected");
				goto bad;
			}
		}
		v = parse_value(ps);
		if (!v || !add_member(j, key, v)) {
			free(key);
			json_free(v);
			goto bad;
		}
		key = NULL;
		skip_ws(ps);
		if (*ps->p == ',') {
			ps->p++;
			continue;
		}
		if (*ps->p == close) {
			ps->p++;
			return j;
		}
		fail(ps, object ? "',' or '}' expected" : "',' or ']' expected");
		goto bad;
	}
bad:
	json_free(j);
	return NULL;
}

static struct json *parse_number(struct parser *ps)
{
	const char *q = ps->p;
	struct json *j;
	char *end;

	if (*q == '-')
		q++;
	if (*q < '0' || *q > '9')
		return fail(ps, "bad value");
	if (*q == '0' && q[1] >= '0' && q[1] <= '9')
		return fail(ps, "leading zero");
	j = new_json(JSON_NUMBER);
	if (!j)
		return fail(ps, "out of memory");
	j->d = strtod(ps->p, &end);
	j->negative = *ps->p == '-';
	while (*q >= '0' && *q <= '9')
		q++;
	j->is_int = end == q;
	if (j->is_int)
		j->u = strtoull(ps->p + j->negative, NULL, 10);
	ps->p = end;
	return j;
}

static struct json *parse_value(struct parser *ps)
{
	struct json *j;

	if (++ps->depth > 64)
		return fail(ps, "nested too deep");
	skip_ws(ps);
	switch (*ps->p) {
	case '{':
	case '[':
		j = parse_container(ps, *ps->p == '{');
		break;
	case '"':
		j = new_json(JSON_STRING);
		if (j) {
			j->s = parse_string_raw(ps);
			if (!j->s) {
				free(j);
				j = NULL;
			}
		}
		break;
	case 't':
	case 'f':
	case 'n': {
		static const char *const words[] = { "true", "false", "null" };
		int i;

		j = NULL;
		for (i = 0; i < 3; i++) {
			size_t l = strlen(words[i]);

			if (strncmp(ps->p, words[i], l))
				continue;
			j = new_json(i == 2 ? JSON_NULL : JSON_BOOL);
			if (j)
				j->b = i == 0;
			ps->p += l;
			break;
		}
		if (!j)
			fail(ps, "bad literal");
		break;
	}
	default:
		j = parse_number(ps);
	}
	ps->depth--;
	return j;
}

struct json *json_parse(const char *text, char *err, size_t errlen)
{
	struct parser ps = { .p = text, .start = text, .err = err,
			     .errlen = errlen };
	struct json *j;

	if (err && errlen)
		err[0] = 0;
	j = parse_value(&ps);
	if (!j)
		return NULL;
	skip_ws(&ps);
	if (*ps.p) {
		json_free(j);
		return fail(&ps, "trailing characters");
	}
	return j;
}

void json_free(struct json *j)
{
	size_t i;

	if (!j)
		return;
	for (i = 0; i < j->n; i++) {
		json_free(j->items[i]);
		if (j->keys)
			free(j->keys[i]);
	}
	free(j->items);
	free(j->keys);
	free(j->s);
	free(j);
}

const struct json *json_get(const struct json *j, const char *key)
{
	size_t i;

	if (!j || j->type != JSON_OBJECT)
		return NULL;
	for (i = 0; i < j->n; i++)
		if (!strcmp(j->keys[i], key))
			return j->items[i];
	return NULL;
}

uint64_t json_u64(const struct json *j)
{
	if (!j || j->type != JSON_NUMBER || !j->is_int || j->negative)
		return UINT64_MAX;
	return j->u;
}
