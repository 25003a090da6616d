#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# The README demo: set up (cached), build the module, boot the guest under QEMU with a
# virtio-sound-pci device on the host PulseAudio loopback, load the Rust driver, show
# /proc/asound and the driver's kernel log, and play a tone that is recorded back and
# checked by alsabat.
#
# Both directions are saved as WAV files with a spectrogram (sox) in $BENCH_CACHE/demo/:
#   played.wav, played.png       what the guest played through the driver, recorded on the
#                                host from the loopback sink's monitor (parecord)
#   recorded.wav, recorded.png   what the guest recorded through the driver (alsabat's
#                                capture, sent over the serial console in base64)
#   summary.txt                  duration, RMS level, dominant frequency and dropouts of each
# The demo fails if the guest script fails, or if either recording is silent or its
# dominant frequency is not the 1 kHz tone.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

TONE=1000
OUT=$BENCH_CACHE/demo

"$BENCH_ROOT/scripts/setup.sh"
step "demo: building the module"
make -C "$BENCH_ROOT" -s modules
for tool in sox soxi parecord base64 md5sum; do
	command -v "$tool" >/dev/null || die "$tool not found (scripts/setup.sh installs sox and pulseaudio-utils)"
done

# A PulseAudio daemon of the demo's own: it neither hears nor stops the daemon of a test run.
export BENCH_PA_DIR=${BENCH_PA_DIR:-/tmp/virtio-snd-demo-pa.$(id -u)}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/demo.XXXXXX")
rec_pid=
cleanup() {
	[[ -z $rec_pid ]] || { kill -INT "$rec_pid" 2>/dev/null; wait "$rec_pid" 2>/dev/null; }
	"$BENCH_ROOT/scripts/pa-loopback.sh" stop >/dev/null || true
	rm -rf "$WORK"
}
trap cleanup EXIT
step "demo: starting the PulseAudio loopback"
sock=$("$BENCH_ROOT/scripts/pa-loopback.sh" start)

step "demo: recording the loopback sink on the host (parecord from vsink.monitor)"
PULSE_SERVER=unix:$sock HOME=$BENCH_PA_DIR/home parecord --device=vsink.monitor --latency-msec=50 \
	--rate=48000 --channels=2 --format=s16le --file-format=wav "$WORK/host.wav" &
rec_pid=$!

step "demo: booting the guest"
set +e
# The base64 lines of the recording are left out of the screen (they are in the log); sed -u
# passes every other line on at once.
"$BENCH_ROOT/scripts/run-guest.sh" --backend pa --module "$BENCH_ROOT/src/virtio_snd_rs.ko" \
	--log "$WORK/serial.log" demo.sh 2>&1 |
	sed -u -e '/^+ qemu/d' -e '/^DEMO-FILE-BEGIN /,/^DEMO-FILE-END /{' \
		-e 's/^DEMO-FILE-BEGIN \([^ ]*\) \([0-9]*\).*/    (\2 bytes of \1 in base64, for the host)/p' -e 'd' -e '}'
guest_rc=${PIPESTATUS[0]}
set -e
sleep 0.5 # the tail of the tone through PulseAudio
kill -INT "$rec_pid" 2>/dev/null || true
wait "$rec_pid" || true
rec_pid=

mkdir -p "$OUT"
rm -f "$OUT"/{played,recorded}.{wav,png} "$OUT/summary.txt"
problems=()

# What the guest played: the host recording without the silence of boot and shutdown.
if [[ -s $WORK/host.wav ]]; then
	sox "$WORK/host.wav" "$OUT/played.wav" silence 1 0.02 -50d reverse silence 1 0.02 -50d reverse
else
	problems+=("no host recording of the loopback sink (parecord failed)")
fi

# What the guest recorded: decoded from the console, checked against its size and MD5.
if [[ -f $WORK/serial.log ]] && read -r _ name bytes md5 < <(grep -a '^DEMO-FILE-BEGIN recorded.wav ' "$WORK/serial.log"); then
	awk '/^DEMO-FILE-END recorded.wav/ { p = 0 } p { print } /^DEMO-FILE-BEGIN recorded.wav / { p = 1 }' \
		"$WORK/serial.log" | base64 -d >"$WORK/$name" 2>/dev/null || true
	if [[ $(stat -c %s "$WORK/$name") == "$bytes" && $(md5sum <"$WORK/$name" | cut -d' ' -f1) == "$md5" ]]; then
		mv "$WORK/$name" "$OUT/recorded.wav"
	else
		problems+=("the guest's recording arrived damaged ($(stat -c %s "$WORK/$name") of $bytes bytes, or a wrong MD5)")
	fi
else
	problems+=("the guest sent no recording (see the alsabat output above)")
fi

# analyze FILE LABEL: checks FILE and writes its spectrogram next to it.
analyze() {
	local f=$1 label=$2 dur rms freq db gaps
	[[ -f $f ]] || return 0
	dur=$(soxi -D "$f" 2>/dev/null || echo 0)
	if awk -v d="$dur" 'BEGIN { exit !(d < 0.2) }'; then
		problems+=("$label: silent (no sound above -50 dBFS)")
		echo "$label: $(basename "$f"): silent" >>"$OUT/summary.txt"
		return 0
	fi
	rms=$(sox "$f" -n remix 1 stat 2>&1 | awk '/^RMS +amplitude:/ { print $3 }')
	db=$(awk -v r="$rms" 'BEGIN { if (r > 0) printf "%.1f", 20 * log(r) / log(10); else print "-inf" }')
	# The dominant frequency: the largest bin of sox's power spectrum (bins of 11.7 Hz at 48 kHz).
	freq=$(sox "$f" -n remix 1 stat -freq 2>&1 | awk 'NF == 2 && $1 + 0 > 0 && $2 + 0 > m { m = $2 + 0; f = $1 } END { printf "%.0f", f }')
	# Dropouts: silent stretches of 2 ms to 1 s after the sound began (a sine is never near 0
	# that long; a longer one is the pause between two tries); reported, not failed: QEMU
	# and PulseAudio on a busy host make some too.
	gaps=$(python3 - "$f" <<'EOF'
import array, sys, wave
w = wave.open(sys.argv[1])
rate, ch = w.getframerate(), w.getnchannels()
a = array.array("h", w.readframes(w.getnframes()))
if sys.byteorder == "big":
    a.byteswap()
quiet, start, begun, gaps = 0, 0, False, []
for i, v in enumerate(a[0::ch]):
    if -200 < v < 200:
        if quiet == 0:
            start = i
        quiet += 1
        continue
    if begun and rate // 500 <= quiet < rate:
        gaps.append("%.2f s (%.0f ms)" % (start / rate, quiet * 1000 / rate))
    quiet, begun = 0, True
print("%d%s" % (len(gaps), (": " + ", ".join(gaps[:4])) if gaps else ""))
EOF
	)
	printf '%-9s %-13s %5.2f s  RMS %6s dBFS  dominant %5s Hz  dropouts %s\n' "$label:" "$(basename "$f")" \
		"$dur" "$db" "$freq" "$gaps" | tee -a "$OUT/summary.txt"
	awk -v r="$rms" 'BEGIN { exit !(r < 0.01) }' && problems+=("$label: silent (RMS $db dBFS)")
	awk -v f="$freq" -v t="$TONE" 'BEGIN { exit !(f < t - 30 || f > t + 30) }' &&
		problems+=("$label: dominant frequency $freq Hz, not $TONE Hz")
	sox "$f" -n remix 1 spectrogram -x 900 -y 400 -z 100 -o "${f%.wav}.png" \
		-t "virtio-snd-rs demo: $label ($(basename "$f"), $TONE Hz tone)" \
		-c "dominant $freq Hz, RMS $db dBFS"
}
step "demo: checking the recordings (sox)"
analyze "$OUT/played.wav" "played"
analyze "$OUT/recorded.wav" "recorded"
cp "$WORK/serial.log" "$OUT/serial.log" 2>/dev/null || true

echo
echo "What the guest played through virtio_snd_rs, recorded on the host:"
[[ -f $OUT/played.wav ]] && echo "    $OUT/played.wav"
[[ -f $OUT/played.png ]] && echo "    $OUT/played.png"
echo "What the guest recorded through virtio_snd_rs:"
[[ -f $OUT/recorded.wav ]] && echo "    $OUT/recorded.wav"
[[ -f $OUT/recorded.png ]] && echo "    $OUT/recorded.png"
echo "Summary: $OUT/summary.txt; guest console: $OUT/serial.log"

((guest_rc == 0)) || problems+=("the guest demo script exited with $guest_rc")
if ((${#problems[@]})); then
	printf 'demo: FAIL: %s\n' "${problems[@]}" >&2
	exit 1
fi
step "demo: done: the ${TONE} Hz tone went through the driver both ways"
