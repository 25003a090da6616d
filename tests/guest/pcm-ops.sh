#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Stream operations that aplay cannot script, with tests/clients/pcm-client.c: pause and
# resume mid-stream, playback underrun and capture overrun (EPIPE, then recovery), and
# module parameters that make no sense (a clear error, no card).
# bench.driver=c runs the stream checks against the C driver.
. /tests/lib.sh

DEV=hw:0,0
ktap_plan 6
if [ "${BENCH_DRIVER:-rs}" = c ]; then load_c_driver; else load_rs_driver; fi
wait_for_card 5 || exit 1
dmesg_mark ops

ktap_check "pause 500 ms mid-stream, position frozen, resume" pcm-client pause $DEV
ktap_check "playback underrun gives EPIPE, then prepare+write works" pcm-client xrun $DEV
ktap_check "capture overrun gives EPIPE, then prepare+read works" pcm-client overrun $DEV
ktap_check "no warning in dmesg" dmesg_clean ops

if [ "${BENCH_DRIVER:-rs}" = c ]; then
	ktap_skip "pcm_periods_min=1 is refused with a clear error" "Rust driver only"
	ktap_skip "a valid parameter set binds again" "Rust driver only"
else
	unload_driver
	dmesg_mark params
	insmod /lib/modules/rs/virtio_snd_rs.ko pcm_periods_min=1 2>/dev/null
	if [ ! -e /proc/asound/card0 ] &&
		dmesg | sed -n '/bench-mark: params/,$p' | grep -q 'pcm_periods_min/max must satisfy'; then
		ktap_ok "pcm_periods_min=1 is refused with a clear error"
	else
		dmesg | tail -5 | sed 's/^/# /'
		ktap_fail "pcm_periods_min=1 is refused with a clear error"
	fi
	rmmod virtio_snd_rs 2>/dev/null
	insmod /lib/modules/rs/virtio_snd_rs.ko pcm_period_us_min=500 pcm_periods_max=32
	ktap_check "a valid parameter set binds again" wait_for_card 5
fi
ktap_finish
exit $?
