# SPDX-License-Identifier: GPL-2.0
#
# Helpers of the reliability tests tests/guest/stress-*.sh (busybox sh; sourced after
# /tests/lib.sh, not a test by itself).
#
#   stress_load [PARAM=V...]   loads the driver of bench.driver (rs, the default, or c)
#   stress_unload              rmmod of that driver
#   DRV                        its name in /sys/bus/virtio/drivers (virtio_snd_rs, virtio_snd)
#   snd_vdev                   (tests/guest/lib.sh) the virtio device of the sound card
#   snd_pci                    the PCI device (sysfs path) under that virtio device
#   wait_card_gone SECONDS     waits until /proc/asound/card0 is gone
#   wait_exit SECONDS PID...   waits for the processes to exit; returns 1 if one is left
#   client_ktap FILE           turns the lines of tests/clients/stress-client.c in FILE
#                              ("ok|not ok|skip<TAB>NAME[<TAB>DIAG]", "# ...") into KTAP
#                              results at the current level
#   client_count FILE          how many results FILE holds (for the plan)
#   qmp JSON                   asks scripts/run-guest.sh (--qmp) to send JSON to QEMU's monitor
#   remove_under_load REMOVE ADD SETTLE
#                              one round: starts aplay and arecord on hw:0,0 (60 s each), waits
#                              SETTLE seconds, runs the shell command REMOVE in the background
#                              (it may block until the applications close the card), checks
#                              that both applications exit with an error within 10 s, that
#                              REMOVE completes within 15 s and the card goes (and the PCI
#                              device $PCI, if the caller set it), then runs ADD and waits
#                              10 s for card 0. Returns 0, or 1 with ROUND_FAIL set
#                              to what went wrong; ROUND_ERR holds the applications' messages

DRIVER=${BENCH_DRIVER:-rs}
if [ "$DRIVER" = c ]; then DRV=virtio_snd; else DRV=virtio_snd_rs; fi

stress_load() {
	if [ "$DRIVER" = c ]; then load_c_driver "$@"; else load_rs_driver "$@"; fi
}

stress_unload() {
	rmmod "$DRV"
}

snd_pci() {
	_v=$(snd_vdev) || return 1
	readlink -f "/sys/bus/virtio/devices/$_v/.."
}

wait_card_gone() {
	_t=$((${1:-5} * 10))
	while [ "$_t" -gt 0 ]; do
		[ -e /proc/asound/card0 ] || return 0
		sleep 0.1
		_t=$((_t - 1))
	done
	return 1
}

client_count() {
	grep -cE '^(ok|not ok|skip)	' "$1"
}

client_ktap() {
	while IFS= read -r _line; do
		case $_line in
		"# "*) ktap_diag "${_line#\# }" ;;
		"ok	"* | "not ok	"* | "skip	"*)
			_res=${_line%%	*}
			_rest=${_line#*	}
			_name=${_rest%%	*}
			_diag=
			[ "$_rest" != "$_name" ] && _diag=${_rest#*	}
			case $_res in
			ok) ktap_ok "$_name" "$_diag" ;;
			skip) ktap_skip "$_name" "$_diag" ;;
			*) ktap_fail "$_name" "$_diag" ;;
			esac
			;;
		*) [ -n "$_line" ] && ktap_diag "$_line" ;;
		esac
	done <"$1"
}

qmp() {
	echo "BENCH-QMP: $1"
}

# _alive PID: is PID running (a zombie is not)?
_alive() {
	[ -e "/proc/$1/stat" ] || return 1
	_st=$(sed 's/^.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f1)
	[ -n "$_st" ] && [ "$_st" != Z ] && [ "$_st" != X ]
}

wait_exit() {
	_t=$(($1 * 10))
	shift
	while [ "$_t" -gt 0 ]; do
		_left=0
		for _p in "$@"; do
			_alive "$_p" && _left=1
		done
		[ "$_left" = 0 ] && return 0
		sleep 0.1
		_t=$((_t - 1))
	done
	return 1
}

remove_under_load() {
	_rm=$1 _add=$2 _settle=${3:-1}
	ROUND_FAIL='' ROUND_ERR=''
	aplay -q -D hw:0,0 -f S16_LE -r 48000 -c 2 -t raw -d 60 /dev/zero 2>/tmp/aplay.err &
	_ap=$!
	_ar=
	if grep -q 'capture' /proc/asound/pcm; then
		arecord -q -D hw:0,0 -f S16_LE -r 48000 -c 2 -t raw -d 60 /dev/null 2>/tmp/arecord.err &
		_ar=$!
	fi
	sleep "$_settle"
	for _p in $_ap $_ar; do
		_alive "$_p" || ROUND_FAIL="an application ended before the removal"
	done
	sh -c "$_rm" 2>/tmp/remove.err &
	_rmp=$!
	if ! wait_exit 10 $_ap $_ar; then
		ROUND_FAIL="${ROUND_FAIL:+$ROUND_FAIL; }aplay/arecord still running 10 s after the removal"
		for _p in $_ap $_ar; do
			_alive "$_p" && ktap_diag "still running: $(cat "/proc/$_p/cmdline" | tr '\0' ' ') in $(cat "/proc/$_p/wchan" 2>/dev/null)"
		done
		kill -9 $_ap $_ar 2>/dev/null
		wait_exit 5 $_ap $_ar || ROUND_FAIL="$ROUND_FAIL; unkillable"
	fi
	wait "$_ap"
	_s1=$?
	_s2=1
	if [ -n "$_ar" ]; then
		wait "$_ar"
		_s2=$?
	fi
	[ "$_s1" != 0 ] && [ "$_s2" != 0 ] ||
		ROUND_FAIL="${ROUND_FAIL:+$ROUND_FAIL; }an application exited with status 0 (aplay $_s1, arecord $_s2)"
	# shellcheck disable=SC2034 # for the caller
	ROUND_ERR="aplay ($_s1): $(tr '\n' ' ' </tmp/aplay.err) arecord ($_s2): $(cat /tmp/arecord.err 2>/dev/null | tr '\n' ' ')"
	if ! wait_exit 15 $_rmp; then
		ROUND_FAIL="${ROUND_FAIL:+$ROUND_FAIL; }the removal did not complete in 15 s (in $(cat "/proc/$_rmp/wchan" 2>/dev/null))"
		return 1
	fi
	wait "$_rmp" || ROUND_FAIL="${ROUND_FAIL:+$ROUND_FAIL; }the removal failed: $(cat /tmp/remove.err)"
	wait_card_gone 5 || ROUND_FAIL="${ROUND_FAIL:+$ROUND_FAIL; }card 0 still there 5 s after the removal"
	# A hot-unplug ends when the PCI device is gone ($PCI, set by the caller), after the
	# card: QEMU deletes its device only on the guest's ACPI eject, and a device_add of the
	# same ID before that fails ("Duplicate device ID").
	_t=100
	while [ -n "${PCI:-}" ] && [ -e "$PCI" ] && [ $_t -gt 0 ]; do
		sleep 0.1
		_t=$((_t - 1))
	done
	[ -z "${PCI:-}" ] || [ ! -e "$PCI" ] || ROUND_FAIL="${ROUND_FAIL:+$ROUND_FAIL; }$PCI still there 10 s after the card went"
	sh -c "$_add" 2>/tmp/add.err || ROUND_FAIL="${ROUND_FAIL:+$ROUND_FAIL; }the re-add failed: $(cat /tmp/add.err)"
	wait_for_card 10 2>/dev/null || ROUND_FAIL="${ROUND_FAIL:+$ROUND_FAIL; }no card 0 10 s after the re-add"
	[ -z "$ROUND_FAIL" ]
}
