#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# /eptgate/run.sh inside the emulated machine (busybox sh): load
# eptgate.ko, run the selftests, unload, and report the module's own steps
# as TAP.  The selftests print their own TAP.
n=0
failed=0
result() {	# result RC DESCRIPTION
	n=$((n + 1))
	if [ "$1" = 0 ]; then
		echo "ok $n - $2"
	else
		echo "not ok $n - $2"
		failed=$((failed + 1))
	fi
}

echo "# eptgate payload on $(uname -r)"
insmod ./eptgate.ko
rc=$?
result $rc "insmod eptgate.ko"
dmesg | grep 'eptgate' | tail -n 3 | sed 's/^/# /'
# where its code is, for boot.sh's host CPU dump of a stalled guest (teardown_test reloads it)
[ -r /sys/module/eptgate/sections/.text ] &&
	echo "# module eptgate .text $(cat /sys/module/eptgate/sections/.text) size $(cat /sys/module/eptgate/coresize)"
if [ $rc = 0 ]; then
	[ -c /dev/eptgate ]
	result $? "/dev/eptgate exists"
	./selftests/run.sh
	sleep 1	# let deferred work settle before unloading
	rmmod eptgate
	result $? "rmmod eptgate after all bindings are gone"
fi
echo "1..$n"
[ $failed = 0 ]
