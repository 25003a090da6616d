# SPDX-License-Identifier: GPL-2.0
#
# Several PCM devices and more than two channels, against tools/vsnd-device started as
#   --vsnd "--streams=4 --nids=2 --channels-max=6 --chmaps=standard"
# The device puts streams 0 (output) and 1 (input) on HDA function node 0, streams 2
# (output) and 3 (input) on node 1, so the driver makes PCM devices 0 and 1 with one
# playback and one capture substream each. Every stream takes 1..6 channels; each
# node/direction has the standard channel maps MONO, FL FR, FL FR RL RR and
# FL FR RL RR FC LFE (5.1). Capture is a 1 kHz sine at half scale on every channel.
#   bench.driver=c|rs   which driver (default rs)
#   bench.channels=C    the device's --channels-max (default 6): the streams of the tests
#                       have C channels; the expected maps are the device's standard ones
#                       (MONO, then positions 3..N+2: FL FR, quad, 5.1, 7.1, and past 8
#                       channels one of min(C, 18), which ALSA takes only up to 15)
. /tests/lib.sh

DRIVER=${BENCH_DRIVER:-rs}
C=${BENCH_CHANNELS:-6}
BYTES=$((C * 2 * 48000))

# want_map N: the ALSA map of a running N-channel stream, nothing if the device has none
# that ALSA takes.
want_map() {
	_w=$C
	[ "$_w" -gt 18 ] && _w=18
	case $1 in
	1) echo 2; return ;;
	2 | 4 | 6 | 8) [ "$1" -le "$C" ] || return 0 ;;
	*) [ "$1" -gt 8 ] && [ "$1" = "$_w" ] && [ "$1" -le 15 ] || return 0 ;;
	esac
	_i=3 _m=3
	while [ "$_i" -lt $(($1 + 2)) ]; do
		_i=$((_i + 1))
		_m="$_m,$_i"
	done
	echo "$_m"
}
WANT=$(want_map "$C")

elapsed() { # T0: seconds since T0 (from /proc/uptime)
	echo "$1 $(cut -d' ' -f1 /proc/uptime)" | awk '{printf "%.2f", $2 - $1}'
}

# in_range X LO HI: LO <= X <= HI (decimals)
in_range() {
	echo "$1 $2 $3" | awk '{exit !($1 >= $2 && $1 <= $3)}'
}

# chmap DEVICE Playback|Capture: the values of the channel-map control of the device's
# (first) substream, trailing unused zeros dropped; nothing if the read fails.
chmap() {
	amixer -c 0 cget "iface=PCM,name=$2 Channel Map,device=$1" 2>/dev/null |
		sed -n 's/.*: values=//p' | sed 's/\(,0\)*$//'
}

# wait_running DIR: waits up to 10 s for substream 0 of DIR (e.g. pcm1p) to run (the
# channel map exists once the stream is configured; a fixed pause is too short for the
# gating kernel under TCG).
wait_running() {
	_i=0
	while [ $_i -lt 100 ] && ! grep -q RUNNING "/proc/asound/card0/$1/sub0/status" 2>/dev/null; do
		sleep 0.1
		_i=$((_i + 1))
	done
}

# play_map DEVICE CHANNELS: plays 2 s of CHANNELS channels on DEVICE and prints the
# playback channel map seen while it runs; fails if aplay fails.
play_map() {
	aplay -D "hw:0,$1" -q -t raw -f S16_LE -r 48000 -c "$2" -d 2 /dev/zero &
	_pid=$!
	wait_running "pcm${1}p"
	chmap "$1" Playback
	wait $_pid
}

ktap_plan 11
dmesg_mark vsnd-multi
if [ "$DRIVER" = c ]; then
	ktap_check "load driver (c)" load_c_driver
else
	ktap_check "load driver (rs)" load_rs_driver
fi
ktap_check "card appears" wait_for_card 5
quiet_run cat /proc/asound/pcm

# 1. Two PCM devices, one playback and one capture substream each.
n=$(grep -c '^00-' /proc/asound/pcm 2>/dev/null)
if [ "$n" = 2 ] && grep -q '^00-00: .*playback 1 : capture 1' /proc/asound/pcm &&
	grep -q '^00-01: .*playback 1 : capture 1' /proc/asound/pcm &&
	[ -e /dev/snd/pcmC0D1p ] && [ -e /dev/snd/pcmC0D1c ]; then
	ktap_ok "two PCM devices (00-00, 00-01), one playback and one capture substream each"
else
	ktap_fail "two PCM devices (00-00, 00-01), one playback and one capture substream each" \
		"$n devices: $(tr '\n' '|' </proc/asound/pcm)"
fi

# 2. 1..C channels: C+1 is refused by the hardware constraints, before the device sees it.
out=$(aplay -D hw:0,1 -q -t raw -f S16_LE -r 48000 -c $((C + 1)) -d 1 /dev/zero 2>&1)
rc=$?
if [ "$rc" != 0 ] && echo "$out" | grep -qi 'channels'; then
	ktap_ok "$((C + 1)) channels refused (channels_max $C)"
else
	ktap_fail "$((C + 1)) channels refused (channels_max $C)" "aplay $rc: $(echo "$out" | tr '\n' '|')"
fi

# 3, 4. C channels on device 1 for 1 s, at the device's rate; the map while it runs.
t0=$(cut -d' ' -f1 /proc/uptime)
aplay -D hw:0,1 -t raw -f S16_LE -r 48000 -c "$C" -d 1 /dev/zero >/tmp/aplay.log 2>&1 &
pid=$!
wait_running pcm1p
map=$(chmap 1 Playback)
hwp=$(grep -h channels /proc/asound/card0/pcm1p/sub0/hw_params 2>/dev/null)
wait $pid
rc=$?
t=$(elapsed "$t0")
if [ "$rc" = 0 ] && in_range "$t" 0.95 4; then
	ktap_ok "aplay -D hw:0,1 -c $C: 1 s at the real rate" "took $t s, $hwp"
else
	quiet_run cat /tmp/aplay.log
	ktap_fail "aplay -D hw:0,1 -c $C: 1 s at the real rate" "aplay $rc after $t s, $hwp"
fi
name="Playback Channel Map of device 1, $C channels: ${WANT:-none}"
[ "$C" = 6 ] && name="$name (FL FR RL RR FC LFE)"
if [ "$map" = "$WANT" ]; then
	ktap_ok "$name" "values=$map"
else
	ktap_fail "$name" "values='$map'"
fi

# 5. 1 s of C-channel capture on device 1: exactly 48000 frames of 2C bytes, the same
# sine on every channel (amplitude 0.5: peaks near +-16384; its first 0.1 s looked at, awk
# is slow under TCG), and its capture map.
t0=$(cut -d' ' -f1 /proc/uptime)
arecord -D hw:0,1 -q -t raw -f S16_LE -r 48000 -c "$C" -d 1 /tmp/rec6.raw 2>/tmp/arecord.log &
pid=$!
wait_running pcm1c
cmap=$(chmap 1 Capture)
wait $pid
rc=$?
t=$(elapsed "$t0")
size=$(wc -c </tmp/rec6.raw 2>/dev/null)
# Frames: all C samples equal; the largest sample; frames with a non-zero sample.
stat=$(od -An -v -td2 -w$((2 * C)) -N $((2 * C * 4800)) /tmp/rec6.raw 2>/dev/null | awk -v c="$C" '
	NF == c { n++; if ($1 != 0) nz++
		for (i = 2; i <= c; i++) if ($i != $1) diff++
		if ($1 > max) max = $1 }
	END { printf "%d %d %d %d", n, diff, max, nz }')
# shellcheck disable=SC2086 # four numbers
set -- $stat
name="arecord -D hw:0,1 -c $C: 1 s = $BYTES bytes, the same sine on the $C channels, map ${WANT:-none}"
if [ "$rc" = 0 ] && [ "${size:-0}" -eq "$BYTES" ] && [ "${1:-0}" -eq 4800 ] && [ "${2:-1}" -eq 0 ] &&
	[ "${3:-0}" -ge 16000 ] && [ "${3:-0}" -le 16384 ] && [ "${4:-0}" -gt 4000 ] &&
	[ "$cmap" = "$WANT" ]; then
	ktap_ok "$name" "$size bytes, max $3, $4 of the first 4800 frames non-zero, map $cmap, took $t s"
else
	quiet_run cat /tmp/arecord.log
	ktap_fail "$name" "arecord $rc: ${size:-no} bytes, first 4800 frames: frames/unequal/max/non-zero $stat, map '$cmap'"
fi

# 6. Each channel count of device 0 that has a standard map shows it while it runs.
counts=
for c in 1 2 4 6 8; do [ "$c" -le "$C" ] && counts="$counts $c"; done
[ "$C" -gt 8 ] && counts="$counts $([ "$C" -gt 18 ] && echo 18 || echo "$C")"
# shellcheck disable=SC2086 # a list of numbers
set -- $counts
ktap_subtest_begin "device 0: the map of a running stream of$(echo "$counts" | tr ' ' ',' | sed 's/^,/ /') channels" $#
for c in $counts; do
	want=$(want_map "$c")
	got=$(play_map 0 "$c")
	rc=$?
	if [ "$rc" = 0 ] && [ "$got" = "$want" ]; then
		ktap_ok "$c channels: ${want:-no map}"
	else
		ktap_fail "$c channels: ${want:-no map}" "aplay $rc, values='$got'"
	fi
done
ktap_subtest_end

# 7. Both PCM devices at once: 1 s of stereo on device 0 and 1 s of C channels on device
# 1, with 1 s of C-channel capture on device 0; each at its own rate.
t0=$(cut -d' ' -f1 /proc/uptime)
aplay -D hw:0,0 -q -t raw -f S16_LE -r 48000 -c 2 -d 1 /dev/zero 2>/tmp/p0.log &
p0=$!
aplay -D hw:0,1 -q -t raw -f S16_LE -r 48000 -c "$C" -d 1 /dev/zero 2>/tmp/p1.log &
p1=$!
arecord -D hw:0,0 -q -t raw -f S16_LE -r 48000 -c "$C" -d 1 /tmp/rec0.raw 2>/tmp/c0.log &
c0=$!
wait $p0
r0=$?
wait $p1
r1=$?
wait $c0
rc0=$?
t=$(elapsed "$t0")
size=$(wc -c </tmp/rec0.raw 2>/dev/null)
if [ "$r0$r1$rc0" = 000 ] && [ "${size:-0}" -eq "$BYTES" ] && in_range "$t" 0.95 5; then
	ktap_ok "devices 0 and 1 at once: two playbacks and a capture" "took $t s, $size bytes captured"
else
	quiet_run cat /tmp/p0.log /tmp/p1.log /tmp/c0.log
	ktap_fail "devices 0 and 1 at once: two playbacks and a capture" \
		"status $r0 $r1 $rc0 after $t s, ${size:-no} bytes captured"
fi

# 8. speaker-test, with the channel map of the standard layouts (6: FL,FR,RL,RR,FC,LFE):
# one tone per channel, each channel named.
m=
case $C in
1) m=MONO ;;
2 | 4 | 6 | 8) m=$(echo FL,FR,RL,RR,FC,LFE,SL,SR | cut -d, -f1-"$C") ;;
esac
name="speaker-test -D hw:0,1 -c $C${m:+ -m $m} -t sine -l 1"
if command -v speaker-test >/dev/null; then
	t0=$(cut -d' ' -f1 /proc/uptime)
	out=$(timeout $((30 + 6 * C)) speaker-test -D hw:0,1 -c "$C" ${m:+-m "$m"} -l 1 -t sine -r 48000 -F S16_LE 2>&1)
	rc=$?
	t=$(elapsed "$t0")
	echo "$out" | grep -v '^ *$' | sed "s/^/# speaker-test: /"
	named=$(echo "$out" | grep -cE '^ *[0-9]+ - ')
	if [ "$rc" = 0 ] && [ "$named" = "$C" ] && { [ "$C" != 6 ] ||
		echo "$out" | grep -q '5 - LFE'; }; then
		ktap_ok "$name" "took $t s"
	else
		ktap_fail "$name" "status $rc after $t s, $named channels played"
	fi
else
	ktap_skip "$name" "no speaker-test in the image"
fi

ktap_check "dmesg clean" dmesg_clean vsnd-multi
ktap_finish
exit $?
