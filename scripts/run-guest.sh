#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Boots the guest kernel under QEMU (TCG) with a virtio-sound-pci device and runs one test
# script of tests/guest/ in it. Streams the serial console to stdout and exits with the
# script's status (the guest's "BENCH-EXIT: N" line).
#
# usage: scripts/run-guest.sh [options] SCRIPT
#   SCRIPT                 a file name in tests/guest/ (runs as /tests/SCRIPT)
#   --backend B            none (default) | wav:FILE | pa (PulseAudio loopback; starts
#                          scripts/pa-loopback.sh if needed and leaves it running)
#   --streams N            virtio-sound-pci streams (default: QEMU's, 2)
#   --timer-period US      QEMU audio timer period in microseconds (default: QEMU's, 10000)
#   --audiodev-opt K=V     extra -audiodev option, e.g. out.buffer-length=10000 (repeatable)
#   --device-opt K=V       extra virtio-sound-pci option, e.g. jacks=1 (repeatable)
#   --no-sound             no sound device at all
#   --sound-servers        PulseAudio and PipeWire in the initramfs (always for pulse.sh,
#                          pulse-integrity.sh and pipewire.sh; scripts/bench.sh gives it
#                          for its server workloads)
#   --vsnd "ARGS"          instead of QEMU's device, tools/vsnd-device (vhost-user-snd-pci)
#                          started with ARGS ("--streams 0", or "--streams=0": "=" is a
#                          space, so that the option survives word splitting); its log is in
#                          $BENCH_CACHE/vsnd-last.log. The guest also gets a virtio-serial
#                          port named vsnd.ctl (/dev/vportNpM whose
#                          /sys/class/virtio-ports/vportNpM/name is vsnd.ctl; needs
#                          CONFIG_VIRTIO_CONSOLE) connected to the device's test-control
#                          socket, so that guest clients (integrity-client) send it commands
#   --vsnd-exec "CMD"      a test-control command that the device runs at start, e.g.
#                          "trigger START 0 300 xrun 0" (repeatable; needs --vsnd)
#   --timeout S            kill QEMU after S seconds and exit 124 (default 120)
#   --trace FILE           QEMU trace of virtio_queue_notify and virtio_notify into FILE
#   --trace-event PATTERN  one more QEMU trace event, e.g. 'virtio_snd_*' (repeatable; needs --trace)
#   --append ARGS          extra kernel command line (bench.KEY=V reaches the script as $BENCH_KEY)
#   --module PATH.ko       extra module, installed as /lib/modules/rs/NAME.ko (repeatable)
#   --kdir KDIR            guest kernel build tree (default: $KDIR_DEFAULT of scripts/lib.sh)
#   --log FILE             also save the whole serial log to FILE
#   --qemu-arg ARG         one more QEMU argument (repeatable)
#   --smp N, --mem SIZE    guest CPUs (default 2) and memory (default 512M)
#   --qmp                  a QMP monitor: each guest console line "BENCH-QMP: {JSON}" is sent to
#                          it as a command, so that timing follows the guest's actions; replies
#                          and events go to stderr ("run-guest: qmp: ..."); the guest gets
#                          bench.qmp=1 (and bench.vsnd_sock=SOCK with --vsnd). The sound device
#                          always has id=snd (for device_del)
#   --qmp-at S JSON        also sends JSON S seconds after QEMU started (repeatable; implies --qmp)
# Exit status: the script's; 124 on timeout; 1 with a message if the guest ended without
# the BENCH-EXIT line (panic, QEMU error, or an oops after which the guest did not finish
# within 60 s: QEMU is killed then); 2 on bad usage.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

usage() {
	sed -n '/^# usage:/,/^# Exit status/p' "$0" | sed 's/^# \{0,1\}//' >&2
	exit 2
}

# The QMP helper of --qmp: connects to QEMU's monitor socket, then sends the JSON of every
# "BENCH-QMP: " line of the serial log as it grows, and the --qmp-at commands on time.
# args: SOCKET SERIAL-LOG TIMEOUT [SECONDS JSON]...
QMP_HELPER=$(
	cat <<'EOF'
import json, select, socket, sys, time
path, log, limit = sys.argv[1], sys.argv[2], float(sys.argv[3]) + 30
at = sorted((float(sys.argv[i]), sys.argv[i + 1]) for i in range(4, len(sys.argv) - 1, 2))
t0 = time.time()
def say(m):
    print("run-guest: qmp: [%6.1fs] %s" % (time.time() - t0, m), file=sys.stderr, flush=True)
s = socket.socket(socket.AF_UNIX)
while True:
    try:
        s.connect(path)
        break
    except OSError:
        if time.time() - t0 > 30:
            say("no QMP socket at " + path)
            sys.exit(1)
        time.sleep(0.05)
buf = b""
def msgs(timeout):
    global buf
    if select.select([s], [], [], timeout)[0]:
        d = s.recv(65536)
        if not d:
            sys.exit(0)
        buf += d
    out = []
    while b"\n" in buf:
        line, buf = buf.split(b"\n", 1)
        if line.strip():
            out.append(json.loads(line))
    return out
def answer(m):
    if "event" in m:
        say("event %s %s" % (m["event"], json.dumps(m.get("data", {}))))
    return "return" in m or "error" in m
def send(text, quiet=False):
    try:
        cmd = json.loads(text)
    except ValueError as e:
        say("not JSON, not sent: %r (%s)" % (text, e))
        return
    s.sendall(json.dumps(cmd).encode() + b"\n")
    end = time.time() + 10
    while time.time() < end:
        for m in msgs(0.1):
            if answer(m):
                if not quiet or "error" in m:
                    say("%s -> %s" % (json.dumps(cmd), json.dumps(m)))
                return
    say("%s -> no answer in 10 s" % json.dumps(cmd))
msgs(5)
send('{"execute": "qmp_capabilities"}', quiet=True)
pos, part = 0, b""
while time.time() - t0 < limit:
    for m in msgs(0.05):
        answer(m)
    while at and time.time() - t0 >= at[0][0]:
        send(at.pop(0)[1])
    try:
        with open(log, "rb") as f:
            f.seek(pos)
            data = f.read()
    except OSError:
        continue
    pos += len(data)
    lines = (part + data).split(b"\n")
    part = lines.pop()
    for line in lines:
        line = line.decode(errors="replace").rstrip("\r")
        if line.startswith("BENCH-QMP: "):
            send(line[len("BENCH-QMP: "):])
EOF
)
BACKEND=none STREAMS='' TIMER='' NOSOUND=0 TIMEOUT=120 TRACE='' APPEND='' KDIR=$KDIR_DEFAULT LOG=''
SMP=2 MEM=512M SCRIPT= VSND= VSND_SET=0 QMP=0 SERVERS=0
MODULES=() VSND_EXEC=() AUDIODEV_OPTS=() DEVICE_OPTS=() TRACE_EVENTS=() QEMU_EXTRA=() QMP_AT=()
need() { [[ $# -ge 2 && -n $2 ]] || { echo "$1 needs a value" >&2; usage; }; }
while (($#)); do
	case $1 in
	--backend) need "$@"; BACKEND=$2; shift 2 ;;
	--streams) need "$@"; STREAMS=$2; shift 2 ;;
	--timer-period) need "$@"; TIMER=$2; shift 2 ;;
	--audiodev-opt) need "$@"; AUDIODEV_OPTS+=("$2"); shift 2 ;;
	--device-opt) need "$@"; DEVICE_OPTS+=("$2"); shift 2 ;;
	--no-sound) NOSOUND=1; shift ;;
	--sound-servers) SERVERS=1; shift ;;
	--vsnd) need "$@"; VSND=${2//=/ }; VSND_SET=1; NOSOUND=1; shift 2 ;;
	--vsnd-exec) need "$@"; VSND_EXEC+=(--exec "$2"); shift 2 ;;
	--timeout) need "$@"; TIMEOUT=$2; shift 2 ;;
	--trace) need "$@"; TRACE=$2; shift 2 ;;
	--trace-event) need "$@"; TRACE_EVENTS+=("$2"); shift 2 ;;
	--append) need "$@"; APPEND="$APPEND $2"; shift 2 ;;
	--module) need "$@"; MODULES+=(--module "$(readlink -f "$2")"); shift 2 ;;
	--kdir) need "$@"; KDIR=$2; shift 2 ;;
	--log) need "$@"; LOG=$2; shift 2 ;;
	--qemu-arg) need "$@"; QEMU_EXTRA+=("$2"); shift 2 ;;
	--smp) need "$@"; SMP=$2; shift 2 ;;
	--mem) need "$@"; MEM=$2; shift 2 ;;
	--qmp) QMP=1; shift ;;
	--qmp-at)
		[[ $# -ge 3 && $2 =~ ^[0-9.]+$ && -n $3 ]] || { echo "--qmp-at needs SECONDS and JSON" >&2; usage; }
		QMP=1 QMP_AT+=("$2" "$3")
		shift 3
		;;
	-h | --help) usage ;;
	-*) echo "unknown option $1" >&2; usage ;;
	*) [[ -z $SCRIPT ]] || { echo "only one SCRIPT" >&2; usage; }; SCRIPT=$1; shift ;;
	esac
done
[[ -n $SCRIPT ]] || usage
SCRIPT=${SCRIPT#tests/guest/}
[[ -f $BENCH_ROOT/tests/guest/$SCRIPT ]] || die "no tests/guest/$SCRIPT"
[[ $TIMEOUT =~ ^[0-9]+$ ]] || die "--timeout wants seconds"
((${#TRACE_EVENTS[@]} == 0)) || [[ -n $TRACE ]] || die "--trace-event needs --trace FILE"
((${#VSND_EXEC[@]} == 0 || VSND_SET)) || die "--vsnd-exec needs --vsnd"
BZIMAGE=$KDIR/arch/x86/boot/bzImage
[[ -f $BZIMAGE ]] || die "no $BZIMAGE (run scripts/setup.sh)"
command -v qemu-system-x86_64 >/dev/null || die "qemu-system-x86_64 not found (run scripts/setup.sh)"

WORK=$(mktemp -d "${TMPDIR:-/tmp}/run-guest.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
if ((VSND_SET)); then
	vsock=$WORK/vsnd.sock
	# shellcheck disable=SC2086
	"$BENCH_ROOT/scripts/vsnd-device.sh" start "$vsock" $VSND "${VSND_EXEC[@]}" >/dev/null
	trap '"$BENCH_ROOT/scripts/vsnd-device.sh" stop "$vsock" >/dev/null 2>&1; cp -f "$vsock.log" "$BENCH_CACHE/vsnd-last.log" 2>/dev/null; rm -rf "$WORK"' EXIT
	QEMU_EXTRA+=(-object "memory-backend-memfd,id=mem,size=$MEM,share=on" -numa node,memdev=mem
		-chardev "socket,id=vsnd,path=$vsock" -device vhost-user-snd-pci,chardev=vsnd,controls=on,id=snd
		# The test-control socket, as the guest's virtio-serial port "vsnd.ctl".
		-device virtio-serial-pci,id=vser -chardev "socket,id=vctl,path=$vsock.ctl"
		-device virtserialport,bus=vser.0,chardev=vctl,name=vsnd.ctl)
fi
# The sound servers only for the scripts that run one: a smaller archive boots faster.
servers=()
case $SCRIPT in pulse.sh | pulse-integrity.sh | pipewire.sh) SERVERS=1 ;; esac
((SERVERS == 0)) || servers=(--sound-servers)
"$BENCH_ROOT/scripts/mkinitramfs.sh" "$WORK/initramfs.cpio.gz" --kdir "$KDIR" "${MODULES[@]}" "${servers[@]}" >&2

QEMU=(qemu-system-x86_64 -accel tcg -cpu max -smp "$SMP" -m "$MEM"
	-nodefaults -display none -no-reboot -serial stdio
	-kernel "$BZIMAGE" -initrd "$WORK/initramfs.cpio.gz"
	-device virtio-rng-pci)
if ((!NOSOUND)); then
	case $BACKEND in
	none) audiodev=none,id=snd0 ;;
	wav:?*) audiodev="wav,id=snd0,path=$(readlink -f "${BACKEND#wav:}")" ;;
	pa)
		sock=$("$BENCH_ROOT/scripts/pa-loopback.sh" start)
		audiodev="pa,id=snd0,server=unix:$sock,out.name=vsink,in.name=vsink.monitor"
		;;
	*) die "unknown --backend $BACKEND (none, wav:FILE, pa)" ;;
	esac
	[[ -n $TIMER ]] && audiodev+=",timer-period=$TIMER"
	for o in "${AUDIODEV_OPTS[@]}"; do audiodev+=",$o"; done
	device=virtio-sound-pci,audiodev=snd0,id=snd
	[[ -n $STREAMS ]] && device+=",streams=$STREAMS"
	for o in "${DEVICE_OPTS[@]}"; do device+=",$o"; done
	QEMU+=(-audiodev "$audiodev" -device "$device")
fi
if [[ -n $TRACE ]]; then
	for ev in virtio_queue_notify virtio_notify "${TRACE_EVENTS[@]}"; do
		QEMU+=(-trace "enable=$ev")
	done
	QEMU+=(-D "$(readlink -f "$TRACE")")
fi
if ((QMP)); then
	QEMU+=(-qmp "unix:$WORK/qmp.sock,server=on,wait=off")
	APPEND+=" bench.qmp=1"
	# A re-added vhost-user device needs its chardev connected again (chardev-add).
	((VSND_SET == 0)) || APPEND+=" bench.vsnd_sock=$vsock"
fi
# panic=-1: a panicking guest reboots at once, so QEMU exits instead of idling to the timeout.
# no_timer_check: on a busy host, TCG is too slow for the IO-APIC timer check at boot.
QEMU+=(-append "console=ttyS0 loglevel=5 random.trust_cpu=on panic=-1 no_timer_check bench.script=$SCRIPT${APPEND}")
QEMU+=("${QEMU_EXTRA[@]}")

step "run-guest: $SCRIPT (backend ${BACKEND}$( ((VSND_SET)) && echo ", vsnd-device $VSND" || { ((NOSOUND)) && echo ', no sound device'; }), timeout ${TIMEOUT}s)"
echo "+ ${QEMU[*]}" >&2
# A guest that has not started its init script ("BENCH-START") within BOOT_LIMIT seconds hung
# in the kernel's own boot, before any test module is loaded: no verdict on the driver. It is
# booted once more, and the log says so ("run-guest: BOOT-RETRY"; scripts/test.sh reports it).
# Seen once in the gate: the gating kernel stopped printing at 2.7 s of boot, in the PCI
# enumeration, with both vCPUs spinning (TCG). A boot takes 5 to 30 s here.
# $RUN_GUEST_BOOT_LIMIT overrides the limit (to try the retry: RUN_GUEST_BOOT_LIMIT=2).
BOOT_LIMIT=${RUN_GUEST_BOOT_LIMIT:-$((TIMEOUT < 180 ? TIMEOUT : 180))}
[[ $BOOT_LIMIT =~ ^[1-9][0-9]*$ ]] || die "RUN_GUEST_BOOT_LIMIT wants seconds"
# A guest that oopsed may still end its script (which then fails on the splat), but a task
# that died holding a lock can hang the rest of the run until its timeout: OOPS_GRACE
# seconds after the first oops, QEMU is killed and the run fails at once, with the line.
OOPS_GRACE=60
OOPS_RE='^\[ *[0-9.]+\] (Oops: |BUG: kernel NULL pointer|BUG: unable to handle|general protection fault|Kernel BUG at)'
boot_watch() {
	local t=0 oops=-1
	while ((t < BOOT_LIMIT)); do
		sleep 1
		t=$((t + 1))
		grep -aq '^BENCH-START' "$WORK/serial.log" 2>/dev/null && break
	done
	if ((t >= BOOT_LIMIT)); then
		: >"$WORK/boot-hung"
		kill "$(cat "$WORK/qemu.pid" 2>/dev/null)" 2>/dev/null || true
		return 0
	fi
	while sleep 1; do
		if ((oops < 0)); then
			grep -aqE "$OOPS_RE" "$WORK/serial.log" 2>/dev/null && oops=0
			continue
		fi
		oops=$((oops + 1))
		if ((oops >= OOPS_GRACE)); then
			: >"$WORK/oopsed"
			kill "$(cat "$WORK/qemu.pid" 2>/dev/null)" 2>/dev/null || true
			return 0
		fi
	done
}
QEMU+=(-pidfile "$WORK/qemu.pid")
start=$(date +%s.%N)
for attempt in 1 2; do
	rm -f "$WORK/boot-hung" "$WORK/oopsed" "$WORK/qemu.pid"
	: >"$WORK/serial.log"
	QMP_PID=
	if ((QMP)); then
		python3 -c "$QMP_HELPER" "$WORK/qmp.sock" "$WORK/serial.log" "$TIMEOUT" "${QMP_AT[@]}" &
		QMP_PID=$!
	fi
	boot_watch &
	watch_pid=$!
	set +e
	# No stdin (CI has none; QEMU leaves the terminal alone); \r of the serial line dropped.
	# --foreground: a Ctrl-C at a terminal reaches QEMU (QEMU starts no children to time out).
	timeout --foreground --kill-after=5 "$TIMEOUT" "${QEMU[@]}" </dev/null 2>&1 | sed -u 's/\r$//' | tee "$WORK/serial.log"
	codes=("${PIPESTATUS[@]}")
	set -e
	kill "$watch_pid" 2>/dev/null || true
	wait "$watch_pid" 2>/dev/null || true
	if [[ -n $QMP_PID ]]; then
		kill "$QMP_PID" 2>/dev/null || true
		wait "$QMP_PID" 2>/dev/null || true
	fi
	[[ -e $WORK/boot-hung ]] || break
	if ((attempt == 2)); then
		echo "run-guest: FAIL: the guest hung in its kernel's boot twice (no BENCH-START in $BOOT_LIMIT s)" >&2
		exit 1
	fi
	echo "run-guest: BOOT-RETRY: the guest did not reach its init script in $BOOT_LIMIT s (a hang in the kernel's boot, before any test module is loaded): QEMU killed, booting again once" >&2
	if ((VSND_SET)); then
		# A fresh device for the new boot (it serves one connection).
		"$BENCH_ROOT/scripts/vsnd-device.sh" stop "$vsock" >/dev/null 2>&1 || true
		# shellcheck disable=SC2086
		"$BENCH_ROOT/scripts/vsnd-device.sh" start "$vsock" $VSND "${VSND_EXEC[@]}" >/dev/null
	fi
	start=$(date +%s.%N)
done
qemu_rc=${codes[0]}
elapsed=$(echo "$start $(date +%s.%N)" | awk '{printf "%.1f", $2 - $1}')
[[ -z $LOG ]] || cp "$WORK/serial.log" "$LOG"

if [[ -e $WORK/oopsed ]]; then
	echo "run-guest: FAIL: the guest oopsed and did not finish within $OOPS_GRACE s of it (QEMU killed): $(grep -aE "$OOPS_RE" "$WORK/serial.log" | head -n 1)" >&2
	exit 1
fi
if ((qemu_rc == 124 || qemu_rc == 137)); then
	echo "run-guest: FAIL: guest did not finish within $TIMEOUT s (QEMU killed)" >&2
	exit 124
fi
status=$(grep -ao 'BENCH-EXIT: [0-9]*' "$WORK/serial.log" | tail -n1 | cut -d' ' -f2 || true)
if [[ -z $status ]]; then
	why="QEMU exited with status $qemu_rc"
	grep -aq 'Kernel panic' "$WORK/serial.log" && why="the guest kernel panicked"
	echo "run-guest: FAIL: no BENCH-EXIT line from the guest ($why) after ${elapsed}s" >&2
	exit 1
fi
step "run-guest: $SCRIPT exited with $status after ${elapsed}s"
exit "$status"
