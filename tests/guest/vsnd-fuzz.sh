#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# A hostile device (issue 17): tools/vsnd-device in fuzz mode (tools/vsnd-device/src/fuzz.rs)
# lies, from a fixed seed, in a share of its control responses and I/O completions (status,
# the fields of the INFO replies, lengths, late, never, twice, wild used ids, scribbles on
# the driver's requests) and sends random events, while the driver is kept busy: probes
# (unbind/bind through sysfs, so that probe reads fuzzed INFO replies), streams in every
# state (open, hw_params, prepare, start, pause, drop, drain, close, xruns, an unbind while
# a stream runs), the control elements and jacks (amixer), a system sleep while a stream
# runs, rmmod and insmod. Every error is tolerated (the device lies), but no command may
# hang (each runs under a timeout; one killed by it fails its seed) and the kernel may not
# splat (dmesg_clean here, and the harness's scan with kmemleak at the end). Then, with
# fuzzing off: unbind and bind to the now well-behaved device, and one playback and one
# capture stream exact to the frame (integrity-client, the device's integrity check).
#
# The device's test control is reached through the virtio-serial port vsnd.ctl
# (scripts/run-guest.sh --vsnd): "fuzz on SEED RATE" / "fuzz off" / "fuzz" (statistics).
#   bench.fuzz_seeds="1 2 3"  the seeds, one after another (default 1 2 3)
#   bench.fuzz_rate=N         percent of the answers mutated (default 30)
#   bench.fuzz_rounds=N       rounds per seed (default 2): each has bench.fuzz_probes
#                             (default 4) quick unbind/bind cycles (probe, the card's
#                             registration and /proc, amixer info), then one more with
#                             the whole workload
#   bench.driver=c|rs         which driver (default rs)
# A failing seed is reproduced with the device's log ($BENCH_CACHE/vsnd-last.log on the
# host: every mutation is logged as "fuzz: seed S ctl|io|event #N ...").
# shellcheck disable=SC1091
. /tests/lib.sh

DRIVER=${BENCH_DRIVER:-rs}
if [ "$DRIVER" = c ]; then DRV=virtio_snd; else DRV=virtio_snd_rs; fi
SEEDS=$(echo "${BENCH_FUZZ_SEEDS:-1 2 3}" | tr ',' ' ')
RATE=${BENCH_FUZZ_RATE:-30}
ROUNDS=${BENCH_FUZZ_ROUNDS:-2}
PROBES=${BENCH_FUZZ_PROBES:-4}
NSEEDS=$(echo "$SEEDS" | wc -w)
T=20 # seconds a command may take

load() { if [ "$DRIVER" = c ]; then load_c_driver; else load_rs_driver; fi; }
oneline() { tr '\n' '|'; }

# ctl CMD: one test-control command through the port; prints the reply's first line.
ctl() {
	# shellcheck disable=SC2016 # the inner shell expands them
	timeout 10 sh -c 'exec 3<>"$1" && echo "$2" >&3 && head -n 1 <&3' _ "$PORT" "$1"
}

# t CMD...: runs CMD under the timeout (killed after $T s); every error is tolerated, a
# kill is counted in HUNG with the command. The output goes to /tmp/fuzz.out.
HUNG=0 HUNGCMDS='' RUNS=0 ERRS=0
t() {
	timeout -s KILL $T "$@" >/tmp/fuzz.out 2>&1 </dev/null
	_rc=$?
	RUNS=$((RUNS + 1))
	if [ $_rc = 137 ] || [ $_rc = 124 ]; then
		HUNG=$((HUNG + 1))
		HUNGCMDS="$HUNGCMDS [$*]"
		ktap_diag "killed after $T s: $*"
	elif [ $_rc != 0 ]; then
		ERRS=$((ERRS + 1))
	fi
	return $_rc
}

bound() { [ -e "/sys/bus/virtio/devices/$VDEV/driver" ]; }
unbind() { bound && t sh -c "echo $VDEV >/sys/bus/virtio/drivers/$DRV/unbind"; }
bind() { bound || t sh -c "echo $VDEV >/sys/bus/virtio/drivers/$DRV/bind"; }
card() { [ -e /proc/asound/card0 ] && [ -e /dev/snd/controlC0 ]; }

# The workload of one round on whatever card the (lying) device gave us.
streams() {
	for _s in 0 1; do
		[ -e "/dev/snd/pcmC0D0p" ] && t aplay -q -D "hw:0,0,$_s" -f S16_LE -r 48000 -c 2 -t raw \
			-s 4800 --buffer-size=4096 --period-size=1024 /dev/zero
		[ -e "/dev/snd/pcmC0D0c" ] && t arecord -q -D "hw:0,0,$_s" -f S16_LE -r 48000 -c 2 -t raw \
			-s 4800 --buffer-size=4096 --period-size=1024 /tmp/fuzz.raw
	done
	[ -e /dev/snd/pcmC0D0p ] && t pcm-client pause hw:0,0
	[ -e /dev/snd/pcmC0D0p ] && t pcm-client xrun hw:0,0
	[ -e /dev/snd/pcmC0D0c ] && t pcm-client overrun hw:0,0
	[ -e /dev/snd/pcmC0D0p ] && t pcm-client tiny hw:0,0 64 0.2
	# Other formats, rates and channel counts than the defaults: whatever the lies allow.
	[ -e /dev/snd/pcmC0D0p ] && t aplay -q -D hw:0,0 -f U8 -r 8000 -c 1 -t raw -s 800 /dev/zero
	[ -e /dev/snd/pcmC0D0p ] && t aplay -q -D hw:0,0 -f S32_LE -r 192000 -c 2 -t raw -s 9600 /dev/zero
	[ -e /dev/snd/pcmC0D0p ] && t pcm-client nowake hw:0,0 playback 512 0.2
}
controls() {
	t amixer -c 0 contents
	cat /tmp/fuzz.out >/tmp/fuzz.ctls
	# Every element: read it, then write a value (the first member's) and a bad one.
	for _id in $(sed -n 's/^numid=\([0-9]*\),.*/\1/p' /tmp/fuzz.ctls | head -n 64); do
		t amixer -c 0 cget numid="$_id"
		t amixer -c 0 cset numid="$_id" 1
		t amixer -c 0 cset numid="$_id" 0,0
	done
	t amixer -c 0 info
	for _f in /proc/asound/card0/pcm*/info /proc/asound/card0/pcm*/sub*/hw_params /proc/asound/cards; do
		[ -e "$_f" ] && cat "$_f" >/dev/null 2>&1
	done
}
# A stream running while the device goes away (unbind), then back.
unbind_under_load() {
	[ -e /dev/snd/pcmC0D0p ] || return 0
	aplay -q -D hw:0,0 -f S16_LE -r 48000 -c 2 -t raw -s 48000 /dev/zero >/dev/null 2>&1 &
	_p=$!
	sleep 0.3
	unbind
	# aplay must end by itself once the card is gone.
	_n=0
	while kill -0 $_p 2>/dev/null && [ $_n -lt $((T * 10)) ]; do
		sleep 0.1
		_n=$((_n + 1))
	done
	if kill -0 $_p 2>/dev/null; then
		HUNG=$((HUNG + 1))
		HUNGCMDS="$HUNGCMDS [aplay across an unbind]"
		ktap_diag "aplay still running $T s after the unbind"
		kill -9 $_p 2>/dev/null
	fi
	wait $_p 2>/dev/null
	bind
}

# A system sleep (suspend-to-idle with pm_test=devices, as suspend.sh) while a stream
# runs: the driver's freeze (STOP, RELEASE, the mixer values saved), the device reset and
# its restore and resume (event buffers, streams, mixer values and jack remaps written
# back), all against the lying device. The write to /sys/power/state must return.
sleep_cycle() {
	[ -w /sys/power/pm_test ] && grep -qw freeze /sys/power/state 2>/dev/null || return 0
	echo devices >/sys/power/pm_test
	[ -w /sys/module/suspend/parameters/pm_test_delay ] &&
		echo 1 >/sys/module/suspend/parameters/pm_test_delay
	_p=
	if [ -e /dev/snd/pcmC0D0p ]; then
		aplay -q -D hw:0,0 -f S16_LE -r 48000 -c 2 -t raw -d 3 /dev/zero >/dev/null 2>&1 &
		_p=$!
		sleep 0.5
	fi
	t sh -c 'echo freeze >/sys/power/state'
	[ -n "$_p" ] || return 0
	_n=0
	while kill -0 "$_p" 2>/dev/null && [ $_n -lt $((T * 10)) ]; do
		sleep 0.1
		_n=$((_n + 1))
	done
	if kill -0 "$_p" 2>/dev/null; then
		HUNG=$((HUNG + 1))
		HUNGCMDS="$HUNGCMDS [aplay across a system sleep]"
		ktap_diag "aplay still running $T s after the system sleep"
		kill -9 "$_p" 2>/dev/null
	fi
	wait "$_p" 2>/dev/null
}

# load, port, per seed (no hang, no splat), after fuzz off (bind, playback exact, capture
# exact, rmmod/insmod), dmesg
ktap_plan $((2 + 2 * NSEEDS + 4 + 1))
dmesg_mark fuzz
if load && wait_for_card 5; then
	ktap_ok "load driver ($DRIVER), fuzzing off"
else
	ktap_fail "load driver ($DRIVER), fuzzing off"
fi
VDEV=$(snd_vdev)
PORT=
for _n in /sys/class/virtio-ports/*/name; do
	[ -f "$_n" ] && [ "$(cat "$_n")" = vsnd.ctl ] && PORT=/dev/$(basename "$(dirname "$_n")")
done
r=$(ctl fuzz 2>&1)
if [ -n "$PORT" ] && [ "$r" = "ok: fuzz off" ]; then
	ktap_ok "control port vsnd.ctl" "$PORT, sound device $VDEV"
else
	ktap_fail "control port vsnd.ctl" "port '$PORT': '$r'"
fi

for seed in $SEEDS; do
	dmesg_mark "fuzz$seed"
	HUNG=0 HUNGCMDS='' RUNS=0 ERRS=0
	ktap_diag "seed $seed: $(ctl "fuzz on $seed $RATE")"
	round=0
	while [ $round -lt "$ROUNDS" ]; do
		round=$((round + 1))
		probe=0
		while [ $probe -lt "$PROBES" ]; do
			probe=$((probe + 1))
			unbind
			bind
			if card; then
				t amixer -c 0 info
				cat /proc/asound/card0/pcm*/info /proc/asound/cards >/dev/null 2>&1
			fi
		done
		unbind
		bind
		ktap_diag "seed $seed round $round: bound $(bound && echo yes || echo no), card $(card && echo yes || echo no): $(oneline </proc/asound/cards)"
		if card; then
			streams
			controls
			sleep_cycle
			unbind_under_load
		fi
	done
	# The module goes and comes back while the device lies.
	cover_save
	t rmmod $DRV
	load
	card && streams
	ktap_diag "seed $seed: $(ctl fuzz)"
	ktap_diag "seed $seed: $RUNS commands, $ERRS failed (tolerated), $HUNG killed by the timeout"
	if [ $HUNG = 0 ]; then
		ktap_ok "seed $seed: every command returned within $T s"
	else
		ktap_fail "seed $seed: every command returned within $T s" "$HUNG killed:$HUNGCMDS"
	fi
	ktap_diag "seed $seed: $(ctl "fuzz off")"
	# Late completions of the fuzzed run land in the next few seconds: they count too.
	sleep 3
	ktap_check "seed $seed: no splat" dmesg_clean "fuzz$seed"
done

# A well-behaved device again: the driver must work as new.
dmesg_mark after
ctl "fuzz off" >/dev/null
_mod_loaded $DRV || load
unbind
bind
wait_for_card 10 2>/dev/null
ktap_check "fuzz off: unbind and bind, card 0 back" card
# As integrity.sh: an xrun under TCG on a busy host is the host's doing; the client
# recovers and every frame must still be exact, with a gap only where the xrun was.
ktap_check "fuzz off: playback exact (integrity-client)" \
	timeout $T integrity-client -D hw:0,0 --allow-xruns --seed 1717 -n 24000 playback
ktap_check "fuzz off: capture exact (integrity-client)" \
	timeout $T integrity-client -D hw:0,0 --allow-xruns --seed 1718 -n 24000 capture
cover_save
rmmod $DRV
load
ktap_check "fuzz off: rmmod, insmod, card 0 back" wait_for_card 10
ktap_check "no splat after the fuzzing" dmesg_clean after
cover_save
ktap_finish
exit $?
