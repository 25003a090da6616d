#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Benchmark: the C driver (virtio_snd.ko) and ours (virtio_snd_rs.ko) on the same QEMU
# device, same workloads, in one run. Per second of audio it counts what the VM pays:
# driver-to-device kicks of the data queues (QEMU trace virtio_queue_notify on tx and rx;
# the control queue costs both drivers the same few kicks per stream operation),
# device-to-driver interrupts that the guest took (/proc/interrupts), guest timer interrupts
# above the idle baseline of the same boot (LOC of /proc/interrupts, all CPUs, during the
# stream minus the rate measured over as many seconds without a stream before it, same
# load, times the stream's wall time; never below 0),
# wakeups (device interrupts + timer), guest CPU (busy time from /proc/stat), xruns, the
# round-trip latency (workload rtl: alsabat --roundtriplatency, pa backend), and whether the
# stream ended without error. The kicks are those between two markers that the guest
# leaves in the trace right before and right after the measured interval (tests/guest/bench.sh:
# one-byte reads of the sound device's PCI configuration space at 0x3e and 0x3f, QEMU trace
# event pci_cfg_read), so that a sound server's start-up streaming is not counted; "-" if a
# marker is missing. Each configuration of our driver (--rs) gets a table with the
# ratios ours/C, saved as $BENCH_CACHE/bench/latest-BACKEND[-timerUS]-NAME.txt, with a chart
# of the kick, wakeup and CPU ratios next to it (.png, scripts/bench-chart.sh). This is a
# benchmark, not a test: it never fails on a number.
#
# usage: scripts/bench.sh [--backend none|pa] [--timer-period US] [--audiodev-opt K=V]...
#                         [--rs NAME=PARAMS]... [--workloads "W P,W P,..."] [--quick]
#   --timer-period US   QEMU's audio tick (default 10000 us); below 10 ms QEMU can run
#                       buffers under 480 frames at real time (REFERENCE.md)
#   --audiodev-opt K=V  e.g. out.buffer-length=10000 (passed to run-guest.sh)
#   --rs NAME=PARAMS    a configuration of our driver: module parameters K=V,K=V (default:
#                       "irq=" and "poll=poll=1")
#   --workloads LIST    WORKLOAD PERIOD pairs; WORKLOAD is play, capture, duplex, tiny
#                       (8-frame writes), nowake, nowake-capture (a sound server's stream:
#                       period wakeups off if the driver can, the client's own timer every
#                       half period; pcm-client nowake), rtl, pa-play, pa-record, pw-play,
#                       pw-record (a client streaming through PulseAudio or PipeWire in the
#                       guest: pacat, pacat -r, pw-play, pw-record; the server chooses the
#                       period, PERIOD is ignored, what it chose is in the guest log; the
#                       measured interval is 3 s of the steady stream, without the server's
#                       start-up or the client's start and end; xruns are the server's own
#                       ALSA xrun log lines; see tests/guest/bench.sh), or hog-WORKLOAD
#                       (both vCPUs busy). The table has rtl columns only if a workload is
#                       rtl (as by default with --backend pa).
set -euo pipefail
. "$(dirname "$0")/lib.sh"

BACKEND=none QUICK=0 TIMER= LIST=
VARIANTS=() AUDIODEV=()
while (($#)); do
	case $1 in
	--backend) BACKEND=$2; shift 2 ;;
	--quick) QUICK=1; shift ;;
	--timer-period) TIMER=$2; shift 2 ;;
	--audiodev-opt) AUDIODEV+=(--audiodev-opt "$2"); shift 2 ;;
	--rs) VARIANTS+=("$2"); shift 2 ;;
	--workloads) LIST=$2; shift 2 ;;
	*) sed -n '/^# usage:/,/^[^#]/p' "$0" | sed '$d; s/^# \{0,1\}//' >&2; exit 2 ;;
	esac
done
((${#VARIANTS[@]})) || VARIANTS=("irq=" "poll=poll=1")

# The benchmark's kernel has none of the gating kernels' detectors, whose cost would swamp
# what is measured (scripts/lib.sh: KDIR_BENCH); the module is built against it in a copy.
"$BENCH_ROOT/scripts/setup.sh" --bench-kernel >/dev/null
"$BENCH_ROOT/scripts/build-clients.sh"
KO=$(build_module_copy "$KDIR_BENCH") || die "cannot build the module against $KDIR_BENCH"
OUT=$BENCH_CACHE/bench
mkdir -p "$OUT"

WORKLOADS=("play 4800" "play 960" "play 480" "play 256" "play 128" "play 64"
	"capture 4800" "capture 480" "capture 128" "capture 64" "tiny 256"
	"duplex 256" "duplex 128" "nowake 480" "nowake-capture 480" "hog-duplex 256" "hog-play 128")
[[ $BACKEND == pa ]] && WORKLOADS+=("rtl 1024" "rtl 512" "rtl 256")
((QUICK)) && WORKLOADS=("play 480" "play 64" "tiny 256")
[[ -z $LIST ]] || IFS=, read -r -a WORKLOADS <<<"$LIST"
SECS=3

# run DRIVER RSPARAMS WORKLOAD PERIOD
#   -> "kicks irqs busy rc xruns latency_ms loc loc_idle stream_s idle_s"
run() {
	local tag=$1-${2//[=,]/_}-$3-$4
	local trace=$OUT/trace.$tag log=$OUT/log.$tag
	# The sound servers' workloads need them in the initramfs; PulseAudio runs with the CPUID
	# hypervisor bit off, as scripts/test.sh runs tests/guest/pulse.sh: PulseAudio 16 would
	# drop tsched in a VM before asking the driver (it drops it for both drivers anyway,
	# whose PCMs are BATCH).
	local extra=()
	case ${3#hog-} in
	pa-*) extra=(--sound-servers --qemu-arg -cpu --qemu-arg max,hypervisor=off) ;;
	pw-*) extra=(--sound-servers) ;;
	esac
	rm -f "$trace"
	"$BENCH_ROOT/scripts/run-guest.sh" --backend "$BACKEND" ${TIMER:+--timer-period "$TIMER"} \
		"${AUDIODEV[@]}" --timeout 180 --trace "$trace" --trace-event pci_cfg_read \
		--kdir "$KDIR_BENCH" --module "$KO" "${extra[@]}" \
		--append "bench.driver=$1 bench.rsparams=$2 bench.workload=$3 bench.period=$4 bench.secs=$SECS" \
		bench.sh >"$log" 2>&1 || true
	local res kicks
	res=$(grep -a '^BENCH-RESULT' "$log" | tail -n1)
	[[ -n $res ]] || { echo "- - - fail - - - - - -"; return; }
	# Data queues only (tx 2, rx 3), between the guest's markers (see above).
	kicks=$(awk '
		/^pci_cfg_read virtio-sound-pci .* @0x3e / && !on && !done { on = 1; seen = 1; next }
		/^pci_cfg_read virtio-sound-pci .* @0x3f / && on { on = 0; done = 1 }
		on && /^virtio_queue_notify .* n [23] / { n++ }
		END { print done ? n + 0 : "-" }' "$trace")
	eval "$(echo "$res" | cut -d' ' -f2- | tr ' ' '\n' | sed 's/^/local r_/')"
	echo "$kicks $r_irqs $r_busy_jiffies $r_rc $r_xruns ${r_latency_ms:--} ${r_loc:--} ${r_loc_idle:--} ${r_stream_s:--} ${r_idle_s:--}"
}

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0 && a != "-") printf "%.2f", a / b; else print "-" }'; }
per_s() { awk -v a="$1" -v s="$SECS" 'BEGIN { if (a == "-") print "-"; else printf "%.0f", a / s }'; }
# LOC IDLE STREAM_S IDLE_S: the timer interrupts above the idle baseline, which is IDLE
# over IDLE_S seconds, scaled to the stream's STREAM_S (at least 0); "-" if unknown.
above() {
	awk -v a="$1" -v b="$2" -v sa="$3" -v sb="$4" 'BEGIN {
		if (a == "-" || b == "-" || sa == "-" || sb == "-" || sb <= 0) { print "-"; exit }
		d = a - b * sa / sb; printf "%.0f", (d > 0 ? d : 0) }'
}
plus() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "-" || b == "-") print "-"; else print a + b }'; }
okay() { [[ $1 == 0 ]] && echo yes || echo "no($1)"; }

declare -A C
for w in "${WORKLOADS[@]}"; do
	read -r wl p <<<"$w"
	step "bench: $wl, period $p: C driver"
	C[$w]=$(run c "" "$wl" "$p")
done
hz=$(grep -o 'CONFIG_HZ=[0-9]*' "$KDIR_BENCH/.config" | cut -d= -f2)
# The workload column as wide as the longest name; the rtl columns only for rtl workloads;
# a note on the server workloads only if there are some.
wlw=12 rtl=0 srv=0
for w in "${WORKLOADS[@]}"; do
	read -r wl _ <<<"$w"
	((${#wl} <= wlw)) || wlw=${#wl}
	[[ ${wl#hog-} != rtl ]] || rtl=1
	[[ ${wl#hog-} != p[aw]-* ]] || srv=1
done
# row WORKLOAD PERIOD C-RESULT RUST-RESULT (results as run prints them), or the column names.
row() {
	# (printf repeats its format for extra arguments: the rtl ones only with their columns.)
	local fmt="%-${wlw}s %-6s | %7s %7s %6s | %7s %7s %6s | %7s %7s %6s | %9s %9s %6s | %6s %6s %6s | %5s %5s | %-8s %-8s"
	local rtlc=()
	if (($# == 0)); then
		((rtl == 0)) || { fmt+=" | %6s %6s"; rtlc=(rtl/C rtl/R); }
		# shellcheck disable=SC2059 # the format is ours
		printf "$fmt\n" workload period kicks/C kicks/R ratio irq/C irq/R ratio timer/C timer/R ratio \
			wakeups/C wakeups/R ratio cpu/C cpu/R ratio xrC xrR ok/C ok/R "${rtlc[@]}" | sed 's/ *$//'
		return
	fi
	local kc gc bc rcc xc lc loc_c idle_c sc ic kr gr br rcr xr lr loc_r idle_r sr ir tc tr wc wr
	read -r kc gc bc rcc xc lc loc_c idle_c sc ic <<<"$3"
	read -r kr gr br rcr xr lr loc_r idle_r sr ir <<<"$4"
	tc=$(above "$loc_c" "$idle_c" "$sc" "$ic") tr=$(above "$loc_r" "$idle_r" "$sr" "$ir")
	wc=$(plus "$gc" "$tc") wr=$(plus "$gr" "$tr")
	((rtl == 0)) || { fmt+=" | %6s %6s"; rtlc=("$lc" "$lr"); }
	# shellcheck disable=SC2059
	printf "$fmt\n" "$1" "$2" "$(per_s "$kc")" "$(per_s "$kr")" "$(ratio "$kr" "$kc")" \
		"$(per_s "$gc")" "$(per_s "$gr")" "$(ratio "$gr" "$gc")" \
		"$(per_s "$tc")" "$(per_s "$tr")" "$(ratio "$tr" "$tc")" \
		"$(per_s "$wc")" "$(per_s "$wr")" "$(ratio "$wr" "$wc")" \
		"$(per_s "$bc")" "$(per_s "$br")" "$(ratio "$br" "$bc")" "$xc" "$xr" \
		"$(okay "$rcc")" "$(okay "$rcr")" "${rtlc[@]}" | sed 's/ *$//'
}
for v in "${VARIANTS[@]}"; do
	name=${v%%=*} params=${v#*=}
	table=$OUT/latest-$BACKEND${TIMER:+-timer$TIMER}-$name.txt
	{
		echo "virtio-snd benchmark: backend $BACKEND${TIMER:+, QEMU timer-period $TIMER us}${AUDIODEV[*]:+, ${AUDIODEV[*]//--audiodev-opt /}}, Rust driver '$name' (${params:-default parameters}), 48 kHz S16 stereo, buffer = 4 periods, ${SECS} s per workload"
		echo "QEMU $(qemu-system-x86_64 --version | sed -n 's/.*version \([^ ]*\).*/\1/p'), TCG, 2 vCPUs; per second of audio; ratio = Rust / C; kicks of the tx and rx queues"
		echo "timer = LOC interrupts (local timer, all vCPUs) above the idle baseline of the same boot (no stream, same load, ${SECS} s; its rate times the stream's wall time); wakeups = irq + timer"
		row
	} >"$table"
	for w in "${WORKLOADS[@]}"; do
		read -r wl p <<<"$w"
		step "bench: $wl, period $p: Rust driver '$name'"
		row "$wl" "$p" "${C[$w]}" "$(run rs "$params" "$wl" "$p")" | tee -a "$table"
	done
	echo "cpu = busy time of both vCPUs, 1/100 s per second of audio (/proc/stat, USER_HZ; 100 = one vCPU); guest HZ=$hz$( ((rtl)) && echo "; rtl = alsabat round-trip latency, ms (workload rtl)")" >>"$table"
	((srv == 0)) || echo "pa-*, pw-*: a client through PulseAudio or PipeWire; the server chooses the period (the period column is ignored; see the guest logs $OUT/log.*); ${SECS} s of the steady stream measured; xr = the server's own ALSA xrun log lines" >>"$table"
	step "bench: table in $table"
	cat "$table"
	if chart=$("$BENCH_ROOT/scripts/bench-chart.sh" "$table"); then
		step "bench: chart in $chart"
	else
		step "bench: no chart (scripts/bench-chart.sh failed)"
	fi
done
