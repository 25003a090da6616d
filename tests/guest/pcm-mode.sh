#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# The completion mode per stream: every substream has a PCM element "Playback Polling
# Switch" or "Capture Polling Switch" (iface PCM, its device and subdevice), whose default is
# the module parameter poll. On, the stream polls its completions from its next start (the device
# does not interrupt while it runs); off, the device interrupts. Checks, on QEMU's device
# (one playback and one capture stream):
#   - both elements exist, boolean, off with the default poll=0;
#   - 1 s of playback at 480-frame periods (100 periods) raises >= 20 device interrupts
#     with the element off, <= 12 with it on (only the control requests' interrupts);
#   - the capture element is the capture stream's own: off while playback's is on, and
#     1 s of capture then raises >= 20 interrupts;
#   - with poll=1 the elements start on;
#   - the kernel log has no warning.
. /tests/lib.sh

PLAY="iface=PCM,name=Playback Polling Switch"
CAP="iface=PCM,name=Capture Polling Switch"

# mode ELEM: on|off, or nothing
mode() { amixer -c 0 cget "$1" 2>/dev/null | sed -n 's/.*: values=\(on\|off\)$/\1/p'; }

# irqs_during PLAY|CAPTURE: device interrupts during 1 s at 480-frame periods; prints
# "failed" instead if the stream did not exit 0 (a count of a broken stream means nothing)
irqs_during() {
	_i0=$(device_irqs)
	if [ "$1" = PLAY ]; then
		aplay -q -D hw:0,0 -t raw -f S16_LE -r 48000 -c 2 --period-size=480 --buffer-size=1920 -d 1 /dev/zero >/tmp/irqs.out 2>&1
	else
		arecord -q -D hw:0,0 -t raw -f S16_LE -r 48000 -c 2 --period-size=480 --buffer-size=1920 -d 1 /dev/null >/tmp/irqs.out 2>&1
	fi
	_rc=$?
	_n=$(($(device_irqs) - _i0))
	if [ $_rc -ne 0 ]; then
		sed "s/^/# /" /tmp/irqs.out >&2
		echo "failed"
	else
		echo "$_n"
	fi
}
# at_least N MIN / at_most N MAX: a count that is a number and within the bound
at_least() { [ "$1" != failed ] && [ "$1" -ge "$2" ]; }
at_most() { [ "$1" != failed ] && [ "$1" -le "$2" ]; }

ktap_plan 6
dmesg_mark pcm-mode
load_rs_driver
wait_for_card 5 || exit 1
info=$(amixer -c 0 cget "$PLAY" 2>&1)
if echo "$info" | grep -q "type=BOOLEAN,access=rw" && [ "$(mode "$PLAY")/$(mode "$CAP")" = off/off ]; then
	ktap_ok "Playback and Capture Polling Switch elements, off by default"
else
	ktap_diag "$info"
	ktap_fail "Playback and Capture Polling Switch elements, off by default" "'$(mode "$PLAY")' '$(mode "$CAP")'"
fi

n=$(irqs_during PLAY)
if at_least "$n" 50; then ktap_ok "off: playback raises interrupts" "$n, want >= 50"; else ktap_fail "off: playback raises interrupts" "$n, want >= 50"; fi

amixer -c 0 -q cset "$PLAY" on
n=$(irqs_during PLAY)
if [ "$(mode "$PLAY")" = on ] && at_most "$n" 25; then
	ktap_ok "on: playback polls, no interrupts while it runs" "$n, want <= 25"
else
	ktap_fail "on: playback polls, no interrupts while it runs" "$(mode "$PLAY"), $n, want <= 25"
fi

n=$(irqs_during CAPTURE)
if [ "$(mode "$CAP")" = off ] && at_least "$n" 50; then
	ktap_ok "the capture stream keeps its own mode (interrupts)" "$n, want >= 50"
else
	ktap_fail "the capture stream keeps its own mode (interrupts)" "$(mode "$CAP"), $n, want >= 50"
fi

if rmmod virtio_snd_rs && load_rs_driver poll=1 && wait_for_card 5 &&
	[ "$(mode "$PLAY")/$(mode "$CAP")" = on/on ]; then
	ktap_ok "poll=1: both elements start on"
else
	ktap_fail "poll=1: both elements start on" "'$(mode "$PLAY")' '$(mode "$CAP")'"
fi
ktap_check "no warning in dmesg" dmesg_clean pcm-mode
ktap_finish
exit $?
