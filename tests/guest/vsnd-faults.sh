# SPDX-License-Identifier: GPL-2.0
#
# Fault injection with tools/vsnd-device (Documentation/fault-matrix.rst): for every fault
# that the device can inject, the driver must fail the operation with a sensible errno, log
# why, never oops or hang, and work again once the fault is gone.
#
# The device's control socket is on the host, out of the guest's reach, so every fault is
# armed when the device starts (scripts/run-guest.sh --vsnd-exec; the GUEST_RUNS entry
# "vsnd-faults" of scripts/test.sh has the exact list). Each fault has a stream of its own
# ("stream N count 1"): the faults never meet, and the stream's next use shows whether it
# recovered. Streams alternate (0 playback, 1 capture, 2 playback, ...): stream N is
# substream N/2 of PCM 0 in its direction (hw:0,0,N/2). The PCM_INFO faults (no stream)
# hit the first loads of the module, one per load.
#
# Device: --streams=50, and these faults (count 1 unless said otherwise):
#   PCM_INFO: ctl-status IO_ERR, ctl-short 20, ctl-drop (in this order)
#   stream  0  ctl-status BAD_MSG on SET_PARAMS    2  ctl-status NOT_SUPP on SET_PARAMS
#           4  ctl-status IO_ERR on SET_PARAMS     6  ctl-status 0x1234 on SET_PARAMS
#           8  ctl-short 2 on PREPARE             10  ctl-used-len 0 on PREPARE
#          12  ctl-used-len 65536 on SET_PARAMS   14  ctl-delay 1500 on SET_PARAMS
#          16  ctl-drop on PREPARE                18  ctl-status IO_ERR on START
#          20  ctl-drop on START                  22  ctl-delay 500 on STOP
#          24  ctl-delay 1500 on STOP             26  ctl-status BAD_MSG on RELEASE
#          28  ctl-drop on RELEASE                30  io-status IO_ERR
#          32  io-short 4                         34  io-used-len 0
#          36  io-used-len 99999                  38  io-delay 50 (out of order)
#          40  io-delay 5000                      42  io-drop
#          44  io-latency 192000 (every message)
#          46  events 100..500 ms after its first START: xrun 99, period 99,
#              jack-connected 99, code 0x9999, ctl-notify 7
#          48  ctl-delay 400 on STOP (two PREPAREs wait for that answer at once)
#   capture 1  ctl-status IO_ERR on START          3  io-status IO_ERR
#           5  io-used-len 2056 (count 4)          7  io-short 2056, armed 600 ms after START
#   bench.driver=c|rs   which driver (default rs; c: the reference run)

# shellcheck disable=SC2016 # expect evaluates its conditions, written in single quotes
# shellcheck disable=SC1091
. /tests/lib.sh

DRIVER=${BENCH_DRIVER:-rs}
if [ "$DRIVER" = c ]; then DRV=virtio_snd; else DRV=virtio_snd_rs; fi
# A kernel log line of the driver about its device: "virtio_snd_rs virtio1: ...".
DRVLINE="$DRV virtio[0-9]+: "

load() { if [ "$DRIVER" = c ]; then load_c_driver; else load_rs_driver; fi; }
now() { cut -d' ' -f1 /proc/uptime; }
sub() { echo $(($1 / 2)); }
# The kernel log from marker $1 on, and the driver's lines of it.
log_after() { dmesg | sed -n "/bench-mark: $1\$/,\$p"; }
drv_log() { log_after "$1" | grep -E "$DRVLINE"; }
oneline() { tr '\n' '|'; }

# run CMD...: runs CMD (30 s at most); OUT, RC and DT (seconds) tell how it went.
run() {
	_t0=$(now)
	OUT=$(timeout 30 "$@" 2>&1)
	RC=$?
	DT=$(echo "$_t0 $(now)" | awk '{printf "%.2f", $2 - $1}')
	# Without aplay's banner and hw_params dump.
	ktap_diag "[$_t0] $* -> exit $RC after ${DT}s: $(echo "$OUT" |
		awk '/^FAIL/ || !/^(Playing|Recording) |^[A-Z_]+: |^HW Params/' | tail -n 3 | oneline)"
}
slower() { echo "$DT $1" | awk '{exit !($1 >= $2)}'; }
# play SID FRAMES: aplay of FRAMES frames of silence, 48 kHz S16 stereo, buffer 16384
# frames, 4 periods; aplay starts the stream when the buffer is full, and recovers an xrun
# with prepare ("underrun!!!"). (ALSA gives up with EIO on a stream that makes no progress
# for 1.1 buffers: large buffers keep a slow guest on a busy host clear of that.)
play() {
	run aplay -D "hw:0,0,$(sub "$1")" -t raw -f S16_LE -r 48000 -c 2 -s "$2" \
		--buffer-size=16384 --period-size=4096 /dev/zero
}
# capture SID FRAMES: arecord of FRAMES frames (buffer 16384 frames, periods of 1024) into
# /tmp/rec.raw, SIZE bytes; arecord recovers an xrun ("overrun!!!").
capture() {
	rm -f /tmp/rec.raw
	run arecord -D "hw:0,0,$(sub "$1")" -f S16_LE -r 48000 -c 2 -s "$2" \
		--buffer-size=16384 --period-size=1024 -t raw /tmp/rec.raw
	SIZE=$(wc -c </tmp/rec.raw 2>/dev/null || echo 0)
}
# nz N: the non-zero bytes of the Nth 2048-byte block of /tmp/rec.raw (half a period).
nz() { dd if=/tmp/rec.raw bs=2048 skip="$1" count=1 2>/dev/null | tr -d '\000' | wc -c; }

# expect NAME CONDITION: ok if the shell condition holds.
expect() {
	if eval "$2"; then ktap_ok "$1"; else ktap_fail "$1" "want: $2"; fi
}

# check_log NAME MARK RS-ERE C-ERE: since MARK, the driver under test logged a line that
# matches its ERE, and the kernel log has no splat.
check_log() {
	_pat=$3
	[ "$DRIVER" = c ] && _pat=$4
	_l=$(drv_log "$2")
	_hit=$(echo "$_l" | grep -E "$DRVLINE.*($_pat)" | head -n 1 | sed 's/^\[[^]]*\] //')
	if [ -z "$_hit" ]; then
		ktap_diag "driver log since $2: $(echo "$_l" | oneline)"
		ktap_fail "$1" "no line '$_pat'"
	elif ! dmesg_clean "$2"; then
		ktap_fail "$1" "splat"
	else
		ktap_ok "$1" "$_hit"
	fi
}

# check_quiet NAME MARK: nothing from the driver since MARK, no splat.
check_quiet() {
	_l=$(drv_log "$2")
	if [ -n "$_l" ]; then
		ktap_fail "$1" "$(echo "$_l" | oneline)"
	elif ! dmesg_clean "$2"; then
		ktap_fail "$1" "splat"
	else
		ktap_ok "$1"
	fi
}

# recover NAME SID: the stream works again at once: 0.2 s of audio, in 3 s at most, no
# xrun, nothing logged by the driver meanwhile.
recover() {
	dmesg_mark "r$2"
	if [ $(($2 % 2)) = 0 ]; then
		play "$2" 9600
		_ok=$([ "$RC" = 0 ] && ! echo "$OUT" | grep -q underrun && echo y)
	else
		capture "$2" 9600
		_ok=$([ "$RC" = 0 ] && [ "$SIZE" = 38400 ] && ! echo "$OUT" | grep -q overrun && echo y)
	fi
	_l=$(drv_log "r$2")
	if [ "$_ok" != y ]; then
		ktap_fail "$1" "exit $RC, $(echo "$OUT" | grep -E 'run!!!|error|Unable' | head -n 2 | oneline) $(echo "$_l" | oneline)"
	elif slower 3; then
		ktap_fail "$1" "took ${DT}s: $(echo "$_l" | oneline)"
	elif [ -n "$_l" ]; then
		ktap_fail "$1" "$(echo "$_l" | oneline)"
	else
		ktap_ok "$1" "${DT}s"
	fi
}

ktap_plan 102
dmesg_mark faults

# --- probe: faults on PCM_INFO, one per load -------------------------------------------
# The log must name the request: 0x100 is PCM_INFO (the C driver writes "(0x00000100)").
probe_fault() { # FAULT RS-ERE C-ERE
	dmesg_mark "p$1"
	load
	if [ -e /proc/asound/card0 ]; then
		ktap_fail "probe, PCM_INFO $1: no card" "$(oneline </proc/asound/cards)"
	else
		ktap_ok "probe, PCM_INFO $1: no card"
	fi
	check_log "probe, PCM_INFO $1: log" "p$1" "$2" "$3"
	unload_driver
}
probe_fault "ctl-status IO_ERR" "0x100|PCM_INFO" "0x00000100"
probe_fault "ctl-short 20" "PCM_INFO: device answered 16 of [0-9]+ bytes" "0x00000100"
# Never answered. (Not "answered late": the device would put the late answer on the rings
# of the next probe, see Documentation/fault-matrix.rst.)
probe_fault "ctl-drop" "control request 0x100 timed out after 1000 ms" \
	"control message \(0x00000100\) timeout"
dmesg_mark load
load
ktap_check "probe after the faults: card appears" wait_for_card 5
quiet_run sh -c 'cat /proc/asound/cards; head -n 3 /proc/asound/pcm'

# --- control requests that fail --------------------------------------------------------
# The fault hits SET_PARAMS or PREPARE, which the application sees as the error of
# snd_pcm_hw_params (alsa-lib prepares there); pcm-client prints it with snd_strerror.
# The log must name the request: 0x101 SET_PARAMS, 0x102 PREPARE (C: "(0x00000101)").
ctl_fails() { # SID FAULT ERRNO ERRTEXT RS-ERE C-ERE
	dmesg_mark "c$1"
	run pcm-client tiny "hw:0,0,$(sub "$1")" 480 0.2
	# shellcheck disable=SC2034 # in the condition
	ERRTEXT=$4
	expect "$2: $3" '[ "$RC" != 0 ] && echo "$OUT" | grep -q "hw_params: $ERRTEXT"'
	check_log "$2: log" "c$1" "$5" "$6"
	recover "$2: recovers" "$1"
}
ctl_fails 0 "ctl-status BAD_MSG on SET_PARAMS" EINVAL "Invalid argument" "0x101" "0x00000101"
ctl_fails 2 "ctl-status NOT_SUPP on SET_PARAMS" EOPNOTSUPP "Operation not supported" \
	"0x101" "0x00000101"
ctl_fails 4 "ctl-status IO_ERR on SET_PARAMS" EIO "Input/output error" "0x101" "0x00000101"
ctl_fails 6 "ctl-status 0x1234 on SET_PARAMS" EIO "Input/output error" \
	"control request 0x101: bad status 0x1234" "0x00000101"
ctl_fails 8 "ctl-short 2 on PREPARE" EIO "Input/output error" \
	"control request 0x102: short answer \(2 bytes\)" "0x00000102"
ctl_fails 10 "ctl-used-len 0 on PREPARE" EIO "Input/output error" \
	"control request 0x102: short answer \(0 bytes\)" "0x00000102"
ctl_fails 14 "ctl-delay 1500 on SET_PARAMS" ETIMEDOUT "Connection timed out" \
	"control request 0x101 timed out after 1000 ms" "control message \(0x00000101\) timeout"
ctl_fails 16 "ctl-drop on PREPARE" ETIMEDOUT "Connection timed out" \
	"control request 0x102 timed out after 1000 ms" "control message \(0x00000102\) timeout"

# A used length past the answer is harmless: the driver reads what it asked for.
dmesg_mark c12
play 12 9600
expect "ctl-used-len 65536 on SET_PARAMS: plays" '[ "$RC" = 0 ]'
check_quiet "ctl-used-len 65536 on SET_PARAMS: nothing logged" c12

# --- START, STOP, RELEASE --------------------------------------------------------------
# A failed START stops the stream with an xrun: EPIPE, the application prepares, goes on.
dmesg_mark c18
play 18 24000
expect "ctl-status IO_ERR on START: xrun, recovered" \
	'[ "$RC" = 0 ] && echo "$OUT" | grep -q underrun'
check_log "ctl-status IO_ERR on START: log" c18 "stream 18: START/STOP failed" "0x00000104|SID 18"
recover "ctl-status IO_ERR on START: recovers" 18

dmesg_mark c1
capture 1 24000
expect "capture, ctl-status IO_ERR on START: xrun" \
	'[ "$RC" = 0 ] && [ "$SIZE" = 96000 ] && echo "$OUT" | grep -q overrun'
check_log "capture, ctl-status IO_ERR on START: log" c1 "stream 1: START/STOP failed" \
	"0x00000104|SID 1"
recover "capture, ctl-status IO_ERR on START: recovers" 1

# START never answered: the device did start, so the stream plays; whoever waits for the
# answer gives up after msg_timeout_ms, with a message.
dmesg_mark c20
play 20 24000
expect "ctl-drop on START: plays" '[ "$RC" = 0 ]'
check_log "ctl-drop on START: log" c20 "stream 20: START/STOP not answered" \
	"control message \(0x00000104\) timeout"
recover "ctl-drop on START: recovers" 20

# STOP (the drain's) answered 500 ms late: close waits for the answer (sync_stop) before
# hw_free releases the stream, so aplay cannot end before 0.2 s of audio plus 0.5 s. No
# message: the answer came within msg_timeout_ms.
dmesg_mark c22
play 22 9600
expect "ctl-delay 500 on STOP: plays" '[ "$RC" = 0 ]'
expect "ctl-delay 500 on STOP: close waits for STOP" 'slower 0.7'
check_quiet "ctl-delay 500 on STOP: nothing logged" c22
recover "ctl-delay 500 on STOP: recovers" 22

# STOP answered after msg_timeout_ms: close gives up waiting, with a message.
dmesg_mark c24
play 24 24000
expect "ctl-delay 1500 on STOP: plays" '[ "$RC" = 0 ]'
check_log "ctl-delay 1500 on STOP: log" c24 "stream 24: START/STOP not answered" \
	"control message \(0x00000105\) timeout"
recover "ctl-delay 1500 on STOP: recovers" 24

# STOP (the drop's) answered 400 ms late, while two threads call the PREPARE ioctl at once
# (tests/clients/trigger-race.c): both must wait for the one STOP answer, and the answer must
# release them. (The ALSA core lets one PREPARE of a substream into the driver at a time,
# runtime->buffer_mutex: the second waits for the first, in the core.) Each ioctl must return
# 0 before msg_timeout_ms have passed since the drop: a waiter that the answer did not wake
# gives up only when its wait times out, msg_timeout_ms after it began (after the drop),
# whereas the answer comes 400 ms after it. Nothing logged ("START/STOP not answered" is a
# waiter left asleep).
dmesg_mark c48
tmo=$(cat "/sys/module/$DRV/parameters/msg_timeout_ms" 2>/dev/null || echo 1000)
run trigger-race "hw:0,0,$(sub 48)" "$tmo"
ktap_diag "$(echo "$OUT" | sed -n 's/^# //p')"
expect "ctl-delay 400 on STOP, two PREPAREs at once: both return 0 before the timeout" \
	'[ "$RC" = 0 ]'
check_quiet "ctl-delay 400 on STOP, two PREPAREs at once: nothing logged" c48
recover "ctl-delay 400 on STOP, two PREPAREs at once: recovers" 48

# RELEASE fails at close (hw_free; the application does not see it). The device did
# release the stream: only the answer was wrong, or lost.
dmesg_mark c26
play 26 9600
expect "ctl-status BAD_MSG on RELEASE: plays" '[ "$RC" = 0 ]'
check_log "ctl-status BAD_MSG on RELEASE: log" c26 "0x103" "0x00000103"
recover "ctl-status BAD_MSG on RELEASE: recovers" 26

dmesg_mark c28
play 28 9600
expect "ctl-drop on RELEASE: plays" '[ "$RC" = 0 ]'
check_log "ctl-drop on RELEASE: log" c28 "control request 0x103 timed out after 1000 ms" \
	"control message \(0x00000103\) timeout"
recover "ctl-drop on RELEASE: recovers" 28

# --- I/O messages ----------------------------------------------------------------------
# An error status, or no readable status, in a period: xrun, the application recovers.
io_error() { # SID FAULT
	dmesg_mark "i$1"
	play "$1" 24000
	expect "$2: xrun, recovered" '[ "$RC" = 0 ] && echo "$OUT" | grep -q underrun'
	check_log "$2: log" "i$1" "stream $1: I/O error from the device" "SID $1"
	recover "$2: recovers" "$1"
}
io_error 30 "io-status IO_ERR"
io_error 32 "io-short 4"
io_error 34 "io-used-len 0"

dmesg_mark i3
capture 3 24000
expect "capture, io-status IO_ERR: xrun, recovered" \
	'[ "$RC" = 0 ] && [ "$SIZE" = 96000 ] && echo "$OUT" | grep -q overrun'
check_log "capture, io-status IO_ERR: log" i3 "stream 3: I/O error from the device" "SID 3"
recover "capture, io-status IO_ERR: recovers" 3

# Harmless: a used length past the message; a completion out of order (the first period
# comes back 50 ms late, after the next ones).
dmesg_mark i36
play 36 24000
expect "io-used-len 99999: plays, no xrun" '[ "$RC" = 0 ] && ! echo "$OUT" | grep -q underrun'
check_quiet "io-used-len 99999: nothing logged" i36

dmesg_mark i38
play 38 24000
expect "io-delay 50 (out of order): plays, no xrun" \
	'[ "$RC" = 0 ] && ! echo "$OUT" | grep -q underrun'
check_quiet "io-delay 50 (out of order): nothing logged" i38

# A period that comes back 5 s late, or never: the stream stalls, and ALSA gives up with
# EIO (no progress for the substream's wait_time: msg_timeout_ms, or 1.1 buffers); at close
# the driver stops waiting for the period (msg_timeout_ms) and gives the stream fresh
# messages. The late period must be ignored when it comes back.
io_lost() { # SID FAULT
	dmesg_mark "i$1"
	run pcm-client tiny "hw:0,0,$(sub "$1")" 480 0.3
	expect "$2: EIO" '[ "$RC" != 0 ] && echo "$OUT" | grep -q "Input/output error"'
	check_log "$2: log" "i$1" "stream $1: device kept 1 period buffer\(s\) after RELEASE" "SID $1"
	recover "$2: recovers" "$1"
}
io_lost 40 "io-delay 5000"
sleep 2.5
recover "io-delay 5000: late period ignored" 40
io_lost 42 "io-drop"

# Short capture periods (used length 2056: 2048 data bytes of a 4096-byte period, although
# the device wrote a sine into all of it): the rest of each period must be silence.
dmesg_mark i5
capture 5 24000
h0=$(nz 0) h1=$(nz 1) h7=$(nz 7) h9=$(nz 9)
ktap_diag "non-zero bytes in the halves of periods 0, 3 (second) and 4 (second): $h0 $h1, $h7, $h9"
expect "capture, io-used-len 2056: padded with silence" \
	'[ "$RC" = 0 ] && [ "$SIZE" = 96000 ] && [ "$h0" -gt 1000 ] && [ "$h1" = 0 ] && [ "$h7" = 0 ] && [ "$h9" -gt 1000 ]'
check_quiet "capture, io-used-len 2056: nothing logged" i5

# A capture message whose status the device never wrote (only 2056 data bytes), 600 ms
# into the stream, after the ring went round: its status buffer still holds the answer to
# its previous trip, which must not be taken for this one's.
dmesg_mark i7
capture 7 48000
zh=0 i=1
while [ "$i" -lt 94 ]; do
	[ "$(nz "$i")" = 0 ] && zh=$((zh + 1))
	i=$((i + 2))
done
ktap_diag "periods whose second half is silence: $zh"
expect "capture, io-short 2056 (stale status): xrun" \
	'[ "$RC" = 0 ] && [ "$SIZE" = 192000 ] && echo "$OUT" | grep -q overrun'
check_log "capture, io-short 2056 (stale status): log" i7 \
	"stream 7: I/O error from the device" "SID 7"
recover "capture, io-short 2056 (stale status): recovers" 7

# The device's latency is part of the stream's delay (/proc/asound/.../status).
aplay -D hw:0,0,22 -q -t raw -f S16_LE -r 48000 -c 2 -s 48000 --buffer-size=16384 \
	--period-size=4096 /dev/zero &
apid=$!
sleep 0.6
delay=$(sed -n 's/^delay *: *//p' /proc/asound/card0/pcm0p/sub22/status)
wait $apid
rc=$?
ktap_diag "delay while playing: ${delay:-?} frames (aplay exit $rc)"
expect "io-latency 192000: delay >= 48000 frames" \
	'[ "$rc" = 0 ] && [ "${delay:-0}" -ge 48000 ] && [ "${delay:-0}" -le 64384 ]'

# --- events ----------------------------------------------------------------------------
dmesg_mark e46
play 46 48000
expect "bad events: the stream plays" '[ "$RC" = 0 ]'
check_log "event xrun 99: log" e46 "xrun event for stream 99, which does not exist" "99"
check_log "event period 99: log" e46 "period event for stream 99, which does not exist" "99"
check_log "event jack-connected 99: log" e46 "jack event for jack 99, which does not exist" "99"
check_log "event ctl-notify 7: log" e46 "control event for element 7, which does not exist" "7"
recover "bad events: recovers" 46

# --- a flood of complaints: rate-limited ------------------------------------------------
# A device can make the driver complain once per event it sends. 60 PCM_XRUN events for
# stream 99 in a burst (the device's test control, through the vsnd.ctl port), then one
# more after the kernel's 5 s interval: at most 10 lines per 5 s begun (the kernel's
# default burst, which dev_warn_ratelimited has too), and the kernel's "N callbacks
# suppressed" line once the interval is over.
# The limit's interval starts with the first complaint after the last one expired: wait
# for the interval of the bad events above to end.
sleep 5.5
dmesg_mark flood
t0=$(now)
vsnd_burst 60 "xrun 99"
brc=$?
t1=$(now)
sleep 5.5
vsnd_burst 1 "xrun 99" || brc=1
sleep 0.5
n=$(drv_log flood | grep -c "xrun event for stream 99")
supp=$(log_after flood | grep -c "callbacks suppressed")
# The burst spans at most 1 + d/5 intervals (one more for the timing of the guest's clock
# against the kernel's jiffies), and the last event opens one of its own.
limit=$(echo "$t0 $t1" | awk '{print 10 * (2 + int(($2 - $1) / 5)) + 1}')
ktap_diag "flood: burst exit $brc in $(echo "$t0 $t1" | awk '{printf "%.1f", $2 - $1}') s; $n lines logged (limit $limit), $supp \"suppressed\" line(s)"
ktap_result "$brc" "flood: 61 bad events sent"
if [ "$DRIVER" = c ]; then
	ktap_skip "flood: at most 10 complaints per 5 s" "the C driver: $n lines, see the diag"
	ktap_skip "flood: the suppressed ones are counted" "the C driver"
else
	expect "flood: at most 10 complaints per 5 s" '[ "$n" -ge 2 ] && [ "$n" -le "$limit" ]'
	expect "flood: the suppressed ones are counted" '[ "$supp" -ge 1 ]'
fi

# --- a virtqueue broken by the device ----------------------------------------------------
# Last, since the queue is lost until the device is bound again: the device answers the
# first period of capture stream 9 with a used-ring id out of range (io-wild, added now
# through the vsnd.ctl port), and the guest's ring breaks the rx queue. arecord, which
# waits in its read for periods that will never come (no completion woke it), must be
# woken at once with an xrun (not by the core's wait of 1.1 buffers, a "read error"), and its
# recovery (prepare) fail with EIO; a new capture fails with EIO too, playback (the tx
# queue) goes on, and an unbind and bind brings capture back. (With io-twice, the first
# completion wakes arecord, whose next read fails with EIO from the refill: a race between
# that and the xrun, no test.)
dmesg_mark broken
vsnd_burst 1 "fault io-wild stream 9 count 1"
brc=$?
capture 9 48000
# shellcheck disable=SC2034 # in the conditions
C1_RC=$RC C1_OUT=$OUT
capture 11 9600
# shellcheck disable=SC2034 # in the conditions
C2_RC=$RC C2_OUT=$OUT
play 46 9600
P_RC=$RC
ktap_diag "broken rx queue: fault added (exit $brc); capture exit $C1_RC, then $C2_RC; playback exit $P_RC"
if [ "$DRIVER" = c ]; then
	ktap_skip "broken rx queue: logged" "the C driver: $(drv_log broken | oneline)"
	ktap_skip "broken rx queue: the waiting capture stops, its prepare fails with EIO" "the C driver"
	ktap_skip "broken rx queue: a new capture fails" "the C driver"
else
	check_log "broken rx queue: logged" broken \
		"virtsnd-rx: virtqueue broken by the device" "-"
	expect "broken rx queue: the waiting capture stops, its prepare fails with EIO" \
		'[ "$brc" = 0 ] && [ "$C1_RC" != 0 ] && echo "$C1_OUT" | grep -q "prepare error: Input/output error"'
	expect "broken rx queue: a new capture fails" \
		'[ "$C2_RC" != 0 ] && echo "$C2_OUT" | grep -q "Unable to install hw params"'
fi
expect "broken rx queue: playback goes on" '[ "$P_RC" = 0 ]'
VDEV=$(snd_vdev)
echo "$VDEV" >"/sys/bus/virtio/drivers/$DRV/unbind"
echo "$VDEV" >"/sys/bus/virtio/drivers/$DRV/bind"
wait_for_card 10
capture 9 9600
expect "broken rx queue: after unbind and bind, capture works" \
	'[ "$RC" = 0 ] && [ "$SIZE" = 38400 ] && ! echo "$OUT" | grep -q overrun'

ktap_check "no splat in the whole run" dmesg_clean faults
ktap_finish
exit $?
