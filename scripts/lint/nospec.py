#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""Spectre v1 lint: every view-id subscript in kmod/ is clamped.

A view id reaches kmod/ from userspace (struct eptgate_view, _access,
_window, _view_stats, ...).  uarg.c bounds-checks it, but a mispredicted
check still indexes the array speculatively, so every subscript of an
array indexed by a view id must be one of:

  - a literal:                           views[0]
  - the clamp itself:                    views[array_index_nospec(id, N)]
  - a variable clamped earlier in the
    same function:                       id = array_index_nospec(id, N);
  - the induction variable of an
    enclosing loop with a constant bound: for (id = 1; id < N; id++)
  - an index the kernel made, said so on the line or the one above:
                                         /* nospec: <why> */

Anything else is reported as FILE:LINE: message, and the exit status is 1.
Usage: nospec.py FILE...  (kmod/*.c kmod/*.h)
"""
import re
import sys

# arrays a view id indexes (struct eg_vm.views, struct eg_vcpu.eptp_list)
ARRAYS = ("views", "eptp_list")
SUBSCRIPT = re.compile(r"\b(%s)\s*\[" % "|".join(ARRAYS))
IDENT = re.compile(r"^[A-Za-z_]\w*$")
CONST = re.compile(r"^([A-Z_][A-Z0-9_]*|\d+)$")


def blank_comments(text):
    """Comments and strings as spaces (line structure kept); note lines
    that carry a nospec: annotation."""
    out, notes, i, n = [], set(), 0, len(text)
    while i < n:
        if text.startswith("/*", i) or text.startswith("//", i):
            end = text.find("*/", i + 2) + 2 if text[i + 1] == "*" else text.find("\n", i)
            if end < 2 or end == -1:
                end = n
            body = text[i:end]
            if re.search(r"\bnospec:\s*[@\w]", body):
                notes.add(text.count("\n", 0, i) + 1)
            out.append(re.sub(r"[^\n]", " ", body))
            i = end
        elif text[i] in "\"'":
            q, j = text[i], i + 1
            while j < n and text[j] != q:
                j += 2 if text[j] == "\\" else 1
            out.append(re.sub(r"[^\n]", " ", text[i:j + 1]))
            i = j + 1
        else:
            out.append(text[i])
            i += 1
    return "".join(out), notes


def matching(code, i, open_c, close_c):
    """Index just past the bracket that closes the one at code[i]."""
    depth = 0
    for j in range(i, len(code)):
        if code[j] == open_c:
            depth += 1
        elif code[j] == close_c:
            depth -= 1
            if depth == 0:
                return j + 1
    return len(code)


def function_start(code, pos):
    """Offset of the function body ('{' at column 0) that holds pos."""
    k = code.rfind("\n{", 0, pos)
    return k + 1 if k >= 0 else 0


def statement_end(code, i):
    """End of the statement that starts at code[i] (a loop body)."""
    while i < len(code) and code[i].isspace():
        i += 1
    if i < len(code) and code[i] == "{":
        return matching(code, i, "{", "}")
    depth = 0
    for j in range(i, len(code)):
        if code[j] in "([{":
            depth += 1
        elif code[j] in ")]}":
            depth -= 1
        elif code[j] == ";" and depth == 0:
            return j + 1
    return len(code)


def in_bounded_loop(code, start, pos, var):
    loop = re.compile(r"\bfor\s*\(\s*%s\s*=[^;]*;\s*%s\s*<\s*([^;\s)]+)\s*(;|&&)"
                      % (var, var))
    for m in loop.finditer(code, start, pos):
        if not CONST.match(m.group(1)):
            continue
        header_end = matching(code, code.index("(", m.start()), "(", ")")
        if m.start() < pos < statement_end(code, header_end):
            return True
    return False


def clamped_before(code, start, pos, var):
    return re.search(r"\b%s\s*=\s*array_index_nospec\s*\(\s*%s\b" % (var, var),
                     code[start:pos]) is not None


def check(path):
    text = open(path, encoding="utf-8").read()
    code, notes = blank_comments(text)
    errors = []
    for m in SUBSCRIPT.finditer(code):
        open_at = m.end() - 1
        expr = code[open_at + 1:matching(code, open_at, "[", "]") - 1].strip()
        line = code.count("\n", 0, m.start()) + 1
        if CONST.match(expr) or expr.startswith("array_index_nospec"):
            continue
        if line in notes or line - 1 in notes:
            continue
        if IDENT.match(expr):
            start = function_start(code, m.start())
            if (clamped_before(code, start, m.start(), expr) or
                    in_bounded_loop(code, start, m.start(), expr)):
                continue
        errors.append("%s:%d: %s[%s]: index not clamped by array_index_nospec() "
                      "(Spectre v1): clamp it, or say with /* nospec: why */ "
                      "that userspace does not choose it" % (path, line, m.group(1), expr))
    return errors


def main(argv):
    if len(argv) < 2:
        print(__doc__.strip().splitlines()[-1], file=sys.stderr)
        return 2
    errors = [e for path in argv[1:] for e in check(path)]
    for e in errors:
        print(e)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
