# SPDX-License-Identifier: GPL-2.0
# Shared helpers for the bench scripts: pins, paths, progress lines.

BENCH_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=versions.env
. "$BENCH_ROOT/scripts/versions.env"

export RUSTC HOSTRUSTC=$RUSTC
export LIBCLANG_PATH=/usr/lib/llvm-$LLVM_VERSION/lib
export PATH="$HOME/.cargo/bin:$PATH"
BINDGEN="$BENCH_CACHE/bindgen-$BINDGEN_VERSION/bin/bindgen"

# Cache key of a guest kernel: the pinned versions plus its config fragments (default: the
# normal kernel's, scripts/guest.config). The 7.2 kernels' keys leave out the second kernel's
# pins (LINUX2_SOURCE_*), the second kernel's key (--kernel2) leaves out the 7.2 source pins:
# a bump of one kernel does not rebuild the other.
HOST_ONLY_PINS='^CARGO_FUZZ_'
kernel_key() { # [--kernel2] [FRAGMENT...]
	# Pins of host tools that no kernel build uses (HOST_ONLY_PINS) stay out of every key.
	local skip="^LINUX2_SOURCE_|$HOST_ONLY_PINS"
	[[ ${1:-} != --kernel2 ]] || { skip="^LINUX_SOURCE_(PKG|VERSION)=|$HOST_ONLY_PINS"; shift; }
	(($#)) || set -- "$BENCH_ROOT/scripts/guest.config"
	cat "$BENCH_ROOT/scripts/versions.env" "$@" | grep -v '^#' | grep -Ev "$skip" |
		sha256sum | cut -c1-16
}
KSRC="$BENCH_CACHE/$LINUX_SOURCE_PKG-$LINUX_SOURCE_VERSION/src"
# Clippy of the same Debian source as rustc-web (rust-web-clippy, so of $RUSTC_WEB_VERSION:
# setup.sh checks), which reads the kernel crates' metadata that this rustc wrote.
CLIPPY_DRIVER=/usr/bin/clippy-driver
# The gating guest kernels boot with the kernel's detectors on (lockdep, KFENCE, kmemleak,
# debug objects, hung-task and soft-lockup detectors, Rust overflow checks): both fragments,
# merged in this order. Every run of scripts/test.sh boots one of them.
GATE_FRAGMENTS=("$BENCH_ROOT/scripts/guest.config" "$BENCH_ROOT/scripts/guest-debug.config")
KDIR_DEFAULT="$BENCH_CACHE/kbuild-gate-$(kernel_key "${GATE_FRAGMENTS[@]}")"
# The second gating kernel (7.3, the same fragments): the module must build and pass the
# runs named NAME@$KVER2 on it.
KVER2=${LINUX2_SOURCE_PKG#linux-source-}
KSRC2="$BENCH_CACHE/$LINUX2_SOURCE_PKG-$LINUX2_SOURCE_VERSION/src"
KDIR2="$BENCH_CACHE/kbuild-$KVER2-gate-$(kernel_key --kernel2 "${GATE_FRAGMENTS[@]}")"
# The benchmark's kernel: without the detectors, whose cost would swamp what the benchmark
# measures, and tickless when idle (scripts/guest-bench.config); scripts/setup.sh
# --bench-kernel builds it.
BENCH_FRAGMENTS=("$BENCH_ROOT/scripts/guest.config" "$BENCH_ROOT/scripts/guest-bench.config")
KDIR_BENCH="$BENCH_CACHE/kbuild-bench-$(kernel_key "${BENCH_FRAGMENTS[@]}")"

# Checks that every option of the fragments survived olddefconfig in KDIR/.config (for an
# option set twice, the last fragment wins, as in merge_config.sh). "=n" means "not =y".
# Prints each miss and returns 1 if any.
config_check() { # KDIR FRAGMENT...
	local kdir=$1 line opt bad=0
	shift
	declare -A want=()
	local order=()
	while IFS= read -r line; do
		[[ $line =~ ^(CONFIG_[A-Za-z0-9_]+)= ]] || continue
		opt=${BASH_REMATCH[1]}
		[[ -n ${want[$opt]+set} ]] || order+=("$opt")
		want[$opt]=$line
	done < <(cat "$@")
	for opt in "${order[@]}"; do
		line=${want[$opt]}
		if [[ $line == *=n ]]; then
			grep -qE "^$opt=(y|m)\$" "$kdir/.config" && { echo "config: $opt is set" >&2; bad=1; }
		elif ! grep -qxF "$line" "$kdir/.config"; then
			echo "config: $line did not stick ($(grep -E "^(# )?$opt[= ]" "$kdir/.config" || echo 'absent'))" >&2
			bad=1
		fi
	done
	return "$bad"
}

# Builds the module against KDIR in a copy of the source under KDIR (the normal build in
# src/ stays untouched; Kbuild's MO= does not work for this module), or in $MODULE_COPY.
# Prints the .ko path.
build_module_copy() { # KDIR [MAKE ARGS...]
	local kdir=$1 copy=${MODULE_COPY:-$1/virtio-snd-rs-module}
	shift
	mkdir -p "$copy"
	# tar keeps the mtimes, so that an unchanged file is not rebuilt.
	tar -C "$BENCH_ROOT" -cf - --exclude='*.o' --exclude='*.ko' --exclude='*.cmd' \
		--exclude='*.mod*' --exclude='*_generated.rs' --exclude='.*.d' \
		Makefile Kbuild Kconfig src scripts | tar -C "$copy" -xf -
	make -C "$copy" -s KDIR="$kdir" "$@" modules >&2 || return 1
	echo "$copy/src/virtio_snd_rs.ko"
}

# PASS and FAIL lines of the host check scripts (scripts/test-install.sh,
# scripts/test-dkms-debian.sh); FAILED counts the failures. check_fail NAME [LOG]: also the
# LOG's last 25 lines, indented.
FAILED=0
check_pass() { printf 'PASS %s\n' "$1"; }
check_fail() {
	FAILED=$((FAILED + 1))
	printf 'FAIL %s\n' "$1"
	[[ -z ${2:-} || ! -f $2 ]] || tail -n 25 "$2" | sed 's/^/    /'
}

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
