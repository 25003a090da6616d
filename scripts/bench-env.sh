#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Prints one variable of the bench environment (KDIR, KSRC, BINDGEN, RUSTC, LIBCLANG_PATH),
# for the Makefile and for humans: `scripts/bench-env.sh KDIR`.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
KDIR=${KDIR:-$KDIR_DEFAULT}
case "${1:-}" in
KDIR | KSRC | BINDGEN | RUSTC | LIBCLANG_PATH | BENCH_CACHE) printf '%s\n' "${!1}" ;;
*) die "usage: $0 KDIR|KSRC|BINDGEN|RUSTC|LIBCLANG_PATH|BENCH_CACHE" ;;
esac
