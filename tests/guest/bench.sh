#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# One benchmark workload (scripts/bench.sh boots the guest once per workload and driver):
#   bench.driver=c|rs  bench.period=FRAMES  bench.secs=N (default 2)
#   bench.workload=[hog-]play|capture|duplex|tiny|nowake|nowake-capture|rtl|
#                  pa-play|pa-record|pw-play|pw-record
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
#
# Sound-server workloads (tests/guest/servers.sh; the initramfs needs the servers:
# scripts/run-guest.sh --sound-servers): a client plays S16 stereo 48 kHz noise (from
# /dev/urandom) through a server on card 0, or records from it:
#   pa-play, pa-record   PulseAudio (module-alsa-card, tsched=1 asked: PulseAudio drops it
#                        for a BATCH PCM, as both drivers' are, and in a VM, so that
#                        scripts/bench.sh boots these with the CPUID hypervisor bit off, as
#                        scripts/test.sh boots pulse.sh); pacat to the ALSA sink, pacat -r
#                        from the ALSA source
#   pw-play, pw-record   PipeWire (static ALSA adapter nodes on hw:0,0, no session
#                        manager); pw-play / pw-record linked to them with pw-link
# The server chooses the period and buffer (bench.period is ignored): what it chose is printed
# as "# " lines (its log; hw_params, sw_params and status of the PCM right after the measured
# interval, the stream still running). The daemon is started, and its start-up streaming over,
# before the idle baseline: PulseAudio runs with module-suspend-on-idle timeout=1, so that the
# sink and the source close their PCM after 1 s without a client (without it they would stream
# silence from start-up on, and the baseline would not be idle); PipeWire's nodes run only
# while linked. The baseline is taken once both PCMs are closed: server up, no stream. Then
# the client starts on a stream SECS + 12 s long (linked, for PipeWire); once the server's PCM
# runs and 1 s more has passed, the measured interval is SECS s of that steady stream, after
# which SIGINT ends the client: the start-up of the client, the server's opening and starting
# of the PCM, and the stream's end are outside the interval (unlike the ALSA workloads, whose
# interval is the whole aplay). xruns counts the server's own xruns in its log during the
# interval, not the client's output: for PulseAudio (log at debug level) its "Buffer
# underrun!" and "Buffer overrun!" lines, one per ALSA xrun it recovers from (its "Underrun!"
# and "Overrun!" lines, which it rate-limits and which may come with one of those, are printed
# as a diagnostic); for PipeWire (log at info level) the growth of the xrun count:N of the
# nodes' "XRun!" lines (a graph cycle that was late: logged rate-limited with the node's
# total, so this is a lower bound), plus any other line with xrun, underrun or overrun (its
# ALSA plugin's). rc is the client's status after SIGINT (pw-cat's 1 counts as 0: it exits 1
# whenever a signal ends it); 1 if the PCM did not run, if the client ended before the
# interval did, or if a recording is short.
#
# Kick markers: right before the measured interval and right after it, the script reads one
# byte of the sound device's PCI configuration space, at offset 0x3e (MIN_GNT) and 0x3f
# (MAX_LAT), which no driver reads; with QEMU's trace event pci_cfg_read on, these reads are
# in the trace in line with the kicks (virtio_queue_notify), so that scripts/bench.sh counts
# only the kicks between them, not those of a sound server's start-up or of the stream's
# start and end outside the interval.
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
# Kick markers (see above): one-byte reads of the sound device's PCI configuration space.
PCICFG=$(readlink -f /sys/class/sound/card0/device/..)/config
marker() { dd if="$PCICFG" bs=1 skip=$(($1)) count=1 2>/dev/null >/dev/null; }

# Server workloads: the daemon up and its start-up streaming over before the baseline.
# The client's stream lasts SRV_LEN s unless SIGINT ends it after the measured interval.
SRV='' srv_rc=0 SETTLE=1 SRV_LEN=$((SECS + 12))
case $W in
pa-play | pa-record | pw-play | pw-record)
	. /tests/servers.sh
	SRV=${W%%-*} dir=p
	[ "${W#*-}" = play ] || dir=c
	if [ "$dir" = p ]; then
		n=$((SRV_RATE * 4 * SRV_LEN))
		head -c $n /dev/urandom >/tmp/srv.raw
		[ $SRV = pa ] || { wav_header $n && cat /tmp/srv.raw; } >/tmp/srv.wav
	fi
	if [ $SRV = pa ]; then pa_start 1; else pw_start; fi || srv_rc=1
	# The sink and the source have run ~1 s (PulseAudio starts them at start-up), then
	# module-suspend-on-idle closes them; PipeWire's never start without a link.
	sleep 1
	for d in p c; do
		srv_wait_pcm $d closed 10 || { echo "# $d PCM not closed: $(srv_pcm_state $d)"; srv_rc=1; }
	done
	echo "# $SRV up; PCM states before the baseline: playback $(srv_pcm_state p), capture $(srv_pcm_state c)"
	;;
esac

# srv_params: hw_params, sw_params and status of the server's PCM as "# " lines.
srv_params() { srv_pcm_params $dir '' hw_params sw_params status 2>&1; }
# srv_begin: starts the client (in the background: pid; busybox timeout execs it) on a
# stream of SRV_LEN s, links it (PipeWire), waits until the server's PCM runs, then SETTLE s
# more. rc is 1 if the stream does not run.
srv_begin() {
	rc=0
	case $W in
	pa-play)
		timeout $((SRV_LEN * 3)) pacat --raw -d "$PA_SINK" --format=s16le --rate=$SRV_RATE \
			--channels=2 </tmp/srv.raw >/tmp/out 2>&1 &
		pid=$!
		;;
	pa-record)
		timeout $((SRV_LEN * 3)) pacat -r --raw -d "$PA_SOURCE" --format=s16le \
			--rate=$SRV_RATE --channels=2 >/tmp/rec.raw 2>/tmp/out &
		pid=$!
		;;
	pw-play)
		timeout $((SRV_LEN * 3)) pw-play -P "{ node.name = bench-play $PW_AUTOPORT }" \
			/tmp/srv.wav >/tmp/out 2>&1 &
		pid=$!
		pw_link bench-play virtio-sink >>/tmp/out 2>&1 || rc=1
		;;
	pw-record)
		timeout $((SRV_LEN * 3)) pw-record -P "{ node.name = bench-rec $PW_AUTOPORT }" \
			--format s16 --rate $SRV_RATE --channels 2 /tmp/rec.wav >/tmp/out 2>&1 &
		pid=$!
		pw_link virtio-source bench-rec >>/tmp/out 2>&1 || rc=1
		;;
	esac
	t=$(uptime_cs)
	srv_wait_pcm $dir RUNNING 60 || { echo "the server's PCM does not run: $(srv_pcm_state $dir)" >>/tmp/out; rc=1; }
	echo "# the PCM runs $(awk -v d=$(($(uptime_cs) - t)) 'BEGIN {printf "%.2f", d / 100}') s after the client's start (and link)"
	sleep $SETTLE
}
# srv_end: after the measured interval: the PCM's parameters, then SIGINT ends the client.
# rc is the client's status; 1 if it ended before the interval did or if a recording has
# less than SETTLE + SECS s.
srv_end() {
	kill -0 $pid 2>/dev/null || { echo "the client ended before the measured interval did" >>/tmp/out; rc=1; }
	srv_params
	kill -INT $pid 2>/dev/null
	wait $pid
	crc=$?
	echo "client status $crc after SIGINT" >>/tmp/out
	# pw-cat (PipeWire 0.3.65) exits 1 when a signal ends it: an error shows as an early end.
	[ $SRV = pa ] || [ $crc -ne 1 ] || crc=0
	[ $rc -ne 0 ] || rc=$crc
	if [ $dir = c ]; then
		want=$((SRV_RATE * 4 * (SETTLE + SECS))) f=/tmp/rec.raw
		[ $SRV = pa ] || f=/tmp/rec.wav
		got=$(wc -c <$f 2>/dev/null || echo 0)
		echo "recorded $got bytes, want at least $want" >>/tmp/out
		[ $rc -ne 0 ] || [ "$got" -ge "$want" ] || rc=1
	fi
}

# The idle baseline: the same boot and load, no stream, as long as the stream's audio.
l0=$(loc) v0=$(uptime_cs)
sleep "$SECS"
l1=$(loc) v1=$(uptime_cs)
if [ -n "$SRV" ]; then
	if [ $srv_rc -eq 0 ]; then srv_begin; else echo "$SRV did not start" >/tmp/out; rc=1; fi
	m0=$(srv_log_mark)
fi
marker 0x3e
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
pa-* | pw-*) sleep "$SECS" ;;
*) echo "unknown workload $W" >/tmp/out; rc=2 ;;
esac
L1=$(loc)
u1=$(uptime_cs)
i1=$(device_irqs)
set -- $(cpu)
marker 0x3f
[ -z "$hogs" ] || kill $hogs
if [ -n "$SRV" ]; then
	# The server's own xruns during the stream (see above), and what it chose.
	m1=$(srv_log_mark)
	srv_log_since "$m0" | head -n $((m1 - m0)) >/tmp/srv.stream.log
	[ $srv_rc -ne 0 ] || srv_end
	echo "# $SRV log lines during the stream: $(wc -l </tmp/srv.stream.log)"
	if [ $SRV = pa ]; then
		xruns=$(grep -cE 'Buffer (underrun|overrun)!' /tmp/srv.stream.log)
		echo "# pa: \"Underrun!\" / \"Overrun!\" lines (rate-limited) during the stream: $(grep -cE '(Underrun|Overrun)!' /tmp/srv.stream.log)"
		grep -E 'tsched|timer-based|BATCH|Using [0-9.]+ fragments|Time scheduling watermark|setting avail_min|Underrun on ' $SRV_LOG |
			head -n 30 | sed 's/^/# pa: /'
	else
		# node_xrun()'s "XRun!" lines are rate-limited; their count:N is the node's total.
		xruns=$(awk -v a="$m0" -v b="$m1" '
			/XRun!/ && match($0, /\([^()]*\) XRun!/) {
				node = substr($0, RSTART + 1, RLENGTH - 8)
				n = $0; sub(/.* XRun!.* count:/, "", n); n += 0
				if (NR <= a) before[node] = n
				else if (NR <= b) { during[node] = n; if (!(node in before)) before[node] = 0 }
				next
			}
			NR > a && NR <= b && tolower($0) ~ /xrun|underrun|overrun/ { other++ }
			END { for (k in during) s += during[k] - before[k]; print s + other }' $SRV_LOG)
		grep -iE 'period|batch|buffer|quantum|xrun|underrun|overrun' $SRV_LOG | head -n 30 | sed 's/^/# pw: /'
	fi
	grep -iE 'xrun|underrun|overrun' /tmp/srv.stream.log | head -n 10 | sed 's/^/# xrun: /'
	if [ $SRV = pa ]; then pa_stop; else pw_stop; fi
else
	xruns=$(grep -c -i 'underrun\|overrun' /tmp/out)
	tx=$(sed -n 's/.*xruns=\([0-9]*\).*/\1/p' /tmp/out)
	[ -n "$tx" ] && xruns=$((xruns + tx))
fi
tail -${BENCH_TAIL:-3} /tmp/out | sed 's/^/# /'
secs() { awk -v d="$1" 'BEGIN {printf "%.2f", d / 100}'; }
echo "BENCH-RESULT rc=$rc xruns=$xruns latency_ms=$latency busy_jiffies=$(($1 - b0)) total_jiffies=$(($2 - t0)) irqs=$((i1 - i0)) loc=$((L1 - L0)) loc_idle=$((l1 - l0)) stream_s=$(secs $((u1 - u0))) idle_s=$(secs $((v1 - v0))) secs=$SECS"
exit 0
