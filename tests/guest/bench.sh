#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# One benchmark workload (scripts/bench.sh boots the guest once per workload and driver):
#   bench.driver=c|rs  bench.workload=[hog-]play|capture|duplex|tiny|rtl  bench.period=FRAMES
#   bench.secs=N (default 2)
# hog-WORKLOAD runs WORKLOAD with both vCPUs kept busy by two spinning shells. rtl measures
# the round-trip latency with alsabat --roundtriplatency (buffer 4 periods; needs the pa
# backend's loopback) and reports it as latency_ms.
# 48 kHz S16 stereo, buffer = 4 periods. Prints one line
#   BENCH-RESULT rc=.. xruns=.. busy_jiffies=.. total_jiffies=.. irqs=.. secs=..
# where irqs counts the virtio interrupts the guest took (all vectors of the sound device).
. /tests/lib.sh

P=${BENCH_PERIOD:-480}
SECS=${BENCH_SECS:-2}
if [ "${BENCH_DRIVER:-rs}" = c ]; then load_c_driver; else load_rs_driver; fi
wait_for_card 5 || exit 1
sleep 0.5

cpu() { awk '/^cpu /{b=$2+$3+$4+$7+$8; t=b+$5+$6; print b, t}' /proc/stat; }
A="-D hw:0,0 -t raw -f S16_LE -r 48000 -c 2 --period-size=$P --buffer-size=$((4 * P)) -d $SECS"
set -- $(cpu)
b0=$1 t0=$2
i0=$(device_irqs)
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
rtl)
	alsabat -P hw:0,0 -C hw:0,0 -c 2 -r 48000 -f S16_LE --roundtriplatency \
		-B $((4 * P)) -E "$P" >/tmp/out 2>&1
	rc=$?
	latency=$(sed -n "s/.*round trip latency \([0-9]*\) *ms.*/\1/p" /tmp/out | sort -n | head -n1)
	[ -n "$latency" ] || latency=-
	;;
esac
[ -z "$hogs" ] || kill $hogs
i1=$(device_irqs)
set -- $(cpu)
xruns=$(grep -c -i 'underrun\|overrun' /tmp/out)
tx=$(sed -n 's/.*xruns=\([0-9]*\).*/\1/p' /tmp/out)
[ -n "$tx" ] && xruns=$((xruns + tx))
tail -${BENCH_TAIL:-3} /tmp/out | sed 's/^/# /'
echo "BENCH-RESULT rc=$rc xruns=$xruns latency_ms=$latency busy_jiffies=$(($1 - b0)) total_jiffies=$(($2 - t0)) irqs=$((i1 - i0)) secs=$SECS"
exit 0
