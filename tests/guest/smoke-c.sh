# SPDX-License-Identifier: GPL-2.0
#
# Smoke test of the bench with the reference C driver: load it, find the card and its PCM
# devices, play 1 s of silence, check the kernel log. Run with:
#   scripts/run-guest.sh --backend none smoke-c.sh
. /tests/lib.sh

ktap_plan 6

dmesg_mark smoke-c
if ktap_check "load virtio_snd (C)" load_c_driver; then
	ktap_check "card appears" wait_for_card 5
else
	ktap_skip "card appears" "driver not loaded"
fi

if grep -q 'VirtIO SoundCard' /proc/asound/cards 2>/dev/null; then
	ktap_ok "/proc/asound/cards lists VirtIO SoundCard"
else
	ktap_fail "/proc/asound/cards lists VirtIO SoundCard"
fi
quiet_run cat /proc/asound/cards

if grep -q '^00-00: .*playback 1' /proc/asound/pcm 2>/dev/null &&
	grep -q '^00-00: .*capture 1' /proc/asound/pcm; then
	ktap_ok "/proc/asound/pcm has playback and capture on 00-00"
else
	ktap_fail "/proc/asound/pcm has playback and capture on 00-00"
fi
quiet_run cat /proc/asound/pcm

t0=$(cut -d' ' -f1 /proc/uptime)
if quiet_run aplay -D hw:0,0 -f S16_LE -r 48000 -c 2 -d 1 /dev/zero; then
	t1=$(cut -d' ' -f1 /proc/uptime)
	ktap_ok "aplay 1 s S16_LE 48 kHz stereo" "took $(echo "$t0 $t1" | awk '{printf "%.2f", $2 - $1}') s"
else
	ktap_fail "aplay 1 s S16_LE 48 kHz stereo"
fi

ktap_check "dmesg clean" dmesg_clean smoke-c
ktap_finish
exit $?
