# SPDX-License-Identifier: GPL-2.0
# Shared helpers for the bench scripts: pins, paths, progress lines.

BENCH_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=versions.env
. "$BENCH_ROOT/scripts/versions.env"

export RUSTC HOSTRUSTC=$RUSTC
export LIBCLANG_PATH=/usr/lib/llvm-$LLVM_VERSION/lib
export PATH="$HOME/.cargo/bin:$PATH"
BINDGEN="$BENCH_CACHE/bindgen-$BINDGEN_VERSION/bin/bindgen"

# Cache key of the guest kernel: the pinned versions plus the config fragment.
kernel_key() {
	cat "$BENCH_ROOT/scripts/versions.env" "$BENCH_ROOT/scripts/guest.config" |
		grep -v '^#' | sha256sum | cut -c1-16
}
KSRC="$BENCH_CACHE/$LINUX_SOURCE_PKG-$LINUX_SOURCE_VERSION/src"
KDIR_DEFAULT="$BENCH_CACHE/kbuild-$(kernel_key)"

_t0=$(date +%s)
step() {
	printf '==> [%4ss] %s\n' "$(($(date +%s) - _t0))" "$*" >&2
}
die() {
	printf 'error: %s\n' "$*" >&2
	exit 1
}

# Runs a long command, printing a heartbeat so that no step is silent for minutes.
with_heartbeat() {
	local label=$1
	shift
	"$@" &
	local pid=$! start=$(date +%s)
	while kill -0 "$pid" 2>/dev/null; do
		sleep 30
		kill -0 "$pid" 2>/dev/null &&
			printf '    ... %s: %ss\n' "$label" "$(($(date +%s) - start))" >&2
	done
	wait "$pid"
}
