#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# The README demo, inside the guest: load the Rust driver, show what the guest sees, then
# play a 1 kHz tone and record it back through the host's PulseAudio loopback, and let
# alsabat check the frequency that came back.
. /tests/lib.sh

echo "== insmod virtio_snd_rs.ko"
load_rs_driver || exit 1
wait_for_card 5 || exit 1
echo "== /proc/asound/cards"
cat /proc/asound/cards
echo "== /proc/asound/pcm"
cat /proc/asound/pcm
echo "== kernel log of the driver"
dmesg | grep virtio_snd_rs
echo "== playing a 1 kHz sine and recording it back (alsabat, 48 kHz S16 stereo)"
cd /tmp || exit 1
alsabat -P hw:0,0 -C hw:0,0 -c 2 -r 48000 -f S16_LE -F 1000 -n 2s
rc=$?
echo "== alsabat exit status: $rc"
exit $rc
