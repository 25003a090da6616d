#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Builds, starts and stops tools/vsnd-device, the bench's vhost-user virtio-snd device.
#
# usage: scripts/vsnd-device.sh build
#        scripts/vsnd-device.sh start SOCK [DEVICE-ARGS...]
#        scripts/vsnd-device.sh stop [SOCK]
#        scripts/vsnd-device.sh ctl SOCK COMMAND...
#        scripts/vsnd-device.sh path
#   build   cargo build --release --locked; the target directory is under $BENCH_CACHE
#   start   builds if needed, starts the device in the background on socket SOCK (device
#           arguments such as --streams 4 --jacks 1 follow), writes SOCK.log and SOCK.pid,
#           gives it the test-control socket SOCK.ctl, waits until the socket exists,
#           prints the log's path. The device exits by itself when QEMU disconnects (see
#           tools/vsnd-device/README.md).
#   stop    stops the device of SOCK, or every device started by this script; removes the
#           sockets and pid file, keeps the log
#   ctl     sends one test-control command to the device of SOCK (faults, events, stats;
#           `ctl SOCK help` lists them); exit status 0 if the device answered ok
#   path    prints the binary's path
# QEMU then needs (-m must equal the memfd size):
#   -object memory-backend-memfd,id=mem,size=512M,share=on -numa node,memdev=mem
#   -chardev socket,id=vsnd,path=SOCK -device vhost-user-snd-pci,chardev=vsnd
# and, for a device with --controls, ",controls=on" on that -device (else the guest reads
# `controls` as 0xffffffff; see tools/vsnd-device/README.md)
set -euo pipefail
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

CRATE=$BENCH_ROOT/tools/vsnd-device
TARGET_DIR=$BENCH_CACHE/vsnd-device-target
BIN=$TARGET_DIR/release/vsnd-device
REGISTRY=$BENCH_CACHE/vsnd-device-running

usage() {
	sed -n '/^# usage:/,/^#   path/p' "$0" | sed 's/^# \{0,1\}//' >&2
	exit 2
}

build() {
	step "vsnd-device: cargo build --release"
	cargo build --release --locked --quiet --manifest-path "$CRATE/Cargo.toml" \
		--target-dir "$TARGET_DIR" >&2
	[[ -x $BIN ]] || die "no $BIN after the build"
}

# is_ours PID: is PID alive and a vsnd-device?
is_ours() {
	[[ -r /proc/$1/cmdline ]] && tr '\0' ' ' <"/proc/$1/cmdline" | grep -q 'vsnd-device'
}

start() {
	local sock=$1
	shift
	[[ $sock == /* ]] || sock=$PWD/$sock
	build
	if [[ -f $sock.pid ]] && is_ours "$(cat "$sock.pid")"; then
		die "a vsnd-device already runs on $sock (pid $(cat "$sock.pid"))"
	fi
	mkdir -p "$(dirname "$sock")" "$(dirname "$REGISTRY")"
	rm -f "$sock"
	local ctl=(--control "$sock.ctl") a
	for a in "$@"; do [[ $a == --control ]] && ctl=(); done
	nohup "$BIN" --socket "$sock" "${ctl[@]}" "$@" >"$sock.log" 2>&1 </dev/null &
	local pid=$!
	echo "$pid" >"$sock.pid"
	echo "$sock" >>"$REGISTRY"
	local i
	for ((i = 0; i < 100; i++)); do
		[[ -S $sock ]] && break
		kill -0 "$pid" 2>/dev/null || {
			cat "$sock.log" >&2
			die "vsnd-device exited at start"
		}
		sleep 0.1
	done
	[[ -S $sock ]] || die "no socket $sock after 10 s (log: $sock.log)"
	step "vsnd-device: pid $pid on $sock"
	echo "$sock.log"
}

stop_one() {
	local sock=$1 pid
	if [[ -f $sock.pid ]]; then
		pid=$(cat "$sock.pid")
		if is_ours "$pid"; then
			kill -TERM "$pid" 2>/dev/null || true
			local i
			for ((i = 0; i < 50; i++)); do
				is_ours "$pid" || break
				sleep 0.1
			done
			if is_ours "$pid"; then kill -KILL "$pid" 2>/dev/null || true; fi
			step "vsnd-device: stopped pid $pid ($sock)"
		fi
		rm -f "$sock.pid"
	fi
	rm -f "$sock" "$sock.ctl"
	if [[ -f $REGISTRY ]]; then
		grep -vxF "$sock" "$REGISTRY" >"$REGISTRY.tmp" || true
		mv "$REGISTRY.tmp" "$REGISTRY"
	fi
}

stop() {
	if (($#)); then
		local sock=$1
		[[ $sock == /* ]] || sock=$PWD/$sock
		stop_one "$sock"
	elif [[ -f $REGISTRY ]]; then
		local s
		sort -u "$REGISTRY" | while read -r s; do
			[[ -z $s ]] || stop_one "$s"
		done
	fi
}

(($#)) || usage
cmd=$1
shift
case $cmd in
build) (($# == 0)) || usage; build; echo "$BIN" ;;
start) (($# >= 1)) || usage; start "$@" ;;
stop) (($# <= 1)) || usage; stop "$@" ;;
ctl)
	(($# >= 2)) || usage
	sock=$1
	shift
	[[ -x $BIN ]] || build
	exec "$BIN" ctl "$sock.ctl" "$@"
	;;
path) echo "$BIN" ;;
*) usage ;;
esac
