#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Builds the kernel's ALSA kselftests pcm-test and mixer-test on the host, from
# $KSRC/tools/testing/selftests/alsa/, into $BENCH_CACHE/kselftest/ (cached: rebuilt only
# when the sources, the compiler or libasound change).
#   usage: scripts/build-kselftest.sh [--force]
#
# Also copies pcm-test.conf and conf.d/ to $BENCH_CACHE/kselftest/conf/: pcm-test reads them
# from its working directory. scripts/mkinitramfs.sh installs the binaries in /usr/bin and
# the configuration in /tests/kselftest/ (run the tests from there).
set -euo pipefail
. "$(dirname "$0")/lib.sh"

FORCE=0
case ${1:-} in
--force) FORCE=1 ;;
'') ;;
*) sed -n '6s/^# \{0,1\}//p' "$0" >&2; exit 2 ;;
esac

SRC=$KSRC/tools/testing/selftests/alsa
OUT=$BENCH_CACHE/kselftest
[[ -f $SRC/pcm-test.c ]] || die "no $SRC/pcm-test.c (run scripts/setup.sh)"
pkg-config --exists alsa 2>/dev/null || [[ -f /usr/include/alsa/asoundlib.h ]] ||
	die "ALSA headers not found (apt-get install libasound2-dev)"

CC=${CC:-gcc}
key=$({
	cat "$0"
	cat "$SRC"/*.c "$SRC"/*.h "$SRC"/pcm-test.conf "$SRC/../kselftest.h"
	"$CC" --version | sed -n 1p
	pkg-config --modversion alsa 2>/dev/null || true
} | sha256sum | cut -c1-16)
if ((!FORCE)) && [[ -x $OUT/pcm-test && $(cat "$OUT/.key" 2>/dev/null) == "$key" ]]; then
	step "kselftest: up to date in $OUT"
	exit 0
fi

step "kselftest: building pcm-test and mixer-test into $OUT"
mkdir -p "$OUT"
rm -f "$OUT/.key"
cflags=(-O2 -g -Wall -Wno-unused-but-set-variable -Wno-unused-function -Wno-maybe-uninitialized
	-I"$SRC/.." -I"$SRC")
read -ra alsa_cflags <<<"$(pkg-config --cflags alsa 2>/dev/null || true)"
read -ra alsa_libs <<<"$(pkg-config --libs alsa 2>/dev/null || echo -lasound)"
for t in pcm-test mixer-test; do
	"$CC" "${cflags[@]}" "${alsa_cflags[@]}" "$SRC/$t.c" "$SRC/conf.c" \
		"${alsa_libs[@]}" -lpthread -lm -o "$OUT/$t.tmp"
	mv -f "$OUT/$t.tmp" "$OUT/$t"
done
rm -rf "$OUT/conf"
mkdir -p "$OUT/conf"
cp "$SRC/pcm-test.conf" "$OUT/conf/"
cp -r "$SRC/conf.d" "$OUT/conf/"
echo "$key" >"$OUT/.key"
step "kselftest: done ($(ls "$OUT" | tr '\n' ' '))"
