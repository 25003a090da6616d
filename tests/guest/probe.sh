#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Probe of the Rust driver: the card and exactly the device's streams appear, and
# rmmod/insmod cycles leave no warning. Expects bench.streams=N (the device's stream count).
. /tests/lib.sh

streams=${BENCH_STREAMS:-2}
ktap_plan 5
dmesg_mark probe
load_rs_driver
ktap_check "module loads and card 0 appears" wait_for_card 5
ktap_diag "$(cat /proc/asound/cards)"
ktap_diag "$(cat /proc/asound/pcm)"

# QEMU alternates directions: stream 0 playback, 1 capture, 2 playback, ...
want_p=$(((streams + 1) / 2))
want_c=$((streams / 2))
got_p=$(grep -c 'playback' /proc/asound/pcm 2>/dev/null || true)
sub_p=$(sed -n 's/.*playback \([0-9]*\).*/\1/p' /proc/asound/pcm | head -n1)
sub_c=$(sed -n 's/.*capture \([0-9]*\).*/\1/p' /proc/asound/pcm | head -n1)
if [ "${sub_p:-0}" = "$want_p" ] && [ "${sub_c:-0}" = "$want_c" ] && [ "$got_p" -le 1 ]; then
	ktap_ok "/proc/asound/pcm lists $want_p playback and $want_c capture substreams"
else
	ktap_fail "/proc/asound/pcm lists $want_p playback and $want_c capture substreams" \
		"got playback=${sub_p:-none} capture=${sub_c:-none}"
fi
ktap_check "dmesg names the card" sh -c "dmesg | grep -q 'virtio_snd_rs.*card 0: .* $streams stream(s)'"

cycles_ok=1
i=0
while [ $i -lt 5 ]; do
	unload_driver || cycles_ok=0
	[ -e /proc/asound/card0 ] && cycles_ok=0
	load_rs_driver || cycles_ok=0
	wait_for_card 5 || cycles_ok=0
	i=$((i + 1))
done
ktap_result $((1 - cycles_ok)) "rmmod and insmod 5 times"
ktap_check "no warning in dmesg" dmesg_clean probe
ktap_finish
exit $?
