#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# PulseAudio on the driver, checked by content (Documentation/integrity.rst, "Through a
# sound server"): Debian's PulseAudio runs in the guest as root, without a session bus,
# with module-alsa-card on card 0 (tsched=1 asked) and the native protocol; no
# module-suspend-on-idle, so the sink and the source run from start-up to the end. Run with
# tools/vsnd-device, whose stream 0 (playback) and stream 1 (capture) are substream 0 of
# hw:0,0 each way, and with the CPUID hypervisor bit off (PulseAudio drops tsched in any VM
# it detects; without the bit the driver's flags decide):
#   scripts/run-guest.sh --module src/virtio_snd_rs.ko --vsnd --streams=2 --timeout 300 \
#       --qemu-arg -cpu --qemu-arg max,hypervisor=off pulse-integrity.sh
# (tests/guest/pulse.sh is the real-time test on QEMU's device with the host loopback.)
# The server's setup is tests/guest/servers.sh's (pa_config with the knobs below,
# srv_check_up, pa_devices).
#
# Checks: the daemon answers; the sink and the source are our card's (alsa.card 0), s16le
# 2ch 48000 Hz, at volume 100% (set with pactl); the scheduling mode is tsched as asked, or
# period wake-ups because the driver sets BATCH (any other reason fails); playback: paplay
# of a file of 30 s of the pattern (integrity-client --write-file) to the sink reaches the
# device (armed with "lead": the sink plays silence until the player's data comes) every
# frame once, in order and unaltered, silence only before the first and after the last (the
# device's report, integrity-client --report-only); capture: pacat -r from the source,
# while the device produces the pattern, records it from wherever it starts to the end,
# every frame once, in order and unaltered (integrity-client --verify-file); PulseAudio's
# log (debug level) has no ALSA underrun or overrun over the whole run ("Underrun!",
# "Buffer underrun!", "Overrun!", "Buffer overrun!", "PCM state is XRUN") and none of its
# ALSA driver complaints ("exceptionally large", a failed snd_pcm_*() call, "Could not
# recover"); no kernel splat.
# Diagnostics: what PulseAudio chose (tsched or not and why, fragments, buffer, its log's
# buffer lines, /proc/asound/card0/pcm0p/sub0/hw_params and sw_params mid-stream), the sink
# input's and the source output's format, volume and resampler, the device's interrupts
# during the playback.
# PulseAudio's sample path is bit-exact here, which the content checks need (and confirm):
# one sample spec everywhere (s16le 2ch 48000 Hz: daemon.conf's defaults, the files' and
# the streams'), so no resampler (avoid-resampling = yes, one rate) and no remixing (equal
# channel maps; enable-remixing = no); software volume at 100% on the sink and the stream
# (PA_VOLUME_NORM: no scaling; flat-volumes = no), no dither from s16 to s16. For a slow
# guest (TCG, the gating kernel's detectors, a busy host) the daemon runs SCHED_RR
# (realtime-scheduling, as root: no rtkit) and module-alsa-card gets FRAGMENTS fragments of
# FRAG_FRAMES frames (see below) instead of its 4 of 25 ms: without both, it xruns every
# few seconds here.
#   bench.driver=rs|c    which driver (default rs; c for a reference run)
#   bench.pa_secs=N      seconds of the playback stream (default 30)
#   bench.pa_break=playback|capture|volume  corrupts one frame of the played file (after
#                        the pattern was written) or of the recording (before it is
#                        verified), or sets the sink's volume to 99% before the playback,
#                        to show that the content checks fail
#   bench.pa_fragments=N, bench.pa_frag_frames=F  module-alsa-card's fragments and their
#                        size in frames (default 8 and 4096; PulseAudio's own: 4 and 1200)
#   bench.pa_rt=0        no real-time scheduling (nice -11 only)
#   bench.pa_keep=1      prints the whole PulseAudio log at the end
. /tests/lib.sh
. /tests/servers.sh

if [ "${BENCH_DRIVER:-rs}" = c ]; then load_c_driver; else load_rs_driver; fi
wait_for_card 5 || exit 1
dmesg_mark pulse-integrity

RATE=$SRV_RATE
SRV_LOG=$PA/pa.log
# Latency for a slow guest. The driver sets BATCH, so PulseAudio runs on period wake-ups
# (no tsched) with a buffer of fragments * fragment_size, which it refills whole at each
# wake-up: a late wake-up costs nothing as long as it comes within (FRAGMENTS - 1) periods.
# Its defaults, 4 fragments of 25 ms (100 ms), with the daemon at nice -11 only, xrun every
# few seconds under TCG on the gating kernel (14 xruns, 9600 frames lost in one run);
# SCHED_RR alone made them pass one run. 8 fragments of 4096 frames (85 ms a period, 683 ms
# of buffer) stay within the driver's default limits (16 periods at most) and leave
# ~600 ms for a late wake-up on a loaded host, as PipeWire needed (pipewire.sh).
# With tsched (a driver without BATCH), the buffer would be tsched_buffer_size: 2 s.
FRAGMENTS=${BENCH_PA_FRAGMENTS:-8} FRAG_FRAMES=${BENCH_PA_FRAG_FRAMES:-4096}
PA_RT=yes PA_RT_PRIO=9
[ "${BENCH_PA_RT:-1}" = 1 ] || PA_RT=no
PA_CARD="fragments=$FRAGMENTS fragment_size=$((FRAG_FRAMES * 4))"
# The sample path: one sample spec everywhere, no remixing, volumes at 100% (see above).
PA_CONF="default-channel-map = front-left,front-right
default-fragments = $FRAGMENTS
default-fragment-size-msec = $((FRAG_FRAMES * 1000 / RATE))
avoid-resampling = yes
resample-method = trivial
enable-remixing = no
flat-volumes = no"
pa_config

# props KIND NAME: the "pactl list KINDs" block of NAME (or of index #NAME).
props() {
	pactl list "$1s" | awk -v n="$2" '
		/^[A-Z][A-Za-z ]+ #[0-9]+$/ { p = ($0 ~ "#" n "$") }
		$0 ~ "Name: " n "$" { p = 1 }
		p'
}

SECS=${BENCH_PA_SECS:-30}
BREAK=${BENCH_PA_BREAK:-}
PLAY_SEED=21 REC_SEED=22
# Capture: 6 s recorded, of which 2 s at least must be the pattern (the source's buffer,
# 680 ms, was filled before the arm: silence first).
REC_SECS=6 REC_MIN=$((RATE * 2))

ktap_plan 9

# 1. The daemon.
srv_check_up pa
pactl info | grep -E 'Server (Name|Version)|Default Sample|Default Channel' | sed 's/^/# /'

# 2-3. The sink and the source on card 0, s16le 2ch 48000 Hz, volume 100% (PA_VOLUME_NORM,
# 65536: no scaling on the sample path).
pa_list_devices
pa_devices
SINK=$PA_SINK SOURCE=$PA_SOURCE
[ -z "$SINK" ] || pactl set-default-sink "$SINK"
[ -z "$SOURCE" ] || pactl set-default-source "$SOURCE"
pactl set-sink-volume @DEFAULT_SINK@ 100%
pactl set-sink-mute @DEFAULT_SINK@ 0
pactl set-source-volume @DEFAULT_SOURCE@ 100%
pactl set-source-mute @DEFAULT_SOURCE@ 0
# on_card KIND NAME: KIND NAME is module-alsa-card's on ALSA card 0, s16le 2ch 48000 Hz,
# volume 100% on both channels, not muted.
on_card() {
	[ -n "$2" ] || { echo "no alsa_${1%s} in pactl list short ${1}s"; return 1; }
	_props=$(props "$1" "$2")
	echo "$_props" | grep -E 'Driver:|Sample Specification:|Channel Map:|Flags:|Mute:|Volume:|alsa\.(card|card_name|driver_name|device) =|device\.buffering|Latency:' | sed 's/^[[:space:]]*/# /'
	echo "$_props" | grep -q 'alsa\.card = "0"' || { echo "not on ALSA card 0"; return 1; }
	echo "$_props" | grep -q 'Sample Specification: s16le 2ch 48000Hz' || { echo "not s16le 2ch 48000Hz"; return 1; }
	echo "$_props" | grep -q 'Mute: no' || { echo "muted"; return 1; }
	_vol=$(echo "$_props" | grep -E '^[[:space:]]*Volume:')
	[ "$(echo "$_vol" | grep -o '65536 / 100%' | wc -l)" -eq 2 ] || { echo "volume not 100%: $_vol"; return 1; }
}
for kind in sink source; do
	if [ $kind = sink ]; then name=$SINK; else name=$SOURCE; fi
	out=$(on_card $kind "$name")
	rc=$?
	echo "$out" | sed '/^#/!s/^/# /'
	ktap_result $rc "$kind $name on card 0: s16le 2ch 48000Hz, volume 100%"
done

# 4. Scheduling. module-alsa-card asks for timer-based scheduling (tsched=1); PulseAudio 16
# drops it in a VM (CPUID's hypervisor bit: run with -cpu max,hypervisor=off, so that the
# driver decides) and for a PCM whose hw_params say SNDRV_PCM_INFO_BATCH (the position moves
# a period at a time), and then runs on period wake-ups. Both virtio drivers set BATCH. It
# fails if PulseAudio fell back for another reason (VM detection, no hrtimers, a hw_params
# refusal).
tsched=$(pa_lines 'Successfully enabled timer-based scheduling mode' | wc -l)
batch=$(pa_lines 'Disabling tsched mode since BATCH flag is set' | wc -l)
fallback=$(pa_lines 'Cannot enable timer-based scheduling, falling back' | wc -l)
other=$(pa_lines 'Disabling timer-based scheduling because' | wc -l)
if [ "$tsched" -ge 2 ] && [ "$other" -eq 0 ]; then
	why="timer-based on the sink and the source"
	ktap_ok "scheduling: tsched as asked, or what the driver's flags call for" "$why"
elif [ "$tsched" -eq 0 ] && [ "$fallback" -eq 2 ] && [ "$batch" -ge 2 ] && [ "$other" -eq 0 ]; then
	why="period wake-ups: the driver sets BATCH"
	ktap_ok "scheduling: tsched as asked, or what the driver's flags call for" "$why"
else
	why="timer-based $tsched/2, BATCH fallbacks $fallback/2, other fallbacks $other"
	pa_lines 'Disabling timer-based scheduling because' | sed 's/^/# /'
	ktap_fail "scheduling: tsched as asked, or what the driver's flags call for" "$why"
fi

# 5. Playback: SECS s of the pattern and 1 s of silence, played to the device's stream 0,
# armed with "lead" (the sink has been playing silence since start-up).
N=$((RATE * SECS))
integrity-client -n $N --pad $RATE --seed $PLAY_SEED --write-file /tmp/pattern.wav
[ "$BREAK" = playback ] && break_frame /tmp/pattern.wav $((N / 2)) bench.pa_break
# (bench.pa_break=volume: the sink at 99%, a software gain on every sample.)
[ "$BREAK" = volume ] && pactl set-sink-volume @DEFAULT_SINK@ 99% && echo "# bench.pa_break: sink volume 99%"
integrity-client --seed $PLAY_SEED --lead --arm-only playback >/tmp/arm.log 2>&1
arm_rc=$?
xr0=$(pa_lines 'Underrun!|Overrun!|PCM state is XRUN' | wc -l)
irq0=$(device_irqs)
t0=$(now_cs)
# (paplay takes the stream's sample spec from the file: s16le 2ch 48000 Hz.)
timeout $((SECS * 4 + 60)) paplay -d "$SINK" /tmp/pattern.wav >/tmp/play.log 2>&1 &
play=$!
# What the stream and the ALSA device run with, a third into the stream.
sleep $((SECS / 3))
props sink-input "$(pactl list short sink-inputs | awk '{print $1; exit}')" |
	grep -E 'Sample Specification:|Channel Map:|Volume:|Mute:|Resample method:|Buffer Latency:|Sink Latency:' |
	sed 's/^[[:space:]]*/# sink input: /'
srv_pcm_params p '' hw_params sw_params status
wait $play
play_rc=$?
dt=$(($(now_cs) - t0))
irqs=$(($(device_irqs) - irq0))
# paplay's drain ends when the stream's data is in the sink's buffer: the last frames reach
# the device within one buffer (680 ms) later, the file's 1 s of silence with them.
sleep 2
integrity-client -n $N --report-only playback >/tmp/report.log 2>&1
report_rc=$?
sed 's/^/# /' /tmp/arm.log
grep -v '^RESULT' /tmp/report.log
period=$(sed -n 's/^period_size: *//p' /proc/asound/card0/pcm0p/sub0/hw_params)
echo "# paplay: ${dt}0 ms for $SECS s of the pattern and 1 s of silence;" \
	"$irqs device interrupts (both streams), $((N / ${period:-1})) playback period(s) of ${period:-?} frames"
if [ $arm_rc -eq 0 ] && [ $play_rc -eq 0 ] && [ $report_rc -eq 0 ]; then
	ktap_ok "paplay of $SECS s of the pattern: every frame reaches the device once, in order, unaltered"
else
	sed 's/^/# paplay: /' /tmp/play.log
	pa_lines 'Underrun|Overrun|XRUN' | head -n 20 | sed 's/^/# pa.log: /'
	ktap_fail "paplay of $SECS s of the pattern: every frame reaches the device once, in order, unaltered" \
		"arm rc=$arm_rc, paplay rc=$play_rc, $(grep '^RESULT' /tmp/report.log)"
fi

# 6. Capture: the device produces the pattern on stream 1 from its next message; pacat -r
# from the source (running since start-up) for REC_SECS s of bytes.
integrity-client --seed $REC_SEED --arm-only capture >/tmp/arm.log 2>&1
arm_rc=$?
sed 's/^/# /' /tmp/arm.log
rm -f /tmp/rec.raw
t0=$(now_cs)
timeout $((REC_SECS * 4 + 30)) sh -c "pacat -r --raw -d '$SOURCE' --format=s16le --rate=$RATE --channels=2 \
	--channel-map=front-left,front-right 2>/tmp/rec.log | head -c $((RATE * 4 * REC_SECS)) >/tmp/rec.raw" &
rec=$!
sleep $((REC_SECS / 2))
props source-output "$(pactl list short source-outputs | awk '{print $1; exit}')" |
	grep -E 'Sample Specification:|Channel Map:|Volume:|Mute:|Resample method:|Buffer Latency:|Source Latency:' |
	sed 's/^[[:space:]]*/# source output: /'
srv_pcm_params c 'capture ' hw_params sw_params
wait $rec
rec_rc=$?
dt=$(($(now_cs) - t0))
got=$(wc -c </tmp/rec.raw 2>/dev/null || echo 0)
echo "# pacat -r: $got bytes in ${dt}0 ms (exit status $rec_rc)"
sed 's/^/# pacat: /' /tmp/rec.log
{ wav_header "$got" && cat /tmp/rec.raw; } >/tmp/rec.wav
[ "$BREAK" = capture ] && break_frame /tmp/rec.wav $((RATE * REC_SECS - RATE)) bench.pa_break
integrity-client -n $REC_MIN --seed $REC_SEED --verify-file /tmp/rec.wav >/tmp/verify.log 2>&1
verify_rc=$?
grep -v '^RESULT' /tmp/verify.log
if [ $arm_rc -eq 0 ] && [ $rec_rc -eq 0 ] && [ "$got" -eq $((RATE * 4 * REC_SECS)) ] && [ $verify_rc -eq 0 ]; then
	ktap_ok "pacat -r of the device's pattern: every frame recorded once, in order, unaltered"
else
	ktap_fail "pacat -r of the device's pattern: every frame recorded once, in order, unaltered" \
		"arm rc=$arm_rc, pacat rc=$rec_rc, $got bytes, $(grep '^RESULT' /tmp/verify.log)"
fi

# What PulseAudio chose: tsched or not and why (above), its fragments and buffer, the
# hw/sw parameters it set, and its scheduling.
pa_lines 'Disabling (tsched|timer-based)|Maximum hw buffer size|Set (buffer|period) size first' | tail -n 3 | sed 's/^/# /'
pa_lines 'alsa-(sink|source)\.c: (Successfully opened|Selected mapping|Cannot enable timer|Successfully enabled|Using [0-9.]+ fragments|Time scheduling watermark|setting avail_min|Driver does not support hardware volume)|SCHED_RR scheduling' |
	sed 's/^/# /'
for dir in sink source; do
	pa_lines "alsa-$dir\.c: Using [0-9.]+ fragments" | tail -n 1 |
		sed 's/.*Using \([0-9.]*\) fragments of size \([0-9]*\) bytes (\([0-9.]*\)ms), buffer size is \([0-9]*\) bytes (\([0-9.]*\)ms).*/\1 \2 \3 \4 \5/' |
		while read -r nf fs fms bs bms; do
			echo "# PulseAudio's ALSA $dir: $nf fragments of $((fs / 4)) frames ($fms ms), buffer $((bs / 4)) frames ($bms ms), tsched $([ "$tsched" -ge 2 ] && echo on || echo "off ($why)")"
		done
done

# 7-8. PulseAudio's log: ALSA xruns and ALSA driver complaints over the whole run.
XRUN_RE='Underrun!|Buffer underrun!|Overrun!|Buffer overrun!|PCM state is XRUN'
xr=$(pa_lines "$XRUN_RE" | wc -l)
echo "# ALSA xruns before the playback: $xr0"
echo "# stream-level underruns (a client not feeding fast enough, not the device): $(pa_lines 'Underrun on ' | wc -l)"
pa_lines 'Scheduling delay' | tail -n 10 | sed 's/^/# /'
if [ "$xr" -eq 0 ]; then
	ktap_ok "no ALSA underrun or overrun in PulseAudio's log"
else
	pa_lines "$XRUN_RE" | head -n 20 | sed 's/^/# /'
	ktap_fail "no ALSA underrun or overrun in PulseAudio's log" "$xr line(s)"
fi
# (Driver complaints: servers.sh's pa_check_complaints, with the known lines first.)
pa_check_complaints

pa_stop
[ "${BENCH_PA_KEEP:-0}" = 1 ] && sed 's/^/# pa.log: /' $SRV_LOG

# 9.
ktap_check "no warning in dmesg" dmesg_clean pulse-integrity
ktap_finish
exit $?
