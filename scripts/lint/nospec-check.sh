#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# TAP: the Spectre v1 lint (nospec.py) on kmod/, on its own cases, and on
# kmod/ with one clamp taken out (it must then fail).
cd "$(dirname "$0")/../.." || exit 1
lint=scripts/lint/nospec.py
cases=tests/lint/nospec-cases.c
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
n=0 bad=0
result() {	# OK DESCRIPTION
	n=$((n + 1))
	if [ "$1" = 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; bad=1; fi
}

out=$(python3 "$lint" kmod/*.c kmod/*.h)
rc=$?
[ -n "$out" ] && echo "$out" | sed 's/^/# /'
result "$rc" "kmod/: every view-id subscript is clamped or says why not"

want=$(grep -n '/\* flag \*/' "$cases" | cut -d: -f1 | sort -n | tr '\n' ' ')
got=$(python3 "$lint" "$cases" | sed -n 's/^[^:]*:\([0-9]*\):.*/\1/p' | sort -n | tr '\n' ' ')
[ "$want" = "$got" ]
result $? "cases: reported lines [$got] are exactly the flagged ones [$want]"

# each clamp of kmod/ taken out in turn must be reported
i=0
while IFS=: read -r file line; do
	i=$((i + 1))
	rm -rf "$tmp/kmod" && cp -r kmod "$tmp/kmod"
	sed -i "${line}s/array_index_nospec(\([a-z_>.-]*\), EPTGATE_MAX_VIEWS)/\1/" "$tmp/kmod/${file#kmod/}"
	if cmp -s "$file" "$tmp/kmod/${file#kmod/}"; then
		result 1 "mutant $i ($file:$line): the clamp could not be taken out"
		continue
	fi
	! python3 "$lint" "$tmp"/kmod/*.c "$tmp"/kmod/*.h >/dev/null
	result $? "mutant $i: without the clamp at $file:$line the lint fails"
done < <(grep -n 'array_index_nospec(' kmod/*.c kmod/*.h | cut -d: -f1,2)
[ "$i" -gt 0 ]
result $? "kmod/ has clamps to take out ($i)"
echo "1..$n"
exit $bad
