#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# System sleep (suspend-to-idle) with streams open: the driver's freeze resets the device and
# deletes its virtqueues, restore finds them again, and the streams come back.
#
# The guest suspends with /sys/power/pm_test set to "devices": the kernel freezes the tasks,
# suspends every device (ALSA suspends the PCMs, then the virtio device's freeze runs), waits
# pm_test_delay (1 s here) and resumes them. The virtio device is reset in between, so QEMU's
# device forgets every stream's parameters; nothing else of the guest is lost.
#
# Checks, for the driver of bench.driver (rs, the default, or c):
#   - a suspend with no stream open; aplay and arecord work after it;
#   - playback, capture, and both at once, each across a suspend: the application exits 0,
#     arecord gets every byte it asked for. With our driver (SNDRV_PCM_INFO_RESUME) the
#     application's snd_pcm_resume() succeeds: aplay prints "Trying resume. Done.". The C
#     driver has no RESUME: the application falls back to snd_pcm_prepare();
#   - the same in polling mode (bench.driver=rs: poll=1);
#   - a prepared stream that has not started (aplay waiting for its first data) across a
#     suspend;
#   - with a device that has control elements, and forgets their values in its reset
#     (vsnd-device --controls=default --reset-controls): the values set before a suspend
#     are there after it;
#   - the kernel log has no warning, and the driver logged no error.
. /tests/lib.sh
. /tests/stress-lib.sh

PM_STATE=/sys/power/state
PM_TEST=/sys/power/pm_test
PM_DELAY=/sys/module/suspend/parameters/pm_test_delay
ktap_plan 10
stress_load
wait_for_card 5 || exit 1
if ! grep -qw freeze "$PM_STATE" 2>/dev/null || [ ! -w "$PM_TEST" ]; then
	ktap_diag "kernel without suspend-to-idle or PM_DEBUG: $(cat "$PM_STATE" 2>&1)"
	i=0
	while [ $i -lt 10 ]; do
		i=$((i + 1))
		ktap_skip "suspend $i" "no /sys/power/pm_test"
	done
	ktap_finish
	exit $?
fi
echo devices >"$PM_TEST"
[ -w "$PM_DELAY" ] && echo 1 >"$PM_DELAY"
dmesg_mark suspend

# sleep_once: one suspend/resume cycle; fails if the kernel refused or aborted it.
sleep_once() {
	if ! echo freeze >"$PM_STATE" 2>/tmp/pm.err; then
		echo "suspend failed: $(cat /tmp/pm.err)"
		dmesg | grep -iE 'PM: |freeze|virtio' | tail -n 20
		return 1
	fi
}

# resumed FILE: the application's stderr shows how it came back from the suspend.
resumed() {
	if grep -q 'Trying resume. Done.' "$1"; then
		echo resume
	elif grep -q 'Restarting stream. Done.' "$1"; then
		echo prepare
	else
		echo none
	fi
}

# across PLAY REC: aplay and/or arecord (4 s each) on hw:0,0, a suspend after 1 s.
# Checks their exit codes, arecord's byte count, and how they came back.
across() {
	_play=$1 _rec=$2 _bad=0 _ap= _ar=
	rm -f /tmp/ap.err /tmp/ar.err /tmp/rec.raw
	if [ "$_play" = 1 ]; then
		aplay -D hw:0,0 -f S16_LE -r 48000 -c 2 -t raw -d 4 /dev/zero 2>/tmp/ap.err &
		_ap=$!
	fi
	if [ "$_rec" = 1 ]; then
		arecord -D hw:0,0 -f S16_LE -r 48000 -c 2 -t raw -d 4 /tmp/rec.raw 2>/tmp/ar.err &
		_ar=$!
	fi
	sleep 1
	sleep_once || _bad=1
	if ! wait_exit 20 $_ap $_ar; then
		echo "still running 20 s after the resume"
		kill $_ap $_ar 2>/dev/null
		_bad=1
	fi
	if [ -n "$_ap" ]; then
		wait "$_ap" || { _bad=1; echo "aplay: exit status $?: $(cat /tmp/ap.err)"; }
		echo "aplay came back by $(resumed /tmp/ap.err)"
		[ "$DRIVER" = rs ] && [ "$(resumed /tmp/ap.err)" != resume ] && _bad=1
	fi
	if [ -n "$_ar" ]; then
		wait "$_ar" || { _bad=1; echo "arecord: exit status $?: $(cat /tmp/ar.err)"; }
		_n=$(wc -c </tmp/rec.raw 2>/dev/null || echo 0)
		echo "arecord came back by $(resumed /tmp/ar.err), $_n bytes"
		[ "$_n" = 768000 ] || _bad=1
		[ "$DRIVER" = rs ] && [ "$(resumed /tmp/ar.err)" != resume ] && _bad=1
	fi
	return $_bad
}

# after: aplay plays 1 s and arecord records exactly 1 s.
after() {
	aplay -q -D hw:0,0 -f S16_LE -r 48000 -c 2 -t raw -d 1 /dev/zero &&
		arecord -q -D hw:0,0 -f S16_LE -r 48000 -c 2 -t raw -d 1 /tmp/rec1.raw &&
		[ "$(wc -c </tmp/rec1.raw)" = 192000 ]
}

idle_cycle() { sleep_once && after; }
ktap_check "a suspend with no stream open; aplay and arecord work after it" idle_cycle
if [ "$DRIVER" = rs ]; then
	how="the applications resume (SNDRV_PCM_INFO_RESUME)"
else
	how="the applications come back"
fi
out=$(across 1 0 2>&1)
rc=$?
ktap_diag "$out"
ktap_result $rc "playback across a suspend: $how"
out=$(across 0 1 2>&1)
rc=$?
ktap_diag "$out"
ktap_result $rc "capture across a suspend: $how, every byte recorded"
out=$(across 1 1 2>&1)
rc=$?
ktap_diag "$out"
ktap_result $rc "full duplex across a suspend: $how"

if [ "$DRIVER" = rs ]; then
	if rmmod "$DRV" && stress_load poll=1 && wait_for_card 5; then
		out=$(across 1 1 2>&1)
		rc=$?
	else
		out="could not reload the driver with poll=1" rc=1
	fi
	ktap_diag "$out"
	ktap_result $rc "polling mode (poll=1): full duplex across a suspend"
	# The remaining checks need the driver back in its default mode: no reload, no checks.
	if ! { rmmod "$DRV" && stress_load && wait_for_card 5; }; then
		ktap_diag "could not reload the driver without poll=1"
		ktap_finish
		exit 1
	fi
else
	ktap_skip "polling mode (poll=1): full duplex across a suspend" "the C driver has no polling mode"
fi

# A stream held PREPARED across the suspend: aplay reading its data from a pipe that stays
# empty has done hw_params and prepare, and waits for its first period. After the resume
# the data comes, and aplay must play it.
bad=0
rm -f /tmp/fifo
mkfifo /tmp/fifo
aplay -D hw:0,0 -f S16_LE -r 48000 -c 2 -t raw /tmp/fifo 2>/tmp/ap.err &
ap=$!
exec 3>/tmp/fifo
sleep 1
st=$(cat /proc/asound/card0/pcm0p/sub0/status 2>/dev/null | head -n 1)
ktap_diag "before the suspend: $st"
sleep_once || bad=1
head -c 384000 /dev/zero >&3
exec 3>&-
wait_exit 15 $ap || { bad=1; kill $ap 2>/dev/null; }
wait $ap || { bad=1; ktap_diag "aplay: exit status $?: $(cat /tmp/ap.err)"; }
ktap_result $bad "a prepared stream that has not started yet plays after a suspend"

# The device's mixer values across a suspend (vsnd-device --controls=default
# --reset-controls: its reset takes them back to their defaults; the driver writes back what
# it read at freeze).
VOL="Master Playback Volume" SW="Master Playback Switch"
vol() { amixer -c 0 cget iface=MIXER,name="$1" 2>/dev/null | sed -n 's/.*: values=//p'; }
if amixer -c 0 controls 2>/dev/null | grep -q "name='$VOL'"; then
	v0=$(vol "$VOL") s0=$(vol "$SW")
	v1=$((v0 / 2 + 1))
	amixer -c 0 -q cset iface=MIXER,name="$VOL" "$v1" && amixer -c 0 -q cset iface=MIXER,name="$SW" off
	b="$(vol "$VOL")/$(vol "$SW")"
	sleep_once >/tmp/pm.out 2>&1
	slept=$?
	a="$(vol "$VOL")/$(vol "$SW")"
	if [ $slept -eq 0 ] && [ "$b" = "$v1/off" ] && [ "$a" = "$b" ]; then
		ktap_ok "mixer values survive a suspend" "$v0/$s0 set to $b, after: $a"
	else
		ktap_diag "$(cat /tmp/pm.out)"
		ktap_fail "mixer values survive a suspend" "suspend status $slept, $v0/$s0 set to $b (wanted $v1/off), after: $a"
	fi
else
	ktap_skip "mixer values survive a suspend" "the device has no control elements"
fi

ktap_check "after the suspends: aplay plays 1 s, arecord records 192000 bytes" after
ktap_check "no warning in dmesg" dmesg_clean suspend
errs=$(dmesg | sed -n '/bench-mark: suspend$/,$p' | grep -E "$DRV|virtio_snd" | grep -iE 'error|fail|timed out|not set up|not a head|broken|kept' | head -n 10)
if [ -z "$errs" ]; then
	ktap_ok "the driver logged no error across the suspends"
else
	ktap_diag "$errs"
	ktap_fail "the driver logged no error across the suspends"
fi
echo none >"$PM_TEST"
ktap_finish
exit $?
