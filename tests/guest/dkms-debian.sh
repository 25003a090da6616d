#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# The DKMS-built module on Debian's own kernel (scripts/test-dkms-debian.sh boots it): Debian's
# vmlinuz, Debian's ALSA modules, and the module that `dkms install` built in a Debian 13 root,
# on tools/vsnd-device (--streams=2: stream 0 playback, stream 1 capture). Not a gating
# kernel: no detectors, no kmemleak.
#
# bench.deps=A,B,...: Debian's modules that ours needs, in load order (from its modinfo
# "depends", dependencies first); each is in /lib/modules/rs or /lib/modules/c.
#
# Checks: Debian's modules load; ours loads, with no unknown symbol; the kernel is tainted
# with O (out of tree) and E (unsigned) at most; the card is probed (/proc/asound/cards);
# playback and capture of the integrity pattern are exact (integrity-client, the device's
# verdict); rmmod is clean; no warning in dmesg.
. /tests/lib.sh

ktap_plan 8

deps=$(echo "${BENCH_DEPS:-}" | tr ',' ' ')
bad=
for m in $deps; do
	_insmod /lib/modules/rs "$m" 2>/dev/null || _insmod /lib/modules/c "$m" || bad="$bad $m"
done
ktap_result "$([ -z "$bad" ] && echo 0 || echo 1)" "Debian's modules load:${deps:- none}" \
	"${bad:+failed:$bad}"

rc=0
insmod /lib/modules/rs/virtio_snd_rs.ko || rc=$?
unknown=$(dmesg | grep -ci 'unknown symbol')
if [ "$rc" = 0 ] && [ "$unknown" = 0 ]; then
	ktap_ok "insmod virtio_snd_rs.ko: no unknown symbol"
else
	dmesg | grep -i 'unknown symbol\|virtio_snd_rs' | head -n 20 | sed 's/^/# /'
	ktap_fail "insmod virtio_snd_rs.ko: no unknown symbol" "insmod rc=$rc, $unknown unknown-symbol line(s)"
fi

# O (TAINT_OOT_MODULE, 4096) and E (TAINT_UNSIGNED_MODULE, 8192) only.
taint=$(cat /proc/sys/kernel/tainted)
if [ "$taint" != 0 ] && [ $((taint & ~(4096 | 8192))) = 0 ]; then
	ktap_ok "taints only O and E" "tainted=$taint"
else
	ktap_fail "taints only O and E" "tainted=$taint"
fi

if wait_for_card 10 && grep -q virtio_snd_rs /proc/asound/cards; then
	sed 's/^/# cards: /' /proc/asound/cards
	ktap_ok "the card is probed"
else
	sed 's/^/# cards: /' /proc/asound/cards 2>/dev/null
	ktap_fail "the card is probed"
fi

# integrity-client: the device checks every frame played, the client every frame recorded.
for dir in playback capture; do
	if integrity-client -D hw:0,0 -n 48000 $dir >/tmp/int.out 2>&1; then
		grep '^RESULT' /tmp/int.out | sed 's/^/# /'
		ktap_ok "$dir of the integrity pattern is exact"
	else
		sed 's/^/# /' /tmp/int.out | tail -n 20
		ktap_fail "$dir of the integrity pattern is exact"
	fi
done

if rmmod virtio_snd_rs; then
	ktap_ok "rmmod virtio_snd_rs"
else
	ktap_fail "rmmod virtio_snd_rs"
fi

ktap_check "no warning in dmesg" dmesg_clean
ktap_finish
