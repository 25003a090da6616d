# SPDX-License-Identifier: GPL-2.0
#
# Control elements (VIRTIO_SND_F_CTLS) against tools/vsnd-device. Run with the device started
# as
#   --vsnd "--streams=2 --controls=default" --vsnd-exec "trigger START 0 100 ctl-set 0 20"
# The default set has one element of every type (tools/vsnd-device/README.md); 100 ms after
# playback starts, the device turns "Master Playback Volume" to 20 and sends CTL_NOTIFY.
#   bench.driver=c|rs   which driver (default rs)
. /tests/lib.sh

DRIVER=${BENCH_DRIVER:-rs}

# cget NAME: the values= line of element NAME
cget() { amixer -c 0 cget iface=MIXER,name="$1" 2>&1 | sed -n 's/^ *: values=//p'; }

ktap_plan 9
dmesg_mark vsnd-controls
if [ "$DRIVER" = c ]; then
	ktap_check "load driver (c)" load_c_driver
else
	ktap_check "load driver (rs)" load_rs_driver
fi
ktap_check "card appears" wait_for_card 5
amixer -c 0 controls >/tmp/controls 2>&1
ktap_diag "$(cat /tmp/controls)"

missing=
for n in "Master Playback Volume" "Master Playback Switch" "PCM Playback Volume" \
	"Capture Volume" "Capture Switch" "Capture Source" "Mic Boost Volume" "Test Integer64" \
	"Test Bytes" "IEC958 Playback Default" "IEC958 Playback Con Mask" "Test Volatile"; do
	grep -q "name='$n'" /tmp/controls || missing="$missing '$n'"
done
if [ -z "$missing" ]; then
	ktap_ok "every type of element is listed"
else
	ktap_fail "every type of element is listed" "missing:$missing"
fi

# Types, ranges and the dB scale (a TLV read) as amixer shows them.
info=$(amixer -c 0 cget iface=MIXER,name="Master Playback Volume" 2>&1)
ktap_diag "$info"
if echo "$info" | grep -q "type=INTEGER,access=rw---R--,values=1,min=0,max=64,step=1" &&
	echo "$info" | grep -q "values=48" && echo "$info" | grep -q "dBscale-min=-48.00dB,step=0.75dB,mute=1"; then
	ktap_ok "integer element: range, value and dB scale (TLV read)"
else
	ktap_fail "integer element: range, value and dB scale (TLV read)"
fi

# Writes reach the device and read back; an enumerated element takes an option by name.
amixer -q -c 0 cset iface=MIXER,name="PCM Playback Volume" 17,230 &&
	amixer -q -c 0 cset iface=MIXER,name="Capture Source" "Line" &&
	amixer -q -c 0 cset iface=MIXER,name="Test Integer64" 250000000000 &&
	amixer -q -c 0 cset iface=MIXER,name="Master Playback Switch" off
got="$(cget "PCM Playback Volume")/$(cget "Capture Source")/$(cget "Test Integer64")/$(cget "Master Playback Switch")"
if [ "$got" = "17,230/1/250000000000/off" ]; then
	ktap_ok "writes of integer, enumerated, integer64 and boolean elements read back" "$got"
else
	ktap_fail "writes of integer, enumerated, integer64 and boolean elements read back" "$got"
fi

# A value off the element's step is refused (EINVAL), and the value stays.
out=$(amixer -c 0 cset iface=MIXER,name="Test Integer64" 250000000001 2>&1)
rc=$?
if [ $rc != 0 ] && [ "$(cget "Test Integer64")" = 250000000000 ]; then
	ktap_ok "a value off the step is refused" "$(echo "$out" | head -1)"
else
	ktap_fail "a value off the step is refused" "rc=$rc, value $(cget "Test Integer64")"
fi

# Bytes and IEC958 values.
amixer -q -c 0 cset iface=MIXER,name="Test Bytes" 1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16
b=$(cget "Test Bytes")
iec=$(amixer -c 0 cget iface=MIXER,name="IEC958 Playback Default" 2>&1 | grep -c "values=")
if [ "$b" = "0x01,0x02,0x03,0x04,0x05,0x06,0x07,0x08,0x09,0x0a,0x0b,0x0c,0x0d,0x0e,0x0f,0x10" ] && [ "$iec" -ge 1 ]; then
	ktap_ok "bytes and IEC958 elements" "$b"
else
	ktap_fail "bytes and IEC958 elements" "bytes '$b', iec958 lines $iec"
fi

# A change on the device side (CTL_NOTIFY) reaches applications as an event.
pcm-client ctl-wait hw:0 "Master Playback Volume" 5 >/tmp/events 2>&1 &
mon=$!
sleep 0.5
aplay -q -D hw:0,0 -t raw -f S16_LE -r 48000 -c 2 -d 1 /dev/zero
wait $mon
rc=$?
ktap_diag "$(cat /tmp/events)"
if [ $rc = 0 ] && [ "$(cget "Master Playback Volume")" = 20 ]; then
	ktap_ok "device-side change: event and new value" "$(cget "Master Playback Volume")"
else
	ktap_fail "device-side change: event and new value" "value $(cget "Master Playback Volume")"
fi
ktap_check "dmesg clean" dmesg_clean vsnd-controls
ktap_finish
exit $?
