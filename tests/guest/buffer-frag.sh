# SPDX-License-Identifier: GPL-2.0
#
# Measurement (issue 14, "Buffers"): how large a PCM buffer still allocates when physical
# memory is fragmented. Loads the driver (bench.driver=c: the C driver virtio_snd) with
# limits that allow buffers up to 8 MiB, probes buffers of increasing size (hw_params, then a
# 100 ms start), fragments memory with buf-frag (tests/clients/buf-frag.c: single pages
# alternately into two sets of pipes, the second set freed, so that every other page is
# free and the rest unmovable), and probes again. /proc/buddyinfo before each probe.
#   scripts/run-guest.sh --mem 512M --timeout 900 --append 'bench.driver=rs' buffer-frag.sh
#   scripts/run-guest.sh --mem 512M --timeout 900 --append 'bench.driver=c' buffer-frag.sh
# Options (kernel command line): bench.frag_kind=pipe|anon, bench.frag_keep=MB (MemFree left
# before the holes are made, default 16), bench.frag_eat=MB (anonymous memory taken after,
# from what was left contiguous; default 24), bench.frag_sizes="BYTES ...",
# bench.frag_periods=N (periods per buffer, default 16).
# Results: "# RESULT driver=D state=S bytes=N ok|fail ..." lines. The checks: the driver
# loads, the fragmentation left few free blocks of order >= 4 (the point of the exercise),
# every failure is an allocation failure (-ENOMEM) and not something else, our driver
# allocates every size up to its 4 MiB limit on the fragmented memory, dmesg is clean.
. /tests/lib.sh

DRIVER=${BENCH_DRIVER:-rs}
KIND=${BENCH_FRAG_KIND:-pipe}
KEEP=${BENCH_FRAG_KEEP:-16}
EAT=${BENCH_FRAG_EAT:-24}
SIZES=${BENCH_FRAG_SIZES:-"65536 131072 262144 524288 1048576 2097152 3145728 4194304 8388608"}
# 32 periods: a period of a 4 MiB buffer (128 KiB) fits one message on QEMU's 64-entry
# virtqueues (the Rust driver limits a period to 61 pages: Hardware::fit_ring).
PERIODS=${BENCH_FRAG_PERIODS:-32}
# Buffers of up to 10 s at the device's largest format, long periods (the C driver refuses
# a pcm_period_ms_max above 5000), many periods.
PARAMS="pcm_buffer_ms=10000 pcm_period_ms_max=5000 pcm_periods_max=1024"

ktap_plan 7

buddy() { # the free blocks per order, one line per zone
	awk '{z = $4; s = ""; for (i = 5; i <= NF; i++) s = s " " $i; printf "buddyinfo %-6s%s\n", z, s}' /proc/buddyinfo
}

# highest_order: the highest order with a free block in any zone (-1: none)
highest_order() {
	awk 'BEGIN {h = -1} {for (i = 5; i <= NF; i++) if ($i > 0 && i - 5 > h) h = i - 5} END {print h}' /proc/buddyinfo
}

# high_blocks: the number of free blocks of order >= 4, all zones
high_blocks() {
	awk '{for (i = 9; i <= NF; i++) n += $i} END {print n + 0}' /proc/buddyinfo
}

BAD=0
# probe_all STATE: every size, playback; a RESULT line each
probe_all() {
	_largest=0 _small_fails=0
	for _b in $SIZES; do
		ktap_diag "$(buddy)"
		_out=$(buf-frag probe hw:0,0 play "$_b" "$PERIODS" 2>&1)
		ktap_diag "RESULT driver=$DRIVER state=$1 bytes=$_b $_out"
		case $_out in ok*) ;; *) [ "$_b" -le 4194304 ] && _small_fails=$((_small_fails + 1)) ;; esac
		case $_out in
		ok*) [ "$_b" -gt "$_largest" ] && _largest=$_b ;;
		*"Cannot allocate memory"* | *"(-12)"*) ;;
		# The Rust driver's limit is 4 MiB (MAX_BUFFER_BYTES): a constraint, not a failure.
		*"buffer size (constraint)"*) [ "$DRIVER" = rs ] && [ "$_b" -gt 4194304 ] || BAD=$((BAD + 1)) ;;
		*) BAD=$((BAD + 1)) ;;
		esac
	done
	ktap_diag "LARGEST driver=$DRIVER state=$1 bytes=$_largest"
}

dmesg_mark buffer-frag
if [ "$DRIVER" = c ]; then
	ktap_check "load virtio_snd (C) $PARAMS" load_c_driver $PARAMS
else
	ktap_check "load virtio_snd_rs $PARAMS" load_rs_driver $PARAMS
fi
ktap_check "card appears" wait_for_card 5
ktap_diag "$(grep -E 'MemTotal|MemFree' /proc/meminfo)"

probe_all unfragmented

buf-frag frag --kind "$KIND" --keep "$KEEP" --eat "$EAT" >/tmp/frag.out 2>/tmp/frag.err &
FRAG=$!
_t=0
while ! grep -q ready /tmp/frag.out 2>/dev/null && kill -0 $FRAG 2>/dev/null && [ $_t -lt 3000 ]; do
	sleep 0.2
	_t=$((_t + 1))
done
ktap_diag "$(cat /tmp/frag.err)"
ktap_diag "$(grep -E 'MemTotal|MemFree' /proc/meminfo)"
H=$(highest_order) N=$(high_blocks)
if grep -q ready /tmp/frag.out && [ "$N" -lt 16 ]; then
	ktap_ok "fragmented: fewer than 16 free blocks of order >= 4" "$N, highest free order $H"
else
	ktap_fail "fragmented: fewer than 16 free blocks of order >= 4" "$N, highest free order $H"
fi
ktap_diag "$(cat /proc/pagetypeinfo 2>/dev/null | sed -n '/^Free pages count/,/^$/p')"

probe_all fragmented
FRAG_LARGEST=$_largest FRAG_FAILS=$_small_fails

kill $FRAG 2>/dev/null
wait $FRAG 2>/dev/null
ktap_diag "released: $(buddy | tr '\n' ' ')"
probe_all released

ktap_result "$BAD" "every failed probe is -ENOMEM (or the 4 MiB limit of ours)" "$BAD other failures"
# The Rust driver's buffers are vmalloc memory: on fragmented memory every size up to its
# limit (MAX_BUFFER_BYTES, 4 MiB) allocates and starts. (A physically contiguous buffer
# failed from 1 MiB on here.) The C driver's result is only reported.
if [ "$DRIVER" = c ]; then
	ktap_skip "fragmented: every buffer up to 4 MiB allocates" "C driver: largest $FRAG_LARGEST bytes"
elif [ "$FRAG_FAILS" = 0 ] && [ "$FRAG_LARGEST" -ge 4194304 ]; then
	ktap_ok "fragmented: every buffer up to 4 MiB allocates" "largest $FRAG_LARGEST bytes"
else
	ktap_fail "fragmented: every buffer up to 4 MiB allocates" \
		"$FRAG_FAILS failed, largest $FRAG_LARGEST bytes"
fi
ktap_check "dmesg clean" dmesg_clean buffer-frag
unload_driver
ktap_result $? "driver unloads"
ktap_finish
exit $?
