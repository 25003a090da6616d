#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Benchmark: the C driver (virtio_snd.ko) and ours (virtio_snd_rs.ko) on the same QEMU
# device, same workloads, in one run. Per second of audio it counts driver-to-device kicks
# (QEMU trace virtio_queue_notify), device-to-driver interrupts (QEMU trace virtio_notify,
# and /proc/interrupts in the guest), guest CPU (busy jiffies from /proc/stat), xruns, and
# whether the stream ended without error. Prints a table with the ratios ours/C and saves it
# in $BENCH_CACHE/bench/latest-BACKEND[-timerUS].txt, with a chart of the ratios next to it
# (.png, scripts/bench-chart.sh). This is a benchmark, not a test: it never fails on a
# number.
#
# usage: scripts/bench.sh [--backend none|pa] [--timer-period US] [--quick]
#   --timer-period US   QEMU's audio tick (default 10000 us); below 10 ms QEMU can run
#                       buffers under 480 frames at real time (REFERENCE.md)
set -euo pipefail
. "$(dirname "$0")/lib.sh"

BACKEND=none QUICK=0 TIMER=
while (($#)); do
	case $1 in
	--backend) BACKEND=$2; shift 2 ;;
	--quick) QUICK=1; shift ;;
	--timer-period) TIMER=$2; shift 2 ;;
	*) die "usage: $0 [--backend none|pa] [--timer-period US] [--quick]" ;;
	esac
done

"$BENCH_ROOT/scripts/setup.sh" >/dev/null
"$BENCH_ROOT/scripts/build-clients.sh"
make -C "$BENCH_ROOT" -s modules
OUT=$BENCH_CACHE/bench
mkdir -p "$OUT"

WORKLOADS=("play 4800" "play 960" "play 480" "play 256" "play 128" "play 64"
	"capture 480" "capture 64" "duplex 128" "tiny 256")
((QUICK)) && WORKLOADS=("play 480" "play 64" "tiny 256")
SECS=3

# run DRIVER WORKLOAD PERIOD -> "kicks irqs_trace irqs_guest busy rc xruns"
run() {
	local trace=$OUT/trace.$1-$2-$3 log=$OUT/log.$1-$2-$3
	rm -f "$trace"
	"$BENCH_ROOT/scripts/run-guest.sh" --backend "$BACKEND" ${TIMER:+--timer-period "$TIMER"} \
		--timeout 120 --trace "$trace" \
		--module "$BENCH_ROOT/src/virtio_snd_rs.ko" \
		--append "bench.driver=$1 bench.workload=$2 bench.period=$3 bench.secs=$SECS" \
		bench.sh >"$log" 2>&1 || true
	local res kicks notif
	res=$(grep -a '^BENCH-RESULT' "$log" | tail -n1)
	[[ -n $res ]] || { echo "- - - - fail -"; return; }
	# Boot, probe and teardown cost the same for both drivers and are small next to the
	# workload; the counts cover the whole boot.
	kicks=$(grep -c 'virtio_queue_notify' "$trace" || true)
	notif=$(grep -c 'virtio_notify ' "$trace" || true)
	eval "$(echo "$res" | cut -d' ' -f2- | tr ' ' '\n' | sed 's/^/local r_/')"
	echo "$kicks $notif $r_irqs $r_busy_jiffies $r_rc $r_xruns"
}

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0 && a != "-") printf "%.2f", a / b; else print "-" }'; }
per_s() { awk -v a="$1" -v s="$SECS" 'BEGIN { if (a == "-") print "-"; else printf "%.0f", a / s }'; }

table=$OUT/latest-$BACKEND${TIMER:+-timer$TIMER}.txt
{
	echo "virtio-snd benchmark: backend $BACKEND${TIMER:+, QEMU timer-period $TIMER us}, 48 kHz S16 stereo, buffer = 4 periods, ${SECS} s per workload"
	echo "QEMU $(qemu-system-x86_64 --version | sed -n 's/.*version \([^ ]*\).*/\1/p'), TCG, 2 vCPUs; per second of audio; ratio = Rust / C"
	printf '%-12s %-6s | %8s %8s %6s | %8s %8s %6s | %7s %7s %6s | %5s %5s | %-9s %-9s\n' \
		workload period kicks/C kicks/R ratio irq/C irq/R ratio cpu/C cpu/R ratio xrC xrR "ok C" "ok R"
} >"$table"
for w in "${WORKLOADS[@]}"; do
	read -r wl p <<<"$w"
	step "bench: $wl, period $p"
	read -r kc nc gc bc rcc xc <<<"$(run c "$wl" "$p")"
	read -r kr nr gr br rcr xr <<<"$(run rs "$wl" "$p")"
	printf '%-12s %-6s | %8s %8s %6s | %8s %8s %6s | %7s %7s %6s | %5s %5s | %-9s %-9s\n' \
		"$wl" "$p" "$(per_s "$kc")" "$(per_s "$kr")" "$(ratio "$kr" "$kc")" \
		"$(per_s "$nc")" "$(per_s "$nr")" "$(ratio "$nr" "$nc")" \
		"$(per_s "$bc")" "$(per_s "$br")" "$(ratio "$br" "$bc")" "$xc" "$xr" \
		"$([[ $rcc == 0 ]] && echo yes || echo "no($rcc)")" "$([[ $rcr == 0 ]] && echo yes || echo "no($rcr)")" |
		tee -a "$table"
done
echo "cpu = busy jiffies (HZ=$(grep -o 'CONFIG_HZ=[0-9]*' "$KDIR_DEFAULT/.config" | cut -d= -f2)) per second of audio, both vCPUs" >>"$table"
step "bench: table in $table"
cat "$table"
# The ratios as a chart next to the table (a benchmark: a missing chart is no failure).
if chart=$("$BENCH_ROOT/scripts/bench-chart.sh" "$table"); then
	step "bench: chart in $chart"
else
	step "bench: no chart (scripts/bench-chart.sh failed)"
fi
