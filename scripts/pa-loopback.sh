#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# A private host PulseAudio daemon that loops the guest's playback back to its capture:
#   usage: scripts/pa-loopback.sh start|stop|status|socket
#
#   start   starts the daemon unless it already answers (idempotent); prints the socket path
#   stop    stops it (no error if it is not running)
#   status  prints "running SOCK" (exit 0) or "stopped" (exit 1)
#   socket  prints the socket path (whether or not the daemon runs)
#
# The daemon has one module-null-sink "vsink" (48 kHz, S16, stereo) whose monitor source
# "vsink.monitor" is QEMU's capture: -audiodev pa,id=snd0,server=unix:SOCK,out.name=vsink,
# in.name=vsink.monitor. It runs as root with no session bus and no stdin (CI); its log is
# in the runtime directory, $BENCH_PA_DIR or else /tmp/virtio-snd-bench-pa.UID (a short
# path: a unix socket path is limited to 107 bytes).
set -euo pipefail
. "$(dirname "$0")/lib.sh"

PA_DIR=${BENCH_PA_DIR:-/tmp/virtio-snd-bench-pa.$(id -u)}
SOCK=$PA_DIR/native
PIDFILE=$PA_DIR/daemon.pid
LOG=$PA_DIR/daemon.log

# Everything PulseAudio and its clients look up, kept inside PA_DIR.
pa_env() {
	export HOME=$PA_DIR/home XDG_RUNTIME_DIR=$PA_DIR/run XDG_CONFIG_HOME=$PA_DIR/home/.config
	export PULSE_RUNTIME_PATH=$PA_DIR/run/pulse PULSE_STATE_PATH=$PA_DIR/state
	export PULSE_COOKIE=$PA_DIR/cookie
	unset DBUS_SESSION_BUS_ADDRESS PULSE_SERVER DISPLAY
}

answers() {
	command -v pactl >/dev/null || die "pactl not found (apt-get install pulseaudio-utils)"
	(pa_env && timeout 5 pactl -s "unix:$SOCK" info >/dev/null 2>&1)
}

daemon_pid() {
	local pid
	pid=$(cat "$PIDFILE" 2>/dev/null) || return 1
	[[ $pid =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null && echo "$pid"
}

start() {
	if daemon_pid >/dev/null && answers; then
		echo "$SOCK"
		return 0
	fi
	stop >/dev/null
	command -v pulseaudio >/dev/null || die "pulseaudio not found (apt-get install pulseaudio)"
	mkdir -p "$PA_DIR"/{home/.config,run/pulse,state}
	chmod 700 "$PA_DIR" "$PA_DIR/run" "$PA_DIR/run/pulse"
	cat >"$PA_DIR/loopback.pa" <<EOF
.fail
load-module module-null-sink sink_name=vsink format=s16le rate=48000 channels=2 sink_properties=device.description=vsink
load-module module-native-protocol-unix socket=$SOCK auth-anonymous=1
set-default-sink vsink
set-default-source vsink.monitor
EOF
	rm -f "$SOCK"
	# setsid and closed stdio: the daemon must not hold a caller's pipe (CI waits for EOF).
	(
		pa_env
		exec setsid pulseaudio -n -F "$PA_DIR/loopback.pa" --exit-idle-time=-1 \
			--daemonize=no --system=no --use-pid-file=no --disallow-module-loading=no \
			--log-target=stderr --log-level=notice \
			</dev/null >"$LOG" 2>&1
	) &
	echo $! >"$PIDFILE"
	local i
	for ((i = 0; i < 100; i++)); do
		if answers; then
			echo "$SOCK"
			return 0
		fi
		daemon_pid >/dev/null || break
		sleep 0.1
	done
	echo "pulseaudio did not come up; its log ($LOG):" >&2
	sed 's/^/    /' "$LOG" >&2 || true
	stop >/dev/null
	exit 1
}

stop() {
	local pid i
	if pid=$(daemon_pid); then
		kill "$pid" 2>/dev/null || true
		for ((i = 0; i < 50; i++)); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		kill -9 "$pid" 2>/dev/null || true
		echo "stopped pulseaudio $pid"
	fi
	rm -f "$PIDFILE" "$SOCK"
}

case ${1:-} in
start) start ;;
stop) stop ;;
status)
	if daemon_pid >/dev/null && answers; then
		echo "running $SOCK"
	else
		echo stopped
		exit 1
	fi
	;;
socket) echo "$SOCK" ;;
*)
	sed -n '4,9s/^# \{0,1\}//p' "$0" >&2
	exit 2
	;;
esac
