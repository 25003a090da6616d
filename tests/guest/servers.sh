# SPDX-License-Identifier: GPL-2.0
#
# Sound servers on card 0 for the guest scripts (busybox sh; source it after /tests/lib.sh,
# with the driver loaded and the card up): the one setup of PulseAudio and PipeWire that
# tests/guest/pulse.sh, pulse-integrity.sh, pipewire.sh and the server workloads of
# tests/guest/bench.sh share. Both run as root without a session bus or a session manager.
# The initramfs must have the servers (scripts/run-guest.sh --sound-servers).
#
#   pa_start [IDLE_S]  PulseAudio: pa_config [IDLE_S], pa_daemon, then its ALSA sink and
#                      source (pa_devices); returns 1 (with the reason as "# " lines) if the
#                      daemon does not answer or one of them is missing.
#   pa_config [IDLE_S] the environment and the files: daemon.conf (s16le 2ch $SRV_RATE,
#                      no resampling to another rate, nice -11, real-time as PA_RT says),
#                      module-alsa-card on card 0 with tsched=1 asked (PulseAudio decides:
#                      it drops tsched in a VM and for a BATCH PCM) and PA_CARD, the native
#                      protocol on $PA/native; with IDLE_S also module-suspend-on-idle
#                      timeout=IDLE_S (the sink and the source close their PCM after IDLE_S
#                      s without a client stream), else they run from start-up on. Knobs,
#                      set before it (default: none):
#                        PA_CONF     daemon.conf lines after the sample spec's
#                        PA_RT       yes: realtime-scheduling (SCHED_RR, as root: no rtkit)
#                                    in daemon.conf and on the command line (default no)
#                        PA_RT_PRIO  realtime-priority in daemon.conf
#                        PA_CARD     more module-alsa-card arguments
#   pa_daemon          starts the daemon, its log at debug level in $SRV_LOG, and waits
#                      until it answers: PA_PID, SRV_UP_DS (how long it took, in tenths of
#                      a second). Returns 1 (and prints the logs' tails) if it does not
#                      answer within 30 s.
#   pa_devices         PA_SINK, PA_SOURCE: module-alsa-card's sink and source; 1 if either
#                      is missing
#   pa_list_devices    the daemon's sinks and sources as "# sinks: ", "# sources: " lines
#   pa_lines REGEX     the lines of $SRV_LOG that match (extended regular expression)
#   pa_check_complaints  a KTAP check: PulseAudio's log has none of its ALSA driver
#                      complaints; prints the known "woke us up" lines first
#   pa_stop            ends the daemon
#   pw_start           PipeWire: pw_config, pw_daemon, then waits until the nodes'
#                      ports exist; returns 1 (with the reason as "# " lines) otherwise.
#   pw_config          the environment and the files: the daemon's pipewire.conf, with
#                      static ALSA adapter nodes virtio-sink and virtio-source on hw:0,0
#                      (S16LE 2ch $SRV_RATE) and no session manager, and the clients'
#                      client.conf and client-rt.conf. Knobs, set before it (default: none):
#                        PW_QUANTUM  the graph's fixed quantum (default, min and max)
#                        PW_HEADROOM api.alsa.headroom of the sink
#                        PW_RT       1: module-rt in the daemon and the clients (their data
#                                    threads SCHED_FIFO at 88, nice -11; module-rt sets it
#                                    itself as root: no rtkit, no D-Bus)
#                        PW_DEBUG    the daemon's PIPEWIRE_DEBUG, instead of its
#                                    configuration's log.level = 3 (info: the ALSA plugin's
#                                    xrun and buffer lines)
#   pw_daemon          starts the daemon, its log in $SRV_LOG, and waits until it answers
#                      (pw-link -i): PW_PID, SRV_UP_DS. Returns 1 (and prints the log's
#                      tail) if it does not answer within 30 s.
#   pw_stop            ends the daemon
#   pw_link OUT IN     links node OUT's output ports to node IN's input ports, FL to FL and
#                      FR to FR, once they exist; prints why and returns 1 if it cannot.
#                      pw_link --passive OUT IN: the first link (FL) is passive, so that
#                      the nodes do not run (no frame goes through FL alone) before the
#                      second exists.
#   PW_AUTOPORT        the properties that give a client stream ports without a session
#                      manager (pw-play -P "{ node.name = N $PW_AUTOPORT }")
#   srv_check_up pa|pw a KTAP check: pa_daemon or pw_daemon, "pulseaudio (pipewire) starts
#                      as root without a session bus" with the time it took; if it fails,
#                      ends the plan and exits 1
#   now_cs             the uptime in centiseconds
#   srv_log_mark       the number of lines of $SRV_LOG so far (for srv_log_since)
#   srv_log_since N    the lines of $SRV_LOG after the first N
#   srv_pcm_state p|c  the state of card 0's PCM 0 playback or capture substream 0:
#                      "closed" or its state (RUNNING, SETUP, ...) from /proc/asound
#   srv_wait_pcm p|c STATE SECONDS   waits until srv_pcm_state prints STATE; 1 if it does not
#   srv_pcm_params p|c PREFIX FILE...  that substream's /proc/asound FILEs (hw_params,
#                      sw_params, status) as "# PREFIXFILE: " lines
#   wav_header BYTES   the 44-byte header of a stereo S16_LE WAV at $SRV_RATE with BYTES of data
#   break_frame FILE FRAME KNOB  flips one bit of the first sample of FRAME (S16 stereo) of
#                      the WAV FILE (data from byte 44) and says so, naming KNOB
#
# SRV_LOG, PA and PW may be set after sourcing this file, before the servers start.

SRV_RATE=48000
SRV_LOG=/tmp/srv.log
PA=/tmp/pa
PW=/tmp/pw
PA_PID='' PW_PID='' PA_SINK='' PA_SOURCE='' SRV_UP_DS=0
PA_CONF='' PA_RT=no PA_RT_PRIO='' PA_CARD=''
PW_QUANTUM='' PW_HEADROOM='' PW_RT=0 PW_DEBUG=''
# Without a session manager nobody sets the nodes' port configuration: adapters have no
# ports until then. adapter.auto-port-config gives them one port per channel (dsp mode).
PW_AUTOPORT='adapter.auto-port-config = { mode = dsp monitor = false control = false position = preserve }'

now_cs() { cut -d' ' -f1 /proc/uptime | tr -d .; }
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

srv_pcm_params() {
	_d=$1 _p=$2
	shift 2
	for _f in "$@"; do
		sed "s/^/# $_p$_f: /" /proc/asound/card0/pcm0$_d/sub0/$_f
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

break_frame() {
	_off=$((44 + 4 * $2))
	_b=$(dd if="$1" bs=1 skip=$_off count=1 2>/dev/null | od -An -tu1 | tr -d ' ')
	printf "$(printf '\\%03o' $((_b ^ 1)))" | dd of="$1" bs=1 seek=$_off count=1 conv=notrunc 2>/dev/null
	echo "# $3: frame $2 of $1 corrupted (byte $_off: $_b -> $((_b ^ 1)))"
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

# _srv_wait PID CMD...: runs CMD every 0.1 s until it succeeds (0), for 30 s at the most or
# until PID ends (1); SRV_UP_DS is the time it took, in tenths of a second.
_srv_wait() {
	_pid=$1 _t0=$(now_cs) _up=0
	shift
	while :; do
		"$@" >/dev/null 2>&1 && { _up=1; break; }
		[ $(($(now_cs) - _t0)) -le 3000 ] && kill -0 $_pid 2>/dev/null || break
		sleep 0.1
	done
	SRV_UP_DS=$((($(now_cs) - _t0) / 10))
	[ $_up -eq 1 ]
}

srv_check_up() {
	if [ "$1" = pa ]; then
		_what=pulseaudio
		pa_daemon
	else
		_what=pipewire
		pw_daemon
	fi
	_rc=$? _i=$SRV_UP_DS
	if [ $_rc -eq 0 ]; then
		ktap_ok "$_what starts as root without a session bus" "after $((_i / 10)).$((_i % 10)) s"
		return 0
	fi
	ktap_fail "$_what starts as root without a session bus" "no answer after $((_i / 10)) s"
	ktap_finish
	exit 1
}

# The files are written through _srv_conf, which drops the empty lines that the knobs left
# unset leave.
_srv_conf() { sed '/^$/d' >"$1"; }

pa_config() {
	mkdir -p $PA/run/pulse $PA/.config/pulse $PA/state
	chmod 700 $PA $PA/run $PA/run/pulse
	# Everything PulseAudio and its clients look up stays in $PA; no D-Bus, no X11. The
	# daemon reads $HOME/.config/pulse/daemon.conf (not $XDG_CONFIG_HOME's).
	export HOME=$PA XDG_RUNTIME_DIR=$PA/run XDG_CONFIG_HOME=$PA/.config
	export PULSE_RUNTIME_PATH=$PA/run/pulse PULSE_STATE_PATH=$PA/state PULSE_COOKIE=$PA/cookie
	export PULSE_SERVER=unix:$PA/native PULSE_CLIENTCONFIG=$PA/client.conf
	unset DBUS_SESSION_BUS_ADDRESS DISPLAY
	_srv_conf $PA/.config/pulse/daemon.conf <<EOF
default-sample-format = s16le
default-sample-rate = $SRV_RATE
alternate-sample-rate = $SRV_RATE
default-sample-channels = 2
$PA_CONF
realtime-scheduling = $PA_RT
${PA_RT_PRIO:+realtime-priority = $PA_RT_PRIO}
high-priority = yes
nice-level = -11
exit-idle-time = -1
EOF
	echo 'autospawn = no' >$PA/client.conf
	_srv_conf $PA/guest.pa <<EOF
.fail
load-module module-alsa-card device_id=0 name=virtio card_name=alsa_card.virtio tsched=1${PA_CARD:+ $PA_CARD}
load-module module-native-protocol-unix socket=$PA/native auth-anonymous=1
${1:+load-module module-suspend-on-idle timeout=$1}
EOF
}

pa_daemon() {
	pulseaudio -n -F $PA/guest.pa --daemonize=no --system=no --use-pid-file=no \
		--exit-idle-time=-1 --disallow-exit --realtime=$PA_RT --high-priority=yes \
		--log-target=file:$SRV_LOG --log-level=debug --log-time=yes </dev/null >$PA/stdout 2>&1 &
	PA_PID=$!
	_srv_wait $PA_PID pactl info && return 0
	tail -n 30 $SRV_LOG $PA/stdout 2>/dev/null | sed 's/^/# /'
	return 1
}

pa_devices() {
	PA_SINK=$(pactl list short sinks | awk '$2 ~ /^alsa_output\./ {print $2; exit}')
	PA_SOURCE=$(pactl list short sources | awk '$2 ~ /^alsa_input\./ {print $2; exit}')
	[ -n "$PA_SINK" ] && [ -n "$PA_SOURCE" ]
}

pa_start() {
	pa_config "$@"
	pa_daemon || { echo "# pa_start: pulseaudio does not answer after $((SRV_UP_DS / 10)) s"; return 1; }
	if ! pa_devices; then
		pa_list_devices
		echo "# pa_start: no ALSA sink or source"
		return 1
	fi
}

pa_list_devices() {
	pactl list short sinks | sed 's/^/# sinks: /'
	pactl list short sources | sed 's/^/# sources: /'
}

pa_lines() { grep -E "$1" $SRV_LOG; }

pa_check_complaints() {
	# "ALSA woke us up ... but there was actually nothing to write/read" (poll said POLLOUT
	# or POLLIN, then snd_pcm_avail() said 0; logged once per sink and source) shows at
	# stream start with both virtio drivers (Documentation/test-results.rst): a diagnostic,
	# not a failure.
	pa_lines 'woke us up|We were woken up' | sed 's/^/# known: /'
	_bug=$(pa_lines 'exceptionally large|Failed to query DSP|snd_pcm_[a-z_]+\(\) failed|Could not recover|Error opening PCM device hw:')
	if [ -z "$_bug" ]; then
		ktap_ok "no ALSA driver complaint in PulseAudio's log"
	else
		echo "$_bug" | head -n 20 | sed 's/^/# /'
		ktap_fail "no ALSA driver complaint in PulseAudio's log" "$(echo "$_bug" | wc -l) line(s)"
	fi
}

pa_stop() {
	_srv_stop "$PA_PID"
	PA_PID=
}

pw_config() {
	mkdir -p $PW/run
	chmod 700 $PW $PW/run
	# The clients read client.conf (pw-cat: client-rt.conf) from PIPEWIRE_CONFIG_DIR; the
	# daemon its own file, pipewire.conf (Debian's defaults are in the "pipewire" package).
	export HOME=$PW XDG_RUNTIME_DIR=$PW/run PIPEWIRE_RUNTIME_DIR=$PW/run PIPEWIRE_CONFIG_DIR=$PW
	unset DBUS_SESSION_BUS_ADDRESS DISPLAY
	_rt='' _clock='' _level='    log.level = 3'
	[ "$PW_RT" != 1 ] ||
		_rt='    { name = libpipewire-module-rt args = { rt.prio = 88 nice.level = -11 } flags = [ nofail ] }'
	[ -z "$PW_QUANTUM" ] || _clock="    default.clock.quantum = $PW_QUANTUM
    default.clock.min-quantum = $PW_QUANTUM
    default.clock.max-quantum = $PW_QUANTUM"
	[ -z "$PW_DEBUG" ] || _level=''
	for _node in "api.alsa.pcm.sink virtio-sink Audio/Sink 2000" \
		"api.alsa.pcm.source virtio-source Audio/Source 1000"; do
		set -- $_node
		_headroom=''
		[ $2 != virtio-sink ] || [ -z "$PW_HEADROOM" ] ||
			_headroom="            api.alsa.headroom = $PW_HEADROOM"
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
$_headroom
            $PW_AUTOPORT
            priority.driver = $4
        }
    }
EOF
	done >$PW/nodes.conf
	_srv_conf $PW/pipewire.conf <<EOF
context.properties = {
    support.dbus = false
    core.daemon = true
    core.name = pipewire-0
    default.clock.rate = $SRV_RATE
    default.clock.allowed-rates = [ $SRV_RATE ]
$_clock
    mem.allow-mlock = false
$_level
}
context.spa-libs = {
    audio.convert.* = audioconvert/libspa-audioconvert
    api.alsa.* = alsa/libspa-alsa
    support.* = support/libspa-support
}
context.modules = [
$_rt
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
		_srv_conf $PW/$_c.conf <<EOF
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
$_rt
    { name = libpipewire-module-protocol-native }
    { name = libpipewire-module-client-node }
    { name = libpipewire-module-adapter }
    { name = libpipewire-module-metadata }
]
EOF
	done
}

pw_daemon() {
	if [ -n "$PW_DEBUG" ]; then
		PIPEWIRE_DEBUG=$PW_DEBUG pipewire -c $PW/pipewire.conf >$SRV_LOG 2>&1 &
	else
		pipewire -c $PW/pipewire.conf >$SRV_LOG 2>&1 &
	fi
	PW_PID=$!
	_srv_wait $PW_PID timeout 5 pw-link -i && return 0
	tail -n 30 $SRV_LOG | sed 's/^/# /'
	PIPEWIRE_DEBUG=3 timeout 5 pw-link -i 2>&1 | tail -n 20 | sed 's/^/# pw-link: /'
	return 1
}

pw_start() {
	pw_config
	pw_daemon || { echo "# pw_start: pipewire does not answer after $((SRV_UP_DS / 10)) s"; return 1; }
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
	_first=
	[ "$1" != --passive ] || { _first=--passive; shift; }
	_i=0
	while [ $_i -lt 50 ]; do
		_o=$(timeout 5 pw-link -o 2>/dev/null | grep "^$1:" | sort)
		_n=$(timeout 5 pw-link -i 2>/dev/null | grep "^$2:" | sort)
		if [ -n "$_o" ] && [ -n "$_n" ]; then
			_ok=0 _passive=$_first
			for _ch in FL FR; do
				_op=$(echo "$_o" | grep "_$_ch\$" | head -n 1)
				_ip=$(echo "$_n" | grep "_$_ch\$" | head -n 1)
				[ -n "$_op" ] && [ -n "$_ip" ] && timeout 5 pw-link $_passive "$_op" "$_ip" && _ok=$((_ok + 1))
				_passive=
			done
			[ $_ok -eq 2 ] && return 0
		fi
		sleep 0.1
		_i=$((_i + 1))
	done
	echo "cannot link $1 to $2; outputs: $(timeout 5 pw-link -o 2>&1 | tr '\n' ' '); inputs: $(timeout 5 pw-link -i 2>&1 | tr '\n' ' ')"
	return 1
}
