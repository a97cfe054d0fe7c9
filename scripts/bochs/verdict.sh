#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# verdict.sh SERIAL_TXT -- judge a Bochs run from its serial console log.
#
# Counts TAP results ("ok N ..." / "not ok N ...", at the start of a line; several test
# programs may each print their own plan "1..N"; "# SKIP" results count as passed, "not ok
# ... # TODO" results are reported but not counted as failures) and fails on
#   - a kernel splat: Oops, WARNING, BUG, general protection fault, Kernel panic, lockdep
#     reports, kmemleak leaks, UBSAN, KASAN, KFENCE, Call Trace
#   - a stall: /init's watchdog fired ("=== WATCHDOG"); reported as "verdict: stall in
#     <the last test started>" (from the payload's "# running <test>" lines).  What follows
#     the marker (sysrq stack dumps) is not searched for splats.
#   - a missing "=== EPTGATE DONE" marker (timeout, hang, crash; the last test started is named;
#     with boot.sh's "=== HOST CPU DUMP" it is a stall, and each CPU's rip is shown; with its
#     "=== HOST: Bochs was blocked" line the emulator, not the guest, stopped)
#   - KFENCE asked for on the command line (kfence.sample_interval=N) but /init reports
#     another interval, or its stats say it is disabled
#   - zero TAP results, fewer results than the plans announced (a test program died), or a
#     TAP "Bail out!"
# Offending lines are printed with their line numbers.  The last line of output is always
# "<passed> passed, <failed> failed"; failed = "not ok" results + 1 per kind of problem above.
# Exit status: 0 when failed == 0, else 1 (2 for usage errors).
set -euo pipefail

[ "$#" -eq 1 ] || { echo "usage: $0 SERIAL_TXT" >&2; exit 2; }
log=$1
if [ ! -r "$log" ]; then
	echo "verdict: cannot read $log"
	echo "0 passed, 1 failed"
	exit 1
fi

# Lines are judged after dropping CRs.  Console output of user space and the kernel can
# interleave inside one line; a kernel record always starts with its "[ seconds.micros] "
# timestamp, so for TAP result lines and TAP comments ("# ...") only the text from the first
# timestamp on is searched for splats -- test descriptions may mention "BUG" or "WARNING".
tr -d '\r' <"$log" | awk '
function splat(s) {
	return s ~ /Oops: |Oops\[|[^a-zA-Z]Oops$/ ||
	       s ~ /WARNING: (CPU: [0-9]+ PID: [0-9]+|at [^ ])/ ||
	       s ~ /(^|\] |: )WARNING: / ||
	       s ~ /(^|\] |: )BUG: / || s ~ /kernel BUG at / ||
	       s ~ /general protection fault/ ||
	       s ~ /Kernel panic/ ||
	       s ~ /possible circular locking|inconsistent lock state|possible recursive locking|suspicious RCU usage/ ||
	       s ~ /kmemleak: [0-9]+ new suspected memory leak|unreferenced object 0x[0-9a-f]+ \(size/ ||
	       s ~ /UBSAN: / ||
	       s ~ /KASAN: / ||
	       s ~ /KFENCE: / ||
	       s ~ /Call Trace:?/
}
BEGIN { pass = 0; fail = 0; skip = 0; todo = 0; planned = 0; plans = 0; done = 0; nsplat = 0; nbail = 0
	wd = 0; hd = 0; eb = 0; nrip = 0; last = ""; kf_want = ""; kf_have = ""; kf_off = 0 }
{
	line = $0
	if (line ~ /^=== EPTGATE DONE/) done = 1
	if (!wd && match(line, /^# running [^ ]+/)) last = substr(line, 11, RLENGTH - 10)
	if (line ~ /^=== WATCHDOG/) { wd = 1; wdline = NR ": " line }
	if (line ~ /^=== HOST CPU DUMP/) hd = 1
	if (line ~ /^=== HOST: Bochs was blocked/ && match(line, /\([^)]*\)/)) { eb = 1; ebwhy = substr(line, RSTART, RLENGTH) }
	if (hd && (line ~ /^=== cpu[0-9]+ rip / || line ~ /^=== HOST CPU DUMP failed/)) rip[++nrip] = substr(line, 5)
	if (line ~ /^=== cmdline: / && match(line, /kfence\.sample_interval=[0-9]+/))
		kf_want = substr(line, RSTART + 23, RLENGTH - 23)
	if (match(line, /^=== kfence sample_interval=[0-9]+/)) kf_have = substr(line, 28, RLENGTH - 27)
	if (line ~ /^=== kfence stats: .*enabled: 0/) kf_off = 1
	if (wd) next	# the stall is the finding; sysrq stacks are no splats
	if (line ~ /^Bail out!/) bail[++nbail] = NR ": " line

	istap = 0
	if (match(line, /^(not )?ok [0-9]+([^0-9]|$)/)) {
		istap = 1
		if (line ~ /^not ok/) {
			if (line ~ /#[ \t]*[Tt][Oo][Dd][Oo]/) { todo++ }
			else { fail++; bad[++nbad] = NR ": " line }
		} else {
			pass++
			if (line ~ /#[ \t]*[Ss][Kk][Ii][Pp]/) skip++
		}
	} else if (match(line, /^1\.\.[0-9]+/)) {
		istap = 1
		planned += substr(line, 4, RLENGTH - 3) + 0
		plans++
	} else if (line ~ /^#/) {
		istap = 1
	}

	# the part of the line that may carry kernel output
	kern = line
	if (istap) {
		if (match(line, /\[ *[0-9]+\.[0-9]+\] /)) kern = substr(line, RSTART)
		else kern = ""
	}
	if (kern != "" && splat(kern)) {
		nsplat++
		if (nsplat <= 40) splatline[nsplat] = NR ": " line
	}
}
END {
	problems = 0
	if (nsplat) {
		problems++
		printf "FAIL: %d kernel splat line(s):\n", nsplat
		for (i = 1; i <= nsplat && i <= 40; i++) print "  " splatline[i]
		if (nsplat > 40) print "  ..."
	}
	if (wd) {
		problems++
		print "FAIL: the watchdog fired: " wdline
		printf "verdict: stall in %s\n", last != "" ? last : "the payload (no test started)"
	}
	if (!done && !wd) {	# (after the watchdog, /init powers off without DONE)
		problems++
		print "FAIL: no \"=== EPTGATE DONE\" marker (timeout, hang or crash before the end of /init)"
		if (eb) {
			printf "verdict: Bochs was blocked in the host during %s %s: the emulator stopped, not the guest\n", last != "" ? last : "the payload (no test started)", ebwhy
			for (i = 1; i <= nrip; i++) print "verdict:   " rip[i]
		} else if (hd) {
			printf "verdict: no end by TIMEOUT in %s (a stall, or too slow; the host dumped the CPUs)\n", last != "" ? last : "the payload (no test started)"
			for (i = 1; i <= nrip; i++) print "verdict:   " rip[i]
		} else if (last != "") printf "verdict: no end; the last test started was %s\n", last
	}
	if (kf_want != "" && kf_want + 0 > 0 && (kf_have != kf_want || kf_off)) {
		problems++
		printf "FAIL: kfence.sample_interval=%s on the command line, but /init saw %s%s\n", kf_want,
			kf_have != "" ? "sample_interval=" kf_have : "no KFENCE", kf_off ? " (stats: disabled)" : ""
	}
	total = pass + fail + todo
	if (total == 0) {
		problems++
		print "FAIL: no TAP results (ok N / not ok N) at all"
	} else if (total < planned) {
		problems++
		printf "FAIL: the plans announce %d tests, only %d results were printed\n", planned, total
	}
	if (nbail) {
		problems++
		print "FAIL: a test program bailed out:"
		for (i = 1; i <= nbail; i++) print "  " bail[i]
	}
	if (fail) {
		printf "FAIL: %d not ok result(s):\n", fail
		for (i = 1; i <= nbad; i++) print "  " bad[i]
	}
	printf "TAP: %d plan(s) for %d test(s); %d ok (%d skipped), %d not ok, %d todo\n", plans, planned, pass, skip, fail, todo
	printf "%d passed, %d failed\n", pass, fail + problems
	exit (fail + problems) ? 1 : 0
}'
