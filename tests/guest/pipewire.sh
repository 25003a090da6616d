#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# PipeWire on the driver, without a session bus and without a session manager (WirePlumber
# needs udev's device database and a D-Bus for its ALSA monitor and device reservation):
# the daemon's own configuration creates the ALSA sink and source of card 0 as static
# adapter nodes (api.alsa.pcm.sink/source on hw:0,0), and the test links the client
# streams to them with pw-link, which is what a session manager would do (the setup:
# tests/guest/servers.sh's pw_config, srv_check_up and pw_link). Audio is checked
# by content (Documentation/integrity.rst): run with tools/vsnd-device, whose stream 0
# (playback) and stream 1 (capture) are substream 0 of hw:0,0 each way:
#   scripts/run-guest.sh --module src/virtio_snd_rs.ko --vsnd --streams=2 --timeout 300 pipewire.sh
#
# Checks: the daemon answers; both nodes exist; playback: pw-play of a file of 30 s of the
# pattern (integrity-client --write-file), linked to the sink, reaches the device (armed
# with "lead": the sink plays silence until the player's data comes) every frame once, in
# order and unaltered, silence only before the first and after the last (the device's
# report, integrity-client --report-only); capture: pw-record from the source, while the
# device produces the pattern, records it from wherever it starts to the end, every frame
# once, in order and unaltered, silence only before and after (integrity-client
# --verify-file); the daemon's log has no ALSA xrun over the whole run; no kernel splat.
# Diagnostics: what PipeWire chose for the ALSA device (its log at level 4 for spa.alsa,
# /proc/asound/card0/pcm0p/sub0/hw_params and sw_params mid-stream) and the device's
# interrupts per period during the playback (period wakeups on: about one a period).
# PipeWire's sample path is bit-exact with its defaults, which the content checks need (and
# confirm: a sample one step off fails them): S16 to F32 and back at volume 1.0, no dither
# (dither.method none, dither.noise 0: printed from its log), no resampling (one rate
# everywhere), FL and FR linked to FL and FR. For a slow guest the graph runs at a fixed
# quantum of 8192 frames, real-time (module-rt), and our driver is loaded with
# pcm_periods_max=64 (see QUANTUM below); the C driver keeps its 16 periods.
#   bench.driver=rs|c    which driver (default rs; c for a reference run)
#   bench.pw_secs=N      seconds of the playback stream (default 30)
#   bench.pw_break=playback|capture  corrupts one frame of the played file (after the
#                        pattern was written) or of the recording (before it is verified),
#                        to show that the content checks fail
. /tests/lib.sh
. /tests/servers.sh

# pcm_periods_max=64: see QUANTUM below.
if [ "${BENCH_DRIVER:-rs}" = c ]; then load_c_driver; else load_rs_driver pcm_periods_max=64; fi
wait_for_card 5 || exit 1
dmesg_mark pipewire

RATE=$SRV_RATE
SRV_LOG=$PW/pw.log
# Latency for a slow guest (TCG, the gating kernel's detectors, a busy host): PipeWire's
# defaults xrun every few seconds here, dropping or inserting frames. For a BATCH device
# (SNDRV_PCM_INFO_BATCH) PipeWire 0.3.65's ALSA plugin takes periods of half its default
# period, 512 frames, whatever api.alsa.period-size says, keeps period wakeups on, adds a
# period to the headroom, and takes the largest buffer: 16 periods (8192 frames) with the
# driver's default pcm_periods_max=16, which limits the graph's quantum to half of it,
# 4096. The driver is loaded with pcm_periods_max=64 (a 32768-frame buffer), the graph
# runs at a fixed quantum of QUANTUM frames (170 ms) and the sink keeps HEADROOM more
# frames in the buffer, so that a late wakeup of the daemon or of a client does not xrun.
# (A quantum of 16384, with a 65536-frame buffer, made the sink xrun every 2 s.)
QUANTUM=8192 HEADROOM=4096
PW_QUANTUM=$QUANTUM PW_HEADROOM=$HEADROOM
# The data threads of the daemon and of the clients run SCHED_FIFO (module-rt sets it
# itself as root; no rtkit, no D-Bus), ahead of the test's shell loops and the detectors'
# kernel threads (kmemleak's scan).
PW_RT=1
# The daemon's log: info, and spa.alsa at level 4 (debug: what it chose for the device).
PW_DEBUG=3,spa.alsa:4
pw_config

SECS=${BENCH_PW_SECS:-30}
BREAK=${BENCH_PW_BREAK:-}
PLAY_SEED=11 REC_SEED=12
# Capture: 4 s recorded, of which 2 s at least must be the pattern.
REC_SECS=4 REC_MIN=$((RATE * 2))

ktap_plan 6

srv_check_up pw

timeout 5 pw-link -i | sed 's/^/# inputs: /'
timeout 5 pw-link -o | sed 's/^/# outputs: /'
nodes=$(timeout 10 pw-dump 2>/dev/null | grep -cE '"node.name": "virtio-(sink|source)"')
if [ "$nodes" -ge 2 ]; then
	ktap_ok "ALSA sink and source nodes on card 0"
else
	ktap_fail "ALSA sink and source nodes on card 0" "$nodes of 2 nodes"
fi

# Playback: SECS s of the pattern and 1 s of silence (what the sink may cut when it stops
# after the player's drain), played to the device's stream 0, armed with "lead".
N=$((RATE * SECS))
integrity-client -n $N --pad $RATE --seed $PLAY_SEED --write-file /tmp/pattern.wav
[ "$BREAK" = playback ] && break_frame /tmp/pattern.wav $((N / 2)) bench.pw_break
integrity-client --seed $PLAY_SEED --lead --arm-only playback >/tmp/arm.log 2>&1
arm_rc=$?
irq0=$(device_irqs)
t0=$(now_cs)
timeout $((SECS * 4 + 60)) pw-play --latency $QUANTUM -P "{ node.name = pattern-play $PW_AUTOPORT }" /tmp/pattern.wav >/tmp/play.log 2>&1 &
play=$!
pw_link --passive pattern-play virtio-sink >/tmp/link.log 2>&1
link_rc=$?
# What the ALSA device runs with, a third into the stream.
sleep $((SECS / 3))
srv_pcm_params p '' hw_params sw_params status
wait $play
play_rc=$?
dt=$(($(now_cs) - t0))
irqs=$(($(device_irqs) - irq0))
integrity-client -n $N --report-only playback >/tmp/report.log 2>&1
report_rc=$?
sed 's/^/# /' /tmp/arm.log
grep -v '^RESULT' /tmp/report.log
period=$(sed -n 's/^period_size: *//p' /proc/asound/card0/pcm0p/sub0/hw_params)
# (The stream was closed when the sink stopped: the period size from PipeWire's log.)
[ -n "$period" ] || period=$(grep -o 'period frames [0-9]*' $SRV_LOG | tail -n 1 | grep -o '[0-9]*$')
echo "# device interrupts during the ${dt}0 ms of pw-play: $irqs; $((N / ${period:-1})) period(s) of ${period:-?} frames played"
if [ $arm_rc -eq 0 ] && [ $link_rc -eq 0 ] && [ $play_rc -eq 0 ] && [ $report_rc -eq 0 ]; then
	ktap_ok "pw-play of $SECS s of the pattern: every frame reaches the device once, in order, unaltered"
else
	sed 's/^/# /' /tmp/link.log /tmp/play.log
	grep -iE 'missed|xrun|not ready|underrun|overrun' $SRV_LOG | head -n 20 | sed 's/^/# pw.log: /'
	ktap_fail "pw-play of $SECS s of the pattern: every frame reaches the device once, in order, unaltered" \
		"arm rc=$arm_rc, link rc=$link_rc, pw-play rc=$play_rc, $(grep '^RESULT' /tmp/report.log)"
fi

# Capture: the device produces the pattern on stream 1 from its next message; pw-record
# from the source for REC_SECS s.
integrity-client --seed $REC_SEED --arm-only capture >/tmp/arm.log 2>&1
arm_rc=$?
sed 's/^/# /' /tmp/arm.log
timeout $((REC_SECS * 4 + 60)) pw-record --latency $QUANTUM -P "{ node.name = pattern-rec $PW_AUTOPORT }" --format s16 --rate $RATE --channels 2 /tmp/rec.wav >/tmp/rec.log 2>&1 &
rec=$!
pw_link --passive virtio-source pattern-rec >/tmp/link.log 2>&1
link_rc=$?
sleep $REC_SECS
srv_pcm_params c 'capture ' hw_params sw_params
kill -INT $rec 2>/dev/null
wait $rec
# (pw-record 0.3.65 exits 1 when SIGINT ends it: its status says nothing; the file does.)
echo "# pw-record stopped by SIGINT, exit status $?"
grep -v acquire_rt /tmp/rec.log | sed 's/^/# pw-record: /'
[ "$BREAK" = capture ] && break_frame /tmp/rec.wav 40000 bench.pw_break
integrity-client -n $REC_MIN --seed $REC_SEED --verify-file /tmp/rec.wav >/tmp/verify.log 2>&1
verify_rc=$?
grep -v '^RESULT' /tmp/verify.log
if [ $arm_rc -eq 0 ] && [ $link_rc -eq 0 ] && [ $verify_rc -eq 0 ]; then
	ktap_ok "pw-record of the device's pattern: every frame recorded once, in order, unaltered"
else
	sed 's/^/# /' /tmp/link.log /tmp/rec.log
	ktap_fail "pw-record of the device's pattern: every frame recorded once, in order, unaltered" \
		"arm rc=$arm_rc, link rc=$link_rc, $(grep '^RESULT' /tmp/verify.log)"
fi

# What PipeWire chose for the ALSA device, from its log (spa.alsa at level 4): "batch mode,
# period_size:N" (BATCH: half its default period, period wakeups left on; else it turns
# them off, "disable ALSA wakeups, we use a timer"), then each direction's parameters.
grep -E 'batch mode|buffer frames' $SRV_LOG | sed 's/^.*\] *//; s/^/# pw.log: /'
grep -o "key:'dither[^ ]*' val:'[^']*'" $SRV_LOG | sort | uniq -c | sed 's/^ */# audioconvert: /'
grep -hE 'mod\.rt|acquire_rt' $SRV_LOG /tmp/play.log /tmp/rec.log | sed 's/^.*\] *//' | sort | uniq -c | sed 's/^ */# rt: /'
for dir in playback capture; do
	line=$(grep "($dir): format:" $SRV_LOG | tail -n 1)
	batch=no
	grep -q 'batch mode' $SRV_LOG && batch=yes
	echo "# PipeWire's ALSA $dir node: period $(echo "$line" | sed -n 's/.*period frames \([0-9]*\).*/\1/p')," \
		"buffer $(echo "$line" | sed -n 's/.*buffer frames \([0-9]*\).*/\1/p')," \
		"headroom $(echo "$line" | sed -n 's/.*headroom \([0-9]*\).*/\1/p') frames, batch mode $batch," \
		"period wakeups $([ $batch = yes ] && echo on || echo off)"
done
echo "# period wakeups, measured: $irqs device interrupts during the playback of $((N / ${period:-1})) periods"

xr=$(grep -icE 'xrun|underrun|overrun' $SRV_LOG)
if [ "$xr" -eq 0 ]; then
	ktap_ok "no ALSA xrun in PipeWire's log"
else
	grep -iE 'xrun|underrun|overrun' $SRV_LOG | head -n 10 | sed 's/^/# /'
	ktap_fail "no ALSA xrun in PipeWire's log" "$xr line(s)"
fi
pw_stop
grep -vE 'batch|period|headroom|log_write|debug_hw_params' $SRV_LOG | grep -E '^\[[EWI]\]' | grep -v 'acquire_rt' | head -n 200 | sed 's/^/# pw.log: /'

ktap_check "no warning in dmesg" dmesg_clean pipewire
ktap_finish
exit $?
