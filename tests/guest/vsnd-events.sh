# SPDX-License-Identifier: GPL-2.0
#
# Exploration of device events and faults with tools/vsnd-device: the device is started
# with --exec 'trigger ...' / --exec 'fault ...' commands, this script plays and reports.
# Loads the driver, shows the card's controls (jacks), plays bench.secs seconds (default 1),
# shows the controls again and the kernel log. Parameters:
#   bench.driver=c|rs   which driver (default c)
#   bench.expect=ok|fail   what aplay should do (default ok)
# Example (jack event 300 ms after START of stream 0):
#   scripts/vsnd-device.sh start SOCK --jacks 1 --exec 'trigger START 0 300 jack 0 disconnect'
#   scripts/run-guest.sh --no-sound --mem 512M --qemu-arg ... vsnd-events.sh
. /tests/lib.sh

DRIVER=${BENCH_DRIVER:-c}
SECS=${BENCH_SECS:-1}
EXPECT=${BENCH_EXPECT:-ok}

elapsed() { echo "$1 $(cut -d' ' -f1 /proc/uptime)" | awk '{printf "%.2f", $2 - $1}'; }

ktap_plan 4
dmesg_mark vsnd-events
if [ "$DRIVER" = rs ]; then
	ktap_check "load driver (rs)" load_rs_driver
else
	ktap_check "load driver (c)" load_c_driver
fi
ktap_check "card appears" wait_for_card 5
ktap_diag "controls before: $(amixer -c 0 contents 2>&1 | tr '\n' '|')"

t0=$(cut -d' ' -f1 /proc/uptime)
out=$(aplay -D hw:0,0 -f S16_LE -r 48000 -c 2 -d "$SECS" /dev/zero 2>&1)
rc=$?
ktap_diag "$out"
if { [ "$rc" = 0 ] && [ "$EXPECT" = ok ]; } || { [ "$rc" != 0 ] && [ "$EXPECT" = fail ]; }; then
	ktap_ok "aplay ${SECS} s: exit $rc, expected $EXPECT" "took $(elapsed "$t0") s"
else
	ktap_fail "aplay ${SECS} s: exit $rc, expected $EXPECT" "took $(elapsed "$t0") s"
fi
sleep 0.5
ktap_diag "controls after: $(amixer -c 0 contents 2>&1 | tr '\n' '|')"
ktap_diag "kernel log:"
ktap_diag "$(dmesg | sed -n '/bench-mark: vsnd-events$/,$p' | sed '1d; s/^/  /')"
ktap_check "dmesg clean" dmesg_clean vsnd-events
ktap_finish
exit $?
