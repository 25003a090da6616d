#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Probe of a device whose configuration has no streams, no jacks and no controls (run with
# --vsnd "--streams 0"; QEMU's own device refuses streams=0): the probe fails cleanly, with
# a clear log line, no card, no warning, and the module unloads.
. /tests/lib.sh

ktap_plan 4
dmesg_mark empty
load_rs_driver
sleep 1
if [ -e /proc/asound/card0 ]; then
	ktap_fail "no card for a device with nothing to drive"
else
	ktap_ok "no card for a device with nothing to drive"
fi
ktap_check "the log says why" sh -c "dmesg | grep -q 'virtio_snd_rs .*no streams, jacks or controls: nothing to drive'"
ktap_check "rmmod after the failed probe" rmmod virtio_snd_rs
ktap_check "no warning in dmesg" dmesg_clean empty
ktap_finish
exit $?
