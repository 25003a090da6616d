#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# /init of the bench initramfs (busybox sh; scripts/mkinitramfs.sh installs it).
#
# Mounts the pseudo file systems, then runs /tests/NAME for the kernel parameter
# bench.script=NAME with its output on the console. Every other bench.KEY=VALUE parameter
# is exported to the script as BENCH_KEY=VALUE (KEY upper-cased, '-' and '.' become '_';
# values cannot contain spaces). Scans the kernel log for splats after the script (status 3
# if the script passed but the log has one). Ends with the line "BENCH-EXIT: <status>",
# which scripts/run-guest.sh waits for, and reboots (QEMU runs with -no-reboot, so it exits).

export PATH=/usr/sbin:/usr/bin:/sbin:/bin
export HOME=/tmp TERM=dumb

mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null || mount -t tmpfs -o mode=0755 dev /dev
mkdir -p /dev/pts /dev/shm /tmp /run
mount -t tmpfs -o mode=1777 tmpfs /tmp
mount -t tmpfs -o mode=1777 tmpfs /dev/shm
mount -t tmpfs -o mode=0755 tmpfs /run
mount -t devpts devpts /dev/pts 2>/dev/null
mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null

# Without devtmpfs nothing creates /dev/snd/*: let mdev do it now and on every hotplug
# event (modules are loaded later, by the test script).
if ! grep -q '^devtmpfs /dev ' /proc/mounts; then
	[ -e /dev/console ] || mknod -m 600 /dev/console c 5 1
	[ -e /dev/null ] || mknod -m 666 /dev/null c 1 3
	echo /sbin/mdev >/proc/sys/kernel/hotplug
	mdev -s
fi
[ -e /dev/fd ] || ln -s /proc/self/fd /dev/fd

script=
for arg in $(cat /proc/cmdline); do
	case $arg in
	bench.script=*)
		script=${arg#bench.script=}
		;;
	bench.*=*)
		kv=${arg#bench.}
		key=$(echo "${kv%%=*}" | tr 'a-z.-' 'A-Z__')
		export "BENCH_$key=${kv#*=}"
		;;
	esac
done

echo "BENCH-START: script=${script:-<none>} kernel=$(uname -r) cpus=$(grep -c ^processor /proc/cpuinfo)"
if [ -z "$script" ]; then
	echo "bench-init: no bench.script=NAME on the kernel command line" >&2
	status=2
elif [ ! -f "/tests/$script" ]; then
	echo "bench-init: /tests/$script does not exist; /tests has: $(ls /tests | tr '\n' ' ')" >&2
	status=127
else
	cd /tests || :
	# KFENCE (debug kernel): scripts/test.sh boots with sampling off (kfence.sample_interval=0)
	# and bench.kfence=MS, so that the guarded objects go to the test, not to the boot.
	kf=/sys/module/kfence/parameters/sample_interval
	[ -z "${BENCH_KFENCE:-}" ] || [ ! -w $kf ] || echo "$BENCH_KFENCE" >$kf
	sh "/tests/$script" </dev/null 2>&1
	status=$?
	cd /
fi

# Every run ends with a scan of the whole kernel log for splats (tests/guest/lib.sh:
# dmesg_scan; on the debug kernel after a kmemleak scan): "# SPLAT: LINE" lines, which
# scripts/test.sh counts as a failure of the run, and status 3 if the script itself passed.
if [ -f /tests/lib.sh ]; then
	(. /tests/lib.sh && dmesg_scan)
	[ $? -eq 0 ] || [ "$status" -ne 0 ] || { status=3 && echo "# bench-init: $script passed, the kernel log did not (status 3)"; }
fi

# The kernel log tail helps when a test fails; '#' keeps a KTAP reader happy.
if [ "$status" -ne 0 ]; then
	echo "# bench-init: $script ended with status $status; kernel messages since /init started:"
	dmesg | sed '1,/Run \/init as init process/d; /^\[ *[0-9.]*\]  *with \(arguments\|environment\):/d; /^\[ *[0-9.]*\]     /d' |
		tail -n 30 | sed 's/^/# dmesg: /'
fi
sync
echo "BENCH-EXIT: $status"
reboot -f
# Not reached; if reboot fails, never return (the kernel would panic on init's exit).
while :; do sleep 1; done
