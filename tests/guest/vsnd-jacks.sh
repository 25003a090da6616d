# SPDX-License-Identifier: GPL-2.0
#
# Jacks and channel maps against tools/vsnd-device. Run with the device started as
#   --vsnd "--streams=2 --jacks=2 --chmaps=2" \
#   --vsnd-exec "trigger START 0 100 jack 0 disconnect" \
#   --vsnd-exec "trigger STOP 0 0 jack 0 connect"
# The device describes jack 0 as a rear line out and jack 1 as a rear line in, both
# plugged, and a stereo (FL FR) map for each direction. Jack 0 is unplugged 100 ms after
# stream 0 (playback) starts, and plugged again when it stops.
#   bench.driver=c|rs   which driver (default rs)
. /tests/lib.sh

DRIVER=${BENCH_DRIVER:-rs}

# jack_value NAME: on|off (the detection control of jack NAME), or nothing
jack_value() {
	amixer -c 0 cget iface=CARD,name="$1" 2>/dev/null | sed -n 's/.*: values=\(on\|off\).*/\1/p'
}

ktap_plan 8
dmesg_mark vsnd-jacks
if [ "$DRIVER" = c ]; then
	ktap_check "load driver (c)" load_c_driver
else
	ktap_check "load driver (rs)" load_rs_driver
fi
ktap_check "card appears" wait_for_card 5
quiet_run amixer -c 0 controls

out=$(jack_value "Line Out Jack")/$(jack_value "Line Jack")
if [ "$out" = on/on ]; then
	ktap_ok "jack controls: Line Out Jack, Line Jack, both plugged" "$out"
else
	ktap_fail "jack controls: Line Out Jack, Line Jack, both plugged" "got '$out'"
fi

# Every jack also has an input device (SW_LINEOUT_INSERT / SW_LINEIN_INSERT switches).
n=$(grep -c '^N: Name=.*\(Line Out\|Line\)' /proc/bus/input/devices 2>/dev/null)
if [ "${n:-0}" -ge 2 ]; then
	ktap_ok "an input device per jack" "$n"
else
	ktap_fail "an input device per jack" "$(grep '^N:' /proc/bus/input/devices 2>&1 | tr '\n' '|')"
fi

maps=$(amixer -c 0 controls | grep -c "Channel Map")
if [ "$maps" -ge 2 ]; then
	ktap_ok "channel map controls for playback and capture" "$maps"
else
	ktap_fail "channel map controls for playback and capture" "$maps"
fi

aplay -D hw:0,0 -q -t raw -f S16_LE -r 48000 -c 2 -d 2 /dev/zero &
pid=$!
sleep 1
map=$(amixer -c 0 cget iface=PCM,name="Playback Channel Map" 2>&1 | sed -n 's/.*: values=//p')
during=$(jack_value "Line Out Jack")
wait $pid
rc=$?
if [ "$map" = "3,4" ]; then
	ktap_ok "a running stereo stream maps FL,FR" "values=$map"
else
	ktap_fail "a running stereo stream maps FL,FR" "values='$map'"
fi
sleep 0.3
after=$(jack_value "Line Out Jack")
if [ "$during" = off ] && [ "$after" = on ] && [ "$rc" = 0 ]; then
	ktap_ok "jack events: unplugged while playing, plugged after" "$during then $after"
else
	ktap_fail "jack events: unplugged while playing, plugged after" "'$during' then '$after', aplay $rc"
fi
ktap_check "dmesg clean" dmesg_clean vsnd-jacks
ktap_finish
exit $?
