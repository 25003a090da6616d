#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Sample-exact integrity (Documentation/integrity.rst): every frame that integrity-client
# writes reaches tools/vsnd-device once, in order and unaltered, and every frame that the
# device captures reaches the client so; a gap or silence only where the client was told of
# an xrun. The client arms the device's stream and reads its verdict through the device's
# control port (the virtio-serial port vsnd.ctl that scripts/run-guest.sh --vsnd adds).
#
# Run with 4 streams (2 playback and 2 capture substreams on hw:0,0) and 8 channels:
#   scripts/run-guest.sh --module src/virtio_snd_rs.ko \
#     --vsnd '--streams=4 --channels-max=8' --timeout 600 integrity.sh
#   bench.driver=rs|c    which driver (default rs; c for a reference run)
#   bench.rsparams=...   the Rust driver's parameters (load_rs_driver), e.g. poll=1: every
#                        case then runs in polling mode, and the two "other completion
#                        mode" cases run with the Polling Switch off (interrupts)
#   bench.integrity_only=REGEX  only the cases whose name matches (grep -E; "," is "|"); the others are
#                        reported as skipped
#   bench.strict_xruns=1 an xrun that a case did not ask for fails it (default: the client
#                        recovers and the case passes if no frame went wrong: under TCG on a
#                        busy host an xrun is the host's doing, and what the driver owes the
#                        application then is the EPIPE and a gap exactly there)
#   bench.integrity_ring=1  adds the cases of more periods in flight than a data virtqueue
#                        has room for (load the driver with rsparams=pcm_periods_max=256): one
#                        stream of 256 periods, each direction, and two playback streams of 48
#                        periods each (96 on the one tx queue). The virtqueues of
#                        vhost-user-snd-pci have 64 entries (QEMU's vq_size, whatever the
#                        backend's maximum of 1024), and a period is one entry (3 descriptors,
#                        in an indirect table: VIRTIO_RING_F_INDIRECT_DESC); the driver must
#                        hold back the periods the ring has no room for, and queue them as
#                        room comes back: the application sees no error and no xrun. At 8 kHz
#                        (8 ms periods), so that the slow guest keeps up without xruns; run
#                        with bench.strict_xruns=1
# Each case is one client run of 0.3 to 1 s of audio (3 s across a suspend); its output
# (the parameters, every event with its position, the verdict) is printed as diag lines.
# The two cases "... across a suspend" suspend the guest (suspend-to-idle, pm_test=devices
# as tests/guest/suspend.sh does) 1 s into a 3 s stream: the client resumes the stream
# (snd_pcm_resume) and every frame must still arrive once and in order; the device keeps
# the stream armed across the driver's reset (integrity-client --expect-suspend). A driver
# without SNDRV_PCM_INFO_RESUME (bench.driver=c) makes the client restart by prepare,
# which the client counts as an xrun (a gap allowed there). Skipped on a kernel without
# /sys/power/pm_test (CONFIG_PM_DEBUG).
. /tests/lib.sh

DRIVER=${BENCH_DRIVER:-rs}
DEV=hw:0,0
# A comma stands for "|" too, so that the selection fits scripts/test.sh's table, whose
# fields "|" separates.
ONLY=$(echo "${BENCH_INTEGRITY_ONLY:-}" | tr ',' '|')
ALLOW=--allow-xruns
[ "${BENCH_STRICT_XRUNS:-0}" = 1 ] && ALLOW=

# The single-client cases, one a line: NAME|integrity-client ARGUMENTS
# (every format is one that tools/vsnd-device offers: one the driver does not is a failure)
# Defaults of the client: S16_LE, 2 channels, 48 kHz, period 1024, buffer 4 periods, rw,
# writes of a period, 0.5 s, drained.
CASES="\
playback rw|playback
playback mmap|--access mmap playback
playback tiny writes of 8 frames|--chunk 8 -n 12000 playback
playback mono|-c 1 playback
playback stereo|-c 2 -n 14400 playback
playback 6 channels|-c 6 -n 14400 playback
playback U8|-f U8 -n 14400 playback
playback S8|-f S8 -n 14400 playback
playback S16_LE|-f S16_LE -n 14400 playback
playback U16_LE|-f U16_LE -n 14400 playback
playback S24_LE|-f S24_LE -n 14400 playback
playback S24_3LE|-f S24_3LE -n 14400 playback
playback S32_LE|-f S32_LE -n 14400 playback
playback U32_LE|-f U32_LE -n 14400 playback
playback FLOAT_LE|-f FLOAT_LE -n 14400 playback
playback FLOAT64_LE|-f FLOAT64_LE -n 14400 playback
playback 8000 Hz|-r 8000 --period 256 -n 4000 playback
playback 44100 Hz|-r 44100 --period 1024 -n 22050 playback
playback 96000 Hz|-r 96000 --period 2048 -n 48000 playback
playback 192000 Hz|-r 192000 --period 4096 -n 96000 playback
playback 12000 Hz (virtio 1.4)|-r 12000 --period 256 -n 6000 playback
capture 24000 Hz (virtio 1.4)|-r 24000 --period 512 -n 12000 capture
playback period 64 frames, 4 periods (8000 Hz)|-r 8000 --period 64 --periods 4 -n 4000 playback
playback period 8192 frames, 2 periods|--period 8192 --periods 2 -n 48000 playback
playback 16 periods of 256 frames|--period 256 --periods 16 playback
playback pause 300 ms mid-stream|--pause-at 12000:300 -n 24000 playback
playback drain of a partial last period|-n 10573 playback
playback drop at the end|--drop playback
playback reset while running|--reset-at 12000 -n 24000 playback
playback xrun and recovery|--xrun-at 12000:300 -n 24000 playback
capture rw|capture
capture mmap|--access mmap capture
capture xrun and recovery|--xrun-at 12000:300 -n 24000 capture
playback no period wakeups, on a server's timer|--timer 5000 --period 512 -n 24000 playback
playback no period wakeups, mmap|--timer 5000 --access mmap --period 512 -n 24000 playback
playback no period wakeups, xrun and recovery|--timer 5000 --period 512 --xrun-at 12000:300 -n 24000 playback
capture no period wakeups, on a server's timer|--timer 5000 --period 512 -n 24000 capture
capture no period wakeups, mmap|--timer 5000 --access mmap --period 512 -n 24000 capture
capture no period wakeups, xrun and recovery|--timer 5000 --period 512 --xrun-at 12000:300 -n 24000 capture
"
# bench.integrity_ring=1: more periods than the data virtqueue has entries (see above).
[ "${BENCH_INTEGRITY_RING:-0}" = 1 ] && CASES="${CASES}\
playback 256 periods of 64 frames, more than the ring (8000 Hz)|-r 8000 --period 64 --periods 256 -n 24000 playback
capture 256 periods of 64 frames, more than the ring (8000 Hz)|-r 8000 --period 64 --periods 256 -n 24000 capture
"
# Cases that are not one client: full duplex, two playback streams, the two cases in the
# other completion mode, playback and capture across a suspend.
N_SPECIAL=7
[ "${BENCH_INTEGRITY_RING:-0}" = 1 ] && N_SPECIAL=8
N_CASES=$(printf '%s' "$CASES" | grep -c '|')
# load, control port, the cases, the special cases, dmesg
ktap_plan $((2 + N_CASES + N_SPECIAL + 1))

uptime_cs() { cut -d' ' -f1 /proc/uptime | tr -d .; }

# show FILE: the client's output as diag lines (its own "# " lines as they are).
show() {
	sed "/^# /!s/^/# /" "$1"
}

# selected NAME: is the case selected (bench.integrity_only)? If not, says so (SKIP).
selected() {
	[ -z "$ONLY" ] && return 0
	echo "$1" | grep -qE "$ONLY" && return 0
	ktap_skip "$1" "not selected (bench.integrity_only=$ONLY)"
	return 1
}

# xruns FILE: " (N xruns)" from the client's RESULT line, if it saw any.
xruns() {
	_x=$(sed -n 's/^RESULT .* xruns=\([0-9]*\) .*/\1/p' "$1")
	[ -n "$_x" ] && [ "$_x" != 0 ] && echo " ($_x xrun(s))"
}

# A case "... no period wakeups ..." (integrity-client --timer) is a sound server's stream:
# the driver takes its completions when the client asks for the position, not from the
# device's interrupts. Its verdict also needs the device's interrupts during the run to be
# QUIET_IRQS or fewer: the control requests of one or two streams (SET_PARAMS, PREPARE,
# START, STOP, RELEASE), where interrupts for each period would be 47 a stream.
QUIET_IRQS=20
quiet_case() {
	case $1 in *"no period wakeups"*) return 0 ;; esac
	return 1
}

# c_skip NAME: the C driver offers no NO_PERIOD_WAKEUP (says so, SKIP).
c_skip() {
	[ "$DRIVER" = c ] && quiet_case "$1" || return 1
	ktap_skip "$1" "the C driver cannot disable period wakeups (no SNDRV_PCM_INFO_NO_PERIOD_WAKEUP)"
}

# irqs_note NAME IRQS: "" if the case may take IRQS device interrupts, else why not.
irqs_note() {
	quiet_case "$1" && [ "$2" -gt $QUIET_IRQS ] &&
		echo "$2 device interrupts while period wakeups were off (want <= $QUIET_IRQS)"
}

# client NAME ARGS...: one client run, one KTAP line.
client() {
	_name=$1
	shift
	selected "$_name" || return 0
	c_skip "$_name" && return 0
	_t0=$(uptime_cs)
	_i0=$(device_irqs)
	integrity-client -D "$DEV" $ALLOW "$@" >/tmp/integrity.out 2>&1
	_rc=$?
	_irqs=$(($(device_irqs) - _i0))
	_dt=$(($(uptime_cs) - _t0))
	ktap_diag "integrity-client -D $DEV $ALLOW $* ($_irqs device interrupts)"
	show /tmp/integrity.out
	_why=$(irqs_note "$_name" $_irqs)
	if [ $_rc -eq 0 ] && [ -n "$_why" ]; then
		ktap_fail "$_name" "$_why"
	elif [ $_rc -eq 0 ]; then
		ktap_ok "$_name" "$((_dt * 10)) ms$(xruns /tmp/integrity.out)"
	elif [ $_rc -eq 4 ]; then
		ktap_fail "$_name" "the driver does not offer the format"
	else
		ktap_fail "$_name" "exit status $_rc after $((_dt * 10)) ms"
	fi
}

# suspends FILE: ", N suspend(s) (resumed|restarted by prepare)" from the RESULT line.
suspends() {
	_s=$(sed -n 's/^RESULT .* suspends=\([0-9]*\) .*/\1/p' "$1")
	_r=$(sed -n 's/^RESULT .* restarts=\([0-9]*\) .*/\1/p' "$1")
	[ -n "$_s" ] || return 0
	if [ "${_r:-0}" = 0 ]; then
		echo ", $_s suspend(s), resumed"
	else
		echo ", $_s suspend(s), $_r restarted by prepare"
	fi
}

PM_STATE=/sys/power/state
PM_TEST=/sys/power/pm_test
PM_DELAY=/sys/module/suspend/parameters/pm_test_delay

# across_suspend NAME ARGS...: the client (3 s of audio, kept armed, a suspend expected) in
# the background; 1 s in, one suspend-to-idle with pm_test=devices (the guest resumes by
# itself after the devices' step, as in suspend.sh); one KTAP line from the client's exit
# status.
across_suspend() {
	_name=$1
	shift
	selected "$_name" || return 0
	if [ ! -w "$PM_TEST" ] || ! grep -qw freeze "$PM_STATE" 2>/dev/null; then
		ktap_skip "$_name" "no /sys/power/pm_test or no suspend-to-idle (kernel without CONFIG_PM_DEBUG): $(cat "$PM_STATE" 2>&1)"
		return 0
	fi
	echo devices >"$PM_TEST"
	[ -w "$PM_DELAY" ] && echo 1 >"$PM_DELAY"
	_t0=$(uptime_cs)
	integrity-client -D "$DEV" $ALLOW --expect-suspend -n 144000 "$@" \
		</dev/null >/tmp/integrity.out 2>&1 &
	_p=$!
	sleep 1
	_slept=0
	if ! echo freeze >"$PM_STATE" 2>/tmp/pm.err; then
		_slept=1
		ktap_diag "suspend failed: $(cat /tmp/pm.err)"
		dmesg | grep -iE 'PM: |freeze|virtio' | tail -n 20 | sed 's/^/# /'
	fi
	_ts=$(($(uptime_cs) - _t0))
	wait $_p
	_rc=$?
	_dt=$(($(uptime_cs) - _t0))
	echo none >"$PM_TEST"
	ktap_diag "integrity-client -D $DEV $ALLOW --expect-suspend -n 144000 $* (the suspend at $((_ts * 10)) ms, status $_slept)"
	show /tmp/integrity.out
	if [ $_rc -eq 0 ] && [ $_slept -eq 0 ]; then
		ktap_ok "$_name" "$((_dt * 10)) ms$(suspends /tmp/integrity.out)$(xruns /tmp/integrity.out)"
	elif [ $_rc -eq 0 ]; then
		ktap_fail "$_name" "the suspend failed (echo freeze >$PM_STATE)"
	else
		ktap_fail "$_name" "exit status $_rc after $((_dt * 10)) ms$(suspends /tmp/integrity.out)$(xruns /tmp/integrity.out)"
	fi
}

# together NAME "ARGS1" "ARGS2": two clients at once; ok if both pass.
together() {
	_name=$1
	selected "$_name" || return 0
	c_skip "$_name" && return 0
	_t0=$(uptime_cs)
	_i0=$(device_irqs)
	# shellcheck disable=SC2086 # ARGS are words
	integrity-client -D "$DEV" $ALLOW $2 >/tmp/integrity1.out 2>&1 &
	_p1=$!
	# shellcheck disable=SC2086
	integrity-client -D "$DEV" $ALLOW $3 >/tmp/integrity2.out 2>&1 &
	_p2=$!
	wait $_p1
	_rc1=$?
	wait $_p2
	_rc2=$?
	_irqs=$(($(device_irqs) - _i0))
	_dt=$(($(uptime_cs) - _t0))
	_why=$(irqs_note "$_name" $_irqs)
	ktap_diag "$_irqs device interrupts"
	ktap_diag "integrity-client -D $DEV $ALLOW $2 (exit status $_rc1):"
	show /tmp/integrity1.out
	ktap_diag "integrity-client -D $DEV $ALLOW $3 (exit status $_rc2):"
	show /tmp/integrity2.out
	if [ $_rc1 -eq 0 ] && [ $_rc2 -eq 0 ] && [ -n "$_why" ]; then
		ktap_fail "$_name" "$_why"
	elif [ $_rc1 -eq 0 ] && [ $_rc2 -eq 0 ]; then
		ktap_ok "$_name" "$((_dt * 10)) ms$(xruns /tmp/integrity1.out)$(xruns /tmp/integrity2.out)"
	else
		ktap_fail "$_name" "exit status $_rc1 and $_rc2 after $((_dt * 10)) ms"
	fi
}

# skip_all REASON: every case (and dmesg) skipped, so that the plan holds.
skip_all() {
	printf '%s' "$CASES" >/tmp/integrity.cases
	while IFS='|' read -r _n _a; do
		[ -n "$_n" ] && ktap_skip "$_n" "$1"
	done </tmp/integrity.cases
	_i=0
	while [ $_i -lt $N_SPECIAL ]; do
		ktap_skip "special case $((_i + 1))" "$1"
		_i=$((_i + 1))
	done
}

dmesg_mark integrity
load() {
	if [ "$DRIVER" = c ]; then load_c_driver; else load_rs_driver; fi && wait_for_card 5
}
if ! ktap_check "load driver ($DRIVER${BENCH_RSPARAMS:+, $BENCH_RSPARAMS})" load; then
	ktap_skip "control port vsnd.ctl" "no driver"
	skip_all "no driver"
	ktap_check "dmesg clean" dmesg_clean integrity
	ktap_finish
	exit $?
fi
quiet_run cat /proc/asound/pcm

port=
for _n in /sys/class/virtio-ports/*/name; do
	[ -f "$_n" ] && [ "$(cat "$_n")" = vsnd.ctl ] && port=/dev/$(basename "$(dirname "$_n")")
done
if [ -n "$port" ] && [ -c "$port" ]; then
	ktap_ok "control port vsnd.ctl" "$port"
else
	ktap_fail "control port vsnd.ctl" "no virtio-serial port named vsnd.ctl (run-guest.sh --vsnd, CONFIG_VIRTIO_CONSOLE)"
fi

# The single-client cases, each with its own seed.
seed=100
printf '%s' "$CASES" >/tmp/integrity.cases
while IFS='|' read -r name args; do
	[ -n "$name" ] || continue
	seed=$((seed + 1))
	# shellcheck disable=SC2086 # args are words
	client "$name" --seed $seed $args </dev/null
done </tmp/integrity.cases

together "full duplex: playback and capture at once" \
	"--seed 201 -n 24000 playback" "--seed 202 -n 24000 capture"
together "two playback streams at once" \
	"--seed 203 -n 24000 playback" "--seed 204 -c 1 -n 24000 playback"
# Both on a server's timer: one stream's pointer takes the other's completions from the
# shared tx queue, and the other's timer tells ALSA of them.
together "two playback streams at once, no period wakeups" \
	"--seed 207 --timer 5000 --period 512 -n 24000 playback" \
	"--seed 208 --timer 5000 --period 512 -c 1 -n 24000 playback"
# 48 periods each fit the ring alone, 96 do not: the tx queue is the streams' to share.
[ "${BENCH_INTEGRITY_RING:-0}" = 1 ] &&
	together "two playback streams of 48 periods, more than the ring together (8000 Hz)" \
		"--seed 205 -r 8000 --period 64 --periods 48 -n 16000 playback" \
		"--seed 206 -r 8000 --period 64 --periods 48 -c 1 -n 16000 playback"

# The other completion mode (module parameter poll: the default of each substream's
# Polling Switch): substream 0 of each direction switched, for one playback and one capture.
PLAY="iface=PCM,name=Playback Polling Switch,device=0,subdevice=0"
CAP="iface=PCM,name=Capture Polling Switch,device=0,subdevice=0"
case ",${BENCH_RSPARAMS:-}," in
*,poll=1,*) other=off mode=interrupts ;;
*) other=on mode=polling ;;
esac
if [ "$DRIVER" = c ]; then
	ktap_skip "playback in $mode mode (Polling Switch $other)" "the C driver has no Polling Switch"
	ktap_skip "capture in $mode mode (Polling Switch $other)" "the C driver has no Polling Switch"
else
	for dir in playback capture; do
		if [ $dir = playback ]; then elem=$PLAY; else elem=$CAP; fi
		if [ -n "$ONLY" ] && ! echo "$dir in $mode mode" | grep -qE "$ONLY"; then
			selected "$dir in $mode mode (Polling Switch $other)"
		elif quiet_run amixer -c 0 cset "$elem" $other; then
			client "$dir in $mode mode (Polling Switch $other)" -D hw:0,0,0 \
				--seed $((seed + 100)) --period 512 -n 24000 --xrun-at 12000:300 $dir
			quiet_run amixer -c 0 cset "$elem" $([ $other = on ] && echo off || echo on)
		else
			ktap_fail "$dir in $mode mode (Polling Switch $other)" "amixer cset '$elem' $other failed"
		fi
	done
fi

# Across a system sleep: every frame once and in order (the driver resumes the stream and
# sends the periods that were on the device again).
across_suspend "playback across a suspend" --seed 301 playback
across_suspend "capture across a suspend" --seed 302 capture

ktap_check "dmesg clean" dmesg_clean integrity
ktap_finish
exit $?
