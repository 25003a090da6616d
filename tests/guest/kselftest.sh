#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# The kernel's own ALSA kselftests (tools/testing/selftests/alsa/), against the loaded
# driver: bench.kselftest=pcm-test (default) or mixer-test. Its KTAP results are this
# script's results, plus its exit status and a kernel log check. bench.driver=c runs it
# against the C driver.
#
# The plan: bench.kselftest_checks=N, the number of results the test must give for the
# device of the run (scripts/test.sh states it for its runs), plus 2. Without it (by hand)
# the test's own count is taken, and a diag line says so. pcm-test only measures how long
# each configuration takes to play, so it runs in the comparison (scripts/compare.sh), not
# in the gate: on the gating kernel under TCG its durations say nothing of the driver.
. /tests/lib.sh

if [ "${BENCH_DRIVER:-rs}" = c ]; then load_c_driver; else load_rs_driver; fi
wait_for_card 5 || exit 1
dmesg_mark kselftest
T=${BENCH_KSELFTEST:-pcm-test}
if ! command -v "$T" >/dev/null; then
	ktap_plan 1
	ktap_fail "$T is in the guest image"
	ktap_finish
	exit 1
fi
cd /tests/kselftest || exit 1
"$T" >/tmp/pcm-test.out 2>&1
t_rc=$?
n=$(grep -cE '^(ok|not ok) [0-9]+ ' /tmp/pcm-test.out)
if [ -n "${BENCH_KSELFTEST_CHECKS:-}" ]; then
	ktap_plan $((BENCH_KSELFTEST_CHECKS + 2))
else
	ktap_diag "no bench.kselftest_checks: the plan is $T's own count ($n)"
	ktap_plan $((n + 2))
fi
# Re-number pcm-test's results as ours, keeping their names and directives.
sed "s/^# Totals/# $T totals/" /tmp/pcm-test.out | grep -E '^(ok|not ok) [0-9]+ |^# ' | while IFS= read -r line; do
	case $line in
	"not ok "*) echo "not ok $(echo "$line" | cut -d' ' -f3-)" ;;
	"ok "*) echo "ok $(echo "$line" | cut -d' ' -f2-)" ;;
	*) echo "$line" ;;
	esac
done | awk '/^(ok|not ok) /{c++; if ($1=="ok") {$2=c" "$2} else {$3=c" "$3}} {print}' |
	sed 's/^\(ok\|not ok\) \([0-9]*\) [0-9]* /\1 \2 /'
fails=$(grep -c '^not ok ' /tmp/pcm-test.out)
KTAP_N=$n
_ktap_n_0=$n
_ktap_fail_0=$fails
_ktap_fail=$fails
_ktap_pass=$((n - fails))
_ktap_pass_0=$((n - fails))
# kselftest's exit status: 0 (all passed), 1 (some failed: their lines say which), 4 (all
# skipped); anything else (a crash) fails.
case $t_rc in 0 | 1 | 4) t_ok=0 ;; *) t_ok=1 ;; esac
ktap_result $t_ok "$T ran to its end" "exit status $t_rc, $n results"
ktap_check "no warning in dmesg" dmesg_clean kselftest
ktap_finish
exit $?
