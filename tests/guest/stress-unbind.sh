#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Unload under load, and unbind/bind loops:
#   - rmmod is refused (and changes nothing) while aplay plays, while a PCM device is only
#     open, and while only the control device is open; it works once they are closed;
#   - bench.rounds (default 10) rounds of: aplay and arecord on hw:0,0, then
#     /sys/bus/virtio/drivers/DRIVER/unbind of the sound device: both applications exit with
#     an error within 10 s, the unbind completes, card 0 goes; bind: card 0 comes back. The
#     pause before the unbind alternates between 0.2 s and bench.settle (default 1 s), so
#     that some unbinds hit the applications' start (hw_params, prepare, start);
#   - after the last round aplay plays 1 s and arecord records exactly 1 s;
#   - the kernel log has no warning.
# bench.driver=c runs it against the C driver.
. /tests/lib.sh
. /tests/stress-lib.sh

ROUNDS=${BENCH_ROUNDS:-10}
SETTLE=${BENCH_SETTLE:-1}
ktap_plan 9
stress_load
wait_for_card 5 || exit 1
dmesg_mark stress-unbind
VDEV=$(snd_vdev)
ktap_diag "sound device $VDEV, driver $DRV, $ROUNDS rounds"

# rmmod while a stream runs, while a PCM is open, while the control device is open.
refused() { # WHAT: rmmod must fail and leave the module and card 0 in place
	if rmmod "$DRV" 2>/tmp/rmmod.err; then
		ktap_diag "$1: rmmod succeeded"
		stress_load
		wait_for_card 5
		return 1
	fi
	ktap_diag "$1: $(cat /tmp/rmmod.err) (refcnt $(cat /sys/module/$DRV/refcnt))"
	grep -q "^$DRV " /proc/modules && [ -e /proc/asound/card0 ]
}
aplay -q -D hw:0,0 -f S16_LE -r 48000 -c 2 -t raw -d 20 /dev/zero 2>/tmp/aplay.err &
ap=$!
sleep 1
ok=0
refused "aplay running" || ok=1
_alive $ap || { ok=1; ktap_diag "aplay ended: $(cat /tmp/aplay.err)"; }
kill $ap 2>/dev/null
wait $ap
# shellcheck disable=SC2217 # the redirection holds the device open
sleep 20 </dev/snd/pcmC0D0p &
sl1=$!
sleep 0.3
refused "a PCM open" || ok=1
kill $sl1
wait $sl1
# shellcheck disable=SC2217
sleep 20 </dev/snd/controlC0 &
sl2=$!
sleep 0.3
refused "the control device open" || ok=1
kill $sl2
wait $sl2
ktap_result $ok "rmmod is refused while aplay runs, a PCM is open, the control device is open"
if rmmod "$DRV" && ! grep -q "^$DRV " /proc/modules && wait_card_gone 5; then
	ktap_ok "rmmod works once everything is closed"
else
	ktap_fail "rmmod works once everything is closed"
fi
stress_load
ktap_check "insmod again: card 0 is back" wait_for_card 5

# Unbind/bind rounds.
U=/sys/bus/virtio/drivers/$DRV
nfail=0 napp=0 nrm=0 ngone=0 nback=0 i=0
while [ $i -lt "$ROUNDS" ]; do
	i=$((i + 1))
	s=$SETTLE
	[ $((i % 2)) = 0 ] && s=0.2
	if remove_under_load "echo $VDEV >$U/unbind" "echo $VDEV >$U/bind" "$s"; then
		[ $i = 1 ] && ktap_diag "round 1: $ROUND_ERR"
	else
		nfail=$((nfail + 1))
		ktap_diag "round $i (pause $s s): $ROUND_FAIL"
		ktap_diag "round $i: $ROUND_ERR"
		case $ROUND_FAIL in *"still running"* | *"exited with status 0"* | *"ended before"*) napp=$((napp + 1)) ;; esac
		case $ROUND_FAIL in *"removal"*) nrm=$((nrm + 1)) ;; esac
		case $ROUND_FAIL in *"still there"*) ngone=$((ngone + 1)) ;; esac
		case $ROUND_FAIL in *"re-add"* | *"no card 0"*) nback=$((nback + 1)) ;; esac
		# A round that left no card: try once more, else stop.
		[ -e /proc/asound/card0 ] || { echo "$VDEV" >"$U/bind" 2>/dev/null; wait_for_card 5 || break; }
	fi
done
ktap_diag "$i rounds, $nfail failed"
ktap_result $napp "unbind under load: aplay and arecord exit with an error (every round)"
ktap_result $nrm "unbind under load: the unbind completes (every round)"
ktap_result $ngone "unbind under load: card 0 goes (every round)"
ktap_result $((nback + (i < ROUNDS))) "bind: card 0 comes back (every round)"

t0=$(cut -d' ' -f1 /proc/uptime)
if aplay -q -D hw:0,0 -f S16_LE -r 48000 -c 2 -t raw -d 1 /dev/zero 2>/tmp/aplay.err &&
	arecord -q -D hw:0,0 -f S16_LE -r 48000 -c 2 -t raw -d 1 /tmp/rec.raw 2>>/tmp/aplay.err &&
	[ "$(wc -c </tmp/rec.raw)" = 192000 ]; then
	ktap_ok "after the rounds: aplay plays 1 s, arecord records 192000 bytes"
else
	ktap_diag "$(cat /tmp/aplay.err) recorded $(wc -c </tmp/rec.raw 2>/dev/null) bytes"
	ktap_fail "after the rounds: aplay plays 1 s, arecord records 192000 bytes"
fi
ktap_diag "1 s each took $(echo "$t0 $(cut -d' ' -f1 /proc/uptime)" | awk '{printf "%.1f", $2 - $1}') s"
ktap_check "no warning in dmesg" dmesg_clean stress-unbind
ktap_finish
exit $?
