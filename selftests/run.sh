#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Run the eptgate selftests that sit next to this script (POSIX sh, works
# with busybox).  Each *_test prints its own TAP (kselftest style); this
# script prints "# running <name>" before each one and a summary at the
# end, and exits non-zero if any test failed.
#
#   run.sh [name_test ...]        (default: every *_test, fixed order)
#
# Environment:
#   EPTGATE_TEST_TIMEOUT  seconds per test if `timeout` exists (default 900,
#                         0 = no timeout)

dir=$(cd "$(dirname "$0")" && pwd)

# Fixed order: ABI checks first, then the switching tests from the
# simplest to the most involved.  Tests not listed run afterwards, sorted.
ORDER="negative_args_test vmfunc_ud_test vmfunc_switch_test"
ORDER="$ORDER readonly_write_test exec_fallback_test event_test lazy_fill_test"
ORDER="$ORDER window_test"
ORDER="$ORDER huge_window_test"
ORDER="$ORDER multi_vcpu_test coherence_test dirty_log_test trampoline_test"
ORDER="$ORDER tramp_tx_test list_test"
# Last: it unloads and loads the module again.
ORDER="$ORDER teardown_test"

if [ $# -gt 0 ]; then
	tests="$*"
else
	tests=""
	for t in $ORDER; do
		[ -x "$dir/$t" ] && tests="$tests $t"
	done
	for f in "$dir"/*_test; do
		[ -x "$f" ] || continue
		t=${f##*/}
		case " $ORDER " in
		*" $t "*) ;;
		*) tests="$tests $t" ;;
		esac
	done
fi

timeout_s=${EPTGATE_TEST_TIMEOUT:-900}
use_timeout=0
if [ "$timeout_s" != 0 ] && command -v timeout >/dev/null 2>&1; then
	use_timeout=1
fi

pass=0
fail=0
skip=0
failed=""

for t in $tests; do
	echo "# running $t"
	if [ ! -x "$dir/$t" ]; then
		echo "# $t: not found"
		fail=$((fail + 1))
		failed="$failed $t"
		continue
	fi
	# The KVM selftests library loads the guest code from the binary's own
	# path (argv[0]), so run it by absolute path.
	if [ $use_timeout = 1 ]; then
		timeout "$timeout_s" "$dir/$t"
	else
		"$dir/$t"
	fi
	rc=$?
	case $rc in
	0)	pass=$((pass + 1)); echo "# $t: PASS" ;;
	4)	skip=$((skip + 1)); echo "# $t: SKIP" ;;
	*)	fail=$((fail + 1)); failed="$failed $t"
		echo "# $t: FAIL (exit $rc)" ;;
	esac
done

echo "# eptgate selftests: pass:$pass fail:$fail skip:$skip"
# A program that dies on an assertion prints no "not ok" of its own: one
# TAP result per failed program, so that the run counts it.
if [ -n "$failed" ]; then
	n=0
	for t in $failed; do
		n=$((n + 1))
		echo "not ok $n - $t exited with a failure"
	done
	echo "1..$n"
fi
[ $fail -eq 0 ]
