#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Concurrency: bench.rounds (default 2) rounds of tests/clients/stress-client.c "stress" for
# bench.secs seconds each (default 15): bench.workers processes (default 6) open, configure
# (random valid and invalid hw_params, RW and mmap), prepare, start, pause, drop, drain,
# reset, hw_free, write and read random sizes on every substream of hw:0,0 at once, while
# worker 0 makes uninterrupted 1 s capture and playback runs that must be exact (and, with
# bench.sine=HZ, e.g. against tools/vsnd-device --capture-freq=HZ, every captured sample on
# the sine). Between rounds the driver is unloaded and loaded again (rmmod must work: no
# reference left behind). Nothing may block for 20 s; the kernel log must stay clean.
# One KTAP subtest per round; bench.seed (default 1) makes the rounds reproducible (round N
# uses seed + N). Longer: --append bench.secs=60 --append bench.rounds=4 (about 5 minutes of QEMU time).
# bench.driver=c runs it against the C driver.
. /tests/lib.sh
. /tests/stress-lib.sh

ROUNDS=${BENCH_ROUNDS:-2}
SECS=${BENCH_SECS:-15}
WORKERS=${BENCH_WORKERS:-6}
SEED=${BENCH_SEED:-1}
ktap_plan $((ROUNDS + 1))
dmesg_mark stress-concurrency
i=0
while [ $i -lt "$ROUNDS" ]; do
	i=$((i + 1))
	ktap_subtest_begin "round $i (seed $((SEED + i)))"
	if ! stress_load || ! wait_for_card 10; then
		ktap_fail "the driver loads"
		ktap_subtest_end
		break
	fi
	[ $i = 1 ] && ktap_diag "$(cat /proc/asound/pcm)"
	timeout -s KILL $((SECS + 120)) stress-client stress hw:0,0 "$SECS" "$WORKERS" $((SEED + i)) \
		${BENCH_SINE:+--sine "$BENCH_SINE"} >/tmp/stress.out 2>&1
	rc=$?
	client_ktap /tmp/stress.out
	# Status 0 or 1 (some result failed: its line says which); anything else is a failure
	# of its own: 137, killed by the timeout (a hang); another, a crash.
	if [ $rc = 137 ]; then
		ktap_fail "stress-client ends" "killed after $((SECS + 120)) s"
	elif [ $rc -gt 1 ]; then
		ktap_fail "stress-client ends" "exit status $rc"
	fi
	# Leftover workers (a hang) keep the device open: say so, then try to end them.
	left=$(pidof stress-client)
	if [ -n "$left" ]; then
		for p in $left; do ktap_diag "left over: pid $p in $(cat /proc/$p/wchan 2>/dev/null)"; done
		kill -9 $left
		sleep 2
	fi
	if stress_unload 2>/tmp/rmmod.err && wait_card_gone 5; then
		ktap_ok "rmmod after the round"
	else
		ktap_fail "rmmod after the round" "$(cat /tmp/rmmod.err) refcnt $(cat /sys/module/$DRV/refcnt 2>/dev/null)"
		ktap_subtest_end
		break
	fi
	ktap_subtest_end
done
while [ $i -lt "$ROUNDS" ]; do
	i=$((i + 1))
	ktap_skip "round $i" "an earlier round failed to unload"
done
ktap_check "no warning in dmesg" dmesg_clean stress-concurrency
ktap_finish
exit $?
