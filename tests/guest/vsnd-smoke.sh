# SPDX-License-Identifier: GPL-2.0
#
# Smoke test of a guest driver against tools/vsnd-device (vhost-user-snd-pci): probe, PCM
# list, 1 s of playback at the device's real rate, 1 s of capture (a sine, not silence).
#   bench.driver=c|rs   which driver (default c; rs needs --module src/virtio_snd_rs.ko)
#   bench.streams=N     the device's --streams (default 2); 0: only probe and report
#   bench.period=F      also play 2 s with periods of F frames, buffer of 4 periods
# Run with the device started by scripts/vsnd-device.sh start SOCK:
#   scripts/run-guest.sh --no-sound --mem 512M \
#     --qemu-arg -object --qemu-arg memory-backend-memfd,id=mem,size=512M,share=on \
#     --qemu-arg -numa --qemu-arg node,memdev=mem \
#     --qemu-arg -chardev --qemu-arg socket,id=vsnd,path=SOCK \
#     --qemu-arg -device --qemu-arg vhost-user-snd-pci,chardev=vsnd vsnd-smoke.sh
. /tests/lib.sh

DRIVER=${BENCH_DRIVER:-c}
STREAMS=${BENCH_STREAMS:-2}

load() {
	if [ "$DRIVER" = rs ]; then load_rs_driver; else load_c_driver; fi
}

elapsed() { # T0: seconds since T0 (from /proc/uptime)
	echo "$1 $(cut -d' ' -f1 /proc/uptime)" | awk '{printf "%.2f", $2 - $1}'
}

dmesg_mark vsnd-smoke
if [ "$STREAMS" = 0 ]; then
	ktap_plan 2
	ktap_check "load driver ($DRIVER) with 0 streams" load
	sleep 1
	ktap_diag "kernel log after loading:"
	ktap_diag "$(dmesg | sed -n '/bench-mark: vsnd-smoke$/,$p' | sed '1d; s/^/  /')"
	ktap_diag "/proc/asound/cards: $(cat /proc/asound/cards 2>&1 | tr '\n' '|')"
	ktap_diag "/proc/asound/pcm: $(cat /proc/asound/pcm 2>&1 | tr '\n' '|')"
	ktap_check "dmesg clean" dmesg_clean vsnd-smoke
	ktap_finish
	exit $?
fi

PERIOD=${BENCH_PERIOD:-}
ktap_plan $((6 + ${PERIOD:+1}0 / 10))
if ktap_check "load driver ($DRIVER)" load; then
	ktap_check "card appears" wait_for_card 5
else
	ktap_skip "card appears" "driver not loaded"
fi
quiet_run cat /proc/asound/cards

# Every stream is one substream of PCM 00-00 (one HDA function node): STREAMS/2 each way.
np=$(((STREAMS + 1) / 2))
nc=$((STREAMS / 2))
if grep -q "^00-00: .*playback $np" /proc/asound/pcm 2>/dev/null &&
	{ [ "$nc" = 0 ] || grep -q "^00-00: .*capture $nc" /proc/asound/pcm; }; then
	ktap_ok "/proc/asound/pcm: $np playback, $nc capture substreams"
else
	ktap_fail "/proc/asound/pcm: $np playback, $nc capture substreams"
fi
quiet_run cat /proc/asound/pcm

t0=$(cut -d' ' -f1 /proc/uptime)
if quiet_run aplay -D hw:0,0 -f S16_LE -r 48000 -c 2 -d 1 /dev/zero; then
	ktap_ok "aplay 1 s S16_LE 48 kHz stereo" "took $(elapsed "$t0") s"
else
	ktap_fail "aplay 1 s S16_LE 48 kHz stereo" "after $(elapsed "$t0") s"
fi

if [ -n "$PERIOD" ]; then
	t0=$(cut -d' ' -f1 /proc/uptime)
	name="aplay 2 s, period $PERIOD frames, buffer $((4 * PERIOD))"
	if quiet_run aplay -D hw:0,0 -f S16_LE -r 48000 -c 2 -d 2 --period-size="$PERIOD" \
		--buffer-size=$((4 * PERIOD)) /dev/zero; then
		ktap_ok "$name" "took $(elapsed "$t0") s"
	else
		ktap_fail "$name" "after $(elapsed "$t0") s"
	fi
fi

if [ "$nc" -gt 0 ]; then
	t0=$(cut -d' ' -f1 /proc/uptime)
	if quiet_run arecord -D hw:0,0 -f S16_LE -r 48000 -c 2 -d 1 -t raw /tmp/rec.raw; then
		size=$(wc -c </tmp/rec.raw)
		nonzero=$(tr -d '\000' </tmp/rec.raw | wc -c)
		if [ "$size" -eq 192000 ] && [ "$nonzero" -gt 1000 ]; then
			ktap_ok "arecord 1 s: sine captured" "$size bytes, $nonzero non-zero, took $(elapsed "$t0") s"
		else
			ktap_fail "arecord 1 s: sine captured" "$size bytes, $nonzero non-zero"
		fi
	else
		ktap_fail "arecord 1 s: sine captured" "arecord failed after $(elapsed "$t0") s"
	fi
else
	ktap_skip "arecord 1 s: sine captured" "no capture stream"
fi

ktap_check "dmesg clean" dmesg_clean vsnd-smoke
ktap_finish
exit $?
