# SPDX-License-Identifier: GPL-2.0
#
# PCM feature bits against tools/vsnd-device, Rust driver only. Run with the device
# started as
#   --vsnd "--streams=2 --pcm-features=xruns,polling" --vsnd-exec "trigger START 0 500 xrun 0"
# so that the device offers VIRTIO_SND_PCM_F_EVT_XRUNS and VIRTIO_SND_PCM_F_MSG_POLLING,
# and reports an xrun on stream 0 (playback) 500 ms after each of its STARTs.
#   - An xrun event stops the stream with an xrun: a writer that never falls behind sees
#     EPIPE, recovers, and keeps playing. (The C driver drops xrun events.)
#   - The device polls the queues (MSG_POLLING): playback and capture run at the
#     device's rate with the driver not kicking for data.
# bench.rsparams (e.g. poll=1) applies, so the run also exercises the poll timer.
. /tests/lib.sh

ktap_plan 5
dmesg_mark vsnd-features
ktap_check "load driver" load_rs_driver
ktap_check "card appears" wait_for_card 5

# 2 s of playback in 480-frame writes: the device's xrun event at +500 ms must stop the
# stream (EPIPE, counted by pcm-client) and the stream must run again after prepare.
out=$(pcm-client tiny hw:0,0 480 2 2>&1)
rc=$?
ktap_diag "$out"
# pcm-client writes until it has written 2 s of frames, so its frame count cannot fail and
# is not judged; the xrun count and the exit status (drain included) are.
xruns=$(echo "$out" | sed -n 's/.*xruns=\([0-9]*\).*/\1/p')
frames=$(echo "$out" | sed -n 's/.*frames=\([0-9]*\).*/\1/p')
if [ "$rc" = 0 ] && [ "${xruns:-0}" -ge 1 ]; then
	ktap_ok "xrun event stops playback with EPIPE, and it recovers" "xruns=$xruns frames=$frames"
else
	ktap_fail "xrun event stops playback with EPIPE, and it recovers" "rc=$rc xruns=${xruns:-?} frames=${frames:-?}"
fi

# Capture is stream 1: no xrun event there. 1 s must give exactly 1 s of a sine.
if quiet_run arecord -D hw:0,0 -f S16_LE -r 48000 -c 2 -d 1 -t raw /tmp/rec.raw; then
	size=$(wc -c </tmp/rec.raw)
	nonzero=$(tr -d '\000' </tmp/rec.raw | wc -c)
	if [ "$size" -eq 192000 ] && [ "$nonzero" -gt 1000 ]; then
		ktap_ok "capture 1 s with a polling device: exact bytes, a sine" "$size bytes"
	else
		ktap_fail "capture 1 s with a polling device: exact bytes, a sine" "$size bytes, $nonzero non-zero"
	fi
else
	ktap_fail "capture 1 s with a polling device: exact bytes, a sine" "arecord failed"
fi

ktap_check "dmesg clean" dmesg_clean vsnd-features
ktap_finish
exit $?
