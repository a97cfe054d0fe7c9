#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""json-schema-check.py -- check JSON documents against a JSON Schema, as TAP.

  json-schema-check.py SCHEMA [--def NAME] FILE...
      every line of each FILE that is not empty is one JSON document
  json-schema-check.py SCHEMA --serial SERIAL_TXT [--min N]
      the documents between "# eptgatectl-json begin NAME" and
      "# eptgatectl-json end" lines of a Bochs serial log, each checked
      against #/$defs/NAME; fewer than N documents (default 1) is a failure

The subset of JSON Schema 2020-12 that Documentation/eptgatectl.schema.json
uses: local $ref, type, properties, required, additionalProperties
(boolean), items, enum, const, minimum, maximum, pattern, oneOf.  Any
other keyword in the schema is an error, so that the subset cannot
silently ignore a constraint.  Python's standard library only; where the
jsonschema module is installed (Debian's python3-jsonschema, scripts/deps.sh),
the schema and every document are also checked by its Draft 2020-12
validator, and a document fails if either says no.
"""
import json
import re
import sys

KNOWN = {'$schema', '$id', '$defs', '$ref', 'title', 'description', 'type',
         'properties', 'required', 'additionalProperties', 'items', 'enum',
         'const', 'minimum', 'maximum', 'pattern', 'oneOf'}
TYPES = {
    'null': lambda v: v is None,
    'boolean': lambda v: isinstance(v, bool),
    'integer': lambda v: isinstance(v, int) and not isinstance(v, bool),
    'number': lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
    'string': lambda v: isinstance(v, str),
    'array': lambda v: isinstance(v, list),
    'object': lambda v: isinstance(v, dict),
}


class Invalid(Exception):
    pass


def resolve(root, ref):
    if not ref.startswith('#/'):
        raise Invalid('only local $ref: %s' % ref)
    node = root
    for part in ref[2:].split('/'):
        node = node[part]
    return node


def check(root, schema, v, path):
    unknown = set(schema) - KNOWN
    if unknown:
        raise Invalid('%s: schema keyword(s) not supported: %s' % (path, sorted(unknown)))
    if '$ref' in schema:
        check(root, resolve(root, schema['$ref']), v, path)
    t = schema.get('type')
    if t is not None:
        ts = t if isinstance(t, list) else [t]
        if not any(TYPES[x](v) for x in ts):
            raise Invalid('%s: %r is not of type %s' % (path, v, t))
    if 'const' in schema and (v != schema['const'] or type(v) is not type(schema['const'])):
        raise Invalid('%s: %r is not %r' % (path, v, schema['const']))
    if 'enum' in schema and v not in schema['enum']:
        raise Invalid('%s: %r not one of %s' % (path, v, schema['enum']))
    if TYPES['number'](v):
        if 'minimum' in schema and v < schema['minimum']:
            raise Invalid('%s: %r < minimum %r' % (path, v, schema['minimum']))
        if 'maximum' in schema and v > schema['maximum']:
            raise Invalid('%s: %r > maximum %r' % (path, v, schema['maximum']))
    if isinstance(v, str) and 'pattern' in schema and not re.search(schema['pattern'], v):
        raise Invalid('%s: %r does not match %s' % (path, v, schema['pattern']))
    if isinstance(v, dict):
        props = schema.get('properties', {})
        for k in schema.get('required', []):
            if k not in v:
                raise Invalid('%s: member "%s" missing' % (path, k))
        for k, x in v.items():
            if k in props:
                check(root, props[k], x, '%s.%s' % (path, k))
            elif schema.get('additionalProperties', True) is False:
                raise Invalid('%s: member "%s" not in the schema' % (path, k))
    if isinstance(v, list) and 'items' in schema:
        for i, x in enumerate(v):
            check(root, schema['items'], x, '%s[%d]' % (path, i))
    if 'oneOf' in schema:
        ok = []
        why = []
        for i, s in enumerate(schema['oneOf']):
            try:
                check(root, s, v, path)
                ok.append(i)
            except Invalid as e:
                why.append(str(e))
        if len(ok) != 1:
            raise Invalid('%s: matches %d of oneOf (%s)' % (path, len(ok), '; '.join(why) or 'several'))


def parse(text):
    def no_dup(pairs):
        d = {}
        for k, x in pairs:
            if k in d:
                raise ValueError('duplicate member "%s"' % k)
            d[k] = x
        return d
    return json.loads(text, object_pairs_hook=no_dup)


def full_validator(root):
    """jsonschema's Draft 2020-12 validator of @root, or None if not installed."""
    try:
        import jsonschema
    except ImportError:
        return None
    jsonschema.Draft202012Validator.check_schema(root)
    return jsonschema.Draft202012Validator(root)


def main(argv):
    if len(argv) < 3:
        sys.exit(__doc__)
    root = json.load(open(argv[1]))
    full = full_validator(root)
    args = argv[2:]
    docs = []   # (label, defname or None, text)
    minimum = 1
    if args[0] == '--serial':
        if '--min' in args:
            minimum = int(args[args.index('--min') + 1])
        name = None
        for n, line in enumerate(open(args[1], errors='replace'), 1):
            line = line.rstrip('\r\n')
            m = re.match(r'^# eptgatectl-json begin (\w+)$', line)
            if m:
                name = m.group(1)
            elif line == '# eptgatectl-json end':
                name = None
            elif name and line.strip():
                docs.append(('%s:%d (%s)' % (args[1], n, name), name, line))
        if len(docs) < minimum:
            print('not ok 1 - %s: %d eptgatectl JSON documents, expected at least %d' %
                  (args[1], len(docs), minimum))
            print('1..1')
            return 1
    else:
        defname = None
        if args[0] == '--def':
            defname = args[1]
            args = args[2:]
        for f in args:
            for n, line in enumerate(open(f), 1):
                if line.strip():
                    docs.append(('%s:%d' % (f, n), defname, line))
    failed = 0
    for i, (label, name, text) in enumerate(docs, 1):
        try:
            v = parse(text)
            sub = resolve(root, '#/$defs/' + name) if name else root
            check(root, sub, v, '$')
            if full:
                errs = list(full.evolve(schema=dict(sub, **{'$defs': root['$defs']})).iter_errors(v))
                if errs:
                    raise Invalid('jsonschema: %s' % errs[0].message)
            print('ok %d - %s matches the schema%s%s' % (i, label, ' (%s)' % name if name else '',
                                                         ' (also jsonschema)' if full else ''))
        except (Invalid, ValueError, KeyError) as e:
            failed += 1
            print('not ok %d - %s: %s' % (i, label, e))
    print('1..%d' % len(docs))
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
