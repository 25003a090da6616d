#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Builds the guest test clients of tests/clients/*.c on the host, against libasound, into
# $BENCH_CACHE/clients/ (scripts/mkinitramfs.sh installs them in the guest's /usr/bin).
# Cached: a client is rebuilt only when its source is newer than the binary.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

OUT=$BENCH_CACHE/clients
mkdir -p "$OUT"
for src in "$BENCH_ROOT"/tests/clients/*.c; do
	bin=$OUT/$(basename "$src" .c)
	if [[ ! -x $bin || $src -nt $bin ]]; then
		step "clients: building $(basename "$bin")"
		gcc -O2 -Wall -Werror -o "$bin.tmp" "$src" -lasound -lm
		mv -f "$bin.tmp" "$bin"
	fi
done
