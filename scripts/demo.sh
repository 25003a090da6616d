#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# The README demo: set up (cached), build the module, boot the guest under QEMU with a
# virtio-sound-pci device on the host PulseAudio loopback, load the Rust driver, show
# /proc/asound and the driver's kernel log, and play a tone that is recorded back and
# checked by alsabat.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

"$BENCH_ROOT/scripts/setup.sh"
step "demo: building the module"
make -C "$BENCH_ROOT" -s modules
step "demo: starting the PulseAudio loopback"
"$BENCH_ROOT/scripts/pa-loopback.sh" start >/dev/null
trap '"$BENCH_ROOT/scripts/pa-loopback.sh" stop' EXIT
step "demo: booting the guest"
"$BENCH_ROOT/scripts/run-guest.sh" --backend pa --module "$BENCH_ROOT/src/virtio_snd_rs.ko" demo.sh |
	grep -v '^+ qemu'
