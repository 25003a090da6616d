#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# One benchmark workload (scripts/bench.sh boots the guest once per workload and driver):
#   bench.driver=c|rs  bench.period=FRAMES  bench.secs=N (default 2)
#   bench.workload=[hog-]play|capture|duplex|tiny|nowake|nowake-capture|rtl
# hog-WORKLOAD runs WORKLOAD with both vCPUs kept busy by two spinning shells. nowake and
# nowake-capture stream like a sound server (pcm-client nowake: period wakeups off if the
# driver can, the client's own timer every half period). rtl measures the round-trip latency
# with alsabat --roundtriplatency (buffer 4 periods; needs the pa backend's loopback) and
# reports it as latency_ms.
# 48 kHz S16 stereo, buffer = 4 periods. First, with the driver loaded, no stream, and the
# hogs of hog-* already spinning, it counts the local timer interrupts (LOC of
# /proc/interrupts, all CPUs) over SECS seconds: the idle baseline of this boot. Then it runs
# the stream and prints one line
#   BENCH-RESULT rc=.. xruns=.. latency_ms=.. busy_jiffies=.. total_jiffies=.. irqs=..
#                loc=.. loc_idle=.. stream_s=.. idle_s=.. secs=..
# where irqs counts the virtio interrupts the guest took during the stream (all vectors of
# the sound device), loc the local timer interrupts during the stream, loc_idle those of the
# baseline, stream_s and idle_s the wall times of both (/proc/uptime; the stream's includes
# its start and end), and the jiffies are the ticks of the cpu line of /proc/stat (USER_HZ,
# 1/100 s, summed over both vCPUs).
. /tests/lib.sh

P=${BENCH_PERIOD:-480}
SECS=${BENCH_SECS:-2}
if [ "${BENCH_DRIVER:-rs}" = c ]; then load_c_driver; else load_rs_driver; fi
wait_for_card 5 || exit 1
sleep 0.5

cpu() { awk '/^cpu /{b=$2+$3+$4+$7+$8; t=b+$5+$6; print b, t}' /proc/stat; }
# Local timer interrupts, summed over the CPUs.
loc() { awk '$1 == "LOC:" {for (i = 2; i <= NF; i++) if ($i ~ /^[0-9]+$/) s += $i} END {print s + 0}' /proc/interrupts; }
uptime_cs() { awk '{printf "%d", $1 * 100 + 0.5}' /proc/uptime; }
A="-D hw:0,0 -t raw -f S16_LE -r 48000 -c 2 --period-size=$P --buffer-size=$((4 * P)) -d $SECS"
W=${BENCH_WORKLOAD:-play}
hogs=
case $W in
hog-*)
	W=${W#hog-}
	for _ in 1 2; do
		sh -c 'while :; do :; done' &
		hogs="$hogs $!"
	done
	;;
esac
# The idle baseline: the same boot and load, no stream, as long as the stream's audio.
l0=$(loc) v0=$(uptime_cs)
sleep "$SECS"
l1=$(loc) v1=$(uptime_cs)
set -- $(cpu)
b0=$1 t0=$2
i0=$(device_irqs)
u0=$(uptime_cs)
L0=$(loc)
latency=-
case $W in
play) aplay $A /dev/zero >/tmp/out 2>&1; rc=$? ;;
capture) arecord $A /dev/null >/tmp/out 2>&1; rc=$? ;;
duplex)
	arecord $A /dev/null >/tmp/out.c 2>&1 &
	pid=$!
	aplay $A /dev/zero >/tmp/out 2>&1
	rc=$?
	wait $pid || rc=1
	cat /tmp/out.c >>/tmp/out
	;;
tiny) pcm-client tiny hw:0,0 8 "$SECS" >/tmp/out 2>&1; rc=$? ;;
nowake) pcm-client nowake hw:0,0 playback "$P" "$SECS" >/tmp/out 2>&1; rc=$? ;;
nowake-capture) pcm-client nowake hw:0,0 capture "$P" "$SECS" >/tmp/out 2>&1; rc=$? ;;
rtl)
	alsabat -P hw:0,0 -C hw:0,0 -c 2 -r 48000 -f S16_LE --roundtriplatency \
		-B $((4 * P)) -E "$P" >/tmp/out 2>&1
	rc=$?
	latency=$(sed -n "s/.*round trip latency \([0-9]*\) *ms.*/\1/p" /tmp/out | sort -n | head -n1)
	[ -n "$latency" ] || latency=-
	;;
*) echo "unknown workload $W" >/tmp/out; rc=2 ;;
esac
L1=$(loc)
u1=$(uptime_cs)
i1=$(device_irqs)
set -- $(cpu)
[ -z "$hogs" ] || kill $hogs
xruns=$(grep -c -i 'underrun\|overrun' /tmp/out)
tx=$(sed -n 's/.*xruns=\([0-9]*\).*/\1/p' /tmp/out)
[ -n "$tx" ] && xruns=$((xruns + tx))
tail -${BENCH_TAIL:-3} /tmp/out | sed 's/^/# /'
secs() { awk -v d="$1" 'BEGIN {printf "%.2f", d / 100}'; }
echo "BENCH-RESULT rc=$rc xruns=$xruns latency_ms=$latency busy_jiffies=$(($1 - b0)) total_jiffies=$(($2 - t0)) irqs=$((i1 - i0)) loc=$((L1 - L0)) loc_idle=$((l1 - l0)) stream_s=$(secs $((u1 - u0))) idle_s=$(secs $((v1 - v0))) secs=$SECS"
exit 0
