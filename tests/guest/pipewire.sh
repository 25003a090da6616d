#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# PipeWire on the driver, without a session bus and without a session manager (WirePlumber
# needs udev's device database and a D-Bus for its ALSA monitor and device reservation):
# the daemon's own configuration creates the ALSA sink and source of card 0 as static
# adapter nodes (api.alsa.pcm.sink/source on hw:0,0), and the test links the client
# streams to them with pw-link, which is what a session manager would do. Run with
# --backend pa (the host loopback brings the playback back on the capture stream).
#
# Checks: the daemon answers; both nodes exist; pw-play of a 3 s tone, linked to the sink,
# exits 0 in about real time; a round trip (pw-play -> sink -> QEMU -> host loopback ->
# source -> pw-record) carries the tone (alsabat --local checks its frequency); the daemon's
# log has no ALSA xrun; no kernel splat. bench.driver=c runs it against the C driver.
. /tests/lib.sh

if [ "${BENCH_DRIVER:-rs}" = c ]; then load_c_driver; else load_rs_driver; fi
wait_for_card 5 || exit 1
dmesg_mark pipewire

RATE=48000 FREQ=1000
PW=/tmp/pw
LOG=$PW/pw.log
mkdir -p $PW/run
chmod 700 $PW $PW/run
# The clients read client.conf (pw-cat: client-rt.conf) from PIPEWIRE_CONFIG_DIR; the
# daemon its own file, pipewire.conf (Debian's defaults are in the "pipewire" package).
export HOME=$PW XDG_RUNTIME_DIR=$PW/run PIPEWIRE_RUNTIME_DIR=$PW/run PIPEWIRE_CONFIG_DIR=$PW
unset DBUS_SESSION_BUS_ADDRESS DISPLAY
cat >$PW/pipewire.conf <<EOF
context.properties = {
    support.dbus = false
    core.daemon = true
    core.name = pipewire-0
    default.clock.rate = $RATE
    default.clock.allowed-rates = [ $RATE ]
    mem.allow-mlock = false
    log.level = 3
}
context.spa-libs = {
    audio.convert.* = audioconvert/libspa-audioconvert
    api.alsa.* = alsa/libspa-alsa
    support.* = support/libspa-support
}
context.modules = [
    { name = libpipewire-module-protocol-native }
    { name = libpipewire-module-access }
    { name = libpipewire-module-metadata }
    { name = libpipewire-module-spa-node-factory }
    { name = libpipewire-module-client-node }
    { name = libpipewire-module-adapter }
    { name = libpipewire-module-link-factory }
]
context.objects = [
    { factory = adapter
        args = {
            factory.name = api.alsa.pcm.sink
            node.name = virtio-sink
            media.class = Audio/Sink
            api.alsa.path = "hw:0,0"
            audio.format = S16LE
            audio.rate = $RATE
            audio.channels = 2
            audio.position = [ FL FR ]
            adapter.auto-port-config = { mode = dsp monitor = false control = false position = preserve }
            priority.driver = 2000
        }
    }
    { factory = adapter
        args = {
            factory.name = api.alsa.pcm.source
            node.name = virtio-source
            media.class = Audio/Source
            api.alsa.path = "hw:0,0"
            audio.format = S16LE
            audio.rate = $RATE
            audio.channels = 2
            audio.position = [ FL FR ]
            adapter.auto-port-config = { mode = dsp monitor = false control = false position = preserve }
            priority.driver = 1000
        }
    }
]
EOF

for c in client client-rt; do
	cat >$PW/$c.conf <<EOF
context.properties = {
    support.dbus = false
    log.level = 2
    mem.allow-mlock = false
}
context.spa-libs = {
    audio.convert.* = audioconvert/libspa-audioconvert
    support.* = support/libspa-support
}
context.modules = [
    { name = libpipewire-module-protocol-native }
    { name = libpipewire-module-client-node }
    { name = libpipewire-module-adapter }
    { name = libpipewire-module-metadata }
]
EOF
done

now_cs() { cut -d' ' -f1 /proc/uptime | tr -d .; }

# tone FREQ SECONDS FILE, wav_header BYTES: as in pulse.sh.
tone() {
	_a=$RATE _b=$1
	while [ "$_b" -ne 0 ]; do
		_t=$((_a % _b))
		_a=$_b _b=$_t
	done
	awk -v n=$((RATE / _a)) -v f="$1" -v rate=$RATE '
		function sine(x,   k, t, s) {
			x -= 6.283185307179586 * int(x / 6.283185307179586)
			if (x > 3.141592653589793) x -= 6.283185307179586
			t = x; s = x
			for (k = 1; k < 14; k++) { t = -t * x * x / ((2 * k) * (2 * k + 1)); s += t }
			return s
		}
		BEGIN {
			for (i = 0; i < n; i++) {
				v = 16384 * sine(6.283185307179586 * f * i / rate)
				v = int(v < 0 ? v - 0.5 : v + 0.5)
				if (v < 0) v += 65536
				printf "%c%c%c%c", v % 256, int(v / 256), v % 256, int(v / 256)
			}
		}' >"$3.tmp"
	_want=$((RATE * 4 * $2))
	while [ "$(wc -c <"$3.tmp")" -lt "$_want" ]; do
		cat "$3.tmp" "$3.tmp" >"$3.tmp2" && mv "$3.tmp2" "$3.tmp"
	done
	wav_header $_want >"$3"
	head -c $_want "$3.tmp" >>"$3"
	rm -f "$3.tmp"
}
wav_header() {
	awk -v r=$RATE -v n="$1" '
		function le(v, k) { for (; k > 0; k--) { printf "%c", v % 256; v = int(v / 256) } }
		BEGIN {
			printf "RIFF"; le(36 + n, 4); printf "WAVEfmt "; le(16, 4); le(1, 2); le(2, 2)
			le(r, 4); le(r * 4, 4); le(4, 2); le(16, 2); printf "data"; le(n, 4)
		}'
}

# link_ports OUTNODE INNODE: links OUTNODE's output ports to INNODE's input ports, FL to FL
# and FR to FR, once they exist (a client's ports appear after it connects).
link_ports() {
	_i=0
	while [ $_i -lt 20 ]; do
		_o=$(timeout 5 pw-link -o 2>/dev/null | grep "^$1:" | sort)
		_n=$(timeout 5 pw-link -i 2>/dev/null | grep "^$2:" | sort)
		if [ -n "$_o" ] && [ -n "$_n" ]; then
			_ok=0
			for _ch in FL FR; do
				_op=$(echo "$_o" | grep "_$_ch\$" | head -n 1)
				_ip=$(echo "$_n" | grep "_$_ch\$" | head -n 1)
				[ -n "$_op" ] && [ -n "$_ip" ] && timeout 5 pw-link "$_op" "$_ip" && _ok=$((_ok + 1))
			done
			[ $_ok -eq 2 ] && return 0
		fi
		sleep 0.1
		_i=$((_i + 1))
	done
	echo "cannot link $1 to $2; outputs: $(timeout 5 pw-link -o 2>&1 | tr '\n' ' '); inputs: $(timeout 5 pw-link -i 2>&1 | tr '\n' ' ')"
	return 1
}

# Without a session manager nobody sets the nodes' port configuration: adapters have no
# ports until then. adapter.auto-port-config gives them one port per channel (dsp mode).
AUTOPORT='adapter.auto-port-config = { mode = dsp monitor = false control = false position = preserve }'

ktap_plan 6

pipewire -c $PW/pipewire.conf >$LOG 2>&1 &
PW_PID=$!
t0=$(now_cs) up=1
while ! timeout 5 pw-link -i >/dev/null 2>&1; do
	if [ $(($(now_cs) - t0)) -gt 3000 ] || ! kill -0 $PW_PID 2>/dev/null; then
		up=0
		break
	fi
	sleep 0.2
done
i=$(($(now_cs) - t0))
i=$((i / 10))
PIPEWIRE_DEBUG=3 timeout 5 pw-link -io 2>&1 | tail -n 20 | sed 's/^/# pw-link: /'
if [ $up -eq 1 ]; then
	ktap_ok "pipewire starts as root without a session bus" "after $((i / 10)).$((i % 10)) s"
else
	tail -n 30 $LOG | sed 's/^/# /'
	PIPEWIRE_DEBUG=3 timeout 5 pw-link -i 2>&1 | tail -n 20 | sed 's/^/# pw-link: /'
	ktap_fail "pipewire starts as root without a session bus" "no answer after $((i / 10)) s"
	ktap_finish
	exit 1
fi

timeout 5 pw-link -i | sed 's/^/# inputs: /'
timeout 5 pw-link -o | sed 's/^/# outputs: /'
nodes=$(timeout 10 pw-dump 2>/dev/null | grep -cE '"node.name": "virtio-(sink|source)"')
if [ "$nodes" -ge 2 ]; then
	ktap_ok "ALSA sink and source nodes on card 0"
else
	ktap_fail "ALSA sink and source nodes on card 0" "$nodes of 2 nodes"
fi

tone $FREQ 3 /tmp/tone3.wav
tone $FREQ 8 /tmp/tone8.wav

# pw-play of 3 s, linked to the sink.
t0=$(now_cs)
timeout 30 pw-play -P "{ node.name = play3 $AUTOPORT }" /tmp/tone3.wav >/tmp/play3.log 2>&1 &
play=$!
link_ports play3 virtio-sink >/tmp/link.log 2>&1
link_rc=$?
wait $play
rc=$?
dt=$(($(now_cs) - t0))
if [ $link_rc -eq 0 ] && [ $rc -eq 0 ] && [ $dt -ge 270 ] && [ $dt -le 600 ]; then
	ktap_ok "pw-play 3 s tone" "${dt}0 ms"
else
	sed 's/^/# /' /tmp/link.log /tmp/play3.log
	ktap_fail "pw-play 3 s tone" "link rc=$link_rc, rc=$rc after ${dt}0 ms, want 2700..6000 ms"
fi

# Round trip: 8 s played, 3 s recorded from 3 s on.
timeout 40 pw-play -P "{ node.name = play8 $AUTOPORT }" /tmp/tone8.wav >/tmp/play8.log 2>&1 &
play=$!
link_ports play8 virtio-sink >/tmp/link.log 2>&1
link_rc=$?
sleep 3
timeout 20 pw-record -P "{ node.name = rec3 $AUTOPORT }" --format s16 --rate $RATE --channels 2 /tmp/rec.wav >/tmp/rec.log 2>&1 &
rec=$!
link_ports virtio-source rec3 >>/tmp/link.log 2>&1
link_rc=$((link_rc + $?))
sleep 3
kill -INT $rec 2>/dev/null
wait $rec
wait $play
play_rc=$?
alsabat --local -F $FREQ -c 2 -r $RATE -f S16_LE --file /tmp/rec.wav >/tmp/rt-bat.log 2>&1
bat_rc=$?
grep -E 'Detected peak|Amplitude|PASS|FAIL|Return value|frames' /tmp/rt-bat.log | head -8 | sed 's/^/# /'
if [ $link_rc -eq 0 ] && [ $play_rc -eq 0 ] && [ $bat_rc -eq 0 ]; then
	ktap_ok "round trip carries the $FREQ Hz tone"
else
	sed 's/^/# /' /tmp/link.log /tmp/play8.log /tmp/rec.log
	ktap_fail "round trip carries the $FREQ Hz tone" "link rc=$link_rc, pw-play rc=$play_rc, alsabat rc=$bat_rc"
fi

xr=$(grep -icE 'xrun|underrun|overrun' $LOG)
if [ "$xr" -eq 0 ]; then
	ktap_ok "no ALSA xrun in PipeWire's log"
else
	grep -iE 'xrun|underrun|overrun' $LOG | head -n 10 | sed 's/^/# /'
	ktap_fail "no ALSA xrun in PipeWire's log" "$xr line(s)"
fi
kill $PW_PID 2>/dev/null
sleep 0.5
sed 's/^/# pw.log: /' $LOG | head -n 60

ktap_check "no warning in dmesg" dmesg_clean pipewire
ktap_finish
exit $?
