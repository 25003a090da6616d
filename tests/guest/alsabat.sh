#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Round trips through the host's PulseAudio loopback (run with --backend pa): alsabat plays
# a sine on the playback stream, captures it on the capture stream, and checks its
# frequency with an FFT. Stereo only: mono round trips fail through QEMU plus PulseAudio
# whatever the driver (REFERENCE.md); pcm.sh checks mono by byte counts and durations.
#
# alsabat is sensitive to any glitch of the whole path (QEMU's audio timer, the host
# daemon, TCG): the C driver passes about 7 of 8 runs. That makes it a measure of the whole
# real-time path, not a gate: it runs in the comparison (scripts/compare.sh), for both
# drivers on the benchmark's kernel. Each configuration gets bench.tries (default 2) runs,
# each its own result, so that the table gives the pass rate; none is retried away. Every configuration uses its own frequency, so that audio left over from
# another run cannot pass for the right answer. alsabat supports U8, S16_LE, S24_3LE and S32_LE, not FLOAT; 96 kHz is
# tested with S32_LE (FLOAT playback is checked by duration in pcm.sh).
# bench.driver=c runs it against the C driver; bench.rsparams=K=V,K=V passes module
# parameters to the Rust driver.
. /tests/lib.sh

TRIES=${BENCH_TRIES:-2}
if [ "${BENCH_DRIVER:-rs}" = c ]; then load_c_driver; else load_rs_driver; fi
wait_for_card 5 || exit 1
dmesg_mark alsabat
cd /tmp || exit 1

# bat NAME RATE FORMAT FREQ
bat() {
	_pass=0 _i=0
	# The host loopback still holds the tail of the previous configuration's tone, and the
	# next run would find two peaks (seen with both drivers): a first, uncounted run in this
	# configuration flushes it. (Recording it away with arecord instead makes QEMU's
	# resampler add a side peak at 44.1 and 22.05 kHz, with both drivers.)
	alsabat -P hw:0,0 -C hw:0,0 -c 2 -r "$2" -f "$3" -F "$4" -n 1s >/dev/null 2>&1
	while [ $_i -lt "$TRIES" ]; do
		_i=$((_i + 1))
		if alsabat -P hw:0,0 -C hw:0,0 -c 2 -r "$2" -f "$3" -F "$4" -n 2s >/tmp/bat.log 2>&1; then
			_pass=$((_pass + 1))
			ktap_ok "$1, try $_i"
		else
			grep -E 'FAIL|rror|Detected' /tmp/bat.log | head -3 | sed 's/^/# /'
			ktap_fail "$1, try $_i"
		fi
	done
	echo "# bat-rate $1: $_pass/$TRIES"
}

ktap_plan $((5 * TRIES + 1))
bat "alsabat 48 kHz S16 stereo" 48000 S16_LE 1000
bat "alsabat 44.1 kHz S16 stereo" 44100 S16_LE 1000
bat "alsabat 48 kHz S32 stereo" 48000 S32_LE 1500
bat "alsabat 22.05 kHz U8 stereo" 22050 U8 500
bat "alsabat 96 kHz S32 stereo" 96000 S32_LE 3000
ktap_check "no warning in dmesg" dmesg_clean alsabat
ktap_finish
exit $?
