#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# The project's test command (README.md; .ci/run calls it):
#   1. setup (idempotent, cached), the test clients, and the module build, warnings refused,
#      against the 7.2 gating kernel and (a copy in $KDIR2) against the 7.3 one;
#   2. host tests: rustfmt check, clippy (the kernel's lint set, by the clippy of the same
#      compiler), the coverage build (RSND_COVER=1) compiles, `cargo test` of the pure logic, its cargo-fuzz targets (a fixed number of
#      executions each, scripts/fuzz-host.sh), the test device's own tests, the install
#      paths, the DKMS install on Debian 13's own 7.2 and 7.3 kernels (a trixie root; their
#      vmlinuz boots the module: scripts/test-dkms-debian.sh); each prints its own
#      "NAME: N passed, N failed" line;
#   3. guest tests: each tests/guest/*.sh run of GUEST_RUNS under QEMU, reporting KTAP.
# The guest results are merged into one KTAP document, $RESULTS/guest.ktap, with one
# subtest per run. The last line, "N passed, N failed, N skipped", counts the checks of the
# driver in the guest (every leaf result, nested ones included); the exit status is 1 if any
# check of any step failed.
#
# The gating kernels have the kernel's detectors on (scripts/guest-debug.config: lockdep,
# the atomic-sleep check, debug objects, list debugging, KFENCE, kmemleak, the hung-task and
# soft-lockup detectors, Rust overflow checks and debug assertions). A run fails on:
#   - any of its checks failing, or fewer results than the plan ("1..N") its script states,
#     or no plan, or no result;
#   - a kernel splat: the guest scans its kernel log after the script, after a kmemleak scan
#     ("# SPLAT: LINE", tests/guest/lib.sh: dmesg_scan); if the guest died before its scan,
#     the serial log is scanned here;
#   - a guest that booted without kmemleak (then it was not a gating kernel);
#   - a guest exit status other than 0 without a failing check to show for it.
# A guest that hangs in its kernel's boot, before its script starts (no module loaded yet),
# is booted again once by run-guest.sh; the run says so, and the count of such boots is
# printed before the last line. A second hang fails the run.
#
# A run whose name ends in "@7.3" ("@$KVER2", versions.env: LINUX2_*) boots the second gating
# kernel ($KDIR2) with the module built against it; it counts like any other run.
#
# The reference runs of the C driver gate nothing: scripts/compare.sh (this script with
# --compare) runs COMPARE_RUNS for both drivers on the benchmark's kernel and writes the
# side-by-side table.
#
# usage: scripts/test.sh [--only REGEX] [--long] [--timeout-factor N]
#        scripts/test.sh --compare [--only REGEX]     (what scripts/compare.sh runs)
#   --only REGEX         selects guest runs by name
#   --long               adds the long runs (LONG_RUNS: the 10-minute soak), which do not
#                        fit CI's time budget
#   --timeout-factor N   guest timeouts of the table times N (default 3: the detectors make
#                        the gating kernel 2 to 3 times slower under TCG)
set -uo pipefail
. "$(dirname "$0")/lib.sh"

usage() { die "usage: $0 [--only REGEX] [--long] [--compare] [--timeout-factor N]"; }
ONLY='' COMPARE=0 TFACTOR=3 LONG=0
while (($#)); do
	case $1 in
	--only) (($# >= 2)) || usage; ONLY=$2; shift 2 ;;
	--compare) COMPARE=1; TFACTOR=1; shift ;;
	--long) LONG=1; shift ;;
	--timeout-factor) [[ ${2:-} =~ ^[1-9][0-9]*$ ]] || usage; TFACTOR=$2; shift 2 ;;
	*) usage ;;
	esac
done

RESULTS=$BENCH_CACHE/results
((COMPARE == 0)) || RESULTS=$BENCH_CACHE/results-compare
mkdir -p "$RESULTS"
# Host steps count apart from the driver's guest checks: each prints its own line (hstep), and
# HFAIL sums their failures for the exit status.
PASS=0 FAIL=0 SKIP=0 HFAIL=0 RETRIES=0
hstep() { # NAME PASSED FAILED: one host step's own "NAME: N passed, N failed" line
	printf '%s: %s passed, %s failed\n' "$1" "$2" "$3"
	HFAIL=$((HFAIL + $3))
}
fail() { FAIL=$((FAIL + 1)); printf 'FAIL %s\n' "$1"; }

step "test: setup"
setup_opts=()
((COMPARE == 0)) || setup_opts=(--bench-kernel)
"$BENCH_ROOT/scripts/setup.sh" "${setup_opts[@]}" || die "setup failed"

step "test: building the guest test clients"
"$BENCH_ROOT/scripts/build-clients.sh" || die "cannot build the test clients"

step "test: building the module (warnings are errors)"
build_log=$RESULTS/build.log
bpass=0 bfail=0
if make -C "$BENCH_ROOT" -s modules >"$build_log" 2>&1 && ! grep -qiE '^warning|warning:' "$build_log"; then
	bpass=$((bpass + 1))
else
	cat "$build_log"
	hstep build 0 1
	die "cannot run guest tests without the module"
fi
KO=$BENCH_ROOT/src/virtio_snd_rs.ko KO2=''
if ((COMPARE)); then
	step "test: building the module against the benchmark's kernel (a copy in $KDIR_BENCH)"
	KO=$(build_module_copy "$KDIR_BENCH" 2>"$RESULTS/build-bench.log") ||
		{ cat "$RESULTS/build-bench.log"; die "cannot build the module against the benchmark's kernel"; }
else
	step "test: building the module against $KVER2 (a copy in $KDIR2; warnings are errors)"
	build_log2=$RESULTS/build-$KVER2.log
	if KO2=$(build_module_copy "$KDIR2" 2>"$build_log2") && ! grep -qiE '^warning|warning:' "$build_log2"; then
		bpass=$((bpass + 1))
	else
		cat "$build_log2"
		bfail=$((bfail + 1))
		KO2=''
	fi
fi

step "test: rustfmt (kernel .rustfmt.toml)"
if make -C "$BENCH_ROOT" -s fmt-check >"$RESULTS/fmt.log" 2>&1; then
	bpass=$((bpass + 1))
else
	head -40 "$RESULTS/fmt.log"
	bfail=$((bfail + 1))
fi
if ((COMPARE == 0)); then
	# Clippy with the kernel's lint set (CLIPPY=1), by the clippy of the compiler that built
	# the kernel (scripts/lib.sh), in a fresh copy of its own (about 15 s), so that it always
	# runs and nothing of another build's state is left in it.
	step "test: clippy ($("$CLIPPY_DRIVER" --version 2>/dev/null); warnings are errors)"
	clippy_log=$RESULTS/clippy.log
	clippy_copy=$KDIR_DEFAULT/virtio-snd-rs-clippy
	rm -rf "$clippy_copy"
	if MODULE_COPY=$clippy_copy build_module_copy "$KDIR_DEFAULT" CLIPPY=1 \
		CLIPPY_DRIVER="$CLIPPY_DRIVER" >/dev/null 2>"$clippy_log" &&
		! grep -qE '^(warning|error)' "$clippy_log"; then
		bpass=$((bpass + 1))
	else
		head -60 "$clippy_log"
		bfail=$((bfail + 1))
	fi
fi
if ((COMPARE == 0)); then
	# The coverage build (make RSND_COVER=1, scripts/guest-coverage.sh) is not run here, but
	# it must keep building without warnings.
	step "test: coverage build (RSND_COVER=1)"
	cover_log=$RESULTS/build-cover.log
	if MODULE_COPY=$KDIR_DEFAULT/virtio-snd-rs-cover build_module_copy "$KDIR_DEFAULT" RSND_COVER=1 \
		>/dev/null 2>"$cover_log" && ! grep -qiE '^warning|warning:' "$cover_log"; then
		bpass=$((bpass + 1))
	else
		cat "$cover_log"
		bfail=$((bfail + 1))
	fi
fi
hstep build "$bpass" "$bfail"

if ((COMPARE == 0)); then
	step "test: host unit tests (cargo test)"
	if (cd "$BENCH_ROOT" && cargo test --quiet) >"$RESULTS/cargo.log" 2>&1; then
		n=$(sed -n 's/^test result: ok\. \([0-9]*\) passed.*/\1/p' "$RESULTS/cargo.log" | paste -sd+ | bc)
		hstep host "${n:-0}" 0
		((${n:-0} > 0)) || hstep host 0 1
	else
		cat "$RESULTS/cargo.log"
		n=$(sed -n 's/^test result: FAILED\. [0-9]* passed; \([0-9]*\) failed.*/\1/p' "$RESULTS/cargo.log" | paste -sd+ | bc)
		hstep host 0 "${n:-1}"
	fi

	# The host fuzzers (Documentation/fuzzing.rst): every cargo-fuzz target for a fixed
	# number of executions from the committed seeds, after a replay of the corpora (every
	# seed and every input that once crashed) under cargo test.
	step "test: host fuzzers (cargo test --lib --features fuzzing; scripts/fuzz-host.sh)"
	if (cd "$BENCH_ROOT" && cargo test --quiet --lib --features fuzzing) >"$RESULTS/fuzz-replay.log" 2>&1; then
		"$BENCH_ROOT/scripts/fuzz-host.sh" >"$RESULTS/fuzz.log" 2>&1
		rc=$?
		grep -E '^(not )?ok ' "$RESULTS/fuzz.log"
		ok=$(grep -c '^ok ' "$RESULTS/fuzz.log")
		bad=$(grep -c '^not ok ' "$RESULTS/fuzz.log")
		planned=$(sed -n 's/^1\.\.\([0-9]*\)$/\1/p' "$RESULTS/fuzz.log" | head -n1)
		if ((rc != 0 || ok == 0 || ok + bad != ${planned:-0})); then
			tail -20 "$RESULTS/fuzz.log"
			((bad > 0)) || bad=1
		fi
		hstep fuzz "$ok" "$bad"
	else
		tail -30 "$RESULTS/fuzz-replay.log"
		hstep fuzz 0 1
	fi

	step "test: test device unit tests (tools/vsnd-device)"
	if (cd "$BENCH_ROOT/tools/vsnd-device" &&
		CARGO_TARGET_DIR=$BENCH_CACHE/vsnd-device-target cargo test --quiet --locked) >"$RESULTS/vsnd-cargo.log" 2>&1; then
		n=$(sed -n 's/^test result: ok\. \([0-9]*\) passed.*/\1/p' "$RESULTS/vsnd-cargo.log" | paste -sd+ | bc)
		hstep vsnd-device "${n:-0}" 0
		((${n:-0} > 0)) || hstep vsnd-device 0 1
	else
		tail -30 "$RESULTS/vsnd-cargo.log"
		hstep vsnd-device 0 1
	fi

	# check_step NAME LOG SCRIPT [ARGS...]: a host step of PASS/FAIL lines (scripts/lib.sh:
	# check_pass, check_fail); an exit status other than 0 without a FAIL line, or no line
	# at all, is a failure too.
	check_step() {
		local name=$1 log=$2 script=$3 rc ok bad
		shift 3
		"$BENCH_ROOT/scripts/$script" "$@" >"$log" 2>&1
		rc=$?
		grep -E '^(PASS|FAIL) |^    ' "$log"
		ok=$(grep -c '^PASS ' "$log")
		bad=$(grep -c '^FAIL ' "$log")
		((rc == 0 || bad > 0)) || { tail -20 "$log"; bad=1; printf 'FAIL %s exited with %s\n' "$script" "$rc"; }
		((ok + bad > 0)) || { bad=1; printf 'FAIL %s reported nothing\n' "$script"; }
		hstep "$name" "$ok" "$bad"
	}

	step "test: install paths (make modules_install, DKMS; scripts/test-install.sh)"
	check_step install "$RESULTS/install.log" test-install.sh

	# Debian 13's own kernels, 7.2 and 7.3, with the DKMS install that the admin guide gives,
	# in a trixie root (debootstrap, cached in $BENCH_CACHE/debian13-root with the kernel
	# crates' metadata that the install builds once per kernel); their vmlinuz boots with the
	# DKMS-built module, which plays and records the integrity pattern exactly.
	for rel in "${LINUX_SOURCE_VERSION%%-*}+deb13-amd64" "${LINUX2_SOURCE_VERSION%%-*}+deb13-amd64"; do
		step "test: DKMS on Debian 13's own kernel $rel (scripts/test-dkms-debian.sh)"
		check_step "dkms-debian-${rel%%+*}" "$RESULTS/dkms-debian-$rel.log" test-dkms-debian.sh --kernel "$rel"
	done
fi

# Guest runs: NAME | run-guest.sh options | guest script. Every one gates; the table's
# timeouts are multiplied by --timeout-factor.
GUEST_RUNS=(
	"probe-streams4|--streams 4 --append bench.streams=4|probe.sh"
	# The PCM data path on QEMU's device, in one boot (tests/guest/suite.sh): probe, playback
	# and capture in every mode of completion, stream operations, the per-stream mode. QEMU's
	# audio timer at 2 ms: its default 10 ms tick takes 480 frames at once, and the small
	# buffers of pcm.sh (1024 frames) then underrun on the slow gating kernel (as soak.sh).
	"pcm-suite|--backend none --timer-period 2000 --timeout 840 --append bench.suite=probe-streams2:probe.sh:streams=2+pcm:pcm.sh+pcm-ops:pcm-ops.sh+pcm-mode:pcm-mode.sh+pcm-poll:pcm.sh:rsparams=poll=1+pcm-ops-poll:pcm-ops.sh:rsparams=poll=1+pcm-pollnodefer:pcm.sh:rsparams=poll=1,defer_kicks=0|suite.sh"
	"probe-empty|--vsnd --streams=0|probe-empty.sh"
	"vsnd-smoke|--vsnd --streams=2 --append bench.driver=rs --append bench.period=64|vsnd-smoke.sh"
	# (One boot each: the device's xrun trigger fires once, at the first START after 500 ms.)
	"vsnd-features|--vsnd '--streams=2 --pcm-features=xruns,polling' --vsnd-exec 'trigger START 0 500 xrun 0'|vsnd-features.sh"
	"vsnd-features-poll|--vsnd '--streams=2 --pcm-features=xruns,polling' --vsnd-exec 'trigger START 0 500 xrun 0' --append bench.rsparams=poll=1|vsnd-features.sh"
	"vsnd-jacks|--vsnd '--streams=2 --jacks=2 --chmaps=2' --vsnd-exec 'trigger START 0 100 jack 0 disconnect' --vsnd-exec 'trigger STOP 0 0 jack 0 connect'|vsnd-jacks.sh"
	"vsnd-controls|--vsnd '--streams=2 --controls=default' --vsnd-exec 'trigger START 0 100 ctl-set 0 20'|vsnd-controls.sh"
	"vsnd-multi|--vsnd '--streams=4 --nids=2 --channels-max=6 --chmaps=standard' --timeout 240|vsnd-multi.sh"
	"mixer-test|--vsnd '--streams=2 --controls=default' --timeout 300 --append bench.kselftest=mixer-test --append bench.kselftest_checks=105|kselftest.sh"
	"vsnd-remap|--vsnd '--streams=2 --jacks=2 --jack-remap'|vsnd-remap.sh"
	# System sleep with streams open (suspend-to-idle, pm_test=devices), on QEMU's device and
	# on vsnd-device (a vhost-user device: the reset goes through the backend).
	"suspend|--backend none --timeout 300|suspend.sh"
	"suspend-vsnd|--vsnd '--streams=2 --controls=default --reset-controls' --timeout 300|suspend.sh"
	# One fault per --vsnd-exec, each on a stream of its own (tests/guest/vsnd-faults.sh, Documentation/fault-matrix.rst).
	"vsnd-faults|--timeout 300 --vsnd --streams=50 \
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
		--vsnd-exec 'fault ctl-delay 400 on STOP stream 48 count 1' \
		|vsnd-faults.sh"
	# A hostile device (tests/guest/vsnd-fuzz.sh, tools/vsnd-device/src/fuzz.rs): the device
	# lies from fixed seeds (1 2 3, 30 % of its answers, random events) while probes, streams,
	# controls, jacks, unbinds and rmmod run; nothing may hang or splat; then, fuzzing off,
	# a bind and exact playback and capture.
	"vsnd-fuzz|--vsnd '--streams=4 --jacks=2 --jack-remap --chmaps=4 --controls=default' --timeout 300 --append bench.fuzz_seeds=1,2,3 --append bench.fuzz_rate=30|vsnd-fuzz.sh"
	# Reliability (tests/guest/stress-*.sh): bad input from userspace (exact errnos), rmmod and
	# unbind/bind under load, hot-unplug under load (PCI remove/rescan; QMP device_del/device_add
	# when the guest kernel has PCI hotplug), also while SET_PARAMS is delayed, concurrency.
	# In one boot: nothing stays behind (40 unbind/bind cycles with streams between them,
	# kmemleak and the Slab growth per cycle), unbind/bind under load, bad input from
	# userspace. stress-errno goes last: QEMU's device answers PCM_INFO with the channel
	# count of the stream's last PREPARE as channels_max, and stress-errno ends on mono
	# (seen: every stereo open after it failed, "Channels count non available").
	"system-suite|--backend none --timeout 1300 --append bench.suite=rebind:rebind.sh+stress-unbind:stress-unbind.sh+stress-errno:stress-errno.sh|suite.sh"
	# PCM buffers on fragmented memory (every other page pinned): every size up to the 4 MiB
	# limit must allocate and start (vmalloc buffers; a contiguous one failed from 1 MiB).
	"buffer-frag|--mem 512M --timeout 300|buffer-frag.sh"
	"soak|--backend none --timer-period 2000 --timeout 240 --append bench.soak_secs=30|soak.sh"
	"stress-concurrency|--vsnd '--streams=6 --capture-freq=997' --timeout 400 --append bench.sine=997|stress-concurrency.sh"
	"stress-unplug|--backend none --qmp --timeout 300|stress-unplug.sh"
	"stress-unplug-ctl|--vsnd '--streams=2 --persist' --vsnd-exec 'fault ctl-delay 900 on SET_PARAMS' --qmp --timeout 300 --append bench.vsnd=1 --append bench.settle=0.3|stress-unplug.sh"
	# Sample-exact integrity (Documentation/integrity.rst): the pattern through the driver to
	# vsnd-device and back, in every mode of completion: the whole matrix with interrupts,
	# and its stream operations and geometries (not every format and rate again) with
	# poll=1, defer_kicks=0 (batched kicks are the default), and both (tests/guest/suite.sh:
	# one boot).
	# integrity-ring: more periods in flight than a data virtqueue has entries (64 with
	# indirect descriptors: one entry a period), the driver loaded with pcm_periods_max=256:
	# one stream of 256 periods each way, two playback streams of 48 periods each on the one
	# tx queue; no xrun allowed.
	"integrity|--vsnd '--streams=4 --channels-max=8' --timeout 1600 --append bench.suite=integrity:integrity.sh+integrity-poll:integrity.sh:rsparams=poll=1:integrity_only=rw$,mmap$,tiny,period.64,16.periods,pause,partial,reset,xrun,duplex,two.playback,mode,no.period+integrity-nodefer:integrity.sh:rsparams=defer_kicks=0:integrity_only=rw$,mmap$,tiny,period.64,16.periods,pause,partial,reset,xrun,duplex,two.playback,mode,no.period+integrity-pollnodefer:integrity.sh:rsparams=poll=1,defer_kicks=0:integrity_only=rw$,mmap$,tiny,period.64,16.periods,pause,partial,reset,xrun,duplex,two.playback,mode,no.period+integrity-ring:integrity.sh:rsparams=pcm_periods_max=256:integrity_ring=1:strict_xruns=1:integrity_only=ring|suite.sh"
	# PipeWire in the guest (tests/guest/pipewire.sh): the integrity pattern through pw-play
	# (30 s, no xrun) and pw-record, on vsnd-device (stream 0 playback, stream 1 capture).
	"pipewire|--vsnd --streams=2 --timeout 240|pipewire.sh"
	# PulseAudio by content (tests/guest/pulse-integrity.sh): paplay of 30 s of the pattern
	# exact at the device, a pacat -r of the device's pattern exact, no xrun in PulseAudio's
	# log; booted with the CPUID hypervisor bit off, so that the driver's flags, not VM
	# detection, decide PulseAudio's scheduling.
	"pulse-integrity|--vsnd --streams=2 --timeout 240 --qemu-arg -cpu --qemu-arg max,hypervisor=off|pulse-integrity.sh"
	# The second kernel (7.3): probe, playback/capture smoke on QEMU's device and on
	# vsnd-device, and the polling mode (the kernel crate's hrtimer changed in 7.3); the full
	# suite runs on 7.2.
	"pcm-suite@$KVER2|--backend none --timer-period 2000 --timeout 900 --append bench.suite=probe-streams2:probe.sh:streams=2+pcm:pcm.sh+pcm-poll:pcm.sh:rsparams=poll=1+suspend:suspend.sh|suite.sh"
	"vsnd-smoke@$KVER2|--vsnd --streams=2 --append bench.driver=rs --append bench.period=64|vsnd-smoke.sh"
)
# Runs too long for CI (--long): the soak of issue 6, 10 minutes of full-duplex streaming
# at 256-frame periods with an exact frame count (tests/guest/soak.sh), on the gating
# kernel. The 30 s "soak" above keeps the script itself tested in CI.
LONG_RUNS=(
	"soak-long|--backend none --timer-period 2000 --timeout 900 --append bench.soak_secs=600|soak.sh"
)
((LONG == 0)) || GUEST_RUNS+=("${LONG_RUNS[@]}")
# The comparison (--compare, scripts/compare.sh): each of these runs for our driver and, as
# NAME@c, for the C driver (bench.driver=c), on the benchmark's kernel; the results go to
# $RESULTS/comparison.txt side by side, and nothing gates.
COMPARE_RUNS=(
	"integrity|--vsnd '--streams=4 --channels-max=8' --timeout 400|integrity.sh"
	"pcm|--backend none|pcm.sh"
	"pcm-ops|--backend none|pcm-ops.sh"
	"kselftest|--backend none --timeout 300|kselftest.sh"
	"alsabat|--backend pa --timeout 600 --append bench.tries=3|alsabat.sh"
	"pulse|--backend pa --timeout 300 --qemu-arg -cpu --qemu-arg max,hypervisor=off|pulse.sh"
	"pipewire|--vsnd --streams=2 --timeout 240|pipewire.sh"
	"pulse-integrity|--vsnd --streams=2 --timeout 240 --qemu-arg -cpu --qemu-arg max,hypervisor=off|pulse-integrity.sh"
	"vsnd-jacks|--vsnd '--streams=2 --jacks=2 --chmaps=2' --vsnd-exec 'trigger START 0 100 jack 0 disconnect' --vsnd-exec 'trigger STOP 0 0 jack 0 connect'|vsnd-jacks.sh"
	"vsnd-controls|--vsnd '--streams=2 --controls=default' --vsnd-exec 'trigger START 0 100 ctl-set 0 20'|vsnd-controls.sh"
	"vsnd-remap|--vsnd '--streams=2 --jacks=2 --jack-remap'|vsnd-remap.sh"
	"suspend|--backend none --timeout 300|suspend.sh"
	"suspend-vsnd|--vsnd '--streams=2 --controls=default --reset-controls' --timeout 300|suspend.sh"
	"vsnd-multi|--vsnd '--streams=4 --nids=2 --channels-max=6 --chmaps=standard' --timeout 240|vsnd-multi.sh"
	"mixer-test|--vsnd '--streams=2 --controls=default' --timeout 300 --append bench.kselftest=mixer-test --append bench.kselftest_checks=105|kselftest.sh"
	"rebind|--backend none --timeout 400|rebind.sh"
	"stress-unbind|--backend none --timeout 300|stress-unbind.sh"
	"stress-errno|--backend none --timeout 300|stress-errno.sh"
	"stress-concurrency|--vsnd '--streams=6 --capture-freq=997' --timeout 400 --append bench.sine=997|stress-concurrency.sh"
)
# vsnd-faults and vsnd-fuzz for the C driver too: the same faults and seeds as the gating runs.
for r in "${GUEST_RUNS[@]}"; do [[ ${r%%|*} == vsnd-faults || ${r%%|*} == vsnd-fuzz ]] && COMPARE_RUNS+=("$r"); done
if ((COMPARE)); then
	GUEST_RUNS=()
	for r in "${COMPARE_RUNS[@]}"; do
		IFS='|' read -r name opts script <<<"$r"
		GUEST_RUNS+=("$r" "$name@c|$opts --append bench.driver=c|$script")
	done
fi
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

# ktap_count LOG: the counts of the guest's KTAP document in LOG, as
# "PLAN TOP PASS FAIL SKIP": the top-level plan (-1 if none), the number of top-level
# results, and the leaf results at every depth (a subtest's parent line is not a leaf; a
# parent that failed with no failing leaf under it counts as one failure).
ktap_count() {
	awk '
		/^KTAP version 1$/ { doc = 1 }
		!doc { next }
		/^# Totals/ { exit }
		{ match($0, /^ */); lvl = RLENGTH / 2; line = substr($0, RLENGTH + 1) }
		lvl == 0 && plan == "" && line ~ /^1\.\.[0-9]+$/ { plan = substr(line, 4) + 0 }
		line ~ /^(ok|not ok) [0-9]+/ {
			if (lvl == 0) top++
			bad = line ~ /^not ok/
			if (deeper[lvl]) {
				if (bad && !subfail[lvl]) fail++
			} else if (bad) {
				fail++
				for (k = 0; k < lvl; k++) subfail[k]++
			} else if (line ~ /# SKIP/) {
				skip++
			} else {
				pass++
			}
			deeper[lvl] = 0; subfail[lvl] = 0
			if (lvl > 0) deeper[lvl - 1] = 1
		}
		END { printf "%d %d %d %d %d\n", plan == "" ? -1 : plan, top, pass, fail, skip }
	' "$1"
}

ktap=$RESULTS/guest.ktap
runs=()
for r in "${GUEST_RUNS[@]}"; do
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
	elif ((COMPARE)); then
		optv+=(--kdir "$KDIR_BENCH")
	fi
	# The run's timeout (run-guest.sh's default 120 s) times the factor.
	t=120
	for ((k = 0; k + 1 < ${#optv[@]}; k++)); do [[ ${optv[k]} == --timeout ]] && t=${optv[k + 1]}; done
	optv+=(--timeout "$((t * TFACTOR))")
	# KFENCE guards the test's allocations, not the boot's: sampling starts with the script.
	((COMPARE)) || optv+=(--append kfence.sample_interval=0 --append bench.kfence=1)
	"$BENCH_ROOT/scripts/run-guest.sh" --module "$ko" "${optv[@]}" "$script" >"$log" 2>&1
	rc=$?
	splats=$(splat_lines "$log" | wc -l)
	report_splats() {
		printf '%s %s: kernel log has %s splat line(s)\n' "$1" "$name" "$splats"
		splat_lines "$log" | head -n 40 | sed 's/^/    /'
	}
	read -r plan top ok bad skipped < <(ktap_count "$log")
	# A guest that hung in its kernel's boot, before its script, was booted again once
	# (run-guest.sh); said here and counted at the end, never hidden.
	if grep -q '^run-guest: BOOT-RETRY' "$log"; then
		RETRIES=$((RETRIES + 1))
		printf 'note %s: the guest hung in its boot and was booted again (run-guest.sh: BOOT-RETRY)\n' "$name"
		echo "# $name: the guest hung in its kernel's boot and was booted again" >>"$ktap"
	fi
	grep -E '^(ok|not ok) [0-9]+ ' "$log" | sed "s/^/  [$name] /"
	# Per-test results, for the comparison table: RUN<TAB>TEST<TAB>ok|FAIL|skip.
	grep -E '^(ok|not ok) [0-9]+ ' "$log" | sed -E \
		-e 's/^ok [0-9]+ (.*) # SKIP.*/\1\tskip/' -e 's/^ok [0-9]+ ([^#]*[^# ]).*/\1\tok/' \
		-e 's/^not ok [0-9]+ ([^#]*[^# ]).*/\1\tFAIL/' | sed "s/^/${name%@c}\t/" \
		>"$RESULTS/$name.results"
	# What makes a run fail besides its own failing checks; each counts one failure.
	why=()
	((plan >= 0)) || why+=("the script stated no plan")
	((top > 0)) || why+=("no result")
	((plan < 0 || top >= plan)) || why+=("$top result(s) of a plan of $plan")
	((plan < 0 || top <= plan)) || why+=("$top result(s), more than the plan of $plan")
	((splats == 0)) || why+=("$splats splat line(s) in the kernel log")
	if ((COMPARE == 0)) && grep -q '^# dmesg-scan: ' "$log" && ! grep -qE '^# dmesg-scan: .* kmemleak report\(s\)$' "$log"; then
		why+=("the guest kernel has no kmemleak: not a gating kernel")
	fi
	# Status 3: the script passed, the kernel log did not (a splat, counted above).
	if ((rc != 0 && bad == 0 && !(rc == 3 && splats > 0))); then
		why+=("guest exited with $rc and reported no failing check")
	fi
	if [[ $name == *@c ]]; then
		((rc == 0 && bad == 0 && ${#why[@]} == 0)) ||
			printf 'reference C driver: %s: %s failing check(s)%s\n' "$name" "$bad" "${why[*]:+; ${why[*]}}"
		((splats == 0)) || report_splats "reference C driver:"
		continue
	fi
	i=$((i + 1))
	PASS=$((PASS + ok))
	SKIP=$((SKIP + skipped))
	FAIL=$((FAIL + bad + ${#why[@]}))
	for w in "${why[@]}"; do printf 'FAIL %s: %s\n' "$name" "$w"; done
	((splats == 0)) || report_splats FAIL
	if ((bad > 0)); then
		grep -E '^ *not ok|^ *# ' "$log" | head -60
	elif ((${#why[@]} > 0)); then
		tail -20 "$log"
	fi
	# Nest the guest's KTAP as a subtest of the host document.
	sed -n '/^KTAP version 1$/,/^# Totals/p' "$log" | sed 's/^/  /' >>"$ktap"
	splat_lines "$log" | sed 's/^/  # SPLAT: /' >>"$ktap"
	if ((bad == 0 && ${#why[@]} == 0)); then
		echo "ok $i $name" >>"$ktap"
	else
		echo "not ok $i $name # ${why[*]:-$bad failing check(s)}" >>"$ktap"
	fi
done

# The comparison table (--compare): every test of a run that also ran against the C driver.
((COMPARE == 0)) || {
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
if ((COMPARE)); then
	step "test: Rust and C side by side in $RESULTS/comparison.txt"
	cat "$RESULTS/comparison.txt"
fi

step "test: KTAP report in $ktap"
((HFAIL == 0)) || printf 'host steps: %s failed (see their lines above)\n' "$HFAIL"
((RETRIES == 0)) || printf "guest boots retried after a hang in the kernel's boot: %s\n" "$RETRIES"
echo "$PASS passed, $FAIL failed, $SKIP skipped"
((FAIL == 0 && HFAIL == 0))
