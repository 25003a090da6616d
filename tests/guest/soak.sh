# SPDX-License-Identifier: GPL-2.0
#
# Soak: full-duplex streaming at a small period for a long time, with an exact count of the
# frames captured and played against the elapsed time.
#   bench.soak_secs=N   duration (default 60; the documented long run is 600)
#   bench.period=F      period in frames (default 256), buffer 4 periods, 48 kHz S16 stereo
#   bench.driver=c|rs   which driver (default rs)
# Checks: arecord writes exactly N s of frames; aplay plays N s of frames; both finish
# within 10 % of N s (xruns are reported, not failed: under TCG on a busy host they
# happen, and each costs the application a prepare); no splat in the kernel log.
. /tests/lib.sh

SECS=${BENCH_SOAK_SECS:-60}
P=${BENCH_PERIOD:-256}
if [ "${BENCH_DRIVER:-rs}" = c ]; then load_c_driver; else load_rs_driver; fi
wait_for_card 5 || exit 1
dmesg_mark soak
ktap_plan 4
A="-D hw:0,0 -t raw -f S16_LE -r 48000 -c 2 --period-size=$P --buffer-size=$((4 * P)) -d $SECS"
t0=$(cut -d' ' -f1 /proc/uptime)
# shellcheck disable=SC2086
arecord $A /tmp/soak.raw >/tmp/soak.rec 2>&1 &
rec=$!
# shellcheck disable=SC2086
aplay $A /dev/zero >/tmp/soak.play 2>&1
prc=$?
wait $rec
rrc=$?
t1=$(cut -d' ' -f1 /proc/uptime)
el=$(echo "$t0 $t1" | awk '{printf "%.1f", $2 - $1}')
bytes=$(wc -c </tmp/soak.raw)
want=$((SECS * 48000 * 4))
xp=$(grep -c underrun /tmp/soak.play)
xc=$(grep -c overrun /tmp/soak.rec)
ktap_diag "arecord: $(grep -v -e overrun -e '^Recording' /tmp/soak.rec | tail -n 3)"
ktap_diag "aplay: $(grep -v -e underrun -e '^Playing' /tmp/soak.play | tail -n 3)"
ktap_diag "$SECS s at $P-frame periods: elapsed $el s, captured $bytes bytes, underruns $xp, overruns $xc"
ktap_result $((rrc != 0 || bytes != want)) "capture: exactly $SECS s of frames ($want bytes)"
ktap_result $prc "playback: $SECS s of frames, exit 0"
ok=$(echo "$el $SECS" | awk '{print ($1 <= $2 * 1.1 && $1 >= $2 * 0.95) ? 0 : 1}')
ktap_result "$ok" "both finish within 10 % of $SECS s (took $el s)"
ktap_check "no warning in dmesg" dmesg_clean soak
ktap_finish
exit $?
