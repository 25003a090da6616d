#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# PipeWire on the driver, without a session bus and without a session manager (WirePlumber
# needs udev's device database and a D-Bus for its ALSA monitor and device reservation):
# the daemon's own configuration creates the ALSA sink and source of card 0 as static
# adapter nodes (api.alsa.pcm.sink/source on hw:0,0), and the test links the client
# streams to them with pw-link, which is what a session manager would do. Audio is checked
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

# pcm_periods_max=64: see QUANTUM below.
if [ "${BENCH_DRIVER:-rs}" = c ]; then load_c_driver; else load_rs_driver pcm_periods_max=64; fi
wait_for_card 5 || exit 1
dmesg_mark pipewire

RATE=48000
PW=/tmp/pw
LOG=$PW/pw.log
mkdir -p $PW/run
chmod 700 $PW $PW/run
# The clients read client.conf (pw-cat: client-rt.conf) from PIPEWIRE_CONFIG_DIR; the
# daemon its own file, pipewire.conf (Debian's defaults are in the "pipewire" package).
export HOME=$PW XDG_RUNTIME_DIR=$PW/run PIPEWIRE_RUNTIME_DIR=$PW/run PIPEWIRE_CONFIG_DIR=$PW
unset DBUS_SESSION_BUS_ADDRESS DISPLAY
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
# The data threads of the daemon and of the clients run SCHED_FIFO (module-rt sets it
# itself as root; no rtkit, no D-Bus), ahead of the test's shell loops and the detectors'
# kernel threads (kmemleak's scan).
RT_MODULE='{ name = libpipewire-module-rt args = { rt.prio = 88 nice.level = -11 } flags = [ nofail ] }'
cat >$PW/pipewire.conf <<EOF
context.properties = {
    support.dbus = false
    core.daemon = true
    core.name = pipewire-0
    default.clock.rate = $RATE
    default.clock.allowed-rates = [ $RATE ]
    default.clock.quantum = $QUANTUM
    default.clock.min-quantum = $QUANTUM
    default.clock.max-quantum = $QUANTUM
    mem.allow-mlock = false
}
context.spa-libs = {
    audio.convert.* = audioconvert/libspa-audioconvert
    api.alsa.* = alsa/libspa-alsa
    support.* = support/libspa-support
}
context.modules = [
    $RT_MODULE
    { name = libpipewire-module-protocol-native }
    { name = libpipewire-module-access }
    { name = libpipewire-module-metadata }
    { name = libpipewire-module-spa-node-factory }
    { name = libpipewire-module-client-node }
    { name = libpipewire-module-adapter }
    { name = libpipewire-module-link-factory }
]
context.objects = [
    { factory = adapter
        args = {
            factory.name = api.alsa.pcm.sink
            node.name = virtio-sink
            media.class = Audio/Sink
            api.alsa.path = "hw:0,0"
            audio.format = S16LE
            audio.rate = $RATE
            audio.channels = 2
            audio.position = [ FL FR ]
            api.alsa.headroom = $HEADROOM
            adapter.auto-port-config = { mode = dsp monitor = false control = false position = preserve }
            priority.driver = 2000
        }
    }
    { factory = adapter
        args = {
            factory.name = api.alsa.pcm.source
            node.name = virtio-source
            media.class = Audio/Source
            api.alsa.path = "hw:0,0"
            audio.format = S16LE
            audio.rate = $RATE
            audio.channels = 2
            audio.position = [ FL FR ]
            adapter.auto-port-config = { mode = dsp monitor = false control = false position = preserve }
            priority.driver = 1000
        }
    }
]
EOF

for c in client client-rt; do
	cat >$PW/$c.conf <<EOF
context.properties = {
    support.dbus = false
    log.level = 2
    mem.allow-mlock = false
}
context.spa-libs = {
    audio.convert.* = audioconvert/libspa-audioconvert
    support.* = support/libspa-support
}
context.modules = [
    $RT_MODULE
    { name = libpipewire-module-protocol-native }
    { name = libpipewire-module-client-node }
    { name = libpipewire-module-adapter }
    { name = libpipewire-module-metadata }
]
EOF
done

now_cs() { cut -d' ' -f1 /proc/uptime | tr -d .; }

# link_ports OUTNODE INNODE: links OUTNODE's output ports to INNODE's input ports, FL to FL
# and FR to FR, once they exist (a client's ports appear after it connects). The first link
# is passive: a passive link does not make the nodes run, so that no frame goes through FL
# alone (FR silent) before the second link exists.
link_ports() {
	_i=0
	while [ $_i -lt 50 ]; do
		_o=$(timeout 5 pw-link -o 2>/dev/null | grep "^$1:" | sort)
		_n=$(timeout 5 pw-link -i 2>/dev/null | grep "^$2:" | sort)
		if [ -n "$_o" ] && [ -n "$_n" ]; then
			_ok=0 _passive=--passive
			for _ch in FL FR; do
				_op=$(echo "$_o" | grep "_$_ch\$" | head -n 1)
				_ip=$(echo "$_n" | grep "_$_ch\$" | head -n 1)
				[ -n "$_op" ] && [ -n "$_ip" ] && timeout 5 pw-link $_passive "$_op" "$_ip" && _ok=$((_ok + 1))
				_passive=
			done
			[ $_ok -eq 2 ] && return 0
		fi
		sleep 0.1
		_i=$((_i + 1))
	done
	echo "cannot link $1 to $2; outputs: $(timeout 5 pw-link -o 2>&1 | tr '\n' ' '); inputs: $(timeout 5 pw-link -i 2>&1 | tr '\n' ' ')"
	return 1
}

# break_frame FILE FRAME: flips one bit of the first sample of FRAME (S16 stereo) of the WAV
# FILE, whose data starts at byte 44 (bench.pw_break).
break_frame() {
	_off=$((44 + 4 * $2))
	_b=$(dd if="$1" bs=1 skip=$_off count=1 2>/dev/null | od -An -tu1 | tr -d ' ')
	printf "$(printf '\\%03o' $((_b ^ 1)))" | dd of="$1" bs=1 seek=$_off count=1 conv=notrunc 2>/dev/null
	echo "# bench.pw_break: frame $2 of $1 corrupted (byte $_off: $_b -> $((_b ^ 1)))"
}

# Without a session manager nobody sets the nodes' port configuration: adapters have no
# ports until then. adapter.auto-port-config gives them one port per channel (dsp mode).
AUTOPORT='adapter.auto-port-config = { mode = dsp monitor = false control = false position = preserve }'
SECS=${BENCH_PW_SECS:-30}
BREAK=${BENCH_PW_BREAK:-}
PLAY_SEED=11 REC_SEED=12
# Capture: 4 s recorded, of which 2 s at least must be the pattern.
REC_SECS=4 REC_MIN=$((RATE * 2))

ktap_plan 6

PIPEWIRE_DEBUG=3,spa.alsa:4 pipewire -c $PW/pipewire.conf >$LOG 2>&1 &
PW_PID=$!
t0=$(now_cs) up=1
while ! timeout 5 pw-link -i >/dev/null 2>&1; do
	if [ $(($(now_cs) - t0)) -gt 3000 ] || ! kill -0 $PW_PID 2>/dev/null; then
		up=0
		break
	fi
	sleep 0.2
done
i=$(($(now_cs) - t0))
i=$((i / 10))
if [ $up -eq 1 ]; then
	ktap_ok "pipewire starts as root without a session bus" "after $((i / 10)).$((i % 10)) s"
else
	tail -n 30 $LOG | sed 's/^/# /'
	PIPEWIRE_DEBUG=3 timeout 5 pw-link -i 2>&1 | tail -n 20 | sed 's/^/# pw-link: /'
	ktap_fail "pipewire starts as root without a session bus" "no answer after $((i / 10)) s"
	ktap_finish
	exit 1
fi

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
[ "$BREAK" = playback ] && break_frame /tmp/pattern.wav $((N / 2))
integrity-client --seed $PLAY_SEED --lead --arm-only playback >/tmp/arm.log 2>&1
arm_rc=$?
irq0=$(device_irqs)
t0=$(now_cs)
timeout $((SECS * 4 + 60)) pw-play --latency $QUANTUM -P "{ node.name = pattern-play $AUTOPORT }" /tmp/pattern.wav >/tmp/play.log 2>&1 &
play=$!
link_ports pattern-play virtio-sink >/tmp/link.log 2>&1
link_rc=$?
# What the ALSA device runs with, a third into the stream.
sleep $((SECS / 3))
for f in hw_params sw_params status; do
	sed "s/^/# $f: /" /proc/asound/card0/pcm0p/sub0/$f
done
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
[ -n "$period" ] || period=$(grep -o 'period frames [0-9]*' $LOG | tail -n 1 | grep -o '[0-9]*$')
echo "# device interrupts during the ${dt}0 ms of pw-play: $irqs; $((N / ${period:-1})) period(s) of ${period:-?} frames played"
if [ $arm_rc -eq 0 ] && [ $link_rc -eq 0 ] && [ $play_rc -eq 0 ] && [ $report_rc -eq 0 ]; then
	ktap_ok "pw-play of $SECS s of the pattern: every frame reaches the device once, in order, unaltered"
else
	sed 's/^/# /' /tmp/link.log /tmp/play.log
	grep -iE 'missed|xrun|not ready|underrun|overrun' $LOG | head -n 20 | sed 's/^/# pw.log: /'
	ktap_fail "pw-play of $SECS s of the pattern: every frame reaches the device once, in order, unaltered" \
		"arm rc=$arm_rc, link rc=$link_rc, pw-play rc=$play_rc, $(grep '^RESULT' /tmp/report.log)"
fi

# Capture: the device produces the pattern on stream 1 from its next message; pw-record
# from the source for REC_SECS s.
integrity-client --seed $REC_SEED --arm-only capture >/tmp/arm.log 2>&1
arm_rc=$?
sed 's/^/# /' /tmp/arm.log
timeout $((REC_SECS * 4 + 60)) pw-record --latency $QUANTUM -P "{ node.name = pattern-rec $AUTOPORT }" --format s16 --rate $RATE --channels 2 /tmp/rec.wav >/tmp/rec.log 2>&1 &
rec=$!
link_ports virtio-source pattern-rec >/tmp/link.log 2>&1
link_rc=$?
sleep $REC_SECS
for f in hw_params sw_params; do
	sed "s/^/# capture $f: /" /proc/asound/card0/pcm0c/sub0/$f
done
kill -INT $rec 2>/dev/null
wait $rec
# (pw-record 0.3.65 exits 1 when SIGINT ends it: its status says nothing; the file does.)
echo "# pw-record stopped by SIGINT, exit status $?"
grep -v acquire_rt /tmp/rec.log | sed 's/^/# pw-record: /'
[ "$BREAK" = capture ] && break_frame /tmp/rec.wav 40000
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
grep -E 'batch mode|buffer frames' $LOG | sed 's/^.*\] *//; s/^/# pw.log: /'
grep -o "key:'dither[^ ]*' val:'[^']*'" $LOG | sort | uniq -c | sed 's/^ */# audioconvert: /'
grep -hE 'mod\.rt|acquire_rt' $LOG /tmp/play.log /tmp/rec.log | sed 's/^.*\] *//' | sort | uniq -c | sed 's/^ */# rt: /'
for dir in playback capture; do
	line=$(grep "($dir): format:" $LOG | tail -n 1)
	batch=no
	grep -q 'batch mode' $LOG && batch=yes
	echo "# PipeWire's ALSA $dir node: period $(echo "$line" | sed -n 's/.*period frames \([0-9]*\).*/\1/p')," \
		"buffer $(echo "$line" | sed -n 's/.*buffer frames \([0-9]*\).*/\1/p')," \
		"headroom $(echo "$line" | sed -n 's/.*headroom \([0-9]*\).*/\1/p') frames, batch mode $batch," \
		"period wakeups $([ $batch = yes ] && echo on || echo off)"
done
echo "# period wakeups, measured: $irqs device interrupts during the playback of $((N / ${period:-1})) periods"

xr=$(grep -icE 'xrun|underrun|overrun' $LOG)
if [ "$xr" -eq 0 ]; then
	ktap_ok "no ALSA xrun in PipeWire's log"
else
	grep -iE 'xrun|underrun|overrun' $LOG | head -n 10 | sed 's/^/# /'
	ktap_fail "no ALSA xrun in PipeWire's log" "$xr line(s)"
fi
kill $PW_PID 2>/dev/null
wait $PW_PID 2>/dev/null
grep -vE 'batch|period|headroom|log_write|debug_hw_params' $LOG | grep -E '^\[[EWI]\]' | grep -v 'acquire_rt' | head -n 200 | sed 's/^/# pw.log: /'

ktap_check "no warning in dmesg" dmesg_clean pipewire
ktap_finish
exit $?
