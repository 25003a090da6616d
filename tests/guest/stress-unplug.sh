#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Hot-unplug of the sound device while playback and capture run, and re-plug:
#   - the device goes while idle and comes back;
#   - bench.rounds (default 3) rounds of: aplay and arecord on hw:0,0, bench.settle seconds
#     (default 1; 0.3 hits their hw_params when the device delays it), then the device goes:
#     both applications exit with an error within 10 s (none hangs), the removal completes,
#     card 0 and the PCI device go; the device comes back: card 0 again;
#   - after the last round aplay plays 1 s and arecord records exactly 1 s;
#   - the kernel log has no warning.
# How the device goes (bench.unplug):
#   qmp    QEMU's monitor: the guest prints "BENCH-QMP: {device_del}" (scripts/run-guest.sh
#          --qmp sends it), then device_add. Needs PCI hotplug in the guest kernel
#          (CONFIG_HOTPLUG_PCI + CONFIG_HOTPLUG_PCI_ACPI for QEMU's pc machine; seen as
#          entries in /sys/bus/pci/slots);
#   pci    /sys/bus/pci/devices/D/remove, then /sys/bus/pci/rescan: the same driver path as
#          an ACPI hot-unplug (the driver's remove runs while the device still answers),
#          without QEMU's part;
#   auto   (default) qmp if run with --qmp and the guest has PCI hotplug, else pci (the
#          first result says which, and why).
# The bench kernel (scripts/guest.config) has no PCI hotplug, so CI takes pci. For qmp, a
# kernel built like scripts/setup.sh's with one more fragment (CONFIG_HOTPLUG_PCI=y,
# CONFIG_HOTPLUG_PCI_ACPI=y; for q35 also CONFIG_PCIEPORTBUS=y, CONFIG_HOTPLUG_PCI_PCIE=y):
#   scripts/run-guest.sh --kdir KDIR --module src/virtio_snd_rs.ko --qmp stress-unplug.sh
# bench.vsnd=1: the device is tools/vsnd-device (vhost-user-snd-pci, started with --persist
# so that it serves the re-added device; with qmp the guest also reconnects QEMU's chardev,
# whose socket run-guest.sh passes as bench.vsnd_sock), for faults such as a delayed
# SET_PARAMS (--vsnd-exec 'fault ctl-delay 900 on SET_PARAMS') during the removal.
# bench.driver=c runs it against the C driver.
. /tests/lib.sh
. /tests/stress-lib.sh

ROUNDS=${BENCH_ROUNDS:-3}
SETTLE=${BENCH_SETTLE:-1}
METHOD=${BENCH_UNPLUG:-auto}
ktap_plan 7
stress_load
wait_for_card 10 || exit 1
dmesg_mark stress-unplug
PCI=$(snd_pci)
nslots=$(ls /sys/bus/pci/slots 2>/dev/null | wc -l)
why=
if [ "${BENCH_QMP:-0}" != 1 ]; then
	why="run-guest.sh was started without --qmp"
elif [ "$nslots" = 0 ]; then
	why="the guest kernel has no PCI hotplug driver (no /sys/bus/pci/slots entries): it needs CONFIG_HOTPLUG_PCI=y and CONFIG_HOTPLUG_PCI_ACPI=y (pc machine), or CONFIG_PCIEPORTBUS=y and CONFIG_HOTPLUG_PCI_PCIE=y (q35 with a pcie-root-port)"
fi
[ "$METHOD" = auto ] && { if [ -z "$why" ]; then METHOD=qmp; else METHOD=pci; fi; }
if [ "${BENCH_VSND:-0}" = 1 ]; then
	ADD_JSON='{"execute": "device_add", "arguments": {"driver": "vhost-user-snd-pci", "chardev": "vsnd", "controls": true, "id": "snd"}}'
else
	ADD_JSON='{"execute": "device_add", "arguments": {"driver": "virtio-sound-pci", "audiodev": "snd0", "id": "snd"}}'
fi
case $METHOD in
qmp)
	REMOVE="echo 'BENCH-QMP: {\"execute\": \"device_del\", \"arguments\": {\"id\": \"snd\"}}'"
	ADD="echo 'BENCH-QMP: $ADD_JSON'"
	# QEMU dropped the vhost-user connection with the device: connect the chardev again,
	# once the device listens again (it first finishes its delayed answers, and a connection
	# made before that fails: "vhost_backend_init failed: Protocol error"), so up to 3 tries.
	if [ "${BENCH_VSND:-0}" = 1 ]; then
		CHR='{"execute": "chardev-add", "arguments": {"id": "vsnd", "backend": {"type": "socket", "data": {"addr": {"type": "unix", "data": {"path": "'$BENCH_VSND_SOCK'"}}, "server": false}}}}'
		ADD="for try in 1 2 3; do sleep 2;
echo 'BENCH-QMP: {\"execute\": \"chardev-remove\", \"arguments\": {\"id\": \"vsnd\"}}';
echo 'BENCH-QMP: $CHR'; $ADD; sleep 3; [ -e /proc/asound/card0 ] && break; done"
	fi
	;;
pci)
	REMOVE="echo 1 >$PCI/remove"
	ADD="echo 1 >/sys/bus/pci/rescan"
	;;
*)
	echo "bench.unplug=$METHOD: want qmp, pci or auto" >&2
	exit 2
	;;
esac
ktap_diag "sound device $(snd_vdev) at $PCI, driver $DRV, $nslots hotplug slot(s), method $METHOD, $ROUNDS rounds"
# Unplug as a VM does it: the sound device sits in an ACPI hotplug slot of the guest kernel
# (the gating kernels have CONFIG_HOTPLUG_PCI_ACPI), so that QEMU's device_del reaches the
# driver. A run asked for PCI remove/rescan (bench.unplug=pci) skips this check.
slot=
for s in /sys/bus/pci/slots/*; do
	[ -f "$s/address" ] || continue
	case ${PCI##*/} in "$(cat "$s/address")".*) slot=${s##*/} ;; esac
done
if [ "${BENCH_UNPLUG:-auto}" = pci ]; then
	ktap_skip "the sound device is in a hotplug slot (QMP device_del/device_add)" "bench.unplug=pci"
elif [ "$METHOD" = qmp ] && [ -n "$slot" ]; then
	ktap_ok "the sound device is in a hotplug slot (QMP device_del/device_add)" "slot $slot"
else
	ktap_fail "the sound device is in a hotplug slot (QMP device_del/device_add)" "${why:-no slot has address ${PCI##*/}}"
fi

# Idle: the device goes and comes back.
ok=0
sh -c "$REMOVE" || ok=1
wait_card_gone 10 || { ok=1; ktap_diag "idle: card 0 still there 10 s after the removal"; }
t=100
while [ -e "$PCI" ] && [ $t -gt 0 ]; do sleep 0.1; t=$((t - 1)); done
[ -e "$PCI" ] && { ok=1; ktap_diag "idle: $PCI still there"; }
sh -c "$ADD" || ok=1
wait_for_card 10 || { ok=1; ktap_diag "idle: no card 0 10 s after the re-add"; }
ktap_result $ok "idle: the device goes and comes back"

nfail=0 napp=0 nrm=0 nback=0 i=0
while [ $i -lt "$ROUNDS" ]; do
	i=$((i + 1))
	[ -e /proc/asound/card0 ] || break
	PCI=$(snd_pci)
	if remove_under_load "$REMOVE" "$ADD" "$SETTLE"; then
		[ $i = 1 ] && ktap_diag "round 1: $ROUND_ERR"
	else
		nfail=$((nfail + 1))
		ktap_diag "round $i: $ROUND_FAIL"
		ktap_diag "round $i: $ROUND_ERR"
		case $ROUND_FAIL in *"still running"* | *"exited with status 0"* | *"ended before"*) napp=$((napp + 1)) ;; esac
		case $ROUND_FAIL in *"removal"* | *"still there"*) nrm=$((nrm + 1)) ;; esac
		case $ROUND_FAIL in *"re-add"* | *"no card 0"*) nback=$((nback + 1)) ;; esac
	fi
	[ -e "$PCI" ] && [ "$(snd_pci)" != "$PCI" ] && ktap_diag "round $i: the old PCI device $PCI is still there"
done
ktap_diag "$i rounds, $nfail failed"
ktap_result $napp "unplug under load: aplay and arecord exit with an error (every round)"
ktap_result $nrm "unplug under load: the removal completes, card 0 goes (every round)"
ktap_result $((nback + (i < ROUNDS))) "re-plug: card 0 comes back (every round)"

if aplay -q -D hw:0,0 -f S16_LE -r 48000 -c 2 -t raw -d 1 /dev/zero 2>/tmp/aplay.err &&
	arecord -q -D hw:0,0 -f S16_LE -r 48000 -c 2 -t raw -d 1 /tmp/rec.raw 2>>/tmp/aplay.err &&
	[ "$(wc -c </tmp/rec.raw)" = 192000 ]; then
	ktap_ok "after the re-plug: aplay plays 1 s, arecord records 192000 bytes"
else
	ktap_diag "$(cat /tmp/aplay.err) recorded $(wc -c </tmp/rec.raw 2>/dev/null) bytes"
	ktap_fail "after the re-plug: aplay plays 1 s, arecord records 192000 bytes"
fi
ktap_check "no warning in dmesg" dmesg_clean stress-unplug
ktap_finish
exit $?
