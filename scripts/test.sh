#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# The project's test command (README.md; .ci/run calls it):
#   1. setup (idempotent, cached) and the module build, warnings refused, against the 7.2
#      bench kernel and (a copy in $KDIR2) against the second kernel, 7.3;
#   2. host tests: rustfmt check and `cargo test` of the pure logic;
#   3. guest tests: each tests/guest/*.sh run under QEMU, reporting KTAP.
# The guest results are merged into one KTAP document, $RESULTS/guest.ktap, with one
# subtest per run. The last line is "N passed, N failed"; the exit status is 1 if any
# test failed.
#
# Every guest run, the reference C driver's included, fails on a kernel splat: the guest
# scans its kernel log after the script ("# SPLAT: LINE", tests/guest/lib.sh: dmesg_scan);
# if the guest died before its scan, the serial log is scanned here.
#
# A run whose name ends in "@7.3" ("@$KVER2", versions.env: LINUX2_*) boots the second guest
# kernel ($KDIR2) with the module built against it; it counts like any other run. The
# debug kernel is a 7.2 build: --debug-kernel leaves the 7.3 runs out.
#
# usage: scripts/test.sh [--only REGEX] [--debug-kernel [--timeout-factor N]]
#   --only REGEX         selects guest runs by name
#   --long               adds the long runs (LONG_RUNS: the 10-minute soak), which do not
#                        fit CI's time budget
#   --debug-kernel       the guest runs boot the debug kernel (scripts/guest-debug.config;
#                        `scripts/setup.sh --debug-kernel` builds it) with the module built
#                        against it; results in $BENCH_CACHE/results-debug
#   --timeout-factor N   guest timeouts times N on the debug kernel (default 4)
#                        (Documentation/debug-kernel.rst)
set -uo pipefail
. "$(dirname "$0")/lib.sh"

usage() { die "usage: $0 [--only REGEX] [--long] [--debug-kernel [--timeout-factor N]]"; }
ONLY='' DEBUG=0 TFACTOR=4 LONG=0
while (($#)); do
	case $1 in
	--only) (($# >= 2)) || usage; ONLY=$2; shift 2 ;;
	--debug-kernel) DEBUG=1; shift ;;
	--long) LONG=1; shift ;;
	--timeout-factor) [[ ${2:-} =~ ^[1-9][0-9]*$ ]] || usage; TFACTOR=$2; shift 2 ;;
	*) usage ;;
	esac
done

RESULTS=$BENCH_CACHE/results
((DEBUG == 0)) || RESULTS=$BENCH_CACHE/results-debug
mkdir -p "$RESULTS"
PASS=0 FAIL=0 SKIP=0
pass() { PASS=$((PASS + 1)); printf 'PASS %s\n' "$1"; }
fail() { FAIL=$((FAIL + 1)); printf 'FAIL %s\n' "$1"; }

step "test: setup"
setup_opts=()
((DEBUG == 0)) || setup_opts=(--debug-kernel)
"$BENCH_ROOT/scripts/setup.sh" "${setup_opts[@]}" || die "setup failed"

step "test: building the guest test clients"
"$BENCH_ROOT/scripts/build-clients.sh" || die "cannot build the test clients"

step "test: building the module (warnings are errors)"
build_log=$RESULTS/build.log
if make -C "$BENCH_ROOT" -s modules >"$build_log" 2>&1 && ! grep -qiE '^warning|warning:' "$build_log"; then
	pass "module builds without warnings"
else
	cat "$build_log"
	fail "module builds without warnings"
	die "cannot run guest tests without the module"
fi
KO=$BENCH_ROOT/src/virtio_snd_rs.ko KO2=''
if ((DEBUG)); then
	step "test: building the module against the debug kernel (a copy in $KDIR_DEBUG)"
	KO=$(build_module_copy "$KDIR_DEBUG" 2>"$RESULTS/build-debug.log") ||
		{ cat "$RESULTS/build-debug.log"; die "cannot build the module against the debug kernel"; }
else
	step "test: building the module against $KVER2 (a copy in $KDIR2; warnings are errors)"
	build_log2=$RESULTS/build-$KVER2.log
	if KO2=$(build_module_copy "$KDIR2" 2>"$build_log2") && ! grep -qiE '^warning|warning:' "$build_log2"; then
		pass "module builds against $KVER2 without warnings"
	else
		cat "$build_log2"
		fail "module builds against $KVER2 without warnings"
		KO2=''
	fi
fi

step "test: rustfmt (kernel .rustfmt.toml)"
if make -C "$BENCH_ROOT" -s fmt-check >"$RESULTS/fmt.log" 2>&1; then
	pass "rustfmt --check"
else
	head -40 "$RESULTS/fmt.log"
	fail "rustfmt --check"
fi

step "test: host unit tests (cargo test)"
if (cd "$BENCH_ROOT" && cargo test --quiet) >"$RESULTS/cargo.log" 2>&1; then
	n=$(sed -n 's/^test result: ok\. \([0-9]*\) passed.*/\1/p' "$RESULTS/cargo.log" | paste -sd+ | bc)
	PASS=$((PASS + n))
	printf 'PASS cargo test (%s tests)\n' "$n"
else
	cat "$RESULTS/cargo.log"
	n=$(sed -n 's/^test result: FAILED\. [0-9]* passed; \([0-9]*\) failed.*/\1/p' "$RESULTS/cargo.log" | paste -sd+ | bc)
	FAIL=$((FAIL + ${n:-1}))
	printf 'FAIL cargo test\n'
fi

step "test: test device unit tests (tools/vsnd-device)"
if (cd "$BENCH_ROOT/tools/vsnd-device" &&
	CARGO_TARGET_DIR=$BENCH_CACHE/vsnd-device-target cargo test --quiet --locked) >"$RESULTS/vsnd-cargo.log" 2>&1; then
	n=$(sed -n 's/^test result: ok\. \([0-9]*\) passed.*/\1/p' "$RESULTS/vsnd-cargo.log" | paste -sd+ | bc)
	PASS=$((PASS + n))
	printf 'PASS vsnd-device cargo test (%s tests)\n' "$n"
else
	tail -30 "$RESULTS/vsnd-cargo.log"
	FAIL=$((FAIL + 1))
	printf 'FAIL vsnd-device cargo test\n'
fi

step "test: install paths (make modules_install, DKMS; scripts/test-install.sh)"
"$BENCH_ROOT/scripts/test-install.sh" >"$RESULTS/install.log" 2>&1
rc=$?
grep -E '^(PASS|FAIL) |^    ' "$RESULTS/install.log"
ok=$(grep -c '^PASS ' "$RESULTS/install.log")
bad=$(grep -c '^FAIL ' "$RESULTS/install.log")
((rc == 0 || bad > 0)) || { tail -20 "$RESULTS/install.log"; bad=1; printf 'FAIL test-install.sh exited with %s\n' "$rc"; }
PASS=$((PASS + ok))
FAIL=$((FAIL + bad))

# Guest runs: NAME | run-guest.sh options | guest script. A run whose name ends in "@c"
# runs the same script against the reference C driver (bench.driver=c): its results go to
# the comparison table ($RESULTS/comparison.txt), not to the totals.
GUEST_RUNS=(
	"probe-streams2|--append bench.streams=2|probe.sh"
	"probe-streams4|--streams 4 --append bench.streams=4|probe.sh"
	"probe-empty|--vsnd --streams=0|probe-empty.sh"
	"vsnd-smoke|--vsnd --streams=2 --append bench.driver=rs --append bench.period=64|vsnd-smoke.sh"
	"pcm|--backend none|pcm.sh"
	"pcm-ops|--backend none|pcm-ops.sh"
	"pcm-poll|--backend none --append bench.rsparams=poll=1|pcm.sh"
	"pcm-ops-poll|--backend none --append bench.rsparams=poll=1|pcm-ops.sh"
	"pcm-mode|--backend none|pcm-mode.sh"
	"pcm-polldefer|--backend none --append bench.rsparams=poll=1,defer_kicks=1|pcm.sh"
	"vsnd-features|--vsnd '--streams=2 --pcm-features=xruns,polling' --vsnd-exec 'trigger START 0 500 xrun 0'|vsnd-features.sh"
	"vsnd-features-poll|--vsnd '--streams=2 --pcm-features=xruns,polling' --vsnd-exec 'trigger START 0 500 xrun 0' --append bench.rsparams=poll=1|vsnd-features.sh"
	"vsnd-jacks|--vsnd '--streams=2 --jacks=2 --chmaps=2' --vsnd-exec 'trigger START 0 100 jack 0 disconnect' --vsnd-exec 'trigger STOP 0 0 jack 0 connect'|vsnd-jacks.sh"
	"vsnd-controls|--vsnd '--streams=2 --controls=default' --vsnd-exec 'trigger START 0 100 ctl-set 0 20'|vsnd-controls.sh"
	"vsnd-multi|--vsnd '--streams=4 --nids=2 --channels-max=6 --chmaps=standard' --timeout 240|vsnd-multi.sh"
	"mixer-test|--vsnd '--streams=2 --controls=default' --timeout 300 --append bench.kselftest=mixer-test|kselftest.sh"
	"vsnd-remap|--vsnd '--streams=2 --jacks=2 --jack-remap'|vsnd-remap.sh"
	# System sleep with streams open (suspend-to-idle, pm_test=devices), on QEMU's device and
	# on vsnd-device (a vhost-user device: the reset goes through the backend).
	"suspend|--backend none --timeout 300|suspend.sh"
	"suspend-vsnd|--vsnd '--streams=2 --controls=default --reset-controls' --timeout 300|suspend.sh"
	# One fault per --vsnd-exec, each on a stream of its own (tests/guest/vsnd-faults.sh, Documentation/fault-matrix.rst).
	"vsnd-faults|--timeout 300 --vsnd --streams=48 \
		--vsnd-exec 'fault ctl-status IO_ERR on PCM_INFO count 1' --vsnd-exec 'fault ctl-short 20 on PCM_INFO count 1' \
		--vsnd-exec 'fault ctl-drop on PCM_INFO count 1' --vsnd-exec 'fault ctl-status BAD_MSG on SET_PARAMS stream 0 count 1' \
		--vsnd-exec 'fault ctl-status NOT_SUPP on SET_PARAMS stream 2 count 1' --vsnd-exec 'fault ctl-status IO_ERR on SET_PARAMS stream 4 count 1' \
		--vsnd-exec 'fault ctl-status 0x1234 on SET_PARAMS stream 6 count 1' --vsnd-exec 'fault ctl-short 2 on PREPARE stream 8 count 1' \
		--vsnd-exec 'fault ctl-used-len 0 on PREPARE stream 10 count 1' --vsnd-exec 'fault ctl-used-len 65536 on SET_PARAMS stream 12 count 1' \
		--vsnd-exec 'fault ctl-delay 1500 on SET_PARAMS stream 14 count 1' --vsnd-exec 'fault ctl-drop on PREPARE stream 16 count 1' \
		--vsnd-exec 'fault ctl-status IO_ERR on START stream 18 count 1' --vsnd-exec 'fault ctl-drop on START stream 20 count 1' \
		--vsnd-exec 'fault ctl-delay 500 on STOP stream 22 count 1' --vsnd-exec 'fault ctl-delay 1500 on STOP stream 24 count 1' \
		--vsnd-exec 'fault ctl-status BAD_MSG on RELEASE stream 26 count 1' --vsnd-exec 'fault ctl-drop on RELEASE stream 28 count 1' \
		--vsnd-exec 'fault io-status IO_ERR stream 30 count 1' --vsnd-exec 'fault io-short 4 stream 32 count 1' \
		--vsnd-exec 'fault io-used-len 0 stream 34 count 1' --vsnd-exec 'fault io-used-len 99999 stream 36 count 1' \
		--vsnd-exec 'fault io-delay 50 stream 38 count 1' --vsnd-exec 'fault io-delay 5000 stream 40 count 1' --vsnd-exec 'fault io-drop stream 42 count 1' \
		--vsnd-exec 'fault io-latency 192000 stream 44' --vsnd-exec 'trigger START 46 100 xrun 99' --vsnd-exec 'trigger START 46 200 period 99' \
		--vsnd-exec 'trigger START 46 300 event jack-connected 99' --vsnd-exec 'trigger START 46 400 event 0x9999 0' \
		--vsnd-exec 'trigger START 46 500 event ctl-notify 7' --vsnd-exec 'fault ctl-status IO_ERR on START stream 1 count 1' \
		--vsnd-exec 'fault io-status IO_ERR stream 3 count 1' --vsnd-exec 'fault io-used-len 2056 stream 5 count 4' \
		--vsnd-exec 'trigger START 7 600 fault io-short 2056 stream 7 count 1' \
		|vsnd-faults.sh"
	"kselftest|--backend none --timeout 300|kselftest.sh"
	"alsabat|--backend pa --timeout 600 --append bench.tries=3|alsabat.sh"
	# PulseAudio in the guest on the driver (tests/guest/pulse.sh). hypervisor=off: PulseAudio
	# turns timer-based scheduling off in any VM it detects; without the CPUID bit the driver's
	# own flags decide.
	"pulse|--backend pa --timeout 300 --qemu-arg -cpu --qemu-arg max,hypervisor=off|pulse.sh"
	"pcm@c|--backend none --append bench.driver=c|pcm.sh"
	"pcm-ops@c|--backend none --append bench.driver=c|pcm-ops.sh"
	"kselftest@c|--backend none --timeout 300 --append bench.driver=c|kselftest.sh"
	"alsabat@c|--backend pa --timeout 600 --append bench.tries=3 --append bench.driver=c|alsabat.sh"
	"pulse@c|--backend pa --timeout 300 --qemu-arg -cpu --qemu-arg max,hypervisor=off --append bench.driver=c|pulse.sh"
	"vsnd-jacks@c|--vsnd '--streams=2 --jacks=2 --chmaps=2' --vsnd-exec 'trigger START 0 100 jack 0 disconnect' --vsnd-exec 'trigger STOP 0 0 jack 0 connect' --append bench.driver=c|vsnd-jacks.sh"
	"vsnd-controls@c|--vsnd '--streams=2 --controls=default' --vsnd-exec 'trigger START 0 100 ctl-set 0 20' --append bench.driver=c|vsnd-controls.sh"
	"vsnd-remap@c|--vsnd '--streams=2 --jacks=2 --jack-remap' --append bench.driver=c|vsnd-remap.sh"
	"suspend@c|--backend none --timeout 300 --append bench.driver=c|suspend.sh"
	"suspend-vsnd@c|--vsnd '--streams=2 --controls=default --reset-controls' --timeout 300 --append bench.driver=c|suspend.sh"
	"vsnd-multi@c|--vsnd '--streams=4 --nids=2 --channels-max=6 --chmaps=standard' --timeout 240 --append bench.driver=c|vsnd-multi.sh"
	"mixer-test@c|--vsnd '--streams=2 --controls=default' --timeout 300 --append bench.kselftest=mixer-test --append bench.driver=c|kselftest.sh"
	"vsnd-faults@c|--timeout 300 --vsnd --streams=48 --append bench.driver=c \
		--vsnd-exec 'fault ctl-status IO_ERR on PCM_INFO count 1' --vsnd-exec 'fault ctl-short 20 on PCM_INFO count 1' \
		--vsnd-exec 'fault ctl-drop on PCM_INFO count 1' --vsnd-exec 'fault ctl-status BAD_MSG on SET_PARAMS stream 0 count 1' \
		--vsnd-exec 'fault ctl-status NOT_SUPP on SET_PARAMS stream 2 count 1' --vsnd-exec 'fault ctl-status IO_ERR on SET_PARAMS stream 4 count 1' \
		--vsnd-exec 'fault ctl-status 0x1234 on SET_PARAMS stream 6 count 1' --vsnd-exec 'fault ctl-short 2 on PREPARE stream 8 count 1' \
		--vsnd-exec 'fault ctl-used-len 0 on PREPARE stream 10 count 1' --vsnd-exec 'fault ctl-used-len 65536 on SET_PARAMS stream 12 count 1' \
		--vsnd-exec 'fault ctl-delay 1500 on SET_PARAMS stream 14 count 1' --vsnd-exec 'fault ctl-drop on PREPARE stream 16 count 1' \
		--vsnd-exec 'fault ctl-status IO_ERR on START stream 18 count 1' --vsnd-exec 'fault ctl-drop on START stream 20 count 1' \
		--vsnd-exec 'fault ctl-delay 500 on STOP stream 22 count 1' --vsnd-exec 'fault ctl-delay 1500 on STOP stream 24 count 1' \
		--vsnd-exec 'fault ctl-status BAD_MSG on RELEASE stream 26 count 1' --vsnd-exec 'fault ctl-drop on RELEASE stream 28 count 1' \
		--vsnd-exec 'fault io-status IO_ERR stream 30 count 1' --vsnd-exec 'fault io-short 4 stream 32 count 1' \
		--vsnd-exec 'fault io-used-len 0 stream 34 count 1' --vsnd-exec 'fault io-used-len 99999 stream 36 count 1' \
		--vsnd-exec 'fault io-delay 50 stream 38 count 1' --vsnd-exec 'fault io-delay 5000 stream 40 count 1' --vsnd-exec 'fault io-drop stream 42 count 1' \
		--vsnd-exec 'fault io-latency 192000 stream 44' --vsnd-exec 'trigger START 46 100 xrun 99' --vsnd-exec 'trigger START 46 200 period 99' \
		--vsnd-exec 'trigger START 46 300 event jack-connected 99' --vsnd-exec 'trigger START 46 400 event 0x9999 0' \
		--vsnd-exec 'trigger START 46 500 event ctl-notify 7' --vsnd-exec 'fault ctl-status IO_ERR on START stream 1 count 1' \
		--vsnd-exec 'fault io-status IO_ERR stream 3 count 1' --vsnd-exec 'fault io-used-len 2056 stream 5 count 4' \
		--vsnd-exec 'trigger START 7 600 fault io-short 2056 stream 7 count 1' \
		|vsnd-faults.sh"
	# Reliability (tests/guest/stress-*.sh): bad input from userspace (exact errnos), rmmod and
	# unbind/bind under load, hot-unplug under load (PCI remove/rescan; QMP device_del/device_add
	# when the guest kernel has PCI hotplug), also while SET_PARAMS is delayed, concurrency.
	"stress-errno|--backend none --timeout 300|stress-errno.sh"
	"soak|--backend none --timer-period 2000 --timeout 240 --append bench.soak_secs=30|soak.sh"
	"stress-concurrency|--vsnd '--streams=6 --capture-freq=997' --timeout 400 --append bench.sine=997|stress-concurrency.sh"
	"stress-unbind|--backend none --timeout 300|stress-unbind.sh"
	"stress-unplug|--backend none --qmp --timeout 300|stress-unplug.sh"
	"stress-unplug-ctl|--vsnd '--streams=2 --persist' --vsnd-exec 'fault ctl-delay 900 on SET_PARAMS' --qmp --timeout 300 --append bench.vsnd=1 --append bench.settle=0.3|stress-unplug.sh"
	"stress-unbind@c|--backend none --timeout 300 --append bench.driver=c|stress-unbind.sh"
	"stress-errno@c|--backend none --timeout 300 --append bench.driver=c|stress-errno.sh"
	"stress-concurrency@c|--vsnd '--streams=6 --capture-freq=997' --timeout 400 --append bench.sine=997 --append bench.driver=c|stress-concurrency.sh"
	# The second kernel (7.3): probe, playback/capture smoke on QEMU's device and on
	# vsnd-device, and the polling mode (the kernel crate's hrtimer changed in 7.3); the full
	# suite runs on 7.2.
	"probe-streams2@$KVER2|--append bench.streams=2|probe.sh"
	"vsnd-smoke@$KVER2|--vsnd --streams=2 --append bench.driver=rs --append bench.period=64|vsnd-smoke.sh"
	"pcm@$KVER2|--backend none|pcm.sh"
	"pcm-poll@$KVER2|--backend none --append bench.rsparams=poll=1|pcm.sh"
	"suspend@$KVER2|--backend none --timeout 300|suspend.sh"
)
# Runs too long for CI (--long): the soak of issue 6, 10 minutes of full-duplex streaming
# at 256-frame periods with an exact frame count (tests/guest/soak.sh); with --debug-kernel,
# on the debug kernel. The 30 s "soak" above keeps the script itself tested in CI.
LONG_RUNS=(
	"soak-long|--backend none --timer-period 2000 --timeout 900 --append bench.soak_secs=600|soak.sh"
)
((LONG == 0)) || GUEST_RUNS+=("${LONG_RUNS[@]}")
trap '"$BENCH_ROOT/scripts/pa-loopback.sh" stop >/dev/null 2>&1 || true' EXIT

# The splat pattern of the guest's scan, for the serial log of a guest that died before it.
SPLAT_RE=$(sed -n "s/^SPLAT_RE='\(.*\)'\$/\1/p" "$BENCH_ROOT/tests/guest/lib.sh")
SPLAT_IGNORE_RE=$(sed -n "s/^SPLAT_IGNORE_RE='\(.*\)'\$/\1/p" "$BENCH_ROOT/tests/guest/lib.sh")
[[ -n $SPLAT_RE && -n $SPLAT_IGNORE_RE ]] || die "no SPLAT_RE in tests/guest/lib.sh"
# splat_lines LOG: the kernel log's splat lines of a guest run, one per line.
splat_lines() {
	if grep -q '^# dmesg-scan: ' "$1"; then
		sed -n 's/^# SPLAT: //p' "$1"
	else
		grep -aE "$SPLAT_RE" "$1" | grep -vE "$SPLAT_IGNORE_RE"
	fi
}

# On the debug kernel (several times slower under TCG), the checks that measure wall-clock
# time or real-time audio do not hold; they still run (their kernel log is scanned), but
# their "not ok" becomes "ok ... # SKIP debug kernel: REASON", printed as SKIP lines, with
# the original line kept as a "# debug-kernel: was:" diag. RUN<TAB>RESULT LINE<TAB>REASON:
DEBUG_SKIPS=(
	$'^pcm(-poll)?(@c)?$\t # rc=0 after [0-9]+ ms, want [0-9]+\\.\\.[0-9]+ ms$\tthe command succeeded; its wall-clock duration is out of the window'
	$'^pcm-ops(-poll)?(@c)?$\t (pause 500 ms mid-stream|playback underrun gives EPIPE|capture overrun gives EPIPE)\tthe client must move data within one buffer after a resume or recovery'
	$'^kselftest(@c)?$\t default\\.time[0-9]+\\.\tpcm-test counts the frames moved in a fixed wall-clock time'
	$'^alsabat(@c)?$\t # passed [0-9]+ of [0-9]+$\talsabat needs the tone in real time through PulseAudio'
	$'^pulse(@c)?$\t (paplay 3 s tone|pacat -r records 3 s|round trip carries|no ALSA underrun)\tPulseAudio needs the stream in real time'
)
# debug_skips LOG NAME: applies DEBUG_SKIPS to the top-level results of LOG, in place;
# prints a SKIP line per converted result.
debug_skips() {
	local log=$1 name=$2 line rule run re why n test tmp
	local said=()
	tmp=$(mktemp)
	while IFS= read -r line; do
		if [[ $line =~ ^not\ ok\ ([0-9]+)\ (.*)$ ]]; then
			n=${BASH_REMATCH[1]} test=${BASH_REMATCH[2]%% # *}
			for rule in "${DEBUG_SKIPS[@]}"; do
				IFS=$'\t' read -r run re why <<<"$rule"
				[[ $name =~ $run && $line =~ $re ]] || continue
				printf '# debug-kernel: was: %s\n' "$line"
				line="ok $n $test # SKIP debug kernel: $why"
				said+=("SKIP $name: $test (debug kernel: $why)")
				break
			done
		fi
		printf '%s\n' "$line"
	done <"$log" >"$tmp"
	mv -f "$tmp" "$log"
	((${#said[@]} == 0)) || printf '%s\n' "${said[@]}"
}

ktap=$RESULTS/guest.ktap
runs=()
for r in "${GUEST_RUNS[@]}"; do
	((DEBUG == 0)) || [[ ${r%%|*} != *@"$KVER2" ]] || continue
	[[ -z $ONLY || ${r%%|*} =~ $ONLY ]] && runs+=("$r")
done
nrs=0
for r in "${runs[@]}"; do [[ ${r%%|*} == *@c ]] || nrs=$((nrs + 1)); done
{
	echo "KTAP version 1"
	echo "1..$nrs"
} >"$ktap"
i=0
for r in "${runs[@]}"; do
	IFS='|' read -r name opts script <<<"$r"
	step "test: guest run $name ($script)"
	log=$RESULTS/$name.log
	# The options may quote words with spaces (--vsnd-exec "CMD"): the table is ours.
	eval "optv=($opts)"
	ko=$KO
	if [[ $name == *@"$KVER2" ]]; then
		if [[ -z $KO2 ]]; then
			i=$((i + 1))
			fail "$name: no module for $KVER2"
			echo "not ok $i $name # no module for $KVER2" >>"$ktap"
			continue
		fi
		ko=$KO2
		optv+=(--kdir "$KDIR2")
	fi
	if ((DEBUG)); then
		# The debug kernel is slower: the run's timeout (run-guest.sh's default 120 s) times N.
		t=120
		for ((k = 0; k + 1 < ${#optv[@]}; k++)); do [[ ${optv[k]} == --timeout ]] && t=${optv[k + 1]}; done
		optv+=(--kdir "$KDIR_DEBUG" --timeout "$((t * TFACTOR))" --append bench.kernel=debug
			--append kfence.sample_interval=0 --append bench.kfence=1)
	fi
	"$BENCH_ROOT/scripts/run-guest.sh" --module "$ko" "${optv[@]}" "$script" >"$log" 2>&1
	rc=$?
	splats=$(splat_lines "$log" | wc -l)
	if ((DEBUG)); then
		debug_skips "$log" "$name"
		# A script that failed only through skipped results: its status 1 no longer counts.
		((rc != 1)) || grep -qE '^not ok [0-9]+ |^# planned [0-9]+ tests' "$log" || rc=0
	fi
	report_splats() {
		printf '%s %s: kernel log has %s splat line(s)\n' "$1" "$name" "$splats"
		splat_lines "$log" | head -n 40 | sed 's/^/    /'
	}
	# Top-level KTAP results of the guest script.
	ok=$(grep -cE '^ok [0-9]+ ' "$log" || true)
	skipped=$(grep -cE '^ok [0-9]+ .*# SKIP' "$log" || true)
	bad=$(grep -cE '^not ok [0-9]+ ' "$log" || true)
	grep -E '^(ok|not ok) [0-9]+ ' "$log" | sed "s/^/  [$name] /"
	# Per-test results, for the comparison table: RUN<TAB>TEST<TAB>ok|FAIL|skip.
	grep -E '^(ok|not ok) [0-9]+ ' "$log" | sed -E \
		-e 's/^ok [0-9]+ (.*) # SKIP.*/\1\tskip/' -e 's/^ok [0-9]+ ([^#]*[^# ]).*/\1\tok/' \
		-e 's/^not ok [0-9]+ ([^#]*[^# ]).*/\1\tFAIL/' | sed "s/^/${name%@c}\t/" \
		>"$RESULTS/$name.results"
	if [[ $name == *@c ]]; then
		((rc == 0 && bad == 0)) || ((rc == 3 && bad == 0 && splats > 0)) ||
			printf 'reference C driver: %s has %s failing test(s)\n' "$name" "$bad"
		((splats == 0)) || report_splats "reference C driver:"
		continue
	fi
	i=$((i + 1))
	PASS=$((PASS + ok - skipped))
	SKIP=$((SKIP + skipped))
	FAIL=$((FAIL + bad))
	if ((splats > 0)); then
		FAIL=$((FAIL + 1))
		report_splats FAIL
	fi
	# Status 3: the script passed, the kernel log did not (counted just above).
	if ((rc != 0 && bad == 0 && !(rc == 3 && splats > 0))); then
		FAIL=$((FAIL + 1))
		printf 'FAIL %s: guest exited with %s and reported no failing test\n' "$name" "$rc"
		tail -20 "$log"
	elif ((bad > 0)); then
		grep -E '^not ok|^# ' "$log" | head -40
	fi
	# Nest the guest's KTAP as a subtest of the host document.
	sed -n '/^KTAP version 1$/,/^# Totals/p' "$log" | sed 's/^/  /' >>"$ktap"
	splat_lines "$log" | sed 's/^/  # SPLAT: /' >>"$ktap"
	if ((rc == 0 && bad == 0 && splats == 0)); then
		echo "ok $i $name" >>"$ktap"
	else
		echo "not ok $i $name" >>"$ktap"
	fi
done

# The comparison table: every test of a run that also ran against the C driver.
{
	printf '%-62s %-6s %-6s\n' "test" "Rust" "C"
	for r in "${runs[@]}"; do
		name=${r%%|*}
		[[ $name == *@c || ! -f $RESULTS/$name@c.results ]] && continue
		while IFS=$'\t' read -r run test res; do
			cres=$(awk -F'\t' -v t="$test" '$2 == t {print $3; exit}' "$RESULTS/$name@c.results")
			printf '%-62s %-6s %-6s\n' "$run: $test" "$res" "${cres:--}"
		done <"$RESULTS/$name.results"
	done
} >"$RESULTS/comparison.txt"
step "test: Rust and C side by side in $RESULTS/comparison.txt"
cat "$RESULTS/comparison.txt"

step "test: KTAP report in $ktap"
echo "$PASS passed, $FAIL failed, $SKIP skipped"
((FAIL == 0))
