#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# The kernel's own ALSA kselftests (tools/testing/selftests/alsa/), against the loaded
# driver: bench.kselftest=pcm-test (default) or mixer-test. Its KTAP results are this
# script's results, plus a kernel log check. The tests exit 0 even when a test fails, so the
# result lines are what counts. bench.driver=c runs it against the C driver.
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
echo "# $T exited with $?"
n=$(grep -cE '^(ok|not ok) [0-9]+ ' /tmp/pcm-test.out)
ktap_plan $((n + 1))
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
ktap_check "no warning in dmesg" dmesg_clean kselftest
ktap_finish
exit $?
