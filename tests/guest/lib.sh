# SPDX-License-Identifier: GPL-2.0
#
# Guest-side helpers for the tests in /tests (busybox sh, not bash). Source it with
#   . /tests/lib.sh
#
# KTAP output (Documentation/dev-tools/ktap.rst):
#   ktap_plan [N]            "KTAP version 1" and "1..N" at the current level (no N: no plan)
#   ktap_ok NAME [DIAG]      ok line              ktap_fail NAME [DIAG]   not ok line
#   ktap_skip NAME REASON    ok ... # SKIP        ktap_diag TEXT...       "# TEXT" line(s)
#   ktap_result RC NAME [DIAG]  ok if RC is 0, else not ok
#   ktap_check NAME CMD...   runs CMD; ok if it exits 0, else not ok with its output as diag
#   ktap_subtest_begin NAME [N] / ktap_subtest_end
#                            nested test: two more spaces of indentation; the parent result
#                            is not ok if any subtest failed, SKIP if all were skipped
#   ktap_finish              "# Totals: ..." line; returns 1 if any test failed or the count
#                            differs from the plan (end a script with: ktap_finish; exit $?)
# Drivers:
#   load_c_driver [PARAM=V...]   insmod snd-timer, snd-pcm, virtio_snd from /lib/modules/c
#   load_rs_driver [PARAM=V...]  insmod snd-timer, snd-pcm, then /lib/modules/rs/virtio_snd_rs.ko
#                                with the parameters of bench.rsparams=K=V,K=V, then PARAM=V
#   unload_driver                rmmod whichever of virtio_snd, virtio_snd_rs is loaded
#   wait_for_card [SECONDS]      waits for card 0 and /dev/snd/pcmC0D0p (default 5 s)
#   device_irqs                  interrupts taken so far by the sound card's virtio device
#   dmesg_mark NAME              writes a marker line to the kernel log
#   dmesg_clean [NAME]           fails (and prints the lines) if the kernel log, or its part
#                                after marker NAME, has a splat line ($SPLAT_RE) or a Call Trace
#   dmesg_scan                   the end-of-run scan of scripts/guest-init.sh: kmemleak scan
#                                (debug kernel), then "# SPLAT: LINE" for every splat line of
#                                the whole kernel log, with context; returns 1 if any
#   quiet_run CMD...             runs CMD with its output turned into "# " diag lines
#   vsnd_port                    the virtio-serial port of tools/vsnd-device's test control
#                                (/dev/vportNpM named vsnd.ctl; scripts/run-guest.sh --vsnd)
#   vsnd_burst N CMD             sends the test-control command CMD N times on one
#                                connection, each reply read before the next (30 s at most)
#   cover_save                   coverage build of virtio_snd_rs (src/sys/cover.c) loaded:
#                                prints the edges it reached as "BENCH-COVER: ..." lines
#                                (scripts/guest-coverage.sh reads them); call it before an
#                                rmmod, which loses them. Does nothing otherwise

KTAP_DEPTH=0
_ktap_n_0=0 _ktap_fail_0=0 _ktap_pass_0=0 _ktap_skip_0=0 _ktap_plan_0=
_ktap_pass=0 _ktap_fail=0 _ktap_skip=0

_ktap_indent() {
	_i=0 _s=
	while [ "$_i" -lt "$KTAP_DEPTH" ]; do
		_s="$_s  "
		_i=$((_i + 1))
	done
	printf '%s' "$_s"
}

_ktap_get() { eval "echo \"\${_ktap_$1_$KTAP_DEPTH:-0}\""; }
_ktap_inc() { eval "_ktap_$1_$KTAP_DEPTH=\$((\${_ktap_$1_$KTAP_DEPTH:-0} + 1))"; }

ktap_diag() { # every line of the text becomes a "# " line
	printf '%s\n' "$*" | sed "s/^/$(_ktap_indent)# /"
}

ktap_plan() {
	echo "$(_ktap_indent)KTAP version 1"
	if [ -n "${1:-}" ]; then
		echo "$(_ktap_indent)1..$1"
		eval "_ktap_plan_$KTAP_DEPTH=$1"
	fi
}

# _ktap_line ok|not-ok|skip NAME [DIAG]
_ktap_line() {
	_ktap_inc n
	_n=$(_ktap_get n)
	_name=$(echo "$2" | tr '#' '_')
	case $1 in
	ok)
		_ktap_inc pass
		echo "$(_ktap_indent)ok $_n $_name${3:+ # $3}"
		;;
	not-ok)
		_ktap_inc fail
		echo "$(_ktap_indent)not ok $_n $_name${3:+ # $3}"
		;;
	skip)
		_ktap_inc skip
		echo "$(_ktap_indent)ok $_n $_name # SKIP${3:+ $3}"
		;;
	esac
	if [ "$KTAP_DEPTH" -eq 0 ]; then
		case $1 in
		ok) _ktap_pass=$((_ktap_pass + 1)) ;;
		not-ok) _ktap_fail=$((_ktap_fail + 1)) ;;
		skip) _ktap_skip=$((_ktap_skip + 1)) ;;
		esac
	fi
}

ktap_ok() { _ktap_line ok "$1" "${2:-}"; }
ktap_fail() { _ktap_line not-ok "$1" "${2:-}"; }
ktap_skip() { _ktap_line skip "$1" "${2:-}"; }

ktap_result() {
	if [ "$1" -eq 0 ]; then ktap_ok "$2" "${3:-}"; else ktap_fail "$2" "${3:-exit status $1}"; fi
}

ktap_check() {
	_cname=$1
	shift
	_out=$("$@" 2>&1)
	_rc=$?
	if [ "$_rc" -eq 0 ]; then
		ktap_ok "$_cname"
	else
		[ -n "$_out" ] && echo "$_out" | sed "/^ *#/!s/^/# /; s/^ */$(_ktap_indent)/"
		ktap_fail "$_cname" "exit status $_rc: $*"
	fi
	return "$_rc"
}

quiet_run() {
	_out=$("$@" 2>&1)
	_rc=$?
	[ -n "$_out" ] && echo "$_out" | sed "s/^/$(_ktap_indent)# /"
	return "$_rc"
}

ktap_subtest_begin() {
	eval "_ktap_subname_$KTAP_DEPTH=\"\$1\""
	KTAP_DEPTH=$((KTAP_DEPTH + 1))
	eval "_ktap_n_$KTAP_DEPTH=0 _ktap_fail_$KTAP_DEPTH=0 _ktap_pass_$KTAP_DEPTH=0"
	eval "_ktap_skip_$KTAP_DEPTH=0 _ktap_plan_$KTAP_DEPTH="
	echo "$(_ktap_indent)KTAP version 1"
	ktap_diag "Subtest: $1"
	if [ -n "${2:-}" ]; then
		echo "$(_ktap_indent)1..$2"
		eval "_ktap_plan_$KTAP_DEPTH=$2"
	fi
}

ktap_subtest_end() {
	_sn=$(_ktap_get n)
	_sf=$(_ktap_get fail)
	_ss=$(_ktap_get skip)
	eval "_sp=\${_ktap_plan_$KTAP_DEPTH:-}"
	if [ -n "$_sp" ] && [ "$_sp" -ne "$_sn" ]; then
		ktap_diag "planned $_sp tests, ran $_sn"
		_sf=$((_sf + 1))
	elif [ "$_sn" -eq 0 ]; then
		# A subtest with no result proves nothing: it fails.
		ktap_diag "no result"
		_sf=$((_sf + 1))
	fi
	KTAP_DEPTH=$((KTAP_DEPTH - 1))
	_sname=''
	eval "_sname=\$_ktap_subname_$KTAP_DEPTH"
	if [ "$_sf" -gt 0 ]; then
		ktap_fail "$_sname"
	elif [ "$_sn" -gt 0 ] && [ "$_ss" -eq "$_sn" ]; then
		ktap_skip "$_sname" "all subtests skipped"
	else
		ktap_ok "$_sname"
	fi
}

ktap_finish() {
	while [ "$KTAP_DEPTH" -gt 0 ]; do
		ktap_diag "unterminated subtest"
		_ktap_inc fail
		ktap_subtest_end
	done
	_rc=0
	if [ -n "$_ktap_plan_0" ] && [ "$_ktap_plan_0" -ne "$_ktap_n_0" ]; then
		ktap_diag "planned $_ktap_plan_0 tests, ran $_ktap_n_0"
		_rc=1
	fi
	[ "$_ktap_fail" -eq 0 ] || _rc=1
	echo "# Totals: pass:$_ktap_pass fail:$_ktap_fail xfail:0 xpass:0 skip:$_ktap_skip error:0"
	return "$_rc"
}

# --- drivers ---------------------------------------------------------------------------

# _mod_file DIR NAME: NAME.ko in DIR, spelt with '-' or '_'.
_mod_file() {
	for _f in "$1/$2.ko" "$1/$(echo "$2" | tr '-' '_').ko" "$1/$(echo "$2" | tr '_' '-').ko"; do
		[ -f "$_f" ] && { echo "$_f"; return 0; }
	done
	echo "no $2.ko in $1" >&2
	return 1
}

# _mod_loaded NAME: is NAME (with '-' read as '_') in /proc/modules?
_mod_loaded() {
	grep -q "^$(echo "$1" | tr '-' '_') " /proc/modules
}

# _insmod DIR NAME [PARAMS...]
_insmod() {
	_dir=$1 _mod=$2
	shift 2
	_mod_loaded "$_mod" && return 0
	_file=$(_mod_file "$_dir" "$_mod") || return 1
	insmod "$_file" "$@" || { echo "insmod $_file failed" >&2; return 1; }
}

_load_core() {
	_insmod /lib/modules/c snd-timer && _insmod /lib/modules/c snd-pcm
}

load_c_driver() {
	_load_core && _insmod /lib/modules/c virtio_snd "$@"
}

device_irqs() {
	_dev=$(basename "$(readlink -f /sys/class/sound/card0/device)")
	awk -v d="$_dev" '$0 ~ d {for (i = 2; i <= NF; i++) if ($i ~ /^[0-9]+$/) s += $i} END {print s + 0}' /proc/interrupts
}

load_rs_driver() {
	# shellcheck disable=SC2046 # bench.rsparams=K=V,K=V: default parameters of every load
	_load_core && _insmod /lib/modules/rs virtio_snd_rs $(echo "${BENCH_RSPARAMS:-}" | tr , " ") "$@"
}

unload_driver() {
	_urc=0
	for _m in virtio_snd virtio_snd_rs; do
		_mod_loaded "$_m" && { rmmod "$_m" || _urc=1; }
	done
	return "$_urc"
}

vsnd_port() {
	for _n in /sys/class/virtio-ports/*/name; do
		[ -f "$_n" ] && [ "$(cat "$_n")" = vsnd.ctl ] && {
			echo "/dev/$(basename "$(dirname "$_n")")"
			return 0
		}
	done
	return 1
}

vsnd_burst() {
	_port=$(vsnd_port) || return 1
	# shellcheck disable=SC2016 # the inner shell expands them
	timeout 30 sh -c 'exec 3<>"$1" || exit 1
		i=0
		while [ $i -lt "$2" ]; do
			echo "$3" >&3 && head -n 1 <&3 | grep -q "^ok" || exit 1
			i=$((i + 1))
		done' _ "$_port" "$1" "$2"
}

cover_save() {
	_cp=/sys/module/virtio_snd_rs/parameters/cover
	[ -e "$_cp" ] || return 0
	# No kernel message may cut into a line of the dump on the console.
	_printk=$(cut -f1 /proc/sys/kernel/printk)
	echo 1 >/proc/sys/kernel/printk
	_from=0
	while [ "$_from" -lt 32768 ]; do
		echo "$_from" >"$_cp" || break
		_page=$(cat "$_cp") || break
		echo "BENCH-COVER: $_page"
		_next=${_page##*@}
		[ "$_next" -gt "$_from" ] 2>/dev/null || break
		_from=$_next
	done
	echo "$_printk" >/proc/sys/kernel/printk
}

# snd_vdev: the virtio device (virtioN) of the sound card, bound or not.
snd_vdev() {
	for _d in /sys/bus/virtio/devices/*; do
		[ "$(cat "$_d/device" 2>/dev/null)" = 0x0019 ] && { basename "$_d"; return 0; }
	done
	return 1
}

wait_for_card() {
	_t=$((${1:-5} * 10))
	while [ "$_t" -gt 0 ]; do
		[ -e /proc/asound/card0 ] && [ -e /dev/snd/pcmC0D0p ] && return 0
		sleep 0.1
		_t=$((_t - 1))
	done
	echo "no sound card 0 after ${1:-5} s" >&2
	return 1
}

dmesg_mark() {
	echo "<6>bench-mark: $1" >/dev/kmsg
}

# A kernel log line that fails any guest run: a WARN or BUG (lockdep, KASAN, KFENCE,
# sleeping in atomic context, soft lockups...), an Oops, a panic, UBSAN, a hung task, an RCU
# stall, a kmemleak report, list corruption, a Rust panic. Only the start of a message counts
# (after the timestamp and an optional "subsystem: " prefix), so that "WARNING" or "BUG" in
# the middle of a harmless line does not. scripts/test.sh reads this line too.
SPLAT_RE='^\[ *[0-9]+\.[0-9]+\] ([a-z0-9_]+: )?(WARNING:|BUG:|kernel BUG at|Oops|general protection fault|Kernel panic|UBSAN:|INFO: task .* blocked for more than|INFO: trying to register non-static key|INFO: .*detected (expedited )?stall|[0-9]+ new suspected memory leak|list_(add|del) corruption|.*panicked at )'
# Lines written by the tests themselves (marker names) never count.
SPLAT_IGNORE_RE='bench-mark: '

# _splat_lines: the splat lines of the log on stdin, with their line numbers (N:LINE).
_splat_lines() {
	grep -nE "$SPLAT_RE" | grep -vE "$SPLAT_IGNORE_RE"
}

dmesg_scan() {
	_kml=/sys/kernel/debug/kmemleak
	_leaks=
	if [ -w "$_kml" ]; then
		# Twice, with a pause: an object younger than 5 s or whose content changed since the
		# previous scan is not reported yet.
		echo scan >"$_kml"
		sleep 6
		echo scan >"$_kml"
		_leaks=$(cat "$_kml")
	fi
	_all=$(dmesg)
	_hits=$(echo "$_all" | _splat_lines)
	_nk=0
	[ -n "$_leaks" ] && _nk=$(echo "$_leaks" | grep -c '^unreferenced object')
	_n=0
	[ -n "$_hits" ] && _n=$(echo "$_hits" | wc -l)
	echo "# dmesg-scan: $_n splat line(s) in the kernel log, $_nk kmemleak report(s)$([ -w "$_kml" ] || echo ' (no kmemleak)')"
	[ "$_n" -eq 0 ] && [ "$_nk" -eq 0 ] && return 0
	[ -n "$_hits" ] && echo "$_hits" | cut -d: -f2- | sed 's/^/# SPLAT: /'
	[ "$_nk" -gt 0 ] && echo "$_leaks" | grep '^unreferenced object' | sed 's/^/# SPLAT: kmemleak: /'
	# Context: each splat line and the 60 lines after it (600 lines at most), then kmemleak's.
	if [ -n "$_hits" ]; then
		echo "# dmesg-scan: the kernel log around the splats:"
		echo "$_all" | awk -v nums="$(echo "$_hits" | cut -d: -f1 | tr '\n' ' ')" '
			BEGIN { n = split(nums, a, " "); for (i = 1; i <= n; i++) for (j = a[i]; j < a[i] + 60; j++) w[j] = 1 }
			w[NR] && c < 600 { print "# dmesg-scan: | " $0; c++ }'
	fi
	[ "$_nk" -gt 0 ] && echo "$_leaks" | head -n 300 | sed 's/^/# dmesg-scan: kmemleak: /'
	return 1
}

dmesg_clean() {
	if [ -n "${1:-}" ]; then
		_log=$(dmesg | sed -n "/bench-mark: $1\$/,\$p")
	else
		_log=$(dmesg)
	fi
	_bad=$(echo "$_log" | grep -vE "$SPLAT_IGNORE_RE" | grep -E "$SPLAT_RE|Call Trace:")
	if [ -n "$_bad" ]; then
		echo "$_bad" | head -n 40 | sed "s/^/$(_ktap_indent)# dmesg: /"
		return 1
	fi
	return 0
}
