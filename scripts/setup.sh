#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# One idempotent, cached setup of the whole bench:
#   1. Debian packages (extra suites pinned low, reusing the machine's own apt URI);
#   2. bindgen-cli from crates.io;
#   3. linux-source-7.2 and linux-source-7.3 (versions.env: LINUX2_*) unpacked into the cache;
#   4. the gating guest kernels (tinyconfig + scripts/guest.config + the detectors of
#      scripts/guest-debug.config), with the C virtio_snd as a module: 7.2 in $KDIR_DEFAULT,
#      7.3 in $KDIR2 (scripts/test.sh builds the module against both and runs its "@7.3"
#      runs on the second); with --bench-kernel also the benchmark's kernel (7.2,
#      scripts/guest.config and scripts/guest-bench.config) in $KDIR_BENCH
#      (Documentation/debug-kernel.rst).
# Every step leaves a stamp; a second run that finds everything built takes seconds.
#
# usage: scripts/setup.sh [--bench-kernel]
set -euo pipefail
. "$(dirname "$0")/lib.sh"

BENCH_KERNEL=0
while (($#)); do
	case $1 in
	--bench-kernel) BENCH_KERNEL=1; shift ;;
	*) die "usage: $0 [--bench-kernel]" ;;
	esac
done

mkdir -p "$BENCH_CACHE"

HOST_PACKAGES=(
	build-essential bc bison flex libelf-dev libssl-dev cpio kmod python3
	rustc-web rust-web-src rust-web-clippy
	"libclang1-$LLVM_VERSION" "libclang-$LLVM_VERSION-dev" "llvm-$LLVM_VERSION"
	busybox-static alsa-utils pulseaudio pulseaudio-utils libasound2-dev
	sox dkms gnuplot-nox debootstrap xz-utils
	pipewire-bin libpipewire-0.3-modules
)

apt_sources() {
	local src=/etc/apt/sources.list.d/virtio-snd-bench.sources
	local pref=/etc/apt/preferences.d/virtio-snd-bench
	[[ -f $src && -f $pref ]] && return 0
	step "apt: adding suites $QEMU_SUITE and $LINUX_SOURCE_SUITE (pinned to 100)"
	# Reuse the URI that the machine's own Debian sources name; never write a host name here.
	local uri
	uri=$(awk '/^URIs:/ && $2 !~ /security/ {print $2; exit}' /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)
	[[ -n $uri ]] || uri=$(awk '/^deb / && $2 !~ /security/ {print $2; exit}' /etc/apt/sources.list 2>/dev/null || true)
	[[ -n $uri ]] || die "no Debian URI found in the machine's apt sources"
	cat >"$src" <<EOS
Types: deb
URIs: $uri
Suites: $QEMU_SUITE $LINUX_SOURCE_SUITE
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOS
	cat >"$pref" <<EOS
Package: *
Pin: release n=$QEMU_SUITE
Pin-Priority: 100

Package: *
Pin: release n=$LINUX_SOURCE_SUITE
Pin-Priority: 100
EOS
	rm -f "$BENCH_CACHE/.apt-stamp"
}

apt_packages() {
	local want
	want=$(printf '%s\n' "${HOST_PACKAGES[@]}" "qemu-system-x86=$QEMU_VERSION" qemu-system-gui |
		sha256sum | cut -c1-16)
	if [[ -f $BENCH_CACHE/.apt-stamp && $(cat "$BENCH_CACHE/.apt-stamp") == "$want" ]] &&
		dpkg -s rustc-web qemu-system-x86 qemu-system-gui >/dev/null 2>&1; then
		return 0
	fi
	step "apt: update"
	apt-get update -qq
	step "apt: installing ${#HOST_PACKAGES[@]} packages and qemu-system-x86 $QEMU_VERSION"
	DEBIAN_FRONTEND=noninteractive with_heartbeat apt-get \
		apt-get install -y -qq --no-install-recommends "${HOST_PACKAGES[@]}" >/dev/null
	DEBIAN_FRONTEND=noninteractive with_heartbeat apt-get \
		apt-get install -y -qq --no-install-recommends -t "$QEMU_SUITE" \
		"qemu-system-x86=$QEMU_VERSION" >/dev/null
	# The PulseAudio audiodev (`-audiodev pa`) is a loadable QEMU module of these packages.
	DEBIAN_FRONTEND=noninteractive with_heartbeat apt-get \
		apt-get install -y -qq --no-install-recommends -t "$QEMU_SUITE" \
		"qemu-system-gui=$QEMU_VERSION" "qemu-system-modules-opengl=$QEMU_VERSION" >/dev/null
	"$RUSTC" --version | grep -q " $RUSTC_WEB_VERSION" ||
		die "$RUSTC is not $RUSTC_WEB_VERSION: $("$RUSTC" --version)"
	# clippy 0.1.N goes with rustc 1.N.
	local minor=${RUSTC_WEB_VERSION#1.}
	"$CLIPPY_DRIVER" --version | grep -q " 0\.1\.${minor%%.*}\b" ||
		die "$CLIPPY_DRIVER does not match rustc $RUSTC_WEB_VERSION: $("$CLIPPY_DRIVER" --version)"
	echo "$want" >"$BENCH_CACHE/.apt-stamp"
}

bindgen_cli() {
	[[ -x $BINDGEN ]] && return 0
	step "cargo: installing bindgen-cli $BINDGEN_VERSION"
	with_heartbeat cargo cargo install --quiet --locked --root "$BENCH_CACHE/bindgen-$BINDGEN_VERSION" \
		bindgen-cli --version "$BINDGEN_VERSION"
}

# Downloads a linux-source package and unpacks its tarball into KSRC (the package's cache
# directory + /src).
linux_source() { # PKG VERSION KSRC
	local pkg=$1 version=$2 ksrc=$3
	[[ -f $ksrc/.unpacked ]] && return 0
	step "kernel source: $pkg $version"
	local dl="$BENCH_CACHE/$pkg-$version"
	rm -rf "$dl" && mkdir -p "$dl/deb"
	(cd "$dl/deb" && apt-get download -qq "$pkg=$version")
	dpkg -x "$dl"/deb/*.deb "$dl/pkg"
	mkdir -p "$ksrc"
	step "kernel source: unpacking $pkg"
	tar -xaf "$dl"/pkg/usr/src/"$pkg".tar.* -C "$ksrc" --strip-components=1
	rm -rf "$dl/deb" "$dl/pkg"
	touch "$ksrc/.unpacked"
}

# Configures (tinyconfig + the fragments, each option checked) and builds one guest kernel.
guest_kernel() { # KSRC KDIR LABEL FRAGMENT...
	local ksrc=$1 kdir=$2 label=$3
	shift 3
	[[ -f $kdir/.built ]] && return 0
	local t0=$SECONDS
	step "$label: configuring in $kdir"
	mkdir -p "$kdir"
	local mk=(make -s -C "$ksrc" O="$kdir" RUSTC="$RUSTC" HOSTRUSTC="$RUSTC" BINDGEN="$BINDGEN")
	"${mk[@]}" tinyconfig >/dev/null
	"$ksrc/scripts/kconfig/merge_config.sh" -m -O "$kdir" "$kdir/.config" "$@" >/dev/null
	"${mk[@]}" olddefconfig >/dev/null
	# Every option of the fragments must have survived: fail loudly on a missing dependency.
	config_check "$kdir" "$@" || die "$label config is incomplete"
	"${mk[@]}" rustavailable >/dev/null || die "Rust is not available for the kernel build"
	step "$label: building (about 5 to 10 minutes on 2 cores)"
	with_heartbeat "$label build" "${mk[@]}" -j"$(($(nproc) + 1))" bzImage modules
	touch "$kdir/.built"
	step "$label: built in $((SECONDS - t0))s"
}

step "setup: cache in $BENCH_CACHE"
apt_sources
apt_packages
bindgen_cli
linux_source "$LINUX_SOURCE_PKG" "$LINUX_SOURCE_VERSION" "$KSRC"
guest_kernel "$KSRC" "$KDIR_DEFAULT" "gating guest kernel" "${GATE_FRAGMENTS[@]}"
linux_source "$LINUX2_SOURCE_PKG" "$LINUX2_SOURCE_VERSION" "$KSRC2"
guest_kernel "$KSRC2" "$KDIR2" "$KVER2 gating guest kernel" "${GATE_FRAGMENTS[@]}"
((BENCH_KERNEL == 0)) || guest_kernel "$KSRC" "$KDIR_BENCH" "benchmark guest kernel" "${BENCH_FRAGMENTS[@]}"
"$BENCH_ROOT/scripts/build-kselftest.sh"
"$BENCH_ROOT/scripts/vsnd-device.sh" build
step "setup: done (KDIR=$KDIR_DEFAULT, KDIR2=$KDIR2$( ((BENCH_KERNEL == 0)) || echo ", KDIR_BENCH=$KDIR_BENCH"))"
