#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# JACK_REMAP against tools/vsnd-device, started as
#   --vsnd "--streams=2 --jacks=2 --jack-remap"
# Both jacks (a rear line out, a rear line in) offer VIRTIO_SND_JACK_F_REMAP. Checks:
#   - each jack has a mixer element "NAME Jack Remap" of two integers 0..15 (association,
#     sequence), whose value is what the device reports (JACK_INFO);
#   - a write sends JACK_REMAP: reading back gives the new value, from the device, and the
#     other jack keeps its own;
#   - a system sleep (the device forgets the remap in its reset): the value is still the one
#     written, because the driver sends it again on resume;
#   - the kernel log has no warning.
#   bench.driver=c|rs   which driver (default rs); the C driver has no JACK_REMAP: the elements
#                       must not exist, and the other checks are skipped.
. /tests/lib.sh

DRIVER=${BENCH_DRIVER:-rs}
OUT="Line Out Jack Remap"
IN="Line Jack Remap"

# remap_value NAME: "A,S" (the element's values), or nothing
remap_value() {
	amixer -c 0 cget iface=MIXER,name="$1" 2>/dev/null | sed -n 's/.*: values=\([0-9]*,[0-9]*\)$/\1/p'
}

ktap_plan 6
dmesg_mark vsnd-remap
if [ "$DRIVER" = c ]; then
	ktap_check "load driver (c)" load_c_driver
else
	ktap_check "load driver (rs)" load_rs_driver
fi
wait_for_card 5
quiet_run amixer -c 0 controls

if [ "$DRIVER" = c ]; then
	if amixer -c 0 controls | grep -q "Jack Remap"; then
		ktap_fail "no remap elements (the C driver has no JACK_REMAP)"
	else
		ktap_ok "no remap elements (the C driver has no JACK_REMAP)"
	fi
	for t in "a write sends JACK_REMAP, the device reports the new value" \
		"each jack is remapped on its own" \
		"the remap survives a system sleep"; do
		ktap_skip "$t" "the C driver has no JACK_REMAP"
	done
	ktap_check "dmesg clean" dmesg_clean vsnd-remap
	ktap_finish
	exit $?
fi

o0=$(remap_value "$OUT") i0=$(remap_value "$IN")
info=$(amixer -c 0 cget iface=MIXER,name="$OUT" 2>&1)
case "$o0/$i0" in
*,*/*,*)
	if echo "$info" | grep -q "type=INTEGER,access=rw.*values=2,min=0,max=15,step=1"; then
		ktap_ok "a remap element per jack, two integers 0..15" "$OUT=$o0, $IN=$i0"
	else
		ktap_diag "$info"
		ktap_fail "a remap element per jack, two integers 0..15"
	fi
	;;
*)
	ktap_diag "$info"
	ktap_fail "a remap element per jack, two integers 0..15" "'$o0' '$i0'"
	;;
esac

# remap_check TEST ELEM VALUE OTHER OTHER_VALUE: writes VALUE ("A,S") to ELEM; the device
# must report it, and element OTHER must still be OTHER_VALUE.
remap_check() {
	if amixer -c 0 -q cset iface=MIXER,name="$2" "$3" 2>/tmp/cset.err &&
		[ "$(remap_value "$2")" = "$3" ] && [ "$(remap_value "$4")" = "$5" ]; then
		ktap_ok "$1" "-> $3"
	else
		ktap_fail "$1" "$(cat /tmp/cset.err) now '$(remap_value "$2")', other jack '$(remap_value "$4")'"
	fi
}
# New values, different from the device's initial ones.
a=$((($(echo "$o0" | cut -d, -f1) + 3) % 16))
s=$((($(echo "$o0" | cut -d, -f2) + 5) % 16))
remap_check "a write sends JACK_REMAP, the device reports the new value" "$OUT" "$a,$s" "$IN" "$i0"
# The other jack: its own element, its own device jack.
b=$((($(echo "$i0" | cut -d, -f1) + 7) % 16))
t=$((($(echo "$i0" | cut -d, -f2) + 1) % 16))
remap_check "each jack is remapped on its own" "$IN" "$b,$t" "$OUT" "$a,$s"

if [ -w /sys/power/pm_test ] && grep -qw freeze /sys/power/state; then
	echo devices >/sys/power/pm_test
	echo 1 >/sys/module/suspend/parameters/pm_test_delay 2>/dev/null
	if echo freeze >/sys/power/state 2>/tmp/pm.err && [ "$(remap_value "$OUT")" = "$a,$s" ] &&
		[ "$(remap_value "$IN")" = "$b,$t" ]; then
		ktap_ok "the remap survives a system sleep" "$a,$s and $b,$t"
	else
		ktap_fail "the remap survives a system sleep" "$(cat /tmp/pm.err) now '$(remap_value "$OUT")'"
	fi
	echo none >/sys/power/pm_test
else
	ktap_skip "the remap survives a system sleep" "no /sys/power/pm_test"
fi
ktap_check "dmesg clean" dmesg_clean vsnd-remap
ktap_finish
exit $?
