# SPDX-License-Identifier: GPL-2.0
#
# Sound servers on card 0 for the guest scripts (busybox sh; source it after /tests/lib.sh,
# with the driver loaded and the card up). Both run as root without a session bus or a
# session manager, configured as tests/guest/pulse.sh and tests/guest/pipewire.sh configure
# them (this file repeats their configuration: those two scripts are not yet built on it).
# The initramfs must have the servers (scripts/run-guest.sh --sound-servers).
#
#   pa_start [IDLE_S]  PulseAudio: module-alsa-card on card 0 with tsched=1 asked (PulseAudio
#                      decides: it drops tsched in a VM and for a BATCH PCM), the native
#                      protocol on $PA/native, the log at debug level in $SRV_LOG; with
#                      IDLE_S also module-suspend-on-idle timeout=IDLE_S (the sink and the
#                      source close their PCM after IDLE_S s without a client stream), else
#                      they run from start-up on. Waits until the daemon answers and its
#                      ALSA sink and source exist: PA_SINK, PA_SOURCE. Returns 1 (and prints
#                      the log's tail) if it does not answer within 30 s.
#   pa_stop            ends the daemon
#   pw_start           PipeWire: static ALSA adapter nodes virtio-sink and virtio-source on
#                      hw:0,0, log level 3 (info: the ALSA plugin's xrun and buffer lines) in
#                      $SRV_LOG; no session manager. Waits until the daemon answers and both
#                      nodes exist; returns 1 otherwise.
#   pw_stop            ends the daemon
#   pw_link OUT IN     links node OUT's output ports to node IN's input ports, FL to FL and
#                      FR to FR, once they exist; prints why and returns 1 if it cannot
#   PW_AUTOPORT        the properties that give a client stream ports without a session
#                      manager (pw-play -P "{ node.name = N $PW_AUTOPORT }")
#   srv_log_mark       the number of lines of $SRV_LOG so far (for srv_log_since)
#   srv_log_since N    the lines of $SRV_LOG after the first N
#   srv_pcm_state p|c  the state of card 0's PCM 0 playback or capture substream 0:
#                      "closed" or its state (RUNNING, SETUP, ...) from /proc/asound
#   srv_wait_pcm p|c STATE SECONDS   waits until srv_pcm_state prints STATE; 1 if it does not
#   wav_header BYTES   the 44-byte header of a stereo S16_LE WAV at $SRV_RATE with BYTES of data

SRV_RATE=48000
SRV_LOG=/tmp/srv.log
PA=/tmp/pa
PW=/tmp/pw
PA_PID='' PW_PID='' PA_SINK='' PA_SOURCE=''
PW_AUTOPORT='adapter.auto-port-config = { mode = dsp monitor = false control = false position = preserve }'

srv_log_mark() { wc -l <$SRV_LOG 2>/dev/null || echo 0; }
srv_log_since() { sed -n "$(($1 + 1)),\$p" $SRV_LOG; }

srv_pcm_state() {
	_st=$(cat "/proc/asound/card0/pcm0$1/sub0/status" 2>/dev/null)
	case $_st in
	closed*) echo closed ;;
	*) echo "$_st" | sed -n 's/^state: *//p' ;;
	esac
}

srv_wait_pcm() {
	_n=$(($3 * 10))
	while [ "$(srv_pcm_state "$1")" != "$2" ]; do
		_n=$((_n - 1))
		[ $_n -gt 0 ] || return 1
		sleep 0.1
	done
}

wav_header() {
	awk -v r=$SRV_RATE -v n="$1" '
		function le(v, k) { for (; k > 0; k--) { printf "%c", v % 256; v = int(v / 256) } }
		BEGIN {
			printf "RIFF"; le(36 + n, 4); printf "WAVEfmt "; le(16, 4); le(1, 2); le(2, 2)
			le(r, 4); le(r * 4, 4); le(4, 2); le(16, 2); printf "data"; le(n, 4)
		}'
}

# _srv_stop PID: SIGTERM, then SIGKILL after 5 s.
_srv_stop() {
	[ -n "$1" ] || return 0
	kill "$1" 2>/dev/null
	_i=0
	while kill -0 "$1" 2>/dev/null && [ $_i -lt 50 ]; do
		sleep 0.1
		_i=$((_i + 1))
	done
	kill -9 "$1" 2>/dev/null
	wait "$1" 2>/dev/null
	return 0
}

pa_start() {
	mkdir -p $PA/run/pulse $PA/.config/pulse $PA/state
	chmod 700 $PA $PA/run $PA/run/pulse
	# Everything PulseAudio and its clients look up stays in $PA; no D-Bus, no X11. The
	# daemon reads $HOME/.config/pulse/daemon.conf (not $XDG_CONFIG_HOME's).
	export HOME=$PA XDG_RUNTIME_DIR=$PA/run XDG_CONFIG_HOME=$PA/.config
	export PULSE_RUNTIME_PATH=$PA/run/pulse PULSE_STATE_PATH=$PA/state PULSE_COOKIE=$PA/cookie
	export PULSE_SERVER=unix:$PA/native PULSE_CLIENTCONFIG=$PA/client.conf
	unset DBUS_SESSION_BUS_ADDRESS DISPLAY
	cat >$PA/.config/pulse/daemon.conf <<EOF
default-sample-format = s16le
default-sample-rate = $SRV_RATE
alternate-sample-rate = $SRV_RATE
default-sample-channels = 2
realtime-scheduling = no
high-priority = yes
nice-level = -11
exit-idle-time = -1
EOF
	echo 'autospawn = no' >$PA/client.conf
	cat >$PA/guest.pa <<EOF
.fail
load-module module-alsa-card device_id=0 name=virtio card_name=alsa_card.virtio tsched=1
load-module module-native-protocol-unix socket=$PA/native auth-anonymous=1
EOF
	[ -z "${1:-}" ] || echo "load-module module-suspend-on-idle timeout=$1" >>$PA/guest.pa
	pulseaudio -n -F $PA/guest.pa --daemonize=no --system=no --use-pid-file=no \
		--exit-idle-time=-1 --disallow-exit --realtime=no --high-priority=yes \
		--log-target=file:$SRV_LOG --log-level=debug --log-time=yes </dev/null >$PA/stdout 2>&1 &
	PA_PID=$!
	_i=0
	while ! pactl info >/dev/null 2>&1; do
		_i=$((_i + 1))
		if [ $_i -gt 300 ] || ! kill -0 $PA_PID 2>/dev/null; then
			tail -n 30 $SRV_LOG $PA/stdout 2>/dev/null | sed 's/^/# /'
			echo "# pa_start: pulseaudio does not answer after $((_i / 10)) s"
			return 1
		fi
		sleep 0.1
	done
	PA_SINK=$(pactl list short sinks | awk '$2 ~ /^alsa_output\./ {print $2; exit}')
	PA_SOURCE=$(pactl list short sources | awk '$2 ~ /^alsa_input\./ {print $2; exit}')
	if [ -z "$PA_SINK" ] || [ -z "$PA_SOURCE" ]; then
		pactl list short sinks | sed 's/^/# sinks: /'
		pactl list short sources | sed 's/^/# sources: /'
		echo "# pa_start: no ALSA sink or source"
		return 1
	fi
}

pa_stop() {
	_srv_stop "$PA_PID"
	PA_PID=
}

pw_start() {
	mkdir -p $PW/run
	chmod 700 $PW $PW/run
	# The clients read client.conf (pw-cat: client-rt.conf) from PIPEWIRE_CONFIG_DIR; the
	# daemon its own file, pipewire.conf.
	export HOME=$PW XDG_RUNTIME_DIR=$PW/run PIPEWIRE_RUNTIME_DIR=$PW/run PIPEWIRE_CONFIG_DIR=$PW
	unset DBUS_SESSION_BUS_ADDRESS DISPLAY
	for _node in "api.alsa.pcm.sink virtio-sink Audio/Sink 2000" \
		"api.alsa.pcm.source virtio-source Audio/Source 1000"; do
		set -- $_node
		cat <<EOF
    { factory = adapter
        args = {
            factory.name = $1
            node.name = $2
            media.class = $3
            api.alsa.path = "hw:0,0"
            audio.format = S16LE
            audio.rate = $SRV_RATE
            audio.channels = 2
            audio.position = [ FL FR ]
            $PW_AUTOPORT
            priority.driver = $4
        }
    }
EOF
	done >$PW/nodes.conf
	cat >$PW/pipewire.conf <<EOF
context.properties = {
    support.dbus = false
    core.daemon = true
    core.name = pipewire-0
    default.clock.rate = $SRV_RATE
    default.clock.allowed-rates = [ $SRV_RATE ]
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
$(cat $PW/nodes.conf)
]
EOF
	for _c in client client-rt; do
		cat >$PW/$_c.conf <<EOF
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
	pipewire -c $PW/pipewire.conf >$SRV_LOG 2>&1 &
	PW_PID=$!
	_i=0
	while :; do
		_in=$(timeout 5 pw-link -i 2>/dev/null)
		_out=$(timeout 5 pw-link -o 2>/dev/null)
		echo "$_in" | grep -q '^virtio-sink:' && echo "$_out" | grep -q '^virtio-source:' && return 0
		_i=$((_i + 1))
		if [ $_i -gt 150 ] || ! kill -0 $PW_PID 2>/dev/null; then
			tail -n 30 $SRV_LOG | sed 's/^/# /'
			echo "# pw_start: no virtio-sink and virtio-source ports after $((_i / 5)) s; inputs: $(echo $_in); outputs: $(echo $_out)"
			return 1
		fi
		sleep 0.2
	done
}

pw_stop() {
	_srv_stop "$PW_PID"
	PW_PID=
}

pw_link() {
	_i=0
	while [ $_i -lt 50 ]; do
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
